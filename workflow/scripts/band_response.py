"""Response of one model's region spectra to its p and He fit parameters, and its 1 % check (rule band_response)."""

import json


import yaml

from galdiff.emission import read_emissivity_h5
from galdiff.skymaps.masks import read_mask_fits
from galdiff.propagation.greens import read_greens_h5
from galdiff.propagation.run import read_result
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.skymaps.regions import SkyRegion
from galdiff.uncertainty.bands import rebuild_fit_model
from galdiff.uncertainty.response import (build_hadronic_chain, hadronic_response, injection_derivatives,
                                          validate_response, write_response_h5)
from galdiff.script_logging import setup_logging


def main(inputs, model_cfg, propagation_cfg, emission_cfg, maps_cfg, regions_cfg, fine_nside, bands, outputs, log_path):
    log = setup_logging(log_path)
    regions = [SkyRegion.from_config(name, entry) for name, entry in regions_cfg.items()]
    chain = build_hadronic_chain(
        model_cfg, propagation_cfg, emission_cfg, maps_cfg, regions,
        electron_ek_GeV=read_result(inputs["electron"]).grid.ek_GeV_per_n,
        emissivity=read_emissivity_h5(inputs["emissivity"]), los_paths=(inputs["los_gas"], inputs["los_path"]),
        mask=read_mask_fits(inputs["mask"]) if inputs.get("mask") else None, fine_nside=fine_nside)
    derivatives, models = {}, {}
    for species in ("proton", "helium"):
        content = read_greens_h5(inputs[f"greens_{species}"])
        models[species] = rebuild_fit_model(species, model_cfg, (content["ek_GeV_per_n"], content["greens"]))
        with open(inputs[f"fit_{species}"]) as handle:
            derivatives[species] = injection_derivatives(models[species], yaml.safe_load(handle)["fits"][species])
    best = chain.region_spectra({species: entry["q_best"] for species, entry in derivatives.items()})
    response = hadronic_response(chain, derivatives, models, best_spectra=best)
    check = validate_response(chain, derivatives, models, response, best, n_sigma=1.0, seed=int(bands["seed"]))
    log.info("response: %s free parameters; 1-sigma check: linear vs full chain %.2g (the perturbation moved "
             "the spectra by up to %.2g)", {s: len(e["names"]) for s, e in derivatives.items()},
             check["max_relative_deviation"], check["max_relative_change"])
    write_response_h5(outputs["response"], derivatives, response, best, check, meta=provenance_meta(inputs=inputs))
    with atomic_path(outputs["check"]) as tmp:
        tmp.write_text(json.dumps({**check, "provenance": provenance_meta(inputs=inputs)}, indent=2))


if __name__ == "__main__":
    main(dict(snakemake.input.items()), snakemake.params.model_cfg, snakemake.params.propagation_cfg,
         snakemake.params.emission_cfg, snakemake.params.maps_cfg, dict(snakemake.params.regions),
         int(snakemake.params.fine_nside), dict(snakemake.params.bands),
         dict(snakemake.output.items()), snakemake.log[0])
