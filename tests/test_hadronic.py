"""Tests of the AAfrag hadronic emissivity matrices and of Galactic neutrino flavour mixing.

Truths: numbers computed independently in (docs/emission.md#aafrag-tables, #aafrag-and-kafexhiu, #reference-values), naima's
PionDecay (Kafexhiu et al. 2014, Pythia8) and the Fermi-LAT local emissivity (Abdo et al. 2009).
"""

from __future__ import annotations

import numpy as np
import pytest

from galdiff.interactions.hadronic import (
    HadronicMatrix,
    aafrag_cross_section_mb_per_GeV,
    channel_factor,
)
from galdiff.interactions.neutrino_oscillation import (
    NUFIT52_NO_WITH_SK,
    NUFIT52_NO_WITHOUT_SK,
    TRIBIMAXIMAL,
    averaged_transition_matrix,
    flavour_fluxes_at_earth,
)
from galdiff.units import (
    C_CM_PER_S,
    HELIUM,
    M_P_GEV,
    PROTON,
    beta_from_ek_per_n,
    drigidity_dek_per_n,
    ek_per_n_from_rigidity_GV,
    rigidity_GV_from_ek_per_n,
)

NU_ALL = ("nu_e", "anu_e", "nu_mu", "anu_mu")
# projectile grid: from the K14 threshold (T = 0.28 GeV) to 10^8.5 GeV/n, 20 per decade (docs/emission.md#hadronic-recipe)
EK_GEV_PER_N = np.logspace(np.log10(0.28), 8.5, int(20 * (8.5 - np.log10(0.28))) + 1)


def vp15_proton_lis(ek_GeV):
    """Vos & Potgieter 2015 proton LIS (docs/emission.md#local-emissivity), GeV^-1 cm^-2 s^-1 sr^-1."""
    beta = beta_from_ek_per_n(ek_GeV, PROTON)
    per_m2_MeV = 2.70 * ek_GeV**1.12 * beta**-2 * ((ek_GeV + 0.67) / 1.67) ** -3.93
    return per_m2_MeV * 1e-4 * 1e3


def helium_lis(ek_GeV_per_n):
    """He LIS J_He(R) = J_p(R)/5.5 in rigidity (docs/emission.md#local-emissivity), per GeV/n per nucleus."""
    rigidity = rigidity_GV_from_ek_per_n(ek_GeV_per_n, HELIUM)
    ek_p = ek_per_n_from_rigidity_GV(rigidity, PROTON)
    flux_p_per_GV = vp15_proton_lis(ek_p) * beta_from_ek_per_n(ek_p, PROTON)  # dT/dR = beta
    return flux_p_per_GV / 5.5 * drigidity_dek_per_n(ek_GeV_per_n, HELIUM)


def _integral_above(q, e_GeV, e_min_GeV):
    sel = e_GeV >= e_min_GeV * (1 - 1e-9)
    return np.trapezoid(q[sel] * e_GeV[sel], np.log(e_GeV[sel]))


# ------------------------------------------------------------------ cross-section wrapper


def test_aafrag_pp_100GeV_multiplicity_and_energy_fraction():
    # docs/emission.md#aafrag-tables, #reference-values: int dsigma/dE = 199.6 mb, <x> sigma = int E dsigma/dE / E_p = 4.99 mb
    e_g = np.logspace(-4, 2, 1201)
    cs = aafrag_cross_section_mb_per_GeV("gam", "p-p", [100.0], e_g)
    assert cs.shape == (1, e_g.size)
    assert np.trapezoid(cs[0] * e_g, np.log(e_g)) == pytest.approx(199.6, rel=5e-3)
    assert np.trapezoid(cs[0] * e_g**2, np.log(e_g)) / 100.0 == pytest.approx(4.99, rel=5e-3)


def test_aafrag_outside_table_is_zero():
    cs = aafrag_cross_section_mb_per_GeV("gam", "p-p", [1.0, 3.9, 1e12], [1.0])
    assert np.all(cs == 0.0)


@pytest.mark.parametrize(
    "channel, e_n, expected",
    # docs/emission.md#low-energy-completion table (energy-weighted yields per projectile nucleus)
    [("p-He", 10.0, 3.84), ("He-p", 10.0, 4.09), ("He-He", 10.0, 14.2),
     ("p-He", 4.0, 4.76), ("He-p", 4.0, 4.65), ("He-He", 4.0, 16.6),
     ("He-p", 1e3, 4.07), ("He-He", 1e3, 13.0)],
)
def test_channel_factors(channel, e_n, expected):
    assert channel_factor("gam", channel, e_n) == pytest.approx(expected, rel=1e-2)


# ------------------------------------------------------------------ matrix mechanics


@pytest.fixture(scope="module")
def gamma_matrix_local():
    e_g = np.logspace(-2, 4, 121)
    return HadronicMatrix(EK_GEV_PER_N, e_g, "gam", he_to_h=0.10)


def test_matrix_applies_to_many_cells(gamma_matrix_local):
    mat = gamma_matrix_local
    fluxes = np.stack([(EK_GEV_PER_N + M_P_GEV) ** -g for g in (2.0, 2.4, 2.8)], axis=1)
    q_all = mat.emissivity_per_H(fluxes, 0.05 * fluxes)
    for c in range(3):
        np.testing.assert_allclose(q_all[:, c], mat.emissivity_per_H(fluxes[:, c], 0.05 * fluxes[:, c]), rtol=1e-12)


def test_save_load_round_trip(tmp_path):
    mat = HadronicMatrix(EK_GEV_PER_N, np.logspace(-1, 7, 81), NU_ALL)
    print(f"HadronicMatrix(nu_all, {EK_GEV_PER_N.size} x 81) built in {mat.build_seconds:.2f} s")
    mat.save(tmp_path / "nu.npz")
    back = HadronicMatrix.load(tmp_path / "nu.npz")
    np.testing.assert_array_equal(back.matrix_p, mat.matrix_p)
    np.testing.assert_array_equal(back.matrix_he, mat.matrix_he)
    assert back.secondary == NU_ALL


def test_helium_projectile_energy_convention():
    # He tables take the total nucleus energy E_He = 4 T_n + M_He; at equal T_n the energy-weighted
    # yield ratio He-p / p-p is 4.00 at E_n = 100 GeV and 4.07 at 1 TeV (docs/emission.md#low-energy-completion table)
    e_s = np.logspace(-3, 3.5, 651)
    ek = np.array([99.06, 999.06])  # E_n = T_n + m_p = 100, 1000 GeV (AAfrag above the switch)
    mat = HadronicMatrix(ek, e_s, "gam")
    cs = mat.cross_sections_mb_per_GeV
    ratio = np.trapezoid(cs["He-p"] * e_s**2, np.log(e_s), axis=1) / np.trapezoid(cs["p-p"] * e_s**2, np.log(e_s), axis=1)
    np.testing.assert_allclose(ratio, [4.00, 4.07], rtol=1.5e-2)


# ------------------------------------------------------------------ local emissivity (docs/emission.md#local-emissivity)


def test_vp15_check_value():
    # docs/conventions.md#flux-density-and-emissivity: E^2.7 J = 1.19 GeV^1.7 cm^-2 s^-1 sr^-1 at 100 GeV
    assert 100.0**2.7 * vp15_proton_lis(100.0) == pytest.approx(1.19, rel=5e-3)
    # docs/emission.md#local-emissivity: He/p = 0.052 at equal T_n above 10 GeV/n
    assert helium_lis(100.0) / vp15_proton_lis(100.0) == pytest.approx(0.052, rel=2e-2)


def test_local_emissivity_against_fermi_and_doc(gamma_matrix_local):
    mat = gamma_matrix_local
    e_g = mat.secondary_energy_GeV
    q = mat.emissivity_per_H(vp15_proton_lis(EK_GEV_PER_N), helium_lis(EK_GEV_PER_N))
    q_100MeV = _integral_above(q, e_g, 0.1)
    # Abdo et al. 2009 (docs/emission.md#local-emissivity): 1.63e-26 incl. bremsstrahlung; pi0 part within 0.6-1.1 of it
    assert 0.6 * 1.63e-26 < q_100MeV < 1.1 * 1.63e-26
    assert q_100MeV == pytest.approx(1.63e-26, rel=0.30)
    # model values of docs/emission.md#local-emissivity (AAfrag + K14, He/H = 0.10): 1.25-1.27e-26, 4.98-5.15e-27, 1.04-1.08e-27
    assert q_100MeV == pytest.approx(1.26e-26, rel=0.04)
    assert _integral_above(q, e_g, 0.3) == pytest.approx(5.07e-27, rel=0.04)
    assert _integral_above(q, e_g, 1.0) == pytest.approx(1.06e-27, rel=0.05)
    e2q = lambda e: np.interp(np.log(e), np.log(e_g), e_g**2 * q)
    assert e2q(1.0) == pytest.approx(1.65e-27, rel=0.06)
    assert e2q(10.0) == pytest.approx(3.8e-28, rel=0.04)
    assert e2q(100.0) == pytest.approx(6.0e-29, rel=0.04)
    assert e2q(1000.0) == pytest.approx(9.9e-30, rel=0.04)


def test_nuclear_enhancement(gamma_matrix_local):
    mat = gamma_matrix_local
    pp_only = HadronicMatrix(EK_GEV_PER_N, mat.secondary_energy_GeV, "gam", he_to_h=0.0)
    ratio = mat.emissivity_per_H(vp15_proton_lis(EK_GEV_PER_N), helium_lis(EK_GEV_PER_N)) / pp_only.emissivity_per_H(
        vp15_proton_lis(EK_GEV_PER_N)
    )
    sel = (mat.secondary_energy_GeV >= 10) & (mat.secondary_energy_GeV <= 1e4)
    # docs/emission.md#local-emissivity, #reference-values: eps_M = 1.60-1.62 (AAfrag, He/H = 0.1)
    np.testing.assert_allclose(ratio[sel], 1.61, atol=0.03)


def test_helium_to_hydrogen_ratio_folding():
    e_g = np.array([1.0, 100.0])
    m0 = HadronicMatrix(EK_GEV_PER_N, e_g, "gam", he_to_h=0.0)
    m1 = HadronicMatrix(EK_GEV_PER_N, e_g, "gam", he_to_h=0.11)
    flux = (EK_GEV_PER_N + M_P_GEV) ** -2.7
    # p-He part per unit He/H from the tables themselves vs the folded matrix
    p_he = 1e-27 * (m1.cross_sections_mb_per_GeV["p-He"].T * np.gradient(np.log(EK_GEV_PER_N)) * EK_GEV_PER_N) @ flux
    diff = m1.emissivity_per_H(flux) - m0.emissivity_per_H(flux)
    np.testing.assert_allclose(diff, 0.11 * p_he, rtol=0.02)


# ------------------------------------------------------------------ naima / Kafexhiu 2014 comparison (docs/emission.md#aafrag-and-kafexhiu)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:LUT")
def test_pp_gamma_against_naima_kafexhiu14():
    naima = pytest.importorskip("naima")
    import astropy.units as u

    e_g = np.array([0.1, 0.316, 1.0, 3.16, 10.0, 31.6, 100.0, 316.0, 1e3, 1e4, 1e5, 3.16e5, 1e6])
    # docs/emission.md#aafrag-and-kafexhiu: AAfrag / K14-Pythia8, protons E^-2.7 exp(-E/3 PeV), p-p only
    doc_ratio = np.array([1.05, 0.96, 0.99, 1.20, 1.18, 0.97, 0.89, 0.85, 0.83, 0.80, 0.74, 0.67, 0.55])
    mat = HadronicMatrix(EK_GEV_PER_N, e_g, "gam", he_to_h=0.0)
    e_tot = EK_GEV_PER_N + M_P_GEV
    q = mat.emissivity_per_H(e_tot**-2.7 * np.exp(-e_tot / 3e6))
    # naima: protons per unit total energy in 1 cm^3, N = 4 pi J / c (naima multiplies by c, not beta c)
    dist = naima.models.ExponentialCutoffPowerLaw(4 * np.pi / C_CM_PER_S / u.GeV, 1 * u.GeV, 2.7, 3 * u.PeV)
    pion = naima.models.PionDecay(dist, nh=1 / u.cm**3, nuclear_enhancement=False)
    naima_q = pion.flux(e_g * u.GeV, distance=0).to("1/(s GeV)").value / (4 * np.pi)
    ratio = q / naima_q
    print("AAfrag/K14-Pythia8:", np.round(ratio, 3))
    # below 3 GeV our 4-10 GeV blend differs from the doc's hard 4 GeV switch
    np.testing.assert_allclose(ratio[e_g < 3], doc_ratio[e_g < 3], atol=0.08)
    np.testing.assert_allclose(ratio[e_g >= 3], doc_ratio[e_g >= 3], atol=0.03)
    # the brief's 20 % band holds from 1 GeV to 10 TeV except at the documented +20-24 % AAfrag
    # excess between 3 and 10 GeV (docs/emission.md#aafrag-and-kafexhiu)
    band = (e_g >= 1) & (e_g <= 1e4)
    assert np.all((ratio[band] > 0.78) & (ratio[band] < 1.26))


# ------------------------------------------------------------------ neutrinos (docs/emission.md#neutrinos)


@pytest.fixture(scope="module")
def pp_neutrino_gamma_matrices():
    e = np.logspace(1, 5, 9)
    return (
        HadronicMatrix(EK_GEV_PER_N, e, "gam", he_to_h=0.0),
        HadronicMatrix(EK_GEV_PER_N, e, NU_ALL, he_to_h=0.0),
        HadronicMatrix(EK_GEV_PER_N, e / 2, NU_ALL, he_to_h=0.0),
        HadronicMatrix(EK_GEV_PER_N, e, ("nu_e", "anu_e"), he_to_h=0.0),
    )


@pytest.mark.parametrize(
    "index, all_ratio_range, flavour_ratio_range",
    # docs/emission.md#neutrinos-and-gamma-rays (AAfrag p-p, 10 GeV - 100 TeV)
    [(2.7, (0.93, 0.96), (0.487, 0.498)), (2.0, (1.40, 1.46), (0.450, 0.456))],
)
def test_neutrino_to_gamma_ratios(pp_neutrino_gamma_matrices, index, all_ratio_range, flavour_ratio_range):
    gam, nu_all, nu_all_half, _ = pp_neutrino_gamma_matrices
    e = gam.secondary_energy_GeV
    flux = (EK_GEV_PER_N + M_P_GEV) ** -index
    q_g = gam.emissivity_per_H(flux)
    ratio_all = nu_all.emissivity_per_H(flux) / q_g
    per_flavour = (e / 2) ** 2 * nu_all_half.emissivity_per_H(flux) / 3 / (e**2 * q_g)
    assert np.all(ratio_all > all_ratio_range[0] - 0.02) and np.all(ratio_all < all_ratio_range[1] + 0.01)
    assert np.all(per_flavour > flavour_ratio_range[0] - 0.005) and np.all(per_flavour < flavour_ratio_range[1] + 0.005)
    # rule of thumb (docs/emission.md#neutrinos-and-gamma-rays): per-flavour nu / gamma at equal E ~ 2^(1 - Gamma) within ~10 %
    np.testing.assert_allclose(ratio_all / 3, 2.0 ** (1 - index), rtol=0.10)


def test_ecpl_neutrino_ratio_falls(pp_neutrino_gamma_matrices):
    gam, nu_all, _, _ = pp_neutrino_gamma_matrices
    e_tot = EK_GEV_PER_N + M_P_GEV
    flux = e_tot**-2.0 * np.exp(-e_tot / 1e6)
    ratio = nu_all.emissivity_per_H(flux) / gam.emissivity_per_H(flux)
    # docs/emission.md#neutrinos-and-gamma-rays: 1.40 at 10 GeV falling to 0.79 at 100 TeV
    assert ratio[0] == pytest.approx(1.40, abs=0.02)
    assert ratio[-1] == pytest.approx(0.79, abs=0.02)


def test_source_flavour_ratio(pp_neutrino_gamma_matrices):
    _, nu_all, _, nu_e = pp_neutrino_gamma_matrices
    flux = (EK_GEV_PER_N + M_P_GEV) ** -2.7
    q_e = nu_e.emissivity_per_H(flux)
    mu_over_e = (nu_all.emissivity_per_H(flux) - q_e) / q_e
    # docs/emission.md#neutrinos: (nu_e + anti) : (nu_mu + anti) = 1 : 2.14-2.20 for E^-2.7
    assert np.all((mu_over_e > 2.12) & (mu_over_e < 2.22))


@pytest.mark.parametrize(
    "angles, expected",
    [
        (NUFIT52_NO_WITH_SK, [[0.5525, 0.2260, 0.2214], [0.2260, 0.3946, 0.3793], [0.2214, 0.3793, 0.3992]]),
        (NUFIT52_NO_WITHOUT_SK, [[0.5528, 0.1717, 0.2755], [0.1717, 0.4525, 0.3758], [0.2755, 0.3758, 0.3486]]),
        (TRIBIMAXIMAL, [[5 / 9, 2 / 9, 2 / 9], [2 / 9, 7 / 18, 7 / 18], [2 / 9, 7 / 18, 7 / 18]]),
    ],
)
def test_averaged_oscillation_matrix(angles, expected):
    prob = averaged_transition_matrix(angles)
    np.testing.assert_allclose(prob, expected, atol=1.5e-4)
    np.testing.assert_allclose(prob.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, atol=1e-12)


def test_flavour_ratio_at_earth():
    # docs/emission.md#neutrino-oscillations: (1:2:0) -> (0.335 : 0.338 : 0.327) with SK, (0.299 : 0.359 : 0.342) without
    e, mu, tau = flavour_fluxes_at_earth(np.array([1.0]), np.array([2.0]))
    np.testing.assert_allclose(np.r_[e, mu, tau] / 3.0, [0.335, 0.338, 0.327], atol=1e-3)
    e, mu, tau = flavour_fluxes_at_earth(1.0, 2.0, angles=NUFIT52_NO_WITHOUT_SK)
    np.testing.assert_allclose(np.r_[e, mu, tau] / 3.0, [0.299, 0.359, 0.342], atol=1.5e-3)
    e, mu, tau = flavour_fluxes_at_earth(1.0, 2.0, angles=TRIBIMAXIMAL)
    np.testing.assert_allclose(np.r_[e, mu, tau], 1.0, atol=1e-12)


def test_kamae_positron_renormalisation_fixed():
    from galdiff.interactions.hadronic import low_energy_pp_cross_section_mb_per_GeV

    e_s = np.logspace(-4, 1.5, 1101)
    e_p = M_P_GEV + np.array([1.0, 2.0, 3.0, 4.0, 5.4, 5.6])
    posi = low_energy_pp_cross_section_mb_per_GeV("posi", e_p, e_s)
    elec = low_energy_pp_cross_section_mb_per_GeV("el", e_p, e_s)
    n_posi = np.trapezoid(posi * e_s, np.log(e_s), axis=1)
    n_elec = np.trapezoid(elec * e_s, np.log(e_s), axis=1)
    # charge conservation in p-p: more pi+ than pi-, hence e+ > e- at a few GeV
    assert np.all(n_posi > 1.5 * n_elec)
    # continuity across the T_p = 5.52 GeV switch of the Kamae renormalisation (r = 1.04 -> 1)
    assert n_posi[5] / n_posi[4] == pytest.approx(1.0, abs=0.06)


def test_secondary_source_rate_is_4pi_nH_q():
    mat = HadronicMatrix(EK_GEV_PER_N, np.array([0.1, 1.0, 10.0]), ("el", "posi"))
    flux = np.stack([(EK_GEV_PER_N + M_P_GEV) ** -2.7] * 2, axis=1)
    rate = mat.source_rate_per_volume_4pi(flux, 0.05 * flux, np.array([1.0, 3.0]))
    q = mat.emissivity_per_H(flux[:, 0], 0.05 * flux[:, 0])
    np.testing.assert_allclose(rate, 4 * np.pi * q[:, None] * np.array([1.0, 3.0]), rtol=1e-12)
