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
from ..galaxy.gas import GasModel
from ..propagation.grid import spatial_nodes_kpc
from .geometry import LineOfSightGeometry, default_shell_edges_kpc
from .operator import (Absorber, RZGrid, build_los_operator, build_los_operator_on_pattern,
                       hydrogen_atom_density_cm3, load_operator)



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


def build_operator(nside: int, r_kpc, z_kpc, geometry: LineOfSightGeometry, galaxy_cfg: dict | None = None,
                   with_gas: bool = True):
    """The gas-weighted (``with_gas``) or the path-length line-of-sight operator of a grid.

    The gas is the H-atom density n_HI + 2 n_H2 + n_HII of the propagation's gas model
    (:meth:`galdiff.galaxy.gas.GasModel.hydrogen_atoms_cm3` of ``galaxy_cfg``, point values along
    the line of sight).
    """
    grid = RZGrid(np.asarray(r_kpc), np.asarray(z_kpc))
    if not with_gas:
        return build_los_operator(nside, grid, geometry)
    density = GasModel.from_config(galaxy_cfg).hydrogen_atoms_cm3
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


def setup_molecular_operator(setup: dict, pattern=None):
    """The gas-weighted operator of the molecular gas alone (2 n_H2 at the set-up's X_CO) of a set-up.

    n_H2 is proportional to X_CO (:func:`galdiff.galaxy.gas.n_h2_cm3`), so the gas-weighted operator of
    another X_CO is W_gas + (X_CO / X_CO,set-up - 1) W_molecular, entry by entry (weights and distance
    moments; the sparsity is the gas operator's, the molecular density being floored above 0). Not cached:
    it serves the region weights of the X_CO variants only (rule region_los_weights_xco).

    ``pattern``: the set-up's gas operator (:func:`setup_operator`, or its cached file); the molecular one is
    then written into its sparsity and shares its column indices
    (:func:`galdiff.skymaps.operator.build_los_operator_on_pattern`: the same numbers, less time and memory).
    """
    r_kpc, z_kpc = spatial_nodes_kpc(setup["grid"])
    model_propagation = {"r_max_kpc": setup["grid"]["r_max_kpc"], "zh_kpc": setup["grid"]["zh_kpc"]}
    galaxy = setup["galaxy"]
    geometry = map_geometry(setup["maps"], model_propagation, float(galaxy["r_sun_kpc"]))
    grid = RZGrid(np.asarray(r_kpc), np.asarray(z_kpc))
    density = hydrogen_atom_density_cm3(n_H2_molecules_cm3=GasModel.from_config(galaxy).n_h2_cm3)
    if pattern is None:
        return build_los_operator(int(setup["nside"]), grid, geometry, density, gas_coordinates="rz")
    if (pattern.geometry != geometry or not pattern.grid.same_as(grid) or pattern.nside != int(setup["nside"])
            or not pattern.includes_gas):
        raise ValueError("setup_molecular_operator: the pattern operator is not a gas operator of this set-up "
                         "(geometry, grid or N_side)")
    return build_los_operator_on_pattern(pattern, density, gas_coordinates="rz")


def setup_operators(setup: dict):
    """The (gas, path) operators of a line-of-sight set-up (:func:`setup_operator`)."""
    return setup_operator(setup, True), setup_operator(setup, False)


def load_operators(gas_path, path_path, emissivity, geometry: LineOfSightGeometry, nside: int, mmap: bool = True):
    """Cached (gas, path) operators, checked against the model they are used for.

    ``mmap``: memory-map them (:func:`galdiff.skymaps.operator.load_operator`).

    Raises
    ------
    ValueError
        Naming the file, when an operator's grid, geometry or N_side is not the model's (a stale
        or foreign cache file).
    """
    open_operator = cached_operators(gas_path, path_path, emissivity, geometry, nside, mmap)
    return open_operator(True), open_operator(False)


def cached_operators(gas_path, path_path, emissivity, geometry: LineOfSightGeometry, nside: int, mmap: bool = True,
                     total_paths=None):
    """``open(with_gas) -> LineOfSightOperator``: the cached gas or path operator, read afresh at each call.

    For :func:`model_map_cubes`, which opens each operator only for the step that needs it, so
    that a memory-mapped operator is unmapped as soon as the step is done. Every operator opened
    is checked as in :func:`load_operators`. ``total_paths``: the (gas, path) shell sums of
    :func:`galdiff.skymaps.operator.save_total_matrix`, read instead of summed.
    """
    grid = RZGrid(np.asarray(emissivity.r_kpc), np.asarray(emissivity.z_kpc))
    files = {True: gas_path, False: path_path}
    totals = {True: None, False: None} if total_paths is None else {True: total_paths[0], False: total_paths[1]}

    def open_operator(with_gas: bool):
        file = files[bool(with_gas)]
        operator = load_operator(file, mmap=mmap, total_path=totals[bool(with_gas)])
        problems = []
        if not operator.grid.same_as(grid):
            problems.append(f"(r, z) grid {operator.grid.shape} != the emissivity's {grid.shape} (or other nodes)")
        if operator.geometry != geometry:
            problems.append(f"geometry {operator.geometry} != {geometry}")
        if operator.nside != int(nside) or operator.includes_gas != bool(with_gas):
            problems.append(f"nside {operator.nside}, gas {operator.includes_gas}; expected {nside}, {bool(with_gas)}")
        if problems:
            raise ValueError(f"{file}: line-of-sight operator does not fit this model: " + "; ".join(problems))
        return operator

    return open_operator


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
    operators : (LineOfSightOperator, LineOfSightOperator) or callable, optional
        Prebuilt (gas, path) operators, or ``open(with_gas)`` returning them
        (:func:`cached_operators`); built here otherwise.

    Returns
    -------
    dict
        ``{name: (energies_GeV, cube)}`` for the names in the module docstring.
    """
    return dict(iter_model_map_cubes(emissivity, nside, geometry, galaxy_cfg, absorption, operators))


def iter_model_map_cubes(emissivity, nside: int, geometry: LineOfSightGeometry, galaxy_cfg: dict | None = None,
                         absorption: bool = True, operators=None):
    """``(name, (energies_GeV, cube))`` of every map of :func:`model_map_cubes`, one at a time.

    Each cube is yielded as soon as it is complete (the gas-weighted operator's components first),
    so a caller that writes and drops it holds few cubes at once; every name of
    ``galdiff.conventions.MAP_COMPONENTS`` comes once. The line-of-sight work
    is done per operator (the gas-weighted one for the emissivities per H atom, then the path one)
    and within it in two steps, each with only the arrays it needs: the unabsorbed energies and
    the neutrinos with W summed over the shells, then the absorbed energies of all gamma-ray
    components at once with the shells and their distance moments (their optical depths summed
    once). Every number is the one :meth:`LineOfSightOperator.intensity` gives component by component.
    """
    if operators is None:
        operators = build_operators(nside, emissivity.r_kpc, emissivity.z_kpc, geometry, galaxy_cfg)
    open_operator = operators if callable(operators) else (lambda with_gas: operators[0 if with_gas else 1])
    components, meta = emissivity.components, emissivity.component_meta
    e_gamma = emissivity.energies["gamma_energy_GeV"]
    e_nu = emissivity.energies["neutrino_energy_GeV"]
    absorber = None
    if absorption and emissivity.kappa_per_kpc is not None:
        grid = RZGrid(np.asarray(emissivity.r_kpc), np.asarray(emissivity.z_kpc))
        absorber = Absorber.of(emissivity.kappa_per_kpc, grid, e_gamma.size)

    gamma_names = [name for name in GAMMA_SOURCES if name in components]
    neutrino_names = [f"{prefix}_{flavour}" for prefix in _NEUTRINO_PREFIXES.values() for flavour in FLAVOURS
                      if f"{prefix}_{flavour}" in components]
    n_pix = open_operator(False).n_pix
    # every sum adds its terms in this order (as a loop over the components would), whatever order they come in
    sums = {"gamma_total": _OrderedSum(GAMMA_SOURCES, (e_gamma.size, n_pix))}
    for source, prefix in _NEUTRINO_PREFIXES.items():
        sums[source] = _OrderedSum([n for n in neutrino_names if n.startswith(prefix + "_")], (e_nu.size, n_pix))
    for flavour in FLAVOURS:
        sums[f"neutrino_{flavour}"] = _OrderedSum(
            [f"{prefix}_{flavour}" for prefix in _NEUTRINO_PREFIXES.values() if f"{prefix}_{flavour}" in components],
            (e_nu.size, n_pix))
    energies = {**{name: e_gamma for name in ("gamma_total", *GAMMA_SOURCES)},
                **{name: e_nu for name in sums if name != "gamma_total"}}
    flavour_maps = {}

    def finished_sums():
        for name in [n for n, total in sums.items() if total.complete]:
            value = sums.pop(name).value
            if name.startswith("neutrino_") and name.removeprefix("neutrino_") in FLAVOURS:
                flavour_maps[name] = value
            yield name, (energies[name], value)

    def feed(name, cube):
        for total in sums.values():
            total.add(name, cube)

    yield from finished_sums()  # sums without terms (e.g. no extra2 neutrinos): zero maps
    for name in GAMMA_SOURCES:
        if name not in components:
            cube = np.zeros((e_gamma.size, n_pix))
            feed(name, cube)
            yield name, (e_gamma, cube)
    for with_gas in (True, False):
        group = [n for n in gamma_names + neutrino_names if (meta[n]["convention"] == "per_H") == with_gas]
        cubes = _operator_cubes(open_operator, with_gas, [n for n in group if n in gamma_names],
                                [n for n in group if n in neutrino_names], components, absorber)
        for name in group:
            cube = cubes.pop(name)
            feed(name, cube)
            if name in gamma_names:
                yield name, (e_gamma, cube)
            del cube
            yield from finished_sums()
    if sums:
        raise RuntimeError(f"map sums left incomplete: {sorted(sums)}")
    yield "neutrino_total", (e_nu, sum(flavour_maps[f"neutrino_{flavour}"] for flavour in FLAVOURS))


class _OrderedSum:
    """A map summed from named terms in a fixed order, starting from zeros (terms may arrive in any order)."""

    def __init__(self, terms, shape):
        self.terms = list(terms)
        self.value = np.zeros(shape)
        self.waiting = {}

    @property
    def complete(self) -> bool:
        return not self.terms

    def add(self, name, cube):
        if name not in self.terms:
            return
        self.waiting[name] = cube
        while self.terms and self.terms[0] in self.waiting:
            self.value += self.waiting.pop(self.terms.pop(0))


#: the neutrino map of each source and the prefix of its per-flavour emissivities
_NEUTRINO_PREFIXES = {"neutrino_diffuse": "neutrino", "extra1_neutrino": "extra1_neutrino",
                      "extra2_neutrino": "extra2_neutrino"}


def _operator_cubes(open_operator, with_gas: bool, gamma_names: list, neutrino_names: list, components: dict,
                    absorber) -> dict:
    """``{name: cube (n_E, n_pix)}`` of the components that one operator (gas or path) maps.

    Two steps, each opening only what it needs (:func:`iter_model_map_cubes`).
    """
    operator = open_operator(with_gas)
    grid = operator.grid
    cells = {name: grid.flatten_field(components[name], name) for name in gamma_names + neutrino_names}
    absorbed = absorber.absorbed if absorber is not None else np.zeros(0, dtype=bool)
    cubes = {}
    for name in neutrino_names:
        cubes[name] = np.ascontiguousarray(operator.summed_intensity(cells.pop(name)).T)
    for name in gamma_names:
        n_e = cells[name].shape[1]
        if absorber is None:
            cubes[name] = np.ascontiguousarray(operator.summed_intensity(cells[name]).T)
            continue
        if absorbed.size != n_e:
            raise ValueError(f"{name} has {n_e} energies; the absorption coefficient has {absorbed.size}")
        cubes[name] = np.empty((n_e, operator.n_pix))
        if np.any(~absorbed):
            cubes[name][~absorbed] = operator.summed_intensity(cells[name][:, ~absorbed]).T
    if absorber is None or not gamma_names or not np.any(absorbed):
        return cubes
    del operator  # the summed W is not needed any more: unmapped here when memory-mapped
    operator = open_operator(with_gas)
    path = open_operator(False) if (with_gas and not absorber.uniform) else None
    attenuated = operator.absorbed_intensities([cells[name] for name in gamma_names], absorber, path_operator=path)
    for name, values in zip(gamma_names, attenuated):
        cubes[name][absorbed] = values.T
    return cubes
