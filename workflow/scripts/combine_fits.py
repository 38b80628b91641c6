"""One model's results/fit/<model>/injection.yaml from its proton, helium and lepton fits (rule combine_fits)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

import yaml  # noqa: E402

from galdiff.fitting import merge_fit_files  # noqa: E402
from galdiff.provenance import atomic_path  # noqa: E402


def main(part_paths, output_path, log_path):
    log = setup_logging(log_path)
    merged = merge_fit_files([yaml.safe_load(Path(path).read_text()) for path in part_paths],
                             inputs={Path(path).name: path for path in part_paths})
    with atomic_path(output_path) as tmp:
        tmp.write_text(yaml.safe_dump(merged, sort_keys=False))
    log.info("wrote %s (fits %s)", output_path, ", ".join(merged["fits"]))


if __name__ == "__main__":
    main(list(snakemake.input), snakemake.output[0], snakemake.log[0])  # noqa: F821
