"""Emissivities of one model under one systematic variant (rule systematics_emissivity)."""

from galdiff.emission import read_emissivity_h5, write_emissivity_h5
from galdiff.galaxy.isrf import read_isrf
from galdiff.propagation.run import read_result
from galdiff.script_logging import setup_logging
from galdiff.uncertainty.systematics import changed_components, variant_emissivity


def main(inputs, emission_cfg, galaxy_cfg, extra_cfg, variant_cfg, model, variant, output_path, log_path):
    log = setup_logging(log_path)
    propagated = {name: read_result(inputs[name]) for name in ("proton", "helium", "electron", "positron")}
    result = variant_emissivity(read_emissivity_h5(inputs["baseline"]), propagated, read_isrf(inputs["isrf"]),
                                emission_cfg, galaxy_cfg, extra_cfg, variant_cfg,
                                attrs={"model": model, "variant": variant})
    config = {"emission": emission_cfg, "galaxy": galaxy_cfg, "extra": extra_cfg, "variant": variant_cfg}
    write_emissivity_h5(output_path, result, inputs=inputs, config=config)
    log.info("%s / %s: recomputed %s (steps %s)", model, variant, result.attrs["recomputed_components"],
             sorted(changed_components(variant_cfg)))
    log.info("%s / %s: wall-clock seconds per step %s", model, variant,
             {k: round(v, 2) for k, v in result.timings_s.items()})


if __name__ == "__main__":
    main(dict(snakemake.input.items()), snakemake.params.emission_cfg, snakemake.params.galaxy_cfg,
         snakemake.params.extra_cfg, dict(snakemake.params.variant), snakemake.wildcards.model,
         snakemake.wildcards.variant, snakemake.output[0], snakemake.log[0])
