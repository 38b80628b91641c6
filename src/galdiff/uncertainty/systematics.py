"""Systematic variants of the emission targets and cross sections, and their envelope (issue 13).

A variant (config ``systematics.variants.<name>``) changes one physics input that needs no new Green's
matrix, and reruns only what it changes, from the model's own propagated cosmic rays
(docs/systematics.md):

* ``hadronic_cross_sections: kafexhiu2014``: the pi0 gamma rays from the Kafexhiu et al. 2014 p-p
  parametrisation shipped with aafragpy instead of AAfrag (:mod:`galdiff.interactions.hadronic`);
  neutrinos stay AAfrag (K14 parametrises gamma rays only).
* ``x_co``: the CO-to-H2 factor of the emission targets: the gas-weighted line-of-sight operator and
  the cell gas of the bremsstrahlung mix.
* ``he_to_h``: the ISM He/H number ratio of the emission targets (pi0, neutrinos, bremsstrahlung, the
  hadronic extras' parent protons).
* ``extra_distribution``: the spatial template of every EXTRA component
  (:data:`galdiff.galaxy.sources.RADIAL_PROFILES`, e.g. ``snr_paper`` instead of the pulsars).

The propagation (energy losses on the gas, secondary e+-) always keeps the default X_CO and He/H: a
variant of the emission targets only. Each variant's region spectra are refitted to the EXTRA data
(the extras' norms absorb part of the change, as they do for the baseline). The envelope of a curve
is the pointwise minimum and maximum over the baseline and its variants.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = [
    "VARIANT_KEYS",
    "check_variants",
    "changed_components",
    "variant_galaxy_for_targets",
    "variant_extra_config",
    "variant_emissivity",
    "envelope_table",
    "envelope_columns",
    "envelope_of_numbers",
    "region_los_weights_of_operators",
    "x_co_region_los_weights",
    "write_region_los_weights_h5",
    "read_region_los_weights_h5",
    "region_averages_of_emissivity",
]

#: the keys a variant may set (workflow/schemas/config.schema.yaml, ``systematics.variants.*``)
VARIANT_KEYS = ("hadronic_cross_sections", "x_co", "he_to_h", "extra_distribution")

# what each key changes among the emissivity's CR-driven components (EmissionGrid.compute's ``include``);
# "extras" means the EXTRA components are rebuilt too
_CHANGES = {
    "hadronic_cross_sections": {"pi0"},
    "x_co": {"bremsstrahlung"},
    "he_to_h": {"pi0", "neutrinos", "bremsstrahlung", "extras"},
    "extra_distribution": {"extras"},
}


def _settings(variant: Mapping) -> dict:
    unknown = set(variant) - set(VARIANT_KEYS) - {"description"}
    if unknown:
        raise ValueError(f"systematic variant: unknown keys {sorted(unknown)}; expected some of {VARIANT_KEYS}")
    return {key: variant[key] for key in VARIANT_KEYS if key in variant}


def check_variants(systematics_cfg: Mapping, config: Mapping | None = None) -> dict:
    """The variants to run (``systematics.run``, all when null), checked: ``{name: settings}``.

    Raises one ValueError naming the key for a ``run`` name that is not a variant, an unknown
    ``extra_distribution``, or a variant that changes nothing.
    """
    from ..galaxy.sources import RADIAL_PROFILES

    variants = dict((systematics_cfg or {}).get("variants") or {})
    run = (systematics_cfg or {}).get("run")
    names = list(variants) if run is None else list(run)
    missing = [name for name in names if name not in variants]
    if missing:
        raise ValueError(f"config key 'systematics.run': {missing} are not variants; known: {sorted(variants)}")
    out = {}
    for name in names:
        settings = _settings(variants[name])
        if not settings:
            raise ValueError(f"config key 'systematics.variants.{name}': changes nothing; set one of {VARIANT_KEYS}")
        distribution = settings.get("extra_distribution")
        if distribution is not None and distribution not in RADIAL_PROFILES:
            raise ValueError(f"config key 'systematics.variants.{name}.extra_distribution': {distribution!r} is not one "
                             f"of {sorted(RADIAL_PROFILES)}")
        out[name] = settings
    return out


def changed_components(variant: Mapping) -> set:
    """The emissivity steps a variant reruns: a subset of {'pi0', 'neutrinos', 'bremsstrahlung', 'extras'}."""
    out = set()
    for key in _settings(variant):
        out |= _CHANGES[key]
    return out


def variant_galaxy_for_targets(galaxy_cfg: Mapping, variant: Mapping) -> dict:
    """The ``propagation.galaxy`` mapping of the emission targets under a variant (X_CO, He/H replaced).

    Used for the emissivity and the line-of-sight operators only, never for the propagation.
    """
    out = dict(galaxy_cfg)
    for key in ("x_co", "he_to_h"):
        if key in variant:
            out[key] = float(variant[key])
    return out


def variant_extra_config(extra_cfg: Mapping | None, variant: Mapping) -> dict:
    """``models.<model>.extra`` under a variant (every extra's ``distribution`` replaced)."""
    out = {name: dict(settings) for name, settings in (extra_cfg or {}).items()}
    if "extra_distribution" in variant:
        from ..galaxy.sources import radial_profile

        radial_profile(str(variant["extra_distribution"]))  # one clear error for an unknown name
        for settings in out.values():
            settings["distribution"] = str(variant["extra_distribution"])
    return out


def variant_emissivity(baseline, propagated: Mapping, isrf, emission_cfg: Mapping, galaxy_cfg: Mapping,
                       extra_cfg: Mapping | None, variant: Mapping, attrs: Mapping | None = None):
    """Emissivities of a model under a variant: the baseline's file with the changed components recomputed.

    Parameters
    ----------
    baseline : galdiff.emission.EmissivityResult
        The model's baseline emissivities (:func:`galdiff.emission.read_emissivity_h5`).
    propagated : mapping
        ``{'proton', 'helium', 'electron', 'positron'}`` -> propagated densities (as for
        :func:`galdiff.emission.model_emissivity`).
    isrf : galdiff.galaxy.isrf.ISRF
    emission_cfg, galaxy_cfg, extra_cfg : mapping
        The baseline ``emission``, ``propagation.galaxy`` and ``models.<model>.extra`` config.
    variant : mapping
        ``systematics.variants.<name>``.
    attrs : mapping, optional
        Extra metadata (model, variant).

    Returns
    -------
    galdiff.emission.EmissivityResult
        Every component of the baseline; those the variant changes recomputed (IC and the pair
        absorption never change).
    """
    from dataclasses import replace

    from ..emission import (
        EmissionGrid,
        extra_components_from_config,
        species_intensity_from_density,
    )
    from ..galaxy.gas import GasModel
    from ..units import get_species

    settings = _settings(variant)
    steps = changed_components(settings)
    galaxy = variant_galaxy_for_targets(galaxy_cfg, settings)
    gas_model = GasModel.from_config(galaxy)  # the baseline's gas (X_CO, He/H) under the variant
    new_gas = "x_co" in settings
    proton = propagated["proton"]
    grid = EmissionGrid(
        proton.grid.r_kpc, proton.grid.z_kpc, proton.grid.ek_GeV_per_n, propagated["electron"].grid.ek_GeV_per_n,
        gamma_energy_GeV=baseline.energies["gamma_energy_GeV"],
        neutrino_energy_GeV=baseline.energies["neutrino_energy_GeV"], isrf=isrf, gas_model=gas_model,
        pi0_cross_sections=str(settings.get("hadronic_cross_sections", "aafrag")),
    )
    if not (np.allclose(grid.r_kpc, baseline.r_kpc) and np.allclose(grid.z_kpc, baseline.z_kpc)):
        raise ValueError("variant emissivity: the propagated grid differs from the baseline emissivity's (r, z) grid")
    intensities = {}
    for species, result in propagated.items():
        ek = result.grid.ek_GeV_per_n
        intensities[species] = (ek, species_intensity_from_density(result.density, ek, get_species(species)))
    include = tuple(step for step in ("pi0", "neutrinos", "bremsstrahlung") if step in steps)
    extras = extra_components_from_config(variant_extra_config(extra_cfg, settings)) if "extras" in steps else ()
    if not include:  # no CR-driven component changes: no cosmic rays needed
        intensities = {}
    recomputed = grid.compute(intensities, extras=extras, include=include)
    components = dict(baseline.components)
    meta = dict(baseline.component_meta)
    components.update(recomputed.components)
    meta.update(recomputed.component_meta)
    out_attrs = {key: value for key, value in baseline.attrs.items() if key not in ("provenance", "convention")}
    out_attrs.update({
        "systematic_variant": dict(settings),
        "recomputed_components": sorted(recomputed.components),
        "he_to_h": gas_model.he_to_h,
        **({"gas": f"GALPROP analytic 2D gas with X_CO = {gas_model.x_co:.3g}"} if new_gas else {}),
        **({"extras": recomputed.attrs["extras"],
            "extra_parent_proton_fits": recomputed.attrs["extra_parent_proton_fits"]} if extras else {}),
        **({"pi0_cross_sections": settings["hadronic_cross_sections"]} if "hadronic_cross_sections" in settings else {}),
        **dict(attrs or {}),
    })
    return replace(baseline, components=components, component_meta=meta,
                   gas_cm3=recomputed.gas_cm3 if new_gas else baseline.gas_cm3, attrs=out_attrs,
                   timings_s=dict(recomputed.timings_s))


def region_los_weights_of_operators(los_gas, los_path, regions, nside: int, mask=None,
                                    fine_nside: int | None = None, kappa_per_kpc=None) -> dict:
    """Region-averaged line-of-sight weights of one line-of-sight set-up, for every region.

    V_r = sum_p w_p W[p, cell] / sum_p w_p (:func:`galdiff.uncertainty.response.region_los_weights`)
    of the gas-weighted (cm^-2 per H atom) and the path-length (cm) operators, with the pixel
    weights w_p of :func:`galdiff.skymaps.region_spectra.region_weights` (mask included): for an
    emissivity field q without absorption, V_r . q is the region average of the map of q, so a
    variant's region spectra need no sky map. With ``kappa_per_kpc`` also the weights with pair
    absorption, per energy (:meth:`galdiff.skymaps.operator.LineOfSightOperator.absorbed_region_weights`),
    at the energies the maps absorb (largest kappa above the maps' threshold); the unabsorbed
    weights at the others, as the maps do.

    Parameters
    ----------
    los_gas, los_path : path
        The cached operator files (``results/los/<key>/{gas,path}.npz``).
    regions : sequence of SkyRegion
    nside : int
        ``maps.nside`` (checked against the operators).
    mask : galdiff.skymaps.masks.SourceMask, optional
    fine_nside : int, optional
    kappa_per_kpc : ndarray (n_r, n_z, n_E), optional
        The pair-absorption coefficients of the emissivity files [kpc^-1] (they depend on the grid,
        the gamma-ray energies and the ISRF only, so every model of the set-up shares them); None: no
        absorption.

    Returns
    -------
    dict
        ``r_kpc``, ``z_kpc`` (the operators' grid), ``kappa_per_kpc`` (or None), ``regions``, per region
        also ``gas_absorbed``, ``path_absorbed`` (n_E, n_r, n_z) with ``kappa_per_kpc``; ``regions`` ``{name: {"gas": (n_r, n_z), "path": (n_r, n_z),
        "masked_fraction": float, "unmasked_solid_angle_sr": float, "pixel_weights": (n_pix,)}}`` (the
        pixel weights average the baseline's maps, :func:`gamma_absorption_ratios`).
    """
    from ..skymaps.operator import load_operator
    from ..skymaps.region_spectra import region_weights, unmasked_solid_angle_sr
    from .response import region_los_weights

    weights = region_weights(list(regions), int(nside), mask=mask, fine_nside=fine_nside)
    names = list(weights)
    rows = np.stack([weights[name][0] for name in names])
    out = {"regions": {name: {"masked_fraction": float(masked), "unmasked_solid_angle_sr": unmasked_solid_angle_sr(w),
                              "pixel_weights": np.asarray(w, dtype=float)}
                       for name, (w, masked) in weights.items()}}
    # memory-mapped: the pages are the page cache's (shared with the other jobs reading the set-up) and
    # nothing is copied before the kernels read it
    path_operator = load_operator(los_path, mmap=True)
    gas_operator = load_operator(los_gas, mmap=True)
    for kind, operator, includes_gas, file in (("gas", gas_operator, True, los_gas),
                                               ("path", path_operator, False, los_path)):
        if operator.nside != int(nside) or operator.includes_gas != includes_gas:
            raise ValueError(f"{file}: line-of-sight operator has nside {operator.nside}, gas {operator.includes_gas}; "
                             f"expected {int(nside)}, {includes_gas}")
    out["r_kpc"], out["z_kpc"] = np.asarray(path_operator.grid.r_kpc), np.asarray(path_operator.grid.z_kpc)
    out["kappa_per_kpc"] = None if kappa_per_kpc is None else np.asarray(kappa_per_kpc, dtype=float)
    if kappa_per_kpc is not None:
        kappa = out["kappa_per_kpc"]
        absorbed = _absorbed_energies(kappa)
    for kind, operator in (("gas", gas_operator), ("path", path_operator)):
        for name, v in region_los_weights(operator, weights).items():
            out["regions"][name][kind] = v
        if kappa_per_kpc is None:
            continue
        _set_absorbed_weights(out["regions"], kind, absorbed,
                              operator.absorbed_region_weights(rows, kappa[..., absorbed], path_operator)
                              if absorbed.any() else None)
    return out


def _absorbed_energies(kappa_per_kpc) -> np.ndarray:
    """(n_E,) bool: the energies the maps absorb (largest kappa above :data:`ABSORPTION_THRESHOLD_PER_KPC`)."""
    kappa = np.asarray(kappa_per_kpc)
    return kappa.reshape(-1, kappa.shape[-1]).max(axis=0) > ABSORPTION_THRESHOLD_PER_KPC


def _set_absorbed_weights(regions: Mapping, kind: str, absorbed, absorbed_weights) -> None:
    """``regions[name][kind + "_absorbed"]`` (n_E, n_r, n_z) of every region: its weights with pair absorption
    (``absorbed_weights``, (n_regions, n_absorbed, n_r, n_z) in the regions' order) at the ``absorbed``
    energies, its unabsorbed weights ``regions[name][kind]`` at the others, as the maps do."""
    names = list(regions)
    per_energy = np.broadcast_to(np.stack([regions[name][kind] for name in names])[:, None],
                                 (len(names), np.size(absorbed)) + np.shape(regions[names[0]][kind])).copy()
    if absorbed_weights is not None:
        per_energy[:, absorbed] = absorbed_weights
    for j, name in enumerate(names):
        regions[name][f"{kind}_absorbed"] = per_energy[j]


def x_co_region_los_weights(los_gas, los_path, baseline_weights: Mapping, setup: Mapping, x_co_values: Mapping,
                            nside: int) -> dict:
    """Region-averaged line-of-sight weights of the X_CO variants of a set-up, from the set-up's own operators.

    n_H2 is proportional to X_CO (:func:`galdiff.galaxy.gas.n_h2_cm3`), so the gas-weighted operator of
    another X_CO is W_gas + (X_CO / X_CO,set-up - 1) W_molecular with the operator W_molecular of the
    molecular gas alone (:func:`galdiff.skymaps.model_maps.setup_molecular_operator`, built here once for
    every value). The weights without absorption are linear in it:
    V_r = V_r,set-up + (X_CO / X_CO,set-up - 1) V_r,molecular; those with pair absorption are formed from
    the summed operator's weights and distance moments entry by entry
    (:meth:`galdiff.skymaps.operator.LineOfSightOperator.absorbed_region_weights` with ``added=``), the
    same numbers as from an operator built with that X_CO. The path-length weights, the pixel weights and
    the pair-absorption coefficients are the set-up's (``baseline_weights``).

    Parameters
    ----------
    los_gas, los_path : path
        The set-up's cached operator files (``results/los/<key>/{gas,path}.npz``).
    baseline_weights : mapping
        :func:`read_region_los_weights_h5` of the set-up (``results/los/<key>/region_weights.h5``).
    setup : mapping
        The set-up (:func:`galdiff.los_setups.los_setup`), whose ``galaxy.x_co`` is the reference.
    x_co_values : mapping
        ``{variant: X_CO}`` in H2 molecules cm^-2 (K km/s)^-1.
    nside : int
        ``maps.nside`` (checked against the operators).

    Returns
    -------
    dict
        ``{variant: weights}``, each as :func:`region_los_weights_of_operators` returns them.
    """
    from ..skymaps.model_maps import setup_molecular_operator
    from ..skymaps.operator import load_operator
    from .response import region_los_weights

    x_co_ref = float(setup["galaxy"]["x_co"])
    scales = {name: float(value) / x_co_ref - 1.0 for name, value in x_co_values.items()}
    names = list(baseline_weights["regions"])
    pixel = {name: np.asarray(entry["pixel_weights"], dtype=float) for name, entry in baseline_weights["regions"].items()}
    gas_operator = load_operator(los_gas, mmap=True)
    if gas_operator.nside != int(nside) or not gas_operator.includes_gas:
        raise ValueError(f"{los_gas}: line-of-sight operator has nside {gas_operator.nside}, gas "
                         f"{gas_operator.includes_gas}; expected {int(nside)}, True")
    # on the gas operator's sparsity, sharing its (mapped) column indices
    molecular = setup_molecular_operator(dict(setup), pattern=gas_operator)
    plain_molecular = region_los_weights(molecular, pixel)
    out = {}
    for variant, scale in scales.items():
        regions = {}
        for name, entry in baseline_weights["regions"].items():
            regions[name] = {key: value for key, value in entry.items() if key != "gas_absorbed"}
            regions[name]["gas"] = entry["gas"] + scale * plain_molecular[name]
        out[variant] = {"r_kpc": baseline_weights["r_kpc"], "z_kpc": baseline_weights["z_kpc"],
                        "kappa_per_kpc": baseline_weights.get("kappa_per_kpc"), "regions": regions}
    kappa = baseline_weights.get("kappa_per_kpc")
    if kappa is None or not scales:
        return out
    absorbed = _absorbed_energies(kappa)
    combined = None
    if absorbed.any():
        path_operator = load_operator(los_path, mmap=True)
        rows = np.stack([pixel[name] for name in names])
        combined = gas_operator.absorbed_region_weights(rows, kappa[..., absorbed], path_operator, added=molecular,
                                                        added_scales=list(scales.values()))
    for i, variant in enumerate(scales):
        _set_absorbed_weights(out[variant]["regions"], "gas", absorbed, None if combined is None else combined[i])
    return out


#: energies whose largest pair-absorption coefficient is below this are not absorbed
#: (:meth:`galdiff.skymaps.operator.LineOfSightOperator.intensity`'s default threshold)
ABSORPTION_THRESHOLD_PER_KPC = 1e-7


def write_region_los_weights_h5(path, los_weights: Mapping, meta: Mapping | None = None) -> None:
    """Write :func:`region_los_weights_of_operators` (``results/los/<key>/region_weights.h5``, galdiff.io records)."""
    import json

    from ..io import writing_h5

    with writing_h5(path) as handle:
        handle.attrs["meta_json"] = json.dumps(dict(meta or {}), sort_keys=True)
        handle.attrs["regions_json"] = json.dumps(list(los_weights["regions"]))
        handle["r_kpc"], handle["z_kpc"] = los_weights["r_kpc"], los_weights["z_kpc"]
        if los_weights.get("kappa_per_kpc") is not None:
            handle["kappa_per_kpc"] = los_weights["kappa_per_kpc"]
        for name, entry in los_weights["regions"].items():
            group = handle.create_group(f"regions/{name}")
            group["gas_cm2"], group["path_cm"] = entry["gas"], entry["path"]
            group["pixel_weights"] = entry["pixel_weights"]
            for kind in ("gas", "path"):
                if f"{kind}_absorbed" in entry:
                    group[f"{kind}_absorbed"] = entry[f"{kind}_absorbed"]
            group.attrs["masked_fraction"] = entry["masked_fraction"]
            group.attrs["unmasked_solid_angle_sr"] = entry["unmasked_solid_angle_sr"]


def read_region_los_weights_h5(path) -> dict:
    """The mapping :func:`write_region_los_weights_h5` wrote (regions in their configured order)."""
    import json

    from ..io import reading_h5

    with reading_h5(path) as handle:
        out = {"r_kpc": handle["r_kpc"][()], "z_kpc": handle["z_kpc"][()], "regions": {},
               "kappa_per_kpc": handle["kappa_per_kpc"][()] if "kappa_per_kpc" in handle else None}
        for name in json.loads(handle.attrs["regions_json"]):
            group = handle["regions"][name]
            out["regions"][name] = {"gas": group["gas_cm2"][()], "path": group["path_cm"][()],
                                    "pixel_weights": group["pixel_weights"][()],
                                    "masked_fraction": float(group.attrs["masked_fraction"]),
                                    "unmasked_solid_angle_sr": float(group.attrs["unmasked_solid_angle_sr"]),
                                    **{f"{kind}_absorbed": group[f"{kind}_absorbed"][()] for kind in ("gas", "path")
                                       if f"{kind}_absorbed" in group}}
    return out


def _check_grid(los_weights: Mapping, emissivity, what: str) -> None:
    r, z = np.asarray(los_weights["r_kpc"]), np.asarray(los_weights["z_kpc"])
    if r.shape != np.shape(emissivity.r_kpc) or z.shape != np.shape(emissivity.z_kpc) or not (
            np.allclose(r, emissivity.r_kpc) and np.allclose(z, emissivity.z_kpc)):
        raise ValueError(f"{what}: the region-averaged line-of-sight weights are on another (r, z) grid "
                         f"({r.size} x {z.size}) than the emissivities ({np.size(emissivity.r_kpc)} x "
                         f"{np.size(emissivity.z_kpc)})")


def _region_average(los_weights: Mapping, emissivity, name: str, absorbed: bool = False) -> dict:
    """``{region: (n_E,)}``: V_r . q of one emissivity component (gas or path weights by its convention;
    ``absorbed``: the per-energy weights with pair absorption)."""
    kind = "gas" if emissivity.component_meta[name]["convention"] == "per_H" else "path"
    field = np.asarray(emissivity.components[name], dtype=float)  # (n_r, n_z, n_E)
    if absorbed:
        return {region: np.einsum("erz,rze->e", entry[f"{kind}_absorbed"], field)
                for region, entry in los_weights["regions"].items()}
    return {region: np.tensordot(entry[kind], field, axes=([0, 1], [0, 1]))
            for region, entry in los_weights["regions"].items()}


def region_averages_of_emissivity(emissivity, los_weights: Mapping, absorption: bool = True,
                                  baseline: tuple | None = None):
    """Region spectra of every map component straight from the emissivities: no sky map.

    The region average of a map is V_r . q with the region-averaged line-of-sight weights V_r
    (:func:`region_los_weights_of_operators`); the components and sums are formed as
    :func:`galdiff.skymaps.model_maps.model_map_cubes` forms the maps (gamma-ray sources into
    ``gamma_total``; the neutrinos per source over flavours, per flavour and in total).

    Parameters
    ----------
    emissivity : galdiff.emission.EmissivityResult
    los_weights : mapping
        :func:`read_region_los_weights_h5` of the emissivity's line-of-sight set-up.
    absorption : bool
        Pair absorption of the gamma rays (``maps.absorption``): the weights' per-energy absorbed
        form, whose ``kappa_per_kpc`` must be the emissivity's.
    baseline : (EmissivityResult, mapping, mapping), optional
        The baseline's emissivities, its maps' absorbed region averages ``{region: {component:
        (n_E,)}}`` (unscaled EXTRA norms; components left out are not used) and the region weights of
        its line-of-sight set-up. A gamma-ray source is then the baseline's average plus
        V_r(E) . q - V_r,baseline(E) . q_baseline: exactly the baseline's where the variant changes
        neither the component nor the set-up, and the weights' small absorption approximation
        applies to the change only.

    Returns
    -------
    energies_GeV : ndarray
    spectra : dict
        ``{region: {component: (n_E,)}}`` in GeV^-1 cm^-2 s^-1 sr^-1, for :data:`galdiff.conventions.MAP_COMPONENTS`.
    """
    from ..conventions import FLAVOURS, GAMMA_SOURCES

    _check_grid(los_weights, emissivity, "variant")
    if absorption:
        kappa = los_weights.get("kappa_per_kpc")
        if kappa is None:
            raise ValueError("pair absorption asked for, but the region weights were made without kappa_per_kpc")
        if np.shape(kappa) != np.shape(emissivity.kappa_per_kpc) or not np.allclose(
                kappa, emissivity.kappa_per_kpc, rtol=1e-12, atol=0.0):
            raise ValueError("the region weights' pair-absorption coefficients are not the emissivity's "
                             "(another grid, gamma-ray energy axis or ISRF)")
    e_gamma = np.asarray(emissivity.energies["gamma_energy_GeV"], dtype=float)
    e_nu = np.asarray(emissivity.energies["neutrino_energy_GeV"], dtype=float)
    if e_gamma.shape != e_nu.shape or not np.allclose(e_gamma, e_nu, rtol=1e-10):
        raise ValueError("the region spectra need one energy grid for gamma rays and neutrinos")
    regions = list(los_weights["regions"])
    zero = np.zeros(e_gamma.size)
    spectra = {region: {} for region in regions}
    components = emissivity.components
    for region in regions:
        spectra[region]["gamma_total"] = zero.copy()
    for name in GAMMA_SOURCES:
        averages = _region_average(los_weights, emissivity, name, absorption) if name in components else None
        if averages is not None and baseline is not None and name in baseline[0].components and all(
                name in baseline[1].get(region, {}) for region in regions):
            before = _region_average(baseline[2], baseline[0], name, absorption)
            if np.array_equal(emissivity.components[name], baseline[0].components[name]) and all(
                    np.array_equal(averages[region], before[region]) for region in regions):
                averages = {region: np.asarray(baseline[1][region][name], dtype=float) for region in regions}
            else:
                averages = {region: np.asarray(baseline[1][region][name], dtype=float) + averages[region]
                            - before[region] for region in regions}
        for region in regions:
            value = zero.copy() if averages is None else averages[region]
            spectra[region][name] = value
            spectra[region]["gamma_total"] = spectra[region]["gamma_total"] + value
    for region in regions:
        for flavour in FLAVOURS:
            spectra[region][f"neutrino_{flavour}"] = zero.copy()
    for source, prefix in (("neutrino_diffuse", "neutrino"), ("extra1_neutrino", "extra1_neutrino"),
                           ("extra2_neutrino", "extra2_neutrino")):
        for region in regions:
            spectra[region][source] = zero.copy()
        for flavour in FLAVOURS:
            name = f"{prefix}_{flavour}"
            if name not in components:
                continue
            averages = _region_average(los_weights, emissivity, name)
            for region in regions:
                spectra[region][f"neutrino_{flavour}"] = spectra[region][f"neutrino_{flavour}"] + averages[region]
                spectra[region][source] = spectra[region][source] + averages[region]
    for region in regions:
        spectra[region]["neutrino_total"] = sum(spectra[region][f"neutrino_{f}"] for f in FLAVOURS)
    return e_gamma, spectra


def envelope_columns(table) -> list:
    """The intensity columns of a region spectra table that get an envelope (every component but energy)."""
    return [name for name in table.colnames if name != "energy" and table[name].ndim == 1
            and np.issubdtype(np.asarray(table[name]).dtype, np.floating)]


def envelope_table(baseline, variants: Mapping, meta: Mapping | None = None):
    """Pointwise envelope of the variants' region spectra around the baseline.

    Parameters
    ----------
    baseline : astropy.table.Table
        The model's region spectra (``results/spectra/<model>/<region>.ecsv``).
    variants : mapping
        Variant name -> the same region's spectra under the variant (same energies).
    meta : mapping, optional
        Extra metadata (the variants' settings, their EXTRA norms).

    Returns
    -------
    astropy.table.Table
        ``energy``; per component ``c``: ``c`` (baseline), ``c_syst_lo`` / ``c_syst_hi`` (minimum and
        maximum over the baseline and every variant, same units) and ``c_ratio_<variant>`` (variant /
        baseline; NaN where the baseline is 0). Meta ``variants``, ``definition``.
    """
    from astropy.table import Table

    energy = baseline["energy"]
    out = Table({"energy": energy})
    for name, table in variants.items():
        if len(table) != len(baseline) or not np.allclose(table["energy"].quantity.value, energy.quantity.value):
            raise ValueError(f"systematic variant {name!r}: its region spectra have other energies than the baseline")
    for column in envelope_columns(baseline):
        base = np.asarray(baseline[column], dtype=float)
        stack = [base] + [np.asarray(table[column], dtype=float) for table in variants.values() if column in table.colnames]
        stack = np.vstack(stack)
        unit = baseline[column].unit
        out[column] = baseline[column]
        out[f"{column}_syst_lo"] = stack.min(axis=0) * (unit or 1)
        out[f"{column}_syst_hi"] = stack.max(axis=0) * (unit or 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            for name, table in variants.items():
                if column in table.colnames:
                    out[f"{column}_ratio_{name}"] = np.where(base > 0, np.asarray(table[column], dtype=float) / base, np.nan)
    out.meta.update({
        "model": baseline.meta.get("model"), "region": baseline.meta.get("region"),
        "variants": list(variants),
        "definition": "envelope of the systematic variants (docs/systematics.md): per energy the minimum (_syst_lo) and "
                      "maximum (_syst_hi) over the baseline and every variant; _ratio_<variant> = variant / baseline; "
                      "each variant with its own EXTRA fit",
        **dict(meta or {}),
    })
    return out


def envelope_of_numbers(baseline_value, variant_values: Mapping) -> dict:
    """A number's systematic envelope: value, per-variant values, and the lower / upper shifts.

    Returns
    -------
    dict
        ``value`` (baseline), ``variants`` (name -> value), ``syst_lo``, ``syst_hi`` (min and max over
        baseline and variants), ``syst_minus``, ``syst_plus`` (value - min, max - value, >= 0). None
        where the baseline value is None.
    """
    if baseline_value is None:
        return None
    values = {name: (None if value is None else float(value)) for name, value in variant_values.items()}
    finite = [float(baseline_value)] + [v for v in values.values() if v is not None and np.isfinite(v)]
    lo, hi = min(finite), max(finite)
    return {"value": float(baseline_value), "variants": values, "syst_lo": lo, "syst_hi": hi,
            "syst_minus": float(baseline_value) - lo, "syst_plus": hi - float(baseline_value),
            # variants where the number does not exist (e.g. no hadronic extra left after their EXTRA fit)
            "undefined_in": sorted(name for name, value in values.items() if value is None)}


def headline_envelope(baseline_spectra, variant_spectra: Mapping, cascades, energies_GeV) -> dict:
    """The headline shares (:func:`galdiff.comparison.table4.headline_numbers`) of the baseline and of each
    variant, as :func:`envelope_of_numbers` per share."""
    from ..comparison.table4 import headline_numbers

    base = headline_numbers(baseline_spectra, cascades, energies_GeV)["ours"]
    by_variant = {name: headline_numbers(table, cascades, energies_GeV)["ours"] for name, table in variant_spectra.items()}
    return {key: envelope_of_numbers(value, {name: ours.get(key) for name, ours in by_variant.items()})
            for key, value in base.items()}


def table4_ratio_envelope(baseline_spectra, variant_spectra: Mapping, bands: Mapping, template_fits,
                          n_sigma: float = 1.0) -> dict:
    """Table IV's model / IceCube-template flux ratios (:func:`galdiff.comparison.table4.neutrino_check`) of the
    baseline and each variant: ``{scenario: {template: envelope_of_numbers}}``."""
    from ..comparison.table4 import neutrino_check

    def ratios(table):
        checked = neutrino_check(table, bands, template_fits, n_sigma)
        return {scenario: (None if entry is None else {key: result["ratio"] for key, result in entry["templates"].items()})
                for scenario, entry in checked.items()}

    base = ratios(baseline_spectra)
    by_variant = {name: ratios(table) for name, table in variant_spectra.items()}
    out = {}
    for scenario, values in base.items():
        if values is None:
            out[scenario] = None
            continue
        out[scenario] = {key: envelope_of_numbers(value, {name: (r.get(scenario) or {}).get(key)
                                                          for name, r in by_variant.items()})
                         for key, value in values.items()}
    return out


def _with_stat(entry: Mapping | None, stat: Mapping | None) -> dict | None:
    if entry is None:
        return None
    return {"value": entry["value"], "stat_error": None if not stat else stat.get("error"),
            "syst_minus": entry["syst_minus"], "syst_plus": entry["syst_plus"],
            "syst_lo": entry["syst_lo"], "syst_hi": entry["syst_hi"], "variants": dict(entry["variants"]),
            "undefined_in": list(entry.get("undefined_in", []))}


def summary_entry(numbers: Mapping, band_headline: Mapping | None = None, band_table4: Mapping | None = None) -> dict:
    """``summary.json`` ``systematics``: the headline shares and Table IV ratios as value +- stat and the
    variants' envelope (``syst_minus``, ``syst_plus``), with each variant's value.

    Parameters
    ----------
    numbers : mapping
        ``results/systematics/numbers.json``.
    band_headline, band_table4 : mapping, optional
        ``results/bands/headline.json`` and ``results/bands/table4.json`` (the statistical errors).
    """
    model = numbers["headline_model"]
    stat_shares = (band_headline or {}).get("shares", {})
    headline = {share: _with_stat(entry, stat_shares.get(share))
                for share, entry in (numbers["headline"].get(model) or {}).items()}
    table4 = {}
    for name, scenarios in numbers["table4"].items():
        stat_model = ((band_table4 or {}).get("models") or {}).get(name) or {}
        table4[name] = {scenario: (None if templates is None else {
            key: _with_stat(entry, (stat_model.get(scenario) or {}).get(key)) for key, entry in templates.items()})
            for scenario, templates in scenarios.items()}
    return {
        "variants": dict(numbers["variants"]),
        "definition": numbers["definition"] + "; stat_error: half the 68 % interval of the fit-covariance band",
        "headline_model": model,
        "headline_region": numbers["headline_region"],
        "headline": headline,
        "headline_by_model": {name: {share: _with_stat(entry, None) for share, entry in shares.items()}
                              for name, shares in numbers["headline"].items()},
        "table4_window": numbers["table4_window"],
        "table4": table4,
    }


def _percent(value):
    if value is None:
        return "n/a"
    return "0" if value == 0 else f"{100 * value:.2g} %"


def readme_block(summary: Mapping) -> str:
    """The README's generated ``systematics`` block (Markdown) from ``summary.json``: the headline shares as
    value +- stat and the envelope, and each variant's value; a line saying so when no variant ran."""
    syst = summary.get("systematics")
    if not syst:
        return "No systematic variants in this run (config `systematics.variants`).\n"
    names = list(syst["variants"])
    header = "| share (" + str(syst["headline_model"]) + ", " + str(syst["headline_region"]) + ") | value +- stat | " \
             "syst envelope | " + " | ".join(names) + " |"
    lines = [header, "|" + "---|" * (3 + len(names))]
    labels = {"share_20TeV": "20 TeV", "share_1PeV_extra2_hadronic": "1 PeV, EXTRA2 hadronic",
              "share_1PeV_extra2_leptonic": "1 PeV, EXTRA2 leptonic"}
    for share, entry in syst["headline"].items():
        if entry is None:
            continue
        stat = "" if entry["stat_error"] is None else f" +- {_percent(entry['stat_error'])}"
        cells = [labels.get(share, share), f"{_percent(entry['value'])}{stat}",
                 f"-{_percent(entry['syst_minus'])} / +{_percent(entry['syst_plus'])}",
                 *[_percent(entry["variants"].get(name)) for name in names]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Table IV, model / IceCube template-fit flux ratio in " + str(syst.get("table4_window")) +
              ": value +- stat (systematic envelope -minus / +plus)", "",
              "| model, extras | pi0 | KRA-gamma-5 | KRA-gamma-50 |", "|---|---|---|---|"]
    for model, scenarios in syst.get("table4", {}).items():
        for scenario, templates in scenarios.items():
            if templates is None:
                continue
            cells = [f"{model}, {scenario}"]
            for key in ("icecube_pi0", "kra_gamma_5", "kra_gamma_50"):
                entry = templates.get(key)
                if entry is None:
                    cells.append("n/a")
                    continue
                stat = "" if entry["stat_error"] is None else f" +- {entry['stat_error']:.2g}"
                cells.append(f"{entry['value']:.2f}{stat} (-{entry['syst_minus']:.2g} / +{entry['syst_plus']:.2g})")
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "n/a: the number does not exist in that variant (its EXTRA fit leaves no hadronic extra); the envelope "
              "spans the variants where it does."]
    return "\n".join(lines) + "\n"
