"""The README's generated results tables from results/summary.json (rule readme_numbers).

As a rule it writes the blocks to one Markdown file. From the command line it rewrites README.md
between its ``<!-- BEGIN GENERATED: name -->`` / ``<!-- END GENERATED: name -->`` markers:

    python workflow/scripts/readme_numbers.py results/summary.json --readme README.md
"""

import argparse
import json
import sys
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT / "src"))

from galdiff.provenance import atomic_path
from galdiff.reporting import readme_blocks, replace_generated_blocks
from galdiff.uncertainty.systematics import readme_block as systematics_block


def render(blocks):
    """All blocks in one Markdown file, each between its README markers."""
    parts = []
    for name, block in blocks.items():
        parts += [f"<!-- BEGIN GENERATED: {name} -->", block.rstrip("\n"), f"<!-- END GENERATED: {name} -->", ""]
    return "\n".join(parts)


def main(summary_path, config, output_path=None, readme_path=None, only=None):
    summary = json.loads(Path(summary_path).read_text())
    blocks = {**readme_blocks(summary, config), "systematics": systematics_block(summary)}
    if only:  # e.g. the systematics block from another run than the others
        blocks = {name: blocks[name] for name in only}
    if output_path:
        with atomic_path(output_path) as tmp:
            tmp.write_text(render(blocks))
    if readme_path:
        readme = Path(readme_path)
        text = replace_generated_blocks(readme.read_text(), blocks)
        with atomic_path(readme) as tmp:
            tmp.write_text(text)
    return blocks


def _merged_config(paths):
    config = {}
    for path in paths:
        _merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return config


def _merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


if "snakemake" in globals():
    main(snakemake.input.summary, snakemake.config, output_path=snakemake.output[0])
elif __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", help="results/summary.json of the run whose numbers the README shows")
    parser.add_argument("--readme", help="README.md to rewrite between its markers")
    parser.add_argument("--output", help="write the blocks to this Markdown file")
    parser.add_argument("--configfile", nargs="*", default=[str(PROJECT_ROOT / "config.yaml")],
                        help="configuration of that run (config.yaml, then any --configfile merged on top)")
    parser.add_argument("--only", nargs="*", help="rewrite only these blocks (fits, spectra, systematics)")
    args = parser.parse_args()
    result = main(args.summary, _merged_config(args.configfile), args.output, args.readme, args.only)
    if not (args.readme or args.output):
        print(render(result))
