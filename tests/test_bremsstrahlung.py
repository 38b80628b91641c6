"""Tests of the bremsstrahlung cross section and emissivity against BG70 / docs/emission.md#bremsstrahlung values, the complete-screening closed form and naima's e-p bremsstrahlung."""

from __future__ import annotations

import numpy as np
import pytest

from galdiff.interactions.bremsstrahlung import (
    ALPHA_R0_SQ_CM2,
    BremsstrahlungMatrix,
    bethe_heitler_3bn_cm2_per_GeV,
    dsigma_dk_cm2_per_GeV,
    dsigma_dk_numpy,
    hydrogen_screening_functions,
    screening_functions,
)
from galdiff.units import ALPHA_FS, C_CM_PER_S, M_E_GEV, YEAR_S

DELTA_DOC = np.array([0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0])


def test_hydrogen_phi_tables():
    # docs/emission.md#screening-functions (computed from the form factor; * = replaced by the cap)
    phi1_doc = [45.82, 45.45, 45.10, 44.11, 42.64, 40.16, 34.97, 29.82, 24.27, 16.94, 11.40]
    phi2_doc = [44.48, 44.40, 44.25, 43.65, 42.49, 40.18, 34.93, 29.78, 24.27, 16.94, 11.40]
    phi1, phi2 = screening_functions(DELTA_DOC, "HI")
    np.testing.assert_allclose(phi1, phi1_doc, atol=0.011)
    np.testing.assert_allclose(phi2, phi2_doc, atol=0.011)
    # BG70 complete screening: 45.79 and 44.46 (0.1 %)
    p1, p2 = hydrogen_screening_functions(0.0)
    assert p1[0] == pytest.approx(45.79, rel=1e-3) and p2[0] == pytest.approx(44.46, rel=1e-3)
    # uncapped values above Delta = 1 (docs/emission.md#screening-functions, starred entries)
    p1, p2 = hydrogen_screening_functions([1.0, 10.0])
    np.testing.assert_allclose(p1, [29.97, 13.65], atol=0.011)
    np.testing.assert_allclose(p2, [29.78, 12.41], atol=0.011)


# GALPROP's BLOCK DATA of the He form factors (galprop bremss_spec.f / "He formfactors": DD, PH1,
# PH2; Gould 1969 Hartree-Fock values in BG70 normalisation), typed from that source
GALPROP_HE_DELTA = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
GALPROP_HE_PH1 = [134.60, 133.85, 133.11, 130.86, 127.17, 120.35, 104.60, 89.94, 74.19, 54.26, 40.94]
GALPROP_HE_PH2 = [131.40, 130.51, 130.33, 129.26, 126.76, 120.80, 105.21, 89.46, 73.03, 51.84, 37.24]


def galprop_unshielded_cap(delta_screen, z=2, n_e=2):
    """GALPROP's cap 4 (Z^2 + N_e) phi_u, phi_u = -ln(2 alpha Delta) - 1/2 (bremss_spec.f, BG70 normalisation)."""
    alpha = 7.2973525693e-3
    return 4.0 * (z * z + n_e) * (-np.log(2.0 * alpha * np.asarray(delta_screen)) - 0.5)


def test_helium_phi_follows_galprop_table_and_caps():
    delta = np.array(GALPROP_HE_DELTA)
    phi1, phi2 = screening_functions(delta, "He")
    cap = np.where(delta > 0, galprop_unshielded_cap(np.where(delta > 0, delta, 1.0)), np.inf)
    # GALPROP: the table value, or the unshielded cap where the table exceeds it (Delta >= 1)
    np.testing.assert_allclose(phi1, np.minimum(GALPROP_HE_PH1, cap), rtol=1e-8)  # alpha to 1e-9
    np.testing.assert_allclose(phi2, np.minimum(GALPROP_HE_PH2, cap), rtol=1e-8)
    assert phi1[7] < GALPROP_HE_PH1[7]  # 89.94 is above the cap 89.45 at Delta = 1: capped
    # between nodes: GALPROP interpolates in ln Delta, so at the geometric mean of two nodes the
    # value is the mean of theirs (away from the cap)
    for i in (2, 4, 5):
        mid = np.sqrt(delta[i] * delta[i + 1])
        p1, p2 = screening_functions(np.array([mid]), "He")
        assert p1[0] == pytest.approx(0.5 * (GALPROP_HE_PH1[i] + GALPROP_HE_PH1[i + 1]), rel=1e-10)
        assert p2[0] == pytest.approx(0.5 * (GALPROP_HE_PH2[i] + GALPROP_HE_PH2[i + 1]), rel=1e-10)
    # beyond the table (Delta > 10): the unshielded 4 (Z^2 + N_e) phi_u = 24 phi_u
    far = np.array([20.0, 100.0])
    np.testing.assert_allclose(screening_functions(far, "He")[0], galprop_unshielded_cap(far), rtol=1e-8)


def test_hydrogen_complete_screening_matches_tsai_radiation_logarithms():
    # independent of Gould's form-factor integral: Tsai (1974, Rev. Mod. Phys. 46, 815, Table B.2)
    # gives L_rad = 5.31, L'_rad = 6.144 for hydrogen, the complete-screening logarithms of the
    # radiation length 1/X0 = 4 alpha r_e^2 (N_A/A) (Z^2 L_rad + Z L'_rad). The complete-screening
    # loss (4/3) phi_1(0) - (1/3) phi_2(0) of BG70 is 4 (Z^2 L_rad + Z L'_rad) up to the small
    # (1/9)(1 + 1/Z) term that the radiation length leaves out (~1 % for H): within 1.5 %.
    phi1, phi2 = screening_functions(np.array([0.0]), "HI")
    loss = 4.0 / 3.0 * phi1[0] - 1.0 / 3.0 * phi2[0]
    tsai = 4.0 * (5.31 + 6.144)
    assert loss == pytest.approx(tsai, rel=0.015)


def test_bare_and_ionised_targets():
    # bare proton: 4 Z^2 phi_u, phi_u = -ln(2 alpha Delta) - 1/2 (BG70 unshielded limit)
    delta = np.array([0.01, 0.1, 1.0])
    phi1, phi2 = screening_functions(delta, "p_bare")
    np.testing.assert_allclose(phi1, galprop_unshielded_cap(delta, z=1, n_e=0), rtol=1e-8)
    np.testing.assert_allclose(phi2, phi1)
    # ionised H = proton + free electron with the same formula: twice the bare proton (GALPROP)
    e0 = np.array([0.05, 1.0, 100.0])
    np.testing.assert_allclose(dsigma_dk_cm2_per_GeV(e0, 0.3 * e0, "HII"), 2 * dsigma_dk_cm2_per_GeV(e0, 0.3 * e0, "p_bare"))


def test_numba_kernel_matches_numpy():
    rng = np.random.default_rng(3)
    e0 = M_E_GEV + 10 ** rng.uniform(-5.5, 5, 3000)  # T_0 from 3 keV (all regimes)
    k = (e0 - M_E_GEV) * rng.uniform(0, 1.0, 3000)
    for target in ("HI", "He", "HII", "p_bare"):
        np.testing.assert_allclose(dsigma_dk_cm2_per_GeV(e0, k, target), dsigma_dk_numpy(e0, k, target), rtol=1e-10, atol=0)


@pytest.mark.parametrize("target, expected", [("HI", 46.26), ("He", 135.7)])
def test_radiative_energy_loss_complete_screening(target, expected):
    # int k dsigma/dk dk = alpha r0^2 E0 [(4/3) phi1(0) - (1/3) phi2(0)] (docs/propagation.md#energy-losses): 46.26 (H), 135.7 (He)
    e0 = 1e3
    k = e0 * np.linspace(1e-7, 1 - 1e-7, 200001)
    loss = np.trapezoid(k * dsigma_dk_cm2_per_GeV(e0, k, target), k) / (ALPHA_R0_SQ_CM2 * e0)
    assert loss == pytest.approx(expected, rel=4e-3)


def test_loss_time_sanity_value():
    # docs/emission.md#reference-values: complete-screening loss time for n_H = 1, He/H = 0.1: 3.05e7 yr
    e0 = 1e3
    k = e0 * np.linspace(1e-7, 1 - 1e-7, 200001)
    rate_per_s = sum(
        w * np.trapezoid(k * dsigma_dk_cm2_per_GeV(e0, k, t), k) for w, t in ((1.0, "HI"), (0.1, "He"))
    ) * C_CM_PER_S / e0
    assert 1.0 / rate_per_s / YEAR_S == pytest.approx(3.05e7, rel=1e-2)


@pytest.mark.parametrize("p, i_h", [(2.5, 29.62), (3.0, 21.79), (3.3, 18.82)])
def test_power_law_complete_screening_closed_form(p, i_h):
    # docs/emission.md#bremsstrahlung-emissivity: q per H atom = K alpha r0^2 E_g^-p I(p) for J = K E^-p (complete screening)
    e_e = np.logspace(-2, 7, 9 * 20 + 1)
    e_g = np.array([30.0, 300.0, 3000.0])
    mat = BremsstrahlungMatrix.target_matrix(e_g, e_e, "HI")
    q = mat @ ((e_e + M_E_GEV) ** -p)
    ratio = q / (ALPHA_R0_SQ_CM2 * e_g**-p * i_h)
    # screening is complete only asymptotically: approach 1 from below as E_g grows
    np.testing.assert_allclose(ratio, 1.0, rtol=1e-2)
    np.testing.assert_allclose(ratio[1:], 1.0, rtol=2e-3)
    assert ratio[0] < ratio[1] + 1e-4
    if p == 3.0:
        q_he = BremsstrahlungMatrix.target_matrix(e_g, e_e, "He") @ ((e_e + M_E_GEV) ** -p)
        np.testing.assert_allclose(q_he[1:] / (ALPHA_R0_SQ_CM2 * e_g[1:] ** -p * 63.9), 1.0, rtol=3e-3)
        # alpha r0^2 I(3) = 1.262e-26 cm^2 for H
        assert ALPHA_R0_SQ_CM2 * i_h == pytest.approx(1.262e-26, rel=1e-3)


def test_neutral_matrix_folds_helium_and_cells():
    e_e = np.logspace(-2, 5, 71)
    e_g = np.logspace(-1, 3, 9)
    brems = BremsstrahlungMatrix(e_g, e_e, he_to_h=0.11)
    expected = BremsstrahlungMatrix.target_matrix(e_g, e_e, "HI") + 0.11 * BremsstrahlungMatrix.target_matrix(e_g, e_e, "He")
    np.testing.assert_allclose(brems.matrix_neutral_per_H, expected, rtol=1e-12)
    flux = np.stack([e_e**-3.0, e_e**-3.2], axis=1)
    j = brems.emissivity_per_sr(flux, np.array([1.0, 0.5]), np.array([0.0, 0.1]))
    np.testing.assert_allclose(j[:, 1], 0.5 * brems.matrix_neutral_per_H @ flux[:, 1] + 0.1 * brems.matrix_ionised_per_HII @ flux[:, 1])
    with pytest.raises(ValueError):
        BremsstrahlungMatrix([1e-6], e_e)


@pytest.mark.slow
def test_ep_against_naima():
    naima = pytest.importorskip("naima")
    import astropy.units as u

    p, e_cut = 2.5, 1e4
    e_e = np.logspace(-2, 6, 8 * 30 + 1)
    e_g = np.logspace(-0.5, 3, 8)
    e_tot = e_e + M_E_GEV
    beta = np.sqrt(1 - (M_E_GEV / e_tot) ** 2)
    flux = e_tot**-p * np.exp(-e_tot / e_cut)
    q_ours = BremsstrahlungMatrix.target_matrix(e_g, e_e, "p_bare") @ flux
    # naima: N(E) = 4 pi J / (beta c) electrons per GeV in 1 cm^3; e-p term only (Baring et al. 1999,
    # algebraically the unshielded BG70 formula, docs/emission.md#bremsstrahlung, #reference-values)
    dist = naima.models.ExponentialCutoffPowerLaw(4 * np.pi / C_CM_PER_S / u.GeV, 1 * u.GeV, p, e_cut * u.GeV)
    brems = naima.models.Bremsstrahlung(dist, n0=1 / u.cm**3, weight_ee=1e-30, weight_ep=1.0, Eemin=10 * u.MeV)
    q_naima = brems.flux(e_g * u.GeV, distance=0).to("1/(s GeV)").value / (4 * np.pi)
    assert np.all(beta[e_e > 0.3] > 0.99999)
    np.testing.assert_allclose(q_ours / q_naima, 1.0, rtol=1e-2)


def test_koch_motz_3bn_limits():
    # ultra-relativistic limit of 3BN = unscreened BG70 formula with phi_1 = phi_2 = 4 Z^2 phi_u
    e0 = 10.0
    k = np.array([0.1, 0.5, 0.9]) * e0
    x = (e0 - k) / e0
    bg70 = 4 * ALPHA_R0_SQ_CM2 / k * (1 + x**2 - 2 * x / 3) * (np.log(2 * e0 * (e0 - k) / (M_E_GEV * k)) - 0.5)
    np.testing.assert_allclose(bethe_heitler_3bn_cm2_per_GeV(e0, k), bg70, rtol=1e-5)
    # non-relativistic limit: KM59 3BN(a), (16/3) alpha r0^2 Z^2 / k (m/p0)^2 ln((p0 + p1)/(p0 - p1)), O(beta^2)
    t0 = 1e-6
    e0 = M_E_GEV + t0
    k = np.array([0.1, 0.5, 0.9]) * t0
    p0 = np.sqrt(e0**2 - M_E_GEV**2)
    p1 = np.sqrt((e0 - k) ** 2 - M_E_GEV**2)
    born_nr = ALPHA_R0_SQ_CM2 * 16 / 3 / k * (M_E_GEV / p0) ** 2 * np.log((p0 + p1) / (p0 - p1))
    np.testing.assert_allclose(bethe_heitler_3bn_cm2_per_GeV(e0, k), born_nr, rtol=5e-3)


@pytest.mark.parametrize("e0", [0.01, 0.1, 1.0])
def test_regime_switch_at_delta_over_z_4_is_nearly_continuous(e0):
    from scipy.optimize import brentq

    k_switch = brentq(lambda k: k * M_E_GEV / (2 * e0 * (e0 - k)) / (2 * ALPHA_FS) - 4.0, 1e-9, e0 - M_E_GEV - 1e-12)
    below, above = dsigma_dk_cm2_per_GeV(e0, k_switch * np.array([1 - 1e-7, 1 + 1e-7]), "HI")
    assert above / below == pytest.approx(1.0, abs=0.03)


def test_regime_switch_at_2MeV_is_nearly_continuous():
    for k in (1e-4, 1e-3, 1.5e-3):
        below, above = dsigma_dk_cm2_per_GeV(M_E_GEV + 2e-3 * np.array([1 - 1e-9, 1 + 1e-9]), k, "HI")
        assert above / below == pytest.approx(1.0, abs=0.03)
