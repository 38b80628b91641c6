"""Green's functions at the Sun: agreement with direct runs, linearity, HDF5 round trips."""

from __future__ import annotations

import numpy as np
import pytest

from galdiff.propagation.coefficients import dr_coefficients
from galdiff.propagation.greens import (
    propagate_spectrum,
    read_density_h5,
    read_greens_h5,
    sun_greens_matrix,
    sun_intensity,
    write_density_h5,
    write_greens_h5,
)
from galdiff.propagation.grid import Grid
from galdiff.propagation.solver import PropagationSetup, SteadyStateSolver
from galdiff.units import C_CM_PER_S, HELIUM, PROTON

CONFIG = dict(r_max_kpc=12.0, dr_kpc=1.0, zh_kpc=3.0, dz_kpc=0.25, ek_min_GeV=0.1, ek_max_GeV=1e4,
              bins_per_decade=6)


def snr_shape(grid):
    """docs/paper.md#eq-2-source-distribution with r_sun = 8.3 kpc, z_s = 0.2 kpc (dimensionless)."""
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    return (r / 8.3) ** 1.25 * np.exp(-3.56 * (r - 8.3) / 8.3) * np.exp(-np.abs(z) / 0.2)


def make_solver(species=PROTON, reacceleration=True, loss_order=3):
    grid = Grid.from_config(CONFIG)
    diffusion, rate = dr_coefficients(grid.ek_GeV_per_n, species)
    beta = grid.beta(species)
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    gas_per_cm3 = np.exp(-np.abs(z) / 0.15) * np.exp(-(r - 8.3) / 6.0)  # test input, not data
    catastrophic = beta[:, None, None] * C_CM_PER_S * 40e-27 * gas_per_cm3[None]
    loss = 3e-16 * gas_per_cm3[None] / beta[:, None, None]
    setup = PropagationSetup(grid, species, diffusion, rate if reacceleration else None, loss, catastrophic,
                             loss_order=loss_order)
    return SteadyStateSolver(setup, progress=False)


@pytest.fixture(scope="module")
def dr_solver():
    return make_solver()


@pytest.fixture(scope="module")
def dr_greens(dr_solver):
    return sun_greens_matrix(dr_solver, snr_shape(dr_solver.grid))


def test_greens_matches_direct_run(dr_solver, dr_greens):
    grid = dr_solver.grid
    rng = np.random.default_rng(7)
    spectrum = rng.uniform(0.2, 1.0, grid.ek_GeV_per_n.size) * grid.ek_GeV_per_n**-2.4
    direct = sun_intensity(dr_solver, propagate_spectrum(dr_solver, snr_shape(grid), spectrum))
    np.testing.assert_allclose(dr_greens @ spectrum, direct, rtol=1e-6)
    assert np.all(direct > 0)


def test_greens_in_worker_processes_is_identical(dr_solver, dr_greens):
    greens = sun_greens_matrix(dr_solver, snr_shape(dr_solver.grid), n_workers=2)
    np.testing.assert_array_equal(greens, dr_greens)
    subset = sun_greens_matrix(dr_solver, snr_shape(dr_solver.grid), rows=[3, 7])
    # rows batched differently are solved on other windows: equal to the solver tolerance
    scale = np.abs(dr_greens[[3, 7]]).max(axis=1, keepdims=True)
    assert np.max(np.abs(subset[[3, 7]] - dr_greens[[3, 7]]) / scale) < 1e-9
    assert np.all(np.isnan(np.delete(subset, [3, 7], axis=0)))
    with pytest.raises(ValueError, match="rows"):
        sun_greens_matrix(dr_solver, snr_shape(dr_solver.grid), rows=[-1])


def test_preconditioner_halves_compose_to_the_preconditioner(dr_solver):
    """The window estimate uses the preconditioner's first sweep + coarse correction; finishing
    it with the last sweep must give exactly the preconditioner (it is handed to GMRES as such)."""
    rng = np.random.default_rng(11)
    rhs = rng.standard_normal((3, dr_solver.ek_GeV_per_n.size, dr_solver.layout.n_unknowns))
    for transposed in (False, True):
        whole = dr_solver._precondition(rhs.copy(), transposed)
        x, residual = dr_solver._precondition_first_half(rhs.copy(), transposed)
        np.testing.assert_array_equal(dr_solver._precondition_second_half(x, residual, transposed), whole)


def test_adjoint_solve_from_a_given_preconditioned_rhs_is_identical(dr_solver):
    rng = np.random.default_rng(12)
    weights = rng.uniform(size=(2, dr_solver.ek_GeV_per_n.size, dr_solver.layout.n_unknowns))
    plain = dr_solver.solve_adjoint_interior(weights)
    given = dr_solver.solve_adjoint_interior(weights, preconditioned_rhs=dr_solver._precondition(weights, True))
    np.testing.assert_array_equal(given, plain)
    # and it solves A^T y = w (residual at the GMRES tolerance of the scaled problem)
    residual = weights - dr_solver.apply_transposed(given)
    assert np.max(np.abs(residual)) < 1e-6 * np.max(np.abs(weights))


def test_rows_whose_window_is_the_whole_axis_skip_the_window_copy(monkeypatch):
    """Electron-like rows (losses carry every injection energy down to the lowest output
    energies) span the whole axis: they are solved with the solver's own factors (no window
    copy), the estimate's preconditioner application reused, and equal the whole-axis rows
    to the GMRES tolerance (bit for bit with the residual check that the rows leave out)."""
    from galdiff.propagation import greens as greens_module

    grid = Grid.from_config(dict(CONFIG, bins_per_decade=3))
    diffusion, rate = dr_coefficients(grid.ek_GeV_per_n, PROTON)
    loss = 1e-16 * grid.ek_GeV_per_n ** 2  # E^2 losses (inverse-Compton-like), GeV/s
    solver = SteadyStateSolver(PropagationSetup(grid, PROTON, diffusion, rate, loss, None), progress=False)
    shape = snr_shape(grid)
    full = sun_greens_matrix(solver, shape, windowed=False, rows=[0, 1])

    def no_window(*args):
        raise AssertionError("a whole-axis window must not copy the solver")

    monkeypatch.setattr(SteadyStateSolver, "energy_window", no_window)
    weights = solver.observer_weights(8.3, 0.0)
    rows = greens_module._greens_rows(solver, weights, greens_module._source_shape_unknowns(solver, shape),
                                      grid.beta(PROTON), [0, 1], rtol=greens_module.GREENS_RTOL)
    assert solver.last_greens_window == (0, grid.ek_GeV_per_n.size)
    np.testing.assert_array_equal(rows, full[[0, 1]])
    assert solver.verify_gmres_residual  # the rows' copy changed its own flag only


def test_energy_window_is_the_principal_submatrix():
    grid = Grid.from_config(dict(CONFIG, r_max_kpc=4.0, dr_kpc=1.0, zh_kpc=1.0, dz_kpc=0.5, bins_per_decade=2))
    diffusion, rate = dr_coefficients(grid.ek_GeV_per_n, PROTON)
    setup = PropagationSetup(grid, PROTON, diffusion, rate * 100, 1e-14 * np.ones(grid.ek_GeV_per_n.size), 1e-15)
    solver = SteadyStateSolver(setup, n_modes_r=2, n_modes_z=2, progress=False)
    n_e, n_s = grid.ek_GeV_per_n.size, solver.layout.n_unknowns
    dense = np.stack([solver.apply(unit.reshape(n_e, n_s)).ravel() for unit in np.eye(n_e * n_s)], axis=1)
    start, stop = 2, 7
    window = solver.energy_window(start, stop)
    block = slice(start * n_s, stop * n_s)
    sub = dense[block, block]
    m = (stop - start) * n_s
    window_dense = np.stack([window.apply(unit.reshape(-1, n_s)).ravel() for unit in np.eye(m)], axis=1)
    np.testing.assert_allclose(window_dense, sub, rtol=1e-12, atol=1e-12 * np.abs(sub).max())
    rhs = np.random.default_rng(2).uniform(size=(stop - start, n_s))
    np.testing.assert_allclose(window.solve_adjoint_interior(rhs).ravel(), np.linalg.solve(sub.T, rhs.ravel()),
                               rtol=1e-8)
    np.testing.assert_allclose(window.solve_interior(rhs).ravel(), np.linalg.solve(sub, rhs.ravel()), rtol=1e-8)


def test_windowed_rows_equal_full_rows_over_eleven_decades():
    grid_cfg = dict(CONFIG, r_max_kpc=12.0, dr_kpc=2.0, zh_kpc=3.0, dz_kpc=0.5, ek_max_GeV=1e10, bins_per_decade=4)
    grid = Grid.from_config(grid_cfg)
    diffusion, rate = dr_coefficients(grid.ek_GeV_per_n, PROTON)
    beta = grid.beta(PROTON)
    setup = PropagationSetup(grid, PROTON, diffusion, rate, 3e-16 / beta, 1e-15 * beta)
    solver = SteadyStateSolver(setup, progress=False)
    shape = snr_shape(grid)
    windowed = sun_greens_matrix(solver, shape)
    full = sun_greens_matrix(solver, shape, windowed=False)
    scale = np.abs(full).max(axis=1, keepdims=True)
    assert np.max(np.abs(windowed - full) / scale) < 1e-10
    assert np.count_nonzero(windowed[-1]) < grid.ek_GeV_per_n.size // 2  # the top row is local


def test_grown_windows_give_the_full_rows(monkeypatch, caplog):
    """A window estimate that is too narrow is grown (the solve restarting from the smaller
    window's solution) until the rows equal the whole-axis ones, in the windows' own measure:
    relative to each row's largest entry weighted with a T^-2 source."""
    from galdiff.propagation import greens as greens_module

    grid = Grid.from_config(dict(CONFIG, r_max_kpc=12.0, dr_kpc=2.0, zh_kpc=3.0, dz_kpc=0.5, ek_max_GeV=1e8,
                                 bins_per_decade=4))
    diffusion, rate = dr_coefficients(grid.ek_GeV_per_n, PROTON)
    beta = grid.beta(PROTON)
    solver = SteadyStateSolver(PropagationSetup(grid, PROTON, diffusion, rate, 3e-16 / beta, 1e-15 * beta),
                               progress=False)
    shape = snr_shape(grid)
    # both to rtol 1e-11: GMRES started elsewhere stops elsewhere within its tolerance
    full = sun_greens_matrix(solver, shape, windowed=False, rtol=1e-11)
    monkeypatch.setattr(greens_module, "WINDOW_SUPPORT", 1e-2)  # far too narrow: every batch grows
    monkeypatch.setattr(greens_module, "WINDOW_MARGIN", 1)
    with caplog.at_level("DEBUG", logger="galdiff.propagation.greens"):
        grown = sun_greens_matrix(solver, shape, rtol=1e-11)
    assert sum("smaller window" in message for message in caplog.messages) >= grid.ek_GeV_per_n.size // 8
    weight = grid.ek_GeV_per_n ** -2.0
    scale = np.abs(full * weight).max(axis=1, keepdims=True)
    assert np.max(np.abs(grown - full) * weight / scale) < 1e-12
    np.testing.assert_allclose(grown @ weight, full @ weight, rtol=1e-10)


def test_greens_structure(dr_solver, dr_greens):
    # losses move particles down, reacceleration both ways; the diagonal dominates
    assert np.all(np.diag(dr_greens) > 0)
    # the third-order loss flux answers a single-bin injection with a small damped
    # oscillation below it (documented); any power-law spectrum still gives positive fluxes
    assert dr_greens.min() >= -0.02 * dr_greens.max()
    for index in (1.5, 2.0, 2.7, 3.2):
        assert np.all(dr_greens @ dr_solver.grid.ek_GeV_per_n**-index > 0)
    above = np.triu(dr_greens, 1).sum(axis=1)
    assert np.all(np.diag(dr_greens)[-5:] > 10 * above[-5:])
    # reacceleration really couples energies at low energy (G is not diagonal there)
    assert dr_greens[1, 0] > 1e-3 * dr_greens[1, 1]


def test_greens_without_reacceleration_is_exact_and_upper_triangular():
    solver = make_solver(HELIUM, reacceleration=False, loss_order=1)
    grid = solver.grid
    greens = sun_greens_matrix(solver, snr_shape(grid))
    assert np.all(np.tril(greens, -1) == 0)  # no particle gains energy
    assert np.all(greens >= 0)  # the first-order loss flux is monotone (Godunov)
    spectrum = grid.ek_GeV_per_n**-2.0
    direct = sun_intensity(solver, propagate_spectrum(solver, snr_shape(grid), spectrum))
    np.testing.assert_allclose(greens @ spectrum, direct, rtol=1e-10)


def test_density_h5_round_trip(tmp_path, dr_solver):
    grid = dr_solver.grid
    density = propagate_spectrum(dr_solver, snr_shape(grid), grid.ek_GeV_per_n**-2.3)
    path = tmp_path / "cr.h5"
    write_density_h5(path, grid, "proton", density, config={"model": "test"}, extra_attrs={"note": "x"})
    back = read_density_h5(path)
    np.testing.assert_array_equal(back["psi"], density)
    np.testing.assert_array_equal(back["ek_GeV_per_n"], grid.ek_GeV_per_n)
    assert back["attrs"]["axis_order"] == "E,r,z"
    assert back["attrs"]["species"] == "proton"
    assert "config_hash" in back["attrs"] and "galdiff_version" in back["attrs"]
    assert [p.name for p in tmp_path.iterdir()] == ["cr.h5"]  # atomic: no temporary left
    with pytest.raises(ValueError, match="does not match the grid"):
        write_density_h5(tmp_path / "bad.h5", grid, "proton", density[:-1])
    assert not (tmp_path / "bad.h5").exists()


def test_greens_h5_round_trip(tmp_path, dr_solver, dr_greens):
    path = tmp_path / "greens_p.h5"
    write_greens_h5(path, dr_solver.grid, "proton", dr_greens)
    back = read_greens_h5(path)
    np.testing.assert_array_equal(back["greens"], dr_greens)
    assert back["attrs"]["r_observer_kpc"] == 8.3
    write_density_h5(tmp_path / "d.h5", dr_solver.grid, "proton", np.zeros(dr_solver.grid.shape))
    with pytest.raises(KeyError, match="greens"):
        read_greens_h5(tmp_path / "d.h5")
