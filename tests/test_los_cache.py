"""Line-of-sight operators cached by their set-up (galdiff.los_setups) and shared by models."""

import copy
import mmap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from galdiff.los_setups import los_key, los_setup
from galdiff.propagation.grid import Grid
from galdiff.conventions import GAMMA_SOURCES, MAP_COMPONENTS
from galdiff.emission import EmissivityResult
from galdiff.skymaps.model_maps import (
    build_operators,
    cached_operators,
    iter_model_map_cubes,
    load_operators,
    map_geometry,
    setup_operators,
)
from galdiff.skymaps import operator as operator_module
from galdiff.skymaps.operator import load_operator, save_operator, save_total_matrix

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def config():
    with open(ROOT / "config.yaml") as handle:
        return yaml.safe_load(handle)


def _setup(config, model="dr_high", maps=None, galaxy=None, propagation=None):
    cfg = copy.deepcopy(config)
    cfg["maps"].update(maps or {})
    cfg["propagation"].setdefault("galaxy", {}).update(galaxy or {})
    cfg["models"][model]["propagation"].update(propagation or {})
    return los_setup(cfg["maps"], cfg["models"][model]["propagation"], cfg["propagation"])


def test_key_is_shared_by_models_of_the_same_geometry_and_tracks_what_the_operators_depend_on(config):
    key = los_key(_setup(config))
    assert los_key(_setup(config, "dr_low")) == key
    # transport parameters other than the cylinder do not enter the operators
    assert los_key(_setup(config, propagation={"D0_1e28_cm2_per_s": 3.0, "delta": 0.5})) == key
    for change in ({"maps": {"nside": 64}}, {"maps": {"step_max_kpc": 0.1}}, {"maps": {"absorption": False}},
                   {"galaxy": {"x_co": 2.0e20}}, {"galaxy": {"r_sun_kpc": 8.0}},
                   {"propagation": {"zh_kpc": 4.0}}):
        assert los_key(_setup(config, **change)) != key, change


def _tiny_setup(config):
    return _setup(config, maps={"nside": 2, "step_max_kpc": 0.5, "step_z_max_kpc": 0.2},
                  propagation={"zh_kpc": 4.0})


def test_cached_operators_give_the_same_maps_as_operators_built_on_the_model_grid(config, tmp_path):
    """The workflow's route (set-up -> files -> sky_maps) against building on the emissivity grid."""
    cfg = copy.deepcopy(config)
    cfg["propagation"]["grid"].update(dr_kpc=1.0, dz_kpc=0.4)
    maps = {"nside": 2, "step_max_kpc": 0.5, "step_z_max_kpc": 0.2, "absorption": True}
    setup = los_setup(maps, {"zh_kpc": 4.0}, cfg["propagation"])
    grid = Grid.from_config({**cfg["propagation"]["grid"], "r_max_kpc": 20.0, "zh_kpc": 4.0}, species="proton")
    geometry = map_geometry(setup["maps"], {"zh_kpc": 4.0}, setup["galaxy"]["r_sun_kpc"])
    direct = build_operators(2, grid.r_kpc, grid.z_kpc, geometry, setup["galaxy"])
    files = [save_operator(tmp_path / f"{name}.npz", op) for name, op in zip(("gas", "path"), setup_operators(setup))]
    emissivity = SimpleNamespace(r_kpc=grid.r_kpc, z_kpc=grid.z_kpc)
    cached = load_operators(*files, emissivity, geometry, 2)
    rng = np.random.default_rng(3)
    field = rng.random((grid.r_kpc.size, grid.z_kpc.size, 4))
    kappa = rng.random((grid.r_kpc.size, grid.z_kpc.size, 4)) * np.array([0.0, 1e-3, 0.05, 0.3])
    for built, loaded in zip(direct, cached):
        np.testing.assert_array_equal(loaded.intensity(field), built.intensity(field))
        np.testing.assert_array_equal(loaded.intensity(field, kappa, path_operator=cached[1]),
                                      built.intensity(field, kappa, path_operator=direct[1]))


def test_operator_files_are_byte_identical_and_a_foreign_file_is_refused(config, tmp_path):
    setup = _tiny_setup(config)
    gas, path = setup_operators(setup)
    first = save_operator(tmp_path / "a.npz", gas, provenance={"setup": setup}).read_bytes()
    second = save_operator(tmp_path / "b.npz", gas, provenance={"setup": setup}).read_bytes()
    assert first == second
    save_operator(tmp_path / "path.npz", path)
    other_grid = SimpleNamespace(r_kpc=gas.grid.r_kpc[:-1], z_kpc=gas.grid.z_kpc)
    with pytest.raises(ValueError, match=r"a\.npz.*grid"):
        load_operators(tmp_path / "a.npz", tmp_path / "path.npz", other_grid, gas.geometry, 2)
    with pytest.raises(ValueError, match="nside"):
        load_operators(tmp_path / "a.npz", tmp_path / "path.npz", gas.grid, gas.geometry, 4)


def _is_memory_mapped(array):
    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def test_memory_mapped_cache_files_give_the_operators_and_maps_bit_for_bit(config, tmp_path, monkeypatch):
    """sky_maps maps the cache files (uncompressed npz members) instead of reading them: same numbers.

    The file carries W summed over the shells, written by the same summation a job would do; the
    maps through the per-step opener (cached_operators) equal component-by-component products.
    """
    cfg = copy.deepcopy(config)
    cfg["propagation"]["grid"].update(dr_kpc=1.0, dz_kpc=0.4)
    maps = {"nside": 2, "step_max_kpc": 0.5, "step_z_max_kpc": 0.2, "absorption": True}
    setup = los_setup(maps, {"zh_kpc": 4.0}, cfg["propagation"])
    built = setup_operators(setup)
    monkeypatch.setattr(operator_module, "_MMAP_MIN_BYTES", 0)  # map every array of these small files
    files = [save_operator(tmp_path / f"{name}.npz", op) for name, op in zip(("gas", "path"), built)]
    totals = [save_total_matrix(tmp_path / f"{name}_total.npz", op) for name, op in zip(("gas", "path"), built)]
    geometry = map_geometry(setup["maps"], {"zh_kpc": 4.0}, setup["galaxy"]["r_sun_kpc"])
    grid = built[0].grid
    emissivity_grid = SimpleNamespace(r_kpc=grid.r_kpc, z_kpc=grid.z_kpc)
    open_operator = cached_operators(*files, emissivity_grid, geometry, 2, total_paths=totals)
    for op, mapped in zip(built, (open_operator(True), open_operator(False))):
        assert _is_memory_mapped(mapped.matrix.data) and _is_memory_mapped(mapped.distance_moment)
        assert "total_matrix" in vars(mapped)  # read from the file, not summed again
        assert _is_memory_mapped(mapped.total_matrix.data)
        for name in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(mapped.total_matrix, name), getattr(op.total_matrix, name))
        np.testing.assert_array_equal(mapped.distance_moment, op.distance_moment)

    rng = np.random.default_rng(5)
    shape = grid.shape + (5,)
    names = {"pi0": "per_H", "bremsstrahlung": "per_H", "inverse_compton": "per_volume", "extra1": "per_volume",
             "neutrino_e": "per_H", "neutrino_mu": "per_H", "neutrino_tau": "per_H", "extra1_neutrino_mu": "per_volume"}
    components = {name: rng.random(shape) for name in names}
    kappa = rng.random(shape) * np.array([0.0, 1e-8, 1e-3, 0.05, 0.3])  # two energies below the threshold
    energies = np.geomspace(1.0, 1e6, 5)
    emissivity = EmissivityResult(r_kpc=grid.r_kpc, z_kpc=grid.z_kpc,
                                  energies={"gamma_energy_GeV": energies, "neutrino_energy_GeV": energies},
                                  components=components, component_meta={n: {"convention": c} for n, c in names.items()},
                                  kappa_per_kpc=kappa)
    cubes = dict(iter_model_map_cubes(emissivity, 2, geometry, absorption=True, operators=open_operator))
    assert set(cubes) == set(MAP_COMPONENTS)
    gas, path = built

    def alone(name, absorbed):
        op = gas if names[name] == "per_H" else path
        return op.intensity(components[name], kappa if absorbed else None, path_operator=path)

    gamma_total = np.zeros((5, 48))
    for name in GAMMA_SOURCES:
        expected = alone(name, True) if name in components else np.zeros((5, 48))
        np.testing.assert_array_equal(cubes[name][1], expected, err_msg=name)
        gamma_total += expected
    np.testing.assert_array_equal(cubes["gamma_total"][1], gamma_total)
    np.testing.assert_array_equal(cubes["neutrino_diffuse"][1],
                                  np.zeros((5, 48)) + alone("neutrino_e", False) + alone("neutrino_mu", False)
                                  + alone("neutrino_tau", False))
    np.testing.assert_array_equal(cubes["neutrino_mu"][1],
                                  np.zeros((5, 48)) + alone("neutrino_mu", False) + alone("extra1_neutrino_mu", False))
    np.testing.assert_array_equal(cubes["extra2_neutrino"][1], 0.0)
    np.testing.assert_array_equal(cubes["neutrino_total"][1],
                                  cubes["neutrino_e"][1] + cubes["neutrino_mu"][1] + cubes["neutrino_tau"][1])
    # the absorbed energies are attenuated (the kernel's optical depths reach every component)
    assert np.all(cubes["pi0"][1][4] < alone("pi0", False)[4])
    # a shell sum that belongs to another operator is refused, naming the file
    with pytest.raises(ValueError, match=r"gas_total\.npz: not the shell sum of .*path\.npz"):
        load_operator(files[1], total_path=totals[0])
