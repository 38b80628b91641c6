"""The unresolved-source components EXTRA1 and EXTRA2: ECPL gamma rays times a pulsar spatial
template (docs/galaxy_inputs.md#pulsar-distributions), normalised at the Sun, and for a hadronic
origin the neutrinos of the parent-proton ECPL whose AAfrag pi0 spectrum reproduces the gamma rays
(docs/emission.md#neutrinos-of-the-extra-components); built from ``models.<model>.extra``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from galdiff.config import schema_defaults
from galdiff.galaxy import gas as gas_models
from galdiff.galaxy.sources import pulsar_distribution
from galdiff.interactions.hadronic import NEUTRINO_FLAVOUR_CODES, HadronicMatrix
from galdiff.interactions.neutrino_oscillation import (
    NUFIT52_NO_WITH_SK,
    MixingAngles,
    flavour_fluxes_at_earth,
)
from galdiff.spectra import ecpl

from .axes import _check_axis

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
