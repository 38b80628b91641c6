"""Steady-state cosmic-ray transport in a 2D cylindrical Galaxy (r, z) with energy coupling.

Equation (Strong & Moskalenko 1998; docs/propagation.md#transport-equation), written for the density
N(r, z, T) per unit kinetic energy per nucleon T = T_n (axis order everywhere: ``(E, r, z)``):

    0 = q + div(D grad N) + d/dT[ (D_pp/p^2) p^4 d/dp (beta N / p^2) ] + d/dT(b N) - Gamma N

with p the momentum per nucleon (GeV/c), beta = dT/dp, psi(p) = beta N the density per unit p,
D_pp / p^2 the momentum-diffusion rate (1/s, Seo & Ptuskin), b = -dT/dt >= 0 the continuous loss
rate (GeV/n per s) and Gamma = 1/tau the catastrophic (fragmentation, decay) rate (1/s). The
reacceleration term is GALPROP's d/dp[p^2 D_pp d/dp(psi/p^2)] rewritten with the flux through
a momentum surface, which is the same in any energy variable. Boundaries: N = 0 at r = r_max and
|z| = zh (free escape), regular at r = 0; no particles enter from above the top energy node,
particles that lose energy leave through the bottom of the energy grid.

Units: lengths in kpc internally (D converted once, cm^2/s -> kpc^2/s), time in s,
N in cm^-3 (GeV/n)^-1, q in cm^-3 s^-1 (GeV/n)^-1. The intensity is J = beta c N / (4 pi) in
cm^-2 s^-1 sr^-1 (GeV/n)^-1 (:func:`intensity_from_density`); for protons and leptons this is
the usual GeV^-1 cm^-2 s^-1 sr^-1. (GALPROP's psi per unit total momentum relates as
N = A psi / beta, docs/propagation.md#transport-equation.)

Numerical method (and why)
--------------------------
* Discretisation: finite volumes on the node-centred grid of :class:`~galdiff.propagation.grid.Grid`.
  Space: second-order conservative cylindrical Laplacian, (1/r) d/dr (r dN/dr) with face radii
  r +/- dr/2, the axis cell [0, dr/2] giving 4 D (N_1 - N_0)/dr^2 (docs/propagation.md#discretisation and
  its referee note), plus the standard 3-point z stencil. Energy: cells uniform in ln T with
  edges at the geometric means of nodes; both energy terms are written as face fluxes so the
  discrete operator conserves particles exactly (reacceleration: column sums weighted by the cell
  widths vanish). The end cells are half cells, so the energy boundaries sit exactly at T_min
  and T_max (zero reacceleration flux there; the loss outflow at T_min is -b N at the node);
  with boundaries that moved with the step the solution converged only at first order under
  strong reacceleration. The lowest node itself (a half cell on the outflow boundary) is only
  first order (~5 % between 8 and 16 bins/decade in the tests): put T_min below the lowest
  energy of interest. The reacceleration flux F = -(D_pp/p^2) p^4 df/dp with
  f = beta N/p^2 uses a staggered fourth-order df/dp (f steepens to ~p^-4.7 at 10 GeV, where
  the centred two-point difference is 2 % off at 16 bins/decade; both vanish for f = const).
  Measured on the benchmark problem: the Sun intensity changes by < 0.3 % between 16 and 32
  bins/decade and by < 0.1 % (r) and < 0.4 % (z) between the default and half the spatial
  resolution (benchmarks/RESULTS.md). The loss flux F = -b N at a face is the quadratic
  *upwind* extrapolation, in ln T, of G = b N from the three nodes above the face (third order;
  GALPROP's first-order upwind makes a 10-30 % error in steep loss-dominated spectra at 16
  bins/decade; this scheme is < 0.5 % there and its face value stays positive for any
  geometric sequence, while a centred or QUICK-type flux has spurious growing modes). Being
  linear and above first order it is not monotone (Godunov): the response to a single-bin
  injection dips slightly negative (<~ 1 % of its peak) a few bins below it; smooth spectra
  are unaffected. ``PropagationSetup.loss_order`` = 1 restores GALPROP's monotone scheme.
* Steady state solved directly, not by GALPROP's time-step ladder (Crank-Nicolson ADI needs
  ~100-600 sweeps of the whole grid and converges only to the last dt's accuracy). The spatial
  operator at energy k is D_k times one fixed sparse matrix plus diagonal terms (Gamma and the
  energy-operator diagonal), i.e. one 2D problem of (n_r - 1)(n_z - 2) unknowns (10^4 at the
  default grid): each is factorised once with SuperLU (``scipy.sparse.linalg.splu``, minimum
  degree ordering, ~35 ms and ~5 MB per energy at the default grid). The energy coupling
  (losses move particles down, reacceleration both ways) is handled by GMRES on the full 3D
  system with a multiplicative two-level preconditioner: a block Gauss-Seidel sweep from the
  top energy down (alone the exact inverse when there is no reacceleration, so such problems
  need no iteration), a coarse-space correction that solves the fully energy-coupled problem
  exactly on the lowest 12 x 10 (radial x vertical) spatial eigenmodes (:class:`CoarseSpace`; at ~1 GeV a
  reacceleration step between bins is ~5 times faster than escape of the fundamental mode, so
  block sweeps alone need 40-120 iterations, 300+ for single-bin sources), then an upward
  block sweep. With the paper's reacceleration GMRES reaches 1e-10 in ~10 iterations for a
  smooth source; single-bin (Green's-function) sources on the default 1 MeV/n - 1 EeV/n grid
  reach 1e-8 in ~12 (6 x 8 modes: ~20; 10 x 8: 14; 12 x 10: 12; more modes cost more than
  they save; below ~100 MeV reacceleration couples energies faster than any spatial mode
  escapes, which is why the MeV range needs the larger coarse space). Each energy's unknowns are
  scaled by the magnitude of the preconditioned solution there so that the stopping rule
  controls the *relative* error at every energy, not only at the low energies where N is
  largest.
* Several right-hand sides (Green's-function rows) are solved together: each keeps its own
  GMRES (:mod:`galdiff.propagation.krylov`), but the sweeps, the coarse correction and the
  operator act on all of them at once, so SuperLU reads each factor once per block of columns
  (its cost is dominated by streaming the factor from memory). The adjoint sweeps use the
  untransposed factors through B^T = W B W^-1 (W the cell volumes; W lap is symmetric), since
  SuperLU's transposed solve gains nothing from several columns.
* A Galaxy that is even in z (grid, gas, losses) is solved on the unknowns with z >= 0 only
  (:mod:`galdiff.propagation.layout`): exact, half the cost. The default GALPROP gas is *not*
  even (the H2 layer's midplane z0(R) is off the plane), so the workflow's model runs unfolded.
* Cost: see benchmarks/RESULTS.md (the issue's grid, 81 x 127 x 145 = 1.5 M nodes: ~3-15 s
  setup and ~6-10 s per solve on a shared 2-core machine, depending on its load). Memory at the
  workflow's nuclei grid (81 x 127 x 193, 1 MeV/n - 1 EeV/n): 2D factors 0.81 GiB (~376 k
  nonzeros each), coarse factor 0.19 GiB (its matrix is not kept: an energy window projects
  its own, :meth:`CoarseSpace.restricted`), energy bands 0.09 GiB; 1.52 GiB resident after
  set-up, once :func:`release_freed_heap` has returned SuperLU's workspaces.
"""

from __future__ import annotations

import copy
import ctypes
import functools
import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numba import njit
from tqdm.auto import tqdm

from ..units import C_CM_PER_S, KPC_CM, Species, beta_from_ek_per_n
from .grid import Grid
from .krylov import batched_gmres
from .layout import SpatialLayout, field_is_mirror_symmetric, grid_is_mirror_symmetric
from .layout import radial_operator, vertical_operator  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

#: band offsets o of the energy operator: ``bands[o + BAND_ZERO, k, s]`` multiplies N_{k+o}
BAND_OFFSETS = (-2, -1, 0, 1, 2, 3)
BAND_ZERO = 2
#: offsets of the bands that couple to lower energies (reacceleration only)
LOWER_BAND_OFFSETS = np.array([-2, -1], dtype=np.int64)
#: Krylov vectors of one solve are capped at about this many bytes (restart length 10-40)
KRYLOV_MEMORY_BYTES = 1_000_000_000


def release_freed_heap() -> None:
    """Return the C heap's free pages to the operating system (glibc ``malloc_trim``; a no-op elsewhere).

    SuperLU's factorisation workspaces and the large temporaries of a solve are freed into
    glibc's heap, which keeps them (its mmap threshold grows with every large free): at the
    default grid that is ~0.4 GB after factorising and again per worker after each Green's
    batch, memory every forked worker would otherwise hold as its own.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim from the symbols already loaded in this process, or None."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def _batch(array: np.ndarray) -> np.ndarray:
    """(n_E, n_s) -> (1, n_E, n_s); a batch (m, n_E, n_s) is returned as it is."""
    return array[None] if array.ndim == 2 else array


def _unbatch(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    return result[0] if like.ndim == 2 else result


@njit(cache=True)
def loss_face_weights(n_points_above: int, order: int = 3):
    """Weights of the upwind extrapolation of G = b N from the nodes above a face to the face.

    The face between nodes k and k+1 lies half a log step below node k+1. G at the face is
    the quadratic (or, near the top of the grid, linear or constant) Lagrange extrapolation, in
    log T, of G_{k+1}, G_{k+2}, G_{k+3}: weights (15/8, -5/4, 3/8), (3/2, -1/2) or (1).

    Parameters
    ----------
    n_points_above : int
        Number of nodes available above the face (>= 1).
    order : int
        Highest order used (1, 2 or 3); fewer points near the top of the grid lower it.

    Returns
    -------
    ndarray, shape (3,)
        Weights of G_{k+1}, G_{k+2}, G_{k+3} (unused entries zero).
    """
    weights = np.zeros(3)
    n_points_above = min(n_points_above, order)
    if n_points_above >= 3:
        weights[0] = 15.0 / 8.0
        weights[1] = -5.0 / 4.0
        weights[2] = 3.0 / 8.0
    elif n_points_above == 2:
        weights[0] = 1.5
        weights[1] = -0.5
    else:
        weights[0] = 1.0
    return weights


@njit(cache=True)
def energy_bands(widths_GeV, g_node, reacc_face, reacc_stencil, loss_rate, loss_order=3):
    """Banded energy operator (reacceleration + continuous losses), conservative form.

    Parameters
    ----------
    widths_GeV : ndarray, shape (n_E,)
        Energy cell widths Delta T_k in GeV/n.
    g_node : ndarray, shape (n_E,)
        beta_k / p_k^2 at the nodes, (GeV/c)^-2 per nucleon: f = N g is the phase-space density
        up to a constant.
    reacc_face : ndarray, shape (n_E - 1, n_s)
        (D_pp/p^2) p^4 at the faces between nodes k and k+1, GeV^4 s^-1 (per nucleon units).
    reacc_stencil : ndarray, shape (n_E - 1, 4)
        Weights of f_{k-1}, f_k, f_{k+1}, f_{k+2} giving df/dp at face k+1/2, (GeV/c)^-1;
        the reacceleration flux is F = -reacc_face * sum_m stencil_m f_{k+m}.
    loss_rate : ndarray, shape (n_E, n_s)
        b = -dT_n/dt >= 0 at the nodes, GeV/n per s.
    loss_order : int
        Order of the upwind loss flux (3: default, most accurate; 2; 1: GALPROP's first-order
        upwind, the only monotone choice - Godunov's theorem - for non-smooth spectra).

    Returns
    -------
    ndarray, shape (6, n_E, n_s)
        bands[o + 2, k, s]: coefficient (1/s) of N_{k+o} in dN_k/dt, o = -2 .. 3.

    Notes
    -----
    Serial (~50 ms at the default grid, built once): the solver stays free of numba threads so
    that :func:`galdiff.propagation.greens.sun_greens_matrix` can fork worker processes safely.
    """
    n_e = widths_GeV.size
    n_s = loss_rate.shape[1]
    bands = np.zeros((6, n_e, n_s))
    for k in range(n_e):
        inv_w = 1.0 / widths_GeV[k]
        # loss face above cell k (between k and k+1): F = -sum_m w_m G_{k+m}; zero at top
        n_above_up = n_e - 1 - k
        # loss face below cell k (between k-1 and k), present for every k (bottom face is outflow)
        n_above_down = n_e - k
        w_up = loss_face_weights(max(n_above_up, 1), loss_order)
        # the bottom face is the first node itself (half cell): G there is G_0 exactly
        w_down = loss_face_weights(n_above_down if k > 0 else 1, loss_order)
        for s in range(n_s):
            for m in range(-1, 3):
                # reacceleration, face above (k+1/2): -F/W_k
                j = k + m
                if k < n_e - 1 and 0 <= j < n_e:
                    bands[2 + m, k, s] += reacc_face[k, s] * reacc_stencil[k, m + 1] * g_node[j] * inv_w
                # reacceleration, face below (k-1/2): +F/W_k
                j = k - 1 + m
                if k > 0 and 0 <= j < n_e:
                    bands[1 + m, k, s] -= reacc_face[k - 1, s] * reacc_stencil[k - 1, m + 1] * g_node[j] * inv_w
            # losses: -F_up / W_k (inflow from above)
            if n_above_up >= 1:
                for m in range(3):
                    j = k + 1 + m
                    if j < n_e:
                        bands[3 + m, k, s] += w_up[m] * loss_rate[j, s] * inv_w
            # losses: +F_down / W_k (outflow through the face below)
            for m in range(3):
                j = k + m
                if j < n_e:
                    bands[2 + m, k, s] -= w_down[m] * loss_rate[j, s] * inv_w
    return bands


def energy_bands_slow(widths_GeV, g_node, reacc_face, reacc_stencil, loss_rate, loss_order=3):
    """Obvious NumPy version of :func:`energy_bands`: build face fluxes as dense matrices.

    Returns the same (6, n_E, n_s) bands, extracted from the dense per-cell operator
    dN/dt = -(F_up - F_down) / Delta T.
    """
    n_e, n_s = loss_rate.shape
    bands = np.zeros((6, n_e, n_s))
    for s in range(n_s):
        # flux matrix: F[f] = sum_j Phi[f, j] N_j, faces f = 0..n_e (face f below node f)
        phi = np.zeros((n_e + 1, n_e))
        for f in range(1, n_e):  # interior faces between f-1 and f
            for m in range(-1, 3):
                j = f - 1 + m
                if 0 <= j < n_e:
                    phi[f, j] += -reacc_face[f - 1, s] * reacc_stencil[f - 1, m + 1] * g_node[j]
        for f in range(0, n_e):  # loss faces: all but the top one; face 0 is node 0 itself
            above = np.arange(f, min(f + loss_order, n_e)) if f > 0 else np.array([0])
            if above.size == 3:
                weights = [15 / 8, -5 / 4, 3 / 8]
            elif above.size == 2:
                weights = [1.5, -0.5]
            else:
                weights = [1.0]
            for w, j in zip(weights, above):
                phi[f, j] += -w * loss_rate[j, s]
        dense = -(phi[1:] - phi[:-1]) / widths_GeV[:, None]
        for k in range(n_e):
            for o in BAND_OFFSETS:
                if 0 <= k + o < n_e:
                    bands[o + BAND_ZERO, k, s] = dense[k, k + o]
        outside = np.abs(np.triu(dense, 4)).sum() + np.abs(np.tril(dense, -3)).sum()
        assert outside == 0.0
    return bands


def dense_energy_operator(bands, cell):
    """Dense (n_E, n_E) energy operator at one spatial cell (slow; for tests and checks)."""
    n_e = bands.shape[1]
    dense = np.zeros((n_e, n_e))
    for k in range(n_e):
        for o in BAND_OFFSETS:
            if 0 <= k + o < n_e:
                dense[k, k + o] = bands[o + BAND_ZERO, k, cell]
    return dense


@njit(cache=True)
def apply_operator(x, diffusion_kpc2_per_s, catastrophic_rate_per_s, bands, radial_sub, radial_diag, radial_sup,
                   vertical_sub, vertical_diag, vertical_sup, transposed):
    """A x (or A^T x) for a batch of densities, the whole steady-state operator in one pass.

    A x = -D_k lap x_k + Gamma x - (energy operator) x, the five-point cylindrical Laplacian
    written out from its radial and vertical tridiagonal coefficients
    (:class:`~galdiff.propagation.layout.SpatialLayout`). Serial, like the other kernels
    (see :func:`energy_bands`).

    Parameters
    ----------
    x : ndarray, shape (m, n_E, n_s)
        Densities on the spatial unknowns, s = i_r n_z + j_z.
    diffusion_kpc2_per_s : ndarray, shape (n_E,)
    catastrophic_rate_per_s : ndarray, shape (n_E, n_s)
    bands : ndarray, shape (6, n_E, n_s)
    radial_sub, radial_diag, radial_sup : ndarray
        Sub-, main and super-diagonal of the radial operator, kpc^-2 (n_r - 1, n_r, n_r - 1).
    vertical_sub, vertical_diag, vertical_sup : ndarray
        The same for the vertical operator (n_z - 1, n_z, n_z - 1).
    transposed : bool
        Apply A^T instead of A.

    Returns
    -------
    ndarray, shape (m, n_E, n_s)
    """
    m, n_e, n_s = x.shape
    n_z = vertical_diag.size
    n_r = n_s // n_z
    if transposed:  # (T^T)_{i,i-1} = T_{i-1,i}: the transpose swaps the off-diagonals, shifted
        r_low, r_high, z_low, z_high = radial_sup, radial_sub, vertical_sup, vertical_sub
    else:
        r_low, r_high, z_low, z_high = radial_sub, radial_sup, vertical_sub, vertical_sup
    out = np.empty_like(x)
    for b in range(m):
        for k in range(n_e):
            d = diffusion_kpc2_per_s[k]
            for i in range(n_r):
                base = i * n_z
                for j in range(n_z):
                    s = base + j
                    lap = (radial_diag[i] + vertical_diag[j]) * x[b, k, s]
                    if j > 0:
                        lap += z_low[j - 1] * x[b, k, s - 1]
                    if j < n_z - 1:
                        lap += z_high[j] * x[b, k, s + 1]
                    out[b, k, s] = catastrophic_rate_per_s[k, s] * x[b, k, s] - d * lap
                if i > 0:
                    low = d * r_low[i - 1]
                    for j in range(n_z):
                        out[b, k, base + j] -= low * x[b, k, base + j - n_z]
                if i < n_r - 1:
                    high = d * r_high[i]
                    for j in range(n_z):
                        out[b, k, base + j] -= high * x[b, k, base + j + n_z]
            for o in range(-2, 4):
                j = k - o if transposed else k + o
                if j < 0 or j >= n_e:
                    continue
                row = j if transposed else k
                for s in range(n_s):
                    out[b, k, s] -= bands[o + 2, row, s] * x[b, j, s]
    return out


@njit(cache=True)
def apply_band_couplings(x, bands, offsets, transposed):
    """Sum over the given band offsets o of bands[o+2, k] x_{k+o} (or the transposed bands).

    The part of the energy operator that a block sweep leaves out, i.e. the residual of a
    sweep's result; ``offsets`` holds -2, -1 (the lower, reacceleration bands) or 1..3.

    Parameters
    ----------
    x : ndarray, shape (m, n_E, n_s)
    bands : ndarray, shape (6, n_E, n_s)
    offsets : ndarray of int64
    transposed : bool

    Returns
    -------
    ndarray, shape (m, n_E, n_s)
    """
    m, n_e, n_s = x.shape
    out = np.zeros_like(x)
    for b in range(m):
        for k in range(n_e):
            for o in offsets:
                j = k - o if transposed else k + o
                if j < 0 or j >= n_e:
                    continue
                row = j if transposed else k
                for s in range(n_s):
                    out[b, k, s] += bands[o + 2, row, s] * x[b, j, s]
    return out


# --------------------------------------------------------------------------------------------
# spatial operator (galdiff.propagation.layout holds the unknowns and their stencils)
# --------------------------------------------------------------------------------------------
def cylindrical_laplacian(grid: Grid) -> sp.csr_matrix:
    """Laplacian (1/r) d/dr(r d/dr) + d^2/dz^2 on all interior unknowns, kpc^-2.

    Unknown s = i_r (n_z - 2) + (j_z - 1) for r node i_r = 0..n_r-2 and z node j_z = 1..n_z-2,
    matching :meth:`Grid.full_to_interior`.
    """
    return SpatialLayout.for_grid(grid).laplacian_per_kpc2()


def cell_volumes_kpc3(grid: Grid) -> np.ndarray:
    """Finite-volume cell volumes of the interior unknowns (full 2 pi), kpc^3, shape (n_s,)."""
    return SpatialLayout.for_grid(grid).cell_volumes_kpc3


# --------------------------------------------------------------------------------------------
# setup
# --------------------------------------------------------------------------------------------
def _field(value, grid: Grid, name: str, allow_none: bool = True) -> np.ndarray:
    """Broadcast a coefficient to (n_E, n_r, n_z), checking it is finite and >= 0."""
    if value is None:
        if not allow_none:
            raise ValueError(f"propagation setup: {name} is required")
        return np.zeros(grid.shape)
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None, None]
    try:
        arr = np.broadcast_to(arr, grid.shape)
    except ValueError:
        raise ValueError(
            f"propagation setup: {name} has shape {np.shape(value)}, not broadcastable to "
            f"(n_E, n_r, n_z) = {grid.shape}"
        ) from None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"propagation setup: {name} must be finite and >= 0")
    return arr


@dataclass
class PropagationSetup:
    """Everything the steady-state solver needs, as plain arrays on a :class:`Grid`.

    Attributes
    ----------
    grid : Grid
    species : Species
    diffusion_cm2_per_s : ndarray, shape (n_E,)
        Spatial diffusion coefficient D_xx(T) in cm^2/s (spatially uniform).
    dpp_over_p2_per_s : array_like or None
        Momentum-diffusion rate D_pp/p^2 in 1/s, shape (n_E,) or broadcastable to
        (n_E, n_r, n_z); None switches reacceleration off.
    loss_rate_GeV_per_n_per_s : array_like or None
        Continuous loss rate b = -dT_n/dt >= 0 in GeV/n per s, (n_E,) or broadcastable to
        (n_E, n_r, n_z); None for no losses.
    catastrophic_rate_per_s : array_like or None
        Gamma = 1/tau (fragmentation + decay) in 1/s, broadcastable like the losses.
    loss_order : int
        Order of the upwind loss flux: 3 (default; < 0.5 % error at 16 bins/decade for steep
        loss-dominated spectra, but the response to a *single-bin* injection undershoots
        slightly below the injection energy), 2 (~2 % error, same caveat) or 1 (GALPROP's
        first-order upwind: monotone, by Godunov's theorem the only linear scheme that is,
        but 10-30 % wrong for steep loss-dominated spectra at 16 bins/decade).
    reacceleration_order : int
        4 (default) or 2: order of df/dp in the reacceleration flux, see
        :func:`reacceleration_face_coefficients`.
    """

    grid: Grid
    species: Species
    diffusion_cm2_per_s: np.ndarray
    dpp_over_p2_per_s: np.ndarray | None = None
    loss_rate_GeV_per_n_per_s: np.ndarray | None = None
    catastrophic_rate_per_s: np.ndarray | None = None
    loss_order: int = 3
    reacceleration_order: int = 4

    def __post_init__(self):
        if self.reacceleration_order not in (2, 4):
            raise ValueError("propagation setup: reacceleration_order must be 2 or 4, got "
                             f"{self.reacceleration_order!r}")
        if self.loss_order not in (1, 2, 3):
            raise ValueError(f"propagation setup: loss_order must be 1, 2 or 3, got {self.loss_order!r}")
        n_e = self.grid.ek_GeV_per_n.size
        diffusion = np.asarray(self.diffusion_cm2_per_s, dtype=float)
        if diffusion.shape != (n_e,) or not np.all(np.isfinite(diffusion)) or np.any(diffusion < 0):
            raise ValueError(
                f"propagation setup: diffusion_cm2_per_s must be a finite, >= 0 array of shape "
                f"({n_e},), got shape {diffusion.shape}"
            )
        self.diffusion_cm2_per_s = diffusion


def _setup_is_mirror_symmetric(setup: PropagationSetup) -> bool:
    """Whether the grid and every spatially varying coefficient of ``setup`` are even in z."""
    if not grid_is_mirror_symmetric(setup.grid):
        return False
    fields = (setup.dpp_over_p2_per_s, setup.loss_rate_GeV_per_n_per_s, setup.catastrophic_rate_per_s)
    return all(value is None or np.ndim(value) < 2 or field_is_mirror_symmetric(_field(value, setup.grid, "coefficient"))
               for value in fields)


def interior_field(value, grid: Grid, name: str, layout: SpatialLayout | None = None) -> np.ndarray:
    """A coefficient on the solver's unknowns (default: all interior nodes), (n_E, n_s), C-contiguous."""
    layout = layout or SpatialLayout.for_grid(grid)
    return np.ascontiguousarray(layout.to_unknowns(_field(value, grid, name)))


def reacceleration_face_coefficients(grid: Grid, species: Species, dpp_over_p2_per_s,
                                     order: int = 4, layout: SpatialLayout | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Face coefficients of the reacceleration flux F = -(D_pp/p^2) p^4 df/dp, f = beta N / p^2.

    Parameters
    ----------
    grid : Grid
    species : Species
    dpp_over_p2_per_s : array_like
        D_pp/p^2 in 1/s at the nodes, (n_E,) or broadcastable to (n_E, n_r, n_z).
    order : int
        4: df/dp at interior faces from the staggered fourth-order stencil
        (f_{k-1} - 27 f_k + 27 f_{k+1} - f_{k+2}) / 24 in the node index, divided by dp/dindex
        at the face (error ~ (a dlnp)^4 / 200 for f ~ p^-a, 0.1 % at 16 bins/decade); the two
        end faces and ``order`` = 2 use (f_{k+1} - f_k)/(p_{k+1} - p_k) (error
        ~ (a dlnp)^2 / 24: 2 % for a = 4.7 at 16 bins/decade, the DR spectra's slope at 10 GeV).
        Both stencils vanish for f = const (no flux in equilibrium) and, being face fluxes,
        conserve particles exactly.
    layout : SpatialLayout, optional
        Spatial unknowns (default: all interior nodes).

    Returns
    -------
    reacc_face : ndarray, shape (n_E - 1, n_s)
        (D_pp/p^2) p_f^4 at the faces (geometric mean of the node rates; p_f at the
        geometric-mean energy edge), GeV^4 s^-1 per nucleon units.
    stencil : ndarray, shape (n_E - 1, 4)
        Weights of f_{k-1}, f_k, f_{k+1}, f_{k+2} for df/dp at face k+1/2, (GeV/c)^-1.
    """
    if order not in (2, 4):
        raise ValueError(f"reacceleration order must be 2 or 4, got {order!r}")
    rate = interior_field(dpp_over_p2_per_s, grid, "dpp_over_p2_per_s", layout)
    ek = grid.ek_GeV_per_n
    n_e = ek.size
    p_node = grid.momentum_GeV_per_n(ek, species)
    ek_face = grid.ek_edges_GeV_per_n[1:-1]
    p_face = grid.momentum_GeV_per_n(ek_face, species)
    rate_face = np.sqrt(rate[:-1] * rate[1:])
    reacc_face = np.ascontiguousarray(rate_face * (p_face**4)[:, None])
    stencil = np.zeros((n_e - 1, 4))
    step = np.diff(p_node)
    stencil[:, 1] = -1.0 / step
    stencil[:, 2] = 1.0 / step
    if order == 4 and n_e >= 4:
        beta_face = beta_from_ek_per_n(ek_face, species)
        dp_dindex = ek_face * grid.dlog_ek / beta_face  # dp/dT = 1/beta, dT/dindex = T dlnT
        interior = np.arange(1, n_e - 2)
        stencil[interior] = np.array([1.0, -27.0, 27.0, -1.0])[None, :] / (24.0 * dp_dindex[interior, None])
    return reacc_face, stencil


def energy_operator_bands(setup: PropagationSetup, layout: SpatialLayout | None = None) -> np.ndarray:
    """Bands (6, n_E, n_s) of the energy operator (reacceleration + losses) on the unknowns."""
    grid = setup.grid
    beta = grid.beta(setup.species)
    p_node = grid.momentum_GeV_per_n(grid.ek_GeV_per_n, setup.species)
    reacc, stencil = reacceleration_face_coefficients(grid, setup.species, setup.dpp_over_p2_per_s,
                                                      setup.reacceleration_order, layout)
    loss = interior_field(setup.loss_rate_GeV_per_n_per_s, grid, "loss_rate_GeV_per_n_per_s", layout)
    return energy_bands(grid.ek_widths_GeV_per_n, beta / p_node**2, reacc, stencil, loss, setup.loss_order)


def intensity_from_density(density_per_cm3_GeV, beta):
    """J = beta c N / (4 pi): intensity in cm^-2 s^-1 sr^-1 (GeV/n)^-1 from N in cm^-3 (GeV/n)^-1.

    ``beta`` broadcasts against the leading (energy) axis of the density.
    """
    density = np.asarray(density_per_cm3_GeV, dtype=float)
    beta = np.asarray(beta, dtype=float).reshape((-1,) + (1,) * (density.ndim - 1))
    return beta * C_CM_PER_S * density / (4.0 * np.pi)


# --------------------------------------------------------------------------------------------
# coarse space: lowest separable spatial eigenmodes x all energies
# --------------------------------------------------------------------------------------------
def spatial_eigenmodes(layout, n_modes_r: int, n_modes_z: int):
    """Lowest eigenmodes of -lap in r and in z, orthonormal in the cell-volume inner product.

    Parameters
    ----------
    layout : SpatialLayout or Grid
        The unknowns (a Grid means all its interior nodes); on a folded layout the z modes are
        the even modes of the full problem.

    Returns
    -------
    modes_r : ndarray, shape (n_r - 1, K_r)
    modes_z : ndarray, shape (n_z unknowns, K_z)
    eigen_per_kpc2 : ndarray, shape (K_r * K_z,)
        Eigenvalue of -lap of the product mode (a, b), flattened with b fastest.
    weights_r, weights_z : ndarray
        The layout's radial ring areas (kpc^2) and vertical widths (kpc).
    """
    from scipy.linalg import eigh

    if isinstance(layout, Grid):
        layout = SpatialLayout.for_grid(layout)

    def lowest(diagonals, weights, count):
        # W L is symmetric: solve the symmetric problem W^1/2 (-L) W^-1/2 v = lambda v
        sub, diag, sup = diagonals
        minus_lap = -np.diag(diag) - np.diag(sub, -1) - np.diag(sup, 1)
        root = np.sqrt(weights)
        symmetric = root[:, None] * minus_lap / root[None, :]
        symmetric = 0.5 * (symmetric + symmetric.T)  # symmetric up to round-off
        values, vectors = eigh(symmetric, subset_by_index=(0, min(count, weights.size) - 1))
        return values, vectors / root[:, None]

    eig_r, modes_r = lowest(layout.radial, layout.weights_r, n_modes_r)
    eig_z, modes_z = lowest(layout.vertical, layout.weights_z, n_modes_z)
    eigen = (eig_r[:, None] + eig_z[None, :]).ravel()
    return modes_r, modes_z, eigen, layout.weights_r, layout.weights_z


def _factorise_block_banded(matrix):
    """SuperLU factor of the coarse problem, kept in its energy order.

    The matrix is banded in blocks (energy offsets -2..3), so LU in the natural order fills only
    inside the band: at the default grid 16.6 M nonzeros against COLAMD's 19.7 M, factorised in
    0.8 s instead of 1.3 s and solved ~20 % faster (each Green's batch factorises its window).
    """
    return spla.splu(matrix, permc_spec="NATURAL")


class CoarseSpace:
    """Galerkin coarse problem on the K = K_r K_z lowest spatial modes at every energy.

    The block Gauss-Seidel sweeps remove errors that vary quickly in space, but converge
    slowly for errors that are smooth in space *and* coupled strongly in energy (the lowest
    escape modes at low energy, where a reacceleration step between bins is faster than
    escape). The coarse problem C = Phi^T W A Phi (W the cell volumes, Phi the product modes),
    of size K n_E with 6 dense K x K blocks per energy, keeps the whole energy coupling of
    those modes and is solved exactly (SuperLU); the two-level preconditioner alternates it
    with the sweeps. For A^T the same factors give the Petrov-Galerkin correction
    W Phi C^-T Phi^T.

    Parameters
    ----------
    layout : SpatialLayout
        The solver's spatial unknowns.
    diffusion_kpc2_per_s : ndarray, shape (n_E,)
    diagonal : ndarray, shape (n_E, n_s)
        Gamma minus the energy-operator diagonal, 1/s (the non-spatial diagonal of A).
    bands : ndarray, shape (6, n_E, n_s)
        Energy-operator bands (:func:`energy_bands`).
    n_modes_r, n_modes_z : int
        Radial and vertical modes kept (K_r, K_z).
    """

    def __init__(self, layout: SpatialLayout, diffusion_kpc2_per_s, diagonal, bands, n_modes_r: int, n_modes_z: int):
        modes_r, modes_z, eigen, weights_r, weights_z = spatial_eigenmodes(layout, n_modes_r, n_modes_z)
        self.modes_r, self.modes_z = modes_r, modes_z
        self.weights_r, self.weights_z = weights_r, weights_z
        n_r, n_z = layout.shape
        k_r, k_z = modes_r.shape[1], modes_z.shape[1]
        self.size = k_r * k_z
        self._eigen = eigen
        self._pair_r = (weights_r[:, None, None] * modes_r[:, :, None] * modes_r[:, None, :]).reshape(n_r, -1)
        self._pair_z = (weights_z[:, None, None] * modes_z[:, :, None] * modes_z[:, None, :]).reshape(n_z, -1)
        # the fields the Galerkin blocks are projected from, shared with the solver (not copied):
        # a window's coarse matrix is projected again from them rather than sliced from a stored
        # full matrix (16.5 M nonzeros, 0.2 GB at the default grid, held by every Green's job)
        self._diffusion, self._diagonal, self._bands = diffusion_kpc2_per_s, diagonal, bands
        self._start, self._stop = 0, bands.shape[1]
        self._shape = (n_r, n_z)
        self._lu = _factorise_block_banded(self._galerkin_matrix(self._start, self._stop))

    def _project(self, field):
        """(n, n_s) diagonal fields -> (n, K, K) Galerkin blocks Phi^T W diag(field) Phi."""
        n_r, n_z = self._shape
        k_r, k_z = self.modes_r.shape[1], self.modes_z.shape[1]
        n_e = field.shape[0]
        tmp = field.reshape(n_e, n_r, n_z) @ self._pair_z  # (n, n_r, K_z^2)
        blocks = np.einsum("ia,eib->eab", self._pair_r, tmp, optimize=True)
        blocks = blocks.reshape(n_e, k_r, k_r, k_z, k_z).transpose(0, 1, 3, 2, 4)
        return blocks.reshape(n_e, self.size, self.size)

    def _galerkin_matrix(self, start: int, stop: int) -> sp.csc_matrix:
        """C = Phi^T W A Phi on energies [start, stop) (the principal submatrix of the full C), CSC.

        Written straight into CSC arrays (32-bit indices): column block j holds the row blocks
        e = j - o of the band offsets o, i.e. up to six dense K x K blocks, rows ascending. No
        COO triplets, so building a window's matrix needs about twice its size, not six times.
        """
        k, n_e = self.size, stop - start
        slots = len(BAND_OFFSETS)  # slot t of column block j is row block e = j - BAND_OFFSETS[-1] + t
        top = BAND_OFFSETS[-1]
        band = np.zeros((n_e, k, slots, k))  # [j, column in block, slot, row in block]
        for offset in BAND_OFFSETS:
            if offset == 0:
                blocks = self._project(self._diagonal[start:stop])
                blocks[:, np.arange(k), np.arange(k)] += self._diffusion[start:stop, None] * self._eigen[None, :]
            else:
                blocks = -self._project(self._bands[offset + BAND_ZERO, start:stop])
            rows_e = np.arange(max(0, -offset), min(n_e, n_e - offset))  # e with e + offset inside
            band[rows_e + offset, :, top - offset, :] = blocks[rows_e].transpose(0, 2, 1)
            del blocks
        block_row = np.arange(n_e)[:, None] - top + np.arange(slots)[None, :]  # (n_e, slots)
        valid = (block_row >= 0) & (block_row < n_e)
        mask = np.broadcast_to(valid[:, None, :, None], band.shape)
        data = band[mask]
        del band
        indices = (block_row[:, None, :, None] * k + np.arange(k, dtype=np.int64)[None, None, None, :])
        indices = np.broadcast_to(indices, mask.shape)[mask].astype(np.int32)
        per_column = np.repeat(valid.sum(axis=1) * k, k)
        indptr = np.concatenate([[0], np.cumsum(per_column)]).astype(np.int32)
        return sp.csc_matrix((data, indices, indptr), shape=(n_e * k, n_e * k))

    def restricted(self, start: int, stop: int) -> "CoarseSpace":
        """The coarse problem on energies [start, stop) of this one only (zero outside), freshly factorised."""
        if not 0 <= start < stop <= self._stop - self._start:
            raise ValueError(f"coarse window [{start}, {stop}) outside [0, {self._stop - self._start})")
        view = copy.copy(self)
        view._start, view._stop = self._start + start, self._start + stop
        view._lu = _factorise_block_banded(view._galerkin_matrix(view._start, view._stop))
        return view

    def _restrict(self, field, weighted: bool):
        """Mode coefficients of fields (m, n_E, n_s) -> (m, n_E, K), as two plain matrix products."""
        m, n_e = field.shape[:2]
        n_r, n_z = self._shape
        f = field.reshape(m * n_e, n_r, n_z)
        if weighted:
            f = f * self.weights_r[None, :, None] * self.weights_z[None, None, :]
        along_z = (f.reshape(-1, n_z) @ self.modes_z).reshape(m * n_e, n_r, -1)  # (E, n_r, K_z)
        k_z = along_z.shape[2]
        both = self.modes_r.T @ along_z.transpose(1, 0, 2).reshape(n_r, -1)  # (K_r, E K_z)
        return both.reshape(-1, m * n_e, k_z).transpose(1, 0, 2).reshape(m, n_e, -1)

    def _prolong(self, coeffs, weighted: bool):
        """Fields (m, n_E, n_s) from mode coefficients (m, n_E, K): radial modes first, so the
        last product writes the result in its final layout."""
        m, n_e = coeffs.shape[:2]
        n_r, k_r, k_z = self.modes_r.shape[0], self.modes_r.shape[1], self.modes_z.shape[1]
        c = coeffs.reshape(m * n_e, k_r, k_z).transpose(1, 0, 2).reshape(k_r, -1)
        along_r = (self.modes_r @ c).reshape(n_r, m * n_e, k_z).transpose(1, 0, 2).reshape(-1, k_z)
        out = (along_r @ self.modes_z.T).reshape(m * n_e, n_r, -1)
        if weighted:
            out *= self.weights_r[None, :, None] * self.weights_z[None, None, :]
        return out.reshape(m, n_e, -1)

    def _solve_coarse(self, coeffs, trans: str):
        m = coeffs.shape[0]
        solution = self._lu.solve(np.ascontiguousarray(coeffs.reshape(m, -1).T), trans=trans)
        return solution.T.reshape(coeffs.shape)

    def correct(self, residual, transposed: bool = False):
        """Phi C^-1 Phi^T W r (or, ``transposed``, W Phi C^-T Phi^T r) for residuals (m, n_E, n_s)."""
        coeffs = self._solve_coarse(self._restrict(residual, weighted=not transposed), "T" if transposed else "N")
        return self._prolong(coeffs, weighted=transposed)


# --------------------------------------------------------------------------------------------
# solver
# --------------------------------------------------------------------------------------------
class SteadyStateSolver:
    """Factorised steady-state transport operator A for one species and one setup.

    A N = -D_k lap N_k + Gamma N - (energy operator) N, and A N = q is the steady state. The
    constructor factorises the 2D block of every energy (progress bar when ``progress``);
    :meth:`solve` and :meth:`solve_adjoint_interior` then cost a few block sweeps each.

    Parameters
    ----------
    setup : PropagationSetup
    rtol : float
        GMRES relative tolerance on the energy-scaled, preconditioned residual.
    max_iterations : int
        Most GMRES iterations (restart length times cycles) before giving up with an error.
    n_modes_r, n_modes_z : int
        Radial and vertical eigenmodes of the coarse space (:class:`CoarseSpace`); 0 disables
        the coarse correction.
    progress : bool or None
        Show tqdm bars (None: only when the grid has more than 2e5 nodes).
    z_symmetric : bool or None
        Solve on the unknowns with z >= 0 only (:mod:`galdiff.propagation.layout`: exact for a
        Galaxy and sources even in z, half the cost). None: whenever the grid and every
        coefficient of ``setup`` are even in z. The solver's unknowns are then
        :attr:`layout`'s; convert with :meth:`to_unknowns` and :meth:`to_full`.
    """

    #: recompute the residual of every GMRES column declared converged (see
    #: :func:`~galdiff.propagation.krylov.batched_gmres`); the Green's rows switch it off on their
    #: own copies, which saves one preconditioner application per batch
    verify_gmres_residual: bool = True

    def __init__(self, setup: PropagationSetup, *, rtol: float = 1e-10, max_iterations: int = 400,
                 n_modes_r: int = 12, n_modes_z: int = 10, progress: bool | None = None,
                 z_symmetric: bool | None = None):
        self.setup = setup
        self.grid = grid = setup.grid
        self.rtol = float(rtol)
        self.max_iterations = int(max_iterations)
        symmetric = _setup_is_mirror_symmetric(setup)
        if z_symmetric and not symmetric:
            raise ValueError("propagation setup: z_symmetric=True but the grid or a coefficient is not even in z")
        self.layout = layout = SpatialLayout.for_grid(grid, folded=symmetric if z_symmetric is None else bool(z_symmetric))
        n_e = grid.ek_GeV_per_n.size
        self.progress = (n_e * layout.n_unknowns > 2e5) if progress is None else bool(progress)
        self.laplacian_per_kpc2 = layout.laplacian_per_kpc2()
        # W of the similarity B^T = W B W^-1 of each 2D block (W lap is symmetric)
        self.cell_volumes_kpc3 = layout.cell_volumes_kpc3
        self.diffusion_kpc2_per_s = setup.diffusion_cm2_per_s / KPC_CM**2
        self.ek_GeV_per_n = grid.ek_GeV_per_n  # energies of this operator (a window: a slice)
        self.energy_offset = 0
        self.catastrophic_rate_per_s = interior_field(setup.catastrophic_rate_per_s, grid,
                                                      "catastrophic_rate_per_s", layout)
        self.bands = energy_operator_bands(setup, layout)
        self.has_upward_coupling = bool(np.any(self.bands[:BAND_ZERO] != 0.0))
        diag = self.catastrophic_rate_per_s - self.bands[BAND_ZERO]
        minus_lap = (-self.laplacian_per_kpc2).tocsc()
        self._lu = []
        for k in tqdm(range(n_e), desc="factorise 2D blocks", disable=not self.progress, leave=False):
            block = (self.diffusion_kpc2_per_s[k] * minus_lap + sp.diags(diag[k])).tocsc()
            try:
                self._lu.append(spla.splu(block, permc_spec="MMD_AT_PLUS_A"))
            except RuntimeError as err:
                raise ValueError(
                    f"steady-state operator is singular at T = {grid.ek_GeV_per_n[k]:.4g} GeV/n "
                    f"(no escape, no catastrophic loss and no loss outflow there?): {err}"
                ) from None
        self.coarse = None
        if self.has_upward_coupling and n_modes_r > 0 and n_modes_z > 0:
            self.coarse = CoarseSpace(layout, self.diffusion_kpc2_per_s, diag, self.bands, n_modes_r, n_modes_z)
        self.iterations_last_solve = 0
        self.residual_last_solve = np.nan
        release_freed_heap()

    def _checked(self, array, name: str) -> np.ndarray:
        """``array`` as float, after checking it is (n_E, n_s) or (m, n_E, n_s) on this operator's unknowns."""
        array = np.asarray(array, dtype=float)
        expected = (len(self._lu), self.layout.n_unknowns)
        if array.ndim not in (2, 3) or array.shape[-2:] != expected:
            raise ValueError(f"{name} must have shape (n_E, n_s) = {expected} (or a batch of them) on the "
                             f"solver's unknowns, got {array.shape}; see SteadyStateSolver.to_unknowns")
        return array

    # --- full-grid arrays <-> the solver's unknowns ----------------------------------------
    def to_unknowns(self, full, name: str = "array") -> np.ndarray:
        """A full-grid array (n_E, n_r, n_z), or anything broadcastable to it, on the unknowns (n_E, n_s).

        A folded solver represents fields even in z only: an uneven ``full`` is an error.
        """
        full = np.asarray(full, dtype=float)
        full = np.broadcast_to(full[:, None, None] if full.ndim == 1 else full, self.grid.shape)
        if self.layout.folded and not field_is_mirror_symmetric(full):
            raise ValueError(f"{name} is not even in z, but the solver was folded at z = 0 "
                             "(build it with z_symmetric=False)")
        return self.layout.to_unknowns(full)

    def to_full(self, unknowns: np.ndarray) -> np.ndarray:
        """(n_E, n_s) on the unknowns -> (n_E, n_r, n_z), zero on the escape boundary."""
        return self.layout.to_full(unknowns)

    def observer_weights(self, r_kpc: float, z_kpc: float) -> np.ndarray:
        """Weights w on the unknowns with w . N = N(r, z) (bilinear) for every field N the solver holds."""
        return self.layout.observable_weights(self.grid.point_weights(r_kpc, z_kpc))

    def energy_window(self, start: int, stop: int) -> "SteadyStateSolver":
        """The same operator restricted to energies [start, stop), N = 0 outside.

        A principal submatrix of A: it shares the 2D factors and re-factorises only the
        (small) coarse problem. Used for adjoint rows whose response is negligible far from
        their output energy (:func:`galdiff.propagation.greens.sun_greens_matrix`).
        """
        if not 0 <= start < stop <= len(self._lu):
            raise ValueError(f"energy window [{start}, {stop}) outside [0, {len(self._lu)})")
        view = copy.copy(self)
        view._lu = self._lu[start:stop]
        view.bands = np.ascontiguousarray(self.bands[:, start:stop])
        view.diffusion_kpc2_per_s = self.diffusion_kpc2_per_s[start:stop]
        view.catastrophic_rate_per_s = self.catastrophic_rate_per_s[start:stop]
        view.has_upward_coupling = bool(np.any(view.bands[:BAND_ZERO] != 0.0))
        view.coarse = self.coarse.restricted(start, stop) if self.coarse is not None else None
        view.ek_GeV_per_n = self.ek_GeV_per_n[start:stop]
        view.energy_offset = self.energy_offset + start
        return view

    def _require_full_axis(self):
        if len(self._lu) != self.grid.ek_GeV_per_n.size:
            raise ValueError("this operator is an energy window: use solve_interior / apply")

    # --- operator ------------------------------------------------------------------------
    def _apply_batch(self, density: np.ndarray, transposed: bool) -> np.ndarray:
        return apply_operator(np.ascontiguousarray(density, dtype=float), self.diffusion_kpc2_per_s,
                              self.catastrophic_rate_per_s, self.bands, *self.layout.radial,
                              *self.layout.vertical, transposed)

    def apply(self, density: np.ndarray) -> np.ndarray:
        """A N for N of shape (n_E, n_s) (or a batch (m, n_E, n_s)) on the interior unknowns.

        Result in cm^-3 s^-1 (GeV/n)^-1 for N in cm^-3 (GeV/n)^-1.
        """
        density = self._checked(density, "density")
        return _unbatch(self._apply_batch(_batch(density), False), density)

    def apply_transposed(self, density: np.ndarray) -> np.ndarray:
        """A^T N (the adjoint operator), shape (n_E, n_s) or (m, n_E, n_s)."""
        density = self._checked(density, "density")
        return _unbatch(self._apply_batch(_batch(density), True), density)

    def _block_solve(self, k: int, block: np.ndarray, transposed: bool) -> np.ndarray:
        """B_k^-1 (or B_k^-T) applied to the rows of ``block`` (m, n_s), B_k the 2D block of A.

        B_k^T = W B_k W^-1 with W the cell volumes, so the transposed solve reuses the factors
        untransposed: SuperLU's forward solve gains ~1.5x per column from several columns at
        once (supernodal blocks), its transposed solve does not (benchmarks/RESULTS.md).
        """
        if transposed:
            volumes = self.cell_volumes_kpc3
            return self._lu[k].solve(np.ascontiguousarray((block / volumes).T)).T * volumes
        return self._lu[k].solve(np.ascontiguousarray(block.T)).T

    def _sweep_down(self, rhs: np.ndarray, transposed: bool = False) -> np.ndarray:
        """Block Gauss-Seidel sweep from the top energy down, for rhs of shape (m, n_E, n_s).

        Solves (B - U) x = rhs, U the couplings to higher energies (losses and the upper
        reacceleration band): the exact inverse of A when there is no reacceleration. With
        ``transposed``, solves (B - L)^T x = rhs instead, L the lower reacceleration band.
        Blocks whose right-hand side is zero (below an adjoint source, say) are skipped.
        """
        n_e = rhs.shape[1]
        out = np.zeros_like(rhs)
        offsets = (1, 2) if transposed else (1, 2, 3)
        for k in range(n_e - 1, -1, -1):
            block = rhs[:, k].copy()
            for o in offsets:
                if k + o < n_e:
                    coupling = self.bands[BAND_ZERO - o, k + o] if transposed else self.bands[BAND_ZERO + o, k]
                    block += coupling * out[:, k + o]
            if block.any():
                out[:, k] = self._block_solve(k, block, transposed)
        return out

    def _sweep_up(self, rhs: np.ndarray, transposed: bool = False) -> np.ndarray:
        """Block Gauss-Seidel sweep from the bottom energy up, for rhs of shape (m, n_E, n_s).

        Solves (B - L) x = rhs, or with ``transposed`` (B - U)^T x = rhs (the exact inverse of
        A^T without reacceleration).
        """
        n_e = rhs.shape[1]
        out = np.zeros_like(rhs)
        offsets = (1, 2, 3) if transposed else (1, 2)
        for k in range(n_e):
            block = rhs[:, k].copy()
            for o in offsets:
                if k - o >= 0:
                    coupling = self.bands[BAND_ZERO + o, k - o] if transposed else self.bands[BAND_ZERO - o, k]
                    block += coupling * out[:, k - o]
            if block.any():
                out[:, k] = self._block_solve(k, block, transposed)
        return out

    def _precondition(self, rhs: np.ndarray, transposed: bool = False) -> np.ndarray:
        """Multiplicative two-level preconditioner: down sweep, coarse correction, up sweep.

        rhs of shape (m, n_E, n_s). For A^T (``transposed``) the mirror image: up sweep, coarse
        correction, down sweep, all with transposed blocks. Without reacceleration the first
        sweep alone is the exact inverse. After it the residual is just the lower
        (reacceleration) band applied to x, which saves one application of A.
        """
        x, residual = self._precondition_first_half(rhs, transposed)
        del rhs  # freed now when the caller passed a temporary
        return self._precondition_second_half(x, residual, transposed)

    def _precondition_first_half(self, rhs: np.ndarray, transposed: bool = False):
        """First sweep and coarse correction of :meth:`_precondition`: (x, residual of x).

        x already has the preconditioned solution's support in energy (the coarse correction
        carries the energy coupling of the smooth modes over the whole axis), which is all an
        energy window's estimate needs (:func:`galdiff.propagation.greens._greens_rows`); the
        residual is None when there is no upward coupling (x is then the exact inverse).
        """
        first = self._sweep_up if transposed else self._sweep_down
        x = first(rhs, transposed)
        # every array here is as large as the batch (m n_E n_s floats, 26 MB for a Green's batch):
        # each is dropped as soon as it is used, so that a Green's worker holds few at a time
        del rhs
        if not self.has_upward_coupling:
            return x, None
        residual = apply_band_couplings(x, self.bands, LOWER_BAND_OFFSETS, transposed)
        if self.coarse is not None:
            correction = self.coarse.correct(residual, transposed)
            x += correction
            residual -= self._apply_batch(correction, transposed)
            del correction
        return x, residual

    def _precondition_second_half(self, x: np.ndarray, residual, transposed: bool = False) -> np.ndarray:
        """The last sweep of :meth:`_precondition` on the output of :meth:`_precondition_first_half`."""
        if residual is None:
            return x
        last = self._sweep_down if transposed else self._sweep_up
        x += last(residual, transposed)
        return x

    def _krylov(self, rhs: np.ndarray, adjoint: bool, energy_weights=None, floor: float = 1e-30,
                rtol: float | None = None, initial_guess: np.ndarray | None = None,
                preconditioned_rhs: np.ndarray | None = None) -> np.ndarray:
        """Solve A x = rhs (or A^T x = rhs) with energy-scaled, left-preconditioned GMRES.

        rhs of shape (m, n_E, n_s): every column is solved with its own GMRES
        (:func:`~galdiff.propagation.krylov.batched_gmres`), the preconditioner applied to the
        columns together. Each column's energies are divided by s_k = max(m_k, floor *
        max_j(m_j w_j) / w_k), m_k the largest |x| at energy k after one preconditioner
        application and w the ``energy_weights`` (default 1): energies whose weighted response
        is below ``floor`` of the largest are solved to that absolute level rather than to full
        relative accuracy.
        ``initial_guess`` (same shape as rhs; default: the
        preconditioned rhs) starts GMRES from a known approximation, e.g. the solution on a
        smaller energy window. ``preconditioned_rhs``, when given, must be exactly
        ``self._precondition(rhs, adjoint)`` (the caller computed it already; it is modified in
        place and saves one preconditioner application).
        """
        rtol = self.rtol if rtol is None else float(rtol)
        m, n_e, n_s = rhs.shape
        def precondition(block):
            return self._precondition(block, adjoint)

        first = precondition(rhs) if preconditioned_rhs is None else preconditioned_rhs
        del preconditioned_rhs
        if not self.has_upward_coupling:  # A is exactly the sweep's block-triangular matrix
            self.iterations_last_solve, self.residual_last_solve = 0, 0.0
            return first
        magnitude = np.maximum(first.max(axis=2), -first.min(axis=2))  # max |first| without a copy
        weights = np.ones(n_e) if energy_weights is None else np.asarray(energy_weights, dtype=float)
        peak = np.max(magnitude * weights, axis=1)
        scale = np.maximum(magnitude, floor * peak[:, None] / weights[None, :])
        scale[peak == 0.0] = 1.0  # a zero right-hand side: x = 0 is exact
        scale = scale[:, :, None]

        def scaled(block, columns):  # temporaries unnamed, so that each is freed when used
            out = precondition(self._apply_batch(block.reshape(columns.size, n_e, n_s) * scale[columns], adjoint))
            out /= scale[columns]
            return out.reshape(columns.size, -1)

        bar = tqdm(desc="GMRES", disable=not self.progress, leave=False)

        def callback(iteration, residual_norms):
            bar.update(1)
            bar.set_postfix(residual=f"{float(np.max(residual_norms)):.1e}")

        first /= scale
        target = first.reshape(m, -1)
        del first
        start = target if initial_guess is None else (initial_guess / scale).reshape(m, -1)
        restart = int(np.clip(KRYLOV_MEMORY_BYTES // (8 * target.size), 10, 40))
        solution, iterations, residual = batched_gmres(scaled, target, x0=start, rtol=rtol, restart=restart,
                                                       max_iterations=self.max_iterations, callback=callback,
                                                       verify_residual=self.verify_gmres_residual)
        del start
        bar.close()
        self.iterations_last_solve = int(iterations.max())
        self.residual_last_solve = float(residual.max())
        log.debug("%s solve of %d column(s): %s GMRES iterations, scaled residual %.2e",
                  "adjoint" if adjoint else "forward", m, iterations.tolist(), self.residual_last_solve)
        failed = (residual > 1e3 * rtol) | ((residual > rtol) & (iterations >= self.max_iterations))
        if np.any(failed):
            raise RuntimeError(
                f"steady-state solve did not converge: scaled residual {self.residual_last_solve:.2e} "
                f"after {self.iterations_last_solve} iterations (rtol {rtol:g})"
            )
        return solution.reshape(rhs.shape) * scale

    # --- public solves -------------------------------------------------------------------
    def solve_interior(self, source: np.ndarray) -> np.ndarray:
        """Solve A N = q on the interior unknowns; source and result of shape (n_E, n_s), or a
        batch of sources (m, n_E, n_s) solved together."""
        source = self._checked(source, "source")
        return _unbatch(self._krylov(np.ascontiguousarray(_batch(source)), adjoint=False), source)

    def solve_adjoint_interior(self, weights: np.ndarray, source_spectrum_ref=None,
                               floor: float = 1e-12, rtol: float | None = None,
                               initial_guess: np.ndarray | None = None,
                               preconditioned_rhs: np.ndarray | None = None) -> np.ndarray:
        """Solve A^T y = w on the interior unknowns, shape (n_E, n_s) or a batch (m, n_E, n_s).

        For an observable O = w . N (e.g. the density at the Sun at one energy), O = y . q for
        every source q: one adjoint solve gives the response to all sources.

        Parameters
        ----------
        weights : ndarray, shape (n_E, n_s)
        source_spectrum_ref : array_like, shape (n_E,), optional
            A typical source spectrum Q_ref (default T^-2). y_k is solved to relative accuracy
            where its contribution y_k Q_ref,k to O is above ``floor`` of the largest, and to
            that absolute level elsewhere (the adjoint of a low output energy falls by orders
            of magnitude per bin towards high injection energies, where relative accuracy is
            meaningless and would stall the iteration).
        floor : float
        rtol : float, optional
            GMRES tolerance for this solve (default: the solver's ``rtol``).
        initial_guess : ndarray, optional
            Approximate y, same shape as ``weights``, to start GMRES from (default: the
            preconditioned right-hand side); changes the iterations, not the tolerance.
        preconditioned_rhs : ndarray, optional
            The adjoint preconditioner applied to ``weights`` (same shape), when the caller has
            it already (:func:`galdiff.propagation.greens.sun_greens_matrix` estimates its
            energy windows from it): saves one preconditioner application; overwritten.
        """
        if source_spectrum_ref is None:
            source_spectrum_ref = self.ek_GeV_per_n ** -2.0
        weights = self._checked(weights, "weights")
        solution = self._krylov(np.ascontiguousarray(_batch(weights)), adjoint=True,
                                energy_weights=source_spectrum_ref, floor=floor, rtol=rtol,
                                initial_guess=None if initial_guess is None else _batch(self._checked(
                                    initial_guess, "initial_guess")),
                                preconditioned_rhs=None if preconditioned_rhs is None else _batch(self._checked(
                                    preconditioned_rhs, "preconditioned_rhs")))
        return _unbatch(solution, weights)

    def solve(self, source_per_cm3_s_GeV) -> np.ndarray:
        """Steady-state density for a source.

        Parameters
        ----------
        source_per_cm3_s_GeV : array_like
            q in cm^-3 s^-1 (GeV/n)^-1, shape (n_E, n_r, n_z) or broadcastable (values on the
            escape boundary are ignored).

        Returns
        -------
        ndarray, shape (n_E, n_r, n_z)
            N in cm^-3 (GeV/n)^-1, zero on the escape boundary.
        """
        self._require_full_axis()
        source = self.to_unknowns(_field(source_per_cm3_s_GeV, self.grid, "source"), "source")
        return self.to_full(self.solve_interior(source))

    def residual(self, density_full: np.ndarray, source_per_cm3_s_GeV) -> np.ndarray:
        """q - A N on the interior, (n_E, n_s): the steady-state equation's defect."""
        self._require_full_axis()
        source = self.to_unknowns(_field(source_per_cm3_s_GeV, self.grid, "source"), "source")
        return source - self.apply(self.to_unknowns(density_full, "density"))
