"""The line-of-sight operator W: sky map = W @ emissivity, for all energies at once.

docs/architecture.md#the-chain-is-linear: for each HEALPix pixel, W holds the weights of the nodes
of the axisymmetric (r, z) emissivity grid that its line of sight crosses (bilinear interpolation
at each step midpoint, times the step length, times the 3D gas density if folded in). W depends
only on geometry and gas, so it is built once and every component of every model is a
sparse-times-dense product:

    I(E, p) = sum_c W[p, c] q_per_sr(c, E)       (docs/emission.md#line-of-sight)

* gas variant: W[p, c] = sum_steps n_H(x_k) B_c(r_k, z_k) ds_k  in cm^-2 (n_H in cm^-3, ds in cm),
  multiplied by the emissivity per H atom per sr q_per_sr [GeV^-1 s^-1 sr^-1 H^-1] (pi0, bremsstrahlung,
  hadronic neutrinos);
* gas-free variant: W[p, c] = sum_steps B_c(r_k, z_k) ds_k in cm, multiplied by the volume
  emissivity per sr j_per_sr [GeV^-1 cm^-3 s^-1 sr^-1] (IC, extra sources);

both give intensities in GeV^-1 cm^-2 s^-1 sr^-1, with no 1/(4 pi) (per-sr convention,
docs/conventions.md#flux-density-and-emissivity). B_c are the bilinear weights; points outside the grid contribute 0.

Pair absorption (docs/emission.md#pair-absorption, #line-of-sight) multiplies each step by exp(-tau(E, s)) with
tau accumulated from the observer. Two routes:

* distance shells: W is stored with one row per (pixel, shell), together with its distance moment
  M (the same weights times the heliocentric distance of each step). The optical depth at each
  shell edge is exact (steps are aligned to the edges, :mod:`galdiff.skymaps.geometry`); the
  emission of a shell, W_k @ eps, is attenuated by exp(-tau(s_bar)) sinh(x)/x, where
  s_bar = (M_k @ eps)/(W_k @ eps) is its mean distance (per pixel and energy), tau is taken linear
  across the shell and x = d_tau/2 is half the shell's optical depth. This is exact for a uniform
  absorber with uniform emission, accurate to d_tau^2/24 for a thin emitting layer, and second
  order in d_tau in general;
* direct Numba integration (:func:`integrate_los_direct`), exact to the midpoint rule, without
  storing W (also the route for very large N_side).

Row/column layout: column c = i_r * n_z + i_z (C order of an (n_r, n_z) array, :class:`RZGrid`);
row = pixel * n_shells + shell.
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import healpy as hp
import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm
from numba import get_num_threads, njit, prange

from ..provenance import atomic_path
from ..units import KPC_CM
from .geometry import LineOfSightGeometry, healpix_directions, sample_lines_of_sight


@dataclass(frozen=True, eq=False)
class RZGrid:
    """Axisymmetric (r, z) node grid on which emissivities (and absorption) are tabulated.

    Attributes
    ----------
    r_kpc : ndarray, shape (n_r,)
        Galactocentric radii of the nodes in kpc, strictly increasing, >= 0.
    z_kpc : ndarray, shape (n_z,)
        Heights of the nodes in kpc, strictly increasing.

    Notes
    -----
    A field on the grid has shape (n_r, n_z, ...); it is flattened to (n_cells, ...) with
    ``cell = i_r * n_z + i_z`` (C order). Values are interpolated bilinearly in (r, z); points
    outside [r_0, r_last] x [z_0, z_last] get zero.
    """

    r_kpc: np.ndarray
    z_kpc: np.ndarray

    def __post_init__(self):
        for name in ("r_kpc", "z_kpc"):
            nodes = np.ascontiguousarray(getattr(self, name), dtype=float)
            if nodes.ndim != 1 or nodes.size < 2 or not np.all(np.isfinite(nodes)) or np.any(np.diff(nodes) <= 0):
                raise ValueError(f"RZGrid.{name} must be a 1D strictly increasing finite array with >= 2 nodes")
            object.__setattr__(self, name, nodes)
        if self.r_kpc[0] < 0.0:
            raise ValueError(f"RZGrid.r_kpc must start at r >= 0, got {self.r_kpc[0]}")

    @classmethod
    def uniform(cls, r_max_kpc: float, n_r: int, z_max_kpc: float, n_z: int) -> "RZGrid":
        """Uniform grid: r from 0 to r_max_kpc (n_r nodes), z from -z_max_kpc to z_max_kpc (n_z nodes)."""
        return cls(np.linspace(0.0, r_max_kpc, n_r), np.linspace(-z_max_kpc, z_max_kpc, n_z))

    @property
    def shape(self) -> tuple:
        return (self.r_kpc.size, self.z_kpc.size)

    @property
    def n_cells(self) -> int:
        return self.r_kpc.size * self.z_kpc.size

    def flatten_field(self, field_rz: np.ndarray, name: str = "field") -> np.ndarray:
        """Reshape a field of shape (n_r, n_z[, n_E]) to C-contiguous float64 (n_cells, n_E)."""
        values = np.asarray(field_rz, dtype=float)
        if values.shape[:2] != self.shape:
            raise ValueError(
                f"{name} has shape {values.shape}; expected (n_r, n_z[, n_E]) = {self.shape} + (n_E,)"
            )
        return np.ascontiguousarray(values.reshape(self.n_cells, -1))

    def same_as(self, other: "RZGrid") -> bool:
        return (
            self.r_kpc.shape == other.r_kpc.shape
            and self.z_kpc.shape == other.z_kpc.shape
            and np.array_equal(self.r_kpc, other.r_kpc)
            and np.array_equal(self.z_kpc, other.z_kpc)
        )


GasDensity = Callable[..., np.ndarray]


def evaluate_gas_density_cm3(gas_density_cm3: GasDensity, x_kpc, y_kpc, z_kpc, gas_coordinates: str = "xyz"):
    """Evaluate a vectorised gas-density callable at galactocentric points and check the result.

    Parameters
    ----------
    gas_density_cm3 : callable
        ``f(x_kpc, y_kpc, z_kpc)`` (``gas_coordinates="xyz"``, GALPROP frame: Sun at +x) or
        ``f(r_kpc, z_kpc)`` (``"rz"``), returning the hydrogen-atom density n_H = n_HI + 2 n_H2
        + n_HII in cm^-3 (or whatever target density the emissivity is normalised to).
    x_kpc, y_kpc, z_kpc : ndarray
        Points in kpc.
    gas_coordinates : {"xyz", "rz"}

    Returns
    -------
    ndarray
        Densities in cm^-3, float64, same shape as ``x_kpc``.
    """
    if gas_coordinates == "xyz":
        density = gas_density_cm3(x_kpc, y_kpc, z_kpc)
    elif gas_coordinates == "rz":
        density = gas_density_cm3(np.hypot(x_kpc, y_kpc), z_kpc)
    else:
        raise ValueError(f"gas_coordinates must be 'xyz' or 'rz', got {gas_coordinates!r}")
    density = np.broadcast_to(np.asarray(density, dtype=float), np.shape(x_kpc))
    if not np.all(np.isfinite(density)) or np.any(density < 0.0):
        raise ValueError("gas_density_cm3 returned negative or non-finite densities (expected n >= 0 in cm^-3)")
    return np.ascontiguousarray(density)


def gas_density_from_grid(r_kpc: np.ndarray, z_kpc: np.ndarray, n_cm3: np.ndarray) -> GasDensity:
    """Callable f(r_kpc, z_kpc) interpolating a tabulated axisymmetric density bilinearly (0 outside).

    For gas given as an array (e.g. a cached table of :mod:`galdiff.galaxy.gas`); use with
    ``gas_coordinates="rz"``. Tabulate it finer than the gas scale height (<= 10 pc for H2): the
    point of folding the gas into W is to sample it at the LOS step, not at the emissivity grid.

    Parameters
    ----------
    r_kpc, z_kpc : ndarray
        Strictly increasing node coordinates in kpc.
    n_cm3 : ndarray, shape (n_r, n_z)
        Density in cm^-3 at the nodes.

    Returns
    -------
    callable
    """
    from scipy.interpolate import RegularGridInterpolator

    table = RZGrid(r_kpc, z_kpc)
    values = np.asarray(n_cm3, dtype=float)
    if values.shape != table.shape:
        raise ValueError(f"n_cm3 has shape {values.shape}; expected {table.shape}")
    interpolator = RegularGridInterpolator((table.r_kpc, table.z_kpc), values, bounds_error=False, fill_value=0.0)

    def n_cm3_at(r, z):
        r = np.asarray(r, dtype=float)
        return interpolator(np.column_stack([r.ravel(), np.asarray(z, dtype=float).ravel()])).reshape(r.shape)

    return n_cm3_at


def hydrogen_atom_density_cm3(n_HI_cm3: GasDensity | None = None, n_H2_molecules_cm3: GasDensity | None = None,
                              n_HII_cm3: GasDensity | None = None) -> GasDensity:
    """Combine gas-phase callables f(r_kpc, z_kpc) into the H-atom density n_H = n_HI + 2 n_H2 + n_HII.

    Use with ``gas_coordinates="rz"`` (e.g. the functions of :mod:`galdiff.galaxy.gas`). The
    emissivity per H atom multiplies this density (docs/emission.md#line-of-sight); helium is in the
    emissivity's nuclear-enhancement factor, not here.

    Parameters
    ----------
    n_HI_cm3, n_H2_molecules_cm3, n_HII_cm3 : callable, optional
        Vectorised f(r_kpc, z_kpc) in cm^-3; n_H2 counts molecules (two H atoms each).

    Returns
    -------
    callable
        f(r_kpc, z_kpc) -> n_H in cm^-3.
    """
    parts = [(f, w) for f, w in ((n_HI_cm3, 1.0), (n_H2_molecules_cm3, 2.0), (n_HII_cm3, 1.0)) if f is not None]
    if not parts:
        raise ValueError("hydrogen_atom_density_cm3 needs at least one gas phase")

    def n_H_cm3(r_kpc, z_kpc):
        return sum(w * np.asarray(f(r_kpc, z_kpc), dtype=float) for f, w in parts)

    return n_H_cm3


@njit(cache=True)
def _locate(nodes, value):
    """Interval index i and fraction t with nodes[i] <= value <= nodes[i+1]; i = -1 if outside."""
    n = nodes.shape[0]
    if not (value >= nodes[0] and value <= nodes[n - 1]):
        return -1, 0.0
    i = np.searchsorted(nodes, value, side="right") - 1
    if i > n - 2:
        i = n - 2
    t = (value - nodes[i]) / (nodes[i + 1] - nodes[i])
    return i, t


@njit(cache=True)
def _bilinear_corners(r_nodes, z_nodes, r, z, cells, weights):
    """Fill the 4 corner cells and bilinear weights of (r, z); return False if outside the grid."""
    i_r, t_r = _locate(r_nodes, r)
    if i_r < 0:
        return False
    i_z, t_z = _locate(z_nodes, z)
    if i_z < 0:
        return False
    n_z = z_nodes.shape[0]
    base = i_r * n_z + i_z
    cells[0] = base
    cells[1] = base + 1
    cells[2] = base + n_z
    cells[3] = base + n_z + 1
    weights[0] = (1.0 - t_r) * (1.0 - t_z)
    weights[1] = (1.0 - t_r) * t_z
    weights[2] = t_r * (1.0 - t_z)
    weights[3] = t_r * t_z
    return True


@njit(cache=True, parallel=True)
def _accumulate_rows(x, y, z, step_weight, s_kpc, shell, step_offsets, n_shells, r_nodes, z_nodes,
                     row_offsets, out_indices, out_data, out_moment, count_only, with_moment, n_blocks):
    """Per (pixel, shell) row, sum step_weight x bilinear weight per grid node (sorted columns).

    With ``count_only`` it returns the number of non-zero columns per row and writes nothing;
    otherwise it writes row r's columns and values at ``row_offsets[r]`` of the outputs, and with
    ``with_moment`` also the distance moment sum(step_weight x bilinear weight x s_kpc). Pixels
    are split into ``n_blocks`` parallel blocks, each with its own O(n_cells) scratch arrays.
    """
    n_pix = step_offsets.shape[0] - 1
    n_cells = r_nodes.shape[0] * z_nodes.shape[0]
    row_counts = np.zeros(n_pix * n_shells, dtype=np.int64)
    n_blocks = max(1, min(n_pix, n_blocks))
    for block in prange(n_blocks):
        scratch = np.zeros(n_cells)
        scratch_moment = np.zeros(n_cells if with_moment else 1)
        touched = np.empty(n_cells, dtype=np.int64)
        is_touched = np.zeros(n_cells, dtype=np.bool_)
        cells = np.empty(4, dtype=np.int64)
        weights = np.empty(4)
        p_start = block * n_pix // n_blocks
        p_end = (block + 1) * n_pix // n_blocks
        for p in range(p_start, p_end):
            k = step_offsets[p]
            k_end = step_offsets[p + 1]
            for shell_id in range(n_shells):
                n_touched = 0
                while k < k_end and shell[k] == shell_id:
                    w_step = step_weight[k]
                    if w_step > 0.0:
                        r = np.sqrt(x[k] * x[k] + y[k] * y[k])
                        if _bilinear_corners(r_nodes, z_nodes, r, z[k], cells, weights):
                            for c in range(4):
                                if weights[c] > 0.0:
                                    cell = cells[c]
                                    if not is_touched[cell]:
                                        is_touched[cell] = True
                                        touched[n_touched] = cell
                                        n_touched += 1
                                    scratch[cell] += w_step * weights[c]
                                    if with_moment:
                                        scratch_moment[cell] += w_step * weights[c] * s_kpc[k]
                    k += 1
                row = p * n_shells + shell_id
                row_counts[row] = n_touched
                if not count_only and n_touched > 0:
                    order = np.sort(touched[:n_touched])
                    start = row_offsets[row]
                    for j in range(n_touched):
                        out_indices[start + j] = order[j]
                        out_data[start + j] = scratch[order[j]]
                        if with_moment:
                            out_moment[start + j] = scratch_moment[order[j]]
                for j in range(n_touched):
                    scratch[touched[j]] = 0.0
                    if with_moment:
                        scratch_moment[touched[j]] = 0.0
                    is_touched[touched[j]] = False
    return row_counts


@njit(cache=True, parallel=True)
def _csr_times_dense(indptr, indices, data, dense):
    """out = A @ dense for a CSR matrix A (rows in parallel); dense is (n_cols, n_E) C-contiguous."""
    n_rows = indptr.shape[0] - 1
    n_out = dense.shape[1]
    out = np.zeros((n_rows, n_out))
    for row in prange(n_rows):
        for k in range(indptr[row], indptr[row + 1]):
            w = data[k]
            c = indices[k]
            for e in range(n_out):
                out[row, e] += w * dense[c, e]
    return out


@njit(cache=True)
def _shell_attenuation(tau_near, d_tau, mean_fraction):
    """Attenuation of the emission of one distance shell (module docstring).

    exp(-tau) at the emission-weighted mean distance of the shell (``mean_fraction`` in [0, 1] of
    the way across it, tau linear across the shell) times sinh(x)/x with x = d_tau/2, the spread
    correction of emission uniform across the shell: exact for a uniform absorber and uniform
    emission, accurate to (d_tau)^2/24 for a thin emitting layer.
    """
    half = 0.5 * d_tau
    if half < 1e-4:
        spread = 1.0 + half * half / 6.0
    else:
        spread = np.sinh(half) / half
    return np.exp(-(tau_near + mean_fraction * d_tau)) * spread


@njit(cache=True)
def _shell_optical_depth(row, t_indptr, t_indices, t_data, t_data_per_kpc, kappa_cells_per_kpc, d_tau):
    """Optical depth across one distance shell, per energy, into ``d_tau`` (n_E,).

    d_tau[e] = sum_k (t_data[k] / t_data_per_kpc) kappa_cells_per_kpc[c_k, e] over row ``row`` of the
    gas-free path operator T (path lengths in units of ``t_data_per_kpc`` per kpc, cells c_k).
    """
    d_tau[:] = 0.0
    for k in range(t_indptr[row], t_indptr[row + 1]):
        w = t_data[k] / t_data_per_kpc
        c = t_indices[k]
        for e in range(d_tau.shape[0]):
            d_tau[e] += w * kappa_cells_per_kpc[c, e]


@njit(cache=True, parallel=True)
def _absorbed_shell_kernel(indptr, indices, data, moment_kpc, emissivity, n_shells, shell_edges_kpc,
                           t_indptr, t_indices, t_data, t_data_per_kpc, kappa_cells_per_kpc,
                           shell_path_kpc, kappa_uniform_per_kpc, use_grid_kappa):
    """I[p, j] = sum_shells A_shell(p, e(j)) (W_shell @ emissivity)[p, j] (module docstring).

    ``emissivity`` holds one or more components side by side, each with the n_E absorbed energies of
    the absorption coefficient (column j = component * n_E + e): the optical depths, the same for
    every component, are summed once per shell. The optical depth across shell k of pixel p is either
    (T_k[p] / ``t_data_per_kpc``) @ kappa_cells (gas-free path operator T, weights in units of
    ``t_data_per_kpc`` per kpc, ``use_grid_kappa``) or shell_path_kpc[p, k] * kappa_uniform. The mean
    distance of the shell's emission is (M_k @ emissivity) / (W_k @ emissivity) with the distance
    moment M (``moment_kpc``, same sparsity as W, weight x kpc).
    """
    n_pix = (indptr.shape[0] - 1) // n_shells
    n_cols = emissivity.shape[1]
    n_e = kappa_cells_per_kpc.shape[1] if use_grid_kappa else kappa_uniform_per_kpc.shape[0]
    n_comp = n_cols // n_e
    out = np.zeros((n_pix, n_cols))
    for p in prange(n_pix):
        tau_near = np.zeros(n_e)
        emitted = np.empty(n_cols)
        emitted_s = np.empty(n_cols)
        d_tau = np.empty(n_e)
        for s in range(n_shells):
            row = p * n_shells + s
            path_kpc = shell_path_kpc[p, s]
            if path_kpc <= 0.0:
                continue
            s_near = 0.0 if s == 0 else shell_edges_kpc[s - 1]
            emitted[:] = 0.0
            emitted_s[:] = 0.0
            for k in range(indptr[row], indptr[row + 1]):
                w = data[k]
                m = moment_kpc[k]
                c = indices[k]
                for j in range(n_cols):
                    emitted[j] += w * emissivity[c, j]
                    emitted_s[j] += m * emissivity[c, j]
            if use_grid_kappa:
                _shell_optical_depth(row, t_indptr, t_indices, t_data, t_data_per_kpc, kappa_cells_per_kpc, d_tau)
            else:
                for e in range(n_e):
                    d_tau[e] = path_kpc * kappa_uniform_per_kpc[e]
            for comp in range(n_comp):
                for e in range(n_e):
                    j = comp * n_e + e
                    if emitted[j] > 0.0:
                        fraction = (emitted_s[j] / emitted[j] - s_near) / path_kpc
                        fraction = min(max(fraction, 0.0), 1.0)
                        out[p, j] += _shell_attenuation(tau_near[e], d_tau[e], fraction) * emitted[j]
            for e in range(n_e):
                tau_near[e] += d_tau[e]
    return out


@dataclass(frozen=True, eq=False)
class Absorber:
    """A pair-absorption coefficient checked against an emissivity grid, and the energies it attenuates.

    Attributes
    ----------
    kappa : ndarray
        1/lambda in kpc^-1 as given: shape (n_E,) (uniform) or (n_r, n_z, n_E).
    kappa_cells : ndarray or None, shape (n_cells, n_E)
        The gridded coefficient flattened like an emissivity (None when uniform).
    absorbed : ndarray of bool, shape (n_E,)
        Energies whose largest kappa exceeds the threshold (the others are not attenuated).
    """

    kappa: np.ndarray
    kappa_cells: np.ndarray | None
    absorbed: np.ndarray

    @property
    def uniform(self) -> bool:
        return self.kappa_cells is None

    @classmethod
    def of(cls, kappa_per_kpc, grid: RZGrid, n_e: int, kappa_threshold_per_kpc: float = 1e-7) -> "Absorber":
        """Check ``kappa_per_kpc`` (see :meth:`LineOfSightOperator.intensity`) for ``n_e`` energies on ``grid``."""
        kappa = np.asarray(kappa_per_kpc, dtype=float)
        kappa_cells = None
        if kappa.ndim == 1:
            if kappa.shape != (n_e,):
                raise ValueError(f"uniform kappa_per_kpc must have shape (n_E,) = ({n_e},), got {kappa.shape}")
            kappa_max = kappa
        else:
            kappa_cells = grid.flatten_field(kappa, "kappa_per_kpc")
            if kappa_cells.shape[1] != n_e:
                raise ValueError(f"kappa_per_kpc has {kappa_cells.shape[1]} energies; emissivity has {n_e}")
            kappa_max = kappa_cells.max(axis=0)
        if np.any(kappa < 0.0) or not np.all(np.isfinite(kappa)):
            raise ValueError("kappa_per_kpc must be finite and >= 0 (kpc^-1)")
        return cls(kappa, kappa_cells, kappa_max > kappa_threshold_per_kpc)


#: largest |x| of :func:`_exp_taylor` (half a shell's optical depth): the series' remainder is below
#: 0.25^15 / 15! = 6e-22 relative, far below rounding
_TAYLOR_MAX_HALF_DEPTH = 0.25


_INVERSE_FACTORIALS = tuple(1.0 / math.factorial(k) for k in range(15))
_C = _INVERSE_FACTORIALS


@njit(cache=True, inline="always")
def _exp_taylor(x):
    """exp(x) for |x| <= 0.25 by its Taylor series to x^14 (Horner; a loop over energies of it vectorises, np.exp does not)."""
    value = _C[14] * x + _C[13]
    value = value * x + _C[12]
    value = value * x + _C[11]
    value = value * x + _C[10]
    value = value * x + _C[9]
    value = value * x + _C[8]
    value = value * x + _C[7]
    value = value * x + _C[6]
    value = value * x + _C[5]
    value = value * x + _C[4]
    value = value * x + _C[3]
    value = value * x + _C[2]
    value = value * x + 1.0
    return value * x + 1.0


@njit(cache=True)
def _absorbed_region_weights_kernel(indptr, indices, data, moment_kpc, n_shells, shell_edges_kpc,
                                    t_indptr, t_indices, t_data, t_data_per_kpc, kappa_cells_per_kpc, shell_path_kpc,
                                    region_indptr, region_of_entry, region_weight, n_reg, n_cells,
                                    added_data, added_moment_kpc, added_scales, first_set):
    """V[j, r, cell, e] = sum_p w_rp sum_shells A_entry(p, e) W_j,shell[p, cell] (see :meth:`absorbed_region_weights`).

    As :func:`_absorbed_shell_kernel`, but the shell attenuation of every matrix entry is taken at that
    entry's own mean distance (its moment / weight) instead of the emission-weighted mean of the shell,
    so the result is linear in the emissivity: equal to the kernel for emission in one cell, and to
    second order in the optical depth across the shell otherwise.

    The regions of pixel p are ``region_of_entry[region_indptr[p]:region_indptr[p + 1]]`` with weights
    ``region_weight`` (most pixels lie in one region only). Weight set j = 0 is the operator (``data``,
    ``moment_kpc``); set j >= 1 is the operator plus ``added_scales[j - 1]`` x another one on the same
    sparsity (``added_data``, ``added_moment_kpc``): entry by entry the weights and moments of an operator
    whose gas is the sum, e.g. another X_CO through the molecular operator. Sets below ``first_set`` are
    left at 0. The energy axis is last (contiguous) and the optical depths of a shell are summed once for
    every set.
    """
    n_pix = shell_path_kpc.shape[0]
    n_e = kappa_cells_per_kpc.shape[1]
    n_sets = 1 + added_scales.shape[0]
    out = np.zeros((n_sets, n_reg, n_cells, n_e))
    tau_near = np.zeros(n_e)
    d_tau = np.zeros(n_e)
    near = np.zeros(n_e)  # exp(-tau at the shell's near edge) x the shell's spread factor sinh(x)/x
    weighted = np.zeros(n_e)
    for p in range(n_pix):
        r_start = region_indptr[p]
        r_end = region_indptr[p + 1]
        if r_start == r_end:
            continue
        tau_near[:] = 0.0
        for s in range(n_shells):
            row = p * n_shells + s
            path_kpc = shell_path_kpc[p, s]
            if path_kpc <= 0.0:
                continue
            s_near = 0.0 if s == 0 else shell_edges_kpc[s - 1]
            _shell_optical_depth(row, t_indptr, t_indices, t_data, t_data_per_kpc, kappa_cells_per_kpc, d_tau)
            taylor = True
            for e in range(n_e):
                half = 0.5 * d_tau[e]
                spread = 1.0 + half * half / 6.0 if half < 1e-4 else np.sinh(half) / half
                near[e] = np.exp(-tau_near[e]) * spread
                if half > _TAYLOR_MAX_HALF_DEPTH:
                    taylor = False
            if taylor:  # exp(-f d) = exp(-d/2) exp(-(f - 1/2) d): the second factor by its Taylor series below
                for e in range(n_e):
                    near[e] *= np.exp(-0.5 * d_tau[e])
            for k in range(indptr[row], indptr[row + 1]):
                c = indices[k]
                for j in range(first_set, n_sets):
                    if j == 0:
                        w = data[k]
                        m = moment_kpc[k]
                    else:
                        w = data[k] + added_scales[j - 1] * added_data[k]
                        m = moment_kpc[k] + added_scales[j - 1] * added_moment_kpc[k]
                    if w == 0.0:
                        continue
                    fraction = min(max((m / w - s_near) / path_kpc, 0.0), 1.0)
                    if taylor:
                        offset = 0.5 - fraction
                        for e in range(n_e):
                            weighted[e] = near[e] * _exp_taylor(offset * d_tau[e]) * w
                    else:
                        for e in range(n_e):
                            weighted[e] = near[e] * np.exp(-fraction * d_tau[e]) * w
                    for i in range(r_start, r_end):
                        rw = region_weight[i]
                        target = out[j, region_of_entry[i], c]
                        for e in range(n_e):
                            target[e] += rw * weighted[e]
            for e in range(n_e):
                tau_near[e] += d_tau[e]
    return out


def _regions_of_pixels(rows: np.ndarray):
    """CSR lists of the regions of each pixel: (indptr (n_pix + 1,), region index, weight) of ``rows`` (n_reg, n_pix)."""
    pixel, region = np.nonzero(rows.T)
    indptr = np.zeros(rows.shape[1] + 1, dtype=np.int64)
    np.cumsum(np.bincount(pixel, minlength=rows.shape[1]), out=indptr[1:])
    return indptr, region.astype(np.int64), np.ascontiguousarray(rows[region, pixel])


@dataclass(eq=False)
class LineOfSightOperator:
    """Sparse LOS operator of a set of HEALPix pixels (see module docstring).

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix, shape (n_pix * n_shells, n_cells)
        Row ``p * n_shells + k`` holds the weights of shell k of pixel p: in cm^-2 when the gas is
        folded in (``includes_gas``), else in cm.
    nside : int
        HEALPix N_side (RING ordering, Galactic).
    pixels : ndarray of int64, shape (n_pix,)
        RING pixel indices of the rows.
    grid : RZGrid
    geometry : LineOfSightGeometry
    includes_gas : bool
        Whether the gas density is folded into the weights.
    shell_path_kpc : ndarray, shape (n_pix, n_shells)
        Geometric path length of each line of sight inside each distance shell, kpc.
    distance_moment : ndarray or None, shape (nnz,)
        Distance moment M aligned with ``matrix.data`` (same indices): sum of weight x distance,
        unit of the weights x kpc. Needed for absorption (built when there are several shells).
    """

    matrix: sp.csr_matrix
    nside: int
    pixels: np.ndarray
    grid: RZGrid
    geometry: LineOfSightGeometry
    includes_gas: bool
    shell_path_kpc: np.ndarray
    distance_moment: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def n_pix(self) -> int:
        return self.pixels.size

    @property
    def n_shells(self) -> int:
        return self.geometry.n_shells

    @property
    def weight_unit(self) -> str:
        """Unit of the matrix entries."""
        return "cm-2" if self.includes_gas else "cm"

    @property
    def nbytes(self) -> int:
        """Memory held by the sparse matrix (data + indices + indptr), bytes."""
        m = self.matrix
        moment = 0 if self.distance_moment is None else self.distance_moment.nbytes
        return m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + moment

    @cached_property
    def total_matrix(self) -> sp.csr_matrix:
        """W summed over distance shells, shape (n_pix, n_cells) (no absorption)."""
        if self.n_shells == 1:
            return self.matrix
        n_rows = self.matrix.shape[0]
        summing = sp.csr_matrix(
            (np.ones(n_rows), (np.repeat(np.arange(self.n_pix), self.n_shells), np.arange(n_rows))),
            shape=(self.n_pix, n_rows),
        )
        total = (summing @ self.matrix).tocsr()
        total.sort_indices()
        return total

    def intensity(self, emissivity_per_sr: np.ndarray, kappa_per_kpc: np.ndarray | None = None,
                  path_operator: "LineOfSightOperator | None" = None,
                  kappa_threshold_per_kpc: float = 1e-7) -> np.ndarray:
        """Line-of-sight intensity cube I(E, pixel) in GeV^-1 cm^-2 s^-1 sr^-1.

        Parameters
        ----------
        emissivity_per_sr : ndarray, shape (n_r, n_z, n_E) or (n_r, n_z)
            With the gas folded in: emissivity per H atom per sr, q_per_sr in GeV^-1 s^-1 sr^-1
            (per target atom); gas-free: volume emissivity per sr, j_per_sr in
            GeV^-1 cm^-3 s^-1 sr^-1 (docs/conventions.md#flux-density-and-emissivity; no 1/(4 pi) anywhere).
        kappa_per_kpc : ndarray, optional
            Pair-absorption coefficient 1/lambda in kpc^-1: shape (n_E,) for a uniform absorber
            (CMB only) or (n_r, n_z, n_E) on the same grid. None: no absorption (neutrinos).
        path_operator : LineOfSightOperator, optional
            Gas-free operator with the same pixels, geometry and grid, needed for a gridded
            ``kappa_per_kpc`` when this operator includes the gas (its weights / KPC_CM are path
            lengths in kpc). Defaults to ``self`` for a gas-free operator.
        kappa_threshold_per_kpc : float
            Energies whose largest kappa is below this are not attenuated (tau < 3e-6 over 30 kpc
            by default), and take the cheaper summed-operator route.

        Returns
        -------
        ndarray, shape (n_E, n_pix)
            Intensity per energy and pixel (a 2D emissivity gives shape (1, n_pix)).
        """
        emissivity_cells = self.grid.flatten_field(emissivity_per_sr, "emissivity_per_sr")
        n_e = emissivity_cells.shape[1]
        if kappa_per_kpc is None:
            return np.ascontiguousarray(self.summed_intensity(emissivity_cells).T)
        absorber = Absorber.of(kappa_per_kpc, self.grid, n_e, kappa_threshold_per_kpc)
        out = np.empty((self.n_pix, n_e))
        if np.any(~absorber.absorbed):
            out[:, ~absorber.absorbed] = self.summed_intensity(emissivity_cells[:, ~absorber.absorbed])
        if np.any(absorber.absorbed):
            out[:, absorber.absorbed] = self.absorbed_intensities([emissivity_cells], absorber, path_operator)[0]
        return np.ascontiguousarray(out.T)

    def summed_intensity(self, emissivity_cells: np.ndarray) -> np.ndarray:
        """Unabsorbed intensity (n_pix, n_cols) of a flattened emissivity (n_cells, n_cols): W summed over shells.

        Each column is computed independently of the others (the same numbers alone or side by side).
        """
        total = self.total_matrix
        return _csr_times_dense(total.indptr, total.indices, total.data, np.ascontiguousarray(emissivity_cells))

    def absorbed_intensities(self, emissivity_cells: list, absorber: "Absorber",
                             path_operator: "LineOfSightOperator | None" = None) -> list:
        """Pair-absorbed intensities (n_pix, n_absorbed) of flattened emissivities (n_cells, n_E) each.

        All emissivities share the absorber (one :class:`Absorber` of the model), so its optical
        depths are summed once for all of them; every emissivity gives the same numbers as alone.
        Only the energies ``absorber.absorbed`` are computed.
        """
        if self.distance_moment is None:
            raise ValueError("this operator was built without the distance moment; rebuild with with_moment=True")
        absorbed = absorber.absorbed
        n_abs = int(np.count_nonzero(absorbed))
        if not emissivity_cells or n_abs == 0:
            return [np.empty((self.n_pix, n_abs)) for _ in emissivity_cells]
        side_by_side = np.ascontiguousarray(np.hstack([cells[:, absorbed] for cells in emissivity_cells]))
        m = self.matrix
        edges = np.asarray(self.geometry.shell_edges_kpc + (np.inf,), dtype=float)
        if absorber.uniform:
            empty_i = np.zeros(1, dtype=np.int64)
            out = _absorbed_shell_kernel(
                m.indptr, m.indices, m.data, self.distance_moment, side_by_side, self.n_shells, edges,
                empty_i, empty_i, np.zeros(1), 1.0, np.zeros((1, 1)),
                self.shell_path_kpc, np.ascontiguousarray(absorber.kappa[absorbed]), False,
            )
        else:
            t = self._path_operator(path_operator).matrix
            out = _absorbed_shell_kernel(
                m.indptr, m.indices, m.data, self.distance_moment, side_by_side, self.n_shells, edges,
                t.indptr, t.indices, t.data, KPC_CM, np.ascontiguousarray(absorber.kappa_cells[:, absorbed]),
                self.shell_path_kpc, np.zeros(1), True,
            )
        return [out[:, i * n_abs:(i + 1) * n_abs] for i in range(len(emissivity_cells))]

    def absorbed_region_weights(self, pixel_weights: np.ndarray, kappa_per_kpc: np.ndarray,
                                path_operator: "LineOfSightOperator | None" = None,
                                added: "LineOfSightOperator | None" = None, added_scales=()) -> np.ndarray:
        """Region-averaged line-of-sight weights with pair absorption, per energy: (n_regions, n_E, n_r, n_z).

        V_r(E)[cell] = sum_p w_rp sum_shells A(p, shell, E; cell) W[p shell, cell] / sum_p w_rp, so that
        V_r(E) . q(E) is the region average of :meth:`intensity` with absorption, without the map. The
        shell attenuation of each weight is taken at its own mean distance in the shell (its distance
        moment / weight) where :meth:`intensity` takes the emission-weighted mean of the whole shell:
        the same for emission in one cell, and otherwise equal to second order in the optical depth
        across a shell (<= 0.14 for 1 kpc shells at the CMB's peak). Linear in the emissivity, so it is
        computed once per line-of-sight set-up and region set.

        Parameters
        ----------
        pixel_weights : ndarray, shape (n_regions, n_pix)
            Each region's pixel weights (area fractions; normalised here).
        kappa_per_kpc : ndarray, shape (n_r, n_z, n_E)
            Pair-absorption coefficients on the grid [kpc^-1].
        path_operator : LineOfSightOperator, optional
            As for :meth:`intensity`.
        added : LineOfSightOperator, optional
            Another operator of the same pixels, geometry, grid and sparsity (e.g. the molecular gas
            only). With it the result has a leading axis over ``added_scales``: entry j holds the weights
            of the operator W + added_scales[j] x W_added (weights and distance moments added entry by
            entry), the same numbers as those of an operator built with that gas directly.
        added_scales : sequence of float
            Multipliers of ``added`` (dimensionless).

        Returns
        -------
        ndarray
            (n_regions, n_E, n_r, n_z); with ``added``, (len(added_scales), n_regions, n_E, n_r, n_z).
        """
        if self.distance_moment is None:
            raise ValueError("this operator was built without the distance moment; rebuild with with_moment=True")
        rows = np.atleast_2d(np.asarray(pixel_weights, dtype=float))
        if rows.shape[1] != self.n_pix:
            raise ValueError(f"{rows.shape[1]} pixel weights per region, the operator has {self.n_pix} pixels")
        rows = np.ascontiguousarray(rows / rows.sum(axis=1, keepdims=True))
        kappa = self.grid.flatten_field(np.asarray(kappa_per_kpc, dtype=float), "kappa_per_kpc")
        if np.any(kappa < 0.0) or not np.all(np.isfinite(kappa)):
            raise ValueError("kappa_per_kpc must be finite and >= 0 (kpc^-1)")
        t = self._path_operator(path_operator).matrix
        m = self.matrix
        edges = np.asarray(self.geometry.shell_edges_kpc + (np.inf,), dtype=float)
        if added is None:
            added_data, added_moment, scales = np.zeros(1), np.zeros(1), np.zeros(0)
        else:
            self._check_added(added)
            added_data, added_moment = added.matrix.data, added.distance_moment
            scales = np.asarray(added_scales, dtype=float).reshape(-1)
        region_indptr, region_of_entry, region_weight = _regions_of_pixels(rows)
        out = _absorbed_region_weights_kernel(m.indptr, m.indices, m.data, self.distance_moment, self.n_shells, edges,
                                              t.indptr, t.indices, t.data, KPC_CM, np.ascontiguousarray(kappa),
                                              self.shell_path_kpc, region_indptr, region_of_entry, region_weight,
                                              rows.shape[0], self.grid.n_cells, added_data, added_moment, scales,
                                              0 if added is None else 1)
        # (set, region, cell, E) -> (set, region, E, n_r, n_z)
        out = np.ascontiguousarray(out.transpose(0, 1, 3, 2)).reshape(
            (out.shape[0], rows.shape[0], kappa.shape[1]) + self.grid.shape)
        return out[0] if added is None else out[1:]

    def _check_added(self, added: "LineOfSightOperator") -> None:
        """``added`` fits :meth:`absorbed_region_weights`: same pixels, geometry, grid, gas convention and sparsity."""
        problems = []
        if added.includes_gas != self.includes_gas or added.geometry != self.geometry:
            problems.append("gas convention or geometry")
        if not np.array_equal(added.pixels, self.pixels) or not added.grid.same_as(self.grid):
            problems.append("pixels or (r, z) grid")
        if added.distance_moment is None:
            problems.append("no distance moment")
        if added.matrix.shape != self.matrix.shape or added.matrix.nnz != self.matrix.nnz or not (
                np.array_equal(added.matrix.indptr, self.matrix.indptr)
                and np.array_equal(added.matrix.indices, self.matrix.indices)):
            problems.append("sparsity pattern")
        if problems:
            raise ValueError("the added line-of-sight operator differs from the operator in: " + ", ".join(problems))

    def _path_operator(self, path_operator):
        if path_operator is None:
            if self.includes_gas:
                raise ValueError(
                    "a gridded kappa_per_kpc with a gas-weighted operator needs path_operator= "
                    "(the gas-free operator of the same pixels and geometry)"
                )
            return self
        if (
            path_operator.includes_gas
            or path_operator.geometry != self.geometry
            or not np.array_equal(path_operator.pixels, self.pixels)
            or not path_operator.grid.same_as(self.grid)
        ):
            raise ValueError("path_operator must be gas-free with the same pixels, geometry and grid")
        return path_operator


OPERATOR_FORMAT_VERSION = 1


def save_operator(path, operator: LineOfSightOperator, provenance: dict | None = None) -> Path:
    """Store a LOS operator in a NumPy ``.npz`` file (atomic write), e.g. as a cache keyed by input hash.

    Members are stored uncompressed, so :func:`load_operator` can memory-map them.

    Parameters
    ----------
    path : str or Path
        Output file (``.npz``).
    operator : LineOfSightOperator
    provenance : dict, optional
        Recorded beside the arrays (JSON), e.g. config hash and the gas model used.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    m = operator.matrix
    header = {
        "format_version": OPERATOR_FORMAT_VERSION,
        "nside": operator.nside,
        "includes_gas": operator.includes_gas,
        "geometry": operator.geometry.as_dict(),
        "meta": operator.meta,
        "provenance": provenance or {},
        "shape": list(m.shape),
    }
    arrays = dict(indptr=m.indptr, indices=m.indices, data=m.data, pixels=operator.pixels,
                  r_kpc=operator.grid.r_kpc, z_kpc=operator.grid.z_kpc, shell_path_kpc=operator.shell_path_kpc,
                  header_json=np.array(json.dumps(header, default=str)))
    if operator.distance_moment is not None:
        arrays["distance_moment"] = operator.distance_moment
    with atomic_path(path) as tmp:
        _write_npz_reproducibly(tmp, arrays)
    return path


def save_total_matrix(path, operator: LineOfSightOperator, provenance: dict | None = None) -> Path:
    """Store W summed over the distance shells (:attr:`LineOfSightOperator.total_matrix`) beside its operator.

    The sum is the same for every model of a line-of-sight set-up, so the workflow forms it once
    (rule los_operators) and each job reads it (``load_operator(..., total_path=)``) instead of
    summing the shells again. The header records the operator's shape and non-zero count, checked
    at load time against the operator it is loaded with.
    """
    path = Path(path)
    total = operator.total_matrix
    header = {"format_version": OPERATOR_FORMAT_VERSION, "shape": list(total.shape),
              "operator_shape": list(operator.matrix.shape), "operator_nnz": int(operator.matrix.nnz),
              "includes_gas": operator.includes_gas, "provenance": provenance or {}}
    arrays = dict(indptr=total.indptr, indices=total.indices, data=total.data,
                  header_json=np.array(json.dumps(header, default=str)))
    with atomic_path(path) as tmp:
        _write_npz_reproducibly(tmp, arrays)
    return path


def _write_npz_reproducibly(path, arrays: dict):
    """``np.savez`` (uncompressed, loadable by ``np.load``) without the members' write times.

    ``np.savez`` stamps every member with the current time, so identical operators would give
    different files; here every member carries the zip epoch (1980-01-01) instead.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, value in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def load_operator(path, mmap: bool = False, total_path=None) -> LineOfSightOperator:
    """Read an operator written by :func:`save_operator`; its provenance is in ``operator.meta``.

    Parameters
    ----------
    path : str or Path
    total_path : str or Path, optional
        Its sum over the shells written by :func:`save_total_matrix` (read, not summed again).
    mmap : bool
        Memory-map the large arrays (copy-on-write) instead of reading them: nothing is read
        before it is used, the pages are the page cache's (shared by every job that maps the same
        file, and given back to the system when memory is short), and they are unmapped when the
        operator is dropped.
    """
    members = _npz_members(path, mmap)
    header = json.loads(str(members["header_json"]))
    if header.get("format_version") != OPERATOR_FORMAT_VERSION:
        raise ValueError(f"{path}: operator format {header.get('format_version')!r}, expected {OPERATOR_FORMAT_VERSION}")
    matrix = _csr_of(members["data"], members["indices"], members["indptr"], tuple(header["shape"]))
    geometry_dict = dict(header["geometry"])
    geometry_dict["shell_edges_kpc"] = tuple(geometry_dict["shell_edges_kpc"])
    operator = LineOfSightOperator(
        matrix=matrix, nside=int(header["nside"]), pixels=members["pixels"],
        grid=RZGrid(members["r_kpc"], members["z_kpc"]), geometry=LineOfSightGeometry(**geometry_dict),
        includes_gas=bool(header["includes_gas"]), shell_path_kpc=members["shell_path_kpc"],
        distance_moment=members.get("distance_moment"),
        meta={**header["meta"], "provenance": header["provenance"]},
    )
    if total_path is not None:
        total = _npz_members(total_path, mmap)
        total_header = json.loads(str(total["header_json"]))
        if (total_header.get("format_version") != OPERATOR_FORMAT_VERSION
                or total_header.get("operator_shape") != list(matrix.shape)
                or total_header.get("operator_nnz") != int(matrix.nnz)
                or total_header.get("includes_gas") != operator.includes_gas
                or total_header.get("shape") != [operator.n_pix, operator.grid.n_cells]):
            raise ValueError(f"{total_path}: not the shell sum of {path} (operator shape {list(matrix.shape)}, "
                             f"{matrix.nnz} non-zeros, gas {operator.includes_gas}; the file records "
                             f"{total_header.get('operator_shape')}, {total_header.get('operator_nnz')}, "
                             f"{total_header.get('includes_gas')}): rebuild both with rule los_operators")
        operator.__dict__["total_matrix"] = _csr_of(total["data"], total["indices"], total["indptr"],
                                                    tuple(total_header["shape"]))
    return operator


def _csr_of(data, indices, indptr, shape) -> sp.csr_matrix:
    """CSR matrix on the given (sorted) arrays, without copying them."""
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape, copy=False)
    matrix.has_sorted_indices = True
    return matrix


#: members smaller than this are read, not memory-mapped
_MMAP_MIN_BYTES = 1 << 20


def _npz_members(path, mmap: bool) -> dict:
    """``{name: array}`` of an uncompressed ``.npz`` file; large members memory-mapped when ``mmap``."""
    if not mmap:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    members = {}
    with open(path, "rb") as handle, zipfile.ZipFile(handle) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED or info.file_size < _MMAP_MIN_BYTES:
                with archive.open(info) as member:
                    members[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            # the member's bytes start after its local header (30 bytes, the name, the extra field)
            handle.seek(info.header_offset + 26)
            name_length, extra_length = np.frombuffer(handle.read(4), dtype="<u2")
            handle.seek(info.header_offset + 30 + int(name_length) + int(extra_length))
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = read_header(handle)
            if fortran_order or dtype.kind not in "biuf" or math.prod(shape) == 0:
                with archive.open(info) as member:
                    members[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            mapped = np.memmap(handle, dtype=dtype, mode="c", offset=handle.tell(), shape=shape)
            members[name] = np.asarray(mapped)  # a plain ndarray view (what the Numba kernels take)
    return members


def build_los_operator(nside: int, grid: RZGrid, geometry: LineOfSightGeometry | None = None,
                       gas_density_cm3: GasDensity | None = None, *, gas_coordinates: str = "xyz",
                       pixels: np.ndarray | None = None, chunk_pixels: int = 2048,
                       with_moment: bool | None = None, oversample_order: int = 0) -> LineOfSightOperator:
    """Build the sparse line-of-sight operator W for HEALPix pixels (Numba kernels).

    Parameters
    ----------
    nside : int
        HEALPix N_side (Galactic, RING).
    grid : RZGrid
        Emissivity grid (the columns of W).
    geometry : LineOfSightGeometry, optional
        Observer, volume, steps and distance shells; defaults to ``LineOfSightGeometry()``.
    gas_density_cm3 : callable, optional
        Vectorised target-gas density in cm^-3 (see :func:`evaluate_gas_density_cm3`); folded into
        the weights (unit cm^-2). None: gas-free weights in cm.
    gas_coordinates : {"xyz", "rz"}
        Signature of ``gas_density_cm3``: f(x, y, z) (3D, GALPROP frame, kpc) or f(r, z) (kpc).
    pixels : ndarray of int, optional
        RING pixel indices (rows); all pixels by default.
    chunk_pixels : int
        Pixels sampled at once (bounds the memory of the step arrays: ~60 bytes per step).
    with_moment : bool, optional
        Also store the distance moment needed for pair absorption; default: when the geometry has
        more than one distance shell.
    oversample_order : int
        Average the lines of sight of the 4^order sub-pixels (N_side x 2^order) of each pixel
        instead of using its centre only: the pixel-averaged intensity, which avoids aliasing of
        thin gas layers near b = 0 (docs/emission.md#healpix) at the memory cost of the
        coarse map (sub-pixel rows cross nearly the same cells). Equals building at the finer
        N_side and ``healpy.ud_grade``-averaging.

    Returns
    -------
    LineOfSightOperator
    """
    geometry = LineOfSightGeometry() if geometry is None else geometry
    pixels = np.arange(hp.nside2npix(nside), dtype=np.int64) if pixels is None else np.asarray(pixels, dtype=np.int64)
    if oversample_order < 0:
        raise ValueError(f"oversample_order must be >= 0, got {oversample_order}")
    n_sub = 4**oversample_order
    n_shells = geometry.n_shells
    with_moment = n_shells > 1 if with_moment is None else bool(with_moment)
    parents_per_chunk = max(1, chunk_pixels // n_sub)
    matrix_parts, moment_parts, path_parts = [], [], []
    starts = range(0, pixels.size, parents_per_chunk)
    # a progress bar only where the build takes more than a few seconds (nside >= 64)
    for start in tqdm(starts, desc="line-of-sight operator", unit="chunk", disable=pixels.size < 40000, leave=False):
        chunk = pixels[start:start + parents_per_chunk]
        l_rad, b_rad = subpixel_directions(nside, chunk, oversample_order)
        matrix, moment, path = _operator_rows(l_rad, b_rad, grid, geometry, gas_density_cm3, gas_coordinates, with_moment)
        if n_sub > 1:  # average the sub-pixel rows of each pixel (rows are sub-pixel-major, then shell)
            n_rows = matrix.shape[0]
            sub_row = np.arange(n_rows)
            parent_row = (sub_row // (n_sub * n_shells)) * n_shells + sub_row % n_shells
            averaging = sp.csr_matrix((np.full(n_rows, 1.0 / n_sub), (parent_row, sub_row)),
                                      shape=(chunk.size * n_shells, n_rows))
            matrix = _sorted_csr(averaging @ matrix)
            if with_moment:
                moment = _sorted_csr(averaging @ moment)
                if not (np.array_equal(moment.indptr, matrix.indptr) and np.array_equal(moment.indices, matrix.indices)):
                    raise RuntimeError("distance moment and weights lost their common sparsity pattern")
            path = path.reshape(chunk.size, n_sub, n_shells).mean(axis=1)
        matrix_parts.append(matrix)
        if with_moment:
            moment_parts.append(moment.data)
        path_parts.append(path)
    matrix = _sorted_csr(sp.vstack(matrix_parts, format="csr"))
    return LineOfSightOperator(
        matrix=matrix, nside=int(nside), pixels=pixels, grid=grid, geometry=geometry,
        includes_gas=gas_density_cm3 is not None, shell_path_kpc=np.concatenate(path_parts),
        distance_moment=np.concatenate(moment_parts) if with_moment else None,
        meta={"oversample_order": int(oversample_order)},
    )


def build_los_operator_on_pattern(pattern: LineOfSightOperator, gas_density_cm3: GasDensity, *,
                                  gas_coordinates: str = "xyz", chunk_pixels: int = 2048) -> LineOfSightOperator:
    """The operator of another gas density on the sparsity of an existing operator (its pixels, geometry, grid).

    The same numbers as :func:`build_los_operator` with ``gas_density_cm3`` (the lines of sight are sampled
    alike, the rows accumulated by the same kernel), but written straight into the column pattern of
    ``pattern`` (e.g. the cached gas operator of the set-up), whose ``indices`` and ``indptr`` it shares:
    no counting pass and no copies of the pattern. The density must vanish nowhere the pattern's does not,
    and be non-zero wherever it has an entry (checked: the rows' columns must be the pattern's).

    Parameters
    ----------
    pattern : LineOfSightOperator
        Built without sub-pixel oversampling (``meta["oversample_order"]`` 0).
    gas_density_cm3, gas_coordinates
        As for :func:`build_los_operator`.
    chunk_pixels : int
        Pixels sampled at once.
    """
    if int(pattern.meta.get("oversample_order", 0)) != 0:
        raise ValueError("build_los_operator_on_pattern: the pattern operator is oversampled (not supported)")
    geometry, grid, n_shells = pattern.geometry, pattern.grid, pattern.n_shells
    with_moment = pattern.distance_moment is not None
    indptr, indices = pattern.matrix.indptr, pattern.matrix.indices
    data = np.empty(indices.size)
    moment = np.empty(indices.size if with_moment else 1)
    paths = []
    n_blocks = 8 * get_num_threads()
    for start in range(0, pattern.n_pix, chunk_pixels):
        chunk = pattern.pixels[start:start + chunk_pixels]
        row0, row1 = start * n_shells, (start + chunk.size) * n_shells
        first = int(indptr[row0])
        offsets = np.ascontiguousarray(indptr[row0:row1 + 1] - first)
        n_entries = int(offsets[-1])
        l_rad, b_rad = subpixel_directions(pattern.nside, chunk, 0)
        steps = sample_lines_of_sight(l_rad, b_rad, geometry)
        step_weight = steps.ds_kpc * KPC_CM * evaluate_gas_density_cm3(
            gas_density_cm3, steps.x_kpc, steps.y_kpc, steps.z_kpc, gas_coordinates)
        chunk_indices = np.empty(n_entries, dtype=np.int32)
        chunk_moment = np.empty(n_entries if with_moment else 1)
        counts = _accumulate_rows(steps.x_kpc, steps.y_kpc, steps.z_kpc, np.ascontiguousarray(step_weight), steps.s_kpc,
                                  steps.shell, steps.step_offsets, n_shells, grid.r_kpc, grid.z_kpc, offsets,
                                  chunk_indices, data[first:first + n_entries], chunk_moment, False, with_moment,
                                  n_blocks)
        if not (np.array_equal(counts, np.diff(offsets)) and np.array_equal(chunk_indices, indices[first:first + n_entries])):
            raise ValueError("build_los_operator_on_pattern: the density's rows do not have the pattern's columns "
                             "(it vanishes where the pattern's density does not, or the reverse)")
        if with_moment:
            moment[first:first + n_entries] = chunk_moment
        direction_of_step = np.repeat(np.arange(chunk.size), np.diff(steps.step_offsets))
        paths.append(np.bincount(direction_of_step * n_shells + steps.shell, weights=steps.ds_kpc,
                                 minlength=chunk.size * n_shells).reshape(chunk.size, n_shells))
    return LineOfSightOperator(
        matrix=_csr_of(data, indices, indptr, pattern.matrix.shape), nside=pattern.nside, pixels=pattern.pixels,
        grid=grid, geometry=geometry, includes_gas=True, shell_path_kpc=np.concatenate(paths),
        distance_moment=moment if with_moment else None, meta={"oversample_order": 0},
    )


def _sorted_csr(matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix)
    if not matrix.has_sorted_indices:
        matrix.sort_indices()
    return matrix


def subpixel_directions(nside: int, pixels: np.ndarray, oversample_order: int = 0):
    """Directions of the 4^order sub-pixels (at N_side x 2^order) of RING pixels, grouped per pixel.

    Parameters
    ----------
    nside : int
    pixels : ndarray of int
        RING pixel indices at ``nside``.
    oversample_order : int
        0 returns the pixel centres themselves.

    Returns
    -------
    l_rad, b_rad : ndarray, shape (n_pix * 4^order,)
        Galactic longitude and latitude (radians); the sub-pixels of ``pixels[i]`` are rows
        ``i * 4^order : (i + 1) * 4^order``.
    """
    pixels = np.asarray(pixels, dtype=np.int64)
    if oversample_order == 0:
        return healpix_directions(nside, pixels)
    n_sub = 4**oversample_order
    children = (hp.ring2nest(nside, pixels)[:, None] * n_sub + np.arange(n_sub)).ravel()
    l_deg, b_deg = hp.pix2ang(nside * 2**oversample_order, children, nest=True, lonlat=True)
    return np.deg2rad(l_deg), np.deg2rad(b_deg)


def _operator_rows(l_rad, b_rad, grid, geometry, gas_density_cm3, gas_coordinates, with_moment):
    """CSR rows (direction-major, then shell) of W, its distance moment (CSR or None) and shell paths."""
    n_shells = geometry.n_shells
    steps = sample_lines_of_sight(l_rad, b_rad, geometry)
    step_weight = steps.ds_kpc * KPC_CM
    if gas_density_cm3 is not None:
        step_weight = step_weight * evaluate_gas_density_cm3(
            gas_density_cm3, steps.x_kpc, steps.y_kpc, steps.z_kpc, gas_coordinates
        )
    args = (steps.x_kpc, steps.y_kpc, steps.z_kpc, np.ascontiguousarray(step_weight), steps.s_kpc,
            steps.shell, steps.step_offsets, n_shells, grid.r_kpc, grid.z_kpc)
    n_blocks = 8 * get_num_threads()  # few blocks: each allocates O(n_cells) scratch
    counts = _accumulate_rows(*args, np.zeros(1, np.int64), np.zeros(1, np.int32), np.zeros(1), np.zeros(1), True, False,
                              n_blocks)
    indptr = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int32)
    data = np.empty(indptr[-1])
    moment_data = np.empty(indptr[-1] if with_moment else 1)
    _accumulate_rows(*args, indptr, indices, data, moment_data, False, with_moment, n_blocks)
    shape = (counts.size, grid.n_cells)
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape)
    matrix.has_sorted_indices = True
    moment = None
    if with_moment:
        moment = sp.csr_matrix((moment_data, indices.copy(), indptr.copy()), shape=shape)
        moment.has_sorted_indices = True
    n_dir = l_rad.size
    direction_of_step = np.repeat(np.arange(n_dir), np.diff(steps.step_offsets))
    path = np.bincount(direction_of_step * n_shells + steps.shell, weights=steps.ds_kpc,
                       minlength=n_dir * n_shells).reshape(n_dir, n_shells)
    return matrix, moment, path


@njit(cache=True, parallel=True)
def _direct_kernel(x, y, z, step_weight, ds_kpc, step_offsets, r_nodes, z_nodes, emissivity,
                   kappa_cells_per_kpc, kappa_uniform_per_kpc, absorption_mode):
    """Direct LOS sum per pixel: sum_k w_k eps(x_k, E) exp(-tau(E, s_k)) (midpoint tau).

    absorption_mode: 0 none, 1 uniform kappa (n_E,), 2 gridded kappa (n_cells, n_E).
    """
    n_pix = step_offsets.shape[0] - 1
    n_e = emissivity.shape[1]
    out = np.zeros((n_pix, n_e))
    for p in prange(n_pix):
        cells = np.empty(4, dtype=np.int64)
        weights = np.empty(4)
        tau = np.zeros(n_e)
        for k in range(step_offsets[p], step_offsets[p + 1]):
            r = np.sqrt(x[k] * x[k] + y[k] * y[k])
            inside = _bilinear_corners(r_nodes, z_nodes, r, z[k], cells, weights)
            w_step = step_weight[k]
            ds = ds_kpc[k]
            if absorption_mode == 0:
                if inside and w_step > 0.0:
                    w0, w1, w2, w3 = w_step * weights[0], w_step * weights[1], w_step * weights[2], w_step * weights[3]
                    c0, c1, c2, c3 = cells[0], cells[1], cells[2], cells[3]
                    for e in range(n_e):
                        out[p, e] += (w0 * emissivity[c0, e] + w1 * emissivity[c1, e]
                                      + w2 * emissivity[c2, e] + w3 * emissivity[c3, e])
                continue
            for e in range(n_e):
                kappa = 0.0
                if absorption_mode == 1:
                    kappa = kappa_uniform_per_kpc[e]
                elif inside:
                    for c in range(4):
                        kappa += weights[c] * kappa_cells_per_kpc[cells[c], e]
                if inside and w_step > 0.0:
                    emis = 0.0
                    for c in range(4):
                        emis += weights[c] * emissivity[cells[c], e]
                    out[p, e] += w_step * emis * np.exp(-(tau[e] + 0.5 * kappa * ds))
                tau[e] += kappa * ds
    return out


def integrate_los_direct(nside: int, grid: RZGrid, emissivity_per_sr: np.ndarray,
                         geometry: LineOfSightGeometry | None = None,
                         gas_density_cm3: GasDensity | None = None, *, gas_coordinates: str = "xyz",
                         kappa_per_kpc: np.ndarray | None = None, pixels: np.ndarray | None = None,
                         chunk_pixels: int = 2048, oversample_order: int = 0) -> np.ndarray:
    """Intensity cube by direct Numba integration along each line of sight (no stored W).

    Same integral and units as :meth:`LineOfSightOperator.intensity` (GeV^-1 cm^-2 s^-1 sr^-1),
    but the attenuation exp(-tau) is applied at every step (tau at the step midpoint), so it is
    exact to the midpoint rule for any absorber. Cost ~ n_pix x n_steps x n_E per call; use it for
    one-off maps, very large N_side, or as the accurate absorption route.

    Parameters
    ----------
    nside, grid, geometry, gas_density_cm3, gas_coordinates, pixels, chunk_pixels, oversample_order
        As in :func:`build_los_operator` (distance shells in ``geometry`` are irrelevant here).
    emissivity_per_sr : ndarray, shape (n_r, n_z, n_E) or (n_r, n_z)
        q_per_sr (with gas) or j_per_sr (gas-free); see :meth:`LineOfSightOperator.intensity`.
    kappa_per_kpc : ndarray, optional
        Absorption coefficient in kpc^-1, shape (n_E,) (uniform) or (n_r, n_z, n_E).

    Returns
    -------
    ndarray, shape (n_E, n_pix)
    """
    geometry = LineOfSightGeometry() if geometry is None else geometry
    pixels = np.arange(hp.nside2npix(nside), dtype=np.int64) if pixels is None else np.asarray(pixels, dtype=np.int64)
    emissivity_cells = grid.flatten_field(emissivity_per_sr, "emissivity_per_sr")
    n_e = emissivity_cells.shape[1]
    mode, kappa_uniform, kappa_cells = 0, np.zeros(1), np.zeros((1, 1))
    if kappa_per_kpc is not None:
        kappa = np.asarray(kappa_per_kpc, dtype=float)
        if np.any(kappa < 0.0) or not np.all(np.isfinite(kappa)):
            raise ValueError("kappa_per_kpc must be finite and >= 0 (kpc^-1)")
        if kappa.ndim == 1:
            if kappa.shape != (n_e,):
                raise ValueError(f"uniform kappa_per_kpc must have shape ({n_e},), got {kappa.shape}")
            mode, kappa_uniform = 1, np.ascontiguousarray(kappa)
        else:
            mode, kappa_cells = 2, grid.flatten_field(kappa, "kappa_per_kpc")
            if kappa_cells.shape[1] != n_e:
                raise ValueError(f"kappa_per_kpc has {kappa_cells.shape[1]} energies; emissivity has {n_e}")
    n_sub = 4**oversample_order
    parents_per_chunk = max(1, chunk_pixels // n_sub)
    out = np.empty((pixels.size, n_e))
    for start in range(0, pixels.size, parents_per_chunk):
        stop = min(start + parents_per_chunk, pixels.size)
        l_rad, b_rad = subpixel_directions(nside, pixels[start:stop], oversample_order)
        steps = sample_lines_of_sight(l_rad, b_rad, geometry)
        step_weight = steps.ds_kpc * KPC_CM
        if gas_density_cm3 is not None:
            step_weight = step_weight * evaluate_gas_density_cm3(
                gas_density_cm3, steps.x_kpc, steps.y_kpc, steps.z_kpc, gas_coordinates
            )
        per_direction = _direct_kernel(
            steps.x_kpc, steps.y_kpc, steps.z_kpc, np.ascontiguousarray(step_weight), steps.ds_kpc,
            steps.step_offsets, grid.r_kpc, grid.z_kpc, emissivity_cells, kappa_cells, kappa_uniform, mode,
        )
        out[start:stop] = per_direction.reshape(stop - start, n_sub, n_e).mean(axis=1)
    return np.ascontiguousarray(out.T)


def step_halving_change(nside: int, grid: RZGrid, emissivity_per_sr: np.ndarray,
                        geometry: LineOfSightGeometry | None = None,
                        gas_density_cm3: GasDensity | None = None, *, gas_coordinates: str = "xyz",
                        pixels: np.ndarray | None = None, floor_fraction: float = 1e-3) -> float:
    """Convergence check: largest relative map change when both step caps are halved.

    Parameters
    ----------
    nside, grid, emissivity_per_sr, geometry, gas_density_cm3, gas_coordinates, pixels
        As in :func:`integrate_los_direct`.
    floor_fraction : float
        Pixels fainter than ``floor_fraction`` x the brightest pixel (per energy) are ignored.

    Returns
    -------
    float
        max |I(step/2) / I(step) - 1| over energies and the pixels above the floor; the project
        requires < 0.01.
    """
    geometry = LineOfSightGeometry() if geometry is None else geometry
    kwargs = dict(gas_density_cm3=gas_density_cm3, gas_coordinates=gas_coordinates, pixels=pixels)
    coarse = integrate_los_direct(nside, grid, emissivity_per_sr, geometry, **kwargs)
    fine = integrate_los_direct(nside, grid, emissivity_per_sr, geometry.with_steps_scaled(0.5), **kwargs)
    keep = coarse > floor_fraction * coarse.max(axis=1, keepdims=True)
    return float(np.max(np.abs(fine[keep] / coarse[keep] - 1.0)))
