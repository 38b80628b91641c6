"""Inelastic hadronic cross sections and the catastrophic (fragmentation) loss rate.

* p-p: Kafexhiu, Aharonian, Taylor & Vila 2014 (PRD 90, 123014, Eq. 1), the parametrisation
  docs/emission.md#inelastic-cross-sections recommends (it is also the low-energy p-p cross section of the
  emission stage, docs/emission.md#low-energy-completion). Kelner, Aharonian & Bugayov 2006 (PRD 74, 034018) is available
  for comparison.
* p-He and He-p (default ``nuclear="galprop"``): the p-4He inelastic (reaction) cross section
  fitted by I. Moskalenko to p-He data, as coded in GALPROP ``nucleon_cs.cc`` (option 0, "pHe"):
  sigma = 111 mb [1 - (1 - sin(9.72 (log10 T_MeV)^0.319 - 4.14)) exp(-3.84 (T - 0.1))], T the
  kinetic energy per nucleon in GeV (clipped at 0 below its ~22 MeV zero). He on H at T_n is p on
  He at the same momentum per nucleon (same sqrt(s)). He-He: the p-He value times GALPROP's
  total-cross-section ratio sigma(He + A)/(H + A) = 2.10 A^-0.055 (Ferrando et al. 1988, PRC 37,
  1490; GALPROP ``He_to_H_CS.cc``), 1.95 for A = 4. GALPROP's fragmentation rate of p uses
  sigma_pp on H and this p-He value on He; that of He the p-He value on H and 1.95 x it on He
  (``create_transport_arrays.cc``). The fit is flat (111 mb) above a few GeV; where the
  geometric scaling 2.83 sigma_pp of the rising p-p cross section exceeds it (above ~3 TeV), that
  is used instead, so that the cross section keeps rising at the knee.

  Why not the p-p cross section scaled geometrically: nuclear break-up of 4He has no pion
  threshold, so sigma_pp (zero below T = 0.28 GeV and 30 % of its plateau at 0.5 GeV/n) times the
  Orth & Buffington (1976) factor (A1^(3/8) + A2^(3/8) - 1)^2 = 2.83 (docs/propagation.md#fragmentation,
  where GALPROP uses it for *meson production*) gives He-p = 0 at 0.2 GeV/n, 26 mb at 0.5 GeV/n
  and 85 mb at 10 GeV/n where p-4He data give ~110 mb at all three. He fragmentation competes with
  escape and ionisation below a few GeV/n, so that error bent the He LIS by ~10 % there.
  ``nuclear="orth_buffington"`` keeps that scaling for comparisons.

* :func:`inelastic_loss_rate_per_s`: 1/tau_f = beta c n_H (sigma_{X,H} + (He/H) sigma_{X,He})
  (docs/propagation.md#fragmentation, GALPROP ``fill_transport_arrays.cc``).

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
    "sigma_inel_phe_galprop_mb",
    "he_target_ratio_ferrando1988",
    "proton_equivalent_ek_GeV",
    "sigma_inel_mb",
    "inelastic_loss_rate_per_s",
    "PP_MODELS",
    "NUCLEAR_MODELS",
]

#: pi0 production threshold T_th = 2 m_pi0 + m_pi0^2/(2 m_p) = 0.2797 GeV (Kafexhiu+ 2014).
KAFEXHIU2014_THRESHOLD_GEV = 2.0 * M_PI0_GEV + M_PI0_GEV**2 / (2.0 * M_P_GEV)


def sigma_inel_pp_kafexhiu2014_mb(ek_GeV):
    """Inelastic p-p cross section of Kafexhiu et al. 2014 (PRD 90, 123014, Eq. 1).

    ``sigma = [30.7 - 0.96 L + 0.18 L^2] [1 - (T_th/T_p)^1.9]^3 mb``, ``L = ln(T_p/T_th)``,
    T_th = 0.2797 GeV (docs/emission.md#inelastic-cross-sections). Zero at and below threshold.

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
    E_p = T_p + m_p the total proton energy, E_th = 1.22 GeV (docs/emission.md#inelastic-cross-sections).

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

    As used by GALPROP ``pp_meson.f`` (docs/propagation.md#fragmentation): 1 for p-p, 2.83 for p-He and
    He-p, 5.59 for He-He.
    """
    return (mass_number_beam ** 0.375 + mass_number_target ** 0.375 - 1.0) ** 2


def sigma_inel_phe_galprop_mb(ek_GeV_per_n):
    """Inelastic p-4He cross section, GALPROP's fit (``nucleon_cs.cc``, option 0, "pHe, my fit").

    ``sigma = 111 [1 - (1 - sin(9.72 (log10 T_MeV)^0.319 - 4.14)) exp(-3.84 (T - 0.1))] mb`` for
    T > 0.01 GeV, T the kinetic energy per nucleon of the projectile in GeV (T_MeV = 1e3 T). The
    formula turns negative below ~22 MeV (the break-up threshold region); it is clipped at 0.
    Values: 110 mb at 0.1 GeV, 88 at 0.3, 107 at 1, 111 mb above ~3 GeV.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        Kinetic energy per nucleon (proton kinetic energy for p on He) in GeV.

    Returns
    -------
    numpy.ndarray
        sigma_inel in mb (>= 0).
    """
    t = np.asarray(ek_GeV_per_n, dtype=float)
    above = t > 0.01
    t_safe = np.where(above, t, 1.0)
    oscillation = 1.0 - np.sin(9.72 * np.log10(t_safe * 1e3) ** 0.319 - 4.14)
    sigma = 111.0 * (1.0 - oscillation * np.exp(-3.84 * (t_safe - 0.1)))
    return np.where(above, np.clip(sigma, 0.0, None), 0.0)


def he_target_ratio_ferrando1988(mass_number_beam: int) -> float:
    """Ratio of total inelastic cross sections sigma(A + He)/sigma(A + H) = 2.10 A^-0.055.

    Ferrando et al. 1988 (PRC 37, 1490) as coded in GALPROP ``He_to_H_CS.cc`` (``CStot_ratio``);
    1.946 for a 4He beam.
    """
    return 2.10 / float(mass_number_beam) ** 0.055


def proton_equivalent_ek_GeV(ek_GeV_per_n, species: Species):
    """Kinetic energy of a proton with the same momentum per nucleon as the projectile.

    p_n = sqrt(T_n (T_n + 2 m_n)) (docs/conventions.md#kinematics-of-nuclei), T_p = sqrt(p_n^2 + m_p^2) - m_p.
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


NUCLEAR_MODELS = ("galprop", "orth_buffington")


def sigma_inel_mb(ek_GeV_per_n, species: Species, target_mass_number: int = 1,
                  model: str = "kafexhiu2014", scaling: float | None = None, nuclear: str = "galprop"):
    """Inelastic cross section of a p or He projectile on an H or He target.

    p-p: the ``model`` parametrisation of sigma_pp (docs/emission.md#inelastic-cross-sections). Channels with a
    He nucleus (module docstring): ``nuclear="galprop"`` (default) uses GALPROP's p-4He fit
    (:func:`sigma_inel_phe_galprop_mb`) for p-He and He-p and 1.95 times it for He-He
    (:func:`he_target_ratio_ferrando1988`); ``nuclear="orth_buffington"`` scales sigma_pp by
    (A1^(3/8) + A2^(3/8) - 1)^2 (which misses the break-up of He below the pion threshold). All at
    the same momentum per nucleon as the projectile (:func:`proton_equivalent_ek_GeV`).

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
        If given, sigma = scaling x sigma_pp for any channel (overrides ``nuclear``).
    nuclear : {"galprop", "orth_buffington"}
        Cross sections of the channels with a He nucleus.

    Returns
    -------
    numpy.ndarray
        sigma_inel in mb.
    """
    if species.mass_GeV < 0.1:
        raise ValueError(f"no hadronic inelastic cross section for {species.name}")
    if model not in PP_MODELS:
        raise KeyError(f"unknown p-p cross-section model {model!r}; expected one of {sorted(PP_MODELS)}")
    if nuclear not in NUCLEAR_MODELS:
        raise KeyError(f"unknown nuclear cross-section model {nuclear!r}; expected one of {NUCLEAR_MODELS}")
    if target_mass_number not in (1, 4) or species.mass_number not in (1, 4):
        raise ValueError("only p and 4He projectiles on H or He targets are implemented")
    t_p = proton_equivalent_ek_GeV(ek_GeV_per_n, species)
    if scaling is not None:
        return scaling * PP_MODELS[model](t_p)
    if species.mass_number == 1 and target_mass_number == 1:
        return PP_MODELS[model](t_p)
    if nuclear == "orth_buffington":
        return orth_buffington_factor(species.mass_number, target_mass_number) * PP_MODELS[model](t_p)
    # GALPROP's fit is flat above a few GeV (its data range); above ~3 TeV the geometric scaling of
    # the rising sigma_pp (Orth & Buffington) takes over, so the cross section keeps rising with it
    sigma = np.maximum(sigma_inel_phe_galprop_mb(t_p), orth_buffington_factor(1, 4) * PP_MODELS[model](t_p))
    if species.mass_number == 4 and target_mass_number == 4:
        sigma = he_target_ratio_ferrando1988(4) * sigma
    return sigma


def inelastic_loss_rate_per_s(ek_GeV_per_n, species: Species, n_h_cm3, he_to_h: float = 0.11,
                              model: str = "kafexhiu2014", nuclear: str = "galprop"):
    """Catastrophic (inelastic) loss rate 1/tau_f = beta c n_H (sigma_{X,H} + (He/H) sigma_{X,He}).

    docs/propagation.md#fragmentation (GALPROP ``fill_transport_arrays.cc``); He is distributed like H
    with He/H = 0.11 by number (docs/galaxy_inputs.md#helium).

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
    nuclear : {"galprop", "orth_buffington"}
        Cross sections of the channels with a He nucleus (:func:`sigma_inel_mb`).

    Returns
    -------
    numpy.ndarray, shape (n_energy,) + S
        Loss rate in s^-1 (energy on the first axis, as the solver's (n_E, n_r, n_z) arrays).
    """
    t = np.atleast_1d(np.asarray(ek_GeV_per_n, dtype=float))
    if t.ndim != 1:
        raise ValueError("ek_GeV_per_n must be 1D")
    beta = beta_from_ek_per_n(t, species)
    sigma_cm2 = MB_CM2 * (sigma_inel_mb(t, species, 1, model, nuclear=nuclear)
                          + he_to_h * sigma_inel_mb(t, species, 4, model, nuclear=nuclear))
    n_h = np.asarray(n_h_cm3, dtype=float)
    rate_per_h = beta * C_CM_PER_S * sigma_cm2
    return rate_per_h.reshape(rate_per_h.shape + (1,) * n_h.ndim) * n_h[None, ...]
