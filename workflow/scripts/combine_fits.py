"""One model's results/fit/<model>/injection.yaml from its proton, helium and lepton fits (rule combine_fits)."""

from pathlib import Path

import yaml

from galdiff.fitting import merge_fit_files
from galdiff.provenance import atomic_path
from galdiff.script_logging import setup_logging


def main(part_paths, output_path, log_path):
    log = setup_logging(log_path)
    merged = merge_fit_files([yaml.safe_load(Path(path).read_text()) for path in part_paths],
                             inputs={Path(path).name: path for path in part_paths})
    with atomic_path(output_path) as tmp:
        tmp.write_text(yaml.safe_dump(merged, sort_keys=False))
    log.info("wrote %s (fits %s)", output_path, ", ".join(merged["fits"]))


if __name__ == "__main__":
    main(list(snakemake.input), snakemake.output[0], snakemake.log[0])
