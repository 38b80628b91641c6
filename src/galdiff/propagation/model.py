"""Assemble a propagation problem from the configuration: the physical Galaxy on a grid.

This is where the physics inputs meet the solver: the GALPROP analytic gas
(:mod:`galdiff.galaxy.gas`), the ISRF and CMB (:mod:`galdiff.galaxy.isrf`), the B field
(:mod:`galdiff.galaxy.bfield`), the SNR source distribution (docs/paper.md#eq-2-source-distribution), the DR
coefficients (docs/paper.md#table-i-propagation) and the loss and inelastic rates are evaluated once on the
(E, r, z) grid and handed to :class:`~galdiff.propagation.solver.PropagationSetup`.

Choices (documented because the paper does not state them):

* Gas: GALPROP's 2D models (HI model 2, H2 with constant X_CO = 1.9e20, HII model 1) averaged
  over each z cell as GALPROP does (``cell_average_z``), with the GALPROP Sun at 8.5 kpc inside
  the gas recipe (its tables are defined that way); the source law and the observer use the
  paper's r_sun = 8.3 kpc.
* ISM helium: He/H = 0.11 by number (issue 3).
* Electron losses: ionisation, Coulomb, bremsstrahlung, synchrotron in the GALPROP exponential
  B field, and Klein-Nishina inverse Compton on the optical + infrared ISRF file plus an
  analytic 2.725 K CMB.
* Nuclei: ionisation and Coulomb losses, inelastic (catastrophic) p-H/He and He-H/He collisions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import schema_defaults
from ..galaxy import bfield, gas, sources
from ..galaxy.isrf import read_isrf
from ..interactions.cross_sections import inelastic_loss_rate_per_s
from ..spectra import injection_per_ek_per_n
from ..units import Species, get_species
from .coefficients import DiffusionParameters, dr_coefficients
from .grid import Grid
from .losses import electron_loss_rates_GeV_per_s, nucleus_loss_rates_GeV_per_n_per_s
from .solver import PropagationSetup

NUCLEI = ("proton", "helium")
LEPTONS = ("electron", "positron")


def diffusion_parameters(propagation_cfg: dict) -> DiffusionParameters:
    """Table I parameters from a ``models.<name>.propagation`` config mapping."""
    return DiffusionParameters(
        d0_cm2_per_s=float(propagation_cfg["D0_1e28_cm2_per_s"]) * 1e28,
        delta=float(propagation_cfg["delta"]),
        eta=float(propagation_cfg["eta"]),
        v_alfven_km_per_s=float(propagation_cfg["vA_km_per_s"]),
        zh_kpc=float(propagation_cfg["zh_kpc"]),
    )


def model_grid(grid_cfg: dict, propagation_cfg: dict, species: str) -> Grid:
    """The grid of one species: spacings and energies from ``grid_cfg``, r_max and zh from the model."""
    cfg = dict(grid_cfg)
    cfg["r_max_kpc"] = float({**schema_defaults("models.*.propagation"), **propagation_cfg}["r_max_kpc"])
    cfg["zh_kpc"] = float(propagation_cfg["zh_kpc"])
    return Grid.from_config(cfg, species=species)


@dataclass
class GalaxyEnvironment:
    """Interstellar conditions on the (r, z) nodes of a grid, all shaped (n_r, n_z).

    Attributes
    ----------
    n_hi_cm3, n_h2_cm3, n_hii_cm3 : ndarray
        Atomic, molecular (molecules) and ionised hydrogen densities in cm^-3.
    u_b_eV_cm3 : ndarray
        Magnetic energy density in eV cm^-3.
    eps_eV : ndarray or None, shape (n_eps,)
        Photon energies of the radiation field.
    photon_density_per_cm3_eV : ndarray or None, shape (n_r, n_z, n_eps)
        ISRF (optical + infrared) plus CMB number density per photon energy.
    he_to_h : float
        ISM helium-to-hydrogen number ratio.
    """

    n_hi_cm3: np.ndarray
    n_h2_cm3: np.ndarray
    n_hii_cm3: np.ndarray
    u_b_eV_cm3: np.ndarray
    eps_eV: np.ndarray | None
    photon_density_per_cm3_eV: np.ndarray | None
    he_to_h: float = gas.HE_TO_H

    @property
    def n_h_total_cm3(self) -> np.ndarray:
        """Hydrogen nuclei per cm^3: n_HI + 2 n_H2 + n_HII."""
        return self.n_hi_cm3 + 2.0 * self.n_h2_cm3 + self.n_hii_cm3


def galaxy_environment(grid: Grid, galaxy_cfg: dict | None = None, isrf_path=None) -> GalaxyEnvironment:
    """Evaluate gas, B field and (if ``isrf_path`` is given) the radiation field on the grid.

    Parameters
    ----------
    grid : Grid
    galaxy_cfg : dict, optional
        ``propagation.galaxy`` of the configuration: ``gas_r_sun_kpc``, ``x_co``, ``he_to_h``,
        ``b0_microG``, ``b_r_scale_kpc``, ``b_z_scale_kpc``; a key left out takes the schema's default.
    isrf_path : path-like, optional
        GALPROP-format ISRF FITS file; without it the radiation field is left out (nuclei).
    """
    cfg = {**schema_defaults("propagation.galaxy"), **(galaxy_cfg or {})}
    gas_model = gas.GasModel.from_config(cfg)
    gas_cm3 = gas_model.on_grid_cm3(grid.r_kpc, grid.z_kpc)
    radius = grid.r_kpc[:, None]
    height = grid.z_kpc[None, :]
    b_microG = bfield.b_field_microG(
        radius, height,
        b0_microG=float(cfg["b0_microG"]),
        r_scale_kpc=float(cfg["b_r_scale_kpc"]),
        z_scale_kpc=float(cfg["b_z_scale_kpc"]),
        r_sun_kpc=gas_model.r_sun_kpc,
    )
    eps_eV = photons = None
    if isrf_path is not None:
        eps_eV, photons = read_isrf(isrf_path).photon_field(radius, height)
    shape = (grid.r_kpc.size, grid.z_kpc.size)
    return GalaxyEnvironment(
        n_hi_cm3=gas_cm3["HI"],
        n_h2_cm3=gas_cm3["H2"],
        n_hii_cm3=gas_cm3["HII"],
        u_b_eV_cm3=np.broadcast_to(bfield.magnetic_energy_density_eV_cm3(b_microG), shape).copy(),
        eps_eV=eps_eV,
        photon_density_per_cm3_eV=photons,
        he_to_h=gas_model.he_to_h,
    )


def continuous_loss_rate(grid: Grid, species: Species, env: GalaxyEnvironment) -> np.ndarray:
    """b = -dT_n/dt in GeV/n per s on the grid, shape (n_E, n_r, n_z)."""
    if species.name in LEPTONS:
        rates = electron_loss_rates_GeV_per_s(
            grid.ek_GeV_per_n, env.n_hi_cm3, env.n_h2_cm3, env.n_hii_cm3, env.u_b_eV_cm3,
            eps_eV=env.eps_eV, dn_deps_per_cm3_eV=env.photon_density_per_cm3_eV, he_to_h=env.he_to_h,
        )
    else:
        rates = nucleus_loss_rates_GeV_per_n_per_s(
            grid.ek_GeV_per_n, species, env.n_hi_cm3, env.n_h2_cm3, env.n_hii_cm3, he_to_h=env.he_to_h
        )
    return rates["total"]


def propagation_setup(grid: Grid, species_name: str, params: DiffusionParameters, env: GalaxyEnvironment,
                      reacceleration: bool = True, losses: bool = True, catastrophic: bool = True,
                      loss_order: int = 3) -> PropagationSetup:
    """All coefficient arrays of one species in the DR model on ``grid``.

    ``loss_order`` selects the upwind order of the energy-loss flux (3: accurate at >= 8 bins per
    decade; 1: GALPROP's monotone first-order scheme, for very coarse energy grids).
    """
    species = get_species(species_name)
    diffusion, dpp_over_p2 = dr_coefficients(grid.ek_GeV_per_n, species, params)
    catastrophic_rate = None
    if catastrophic and species_name in NUCLEI:
        catastrophic_rate = inelastic_loss_rate_per_s(grid.ek_GeV_per_n, species, env.n_h_total_cm3, he_to_h=env.he_to_h)
    return PropagationSetup(
        grid=grid,
        species=species,
        diffusion_cm2_per_s=diffusion,
        dpp_over_p2_per_s=dpp_over_p2 if reacceleration and params.v_alfven_km_per_s > 0 else None,
        loss_rate_GeV_per_n_per_s=continuous_loss_rate(grid, species, env) if losses else None,
        catastrophic_rate_per_s=catastrophic_rate,
        loss_order=loss_order,
    )


def source_shape(grid: Grid, r_sun_kpc: float = 8.3) -> np.ndarray:
    """docs/paper.md#eq-2-source-distribution SNR distribution on the (r, z) nodes, normalised to 1 at the Sun.

    Averaged over each z cell like the gas: the 0.2 kpc exponential is only two cells wide at
    dz = 0.1 kpc, and point sampling misstates the injected power by +2 % there (-6 % at dz = 0.2).
    """
    shape = gas.cell_average_z(sources.snr_distribution, grid.r_kpc[:, None], grid.z_kpc[None, :], grid.dz_kpc,
                               r_sun_kpc=r_sun_kpc)
    return shape / sources.snr_distribution(r_sun_kpc, 0.0, r_sun_kpc=r_sun_kpc)


def injection_spectrum_per_GeV_per_n(ek_GeV_per_n, species_name: str, injection_cfg: dict, norm: float = 1.0):
    """Eq. 3 (broken power law in rigidity with cutoff) as a spectrum per unit T_n, from an injection entry.

    Q(T_n) = norm q(R(T_n)) dR/dT_n, with q normalised to 1 at R = 1 GV below the first break
    (:func:`galdiff.spectra.injection_per_ek_per_n`). Units follow ``norm`` (e.g. cm^-3 s^-1 GV^-1
    in, cm^-3 s^-1 (GeV/n)^-1 out).
    """
    return injection_per_ek_per_n(ek_GeV_per_n, get_species(species_name), injection_cfg["nu"],
                                  injection_cfg["breaks_GV"], injection_cfg.get("cutoff_GV"), norm)
