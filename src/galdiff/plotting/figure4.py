"""Figures 4a-d and 5: gamma-ray spectra of a sky region by component, with the data (docs/paper.md).

Fig. 4: DR-low (a, b) and DR-high (c, d) in the LHAASO inner (a, c) and outer (b, d) regions, LHAASO
mask applied to the model as to the data, with LHAASO-KM2A (and Fermi-LAT where a LHAASO-region table
exists; none is available here). Fig. 5: DR-low in 25 < l < 100, |b| < 5 without mask, with Tibet
ASgamma region A. Line styles follow the paper's captions: IC green dot-dashed, bremsstrahlung pink
dotted, pi0 decay blue dashed, EXTRA1 red dotted, EXTRA2 red dot-dashed, total black solid. The
curves are the region spectra of the spectra stage (``results/spectra/<model>/<region>.ecsv``) with
the fitted EXTRA normalisations. Where the panel's model has an as-printed twin (the paper's Tables
II-III, ``models.<m>.refit_model``), its components are drawn thin and faint in the same colours and
styles, with its own fitted EXTRA norms.
"""

from __future__ import annotations

import numpy as np

from ..conventions import INTENSITY_UNIT, MODEL_NAMES
from ..skymaps.region_spectra import spectrum_columns
from .spectra import draw_component_bands, plot_component_curves, plot_weighted_points, weighted_flux_label
from .style import COLUMN_WIDTH_IN, log_log_axes

__all__ = ["GAMMA_COMPONENT_STYLES", "MODEL_NAMES", "plot_gamma_spectrum", "plot_figure4", "plot_figure5"]

#: component -> (label, colour, line style), docs/paper.md#figures-and-tables caption
GAMMA_COMPONENT_STYLES = {
    "inverse_compton": ("ICS", "tab:green", "-."),
    "bremsstrahlung": ("bremsstrahlung", "tab:pink", ":"),
    "pi0": (r"$\pi^0$ decay", "tab:blue", "--"),
    "extra1": ("EXTRA1", "tab:red", ":"),
    "extra2": ("EXTRA2", "tab:red", "-."),
    "gamma_total": ("total", "black", "-"),
}


def _title(spectra_table, panel: str | None = None) -> str:
    meta = spectra_table.meta
    model = MODEL_NAMES.get(meta.get("model"), meta.get("model", ""))
    region = meta.get("region_label", meta.get("region", ""))
    mask = f", LHAASO mask ({100 * meta.get('masked_fraction', 0.0):.0f} % masked)" if meta.get("lhaaso_mask") else ", no mask"
    prefix = f"({panel}) " if panel else ""
    return f"{prefix}{model}, {region}{mask}"


def plot_gamma_spectrum(spectra_table, data_tables=(), *, weight_exponent: float = 2.7, energy_range_GeV=(1.0, 1.0e7),
                        title: str | None = None, width_in: float = COLUMN_WIDTH_IN * 1.15, height_in: float = 2.9,
                        printed_table=None, note: str = "", band_table=None, printed_band_table=None):
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
    printed_table : astropy.table.Table, optional
        Region spectra of the as-printed twin of the model (drawn thin and faint).
    note : str
        A line under the title (e.g. which data are missing).
    band_table, printed_band_table : astropy.table.Table, optional
        Band tables of the model and its twin (``results/bands/<model>/region_<region>.ecsv``): shaded in
        each component's colour.

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
    scales = {name: entry["scale"] for name, entry in fitted.items()}
    draw_component_bands(ax, band_table, GAMMA_COMPONENT_STYLES, lambda e: e**weight_exponent)
    draw_component_bands(ax, printed_band_table, GAMMA_COMPONENT_STYLES, lambda e: e**weight_exponent, as_printed=True)
    peak = plot_component_curves(ax, energy, columns, GAMMA_COMPONENT_STYLES, weight, total="gamma_total",
                                 in_range=in_range, scales=scales)
    if printed_table is not None:
        printed = spectrum_columns(printed_table, [c for c in GAMMA_COMPONENT_STYLES if c in printed_table.colnames])
        e_printed = printed["energy_GeV"]
        plot_component_curves(ax, e_printed, printed, GAMMA_COMPONENT_STYLES, e_printed**weight_exponent,
                              total="gamma_total", as_printed=True)
    for table in data_tables:
        experiment = table.meta.get("experiment", "").replace("ASgamma", r"AS$\gamma$")
        # a table whose provenance needs a caveat carries its legend label (meta plot_label)
        plot_weighted_points(ax, table, weight_exponent, label=table.meta.get("plot_label", experiment))
        e = table["energy"].quantity.to_value("GeV")
        peak = max(peak, float(np.max(e**weight_exponent * table["flux"].quantity.to_value(INTENSITY_UNIT))))
    ax.set_xlim(*energy_range_GeV)
    if peak > 0:
        ax.set_ylim(peak * 10**-3.5, peak * 3)
    ax.set_xlabel(r"$E_\gamma$ [GeV]")
    ax.set_ylabel(weighted_flux_label(weight_exponent))
    title = title if title is not None else _title(spectra_table)
    ax.set_title(f"{title}\n{note}" if note else title, fontsize=7.5 if not note else 6.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6, ncol=3)
    return fig


def plot_figure4(spectra_table, data_tables=(), panel: str | None = None, **kwargs):
    """Figure 4 panel (a-d): a model in a LHAASO region (mask applied), with the LHAASO data."""
    return plot_gamma_spectrum(spectra_table, data_tables, title=_title(spectra_table, panel), **kwargs)


def plot_figure5(spectra_table, data_tables=(), **kwargs):
    """Figure 5: DR-low in the Tibet window without mask, with Tibet ASgamma region A."""
    return plot_gamma_spectrum(spectra_table, data_tables, title=_title(spectra_table), **kwargs)
