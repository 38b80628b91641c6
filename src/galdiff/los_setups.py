"""Line-of-sight set-ups: what the sky-map operators depend on, and a cache key for it.

The two line-of-sight operators of the sky maps (gas-weighted and path-length,
:func:`galdiff.skymaps.model_maps.build_operators`) depend on the HEALPix N_side, the step caps,
whether pair-absorption shells are used, the observer (``r_sun_kpc``), the (r, z) nodes of the
emissivity grid (``r_max_kpc, dr_kpc, zh_kpc, dz_kpc``: also the model cylinder) and the gas model
(``gas_r_sun_kpc``, ``x_co``); *not* on the cosmic rays, the emission or the model's Table I
beyond r_max and z_h. :func:`los_setup` collects exactly these inputs into a plain mapping and
:func:`los_key` hashes it, so models with the same geometry share one pair of operator files
(``results/los/<key>/{gas,path}.npz``), built once while the propagation runs.

A systematic variant that changes X_CO alone needs no operators of its own (:func:`setup_differences`;
rule region_los_weights_xco forms its region weights from the baseline set-up's operators).

As for the Green's matrices (:mod:`galdiff.propagation.setups`), the key covers the
configuration, not the code: after a change of the operator code, rebuild them
(``snakemake --forcerun los_operators``).

This module is imported when the workflow is parsed, so it stays light (no healpy, no Numba).
"""

from __future__ import annotations

from collections.abc import Mapping

from .config import schema_defaults
from .propagation.setups import GALAXY_DEFAULTS
from .provenance import config_hash

#: ``maps`` keys that enter the operators and their defaults (the schema's; galdiff.skymaps.model_maps reads them)
MAPS_DEFAULTS = {key: schema_defaults("maps")[key] for key in ("step_max_kpc", "step_z_max_kpc", "absorption")}
#: ``propagation.galaxy`` keys that enter the operators (observer and gas model)
GALAXY_KEYS = ("r_sun_kpc", "gas_r_sun_kpc", "x_co")
#: grid keys of the (r, z) nodes
SPATIAL_GRID_KEYS = ("r_max_kpc", "dr_kpc", "zh_kpc", "dz_kpc")


def los_setup(maps_cfg: Mapping, model_propagation: Mapping, propagation_cfg: Mapping) -> dict:
    """Everything the line-of-sight operators of one model depend on, as a plain mapping.

    Parameters
    ----------
    maps_cfg : mapping
        The ``maps`` config (``nside``, ``step_max_kpc``, ``step_z_max_kpc``, ``absorption``).
    model_propagation : mapping
        ``models.<model>.propagation`` (``zh_kpc``, optional ``r_max_kpc``).
    propagation_cfg : mapping
        The ``propagation`` config (``grid`` spacings, ``galaxy``).

    Returns
    -------
    dict
        ``nside``; ``maps`` (step caps in kpc, absorption flag); ``grid`` (r_max, dr, zh, dz in kpc);
        ``galaxy`` (r_sun, gas_r_sun in kpc, X_CO in cm^-2 (K km/s)^-1). JSON-serialisable.
    """
    galaxy = dict(GALAXY_DEFAULTS)
    galaxy.update({key: float(value) for key, value in (propagation_cfg.get("galaxy") or {}).items()})
    grid_cfg = propagation_cfg["grid"]
    grid = {
        "r_max_kpc": float({**schema_defaults("models.*.propagation"), **model_propagation}["r_max_kpc"]),
        "dr_kpc": float(grid_cfg["dr_kpc"]),
        "zh_kpc": float(model_propagation["zh_kpc"]),
        "dz_kpc": float(grid_cfg["dz_kpc"]),
    }
    maps = {key: type(default)(maps_cfg.get(key, default)) for key, default in MAPS_DEFAULTS.items()}
    return {
        "nside": int(maps_cfg["nside"]),
        "maps": maps,
        "grid": grid,
        "galaxy": {key: float(galaxy[key]) for key in GALAXY_KEYS},
    }


def setup_differences(setup: Mapping, reference: Mapping) -> list:
    """The dotted keys (e.g. ``"galaxy.x_co"``) in which two :func:`los_setup` mappings differ, sorted.

    A set-up that differs from another in ``galaxy.x_co`` alone needs no operators of its own: its
    gas-weighted operator is the other's plus the molecular one scaled
    (:func:`galdiff.uncertainty.systematics.x_co_region_los_weights`).
    """
    out = []
    for key in sorted(set(setup) | set(reference)):
        mine, theirs = setup.get(key), reference.get(key)
        if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
            out += [f"{key}.{inner}" for inner in sorted(set(mine) | set(theirs)) if mine.get(inner) != theirs.get(inner)]
        elif mine != theirs:
            out.append(key)
    return out


def los_key(setup: Mapping) -> str:
    """Short stable hash (16 hex digits) of a :func:`los_setup` mapping."""
    return config_hash(dict(setup))
