"""Propagate protons or helium of one model: the fitted injection, or without a fit the configured one
normalised to data (rule propagate_nucleus)."""

from pathlib import Path

import yaml

from galdiff.data.datasets import read_dataset
from galdiff.propagation import run
from galdiff.script_logging import setup_logging


def main(species, inputs, model_cfg, propagation_cfg, density_path, log_path):
    log = setup_logging(log_path)
    if "injection" in inputs:  # best fit: the fit's prefactor is the scale
        entry = yaml.safe_load(Path(inputs["injection"]).read_text())["injection"][species]
        result = run.propagate_injection(model_cfg, propagation_cfg, species, entry, progress=True)
    else:  # no Green's functions, no fit: Table II shape scaled to the reference data set
        result = run.propagate_primary(model_cfg, propagation_cfg, species, with_greens=False, progress=True)
        norm_cfg = propagation_cfg["normalisation"][species]
        result = run.normalise_to_data(result, species, model_cfg["injection"][species]["phi_GV"],
                                       read_dataset(inputs["reference"]), norm_cfg["ek_range_GeV_per_n"])
    run.write_result(density_path, result, config={"model": model_cfg, "propagation": propagation_cfg}, inputs=inputs)
    log.info("%s: q0 %.4g cm^-3 s^-1 GV^-1, written %s", species, result.norm, density_path)


if __name__ == "__main__":
    main(snakemake.wildcards.species, dict(snakemake.input.items()), snakemake.params.model_cfg,
         snakemake.params.propagation_cfg, snakemake.output.density, snakemake.log[0])
