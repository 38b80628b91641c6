"""Figure 1: best-fit proton and helium spectra with the data (rule fig1)."""

from pathlib import Path

from galdiff.data.datasets import read_dataset
from galdiff.plotting.figure1 import plot_figure1
from galdiff.plotting.style import save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.uncertainty.bands import band_levels


def main(curve_paths, table_paths, output_path, log_path, printed_of=None, band_paths=()):
    log = setup_logging(log_path)
    curves = {}
    for path in curve_paths:
        model, species = Path(path).parent.name, Path(path).stem.removeprefix("curves_")
        table = read_dataset(path)
        curves.setdefault(species, {})[model] = {
            "ek_GeV_per_n": table["ek_GeV_per_n"].value,
            "flux_toa": table[f"{species}_toa"].value,
            "flux_lis": table[f"{species}_lis"].value,
        }
    bands = {}
    for path in band_paths:  # results/bands/<model>/local_<species>.ecsv (rule band_local)
        model, species = Path(path).parent.name, Path(path).stem.removeprefix("local_")
        table = read_dataset(path)
        bands.setdefault(species, {})[model] = {"ek_GeV_per_n": table["ek_GeV_per_n"].value,
                                                "levels": band_levels(table, f"{species}_toa")}
    data = {}
    for path in table_paths:
        table = read_dataset(path)
        data.setdefault(table.meta["species"], []).append(table)
    # Voyager 1 measured beyond the heliopause: compare it with the interstellar (unmodulated) curves
    fig = plot_figure1(curves, data, show_lis=True, printed_of=printed_of, bands=bands)
    save_figure(fig, output_path, provenance=provenance_meta(inputs={f"{Path(p).parent.name}/{Path(p).name}": p
                                                           for p in [*curve_paths, *band_paths]}))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(list(snakemake.input.curves), list(snakemake.input.tables), snakemake.output[0], snakemake.log[0],
         dict(snakemake.params.printed_of), list(snakemake.input.get("bands", [])))
