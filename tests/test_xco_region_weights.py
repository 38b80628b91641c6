"""X_CO variants without line-of-sight operators of their own (galdiff.uncertainty.systematics.x_co_region_los_weights).

The region weights of an X_CO variant formed from the baseline set-up's operators and its molecular-gas
operator must equal those of operators built directly with the variant's X_CO (the old route), to rounding:
n_H2 is proportional to X_CO, so the gas-weighted operator is affine in it, entry by entry.
"""

import numpy as np

from galdiff.los_setups import los_setup, setup_differences
from galdiff.propagation.grid import spatial_nodes_kpc
from galdiff.skymaps.model_maps import setup_operators
from galdiff.skymaps.operator import save_operator
from galdiff.skymaps.regions import SkyRegion
from galdiff.uncertainty.systematics import (read_region_los_weights_h5, region_los_weights_of_operators,
                                             write_region_los_weights_h5, x_co_region_los_weights)

MAPS = {"nside": 2, "step_max_kpc": 0.5, "step_z_max_kpc": 0.1, "absorption": True}
MODEL = {"zh_kpc": 2.0, "r_max_kpc": 20.0}
REGIONS = [SkyRegion.from_config("inner", {"l_min_deg": -60.0, "l_max_deg": 60.0, "b_max_deg": 10.0}),
           SkyRegion.from_config("sky", {"l_min_deg": 0.0, "l_max_deg": 360.0, "b_max_deg": 90.0})]


def _setup(x_co):
    return los_setup(MAPS, MODEL, {"grid": {"dr_kpc": 2.0, "dz_kpc": 0.25}, "galaxy": {"x_co": x_co}})


def _weights_of_own_operators(setup, folder, kappa):
    folder.mkdir()
    gas, path = setup_operators(setup)
    files = [save_operator(folder / name, op) for name, op in (("gas.npz", gas), ("path.npz", path))]
    return files, region_los_weights_of_operators(*files, REGIONS, 2, fine_nside=16, kappa_per_kpc=kappa)


def test_x_co_weights_equal_those_of_operators_built_with_that_x_co(tmp_path):
    base = _setup(2.0e20)
    r, z = spatial_nodes_kpc(base["grid"])
    inner = np.exp(-(r[:, None] / 6.0) ** 2 - (z[None, :] / 1.0) ** 2)
    # kappa [kpc^-1]: not absorbed, the CMB's peak (thin shells), a thick inner absorber
    kappa = np.stack([np.zeros_like(inner), np.full_like(inner, 1.0 / 7.07), 0.1 + 2.0 * inner], axis=-1)
    files, baseline = _weights_of_own_operators(base, tmp_path / "base", kappa)
    write_region_los_weights_h5(tmp_path / "base.h5", baseline)
    x_co = {"low": 1.4e20, "high": 2.6e20}
    combined = x_co_region_los_weights(*files, read_region_los_weights_h5(tmp_path / "base.h5"), base, x_co, 2)
    for variant, value in x_co.items():
        assert setup_differences(_setup(value), base) == ["galaxy.x_co"]
        _, direct = _weights_of_own_operators(_setup(value), tmp_path / variant, kappa)
        for name, entry in direct["regions"].items():
            mine = combined[variant]["regions"][name]
            for kind in ("gas", "gas_absorbed", "path", "path_absorbed", "pixel_weights"):
                np.testing.assert_allclose(mine[kind], entry[kind], rtol=1e-12, atol=0.0, err_msg=f"{variant} {name} {kind}")
            assert mine["masked_fraction"] == entry["masked_fraction"]
            # not trivially equal: the molecular gas moves the gas weights by percent (both ways)
            change = entry["gas"].sum() / baseline["regions"][name]["gas"].sum() - 1.0
            assert abs(change) > 0.01 and np.sign(change) == np.sign(value - 2.0e20)
            assert np.all(mine["gas_absorbed"][2].sum() < 0.9 * mine["gas"].sum())  # the absorption is exercised


def test_setup_differences_name_every_changed_key():
    base = _setup(2.0e20)
    assert setup_differences(base, base) == []
    other = los_setup({**MAPS, "nside": 4}, {**MODEL, "zh_kpc": 4.0},
                      {"grid": {"dr_kpc": 2.0, "dz_kpc": 0.25}, "galaxy": {"x_co": 3.0e20}})
    assert setup_differences(other, base) == ["galaxy.x_co", "grid.zh_kpc", "nside"]


def test_molecular_operator_on_the_gas_pattern_equals_the_one_built_alone():
    from galdiff.skymaps.model_maps import setup_molecular_operator

    base = _setup(2.0e20)
    gas, _ = setup_operators(base)
    alone = setup_molecular_operator(base)
    on_pattern = setup_molecular_operator(base, pattern=gas)
    assert np.shares_memory(on_pattern.matrix.indices, gas.matrix.indices)  # no copy of the pattern
    for a, b in ((alone.matrix.indptr, on_pattern.matrix.indptr), (alone.matrix.indices, on_pattern.matrix.indices),
                 (alone.matrix.data, on_pattern.matrix.data), (alone.distance_moment, on_pattern.distance_moment),
                 (alone.shell_path_kpc, on_pattern.shell_path_kpc)):
        np.testing.assert_array_equal(a, b)
    # molecular gas only: less than the total gas, everywhere
    assert np.all(on_pattern.matrix.data <= gas.matrix.data) and on_pattern.matrix.data.max() > 0.1 * gas.matrix.data.max()
