"""GMRES for several right-hand sides at once, one Krylov space per column.

The steady-state solver's cost is dominated by its preconditioner, a sequence of sparse
triangular solves per energy. Those solves are cheaper per right-hand side when several
columns go through them together (SuperLU's supernodal kernels work on blocks of columns), so
the Green's-function rows are solved in small batches: every column runs its own, standard
GMRES (Saad & Schultz 1986; Arnoldi with classical Gram-Schmidt as matrix-vector products,
repeated when the new vector lost most of its norm, the Kahan-Parlett "twice is enough" rule
that keeps it as stable as modified Gram-Schmidt; Givens rotations; restarts), and
only the operator applications are shared. Columns that converge drop out of the batch, so a
column never costs more iterations than it would alone, and a batch of one is plain GMRES.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import solve_triangular


#: classical Gram-Schmidt is repeated once when the new Krylov vector kept less than this
#: fraction of its norm (Kahan-Parlett; Giraud, Langou & Rozloznik 2005)
REORTHOGONALISE_BELOW = 0.7


def _givens(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation (c, s) with [c s; -s c] [a; b] = [r; 0], elementwise over columns."""
    radius = np.hypot(a, b)
    safe = np.where(radius > 0.0, radius, 1.0)
    return np.where(radius > 0.0, a / safe, 1.0), np.where(radius > 0.0, b / safe, 0.0)


def batched_gmres(operator: Callable[[np.ndarray], np.ndarray], rhs: np.ndarray, x0: np.ndarray | None = None,
                  rtol: float = 1e-10, restart: int = 30, max_iterations: int = 400,
                  callback: Callable[[int, np.ndarray], None] | None = None, verify_residual: bool = True):
    """Solve F x_j = b_j for every column j with GMRES, sharing the applications of F.

    Parameters
    ----------
    operator : callable
        ``operator(block, columns)``: F applied to a block of columns, an array of shape
        (k, n) whose row i is column ``columns[i]`` of the batch; returns shape (k, n).
    rhs : ndarray, shape (m, n)
        Right-hand sides b_j, one per row.
    x0 : ndarray, shape (m, n), optional
        Initial guesses (default zero).
    rtol : float
        A column stops when its residual norm is <= rtol * ||b_j|| (relative to its own rhs).
    restart : int
        Krylov vectors per cycle; memory is (restart + 1) * m * n floats.
    max_iterations : int
        Most operator applications per column, all cycles together.
    callback : callable, optional
        ``callback(iteration, residual_norms)`` after every Arnoldi step, residual norms of the
        columns still iterating, relative to their ||b||.
    verify_residual : bool
        Recompute the residual of every column that GMRES's own estimate (the rotated
        Hessenberg system) declares converged, and go on iterating where it is not (default).
        False accepts the estimate: one operator application per column saved, the same x
        whenever the check would have passed (Arnoldi with reorthogonalised Gram-Schmidt keeps
        the estimate within round-off of the true residual of a linear operator).

    Returns
    -------
    x : ndarray, shape (m, n)
    iterations : ndarray of int, shape (m,)
        Arnoldi steps spent by each column (0: x0 already solved it).
    relative_residual : ndarray, shape (m,)
        ||b_j - F x_j|| / ||b_j||, recomputed from the returned x (with ``verify_residual``
        False: GMRES's estimate for the columns it declared converged); a column has converged
        when it is <= rtol.
    """
    rhs = np.asarray(rhs, dtype=float)
    if rhs.ndim != 2:
        raise ValueError(f"batched_gmres: rhs must have shape (m, n), got {rhs.shape}")
    m, n = rhs.shape
    x = np.zeros_like(rhs) if x0 is None else np.array(x0, dtype=float, copy=True).reshape(m, n)
    target_norm = np.linalg.norm(rhs, axis=1)
    tolerance = rtol * np.where(target_norm > 0.0, target_norm, 1.0)
    iterations = np.zeros(m, dtype=int)
    restart = max(1, int(restart))
    total = 0
    beta = np.linalg.norm(rhs, axis=1)
    pending = np.arange(m)  # columns whose residual must be (re)computed from x
    while True:
        residual = rhs.copy()
        if np.any(x[pending]):
            residual[pending] -= operator(x[pending], pending)
        beta[pending] = np.linalg.norm(residual[pending], axis=1)
        active = pending[(beta[pending] > tolerance[pending]) & (iterations[pending] < max_iterations)]
        if active.size == 0:
            return x, iterations, beta / np.where(target_norm > 0.0, target_norm, 1.0)
        k = active.size
        basis = np.empty((k, restart + 1, n))  # one contiguous Krylov basis per column
        basis[:, 0] = residual[active] / beta[active, None]
        hessenberg = np.zeros((restart + 1, restart, k))
        cos = np.zeros((restart, k))
        sin = np.zeros((restart, k))
        g = np.zeros((restart + 1, k))
        g[0] = beta[active]
        steps = np.zeros(k, dtype=int)  # Arnoldi steps taken in this cycle, per column
        running = np.ones(k, dtype=bool)
        for j in range(restart):
            live = np.nonzero(running)[0]
            w = operator(basis[:, j] if live.size == k else basis[live, j], active[live])  # a view when it can
            h = np.zeros((live.size, j + 1))
            norm = np.linalg.norm(w, axis=1)
            for local, column in enumerate(live):
                previous = basis[column, :j + 1]
                for _ in range(2):
                    projection = previous @ w[local]
                    w[local] -= projection @ previous
                    h[local] += projection
                    before, norm[local] = norm[local], np.linalg.norm(w[local])
                    if norm[local] > REORTHOGONALISE_BELOW * before:
                        break
            hessenberg[:j + 1, j, live] = h.T
            hessenberg[j + 1, j, live] = norm
            basis[live, j + 1] = w / np.where(norm > 0.0, norm, 1.0)[:, None]
            for i in range(j):  # previous rotations on the new column
                a, b = hessenberg[i, j, live], hessenberg[i + 1, j, live]
                hessenberg[i, j, live] = cos[i, live] * a + sin[i, live] * b
                hessenberg[i + 1, j, live] = -sin[i, live] * a + cos[i, live] * b
            c, s = _givens(hessenberg[j, j, live], hessenberg[j + 1, j, live])
            cos[j, live], sin[j, live] = c, s
            hessenberg[j, j, live] = c * hessenberg[j, j, live] + s * hessenberg[j + 1, j, live]
            hessenberg[j + 1, j, live] = 0.0
            g[j + 1, live] = -s * g[j, live]
            g[j, live] = c * g[j, live]
            steps[live] += 1
            total += 1
            columns = active[live]
            iterations[columns] += 1
            residual_norm = np.abs(g[j + 1, live])
            done = (residual_norm <= tolerance[columns]) | (norm == 0.0) | (iterations[columns] >= max_iterations)
            if callback is not None:
                callback(total, residual_norm / np.where(target_norm[columns] > 0, target_norm[columns], 1.0))
            running[live[done]] = False
            if not running.any():
                break
        for local, column in enumerate(active):  # x += V y, y from the rotated triangle
            size = steps[local]
            if size == 0:
                continue
            y = solve_triangular(hessenberg[:size, :size, local], g[:size, local])
            x[column] += y @ basis[local, :size]
        if not verify_residual:
            estimate = np.abs(g[steps, np.arange(k)])  # |g| after each column's last step
            trusted = (steps > 0) & (estimate <= tolerance[active])
            beta[active[trusted]] = estimate[trusted]
            active = active[~trusted]
            if active.size == 0:
                return x, iterations, beta / np.where(target_norm > 0.0, target_norm, 1.0)
        pending = active
