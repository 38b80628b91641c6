"""Spectra of sky regions: solid-angle averages of the map cubes, with the LHAASO mask where it applies.

The spectra stage of the model chain (docs/architecture.md#stages-and-files: ``maps + masks + data --spectra-->
results/spectra/{model}/{region}.ecsv``). For every region of the configuration and every gamma-ray
and neutrino component the mean intensity over the region's (unmasked) area is

    I_region(E) = sum_p w_p I_p(E) / sum_p w_p,

with w_p the fraction of pixel p that lies in the region and outside the mask
(:func:`galdiff.skymaps.regions.region_pixel_weights`, sub-pixel accurate). This is the quantity LHAASO
(mean intensity over the unmasked part of the box) and Tibet ASgamma (mean over the box) quote, so
model and data are compared like for like; regions with ``lhaaso_mask: true`` use the mask.

File contract (one ECSV per model and region, :func:`region_spectrum_table`): column ``energy``
[GeV] and one column per component in GeV^-1 cm^-2 s^-1 sr^-1 (:data:`SPECTRUM_COMPONENTS`):
gamma rays ``pi0, bremsstrahlung, inverse_compton, extra1, extra2, gamma_total`` (pair absorption
as in the maps); neutrinos (nu + anti-nu, after oscillations) ``neutrino_diffuse, extra1_neutrino,
extra2_neutrino, neutrino_total`` summed over the three flavours and ``neutrino_e, neutrino_mu,
neutrino_tau`` per flavour. The extra components and the totals carry the fitted EXTRA
normalisations (:mod:`galdiff.fitting.extra`; meta ``extra_fit``). Meta: region definition, mask use,
masked fraction, unmasked solid angle, model, provenance.
"""

from __future__ import annotations

import healpy as hp
import numpy as np
from astropy import units as u
from astropy.table import Table

from ..conventions import GAMMA_COMPONENTS, INTENSITY_UNIT, MAP_COMPONENTS, NEUTRINO_COMPONENTS
from .regions import SkyRegion, fine_nside_for, region_pixel_weights, weighted_region_average

__all__ = [
    "write_region_spectra_outputs",
    "GAMMA_COMPONENTS",
    "NEUTRINO_COMPONENTS",
    "SPECTRUM_COMPONENTS",
    "INTENSITY_UNIT",
    "region_weights",
    "average_cubes",
    "region_spectrum_table",
    "spectrum_columns",
    "unmasked_solid_angle_sr",
    "model_region_spectra",
    "fitted_region_spectra",
]

#: every map component has a column (galdiff.conventions.MAP_COMPONENTS)
SPECTRUM_COMPONENTS = MAP_COMPONENTS

_CONVENTION = (
    "Mean intensity over the region's unmasked solid angle, sum_p w_p I_p / sum_p w_p with w_p the area "
    "fraction of pixel p inside the region and outside the mask. Gamma rays with pair absorption as in the "
    "maps. Neutrinos nu + anti-nu after oscillations: neutrino_e/mu/tau per flavour, neutrino_diffuse, "
    "extra*_neutrino and neutrino_total summed over flavours (divide by 3 for the flavour-averaged "
    "per-flavour intensity IceCube quotes)."
)


def region_weights(regions, nside: int, mask=None, fine_nside: int | None = None) -> dict:
    """Pixel weights of each region: area fraction in the region, outside the mask where it applies.

    Parameters
    ----------
    regions : iterable of SkyRegion
    nside : int
        Resolution of the map cubes.
    mask : galdiff.skymaps.masks.SourceMask, optional
        Applied to regions with ``lhaaso_mask``; required if any region has it.
    fine_nside : int, optional
        Sub-pixel resolution of the area fractions (default: the mask's, else ``nside`` x 8).

    Returns
    -------
    dict
        ``{region name: (weights, masked_fraction)}``; masked_fraction is 0 without a mask.
    """
    fine = mask.fine_nside if mask is not None else fine_nside_for(nside, fine_nside or 8 * nside)
    out = {}
    for region in regions:
        unmasked = region_pixel_weights(nside, region, fine_nside=fine)
        if region.lhaaso_mask:
            if mask is None:
                raise ValueError(f"region {region.name!r} has lhaaso_mask: true but no mask was given")
            weights = region_pixel_weights(nside, region, keep_fine=mask.keep_fine)
            masked = 1.0 - weights.sum() / unmasked.sum()
        else:
            weights, masked = unmasked, 0.0
        if not weights.sum() > 0:
            raise ValueError(f"region {region.name!r}: no unmasked area at nside {nside} (fine nside {fine})")
        out[region.name] = (weights, float(masked))
    return out


def average_cubes(cubes: dict, weights: dict) -> tuple[np.ndarray, dict]:
    """Region averages of every cube.

    Parameters
    ----------
    cubes : dict
        ``{component: (energies_GeV, cube (n_E, n_pix))}``; all on the same energy grid.
    weights : dict
        ``{region: weights}`` (or ``(weights, masked_fraction)`` pairs from :func:`region_weights`).

    Returns
    -------
    energies_GeV : ndarray
    spectra : dict
        ``{region: {component: ndarray (n_E,)}}``.
    """
    energies = None
    spectra = {name: {} for name in weights}
    for component, (component_energies, cube) in cubes.items():
        component_energies = np.asarray(component_energies, dtype=float)
        if energies is None:
            energies = component_energies
        elif component_energies.shape != energies.shape or not np.allclose(component_energies, energies, rtol=1e-10):
            raise ValueError(f"component {component!r} has another energy grid than the others; the spectra "
                             "files need one grid for gamma rays and neutrinos")
        for region, entry in weights.items():
            region_w = entry[0] if isinstance(entry, tuple) else entry
            spectra[region][component] = weighted_region_average(cube, region_w, name=f"{region}/{component}")
    return energies, spectra


def region_spectrum_table(energies_GeV, spectra: dict, region: SkyRegion, *, model: str, masked_fraction: float = 0.0,
                          unmasked_solid_angle_sr: float | None = None, meta: dict | None = None) -> Table:
    """The ECSV table of one model and region (module docstring).

    Parameters
    ----------
    energies_GeV : array_like
    spectra : dict
        ``{component: intensity (n_E,)}`` in GeV^-1 cm^-2 s^-1 sr^-1.
    region : SkyRegion
    model : str
    masked_fraction : float
        Fraction of the region's area removed by the mask.
    unmasked_solid_angle_sr : float, optional
        Solid angle the average runs over.
    meta : dict, optional
        Further metadata (provenance, EXTRA fit).
    """
    table = Table()
    table["energy"] = np.asarray(energies_GeV, dtype=float) * u.GeV
    for component in SPECTRUM_COMPONENTS:
        if component in spectra:
            table[component] = np.asarray(spectra[component], dtype=float) * INTENSITY_UNIT
    table.meta.update({
        "model": model,
        "region": region.name,
        "region_definition": {"l_min_deg": region.l_min_deg, "l_max_deg": region.l_max_deg,
                              "b_max_deg": region.b_max_deg},
        "region_label": region.label(),
        "lhaaso_mask": bool(region.lhaaso_mask),
        "masked_fraction": float(masked_fraction),
        "solid_angle_sr": float(region.solid_angle_sr()),
        "convention": _CONVENTION,
    })
    if unmasked_solid_angle_sr is not None:
        table.meta["unmasked_solid_angle_sr"] = float(unmasked_solid_angle_sr)
    table.meta.update(meta or {})
    return table


def spectrum_columns(table: Table, components=None) -> dict:
    """``{component: intensity in GeV^-1 cm^-2 s^-1 sr^-1}`` and ``energy_GeV`` from a spectra table."""
    names = components or [c for c in SPECTRUM_COMPONENTS if c in table.colnames]
    out = {"energy_GeV": table["energy"].quantity.to_value(u.GeV)}
    for name in names:
        out[name] = table[name].quantity.to_value(INTENSITY_UNIT)
    return out


def unmasked_solid_angle_sr(weights: np.ndarray) -> float:
    """Solid angle [sr] of the weighted pixels (area fractions times the pixel area)."""
    weights = np.asarray(weights, dtype=float)
    return float(weights.sum() * hp.nside2pixarea(hp.npix2nside(weights.size)))


def model_region_spectra(cubes: dict, regions, *, model: str, mask=None, fine_nside: int | None = None,
                         fit_data: dict | None = None, fit_energy_range_GeV=None, extras_maps: dict | None = None,
                         fit_names=None, flavour_fractions: dict | None = None, meta: dict | None = None,
                         fit_dataset_energy_ranges_GeV: dict | None = None):
    """Region spectra of one model with the EXTRA normalisation fit applied (the spectra stage).

    Parameters
    ----------
    cubes : dict
        ``{component: (energies_GeV, cube)}`` for the :data:`SPECTRUM_COMPONENTS`.
    regions : list of SkyRegion
    model : str
    mask : galdiff.skymaps.masks.SourceMask, optional
        Needed for regions with ``lhaaso_mask``.
    fine_nside : int, optional
        Sub-pixel resolution without a mask.
    fit_data : dict, optional
        ``{region: [tidy gamma-ray tables]}``; no fit without it.
    fit_energy_range_GeV : (float, float), optional
    fit_dataset_energy_ranges_GeV : dict, optional
        ``{dataset: (min, max)}`` replacing ``fit_energy_range_GeV`` for those tables.
    extras_maps : dict, optional
        Norms the maps were made with (:func:`galdiff.fitting.extra.extras_from_emissivity`).
    fit_names : sequence of str, optional
        Extras to fit (default: every extra of ``extras_maps`` with a norm > 0).
    flavour_fractions : dict, optional
        Flavour shares of the extras' neutrinos.
    meta : dict, optional
        Added to every table (provenance).

    Returns
    -------
    tables : dict
        ``{region: Table}`` (fitted).
    fit_summary : dict
        :func:`galdiff.fitting.extra.extra_fit_summary` output (``{"components": ...}`` only without a fit).
    fit_result : ExtraFitResult or None
    """
    regions = list(regions)
    nside = hp.npix2nside(next(iter(cubes.values()))[1].shape[-1])
    weights = region_weights(regions, nside, mask=mask, fine_nside=fine_nside)
    energies, spectra = average_cubes(cubes, weights)
    areas = {name: (masked, unmasked_solid_angle_sr(region_w)) for name, (region_w, masked) in weights.items()}
    return fitted_region_spectra(energies, spectra, regions, areas, model=model, fit_data=fit_data,
                                 fit_energy_range_GeV=fit_energy_range_GeV, extras_maps=extras_maps,
                                 fit_names=fit_names, flavour_fractions=flavour_fractions, meta=meta,
                                 fit_dataset_energy_ranges_GeV=fit_dataset_energy_ranges_GeV)


def fitted_region_spectra(energies_GeV, spectra: dict, regions, areas: dict, *, model: str,
                          fit_data: dict | None = None, fit_energy_range_GeV=None, extras_maps: dict | None = None,
                          fit_names=None, flavour_fractions: dict | None = None, meta: dict | None = None,
                          fit_dataset_energy_ranges_GeV: dict | None = None):
    """The spectra stage after the region average: the EXTRA fit and the tables (:func:`model_region_spectra`).

    Parameters
    ----------
    energies_GeV : array_like
    spectra : dict
        ``{region: {component: (n_E,)}}`` region-averaged intensities with the maps' EXTRA norms
        [GeV^-1 cm^-2 s^-1 sr^-1] (:func:`average_cubes`, or region-averaged line-of-sight weights
        applied to the emissivities, :mod:`galdiff.uncertainty.systematics`).
    regions : list of SkyRegion
    areas : dict
        ``{region: (masked fraction, unmasked solid angle [sr])}``, in the order of the tables.
    model, fit_data, fit_energy_range_GeV, extras_maps, fit_names, flavour_fractions, meta, fit_dataset_energy_ranges_GeV
        As for :func:`model_region_spectra`.

    Returns
    -------
    tables, fit_summary, fit_result
        As :func:`model_region_spectra`.
    """
    from ..fitting.data import gamma_ray_datasets
    from ..fitting.extra import extra_fit_summary, fit_extra_scales, scale_components

    energies = np.asarray(energies_GeV, dtype=float)
    regions = list(regions)
    extras_maps = dict(extras_maps or {})
    if fit_names is None:
        fit_names = [name for name, entry in extras_maps.items() if entry.get("norm_per_GeV_cm3_s_sr", 0) > 0]
    fixed = {name: "fit disabled in the configuration" for name in extras_maps if name not in fit_names}
    result = None
    if fit_data and fit_names:
        unknown = [region for region in fit_data if region not in spectra]
        if unknown:
            raise KeyError(f"EXTRA fit data given for region(s) {unknown} that are not configured regions")
        datasets = gamma_ray_datasets(fit_data, fit_energy_range_GeV, fit_dataset_energy_ranges_GeV)
        base, components = {}, {name: {} for name in fit_names}
        for region in fit_data:
            region_spectra = spectra[region]
            base_flux = region_spectra["gamma_total"] - sum(region_spectra[name] for name in fit_names)
            base[region] = (energies, np.clip(base_flux, 0.0, None))
            for name in fit_names:
                components[name][region] = (energies, region_spectra[name])
        result = fit_extra_scales(datasets, base, components, fit_names)
    elif not fit_data:
        fixed = {name: "no fit data configured" for name in extras_maps}
    scales = dict(zip(result.names, result.scales)) if result is not None else {}
    summary = extra_fit_summary(result, extras_maps, fixed, {r: [t.meta.get("dataset", "") for t in ts]
                                                            for r, ts in (fit_data or {}).items()})
    summary["model"] = model
    region_map = {region.name: region for region in regions}
    tables = {}
    for name, (masked, solid_angle_sr) in areas.items():
        scaled = scale_components(spectra[name], scales, flavour_fractions)
        extra_meta = {"extra_fit": {key: {"scale": value["scale"], "norm_per_GeV_cm3_s_sr": value["norm_per_GeV_cm3_s_sr"],
                                          "norm_maps_per_GeV_cm3_s_sr": value["norm_maps_per_GeV_cm3_s_sr"],
                                          "origin": value.get("origin", "")}
                                    for key, value in summary["components"].items()}}
        tables[name] = region_spectrum_table(
            energies, scaled, region_map[name], model=model, masked_fraction=masked,
            unmasked_solid_angle_sr=solid_angle_sr, meta={**(meta or {}), **extra_meta})
    return tables, summary, result


def write_region_spectra_outputs(region_names, tables: dict, summary: dict, result, meta: dict, model: str,
                                  outputs: dict, log) -> None:
    """Write what a region-spectra job produces: one ECSV per region (``outputs["spectra"]``, in the order of
    ``region_names``), the EXTRA fit summary (YAML, ``outputs["fit"]``) and the fitted points (ECSV,
    ``outputs["points"]``; an empty table with a note when nothing was fitted)."""
    import yaml
    from astropy.table import Table

    from ..data.datasets import write_dataset
    from ..provenance import atomic_path

    for region, path in zip(region_names, outputs["spectra"]):
        write_dataset(tables[region], path)
        log.info("wrote %s (masked fraction %.3f)", path, tables[region].meta["masked_fraction"])
    summary["provenance"] = meta
    with atomic_path(outputs["fit"]) as tmp:
        tmp.write_text(yaml.safe_dump(summary, sort_keys=False))
    if result is not None:
        result.points.meta.update({"model": model, **meta})
        log.info("EXTRA fit: %s, chi2/ndof = %.2f/%d", dict(zip(result.names, result.scales)), result.chi2, result.ndof)
        points = result.points
    else:
        points = Table(meta={"model": model, "note": "no EXTRA fit (no fit data or nothing to fit)"})
    write_dataset(points, outputs["points"])
