"""One scan's figure: chi-square map (two-parameter grid) or curves, the base model's (paper's) point marked (rule scan_figure)."""

from galdiff.data.datasets import read_dataset
from galdiff.plotting.scans import plot_scan
from galdiff.plotting.style import save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging


def main(table_path, output_path, log_path):
    log = setup_logging(log_path)
    fig = plot_scan(read_dataset(table_path))
    save_figure(fig, output_path, provenance=provenance_meta(inputs={"scan_table": table_path}))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(snakemake.input[0], snakemake.output[0], snakemake.log[0])
