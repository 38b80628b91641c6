"""Line-of-sight operators cached by their set-up (galdiff.los_setups) and shared by models."""

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

from galdiff.los_setups import los_key, los_setup
from galdiff.propagation.grid import Grid
from galdiff.skymaps.model_maps import build_operators, load_operators, map_geometry, setup_operators
from galdiff.skymaps.operator import save_operator

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
