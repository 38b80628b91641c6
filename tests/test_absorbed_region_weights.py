"""The absorbed region-averaged line-of-sight weights (LineOfSightOperator.absorbed_region_weights).

For emission in one (r, z) cell the weights' per-entry attenuation and the maps' per-shell attenuation
are taken at the same distance, so V_r(E)[cell] must equal the region average of the absorbed map of
that cell's unit emissivity (an independent kernel, _absorbed_shell_kernel). The optical depths cover
both routes of the weights' kernel: thin shells (series for exp) and thick ones (np.exp).
"""

import numpy as np
import pytest

from galdiff.skymaps.model_maps import build_operators, map_geometry


@pytest.fixture(scope="module")
def operators():
    r, z = np.arange(0.0, 20.01, 2.0), np.arange(-2.0, 2.01, 0.5)
    geometry = map_geometry({"step_max_kpc": 0.5, "step_z_max_kpc": 0.1, "absorption": True},
                            {"zh_kpc": 2.0, "r_max_kpc": 20.0}, 8.3)
    gas, path = build_operators(2, r, z, geometry, {"x_co": 2.0e20})
    return r, z, gas, path


@pytest.mark.parametrize("kind", ["gas", "path"])
@pytest.mark.parametrize("thick", [False, True])
def test_weights_of_one_cell_equal_the_absorbed_map_average(operators, kind, thick):
    r, z, gas, path = operators
    operator = gas if kind == "gas" else path
    inner = np.exp(-(r[:, None] / 6.0) ** 2 - (z[None, :] / 1.0) ** 2)
    # kappa [kpc^-1]: none, then thin shells (half a shell's optical depth < 0.25: the kernel's series for exp):
    # the CMB's peak and an inner absorber; or thick ones (np.exp): 3/kpc everywhere, a strong inner absorber
    if thick:
        kappa = np.stack([np.zeros_like(inner), np.full_like(inner, 0.05), np.full_like(inner, 3.0),
                          0.1 + 2.0 * inner], axis=-1)
    else:
        kappa = np.stack([np.zeros_like(inner), np.full_like(inner, 1.0 / 7.07), np.full_like(inner, 0.02),
                          0.05 + 0.2 * inner], axis=-1)
    rng = np.random.default_rng(5)
    rows = np.vstack([np.ones(operator.n_pix), (rng.random(operator.n_pix) < 0.3) * rng.random(operator.n_pix)])
    weights = operator.absorbed_region_weights(rows, kappa, path)
    assert weights.shape == (2, 4, r.size, z.size)
    rows = rows / rows.sum(axis=1, keepdims=True)
    checked = 0
    for i_r, i_z in ((3, 4), (0, 4), (5, 2), (8, 6)):
        unit = np.zeros((r.size, z.size, 4))
        unit[i_r, i_z] = 1.0
        cube = operator.intensity(unit, kappa_per_kpc=kappa, path_operator=path)  # (n_E, n_pix)
        expected = rows @ cube.T  # (n_regions, n_E)
        np.testing.assert_allclose(weights[:, :, i_r, i_z], expected, rtol=1e-10, atol=0.0)
        checked += np.count_nonzero(expected)
    assert checked >= 12
    unabsorbed = rows @ operator.total_matrix.toarray()
    np.testing.assert_allclose(weights[:, 0].reshape(2, -1), unabsorbed, rtol=1e-12, atol=0.0)  # kappa = 0
    absorbed_fraction = 1.0 - weights[:, 3].sum(axis=(1, 2)) / unabsorbed.sum(axis=1)
    assert np.all(absorbed_fraction > (0.5 if thick else 0.05))  # the check is not empty


def test_added_operator_gives_the_weights_of_the_summed_operator(operators):
    """W + s W_added entry by entry (weights and moments): the weights of the operator of the summed gas."""
    from dataclasses import replace

    r, z, gas, path = operators
    kappa = np.stack([np.full((r.size, z.size), 1.0 / 7.07), np.full((r.size, z.size), 3.0)], axis=-1)
    rows = np.ones((1, gas.n_pix))
    # added: a uniform medium of 1 cm^-3 (the path operator's weights), so gas + s x uniform is the gas plus s cm^-3
    uniform = replace(path, includes_gas=True)
    summed = replace(gas, matrix=gas.matrix + 0.5 * path.matrix,
                     distance_moment=gas.distance_moment + 0.5 * path.distance_moment)
    assert np.array_equal(summed.matrix.indices, gas.matrix.indices)
    combined = gas.absorbed_region_weights(rows, kappa, path, added=uniform, added_scales=[0.5, 0.0])
    np.testing.assert_allclose(combined[0], summed.absorbed_region_weights(rows, kappa, path), rtol=1e-13)
    np.testing.assert_allclose(combined[1], gas.absorbed_region_weights(rows, kappa, path), rtol=1e-15)
    with pytest.raises(ValueError, match="sparsity|gas convention"):
        path.absorbed_region_weights(rows, kappa, path, added=gas, added_scales=[1.0])
