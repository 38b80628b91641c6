"""Drawing measured spectra and model bands on E^2-weighted axes, shared by all spectrum figures."""

from __future__ import annotations

import numpy as np
from astropy import units as u

from ..conventions import INTENSITY_UNIT

from .style import EXPERIMENT_STYLE

E2_FLUX_UNIT = u.Unit("GeV cm-2 s-1 sr-1")


def e2_points(table):
    """E [GeV], E^2 dN/dE and its lower/upper total errors [GeV cm^-2 s^-1 sr^-1] of a gamma/neutrino table.

    Tidy gamma-ray tables carry ``e2flux``, ``e2flux_lo_err`` and ``e2flux_hi_err`` (stat and sys
    in quadrature; a missing systematic counts as zero).
    """
    columns = ("e2flux", "e2flux_lo_err", "e2flux_hi_err")
    e2 = (np.nan_to_num(table[name].quantity.to_value(E2_FLUX_UNIT)) for name in columns)
    return (table["energy"].quantity.to_value(u.GeV), *e2)


def experiment_style(experiment: str) -> dict:
    """Marker style of an experiment; names like 'IceTop+IceCube (Sibyll 2.1)' match 'IceTop'."""
    for name, style in EXPERIMENT_STYLE.items():
        if experiment.startswith(name):
            return dict(style)
    return dict(marker="o", ls="none", ms=3)


def plot_e2_points(ax, table, label=None, **style_overrides):
    """Error-bar plot of a tidy gamma-ray/neutrino table; upper limits drawn as arrows."""
    energy_GeV, e2, err_lo, err_hi = e2_points(table)
    _draw_points(ax, table, energy_GeV, e2, err_lo, err_hi, label, style_overrides)


def _draw_points(ax, table, energy_GeV, values, err_lo, err_hi, label, style_overrides):
    """Points with asymmetric errors (lower bars stop short of zero on a log axis), x bars over the
    table's energy bins where it has them, and upper limits as arrows."""
    experiment = table.meta.get("experiment", "")
    style = experiment_style(experiment)
    style.update(style_overrides)
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
        values[detected],
        yerr=[np.minimum(err_lo[detected], 0.999 * values[detected]), err_hi[detected]],
        xerr=None if xerr is None else xerr[:, detected],
        label=label or experiment,
        **style,
    )
    if upper.any():
        ax.errorbar(
            energy_GeV[upper], values[upper], yerr=0.4 * values[upper], uplims=True,
            **{k: v for k, v in style.items() if k != "marker"}, marker="_",
        )


def plot_band(ax, energy_GeV, lower, upper, best=None, label=None, color="tab:blue", alpha=0.3):
    """A shaded band between ``lower`` and ``upper`` with an optional best-fit line."""
    ax.fill_between(energy_GeV, lower, upper, color=color, alpha=alpha, lw=0, label=label)
    if best is not None:
        ax.plot(energy_GeV, best, color=color, lw=0.8)


def plot_weighted_points(ax, table, weight_exponent: float = 2.0, label=None, **style_overrides):
    """Error-bar plot of a tidy gamma-ray table as E^w dN/dE [GeV^(w-1) cm^-2 s^-1 sr^-1].

    Errors are stat and sys in quadrature (``flux_lo_err``, ``flux_hi_err``); x error bars span the
    energy bin where the table has one; upper limits are arrows. w = 2 gives :func:`plot_e2_points`.
    """
    energy = table["energy"].quantity.to_value(u.GeV)
    flux_unit = INTENSITY_UNIT
    flux, err_lo, err_hi = (np.nan_to_num(table[name].quantity.to_value(flux_unit))
                            for name in ("flux", "flux_lo_err", "flux_hi_err"))
    weight = energy**weight_exponent
    _draw_points(ax, table, energy, weight * flux, weight * err_lo, weight * err_hi, label, style_overrides)


def weighted_flux_label(weight_exponent: float, quantity: str = r"\mathrm{d}N/\mathrm{d}E") -> str:
    """Axis label of E^w dN/dE with its unit."""
    if weight_exponent == 2:
        return rf"$E^2\,{quantity}$ [GeV cm$^{{-2}}$ s$^{{-1}}$ sr$^{{-1}}$]"
    return (rf"$E^{{{weight_exponent:g}}}\,{quantity}$ [GeV$^{{{weight_exponent - 1:g}}}$ cm$^{{-2}}$ s$^{{-1}}$ "
            r"sr$^{-1}$]")


#: line weight and opacity of the as-printed twin's components beside the refit's (same colour and style)
AS_PRINTED_COMPONENT_LW, AS_PRINTED_ALPHA = 0.6, 0.6


def plot_component_curves(ax, energy_GeV, columns, styles, weight, *, total: str, in_range=None,
                          scales=None, as_printed: bool = False, name_of=None) -> float:
    """Draw each non-zero component of one model (weighted); return the peak of its total in ``in_range``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    energy_GeV : array
    columns : mapping
        component -> intensity array on ``energy_GeV``.
    styles : mapping
        component -> (label, colour, line style), in drawing order.
    weight : array
        Factor on the intensities (E^w, or E^2 / 3 for per-flavour neutrinos).
    total : str
        The total's component name (drawn heavier).
    in_range : array of bool, optional
    scales : mapping, optional
        component -> fitted EXTRA scale, added to the label.
    as_printed : bool
        The paper's parameters as printed: thin and faint in the same colour and style, and only the
        total labelled ("... as printed"), so the refit and the printed model read at one glance.
    name_of : callable, optional
        Formats a label (e.g. fills in the model name).
    """
    peak = 0.0
    in_range = np.ones(len(energy_GeV), dtype=bool) if in_range is None else in_range
    for component, (label, color, linestyle) in styles.items():
        if component not in columns or not np.any(np.asarray(columns[component]) > 0):
            continue  # e.g. EXTRA2 of DR-high, a leptonic extra's neutrinos
        values = weight * columns[component]
        label = name_of(label) if name_of else label
        if scales and component in scales:
            label = f"{label} (fitted x{scales[component]:.2g})"
        if as_printed:
            style = dict(lw=AS_PRINTED_COMPONENT_LW * (1.3 if component == total else 1.0), alpha=AS_PRINTED_ALPHA)
            label = f"{label}, as printed" if component == total else None
        else:
            style = dict(lw=1.3 if component == total else 1.0)
        ax.plot(energy_GeV, np.where(values > 0, values, np.nan), color=color, ls=linestyle, label=label, **style)
        if component == total and np.any(in_range):
            peak = max(peak, float(values[in_range].max()))
    return peak


def draw_component_bands(ax, band_table, styles, weight_of, *, model: str = "", as_printed: bool = False) -> None:
    """Shade each component's uncertainty band (:mod:`galdiff.uncertainty`) in the component's colour.

    Parameters
    ----------
    band_table : astropy.table.Table or None
        A band table (``energy``, ``<component>_lo<CL>`` / ``_hi<CL>``, meta ``levels``); None draws nothing.
    styles : mapping
        component -> (label, colour, line style), as for :func:`plot_component_curves`.
    weight_of : callable
        Energy [GeV] -> factor on the intensities (E^w, or E^2 / 3 for per-flavour neutrinos).
    as_printed : bool
        The as-printed twin's band (lighter, :data:`galdiff.plotting.style.BAND_AS_PRINTED_FACTOR`).
    """
    from ..uncertainty.bands import band_levels
    from .style import draw_band

    if band_table is None:
        return
    energy = band_table["energy"].quantity.to_value("GeV")
    weight = weight_of(energy)
    printed_of = {model: model} if as_printed else None
    for component, (_, colour, _) in styles.items():
        if f"{component}_median" not in band_table.colnames or not np.any(np.asarray(band_table[component]) > 0):
            continue  # no band, or a component the figure does not draw (zero, e.g. an extra fitted to 0)
        levels = band_levels(band_table, component)
        for index in reversed(range(len(levels))):
            lower, upper = levels[index]
            if not np.any(upper > lower):
                continue
            draw_band(ax, energy, weight * lower, weight * upper, model, printed_of, level_index=index, color=colour)
