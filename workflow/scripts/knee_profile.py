"""chi2 profile of one model's nucleus fit in one parameter, by data set (rule knee_profile)."""

from pathlib import Path

import yaml

from galdiff.data.datasets import read_dataset
from galdiff.fitting import profile_nucleus_fit
from galdiff.propagation.greens import read_greens_h5
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.script_logging import setup_logging


def main(species, parameter, values, inputs, output_path, model_name, model_cfg, selection, log_path):
    log = setup_logging(log_path)
    content = read_greens_h5(inputs["greens"])
    tables = {Path(path).stem: read_dataset(path) for path in inputs["tables"]}
    profile = profile_nucleus_fit(species, model_cfg, (content["ek_GeV_per_n"], content["greens"]), tables,
                                  parameter, values, selection)
    for point in profile:
        log.info("%s %s %s = %g: chi2 = %.1f %s", model_name, species, parameter, point["value"], point["chi2"],
                 {k: round(v, 1) for k, v in point["chi2_by_dataset"].items()})
    used = {"greens": inputs["greens"], **{Path(p).stem: p for p in inputs["tables"]}}
    out = {"model": model_name, "species": species, "parameter": parameter,
           "definition": f"refit with {parameter} held at each value, every other parameter as in the fit",
           "profile": profile, **provenance_meta(inputs=used, config=dict(model_cfg))}
    with atomic_path(output_path) as tmp:
        tmp.write_text(yaml.safe_dump(out, sort_keys=False))


if __name__ == "__main__":
    main(snakemake.wildcards.fit, snakemake.wildcards.parameter, list(snakemake.params.values),
         {"greens": snakemake.input.greens, "tables": list(snakemake.input.tables)},
         snakemake.output[0], snakemake.wildcards.model, snakemake.params.model_cfg,
         snakemake.params.selection, snakemake.log[0])
