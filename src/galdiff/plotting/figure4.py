"""Figures 4a-d and 5: gamma-ray spectra of a sky region by component, with the data (PAPER.md).

Fig. 4: DR-low (a, b) and DR-high (c, d) in the LHAASO inner (a, c) and outer (b, d) regions, LHAASO
mask applied to the model as to the data, with LHAASO-KM2A (and Fermi-LAT where a LHAASO-region table
exists; none is available here). Fig. 5: DR-low in 25 < l < 100, |b| < 5 without mask, with Tibet
ASgamma region A. Line styles follow the paper's captions: IC green dot-dashed, bremsstrahlung pink
dotted, pi0 decay blue dashed, EXTRA1 red dotted, EXTRA2 red dot-dashed, total black solid. The
curves are the region spectra of the spectra stage (``results/spectra/<model>/<region>.ecsv``) with
the fitted EXTRA normalisations.
"""

from __future__ import annotations

import numpy as np

from ..region_spectra import spectrum_columns
from .spectra import plot_weighted_points, weighted_flux_label
from .style import COLUMN_WIDTH_IN, log_log_axes

__all__ = ["GAMMA_COMPONENT_STYLES", "MODEL_NAMES", "plot_gamma_spectrum", "plot_figure4", "plot_figure5"]

#: component -> (label, colour, line style), PAPER.md Fig. 4 caption
GAMMA_COMPONENT_STYLES = {
    "inverse_compton": ("ICS", "tab:green", "-."),
    "bremsstrahlung": ("bremsstrahlung", "tab:pink", ":"),
    "pi0": (r"$\pi^0$ decay", "tab:blue", "--"),
    "extra1": ("EXTRA1", "tab:red", ":"),
    "extra2": ("EXTRA2", "tab:red", "-."),
    "gamma_total": ("total", "black", "-"),
}
MODEL_NAMES = {"dr_low": "DR-low", "dr_high": "DR-high"}


def _title(spectra_table, panel: str | None = None) -> str:
    meta = spectra_table.meta
    model = MODEL_NAMES.get(meta.get("model"), meta.get("model", ""))
    region = meta.get("region_label", meta.get("region", ""))
    mask = f", LHAASO mask ({100 * meta.get('masked_fraction', 0.0):.0f} % masked)" if meta.get("lhaaso_mask") else ", no mask"
    prefix = f"({panel}) " if panel else ""
    return f"{prefix}{model}, {region}{mask}"


def plot_gamma_spectrum(spectra_table, data_tables=(), *, weight_exponent: float = 2.7, energy_range_GeV=(1.0, 1.0e7),
                        title: str | None = None, width_in: float = COLUMN_WIDTH_IN * 1.15, height_in: float = 2.9):
    """One region's gamma-ray spectrum by component, E^w weighted, with data points.

    Parameters
    ----------
    spectra_table : astropy.table.Table
        Region spectra (``energy`` and the gamma components in GeV^-1 cm^-2 s^-1 sr^-1; meta
        ``model``, ``region_label``, ``lhaaso_mask``, ``masked_fraction``, ``extra_fit``).
    data_tables : sequence of astropy.table.Table
        Tidy gamma-ray tables drawn as points.
    weight_exponent : float
        w of E^w dN/dE.
    energy_range_GeV : (float, float)
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = log_log_axes(width_in, height_in)
    columns = spectrum_columns(spectra_table, [c for c in GAMMA_COMPONENT_STYLES if c in spectra_table.colnames])
    energy = columns["energy_GeV"]
    weight = energy**weight_exponent
    in_range = (energy >= energy_range_GeV[0]) & (energy <= energy_range_GeV[1])
    fitted = spectra_table.meta.get("extra_fit", {})
    peak = 0.0
    for component, (label, color, linestyle) in GAMMA_COMPONENT_STYLES.items():
        if component not in columns or not np.any(columns[component] > 0):
            continue  # e.g. EXTRA2 of DR-high
        values = weight * columns[component]
        if component in fitted:
            label = f"{label} (fitted x{fitted[component]['scale']:.2g})"
        ax.plot(energy, np.where(values > 0, values, np.nan), color=color, ls=linestyle,
                lw=1.3 if component == "gamma_total" else 1.0, label=label)
        if component == "gamma_total":
            peak = max(peak, float(values[in_range].max()))
    for table in data_tables:
        experiment = table.meta.get("experiment", "").replace("ASgamma", r"AS$\gamma$")
        plot_weighted_points(ax, table, weight_exponent, label=experiment)
        e = table["energy"].quantity.to_value("GeV")
        peak = max(peak, float(np.max(e**weight_exponent * table["flux"].quantity.to_value("GeV-1 cm-2 s-1 sr-1"))))
    ax.set_xlim(*energy_range_GeV)
    if peak > 0:
        ax.set_ylim(peak * 10**-3.5, peak * 3)
    ax.set_xlabel(r"$E_\gamma$ [GeV]")
    ax.set_ylabel(weighted_flux_label(weight_exponent))
    ax.set_title(title if title is not None else _title(spectra_table), fontsize=7.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6, ncol=3)
    return fig


def plot_figure4(spectra_table, data_tables=(), panel: str | None = None, **kwargs):
    """Figure 4 panel (a-d): a model in a LHAASO region (mask applied), with the LHAASO data."""
    return plot_gamma_spectrum(spectra_table, data_tables, title=_title(spectra_table, panel), **kwargs)


def plot_figure5(spectra_table, data_tables=(), **kwargs):
    """Figure 5: DR-low in the Tibet window without mask, with Tibet ASgamma region A."""
    return plot_gamma_spectrum(spectra_table, data_tables, title=_title(spectra_table), **kwargs)
