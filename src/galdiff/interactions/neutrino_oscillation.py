"""Neutrino flavour mixing averaged over Galactic baselines.

Over kpc baselines the vacuum oscillation phases average out (the oscillation length is
2.48 km x (E/GeV) / (Delta m^2 / eV^2), about 1e-3 pc at 1 PeV), so the flavour transition
probability is P(alpha -> beta) = sum_i |U_alpha i|^2 |U_beta i|^2 with the PMNS matrix U
(docs/emission.md#neutrino-oscillations). Fluxes here are per flavour, neutrino + antineutrino summed;
P is the same for antineutrinos (U -> U*), so the sum transforms with the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MixingAngles",
    "NUFIT52_NO_WITH_SK",
    "NUFIT52_NO_WITHOUT_SK",
    "TRIBIMAXIMAL",
    "pmns_matrix",
    "averaged_transition_matrix",
    "flavour_fluxes_at_earth",
]


@dataclass(frozen=True)
class MixingAngles:
    """PMNS parameters in degrees (standard parametrisation).

    Attributes
    ----------
    theta12_deg, theta13_deg, theta23_deg : float
        Mixing angles in degrees.
    delta_cp_deg : float
        Dirac CP phase in degrees.
    """

    theta12_deg: float
    theta13_deg: float
    theta23_deg: float
    delta_cp_deg: float


# docs/emission.md#neutrino-oscillations (NuFIT 5.2 normal ordering; the doc flags these as recalled values)
NUFIT52_NO_WITH_SK = MixingAngles(33.41, 8.58, 42.2, 232.0)
NUFIT52_NO_WITHOUT_SK = MixingAngles(33.41, 8.54, 49.1, 197.0)
TRIBIMAXIMAL = MixingAngles(np.degrees(np.arcsin(np.sqrt(1.0 / 3.0))), 0.0, 45.0, 0.0)


def pmns_matrix(angles: MixingAngles) -> np.ndarray:
    """PMNS matrix U (rows e, mu, tau; columns mass states 1, 2, 3), complex 3 x 3.

    Standard parametrisation as written in docs/emission.md#neutrino-oscillations (PDG).
    """
    t12, t13, t23, d = np.radians(
        [angles.theta12_deg, angles.theta13_deg, angles.theta23_deg, angles.delta_cp_deg]
    )
    s12, c12, s13, c13, s23, c23 = np.sin(t12), np.cos(t12), np.sin(t13), np.cos(t13), np.sin(t23), np.cos(t23)
    phase = np.exp(1j * d)
    return np.array(
        [
            [c12 * c13, s12 * c13, s13 / phase],
            [-s12 * c23 - c12 * s23 * s13 * phase, c12 * c23 - s12 * s23 * s13 * phase, s23 * c13],
            [s12 * s23 - c12 * c23 * s13 * phase, -c12 * s23 - s12 * c23 * s13 * phase, c23 * c13],
        ]
    )


def averaged_transition_matrix(angles: MixingAngles = NUFIT52_NO_WITH_SK) -> np.ndarray:
    """Phase-averaged transition probabilities P[alpha, beta] = sum_i |U_ai|^2 |U_bi|^2.

    Parameters
    ----------
    angles : MixingAngles
        Default NuFIT 5.2 NO with SK (docs/emission.md#neutrino-oscillations).

    Returns
    -------
    ndarray, shape (3, 3)
        Symmetric, rows and columns summing to 1; rows alpha = source flavour (e, mu, tau).
    """
    weights = np.abs(pmns_matrix(angles)) ** 2
    return weights @ weights.T


def flavour_fluxes_at_earth(flux_e_source, flux_mu_source, flux_tau_source=None, angles: MixingAngles = NUFIT52_NO_WITH_SK):
    """Per-flavour (nu + anti-nu) fluxes or emissivities after Galactic-baseline oscillations.

    phi_beta(Earth) = sum_alpha P(alpha -> beta) phi_alpha(source)  (docs/emission.md#neutrino-oscillations).
    Works on any arrays of equal shape (emissivities per H atom, intensities, map cubes), since
    oscillations act at each energy independently.

    Parameters
    ----------
    flux_e_source, flux_mu_source : array_like
        nu_e + anti-nu_e and nu_mu + anti-nu_mu at the source (same shape, any units).
    flux_tau_source : array_like, optional
        nu_tau + anti-nu_tau at the source (zero for pion decay; AAfrag produces none).
    angles : MixingAngles

    Returns
    -------
    tuple of ndarray
        (phi_e, phi_mu, phi_tau) at Earth, same shape and units as the input.
    """
    source = np.stack(
        [
            np.asarray(flux_e_source, dtype=float),
            np.asarray(flux_mu_source, dtype=float),
            np.zeros_like(np.asarray(flux_e_source, dtype=float)) if flux_tau_source is None else np.asarray(flux_tau_source, dtype=float),
        ]
    )
    prob = averaged_transition_matrix(angles)
    earth = np.tensordot(prob.T, source, axes=1)
    return earth[0], earth[1], earth[2]
