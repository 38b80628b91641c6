"""Figure 3: gamma-ray data with IceCube's total and Galactic-plane neutrino results."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.data.datasets import read_dataset  # noqa: E402

from galdiff.plotting.figure3 import plot_figure3  # noqa: E402
from galdiff.plotting.style import save_figure  # noqa: E402
from galdiff.provenance import provenance_meta  # noqa: E402


def main(gamma_paths, total_path, pi0_path, energy_range_GeV, output_path, log_path):
    log = setup_logging(log_path)
    fig = plot_figure3(
        [read_dataset(p) for p in gamma_paths], read_dataset(total_path), read_dataset(pi0_path), energy_range_GeV
    )
    inputs = {Path(p).name: p for p in [*gamma_paths, total_path, pi0_path]}
    save_figure(fig, output_path, provenance=provenance_meta(inputs))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(
        list(snakemake.input.gamma),  # noqa: F821
        snakemake.input.icecube_total,  # noqa: F821
        snakemake.input.icecube_pi0,  # noqa: F821
        snakemake.params.energy_range_GeV,  # noqa: F821
        snakemake.output[0],  # noqa: F821
        snakemake.log[0],  # noqa: F821
    )
