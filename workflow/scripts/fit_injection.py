"""Fit the injection spectra of one model with its Green's functions (rule fit_injection)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from galdiff.data.datasets import read_dataset, write_dataset  # noqa: E402
from galdiff.fitting import fit_curves_table, fit_model_injection  # noqa: E402
from galdiff.propagation.greens import read_greens_h5  # noqa: E402
from galdiff.propagation.run import read_result  # noqa: E402
from galdiff.provenance import atomic_path, provenance_meta  # noqa: E402

CURVE_ENERGIES_GEV_PER_N = np.geomspace(1e-3, 1e9, 241)


def main(inputs, outputs, model_name, model_cfg, log_path):
    log = setup_logging(log_path)
    greens = {}
    for species in ("proton", "helium", "electron"):
        content = read_greens_h5(inputs[f"greens_{species}"])
        greens[species] = (content["ek_GeV_per_n"], content["greens"])
    secondary = {lepton: read_result(inputs[f"{lepton}_secondary"]).intensity_sun for lepton in ("electron", "positron")}
    tables = {Path(path).stem: read_dataset(path) for path in inputs["tables"]}
    fits = fit_model_injection(model_cfg, greens, secondary, tables)
    content = {"model": model_name, **provenance_meta(config=model_cfg), "fits": {}, "summary": {}}
    for name, (result, model) in fits.items():
        content["fits"][name] = result.as_dict()
        content["summary"].update(result.summary_dict())
        log.info("%s: chi2/ndof = %.1f/%d, valid %s", name, result.chi2, result.ndof, result.valid)
        inside = (CURVE_ENERGIES_GEV_PER_N >= model.grid_ek_GeV_per_n[0]) & (CURVE_ENERGIES_GEV_PER_N <= model.grid_ek_GeV_per_n[-1])
        write_dataset(fit_curves_table(model, result.params, CURVE_ENERGIES_GEV_PER_N[inside]), outputs[f"curves_{name}"])
    with atomic_path(outputs["injection"]) as tmp:
        tmp.write_text(yaml.safe_dump(content, sort_keys=False))


if __name__ == "__main__":
    main({**dict(snakemake.input.items()), "tables": list(snakemake.input.tables)},  # noqa: F821
         dict(snakemake.output.items()), snakemake.wildcards.model,  # noqa: F821
         snakemake.params.model_cfg, snakemake.log[0])  # noqa: F821
