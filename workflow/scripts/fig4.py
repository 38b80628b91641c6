"""Figures 4a-d: gamma-ray spectra of a LHAASO region by component with the data (rule fig4)."""

from pathlib import Path

from galdiff.data.datasets import read_dataset
from galdiff.plotting.figure4 import GAMMA_COMPONENT_STYLES, plot_figure4
from galdiff.plotting.style import draw_systematic_envelopes, read_model_tables, read_systematics_tables, save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging


def main(spectra_path, data_paths, panel, weight_exponent, energy_range_GeV, output_path, log_path,
         printed_path=None, note="", band_path=None, printed_band_path=None, syst_path=None, printed_syst_path=None):
    log = setup_logging(log_path)
    spectra, tables, inputs = read_model_tables(spectra_path, printed_path, band_path, printed_band_path)
    data = [read_dataset(p) for p in data_paths]
    fig = plot_figure4(spectra, data, panel, weight_exponent=weight_exponent, energy_range_GeV=energy_range_GeV,
                       note=note, **tables)
    syst, syst_inputs = read_systematics_tables(syst_path, printed_syst_path)
    weight = lambda e: e**weight_exponent  # noqa: E731
    draw_systematic_envelopes(fig.axes[0], syst["syst"], GAMMA_COMPONENT_STYLES, weight)
    draw_systematic_envelopes(fig.axes[0], syst["printed_syst"], GAMMA_COMPONENT_STYLES, weight, as_printed=True)
    inputs.update(syst_inputs)
    inputs.update({Path(p).name: p for p in data_paths})
    save_figure(fig, output_path, provenance=provenance_meta(inputs))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(snakemake.input.spectra, list(snakemake.input.data), snakemake.params.panel,
         float(snakemake.params.weight_exponent), snakemake.params.energy_range_GeV,
         snakemake.output[0], snakemake.log[0], snakemake.input.get("printed"),
         snakemake.params.get("note", ""), snakemake.input.get("band"), snakemake.input.get("printed_band"),
         snakemake.input.get("syst"), snakemake.input.get("printed_syst"))
