"""Gamma-gamma pair production (Breit-Wheeler) and absorption of gamma rays on isotropic photon fields.

Formulas: docs/emission.md#pair-absorption (Breit & Wheeler 1934;
Gould & Schreder 1967; the isotropic average as in Vernetto & Lipari 2016). Photon fields are
plain arrays: a differential number density n(eps) in cm^-3 eV^-1 on a target-energy grid
eps in eV (for example the CMB from :func:`galdiff.interactions.inverse_compton.planck_photon_density`
or an ISRF converted from the GALPROP file).

Conventions
-----------
* ``s`` is the dimensionless invariant s = E eps (1 - cos theta) / (2 (m_e c^2)^2); threshold s = 1.
* ``kappa`` is the absorption coefficient (inverse mean free path) in cm^-1 or kpc^-1.
* The optical depth over a path of length L through a uniform field is tau = kappa L; along a
  line of sight tau(E, s) = integral_0^s kappa(E, x(s')) ds' (observer at s = 0).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from galdiff.units import KPC_CM, M_E_GEV, SIGMA_T_CM2

M_E_EV = M_E_GEV * 1e9

__all__ = [
    "breit_wheeler_cross_section_cm2",
    "isotropic_pair_integral",
    "absorption_coefficient_per_cm",
    "absorption_coefficient_per_kpc",
    "optical_depth_uniform",
    "optical_depth_along_path",
]


def breit_wheeler_cross_section_cm2(s):
    """Breit-Wheeler pair-production cross section sigma_gg(s) in cm^2.

    Parameters
    ----------
    s : array_like
        Dimensionless invariant s = E eps (1 - cos theta) / (2 (m_e c^2)^2); s = 1 is threshold.

    Returns
    -------
    ndarray
        sigma(s) = (3 sigma_T / 16) (1 - beta^2) [2 beta (beta^2 - 2) + (3 - beta^4) ln((1+beta)/(1-beta))],
        beta = sqrt(1 - 1/s); zero for s <= 1. Maximum 0.2556 sigma_T at s = 1.97.

    References
    ----------
    docs/emission.md#pair-absorption (Breit & Wheeler 1934).
    """
    s_arr = np.asarray(s, dtype=float)
    out = np.zeros_like(s_arr)
    above = s_arr > 1.0
    inv_s = 1.0 / s_arr[above]
    beta = np.sqrt(1.0 - inv_s)
    # 1 - beta^2 = 1/s, so (1+beta)/(1-beta) = (1+beta)^2 s: no cancellation as beta -> 1
    log_term = 2.0 * np.log1p(beta) + np.log(s_arr[above])
    out[above] = (
        3.0 * SIGMA_T_CM2 / 16.0 * inv_s
        * (2.0 * beta * (beta**2 - 2.0) + (3.0 - beta**4) * log_term)
    )
    return out


@lru_cache(maxsize=1)
def _pair_integral_table():
    """Cumulative Phi(s0) = int_1^{s0} s sigma(s) ds / sigma_T on a fine grid in ln(s0 - 1).

    The substitution s = 1 + u resolves the sqrt threshold; u runs over 1e-8 .. 1e12 with 400
    points per decade and a trapezoid rule in ln u (relative accuracy ~1e-6).
    """
    ln_u = np.linspace(np.log(1e-8), np.log(1e12), 400 * 20 + 1)
    u = np.exp(ln_u)
    s = 1.0 + u
    integrand = s * breit_wheeler_cross_section_cm2(s) / SIGMA_T_CM2 * u  # ds = u d ln u
    increments = 0.5 * (integrand[1:] + integrand[:-1]) * np.diff(ln_u)
    # below u = 1e-8 the integrand ~ s sigma ~ sqrt(u): int_0^u0 ~ (2/3) u0 f(u0)
    phi0 = (2.0 / 3.0) * integrand[0]
    phi = phi0 + np.concatenate(([0.0], np.cumsum(increments)))
    return np.log(s), phi


def isotropic_pair_integral(s0):
    """Dimensionless Phi(s0) = (1/sigma_T) int_1^{s0} s sigma(s) ds (zero for s0 <= 1).

    Parameters
    ----------
    s0 : array_like
        s0 = E eps / (m_e c^2)^2, the head-on (maximum) value of s for a gamma ray of energy E and a
        target photon eps.

    Returns
    -------
    ndarray
        Phi(s0) in units of sigma_T. The angle-averaged cross section on an isotropic field is
        sigma_bar(E, eps) = 2 sigma_T Phi(s0) / s0^2 (docs/emission.md#pair-absorption).
    """
    s0_arr = np.asarray(s0, dtype=float)
    ln_s_tab, phi_tab = _pair_integral_table()
    out = np.zeros_like(s0_arr)
    above = s0_arr > 1.0
    ln_s0 = np.log(s0_arr[above])
    if np.any(ln_s0 > ln_s_tab[-1]):
        raise ValueError("s0 beyond the tabulated range (1e12); extend the table")
    out[above] = np.interp(ln_s0, ln_s_tab, phi_tab)
    return out


def absorption_coefficient_per_cm(gamma_energy_GeV, target_energy_eV, photon_density_per_cm3_eV):
    """Absorption coefficient kappa(E) = 1/lambda of gamma rays on an isotropic photon field.

    kappa(E) = int d eps n(eps) (2 sigma_T / s0^2) Phi(s0),  s0 = E eps / (m_e c^2)^2
    (docs/emission.md#pair-absorption: the isotropic average
    (1/2) int d mu (1 - mu) sigma(s), with the factor 1/2).

    Parameters
    ----------
    gamma_energy_GeV : array_like, shape (n_E,)
        Gamma-ray energies E in GeV.
    target_energy_eV : array_like, shape (n_eps,)
        Target-photon energy grid eps in eV, increasing (logarithmic spacing recommended,
        >= 20 points per decade; the integral is a trapezoid in ln eps).
    photon_density_per_cm3_eV : array_like, shape (n_eps,) or (n_eps, n_cells)
        Differential photon number density n(eps) in cm^-3 eV^-1, one column per cell.

    Returns
    -------
    ndarray, shape (n_E,) or (n_E, n_cells)
        kappa in cm^-1.
    """
    e_gamma_eV = np.atleast_1d(np.asarray(gamma_energy_GeV, dtype=float)) * 1e9
    eps = np.asarray(target_energy_eV, dtype=float)
    density = np.asarray(photon_density_per_cm3_eV, dtype=float)
    s0 = np.outer(e_gamma_eV, eps) / M_E_EV**2
    sigma_bar = 2.0 * SIGMA_T_CM2 * isotropic_pair_integral(s0) / np.maximum(s0, 1e-300) ** 2
    ln_eps = np.log(eps)
    weights = np.zeros_like(eps)
    d_ln = np.diff(ln_eps)
    weights[:-1] += 0.5 * d_ln
    weights[1:] += 0.5 * d_ln
    weights *= eps  # d eps = eps d ln eps
    kernel = sigma_bar * weights[None, :]  # (n_E, n_eps), cm^2 eV
    kappa = kernel @ density
    if np.ndim(gamma_energy_GeV) == 0:
        return kappa[0]
    return kappa


def absorption_coefficient_per_kpc(gamma_energy_GeV, target_energy_eV, photon_density_per_cm3_eV):
    """As :func:`absorption_coefficient_per_cm`, in kpc^-1 (1 kpc = 3.085678e21 cm)."""
    return (
        absorption_coefficient_per_cm(gamma_energy_GeV, target_energy_eV, photon_density_per_cm3_eV)
        * KPC_CM
    )


def optical_depth_uniform(gamma_energy_GeV, target_energy_eV, photon_density_per_cm3_eV, path_length_kpc):
    """Optical depth tau = kappa(E) L through a uniform isotropic field over a path L in kpc.

    Parameters
    ----------
    gamma_energy_GeV, target_energy_eV, photon_density_per_cm3_eV
        As in :func:`absorption_coefficient_per_cm`.
    path_length_kpc : float
        Path length L in kpc.

    Returns
    -------
    ndarray
        Dimensionless tau; the surviving fraction is exp(-tau) (docs/emission.md#pair-absorption:
        tau_CMB(1 PeV, 8.5 kpc) = 0.950).
    """
    return (
        absorption_coefficient_per_kpc(gamma_energy_GeV, target_energy_eV, photon_density_per_cm3_eV)
        * path_length_kpc
    )


def optical_depth_along_path(absorption_per_kpc, distance_kpc):
    """Cumulative optical depth tau(E, s) = int_0^s kappa(E, s') ds' along a line of sight.

    Trapezoid rule on the given points (docs/emission.md#pair-absorption: observer at s = 0; the
    emission at distance s is attenuated by exp(-tau(E, s))).

    Parameters
    ----------
    absorption_per_kpc : array_like, shape (..., n_s)
        kappa at the points of the path, in kpc^-1 (leading axes e.g. energy, pixel).
    distance_kpc : array_like, shape (n_s,)
        Distances from the observer in kpc, increasing; the first is usually 0.

    Returns
    -------
    ndarray, shape (..., n_s)
        tau at each point (tau = kappa(s_0) s_0 at the first point, assuming kappa constant
        between the observer and s_0).
    """
    kappa = np.asarray(absorption_per_kpc, dtype=float)
    s = np.asarray(distance_kpc, dtype=float)
    steps = np.diff(s)
    increments = 0.5 * (kappa[..., 1:] + kappa[..., :-1]) * steps
    first = kappa[..., :1] * s[0]
    return np.concatenate([first, first + np.cumsum(increments, axis=-1)], axis=-1)
