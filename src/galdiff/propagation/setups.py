"""Transport set-ups: what a species' propagation operator depends on, and a cache key for it.

The steady-state operator of one species, hence its Green's matrix at the Sun, depends on the
numerical grid of that species, the Table I transport parameters of the model, the Galaxy
(gas, B field, observer and source radius, He/H), the loss-flux order and, for leptons, the
interstellar radiation field; it does *not* depend on the injection spectrum
(docs/architecture.md#the-chain-is-linear). :func:`transport_setup` collects exactly these inputs,
with defaults filled in and numbers as floats, into a plain mapping; :func:`setup_key` hashes it.
Two models with the same transport (``dr_high`` and ``dr_low`` share Table I) get the same key,
so the workflow computes their Green's matrices once (``results/greens/<key>/greens_<species>.h5``).

The key covers the configuration, not the code: after a change of the solver or of the physics
inputs in the library, rebuild the Green's files (``snakemake --forcerun greens``).

This module is imported when the workflow is parsed, so it stays light (no solver, no Numba).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..config import schema_defaults
from ..provenance import config_hash
from .grid import GRID_CONFIG_KEYS, Grid

#: Galaxy keys (``propagation.galaxy``) and their defaults (the schema's), as galdiff.propagation.model uses them
GALAXY_DEFAULTS = schema_defaults("propagation.galaxy")
#: Table I keys of ``models.<model>.propagation`` that enter the operator (r_max_kpc and zh_kpc
#: also fix the grid)
TRANSPORT_KEYS = ("D0_1e28_cm2_per_s", "delta", "eta", "vA_km_per_s", "zh_kpc")
#: species whose losses use the radiation field (their set-up carries the ISRF file's sha256)
RADIATION_SPECIES = ("electron", "positron")
#: the Green's matrices the fit stage needs; positrons use the electron one (same transport)
GREENS_SPECIES = ("proton", "helium", "electron")


def species_grid_config(grid_cfg: Mapping, model_propagation: Mapping, species_name: str) -> dict:
    """The resolved grid of one species: spacings and energies (with its overrides), r_max and zh of the model.

    Returns
    -------
    dict
        The keys of :data:`galdiff.propagation.grid.GRID_CONFIG_KEYS` as floats (kpc, GeV/n, nodes
        per decade); :meth:`Grid.from_config` of it gives the species' grid.
    """
    cfg = dict(grid_cfg)
    cfg["r_max_kpc"] = float({**schema_defaults("models.*.propagation"), **model_propagation}["r_max_kpc"])
    cfg["zh_kpc"] = float(model_propagation["zh_kpc"])
    grid = Grid.from_config(cfg, species=species_name)  # validates the numbers and the spacings
    return {key: float(grid.config[key]) for key in GRID_CONFIG_KEYS}


def transport_setup(model_cfg: Mapping, propagation_cfg: Mapping, species_name: str,
                    isrf_sha256: str | None = None) -> dict:
    """Everything the propagation operator of one species depends on, as a plain mapping.

    Parameters
    ----------
    model_cfg : mapping
        ``models.<model>`` config; only its ``propagation`` (Table I) entry is used.
    propagation_cfg : mapping
        The ``propagation`` config: ``grid``, ``galaxy`` (optional), ``loss_order`` (optional).
    species_name : {"proton", "helium", "electron", "positron"}
    isrf_sha256 : str, optional
        sha256 of the ISRF file, for electrons and positrons (their IC losses use it). ``None``
        leaves it out of the key (use only where no key is needed, e.g. a direct run).

    Returns
    -------
    dict
        ``species``; ``grid`` (:func:`species_grid_config`); ``transport`` (Table I values as
        floats); ``galaxy`` (:data:`GALAXY_DEFAULTS` updated by the config); ``loss_order``;
        ``source`` (the spatial source law, docs/paper.md#eq-2-source-distribution); for leptons ``isrf_sha256``.
        Values are JSON-serialisable, so the mapping is its own provenance record.
    """
    prop = model_cfg["propagation"]
    missing = [key for key in TRANSPORT_KEYS if key not in prop]
    if missing:
        raise KeyError(f"model propagation config: missing key(s) {missing}")
    galaxy = dict(GALAXY_DEFAULTS)
    for key, value in (propagation_cfg.get("galaxy") or {}).items():
        if key not in GALAXY_DEFAULTS:
            raise KeyError(f"propagation.galaxy: unknown key {key!r}; known: {sorted(GALAXY_DEFAULTS)}")
        galaxy[key] = float(value)
    setup = {
        "species": species_name,
        "grid": species_grid_config(propagation_cfg["grid"], prop, species_name),
        "transport": {key: float(prop[key]) for key in TRANSPORT_KEYS},
        "galaxy": galaxy,
        "loss_order": int({**schema_defaults("propagation"), **propagation_cfg}["loss_order"]),
        "source": "snr_eq2",
    }
    if species_name in RADIATION_SPECIES:
        setup["isrf_sha256"] = None if isrf_sha256 is None else str(isrf_sha256)
    return setup


def setup_key(setup: Mapping) -> str:
    """Short stable hash (16 hex digits) of a :func:`transport_setup` mapping, without its species.

    The species is left out because the Green's file names carry it: protons and helium on the
    same grid share a key (and a folder), electrons differ by their grid and the ISRF.
    """
    return config_hash({key: value for key, value in setup.items() if key != "species"})
