"""Emissivity tables on the (r, z) propagation grid: pi0, neutrinos, bremsstrahlung, IC, extras, absorption.

This is the emission stage of the model chain (docs/architecture.md#stages-and-files, ``cr + gas + ISRF --emission-->
results/emission/{model}/emissivity.h5``). Every step is linear in the cosmic-ray intensities
(docs/architecture.md#the-chain-is-linear): each channel is a matrix built **once** on the energy
grids and applied to all cells as one matrix product (BLAS); no Python loop over cells.

Conventions (docs/conventions.md#flux-density-and-emissivity, docs/emission.md#line-of-sight)
----------------------------------------------
* All emissivities are **per steradian** (photons or neutrinos GeV^-1 s^-1 sr^-1 ...), so the
  line-of-sight intensity is I = int ds [n_H q + j] with **no** 1/(4 pi).
* ``per_H`` components (pi0, hadronic neutrinos, bremsstrahlung) are per target hydrogen atom,
  q in GeV^-1 s^-1 sr^-1 H-atom^-1, with the ISM He/H folded in; the sky-map stage multiplies by
  n_H = n_HI + 2 n_H2 + n_HII (atoms cm^-3) along the line of sight.
* ``per_volume`` components (inverse Compton, EXTRA1/EXTRA2 and their neutrinos) are volume
  emissivities j in GeV^-1 cm^-3 s^-1 sr^-1.
* Input intensities J follow the propagation stage: arrays shaped (n_E, n_r, n_z) in
  GeV^-1 cm^-2 s^-1 sr^-1, per GeV/n of kinetic energy per nucleon and per nucleus for p and He,
  per GeV of kinetic energy for e- and e+ (secondaries included).
* Output arrays are shaped **(n_r, n_z, n_E)**, the layout :class:`galdiff.skymaps.RZGrid` and
  ``LineOfSightOperator.intensity`` take (cell index i_r n_z + i_z, C order).
* Neutrino components are per flavour, nu + anti-nu, **after** phase-averaged oscillations over
  Galactic baselines (docs/emission.md#neutrino-oscillations), plus their all-flavour sum.
* The pair-absorption coefficient kappa(E; r, z) = 1/lambda in kpc^-1 (isotropic target field,
  docs/emission.md#pair-absorption) is tabulated on the same grid for the sky-map stage.

Approximations (documented decisions)
-------------------------------------
* Bremsstrahlung per H atom uses the 2D gas of the cell (GALPROP analytic models by default):
  q_brems = (n_neutral q_neutral + n_HII q_ionised) / n_H, with n_neutral = n_HI + 2 n_H2 and
  n_H = n_neutral + n_HII. Multiplying it by the line-of-sight n_H is exact when the ionised
  fraction along the line of sight equals the cell's 2D one. Because q_ionised/q_neutral is
  0.8-1.6 above 100 MeV and n_HII/n_H is a few % in the disc, the error is a few % at most;
  the neutral and ionised parts are also stored separately (per neutral H atom, per H+ ion) for
  a sky-map stage with separate gas operators.
* Inverse Compton uses the isotropic Klein-Nishina kernel (docs/emission.md#inverse-compton, #anisotropic-inverse-compton:
  adequate for this paper) with one photon spectrum per cell (ISRF file interpolated bilinearly
  in (R, |z|), analytic CMB); the contraction j[g, c] = sum_{e, eps} T[g, e, eps] J[e, c] n[eps, c]
  is done exactly, in chunks of cells, as one GEMM per chunk (bounded memory, no rank reduction;
  ~3-7 s for 81 x 127 cells, 97 x 150 x 231 on 2 shared cores). ``ic_method='lowrank'`` instead
  writes the photon field of all cells as a truncated sum of spectral shapes with cell-dependent
  amplitudes (rank 30 for a 1e-4 tolerance; max deviation from exact 1e-4, ~0.9 s);
  benchmarks/bench_emission.py measures both.
* EXTRA components: gamma-ray ECPL times a pulsar spatial template (docs/galaxy_inputs.md#pulsar-distributions),
  normalised at the Sun (see :class:`ExtraComponent`). Hadronic origin: neutrinos from the parent
  proton ECPL whose AAfrag pi0 spectrum reproduces the gamma ECPL (docs/emission.md#neutrinos-of-the-extra-components,
  "more exact alternative"), see :func:`fit_parent_proton_ecpl`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from galdiff.config import schema_defaults
from galdiff.conventions import FLAVOURS
from galdiff.galaxy import gas as gas_models
from galdiff.galaxy.sources import pulsar_distribution
from galdiff.interactions.bremsstrahlung import BremsstrahlungMatrix
from galdiff.interactions.gamma_gamma import absorption_coefficient_per_kpc
from galdiff.interactions.hadronic import NEUTRINO_FLAVOUR_CODES, HadronicMatrix
from galdiff.interactions.inverse_compton import InverseComptonKernel
from galdiff.interactions.neutrino_oscillation import (
    NUFIT52_NO_WITH_SK,
    MixingAngles,
    flavour_fluxes_at_earth,
)
from galdiff.io import reading_h5, writing_h5
from galdiff.provenance import provenance_meta
from galdiff.spectra import ecpl
from galdiff.units import C_CM_PER_S, beta_from_ek_per_n, get_species

__all__ = [
    "DEFAULT_GAMMA_ENERGY_GEV",
    "DEFAULT_TARGET_ENERGY_EV",
    "SPECIES",
    "FLAVOURS",
    "ExtraComponent",
    "EXTRA1",
    "EXTRA2",
    "ParentProtonFit",
    "fit_parent_proton_ecpl",
    "pulsar_template",
    "extra_gamma_emissivity",
    "extra_neutrino_emissivity",
    "gas_on_grid_cm3",
    "species_intensity_from_density",
    "EmissivityResult",
    "EmissionGrid",
    "write_emissivity_h5",
    "read_emissivity_h5",
]

#: Default gamma-ray (and neutrino) energy axis: 0.1 GeV - 10 PeV, 12 per decade (97 points).
DEFAULT_GAMMA_ENERGY_GEV = np.logspace(-1.0, 7.0, 97)
#: Default target-photon grid for IC and pair absorption: 1e-6 - 15 eV, 32 per decade. The IC
#: kernel interpolates n(eps) linearly in ln eps (error ~ (2 dln eps)^2 / 12 ~ 0.2 % here).
DEFAULT_TARGET_ENERGY_EV = np.geomspace(1e-6, 15.0, int(round(32 * np.log10(15.0 / 1e-6))) + 1)
SPECIES = ("proton", "helium", "electron", "positron")
FILE_FORMAT_VERSION = "1"


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _loglog_regrid(x_from, y_from, x_to):
    """Log-log interpolation of y(x) (leading axis = x) onto ``x_to``; zero outside and where y <= 0."""
    x_from = np.asarray(x_from, dtype=float)
    x_to = np.asarray(x_to, dtype=float)
    y = np.asarray(y_from, dtype=float)
    if x_from.shape == x_to.shape and np.allclose(x_from, x_to, rtol=1e-12, atol=0.0):
        return y
    ln_x = np.log(x_from)
    ln_t = np.log(x_to)
    lo = np.clip(np.searchsorted(ln_x, ln_t, side="right") - 1, 0, ln_x.size - 2)
    w = (ln_t - ln_x[lo]) / (ln_x[lo + 1] - ln_x[lo])
    inside = (ln_t >= ln_x[0] - 1e-12) & (ln_t <= ln_x[-1] + 1e-12)
    shape = (-1,) + (1,) * (y.ndim - 1)
    w = w.reshape(shape)
    y_lo, y_hi = y[lo], y[lo + 1]
    positive = (y_lo > 0) & (y_hi > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.exp((1 - w) * np.log(np.where(positive, y_lo, 1.0)) + w * np.log(np.where(positive, y_hi, 1.0)))
    val = np.where(positive, val, (1 - w) * y_lo + w * y_hi)
    return np.where(inside.reshape(shape), val, 0.0)


def _check_axis(name, values):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2 or not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be a 1D strictly increasing finite array with >= 2 points")
    return arr


def species_intensity_from_density(density_per_cm3_GeV, ek_GeV_per_n, species):
    """Intensity J = beta c N / (4 pi) of a species from its propagated density N, beta from the
    energies (docs/conventions.md#flux-density-and-emissivity); the propagation stage's
    :func:`galdiff.propagation.solver.intensity_from_density` takes beta itself.

    The propagation stage stores psi = N(E, r, z) in cm^-3 (GeV/n)^-1 (``cr.h5``); the emission
    stage takes J in GeV^-1 cm^-2 s^-1 sr^-1 (per GeV/n for nuclei).

    Parameters
    ----------
    density_per_cm3_GeV : array_like, shape (n_E, ...)
        N per unit kinetic energy per nucleon (per GeV for e+-).
    ek_GeV_per_n : array_like, shape (n_E,)
    species : str or galdiff.units.Species
        'proton', 'helium', 'electron' or 'positron' (sets beta).

    Returns
    -------
    ndarray, same shape as the density
    """
    sp = get_species(species) if isinstance(species, str) else species
    beta = beta_from_ek_per_n(np.asarray(ek_GeV_per_n, dtype=float), sp)
    density = np.asarray(density_per_cm3_GeV, dtype=float)
    return (beta * C_CM_PER_S / (4.0 * np.pi)).reshape((-1,) + (1,) * (density.ndim - 1)) * density


# ------------------------------------------------------------------------------------------------
# extra (unresolved-source) components
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExtraComponent:
    """An unresolved-source gamma-ray component following the pulsar distribution (docs/paper.md#model-chain).

    Volume emissivity (per sr), docs/conventions.md#exponential-cutoff-power-law, docs/galaxy_inputs.md#pulsar-distributions:

        j(E; r, z) = K * [rho(r, z) / rho(r_sun, 0)] * (E / E0)^-Gamma * exp(-E / E_c)

    Attributes
    ----------
    name : str
        Component name ('extra1', 'extra2'); used for the output keys.
    index : float
        Gamma of the gamma-ray ECPL.
    cutoff_GeV : float
        E_c of the gamma-ray ECPL in GeV.
    norm_per_GeV_cm3_s_sr : float
        K: the **local** (r = r_sun, z = 0) gamma-ray volume emissivity per sr at E = E0 without
        the cutoff factor, in GeV^-1 cm^-3 s^-1 sr^-1 (E0^2 K is E^2 j at E0 in
        GeV cm^-3 s^-1 sr^-1). The default 1e-35 is only a placeholder of the right order (the
        local pi0 volume emissivity n_H q at 1 TeV for n_H ~ 1 cm^-3 is ~1e-35): K is a free
        parameter fitted to LHAASO/Fermi-LAT in the spectra stage. Because everything is linear
        in K, maps can be rescaled by K_fit / K afterwards.
    reference_GeV : float
        E0 in GeV (default 1 TeV, so K is not degenerate with Gamma).
    origin : {'leptonic', 'hadronic'}
        'hadronic' adds per-flavour neutrinos from the parent protons (:func:`fit_parent_proton_ecpl`);
        'leptonic' has no neutrinos.
    distribution : str
        Key of :data:`galdiff.galaxy.sources.RADIAL_PROFILES` (default 'lorimer2006').
    z_scale_kpc : float or None
        Exponential scale height (None: the profile's default, 0.2 kpc for Lorimer 2006).
    r_sun_kpc : float
        Solar radius at which K is defined (default 8.5 kpc, the R_sun of the Lorimer 2006 law).
    r_max_kpc : float or None
        Radial cut of the template (None: none).
    """

    name: str
    index: float
    cutoff_GeV: float
    norm_per_GeV_cm3_s_sr: float = 1e-35
    reference_GeV: float = 1000.0
    origin: str = "hadronic"
    distribution: str = "lorimer2006"
    z_scale_kpc: float | None = None
    r_sun_kpc: float = 8.5
    r_max_kpc: float | None = None

    def __post_init__(self):
        if self.origin not in ("hadronic", "leptonic"):
            raise ValueError(f"ExtraComponent {self.name!r}: origin must be 'hadronic' or 'leptonic', got {self.origin!r}")
        if not (self.cutoff_GeV > 0 and self.reference_GeV > 0 and self.norm_per_GeV_cm3_s_sr >= 0):
            raise ValueError(f"ExtraComponent {self.name!r}: cutoff, reference energy must be > 0 and norm >= 0")

    def gamma_spectrum(self, energy_GeV):
        """Local gamma-ray emissivity j(E; r_sun, 0) in GeV^-1 cm^-3 s^-1 sr^-1 (the ECPL)."""
        return ecpl(energy_GeV, self.norm_per_GeV_cm3_s_sr, self.index, self.cutoff_GeV, self.reference_GeV)


#: docs/paper.md: EXTRA1 (index 2.4, cutoff 20 TeV; both models), EXTRA2 (2.3, 2 PeV; DR-low only).
EXTRA1 = ExtraComponent("extra1", 2.4, 2.0e4)
EXTRA2 = ExtraComponent("extra2", 2.3, 2.0e6)


def pulsar_template(component: ExtraComponent, r_kpc, z_kpc):
    """Spatial template rho(r, z) / rho(r_sun, 0) on a 2D grid, shape (n_r, n_z), dimensionless.

    Parameters
    ----------
    component : ExtraComponent
    r_kpc, z_kpc : array_like, shapes (n_r,), (n_z,)
    """
    r = np.asarray(r_kpc, dtype=float)[:, None]
    z = np.asarray(z_kpc, dtype=float)[None, :]
    kwargs = dict(model=component.distribution, z_scale_kpc=component.z_scale_kpc, r_max_kpc=component.r_max_kpc)
    rho = pulsar_distribution(r, z, **kwargs)
    rho_sun = float(pulsar_distribution(np.array(component.r_sun_kpc), np.array(0.0), **kwargs))
    if not rho_sun > 0:
        raise ValueError(f"{component.name}: pulsar template is zero at the Sun (r = {component.r_sun_kpc} kpc)")
    return rho / rho_sun


def extra_gamma_emissivity(component: ExtraComponent, r_kpc, z_kpc, gamma_energy_GeV):
    """Gamma-ray volume emissivity of an EXTRA component, shape (n_r, n_z, n_E).

    Returns
    -------
    ndarray
        j in GeV^-1 cm^-3 s^-1 sr^-1 (unabsorbed; pair absorption is applied on the line of sight).
    """
    template = pulsar_template(component, r_kpc, z_kpc)
    return template[:, :, None] * component.gamma_spectrum(gamma_energy_GeV)[None, None, :]


@dataclass
class ParentProtonFit:
    """Parent proton ECPL whose AAfrag pi0 spectrum reproduces a gamma-ray ECPL.

    Attributes
    ----------
    proton_index : float
        Gamma_p of J_p ~ (T/TeV)^-(Gamma_p + b ln(T/TeV)) exp(-(T/T_c)^s).
    proton_curvature : float
        b (log-parabola curvature per e-fold).
    proton_cutoff_GeV : float
        T_c in GeV (kinetic energy).
    proton_cutoff_sharpness : float
        s.
    max_abs_log_residual : float
        max |ln(q_gamma,fit / ECPL)| over the fitted range (0.05 = 5 %).
    fit_range_GeV : tuple of float
        Gamma-ray energies over which the fit was made.
    neutrino_energy_GeV : ndarray, shape (n_nu,)
    neutrino_per_unit_norm : dict
        Flavour ('e', 'mu', 'tau', 'all') -> per-flavour nu + anti-nu emissivity after oscillations
        on ``neutrino_energy_GeV``, for a gamma ECPL with K = 1 (same units as K).
    gamma_fit_per_unit_norm : ndarray, shape (n_fit,)
        The fitted pi0 spectrum on the fit energies (K = 1), for inspection.
    fit_energy_GeV : ndarray, shape (n_fit,)
    proton_ek_GeV : ndarray, shape (n_p,)
        Kinetic-energy grid of the parent protons.
    proton_intensity_per_unit_norm : ndarray, shape (n_p,)
        The parent-proton intensity J_p [GeV^-1 cm^-2 s^-1 sr^-1] whose pi0 emissivity per H atom
        is the ECPL with K = 1; a volume emissivity K made on gas of density n_H needs
        J_p = (K / n_H) x this.
    """

    proton_index: float
    proton_curvature: float
    proton_cutoff_GeV: float
    proton_cutoff_sharpness: float
    max_abs_log_residual: float
    fit_range_GeV: tuple
    neutrino_energy_GeV: np.ndarray
    neutrino_per_unit_norm: dict
    gamma_fit_per_unit_norm: np.ndarray
    fit_energy_GeV: np.ndarray
    proton_ek_GeV: np.ndarray | None = None
    proton_intensity_per_unit_norm: np.ndarray | None = None


def fit_parent_proton_ecpl(index, cutoff_GeV, neutrino_energy_GeV, reference_GeV=1000.0, he_to_h=gas_models.HE_TO_H,
                           mixing: MixingAngles = NUFIT52_NO_WITH_SK, fit_min_GeV=10.0, fit_cutoff_multiple=3.0,
                           proton_ek_GeV=None, proton_shape="generalised"):
    """Neutrinos of a hadronic gamma-ray ECPL via its parent protons (docs/emission.md#neutrinos-of-the-extra-components).

    The parent protons are a generalised ECPL in kinetic energy T (GeV),

        J_p(T) = A (T / 1 TeV)^-(Gamma_p + b ln(T / 1 TeV)) exp(-(T / T_c)^s),

    interacting with ISM gas (H + He/H He; p projectiles only). (Gamma_p, b, T_c, s) are fitted
    by least squares in ln q over log-spaced gamma-ray energies from ``fit_min_GeV`` to
    ``fit_cutoff_multiple`` x E_c (capped at 3e7 GeV), with A chosen so that the AAfrag pi0
    spectrum (:class:`HadronicMatrix`) matches K (E/E0)^-Gamma exp(-E/E_c) with K = 1 (the
    log-mean offset). The curvature b absorbs the slow growth of the AAfrag spectrum-weighted
    moments with energy (docs/emission.md#aafrag-and-kafexhiu), and the cutoff sharpness s (bounded to
    0.3-10) is needed because a plain exponential proton cutoff gives a gamma cutoff far smoother
    than exp(-E/E_c) (max |ln residual| 0.31 for EXTRA1 with b = 0, s = 1; 0.015 with the fit;
    0.08 for EXTRA2, whose fit spans 10 GeV - 6 PeV). The same protons, with the same A, are
    folded with the nu_e + anti-nu_e and nu_mu + anti-nu_mu matrices and oscillated
    (phase-averaged, ``mixing``).

    Parameters
    ----------
    index, cutoff_GeV : float
        Gamma-ray ECPL index and cutoff (GeV).
    neutrino_energy_GeV : array_like, shape (n_nu,)
        Output neutrino energies in GeV.
    reference_GeV : float
        E0 of the gamma ECPL.
    he_to_h : float
        ISM He/H of the target gas.
    mixing : MixingAngles
    fit_min_GeV, fit_cutoff_multiple : float
        Fit range (below ~10 GeV the pi0 bump makes the gamma spectrum deviate from any ECPL).
    proton_ek_GeV : array_like, optional
        Proton kinetic-energy grid (default 1 GeV - 3e9 GeV, 20 per decade; above the AAfrag p-p
        switch the tables reach 4e11 GeV).
    proton_shape : {'generalised', 'ecpl'}
        'generalised' fits (Gamma_p, b, T_c, s); 'ecpl' fixes b = 0 and s = 1 (the plain ECPL of
        docs/emission.md#neutrinos-of-the-extra-components; its pi0 cutoff is too smooth, see above).

    Returns
    -------
    ParentProtonFit

    Notes
    -----
    docs/emission.md#neutrinos-and-gamma-rays, #neutrinos-of-the-extra-components gives the rule of thumb Phi_nu_alpha(E) ~ 2 Phi_gamma(2E)
    (10 %; per-flavour (E/2)^2 Q_nu(E/2) / E^2 Q_gamma(E) = 0.45-0.50); this fit is the "more
    exact alternative" and reproduces it (tests).
    """
    from scipy.optimize import least_squares

    ek = np.geomspace(1.0, 3e9, 20 * 9 + 1 + 10) if proton_ek_GeV is None else _check_axis("proton_ek_GeV", proton_ek_GeV)
    e_nu = _check_axis("neutrino_energy_GeV", neutrino_energy_GeV)
    upper = min(fit_cutoff_multiple * cutoff_GeV, 3e7)
    if upper <= fit_min_GeV:
        raise ValueError("fit range is empty: cutoff_GeV too low for fit_min_GeV")
    e_fit = np.geomspace(fit_min_GeV, upper, max(20, int(8 * np.log10(upper / fit_min_GeV)) + 1))
    target_ln = np.log(ecpl(e_fit, 1.0, index, cutoff_GeV, reference_GeV))
    m_gamma = HadronicMatrix(ek, e_fit, "gam", he_to_h=he_to_h).matrix_p

    ln_ek_tev = np.log(ek / 1000.0)

    def proton_flux(params):
        gamma_p, curvature, ln_cut, sharpness = params
        return np.exp(-(gamma_p + curvature * ln_ek_tev) * ln_ek_tev - (ek / np.exp(ln_cut)) ** sharpness)

    if proton_shape not in ("generalised", "ecpl"):
        raise ValueError(f"proton_shape must be 'generalised' or 'ecpl', got {proton_shape!r}")
    free = np.array([0, 1, 2, 3]) if proton_shape == "generalised" else np.array([0, 2])
    params = np.array([index, 0.0, np.log(15.0 * cutoff_GeV), 1.0])
    lower = np.array([1.0, -0.1, np.log(cutoff_GeV), 0.3])
    upper_bound = np.array([4.0, 0.1, np.log(1e3 * cutoff_GeV), 10.0])
    x_scale = np.array([0.1, 0.01, 1.0, 0.1])

    def full(free_values):
        out = params.copy()
        out[free] = free_values
        return out

    def residual(free_values):
        ln_q = np.log(np.maximum(m_gamma @ proton_flux(full(free_values)), 1e-300))
        diff = ln_q - target_ln
        return diff - diff.mean()

    result = least_squares(residual, params[free], bounds=(lower[free], upper_bound[free]), x_scale=x_scale[free])
    best = full(result.x)
    flux = proton_flux(best)
    ln_q = np.log(m_gamma @ flux)
    scale = np.exp(np.mean(target_ln - ln_q))
    flux = flux * scale
    source = {
        flavour: HadronicMatrix(ek, e_nu, codes, he_to_h=he_to_h).matrix_p @ flux
        for flavour, codes in NEUTRINO_FLAVOUR_CODES.items()
    }
    nu_e, nu_mu, nu_tau = flavour_fluxes_at_earth(source["e"], source["mu"], angles=mixing)
    per_flavour = {"e": nu_e, "mu": nu_mu, "tau": nu_tau, "all": nu_e + nu_mu + nu_tau}
    gamma_fit = m_gamma @ flux
    return ParentProtonFit(
        proton_index=float(best[0]), proton_curvature=float(best[1]),
        proton_cutoff_GeV=float(np.exp(best[2])), proton_cutoff_sharpness=float(best[3]),
        max_abs_log_residual=float(np.max(np.abs(np.log(gamma_fit) - target_ln))),
        fit_range_GeV=(float(e_fit[0]), float(e_fit[-1])), neutrino_energy_GeV=e_nu,
        neutrino_per_unit_norm=per_flavour, gamma_fit_per_unit_norm=gamma_fit, fit_energy_GeV=e_fit,
        proton_ek_GeV=ek, proton_intensity_per_unit_norm=flux,
    )


def extra_neutrino_emissivity(component: ExtraComponent, r_kpc, z_kpc, neutrino_energy_GeV, fit: ParentProtonFit | None = None,
                              **fit_kwargs):
    """Per-flavour neutrino volume emissivities of a hadronic EXTRA component, (n_r, n_z, n_nu) each.

    Parameters
    ----------
    component : ExtraComponent
        Must have ``origin == 'hadronic'`` (a leptonic component has no neutrinos: returns {}).
    r_kpc, z_kpc : array_like
    neutrino_energy_GeV : array_like, shape (n_nu,)
    fit : ParentProtonFit, optional
        Reuse a fit (its neutrino energies must equal ``neutrino_energy_GeV``).
    **fit_kwargs
        Passed to :func:`fit_parent_proton_ecpl`.

    Returns
    -------
    dict
        'e', 'mu', 'tau', 'all' -> j_nu in GeV^-1 cm^-3 s^-1 sr^-1 (nu + anti-nu per flavour, after
        oscillations); the same spatial template and normalisation K as the gamma rays.
    """
    if component.origin != "hadronic":
        return {}
    e_nu = np.asarray(neutrino_energy_GeV, dtype=float)
    if fit is None:
        fit = fit_parent_proton_ecpl(component.index, component.cutoff_GeV, e_nu, component.reference_GeV, **fit_kwargs)
    elif fit.neutrino_energy_GeV.shape != e_nu.shape or not np.allclose(fit.neutrino_energy_GeV, e_nu):
        raise ValueError("fit.neutrino_energy_GeV differs from neutrino_energy_GeV")
    template = pulsar_template(component, r_kpc, z_kpc)
    return {
        flavour: component.norm_per_GeV_cm3_s_sr * template[:, :, None] * spectrum[None, None, :]
        for flavour, spectrum in fit.neutrino_per_unit_norm.items()
    }


# ------------------------------------------------------------------------------------------------
# gas
# ------------------------------------------------------------------------------------------------
def gas_on_grid_cm3(r_kpc, z_kpc, hi_model=2, h2_model=2, hii_model=1, x_co=gas_models.X_CO_DEFAULT, cell_average=True):
    """GALPROP analytic 2D gas on the (r, z) nodes (docs/galaxy_inputs.md#interstellar-gas), each shape (n_r, n_z).

    Parameters
    ----------
    r_kpc, z_kpc : array_like
        Node coordinates (kpc).
    hi_model, h2_model, hii_model : int
        GALPROP ``nHI_model``, ``nH2_model``, ``nHII_model``.
    x_co : float or callable
        X_CO (H2 molecules cm^-2 (K km/s)^-1).
    cell_average : bool
        Average each node over its z cell (GALPROP ``nH_av``, docs/galaxy_inputs.md#cell-averages) when the z nodes are
        uniformly spaced; otherwise point values.

    Returns
    -------
    dict
        'HI', 'H2' (molecules), 'HII' in cm^-3.
    """
    r = np.asarray(r_kpc, dtype=float)[:, None]
    z = np.asarray(z_kpc, dtype=float)[None, :]
    dz = np.diff(np.asarray(z_kpc, dtype=float))
    uniform = cell_average and dz.size > 0 and np.ptp(dz) <= 1e-9 * abs(dz[0])
    if uniform:
        avg = lambda f, **kw: gas_models.cell_average_z(f, r, z, float(dz[0]), **kw)  # noqa: E731
    else:
        avg = lambda f, **kw: f(r, z, **kw)  # noqa: E731
    shape = (r.size, z.size)
    return {
        "HI": np.broadcast_to(avg(gas_models.n_hi_cm3, model=hi_model), shape).copy(),
        "H2": np.broadcast_to(avg(gas_models.n_h2_cm3, model=h2_model, x_co=x_co), shape).copy(),
        "HII": np.broadcast_to(avg(gas_models.n_hii_cm3, model=hii_model), shape).copy(),
    }


# ------------------------------------------------------------------------------------------------
# the grid
# ------------------------------------------------------------------------------------------------
@dataclass
class EmissivityResult:
    """Emissivities of one model on the (r, z) grid.

    Attributes
    ----------
    r_kpc, z_kpc : ndarray
        Grid nodes (kpc).
    energies : dict
        Axis name ('gamma_energy_GeV', 'neutrino_energy_GeV') -> energies in GeV.
    components : dict
        Name -> array (n_r, n_z, n_E).
    component_meta : dict
        Name -> {'convention': 'per_H' | 'per_volume', 'units', 'energy_axis', 'messenger',
        'absorbed', 'description'}.
    kappa_per_kpc : ndarray or None
        Pair-absorption coefficient (n_r, n_z, n_gamma) in kpc^-1.
    gas_cm3 : dict
        2D gas used for the bremsstrahlung mix ('HI', 'H2', 'HII'), (n_r, n_z) each.
    attrs : dict
        Settings and diagnostics (JSON-serialisable), written to the file.
    timings_s : dict
        Wall-clock seconds of each step: for the log only, never written (identical inputs give
        byte-identical files).
    """

    r_kpc: np.ndarray
    z_kpc: np.ndarray
    energies: dict
    components: dict = field(default_factory=dict)
    component_meta: dict = field(default_factory=dict)
    kappa_per_kpc: np.ndarray | None = None
    gas_cm3: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)


_UNITS_PER_H = "GeV-1 s-1 sr-1 H-1"
_UNITS_PER_VOLUME = "GeV-1 cm-3 s-1 sr-1"


def _meta(convention, messenger, description, absorbed=None):
    return {
        "convention": convention,
        "units": _UNITS_PER_H if convention == "per_H" else _UNITS_PER_VOLUME,
        "energy_axis": "gamma_energy_GeV" if messenger == "gamma" else "neutrino_energy_GeV",
        "messenger": messenger,
        "absorbed": bool(messenger == "gamma") if absorbed is None else bool(absorbed),
        "description": description,
    }


class EmissionGrid:
    """All emission matrices for one (r, z) grid and one set of energy axes, built once.

    Parameters
    ----------
    r_kpc : array_like, shape (n_r,)
        Galactocentric radii of the nodes (kpc).
    z_kpc : array_like, shape (n_z,)
        Heights of the nodes (kpc).
    nucleus_ek_GeV_per_n : array_like, shape (n_Ep,)
        Kinetic energy per nucleon grid (GeV/n) of the p and He intensities (log-spaced,
        >= 20 per decade and up to ~1e8 GeV/n for PeV secondaries, docs/emission.md#hadronic-recipe).
        He given on another grid is regridded log-log onto this one.
    electron_ek_GeV : array_like, shape (n_Ee,)
        Kinetic energy grid of e- and e+ (GeV), log-spaced (20-60 per decade).
    gamma_energy_GeV : array_like, shape (n_g,)
        Gamma-ray energies (default :data:`DEFAULT_GAMMA_ENERGY_GEV`).
    neutrino_energy_GeV : array_like, shape (n_nu,), optional
        Neutrino energies (default: the gamma grid).
    isrf : galdiff.galaxy.isrf.ISRF or None
        ISRF table (:func:`galdiff.galaxy.isrf.read_isrf`); None means CMB only.
    isrf_components : sequence of str
        File components used for IC and absorption (default optical + infrared).
    cmb : {'analytic', 'file', None}
        How the CMB enters (see :meth:`galdiff.galaxy.isrf.ISRF.photon_field`).
    target_energy_eV : array_like, optional
        Target-photon grid (default :data:`DEFAULT_TARGET_ENERGY_EV`).
    he_to_h : float
        ISM He/H by number (default 0.11, GALPROP).
    gas_cm3 : dict, optional
        {'HI', 'H2', 'HII'} arrays (n_r, n_z) in cm^-3 (H2 in molecules); default
        :func:`gas_on_grid_cm3` with GALPROP models (2, 2, 1).
    mixing : MixingAngles
        Oscillation parameters (default NuFIT 5.2 NO with SK).
    ic_oversample : int
        Sub-intervals per grid interval in the IC kernel integration.
    chunk_cells : int
        Cells per IC contraction chunk (memory ~ n_Ee n_eps chunk_cells x 8 bytes).
    ic_method : {'exact', 'lowrank'}
        'exact': full contraction per cell. 'lowrank': the photon field of all cells is first
        approximated as n(eps, c) ~ sum_k u_k(eps) a_k(c) (truncated SVD of eps^2 n, columns scaled
        to unit peak), with the smallest rank whose reconstruction error is below
        ``ic_rank_tolerance`` x the cell's peak of eps^2 n everywhere; then
        j = sum_k (T . u_k) @ (J a_k). Since j is a positive linear functional of n, the error of j
        is bounded by the same relative tolerance of the field's peak (benchmarks/RESULTS.md).
    ic_rank_tolerance : float
        Tolerance of the low-rank photon field (default 1e-4).
    hadronic_switch_GeV : tuple of float
        (low, high) AAfrag blend band in total energy per nucleon.
    pi0_cross_sections : {'aafrag', 'kafexhiu2014'}
        Cross sections of the pi0 gamma rays (:data:`galdiff.interactions.hadronic.CROSS_SECTION_MODELS`;
        neutrinos always AAfrag). 'kafexhiu2014' is a systematic variant (docs/systematics.md).

    Notes
    -----
    Matrices are built lazily on first use and then reused for every model/species; the build
    times are in :attr:`timings_s`.
    """

    def __init__(self, r_kpc, z_kpc, nucleus_ek_GeV_per_n, electron_ek_GeV, gamma_energy_GeV=None,
                 neutrino_energy_GeV=None, isrf=None, isrf_components=("optical", "infrared"), cmb="analytic",
                 target_energy_eV=None, he_to_h=gas_models.HE_TO_H, gas_cm3=None,
                 mixing: MixingAngles = NUFIT52_NO_WITH_SK, ic_oversample=4, chunk_cells=64,
                 hadronic_switch_GeV=(4.0, 10.0), ic_method="exact", ic_rank_tolerance=1e-4,
                 pi0_cross_sections="aafrag"):
        self.r_kpc = _check_axis("r_kpc", r_kpc)
        self.z_kpc = _check_axis("z_kpc", z_kpc)
        self.nucleus_ek_GeV_per_n = _check_axis("nucleus_ek_GeV_per_n", nucleus_ek_GeV_per_n)
        self.electron_ek_GeV = _check_axis("electron_ek_GeV", electron_ek_GeV)
        self.gamma_energy_GeV = _check_axis(
            "gamma_energy_GeV", DEFAULT_GAMMA_ENERGY_GEV if gamma_energy_GeV is None else gamma_energy_GeV)
        self.neutrino_energy_GeV = _check_axis(
            "neutrino_energy_GeV", self.gamma_energy_GeV if neutrino_energy_GeV is None else neutrino_energy_GeV)
        self.target_energy_eV = _check_axis(
            "target_energy_eV", DEFAULT_TARGET_ENERGY_EV if target_energy_eV is None else target_energy_eV)
        self.isrf = isrf
        self.isrf_components = tuple(isrf_components) if isrf is not None else ()
        self.cmb = cmb
        self.he_to_h = float(he_to_h)
        self.mixing = mixing
        self.ic_oversample = int(ic_oversample)
        self.chunk_cells = int(chunk_cells)
        if ic_method not in ("exact", "lowrank"):
            raise ValueError(f"ic_method must be 'exact' or 'lowrank', got {ic_method!r}")
        self.ic_method = ic_method
        self.ic_rank_tolerance = float(ic_rank_tolerance)
        self.hadronic_switch_GeV = tuple(float(x) for x in hadronic_switch_GeV)
        self.pi0_cross_sections = str(pi0_cross_sections)
        self.shape = (self.r_kpc.size, self.z_kpc.size)
        self.n_cells = self.shape[0] * self.shape[1]
        self.gas_source = "user-supplied arrays" if gas_cm3 is not None else (
            "GALPROP analytic nHI model 2, nH2 model 2 (X_CO 1.9e20), nHII model 1, z-cell averaged")
        if gas_cm3 is None:
            gas_cm3 = gas_on_grid_cm3(self.r_kpc, self.z_kpc)
        self.gas_cm3 = {}
        for key in ("HI", "H2", "HII"):
            if key not in gas_cm3:
                raise ValueError(f"gas_cm3 must have keys 'HI', 'H2', 'HII'; missing {key!r}")
            arr = np.broadcast_to(np.asarray(gas_cm3[key], dtype=float), self.shape)
            if np.any(arr < 0) or not np.all(np.isfinite(arr)):
                raise ValueError(f"gas_cm3[{key!r}] must be finite and >= 0")
            self.gas_cm3[key] = np.array(arr)
        self.timings_s = {}
        self.diagnostics = {}
        self._cache = {}

    # -- lazily built matrices -----------------------------------------------------------------
    def _timed(self, key, builder):
        if key not in self._cache:
            start = time.perf_counter()
            self._cache[key] = builder()
            self.timings_s[f"build_{key}"] = time.perf_counter() - start
        return self._cache[key]

    def _hadronic(self, key, energies, codes, cross_sections="aafrag"):
        low, high = self.hadronic_switch_GeV
        return self._timed(key, lambda: HadronicMatrix(self.nucleus_ek_GeV_per_n, energies, codes, he_to_h=self.he_to_h,
                                                        switch_low_GeV=low, switch_high_GeV=high,
                                                        cross_sections=cross_sections))

    @property
    def pi0_matrix(self) -> HadronicMatrix:
        """:class:`HadronicMatrix` for gamma rays on (nucleus grid, gamma grid)."""
        return self._hadronic("pi0", self.gamma_energy_GeV, "gam", self.pi0_cross_sections)

    def neutrino_matrix(self, flavour) -> HadronicMatrix:
        """:class:`HadronicMatrix` for source flavour 'e' or 'mu' (nu + anti-nu)."""
        return self._hadronic(f"neutrino_{flavour}", self.neutrino_energy_GeV, NEUTRINO_FLAVOUR_CODES[flavour])

    @property
    def bremsstrahlung_matrix(self) -> BremsstrahlungMatrix:
        """:class:`BremsstrahlungMatrix` on (gamma grid, electron grid), He/H folded into the neutral part."""
        return self._timed("bremsstrahlung", lambda: BremsstrahlungMatrix(
            self.gamma_energy_GeV, self.electron_ek_GeV, he_to_h=self.he_to_h))

    @property
    def ic_kernel(self) -> InverseComptonKernel:
        """:class:`InverseComptonKernel` tensor T (n_g, n_Ee, n_eps) on the grids of this object."""
        return self._timed("ic_kernel", lambda: InverseComptonKernel(
            self.gamma_energy_GeV, self.electron_ek_GeV, self.target_energy_eV, oversample=self.ic_oversample))

    @property
    def photon_density_per_cm3_eV(self) -> np.ndarray:
        """Target photon spectrum per cell, n(eps) in cm^-3 eV^-1, shape (n_eps, n_cells)."""
        def build():
            eps = self.target_energy_eV
            if self.isrf is None:
                if self.cmb not in ("analytic", "file"):
                    raise ValueError("without an ISRF table the photon field is the CMB: cmb must be 'analytic'")
                from galdiff.galaxy.isrf import cmb_number_density_per_eV

                column = cmb_number_density_per_eV(eps)
                return np.ascontiguousarray(np.broadcast_to(column[:, None], (eps.size, self.n_cells)))
            _, dn = self.isrf.photon_field(self.r_kpc[:, None], self.z_kpc[None, :], eps_eV=eps,
                                           components=self.isrf_components, cmb=self.cmb)
            return np.ascontiguousarray(dn.reshape(self.n_cells, eps.size).T)

        return self._timed("photon_field", build)

    # -- input handling ------------------------------------------------------------------------
    def _cells(self, flux, name, n_energy):
        arr = np.asarray(flux, dtype=float)
        if arr.shape != (n_energy,) + self.shape:
            raise ValueError(f"{name}: expected shape (n_E, n_r, n_z) = {(n_energy,) + self.shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: intensities must be finite")
        return arr.reshape(n_energy, self.n_cells)

    def _to_rz(self, values_e_cells):
        """(n_E, n_cells) -> (n_r, n_z, n_E)."""
        return np.ascontiguousarray(values_e_cells.T.reshape(self.shape + (values_e_cells.shape[0],)))

    def nucleus_fluxes(self, flux_p, flux_he=None, ek_he_GeV_per_n=None):
        """Proton and He intensities as (n_Ep, n_cells) on the nucleus grid (He regridded if needed)."""
        p = self._cells(flux_p, "proton intensity", self.nucleus_ek_GeV_per_n.size)
        if flux_he is None:
            return p, None
        if ek_he_GeV_per_n is not None:
            ek_he = _check_axis("helium ek_GeV_per_n", ek_he_GeV_per_n)
            he_raw = np.asarray(flux_he, dtype=float)
            if he_raw.shape != (ek_he.size,) + self.shape:
                raise ValueError(f"helium intensity: expected shape {(ek_he.size,) + self.shape}, got {he_raw.shape}")
            flux_he = _loglog_regrid(ek_he, he_raw, self.nucleus_ek_GeV_per_n)
        return p, self._cells(flux_he, "helium intensity", self.nucleus_ek_GeV_per_n.size)

    # -- components ----------------------------------------------------------------------------
    def pi0_per_H(self, flux_p, flux_he=None, ek_he_GeV_per_n=None):
        """pi0-decay gamma-ray emissivity per H atom, (n_r, n_z, n_g) in GeV^-1 s^-1 sr^-1 H^-1.

        p-p, p-He, He-p, He-He via :class:`HadronicMatrix` (AAfrag + low-energy completion,
        docs/emission.md#hadronic-emissivity); multiply by n_H = n_HI + 2 n_H2 + n_HII on the line of sight.

        Parameters
        ----------
        flux_p : array_like, shape (n_Ep, n_r, n_z)
            Proton intensity, GeV^-1 cm^-2 s^-1 sr^-1 per GeV of kinetic energy.
        flux_he : array_like, shape (n_Ep or n_Ehe, n_r, n_z), optional
            He-nucleus intensity per GeV/n.
        ek_he_GeV_per_n : array_like, optional
            He grid if it differs from the nucleus grid.
        """
        p, he = self.nucleus_fluxes(flux_p, flux_he, ek_he_GeV_per_n)
        return self._to_rz(self.pi0_matrix.emissivity_per_H(p, he))

    def neutrinos_per_H(self, flux_p, flux_he=None, ek_he_GeV_per_n=None):
        """Per-flavour neutrino emissivities per H atom after oscillations, (n_r, n_z, n_nu) each.

        Returns
        -------
        dict
            'e', 'mu', 'tau' (nu + anti-nu each, at Earth, docs/emission.md#neutrino-oscillations) and 'all'
            (their sum, equal to the source all-flavour emissivity), GeV^-1 s^-1 sr^-1 H^-1.
        """
        p, he = self.nucleus_fluxes(flux_p, flux_he, ek_he_GeV_per_n)
        source = {flavour: self.neutrino_matrix(flavour).emissivity_per_H(p, he) for flavour in NEUTRINO_FLAVOUR_CODES}
        nu_e, nu_mu, nu_tau = flavour_fluxes_at_earth(source["e"], source["mu"], angles=self.mixing)
        out = {"e": nu_e, "mu": nu_mu, "tau": nu_tau, "all": nu_e + nu_mu + nu_tau}
        return {key: self._to_rz(val) for key, val in out.items()}

    def lepton_flux(self, flux_electron=None, flux_positron=None, ek_positron_GeV=None):
        """e- + e+ intensity as (n_Ee, n_cells) on the electron grid."""
        total = np.zeros((self.electron_ek_GeV.size, self.n_cells))
        if flux_electron is not None:
            total += self._cells(flux_electron, "electron intensity", self.electron_ek_GeV.size)
        if flux_positron is not None:
            if ek_positron_GeV is not None:
                flux_positron = _loglog_regrid(_check_axis("positron ek_GeV", ek_positron_GeV),
                                               np.asarray(flux_positron, dtype=float), self.electron_ek_GeV)
            total += self._cells(flux_positron, "positron intensity", self.electron_ek_GeV.size)
        return total

    def bremsstrahlung(self, flux_leptons):
        """Bremsstrahlung emissivities from the e- + e+ intensity.

        Parameters
        ----------
        flux_leptons : array_like, shape (n_Ee, n_r, n_z)
            e- + e+ intensity, GeV^-1 cm^-2 s^-1 sr^-1 per GeV (see :meth:`lepton_flux`).

        Returns
        -------
        dict of ndarray, each (n_r, n_z, n_g)
            'neutral' per neutral H atom (n_HI + 2 n_H2, He/H folded), 'ionised' per H+ ion (e-p + e-e),
            and 'per_H' = (n_neutral q_neutral + n_HII q_ionised) / n_H with the cell's 2D gas
            (module docstring), all in GeV^-1 s^-1 sr^-1 per target.
        """
        flux = self._cells(flux_leptons, "lepton intensity", self.electron_ek_GeV.size)
        mat = self.bremsstrahlung_matrix
        q_neutral = mat.matrix_neutral_per_H @ flux
        q_ionised = mat.matrix_ionised_per_HII @ flux
        n_neutral = (self.gas_cm3["HI"] + 2.0 * self.gas_cm3["H2"]).reshape(-1)
        n_hii = self.gas_cm3["HII"].reshape(-1)
        n_h = n_neutral + n_hii
        f_ion = np.divide(n_hii, n_h, out=np.zeros_like(n_h), where=n_h > 0)
        q_mix = (1.0 - f_ion) * q_neutral + f_ion * q_ionised
        return {"neutral": self._to_rz(q_neutral), "ionised": self._to_rz(q_ionised), "per_H": self._to_rz(q_mix)}

    def inverse_compton(self, flux_leptons):
        """Inverse-Compton volume emissivity j_IC, (n_r, n_z, n_g) in GeV^-1 cm^-3 s^-1 sr^-1.

        j[g, c] = sum_{e, eps} T[g, e, eps] J[e, c] n[eps, c] with T the tabulated Klein-Nishina
        kernel (:class:`InverseComptonKernel`, docs/emission.md#inverse-compton) and n the photon
        field of cell c. Per chunk of cells the Khatri-Rao product P[(e, eps), c] = J[e, c] n[eps, c]
        is formed and one GEMM T(g, e*eps) @ P is done: exact, memory n_Ee n_eps chunk x 8 bytes.
        Electron-energy rows where the kernel is zero for every gamma energy are skipped.

        Parameters
        ----------
        flux_leptons : array_like, shape (n_Ee, n_r, n_z)
            e- + e+ intensity, GeV^-1 cm^-2 s^-1 sr^-1 per GeV.
        """
        flux = self._cells(flux_leptons, "lepton intensity", self.electron_ek_GeV.size)
        if self.ic_method == "lowrank":
            return self._to_rz(self._inverse_compton_lowrank(flux))
        tensor = self.ic_kernel.tensor
        density = self.photon_density_per_cm3_eV
        start = time.perf_counter()
        # drop target-photon columns that are zero in every cell and electron rows with no kernel
        eps_used = np.flatnonzero(np.any(density > 0, axis=1) & np.any(tensor != 0, axis=(0, 1)))
        e_used = np.flatnonzero(np.any(tensor[:, :, eps_used] != 0, axis=(0, 2)))
        t_flat = np.ascontiguousarray(tensor[:, e_used][:, :, eps_used].reshape(tensor.shape[0], -1))
        dens = np.ascontiguousarray(density[eps_used])
        jflux = np.ascontiguousarray(flux[e_used])
        out = np.empty((tensor.shape[0], self.n_cells))
        for lo in range(0, self.n_cells, self.chunk_cells):
            hi = min(lo + self.chunk_cells, self.n_cells)
            khatri_rao = (jflux[:, None, lo:hi] * dens[None, :, lo:hi]).reshape(-1, hi - lo)
            out[:, lo:hi] = t_flat @ khatri_rao
        self.timings_s["apply_ic"] = time.perf_counter() - start
        return self._to_rz(out)

    @property
    def photon_field_lowrank(self):
        """Low-rank photon field (basis (n_eps, k) in cm^-3 eV^-1, amplitudes (k, n_cells), max error).

        eps^2 n(eps, c) / peak_c is decomposed by an eigen-decomposition of its (n_eps x n_eps)
        Gram matrix (equivalent to a truncated SVD); the rank is the smallest with
        max |reconstruction - field| <= ``ic_rank_tolerance`` x peak_c in every cell.
        """
        def build():
            density = self.photon_density_per_cm3_eV
            weight = self.target_energy_eV**2
            field_w = density * weight[:, None]
            peak = field_w.max(axis=0)
            peak = np.where(peak > 0, peak, 1.0)
            scaled = field_w / peak
            _, eigvec = np.linalg.eigh(scaled @ scaled.T)
            basis_all = eigvec[:, ::-1]
            projection = basis_all.T @ scaled
            residual = scaled.copy()
            for rank in range(1, basis_all.shape[1] + 1):
                residual -= np.outer(basis_all[:, rank - 1], projection[rank - 1])
                error = float(np.max(np.abs(residual)))
                if error <= self.ic_rank_tolerance:
                    break
            return basis_all[:, :rank] / weight[:, None], projection[:rank] * peak[None, :], rank, error

        return self._timed("photon_field_lowrank", build)

    def _inverse_compton_lowrank(self, flux):
        basis, amplitude, rank, error = self.photon_field_lowrank
        start = time.perf_counter()
        # M[g, e, k] = sum_eps T[g, e, eps] u_k(eps); j[g, c] = sum_{e, k} M[g, e, k] J[e, c] a[k, c]
        reduced = self._timed("ic_lowrank_kernel", lambda: np.ascontiguousarray(
            (self.ic_kernel.tensor @ basis).reshape(self.gamma_energy_GeV.size, -1)))
        out = np.empty((self.gamma_energy_GeV.size, self.n_cells))
        for lo in range(0, self.n_cells, self.chunk_cells * 8):
            hi = min(lo + self.chunk_cells * 8, self.n_cells)
            khatri_rao = (flux[:, None, lo:hi] * amplitude[None, :, lo:hi]).reshape(-1, hi - lo)
            out[:, lo:hi] = reduced @ khatri_rao
        self.timings_s["apply_ic"] = time.perf_counter() - start
        self.diagnostics["ic_lowrank_rank"] = rank
        self.diagnostics["ic_lowrank_max_field_error"] = error
        return out

    def absorption_per_kpc(self):
        """Pair-absorption coefficient kappa(E; r, z) = 1/lambda, (n_r, n_z, n_g) in kpc^-1.

        Isotropic target field = the same ISRF components + CMB as IC
        (:func:`galdiff.interactions.gamma_gamma.absorption_coefficient_per_kpc`,
        docs/emission.md#pair-absorption); one (n_g, n_eps) @ (n_eps, n_cells) product.
        """
        def build():
            kappa = absorption_coefficient_per_kpc(self.gamma_energy_GeV, self.target_energy_eV,
                                                   self.photon_density_per_cm3_eV)
            return self._to_rz(np.asarray(kappa).reshape(self.gamma_energy_GeV.size, self.n_cells))

        return self._timed("absorption", build)

    # -- everything at once --------------------------------------------------------------------
    def compute(self, intensities, extras=(), include=("pi0", "neutrinos", "bremsstrahlung", "inverse_compton", "absorption"),
                attrs=None) -> EmissivityResult:
        """All components of one model.

        Parameters
        ----------
        intensities : dict
            Species name ('proton', 'helium', 'electron', 'positron') -> either an array
            (n_E, n_r, n_z) on the grid given at construction, or a pair (ek_axis, array) (He on
            another GeV/n grid, e+ on another GeV grid are regridded log-log). Missing species
            count as zero (a missing proton intensity skips the hadronic components).
        extras : sequence of ExtraComponent
            E.g. ``(EXTRA1,)`` or ``(EXTRA1, EXTRA2)``.
        include : sequence of str
            Which CR-driven components (and the absorption table) to compute.
        attrs : dict, optional
            Extra metadata to store (model name, config, ...).

        Returns
        -------
        EmissivityResult
        """
        unknown = set(intensities) - set(SPECIES)
        if unknown:
            raise ValueError(f"unknown species {sorted(unknown)}; expected a subset of {SPECIES}")

        def split(name):
            value = intensities.get(name)
            if value is None:
                return None, None
            if isinstance(value, tuple):
                return np.asarray(value[1], dtype=float), np.asarray(value[0], dtype=float)
            return np.asarray(value, dtype=float), None

        result = EmissivityResult(
            r_kpc=self.r_kpc, z_kpc=self.z_kpc,
            energies={"gamma_energy_GeV": self.gamma_energy_GeV, "neutrino_energy_GeV": self.neutrino_energy_GeV},
            gas_cm3=self.gas_cm3,
        )
        flux_p, ek_p = split("proton")
        flux_he, ek_he = split("helium")
        if ek_p is not None and not np.allclose(ek_p, self.nucleus_ek_GeV_per_n):
            raise ValueError("proton intensity must be on nucleus_ek_GeV_per_n (the grid of the hadronic matrices)")
        if flux_p is not None:
            if "pi0" in include:
                result.components["pi0"] = self.pi0_per_H(flux_p, flux_he, ek_he)
                result.component_meta["pi0"] = _meta("per_H", "gamma", "pi0-decay gamma rays (p, He on H + He ISM; AAfrag)")
            if "neutrinos" in include:
                for flavour, values in self.neutrinos_per_H(flux_p, flux_he, ek_he).items():
                    key = f"neutrino_{flavour}"
                    result.components[key] = values
                    desc = ("all-flavour" if flavour == "all" else f"nu_{flavour} + anti-nu_{flavour}")
                    result.component_meta[key] = _meta("per_H", "neutrino", f"hadronic {desc} after averaged oscillations")
        flux_em, ek_em = split("electron")
        flux_ep, ek_ep = split("positron")
        if ek_em is not None and not np.allclose(ek_em, self.electron_ek_GeV):
            raise ValueError("electron intensity must be on electron_ek_GeV")
        if flux_em is not None or flux_ep is not None:
            leptons = self.lepton_flux(flux_em, flux_ep, ek_ep).reshape((self.electron_ek_GeV.size,) + self.shape)
            if "bremsstrahlung" in include:
                brems = self.bremsstrahlung(leptons)
                result.components["bremsstrahlung"] = brems["per_H"]
                result.component_meta["bremsstrahlung"] = _meta(
                    "per_H", "gamma", "e+- bremsstrahlung per H atom, neutral/ionised mixed with the cell's 2D gas")
                result.components["bremsstrahlung_neutral"] = brems["neutral"]
                result.component_meta["bremsstrahlung_neutral"] = _meta(
                    "per_H", "gamma", "bremsstrahlung per neutral H atom (n_HI + 2 n_H2), He/H folded in")
                result.components["bremsstrahlung_ionised"] = brems["ionised"]
                result.component_meta["bremsstrahlung_ionised"] = _meta(
                    "per_H", "gamma", "bremsstrahlung per H+ ion of ionised gas (e-p + e-e); multiply by n_HII")
            if "inverse_compton" in include:
                result.components["inverse_compton"] = self.inverse_compton(leptons)
                result.component_meta["inverse_compton"] = _meta(
                    "per_volume", "gamma", "inverse Compton on ISRF (optical + IR from file) + CMB, isotropic KN")
        extra_fits = {}
        for component in extras:
            result.components[component.name] = extra_gamma_emissivity(component, self.r_kpc, self.z_kpc, self.gamma_energy_GeV)
            result.component_meta[component.name] = _meta(
                "per_volume", "gamma", f"{component.origin} ECPL (index {component.index}, cutoff {component.cutoff_GeV} GeV) "
                f"x {component.distribution} template")
            if component.origin == "hadronic":
                fit = self._timed(f"fit_{component.name}", lambda c=component: fit_parent_proton_ecpl(
                    c.index, c.cutoff_GeV, self.neutrino_energy_GeV, c.reference_GeV, he_to_h=self.he_to_h, mixing=self.mixing))
                for flavour, values in extra_neutrino_emissivity(component, self.r_kpc, self.z_kpc,
                                                                 self.neutrino_energy_GeV, fit=fit).items():
                    key = f"{component.name}_neutrino_{flavour}"
                    result.components[key] = values
                    result.component_meta[key] = _meta("per_volume", "neutrino",
                                                       f"{component.name} hadronic neutrinos ({flavour}) from parent-proton ECPL")
                extra_fits[component.name] = {
                    "proton_index": fit.proton_index, "proton_curvature": fit.proton_curvature,
                    "proton_cutoff_GeV": fit.proton_cutoff_GeV, "proton_cutoff_sharpness": fit.proton_cutoff_sharpness,
                    "max_abs_log_residual": fit.max_abs_log_residual, "fit_range_GeV": list(fit.fit_range_GeV),
                }
        if "absorption" in include:
            result.kappa_per_kpc = self.absorption_per_kpc()
        result.attrs = {
            "he_to_h": self.he_to_h,
            "isrf_source": getattr(self.isrf, "source", None) or "none (CMB only)",
            "isrf_components": list(self.isrf_components),
            "cmb": str(self.cmb),
            "mixing_angles_deg": asdict(self.mixing),
            "hadronic_switch_GeV": list(self.hadronic_switch_GeV),
            # recorded only where it is not the default, so the baseline files keep their bytes
            **({"pi0_cross_sections": self.pi0_cross_sections} if self.pi0_cross_sections != "aafrag" else {}),
            "ic_oversample": self.ic_oversample,
            "ic_method": self.ic_method,
            "ic_rank_tolerance": self.ic_rank_tolerance,
            "extras": [asdict(c) for c in extras],
            "extra_parent_proton_fits": extra_fits,
            "gas": self.gas_source,
            "diagnostics": dict(self.diagnostics),
            **(attrs or {}),
        }
        result.timings_s = dict(self.timings_s)
        return result


# ------------------------------------------------------------------------------------------------
# file format
# ------------------------------------------------------------------------------------------------
_CONVENTION_TEXT = (
    "Emissivities per steradian. per_H: photons/neutrinos GeV-1 s-1 sr-1 per target H atom (multiply by "
    "n_H = n_HI + 2 n_H2 + n_HII along the line of sight; He/H of the ISM folded in). per_volume: "
    "GeV-1 cm-3 s-1 sr-1. Intensity I = int ds (n_H q + j), no 1/(4 pi) (docs/conventions.md#flux-density-and-emissivity, docs/emission.md#line-of-sight). "
    "Neutrinos per flavour (nu + anti-nu) after averaged oscillations. Arrays are (n_r, n_z, n_E), C order."
)


def write_emissivity_h5(path, result: EmissivityResult, inputs=None, config=None):
    """Write an :class:`EmissivityResult` to HDF5 atomically (``results/emission/{model}/emissivity.h5``).

    Layout: ``/axes/{r_kpc, z_kpc, gamma_energy_GeV, neutrino_energy_GeV}``; ``/components/<name>``
    (n_r, n_z, n_E) with attrs convention, units, energy_axis, messenger, absorbed, description;
    ``/absorption/kappa_per_kpc`` (n_r, n_z, n_gamma); ``/gas/{HI, H2, HII}_cm3``; root attrs
    ``convention``, ``axis_order``, ``format_version``, ``settings`` (JSON) and ``provenance`` (JSON:
    package version, config hash, input sha256, :func:`galdiff.provenance.provenance_meta`).

    Parameters
    ----------
    path : str or Path
    result : EmissivityResult
    inputs : dict, optional
        Name -> input file path whose sha256 is recorded (e.g. cr.h5, the ISRF file).
    config : dict, optional
        Configuration whose hash is recorded.
    """
    meta = provenance_meta(inputs=inputs, config=config)
    with writing_h5(path) as handle:
        handle.attrs["convention"] = _CONVENTION_TEXT
        handle.attrs["axis_order"] = "r, z, energy"
        handle.attrs["format_version"] = FILE_FORMAT_VERSION
        handle.attrs["component_names"] = json.dumps(list(result.components))
        handle.attrs["settings"] = json.dumps(result.attrs, default=str)
        handle.attrs["provenance"] = json.dumps(meta, default=str)
        axes = handle.create_group("axes")
        axes.create_dataset("r_kpc", data=result.r_kpc).attrs["units"] = "kpc"
        axes.create_dataset("z_kpc", data=result.z_kpc).attrs["units"] = "kpc"
        for name, values in result.energies.items():
            axes.create_dataset(name, data=values).attrs["units"] = "GeV"
        comps = handle.create_group("components")
        for name, values in result.components.items():
            dset = comps.create_dataset(name, data=values, compression="gzip", compression_opts=4, shuffle=True)
            for key, value in result.component_meta[name].items():
                dset.attrs[key] = value
        if result.kappa_per_kpc is not None:
            dset = handle.create_group("absorption").create_dataset(
                "kappa_per_kpc", data=result.kappa_per_kpc, compression="gzip", compression_opts=4)
            dset.attrs["units"] = "kpc-1"
            dset.attrs["energy_axis"] = "gamma_energy_GeV"
            dset.attrs["description"] = "pair-absorption coefficient 1/lambda on the isotropic ISRF + CMB"
        gas = handle.create_group("gas")
        for key, values in result.gas_cm3.items():
            dset = gas.create_dataset(f"{key}_cm3", data=values)
            dset.attrs["units"] = "cm-3 (H2: molecules)" if key == "H2" else "cm-3"
    return Path(path)


def read_emissivity_h5(path) -> EmissivityResult:
    """Read a file written by :func:`write_emissivity_h5`; ``attrs`` gains 'provenance' and 'convention'."""
    path = Path(path)
    with reading_h5(path) as handle:
        if handle.attrs.get("format_version") != FILE_FORMAT_VERSION:
            raise ValueError(f"{path}: unknown emissivity file format {handle.attrs.get('format_version')!r}")
        axes = handle["axes"]
        energies = {name: axes[name][()] for name in axes if name.endswith("_GeV")}
        names = json.loads(handle.attrs["component_names"])
        components = {name: handle["components"][name][()] for name in names}
        component_meta = {}
        for name in names:
            meta = {}
            for key, value in handle["components"][name].attrs.items():
                meta[key] = bool(value) if key == "absorbed" else (value.decode() if isinstance(value, bytes) else value)
            component_meta[name] = meta
        kappa = handle["absorption"]["kappa_per_kpc"][()] if "absorption" in handle else None
        gas = {key[: -len("_cm3")]: handle["gas"][key][()] for key in handle["gas"]}
        attrs = json.loads(handle.attrs["settings"])
        attrs["provenance"] = json.loads(handle.attrs["provenance"])
        attrs["convention"] = handle.attrs["convention"]
        return EmissivityResult(r_kpc=axes["r_kpc"][()], z_kpc=axes["z_kpc"][()], energies=energies, components=components,
                                component_meta=component_meta, kappa_per_kpc=kappa, gas_cm3=gas, attrs=attrs)


# ----------------------------------------------------------------------------------------------
# one model from configuration (used by the workflow's emission rule)
# ----------------------------------------------------------------------------------------------
def extra_components_from_config(extra_cfg: dict | None) -> tuple:
    """ExtraComponent objects from a ``models.<name>.extra`` mapping (name -> settings; a key left out
    takes the schema's default)."""
    components = []
    for name, settings in (extra_cfg or {}).items():
        cfg = {**schema_defaults("models.*.extra.*"), **settings}
        components.append(ExtraComponent(
            name=name,
            index=float(cfg["index"]),
            cutoff_GeV=float(cfg["cutoff_GeV"]),
            norm_per_GeV_cm3_s_sr=float(cfg["norm_per_GeV_cm3_s_sr"]),
            origin=str(cfg["origin"]),
            distribution=str(cfg["distribution"]),
        ))
    return tuple(components)


def model_emissivity(propagated: dict, isrf, emission_cfg: dict, extras=(), galaxy_cfg: dict | None = None,
                     attrs: dict | None = None) -> EmissivityResult:
    """Emissivities of one model from its propagated densities.

    Parameters
    ----------
    propagated : dict
        ``{'proton', 'helium', 'electron', 'positron'}`` -> objects with ``grid`` (``r_kpc``,
        ``z_kpc``, ``ek_GeV_per_n``) and ``density`` (n_E, n_r, n_z) in cm^-3 (GeV/n)^-1
        (:class:`galdiff.propagation.run.SpeciesResult`); leptons are primary + secondary.
    isrf : galdiff.galaxy.isrf.ISRF
    emission_cfg : dict
        ``gamma_energy_GeV`` mapping with ``min``, ``max``, ``per_decade`` (the neutrino grid is
        the same).
    extras : sequence of ExtraComponent
    galaxy_cfg : dict, optional
        ``propagation.galaxy`` config (He/H).
    """
    from .units import get_species

    energy_cfg = emission_cfg["gamma_energy_GeV"]
    decades = np.log10(float(energy_cfg["max"]) / float(energy_cfg["min"]))
    gamma_energy = np.geomspace(float(energy_cfg["min"]), float(energy_cfg["max"]),
                                int(round(decades * float(energy_cfg["per_decade"]))) + 1)
    proton = propagated["proton"]
    grid = EmissionGrid(
        proton.grid.r_kpc, proton.grid.z_kpc, proton.grid.ek_GeV_per_n, propagated["electron"].grid.ek_GeV_per_n,
        gamma_energy_GeV=gamma_energy, isrf=isrf, he_to_h=float({**schema_defaults("propagation.galaxy"), **(galaxy_cfg or {})}["he_to_h"]),
    )
    intensities = {}
    for species, result in propagated.items():
        ek = result.grid.ek_GeV_per_n
        intensities[species] = (ek, species_intensity_from_density(result.density, ek, get_species(species)))
    return grid.compute(intensities, extras=extras, attrs=attrs)
