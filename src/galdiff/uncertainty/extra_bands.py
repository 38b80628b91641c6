"""Bands of the region spectra and headline numbers from the EXTRA normalisation fit's covariance.

Every region-spectrum column is linear in the EXTRA scales s_k (:func:`galdiff.fitting.extra.scale_components`):
I_c(s) = I_c(s_hat) + sum_k (s_k - s_hat_k) D_ck with D_ck the column's part per unit scale (the
extra's own unscaled region spectrum, its share of the totals, its flavour shares). This module
draws s from N(s_hat, C_s) (C_s from the fit's errors and correlation; draws below the fit's bound
s >= 0 are set to 0, as the fit would), forms every column exactly for each draw, and takes the same
pointwise central intervals as the cosmic-ray bands (:mod:`galdiff.uncertainty.sampling`).

With a response file (:mod:`galdiff.uncertainty.response`) the cosmic-ray fits' draws are added:
the p and He fits on pi0 and the neutrinos, the lepton fit on bremsstrahlung and IC (each fit drawn
independently, through its linear response). The EXTRA fit is made on the best-fit cosmic-ray base; on a
cosmic-ray draw it would be redone on that draw's base, and that is how the two correlate:
:func:`extra_refit_shifts` gives each draw's refitted scales (the fit's normal equations, linear in the
base: exact while no point changes the side of its error bar), added to the scales' own draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..conventions import EXTRA_COMPONENTS
from ..fitting.extra import extras_at_points, pulling_points, scale_components
from ..fitting.likelihood import model_side_pulls
from .sampling import central_interval, draw_parameters

__all__ = ["extra_scale_covariance", "extra_derivatives", "extra_scale_draws", "extra_refit_shifts", "region_band_table",
           "hadronic_offsets", "drawn_region_columns", "table4_ratio_band",
           "headline_band", "unscaled_from_band_table", "error_sources", "read_refit_shifts", "write_refit_shifts",
           "EXTRA_MAP_COMPONENTS"]

#: the map cubes whose unscaled region averages the EXTRA derivatives are made from
EXTRA_MAP_COMPONENTS = EXTRA_COMPONENTS  # the registry's extras (galdiff.conventions), not a second list

#: the columns an EXTRA scale moves
EXTRA_DEPENDENT = ("extra1", "extra2", "gamma_total", "extra1_neutrino", "extra2_neutrino", "neutrino_total",
                   "neutrino_e", "neutrino_mu", "neutrino_tau")


def extra_scale_covariance(fit_summary: Mapping) -> tuple[list, np.ndarray, np.ndarray]:
    """Fitted extras, their best scales and covariance from ``results/spectra/<model>/extra_fit.yaml``."""
    names = list(fit_summary.get("parameters") or [])
    if not names:
        return [], np.zeros(0), np.zeros((0, 0))
    components = fit_summary["components"]
    scales = np.array([float(components[n]["scale"]) for n in names])
    errors = np.array([float(components[n]["scale_error"]) for n in names])
    correlation = np.asarray(fit_summary.get("correlation") or np.eye(len(names)), dtype=float)
    return names, scales, correlation * np.outer(errors, errors)


def extra_derivatives(unscaled: Mapping, names: Sequence[str], flavour_fractions: Mapping | None = None) -> dict:
    """``{column: {extra: dI_column/ds_extra}}`` from the unscaled (s = 1) region spectra of the extras.

    Exact because :func:`galdiff.fitting.extra.scale_components` is linear in each scale: the derivative
    is its output at s_k = 1 minus that at s_k = 0 (all other columns zero).
    """
    zero = {c: np.zeros_like(np.asarray(next(iter(unscaled.values())), dtype=float)) for c in EXTRA_DEPENDENT}
    base = {**zero, **{c: np.asarray(v, dtype=float) for c, v in unscaled.items() if c in EXTRA_DEPENDENT}}
    out: dict = {}
    for name in names:
        at_one = scale_components(base, {name: 1.0}, flavour_fractions)
        at_zero = scale_components(base, {name: 0.0}, flavour_fractions)
        for column in EXTRA_DEPENDENT:
            derivative = np.asarray(at_one[column]) - np.asarray(at_zero[column])
            if np.any(derivative != 0):
                out.setdefault(column, {})[name] = derivative
    return out


def extra_scale_draws(fit_summary: Mapping, n_samples: int, seed: int,
                      scale_shifts=None) -> tuple[list, np.ndarray, np.ndarray]:
    """Draws of the fitted EXTRA scales (clipped at the fit's bound 0): names, best, draws (n, k).

    ``scale_shifts`` (n, k), optional: each draw's shift of the best scales when the fit is redone on
    the cosmic-ray draw of the same index (:func:`extra_refit_shifts`), added before the clipping.
    """
    names, best, covariance = extra_scale_covariance(fit_summary)
    if not names:
        return names, best, np.zeros((n_samples, 0))
    draws = draw_parameters(best, covariance, n_samples, seed)
    if scale_shifts is not None:
        shifts = np.asarray(scale_shifts, dtype=float)
        if shifts.shape != draws.shape:
            raise ValueError(f"EXTRA refit shifts: shape {shifts.shape}, expected {draws.shape} "
                             f"(bands.n_samples x fitted extras {names})")
        draws = draws + shifts
    return names, best, np.clip(draws, 0.0, None)


def extra_refit_shifts(fit_summary: Mapping, points, region_tables: Mapping, unscaled: Mapping,
                       response: Mapping | None, *, n_samples: int, seed: int) -> np.ndarray:
    """Shifts (n_samples, k) of the fitted EXTRA scales when the fit is redone on each cosmic-ray draw.

    The EXTRA fit minimises sum_i ((d_i - b_i - X_i s) / sigma_i)^2 with the base b (everything it does
    not fit) and the extras' spectra X at the data points. A cosmic-ray draw moves the base by db; the
    refitted scales move by ds = -C A^T (db / sigma), with A = X / sigma over the points that pull
    (measurements, and upper limits the model exceeds) and C = (A^T A)^-1 the fit's covariance: the
    normal equations are linear in the base, so this is the refit itself while every point keeps the
    side of its asymmetric error bar (the fit's bound s >= 0 is applied to the drawn scales afterwards).

    Parameters
    ----------
    fit_summary : mapping
        ``results/spectra/<model>/extra_fit.yaml``.
    points : astropy.table.Table
        ``extra_fit_points.ecsv``: region, energy [GeV], flux and errors, is_upper_limit, model_fit.
    region_tables : mapping
        ``{region: table}`` of the fitted region spectra (``energy``, ``gamma_total``), for every region
        the fit uses.
    unscaled : mapping
        ``{region: {extra: (n_E,)}}``: the extras' region spectra at scale 1.
    response : mapping or None
        :func:`galdiff.uncertainty.response.read_response_h5`; None: no cosmic-ray draws, zero shifts.
    n_samples, seed : int
        Those of the bands (the cosmic-ray draws of :func:`hadronic_offsets`).
    """
    names, _, covariance = extra_scale_covariance(fit_summary)
    shifts = np.zeros((int(n_samples), len(names)))
    if not names or response is None or len(points) == 0:
        return shifts
    energy = np.asarray(points["energy"], dtype=float)
    model = np.asarray(points["model_fit"], dtype=float)
    upper = np.asarray(points["is_upper_limit"], dtype=bool)
    _, sigma = model_side_pulls(model, points["flux"], points["flux_lo_err"], points["flux_hi_err"], upper)
    sigma = np.asarray(sigma, dtype=float)
    active = pulling_points(model, points["flux"], upper)
    regions = np.asarray(points["region"]).astype(str)
    design = extras_at_points(regions, energy, {name: {region: (np.asarray(region_tables[region]["energy"], dtype=float),
                                                                unscaled[region][name]) for region in np.unique(regions)}
                                                for name in names}, names)
    base_shift = np.zeros((int(n_samples), energy.size))
    for region in np.unique(regions):
        rows = regions == region
        table = region_tables[region]
        grid = np.asarray(table["energy"], dtype=float)
        offsets = hadronic_offsets(response, region, n_samples, seed, energies_GeV=grid).get("gamma_total")
        if offsets is None:
            continue
        # the draw's relative change of the total, linear in log E between grid energies, times the
        # fitted model at the point: the base's shift there
        relative = offsets / np.asarray(table["gamma_total"], dtype=float)[None, :]
        log_grid, log_points = np.log(grid), np.log(energy[rows])
        base_shift[:, rows] = np.stack([np.interp(log_points, log_grid, row) for row in relative]) * model[rows][None, :]
    a = design[active] / sigma[active, None]
    shifts[:] = -(base_shift[:, active] / sigma[None, active]) @ a @ covariance
    return shifts


def _drawn_columns(table, derivatives: Mapping, names, best, draws) -> dict:
    """``{column: (n_draws, n_E)}`` of every EXTRA-dependent column of a fitted region table."""
    out = {}
    for column, parts in derivatives.items():
        if column not in table.colnames:
            continue
        values = np.repeat(np.asarray(table[column], dtype=float)[None, :], draws.shape[0], axis=0)
        for k, name in enumerate(names):
            if name in parts:
                values = values + (draws[:, k] - best[k])[:, None] * parts[name][None, :]
        out[column] = values
    return out


#: seed offset of each fit's draws in the region bands (helium and proton as before the leptons came)
FIT_SEED_OFFSETS = {"helium": 1, "proton": 2, "leptons": 3}


#: totals: a fit's offsets beyond its validity energy are left out of them (the component's own band is open)
TOTAL_COLUMNS = ("gamma_total", "neutrino_total")


def hadronic_offsets(response: Mapping, region: str, n_samples: int, seed: int, energies_GeV=None) -> dict:
    """``{column: (n_draws, n_E)}``: the cosmic-ray fits' draws pushed through the region's response.

    Each fit (p, He and, where the response has it, the leptons) is drawn from its own covariance
    (the fits are independent; seeds ``seed +`` :data:`FIT_SEED_OFFSETS`), and the linear response
    (:mod:`galdiff.uncertainty.response`) turns every draw's offset from the best fit into an offset
    of each column it moves (pi0 and neutrinos; bremsstrahlung and IC; their share of gamma_total).
    Above a fit's ``valid_below_GeV`` (:func:`galdiff.uncertainty.response.linear_validity_energy`,
    given ``energies_GeV``) the linearisation does not hold: its own columns are NaN there (no band
    drawn) and the totals leave its part out.
    """
    out: dict = {}
    for fit, entry in sorted((response or {}).get("species", {}).items()):
        columns = entry["response"].get(region)
        if not columns or not len(entry["names"]):
            continue
        if "coefficients" in entry:  # exact draws on the response's injection basis (band_response)
            delta = np.asarray(entry["coefficients"], dtype=float)
            if delta.shape[0] != n_samples:
                raise ValueError(f"response of fit {fit!r}: {delta.shape[0]} band draws, bands.n_samples is {n_samples}")
        else:
            draws = draw_parameters(entry["best"], entry["covariance"], n_samples, seed + FIT_SEED_OFFSETS[fit])
            delta = draws - np.asarray(entry["best"])[None, :]
        beyond = None
        if energies_GeV is not None and np.isfinite(entry.get("valid_below_GeV", np.inf)):
            beyond = np.asarray(energies_GeV, dtype=float) > float(entry["valid_below_GeV"])
        for column, r in columns.items():
            offset = delta @ r
            if beyond is not None and beyond.any():
                offset[:, beyond] = 0.0 if column in TOTAL_COLUMNS else np.nan
            out[column] = out.get(column, 0.0) + offset
    return out


def drawn_region_columns(table, unscaled: Mapping, fit_summary: Mapping, *, n_samples: int, seed: int,
                         flavour_fractions: Mapping | None = None, response: Mapping | None = None,
                         region: str | None = None, scale_shifts=None) -> dict:
    """``{column: (n_draws, n_E)}`` of a fitted region table under the EXTRA draws and (with ``response``)
    the cosmic-ray draws of the p, He and lepton fits; with ``scale_shifts`` (:func:`extra_refit_shifts`)
    the EXTRA scales of draw i are refitted on cosmic-ray draw i, which correlates the two."""
    names, best, draws = extra_scale_draws(fit_summary, n_samples, seed, scale_shifts)
    derivatives = extra_derivatives(unscaled, names, flavour_fractions)
    drawn = _drawn_columns(table, derivatives, names, best, draws)
    if response is not None:
        for column, offset in hadronic_offsets(response, region or table.meta.get("region"), n_samples, seed,
                                               energies_GeV=np.asarray(table["energy"], dtype=float)).items():
            if column not in table.colnames:
                continue
            base = drawn.get(column, np.repeat(np.asarray(table[column], dtype=float)[None, :], n_samples, axis=0))
            drawn[column] = base + offset
    return drawn


def error_sources(response: Mapping | None, scale_shifts=None) -> list:
    """What a band's draws vary (recorded in the band files and summary.json)."""
    sources = ["EXTRA normalisations (extra_fit covariance)"]
    if response is not None:
        sources.append(f"{', '.join(sorted(response['species']))} injection fits (HESSE covariance) through the "
                       "linear response")
    if scale_shifts is not None:
        sources.append("the EXTRA fit redone on each cosmic-ray draw (extra_refit_shifts), which correlates the two")
    return sources


#: what the bands leave out (recorded beside error_sources)
NOT_INCLUDED = ("above a fit's valid_below_GeV its band (the linearisation in its parameters fails there) and its "
                "part of the totals' band; without refit shifts, the EXTRA fit's refit on each cosmic-ray draw")


def region_band_table(table, unscaled: Mapping, fit_summary: Mapping, *, n_samples: int, seed: int,
                      levels: Sequence[float], flavour_fractions: Mapping | None = None,
                      response: Mapping | None = None, region: str | None = None, scale_shifts=None):
    """Band table of one region: per EXTRA-dependent column the fitted value, median and intervals.

    Parameters
    ----------
    table : astropy.table.Table
        The fitted region spectra (``results/spectra/<model>/<region>.ecsv``).
    unscaled : mapping
        ``{extra1, extra2, extra1_neutrino, extra2_neutrino: array}`` region spectra at the maps' norms.
    fit_summary : mapping
        ``results/spectra/<model>/extra_fit.yaml``.

    Returns
    -------
    astropy.table.Table
        ``energy`` and ``<column>``, ``<column>_median``, ``<column>_lo<CL>``, ``<column>_hi<CL>``
        [GeV^-1 cm^-2 s^-1 sr^-1].
    """
    from astropy import units as u
    from astropy.table import Table

    from .bands import band_column

    names, best, _ = extra_scale_draws(fit_summary, n_samples, seed)
    drawn = drawn_region_columns(table, unscaled, fit_summary, n_samples=n_samples, seed=seed,
                                 flavour_fractions=flavour_fractions, response=response, region=region,
                                 scale_shifts=scale_shifts)
    unit = u.Unit("GeV-1 cm-2 s-1 sr-1")
    out = Table()
    out["energy"] = table["energy"]
    for column, values in drawn.items():
        out[column] = np.asarray(table[column], dtype=float) * unit
        out[band_column(column, "median")] = np.median(values, axis=0) * unit
        for cl in levels:
            lo, hi = central_interval(values, cl)
            out[band_column(column, "lo", cl)] = lo * unit
            out[band_column(column, "hi", cl)] = hi * unit
    for column, values in unscaled.items():  # what the derivatives were made from (the headline band reads them)
        out[f"{column}_unscaled"] = np.asarray(values, dtype=float) * unit
    out.meta.update({"model": table.meta.get("model"), "region": table.meta.get("region"),
                     "n_samples": int(n_samples), "seed": int(seed), "levels": [float(cl) for cl in levels],
                     "extra_scales": dict(zip(names, best.tolist())),
                     "error_sources": error_sources(response, scale_shifts),
                     "valid_below_GeV": {fit: (float(entry["valid_below_GeV"])
                                               if np.isfinite(entry.get("valid_below_GeV", np.inf)) else None)
                                         for fit, entry in ((response or {}).get("species") or {}).items()},
                     "not_included": NOT_INCLUDED})
    return out


def headline_band(table, unscaled: Mapping, fit_summary: Mapping, cascades, energies_GeV, *, n_samples: int,
                  seed: int, levels: Sequence[float], flavour_fractions: Mapping | None = None,
                  response: Mapping | None = None, scale_shifts=None) -> dict:
    """Headline shares (:func:`galdiff.comparison.table4.headline_numbers`) with their EXTRA-normalisation errors.

    Returns
    -------
    dict
        Per share: ``value`` (the fit's), ``error`` (half the 68 % central interval, symmetric summary),
        ``median`` and ``interval_<CL>`` (lower, upper) over the draws; ``None`` entries stay None.
    """
    from ..comparison.table4 import headline_numbers

    best_numbers = headline_numbers(table, cascades, energies_GeV)["ours"]
    drawn = drawn_region_columns(table, unscaled, fit_summary, n_samples=n_samples, seed=seed,
                                 flavour_fractions=flavour_fractions, response=response, scale_shifts=scale_shifts)
    samples = {key: [] for key in best_numbers}
    work = table.copy(copy_data=True)
    for i in range(n_samples):
        for column, values in drawn.items():
            work[column] = values[i] * table[column].unit if table[column].unit is not None else values[i]
        numbers = headline_numbers(work, cascades, energies_GeV)["ours"]
        for key in samples:
            value = numbers[key]
            if value is None and key.endswith("_hadronic"):
                # a draw with every extra scale at 0 has no extra neutrinos: "hadronic" is then the
                # leptonic number (headline_numbers returns None for a scenario it cannot form)
                value = numbers[key.removesuffix("_hadronic") + "_leptonic"]
            samples[key].append(np.nan if value is None else value)
    out = {}
    for key, value in best_numbers.items():
        if value is None:
            out[key] = None
            continue
        values = np.asarray(samples[key], dtype=float)
        entry = {"value": float(value), "median": float(np.nanmedian(values))}
        for cl in levels:
            lo, hi = central_interval(values, cl)
            entry[f"interval_{int(round(100 * cl))}"] = [float(lo), float(hi)]
        lo68, hi68 = central_interval(values, levels[0])
        entry["error"] = float(0.5 * (hi68 - lo68))
        out[key] = entry
    return {"shares": out, "n_samples": int(n_samples), "seed": int(seed),
            "error_sources": error_sources(response, scale_shifts), "not_included": NOT_INCLUDED}


def unscaled_from_band_table(band_table) -> dict:
    """The unscaled extras' region spectra a band table was made from (``<extra>_unscaled`` columns)."""
    return {c.removesuffix("_unscaled"): np.asarray(band_table[c], dtype=float)
            for c in band_table.colnames if c.endswith("_unscaled")}


def table4_ratio_band(table, unscaled: Mapping, fit_summary: Mapping, bands: Mapping, template_fits, *,
                      n_samples: int, seed: int, levels: Sequence[float], n_sigma: float = 1.0,
                      flavour_fractions: Mapping | None = None, response: Mapping | None = None,
                      scale_shifts=None) -> dict:
    """Table IV's neutrino flux ratios (model / IceCube template fit, :func:`galdiff.comparison.table4.neutrino_check`)
    over the same draws as the bands: ``{scenario: {template: {value, median, error, interval_<CL>}}}``.

    ``error`` is half the first level's central interval (the model's error only; IceCube's own error
    on the template normalisation is the ``sigma_lo``/``sigma_hi`` of Table IV's consistency test).
    """
    from ..comparison.table4 import neutrino_check

    best = neutrino_check(table, bands, template_fits, n_sigma)
    drawn = drawn_region_columns(table, unscaled, fit_summary, n_samples=n_samples, seed=seed,
                                 flavour_fractions=flavour_fractions, response=response, scale_shifts=scale_shifts)
    samples: dict = {}
    work = table.copy(copy_data=True)
    for i in range(n_samples):
        for column, values in drawn.items():
            work[column] = values[i] * table[column].unit if table[column].unit is not None else values[i]
        checked = neutrino_check(work, bands, template_fits, n_sigma)
        if checked.get("hadronic") is None:  # every extra scale drawn at 0: no extra neutrinos, as leptonic
            checked["hadronic"] = checked.get("leptonic")
        for scenario, entry in checked.items():
            for key, result in ((entry or {}).get("templates") or {}).items():
                samples.setdefault(scenario, {}).setdefault(key, []).append(result["ratio"])
    out: dict = {}
    for scenario, entry in best.items():
        if entry is None:
            out[scenario] = None
            continue
        out[scenario] = {}
        for key, result in entry["templates"].items():
            values = np.asarray(samples.get(scenario, {}).get(key, []), dtype=float)
            if values.size < n_samples:  # some draws had no such scenario (every extra scale at 0)
                out[scenario][key] = {"value": float(result["ratio"]), "error": None}
                continue
            item = {"value": float(result["ratio"]), "median": float(np.median(values))}
            for cl in levels:
                lo, hi = central_interval(values, cl)
                item[f"interval_{int(round(100 * cl))}"] = [float(lo), float(hi)]
            lo, hi = central_interval(values, levels[0])
            item["error"] = float(0.5 * (hi - lo))
            out[scenario][key] = item
    return out


def write_refit_shifts(path, names: Sequence[str], shifts, meta: Mapping | None = None) -> None:
    """The EXTRA refit shifts of the band draws (:func:`extra_refit_shifts`) as an ECSV table, a column per extra."""
    from astropy.table import Table

    from ..data.datasets import write_dataset

    table = Table()
    table["draw"] = np.arange(np.asarray(shifts).shape[0])
    for k, name in enumerate(names):
        table[name] = np.asarray(shifts, dtype=float)[:, k]
    table.meta.update({"definition": "shift of each fitted EXTRA scale when the EXTRA fit is redone on the cosmic-ray "
                                     "band draw of the same index (galdiff.uncertainty.extra_bands.extra_refit_shifts)",
                       **(meta or {})})
    write_dataset(table, path)


def read_refit_shifts(path, fit_summary: Mapping) -> np.ndarray:
    """(n_draws, k) shifts in the fit's parameter order, from :func:`write_refit_shifts`'s file."""
    from ..data.datasets import read_dataset

    table = read_dataset(path)
    names = list(fit_summary.get("parameters") or [])
    missing = [n for n in names if n not in table.colnames]
    if missing:
        raise ValueError(f"{path}: no refit shifts for the fitted extras {missing} (columns {table.colnames})")
    return np.column_stack([np.asarray(table[n], dtype=float) for n in names]) if names else np.zeros((len(table), 0))


def read_cosmic_ray_draws(response_path, refit_path, fit_summary: Mapping) -> tuple:
    """``(response, scale_shifts)`` of a model's cosmic-ray band draws, for :func:`headline_band` and
    :func:`table4_ratio_band`: the response file (:func:`galdiff.uncertainty.response.read_response_h5`) and
    the EXTRA refit shifts (:func:`read_refit_shifts`); ``(None, None)`` for a model without injection fits
    (both paths None)."""
    if response_path is None:
        return None, None
    from .response import read_response_h5

    return read_response_h5(response_path), read_refit_shifts(refit_path, fit_summary)

