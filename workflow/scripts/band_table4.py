"""Table IV's neutrino flux ratios with their errors, per model (rule band_table4, galdiff.uncertainty)."""

import json


import yaml

from galdiff.data.datasets import read_dataset
from galdiff.fitting.extra import extras_from_emissivity
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.uncertainty.extra_bands import read_cosmic_ray_draws, table4_ratio_band, unscaled_from_band_table
from galdiff.script_logging import setup_logging


def main(inputs, models, n_sigma, bands, output, log_path):
    log = setup_logging(log_path)
    references = {name: read_dataset(inputs[name]) for name in ("icecube_pi0", "kra_gamma_5", "kra_gamma_50")}
    template_fits = read_dataset(inputs["template_fits"])
    out = {"models": {}}
    for model in models:
        with open(inputs[f"{model}/fit"]) as handle:
            fit_summary = yaml.safe_load(handle)
        _, fractions = extras_from_emissivity(inputs[f"{model}/emissivity"])
        # the cosmic-ray draws exist where the injection fits do
        response, shifts = read_cosmic_ray_draws(inputs.get(f"{model}/response"), inputs.get(f"{model}/refit"),
                                                 fit_summary)
        out["models"][model] = table4_ratio_band(
            read_dataset(inputs[f"{model}/spectra"]), unscaled_from_band_table(read_dataset(inputs[f"{model}/band"])),
            fit_summary, references, template_fits, n_samples=int(bands["n_samples"]), seed=int(bands["seed"]),
            levels=[float(cl) for cl in bands["levels"]], n_sigma=float(n_sigma), flavour_fractions=fractions,
            response=response, scale_shifts=shifts)
        log.info("%s: %s", model, out["models"][model])
    out["definition"] = ("model / IceCube template-fit flux ratio of Table IV (galdiff.comparison.table4.neutrino_check) over the "
                         "band draws: value (best fit), median, central intervals, error = half the 68 % interval")
    out["provenance"] = provenance_meta(inputs=inputs)
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(dict(snakemake.input.items()), list(snakemake.params.models), snakemake.params.n_sigma,
         dict(snakemake.params.bands), snakemake.output[0], snakemake.log[0])
