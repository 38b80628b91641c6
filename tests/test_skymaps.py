"""Line-of-sight integration, the sparse operator W, pair absorption and HEALPix map cubes."""

from __future__ import annotations

import math

import healpy as hp
import numpy as np
import pytest
import scipy.sparse as sp

from galdiff.provenance import provenance_meta
from galdiff.skymaps import (
    LineOfSightGeometry,
    RZGrid,
    build_los_operator,
    default_shell_edges_kpc,
    exit_distance_kpc,
    gas_density_from_grid,
    healpix_directions,
    hydrogen_atom_density_cm3,
    integrate_los_direct,
    load_operator,
    save_operator,
    step_halving_change,
)
from galdiff.skymaps.cube import (
    integrate_over_energy,
    read_healpix_cube,
    write_car_cube,
    write_healpix_cube,
)
from galdiff.skymaps.operator import _csr_times_dense
from galdiff.skymaps.reference import reference_exit_distance_kpc, reference_intensity
from galdiff.units import KPC_CM


def _gammapy_maps():
    # gammapy is a test dependency (pyproject [test]); a broken install (e.g. a regions version
    # gammapy cannot import) must fail here, not skip: the cube layout promise is that gammapy reads it
    import gammapy.maps as maps

    return maps


def _constant_grid(r_max_kpc, z_max_kpc):
    """Two nodes per axis: a constant field is interpolated exactly everywhere inside."""
    return RZGrid(np.array([0.0, r_max_kpc]), np.array([-z_max_kpc, z_max_kpc]))


def _pixel_of(nside, l_deg, b_deg):
    return int(hp.ang2pix(nside, l_deg, b_deg, lonlat=True))


# ---------------------------------------------------------------------------------------------
# geometry


def test_healpix_directions_match_documented_pixels():
    l_rad, b_rad = healpix_directions(64, np.array([0, 24192]))
    assert np.rad2deg(l_rad[0]) == pytest.approx(45.0)
    assert np.rad2deg(b_rad[0]) == pytest.approx(89.27, abs=0.01)
    # (l, b) = (0, 0) falls in pixel 24192, whose centre lies within one pixel size (0.92 deg)
    assert _pixel_of(64, 0.0, 0.0) == 24192
    assert abs(np.rad2deg(b_rad[1])) < 0.92 and min(np.rad2deg(l_rad[1]) % 360.0, 360.0 - np.rad2deg(l_rad[1]) % 360.0) < 0.92


def test_exit_distance_along_known_directions():
    geometry = LineOfSightGeometry(r_sun_kpc=8.3, z_sun_kpc=0.02, r_max_kpc=20.0, z_max_kpc=6.3)
    l_deg = np.array([0.0, 180.0, 90.0, 270.0, 0.0, 0.0])
    b_deg = np.array([0.0, 0.0, 0.0, 0.0, 90.0, -90.0])
    expected = [8.3 + 20.0, 20.0 - 8.3, math.sqrt(20.0**2 - 8.3**2), math.sqrt(20.0**2 - 8.3**2), 6.3 - 0.02, 6.3 + 0.02]
    got = exit_distance_kpc(np.deg2rad(l_deg), np.deg2rad(b_deg), geometry)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # a latitude that leaves through the top: z_max / sin b
    b = np.deg2rad(30.0)
    assert exit_distance_kpc(np.deg2rad(180.0), b, geometry)[0] == pytest.approx((6.3 - 0.02) / math.sin(b), rel=1e-12)


def test_exit_distance_matches_independent_root_finding():
    rng = np.random.default_rng(3)
    geometry = LineOfSightGeometry(r_sun_kpc=8.5, z_sun_kpc=-0.1, r_max_kpc=25.0, z_max_kpc=4.0)
    l_rad = rng.uniform(0, 2 * np.pi, 200)
    b_rad = np.arcsin(rng.uniform(-1, 1, 200))
    got = exit_distance_kpc(l_rad, b_rad, geometry)
    expected = [reference_exit_distance_kpc(a, b, geometry) for a, b in zip(l_rad, b_rad)]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_geometry_rejects_observer_outside_volume():
    with pytest.raises(ValueError, match="r_sun_kpc"):
        LineOfSightGeometry(r_sun_kpc=25.0, r_max_kpc=20.0)
    with pytest.raises(ValueError, match="shell_edges_kpc"):
        LineOfSightGeometry(shell_edges_kpc=(2.0, 1.0))


# ---------------------------------------------------------------------------------------------
# analytic line-of-sight integrals


def test_uniform_emissivity_in_cylinder_gives_path_length():
    """I = j x (distance to the cylinder boundary), exactly, for every pixel and every shell layout."""
    geometry = LineOfSightGeometry(r_sun_kpc=8.3, r_max_kpc=20.0, z_max_kpc=6.3, step_max_kpc=0.2,
                                   step_z_max_kpc=0.05, shell_edges_kpc=(1.0, 3.0, 10.0))
    grid = _constant_grid(20.0, 6.3)
    j_per_sr = 2.5e-26  # GeV^-1 cm^-3 s^-1 sr^-1
    emissivity = np.full(grid.shape + (1,), j_per_sr)
    nside = 8
    operator = build_los_operator(nside, grid, geometry)
    intensity = operator.intensity(emissivity)[0]
    l_rad, b_rad = healpix_directions(nside)
    path_kpc = np.array([reference_exit_distance_kpc(a, b, geometry) for a, b in zip(l_rad, b_rad)])
    np.testing.assert_allclose(intensity, j_per_sr * path_kpc * KPC_CM, rtol=1e-11)
    np.testing.assert_allclose(operator.shell_path_kpc.sum(axis=1), path_kpc, rtol=1e-12)


def test_uniform_slab_is_exact_when_the_slab_is_the_volume():
    h_kpc = 1.0
    geometry = LineOfSightGeometry(r_max_kpc=2000.0, z_max_kpc=h_kpc, step_max_kpc=0.5, step_z_max_kpc=0.05)
    grid = _constant_grid(2000.0, h_kpc)
    nside = 8
    l_rad, b_rad = healpix_directions(nside)
    keep = np.abs(np.rad2deg(b_rad)) > 5.0
    operator = build_los_operator(nside, grid, geometry, pixels=np.flatnonzero(keep))
    intensity = operator.intensity(np.ones(grid.shape))[0]
    np.testing.assert_allclose(intensity, h_kpc * KPC_CM / np.abs(np.sin(b_rad[keep])), rtol=1e-11)


def test_uniform_slab_inside_halo_matches_h_over_sin_b():
    """docs/emission.md#sky-geometry toy: a slab |z| < h of constant emissivity inside the z_h = 6.3 kpc halo."""
    h_kpc = 1.0
    geometry = LineOfSightGeometry(r_max_kpc=2000.0, z_max_kpc=6.3, step_max_kpc=0.5, step_z_max_kpc=0.01)
    # emissivity nodes at +-h and +-(h + 1 pc): the bilinear ramp outside the slab adds only 0.05 %
    z_nodes = np.array([-6.3, -h_kpc - 1e-3, -h_kpc, h_kpc, h_kpc + 1e-3, 6.3])
    grid = RZGrid(np.array([0.0, 2000.0]), z_nodes)
    j_per_sr = np.where(np.abs(z_nodes) <= h_kpc, 1.0, 0.0)[None, :].repeat(2, axis=0)
    nside = 8
    l_rad, b_rad = healpix_directions(nside)
    keep = np.abs(np.rad2deg(b_rad)) > 5.0
    operator = build_los_operator(nside, grid, geometry, pixels=np.flatnonzero(keep))
    intensity = operator.intensity(j_per_sr)[0]
    expected = h_kpc * KPC_CM / np.abs(np.sin(b_rad[keep]))
    assert np.max(np.abs(intensity / expected - 1.0)) < 0.01


def test_gas_slab_reproduces_local_toy_value():
    """docs/emission.md#sky-geometry: q(>1 GeV) = 1.04e-27, n_H = 1 cm^-3, h = 0.1 kpc, b = 90 deg -> 3.2e-7."""
    geometry = LineOfSightGeometry(step_z_max_kpc=0.001)
    grid = _constant_grid(20.0, 6.3)
    slab = lambda x, y, z: np.where(np.abs(z) < 0.1, 1.0, 0.0)
    pixel = _pixel_of(64, 0.0, 89.99)
    intensity = build_los_operator(64, grid, geometry, slab, pixels=[pixel]).intensity(np.full(grid.shape, 1.04e-27))
    b = healpix_directions(64, [pixel])[1][0]
    assert intensity[0, 0] == pytest.approx(1.04e-27 * 0.1 * KPC_CM / math.sin(b), rel=2e-3)
    assert intensity[0, 0] == pytest.approx(3.2e-7, rel=0.01)


def test_offset_sphere_chord_lengths_and_orientation():
    """A gas sphere centred at y = +4 kpc is seen at l = 270 deg side (y = -s cos b sin l), with chord 2R."""
    radius_kpc, centre = 1.0, np.array([8.3, 4.0, 0.0])  # straight 'left' of the Sun, 4 kpc away

    def sphere(x, y, z):
        return np.where((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2 < radius_kpc**2, 1.0, 0.0)

    geometry = LineOfSightGeometry(step_max_kpc=0.002)
    grid = _constant_grid(20.0, 6.3)
    nside = 64
    toward = _pixel_of(nside, 270.0, 0.0)
    away = _pixel_of(nside, 90.0, 0.0)
    l_rad, b_rad = healpix_directions(nside, [toward, away])
    intensity = build_los_operator(nside, grid, geometry, sphere, pixels=[toward, away]).intensity(np.ones(grid.shape))[0]
    # exact chord for the pixel-centre direction
    direction = np.array([-math.cos(b_rad[0]) * math.cos(l_rad[0]), -math.cos(b_rad[0]) * math.sin(l_rad[0]), math.sin(b_rad[0])])
    to_centre = centre - np.array([8.3, 0.0, 0.0])
    impact2 = to_centre @ to_centre - (to_centre @ direction) ** 2
    chord_kpc = 2.0 * math.sqrt(radius_kpc**2 - impact2)
    assert intensity[0] == pytest.approx(chord_kpc * KPC_CM, rel=5e-3)
    assert intensity[1] == 0.0


# ---------------------------------------------------------------------------------------------
# kernels against the slow NumPy reference


def _realistic_inputs():
    grid = RZGrid(np.concatenate([np.linspace(0, 10, 21), np.linspace(11, 20, 10)]), np.linspace(-6.3, 6.3, 43))
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    energies = np.array([1.0, 10.0, 100.0])
    emissivity = (np.exp(-r / 3.0) * np.exp(-np.abs(z) / 1.0))[:, :, None] * energies ** -1.7

    def gas(x, y, z):  # non-axisymmetric 3D gas: exercises the (x, y) orientation
        return (1.0 + 0.5 * np.tanh(y)) * np.exp(-np.hypot(x, y) / 5.0) * np.exp(-((z / 0.15) ** 2))

    return grid, emissivity, gas


def test_sparse_operator_and_direct_kernel_equal_numpy_reference():
    grid, emissivity, gas = _realistic_inputs()
    geometry = LineOfSightGeometry(z_sun_kpc=0.02, step_max_kpc=0.1, step_z_max_kpc=0.02,
                                   shell_edges_kpc=(0.5, 2.0, 7.5))
    nside = 4
    l_rad, b_rad = healpix_directions(nside)
    expected = reference_intensity(l_rad, b_rad, grid, emissivity, geometry, gas)
    operator = build_los_operator(nside, grid, geometry, gas, chunk_pixels=50)  # several chunks
    np.testing.assert_allclose(operator.intensity(emissivity), expected, rtol=1e-10, atol=0)
    np.testing.assert_allclose(integrate_los_direct(nside, grid, emissivity, geometry, gas), expected, rtol=1e-10)
    # gas-free variant and a pixel subset
    subset = np.array([5, 77, 150])
    expected_free = reference_intensity(l_rad[subset], b_rad[subset], grid, emissivity, geometry)
    free = build_los_operator(nside, grid, geometry, pixels=subset)
    assert not free.includes_gas and free.weight_unit == "cm"
    np.testing.assert_allclose(free.intensity(emissivity), expected_free, rtol=1e-10)


def test_rz_gas_callable_equals_xyz_form():
    grid, emissivity, _ = _realistic_inputs()
    geometry = LineOfSightGeometry(step_max_kpc=0.2, step_z_max_kpc=0.05)
    gas_rz = lambda r, z: np.exp(-r / 4.0 - np.abs(z) / 0.2)
    gas_xyz = lambda x, y, z: gas_rz(np.hypot(x, y), z)
    a = build_los_operator(2, grid, geometry, gas_rz, gas_coordinates="rz").intensity(emissivity)
    b = build_los_operator(2, grid, geometry, gas_xyz).intensity(emissivity)
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_hydrogen_atom_density_counts_two_atoms_per_molecule():
    n_H = hydrogen_atom_density_cm3(lambda r, z: 0.5 + 0 * r, lambda r, z: 0.25 + 0 * r, lambda r, z: 0.01 + 0 * r)
    np.testing.assert_allclose(n_H(np.array([1.0, 8.0]), np.array([0.0, 0.1])), 1.01)


def test_tabulated_gas_matches_callable_when_linear():
    grid, emissivity, _ = _realistic_inputs()
    geometry = LineOfSightGeometry(step_max_kpc=0.2, step_z_max_kpc=0.05)
    r_table, z_table = np.linspace(0, 20, 41), np.linspace(-6.3, 6.3, 64)
    linear = lambda r, z: 1.0 + 0.1 * r + 0.05 * z  # bilinear interpolation is exact
    table = gas_density_from_grid(r_table, z_table, linear(*np.meshgrid(r_table, z_table, indexing="ij")))
    a = build_los_operator(2, grid, geometry, table, gas_coordinates="rz").intensity(emissivity)
    b = build_los_operator(2, grid, geometry, linear, gas_coordinates="rz").intensity(emissivity)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_column_density_of_project_gas_model_matches_quadrature():
    """W with galdiff.galaxy.gas folded in: N_H along a ray equals a dense Simpson integral of n_H(r, z)."""
    from galdiff.galaxy import gas
    from scipy.integrate import simpson

    n_H = hydrogen_atom_density_cm3(gas.n_hi_cm3, gas.n_h2_cm3, gas.n_hii_cm3)
    geometry = LineOfSightGeometry(r_sun_kpc=8.5)
    grid = _constant_grid(20.0, 6.3)
    nside = 32
    pixels = [_pixel_of(nside, 0.0, 90.0), _pixel_of(nside, 200.0, 3.0), _pixel_of(nside, 330.0, -20.0)]
    column_cm2 = build_los_operator(nside, grid, geometry, n_H, gas_coordinates="rz", pixels=pixels).intensity(
        np.ones(grid.shape))[0]
    l_rad, b_rad = healpix_directions(nside, pixels)
    for p, (l, b) in enumerate(zip(l_rad, b_rad)):
        s_kpc = np.linspace(0.0, exit_distance_kpc(l, b, geometry)[0], 400_001)  # ~0.1 pc spacing
        x, y = 8.5 - s_kpc * math.cos(b) * math.cos(l), -s_kpc * math.cos(b) * math.sin(l)
        expected = simpson(n_H(np.hypot(x, y), s_kpc * math.sin(b)), x=s_kpc) * KPC_CM
        assert column_cm2[p] == pytest.approx(expected, rel=1e-4)


def test_operator_cache_file_round_trip(tmp_path):
    grid, emissivity, gas = _realistic_inputs()
    geometry = LineOfSightGeometry(step_max_kpc=0.2, step_z_max_kpc=0.05, shell_edges_kpc=(1.0, 5.0))
    operator = build_los_operator(2, grid, geometry, gas, pixels=np.arange(10, 30))
    path = save_operator(tmp_path / "w.npz", operator, provenance={"gas": "toy"})
    loaded = load_operator(path)
    assert loaded.geometry == geometry and loaded.includes_gas and loaded.meta["provenance"] == {"gas": "toy"}
    np.testing.assert_array_equal(loaded.pixels, operator.pixels)
    kappa = np.array([0.0, 0.1, 0.2])
    np.testing.assert_array_equal(loaded.intensity(emissivity, kappa), operator.intensity(emissivity, kappa))


def test_bad_gas_and_emissivity_inputs_fail_clearly():
    grid, emissivity, _ = _realistic_inputs()
    with pytest.raises(ValueError, match="gas_density_cm3"):
        build_los_operator(1, grid, LineOfSightGeometry(step_max_kpc=1.0), lambda x, y, z: -np.ones_like(x))
    operator = build_los_operator(1, grid, LineOfSightGeometry(step_max_kpc=1.0, step_z_max_kpc=0.5))
    with pytest.raises(ValueError, match="emissivity_per_sr"):
        operator.intensity(emissivity[:-1])


def test_csr_times_dense_kernel_matches_scipy():
    rng = np.random.default_rng(0)
    matrix = sp.random(300, 120, density=0.05, format="csr", random_state=1)
    dense = rng.random((120, 7))
    got = _csr_times_dense(matrix.indptr.astype(np.int64), matrix.indices, matrix.data, dense)
    np.testing.assert_allclose(got, matrix @ dense, rtol=1e-13)


def test_shell_rows_sum_to_total_operator():
    grid, emissivity, gas = _realistic_inputs()
    base = dict(step_max_kpc=0.2, step_z_max_kpc=0.05)
    shelled = build_los_operator(2, grid, LineOfSightGeometry(shell_edges_kpc=default_shell_edges_kpc(), **base), gas)
    single = build_los_operator(2, grid, LineOfSightGeometry(**base), gas)
    assert shelled.matrix.shape == (48 * shelled.n_shells, grid.n_cells)
    # different step alignment: equal only to the sampling accuracy
    np.testing.assert_allclose(shelled.intensity(emissivity), single.intensity(emissivity), rtol=0.02)
    np.testing.assert_allclose(shelled.total_matrix.sum(axis=1).A1, shelled.matrix.sum(axis=1).A1.reshape(48, -1).sum(1),
                               rtol=1e-12)


def test_oversampled_operator_equals_fine_map_degraded():
    """oversample_order=1 at N_side 4 is the N_side 8 map averaged with healpy.ud_grade."""
    grid, emissivity, gas = _realistic_inputs()
    geometry = LineOfSightGeometry(step_max_kpc=0.2, step_z_max_kpc=0.05)
    fine = build_los_operator(8, grid, geometry, gas).intensity(emissivity)
    degraded = np.vstack([hp.ud_grade(m, 4) for m in fine])
    coarse = build_los_operator(4, grid, geometry, gas, oversample_order=1, chunk_pixels=64).intensity(emissivity)
    np.testing.assert_allclose(coarse, degraded, rtol=1e-12)
    direct = integrate_los_direct(4, grid, emissivity, geometry, gas, oversample_order=1, chunk_pixels=64)
    np.testing.assert_allclose(direct, degraded, rtol=1e-12)
    centre_only = build_los_operator(4, grid, geometry, gas).intensity(emissivity)
    assert np.max(np.abs(centre_only / degraded - 1)) > 1e-3  # the averaging is not a no-op


# ---------------------------------------------------------------------------------------------
# convergence


def test_step_halving_changes_realistic_map_by_less_than_one_percent():
    grid = RZGrid.uniform(20.0, 81, 6.3, 127)
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    q_per_sr = (np.exp(-(r - 8.3) / 3.5) * np.exp(-np.abs(z) / 2.0))[:, :, None] * np.array([1.0, 0.3])

    def thin_disk_gas(x, y, z):  # exponential disk with a 70 pc H2-like layer and a 250 pc HI-like layer
        rr = np.hypot(x, y)
        return np.exp(-rr / 3.0) * (2.0 * np.exp(-((z / 0.07) ** 2)) + np.exp(-((z / 0.25) ** 2)))

    change = step_halving_change(16, grid, q_per_sr, LineOfSightGeometry(), thin_disk_gas)
    assert change < 0.01
    # the check is sensitive: 1 kpc / 0.5 kpc steps do not resolve the layer
    coarse = LineOfSightGeometry(step_max_kpc=1.0, step_z_max_kpc=0.5)
    assert step_halving_change(8, grid, q_per_sr, coarse, thin_disk_gas) > 0.01


# ---------------------------------------------------------------------------------------------
# pair absorption


def test_uniform_absorber_attenuates_as_exp_minus_kappa_s():
    geometry = LineOfSightGeometry(step_max_kpc=0.05, step_z_max_kpc=0.01, shell_edges_kpc=default_shell_edges_kpc())
    grid = _constant_grid(20.0, 6.3)
    kappa_per_kpc = np.array([0.0, 1.0 / 390.0, 1.0 / 8.95, 1.0 / 7.07, 1.0])  # CMB values, docs/emission.md#pair-absorption
    emissivity = np.ones(grid.shape + (kappa_per_kpc.size,))
    nside = 4
    l_rad, b_rad = healpix_directions(nside)
    path_kpc = exit_distance_kpc(l_rad, b_rad, geometry)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(kappa_per_kpc[:, None] > 0,
                            (1 - np.exp(-np.outer(kappa_per_kpc, path_kpc))) / kappa_per_kpc[:, None], path_kpc) * KPC_CM
    operator = build_los_operator(nside, grid, geometry)
    np.testing.assert_allclose(operator.intensity(emissivity, kappa_per_kpc=kappa_per_kpc), expected, rtol=1e-10)
    direct = integrate_los_direct(nside, grid, emissivity, geometry, kappa_per_kpc=kappa_per_kpc)
    np.testing.assert_allclose(direct, expected, rtol=2e-4)  # midpoint rule: (kappa ds)^2 / 24 = 1e-4 at kappa = 1


def test_absorption_counts_optical_depth_from_the_observer():
    """A thin emitting layer at z = 3 kpc seen at b = 90 deg is attenuated by exp(-kappa 3 kpc)."""
    layer = lambda x, y, z: np.where(np.abs(z - 3.0) < 0.005, 1.0, 0.0)
    geometry = LineOfSightGeometry(step_z_max_kpc=0.0005, shell_edges_kpc=default_shell_edges_kpc())
    grid = _constant_grid(20.0, 6.3)
    kappa_per_kpc = np.array([0.0, 0.1, 1.0 / 7.07])  # up to the CMB maximum at 2.2 PeV
    pixel = [_pixel_of(64, 0.0, 90.0)]
    b = healpix_directions(64, pixel)[1][0]
    s0, s1 = 2.995 / math.sin(b), 3.005 / math.sin(b)
    expected = (np.exp(-kappa_per_kpc * s0) - np.exp(-kappa_per_kpc * s1)) / np.where(kappa_per_kpc > 0, kappa_per_kpc, 1)
    expected[0] = s1 - s0
    direct = integrate_los_direct(64, grid, np.ones(grid.shape + (3,)), geometry, layer, kappa_per_kpc=kappa_per_kpc, pixels=pixel)
    np.testing.assert_allclose(direct[:, 0], expected * KPC_CM, rtol=2e-3)
    shells = build_los_operator(64, grid, geometry, layer, pixels=pixel).intensity(np.ones(grid.shape + (3,)), kappa_per_kpc)
    np.testing.assert_allclose(shells[:, 0], expected * KPC_CM, rtol=2e-3)


def test_gridded_absorber_shells_agree_with_direct_and_reference():
    grid, emissivity, gas = _realistic_inputs()
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    # IR-like absorber concentrated to the inner Galaxy plus a uniform CMB-like floor, kpc^-1
    kappa = (0.05 * np.exp(-r / 4.0 - np.abs(z) / 2.0))[:, :, None] * np.array([0.0, 1.0, 2.0]) + np.array([0, 0.02, 0.14])
    geometry = LineOfSightGeometry(step_max_kpc=0.1, step_z_max_kpc=0.02, shell_edges_kpc=default_shell_edges_kpc())
    nside = 4
    l_rad, b_rad = healpix_directions(nside)
    expected = reference_intensity(l_rad, b_rad, grid, emissivity, geometry, gas, kappa_per_kpc=kappa)
    direct = integrate_los_direct(nside, grid, emissivity, geometry, gas, kappa_per_kpc=kappa)
    np.testing.assert_allclose(direct, expected, rtol=1e-10)
    with_gas = build_los_operator(nside, grid, geometry, gas)
    path = build_los_operator(nside, grid, geometry)
    shells = with_gas.intensity(emissivity, kappa_per_kpc=kappa, path_operator=path)
    np.testing.assert_allclose(shells, expected, rtol=2e-3)
    assert np.max(np.abs(shells[2] / with_gas.intensity(emissivity)[2] - 1)) > 0.3  # absorption is not negligible
    with pytest.raises(ValueError, match="path_operator"):
        with_gas.intensity(emissivity, kappa_per_kpc=kappa)


# ---------------------------------------------------------------------------------------------
# map cubes on disk


def test_cube_round_trip_healpy_gammapy_and_own_reader(tmp_path):
    nside = 8
    energies_GeV = np.logspace(0, 6, 7)
    rng = np.random.default_rng(7)
    cube = rng.random((energies_GeV.size, hp.nside2npix(nside))) * 1e-6 * energies_GeV[:, None] ** -2.7
    provenance = provenance_meta(config={"model": "dr_low"})
    path = write_healpix_cube(tmp_path / "pi0.fits", cube, energies_GeV, provenance=provenance,
                              header_cards={"COMPONT": "pi0"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pi0.fits"]  # no temporary left behind

    maps_read, header = hp.read_map(path, field=None, h=True)
    header = dict(header)
    np.testing.assert_array_equal(maps_read, cube)
    assert header["ORDERING"] == "RING" and header["COORDSYS"] == "G" and header["NSIDE"] == nside
    assert header["INDXSCHM"] == "IMPLICIT" and header["BUNIT"] == "GeV-1 cm-2 s-1 sr-1"

    own = read_healpix_cube(path)
    np.testing.assert_array_equal(own.data, cube)
    np.testing.assert_allclose(own.energies_GeV, energies_GeV, rtol=1e-15)
    assert own.unit.is_equivalent("TeV-1 cm-2 s-1 sr-1") and own.meta == provenance
    assert own.header["CFGHASH"] == provenance["config_hash"] and own.header["COMPONT"] == "pi0"

    maps = _gammapy_maps()
    from astropy import units as u

    m = maps.Map.read(path)
    assert isinstance(m, maps.HpxNDMap) and not m.geom.nest and m.geom.frame == "galactic"
    axis = m.geom.axes["energy_true"]
    np.testing.assert_allclose(axis.center.to_value("GeV"), energies_GeV, rtol=1e-12)
    assert m.unit == u.Unit("GeV-1 cm-2 s-1 sr-1")
    np.testing.assert_allclose(m.data, cube, rtol=1e-6)  # gammapy may hold float32
    l_deg, b_deg = hp.pix2ang(nside, np.arange(cube.shape[1]), lonlat=True)
    values = m.get_by_coord({"lon": l_deg, "lat": b_deg, "energy_true": np.full(l_deg.size, 1e3) * u.GeV})
    np.testing.assert_allclose(values, cube[3], rtol=1e-6)
    from gammapy.modeling.models import TemplateSpatialModel

    template = TemplateSpatialModel(m, normalize=False, filename=str(path))
    assert template.map.geom.axes["energy_true"].nbin == energies_GeV.size


def test_cube_writer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="n_E"):
        write_healpix_cube(tmp_path / "x.fits", np.zeros((3, 48)), [1.0, 2.0])
    with pytest.raises(ValueError, match="increasing"):
        write_healpix_cube(tmp_path / "x.fits", np.zeros((2, 48)), [2.0, 1.0])
    assert not any(tmp_path.iterdir())


def test_car_cube_is_readable_by_gammapy(tmp_path):
    nside = 16
    l_deg, b_deg = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), lonlat=True)
    cube = np.vstack([1.0 + np.cos(np.deg2rad(b_deg)), 2.0 + np.cos(np.deg2rad(b_deg))])
    path = write_car_cube(tmp_path / "car.fits", cube, np.array([1.0, 10.0]), binsz_deg=2.0)
    maps = _gammapy_maps()
    m = maps.Map.read(path)
    np.testing.assert_allclose(m.geom.axes[0].center.to_value("GeV"), [1.0, 10.0])
    lat_deg = m.geom.get_coord()["lat"][0].to_value("deg")
    away_from_poles = np.abs(lat_deg) < 80.0  # bilinear HEALPix interpolation is poor at the poles
    np.testing.assert_allclose(m.data[0][away_from_poles], 1.0 + np.cos(np.deg2rad(lat_deg[away_from_poles])), rtol=0.01)


def test_energy_integral_of_power_law():
    energies_GeV = np.logspace(2, 8, 121)  # 20 per decade
    cube = np.outer(energies_GeV**-2.5, np.array([1.0, 3.0]))
    got = integrate_over_energy(energies_GeV, cube, 1.3e5, 1e7)
    exact = (1.3e5**-1.5 - 1e7**-1.5) / 1.5
    np.testing.assert_allclose(got, exact * np.array([1.0, 3.0]), rtol=3e-3)
    with pytest.raises(ValueError, match="inside the energy grid"):
        integrate_over_energy(energies_GeV, cube, 10.0, 1e7)


def test_mollweide_puts_positive_longitude_on_the_left(tmp_path):
    from galdiff.plotting.skymap import plot_allsky_mollweide
    from galdiff.plotting.style import save_figure

    nside = 16
    healpix_map = np.full(hp.nside2npix(nside), 1e-9)
    healpix_map[hp.query_disc(nside, hp.ang2vec(90.0, 0.0, lonlat=True), np.deg2rad(10.0))] = 1e-6
    fig, ax = plot_allsky_mollweide(healpix_map, r"$I$ [cm$^{-2}$ s$^{-1}$ sr$^{-1}$]", n_lon=360, n_lat=180)
    raster = np.asarray(ax.collections[0].get_array()).reshape(180, 360)
    bright_columns = np.flatnonzero(raster.max(axis=0) > 1e-7)
    assert bright_columns.max() < 180  # left half of the image (x < 0 <=> l > 0)
    path = save_figure(fig, tmp_path / "fig6.pdf")
    assert path.stat().st_size > 1000
