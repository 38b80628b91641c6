"""Figures 7a-b: per-flavour neutrino spectra of DR-low with IceCube's bands (rule fig7)."""

from pathlib import Path

from galdiff.comparison.icecube import NEUTRINO_BANDS as BANDS
from galdiff.data.datasets import read_dataset
from galdiff.plotting.figure7 import NEUTRINO_COMPONENT_STYLES, plot_figure7
from galdiff.plotting.style import draw_systematic_envelopes, read_model_tables, read_systematics_tables, save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging


def main(spectra_path, band_paths, panel, energy_range_GeV, output_path, log_path, printed_path=None,
         model_band_path=None, printed_band_path=None, syst_path=None, printed_syst_path=None):
    log = setup_logging(log_path)
    spectra, tables, inputs = read_model_tables(spectra_path, printed_path, model_band_path, printed_band_path)
    bands = {name: read_dataset(path) for name, path in band_paths.items()}
    for name, table in bands.items():
        log.info("%s: %s", name, table.meta.get("conversion", table.meta.get("region", "")))
    fig = plot_figure7(spectra, bands, panel, energy_range_GeV=energy_range_GeV, **tables)
    syst, syst_inputs = read_systematics_tables(syst_path, printed_syst_path)
    per_flavour = lambda e: e**2 / 3.0  # noqa: E731  (the figure's per-flavour E^2 weighting)
    draw_systematic_envelopes(fig.axes[0], syst["syst"], NEUTRINO_COMPONENT_STYLES, per_flavour)
    draw_systematic_envelopes(fig.axes[0], syst["printed_syst"], NEUTRINO_COMPONENT_STYLES, per_flavour, as_printed=True)
    inputs.update(syst_inputs)
    inputs.update({Path(p).name: p for p in band_paths.values()})
    save_figure(fig, output_path, provenance=provenance_meta(inputs))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(snakemake.input.spectra, {name: snakemake.input[name] for name in BANDS},
         snakemake.params.panel, snakemake.params.energy_range_GeV, snakemake.output[0], snakemake.log[0],
         snakemake.input.get("printed"), snakemake.input.get("band"), snakemake.input.get("printed_band"),
         snakemake.input.get("syst"), snakemake.input.get("printed_syst"))
