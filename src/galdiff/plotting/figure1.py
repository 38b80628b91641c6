"""Figure 1: best-fit proton (top) and helium (bottom) spectra with the CR data (docs/paper.md#figures-and-tables).

Each model has its colour (DR-low blue, DR-high red): the refit solid, the paper's parameters as
printed (Table II) thin dashed in the same colour. The flux is weighted by E^2.7 (E the abscissa:
kinetic energy per nucleon, or total energy per particle as air-shower experiments quote it). The
vertical range is set by the data above ``inset_below_GeV`` (AMS-02 to the knee), so the features
the fit is about (R1 hardening, R2, R3 softening, the knees) fill the panel; Voyager 1 sits in an
inset with the interstellar curves. Each species has a residual panel: data and the other
models divided by a reference model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..data.datasets import flux_vs_ek_per_n, species_of
from ..spectra import loglog_interp
from ..units import Species, get_species
from .spectra import experiment_style
from .style import COLUMN_WIDTH_IN, apply_style, draw_band, model_label, model_line_style

__all__ = ["to_axis", "draw_cr_data", "plot_figure1"]

_SPECIES_LABELS = {"proton": "protons", "helium": "helium", "electron": r"$e^-$", "positron": r"$e^+$"}


def to_axis(ek_GeV_per_n, flux_per_GeV_per_n, species: Species, energy_axis: str):
    """Abscissa [GeV/n or GeV] and flux per unit of it for a plot.

    ``ek_per_n``: T_n and J per (GeV/n) unchanged. ``total_energy``: E = A T_n + M per particle and
    J_E = J_T / A (docs/conventions.md#kinematics-of-nuclei).
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
                 xlim=None, printed_of: Mapping | None = None, inset_below_GeV: float | None = 1.0,
                 bands: Mapping | None = None):
    """Draw Figure 1.

    Parameters
    ----------
    model_curves : mapping
        ``{species: {model: {"ek_GeV_per_n": array, "flux_toa": array, "flux_lis": array (optional)}}}``:
        the best-fit modulated intensity at Earth (and the LIS) per (GeV/n) [cm^-2 s^-1 sr^-1 (GeV/n)^-1].
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
        Also draw the unmodulated LIS (thin dotted) of the refit models where given (in the inset
        too, where Voyager 1 measures it).
    xlim : (float, float), optional
        Abscissa of the main panels (default: ``inset_below_GeV`` to the last model energy).
    printed_of : mapping, optional
        ``{as-printed model: its refit model}``: drawn thin dashed in the refit's colour
        (:func:`galdiff.plotting.style.model_line_style`).
    inset_below_GeV : float or None
        Data sets entirely below this kinetic energy per nucleon [GeV/n] (Voyager 1) go to an inset
        with their own range; the main panels start there and their vertical range is set by the
        other data. None: one panel for all.
    bands : mapping, optional
        ``{species: {model: {"ek_GeV_per_n": array, "levels": [(lower, upper), ...]}}}``: the modulated
        flux's central intervals (:mod:`galdiff.uncertainty`, widest last), shaded in the model's colour
        (:func:`galdiff.plotting.style.draw_band`) in the spectrum and the ratio panel.

    Returns
    -------
    matplotlib.figure.Figure
        Axes in ``fig.axes``: per species the spectrum panel then (with ``residuals``) its ratio
        panel; then the insets.
    """
    apply_style()
    printed_of = dict(printed_of or {})
    n_rows = len(species) * (2 if residuals else 1)
    ratios = [3, 1] * len(species) if residuals else [1] * len(species)
    fig, axes = plt.subplots(n_rows, 1, figsize=(COLUMN_WIDTH_IN * 1.25, 2.9 * len(species) + 0.8 * residuals),
                             sharex=True, gridspec_kw={"height_ratios": ratios, "hspace": 0.06})
    axes = np.atleast_1d(axes)
    unit = "GeV/n" if energy_axis == "ek_per_n" else "GeV"
    insets = []
    x_max = None
    for row, name in enumerate(species):
        ax = axes[2 * row] if residuals else axes[row]
        ax_ratio = axes[2 * row + 1] if residuals else None
        ax.set_xscale("log")
        ax.set_yscale("log")
        curves = model_curves.get(name, {})
        reference = None
        kin_species = get_species(name)
        tables, low_tables = [], []
        for table in data_tables.get(name, []):
            # by kinetic energy per nucleon, whatever the axis: Voyager 1 is below 1 GeV/n
            energy = flux_vs_ek_per_n(table).ek_GeV_per_n
            is_low = inset_below_GeV is not None and float(np.max(energy)) < inset_below_GeV
            (low_tables if is_low else tables).append(table)
        inset = ax.inset_axes([0.07, 0.07, 0.3, 0.34]) if low_tables else None
        for model, curve in curves.items():
            energy, flux = to_axis(curve["ek_GeV_per_n"], curve["flux_toa"], kin_species, energy_axis)
            weight = energy**weight_exponent
            style = model_line_style(model, printed_of)
            label = model_label(model, printed_of)
            x_max = float(energy.max()) if x_max is None else max(x_max, float(energy.max()))
            ax.plot(energy, weight * flux, label=label, **style)
            _draw_flux_bands(ax, (bands or {}).get(name, {}).get(model), kin_species, energy_axis, weight_exponent,
                             model, printed_of)
            if show_lis and curve.get("flux_lis") is not None:
                _, lis = to_axis(curve["ek_GeV_per_n"], curve["flux_lis"], kin_species, energy_axis)
                if model not in printed_of:
                    ax.plot(energy, weight * lis, color=style["color"], ls=":", lw=0.8, label=f"{label} LIS")
                if inset is not None:  # Voyager 1 measures the LIS: the inset draws the LIS of every model
                    inset.plot(energy, weight * lis, **style)
            if model == reference_model:
                reference = (energy, flux)
        data_range = None
        for table in tables:
            container = draw_cr_data(ax, table, weight_exponent, energy_axis, reference, ax_ratio)
            data_range = _extend_range(data_range, np.asarray(container.lines[0].get_ydata(), dtype=float))
        if inset is not None:
            _draw_inset(inset, low_tables, weight_exponent, energy_axis, inset_below_GeV)
            insets.append(inset)
        if ax_ratio is not None and reference is not None:
            for model, curve in curves.items():
                if model == reference_model:
                    continue
                energy, flux = to_axis(curve["ek_GeV_per_n"], curve["flux_toa"], kin_species, energy_axis)
                inside = (energy >= reference[0][0]) & (energy <= reference[0][-1])
                ax_ratio.plot(energy[inside], flux[inside] / loglog_interp(energy[inside], *reference),
                              **model_line_style(model, printed_of))
            for model in curves:
                _draw_flux_bands(ax_ratio, (bands or {}).get(name, {}).get(model), kin_species, energy_axis, 0.0,
                                 model, printed_of, divide_by=reference)
            ax_ratio.axhline(1.0, color="black", lw=0.6)
            ax_ratio.set_xscale("log")
            ax_ratio.set_ylim(0.5, 1.5)
            ax_ratio.set_ylabel(f"/ {model_label(reference_model, printed_of)}", fontsize=6)
        ax.set_ylabel(rf"$E^{{{weight_exponent:g}}} J$ [{unit}$^{{{weight_exponent - 1:g}}}$ cm$^{{-2}}$ s$^{{-1}}$ sr$^{{-1}}$]")
        if data_range is not None:  # the data above the inset set the vertical range; models may run off it
            # (room above the data for the legend)
            ax.set_ylim(data_range[0] / 2.0, data_range[1] * 10.0)
        ax.text(0.97, 0.06, _SPECIES_LABELS.get(name, name), transform=ax.transAxes, ha="right")
        ax.legend(loc="upper center", ncol=3, fontsize=4.8, frameon=False, columnspacing=0.8, handlelength=1.8)
    axes[-1].set_xlabel(_axis_label(energy_axis, species[-1]))
    if xlim is not None:
        axes[-1].set_xlim(*xlim)
    elif inset_below_GeV is not None and x_max is not None:
        axes[-1].set_xlim(inset_below_GeV, x_max)
    return fig


def _draw_flux_bands(ax, band, species: Species, energy_axis: str, weight_exponent: float, model: str,
                     printed_of: Mapping, divide_by=None) -> None:
    """Shade one model's band levels (widest first, so the narrow one lies on top); optionally as a ratio."""
    if not band:
        return
    for index in reversed(range(len(band["levels"]))):
        lower, upper = band["levels"][index]
        energy, lo = to_axis(band["ek_GeV_per_n"], lower, species, energy_axis)
        _, hi = to_axis(band["ek_GeV_per_n"], upper, species, energy_axis)
        scale = energy**weight_exponent
        if divide_by is not None:
            inside = (energy >= divide_by[0][0]) & (energy <= divide_by[0][-1])
            energy, lo, hi = energy[inside], lo[inside], hi[inside]
            scale = 1.0 / loglog_interp(energy, *divide_by)
        draw_band(ax, energy, scale * lo, scale * hi, model, printed_of, level_index=index)


def _draw_inset(inset, tables, weight_exponent: float, energy_axis: str, upper_GeV: float) -> None:
    """Low-energy inset (Voyager 1 beyond the heliopause, with the curves): its own ranges."""
    data_range, x_range = None, None
    for table in tables:
        container = draw_cr_data(inset, table, weight_exponent, energy_axis)
        data_range = _extend_range(data_range, np.asarray(container.lines[0].get_ydata(), dtype=float))
        x_range = _extend_range(x_range, np.asarray(container.lines[0].get_xdata(), dtype=float))
    inset.set_xscale("log")
    inset.set_yscale("log")
    if x_range is not None:
        inset.set_xlim(x_range[0] / 2.0, max(upper_GeV, x_range[1] * 2.0))
    if data_range is not None:
        inset.set_ylim(data_range[0] / 3.0, data_range[1] * 3.0)
    inset.tick_params(labelsize=5, which="both")
    inset.set_title("Voyager 1 (LIS)", fontsize=5.5, pad=1.5)
