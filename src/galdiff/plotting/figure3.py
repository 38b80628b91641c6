"""Figure 3: gamma-ray and neutrino data overview (docs/paper.md#figures-and-tables)."""

from __future__ import annotations

from astropy import units as u

from ..skymaps.regions import SkyRegion
from .spectra import E2_FLUX_UNIT, plot_band, plot_e2_points
from .style import DOUBLE_COLUMN_WIDTH_IN, e2_flux_axes


def region_label(region_meta: dict) -> str:
    """LaTeX label of a data set's sky region from its ``region`` metadata."""
    if not region_meta:
        return ""
    region = SkyRegion("data", region_meta["l_min_deg"], region_meta["l_max_deg"], region_meta["b_max_deg"])
    return region.label()


def _band_columns(table):
    energy_GeV = table["energy"].quantity.to_value(u.GeV)
    best, lo, hi = (table[name].quantity.to_value(E2_FLUX_UNIT) for name in ("e2flux_best", "e2flux_lo", "e2flux_hi"))
    return energy_GeV, best, lo, hi


def plot_figure3(gamma_tables, icecube_total_band, icecube_pi0_band, energy_range_GeV=(1e2, 1e7)):
    """Draw Figure 3.

    Parameters
    ----------
    gamma_tables : list of astropy.table.Table
        Tidy gamma-ray tables (columns ``energy``, ``flux`` and errors; meta ``experiment``
        and ``region``), each drawn with its experiment's marker and its region in the label.
    icecube_total_band : astropy.table.Table
        IceCube 6-year cascades per-flavour E^2 flux: ``energy``, ``e2flux_best``,
        ``e2flux_lo``, ``e2flux_hi`` (per sr).
    icecube_pi0_band : astropy.table.Table
        IceCube Galactic-plane pi0-template result as a per-flavour intensity in a region,
        same columns; meta ``region_label``.
    energy_range_GeV : (float, float)

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = e2_flux_axes(width_in=0.62 * DOUBLE_COLUMN_WIDTH_IN, height_in=3.0)
    for table in gamma_tables:
        region = region_label(table.meta.get("region", {}))
        experiment = table.meta.get("experiment", "").replace("ASgamma", r"AS$\gamma$")
        # a table whose provenance needs a caveat carries it in its legend label (meta plot_label)
        experiment = table.meta.get("plot_label", experiment)
        plot_e2_points(ax, table, label=rf"{experiment} $\gamma$ ({region})")
    energy, best, lo, hi = _band_columns(icecube_total_band)
    plot_band(ax, energy, lo, hi, best, color="tab:blue", label=r"IceCube total $\nu$ (per flavour, 6-yr cascades)")
    energy, best, lo, hi = _band_columns(icecube_pi0_band)
    plot_band(
        ax, energy, lo, hi, best, color="tab:red", alpha=0.25,
        label=rf"IceCube $\pi^0$ Galactic plane $\nu$ (per flavour, {icecube_pi0_band.meta.get('region_label', '')})",
    )
    ax.set_xlim(*energy_range_GeV)
    ax.set_xlabel(r"$E_\gamma$, $E_\nu$ [GeV]")
    # below the axes: the data run diagonally through the whole panel
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    return fig
