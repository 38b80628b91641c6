"""Figure 3: gamma-ray data with IceCube's total and Galactic-plane neutrino results."""

from pathlib import Path

from galdiff.data.datasets import read_dataset

from galdiff.plotting.figure3 import plot_figure3
from galdiff.plotting.style import save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging


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
        list(snakemake.input.gamma),
        snakemake.input.icecube_total,
        snakemake.input.icecube_pi0,
        snakemake.params.energy_range_GeV,
        snakemake.output[0],
        snakemake.log[0],
    )
