"""Tests of the emission stage (galdiff.emission): grid application, local anchors, extras, absorption, I/O."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gamma as gamma_fn
from scipy.special import zeta

from galdiff.emission import (
    EXTRA1,
    EXTRA2,
    EmissionGrid,
    ExtraComponent,
    extra_gamma_emissivity,
    extra_neutrino_emissivity,
    fit_parent_proton_ecpl,
    gas_on_grid_cm3,
    species_intensity_from_density,
    pulsar_template,
    read_emissivity_h5,
    write_emissivity_h5,
)
from galdiff.galaxy.isrf import ISRF_FILENAME, cmb_number_density_per_eV, read_isrf
from galdiff.galaxy.sources import pulsar_distribution
from galdiff.interactions.bremsstrahlung import BremsstrahlungMatrix
from galdiff.interactions.gamma_gamma import absorption_coefficient_per_kpc
from galdiff.interactions.hadronic import HadronicMatrix
from galdiff.interactions.inverse_compton import InverseComptonKernel
from galdiff.interactions.neutrino_oscillation import flavour_fluxes_at_earth
from galdiff.spectra import ecpl
from galdiff.units import HBAR_C_EV_CM, HELIUM, K_B_EV_PER_K, M_E_GEV, PROTON, SIGMA_T_CM2
from galdiff.units import drigidity_dek_per_n, ek_per_n_from_rigidity_GV, rigidity_GV_from_ek_per_n

# a small, irregular grid: mix-ups of r and z (or of cells) change the numbers
R_KPC = np.array([0.5, 4.0, 8.5, 13.0])
Z_KPC = np.array([-1.0, 0.0, 0.3])
EK_NUC = np.geomspace(0.3, 1e6, 20 * 6 + 11)  # GeV/n, 20 per decade
EK_LEP = np.geomspace(0.05, 1e5, 20 * 6 + 7)  # GeV
E_GAMMA = np.geomspace(0.1, 1e5, 31)
FERMI_Q100_PER_H = 1.63e-26  # Abdo et al. 2009, ph s^-1 sr^-1 H^-1 (docs/emission.md#local-emissivity)


@pytest.fixture(scope="module")
def isrf(mirror_dir):
    path = mirror_dir / "galaxy" / ISRF_FILENAME
    if not path.is_file():
        pytest.skip(f"ISRF file not found: {path}")
    return read_isrf(path)


def _cell_spectra(ek, base_index, rng, shape=(R_KPC.size, Z_KPC.size)):
    """Different power-law intensities per cell, (n_E, n_r, n_z): amplitude and index vary."""
    amp = rng.uniform(0.5, 2.0, shape)
    dindex = rng.uniform(-0.3, 0.3, shape)
    return amp[None] * (ek[:, None, None] / 10.0) ** (-(base_index + dindex[None]))


@pytest.fixture(scope="module")
def cell_fluxes():
    rng = np.random.default_rng(42)
    return {
        "proton": 1e-2 * _cell_spectra(EK_NUC, 2.7, rng),
        "helium": 5e-4 * _cell_spectra(EK_NUC, 2.6, rng),
        "electron": 1e-4 * _cell_spectra(EK_LEP, 3.1, rng),
        "positron": 1e-5 * _cell_spectra(EK_LEP, 2.9, rng),
    }


@pytest.fixture(scope="module")
def grid_isrf(isrf):
    return EmissionGrid(R_KPC, Z_KPC, EK_NUC, EK_LEP, gamma_energy_GeV=E_GAMMA, isrf=isrf,
                        target_energy_eV=np.geomspace(1e-6, 15.0, 145), chunk_cells=5)


@pytest.fixture(scope="module")
def result_isrf(grid_isrf, cell_fluxes):
    return grid_isrf.compute(cell_fluxes, extras=(EXTRA1,), attrs={"model": "test"})


# ------------------------------------------------------------------------------------------------
# grid application: every cell equals a single-cell call (no per-cell or r/z mix-up)
# ------------------------------------------------------------------------------------------------
def test_hadronic_cells_match_single_cell_calls(grid_isrf, result_isrf, cell_fluxes):
    pi0 = HadronicMatrix(EK_NUC, E_GAMMA, "gam", he_to_h=grid_isrf.he_to_h)
    # per source flavour (the low-energy channel factors are per flavour pair, so not the 4-code matrix)
    nu_e = HadronicMatrix(EK_NUC, E_GAMMA, ("nu_e", "anu_e"), he_to_h=grid_isrf.he_to_h)
    nu_mu = HadronicMatrix(EK_NUC, E_GAMMA, ("nu_mu", "anu_mu"), he_to_h=grid_isrf.he_to_h)
    for i_r in range(R_KPC.size):
        for i_z in range(Z_KPC.size):
            jp = cell_fluxes["proton"][:, i_r, i_z]
            jhe = cell_fluxes["helium"][:, i_r, i_z]
            np.testing.assert_allclose(result_isrf.components["pi0"][i_r, i_z], pi0.emissivity_per_H(jp, jhe), rtol=1e-12)
            # oscillations conserve the all-flavour sum
            source_e, source_mu = nu_e.emissivity_per_H(jp, jhe), nu_mu.emissivity_per_H(jp, jhe)
            np.testing.assert_allclose(result_isrf.components["neutrino_all"][i_r, i_z], source_e + source_mu, rtol=1e-10)
            # averaged oscillations (docs/emission.md#neutrino-oscillations) of the per-cell source flavours
            for flavour, at_earth in zip(("e", "mu", "tau"), flavour_fluxes_at_earth(source_e, source_mu)):
                np.testing.assert_allclose(result_isrf.components[f"neutrino_{flavour}"][i_r, i_z], at_earth, rtol=1e-10)
    # source ~ 1 : 2 : 0 becomes nearly 1 : 1 : 1 at Earth (0.335 : 0.338 : 0.327)
    shares = [result_isrf.components[f"neutrino_{f}"][..., 10] / result_isrf.components["neutrino_all"][..., 10]
              for f in ("e", "mu", "tau")]
    np.testing.assert_allclose(shares, 1 / 3, atol=0.03)
    assert result_isrf.components["pi0"].shape == (R_KPC.size, Z_KPC.size, E_GAMMA.size)


def test_lepton_components_match_single_cell_calls(isrf, grid_isrf, result_isrf, cell_fluxes):
    brems = BremsstrahlungMatrix(E_GAMMA, EK_LEP, he_to_h=grid_isrf.he_to_h)
    kernel = InverseComptonKernel(E_GAMMA, EK_LEP, grid_isrf.target_energy_eV, oversample=grid_isrf.ic_oversample)
    gas = grid_isrf.gas_cm3
    for i_r, r in enumerate(R_KPC):
        for i_z, z in enumerate(Z_KPC):
            je = cell_fluxes["electron"][:, i_r, i_z] + cell_fluxes["positron"][:, i_r, i_z]
            _, dn = isrf.photon_field(r, z, eps_eV=grid_isrf.target_energy_eV)
            np.testing.assert_allclose(result_isrf.components["inverse_compton"][i_r, i_z],
                                       kernel.emissivity_per_sr(je, dn), rtol=1e-10)
            n_neutral = gas["HI"][i_r, i_z] + 2 * gas["H2"][i_r, i_z]
            n_hii = gas["HII"][i_r, i_z]
            expected = brems.emissivity_per_sr(je, n_neutral, n_hii) / (n_neutral + n_hii)
            np.testing.assert_allclose(result_isrf.components["bremsstrahlung"][i_r, i_z], expected, rtol=1e-10)
            np.testing.assert_allclose(result_isrf.components["bremsstrahlung_ionised"][i_r, i_z],
                                       brems.matrix_ionised_per_HII @ je, rtol=1e-12)


def test_uniform_cells_give_uniform_emissivity():
    rng = np.random.default_rng(3)
    grid = EmissionGrid(R_KPC, Z_KPC, EK_NUC, EK_LEP, gamma_energy_GeV=E_GAMMA, isrf=None,
                        target_energy_eV=np.geomspace(1e-6, 1e-1, 81),
                        gas_cm3={"HI": np.ones((4, 3)), "H2": 0.1 * np.ones((4, 3)), "HII": 0.02 * np.ones((4, 3))})
    one = _cell_spectra(EK_LEP, 3.0, rng, shape=(1, 1))
    flux = {"electron": np.broadcast_to(one, (EK_LEP.size, 4, 3)).copy(),
            "proton": np.broadcast_to(_cell_spectra(EK_NUC, 2.7, rng, shape=(1, 1)), (EK_NUC.size, 4, 3)).copy()}
    res = grid.compute(flux, include=("pi0", "bremsstrahlung", "inverse_compton"))
    for name in ("pi0", "bremsstrahlung", "inverse_compton"):
        values = res.components[name]
        assert np.all(values[..., 0] > 0)
        np.testing.assert_allclose(values, np.broadcast_to(values[0, 0], values.shape), rtol=1e-12, err_msg=name)


# ------------------------------------------------------------------------------------------------
# local anchor: Fermi-LAT local HI emissivity
# ------------------------------------------------------------------------------------------------
def _vp15_proton_lis(ek_GeV):
    """Vos & Potgieter 2015 proton LIS (docs/emission.md#local-emissivity), GeV^-1 cm^-2 s^-1 sr^-1."""
    beta = np.sqrt(ek_GeV * (ek_GeV + 2 * PROTON.mass_GeV)) / (ek_GeV + PROTON.mass_GeV)
    per_m2_MeV = 2.70 * ek_GeV**1.12 * beta**-2 * ((ek_GeV + 0.67) / 1.67) ** -3.93
    return per_m2_MeV * 1e-4 * 1e3


def _vp15_helium_lis(ek_GeV_per_n):
    """He LIS J_He(R) = J_p(R)/5.5 in rigidity (docs/emission.md#local-emissivity), per GeV/n."""
    rig = rigidity_GV_from_ek_per_n(ek_GeV_per_n, HELIUM)
    ek_p = ek_per_n_from_rigidity_GV(rig, PROTON)
    j_p_rig = _vp15_proton_lis(ek_p) / drigidity_dek_per_n(ek_p, PROTON)
    return j_p_rig / 5.5 * drigidity_dek_per_n(ek_GeV_per_n, HELIUM)


def test_local_pi0_emissivity_matches_fermi():
    ek = np.geomspace(0.05, 1e6, 20 * 8 + 1)
    e_g = np.geomspace(0.1, 1e4, 101)
    grid = EmissionGrid([8.5, 9.0], [0.0, 0.1], ek, EK_LEP, gamma_energy_GeV=e_g, he_to_h=0.10)
    ones = np.ones((1, 2, 2))
    q = grid.pi0_per_H(_vp15_proton_lis(ek)[:, None, None] * ones, _vp15_helium_lis(ek)[:, None, None] * ones)
    q_local = q[0, 0]
    q_above_100MeV = np.trapezoid(q_local * e_g, np.log(e_g))
    # docs/emission.md#local-emissivity: the pi0 part alone must be 0.6-1.1 of the Fermi value
    # (expected 1.25-1.27e-26); Abdo 2009 includes bremsstrahlung, which adds 20-40 % at 100 MeV
    assert 0.6 * FERMI_Q100_PER_H < q_above_100MeV < 1.1 * FERMI_Q100_PER_H
    assert q_above_100MeV == pytest.approx(FERMI_Q100_PER_H, rel=0.30)
    assert q_above_100MeV == pytest.approx(1.26e-26, rel=0.08)
    e2q_1GeV = np.interp(0.0, np.log(e_g), q_local * e_g**2)
    assert 1.5e-27 < e2q_1GeV < 1.8e-27  # docs/emission.md#local-emissivity: 1.59-1.71e-27 GeV s^-1 sr^-1 H^-1


# ------------------------------------------------------------------------------------------------
# inverse Compton on the CMB: grid application and Thomson limit
# ------------------------------------------------------------------------------------------------
def test_ic_cmb_only_equals_kernel():
    eps = np.geomspace(1e-6, 3e-2, 150)
    grid = EmissionGrid([1.0, 8.0, 15.0], [-2.0, 0.5], EK_NUC, EK_LEP, gamma_energy_GeV=E_GAMMA, isrf=None,
                        target_energy_eV=eps, chunk_cells=4)
    rng = np.random.default_rng(7)
    flux = 1e-3 * _cell_spectra(EK_LEP, 3.0, rng, shape=(3, 2))
    j = grid.inverse_compton(flux)
    kernel = InverseComptonKernel(E_GAMMA, EK_LEP, eps, oversample=grid.ic_oversample)
    cmb = cmb_number_density_per_eV(eps)
    for i_r in range(3):
        for i_z in range(2):
            np.testing.assert_allclose(j[i_r, i_z], kernel.matrix(cmb) @ flux[:, i_r, i_z], rtol=1e-10)


def test_ic_thomson_limit_power_law_on_cmb():
    """J_e = K E^-p on a blackbody, Thomson limit (Blumenthal & Gould 1970, Eq. 2.65, restated).

    j(E_g) = K m^(p-1) (3 sigma_T / 8) I_p 4^((p+1)/2) E_g^(-(p+1)/2) int d eps n(eps) eps^((p-1)/2),
    I_p = int_0^1 x^a (2 x ln x + x + 1 - 2 x^2) dx with a = (p - 1)/2 (energies in eV), and
    int n eps^((p-1)/2) d eps = (kT)^((p+5)/2) Gamma((p+5)/2) zeta((p+5)/2) / (pi^2 (hbar c)^3).
    """
    p = 3.0
    ek = np.geomspace(1e-2, 3e3, 6 * 30 + 1)  # GeV, Thomson: 4 gamma kT / m c^2 < 2e-2
    e_g = np.geomspace(1e-5, 1e-2, 13)
    temperature = 2.725
    eps = np.geomspace(1e-7, 3e-2, 5 * 50 + 1)
    grid = EmissionGrid([8.0, 9.0], [0.0, 1.0], EK_NUC, ek, gamma_energy_GeV=e_g, isrf=None, target_energy_eV=eps)
    k_norm = 1e-3
    energy_total = ek + M_E_GEV
    flux = (k_norm * energy_total**-p)[:, None, None] * np.ones((1, 2, 2))  # per GeV, E = total energy
    j = grid.inverse_compton(flux)[0, 0]
    a = (p - 1) / 2
    i_p = -2 / (a + 2) ** 2 + 1 / (a + 2) + 1 / (a + 1) - 2 / (a + 3)
    kt = K_B_EV_PER_K * temperature
    eps_moment = kt ** ((p + 5) / 2) * gamma_fn((p + 5) / 2) * zeta((p + 5) / 2) / (np.pi**2 * HBAR_C_EV_CM**3)
    # K per GeV in E (GeV) -> per gamma: K_gamma = K (m c^2 / GeV)^(1 - p); E_g in eV; result per eV -> x 1e9 per GeV
    k_gamma = k_norm * M_E_GEV ** (1 - p)
    e_g_eV = e_g * 1e9
    analytic_per_eV = k_gamma * 0.375 * SIGMA_T_CM2 * i_p * 4 ** ((p + 1) / 2) * e_g_eV ** (-(p + 1) / 2) * eps_moment
    analytic = analytic_per_eV * 1e9
    # the middle of the range: electrons well inside the grid, Thomson regime
    sel = (e_g > 3e-5) & (e_g < 3e-3)
    np.testing.assert_allclose(j[sel], analytic[sel], rtol=3e-3)  # measured: 0.02-0.08 %


# ------------------------------------------------------------------------------------------------
# extra components
# ------------------------------------------------------------------------------------------------
def test_extra_template_normalised_at_sun():
    comp = ExtraComponent("x", 2.4, 2e4, norm_per_GeV_cm3_s_sr=3e-35, origin="leptonic")
    r = np.array([2.0, 8.5, 12.0])
    z = np.array([0.0, 0.5])
    j = extra_gamma_emissivity(comp, r, z, E_GAMMA)
    np.testing.assert_allclose(j[1, 0], ecpl(E_GAMMA, 3e-35, 2.4, 2e4, 1000.0), rtol=1e-12)
    ratio = pulsar_distribution(2.0, 0.5) / pulsar_distribution(8.5, 0.0)
    np.testing.assert_allclose(j[0, 1], ratio * j[1, 0], rtol=1e-12)
    # the distribution is selectable and changes the template
    other = ExtraComponent("y", 2.4, 2e4, distribution="yusifov_kucuk2004", origin="leptonic")
    assert pulsar_template(other, r, z)[1, 0] == pytest.approx(1.0)
    assert not np.allclose(pulsar_template(other, r, z), pulsar_template(comp, r, z))
    assert extra_neutrino_emissivity(comp, r, z, E_GAMMA) == {}
    # K is defined at the component's r_sun, whatever the profile's own reference radius
    gauss = ExtraComponent("g", 2.4, 2e4, distribution="faucher_giguere_kaspi2006_birth", r_sun_kpc=8.3)
    template = pulsar_template(gauss, np.array([7.04, 8.3]), np.array([0.0]))
    assert template[1, 0] == pytest.approx(1.0)
    assert template[0, 0] == pytest.approx(np.exp((8.3 - 7.04) ** 2 / (2 * 1.83**2)))
    with pytest.raises(ValueError):
        ExtraComponent("bad", 2.4, 2e4, origin="both")


@pytest.fixture(scope="module")
def extra1_fit():
    e_nu = np.geomspace(10.0, 1e5, 41)
    return fit_parent_proton_ecpl(EXTRA1.index, EXTRA1.cutoff_GeV, e_nu, EXTRA1.reference_GeV)


def test_extra_hadronic_neutrino_to_gamma_ratios(extra1_fit):
    fit = extra1_fit
    assert fit.max_abs_log_residual < 0.05  # the parent protons reproduce the gamma ECPL
    e_nu = fit.neutrino_energy_GeV
    nu = fit.neutrino_per_unit_norm
    # docs/emission.md#neutrinos-and-gamma-rays: per flavour (E/2)^2 Q_nu(E/2) / E^2 Q_gamma(E) = 0.45-0.50
    sel = (e_nu >= 50.0) & (e_nu <= 1000.0)
    e_gamma = 2 * e_nu[sel]
    gamma = ecpl(e_gamma, 1.0, EXTRA1.index, EXTRA1.cutoff_GeV, 1000.0)
    for flavour in ("e", "mu", "tau"):
        ratio = e_nu[sel] ** 2 * nu[flavour][sel] / (e_gamma**2 * gamma)
        assert np.all((ratio > 0.40) & (ratio < 0.55)), (flavour, ratio)
        # docs/emission.md#neutrinos-of-the-extra-components: Phi_nu_alpha(E) ~ 2 Phi_gamma(2E), i.e. K 2^(1-Gamma) (E/E0)^-Gamma exp(-2E/E_c), ~10 %
        rule = ecpl(e_nu[sel], 2.0 ** (1 - EXTRA1.index), EXTRA1.index, EXTRA1.cutoff_GeV / 2, 1000.0)
        np.testing.assert_allclose(nu[flavour][sel], rule, rtol=0.15)
    # near-equal flavours at Earth (1:2:0 -> 0.335:0.338:0.327)
    share_e = nu["e"][sel] / nu["all"][sel]
    np.testing.assert_allclose(share_e, 1 / 3, atol=0.02)
    np.testing.assert_allclose(nu["e"] + nu["mu"] + nu["tau"], nu["all"], rtol=1e-12)
    # the neutrino cutoff sits at about half the gamma cutoff: spectral steepening above 10 TeV
    hi = np.searchsorted(e_nu, 2e4)
    assert nu["mu"][hi] * e_nu[hi] ** EXTRA1.index < 0.5 * nu["mu"][0] * e_nu[0] ** EXTRA1.index


def test_extra2_fit_quality():
    fit = fit_parent_proton_ecpl(EXTRA2.index, EXTRA2.cutoff_GeV, np.geomspace(1e3, 1e6, 7))
    assert fit.max_abs_log_residual < 0.10
    assert fit.proton_cutoff_GeV > EXTRA2.cutoff_GeV
    # a plain exponential proton cutoff cannot give the sharp exp(-E/E_c) gamma cutoff
    plain = fit_parent_proton_ecpl(EXTRA2.index, EXTRA2.cutoff_GeV, np.geomspace(1e3, 1e6, 7), proton_shape="ecpl")
    assert plain.proton_curvature == 0.0 and plain.proton_cutoff_sharpness == 1.0
    assert plain.max_abs_log_residual > 2 * fit.max_abs_log_residual


def test_extra_neutrinos_on_grid_scale_with_norm_and_template(extra1_fit):
    comp = ExtraComponent("extra1", 2.4, 2e4, norm_per_GeV_cm3_s_sr=2e-35)
    r = np.array([4.0, 8.5])
    z = np.array([0.0, 0.2])
    nus = extra_neutrino_emissivity(comp, r, z, extra1_fit.neutrino_energy_GeV, fit=extra1_fit)
    np.testing.assert_allclose(nus["mu"][1, 0], 2e-35 * extra1_fit.neutrino_per_unit_norm["mu"], rtol=1e-12)
    template = pulsar_template(comp, r, z)
    np.testing.assert_allclose(nus["all"][0, 1], template[0, 1] * nus["all"][1, 0], rtol=1e-12)


def test_compute_includes_extras(result_isrf):
    assert "extra1" in result_isrf.components
    for flavour in ("e", "mu", "tau", "all"):
        assert result_isrf.component_meta[f"extra1_neutrino_{flavour}"]["convention"] == "per_volume"
    assert result_isrf.component_meta["pi0"]["convention"] == "per_H"
    assert result_isrf.component_meta["neutrino_mu"]["absorbed"] is False
    fit = result_isrf.attrs["extra_parent_proton_fits"]["extra1"]
    assert fit["max_abs_log_residual"] < 0.05


# ------------------------------------------------------------------------------------------------
# pair absorption
# ------------------------------------------------------------------------------------------------
def test_absorption_cmb_mean_free_path():
    e_g = np.array([1e6, 2e6, 2.24e6, 1e7])
    eps = np.geomspace(1e-6, 1e-1, 401)
    grid = EmissionGrid([0.0, 8.5], [0.0, 2.0], EK_NUC, EK_LEP, gamma_energy_GeV=e_g, isrf=None, target_energy_eV=eps)
    kappa = grid.absorption_per_kpc()
    direct = absorption_coefficient_per_kpc(e_g, eps, cmb_number_density_per_eV(eps))
    np.testing.assert_allclose(kappa, np.broadcast_to(direct, kappa.shape), rtol=1e-12)
    # docs/emission.md#pair-absorption: lambda_CMB = 8.95, 7.09, 7.07 (minimum), 11.4 kpc
    np.testing.assert_allclose(1.0 / kappa[1, 0], [8.95, 7.09, 7.07, 11.4], rtol=0.01)


def test_absorption_with_isrf_adds_infrared(grid_isrf):
    e_g = grid_isrf.gamma_energy_GeV
    kappa = grid_isrf.absorption_per_kpc()
    assert kappa.shape == (R_KPC.size, Z_KPC.size, e_g.size)
    cmb = absorption_coefficient_per_kpc(e_g, grid_isrf.target_energy_eV,
                                         cmb_number_density_per_eV(grid_isrf.target_energy_eV))
    assert np.all(kappa >= cmb * (1 - 1e-12))
    # IR absorption near 100 TeV: strongest in the inner Galaxy (docs/emission.md#pair-absorption)
    i100 = np.argmin(np.abs(e_g - 1e5))
    assert kappa[0, 1, i100] > kappa[3, 1, i100] > 0


# ------------------------------------------------------------------------------------------------
# gas mix and input checks
# ------------------------------------------------------------------------------------------------
def test_gas_on_grid_has_galprop_values():
    gas = gas_on_grid_cm3([8.5], [0.0], cell_average=False)
    assert gas["HI"][0, 0] == pytest.approx(0.674, rel=0.01)  # docs/galaxy_inputs.md#gas-check-values, model 2
    assert gas["HII"][0, 0] == pytest.approx(0.0221, rel=0.02)


def test_bad_inputs_raise():
    grid = EmissionGrid(R_KPC, Z_KPC, EK_NUC, EK_LEP, gamma_energy_GeV=E_GAMMA, isrf=None)
    with pytest.raises(ValueError, match="shape"):
        grid.pi0_per_H(np.ones((EK_NUC.size, Z_KPC.size, R_KPC.size)))
    with pytest.raises(ValueError, match="unknown species"):
        grid.compute({"antiproton": np.ones((EK_NUC.size, 4, 3))})
    with pytest.raises(ValueError, match="increasing"):
        EmissionGrid(R_KPC[::-1], Z_KPC, EK_NUC, EK_LEP)


# ------------------------------------------------------------------------------------------------
# file round trip
# ------------------------------------------------------------------------------------------------
def test_write_read_round_trip(tmp_path, result_isrf):
    path = tmp_path / "emission" / "dr_low" / "emissivity.h5"
    write_emissivity_h5(path, result_isrf, config={"model": "dr_low"})
    assert sorted(p.name for p in path.parent.iterdir()) == ["emissivity.h5"]  # atomic: no temp file left
    back = read_emissivity_h5(path)
    assert set(back.components) == set(result_isrf.components)
    for name, values in result_isrf.components.items():
        np.testing.assert_array_equal(back.components[name], values)
        assert back.component_meta[name] == result_isrf.component_meta[name]
    np.testing.assert_array_equal(back.kappa_per_kpc, result_isrf.kappa_per_kpc)
    np.testing.assert_array_equal(back.r_kpc, R_KPC)
    np.testing.assert_array_equal(back.energies["gamma_energy_GeV"], E_GAMMA)
    for key in ("HI", "H2", "HII"):
        np.testing.assert_array_equal(back.gas_cm3[key], result_isrf.gas_cm3[key])
    assert back.attrs["model"] == "test"
    assert "config_hash" in back.attrs["provenance"] and "galdiff_version" in back.attrs["provenance"]
    assert "per steradian" in back.attrs["convention"]
    with pytest.raises(FileNotFoundError):
        read_emissivity_h5(tmp_path / "missing.h5")


def test_ic_lowrank_option_matches_exact(isrf, grid_isrf, cell_fluxes):
    low = EmissionGrid(R_KPC, Z_KPC, EK_NUC, EK_LEP, gamma_energy_GeV=E_GAMMA, isrf=isrf,
                       target_energy_eV=grid_isrf.target_energy_eV, ic_method="lowrank", ic_rank_tolerance=1e-4)
    leptons = cell_fluxes["electron"] + cell_fluxes["positron"]
    exact = grid_isrf.inverse_compton(leptons)
    approx = low.inverse_compton(leptons)
    basis, amplitude, rank, error = low.photon_field_lowrank
    assert error <= 1e-4 and rank < grid_isrf.target_energy_eV.size
    significant = exact > 1e-8 * exact.max()
    np.testing.assert_allclose(approx[significant], exact[significant], rtol=2e-4)
    with pytest.raises(ValueError, match="ic_method"):
        EmissionGrid(R_KPC, Z_KPC, EK_NUC, EK_LEP, ic_method="svd")


def test_helium_on_another_grid_is_regridded(grid_isrf, cell_fluxes):
    ek_coarse = EK_NUC[::2]
    same = grid_isrf.pi0_per_H(cell_fluxes["proton"], cell_fluxes["helium"])
    other = grid_isrf.pi0_per_H(cell_fluxes["proton"], cell_fluxes["helium"][::2], ek_he_GeV_per_n=ek_coarse)
    np.testing.assert_allclose(other, same, rtol=1e-6)  # power laws: log-log interpolation is exact
    with pytest.raises(ValueError, match="helium"):
        grid_isrf.pi0_per_H(cell_fluxes["proton"], cell_fluxes["helium"][::2], ek_he_GeV_per_n=EK_NUC)


def test_intensity_from_density():
    ek = np.array([0.01, 1.0, 1e3])
    density = np.ones((3, 2, 2))
    j_p = species_intensity_from_density(density, ek, "proton")
    beta_p = np.sqrt(ek * (ek + 2 * PROTON.mass_GeV)) / (ek + PROTON.mass_GeV)
    np.testing.assert_allclose(j_p[:, 1, 0], beta_p * 2.99792458e10 / (4 * np.pi), rtol=1e-12)
    j_e = species_intensity_from_density(density, ek, "electron")
    assert j_e[-1, 0, 0] == pytest.approx(2.99792458e10 / (4 * np.pi), rel=1e-9)
    assert j_e[0, 0, 0] > j_p[0, 0, 0]  # a 10 MeV electron is relativistic, a proton is not


def test_model_emissivity_targets_the_configured_gas():
    """The emissivity rule's target gas follows propagation.galaxy, as the propagation's does: doubling X_CO
    doubles n_H2 on the emission grid (HI, HII unchanged), and the bremsstrahlung per H atom is the mix
    (1 - f) q_neutral + f q_ionised with the ionised fraction f = n_HII / n_H of that gas."""
    from types import SimpleNamespace

    from galdiff.emission import model_emissivity

    r, z = np.array([0.0, 4.0, 8.0, 12.0]), np.array([-0.2, 0.0, 0.2])
    ek_nuc, ek_lep = np.geomspace(1.0, 1.0e6, 19), np.geomspace(0.5, 1.0e4, 15)

    def species(ek, index):
        grid = SimpleNamespace(r_kpc=r, z_kpc=z, ek_GeV_per_n=ek)
        return SimpleNamespace(grid=grid, density=1e-10 * np.broadcast_to(ek[:, None, None] ** -index, (ek.size, 4, 3)))

    propagated = {"proton": species(ek_nuc, 2.8), "helium": species(ek_nuc, 2.7),
                  "electron": species(ek_lep, 3.1), "positron": species(ek_lep, 3.3)}
    emission_cfg = {"gamma_energy_GeV": {"min": 1.0, "max": 1.0e3, "per_decade": 1}}
    results = {x_co: model_emissivity(propagated, None, emission_cfg, galaxy_cfg={"x_co": x_co})
               for x_co in (1.9e20, 3.8e20)}
    low, high = results[1.9e20], results[3.8e20]
    np.testing.assert_allclose(high.gas_cm3["H2"], 2.0 * low.gas_cm3["H2"], rtol=1e-12)
    for phase in ("HI", "HII"):
        np.testing.assert_array_equal(high.gas_cm3[phase], low.gas_cm3[phase])
    assert "X_CO 3.8e20" in high.attrs["gas"]
    fractions = []
    for res in (low, high):
        gas = res.gas_cm3
        f_ion = (gas["HII"] / (gas["HI"] + 2.0 * gas["H2"] + gas["HII"]))[..., None]
        c = res.components
        np.testing.assert_allclose(c["bremsstrahlung"], (1.0 - f_ion) * c["bremsstrahlung_neutral"]
                                   + f_ion * c["bremsstrahlung_ionised"], rtol=1e-12)
        fractions.append(f_ion)
    assert np.all(fractions[1] <= fractions[0]) and np.max(fractions[0] - fractions[1]) > 1e-3
