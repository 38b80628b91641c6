"""Continuous energy-loss rates b = -dE/dt of cosmic rays in the interstellar medium.

Formulas: GALPROP/galtoolslib ``processes/energy_losses.cc`` as restated in
docs/propagation.md#energy-losses, #inverse-compton-and-synchrotron-losses (Pages et al. 1972,
Atomic Data 4, 1; Blumenthal & Gould 1970, Rev. Mod. Phys. 42, 237; Jones 1965, Phys. Rev. 137,
B1306).

Conventions
-----------
* Every rate is a **positive** loss rate, in GeV s^-1.
* Electrons/positrons: ``ek_GeV`` is the kinetic energy T of the lepton; rates are dE/dt per
  particle (E and T change alike).
* Nuclei: ``ek_GeV_per_n`` is the kinetic energy per nucleon T_n; ``*_per_particle`` functions
  give dE/dt of the whole nucleus (GeV/s) and :func:`nucleus_loss_rates_GeV_per_n_per_s` gives
  dT_n/dt = (dE/dt)/A in GeV/n/s. The momentum loss rate GALPROP uses is
  dp/dt = (dE/dt)/beta (:func:`momentum_loss_rate_GeV_per_c_per_s`).
* Shapes: energies are 1D (n_energy,); every gas/field input is an array of any common shape S
  (one value per cell, e.g. (n_r, n_z); scalars allowed). Outputs have shape (n_energy,) + S
  (energy on the **first** axis, as the solver's (n_E, n_r, n_z) coefficient arrays).
  Photon spectra for inverse Compton have shape S + (n_eps,) on a 1D photon energy grid
  (n_eps,) (as returned by :meth:`galdiff.galaxy.isrf.ISRF.photon_field`).
* Gas: n_HI and n_HII in atoms cm^-3, n_H2 in molecules cm^-3 (as :mod:`galdiff.galaxy.gas`);
  neutral target n_n = n_HI + 2 n_H2, n_He = (He/H) n_n (GALPROP, He/H = 0.11), free
  electrons n_e = n_HII with T_e = 1e4 K.

Everything is vectorised NumPy: the Klein-Nishina inverse-Compton loss is a product
(cells x n_eps) @ (n_eps x n_energy) with a kernel that depends only on the energy grids, so a
whole (R, z) grid (41 x 127 cells x 200 energies, all electron and proton losses) takes ~0.4 s
and needs no Numba.

Example (2D grid, energy-first output as the solver wants it)::

    from galdiff.galaxy import gas, bfield, isrf
    R, Z = radius_kpc[:, None], z_kpc[None, :]
    n_hi, n_h2, n_hii = gas.n_hi_cm3(R, Z), gas.n_h2_cm3(R, Z), gas.n_hii_cm3(R, Z)
    u_b = bfield.magnetic_energy_density_eV_cm3(bfield.b_field_microG(R, Z))
    eps_eV, dn = isrf.read_isrf(path).photon_field(R, Z)          # (n_r, n_z, n_eps)
    b_e = electron_loss_rates_GeV_per_s(ek_GeV, n_hi, n_h2, n_hii, u_b, eps_eV, dn)["total"]
    b_p = nucleus_loss_rates_GeV_per_n_per_s(ek_GeV_per_n, PROTON, n_hi, n_h2, n_hii)["total"]
    # both (n_E, n_r, n_z)

Documented choices
------------------
* Nucleon ionisation counts the two electrons of each He atom (``he_target_electrons=2``, the
  physical value used for the docs/propagation.md#energy-losses table); GALPROP/DRAGON2 omit the
  factor 2 (``he_target_electrons=1`` reproduces them).
* Neutral-gas bremsstrahlung uses GALPROP's radiation lengths (62.8, 93.1 g cm^-2) by default;
  ``radiation_lengths="bg70"`` uses the Blumenthal & Gould phi(0) values (docs/propagation.md#energy-losses; 2-3 % higher).
* Inverse Compton: exact isotropic Klein-Nishina loss through f_KN(G) (docs/propagation.md#inverse-compton-and-synchrotron-losses), computed here from the Blumenthal & Gould kernel (docs/emission.md#inverse-compton) in the gamma >> 1
  limit, times (gamma^2 - 1) (GALPROP's Thomson normalisation).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..units import (
    ALPHA_FS,
    C_CM_PER_S,
    HBAR_C_EV_CM,
    K_B_EV_PER_K,
    M_E_GEV,
    R0_ELECTRON_CM,
    SIGMA_T_CM2,
    Species,
)

__all__ = [
    "ME_C2_EV",
    "THOMSON_LOSS_COEFF_CM3_PER_S",
    "klein_nishina_factor_mono",
    "inverse_compton_kernel",
    "inverse_compton_loss_rate_GeV_per_s",
    "synchrotron_loss_rate_GeV_per_s",
    "electron_ionisation_loss_rate_GeV_per_s",
    "electron_coulomb_loss_rate_GeV_per_s",
    "electron_bremsstrahlung_neutral_loss_rate_GeV_per_s",
    "electron_bremsstrahlung_ionised_loss_rate_GeV_per_s",
    "electron_loss_rates_GeV_per_s",
    "nucleus_ionisation_loss_rate_per_particle_GeV_per_s",
    "nucleus_coulomb_loss_rate_per_particle_GeV_per_s",
    "nucleus_loss_rates_GeV_per_n_per_s",
    "momentum_loss_rate_GeV_per_c_per_s",
]

ME_C2_EV = M_E_GEV * 1e9
#: 2 pi r_e^2 m_e c^2 c in eV cm^3 s^-1 (7.643e-9, docs/conventions.md#constants).
K_E_EV_CM3_PER_S = 2.0 * np.pi * R0_ELECTRON_CM**2 * ME_C2_EV * C_CM_PER_S
#: (4/3) sigma_T c in cm^3 s^-1 (2.6591e-14).
THOMSON_LOSS_COEFF_CM3_PER_S = 4.0 / 3.0 * SIGMA_T_CM2 * C_CM_PER_S
#: alpha r_e^2 c in cm^3 s^-1 (1.7373e-17).
ALPHA_R0SQ_C_CM3_PER_S = ALPHA_FS * R0_ELECTRON_CM**2 * C_CM_PER_S
EV_PER_GEV = 1e9

# GALPROP constants (docs/propagation.md#energy-losses)
I_H_NUCLEUS_EV, I_HE_NUCLEUS_EV = 19.0, 44.0
I_H_ELECTRON_EV, I_HE_ELECTRON_EV = 18.9, 42.0
MASS_H_G, MASS_HE_G = 1.67e-24, 4.0 * 1.66e-24
RADIATION_LENGTHS_G_CM2 = {
    "galprop": (62.8, 93.1),  # GALPROP / DRAGON2
    "bg70": (62.4, 84.5),     # Blumenthal & Gould phi(0) values (docs/propagation.md#energy-losses)
}
ELECTRON_TEMPERATURE_K = 1e4


# ---- helpers ----------------------------------------------------------------------------------------------

def _energy_1d(energy):
    e = np.atleast_1d(np.asarray(energy, dtype=float))
    if e.ndim != 1:
        raise ValueError("energies must be a 1D array (n_energy,)")
    if np.any(e <= 0):
        raise ValueError("kinetic energies must be > 0")
    return e


def _cells(density):
    return np.asarray(density, dtype=float)[..., None]


def _energy_first(rate):
    """Move the energy axis from last (internal layout) to first (public layout)."""
    return np.moveaxis(rate, -1, 0)


def _electron_kinematics(ek_GeV):
    t = _energy_1d(ek_GeV)
    gamma = 1.0 + t / M_E_GEV
    beta = np.sqrt(1.0 - 1.0 / gamma**2)
    return t, gamma, beta


# ---- Klein-Nishina factor ---------------------------------------------------------------------------------

def _f_mono_quadrature(recoil):
    """f(G) = 9 int_0^1 q F(q, G)/(1 + G q)^3 dq, composite Gauss-Legendre in ln q.

    Derived from the Blumenthal & Gould 1970 Eq. 2.48 kernel (docs/emission.md#inverse-compton):
    the scattered power E_g dN/dt dE_g integrated over E_g, divided by the Thomson loss
    (4/3) sigma_T c gamma^2 eps n, with E_g/(gamma m c^2) = G q/(1 + G q) (gamma >> 1).
    """
    g = np.atleast_1d(np.asarray(recoil, dtype=float))[:, None]
    nodes, weights = np.polynomial.legendre.leggauss(8)
    edges = np.arange(-60.0, 0.0 + 1e-9, 0.25)  # ln q panels: q from e^-60 to 1
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    u = (mid[:, None] + half[:, None] * nodes[None, :]).ravel()
    w = (half[:, None] * weights[None, :]).ravel()
    q = np.exp(u)[None, :]
    gq = g * q
    kernel = 2.0 * q * np.log(q) + (1.0 + 2.0 * q) * (1.0 - q) + gq**2 * (1.0 - q) / (2.0 * (1.0 + gq))
    integrand = q * q * kernel / (1.0 + gq) ** 3  # q F/(1+Gq)^3 times dq/du = q
    return 9.0 * np.sum(integrand * w[None, :], axis=1)


_LOG10_G_MIN, _LOG10_G_MAX = -6.0, 10.0


@lru_cache(maxsize=1)
def _f_mono_spline():
    from scipy.interpolate import CubicSpline

    log10_g = np.linspace(_LOG10_G_MIN, _LOG10_G_MAX, 16 * 32 + 1)
    return CubicSpline(log10_g, np.log(_f_mono_quadrature(10.0**log10_g)))


def klein_nishina_factor_mono(recoil_G):
    """Exact isotropic Klein-Nishina loss / Thomson loss for monochromatic photons, f_KN(G).

    G = 4 gamma eps/(m_e c^2). f = 9 int_0^1 q F(q, G)/(1 + G q)^3 dq with the Blumenthal &
    Gould (1970, Eq. 2.48) kernel F (docs/emission.md#inverse-compton, docs/propagation.md#inverse-compton-and-synchrotron-losses "f_mono"; equal to
    Jones 1965, docs/propagation.md#inverse-compton-and-synchrotron-losses). Tabulated once for 1e-6 <= G <= 1e10 (cubic
    spline in log-log); outside, the asymptotes 1 - (63/40) G and
    (9/(2 G^2))(ln G - 11/6).

    Parameters
    ----------
    recoil_G : array_like
        G >= 0 (dimensionless).

    Returns
    -------
    numpy.ndarray
        f in (0, 1].
    """
    g = np.asarray(recoil_G, dtype=float)
    log10_g = np.log10(np.maximum(g, 1e-300))
    inside = (log10_g >= _LOG10_G_MIN) & (log10_g <= _LOG10_G_MAX)
    f = np.exp(_f_mono_spline()(np.clip(log10_g, _LOG10_G_MIN, _LOG10_G_MAX)))
    g_safe = np.maximum(g, 10.0**_LOG10_G_MAX)
    high = 4.5 / g_safe**2 * (np.log(g_safe) - 11.0 / 6.0)
    f = np.where(inside, f, np.where(log10_g < _LOG10_G_MIN, 1.0 - 1.575 * g, high))
    return f


def _log_trapezoid_weights(eps_eV):
    """Trapezoid weights in ln(eps) for a positive increasing grid."""
    log_eps = np.log(eps_eV)
    d = np.diff(log_eps)
    w = np.zeros_like(log_eps)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w


def inverse_compton_kernel(ek_GeV, eps_eV, klein_nishina: bool = True):
    """Matrix K (n_eps, n_energy) with b_IC = (dn/d eps) @ K in eV/s (per cm^-3 eV^-1 of photons).

    K[j, k] = (4/3) sigma_T c (gamma_k^2 - 1) eps_j^2 w_j f_KN(4 gamma_k eps_j/m_e c^2), with w_j
    the trapezoid weights in ln eps, so that sum_j (dn/d eps)_j K[j, k] =
    (4/3) sigma_T c (gamma^2 - 1) int d eps eps n(eps) f_KN (docs/propagation.md#inverse-compton-and-synchrotron-losses).

    Parameters
    ----------
    ek_GeV : array_like, (n_energy,)
        Electron kinetic energy in GeV.
    eps_eV : array_like, (n_eps,)
        Photon energies in eV, positive and increasing.
    klein_nishina : bool
        False gives the Thomson limit (f = 1).
    """
    _, gamma, beta = _electron_kinematics(ek_GeV)
    eps = np.asarray(eps_eV, dtype=float)
    if eps.ndim != 1 or eps.size < 2 or np.any(eps <= 0) or np.any(np.diff(eps) <= 0):
        raise ValueError("eps_eV must be a positive, strictly increasing 1D array with >= 2 points")
    weights = eps**2 * _log_trapezoid_weights(eps)
    if klein_nishina:
        f = klein_nishina_factor_mono(4.0 * gamma[None, :] * eps[:, None] / ME_C2_EV)
    else:
        f = np.ones((eps.size, gamma.size))
    return THOMSON_LOSS_COEFF_CM3_PER_S * (gamma**2 * beta**2)[None, :] * weights[:, None] * f


def inverse_compton_loss_rate_GeV_per_s(ek_GeV, eps_eV, dn_deps_per_cm3_eV, klein_nishina: bool = True,
                                        kernel=None):
    """Inverse-Compton loss rate of electrons in an isotropic photon field, GeV/s.

    |dE/dt| = (4/3) sigma_T c (gamma^2 - 1) int d eps eps n(eps) f_KN(4 gamma eps/m_e c^2)
    (docs/propagation.md#inverse-compton-and-synchrotron-losses: GALPROP's Jones 1965 KN integral
    over the ISRF). Thomson limit: (4/3) sigma_T c gamma^2 beta^2 U_rad.

    Parameters
    ----------
    ek_GeV : array_like, (n_energy,)
        Electron kinetic energy in GeV.
    eps_eV : array_like, (n_eps,)
        Photon energy grid in eV.
    dn_deps_per_cm3_eV : array_like, S + (n_eps,)
        Photon spectrum dn/d eps per cell in cm^-3 eV^-1.
    klein_nishina : bool
        False: Thomson limit.
    kernel : array or None
        A precomputed :func:`inverse_compton_kernel` for these grids (saves time in loops).

    Returns
    -------
    numpy.ndarray, (n_energy,) + S
        Loss rate in GeV/s.
    """
    k = inverse_compton_kernel(ek_GeV, eps_eV, klein_nishina) if kernel is None else kernel
    dn = np.asarray(dn_deps_per_cm3_eV, dtype=float)
    if dn.shape[-1] != k.shape[0]:
        raise ValueError(f"photon spectrum has {dn.shape[-1]} energies, grid has {k.shape[0]}")
    return _energy_first(dn @ k) / EV_PER_GEV


def synchrotron_loss_rate_GeV_per_s(ek_GeV, u_b_eV_cm3):
    """Synchrotron loss rate (pitch-angle averaged) (4/3) sigma_T c U_B (gamma^2 - 1), GeV/s.

    docs/propagation.md#energy-losses ((32 pi/9) r_e^2 c U_B (gamma^2 - 1)); docs/propagation.md#inverse-compton-and-synchrotron-losses.

    Parameters
    ----------
    ek_GeV : (n_energy,) electron kinetic energy in GeV.
    u_b_eV_cm3 : array_like S
        Magnetic energy density B^2/8pi in eV cm^-3
        (:func:`galdiff.galaxy.bfield.magnetic_energy_density_eV_cm3`).
    """
    _, gamma, beta = _electron_kinematics(ek_GeV)
    return _energy_first(_cells(u_b_eV_cm3) * THOMSON_LOSS_COEFF_CM3_PER_S * gamma**2 * beta**2) / EV_PER_GEV


def electron_ionisation_loss_rate_GeV_per_s(ek_GeV, n_neutral_h_cm3, n_he_cm3):
    """Ionisation loss of e+- in neutral H and He (Pages et al. 1972 form, no density effect), GeV/s.

    |dE/dt| = (K_e/beta) { (n_n + 2 n_He) [ln(t^2 (t+2)/2) + (t^2/8 - (2t+1) ln 2)/(t+1)^2 + 1/gamma^2]
    - 2 n_n ln(I_H/m_e c^2) - 4 n_He ln(I_He/m_e c^2) }, K_e = 2 pi r_e^2 m_e c^2 c, t = gamma - 1,
    I_H = 18.9 eV, I_He = 42.0 eV (docs/propagation.md#energy-losses).
    Clipped at 0 where the formula (invalid there) would turn negative at T below ~ 10 eV.

    Parameters
    ----------
    ek_GeV : (n_energy,) kinetic energy in GeV.
    n_neutral_h_cm3 : array S, neutral hydrogen atoms n_HI + 2 n_H2 (cm^-3).
    n_he_cm3 : array S, helium atoms (cm^-3).
    """
    _, gamma, beta = _electron_kinematics(ek_GeV)
    t = gamma - 1.0
    bracket = (np.log(t**2 * (t + 2.0) / 2.0) + (t**2 / 8.0 - (2.0 * t + 1.0) * np.log(2.0)) / (t + 1.0) ** 2
               + 1.0 / gamma**2)
    n_n, n_he = _cells(n_neutral_h_cm3), _cells(n_he_cm3)
    rate_eV = (K_E_EV_CM3_PER_S / beta) * ((n_n + 2.0 * n_he) * bracket
                                            - 2.0 * n_n * np.log(I_H_ELECTRON_EV / ME_C2_EV)
                                            - 4.0 * n_he * np.log(I_HE_ELECTRON_EV / ME_C2_EV))
    return _energy_first(np.maximum(rate_eV, 0.0)) / EV_PER_GEV  # negative only below ~10 eV


def electron_coulomb_loss_rate_GeV_per_s(ek_GeV, n_e_cm3):
    """Coulomb loss of e+- in a cold ionised plasma, GeV/s.

    |dE/dt| = (K_e/beta) n_e [ln(E m_e c^2/(4 pi r_e (hbar c)^2 n_e)) - 3/4], E = gamma m_e c^2
    (docs/propagation.md#energy-losses). Zero where n_e = 0.

    Parameters
    ----------
    ek_GeV : (n_energy,) kinetic energy in GeV.
    n_e_cm3 : array S, free electrons (= n_HII) in cm^-3.
    """
    _, gamma, beta = _electron_kinematics(ek_GeV)
    n_e = _cells(n_e_cm3)
    safe = np.where(n_e > 0, n_e, 1.0)
    log_term = np.log(gamma * ME_C2_EV * ME_C2_EV / (4.0 * np.pi * R0_ELECTRON_CM * HBAR_C_EV_CM**2 * safe))
    rate_eV = np.where(n_e > 0, (K_E_EV_CM3_PER_S / beta) * n_e * (log_term - 0.75), 0.0)
    return _energy_first(rate_eV) / EV_PER_GEV


def electron_bremsstrahlung_neutral_loss_rate_GeV_per_s(ek_GeV, n_neutral_h_cm3, n_he_cm3,
                                                       radiation_lengths: str = "galprop"):
    """Bremsstrahlung loss of e+- in neutral H and He, GeV/s (GALPROP scheme).

    gamma < 100 (no screening): 4 alpha r_e^2 c E (2 n_n + 6 n_He)(ln 2 gamma - 1/3);
    gamma > 800 (complete screening): E c (n_n m_H/X_H + n_He m_He/X_He); linear in gamma between
    the values at gamma = 100 and 800 (docs/propagation.md#energy-losses).
    E = gamma m_e c^2 (total energy).

    Parameters
    ----------
    ek_GeV : (n_energy,) kinetic energy in GeV.
    n_neutral_h_cm3, n_he_cm3 : arrays S (cm^-3).
    radiation_lengths : {"galprop", "bg70"}
        (X_H, X_He) = (62.8, 93.1) g cm^-2 (GALPROP) or (62.4, 84.5) (Blumenthal & Gould phi).
    """
    try:
        x_h, x_he = RADIATION_LENGTHS_G_CM2[radiation_lengths]
    except KeyError:
        raise KeyError(f"radiation_lengths must be one of {sorted(RADIATION_LENGTHS_G_CM2)}") from None
    _, gamma, _ = _electron_kinematics(ek_GeV)
    n_n, n_he = _cells(n_neutral_h_cm3), _cells(n_he_cm3)

    def unscreened(g):
        return 4.0 * ALPHA_R0SQ_C_CM3_PER_S * g * ME_C2_EV * (2.0 * n_n + 6.0 * n_he) * (np.log(2.0 * g) - 1.0 / 3.0)

    def screened(g):
        return g * ME_C2_EV * C_CM_PER_S * (n_n * MASS_H_G / x_h + n_he * MASS_HE_G / x_he)

    low, high = unscreened(gamma), screened(gamma)
    mid = unscreened(100.0) + (screened(800.0) - unscreened(100.0)) * (gamma - 100.0) / 700.0
    rate_eV = np.where(gamma < 100.0, low, np.where(gamma > 800.0, high, mid))
    return _energy_first(rate_eV) / EV_PER_GEV


def electron_bremsstrahlung_ionised_loss_rate_GeV_per_s(ek_GeV, n_e_cm3):
    """Bremsstrahlung loss of e+- in ionised hydrogen, 8 alpha r_e^2 c E n_e (ln 2 gamma - 1/3), GeV/s.

    docs/propagation.md#energy-losses. E = gamma m_e c^2.
    """
    _, gamma, _ = _electron_kinematics(ek_GeV)
    rate_eV = 8.0 * ALPHA_R0SQ_C_CM3_PER_S * gamma * ME_C2_EV * _cells(n_e_cm3) * (np.log(2.0 * gamma) - 1.0 / 3.0)
    return _energy_first(rate_eV) / EV_PER_GEV


def electron_loss_rates_GeV_per_s(ek_GeV, n_hi_cm3, n_h2_cm3, n_hii_cm3, u_b_eV_cm3, eps_eV=None,
                                  dn_deps_per_cm3_eV=None, he_to_h: float = 0.11, klein_nishina: bool = True,
                                  radiation_lengths: str = "galprop", ic_kernel=None) -> dict:
    """All continuous losses of electrons/positrons, per component and total, in GeV/s.

    Ionisation and neutral bremsstrahlung on n_n = n_HI + 2 n_H2 and n_He = (He/H) n_n;
    Coulomb and ionised bremsstrahlung on n_e = n_HII; synchrotron on U_B; inverse Compton
    (Klein-Nishina) on the photon spectrum (docs/propagation.md#energy-losses, #inverse-compton-and-synchrotron-losses).

    Parameters
    ----------
    ek_GeV : (n_energy,) kinetic energy in GeV.
    n_hi_cm3, n_h2_cm3, n_hii_cm3 : arrays S
        HI atoms, H2 molecules, HII in cm^-3.
    u_b_eV_cm3 : array S
        Magnetic energy density (eV cm^-3).
    eps_eV, dn_deps_per_cm3_eV : (n_eps,), S + (n_eps,) or None
        Photon field; None skips inverse Compton.
    he_to_h : float
    klein_nishina : bool
    radiation_lengths : str
    ic_kernel : array or None
        Precomputed :func:`inverse_compton_kernel`.

    Returns
    -------
    dict
        Keys ``ionisation``, ``coulomb``, ``bremsstrahlung_neutral``, ``bremsstrahlung_ionised``,
        ``synchrotron``, ``inverse_compton`` (if a photon field is given) and ``total``; each
        an array (n_energy,) + S in GeV/s.
    """
    n_n = np.asarray(n_hi_cm3, dtype=float) + 2.0 * np.asarray(n_h2_cm3, dtype=float)
    n_he = he_to_h * n_n
    n_e = np.asarray(n_hii_cm3, dtype=float)
    rates = {
        "ionisation": electron_ionisation_loss_rate_GeV_per_s(ek_GeV, n_n, n_he),
        "coulomb": electron_coulomb_loss_rate_GeV_per_s(ek_GeV, n_e),
        "bremsstrahlung_neutral": electron_bremsstrahlung_neutral_loss_rate_GeV_per_s(ek_GeV, n_n, n_he,
                                                                                      radiation_lengths),
        "bremsstrahlung_ionised": electron_bremsstrahlung_ionised_loss_rate_GeV_per_s(ek_GeV, n_e),
        "synchrotron": synchrotron_loss_rate_GeV_per_s(ek_GeV, u_b_eV_cm3),
    }
    if dn_deps_per_cm3_eV is not None:
        rates["inverse_compton"] = inverse_compton_loss_rate_GeV_per_s(
            ek_GeV, eps_eV, dn_deps_per_cm3_eV, klein_nishina=klein_nishina, kernel=ic_kernel)
    shape = np.broadcast_shapes(*(r.shape for r in rates.values()))
    total = np.zeros(shape)
    for value in rates.values():
        total = total + value
    rates["total"] = total
    return rates


# ---- nuclei -----------------------------------------------------------------------------------------------

def _nucleus_kinematics(ek_GeV_per_n, species: Species):
    if species.mass_GeV < 0.1:
        raise ValueError(f"{species.name} is not a nucleus; use the electron loss functions")
    t = _energy_1d(ek_GeV_per_n)
    m_n = species.mass_per_nucleon_GeV
    gamma = 1.0 + t / m_n
    beta = np.sqrt(1.0 - 1.0 / gamma**2)
    return t, gamma, beta


def nucleus_ionisation_loss_rate_per_particle_GeV_per_s(ek_GeV_per_n, species: Species, n_neutral_h_cm3,
                                                        n_he_cm3, he_target_electrons: int = 2):
    """Bethe ionisation loss of a nucleus in neutral H and He, dE/dt per nucleus in GeV/s.

    |dE/dt| = (K_e Z^2/beta) sum_s n_s Z_s [ln(2 m_e c^2 beta^2 gamma^2 Q_max/I_s^2) - 2 beta^2],
    Q_max = 2 m_e c^2 beta^2 gamma^2/(1 + 2 gamma m_e/M), I_H = 19 eV, I_He = 44 eV
    (docs/propagation.md#energy-losses).

    Parameters
    ----------
    ek_GeV_per_n : (n_energy,) kinetic energy per nucleon in GeV/n.
    species : Species (proton, helium).
    n_neutral_h_cm3, n_he_cm3 : arrays S (cm^-3).
    he_target_electrons : int
        Z_s for He: 2 (physical, default) or 1 (as coded in GALPROP/DRAGON2).
    """
    _, gamma, beta = _nucleus_kinematics(ek_GeV_per_n, species)
    mass_eV = species.mass_GeV * EV_PER_GEV
    bg2 = beta**2 * gamma**2
    q_max = 2.0 * ME_C2_EV * bg2 / (1.0 + 2.0 * gamma * ME_C2_EV / mass_eV)

    def bethe(i_eV):
        return np.log(2.0 * ME_C2_EV * bg2 * q_max / i_eV**2) - 2.0 * beta**2

    z2 = species.charge**2
    rate_eV = (K_E_EV_CM3_PER_S * z2 / beta) * (_cells(n_neutral_h_cm3) * bethe(I_H_NUCLEUS_EV)
                                                 + he_target_electrons * _cells(n_he_cm3) * bethe(I_HE_NUCLEUS_EV))
    return _energy_first(np.maximum(rate_eV, 0.0)) / EV_PER_GEV


def nucleus_coulomb_loss_rate_per_particle_GeV_per_s(ek_GeV_per_n, species: Species, n_e_cm3,
                                                     electron_temperature_K: float = ELECTRON_TEMPERATURE_K):
    """Coulomb loss of a nucleus in ionised gas (cold-plasma limit), dE/dt per nucleus in GeV/s.

    |dE/dt| = (2 K_e Z^2 n_e/beta) ln Lambda beta^3/(x_m^3 + beta^3),
    ln Lambda = (1/2) ln[(m_e c^2)^2 M gamma^2 beta^4/(pi r_e (hbar c)^2 n_e (M + 2 gamma m_e))],
    x_m = (3 sqrt(pi)/4)^(1/3) sqrt(2 k T_e/m_e c^2) (docs/propagation.md#energy-losses;
    docs/propagation.md#energy-losses). Zero where n_e = 0.

    Parameters
    ----------
    ek_GeV_per_n : (n_energy,) kinetic energy per nucleon in GeV/n.
    species : Species.
    n_e_cm3 : array S, free electrons (cm^-3).
    electron_temperature_K : float (1e4 K).
    """
    _, gamma, beta = _nucleus_kinematics(ek_GeV_per_n, species)
    mass_eV = species.mass_GeV * EV_PER_GEV
    n_e = _cells(n_e_cm3)
    safe = np.where(n_e > 0, n_e, 1.0)
    log_lambda = 0.5 * np.log(ME_C2_EV**2 * mass_eV * gamma**2 * beta**4
                              / (np.pi * R0_ELECTRON_CM * HBAR_C_EV_CM**2 * safe * (mass_eV + 2.0 * gamma * ME_C2_EV)))
    x_m = (3.0 * np.sqrt(np.pi) / 4.0) ** (1.0 / 3.0) * np.sqrt(2.0 * K_B_EV_PER_K * electron_temperature_K / ME_C2_EV)
    rate_eV = (2.0 * K_E_EV_CM3_PER_S * species.charge**2 * n_e / beta) * log_lambda * beta**3 / (x_m**3 + beta**3)
    return _energy_first(np.where(n_e > 0, np.maximum(rate_eV, 0.0), 0.0)) / EV_PER_GEV


def nucleus_loss_rates_GeV_per_n_per_s(ek_GeV_per_n, species: Species, n_hi_cm3, n_h2_cm3, n_hii_cm3,
                                       he_to_h: float = 0.11, he_target_electrons: int = 2) -> dict:
    """Continuous losses of a nucleus per nucleon, dT_n/dt in GeV/n/s (ionisation + Coulomb).

    dT_n/dt = (dE/dt)/A with dE/dt from :func:`nucleus_ionisation_loss_rate_per_particle_GeV_per_s`
    (n_n = n_HI + 2 n_H2, n_He = (He/H) n_n) and :func:`nucleus_coulomb_loss_rate_per_particle_GeV_per_s`
    (n_e = n_HII) (docs/propagation.md#energy-losses).

    Returns
    -------
    dict
        ``ionisation``, ``coulomb`` and ``total``, each (n_energy,) + S in GeV/n/s.
    """
    n_n = np.asarray(n_hi_cm3, dtype=float) + 2.0 * np.asarray(n_h2_cm3, dtype=float)
    a = species.mass_number
    rates = {
        "ionisation": nucleus_ionisation_loss_rate_per_particle_GeV_per_s(
            ek_GeV_per_n, species, n_n, he_to_h * n_n, he_target_electrons) / a,
        "coulomb": nucleus_coulomb_loss_rate_per_particle_GeV_per_s(ek_GeV_per_n, species, n_hii_cm3) / a,
    }
    rates["total"] = rates["ionisation"] + rates["coulomb"]
    return rates


def momentum_loss_rate_GeV_per_c_per_s(energy_loss_rate_GeV_per_s, beta):
    """Momentum loss rate dp/dt = (dE/dt)/beta (GeV/c per s), as GALPROP converts losses.

    docs/propagation.md#energy-losses (pdot = (dE/dt)/beta). ``beta`` has shape (n_energy,) and is
    applied along the first (energy) axis of the rate.
    """
    rate = np.asarray(energy_loss_rate_GeV_per_s, dtype=float)
    b = np.asarray(beta, dtype=float)
    return rate / b.reshape(b.shape + (1,) * (rate.ndim - b.ndim))
