"""IceCube reference fluxes drawn beside the models: total astrophysical flux and Galactic-plane fits."""

from __future__ import annotations

import numpy as np

GEV_PER_TEV = 1.0e3
E_PIVOT_GEV = 1.0e5  # 100 TeV, IceCube's pivot energy for both results


def power_law_e2flux(energy_GeV, e2flux_at_pivot, index, pivot_GeV=E_PIVOT_GEV):
    """E^2 dN/dE of a power law dN/dE ∝ E^-index, normalised at the pivot energy."""
    return e2flux_at_pivot * (np.asarray(energy_GeV, dtype=float) / pivot_GeV) ** (2.0 - index)


def pi0_template_intensity_e2(
    energy_GeV,
    sky_integrated_e2flux_1e12_TeV_per_cm2_s: float,
    template_mean_per_sr: float,
    index: float = 2.7,
):
    """Per-flavour E^2 dN/dE [GeV cm^-2 s^-1 sr^-1] of IceCube's pi0-template fit in a sky region.

    IceCube (Science 380, 1338 (2023), Table 1) quotes the sky-integrated per-flavour flux
    E^2 dN/dE at 100 TeV in 1e-12 TeV cm^-2 s^-1 for a template T normalised to
    ∫ T dΩ = 1 (units sr^-1) and a spectrum ∝ E^-2.7. The intensity in a region is that
    flux times the region's mean of T.

    Parameters
    ----------
    energy_GeV : array_like
        Neutrino energies in GeV.
    sky_integrated_e2flux_1e12_TeV_per_cm2_s : float
        Table value (e.g. best fit 21.8, or a 1-sigma edge).
    template_mean_per_sr : float
        Mean of the normalised template over the region's pixels, in sr^-1.
    index : float
        Spectral index of dN/dE.
    """
    e2flux_at_pivot_GeV = sky_integrated_e2flux_1e12_TeV_per_cm2_s * 1e-12 * GEV_PER_TEV * template_mean_per_sr
    return power_law_e2flux(energy_GeV, e2flux_at_pivot_GeV, index)


def _sky_integrated_value_1e12(table, row_index, column):
    """A pi0-fit value in units of 1e-12 TeV cm^-2 s^-1, whether or not the column carries a unit."""
    col = table[column]
    if col.unit is None or str(col.unit) == "":
        return float(col[row_index])
    return float((col.quantity[row_index]).to_value("TeV cm-2 s-1") / 1e-12)


def _energy_GeV(table, row_index, column):
    col = table[column]
    if col.unit is None or str(col.unit) == "":
        return float(col[row_index])
    return float(col.quantity[row_index].to_value("GeV"))


def pi0_template_band_table(template_fits, template_mean_per_sr, region, index=2.7, n_energies=40):
    """Table of IceCube's pi0-template best fit and 1-sigma band as an intensity in ``region``.

    The band spans the central 90 % energy range that contributes to IceCube's test statistic
    (``E90_lo``-``E90_hi`` of the fit table), where the measurement constrains the flux.

    Parameters
    ----------
    template_fits : astropy.table.Table
        Tidy table of IceCube's template fits with a row whose ``template`` is ``pi0`` and
        columns ``best_fit``, ``one_sigma_lo``, ``one_sigma_hi`` (1e-12 TeV cm^-2 s^-1 or with a
        unit attached), ``E90_lo``, ``E90_hi`` (GeV).
    template_mean_per_sr : float
        Mean of the normalised template over the region [sr^-1].
    region : galdiff.regions.SkyRegion
    index : float
        Spectral index assumed by IceCube.
    """
    from astropy import units as u
    from astropy.table import Table

    names = [str(name).strip() for name in template_fits["template"]]
    if "pi0" not in names:
        raise ValueError(f"IceCube template-fit table has no 'pi0' row (templates: {names})")
    row = names.index("pi0")
    energy_GeV = np.geomspace(
        _energy_GeV(template_fits, row, "E90_lo"), _energy_GeV(template_fits, row, "E90_hi"), n_energies
    )
    e2 = {
        out: pi0_template_intensity_e2(
            energy_GeV, _sky_integrated_value_1e12(template_fits, row, column), template_mean_per_sr, index
        )
        for out, column in (("e2flux_best", "best_fit"), ("e2flux_lo", "one_sigma_lo"), ("e2flux_hi", "one_sigma_hi"))
    }
    e2_unit = u.Unit("GeV cm-2 s-1 sr-1")
    table = Table(
        {"energy": energy_GeV * u.GeV, **{name: values * e2_unit for name, values in e2.items()}},
        meta={
            "dataset": f"icecube_gp2023_pi0_band_{region.name}",
            "experiment": "IceCube",
            "messenger": "neutrino",
            "per_flavour": True,
            "quantity": "E^2 dN/dE per flavour (nu + nubar), intensity averaged over the region",
            "region": region.name,
            "region_label": region.label(),
            "template_mean_per_sr": template_mean_per_sr,
            "spectral_index": index,
            "citation": "IceCube Collaboration 2023, Science 380, 1338, arXiv:2307.04427 (Table 1)",
        },
    )
    return table
