"""Headline shares and Table IV ratios under every systematic variant, with their envelope (rule systematics_numbers)."""

import json

from galdiff.data.datasets import read_dataset
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.uncertainty.systematics import headline_envelope, table4_ratio_envelope


def main(inputs, variants, models, headline_model, headline_region, energies_GeV, window, n_sigma, output, log_path):
    log = setup_logging(log_path)
    cascades = read_dataset(inputs["icecube_total"])
    bands = {name: read_dataset(inputs[name]) for name in ("icecube_pi0", "kra_gamma_5", "kra_gamma_50")}
    template_fits = read_dataset(inputs["template_fits"])

    def spectra(model, region):
        return (read_dataset(inputs[f"{model}/baseline/{region}"]),
                {variant: read_dataset(inputs[f"{model}/{variant}/{region}"]) for variant in variants})

    out = {"variants": {name: dict(settings) for name, settings in variants.items()}, "headline": {}, "table4": {}}
    for model in models:
        out["headline"][model] = headline_envelope(*spectra(model, headline_region), cascades, energies_GeV)
        out["table4"][model] = table4_ratio_envelope(*spectra(model, window), bands, template_fits, n_sigma)
        log.info("%s: headline %s", model, out["headline"][model])
    out["headline_model"], out["headline_region"], out["table4_window"] = headline_model, headline_region, window
    out["definition"] = ("each number for the baseline (value) and every systematic variant (variants), each variant with its "
                         "own EXTRA fit; syst_lo / syst_hi = min / max over baseline and variants, syst_minus / syst_plus "
                         "their distances from the value (docs/systematics.md)")
    out["provenance"] = provenance_meta(inputs=inputs, config={"variants": variants})
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.params.variants), list(snakemake.params.models),
         snakemake.params.headline_model, snakemake.params.headline_region, list(snakemake.params.energies_GeV),
         snakemake.params.window, float(snakemake.params.n_sigma), snakemake.output[0], snakemake.log[0])
