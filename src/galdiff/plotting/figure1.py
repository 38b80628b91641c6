"""Figure 1: best-fit proton (top) and helium (bottom) spectra with the CR data (PAPER.md, Fig. 1).

DR-low is drawn solid and DR-high dashed; the flux is weighted by E^2.7 (E the abscissa: kinetic
energy per nucleon, or total energy per particle as air-shower experiments quote it). Each
species has a residual panel: data and the other model divided by a reference model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..data.datasets import flux_vs_ek_per_n, species_of
from ..spectra import loglog_interp
from ..units import Species, get_species
from .spectra import experiment_style
from .style import COLUMN_WIDTH_IN, apply_style

__all__ = ["MODEL_LINESTYLES", "MODEL_LABELS", "to_axis", "draw_cr_data", "plot_figure1"]

MODEL_LINESTYLES = {"dr_low": "-", "dr_high": "--"}
MODEL_LABELS = {"dr_low": "DR-low", "dr_high": "DR-high"}
_SPECIES_LABELS = {"proton": "protons", "helium": "helium", "electron": r"$e^-$", "positron": r"$e^+$"}


def to_axis(ek_GeV_per_n, flux_per_GeV_per_n, species: Species, energy_axis: str):
    """Abscissa [GeV/n or GeV] and flux per unit of it for a plot.

    ``ek_per_n``: T_n and J per (GeV/n) unchanged. ``total_energy``: E = A T_n + M per particle and
    J_E = J_T / A (EMISSION_PHYSICS.md Sec. 1.2).
    """
    ek = np.asarray(ek_GeV_per_n, dtype=float)
    flux = np.asarray(flux_per_GeV_per_n, dtype=float)
    if energy_axis == "ek_per_n":
        return ek, flux
    if energy_axis == "total_energy":
        return species.mass_number * ek + species.mass_GeV, flux / species.mass_number
    raise ValueError(f"energy_axis must be 'ek_per_n' or 'total_energy', got {energy_axis!r}")


def _axis_label(energy_axis: str, species_name: str) -> str:
    if species_name in ("electron", "positron", "electron+positron"):
        return r"$E$ [GeV]"
    return r"$E_k/n$ [GeV/n]" if energy_axis == "ek_per_n" else r"$E$ [GeV] (total, per particle)"


def draw_cr_data(ax, table, weight_exponent: float, energy_axis: str, reference=None, ax_ratio=None,
                 label: str | None = None):
    """Draw one tidy CR table as E^w-weighted points (stat and sys in quadrature); limits as arrows.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    table : astropy.table.Table
        Tidy cosmic-ray table (:mod:`galdiff.data.datasets`).
    weight_exponent : float
        w in E^w J.
    energy_axis : {"ek_per_n", "total_energy"}
    reference : tuple of arrays, optional
        (E, J) of the reference model on the same axis, for the ratio panel ``ax_ratio``.
    ax_ratio : matplotlib.axes.Axes, optional
    label : str, optional
        Legend label (default: the experiment).

    Returns
    -------
    matplotlib.container.ErrorbarContainer
    """
    species = species_of(table)
    spectrum = flux_vs_ek_per_n(table)
    energy, flux = to_axis(spectrum.ek_GeV_per_n, spectrum.flux_per_GeV_per_n, species, energy_axis)
    scale = flux / np.where(spectrum.flux_per_GeV_per_n != 0, spectrum.flux_per_GeV_per_n, 1.0)
    err_lo = np.hypot(np.nan_to_num(spectrum.stat_lo), np.nan_to_num(spectrum.sys_lo)) * scale
    err_hi = np.hypot(np.nan_to_num(spectrum.stat_hi), np.nan_to_num(spectrum.sys_hi)) * scale
    weight = energy**weight_exponent
    upper = spectrum.is_upper_limit
    experiment = str(table.meta.get("experiment", ""))
    style = experiment_style(experiment)
    good = ~upper & (flux > 0)
    container = ax.errorbar(energy[good], (weight * flux)[good],
                            yerr=[np.minimum(err_lo, 0.999 * flux)[good] * weight[good], (err_hi * weight)[good]],
                            label=label or experiment.split(" (")[0], **style)
    if np.any(upper):
        limit_style = {k: v for k, v in style.items() if k != "marker"}
        ax.errorbar(energy[upper], (weight * flux)[upper], yerr=0.3 * (weight * flux)[upper], uplims=True,
                    marker="_", **limit_style)
    if ax_ratio is not None and reference is not None:
        inside = good & (energy >= reference[0][0]) & (energy <= reference[0][-1])
        model = loglog_interp(energy[inside], reference[0], reference[1])
        ax_ratio.errorbar(energy[inside], flux[inside] / model,
                          yerr=[np.minimum(err_lo, 0.999 * flux)[inside] / model, err_hi[inside] / model], **style)
    return container


def _extend_range(current, values):
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return current
    low, high = float(values.min()), float(values.max())
    return (low, high) if current is None else (min(current[0], low), max(current[1], high))


def plot_figure1(model_curves: Mapping, data_tables: Mapping, *, energy_axis: str = "ek_per_n",
                 weight_exponent: float = 2.7, species: Sequence[str] = ("proton", "helium"),
                 reference_model: str = "dr_low", residuals: bool = True, show_lis: bool = False,
                 xlim=None):
    """Draw Figure 1.

    Parameters
    ----------
    model_curves : mapping
        ``{species: {model: {"ek_GeV_per_n": array, "flux_toa": array, "flux_lis": array (optional)}}}``:
        the best-fit modulated intensity at Earth (and the LIS) per (GeV/n) [cm^-2 s^-1 sr^-1 (GeV/n)^-1].
        Models ``dr_low`` (solid) and ``dr_high`` (dashed); others get dash-dot.
    data_tables : mapping
        ``{species: [tidy tables]}`` (Voyager 1, AMS-02, DAMPE, IceTop, KASCADE).
    energy_axis : {"ek_per_n", "total_energy"}
        Abscissa: kinetic energy per nucleon or total energy per particle.
    weight_exponent : float
        Flux weighted by E^weight_exponent (2.7 as in the paper).
    species : sequence of str
        Panel order, top to bottom.
    reference_model : str
        Model the residual panels divide by.
    residuals : bool
        Add a (data or model)/reference panel under each species.
    show_lis : bool
        Also draw the unmodulated LIS (thin dotted) where given.
    xlim : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure
        Axes in ``fig.axes``: per species the spectrum panel then (with ``residuals``) its ratio panel.
    """
    apply_style()
    n_rows = len(species) * (2 if residuals else 1)
    ratios = [3, 1] * len(species) if residuals else [1] * len(species)
    fig, axes = plt.subplots(n_rows, 1, figsize=(COLUMN_WIDTH_IN * 1.25, 2.6 * len(species) + 0.8 * residuals),
                             sharex=True, gridspec_kw={"height_ratios": ratios, "hspace": 0.06})
    axes = np.atleast_1d(axes)
    unit = "GeV/n" if energy_axis == "ek_per_n" else "GeV"
    for row, name in enumerate(species):
        ax = axes[2 * row] if residuals else axes[row]
        ax_ratio = axes[2 * row + 1] if residuals else None
        ax.set_xscale("log")
        ax.set_yscale("log")
        curves = model_curves.get(name, {})
        reference = None
        tables = list(data_tables.get(name, []))
        kin_species = get_species(name)
        for model, curve in curves.items():
            energy, flux = to_axis(curve["ek_GeV_per_n"], curve["flux_toa"], kin_species, energy_axis)
            weight = energy**weight_exponent
            style = dict(color="black", ls=MODEL_LINESTYLES.get(model, "-."), lw=1.1)
            ax.plot(energy, weight * flux, label=MODEL_LABELS.get(model, model), **style)
            if show_lis and curve.get("flux_lis") is not None:
                _, lis = to_axis(curve["ek_GeV_per_n"], curve["flux_lis"], kin_species, energy_axis)
                ax.plot(energy, weight * lis, color="gray", ls=":", lw=0.8,
                        label=f"{MODEL_LABELS.get(model, model)} LIS")
            if model == reference_model:
                reference = (energy, flux)
        data_range = None
        for table in tables:
            container = draw_cr_data(ax, table, weight_exponent, energy_axis, reference, ax_ratio)
            data_range = _extend_range(data_range, np.asarray(container.lines[0].get_ydata(), dtype=float))
        if ax_ratio is not None and reference is not None:
            for model, curve in curves.items():
                if model == reference_model:
                    continue
                energy, flux = to_axis(curve["ek_GeV_per_n"], curve["flux_toa"], kin_species, energy_axis)
                inside = (energy >= reference[0][0]) & (energy <= reference[0][-1])
                ax_ratio.plot(energy[inside], flux[inside] / loglog_interp(energy[inside], *reference),
                              color="black", ls=MODEL_LINESTYLES.get(model, "-."), lw=1.0)
            ax_ratio.axhline(1.0, color="black", lw=0.6)
            ax_ratio.set_xscale("log")
            ax_ratio.set_ylim(0.5, 1.5)
            ax_ratio.set_ylabel(f"/ {MODEL_LABELS.get(reference_model, reference_model)}")
        ax.set_ylabel(rf"$E^{{{weight_exponent:g}}} J$ [{unit}$^{{{weight_exponent - 1:g}}}$ cm$^{{-2}}$ s$^{{-1}}$ sr$^{{-1}}$]")
        if data_range is not None:  # the data set the vertical range; models may run off it
            ax.set_ylim(data_range[0] / 4.0, data_range[1] * 4.0)
        ax.text(0.5, 0.06, _SPECIES_LABELS.get(name, name), transform=ax.transAxes, ha="center")
        ax.legend(loc="upper left", ncol=2, fontsize=6)
    axes[-1].set_xlabel(_axis_label(energy_axis, species[-1]))
    if xlim is not None:
        axes[-1].set_xlim(*xlim)
    return fig
