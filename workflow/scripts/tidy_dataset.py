"""Build one tidy table results/data/<dataset>.ecsv from its raw files (rule tidy_dataset).

Every raw file is checked against its registry sha256 before it is read.
"""

from pathlib import Path

from galdiff.data.datasets import build_dataset, write_dataset
from galdiff.data.registry import load_registry
from galdiff.script_logging import setup_logging


def main(dataset, raw_paths, registry_path, output_path, log_path):
    log = setup_logging(log_path)
    table = build_dataset(dataset, raw_paths, registry=load_registry(registry_path))
    write_dataset(table, output_path)
    log.info("%s: %d rows written to %s (raw files match their registry sha256)", dataset, len(table), output_path)


if __name__ == "__main__":
    main(
        snakemake.wildcards.dataset,
        {name: path for name, path in snakemake.input.items()},
        Path(snakemake.scriptdir).parents[1] / snakemake.config["data"]["registry"],
        snakemake.output[0],
        snakemake.log[0],
    )
