"""Fit one injection of one model with its Green's function: proton, helium or leptons (rule fit_injection)."""

from pathlib import Path

import numpy as np
import yaml

from galdiff.data.datasets import read_dataset, write_dataset
from galdiff.fitting import fit_curves_table, fit_file_content, fit_lepton_injection, fit_nucleus_injection
from galdiff.propagation.greens import read_greens_h5
from galdiff.propagation.run import read_result
from galdiff.provenance import atomic_path
from galdiff.script_logging import setup_logging

CURVE_ENERGIES_GEV_PER_N = np.geomspace(1e-3, 1e9, 241)


def main(fit_name, inputs, outputs, model_name, model_cfg, selection, log_path):
    log = setup_logging(log_path)
    content = read_greens_h5(inputs["greens"])
    greens = (content["ek_GeV_per_n"], content["greens"])
    tables = {Path(path).stem: read_dataset(path) for path in inputs["tables"]}
    if fit_name == "leptons":
        secondary = {lepton: read_result(inputs[f"{lepton}_secondary"]).intensity_sun for lepton in ("electron", "positron")}
        result, model = fit_lepton_injection(model_cfg, greens, secondary, tables, selection)
    else:
        result, model = fit_nucleus_injection(fit_name, model_cfg, greens, tables, selection)
    log.info("%s %s: chi2/ndof = %.1f/%d, valid %s", model_name, fit_name, result.chi2, result.ndof, result.valid)
    grid = model.grid_ek_GeV_per_n
    inside = (CURVE_ENERGIES_GEV_PER_N >= grid[0]) & (CURVE_ENERGIES_GEV_PER_N <= grid[-1])
    write_dataset(fit_curves_table(model, result.params, CURVE_ENERGIES_GEV_PER_N[inside]), outputs["curves"])
    with atomic_path(outputs["injection"]) as tmp:
        inputs_used = {name: path for name, path in inputs.items() if name != "tables"}
        inputs_used.update({Path(path).stem: path for path in inputs["tables"]})
        content = fit_file_content(model_name, {fit_name: (result, model)}, model_cfg, inputs=inputs_used)
        tmp.write_text(yaml.safe_dump(content, sort_keys=False))


if __name__ == "__main__":
    main(snakemake.wildcards.fit, {**dict(snakemake.input.items()), "tables": list(snakemake.input.tables)},
         dict(snakemake.output.items()), snakemake.wildcards.model,
         snakemake.params.model_cfg, snakemake.params.selection, snakemake.log[0])
