"""Primary electrons and extra positrons of one model, and the e- and e+ totals (rule propagate_leptons).

With a fit the lepton fit's injection is propagated as it is; without one (propagation.greens:
false) the configured shapes are scaled to the reference data sets, secondaries held fixed.
"""

from pathlib import Path

import yaml

from galdiff.data.datasets import read_dataset
from galdiff.propagation import run
from galdiff.script_logging import setup_logging


def main(inputs, outputs, model_cfg, propagation_cfg, log_path):
    log = setup_logging(log_path)
    secondaries = {name: run.read_result(inputs[name]) for name in ("electron_secondary", "positron_secondary")}
    if "injection" in inputs:
        injection = yaml.safe_load(Path(inputs["injection"]).read_text())["injection"]
        results = run.propagate_fitted_leptons(model_cfg, propagation_cfg, injection, secondaries,
                                               isrf_path=inputs["isrf"], progress=True)
    else:
        references = {lepton: read_dataset(inputs[f"{lepton}_reference"]) for lepton in ("electron", "positron")}
        results = run.normalised_primary_leptons(model_cfg, propagation_cfg, secondaries, references,
                                                 isrf_path=inputs["isrf"], progress=True)
    config = {"model": model_cfg, "propagation": propagation_cfg}
    for name, path in outputs.items():
        run.write_result(path, results[name], config=config, inputs=inputs)
        log.info("%s: q0 %.4g, written %s", name, results[name].norm, path)


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.output.items()),
         snakemake.params.model_cfg, snakemake.params.propagation_cfg, snakemake.log[0])
