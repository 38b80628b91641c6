"""Figure 1: best-fit proton and helium spectra with the data (rule fig1)."""

from pathlib import Path

from galdiff.data.datasets import read_dataset
from galdiff.plotting.figure1 import plot_figure1
from galdiff.plotting.style import save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging


def main(curve_paths, table_paths, output_path, log_path, printed_of=None):
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
    data = {}
    for path in table_paths:
        table = read_dataset(path)
        data.setdefault(table.meta["species"], []).append(table)
    # Voyager 1 measured beyond the heliopause: compare it with the interstellar (unmodulated) curves
    fig = plot_figure1(curves, data, show_lis=True, printed_of=printed_of)
    save_figure(fig, output_path, provenance=provenance_meta(inputs={Path(p).name: p for p in curve_paths}))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(list(snakemake.input.curves), list(snakemake.input.tables), snakemake.output[0], snakemake.log[0],
         dict(snakemake.params.printed_of))
