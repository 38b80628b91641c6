"""Headline numbers: the Galactic share of IceCube's total astrophysical neutrino flux (rule headline)."""

import json

from galdiff.data.datasets import read_dataset
from galdiff.comparison.table4 import headline_numbers
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.script_logging import setup_logging


def main(spectra_path, cascades_path, energies_GeV, output_path, log_path, printed_path=None):
    log = setup_logging(log_path)
    cascades = read_dataset(cascades_path)
    numbers = headline_numbers(read_dataset(spectra_path), cascades, energies_GeV)
    inputs = {"spectra": spectra_path, "icecube_cascades_6yr": cascades_path}
    if printed_path:  # the same numbers for the model's as-printed twin (the paper's Tables II-III)
        printed = headline_numbers(read_dataset(printed_path), cascades, energies_GeV)
        numbers["as_printed"] = {key: printed[key] for key in ("model", "ours")}
        inputs["printed_spectra"] = printed_path
    numbers["provenance"] = provenance_meta(inputs=inputs)
    for key, value in numbers["ours"].items():
        log.info("%s: ours %s, as printed %s, paper %s", key, value,
                 numbers.get("as_printed", {}).get("ours", {}).get(key), numbers["paper"][key])
    with atomic_path(output_path) as tmp:
        tmp.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main(snakemake.input.spectra, snakemake.input.icecube_total, list(snakemake.params.energies_GeV),
         snakemake.output[0], snakemake.log[0], snakemake.input.get("printed"))
