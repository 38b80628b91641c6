"""Interstellar and modulated fluxes at the Sun per species (rule local_spectra).

The force-field potentials are the fitted ones (results/fit/<model>/injection.yaml) when the
workflow fits, otherwise the configured ones.
"""

from pathlib import Path

import yaml

from galdiff.data.datasets import write_dataset
from galdiff.propagation import run
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging

SPECIES = ("proton", "helium", "electron", "positron")


def main(inputs, injection, output_path, log_path):
    log = setup_logging(log_path)
    if "fit" in inputs:
        injection = yaml.safe_load(Path(inputs["fit"]).read_text())["injection"]
    results = {name: run.read_result(inputs[name]) for name in SPECIES}
    phis = {name: float(injection[name]["phi_GV"]) for name in SPECIES}
    table = run.local_spectra_table(results, phis, meta=provenance_meta(inputs=inputs))
    write_dataset(table, output_path)
    log.info("wrote %s (phi %s GV)", output_path, phis)


if __name__ == "__main__":
    main(dict(snakemake.input.items()), snakemake.params.injection, snakemake.output[0], snakemake.log[0])
