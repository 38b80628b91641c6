"""Headline shares with their EXTRA-normalisation errors (rule band_headline, galdiff.uncertainty.extra_bands)."""

import json


import yaml

from galdiff.data.datasets import read_dataset
from galdiff.fitting.extra import extras_from_emissivity
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.uncertainty.extra_bands import headline_band, read_cosmic_ray_draws, unscaled_from_band_table
from galdiff.script_logging import setup_logging


def numbers_of(prefix, inputs, cascades, energies_GeV, bands):
    with open(inputs[f"{prefix}fit"]) as handle:
        fit_summary = yaml.safe_load(handle)
    _, fractions = extras_from_emissivity(inputs[f"{prefix}emissivity"])
    # the cosmic-ray draws exist where the injection fits do
    response, shifts = read_cosmic_ray_draws(inputs.get(f"{prefix}response"), inputs.get(f"{prefix}refit"), fit_summary)
    return headline_band(read_dataset(inputs[f"{prefix}spectra"]),
                         unscaled_from_band_table(read_dataset(inputs[f"{prefix}band"])), fit_summary, cascades,
                         energies_GeV, n_samples=int(bands["n_samples"]), seed=int(bands["seed"]),
                         levels=[float(cl) for cl in bands["levels"]], flavour_fractions=fractions,
                         response=response, scale_shifts=shifts)


def main(inputs, energies_GeV, bands, output, log_path):
    log = setup_logging(log_path)
    cascades = read_dataset(inputs["icecube_total"])
    out = numbers_of("", inputs, cascades, energies_GeV, bands)
    if "printed_fit" in inputs:
        out["as_printed"] = numbers_of("printed_", inputs, cascades, energies_GeV, bands)["shares"]
    out["provenance"] = provenance_meta(inputs=inputs)
    for key, entry in out["shares"].items():
        log.info("%s: %s", key, entry)
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(dict(snakemake.input.items()), list(snakemake.params.energies_GeV), dict(snakemake.params.bands),
         snakemake.output[0], snakemake.log[0])
