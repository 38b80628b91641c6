"""Emissivities of one model on the (r, z, E) grid (rule emissivity)."""

from galdiff.emission import extra_components_from_config, model_emissivity, write_emissivity_h5
from galdiff.galaxy.isrf import read_isrf
from galdiff.propagation.run import read_result
from galdiff.script_logging import setup_logging


def main(inputs, emission_cfg, galaxy_cfg, extra_cfg, model, output_path, log_path):
    log = setup_logging(log_path)
    propagated = {name: read_result(inputs[name]) for name in ("proton", "helium", "electron", "positron")}
    result = model_emissivity(propagated, read_isrf(inputs["isrf"]), emission_cfg,
                              extras=extra_components_from_config(extra_cfg), galaxy_cfg=galaxy_cfg,
                              attrs={"model": model})
    config = {"emission": emission_cfg, "galaxy": galaxy_cfg, "extra": extra_cfg}
    write_emissivity_h5(output_path, result, inputs=inputs, config=config)
    log.info("%s: components %s", model, sorted(result.components))
    log.info("%s: wall-clock seconds per step %s", model, {k: round(v, 2) for k, v in result.timings_s.items()})


if __name__ == "__main__":
    main(dict(snakemake.input.items()), snakemake.params.emission_cfg, snakemake.params.galaxy_cfg,
         snakemake.params.extra_cfg, snakemake.wildcards.model, snakemake.output[0], snakemake.log[0])
