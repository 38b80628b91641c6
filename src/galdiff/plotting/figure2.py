"""Figure 2: best-fit e+ + e- spectrum with AMS-02 and DAMPE data (docs/paper.md#figures-and-tables).

The total (primary e-, extra primary e+, secondary e- and e+, each modulated at Earth) is drawn
per model in its colour (DR-low blue, DR-high red; the refit solid, the paper's Table III as printed
thin dashed in the same colour) with its secondary contribution (dotted) and, optionally, the
primary components (dash-dotted); the flux is weighted by E^3, as is usual for leptons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .figure1 import draw_cr_data
from .style import COLUMN_WIDTH_IN, apply_style, draw_band, model_label, model_line_style

__all__ = ["COMPONENT_STYLES", "plot_figure2"]

#: Drawn components: key in ``model_components`` -> (label, line style; None: the model's), in the model's colour
COMPONENT_STYLES = {
    "total": ("total", None),
    "secondary": (r"secondary $e^\pm$", ":"),
    "electron_primary": (r"primary $e^-$", "-."),
    "positron_primary": (r"extra primary $e^+$", (0, (3, 1, 1, 1, 1, 1))),
}


def plot_figure2(model_components: Mapping, data_tables: Sequence, *, weight_exponent: float = 3.0,
                 components: Sequence[str] = ("total", "secondary"), xlim=None, printed_of: Mapping | None = None,
                 bands: Mapping | None = None):
    """Draw Figure 2.

    Parameters
    ----------
    model_components : mapping
        ``{model: {"energy_GeV": array, "total": array, "secondary": array, "electron_primary": array,
        "positron_primary": array}}``: modulated intensities at Earth per GeV [cm^-2 s^-1 sr^-1 GeV^-1]
        on the kinetic-energy grid (E ~ T for these energies); ``secondary`` is e+ + e- secondaries.
        Missing components are skipped.
    data_tables : sequence of astropy.table.Table
        Tidy e+ + e- tables (``ams02_electron_positron``, ``dampe_electron_positron``).
    weight_exponent : float
        Flux weighted by E^weight_exponent (default 3).
    components : sequence of str
        Which components to draw (keys of :data:`COMPONENT_STYLES`).
    xlim : (float, float), optional
    printed_of : mapping, optional
        ``{as-printed model: its refit model}`` (thin, in the refit's colour).
    bands : mapping, optional
        ``{model: {"energy_GeV": array, "levels": [(lower, upper), ...]}}``: central intervals of the
        modulated total (:mod:`galdiff.uncertainty`, widest last), shaded in the model's colour.

    Returns
    -------
    matplotlib.figure.Figure
    """
    apply_style()
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.8))
    ax.set_xscale("log")
    ax.set_yscale("log")
    peak = 0.0
    for model, band in (bands or {}).items():
        energy = np.asarray(band["energy_GeV"], dtype=float)
        for index in reversed(range(len(band["levels"]))):
            lower, upper = band["levels"][index]
            draw_band(ax, energy, energy**weight_exponent * lower, energy**weight_exponent * upper, model, printed_of,
                      level_index=index)
    for model, arrays in model_components.items():
        energy = np.asarray(arrays["energy_GeV"], dtype=float)
        weight = energy**weight_exponent
        for component in components:
            if component not in arrays or component not in COMPONENT_STYLES:
                continue
            label, linestyle = COMPONENT_STYLES[component]
            style = model_line_style(model, printed_of)
            if linestyle is not None:
                style.update(ls=linestyle, lw=0.7 * style["lw"])
            values = weight * np.asarray(arrays[component], dtype=float)
            ax.plot(energy, np.where(values > 0, values, np.nan), label=f"{model_label(model, printed_of)} {label}",
                    **style)
            finite = np.isfinite(values)
            peak = max(peak, float(values[finite].max())) if finite.any() else peak
    for table in data_tables:
        container = draw_cr_data(ax, table, weight_exponent, "ek_per_n")
        drawn = np.asarray(container.lines[0].get_ydata(), dtype=float)
        peak = max(peak, float(np.nanmax(drawn))) if drawn.size else peak
    ax.set_xlabel(r"$E$ [GeV]")
    ax.set_ylabel(rf"$E^{{{weight_exponent:g}}} J_{{e^+ + e^-}}$ [GeV$^{{{weight_exponent - 1:g}}}$ cm$^{{-2}}$ "
                  r"s$^{-1}$ sr$^{-1}$]")
    if xlim is not None:
        ax.set_xlim(*xlim)
    # four decades below the peak: the model tails beyond the data would otherwise squash the data
    # (from the drawn values: zeros or NaN at the grid's ends would spoil the log autoscale)
    if peak > 0:
        ax.set_ylim(peak * 3e-4, peak * 3.0)
    ax.legend(loc="lower center", ncol=2, fontsize=5, frameon=False)
    return fig
