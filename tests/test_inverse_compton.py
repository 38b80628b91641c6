"""Tests of the inverse-Compton kernel against analytic limits, the docs' computed values and naima."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gamma as gamma_fn
from scipy.special import zeta

from galdiff.interactions.inverse_compton import (
    CMB_TEMPERATURE_K,
    InverseComptonKernel,
    ic_photon_spectrum_per_electron,
    jones_f,
    jones_f_numpy,
    planck_photon_density_per_cm3_eV,
)
from galdiff.units import C_CM_PER_S, HBAR_C_EV_CM, K_B_EV_PER_K, M_E_GEV, R0_ELECTRON_CM, SIGMA_T_CM2

M_E_EV = M_E_GEV * 1e9
CMB_EPS_EV = np.logspace(-7.0, -1.5, 551)  # 100 per decade, [~1e-4 kT, ~50 kT]
CMB_N = planck_photon_density_per_cm3_eV(CMB_EPS_EV)


def _trapz_ln(y, x):
    return np.trapezoid(y * x, np.log(x))


def test_cmb_density_and_energy_density():
    # docs/emission.md#reference-values: n = 410.7 cm^-3, U = 0.2606 eV cm^-3
    assert _trapz_ln(CMB_N, CMB_EPS_EV) == pytest.approx(410.7, rel=2e-3)
    assert _trapz_ln(CMB_N * CMB_EPS_EV, CMB_EPS_EV) == pytest.approx(0.2606, rel=2e-3)
    eps30 = np.logspace(-6, 0, 601)
    diluted = planck_photon_density_per_cm3_eV(eps30, 30.0, energy_density_eV_per_cm3=0.3)
    assert _trapz_ln(diluted * eps30, eps30) == pytest.approx(0.3, rel=2e-3)


def test_numba_kernel_matches_numpy_version():
    rng = np.random.default_rng(1)
    e1 = rng.uniform(0, 1, 2000)
    gam = 10 ** rng.uniform(1, 9, 2000)
    g = 10 ** rng.uniform(-6, 4, 2000)
    fast = np.array([jones_f(a, b, c) for a, b, c in zip(e1, gam, g)])
    slow = jones_f_numpy(e1, gam, g)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-300)
    assert np.count_nonzero(slow) > 200


def _kn_power_fraction(lorentz_factor):
    """Emitted IC power on the CMB over the Thomson value (4/3) sigma_T c gamma^2 beta^2 U."""
    e_max = lorentz_factor * M_E_EV
    e1_low = np.logspace(-14, np.log10(0.5), 1500)
    e1_high = 1.0 - np.logspace(np.log10(0.5), -14, 1500)[1:]
    e1 = np.concatenate([e1_low, e1_high])
    spec = ic_photon_spectrum_per_electron(e1 * e_max * 1e-9, lorentz_factor, CMB_EPS_EV, CMB_N)
    e_g_GeV = e1 * e_max * 1e-9
    power_GeV_s = np.trapezoid(spec * e_g_GeV, e_g_GeV)
    u_cmb = _trapz_ln(CMB_N * CMB_EPS_EV, CMB_EPS_EV)
    beta2 = 1.0 - lorentz_factor**-2
    thomson_GeV_s = 4.0 / 3.0 * SIGMA_T_CM2 * C_CM_PER_S * lorentz_factor**2 * beta2 * u_cmb * 1e-9
    return power_GeV_s / thomson_GeV_s


@pytest.mark.parametrize(
    "x_planck, expected",
    # docs/propagation.md#inverse-compton-and-synchrotron-losses table f_KN(x), x = gamma k T / m_e c^2; docs/emission.md#reference-values Thomson check
    [(None, 1.0000), (1e-3, 0.9765), (1e-2, 0.8095), (0.1, 0.3079), (1.0, 0.03375), (10.0, 1.337e-3)],
)
def test_total_power_thomson_and_klein_nishina(x_planck, expected):
    if x_planck is None:
        lorentz = 1e3
    else:
        lorentz = x_planck * M_E_EV / (K_B_EV_PER_K * CMB_TEMPERATURE_K)
    assert _kn_power_fraction(lorentz) == pytest.approx(expected, rel=3e-3)


def test_kn_power_fractions_sec9():
    # docs/emission.md#reference-values: KN power fractions 0.901 (gamma = 1e7) and 0.490 (1e8)
    assert _kn_power_fraction(1e7) == pytest.approx(0.901, abs=2e-3)
    assert _kn_power_fraction(1e8) == pytest.approx(0.490, abs=2e-3)


def _thomson_bg70_j_per_sr(e_gamma_GeV, k_gamma_per_cm3, p):
    """BG70 Eq. 2.65 for N(gamma) = K gamma^-p on a blackbody, divided by 4 pi, per GeV."""
    f_p = (
        2 ** (p + 3) * (p**2 + 4 * p + 11) / ((p + 3) ** 2 * (p + 5) * (p + 1))
        * gamma_fn((p + 5) / 2) * zeta((p + 5) / 2)
    )
    kt = K_B_EV_PER_K * CMB_TEMPERATURE_K
    hbar_eV_s = HBAR_C_EV_CM / C_CM_PER_S
    per_eV = (
        R0_ELECTRON_CM**2 / (np.pi * hbar_eV_s**3 * C_CM_PER_S**2)
        * kt ** ((p + 5) / 2) * f_p * k_gamma_per_cm3 * (e_gamma_GeV * 1e9) ** (-(p + 1) / 2)
    )
    return per_eV * 1e9 / (4 * np.pi)


def test_thomson_limit_power_law_on_cmb():
    p = 2.6
    e_e = np.logspace(-3, 3, 181)  # kinetic GeV
    kernel = InverseComptonKernel(np.logspace(-6, -4, 5), e_e, CMB_EPS_EV[::2], oversample=4)
    k_per_gev = 1e-3  # J = K E_tot^-p  [GeV^-1 cm^-2 s^-1 sr^-1]
    flux = k_per_gev * (e_e + M_E_GEV) ** -p
    j_ic = kernel.matrix(planck_photon_density_per_cm3_eV(CMB_EPS_EV[::2])) @ flux
    # N(gamma) = (4 pi / c) J(E) m_e  with E = gamma m_e  (beta = 1 in BG70)
    k_gamma = 4 * np.pi / C_CM_PER_S * k_per_gev * M_E_GEV ** (1 - p)
    expected = _thomson_bg70_j_per_sr(kernel.gamma_energy_GeV, k_gamma, p)
    print("IC / BG70 Thomson:", np.round(j_ic / expected, 4))
    np.testing.assert_allclose(j_ic / expected, 1.0, rtol=3e-3)


def test_klein_nishina_steepening():
    p = 2.5
    e_e = np.logspace(0, 8, 161)
    e_g = np.logspace(0, 7, 15)
    kernel = InverseComptonKernel(e_g, e_e, CMB_EPS_EV[::5], oversample=4)
    j_ic = kernel.matrix(planck_photon_density_per_cm3_eV(CMB_EPS_EV[::5])) @ (e_e ** -p)
    index = -np.gradient(np.log(j_ic), np.log(e_g))
    # Thomson regime (E_g << (m_e c^2)^2 / kT ~ 1 PeV): index (p + 1)/2 = 1.75
    assert index[0] == pytest.approx((p + 1) / 2, abs=0.02)
    # KN regime: steeper, monotonically, towards p + 1 (with logarithmic corrections)
    assert np.all(np.diff(index) > -1e-3)
    assert index[-1] > (p + 1) / 2 + 0.8
    assert index[-1] < p + 1 + 0.05


def test_many_cells_einsum_matches_per_cell():
    e_e = np.logspace(0, 5, 41)
    eps = CMB_EPS_EV[::10]
    kernel = InverseComptonKernel(np.logspace(0, 4, 6), e_e, eps, oversample=2)
    fields = np.stack([planck_photon_density_per_cm3_eV(eps, energy_density_eV_per_cm3=u) for u in (0.1, 0.26, 1.0)], axis=1)
    fluxes = np.stack([e_e**-2.5, 2 * e_e**-3.0, e_e**-2.0], axis=1)
    many = kernel.emissivity_per_sr(fluxes, fields)
    for c in range(3):
        np.testing.assert_allclose(many[:, c], kernel.matrix(fields[:, c]) @ fluxes[:, c], rtol=1e-12)


@pytest.mark.slow
def test_against_naima_cmb():
    naima = pytest.importorskip("naima")
    import astropy.units as u

    p, e_cut_GeV = 2.5, 1e5
    e_e = np.logspace(0, np.log10(3e6), 6 * 40 + 1)  # 1 GeV .. 3 PeV, 40 per decade
    e_g = np.logspace(-1, 5, 13)
    eps = np.logspace(-7, -1.5, 276)
    kernel = InverseComptonKernel(e_g, e_e, eps, oversample=4)
    flux = (e_e + M_E_GEV) ** -p * np.exp(-(e_e + M_E_GEV) / e_cut_GeV)  # per GeV cm^2 s sr
    j_ours = kernel.matrix(planck_photon_density_per_cm3_eV(eps)) @ flux

    # naima: number of electrons per unit energy in 1 cm^3: N = 4 pi J / (beta c) ~ 4 pi J / c
    amp = 4 * np.pi / C_CM_PER_S  # per GeV (J(1 GeV) = 1)
    dist = naima.models.ExponentialCutoffPowerLaw(amp / u.GeV, 1 * u.GeV, p, e_cut_GeV * u.GeV)
    ic = naima.models.InverseCompton(dist, seed_photon_fields=["CMB"], Eemin=1 * u.GeV, Eemax=3 * u.PeV, nEed=300)
    rate = ic.flux(e_g * u.GeV, distance=0).to("1/(s GeV)").value  # photons s^-1 GeV^-1 in 1 cm^3
    ratio = j_ours / (rate / (4 * np.pi))
    # docs/emission.md#reference-values: 0.05 % agreement (naima KAK14 approximation, T = 2.72548 K)
    print("IC ours/naima:", np.round(ratio, 4))
    np.testing.assert_allclose(ratio, 1.0, rtol=3e-3)
