"""Cosmic-ray and unresolved-source spatial distributions (shapes, arbitrary normalisation).

* :func:`snr_distribution`: the paper's Eq. 2 (docs/paper.md, docs/galaxy_inputs.md#snr-distribution),
  f(R, z) = (R/r_sun)^1.25 exp(-3.56 (R - r_sun)/r_sun) exp(-|z|/z_s), r_sun = 8.3 kpc,
  z_s = 0.2 kpc. f(R_sun, 0) = 1; f -> 0 as R -> 0 (R^1.25); maximum at R = alpha r_sun/beta.
  Optional GALPROP-style cuts: f = 0 for R >= r_max (DRAGON2's ``Galprop`` model, the paper's
  exact form, uses r_max = 15 kpc: our default) and f frozen at its r_const value for
  r_const <= R < r_max (GALPROP ``source_parameters_4``; off by default).
* :func:`pulsar_distribution` and :data:`RADIAL_PROFILES`: the distributions of
  docs/galaxy_inputs.md#pulsar-distributions (default Lorimer et al. 2006), selectable by name.
* :func:`radial_integral_kpc2`, :func:`volume_integral_kpc3`, :func:`grid_volume_weights_kpc3`,
  :func:`normalise_on_grid`: normalisation helpers with the cylindrical volume element
  2 pi R dR dz.

3D use: every function is of the galactocentric cylinder radius R = sqrt(x^2 + y^2) and z.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import integrate

__all__ = [
    "PAPER_R_SUN_KPC",
    "snr_distribution",
    "snr_peak_radius_kpc",
    "RadialProfile",
    "RADIAL_PROFILES",
    "pulsar_distribution",
    "radial_profile",
    "radial_integral_kpc2",
    "volume_integral_kpc3",
    "grid_volume_weights_kpc3",
    "normalise_on_grid",
]

PAPER_R_SUN_KPC = 8.3


def _apply_radial_cuts(shape, radius, r_max_kpc, r_const_kpc, func_at):
    if r_const_kpc is not None:
        shape = np.where(radius >= r_const_kpc, func_at(r_const_kpc), shape)
    if r_max_kpc is not None:
        shape = np.where(radius >= r_max_kpc, 0.0, shape)
    return shape


def snr_distribution(radius_kpc, z_kpc, r_sun_kpc: float = PAPER_R_SUN_KPC, alpha: float = 1.25,
                     beta: float = 3.56, z_scale_kpc: float = 0.2, r_max_kpc: float | None = 15.0,
                     r_const_kpc: float | None = None):
    """SNR source distribution of the paper, Eq. 2 (dimensionless, 1 at (r_sun, 0)).

    f(R, z) = (R/r_sun)^alpha exp(-beta (R - r_sun)/r_sun) exp(-|z|/z_s) (docs/paper.md#eq-2-source-distribution;
    docs/galaxy_inputs.md#snr-distribution; GALPROP ``source_model = 1``; DRAGON2 ``Galprop``).

    Parameters
    ----------
    radius_kpc, z_kpc : array_like
        Galactocentric cylinder radius (>= 0) and height in kpc (broadcast together).
    r_sun_kpc : float
        Normalisation radius (paper: 8.3 kpc; GALPROP hard-codes 8.5).
    alpha, beta : float
        Shape parameters (paper: 1.25, 3.56).
    z_scale_kpc : float
        Exponential scale height z_s in kpc (paper: 0.2).
    r_max_kpc : float or None
        f = 0 for R >= r_max (default 15 kpc as DRAGON2's ``Galprop`` model; None for no cut).
    r_const_kpc : float or None
        If set, f(R >= r_const) = f(r_const) (GALPROP ``rconst``), still cut at r_max.

    Returns
    -------
    numpy.ndarray
        f(R, z); f(0, z) = 0 for alpha > 0.
    """
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    if np.any(r < 0):
        raise ValueError("radius_kpc must be >= 0")

    def radial(rad):
        return (rad / r_sun_kpc) ** alpha * np.exp(-beta * (rad - r_sun_kpc) / r_sun_kpc)

    shape = _apply_radial_cuts(radial(r), r, r_max_kpc, r_const_kpc, radial)
    return shape * np.exp(-np.abs(z) / z_scale_kpc)


def snr_peak_radius_kpc(r_sun_kpc: float = PAPER_R_SUN_KPC, alpha: float = 1.25, beta: float = 3.56) -> float:
    """Radius of the maximum of (R/r_sun)^alpha exp(-beta (R - r_sun)/r_sun): alpha r_sun/beta.

    Analytic (d ln f/dR = alpha/R - beta/r_sun = 0); docs/galaxy_inputs.md#snr-distribution (2.914 kpc for the paper).
    """
    return alpha * r_sun_kpc / beta


# ---- radial laws of docs/galaxy_inputs.md#pulsar-distributions (surface-density shapes, R in kpc) ----------------

def _power_exp(radius, exponent_a, exponent_b, r_sun, r_offset=0.0):
    x = radius + r_offset
    x_sun = r_sun + r_offset
    return (x / x_sun) ** exponent_a * np.exp(-exponent_b * (radius - r_sun) / x_sun)


def _ob_stars(radius, exponent_a, exponent_b, r_sun):
    return (radius / r_sun) ** exponent_a * np.exp(-exponent_b * radius / r_sun)


def _gaussian(radius, r_mean, sigma):
    return np.exp(-((radius - r_mean) ** 2) / (2.0 * sigma**2))


def _exponential(radius, r_scale):
    return np.exp(-radius / r_scale)


def _cosh_ratio(radius, r_core, r_sun):
    return np.cosh(r_sun / r_core) / np.cosh(radius / r_core)


@dataclass(frozen=True)
class RadialProfile:
    """A named radial surface-density law with its default parameters and reference.

    ``function(radius_kpc, **params)`` returns the dimensionless shape.
    """

    function: Callable
    params: dict = field(default_factory=dict)
    z_scale_kpc: float = 0.2
    reference: str = ""

    def __call__(self, radius_kpc, **overrides):
        params = {**self.params, **overrides}
        return self.function(np.asarray(radius_kpc, dtype=float), **params)


#: Registry of radial laws (docs/galaxy_inputs.md#pulsar-distributions). z_scale_kpc is the exponential scale height
#: used by default; 0.2 kpc is the GALPROP/DRAGON2 CR-source choice.
RADIAL_PROFILES: dict[str, RadialProfile] = {
    "lorimer2006": RadialProfile(
        _power_exp, {"exponent_a": 1.9, "exponent_b": 5.0, "r_sun": 8.5}, 0.2,
        "Lorimer et al. 2006, MNRAS 372, 777, Eq. 10: (R/R_sun)^B exp(-C (R - R_sun)/R_sun), B=1.9, C=5.0"),
    "yusifov_kucuk2004": RadialProfile(
        _power_exp, {"exponent_a": 1.64, "exponent_b": 4.01, "r_sun": 8.5, "r_offset": 0.55}, 0.2,
        "Yusifov & Kucuk 2004, A&A 422, 545, Eq. 15"),
    "faucher_giguere_kaspi2006_evolved": RadialProfile(
        _power_exp, {"exponent_a": 1.64, "exponent_b": 4.0, "r_sun": 8.5, "r_offset": 0.55}, 0.1,
        "Faucher-Giguere & Kaspi 2006 (ApJ 643, 332), DRAGON2 'GiguereKaspi' variant"),
    "faucher_giguere_kaspi2006_birth": RadialProfile(
        _gaussian, {"r_mean": 7.04, "sigma": 1.83}, 0.05,
        "Faucher-Giguere & Kaspi 2006, ApJ 643, 332 (birth distribution, gammapy FaucherKaspi2006)"),
    "yusifov_kucuk2004_ob": RadialProfile(
        _ob_stars, {"exponent_a": 4.0, "exponent_b": 6.8, "r_sun": 8.5}, 0.2,
        "Yusifov & Kucuk 2004, A&A 422, 545, Eq. 17 (OB stars)"),
    "case_bhattacharya1998": RadialProfile(
        _power_exp, {"exponent_a": 2.0, "exponent_b": 3.53, "r_sun": 8.5}, 0.2,
        "Case & Bhattacharya 1998, ApJ 504, 761 (SNR)"),
    "case_bhattacharya1996": RadialProfile(
        _power_exp, {"exponent_a": 1.69, "exponent_b": 3.33, "r_sun": 8.5}, 0.2,
        "Case & Bhattacharya 1996, A&AS 120, 437 (SNR; GALPROP source_model = 2)"),
    "green2015": RadialProfile(
        _power_exp, {"exponent_a": 1.09, "exponent_b": 3.87, "r_sun": 8.5}, 0.2,
        "Green 2015, MNRAS 454, 1517 (SNR; parameters from the literature, not from code)"),
    "paczynski1990": RadialProfile(
        _exponential, {"r_scale": 4.5}, 0.2, "Paczynski 1990 (NS birth), exp(-R/4.5 kpc)"),
    "taylor_manchester_lyne1993": RadialProfile(
        _cosh_ratio, {"r_core": 3.5, "r_sun": 8.5}, 0.2,
        "Taylor, Manchester & Lyne 1993 pulsars (GALPROP source_model = 3, R_sun = 8.5)"),
    "snr_paper": RadialProfile(
        _power_exp, {"exponent_a": 1.25, "exponent_b": 3.56, "r_sun": PAPER_R_SUN_KPC}, 0.2,
        "Paper Eq. 2 (SNR), r_sun = 8.3 kpc"),
}


def radial_profile(name: str) -> RadialProfile:
    """Look a radial law up by name with a clear error for unknown names."""
    try:
        return RADIAL_PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown source distribution {name!r}; expected one of {sorted(RADIAL_PROFILES)}") from None


def pulsar_distribution(radius_kpc, z_kpc, model: str = "lorimer2006", z_scale_kpc: float | None = None,
                        r_max_kpc: float | None = None, **params):
    """Spatial template of the unresolved (pulsar-like) sources: f(R) exp(-|z|/z_s).

    The radial laws are those of docs/galaxy_inputs.md#pulsar-distributions (registry :data:`RADIAL_PROFILES`);
    default Lorimer et al. 2006 (MNRAS 372, 777, Eq. 10; B = 1.9, C = 5.0, R_sun = 8.5 kpc) with
    an exponential z profile of scale 0.2 kpc (the GALPROP/DRAGON2 choice; state it in config).

    Parameters
    ----------
    radius_kpc, z_kpc : array_like
        Galactocentric cylinder radius and height in kpc.
    model : str
        Key of :data:`RADIAL_PROFILES`.
    z_scale_kpc : float or None
        Exponential scale height (None: the profile's default).
    r_max_kpc : float or None
        f = 0 for R >= r_max (DRAGON2 uses 15 kpc; default None = no cut).
    **params
        Overrides of the profile parameters (e.g. ``r_sun=8.3``).

    Returns
    -------
    numpy.ndarray
        Dimensionless shape.
    """
    profile = radial_profile(model)
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    h = profile.z_scale_kpc if z_scale_kpc is None else z_scale_kpc
    shape = profile(r, **params)
    if r_max_kpc is not None:
        shape = np.where(r >= r_max_kpc, 0.0, shape)
    return shape * np.exp(-np.abs(z) / h)


# ---- normalisation -------------------------------------------------------------------------------

def radial_integral_kpc2(radial_function: Callable, r_max_kpc: float, r_min_kpc: float = 0.0) -> float:
    """Integral of 2 pi R f(R) dR over [r_min, r_max] in kpc^2 (adaptive quadrature).

    ``radial_function(radius_kpc)`` must accept a float. docs/galaxy_inputs.md#source-distributions (volume
    element 2 pi R dR dz).
    """
    value, _ = integrate.quad(lambda rad: 2.0 * np.pi * rad * float(radial_function(rad)),
                              r_min_kpc, r_max_kpc, limit=200)
    return value


def volume_integral_kpc3(distribution: Callable, r_max_kpc: float, z_max_kpc: float) -> float:
    """Integral of f(R, z) 2 pi R dR dz over R in [0, r_max], |z| <= z_max, in kpc^3.

    ``distribution(radius_kpc, z_kpc)`` is a shape such as :func:`snr_distribution`.
    Uses adaptive 2D quadrature (z > 0 half doubled: all laws here are even in z).
    """
    value, _ = integrate.dblquad(
        lambda z, rad: 2.0 * np.pi * rad * float(distribution(rad, z)),
        0.0, r_max_kpc, 0.0, z_max_kpc, epsabs=1e-10, epsrel=1e-8)
    return 2.0 * value


def grid_volume_weights_kpc3(radius_kpc, z_kpc):
    """Cell volumes 2 pi R dR dz (kpc^3) of a 2D (R, z) node grid, shape (n_r, n_z).

    Nodes are cell centres of cells bounded by the mid-points between nodes; the first R cell
    starts at max(0, R_0 - dR/2) (an axis node at R = 0 owns the disc [0, dR/2]) and the outer
    cells extend half a step beyond the end nodes. Exact for the volume of the cylinder covered.
    """
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)

    def edges(nodes):
        mid = 0.5 * (nodes[1:] + nodes[:-1])
        return np.concatenate(([nodes[0] - (mid[0] - nodes[0])], mid, [nodes[-1] + (nodes[-1] - mid[-1])]))

    r_edges = np.maximum(edges(r), 0.0)
    z_edges = edges(z)
    ring_area = np.pi * (r_edges[1:] ** 2 - r_edges[:-1] ** 2)
    return ring_area[:, None] * np.diff(z_edges)[None, :]


def normalise_on_grid(values, radius_kpc, z_kpc, total: float = 1.0):
    """Scale a source array on an (R, z) grid so that sum(values x 2 pi R dR dz) = total.

    Parameters
    ----------
    values : array_like, shape (n_r, n_z)
    radius_kpc, z_kpc : 1D arrays of node positions (kpc)
    total : float
        Desired volume integral (e.g. 1 to get a probability density in kpc^-3).

    Returns
    -------
    numpy.ndarray
        ``values`` times a constant, in units of ``total`` per kpc^3.
    """
    arr = np.asarray(values, dtype=float)
    weights = grid_volume_weights_kpc3(radius_kpc, z_kpc)
    integral = float(np.sum(arr * weights))
    if not integral > 0:
        raise ValueError("source distribution integrates to zero on this grid")
    return arr * (total / integral)
