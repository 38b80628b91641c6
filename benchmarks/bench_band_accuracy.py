"""Accuracy and CPU cost of band_response's two accuracy settings at a run's own grid (issue 13).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_band_accuracy.py RUN_DIR MODEL [--species proton]

RUN_DIR holds a finished run (config.yaml and results/ with the fits and Green's matrices). Prints, per fit:
the basis rank at several ``bands.basis_tolerance`` values and the resulting 68 % band-edge error of the
local interstellar spectra (J = G Q through the fit's Green's matrix, exact) as a fraction of the band's
half-width; then, for one species, CPU seconds and the error of the batched GMRES solves of its first 8
basis directions at several ``bands.solver_rtol`` values (spatial mean of the density per energy, against
rtol 1e-7). Results: benchmarks/RESULTS.md, "Band stage cost at the default grid".
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import yaml

from galdiff.propagation.greens import read_greens_h5
from galdiff.uncertainty.bands import rebuild_fit_model
from galdiff.uncertainty.extra_bands import FIT_SEED_OFFSETS
from galdiff.uncertainty.response import (injection_basis, injection_derivatives, injection_draws, nucleus_solver,
                                          solve_in_chunks)

FITS = {"proton": "proton", "helium": "helium", "leptons": "electron"}


def greens_path(results: Path, species: str) -> Path:
    found = sorted(results.glob(f"greens/*/greens_{species}.h5"))
    if len(found) != 1:
        raise SystemExit(f"{results}/greens: expected one greens_{species}.h5, found {len(found)}")
    return found[0]


def draws_of_fit(run: Path, cfg, model: str, fit: str):
    content = read_greens_h5(greens_path(run / "results", FITS[fit]))
    model_fit = rebuild_fit_model(fit, cfg["models"][model], (content["ek_GeV_per_n"], content["greens"]))
    with open(run / "results" / "fit" / model / f"injection_{fit}.yaml") as handle:
        entry = injection_derivatives(model_fit, yaml.safe_load(handle)["fits"][fit])
    bands = cfg.get("bands", {})
    _, q = injection_draws(entry, model_fit, int(bands.get("n_samples", 400)),
                           int(bands.get("seed", 13)) + FIT_SEED_OFFSETS[fit])
    return np.asarray(content["greens"]), entry["q_best"], q


def basis_table(run: Path, cfg, model: str, tolerances) -> None:
    for fit in FITS:
        greens, q_best, q = draws_of_fit(run, cfg, model, fit)
        spectra = q @ greens.T
        lo, hi = np.quantile(spectra, [0.16, 0.84], axis=0)
        half = 0.5 * (hi - lo)
        resolved = half > 1e-6 * np.max(np.abs(spectra).mean(axis=0))
        for tolerance in tolerances:
            coefficients, directions = injection_basis(q - q_best[None, :], tolerance)
            approx = (q_best[None, :] + coefficients @ directions) @ greens.T
            lo2, hi2 = np.quantile(approx, [0.16, 0.84], axis=0)
            error = np.max(np.maximum(np.abs(lo2 - lo), np.abs(hi2 - hi))[resolved] / half[resolved])
            print(f"{model} {fit}: basis_tolerance {tolerance:g}: rank {directions.shape[0]}, "
                  f"local band edges moved by {error:.2e} of the half-width", flush=True)


def rtol_table(run: Path, cfg, model: str, species: str, rtols) -> None:
    _, q_best, q = draws_of_fit(run, cfg, model, species)
    _, directions = injection_basis(q - q_best[None, :], 1e-3)
    solver, shape = nucleus_solver(cfg["models"][model], cfg["propagation"], species)
    shape = solver.to_unknowns(np.asarray(shape, dtype=float)[None], "source_shape")[0]
    sources = directions[:8, :, None] * shape[None, None, :]
    reference = None
    for rtol in rtols:
        start = time.process_time()
        mean = np.concatenate(list(solve_in_chunks(solver, sources, rtol))).mean(axis=-1)
        cpu = time.process_time() - start
        reference = mean if reference is None else reference
        error = np.max(np.abs(mean - reference)) / np.max(np.abs(reference))
        print(f"{model} {species}: solver_rtol {rtol:g}: {cpu:.1f} CPU s for 8 directions, "
              f"{solver.iterations_last_solve} GMRES iterations, error {error:.2e} of the largest", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("model")
    parser.add_argument("--species", default="proton", choices=["proton", "helium"])
    args = parser.parse_args()
    with open(args.run / "config.yaml") as handle:
        cfg = yaml.safe_load(handle)
    basis_table(args.run, cfg, args.model, (1e-3, 3e-3, 1e-2, 3e-2, 1e-1))
    rtol_table(args.run, cfg, args.model, args.species, (1e-7, 1e-5, 1e-4, 1e-3))


if __name__ == "__main__":
    main()
