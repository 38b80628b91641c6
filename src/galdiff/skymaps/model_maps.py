"""All sky-map cubes of one model from its emissivities (the chain emissivity -> W -> cube).

Components written per model (``galdiff.conventions.MAP_COMPONENTS``): the gamma-ray components ``pi0``,
``bremsstrahlung``, ``inverse_compton``, ``extra1``, ``extra2`` and their sum ``gamma_total``
(pair absorption applied when enabled); the neutrinos (never absorbed) ``neutrino_diffuse``
(all flavours from the propagated cosmic rays), ``extra1_neutrino``, ``extra2_neutrino``
(all flavours, zero for a leptonic origin) and the per-flavour totals ``neutrino_e``,
``neutrino_mu``, ``neutrino_tau`` and ``neutrino_total``. Neutrino maps count nu + anti-nu.

Two sparse operators are built once per line-of-sight set-up (:mod:`galdiff.los_setups`, shared
by models with the same geometry and gas; the workflow caches them in ``results/los/<key>/``):
one with the 3D gas n_H = n_HI + 2 n_H2 + n_HII folded in (for emissivities per H atom) and one
of plain path lengths (for volume emissivities); every map is then a sparse product over all
energies at once (docs/architecture.md).
"""

from __future__ import annotations

import numpy as np

from ..config import schema_defaults
from ..conventions import FLAVOURS, GAMMA_SOURCES
from ..galaxy import gas
from ..propagation.grid import spatial_nodes_kpc
from .geometry import LineOfSightGeometry, default_shell_edges_kpc
from .operator import RZGrid, build_los_operator, hydrogen_atom_density_cm3, load_operator



def map_geometry(maps_cfg: dict, model_propagation: dict, r_sun_kpc: float = 8.3) -> LineOfSightGeometry:
    """Observer and Galaxy volume of the line-of-sight integration (absorption shells if enabled).

    Keys left out of ``maps_cfg`` and ``model_propagation`` take the schema's defaults.
    """
    maps_cfg = {**schema_defaults("maps"), **maps_cfg}
    model_propagation = {**schema_defaults("models.*.propagation"), **model_propagation}
    return LineOfSightGeometry(
        r_sun_kpc=r_sun_kpc,
        r_max_kpc=float(model_propagation["r_max_kpc"]),
        z_max_kpc=float(model_propagation["zh_kpc"]),
        step_max_kpc=float(maps_cfg["step_max_kpc"]),
        step_z_max_kpc=float(maps_cfg["step_z_max_kpc"]),
        shell_edges_kpc=default_shell_edges_kpc() if maps_cfg["absorption"] else (),
    )


def gas_density_callable(gas_r_sun_kpc: float = 8.5, x_co: float = 1.9e20):
    """3D (here axisymmetric) H-atom density from the same GALPROP gas models as the propagation."""
    return hydrogen_atom_density_cm3(
        lambda r, z: gas.n_hi_cm3(r, z, r_sun_kpc=gas_r_sun_kpc),
        lambda r, z: gas.n_h2_cm3(r, z, r_sun_kpc=gas_r_sun_kpc, x_co=x_co),
        lambda r, z: gas.n_hii_cm3(r, z, r_sun_kpc=gas_r_sun_kpc),
    )


def build_operator(nside: int, r_kpc, z_kpc, geometry: LineOfSightGeometry, galaxy_cfg: dict | None = None,
                   with_gas: bool = True):
    """The gas-weighted (``with_gas``) or the path-length line-of-sight operator of a grid."""
    cfg = {**schema_defaults("propagation.galaxy"), **(galaxy_cfg or {})}
    grid = RZGrid(np.asarray(r_kpc), np.asarray(z_kpc))
    if not with_gas:
        return build_los_operator(nside, grid, geometry)
    density = gas_density_callable(float(cfg["gas_r_sun_kpc"]), float(cfg["x_co"]))
    return build_los_operator(nside, grid, geometry, density, gas_coordinates="rz")


def build_operators(nside: int, r_kpc, z_kpc, geometry: LineOfSightGeometry, galaxy_cfg: dict | None = None):
    """The gas-weighted and the path-length line-of-sight operators of a grid."""
    return tuple(build_operator(nside, r_kpc, z_kpc, geometry, galaxy_cfg, with_gas) for with_gas in (True, False))


def setup_operator(setup: dict, with_gas: bool):
    """The gas-weighted or path-length operator of a :func:`galdiff.los_setups.los_setup` mapping.

    The same operator as :func:`build_operator` on the emissivity grid of a model with that
    set-up (its (r, z) nodes follow from the grid spacings, r_max and z_h).
    """
    r_kpc, z_kpc = spatial_nodes_kpc(setup["grid"])
    model_propagation = {"r_max_kpc": setup["grid"]["r_max_kpc"], "zh_kpc": setup["grid"]["zh_kpc"]}
    galaxy = setup["galaxy"]
    geometry = map_geometry(setup["maps"], model_propagation, float(galaxy["r_sun_kpc"]))
    return build_operator(int(setup["nside"]), r_kpc, z_kpc, geometry, galaxy, with_gas)


def setup_operators(setup: dict):
    """The (gas, path) operators of a line-of-sight set-up (:func:`setup_operator`)."""
    return setup_operator(setup, True), setup_operator(setup, False)


def load_operators(gas_path, path_path, emissivity, geometry: LineOfSightGeometry, nside: int):
    """Cached (gas, path) operators, checked against the model they are used for.

    Raises
    ------
    ValueError
        Naming the file, when an operator's grid, geometry or N_side is not the model's (a stale
        or foreign cache file).
    """
    grid = RZGrid(np.asarray(emissivity.r_kpc), np.asarray(emissivity.z_kpc))
    operators = []
    for file, includes_gas in ((gas_path, True), (path_path, False)):
        operator = load_operator(file)
        problems = []
        if not operator.grid.same_as(grid):
            problems.append(f"(r, z) grid {operator.grid.shape} != the emissivity's {grid.shape} (or other nodes)")
        if operator.geometry != geometry:
            problems.append(f"geometry {operator.geometry} != {geometry}")
        if operator.nside != int(nside) or operator.includes_gas != includes_gas:
            problems.append(f"nside {operator.nside}, gas {operator.includes_gas}; expected {nside}, {includes_gas}")
        if problems:
            raise ValueError(f"{file}: line-of-sight operator does not fit this model: " + "; ".join(problems))
        operators.append(operator)
    return tuple(operators)


def model_map_cubes(emissivity, nside: int, geometry: LineOfSightGeometry, galaxy_cfg: dict | None = None,
                    absorption: bool = True, operators=None) -> dict:
    """Map cubes (n_E, n_pix) in GeV^-1 cm^-2 s^-1 sr^-1 of every component of one model.

    Parameters
    ----------
    emissivity : galdiff.emission.EmissivityResult
    nside : int
    geometry : LineOfSightGeometry
    galaxy_cfg : dict, optional
        ``propagation.galaxy`` config (gas model settings, the same as in the propagation).
    absorption : bool
        Apply gamma-gamma pair absorption (``emissivity.kappa_per_kpc``) to gamma rays.
    operators : (LineOfSightOperator, LineOfSightOperator), optional
        Prebuilt (gas, path) operators; built here otherwise.

    Returns
    -------
    dict
        ``{name: (energies_GeV, cube)}`` for the names in the module docstring.
    """
    with_gas, path = operators or build_operators(nside, emissivity.r_kpc, emissivity.z_kpc, geometry, galaxy_cfg)
    kappa = emissivity.kappa_per_kpc if absorption else None
    components, meta = emissivity.components, emissivity.component_meta

    def line_of_sight(name, absorbed):
        operator = with_gas if meta[name]["convention"] == "per_H" else path
        return operator.intensity(components[name], kappa_per_kpc=kappa if absorbed else None, path_operator=path)

    e_gamma = emissivity.energies["gamma_energy_GeV"]
    e_nu = emissivity.energies["neutrino_energy_GeV"]
    cubes = {}
    total_gamma = np.zeros((e_gamma.size, path.n_pix))
    for name in GAMMA_SOURCES:
        cube = line_of_sight(name, absorbed=True) if name in components else np.zeros_like(total_gamma)
        cubes[name] = (e_gamma, cube)
        total_gamma += cube
    cubes["gamma_total"] = (e_gamma, total_gamma)

    per_flavour = {flavour: np.zeros((e_nu.size, path.n_pix)) for flavour in FLAVOURS}
    for source, prefix in (("neutrino_diffuse", "neutrino"), ("extra1_neutrino", "extra1_neutrino"),
                           ("extra2_neutrino", "extra2_neutrino")):
        all_flavours = np.zeros((e_nu.size, path.n_pix))
        for flavour in FLAVOURS:
            name = f"{prefix}_{flavour}"
            if name in components:
                cube = line_of_sight(name, absorbed=False)
                per_flavour[flavour] += cube
                all_flavours += cube
        cubes[source] = (e_nu, all_flavours)
    for flavour in FLAVOURS:
        cubes[f"neutrino_{flavour}"] = (e_nu, per_flavour[flavour])
    cubes["neutrino_total"] = (e_nu, sum(per_flavour.values()))
    return cubes
