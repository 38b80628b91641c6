"""Validation figure: every model's gamma rays in |l| < 80, |b| < 8 against Fermi-LAT (no mask).

Top: E^2-weighted intensity of Ackermann et al. (2012) Fig. 17 (band: the figure's uncertainty) and
each model's total (refit solid, as printed thin dashed, in the model's colour) with its pi0, IC and
bremsstrahlung parts (thin). Bottom: model total / Fermi-LAT. Fermi-LAT's total includes point
sources and the isotropic background, which the models do not have.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from astropy import units as u

from ..skymaps.region_spectra import spectrum_columns
from ..spectra import loglog_interp
from .spectra import E2_FLUX_UNIT
from .style import COLUMN_WIDTH_IN, apply_style, model_label, model_line_style

__all__ = ["plot_gev_anchor"]

_PARTS = {"pi0": ("--", r"$\pi^0$"), "inverse_compton": ("-.", "IC"), "bremsstrahlung": (":", "brems.")}


def plot_gev_anchor(spectra_by_model: Mapping, fermi_table, *, printed_of: Mapping | None = None,
                    energy_range_GeV=(0.1, 1.0e3)):
    """Draw the GeV anchor (module docstring).

    Parameters
    ----------
    spectra_by_model : mapping
        ``{model: region spectra table}`` of the anchor region.
    fermi_table : astropy.table.Table
        Tidy ``fermi_lat_ackermann2012_inner_galaxy`` (``energy``, ``e2flux``, ``e2flux_lo_err``, ``e2flux_hi_err``).
    printed_of : mapping, optional
        ``{as-printed model: its refit model}``.
    energy_range_GeV : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
        Axes: spectrum, ratio.
    """
    apply_style()
    printed_of = dict(printed_of or {})
    fig, (ax, ax_ratio) = plt.subplots(2, 1, figsize=(COLUMN_WIDTH_IN * 1.15, 3.9), sharex=True,
                                       gridspec_kw={"height_ratios": [3, 1.3], "hspace": 0.06})
    e_data = fermi_table["energy"].quantity.to_value(u.GeV)
    e2 = fermi_table["e2flux"].quantity.to_value(E2_FLUX_UNIT)
    lo = e2 - np.nan_to_num(fermi_table["e2flux_lo_err"].quantity.to_value(E2_FLUX_UNIT))
    hi = e2 + np.nan_to_num(fermi_table["e2flux_hi_err"].quantity.to_value(E2_FLUX_UNIT))
    ax.fill_between(e_data, lo, hi, color="0.75", lw=0, label="Fermi-LAT total (Ackermann+12 Fig. 17)")
    ax_ratio.fill_between(e_data, lo / e2, hi / e2, color="0.75", lw=0)
    for model, table in spectra_by_model.items():
        columns = spectrum_columns(table, [c for c in ("gamma_total", *_PARTS) if c in table.colnames])
        energy = columns["energy_GeV"]
        style = model_line_style(model, printed_of)
        ax.plot(energy, energy**2 * columns["gamma_total"], label=f"{model_label(model, printed_of)} total", **style)
        if model not in printed_of:
            for part, (linestyle, name) in _PARTS.items():
                if part in columns:
                    ax.plot(energy, energy**2 * columns[part], color=style["color"], ls=linestyle, lw=0.7,
                            label=f"{model_label(model, printed_of)} {name}")
        inside = (e_data >= energy[0]) & (e_data <= energy[-1])
        model_at_data = loglog_interp(e_data[inside], energy, columns["gamma_total"])
        ax_ratio.plot(e_data[inside], model_at_data * e_data[inside] ** 2 / e2[inside], **style)
    for axis in (ax, ax_ratio):
        axis.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*energy_range_GeV)
    top = float(np.max(hi))
    ax.set_ylim(top * 1e-3, top * 3)
    ax.set_ylabel(r"$E^2\,\mathrm{d}N/\mathrm{d}E$ [GeV cm$^{-2}$ s$^{-1}$ sr$^{-1}$]")
    ax.set_title(r"$|l|<80^\circ$, $|b|<8^\circ$, no mask (Fermi-LAT: sources and isotropic included)", fontsize=6.5)
    ax.legend(loc="lower center", fontsize=5, ncol=2)
    ax_ratio.axhline(1.0, color="black", lw=0.6)
    ax_ratio.set_ylim(0.0, 2.5)
    ax_ratio.set_ylabel("model / Fermi-LAT", fontsize=6.5)
    ax_ratio.set_xlabel(r"$E_\gamma$ [GeV]")
    return fig
