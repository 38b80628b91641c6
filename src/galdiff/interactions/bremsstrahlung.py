"""Electron bremsstrahlung on interstellar gas: cross sections and emissivity matrices.

Cross section dsigma/dk per target atom/ion as in GALPROP (Strong, Moskalenko & Reimer 2000,
ApJ 537, 763, appendix; docs/emission.md#bremsstrahlung, #screening-functions), restated; energies in GeV, E_0 and
E_1 = E_0 - k the initial and final electron total energies, k the photon energy,
T_0 = E_0 - m_e c^2, delta = k m_e c^2 / (2 E_0 E_1), Delta = delta / (2 alpha):

* High energy, T_0 >= 2 MeV and Delta/Z < 4: arbitrary screening (Blumenthal & Gould 1970,
  Rev. Mod. Phys. 42, 237, Eq. 3.53-3.56; Gould 1969), BG70 normalisation,

      dsigma/dk = (alpha r_0^2 / k) [ (1 + (E_1/E_0)^2) phi_1(Delta) - (2/3)(E_1/E_0) phi_2(Delta) ],

  phi from the hydrogen ground-state form factor (neutral H), the Hartree-Fock table of Gould 1969
  (neutral He), or the unshielded 4 (Z^2 + N_e) phi_u, phi_u = -ln(delta) - 1/2 (bare charge),
  each capped at its unshielded value (GALPROP).
* Intermediate, T_0 < 2 MeV or Delta/Z >= 4: unscreened relativistic Born formula 3BN of Koch &
  Motz 1959 (Rev. Mod. Phys. 31, 920) times A = Z^2 + N_e (atomic electrons); for T_0 < 2 MeV A is
  multiplied by GALPROP's connection factors and the Elwert factor (KM59 Eq. II-6).
* Non-relativistic, T_0 < 70 keV: Born formula 3BN(a) of KM59 with the Elwert factor (A = Z^2).
* Near the tip (k >= 0.9 T_0) a value below the Fano-Sauter limit (KM59 p. 933) is replaced by the
  mean of the two.

Ionised hydrogen counts the proton and its free electron with the same formula, i.e. twice the
bare-charge (Z = 1, N_e = 0) cross section (GALPROP; docs/emission.md#bremsstrahlung). The validity
range is E_0, k >~ 10 keV (Born approximation, GALPROP's bremss_spec); for E_gamma >= 100 MeV only
the screened high-energy formula matters.

Emissivity per sr (docs/emission.md#bremsstrahlung-emissivity), electron + positron flux J_e in GeV^-1 cm^-2 s^-1 sr^-1:

    q(k) = int dE_0 (J_e(E_0)/beta) dsigma/dk (E_0, k)   [photons GeV^-1 s^-1 sr^-1 per target]

Neutral gas is per H atom (n_HI + 2 n_H2) with He/H folded in; ionised gas is per H+ ion.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from galdiff.units import ALPHA_FS, M_E_GEV, R0_ELECTRON_CM

ALPHA_R0_SQ_CM2 = ALPHA_FS * R0_ELECTRON_CM**2
MIN_PHOTON_ENERGY_GEV = 1e-5  # 10 keV: Born-approximation validity of the formulas
NONRELATIVISTIC_T0_GEV = 7e-5  # 70 keV
LOW_ENERGY_T0_GEV = 2e-3  # 2 MeV
SCREENING_SWITCH_DELTA_OVER_Z = 4.0
FANO_SAUTER_FRACTION = 0.9

# Hartree-Fock screening functions of neutral He (Gould 1969 / BG70 as tabulated in GALPROP;
# docs/emission.md#screening-functions), BG70 normalisation
HE_DELTA = np.array([0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0])
HE_PHI1 = np.array([134.60, 133.85, 133.11, 130.86, 127.17, 120.35, 104.60, 89.94, 74.19, 54.26, 40.94])
HE_PHI2 = np.array([131.40, 130.51, 130.33, 129.26, 126.76, 120.80, 105.21, 89.46, 73.03, 51.84, 37.24])

TARGETS = ("HI", "He", "HII", "p_bare")
# (nuclear charge Z, bound electrons N_e, multiplicity): neutral H and He atoms, a bare proton
# (e-p only; naima's e-p term), and ionised H = proton + its free electron (2 x bare, GALPROP)
_TARGET_PARAMETERS = {"HI": (1, 1, 1.0), "He": (2, 2, 1.0), "HII": (1, 0, 2.0), "p_bare": (1, 0, 1.0)}

__all__ = [
    "TARGETS",
    "hydrogen_screening_functions",
    "screening_functions",
    "bethe_heitler_3bn_cm2_per_GeV",
    "dsigma_dk_cm2_per_GeV",
    "dsigma_dk_numpy",
    "BremsstrahlungMatrix",
]


def hydrogen_screening_functions(delta_screen):
    """phi_1, phi_2 of neutral atomic H from its ground-state form factor (uncapped).

    F(q) = [1 + (q / (2 alpha))^2]^-2 (q in m_e c), Gould 1969; docs/emission.md#bremsstrahlung:
    phi_1 = 8 [1 + int_delta^1 (q - delta)^2/q^3 (1 - F) dq],
    phi_2 = 8 [5/6 + int_delta^1 (q^3 + (3 - 6 ln(q/delta)) delta^2 q - 4 delta^3)/q^4 (1 - F) dq].

    Parameters
    ----------
    delta_screen : array_like
        Screening parameter Delta = delta / (2 alpha) (dimensionless, >= 0).

    Returns
    -------
    (ndarray, ndarray)
        phi_1, phi_2 (BG70 normalisation; 45.82 and 44.48 at Delta = 0).
    """
    big_delta = np.atleast_1d(np.asarray(delta_screen, dtype=float))
    phi1 = np.empty_like(big_delta)
    phi2 = np.empty_like(big_delta)
    u_sq = (1.0 / (2.0 * ALPHA_FS)) ** 2
    complete = 0.5 * (np.log1p(u_sq) + 1.0 - 1.0 / (1.0 + u_sq))  # int_0^1 (1 - F)/q dq
    for i, dd in enumerate(big_delta):
        delta = 2.0 * ALPHA_FS * dd
        if delta <= 0.0:
            phi1[i] = 8.0 * (1.0 + complete)
            phi2[i] = 8.0 * (5.0 / 6.0 + complete)
            continue
        if delta >= 1.0:
            phi1[i] = 8.0
            phi2[i] = 8.0 * 5.0 / 6.0
            continue
        ln_q = np.linspace(np.log(delta), 0.0, 4001)
        q = np.exp(ln_q)
        one_minus_f = 1.0 - (1.0 + (q / (2.0 * ALPHA_FS)) ** 2) ** -2
        f1 = (q - delta) ** 2 / q**3 * one_minus_f * q
        f2 = (q**3 + (3.0 - 6.0 * np.log(q / delta)) * delta**2 * q - 4.0 * delta**3) / q**4 * one_minus_f * q
        phi1[i] = 8.0 * (1.0 + np.trapezoid(f1, ln_q))
        phi2[i] = 8.0 * (5.0 / 6.0 + np.trapezoid(f2, ln_q))
    return phi1, phi2


@lru_cache(maxsize=1)
def _hydrogen_table():
    delta_grid = np.r_[0.0, np.logspace(-4, 1.5, 111)]
    phi1, phi2 = hydrogen_screening_functions(delta_grid)
    return delta_grid, phi1, phi2


def _target_tables(target):
    """(Delta grid, phi_1, phi_2, Z, N_e, multiplicity) of a target; empty tables = bare charge."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")
    if target == "HI":
        grid, phi1, phi2 = _hydrogen_table()
    elif target == "He":
        grid, phi1, phi2 = HE_DELTA, HE_PHI1, HE_PHI2
    else:
        grid = phi1 = phi2 = np.zeros(0)
    z_nucleus, n_electrons, multiplicity = _TARGET_PARAMETERS[target]
    return grid, phi1, phi2, float(z_nucleus), float(n_electrons), multiplicity


@njit(cache=True)
def _interp_screening(big_delta, grid, table):
    """Linear in Delta below the first nonzero node, linear in ln Delta above; -1 beyond the table."""
    n = grid.size
    if n == 0 or big_delta > grid[n - 1]:
        return -1.0
    if big_delta <= grid[1]:
        t = big_delta / grid[1]
        return table[0] + t * (table[1] - table[0])
    j = 1
    while grid[j + 1] < big_delta:
        j += 1
    t = (np.log(big_delta) - np.log(grid[j])) / (np.log(grid[j + 1]) - np.log(grid[j]))
    return table[j] + t * (table[j + 1] - table[j])


@njit(cache=True)
def _screened(e0, k, grid, phi1_tab, phi2_tab, unshielded_factor):
    """High-energy screened cross section (BG70 Eq. 3.53 form), cm^2 GeV^-1."""
    e1 = e0 - k
    delta = k * M_E_GEV / (2.0 * e0 * e1)
    phi_u = -np.log(delta) - 0.5
    if phi_u <= 0.0:
        return 0.0
    cap = unshielded_factor * phi_u
    phi1 = _interp_screening(delta / (2.0 * ALPHA_FS), grid, phi1_tab)
    phi2 = _interp_screening(delta / (2.0 * ALPHA_FS), grid, phi2_tab)
    if phi1 < 0.0 or phi1 > cap:
        phi1 = cap
    if phi2 < 0.0 or phi2 > cap:
        phi2 = cap
    ratio = e1 / e0
    return max(ALPHA_R0_SQ_CM2 / k * ((1.0 + ratio * ratio) * phi1 - 2.0 / 3.0 * ratio * phi2), 0.0)


@njit(cache=True)
def _log_e_plus_p_over_e_minus_p(e, p):
    """ln((E + p)/(E - p)) = 2 ln((E + p)/m_e), stable for E >> m_e."""
    return 2.0 * np.log((e + p) / M_E_GEV)


@njit(cache=True)
def _bethe_heitler_3bn(e0, k):
    """Koch & Motz 1959 formula 3BN per unit A = Z^2 (+ N_e), cm^2 GeV^-1 (unscreened, Born)."""
    m = M_E_GEV
    e1 = e0 - k
    p0 = np.sqrt(e0 * e0 - m * m)
    p1 = np.sqrt(e1 * e1 - m * m)
    eps0 = _log_e_plus_p_over_e_minus_p(e0, p0)
    eps1 = _log_e_plus_p_over_e_minus_p(e1, p1)
    big_l = 2.0 * np.log((e0 * e1 + p0 * p1 - m * m) / (k * m))
    t1 = 2.0 * e0 * e1 * (p0 * p0 + p1 * p1) / (p0 * p0 * p1 * p1)
    t2 = m * m * (eps0 * e1 / p0**3 + eps1 * e0 / p1**3 - eps0 * eps1 / (p0 * p1))
    t10 = 8.0 / 3.0 * e0 * e1 / (p0 * p1)
    t11 = k * k * (e0 * e0 * e1 * e1 + p0 * p0 * p1 * p1) / (p0**3 * p1**3)
    t12 = m * m * k / (2.0 * p0 * p1) * (
        eps0 * (e0 * e1 + p0 * p0) / p0**3 - eps1 * (e0 * e1 + p1 * p1) / p1**3 + 2.0 * k * e0 * e1 / (p0 * p0 * p1 * p1)
    )
    return ALPHA_R0_SQ_CM2 / k * p1 / p0 * (4.0 / 3.0 - t1 + t2 + big_l * (t10 + t11 + t12))


@njit(cache=True)
def _nonrelativistic_born(e0, k):
    """Koch & Motz 1959 formula 3BN(a) per unit Z^2, cm^2 GeV^-1 (non-relativistic Born)."""
    m = M_E_GEV
    e1 = e0 - k
    p0 = np.sqrt(e0 * e0 - m * m)
    p1 = np.sqrt(e1 * e1 - m * m)
    return ALPHA_R0_SQ_CM2 * 16.0 / 3.0 / k * (m / p0) ** 2 * np.log((p0 + p1) / (p0 - p1))


@njit(cache=True)
def _elwert_factor(e0, k, z_nucleus):
    """Elwert factor (KM59 Eq. II-6) where Z alpha (1/beta_1 - 1/beta_0) <= 0.5, else 0 (GALPROP)."""
    m = M_E_GEV
    e1 = e0 - k
    beta0 = np.sqrt(1.0 - (m / e0) ** 2)
    beta1 = np.sqrt(1.0 - (m / e1) ** 2)
    if z_nucleus * ALPHA_FS * (1.0 / beta1 - 1.0 / beta0) > 0.5:
        return 0.0
    a = 2.0 * np.pi * ALPHA_FS * z_nucleus
    return beta0 / beta1 * (-np.expm1(-a / beta0)) / (-np.expm1(-a / beta1))


@njit(cache=True)
def _fano_sauter(e0, z_nucleus):
    """Fano-Sauter high-frequency limit of dsigma/dk (KM59 p. 933), cm^2 GeV^-1."""
    m = M_E_GEV
    t0 = e0 - m
    gam = e0 / m
    beta0 = np.sqrt(1.0 - 1.0 / (gam * gam))
    log_term = 2.0 * np.log((1.0 + beta0) * gam)  # ln((1 + beta)/(1 - beta)), 1 - beta = 1/(gam^2 (1 + beta))
    return (
        4.0 * np.pi * z_nucleus**3 * R0_ELECTRON_CM**2 * ALPHA_FS**2 / t0 * beta0 * gam / (gam - 1.0) ** 2
        * (4.0 / 3.0 + gam * (gam - 2.0) / (gam + 1.0) * (1.0 - log_term / (2.0 * beta0 * gam * gam)))
    )


@njit(cache=True)
def _dsigma_dk(e0, k, grid, phi1_tab, phi2_tab, z_nucleus, n_electrons, multiplicity):
    """dsigma/dk (cm^2 GeV^-1) per target, all regimes (module docstring); 0 if forbidden."""
    m = M_E_GEV
    e1 = e0 - k
    if k <= 0.0 or e0 <= 1.02 * m or e1 <= m:
        return 0.0
    t0 = e0 - m
    if t0 < NONRELATIVISTIC_T0_GEV:
        value = _elwert_factor(e0, k, z_nucleus) * z_nucleus * z_nucleus * _nonrelativistic_born(e0, k)
    else:
        delta = k * m / (2.0 * e0 * e1)
        if t0 < LOW_ENERGY_T0_GEV or delta / (2.0 * ALPHA_FS * z_nucleus) >= SCREENING_SWITCH_DELTA_OVER_Z:
            charge_factor = z_nucleus * z_nucleus + n_electrons
            if t0 < LOW_ENERGY_T0_GEV:
                # GALPROP's screening and left/right connection factors, with the Elwert factor
                charge_factor = (
                    (z_nucleus * z_nucleus + n_electrons * (1.0 - np.exp(-(t0 - NONRELATIVISTIC_T0_GEV) / (9.0 * NONRELATIVISTIC_T0_GEV))))
                    * (1.0 - 0.3 * np.exp(-k / 3.3e-5))
                    * _elwert_factor(e0, k, z_nucleus)
                )
            value = charge_factor * _bethe_heitler_3bn(e0, k)
        else:
            value = _screened(e0, k, grid, phi1_tab, phi2_tab, 4.0 * (z_nucleus * z_nucleus + n_electrons))
    value = max(value, 0.0)
    if k >= FANO_SAUTER_FRACTION * t0:
        limit = _fano_sauter(e0, z_nucleus)
        if value < limit:
            value = 0.5 * (value + limit)
    return multiplicity * value


def screening_functions(delta_screen, target):
    """Capped phi_1, phi_2 of the screened high-energy formula at screening parameter Delta.

    Parameters
    ----------
    delta_screen : array_like
        Delta = k m_e c^2 / (4 alpha E_0 E_1).
    target : {'HI', 'He', 'HII', 'p_bare'}

    Returns
    -------
    (ndarray, ndarray)
        BG70 normalisation, per nucleus (the HII multiplicity 2 is not included).
    """
    grid, phi1_tab, phi2_tab, z_nucleus, n_electrons, _ = _target_tables(target)
    factor = 4.0 * (z_nucleus**2 + n_electrons)
    big_delta = np.atleast_1d(np.asarray(delta_screen, dtype=float))
    phi_u = -np.log(np.maximum(2.0 * ALPHA_FS * big_delta, 1e-300)) - 0.5
    cap = np.where(big_delta > 0, factor * phi_u, np.inf)
    phi1 = np.array([_interp_screening(d, grid, phi1_tab) for d in big_delta])
    phi2 = np.array([_interp_screening(d, grid, phi2_tab) for d in big_delta])
    phi1 = np.where((phi1 < 0) | (phi1 > cap), cap, phi1)
    phi2 = np.where((phi2 < 0) | (phi2 > cap), cap, phi2)
    return phi1, phi2


def bethe_heitler_3bn_cm2_per_GeV(electron_total_energy_GeV, photon_energy_GeV):
    """Koch & Motz 1959 formula 3BN (unscreened relativistic Born) per unit Z^2, cm^2 GeV^-1.

    Parameters
    ----------
    electron_total_energy_GeV, photon_energy_GeV : array_like
        E_0 and k in GeV (k < E_0 - m_e).

    Returns
    -------
    ndarray
    """
    e0, k = np.broadcast_arrays(np.asarray(electron_total_energy_GeV, float), np.asarray(photon_energy_GeV, float))
    out = np.empty(e0.shape)
    for idx in np.ndindex(e0.shape):
        out[idx] = _bethe_heitler_3bn(float(e0[idx]), float(k[idx]))
    return out


def dsigma_dk_cm2_per_GeV(electron_total_energy_GeV, photon_energy_GeV, target="HI"):
    """Bremsstrahlung cross section dsigma/dk in cm^2 GeV^-1 per target atom/ion (Numba kernel).

    Parameters
    ----------
    electron_total_energy_GeV : array_like
        Initial electron total energy E_0 in GeV.
    photon_energy_GeV : array_like
        Photon energy k in GeV (broadcast against E_0).
    target : {'HI', 'He', 'HII', 'p_bare'}
        Neutral H atom, neutral He atom, H+ ion with its free electron (ionised gas), or a bare
        proton (e-p only).

    Returns
    -------
    ndarray
    """
    grid, phi1_tab, phi2_tab, z_nucleus, n_electrons, multiplicity = _target_tables(target)
    e0, k = np.broadcast_arrays(np.asarray(electron_total_energy_GeV, float), np.asarray(photon_energy_GeV, float))
    out = np.empty(e0.shape)
    for idx in np.ndindex(e0.shape):
        out[idx] = _dsigma_dk(float(e0[idx]), float(k[idx]), grid, phi1_tab, phi2_tab, z_nucleus, n_electrons, multiplicity)
    return out


def dsigma_dk_numpy(electron_total_energy_GeV, photon_energy_GeV, target="HI"):
    """Slow, vectorised NumPy version of :func:`dsigma_dk_cm2_per_GeV` (for testing the kernel)."""
    grid, phi1_tab, phi2_tab, z, n_e, multiplicity = _target_tables(target)
    m = M_E_GEV
    e0, k = np.broadcast_arrays(np.asarray(electron_total_energy_GeV, float), np.asarray(photon_energy_GeV, float))
    e0 = e0.astype(float)
    k = k.astype(float)
    allowed = (k > 0) & (e0 > 1.02 * m) & (e0 - k > m)
    e0s = np.where(allowed, e0, 2.0)
    ks = np.where(allowed, k, 0.5)
    e1 = e0s - ks
    t0 = e0s - m
    p0 = np.sqrt(e0s**2 - m**2)
    p1 = np.sqrt(e1**2 - m**2)
    beta0, beta1 = p0 / e0s, p1 / e1
    with np.errstate(all="ignore"):
        # Elwert factor
        a = 2 * np.pi * ALPHA_FS * z
        elwert = beta0 / beta1 * (1 - np.exp(-a / beta0)) / (1 - np.exp(-a / beta1))
        elwert = np.where(z * ALPHA_FS * (1 / beta1 - 1 / beta0) <= 0.5, elwert, 0.0)
        # non-relativistic Born 3BN(a)
        born_nr = ALPHA_R0_SQ_CM2 * 16 / 3 / ks * (m / p0) ** 2 * np.log((p0 + p1) / (p0 - p1))
        # 3BN
        eps0 = 2 * np.log((e0s + p0) / m)
        eps1 = 2 * np.log((e1 + p1) / m)
        big_l = 2 * np.log((e0s * e1 + p0 * p1 - m**2) / (ks * m))
        bracket = (
            4 / 3 - 2 * e0s * e1 * (p0**2 + p1**2) / (p0**2 * p1**2)
            + m**2 * (eps0 * e1 / p0**3 + eps1 * e0s / p1**3 - eps0 * eps1 / (p0 * p1))
            + big_l * (
                8 / 3 * e0s * e1 / (p0 * p1)
                + ks**2 * (e0s**2 * e1**2 + p0**2 * p1**2) / (p0**3 * p1**3)
                + m**2 * ks / (2 * p0 * p1) * (eps0 * (e0s * e1 + p0**2) / p0**3 - eps1 * (e0s * e1 + p1**2) / p1**3
                                               + 2 * ks * e0s * e1 / (p0**2 * p1**2))
            )
        )
        born_3bn = ALPHA_R0_SQ_CM2 / ks * p1 / p0 * bracket
        low_factor = (z**2 + n_e * (1 - np.exp(-(t0 - 7e-5) / (9 * 7e-5)))) * (1 - 0.3 * np.exp(-ks / 3.3e-5)) * elwert
        # screened high-energy formula
        delta = ks * m / (2 * e0s * e1)
        phi1, phi2 = screening_functions((delta / (2 * ALPHA_FS)).ravel(), target)
        phi1, phi2 = phi1.reshape(e0s.shape), phi2.reshape(e0s.shape)
        ratio = e1 / e0s
        screened = ALPHA_R0_SQ_CM2 / ks * ((1 + ratio**2) * phi1 - 2 / 3 * ratio * phi2)
        screened = np.where(-np.log(delta) - 0.5 > 0, screened, 0.0)
        value = np.where(
            t0 < 7e-5, elwert * z**2 * born_nr,
            np.where(t0 < 2e-3, low_factor * born_3bn,
                     np.where(delta / (2 * ALPHA_FS * z) >= 4.0, (z**2 + n_e) * born_3bn, screened)),
        )
        value = np.maximum(value, 0.0)
        gam = e0s / m
        fano_sauter = (
            4 * np.pi * z**3 * R0_ELECTRON_CM**2 * ALPHA_FS**2 / t0 * beta0 * gam / (gam - 1) ** 2
            * (4 / 3 + gam * (gam - 2) / (gam + 1) * (1 - 2 * np.log((1 + beta0) * gam) / (2 * beta0 * gam**2)))
        )
        value = np.where((ks >= 0.9 * t0) & (value < fano_sauter), 0.5 * (value + fano_sauter), value)
    return np.where(allowed, multiplicity * value, 0.0)


@njit(cache=True)
def _build_matrix(k_GeV, ek_nodes_GeV, gl_x, gl_w, grid, phi1_tab, phi2_tab, z_nucleus, n_electrons, multiplicity,
                  flux_index):
    """M[g, j] = int b_j(T) dsigma/dk(T + m_e, k_g) / beta dT with an exact lower edge T = k.

    Basis b_j(T) = hat_j(ln T) (T/T_j)^-s: the flux is interpolated linearly in ln T after
    multiplying by T^s (exact for J ~ T^-s), which is linear in J.
    """
    n_g = k_GeV.size
    n_e = ek_nodes_GeV.size
    ln_nodes = np.log(ek_nodes_GeV)
    mat = np.zeros((n_g, n_e))
    for g in range(n_g):
        k = k_GeV[g]
        ln_min = np.log(k)  # T_0 >= k (E_1 >= m_e)
        for j in range(n_e - 1):
            lo = ln_nodes[j]
            hi = ln_nodes[j + 1]
            if hi <= ln_min:
                continue
            a = max(lo, ln_min)
            half = 0.5 * (hi - a)
            mid = 0.5 * (hi + a)
            for m in range(gl_x.size):
                ln_t = mid + half * gl_x[m]
                ek = np.exp(ln_t)
                e0 = ek + M_E_GEV
                beta = np.sqrt(1.0 - (M_E_GEV / e0) ** 2)
                val = gl_w[m] * half * ek * _dsigma_dk(
                    e0, k, grid, phi1_tab, phi2_tab, z_nucleus, n_electrons, multiplicity) / beta
                frac = (ln_t - lo) / (hi - lo)
                mat[g, j] += val * (1.0 - frac) * np.exp(-flux_index * (ln_t - lo))
                mat[g, j + 1] += val * frac * np.exp(-flux_index * (ln_t - hi))
    return mat


def _target_matrix(photon_energy_GeV, electron_ek_GeV, target, n_gauss=8, flux_index=3.0):
    grid, phi1_tab, phi2_tab, z_nucleus, n_electrons, multiplicity = _target_tables(target)
    gl_x, gl_w = np.polynomial.legendre.leggauss(n_gauss)
    return _build_matrix(photon_energy_GeV, electron_ek_GeV, gl_x, gl_w,
                         np.ascontiguousarray(grid, dtype=float), np.ascontiguousarray(phi1_tab, dtype=float),
                         np.ascontiguousarray(phi2_tab, dtype=float), z_nucleus, n_electrons, multiplicity,
                         float(flux_index))


class BremsstrahlungMatrix:
    """Bremsstrahlung emissivity matrices on (photon grid, electron kinetic-energy grid).

    Between grid nodes the electron flux is interpolated as T^-s x (linear in ln T) with a fixed
    index s = ``flux_index`` (exact for J ~ T^-s, error ~ (p - s)^2 dlnT^2 / 12 for J ~ T^-p, and
    still linear in J); each interval is integrated with Gauss-Legendre quadrature in ln T,
    starting exactly at the kinematic edge T_0 = k (E_1 = m_e).

    Parameters
    ----------
    gamma_energy_GeV : array_like, shape (n_g,)
        Photon energies k in GeV (>= 10 keV).
    electron_ek_GeV : array_like, shape (n_e,)
        Electron kinetic-energy grid in GeV, increasing (log-spaced, >= 10 per decade).
    he_to_h : float
        ISM He/H ratio folded into the neutral matrix (default 0.11).
    n_gauss : int
        Gauss-Legendre points per electron-grid interval.
    flux_index : float
        Power-law index s assumed for the flux inside grid intervals (default 3).

    Attributes
    ----------
    matrix_neutral_per_H : ndarray, shape (n_g, n_e)
        cm^2: q_neutral = M @ J_e per H atom (H atoms n_HI + 2 n_H2; He/H folded; neutral He).
    matrix_ionised_per_HII : ndarray, shape (n_g, n_e)
        cm^2: q per H+ ion of ionised gas (e-p + e-e, GALPROP convention).
    """

    def __init__(self, gamma_energy_GeV, electron_ek_GeV, he_to_h=0.11, n_gauss=8, flux_index=3.0):
        self.gamma_energy_GeV = np.ascontiguousarray(gamma_energy_GeV, dtype=float)
        self.electron_ek_GeV = np.ascontiguousarray(electron_ek_GeV, dtype=float)
        if np.any(self.gamma_energy_GeV < MIN_PHOTON_ENERGY_GEV):
            raise ValueError("photon energies below 10 keV are outside the Born-approximation formulas")
        if np.any(np.diff(self.electron_ek_GeV) <= 0):
            raise ValueError("electron_ek_GeV must be strictly increasing")
        self.he_to_h = float(he_to_h)
        args = (n_gauss, flux_index)
        m_h = _target_matrix(self.gamma_energy_GeV, self.electron_ek_GeV, "HI", *args)
        m_he = _target_matrix(self.gamma_energy_GeV, self.electron_ek_GeV, "He", *args)
        self.matrix_neutral_per_H = m_h + self.he_to_h * m_he
        self.matrix_ionised_per_HII = _target_matrix(self.gamma_energy_GeV, self.electron_ek_GeV, "HII", *args)

    @staticmethod
    def target_matrix(gamma_energy_GeV, electron_ek_GeV, target, n_gauss=8, flux_index=3.0):
        """Matrix (n_g, n_e) in cm^2 for a single target in ``TARGETS`` (q per target = M @ J_e)."""
        return _target_matrix(np.ascontiguousarray(gamma_energy_GeV, float), np.ascontiguousarray(electron_ek_GeV, float),
                              target, n_gauss, flux_index)

    def emissivity_per_sr(self, electron_flux, n_H_neutral_per_cm3, n_HII_per_cm3=0.0):
        """Volume emissivity j = n_H q_neutral + n_HII q_ionised in GeV^-1 cm^-3 s^-1 sr^-1.

        Parameters
        ----------
        electron_flux : array_like, shape (n_e,) or (n_e, n_cells)
            e- + e+ flux in GeV^-1 cm^-2 s^-1 sr^-1.
        n_H_neutral_per_cm3 : float or array_like, shape (n_cells,)
            n_HI + 2 n_H2 in cm^-3.
        n_HII_per_cm3 : float or array_like, shape (n_cells,)
            Ionised hydrogen density in cm^-3.

        Returns
        -------
        ndarray, shape (n_g,) or (n_g, n_cells)
        """
        flux = np.asarray(electron_flux, dtype=float)
        return (self.matrix_neutral_per_H @ flux) * np.asarray(n_H_neutral_per_cm3) + (
            self.matrix_ionised_per_HII @ flux
        ) * np.asarray(n_HII_per_cm3)
