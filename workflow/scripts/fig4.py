"""Figures 4a-d and 5: gamma-ray spectra of a region by component with the data (rules fig4, fig5)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.data.datasets import read_dataset  # noqa: E402
from galdiff.plotting.figure4 import plot_figure4, plot_figure5  # noqa: E402
from galdiff.plotting.style import save_figure  # noqa: E402
from galdiff.provenance import provenance_meta  # noqa: E402


def main(spectra_path, data_paths, panel, weight_exponent, energy_range_GeV, output_path, log_path,
         printed_path=None, note="", band_path=None, printed_band_path=None):
    log = setup_logging(log_path)
    spectra = read_dataset(spectra_path)
    data = [read_dataset(p) for p in data_paths]
    printed = read_dataset(printed_path) if printed_path else None
    kwargs = dict(weight_exponent=weight_exponent, energy_range_GeV=energy_range_GeV, printed_table=printed, note=note,
                  band_table=read_dataset(band_path) if band_path else None,
                  printed_band_table=read_dataset(printed_band_path) if printed_band_path else None)
    fig = plot_figure4(spectra, data, panel, **kwargs) if panel else plot_figure5(spectra, data, **kwargs)
    inputs = {f"{Path(p).parent.name}/{Path(p).name}": p
              for p in (spectra_path, printed_path, band_path,
                        printed_band_path) if p}
    inputs.update({Path(p).name: p for p in data_paths})
    save_figure(fig, output_path, provenance=provenance_meta(inputs))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(snakemake.input.spectra, list(snakemake.input.data), snakemake.params.panel,  # noqa: F821
         float(snakemake.params.weight_exponent), snakemake.params.energy_range_GeV,  # noqa: F821
         snakemake.output[0], snakemake.log[0], snakemake.input.get("printed"),  # noqa: F821
         snakemake.params.get("note", ""), snakemake.input.get("band"), snakemake.input.get("printed_band"))  # noqa: F821
