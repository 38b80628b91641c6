"""GeV anchor without mask: models vs Fermi-LAT in |l|<80, |b|<8, figure and ratios (rule gev_anchor)."""

import json
from pathlib import Path

from galdiff.data.datasets import read_dataset
from galdiff.plotting.gev_anchor import plot_gev_anchor
from galdiff.plotting.style import save_figure
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.validation import gev_anchor_ratios


def main(spectra_paths, fermi_path, energies_GeV, printed_of, outputs, log_path):
    log = setup_logging(log_path)
    spectra = {Path(p).parent.name: read_dataset(p) for p in spectra_paths}
    fermi = read_dataset(fermi_path)
    inputs = {f"{Path(p).parent.name}/{Path(p).name}": p for p in spectra_paths}
    inputs[Path(fermi_path).name] = fermi_path
    ratios = {model: gev_anchor_ratios(table, fermi, energies_GeV) for model, table in spectra.items()}
    for model, entry in ratios.items():
        log.info("%s: model/Fermi-LAT %s", model, entry["ratio_total"])
    with atomic_path(outputs["json"]) as tmp:
        tmp.write_text(json.dumps({"models": ratios, "provenance": provenance_meta(inputs=inputs)}, indent=2))
    save_figure(plot_gev_anchor(spectra, fermi, printed_of=printed_of), outputs["pdf"],
                provenance=provenance_meta(inputs=inputs))


if __name__ == "__main__":
    main(list(snakemake.input.spectra), snakemake.input.fermi, list(snakemake.params.energies_GeV),
         dict(snakemake.params.printed_of), {"pdf": snakemake.output.pdf, "json": snakemake.output.json},
         snakemake.log[0])
