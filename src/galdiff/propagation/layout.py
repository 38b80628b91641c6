"""The solver's spatial unknowns: every interior node, or half of them for a mirror-symmetric Galaxy.

The propagation problem of the paper is symmetric under z -> -z: the gas, ISRF, magnetic field
and source models depend on |z| and the Sun sits in the plane. Its steady state is then even
in z and lives in the subspace of even fields, which the unknowns with z >= 0 represent
exactly: with P the map that mirrors those unknowns onto z < 0 and R the one that keeps them,
the transport operator restricted to even fields is R A P (A commutes with the mirror). The
vertical stencil of the innermost row then couples to its mirror image, i.e. to its own
neighbour above, twice (or, without a node at z = 0, to itself), and every observable w . N of
an even field is (P^T w) . (R N). Nothing is approximated: the folded solution equals the full
one to round-off (tests), at half the unknowns, so every 2D factorisation, sweep and Krylov
vector costs half.

Spatial unknowns are ordered r slowest, z fastest (s = i_r n_z + j), r_0 = 0 included (regular
axis), r = r_max and |z| = zh excluded (free escape, N = 0), as in :meth:`Grid.full_to_interior`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .grid import Grid

#: relative tolerance of the mirror-symmetry test of the grid and of coefficient fields
SYMMETRY_RTOL = 1e-12


def radial_operator(n_unknown: int, dr_kpc: float) -> sp.csr_matrix:
    """Finite-volume (1/r) d/dr (r d/dr) on r_i = i dr, i = 0..n_unknown-1, N = 0 at i = n_unknown.

    Parameters
    ----------
    n_unknown : int
        Number of radial unknowns (the node at r_max = n_unknown dr is the escape boundary).
    dr_kpc : float

    Returns
    -------
    scipy.sparse.csr_matrix, shape (n_unknown, n_unknown), in kpc^-2
    """
    i = np.arange(n_unknown, dtype=float)
    lower = np.zeros(n_unknown)
    upper = np.zeros(n_unknown)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower[1:] = (i[1:] - 0.5) / i[1:]
        upper[1:] = (i[1:] + 0.5) / i[1:]
    upper[0] = 4.0  # axis cell [0, dr/2]: flux 2 pi (dr/2) dN/dr over volume pi dr^2/4
    diag = -(lower + upper)
    return sp.diags([lower[1:], diag, upper[:-1]], [-1, 0, 1], format="csr") / dr_kpc**2


def vertical_operator(n_unknown: int, dz_kpc: float) -> sp.csr_matrix:
    """d^2/dz^2 with N = 0 one step beyond both ends, in kpc^-2."""
    ones = np.ones(n_unknown)
    return sp.diags([ones[1:], -2.0 * ones, ones[1:]], [-1, 0, 1], format="csr") / dz_kpc**2


def _tridiagonals(matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sub, main, super) diagonals of a tridiagonal matrix."""
    matrix = sp.csr_matrix(matrix)
    return matrix.diagonal(-1).copy(), matrix.diagonal().copy(), matrix.diagonal(1).copy()


def _tridiagonal_matrix(sub, diag, sup) -> sp.csr_matrix:
    return sp.diags([sub, diag, sup], [-1, 0, 1], shape=(diag.size, diag.size), format="csr")


def grid_is_mirror_symmetric(grid: Grid) -> bool:
    """Whether the z nodes are symmetric about z = 0."""
    return bool(np.allclose(grid.z_kpc, -grid.z_kpc[::-1], rtol=0.0, atol=SYMMETRY_RTOL * grid.dz_kpc * grid.z_kpc.size))


def field_is_mirror_symmetric(field) -> bool:
    """Whether an array whose last axis is z (full grid nodes) is even in z to SYMMETRY_RTOL."""
    field = np.asarray(field, dtype=float)
    scale = np.max(np.abs(field)) if field.size else 0.0
    return bool(np.all(np.abs(field - field[..., ::-1]) <= SYMMETRY_RTOL * scale))


@dataclass(frozen=True, eq=False)
class SpatialLayout:
    """Spatial unknowns of the steady-state solver and the operators written on them.

    Attributes
    ----------
    grid : Grid
    folded : bool
        True: only the unknowns with z >= 0, for fields even in z (module docstring).
    z_rows : ndarray of int
        Interior z indices (0 .. n_z - 3) of the unknowns' z rows, increasing.
    radial, vertical : tuple of ndarray
        (sub, main, super) diagonals of the radial and vertical parts of the Laplacian on the
        unknowns, kpc^-2.
    weights_r : ndarray
        Ring areas 2 pi r dr (axis cell pi dr^2 / 4), kpc^2.
    weights_z : ndarray
        dz per unknown z row, doubled for rows that stand for a mirror pair, kpc; with
        ``weights_r`` the W for which W lap is symmetric.
    """

    grid: Grid
    folded: bool
    z_rows: np.ndarray
    radial: tuple
    vertical: tuple
    weights_r: np.ndarray
    weights_z: np.ndarray

    @classmethod
    def for_grid(cls, grid: Grid, folded: bool = False) -> "SpatialLayout":
        """Layout of ``grid``: all interior nodes, or (``folded``) those with z >= 0."""
        n_r, n_z = grid.interior_shape
        radial = _tridiagonals(radial_operator(n_r, grid.dr_kpc))
        weights_r = 2.0 * np.pi * grid.r_kpc[:n_r] * grid.dr_kpc
        weights_r[0] = np.pi * (0.5 * grid.dr_kpc) ** 2
        vertical = vertical_operator(n_z, grid.dz_kpc)
        if not folded:
            return cls(grid, False, np.arange(n_z), radial, _tridiagonals(vertical), weights_r,
                       np.full(n_z, grid.dz_kpc))
        if not grid_is_mirror_symmetric(grid):
            raise ValueError("spatial layout: the z nodes are not symmetric about z = 0, cannot fold")
        z_interior = grid.z_kpc[1:-1]
        rows = np.nonzero(z_interior >= -SYMMETRY_RTOL * grid.dz_kpc)[0]
        mirror = n_z - 1 - rows
        keep = sp.csr_matrix((np.ones(rows.size), (np.arange(rows.size), rows)), shape=(rows.size, n_z))
        pair = mirror != rows  # the row at z = 0, if there is one, is its own mirror
        columns = np.concatenate([np.arange(rows.size), np.nonzero(pair)[0]])
        unfold = sp.csr_matrix((np.ones(columns.size), (np.concatenate([rows, mirror[pair]]), columns)),
                               shape=(n_z, rows.size))
        weights_z = grid.dz_kpc * np.where(rows == mirror, 1.0, 2.0)
        return cls(grid, True, rows, radial, _tridiagonals(keep @ vertical @ unfold), weights_r, weights_z)

    # --- sizes and operators -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(radial, vertical) unknowns."""
        return (self.weights_r.size, self.weights_z.size)

    @property
    def n_unknowns(self) -> int:
        return self.weights_r.size * self.weights_z.size

    @property
    def cell_volumes_kpc3(self) -> np.ndarray:
        """W: cell volume of each unknown (both mirror cells for a folded row), kpc^3, (n_s,)."""
        return np.outer(self.weights_r, self.weights_z).ravel()

    def laplacian_per_kpc2(self) -> sp.csr_matrix:
        """(1/r) d/dr (r d/dr) + d^2/dz^2 on the unknowns, kpc^-2 (z fastest)."""
        n_r, n_z = self.shape
        lap_r = _tridiagonal_matrix(*self.radial)
        lap_z = _tridiagonal_matrix(*self.vertical)
        return (sp.kron(lap_r, sp.identity(n_z)) + sp.kron(sp.identity(n_r), lap_z)).tocsr()

    # --- between full-grid arrays and unknowns -------------------------------------------
    def to_unknowns(self, full: np.ndarray) -> np.ndarray:
        """(n_E, n_r, n_z) full-grid array -> (n_E, n_s) on the unknowns (z >= 0 rows if folded)."""
        interior = np.asarray(full, dtype=float)[:, :-1, 1:-1]
        return np.ascontiguousarray(interior[:, :, self.z_rows]).reshape(interior.shape[0], -1)

    def to_full(self, unknowns: np.ndarray) -> np.ndarray:
        """(n_E, n_s) on the unknowns -> (n_E, n_r, n_z), zero on the escape boundary, mirrored if folded."""
        unknowns = np.asarray(unknowns, dtype=float)
        n_e = unknowns.shape[0]
        n_r, n_z_interior = self.grid.interior_shape
        values = unknowns.reshape(n_e, n_r, -1)
        full = np.zeros((n_e,) + self.grid.shape[1:])
        full[:, :-1, 1 + self.z_rows] = values
        if self.folded:
            full[:, :-1, 1 + (n_z_interior - 1 - self.z_rows)] = values
        return full

    def observable_weights(self, weights_interior: np.ndarray) -> np.ndarray:
        """P^T w: weights w of an observable w . N on all interior nodes, as weights on the unknowns.

        Exact for fields that are even in z (all that a folded solver represents), wherever
        the observer sits.
        """
        n_r, n_z_interior = self.grid.interior_shape
        w = np.asarray(weights_interior, dtype=float).reshape(n_r, n_z_interior)
        folded = w[:, self.z_rows].copy()
        if self.folded:
            mirror = n_z_interior - 1 - self.z_rows
            folded += np.where(mirror != self.z_rows, 1.0, 0.0)[None, :] * w[:, mirror]
        return folded.ravel()
