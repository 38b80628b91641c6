"""IceCube reference fluxes drawn beside the models: total astrophysical flux and Galactic-plane fits."""

from __future__ import annotations

import numpy as np

GEV_PER_TEV = 1.0e3
E_PIVOT_GEV = 1.0e5  # 100 TeV, IceCube's pivot energy for both results
#: IceCube's reference tables drawn beside the neutrino spectra (Figures 7, 8), in drawing order: the total
#: astrophysical flux (6-yr cascades) and the Galactic-plane fits of the pi0 and KRA-gamma 5 / 50 PeV templates
NEUTRINO_BANDS = ("icecube_total", "icecube_pi0", "kra_gamma_5", "kra_gamma_50")


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


def _template_row(template_fits, template: str) -> int:
    names = [str(name).strip() for name in template_fits["template"]]
    if template not in names:
        raise ValueError(f"IceCube template-fit table has no {template!r} row (templates: {names})")
    return names.index(template)


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
    region : galdiff.skymaps.regions.SkyRegion
    index : float
        Spectral index assumed by IceCube.
    """
    from astropy import units as u
    from astropy.table import Table

    row = _template_row(template_fits, "pi0")
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


KRA_TEMPLATES = {"icecube_gp2023_kra_gamma_5": "KRA_gamma_5PeV", "icecube_gp2023_kra_gamma_50": "KRA_gamma_50PeV"}
KRA_MORPHOLOGIES = ("pi0_template", "isotropic")


def kra_band_table(kra_spectrum, template_fits, region, morphology: str = "pi0_template",
                   template_mean_per_sr: float | None = None):
    """IceCube's KRA-gamma best fit and 1-sigma band as a per-flavour intensity in ``region``.

    IceCube published the KRA-gamma fits as sky-integrated spectra (the template maps are not
    available here): ``kra_spectrum`` is the digitised best-fit E^2 dN/dE per flavour integrated
    over the sky [GeV cm^-2 s^-1]. Its all-sky average intensity is that / 4 pi, exact. In a
    smaller region the KRA-gamma morphology is unknown to us, so:

    * ``"pi0_template"``: scale with the region mean of IceCube's (normalised) pi0 template,
      ``template_mean_per_sr`` (the same conversion as the pi0 band). Both are gas-tracing
      templates, but KRA-gamma is harder and brighter towards the Galactic centre (docs/paper.md, Sec. 5), so outside the inner Galaxy this overestimates it;
    * ``"isotropic"``: the all-sky average in every region (a plain lower bound on the plane).

    The band is the best fit times the 1-sigma range of the fit's normalisation
    (``one_sigma_lo/hi`` over ``best_fit`` in ``template_fits``), the spectral shape being fixed.

    Parameters
    ----------
    kra_spectrum : astropy.table.Table
        Tidy ``icecube_gp2023_kra_gamma_5`` or ``..._50`` table (``energy``, ``e2flux_allsky``;
        meta ``template``).
    template_fits : astropy.table.Table
        Tidy ``icecube_gp2023_template_fits`` table.
    region : galdiff.skymaps.regions.SkyRegion
    morphology : {"pi0_template", "isotropic"}
    template_mean_per_sr : float, optional
        Region mean of IceCube's normalised pi0 template [sr^-1] (needed for ``pi0_template``
        outside the all-sky region).
    """
    from astropy import units as u
    from astropy.table import Table

    if morphology not in KRA_MORPHOLOGIES:
        raise ValueError(f"morphology must be one of {KRA_MORPHOLOGIES}, got {morphology!r}")
    template = str(kra_spectrum.meta.get("template", ""))
    row = _template_row(template_fits, template)
    best = float(template_fits["best_fit"][row])
    lo_factor = float(template_fits["one_sigma_lo"][row]) / best
    hi_factor = float(template_fits["one_sigma_hi"][row]) / best
    if region.is_all_sky:
        per_sr, conversion, specific = 1.0 / (4.0 * np.pi), "sky-integrated flux / 4 pi (exact all-sky average)", True
    elif morphology == "pi0_template":
        if template_mean_per_sr is None:
            raise ValueError("morphology 'pi0_template' needs the region mean of the pi0 template")
        per_sr = float(template_mean_per_sr)
        conversion = ("sky-integrated flux x region mean of IceCube's normalised pi0 template (KRA-gamma maps not "
                      "available: morphology PROXY, not region-specific KRA-gamma)")
        specific = False
    else:
        per_sr = 1.0 / (4.0 * np.pi)
        conversion = "sky-integrated flux / 4 pi (all-sky average drawn in a smaller region; not region-specific)"
        specific = False
    energy = kra_spectrum["energy"].quantity.to_value(u.GeV)
    e2_best = kra_spectrum["e2flux_allsky"].quantity.to_value("GeV cm-2 s-1") * per_sr
    e2_unit = u.Unit("GeV cm-2 s-1 sr-1")
    table = Table({"energy": energy * u.GeV, "e2flux_best": e2_best * e2_unit, "e2flux_lo": lo_factor * e2_best * e2_unit,
                   "e2flux_hi": hi_factor * e2_best * e2_unit})
    table.meta.update({
        "dataset": f"{kra_spectrum.meta.get('dataset', template)}_band_{region.name}",
        "experiment": "IceCube",
        "messenger": "neutrino",
        "per_flavour": True,
        "template": template,
        "quantity": "E^2 dN/dE per flavour (nu + nubar), intensity in the region",
        "region": region.name,
        "region_label": region.label(),
        "conversion": conversion,
        "region_specific": specific,
        "per_sr_factor": per_sr,
        "one_sigma_factors": [lo_factor, hi_factor],
        "citation": "IceCube Collaboration 2023, Science 380, 1338, arXiv:2307.04427 (spectrum digitised by a third party)",
    })
    return table


def band_consistency(energy_GeV, model_e2, band, n_sigma: float = 1.0, energy_range_GeV=None) -> dict:
    """How a model's per-flavour E^2 flux compares with an IceCube normalisation band.

    IceCube's template fits measure one normalisation for a fixed spectral shape, so the
    comparison is one number: the ratio R of the model's E^2 flux to the best fit's, both
    integrated in ln E over the band's energy range (intersected with ``energy_range_GeV``, e.g.
    the 90 % energy range of the fit). R is then compared with the band's 1-sigma range on the
    normalisation, ``[lo/best, hi/best]``: z = (R - 1) / (hi/best - 1) above the fit,
    (R - 1) / (1 - lo/best) below; consistent when |z| <= n_sigma.

    Parameters
    ----------
    energy_GeV, model_e2 : array_like
        The model's per-flavour E^2 dN/dE [GeV cm^-2 s^-1 sr^-1] on its energy grid.
    band : astropy.table.Table
        ``energy, e2flux_best, e2flux_lo, e2flux_hi`` (same unit).
    n_sigma : float
    energy_range_GeV : (float, float), optional

    Returns
    -------
    dict
        ``ratio``, ``z``, ``consistent``, ``energy_range_GeV``, ``sigma_lo``, ``sigma_hi``
        (relative 1-sigma widths of the band).
    """
    from astropy import units as u

    from ..spectra import loglog_interp

    energy_band = band["energy"].quantity.to_value(u.GeV)
    best = band["e2flux_best"].quantity.to_value("GeV cm-2 s-1 sr-1")
    lo = band["e2flux_lo"].quantity.to_value("GeV cm-2 s-1 sr-1")
    hi = band["e2flux_hi"].quantity.to_value("GeV cm-2 s-1 sr-1")
    e_min, e_max = float(energy_band.min()), float(energy_band.max())
    if energy_range_GeV is not None:
        e_min, e_max = max(e_min, float(energy_range_GeV[0])), min(e_max, float(energy_range_GeV[1]))
    energy_model = np.asarray(energy_GeV, dtype=float)
    e_min, e_max = max(e_min, float(energy_model.min())), min(e_max, float(energy_model.max()))
    if not e_max > e_min:
        raise ValueError("band and model energy ranges do not overlap")
    grid = np.geomspace(e_min, e_max, 64)
    model_on_grid = loglog_interp(grid, energy_model, np.clip(np.asarray(model_e2, dtype=float), 0, None))
    order = np.argsort(energy_band)
    best_on_grid = loglog_interp(grid, energy_band[order], best[order])
    ratio = float(np.trapezoid(model_on_grid, np.log(grid)) / np.trapezoid(best_on_grid, np.log(grid)))
    sigma_lo = float(1.0 - np.median(lo / best))
    sigma_hi = float(np.median(hi / best) - 1.0)
    z = (ratio - 1.0) / sigma_hi if ratio >= 1.0 else (ratio - 1.0) / sigma_lo
    return {"ratio": ratio, "z": float(z), "consistent": bool(abs(z) <= n_sigma), "n_sigma": float(n_sigma),
            "energy_range_GeV": [e_min, e_max], "sigma_lo": sigma_lo, "sigma_hi": sigma_hi}


def template_energy_range_GeV(template_fits, template: str):
    """The 90 % energy range (``E90_lo``, ``E90_hi``) of an IceCube template fit, in GeV."""
    row = _template_row(template_fits, template)
    return _energy_GeV(template_fits, row, "E90_lo"), _energy_GeV(template_fits, row, "E90_hi")


def isotropic_flux_e2(cascades, energy_GeV):
    """IceCube's total astrophysical per-flavour E^2 dN/dE [GeV cm^-2 s^-1 sr^-1] (best fit) at ``energy_GeV``.

    ``cascades`` is the tidy ``icecube_cascades_6yr`` table; log-log interpolation of its best-fit
    column (a power law), extrapolated as one outside the fit range.
    """
    from astropy import units as u

    from ..spectra import loglog_interp

    energy = cascades["energy"].quantity.to_value(u.GeV)
    best = cascades["e2flux_best"].quantity.to_value("GeV cm-2 s-1 sr-1")
    return loglog_interp(np.asarray(energy_GeV, dtype=float), energy, best, out_of_range="extrapolate")
