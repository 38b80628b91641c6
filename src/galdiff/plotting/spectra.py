"""Drawing measured spectra and model bands on E^2-weighted axes, shared by all spectrum figures."""

from __future__ import annotations

import numpy as np
from astropy import units as u

from .style import EXPERIMENT_STYLE

E2_FLUX_UNIT = u.Unit("GeV cm-2 s-1 sr-1")


def _column_or_zero(table, name, unit):
    if name in table.colnames:
        return np.nan_to_num(table[name].quantity.to_value(unit))
    return np.zeros(len(table))


def flux_errors_quadrature(table):
    """Lower and upper total errors on ``flux`` (stat and sys in quadrature), in the flux unit."""
    unit = table["flux"].unit
    stat_lo = _column_or_zero(table, "stat_lo", unit)
    stat_hi = _column_or_zero(table, "stat_hi", unit)
    sys_lo = _column_or_zero(table, "sys_lo", unit)
    sys_hi = _column_or_zero(table, "sys_hi", unit)
    return np.hypot(stat_lo, sys_lo), np.hypot(stat_hi, sys_hi)


def e2_points(table):
    """E [GeV], E^2 dN/dE and its lower/upper errors [GeV cm^-2 s^-1 sr^-1] of a gamma/neutrino table."""
    energy_GeV = table["energy"].quantity.to_value(u.GeV)
    flux = table["flux"].quantity
    e2 = (table["energy"].quantity ** 2 * flux).to_value(E2_FLUX_UNIT)
    err_lo, err_hi = flux_errors_quadrature(table)
    scale = (table["energy"].quantity ** 2 * flux.unit).to_value(E2_FLUX_UNIT)
    return energy_GeV, e2, err_lo * scale, err_hi * scale


def plot_e2_points(ax, table, label=None, **style_overrides):
    """Error-bar plot of a tidy gamma-ray/neutrino table; upper limits drawn as arrows."""
    experiment = table.meta.get("experiment", "")
    style = dict(EXPERIMENT_STYLE.get(experiment, dict(marker="o", ls="none", ms=3)))
    style.update(style_overrides)
    energy_GeV, e2, err_lo, err_hi = e2_points(table)
    upper = np.asarray(table["is_upper_limit"], dtype=bool) if "is_upper_limit" in table.colnames else np.zeros(len(table), bool)
    xerr = None
    if "energy_lo" in table.colnames and "energy_hi" in table.colnames:
        lo = table["energy_lo"].quantity.to_value(u.GeV)
        hi = table["energy_hi"].quantity.to_value(u.GeV)
        if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
            xerr = np.vstack([energy_GeV - lo, hi - energy_GeV])
    detected = ~upper
    ax.errorbar(
        energy_GeV[detected],
        e2[detected],
        yerr=[np.minimum(err_lo[detected], 0.999 * e2[detected]), err_hi[detected]],
        xerr=None if xerr is None else xerr[:, detected],
        label=label or experiment,
        **style,
    )
    if upper.any():
        ax.errorbar(
            energy_GeV[upper], e2[upper], yerr=0.4 * e2[upper], uplims=True,
            **{k: v for k, v in style.items() if k not in ("marker",)}, marker="_",
        )


def plot_band(ax, energy_GeV, lower, upper, best=None, label=None, color="tab:blue", alpha=0.3):
    """A shaded band between ``lower`` and ``upper`` with an optional best-fit line."""
    ax.fill_between(energy_GeV, lower, upper, color=color, alpha=alpha, lw=0, label=label)
    if best is not None:
        ax.plot(energy_GeV, best, color=color, lw=0.8)
