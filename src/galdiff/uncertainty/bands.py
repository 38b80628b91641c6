"""Bands of the local cosmic-ray spectra (Figures 1, 2) from the injection fits' covariances.

Every draw of a fit's parameters (:func:`galdiff.uncertainty.sampling.draw_parameters`, in the
fit's internal parameters) is propagated exactly: the interstellar intensity at the Sun is
J = G Q(theta) through the fit's own Green's matrix (:class:`galdiff.fitting.NucleusModel`), one
matrix-vector product per draw, and modulated with the draw's own Phi. No linearisation is needed
at this stage; the bands are pointwise central intervals over the draws. The nuisance scales of the
data (``scale_*``) are drawn with the rest (they are correlated with the normalisations) and then
left out, which marginalises over them.

The as-printed models (``injection.mode: as_printed``) have only their normalisations (and the
nuisance scales) free: their covariance is that block, and their band is the normalisation's error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .. import units as kin
from ..fitting import EXTRA_NORM_PARAM, NORM_PARAM, LeptonModel, NucleusModel, spectra_at_earth
from .sampling import central_interval, draw_parameters

__all__ = ["rebuild_fit_model", "internal_best_and_limits", "local_spectra_draws", "local_band_table", "band_levels",
           "band_column"]


def band_column(name: str, kind: str, cl: float | None = None) -> str:
    """Column name of a band table: ``<name>_median``, ``<name>_lo68``, ``<name>_hi95`` ..."""
    if kind == "median":
        return f"{name}_median"
    return f"{name}_{kind}{int(round(100 * cl))}"


def rebuild_fit_model(fit_name: str, model_cfg: Mapping, greens: tuple, secondary_lis: Mapping | None = None):
    """The model object a fit of the workflow used (same start values, limits and Green's matrix).

    Parameters
    ----------
    fit_name : {"proton", "helium", "leptons"}
    model_cfg : mapping
        ``models.<model>`` (its ``injection`` entries give the start values and thereby the limits).
    greens : tuple
        ``(ek_GeV_per_n, G)`` of the species (electrons for the lepton fit).
    secondary_lis : mapping, optional
        Leptons: ``{"electron", "positron"}`` secondary LIS on the electron grid.
    """
    ek, green = greens
    injection = model_cfg["injection"]
    if fit_name in ("proton", "helium"):
        return NucleusModel(kin.get_species(fit_name), ek, green, injection[fit_name])
    if fit_name != "leptons":
        raise ValueError(f"fit name must be proton, helium or leptons, got {fit_name!r}")
    # as fitting.fit_lepton_injection: a flux is >= 0 (the secondaries dip below at the 1e-4 level)
    secondary = {name: np.clip(np.asarray(lis, dtype=float), 0.0, None) for name, lis in (secondary_lis or {}).items()}
    return LeptonModel(ek, green, {"electron": injection["electron"], "positron": injection["positron"]},
                       secondary_lis=secondary, c_eplus_start=float(injection["positron"].get("c_eplus", 1.0)))


def internal_best_and_limits(model: NucleusModel, fit_entry: Mapping):
    """Best-fit internal vector, covariance and per-parameter internal limits of one fit.

    Parameters
    ----------
    model : NucleusModel or LeptonModel
        From :func:`rebuild_fit_model`.
    fit_entry : mapping
        ``fits.<fit>`` of ``results/fit/<model>/injection_<fit>.yaml``: ``internal_names``,
        ``params`` (reported values, nuisance scales included) and ``covariance_internal``.

    Returns
    -------
    names : list of str
    best : ndarray
    covariance : ndarray
    limits : list of (lo, hi) or None
        The fit's limits of the spectral parameters (breaks in their intervals, Phi >= 0, ...): draws
        are clipped into them. None for the nuisance scales and the normalisations.
    """
    names = list(fit_entry["internal_names"])
    if fit_entry.get("covariance_internal") is None:
        raise ValueError(f"fit {fit_entry.get('fit')!r}: no covariance (HESSE failed); no band can be drawn")
    covariance = np.asarray(fit_entry["covariance_internal"], dtype=float)
    if covariance.shape != (len(names), len(names)):
        raise ValueError(f"fit {fit_entry.get('fit')!r}: covariance {covariance.shape} does not match "
                         f"{len(names)} internal parameters")
    by_internal = {p.internal_name: p for p in model.params}
    params = fit_entry["params"]
    best, limits = [], []
    for name in names:
        param = by_internal.get(name)
        reported = name.removeprefix("log10_") if param is None else param.name
        value = float(params[reported])
        if param is None:  # a nuisance scale: linear, no limit that matters here
            best.append(value)
            limits.append(None)
            continue
        best.append(param.to_internal(value))
        # the normalisations' limits (+-3 dex around the fitter's own start estimate) are not physical
        lim = None if param.name in (NORM_PARAM, EXTRA_NORM_PARAM) else param.limits
        limits.append(None if lim is None else
                      (param.to_internal(lim[0]) if not (param.log and lim[0] <= 0) else None, param.to_internal(lim[1])))
    return names, np.asarray(best), covariance, limits


def _values(names: Sequence[str], internal) -> dict:
    return {name.removeprefix("log10_"): (10.0**x if name.startswith("log10_") else float(x))
            for name, x in zip(names, internal)}


def local_spectra_draws(model: NucleusModel, fit_entry: Mapping, ek_GeV_per_n, n_samples: int, seed: int) -> dict:
    """Spectra of every component for each parameter draw, and for the best fit.

    Returns
    -------
    dict
        ``{"best": spectra_at_earth(...), "draws": {component: {"flux_lis": (n, m), "flux_toa": (n, m)}},
        "n_clipped": draws moved into the fit's limits}``.
    """
    names, best, covariance, limits = internal_best_and_limits(model, fit_entry)
    draws = draw_parameters(best, covariance, n_samples, seed)
    clipped = draw_parameters(best, covariance, n_samples, seed, limits=limits)
    n_clipped = int(np.count_nonzero(np.any(clipped != draws, axis=1)))
    best_spectra = spectra_at_earth(model, _values(names, best), ek_GeV_per_n)
    nan = np.full(np.shape(ek_GeV_per_n), np.nan)
    out = {c: {"flux_lis": [], "flux_toa": []} for c in best_spectra}
    for theta in clipped:
        try:
            spectra = spectra_at_earth(model, _values(names, theta), ek_GeV_per_n)
        except ValueError:  # a draw whose propagated spectrum vanishes at the pivot (extreme tail): NaN
            spectra = {c: {"flux_lis": nan, "flux_toa": nan} for c in best_spectra}
        for component, entry in out.items():
            for key in ("flux_lis", "flux_toa"):
                entry[key].append(spectra[component][key])
    draws_out = {c: {k: np.asarray(v) for k, v in entry.items()} for c, entry in out.items()}
    return {"best": best_spectra, "draws": draws_out,
            "n_clipped": n_clipped}


def local_band_table(model: NucleusModel, fit_entry: Mapping, ek_GeV_per_n, *, n_samples: int, seed: int,
                     levels: Sequence[float]):
    """The band table of one fit: per component and LIS/modulated the best fit, median and intervals.

    Columns ``ek_GeV_per_n`` and, for every component of :func:`galdiff.fitting.spectra_at_earth`
    and ``q`` in (``lis``, ``toa``): ``<component>_<q>`` (best fit), ``<component>_<q>_median`` and
    ``<component>_<q>_lo<CL>``/``_hi<CL>`` for every level, in cm^-2 s^-1 sr^-1 (GeV/n)^-1.
    Meta: ``n_samples``, ``seed``, ``levels``, ``free_parameters``, ``n_clipped``.
    """
    from astropy import units as u
    from astropy.table import Table

    result = local_spectra_draws(model, fit_entry, ek_GeV_per_n, n_samples, seed)
    table = Table()
    table["ek_GeV_per_n"] = np.asarray(ek_GeV_per_n, dtype=float) * u.GeV
    flux_unit = u.Unit("cm-2 s-1 sr-1 GeV-1")
    for component, arrays in result["draws"].items():
        for key, short in (("flux_lis", "lis"), ("flux_toa", "toa")):
            name = f"{component}_{short}"
            values = arrays[key]
            table[name] = result["best"][component][key] * flux_unit
            table[band_column(name, "median")] = np.nanmedian(values, axis=0) * flux_unit
            for cl in levels:
                lo, hi = central_interval(values, cl)
                table[band_column(name, "lo", cl)] = lo * flux_unit
                table[band_column(name, "hi", cl)] = hi * flux_unit
    covariance = np.asarray(fit_entry["covariance_internal"], dtype=float)
    table.meta.update({"fit": fit_entry.get("fit"), "n_samples": int(n_samples), "seed": int(seed),
                       "levels": [float(cl) for cl in levels],
                       "free_parameters": [n for n, c in zip(fit_entry["internal_names"], np.diag(covariance)) if c > 0],
                       "n_clipped": result["n_clipped"], "at_limit": list(fit_entry.get("at_limit") or []),
                       "method": "draws from N(best, HESSE covariance) in the fit's internal parameters, each "
                                 "propagated as J = G Q and force-field modulated; pointwise central intervals"})
    return table


def band_levels(table, name: str) -> list:
    """``[(lower, upper), ...]`` of column ``name`` of a band table, in the order of its ``levels`` meta."""
    return [(np.asarray(table[band_column(name, "lo", cl)], dtype=float),
             np.asarray(table[band_column(name, "hi", cl)], dtype=float)) for cl in table.meta["levels"]]


#: energies [GeV/n] at which summary.json quotes the local bands' relative half-widths
SUMMARY_ENERGIES_GEV_PER_N = (10.0, 1.0e3, 1.0e5, 1.0e6)


def relative_half_widths(table, name: str, energies_GeV_per_n=SUMMARY_ENERGIES_GEV_PER_N) -> dict:
    """``{energy: half width of the first level's interval / best fit}`` of column ``name`` (log-log
    interpolated in the band table; energies off its grid are left out)."""
    from ..spectra import loglog_interp

    ek = np.asarray(table["ek_GeV_per_n"], dtype=float)
    cl = table.meta["levels"][0]
    best = np.asarray(table[name], dtype=float)
    lo = np.asarray(table[band_column(name, "lo", cl)], dtype=float)
    hi = np.asarray(table[band_column(name, "hi", cl)], dtype=float)
    out = {}
    for energy in energies_GeV_per_n:
        good = np.isfinite(best) & (best > 0) & np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
        if not good.any() or not ek[good][0] <= energy <= ek[good][-1]:
            continue
        values = [float(loglog_interp(energy, ek[good], v[good])) for v in (best, lo, hi)]
        out[f"{energy:g}"] = 0.5 * (values[2] - values[1]) / values[0]
    return out
