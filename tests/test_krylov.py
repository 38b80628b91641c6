"""Batched GMRES against dense solves: every column converges as plain GMRES would."""

import numpy as np
import pytest

from galdiff.propagation.krylov import batched_gmres


def nonnormal_matrix(n, seed):
    rng = np.random.default_rng(seed)
    return np.eye(n) * 3.0 + np.triu(rng.normal(size=(n, n)), 1) / np.sqrt(n) + rng.normal(size=(n, n)) / n


def test_columns_solve_their_own_systems_with_restarts():
    n = 120
    matrix = nonnormal_matrix(n, 1)
    rhs = np.random.default_rng(2).normal(size=(5, n)) * np.array([1.0, 1e-6, 1e6, 3.0, 0.5])[:, None]
    x, iterations, residual = batched_gmres(lambda block, columns: block @ matrix.T, rhs, rtol=1e-12, restart=8)
    exact = np.linalg.solve(matrix, rhs.T).T
    np.testing.assert_allclose(x, exact, rtol=1e-9, atol=0)
    assert np.all(residual <= 1e-12)
    assert np.all(iterations > 8)  # restarts were needed and survived


def test_operator_sees_the_right_columns_and_converged_columns_drop_out():
    n = 60
    matrices = [nonnormal_matrix(n, seed) for seed in (3, 4, 5)]
    calls = []

    def operator(block, columns):
        calls.append(columns.copy())
        return np.stack([matrices[c] @ row for c, row in zip(columns, block)])

    rhs = np.random.default_rng(6).normal(size=(3, n))
    rhs[1] = matrices[1] @ np.ones(n)
    x, iterations, residual = batched_gmres(operator, rhs, x0=np.vstack([np.zeros(n), np.ones(n), np.zeros(n)]),
                                            rtol=1e-11)
    for c in range(3):
        np.testing.assert_allclose(matrices[c] @ x[c], rhs[c], rtol=0, atol=1e-9 * np.linalg.norm(rhs[c]))
    assert iterations[1] == 0  # its initial guess was exact: it never enters the batch
    assert all(1 not in columns for columns in calls[1:])


def test_zero_rhs_and_shape_errors():
    x, iterations, residual = batched_gmres(lambda b, c: 2.0 * b, np.zeros((2, 4)))
    assert np.all(x == 0) and np.all(iterations == 0)
    with pytest.raises(ValueError, match="shape"):
        batched_gmres(lambda b, c: b, np.zeros(4))


def test_trusting_the_residual_estimate_returns_the_same_solution_with_fewer_applications():
    rng = np.random.default_rng(5)
    n = 40
    matrix = np.eye(n) * 4.0 + rng.standard_normal((n, n)) * 0.3
    rhs = rng.standard_normal((3, n))
    calls = {"checked": 0, "trusted": 0}

    def counting(name):
        def operator(block, columns):
            calls[name] += block.shape[0]
            return block @ matrix.T
        return operator

    checked = batched_gmres(counting("checked"), rhs, rtol=1e-10, restart=60)
    trusted = batched_gmres(counting("trusted"), rhs, rtol=1e-10, restart=60, verify_residual=False)
    np.testing.assert_array_equal(trusted[0], checked[0])
    np.testing.assert_array_equal(trusted[1], checked[1])
    assert calls["trusted"] == calls["checked"] - rhs.shape[0]  # one residual check per column saved
    true_residual = np.linalg.norm(rhs - trusted[0] @ matrix.T, axis=1) / np.linalg.norm(rhs, axis=1)
    assert np.all(trusted[2] <= 1e-10) and np.all(true_residual <= 1e-9)
    np.testing.assert_allclose(trusted[2], true_residual, rtol=1e-3, atol=1e-15)
