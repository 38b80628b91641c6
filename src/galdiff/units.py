"""Physical constants and kinematic conversions.

Conventions (see docs/architecture.md): energies in GeV, rigidities in GV, lengths in kpc,
fluxes in GeV^-1 cm^-2 s^-1 sr^-1. Constants follow docs/conventions.md#constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

C_CM_PER_S = 2.99792458e10
KPC_CM = 3.085678e21
YEAR_S = 3.15576e7
EV_ERG = 1.602177e-12
MB_CM2 = 1e-27
SIGMA_T_CM2 = 6.6524587e-25
R0_ELECTRON_CM = 2.8179403e-13
ALPHA_FS = 7.2973526e-3
HBAR_C_EV_CM = 1.9732698e-5
K_B_EV_PER_K = 8.617333e-5

M_E_GEV = 0.51099895e-3
M_P_GEV = 0.938272
M_HE4_GEV = 3.727379
AMU_GEV = 0.931494
M_PI0_GEV = 0.1349768

M2_TO_CM2 = 1e4  # 1 m^2 = 1e4 cm^2: a flux per m^2 times 1e-4 is a flux per cm^2


@dataclass(frozen=True)
class Species:
    """A cosmic-ray species: mass number, charge and rest mass of the particle.

    Attributes
    ----------
    name : str
    mass_number : int
        A (1 for leptons, so that "per nucleon" means "per particle").
    charge : int
        Z in units of e (absolute value is used for rigidity).
    mass_GeV : float
        Rest mass of the whole particle in GeV.
    """

    name: str
    mass_number: int
    charge: int
    mass_GeV: float

    @property
    def mass_per_nucleon_GeV(self) -> float:
        return self.mass_GeV / self.mass_number


PROTON = Species("proton", 1, 1, M_P_GEV)
HELIUM = Species("helium", 4, 2, M_HE4_GEV)
ELECTRON = Species("electron", 1, -1, M_E_GEV)
POSITRON = Species("positron", 1, 1, M_E_GEV)
SPECIES = {s.name: s for s in (PROTON, HELIUM, ELECTRON, POSITRON)}


def get_species(name: str) -> Species:
    """Look a species up by name; raise a clear error for an unknown one."""
    try:
        return SPECIES[name]
    except KeyError:
        raise KeyError(f"unknown species {name!r}; expected one of {sorted(SPECIES)}") from None


def rigidity_GV_from_ek_per_n(ek_GeV_per_n, species: Species):
    """Rigidity R = (A/|Z|) sqrt(T_n (T_n + 2 m_n)) in GV (docs/conventions.md#kinematics-of-nuclei)."""
    t = np.asarray(ek_GeV_per_n, dtype=float)
    m_n = species.mass_per_nucleon_GeV
    return species.mass_number / abs(species.charge) * np.sqrt(t * (t + 2.0 * m_n))


def ek_per_n_from_rigidity_GV(rigidity_GV, species: Species):
    """Kinetic energy per nucleon T_n = sqrt((|Z| R / A)^2 + m_n^2) - m_n in GeV/n."""
    r = np.asarray(rigidity_GV, dtype=float)
    m_n = species.mass_per_nucleon_GeV
    p_per_n = abs(species.charge) * r / species.mass_number
    # written to avoid cancellation for T_n << m_n
    return p_per_n**2 / (np.sqrt(p_per_n**2 + m_n**2) + m_n)


def beta_from_ek_per_n(ek_GeV_per_n, species: Species):
    """Speed v/c of a particle with kinetic energy per nucleon T_n."""
    t = np.asarray(ek_GeV_per_n, dtype=float)
    m_n = species.mass_per_nucleon_GeV
    return np.sqrt(t * (t + 2.0 * m_n)) / (t + m_n)


def drigidity_dek_per_n(ek_GeV_per_n, species: Species):
    """Jacobian dR/dT_n = (A/|Z|)/beta in GV per (GeV/n)."""
    return species.mass_number / abs(species.charge) / beta_from_ek_per_n(ek_GeV_per_n, species)


def ek_per_n_from_total_energy(e_total_GeV, species: Species):
    """T_n = (E_tot - M)/A for a total energy per particle E_tot in GeV."""
    return (np.asarray(e_total_GeV, dtype=float) - species.mass_GeV) / species.mass_number


def ek_per_n_from_ek_per_particle(ek_GeV, species: Species):
    """T_n = T/A for a kinetic energy per particle T in GeV."""
    return np.asarray(ek_GeV, dtype=float) / species.mass_number
