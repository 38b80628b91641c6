"""Transport coefficients of the diffusion-reacceleration (DR) model.

* Spatial diffusion (docs/paper.md#table-i-propagation, docs/propagation.md#spatial-diffusion):
  D_xx(R) = beta^eta D0 (R / R_ref)^delta, R_ref = 4 GV.
* Momentum diffusion (Seo & Ptuskin 1994, ApJ 431, 705; GALPROP D_pp.cc, docs/propagation.md#reacceleration): D_pp D_xx = 4 p^2 v_A^2 / [3 delta (4 - delta)(4 - delta^2)], so the momentum
  diffusion *rate* D_pp / p^2 (1/s) does not depend on whether p is the momentum of the nucleus
  or per nucleon; the solver takes this rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..units import Species, beta_from_ek_per_n, rigidity_GV_from_ek_per_n

KM_CM = 1e5


@dataclass(frozen=True)
class DiffusionParameters:
    """Table I of the paper (DR model).

    Attributes
    ----------
    d0_cm2_per_s : float
        D0 at the reference rigidity, cm^2/s (Table I: 7.69e28).
    delta : float
        Rigidity index of D_xx (Table I: 0.362).
    eta : float
        Index of the beta^eta low-energy factor (Table I: -0.05).
    v_alfven_km_per_s : float
        Alfven speed for reacceleration, km/s (Table I: 33.76).
    zh_kpc : float
        Halo half height, kpc (Table I: 6.3); used by the grid, recorded here for completeness.
    rigidity_ref_GV : float
        Reference rigidity of D0, GV (paper: 4 GV).
    """

    d0_cm2_per_s: float = 7.69e28
    delta: float = 0.362
    eta: float = -0.05
    v_alfven_km_per_s: float = 33.76
    zh_kpc: float = 6.3
    rigidity_ref_GV: float = 4.0

    def __post_init__(self):
        if not self.d0_cm2_per_s > 0:
            raise ValueError(f"d0_cm2_per_s must be positive, got {self.d0_cm2_per_s}")
        if not 0 < self.delta < 2:
            raise ValueError(f"delta must lie in (0, 2) for the Seo-Ptuskin D_pp, got {self.delta}")
        if self.v_alfven_km_per_s < 0:
            raise ValueError(f"v_alfven_km_per_s must be >= 0, got {self.v_alfven_km_per_s}")


TABLE_I = DiffusionParameters()


def spatial_diffusion_cm2_per_s(rigidity_GV, beta, params: DiffusionParameters = TABLE_I):
    """D_xx(R) = beta^eta D0 (R / R_ref)^delta (docs/paper.md#table-i-propagation, docs/propagation.md#spatial-diffusion).

    Parameters
    ----------
    rigidity_GV : array_like
        Rigidity in GV.
    beta : array_like
        v/c of the particle (same shape).
    params : DiffusionParameters

    Returns
    -------
    ndarray
        Spatial diffusion coefficient in cm^2/s.
    """
    rigidity_GV = np.asarray(rigidity_GV, dtype=float)
    beta = np.asarray(beta, dtype=float)
    return beta**params.eta * params.d0_cm2_per_s * (rigidity_GV / params.rigidity_ref_GV) ** params.delta


def seo_ptuskin_factor(delta: float) -> float:
    """The Seo & Ptuskin (1994) constant 4 / [3 delta (4 - delta)(4 - delta^2)] (dimensionless)."""
    return 4.0 / (3.0 * delta * (4.0 - delta) * (4.0 - delta**2))


def momentum_diffusion_rate_per_s(diffusion_cm2_per_s, params: DiffusionParameters = TABLE_I):
    """D_pp / p^2 = 4 v_A^2 / [3 delta (4 - delta)(4 - delta^2) D_xx] in 1/s.

    Seo & Ptuskin (1994), as coded in GALPROP D_pp.cc (docs/propagation.md#reacceleration, w = 1).

    Parameters
    ----------
    diffusion_cm2_per_s : array_like
        Spatial diffusion coefficient D_xx in cm^2/s.
    params : DiffusionParameters
        Supplies v_A (km/s) and delta.

    Returns
    -------
    ndarray
        Momentum diffusion rate D_pp / p^2 in 1/s (independent of the momentum unit).
    """
    v_alfven_cm_per_s = params.v_alfven_km_per_s * KM_CM
    return seo_ptuskin_factor(params.delta) * v_alfven_cm_per_s**2 / np.asarray(diffusion_cm2_per_s, dtype=float)


def dr_coefficients(ek_GeV_per_n, species: Species, params: DiffusionParameters = TABLE_I):
    """D_xx and D_pp / p^2 of the DR model on an energy axis.

    Parameters
    ----------
    ek_GeV_per_n : array_like, shape (n_E,)
        Kinetic energy per nucleon in GeV/n.
    species : Species
    params : DiffusionParameters

    Returns
    -------
    diffusion_cm2_per_s : ndarray, shape (n_E,)
    dpp_over_p2_per_s : ndarray, shape (n_E,)
    """
    beta = beta_from_ek_per_n(ek_GeV_per_n, species)
    rigidity = rigidity_GV_from_ek_per_n(ek_GeV_per_n, species)
    diffusion = spatial_diffusion_cm2_per_s(rigidity, beta, params)
    return diffusion, momentum_diffusion_rate_per_s(diffusion, params)
