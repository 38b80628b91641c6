"""The figure of a parameter scan (:mod:`galdiff.scans`): chi-square map or curves, reference point marked.

* a grid over two numeric parameters: maps of Delta chi2 (relative to the scan's minimum) of the CR
  fits (p + He + leptons) and, with the spectra stage, of the EXTRA fit;
* one numeric parameter: Delta chi2 curves of each CR fit and their sum, and the EXTRA fit's chi2;
* anything else (a list of points, more parameters): chi2 per point.

The reference point is the base model's value of each parameter (``paper_point`` in the table's
meta; for ``dr_high``/``dr_low`` the paper's Tables I-III), drawn as a star or a dashed line.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from .style import COLUMN_WIDTH_IN, DOUBLE_COLUMN_WIDTH_IN, apply_style

__all__ = ["plot_scan"]

_FIT_STYLES = {"proton": ("C0", "p"), "helium": ("C1", "He"), "leptons": ("C2", r"$e^\pm$")}


def _numeric(table, name) -> bool:
    return np.issubdtype(np.asarray(table[name]).dtype, np.number)


def _is_log(values) -> bool:
    values = np.asarray(values, dtype=float)
    return bool(np.all(values > 0) and values.max() / values.min() > 5)


def _label(parameter: str) -> str:
    return parameter.replace("_1e28_cm2_per_s", r" [$10^{28}$ cm$^2$ s$^{-1}$]").replace("_km_per_s", " [km/s]") \
        .replace("_kpc", " [kpc]").replace("_GeV", " [GeV]").replace("_GV", " [GV]")


def _set_scale(ax, which: str, values) -> None:
    """Log scale (major labels only) for positive values spanning more than a factor 5, else linear."""
    if _is_log(values):
        getattr(ax, f"set_{which}scale")("log")
        getattr(ax, f"{which}axis").set_minor_formatter(NullFormatter())


def _delta(values):
    values = np.asarray(values, dtype=float)
    return values - np.nanmin(values)


def _panels(table):
    """(column, title) of the panels: the CR fits' sum and, where present, the EXTRA fit."""
    panels = [("chi2_cr", r"CR fits (p + He + $e^\pm$)")]
    if "chi2_extra" in table.colnames:
        panels.append(("chi2_extra", "EXTRA fit"))
    return panels


def _map_figure(table, parameters, paper):
    x_name, y_name = parameters
    xs, ys = np.unique(np.asarray(table[x_name], float)), np.unique(np.asarray(table[y_name], float))
    panels = _panels(table)
    fig, axes = plt.subplots(1, len(panels), figsize=(DOUBLE_COLUMN_WIDTH_IN * len(panels) / 2, 2.8), squeeze=False)
    for ax, (column, title) in zip(axes[0], panels):
        grid = np.full((len(ys), len(xs)), np.nan)
        delta = _delta(table[column])
        for x, y, value in zip(np.asarray(table[x_name], float), np.asarray(table[y_name], float), delta):
            grid[np.searchsorted(ys, y), np.searchsorted(xs, x)] = value
        mesh = ax.pcolormesh(xs, ys, grid, shading="nearest", cmap="viridis_r")
        for (j, i), value in np.ndenumerate(grid):
            if np.isfinite(value):
                ax.text(xs[i], ys[j], f"{value:.1f}", ha="center", va="center", fontsize=6,
                        color="white" if value > 0.5 * np.nanmax(grid) else "black")
        fig.colorbar(mesh, ax=ax, label=rf"$\Delta\chi^2$ (min {np.nanmin(np.asarray(table[column], float)):.1f})")
        if x_name in paper and y_name in paper:
            ax.plot(paper[x_name], paper[y_name], marker="*", ms=10, mfc="none", mec="red", mew=1.2, ls="none",
                    label="paper (base model)")
            ax.legend(loc="best", fontsize=6)
        _set_scale(ax, "x", xs)
        _set_scale(ax, "y", ys)
        ax.set_xlabel(_label(x_name))
        ax.set_ylabel(_label(y_name))
        ax.set_title(title)
    return fig


def _curve_figure(table, parameter, paper):
    x = np.asarray(table[parameter], float)
    order = np.argsort(x)
    panels = _panels(table)
    fig, axes = plt.subplots(1, len(panels), figsize=(COLUMN_WIDTH_IN * len(panels), 2.6), squeeze=False)
    ax = axes[0][0]
    for name, (colour, label) in _FIT_STYLES.items():
        ax.plot(x[order], _delta(table[f"chi2_{name}"])[order], "o-", color=colour, ms=3, lw=0.9, label=label)
    ax.plot(x[order], _delta(table["chi2_cr"])[order], "s-", color="k", ms=3, lw=1.4, label="sum")
    ax.set_ylabel(r"$\Delta\chi^2$ of the CR fits")
    if len(panels) > 1:
        ax2 = axes[0][1]
        chi2 = np.asarray(table["chi2_extra"], float)
        ax2.plot(x[order], chi2[order], "o-", color="C3", ms=3, label="EXTRA fit")
        ax2.set_ylabel(rf"$\chi^2$ of the EXTRA fit (ndof {int(np.max(table['ndof_extra']))})")
    for ax in axes[0]:
        if parameter in paper:
            ax.axvline(float(paper[parameter]), color="red", ls="--", lw=0.8, label="paper (base model)")
        _set_scale(ax, "x", x)
        ax.set_xlabel(_label(parameter))
        ax.legend(loc="best")
    return fig


def _point_figure(table, parameters, paper):
    index = np.arange(len(table))
    panels = _panels(table)
    fig, axes = plt.subplots(1, len(panels), figsize=(COLUMN_WIDTH_IN * len(panels), 2.6), squeeze=False)
    labels = [", ".join(f"{table[p][i]}" for p in parameters) for i in index]
    reference = [i for i in index if all(p in paper and str(table[p][i]) == str(paper[p]) for p in parameters)]
    for ax, (column, title) in zip(axes[0], panels):
        delta = _delta(table[column])
        ax.plot(index, delta, "o", color="k", ms=4)
        for i in reference:
            ax.plot(i, delta[i], marker="*", ms=10, mfc="none", mec="red", ls="none", label="paper (base model)")
        ax.set_xticks(index, labels, rotation=45, ha="right", fontsize=6)
        ax.set_xlabel(" / ".join(_label(p) for p in parameters))
        ax.set_ylabel(r"$\Delta\chi^2$")
        ax.set_title(title)
        if reference:
            ax.legend(loc="best")
    return fig


def plot_scan(table):
    """Figure of one scan table (:func:`galdiff.scans.scan_table`): see the module docstring.

    Parameters
    ----------
    table : astropy.table.Table
        A ``results/scans/<scan>.ecsv`` table (meta ``parameters``, ``paper_point``, ``kind``, ``scan``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    apply_style()
    parameters = list(table.meta["parameters"])
    paper = dict(table.meta.get("paper_point") or {})
    numeric = all(_numeric(table, p) for p in parameters)
    if table.meta.get("kind") == "grid" and numeric and len(parameters) == 2 \
            and len(table) == len(np.unique(table[parameters[0]])) * len(np.unique(table[parameters[1]])):
        fig = _map_figure(table, parameters, paper)
    elif numeric and len(parameters) == 1:
        fig = _curve_figure(table, parameters[0], paper)
    else:
        fig = _point_figure(table, parameters, paper)
    fig.axes[0].set_title(f"scan {table.meta['scan']} (base {table.meta['base']}): " + fig.axes[0].get_title(),
                          fontsize=8)
    return fig
