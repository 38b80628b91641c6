"""Machine-readable headline numbers: results/summary.json (rule summary)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

import yaml  # noqa: E402

from galdiff.provenance import atomic_path, provenance_meta  # noqa: E402


def main(fit_paths, output_path, log_path):
    log = setup_logging(log_path)
    summary = {**provenance_meta(inputs={Path(p).parent.name: p for p in fit_paths}), "models": {}}
    for path in fit_paths:
        content = yaml.safe_load(Path(path).read_text())
        summary["models"].setdefault(content["model"], {})["fit"] = content["summary"]
    with atomic_path(output_path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(list(snakemake.input.fits), snakemake.output[0], snakemake.log[0])  # noqa: F821
