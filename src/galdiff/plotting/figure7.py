"""Figures 7a-b and 8: per-flavour neutrino spectra of a model with IceCube's bands (docs/paper.md).

Fig. 7: DR-low, (a) all sky, (b) 25 < l < 100, |b| < 5: EXTRA1 (red dotted), EXTRA2 (red dot-dashed),
the propagated cosmic rays ("DR-low", green dashed) and the total (black solid), with IceCube's total
astrophysical flux (blue band), its pi0-template fit (red band) and the KRA-gamma-5 / -50 fits (brown
bands, solid / dashed edges). Fig. 8: the same for DR-high (EXTRA1 only) in the window.

All curves are per flavour, nu + anti-nu: the model's all-flavour intensity / 3 (IceCube's
per-flavour convention for equal flavour ratios), mean intensity over the region. How each IceCube
band was turned into an intensity in the region is in its table's ``conversion`` metadata and in
the legend: the total flux is isotropic (the same per sr everywhere); the pi0 fit is converted with
IceCube's own template (region-specific); the KRA-gamma fits are sky-integrated spectra whose maps
are not available, so they are exact only for the all-sky panel and drawn with a morphology proxy
(or as the all-sky average) elsewhere, marked "proxy". An as-printed twin of the model (the paper's
Tables II-III) is drawn thin and faint in the same colours and styles.
"""

from __future__ import annotations

from astropy import units as u

from ..skymaps.region_spectra import spectrum_columns
from .figure4 import MODEL_NAMES
from .spectra import E2_FLUX_UNIT, draw_component_bands, plot_component_curves
from .style import COLUMN_WIDTH_IN, log_log_axes

__all__ = ["NEUTRINO_COMPONENT_STYLES", "plot_neutrino_spectrum", "plot_figure7", "plot_figure8"]

#: component -> (label, colour, line style); "{model}" is replaced by the model's name
NEUTRINO_COMPONENT_STYLES = {
    "extra1_neutrino": ("EXTRA1", "tab:red", ":"),
    "extra2_neutrino": ("EXTRA2", "tab:red", "-."),
    "neutrino_diffuse": ("{model}", "tab:green", "--"),
    "neutrino_total": ("total", "black", "-"),
}


def _band(table):
    energy = table["energy"].quantity.to_value(u.GeV)
    return energy, *(table[name].quantity.to_value(E2_FLUX_UNIT) for name in ("e2flux_best", "e2flux_lo", "e2flux_hi"))


def plot_neutrino_spectrum(spectra_table, icecube_total=None, icecube_pi0=None, kra_gamma_5=None, kra_gamma_50=None, *,
                           energy_range_GeV=(1.0e3, 1.0e7), title: str | None = None,
                           width_in: float = COLUMN_WIDTH_IN * 1.15, height_in: float = 2.9, printed_table=None,
                           band_table=None, printed_band_table=None):
    """Per-flavour E^2 neutrino spectra of one region by component, with IceCube's bands.

    Parameters
    ----------
    spectra_table : astropy.table.Table
        Region spectra (neutrino components summed over flavours, GeV^-1 cm^-2 s^-1 sr^-1).
    icecube_total, icecube_pi0, kra_gamma_5, kra_gamma_50 : astropy.table.Table, optional
        Band tables (``energy``, ``e2flux_best``, ``e2flux_lo``, ``e2flux_hi``; per flavour, per sr).
    energy_range_GeV : (float, float)
    title : str, optional
    printed_table : astropy.table.Table, optional
        Region spectra of the model's as-printed twin (drawn thin and faint).
    band_table, printed_band_table : astropy.table.Table, optional
        Band tables of the model and its twin (:mod:`galdiff.uncertainty`), shaded per component.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = log_log_axes(width_in, height_in)
    meta = spectra_table.meta
    model = MODEL_NAMES.get(meta.get("model"), meta.get("model", ""))
    if icecube_total is not None:
        energy, best, lo, hi = _band(icecube_total)
        ax.fill_between(energy, lo, hi, color="tab:blue", alpha=0.25, lw=0, label=r"IceCube total $\nu$")
    if icecube_pi0 is not None:
        energy, best, lo, hi = _band(icecube_pi0)
        ax.fill_between(energy, lo, hi, color="tab:red", alpha=0.25, lw=0, label=r"IceCube $\pi^0$")
    for table, linestyle, name in ((kra_gamma_5, "-", r"KRA$_\gamma^5$"), (kra_gamma_50, "--", r"KRA$_\gamma^{50}$")):
        if table is None:
            continue
        energy, best, lo, hi = _band(table)
        proxy = "" if table.meta.get("region_specific", True) else " (proxy)"
        ax.fill_between(energy, lo, hi, facecolor="none", edgecolor="saddlebrown", ls=linestyle, lw=0.9,
                        label=f"IceCube {name}{proxy}")
    draw_component_bands(ax, band_table, NEUTRINO_COMPONENT_STYLES, lambda e: e**2 / 3.0)
    draw_component_bands(ax, printed_band_table, NEUTRINO_COMPONENT_STYLES, lambda e: e**2 / 3.0, as_printed=True)
    columns = spectrum_columns(spectra_table, [c for c in NEUTRINO_COMPONENT_STYLES if c in spectra_table.colnames])
    energy = columns["energy_GeV"]
    in_range = (energy >= energy_range_GeV[0]) & (energy <= energy_range_GeV[1])
    peak = plot_component_curves(ax, energy, columns, NEUTRINO_COMPONENT_STYLES, energy**2 / 3.0, total="neutrino_total",
                                 in_range=in_range, name_of=lambda label: label.format(model=model))
    if printed_table is not None:
        printed = spectrum_columns(printed_table, [c for c in NEUTRINO_COMPONENT_STYLES if c in printed_table.colnames])
        plot_component_curves(ax, printed["energy_GeV"], printed, NEUTRINO_COMPONENT_STYLES,
                              printed["energy_GeV"]**2 / 3.0, total="neutrino_total", as_printed=True,
                              name_of=lambda label: label.format(model=model))
    ax.set_xlim(*energy_range_GeV)
    if peak > 0:
        ax.set_ylim(peak * 1e-3, peak * 30)
    ax.set_xlabel(r"$E_\nu$ [GeV]")
    ax.set_ylabel(r"$E^2\,\mathrm{d}N_\nu/\mathrm{d}E$ per flavour [GeV cm$^{-2}$ s$^{-1}$ sr$^{-1}$]")
    region = meta.get("region_label", meta.get("region", ""))
    ax.set_title(title if title is not None else f"{model}, {region}", fontsize=7.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=6, ncol=2)
    return fig


def plot_figure7(spectra_table, bands: dict, panel: str | None = None, **kwargs):
    """Figure 7 panel: DR-low per-flavour neutrinos in a region (a: all sky, b: the Tibet window)."""
    meta = spectra_table.meta
    title = f"({panel}) " if panel else ""
    title += f"{MODEL_NAMES.get(meta.get('model'), meta.get('model', ''))}, {meta.get('region_label', '')}"
    return plot_neutrino_spectrum(spectra_table, title=title, **bands, **kwargs)


def plot_figure8(spectra_table, bands: dict, **kwargs):
    """Figure 8: DR-high per-flavour neutrinos in the Tibet window with EXTRA1 and IceCube's bands."""
    return plot_neutrino_spectrum(spectra_table, **bands, **kwargs)
