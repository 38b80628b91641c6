"""The EXTRA refit shifts of the band draws (galdiff.uncertainty.extra_bands.extra_refit_shifts) against the
workflow's own EXTRA fit (galdiff.fitting.extra.fit_extra_scales) redone on the drawn cosmic-ray base.

Run after a workflow run (reads only its outputs):

    python benchmarks/check_extra_refit.py --results results --models dr_low dr_high --draws 6

Prints per model the shifts' standard deviation over the band draws beside the fit's own scale errors,
and for the first draws the direct refit's scale change beside the linear shift.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

from galdiff.data.datasets import read_dataset
from galdiff.fitting.data import FitDataset
from galdiff.fitting.extra import fit_extra_scales
from galdiff.uncertainty.extra_bands import extra_refit_shifts, hadronic_offsets, unscaled_from_band_table
from galdiff.uncertainty.response import read_response_h5


def fit_datasets(points):
    """The EXTRA fit's data sets rebuilt from its points table (one per data set, with its region)."""
    names = np.asarray(points["dataset"]).astype(str)
    out = []
    for name in sorted(set(names)):
        rows = names == name
        column = lambda c: np.asarray(points[c])[rows]  # noqa: E731
        out.append(FitDataset(name=name, experiment=name, species="gamma", ek_GeV_per_n=column("energy"),
                              flux=column("flux"), err_lo=column("flux_lo_err"), err_hi=column("flux_hi_err"),
                              is_upper_limit=column("is_upper_limit").astype(bool), modulated=False, scale_group=None,
                              scale_uncertainty=None, citation="", region=str(column("region")[0])))
    return out


def check(results: Path, model: str, n_samples: int, seed: int, n_direct: int) -> None:
    fit = yaml.safe_load((results / f"spectra/{model}/extra_fit.yaml").read_text())
    names = list(fit.get("parameters") or [])
    if not names:
        print(f"{model}: no fitted extra")
        return
    points = read_dataset(results / f"spectra/{model}/extra_fit_points.ecsv")
    regions = sorted(set(np.asarray(points["region"]).astype(str)))
    tables = {r: read_dataset(results / f"spectra/{model}/{r}.ecsv") for r in regions}
    unscaled = {r: unscaled_from_band_table(read_dataset(results / f"bands/{model}/region_{r}.ecsv")) for r in regions}
    response = read_response_h5(results / f"bands/{model}/response_hadronic.h5")
    shifts = extra_refit_shifts(fit, points, tables, unscaled, response, n_samples=n_samples, seed=seed)
    errors = [float(fit["components"][n]["scale_error"]) for n in names]
    print(f"{model}: shifts' std over {n_samples} draws {np.round(shifts.std(axis=0), 3).tolist()}, "
          f"fit errors {np.round(errors, 3).tolist()} ({names})")
    offsets = {r: hadronic_offsets(response, r, n_samples, seed, energies_GeV=np.asarray(tables[r]["energy"]))["gamma_total"]
               for r in regions}
    components = {n: {r: (np.asarray(tables[r]["energy"]), unscaled[r][n]) for r in regions} for n in names}

    def base(draw):
        out = {}
        for r in regions:
            fitted = sum(float(fit["components"][n]["scale"]) * unscaled[r][n] for n in names)
            shift = 0.0 if draw is None else offsets[r][draw]
            out[r] = (np.asarray(tables[r]["energy"]), np.asarray(tables[r]["gamma_total"]) - fitted + shift)
        return out

    datasets = fit_datasets(points)
    best = fit_extra_scales(datasets, base(None), components, names).scales
    worst = 0.0
    for i in range(n_direct):
        direct = fit_extra_scales(datasets, base(i), components, names).scales - best
        worst = max(worst, float(np.max(np.abs(direct - shifts[i])) / max(np.max(np.abs(direct)), 1e-12)))
        print(f"  draw {i}: direct {np.round(direct, 4).tolist()}, linear {np.round(shifts[i], 4).tolist()}")
    print(f"  largest |linear - direct| / |direct| over {n_direct} draws: {worst:.2g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--models", nargs="+", default=["dr_low", "dr_high"])
    parser.add_argument("--draws", type=int, default=6, help="draws refitted directly")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"), help="for bands.n_samples and bands.seed")
    args = parser.parse_args()
    bands = yaml.safe_load(args.config.read_text())["bands"]
    for model in args.models:
        check(args.results, model, int(bands["n_samples"]), int(bands["seed"]), args.draws)


if __name__ == "__main__":
    main()
