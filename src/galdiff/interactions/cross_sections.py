"""Inelastic hadronic cross sections and the catastrophic (fragmentation) loss rate.

* p-p: Kafexhiu, Aharonian, Taylor & Vila 2014 (PRD 90, 123014, Eq. 1), the parametrisation
  EMISSION_PHYSICS.md Sec. 3.5 recommends (it is also the low-energy p-p cross section of the
  emission stage, Sec. 3.4). Kelner, Aharonian & Bugayov 2006 (PRD 74, 034018) is available
  for comparison.
* p-He, He-p, He-He: the p-p cross section at the same momentum per nucleon times the
  Orth & Buffington (1976) geometric factor (A1^(3/8) + A2^(3/8) - 1)^2 (GALAXY_INPUTS.md
  Sec. 5.5): 2.83 for p-He/He-p, 5.59 for He-He.

  Caveat (documented decision): GALPROP applies this factor to its *meson-production* cross
  sections (GALAXY_INPUTS.md Sec. 5.5); applied to the inelastic cross section it gives
  sigma_pHe ~ 85 mb at 10 GeV, which is, from memory of the literature (not verified offline),
  some 20 % below measured p-4He inelastic values (GALPROP's own fragmentation uses dedicated
  nuclear parametrisations that are not available here). The ``scaling`` argument of
  :func:`sigma_inel_mb` lets a better factor be dropped in.

* :func:`inelastic_loss_rate_per_s`: 1/tau_f = beta c n_H (sigma_{X,H} + (He/H) sigma_{X,He})
  (GALAXY_INPUTS.md Sec. 5.5, GALPROP ``fill_transport_arrays.cc``).

Units: kinetic energies in GeV (per nucleon for nuclei), cross sections in mb, rates in s^-1.
"""

from __future__ import annotations

import numpy as np

from ..units import C_CM_PER_S, M_P_GEV, M_PI0_GEV, MB_CM2, Species, beta_from_ek_per_n

__all__ = [
    "KAFEXHIU2014_THRESHOLD_GEV",
    "sigma_inel_pp_kafexhiu2014_mb",
    "sigma_inel_pp_kelner2006_mb",
    "orth_buffington_factor",
    "proton_equivalent_ek_GeV",
    "sigma_inel_mb",
    "inelastic_loss_rate_per_s",
    "PP_MODELS",
]

#: pi0 production threshold T_th = 2 m_pi0 + m_pi0^2/(2 m_p) = 0.2797 GeV (Kafexhiu+ 2014).
KAFEXHIU2014_THRESHOLD_GEV = 2.0 * M_PI0_GEV + M_PI0_GEV**2 / (2.0 * M_P_GEV)


def sigma_inel_pp_kafexhiu2014_mb(ek_GeV):
    """Inelastic p-p cross section of Kafexhiu et al. 2014 (PRD 90, 123014, Eq. 1).

    ``sigma = [30.7 - 0.96 L + 0.18 L^2] [1 - (T_th/T_p)^1.9]^3 mb``, ``L = ln(T_p/T_th)``,
    T_th = 0.2797 GeV (EMISSION_PHYSICS.md Sec. 3.5). Zero at and below threshold.

    Parameters
    ----------
    ek_GeV : array_like
        Proton kinetic energy T_p in GeV (lab frame, target at rest).

    Returns
    -------
    numpy.ndarray
        sigma_inel in mb.
    """
    t = np.asarray(ek_GeV, dtype=float)
    above = t > KAFEXHIU2014_THRESHOLD_GEV
    t_safe = np.where(above, t, 2.0 * KAFEXHIU2014_THRESHOLD_GEV)
    log_ratio = np.log(t_safe / KAFEXHIU2014_THRESHOLD_GEV)
    sigma = (30.7 - 0.96 * log_ratio + 0.18 * log_ratio**2) * (
        1.0 - (KAFEXHIU2014_THRESHOLD_GEV / t_safe) ** 1.9
    ) ** 3
    return np.where(above, sigma, 0.0)


def sigma_inel_pp_kelner2006_mb(ek_GeV):
    """Inelastic p-p cross section of Kelner, Aharonian & Bugayov 2006 (PRD 74, 034018, Eq. 79).

    ``sigma = (34.3 + 1.88 L + 0.25 L^2) [1 - (E_th/E_p)^4]^2 mb``, ``L = ln(E_p/1 TeV)``,
    E_p = T_p + m_p the total proton energy, E_th = 1.22 GeV (EMISSION_PHYSICS.md Sec. 3.5).

    Parameters
    ----------
    ek_GeV : array_like
        Proton kinetic energy in GeV.

    Returns
    -------
    numpy.ndarray
        sigma_inel in mb (zero below E_th).
    """
    e_tot = np.asarray(ek_GeV, dtype=float) + M_P_GEV
    e_th = 1.22
    above = e_tot > e_th
    e_safe = np.where(above, e_tot, 2.0 * e_th)
    log_e = np.log(e_safe / 1000.0)
    sigma = (34.3 + 1.88 * log_e + 0.25 * log_e**2) * (1.0 - (e_th / e_safe) ** 4) ** 2
    return np.where(above, sigma, 0.0)


PP_MODELS = {
    "kafexhiu2014": sigma_inel_pp_kafexhiu2014_mb,
    "kelner2006": sigma_inel_pp_kelner2006_mb,
}


def orth_buffington_factor(mass_number_beam: int, mass_number_target: int) -> float:
    """Geometric scaling (A1^(3/8) + A2^(3/8) - 1)^2 (Orth & Buffington 1976).

    As used by GALPROP ``pp_meson.f`` (GALAXY_INPUTS.md Sec. 5.5): 1 for p-p, 2.83 for p-He and
    He-p, 5.59 for He-He.
    """
    return (mass_number_beam ** 0.375 + mass_number_target ** 0.375 - 1.0) ** 2


def proton_equivalent_ek_GeV(ek_GeV_per_n, species: Species):
    """Kinetic energy of a proton with the same momentum per nucleon as the projectile.

    p_n = sqrt(T_n (T_n + 2 m_n)) (EMISSION_PHYSICS.md Sec. 1.2), T_p = sqrt(p_n^2 + m_p^2) - m_p.
    For a proton this is the identity; for 4He it differs from T_n by < 1 %.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        Projectile kinetic energy per nucleon in GeV/n.
    species : Species
    """
    t = np.asarray(ek_GeV_per_n, dtype=float)
    m_n = species.mass_per_nucleon_GeV
    p_n_sq = t * (t + 2.0 * m_n)
    return p_n_sq / (np.sqrt(p_n_sq + M_P_GEV**2) + M_P_GEV)


def sigma_inel_mb(ek_GeV_per_n, species: Species, target_mass_number: int = 1,
                  model: str = "kafexhiu2014", scaling: float | None = None):
    """Inelastic cross section of a p or He projectile on an H or He target.

    sigma_{A1 A2}(T_n) = sigma_pp(T_p at the same momentum per nucleon) x
    (A1^(3/8) + A2^(3/8) - 1)^2 (GALAXY_INPUTS.md Sec. 5.5; EMISSION_PHYSICS.md Sec. 3.5 for
    sigma_pp). See the module docstring for the caveat on nuclear targets.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        Projectile kinetic energy per nucleon in GeV/n.
    species : Species
        Projectile (``mass_number`` 1 or 4; electrons/positrons are rejected).
    target_mass_number : int
        1 (hydrogen) or 4 (helium).
    model : str
        p-p parametrisation, a key of :data:`PP_MODELS`.
    scaling : float or None
        Override of the geometric factor (None: Orth & Buffington).

    Returns
    -------
    numpy.ndarray
        sigma_inel in mb.
    """
    if species.mass_GeV < 0.1:
        raise ValueError(f"no hadronic inelastic cross section for {species.name}")
    if model not in PP_MODELS:
        raise KeyError(f"unknown p-p cross-section model {model!r}; expected one of {sorted(PP_MODELS)}")
    factor = orth_buffington_factor(species.mass_number, target_mass_number) if scaling is None else scaling
    return factor * PP_MODELS[model](proton_equivalent_ek_GeV(ek_GeV_per_n, species))


def inelastic_loss_rate_per_s(ek_GeV_per_n, species: Species, n_h_cm3, he_to_h: float = 0.11,
                              model: str = "kafexhiu2014"):
    """Catastrophic (inelastic) loss rate 1/tau_f = beta c n_H (sigma_{X,H} + (He/H) sigma_{X,He}).

    GALAXY_INPUTS.md Sec. 5.5 (GALPROP ``fill_transport_arrays.cc``); He is distributed like H
    with He/H = 0.11 by number (Sec. 1.1(e)).

    Parameters
    ----------
    ek_GeV_per_n : array_like, shape (n_energy,)
        Kinetic energy per nucleon in GeV/n (1D).
    species : Species
        Projectile (proton or helium).
    n_h_cm3 : array_like, any shape S
        Total hydrogen-atom density n_HI + 2 n_H2 + n_HII in cm^-3, one value per cell.
    he_to_h : float
        ISM He/H number ratio.
    model : str
        p-p parametrisation (see :data:`PP_MODELS`).

    Returns
    -------
    numpy.ndarray, shape (n_energy,) + S
        Loss rate in s^-1 (energy on the first axis, as the solver's (n_E, n_r, n_z) arrays).
    """
    t = np.atleast_1d(np.asarray(ek_GeV_per_n, dtype=float))
    if t.ndim != 1:
        raise ValueError("ek_GeV_per_n must be 1D")
    beta = beta_from_ek_per_n(t, species)
    sigma_cm2 = MB_CM2 * (sigma_inel_mb(t, species, 1, model) + he_to_h * sigma_inel_mb(t, species, 4, model))
    n_h = np.asarray(n_h_cm3, dtype=float)
    rate_per_h = beta * C_CM_PER_S * sigma_cm2
    return rate_per_h.reshape(rate_per_h.shape + (1,) * n_h.ndim) * n_h[None, ...]
