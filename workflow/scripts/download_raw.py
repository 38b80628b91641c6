"""Materialise one raw file from a mirror or its public URL, sha256-verified (rule download_raw).

Mirrors and registry come from the configuration, not from rule params, so that changing them
reruns nothing; an existing copy with the registry sha256 is kept untouched.
"""

from pathlib import Path

from galdiff.data.download import materialise
from galdiff.data.registry import load_registry
from galdiff.script_logging import setup_logging


def main(output_path, registry_path, mirrors, project_root, log_path):
    log = setup_logging(log_path)
    entry = load_registry(registry_path)[Path(output_path).name]
    path = materialise(entry, output_path, mirrors, project_root)
    log.info("%s verified (sha256 %s)", path, entry.sha256)


if __name__ == "__main__":
    PROJECT_ROOT = Path(snakemake.scriptdir).parents[1]  # workflow/scripts -> project root
    main(
        snakemake.output[0],
        PROJECT_ROOT / snakemake.config["data"]["registry"],
        snakemake.config["data"]["mirrors"],
        PROJECT_ROOT,
        snakemake.log[0],
    )
