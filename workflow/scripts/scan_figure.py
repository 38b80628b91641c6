"""One scan's figure: chi-square map (two-parameter grid) or curves, the base model's (paper's) point marked (rule scan_figure)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.data.datasets import read_dataset  # noqa: E402
from galdiff.plotting.scans import plot_scan  # noqa: E402
from galdiff.plotting.style import save_figure  # noqa: E402
from galdiff.provenance import provenance_meta  # noqa: E402


def main(table_path, output_path, log_path):
    log = setup_logging(log_path)
    fig = plot_scan(read_dataset(table_path))
    save_figure(fig, output_path, provenance=provenance_meta(inputs={"scan_table": table_path}))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(snakemake.input[0], snakemake.output[0], snakemake.log[0])  # noqa: F821
