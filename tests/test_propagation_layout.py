"""Folding the mirror-symmetric problem at z = 0 is exact: same densities, same Green's functions."""

import numpy as np
import pytest

from galdiff.propagation.coefficients import dr_coefficients
from galdiff.propagation.greens import propagate_spectrum, sun_greens_matrix, sun_intensity
from galdiff.propagation.grid import Grid
from galdiff.propagation.layout import SpatialLayout
from galdiff.propagation.solver import PropagationSetup, SteadyStateSolver, cylindrical_laplacian
from galdiff.units import C_CM_PER_S, PROTON

# a node at z = 0 (odd number of interior rows) and none (even: z = +-0.2, +-0.6 kpc)
GRIDS = {
    "node_at_plane": dict(r_max_kpc=10.0, dr_kpc=1.0, zh_kpc=2.0, dz_kpc=0.25, ek_min_GeV=0.1, ek_max_GeV=1e4,
                          bins_per_decade=4),
    "no_node_at_plane": dict(r_max_kpc=10.0, dr_kpc=1.0, zh_kpc=1.0, dz_kpc=0.4, ek_min_GeV=0.1, ek_max_GeV=1e4,
                             bins_per_decade=4),
}


def disk_setup(grid, asymmetric=False):
    """Diffusion, reacceleration, losses and fragmentation on a thin gas disk (test inputs)."""
    diffusion, rate = dr_coefficients(grid.ek_GeV_per_n, PROTON)
    beta = grid.beta(PROTON)
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    gas_per_cm3 = np.exp(-np.abs(z - (0.1 if asymmetric else 0.0)) / 0.15) * np.exp(-(r - 8.3) / 5.0)
    catastrophic = beta[:, None, None] * C_CM_PER_S * 35e-27 * gas_per_cm3[None]
    loss = 2e-16 * gas_per_cm3[None] / beta[:, None, None]
    return PropagationSetup(grid, PROTON, diffusion, rate, loss, catastrophic)


def snr_shape(grid):
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    return (r / 8.3) ** 1.25 * np.exp(-3.56 * (r - 8.3) / 8.3) * np.exp(-np.abs(z) / 0.2)


@pytest.fixture(scope="module", params=sorted(GRIDS))
def solvers(request):
    setup = disk_setup(Grid.from_config(GRIDS[request.param]))
    return SteadyStateSolver(setup, progress=False), SteadyStateSolver(setup, progress=False, z_symmetric=False)


def test_symmetric_setups_are_folded_automatically(solvers):
    folded, full = solvers
    assert folded.layout.folded and not full.layout.folded
    assert folded.layout.n_unknowns < 0.6 * full.layout.n_unknowns


def test_folded_and_full_solutions_agree(solvers):
    folded, full = solvers
    grid = folded.grid
    spectrum = grid.ek_GeV_per_n**-2.4
    density_folded = propagate_spectrum(folded, snr_shape(grid), spectrum)
    density_full = propagate_spectrum(full, snr_shape(grid), spectrum)
    np.testing.assert_allclose(density_folded, density_full, rtol=1e-8, atol=1e-12 * np.abs(density_full).max())
    np.testing.assert_array_equal(density_folded, density_folded[:, :, ::-1])  # mirrored exactly
    for z_observer in (0.0, 0.3):  # an observer off the plane sees the even field all the same
        np.testing.assert_allclose(sun_intensity(folded, density_full, z_sun_kpc=z_observer),
                                   sun_intensity(full, density_full, z_sun_kpc=z_observer), rtol=1e-12)


def test_folded_and_full_greens_functions_agree(solvers):
    folded, full = solvers
    shape = snr_shape(folded.grid)
    # a tight tolerance: this compares the two layouts' operators, not the workflow's GMRES tolerance
    g_folded = sun_greens_matrix(folded, shape, z_sun_kpc=0.1, rtol=1e-10)
    g_full = sun_greens_matrix(full, shape, z_sun_kpc=0.1, rtol=1e-10)
    scale = np.abs(g_full).max(axis=1, keepdims=True)
    assert np.max(np.abs(g_folded - g_full) / scale) < 1e-8


def test_folded_operator_is_the_full_one_on_even_fields(solvers):
    """R A P = A_fold; for the adjoint, W^-1 A^T W (the spatial part symmetric) folds the same way."""
    folded, full = solvers
    layout_full, layout_folded = full.layout, folded.layout
    w_full, w_folded = layout_full.cell_volumes_kpc3, layout_folded.cell_volumes_kpc3
    half = np.random.default_rng(3).uniform(size=(folded.grid.ek_GeV_per_n.size, layout_folded.n_unknowns))
    even = layout_full.to_unknowns(layout_folded.to_full(half))

    def fold(values):
        return layout_folded.to_unknowns(layout_full.to_full(values))

    pairs = [(folded.apply(half), fold(full.apply(even))),
             (folded.apply_transposed(half * w_folded) / w_folded, fold(full.apply_transposed(even * w_full) / w_full))]
    for got, expected in pairs:
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())


def test_layout_round_trip_and_laplacian():
    grid = Grid.from_config(GRIDS["node_at_plane"])
    layout = SpatialLayout.for_grid(grid, folded=True)
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    even = ((1.0 + r) * np.cos(z))[None] * np.array([1.0, 2.0])[:, None, None]
    even[:, -1, :] = 0.0
    even[:, :, [0, -1]] = 0.0
    np.testing.assert_array_equal(layout.to_full(layout.to_unknowns(even)), even)
    # the folded Laplacian of an even field is the full Laplacian's, row by row
    full_lap = cylindrical_laplacian(grid) @ grid.full_to_interior(even)[0]
    folded_lap = layout.laplacian_per_kpc2() @ layout.to_unknowns(even)[0]
    np.testing.assert_allclose(folded_lap, layout.to_unknowns(grid.interior_to_full(full_lap[None]))[0], rtol=1e-12)
    # both mirror cells count in the folded volumes: the total volume is the cylinder's
    assert layout.cell_volumes_kpc3.sum() == pytest.approx(SpatialLayout.for_grid(grid).cell_volumes_kpc3.sum())


def test_uneven_problems_are_not_folded_and_uneven_sources_are_refused(solvers):
    grid = Grid.from_config(GRIDS["node_at_plane"])
    assert not SteadyStateSolver(disk_setup(grid, asymmetric=True), progress=False).layout.folded
    with pytest.raises(ValueError, match="not even in z"):
        SteadyStateSolver(disk_setup(grid, asymmetric=True), progress=False, z_symmetric=True)
    folded, _ = solvers
    shape = snr_shape(folded.grid)
    shape[:, :2] *= 2.0  # more sources below the plane
    with pytest.raises(ValueError, match="not even in z"):
        propagate_spectrum(folded, shape, folded.grid.ek_GeV_per_n**-2.0)
