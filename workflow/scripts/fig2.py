"""Figure 2: best-fit e+ + e- spectrum with AMS-02 and DAMPE (rule fig2)."""

from pathlib import Path

from galdiff.data.datasets import read_dataset
from galdiff.plotting.figure2 import plot_figure2
from galdiff.plotting.style import save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.uncertainty.bands import band_levels

COMPONENTS = ("total", "secondary", "electron_primary", "positron_primary")


def main(curve_paths, table_paths, output_path, log_path, printed_of=None, band_paths=()):
    log = setup_logging(log_path)
    components = {}
    for path in curve_paths:
        table = read_dataset(path)
        entry = {"energy_GeV": table["ek_GeV_per_n"].value}
        entry.update({name: table[f"{name}_toa"].value for name in COMPONENTS if f"{name}_toa" in table.colnames})
        components[Path(path).parent.name] = entry
    bands = {}
    for path in band_paths:  # results/bands/<model>/local_leptons.ecsv (rule band_local)
        table = read_dataset(path)
        bands[Path(path).parent.name] = {"energy_GeV": table["ek_GeV_per_n"].value,
                                         "levels": band_levels(table, "total_toa")}
    fig = plot_figure2(components, [read_dataset(p) for p in table_paths], printed_of=printed_of, bands=bands)
    save_figure(fig, output_path, provenance=provenance_meta(inputs={f"{Path(p).parent.name}/{Path(p).name}": p
                                                           for p in [*curve_paths, *band_paths]}))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(list(snakemake.input.curves), list(snakemake.input.tables), snakemake.output[0], snakemake.log[0],
         dict(snakemake.params.printed_of), list(snakemake.input.get("bands", [])))
