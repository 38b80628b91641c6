"""Line-of-sight geometry: the observer, the model volume, HEALPix directions and the LOS steps.

Frame (docs/emission.md#sky-geometry, GALPROP convention): galactocentric Cartesian (x, y, z) in kpc,
right-handed, z towards the north Galactic pole, the Sun at (x, y, z) = (+r_sun, 0, z_sun). A point
at heliocentric distance s in direction (l, b) is

    x = r_sun - s cos b cos l,   y = -s cos b sin l,   z = z_sun + s sin b.

The model volume is the cylinder r <= r_max, |z| <= z_max (the CR halo, Table I: z_h = 6.3 kpc).
Each line of sight runs from the observer (s = 0) to where it leaves the cylinder.

Sampling: every line of sight is cut into segments at the distance-shell edges (used for pair
absorption, :mod:`galdiff.skymaps.operator`) and at its exit distance; each segment is divided into
equal steps no longer than ``min(step_max_kpc, step_z_max_kpc / |sin b|)`` and sampled at the step
midpoints (midpoint rule). The vertical cap resolves thin gas layers at high latitude; the
along-the-ray cap resolves radial structure in the plane (docs/emission.md#sky-geometry: "Delta s <=
0.1 h_gas/|sin b| with a 10-50 pc cap").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import healpy as hp
import numpy as np
from numba import njit, prange


@dataclass(frozen=True)
class LineOfSightGeometry:
    """Observer position, model volume and step control for line-of-sight integration.

    Attributes
    ----------
    r_sun_kpc : float
        Galactocentric radius of the Sun in kpc (paper, Eq. 2: 8.3 kpc).
    z_sun_kpc : float
        Height of the Sun above the plane in kpc (GALPROP 2D default 0; measured ~0.02).
    r_max_kpc : float
        Radius of the model cylinder in kpc; the line of sight stops there.
    z_max_kpc : float
        Half-height of the model cylinder in kpc (the CR halo, Table I: 6.3 kpc).
    step_max_kpc : float
        Largest step along the line of sight in kpc (in-plane cap).
    step_z_max_kpc : float
        Largest vertical extent of a step in kpc: the step is at most ``step_z_max_kpc/|sin b|``.
    shell_edges_kpc : tuple of float
        Interior distance-shell edges (heliocentric distance in kpc, increasing, > 0). Steps are
        aligned to them so that each step lies in exactly one shell; empty means one shell
        (no absorption binning).
    """

    r_sun_kpc: float = 8.3
    z_sun_kpc: float = 0.0
    r_max_kpc: float = 20.0
    z_max_kpc: float = 6.3
    step_max_kpc: float = 0.05
    step_z_max_kpc: float = 0.01
    shell_edges_kpc: tuple = field(default_factory=tuple)

    def __post_init__(self):
        edges = tuple(float(e) for e in self.shell_edges_kpc)
        object.__setattr__(self, "shell_edges_kpc", edges)
        for name in ("r_sun_kpc", "r_max_kpc", "z_max_kpc", "step_max_kpc", "step_z_max_kpc"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0.0) and not (name == "r_sun_kpc" and value == 0.0):
                raise ValueError(f"LineOfSightGeometry.{name} must be finite and > 0, got {value!r}")
        if not self.r_sun_kpc < self.r_max_kpc:
            raise ValueError(
                f"the observer (r_sun_kpc={self.r_sun_kpc}) must lie inside the cylinder "
                f"(r_max_kpc={self.r_max_kpc})"
            )
        if not abs(self.z_sun_kpc) < self.z_max_kpc:
            raise ValueError(
                f"the observer (z_sun_kpc={self.z_sun_kpc}) must lie inside the cylinder "
                f"(z_max_kpc={self.z_max_kpc})"
            )
        if any(e <= 0.0 for e in edges) or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(
                f"LineOfSightGeometry.shell_edges_kpc must be increasing and > 0, got {edges!r}"
            )

    @property
    def n_shells(self) -> int:
        """Number of distance shells (interior edges + 1)."""
        return len(self.shell_edges_kpc) + 1

    def with_steps_scaled(self, factor: float) -> "LineOfSightGeometry":
        """The same geometry with both step caps multiplied by ``factor`` (0.5 halves the steps)."""
        return LineOfSightGeometry(
            **{
                **asdict(self),
                "step_max_kpc": self.step_max_kpc * factor,
                "step_z_max_kpc": self.step_z_max_kpc * factor,
            }
        )

    def as_dict(self) -> dict:
        """Plain dict (for FITS headers / provenance)."""
        return asdict(self)


def default_shell_edges_kpc() -> tuple:
    """Recommended interior distance-shell edges for pair absorption, kpc (27 edges, 28 shells).

    1 kpc wide out to 20 kpc, then 2.5 kpc to 30 kpc, then 5 kpc to 45 kpc (longer paths need
    r_max > 20 kpc). With the largest absorption coefficient of the CMB (1/7.07 kpc at 2.2 PeV,
    docs/emission.md#pair-absorption) the optical depth across a 1 kpc shell is at most 0.14, so the shell
    attenuation (:mod:`galdiff.skymaps.operator`) is good to ~1e-3 even for a thin emitting
    layer (d_tau^2/24); the 2.5 kpc shells beyond 20 kpc only see the far outer Galaxy.
    Measured against the exact direct integration: 5.5e-4 (benchmarks/RESULTS.md).
    """
    return tuple(np.arange(1.0, 20.0 + 0.5, 1.0)) + (22.5, 25.0, 27.5, 30.0, 35.0, 40.0, 45.0)


def healpix_directions(nside: int, pixels: np.ndarray | None = None):
    """Galactic directions of HEALPix pixel centres (RING ordering).

    Parameters
    ----------
    nside : int
        HEALPix N_side.
    pixels : ndarray of int, optional
        RING pixel indices; all ``12 nside^2`` pixels by default.

    Returns
    -------
    l_rad, b_rad : ndarray
        Galactic longitude and latitude in radians.
    """
    if pixels is None:
        pixels = np.arange(hp.nside2npix(nside))
    l_deg, b_deg = hp.pix2ang(nside, np.asarray(pixels), nest=False, lonlat=True)
    return np.deg2rad(l_deg), np.deg2rad(b_deg)


def direction_cosines(l_rad, b_rad):
    """Unit vectors (dx, dy, dz) of lines of sight in the galactocentric frame (Sun at +x).

    Parameters
    ----------
    l_rad, b_rad : array_like
        Galactic longitude and latitude in radians.

    Returns
    -------
    dx, dy, dz : ndarray
        ``(-cos b cos l, -cos b sin l, sin b)`` (docs/emission.md#sky-geometry).
    """
    l_rad = np.asarray(l_rad, dtype=float)
    b_rad = np.asarray(b_rad, dtype=float)
    cos_b = np.cos(b_rad)
    return -cos_b * np.cos(l_rad), -cos_b * np.sin(l_rad), np.sin(b_rad)


@njit(cache=True)
def _exit_distance_kpc(x0, y0, z0, dx, dy, dz, r_max_kpc, z_max_kpc):
    """Distance from (x0, y0, z0) along the unit vector (dx, dy, dz) to the cylinder boundary."""
    s_exit = np.inf
    a = dx * dx + dy * dy
    if a > 0.0:
        half_b = x0 * dx + y0 * dy
        c = x0 * x0 + y0 * y0 - r_max_kpc * r_max_kpc
        disc = half_b * half_b - a * c
        if disc < 0.0:
            disc = 0.0
        s_exit = (-half_b + math.sqrt(disc)) / a
    if dz > 0.0:
        s_exit = min(s_exit, (z_max_kpc - z0) / dz)
    elif dz < 0.0:
        s_exit = min(s_exit, (-z_max_kpc - z0) / dz)
    return s_exit


@njit(cache=True)
def _segment_step_count(length_kpc, step_kpc):
    """Number of equal steps (>= 1) of at most ``step_kpc`` covering ``length_kpc``."""
    n = int(math.ceil(length_kpc / step_kpc * (1.0 - 1e-12)))
    return max(n, 1)


@njit(cache=True)
def _pixel_step_kpc(dz, step_max_kpc, step_z_max_kpc):
    abs_dz = abs(dz)
    if abs_dz * step_max_kpc > step_z_max_kpc:
        return step_z_max_kpc / abs_dz
    return step_max_kpc


@njit(cache=True, parallel=True)
def _count_steps(dx, dy, dz, x0, y0, z0, r_max_kpc, z_max_kpc, step_max_kpc, step_z_max_kpc, shell_edges_kpc):
    """Exit distance and number of LOS steps of each pixel (see module docstring)."""
    n_pix = dx.shape[0]
    n_steps = np.zeros(n_pix, dtype=np.int64)
    s_exit_kpc = np.zeros(n_pix)
    for p in prange(n_pix):
        s_end = _exit_distance_kpc(x0, y0, z0, dx[p], dy[p], dz[p], r_max_kpc, z_max_kpc)
        s_exit_kpc[p] = s_end
        step = _pixel_step_kpc(dz[p], step_max_kpc, step_z_max_kpc)
        count = 0
        s_lo = 0.0
        for k in range(shell_edges_kpc.shape[0] + 1):
            s_hi = shell_edges_kpc[k] if k < shell_edges_kpc.shape[0] else np.inf
            if s_hi > s_end:
                s_hi = s_end
            if s_hi > s_lo:
                count += _segment_step_count(s_hi - s_lo, step)
            s_lo = s_hi
            if s_lo >= s_end:
                break
        n_steps[p] = count
    return n_steps, s_exit_kpc


@njit(cache=True, parallel=True)
def _fill_steps(dx, dy, dz, x0, y0, z0, s_exit_kpc, step_offsets, step_max_kpc, step_z_max_kpc, shell_edges_kpc):
    """Midpoints (x, y, z) in kpc, step lengths ds and distances s in kpc, shell index of every LOS step.

    ``step_offsets`` (n_pix + 1) is the cumulative step count of the pixels; outputs are flat.
    """
    n_pix = dx.shape[0]
    n_total = step_offsets[n_pix]
    x = np.empty(n_total)
    y = np.empty(n_total)
    z = np.empty(n_total)
    ds_kpc = np.empty(n_total)
    s_kpc = np.empty(n_total)
    shell = np.empty(n_total, dtype=np.int32)
    for p in prange(n_pix):
        s_end = s_exit_kpc[p]
        step = _pixel_step_kpc(dz[p], step_max_kpc, step_z_max_kpc)
        i = step_offsets[p]
        s_lo = 0.0
        for k in range(shell_edges_kpc.shape[0] + 1):
            s_hi = shell_edges_kpc[k] if k < shell_edges_kpc.shape[0] else np.inf
            if s_hi > s_end:
                s_hi = s_end
            if s_hi > s_lo:
                n_seg = _segment_step_count(s_hi - s_lo, step)
                ds = (s_hi - s_lo) / n_seg
                for j in range(n_seg):
                    s_mid = s_lo + (j + 0.5) * ds
                    x[i] = x0 + s_mid * dx[p]
                    y[i] = y0 + s_mid * dy[p]
                    z[i] = z0 + s_mid * dz[p]
                    ds_kpc[i] = ds
                    s_kpc[i] = s_mid
                    shell[i] = k
                    i += 1
            s_lo = s_hi
            if s_lo >= s_end:
                break
    return x, y, z, ds_kpc, s_kpc, shell


@dataclass
class LineOfSightSteps:
    """Flat arrays of the LOS sample points of a set of pixels.

    Attributes
    ----------
    x_kpc, y_kpc, z_kpc : ndarray, shape (n_steps_total,)
        Galactocentric Cartesian coordinates of the step midpoints.
    ds_kpc : ndarray, shape (n_steps_total,)
        Step lengths in kpc.
    s_kpc : ndarray, shape (n_steps_total,)
        Heliocentric distance of each step midpoint in kpc.
    shell : ndarray of int32, shape (n_steps_total,)
        Distance-shell index of each step (non-decreasing along each line of sight).
    step_offsets : ndarray of int64, shape (n_pix + 1,)
        Steps of pixel p are ``step_offsets[p]:step_offsets[p + 1]``.
    s_exit_kpc : ndarray, shape (n_pix,)
        Distance from the observer to the cylinder boundary along each line of sight.
    """

    x_kpc: np.ndarray
    y_kpc: np.ndarray
    z_kpc: np.ndarray
    ds_kpc: np.ndarray
    s_kpc: np.ndarray
    shell: np.ndarray
    step_offsets: np.ndarray
    s_exit_kpc: np.ndarray

    @property
    def r_kpc(self) -> np.ndarray:
        """Galactocentric cylindrical radius of each step midpoint."""
        return np.hypot(self.x_kpc, self.y_kpc)


def _direction_arrays(l_rad, b_rad):
    dx, dy, dz = direction_cosines(l_rad, b_rad)
    return np.ascontiguousarray(dx), np.ascontiguousarray(dy), np.ascontiguousarray(dz)


def count_steps(l_rad, b_rad, geometry: LineOfSightGeometry):
    """Number of LOS steps and exit distance (kpc) for each direction; shapes (n_pix,)."""
    dx, dy, dz = _direction_arrays(l_rad, b_rad)
    return _count_steps(
        dx, dy, dz, geometry.r_sun_kpc, 0.0, geometry.z_sun_kpc, geometry.r_max_kpc, geometry.z_max_kpc,
        geometry.step_max_kpc, geometry.step_z_max_kpc, np.asarray(geometry.shell_edges_kpc, dtype=float),
    )


def sample_lines_of_sight(l_rad, b_rad, geometry: LineOfSightGeometry) -> LineOfSightSteps:
    """All LOS step midpoints for the given directions (Numba, parallel over pixels).

    Parameters
    ----------
    l_rad, b_rad : ndarray, shape (n_pix,)
        Galactic longitude and latitude in radians.
    geometry : LineOfSightGeometry

    Returns
    -------
    LineOfSightSteps
    """
    dx, dy, dz = _direction_arrays(l_rad, b_rad)
    edges = np.asarray(geometry.shell_edges_kpc, dtype=float)
    x0, y0, z0 = geometry.r_sun_kpc, 0.0, geometry.z_sun_kpc
    n_steps, s_exit = _count_steps(
        dx, dy, dz, x0, y0, z0, geometry.r_max_kpc, geometry.z_max_kpc,
        geometry.step_max_kpc, geometry.step_z_max_kpc, edges,
    )
    offsets = np.zeros(n_steps.shape[0] + 1, dtype=np.int64)
    np.cumsum(n_steps, out=offsets[1:])
    x, y, z, ds, s, shell = _fill_steps(
        dx, dy, dz, x0, y0, z0, s_exit, offsets, geometry.step_max_kpc, geometry.step_z_max_kpc, edges
    )
    return LineOfSightSteps(x, y, z, ds, s, shell, offsets, s_exit)


def exit_distance_kpc(l_rad, b_rad, geometry: LineOfSightGeometry) -> np.ndarray:
    """Distance (kpc) from the observer to the boundary of the model cylinder along (l, b).

    Parameters
    ----------
    l_rad, b_rad : array_like
        Galactic longitude and latitude in radians.
    geometry : LineOfSightGeometry

    Returns
    -------
    ndarray
        Exit distances in kpc, one per direction.
    """
    return count_steps(np.atleast_1d(l_rad), np.atleast_1d(b_rad), geometry)[1]
