"""Headline numbers: the Galactic share of IceCube's total astrophysical neutrino flux (rule headline)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.data.datasets import read_dataset  # noqa: E402
from galdiff.origins import headline_numbers  # noqa: E402
from galdiff.provenance import atomic_path, provenance_meta  # noqa: E402


def main(spectra_path, cascades_path, energies_GeV, output_path, log_path):
    log = setup_logging(log_path)
    numbers = headline_numbers(read_dataset(spectra_path), read_dataset(cascades_path), energies_GeV)
    numbers["provenance"] = provenance_meta(inputs={"spectra": spectra_path, "icecube_cascades_6yr": cascades_path})
    for key, value in numbers["ours"].items():
        log.info("%s: ours %s, paper %s", key, value, numbers["paper"][key])
    with atomic_path(output_path) as tmp:
        tmp.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main(snakemake.input.spectra, snakemake.input.icecube_total, list(snakemake.params.energies_GeV),  # noqa: F821
         snakemake.output[0], snakemake.log[0])  # noqa: F821
