"""Slow, obvious NumPy line-of-sight integration: the reference the Numba kernels are tested against.

One Python loop over pixels; per pixel the steps are built with NumPy, the emissivity is
interpolated with :class:`scipy.interpolate.RegularGridInterpolator` (bilinear, zero outside the grid)
and the optical depth is a cumulative sum. The step layout (segments cut at the distance-shell
edges and at the cylinder exit, equal steps no longer than min(step_max, step_z_max/|sin b|),
midpoints) is re-implemented here from the description in :mod:`galdiff.skymaps.geometry`.
Use only for a few hundred pixels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from ..units import KPC_CM
from .geometry import LineOfSightGeometry
from .operator import RZGrid, evaluate_gas_density_cm3


def reference_exit_distance_kpc(l_rad: float, b_rad: float, geometry: LineOfSightGeometry) -> float:
    """Distance to the cylinder boundary by solving the ray-cylinder and ray-plane equations."""
    dx, dy, dz = -math.cos(b_rad) * math.cos(l_rad), -math.cos(b_rad) * math.sin(l_rad), math.sin(b_rad)
    x0, y0, z0 = geometry.r_sun_kpc, 0.0, geometry.z_sun_kpc
    candidates = []
    a = dx * dx + dy * dy
    if a > 0:
        roots = np.roots([a, 2.0 * (x0 * dx + y0 * dy), x0 * x0 + y0 * y0 - geometry.r_max_kpc**2])
        candidates.append(float(np.max(roots.real)))
    if dz != 0:
        candidates.append(((geometry.z_max_kpc if dz > 0 else -geometry.z_max_kpc) - z0) / dz)
    return min(candidates)


def reference_steps(l_rad: float, b_rad: float, geometry: LineOfSightGeometry):
    """Step midpoints s (kpc) and lengths ds (kpc) of one line of sight."""
    s_exit = reference_exit_distance_kpc(l_rad, b_rad, geometry)
    sin_b = abs(math.sin(b_rad))
    step = geometry.step_max_kpc
    if sin_b * geometry.step_max_kpc > geometry.step_z_max_kpc:
        step = geometry.step_z_max_kpc / sin_b
    bounds = [0.0] + [e for e in geometry.shell_edges_kpc if e < s_exit] + [s_exit]
    s_parts, ds_parts = [], []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        n = max(int(math.ceil((hi - lo) / step * (1.0 - 1e-12))), 1)
        ds = (hi - lo) / n
        s_parts.append(lo + (np.arange(n) + 0.5) * ds)
        ds_parts.append(np.full(n, ds))
    return np.concatenate(s_parts), np.concatenate(ds_parts)


def reference_intensity(l_rad, b_rad, grid: RZGrid, emissivity_per_sr, geometry: LineOfSightGeometry,
                        gas_density_cm3=None, gas_coordinates: str = "xyz", kappa_per_kpc=None):
    """Intensity (n_E, n_pix) in GeV^-1 cm^-2 s^-1 sr^-1 by a per-pixel NumPy loop.

    Parameters as in :func:`galdiff.skymaps.operator.integrate_los_direct`, but directions are
    given explicitly (``l_rad``, ``b_rad``: arrays of Galactic longitude and latitude in radians).
    Absorption uses exp(-tau) at each step midpoint.
    """
    emissivity = np.asarray(emissivity_per_sr, dtype=float)
    if emissivity.ndim == 2:
        emissivity = emissivity[:, :, None]
    interp_emis = RegularGridInterpolator((grid.r_kpc, grid.z_kpc), emissivity, bounds_error=False, fill_value=0.0)
    kappa = None if kappa_per_kpc is None else np.asarray(kappa_per_kpc, dtype=float)
    interp_kappa = None
    if kappa is not None and kappa.ndim == 3:
        interp_kappa = RegularGridInterpolator((grid.r_kpc, grid.z_kpc), kappa, bounds_error=False, fill_value=0.0)
    l_rad = np.atleast_1d(l_rad)
    b_rad = np.atleast_1d(b_rad)
    out = np.zeros((emissivity.shape[2], l_rad.size))
    for p in range(l_rad.size):
        s, ds = reference_steps(l_rad[p], b_rad[p], geometry)
        x = geometry.r_sun_kpc - s * math.cos(b_rad[p]) * math.cos(l_rad[p])
        y = -s * math.cos(b_rad[p]) * math.sin(l_rad[p])
        z = geometry.z_sun_kpc + s * math.sin(b_rad[p])
        points = np.column_stack([np.hypot(x, y), z])
        weight_cm = ds * KPC_CM
        if gas_density_cm3 is not None:
            weight_cm = weight_cm * evaluate_gas_density_cm3(gas_density_cm3, x, y, z, gas_coordinates)
        integrand = weight_cm[:, None] * interp_emis(points)
        if kappa is not None:
            kappa_steps = interp_kappa(points) if interp_kappa is not None else np.broadcast_to(kappa, integrand.shape)
            d_tau = kappa_steps * ds[:, None]
            tau_mid = np.cumsum(d_tau, axis=0) - 0.5 * d_tau
            integrand = integrand * np.exp(-tau_mid)
        out[:, p] = integrand.sum(axis=0)
    return out
