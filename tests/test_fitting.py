"""Tests of galdiff.fitting: Eq. 3 per T_n, force field, chi-square rules, fits of synthetic data.

Truths are built here independently of the module: Eq. 3 written segment by segment, the
Jacobian from the kinematics of docs/conventions.md#kinematics-of-nuclei, the force field in closed form
(docs/conventions.md#force-field-modulation), synthetic data placed so that the shifted energies fall on grid nodes (no
interpolation needed to generate them), and a leaky-box-like Green's matrix.
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np
import pytest
import yaml
from scipy.integrate import quad

from galdiff import fitting
from galdiff.fitting import NORM_PARAM
from galdiff.units import ELECTRON, HELIUM, M_E_GEV, M_P_GEV, PROTON

# 0.05-dex grid from 1 MeV/n to 1e9 GeV/n; 1, 10, 100 GeV/n are nodes
GRID_GEV_PER_N = np.geomspace(1e-3, 1e9, 241)
PROTON_TABLE2_DR_HIGH = {"nu": [2.06, 2.43, 2.22, 2.52, 2.18], "breaks_GV": [13.9, 500.0, 1.5e4, 1e5],
                         "cutoff_GV": 1.2e7, "phi_GV": 0.7}
HELIUM_TABLE2_DR_LOW = {"nu": [1.46, 2.36, 2.12, 2.42, 2.28], "breaks_GV": [1.99, 650.0, 1.5e4, 1e5],
                        "cutoff_GV": 4.0e6, "phi_GV": 0.7}
ELECTRON_TABLE3 = {"nu": [2.33, 0.01, 2.88, 2.45], "breaks_GV": [0.95, 4.19, 55.7], "cutoff_GV": 6.27e3,
                   "phi_GV": 1.1}
POSITRON_TABLE3 = {"c_eplus": 1.0, "nu": [3.04, 2.08], "breaks_GV": [31.2], "cutoff_GV": 3.42e3, "phi_GV": 1.1}


# ----------------------------------------------------------------------------------------------
# independent truths
# ----------------------------------------------------------------------------------------------


def eq3_by_segments(rigidity_GV, nu, breaks_GV, cutoff_GV, q0=1.0):
    """Paper Eq. 3 written out: the prefactor product grows by R_i^(nu_i - nu_{i-1}) at each break."""
    out = np.empty_like(rigidity_GV)
    for k, r in enumerate(rigidity_GV):
        n = sum(r >= b for b in breaks_GV)
        product = 1.0
        for i in range(1, n + 1):
            product *= breaks_GV[i - 1] ** (nu[i] - nu[i - 1])
        out[k] = q0 * product * r ** (-nu[n]) * math.exp(-r / cutoff_GV)
    return out


def rigidity_and_jacobian(ek_GeV_per_n, mass_number, charge, mass_GeV):
    """R = (A/Z) sqrt(T (T + 2 m_n)) and dR/dT_n = (A/Z) (T + m_n)/sqrt(T (T + 2 m_n)) (= (A/Z)/beta)."""
    m_n = mass_GeV / mass_number
    p_n = np.sqrt(ek_GeV_per_n * (ek_GeV_per_n + 2 * m_n))
    return mass_number / charge * p_n, mass_number / charge * (ek_GeV_per_n + m_n) / p_n


def cell_average_injection(spec_key, mass_number, charge, mass_GeV):
    """Cell-averaged Eq. 3 injection (q0 = 1) on GRID_GEV_PER_N, independently of the module.

    Particle conservation: integral of Q dT_n over a cell = integral of q_R dR over the same cell in
    rigidity, done with scipy's quad (breaks passed as points); cells are [T 10^-0.025, T 10^0.025].
    """
    return _cell_average_cached(spec_key, mass_number, charge, mass_GeV).copy()


@functools.lru_cache(maxsize=None)
def _cell_average_cached(spec_key, mass_number, charge, mass_GeV):
    nu, breaks, cutoff = spec_key
    lo_t, hi_t = GRID_GEV_PER_N * 10**-0.025, GRID_GEV_PER_N * 10**0.025
    lo_r, _ = rigidity_and_jacobian(lo_t, mass_number, charge, mass_GeV)
    hi_r, _ = rigidity_and_jacobian(hi_t, mass_number, charge, mass_GeV)
    out = np.empty(GRID_GEV_PER_N.size)
    for i, (a, b) in enumerate(zip(lo_r, hi_r)):
        # integrate in ln R: q_R dR = q_R R dlnR
        integrand = lambda x: eq3_by_segments(np.array([math.exp(x)]), nu, breaks, cutoff)[0] * math.exp(x)
        inside = [math.log(r) for r in breaks if a < r < b]
        scale = max(integrand(math.log(a)), integrand(math.log(b))) * math.log(b / a)
        out[i] = quad(integrand, math.log(a), math.log(b), points=inside or None, epsrel=1e-11,
                      epsabs=max(1e-13 * scale, 1e-300), limit=200)[0]
    return out / (hi_t - lo_t)


def spec_key(spec):
    return tuple(spec["nu"]), tuple(spec["breaks_GV"]), spec["cutoff_GV"]


def leaky_box_green(grid, delta=0.36, loss_fraction=0.05, scale=1e6):
    """Diagonal ~ max(T, 1)^-delta (escape) plus a one-bin downward smear (energy losses)."""
    n = grid.size
    green = np.zeros((n, n))
    diagonal = scale * np.maximum(grid, 1.0) ** (-delta)
    green[np.arange(n), np.arange(n)] = diagonal * (1 - loss_fraction)
    green[np.arange(n - 1), np.arange(1, n)] = diagonal[1:] * loss_fraction * grid[1:] / grid[:-1]
    return green


def force_field_factor_closed_form(t, phi_n, m_n):
    return t * (t + 2 * m_n) / ((t + phi_n) * (t + phi_n + 2 * m_n))


def synthetic_nucleus_data(spec, mass_number, charge, mass_GeV, green, q0, node_slice, rel_err, seed=None,
                           modulated=True):
    """Data at T = node - Phi_n for the grid nodes in ``node_slice``; exact J there (no interpolation)."""
    lis = green @ (q0 * cell_average_injection(spec_key(spec), mass_number, charge, mass_GeV))
    nodes = GRID_GEV_PER_N[node_slice]
    if modulated:
        phi_n = charge / mass_number * spec["phi_GV"]
        ek = nodes - phi_n
        flux = lis[node_slice] * force_field_factor_closed_form(ek, phi_n, mass_GeV / mass_number)
    else:
        ek, flux = nodes, lis[node_slice]
    err = np.broadcast_to(rel_err, flux.shape) * flux
    if seed is not None:
        flux = flux + np.random.default_rng(seed).normal(0.0, err)
    return ek, flux, err, lis


def proton_datasets(green, q0, seed=None):
    """Voyager-like (unmodulated, low E), AMS-02-like, DAMPE-like and IceTop-like synthetic data."""
    spec, args = PROTON_TABLE2_DR_HIGH, (1, 1, M_P_GEV, green, q0)
    out = []
    for name, sl, err, modulated, s in [("voyager", slice(50, 66, 2), 0.04, False, 0),
                                        ("ams", slice(75, 122), 0.02, True, 1),
                                        ("dampe", slice(100, 160, 2), 0.06, True, 2),
                                        ("knee", slice(180, 230, 2), 0.20, True, 3)]:
        ek, flux, e, lis = synthetic_nucleus_data(spec, *args, sl, err, None if seed is None else seed * 10 + s,
                                                  modulated)
        out.append(fitting.FitDataset(name, name, "proton", ek, flux, e, e, False, modulated=modulated))
    return out, lis


PERTURBED_PROTON_START = {"nu": [2.0, 2.5, 2.15, 2.6, 2.1], "breaks_GV": [10.0, 700.0, 1.0e4, 1.3e5],
                          "cutoff_GV": 0.8e7, "phi_GV": 0.5}


def proton_truth(lis):
    truth = {f"nu{i}": v for i, v in enumerate(PROTON_TABLE2_DR_HIGH["nu"])}
    truth.update({f"R{i + 1}_GV": v for i, v in enumerate(PROTON_TABLE2_DR_HIGH["breaks_GV"])})
    truth.update(Rc_GV=PROTON_TABLE2_DR_HIGH["cutoff_GV"], Phi_GV=PROTON_TABLE2_DR_HIGH["phi_GV"])
    truth[NORM_PARAM] = 100.0**2.7 * lis[np.argmin(abs(GRID_GEV_PER_N - 100.0))]
    return truth


# ----------------------------------------------------------------------------------------------
# spectra and modulation
# ----------------------------------------------------------------------------------------------


def test_injection_per_ek_per_n_is_eq3_times_jacobian():
    ek = np.geomspace(1e-2, 1e7, 57)
    for species, spec in ((PROTON, PROTON_TABLE2_DR_HIGH), (HELIUM, HELIUM_TABLE2_DR_LOW)):
        r, jac = rigidity_and_jacobian(ek, species.mass_number, species.charge, species.mass_GeV)
        truth = 3.5 * eq3_by_segments(r, spec["nu"], spec["breaks_GV"], spec["cutoff_GV"]) * jac
        got = fitting.injection_per_ek_per_n(ek, species, spec["nu"], spec["breaks_GV"], spec["cutoff_GV"], 3.5)
        np.testing.assert_allclose(got, truth, rtol=1e-10)


def test_cell_average_injection_matches_rigidity_integral():
    for species, spec in ((PROTON, PROTON_TABLE2_DR_HIGH), (HELIUM, HELIUM_TABLE2_DR_LOW), (ELECTRON, ELECTRON_TABLE3)):
        truth = cell_average_injection(spec_key(spec), species.mass_number, abs(species.charge), species.mass_GeV)
        got = fitting.injection_cell_average(GRID_GEV_PER_N, species, spec["nu"], spec["breaks_GV"], spec["cutoff_GV"])
        relevant = truth > 1e-30 * truth.max()  # not the cells many e-folds beyond the cutoff
        np.testing.assert_allclose(got[relevant], truth[relevant], rtol=1e-8)
    # a power law of index 2.7 in T (ultra-relativistic electrons): cell average / node value = the
    # analytic ratio [T^(1-g)] / ((1-g) dT) / T^-g on a 0.05-dex cell
    grid = np.geomspace(1e3, 1e5, 41)  # 0.05 dex
    got = fitting.injection_cell_average(grid, ELECTRON, [2.7], [], None) / fitting.injection_per_ek_per_n(
        grid, ELECTRON, [2.7], [], None)
    x = 10**0.025
    truth = (x**-1.7 - x**1.7) / (-1.7 * (x - 1 / x))
    np.testing.assert_allclose(got, truth, rtol=1e-4)


def test_injection_jacobian_check_value():
    # docs/conventions.md#kinematics-of-nuclei: proton T = 10 GeV has R = 10.898 GV and beta = 0.99631 (dR/dT = 1/beta)
    q = fitting.injection_per_ek_per_n(10.0, PROTON, [2.0], [], None, 1.0)
    assert q == pytest.approx(10.898**-2.0 / 0.99631, rel=2e-4)


@pytest.mark.parametrize("species, phi_GV", [(PROTON, 0.6), (HELIUM, 0.6), (ELECTRON, 1.1)])
def test_lis_at_earth_is_closed_form_force_field_for_power_law(species, phi_GV):
    lis = 2.0 * GRID_GEV_PER_N ** (-2.7)
    ek = np.geomspace(0.05, 1e5, 41)
    phi_n = abs(species.charge) / species.mass_number * phi_GV
    truth = 2.0 * (ek + phi_n) ** (-2.7) * force_field_factor_closed_form(ek, phi_n, species.mass_per_nucleon_GeV)
    got = fitting.lis_at_earth(ek, GRID_GEV_PER_N, lis, phi_GV, species)
    np.testing.assert_allclose(got, truth, rtol=1e-9)
    np.testing.assert_allclose(fitting.lis_at_earth(ek, GRID_GEV_PER_N, lis, phi_GV, species, modulated=False),
                               2.0 * ek ** (-2.7), rtol=1e-9)


def test_force_field_check_values():
    # docs/conventions.md#force-field-modulation: p at 1 GeV, phi = 0.6 GV: 0.5171; He at 1 GeV/n: 0.6963
    lis = GRID_GEV_PER_N ** (-2.7)
    proton = fitting.lis_at_earth(1.0, GRID_GEV_PER_N, lis, 0.6, PROTON) / 1.6 ** (-2.7)
    helium = fitting.lis_at_earth(1.0, GRID_GEV_PER_N, lis, 0.6, HELIUM) / 1.3 ** (-2.7)
    assert proton == pytest.approx(0.5171, abs=1e-4)
    assert helium == pytest.approx(0.6963, abs=1e-4)


# ----------------------------------------------------------------------------------------------
# chi-square rules
# ----------------------------------------------------------------------------------------------


def test_chi2_uses_error_on_the_side_of_the_model():
    data, lo, hi = np.array([10.0, 10.0]), np.array([1.0, 1.0]), np.array([4.0, 4.0])
    got = fitting.chi2_contributions(np.array([14.0, 8.0]), data, lo, hi, np.array([False, False]))
    np.testing.assert_allclose(got, [(4 / 4) ** 2, (2 / 1) ** 2])


def test_chi2_upper_limits_are_one_sided():
    limit, sigma = np.array([5.0, 5.0, 5.0]), np.array([2.0, 2.0, 2.0])
    got = fitting.chi2_contributions(np.array([1.0, 5.0, 9.0]), limit, sigma, sigma, np.array([True, True, True]))
    np.testing.assert_allclose(got, [0.0, 0.0, (4 / 2) ** 2])


def test_upper_limits_not_counted_in_ndof_and_penalise_only_above():
    green = leaky_box_green(GRID_GEV_PER_N)
    datasets, lis = proton_datasets(green, 1.0)
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
    truth = proton_truth(lis)
    # two limits at the true TOA flux of two knee points: one 50 % above (no penalty), one 50 % below
    knee = datasets[-1]
    ek = knee.ek_GeV_per_n[:2]
    limit = knee.flux[:2] * np.array([1.5, 0.5])
    sigma = 0.1 * knee.flux[:2]
    upper = fitting.FitDataset("ul", "UL", "proton", ek, limit, sigma, sigma, True)
    objective = fitting.ChiSquare(model, datasets + [upper])
    parts = objective.chi2_by_dataset(truth)
    assert parts["ul"] == pytest.approx(((knee.flux[1] - limit[1]) / sigma[1]) ** 2, rel=1e-6)
    assert objective.n_measurements == sum(d.flux.size for d in datasets)


# ----------------------------------------------------------------------------------------------
# fits of synthetic data
# ----------------------------------------------------------------------------------------------


def test_asimov_proton_fit_recovers_truth_from_perturbed_start():
    green = leaky_box_green(GRID_GEV_PER_N)
    datasets, lis = proton_datasets(green, q0=0.37)
    truth = proton_truth(lis)
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PERTURBED_PROTON_START)
    result = fitting.fit(model, datasets)
    assert result.valid
    assert result.chi2 < 1e-3
    n_points = sum(d.flux.size for d in datasets)
    assert result.ndof == n_points - 12
    for name, value in truth.items():
        assert abs(result.params[name] - value) < 0.05 * result.errors[name], name
    assert result.derived["q0"] == pytest.approx(0.37, rel=1e-3)
    # the normalisation is the E^2.7-weighted LIS at the 100 GeV pivot, independently computed
    assert result.params[NORM_PARAM] == pytest.approx(truth[NORM_PARAM], rel=1e-4)


def test_asimov_helium_fit_recovers_truth():
    green = leaky_box_green(GRID_GEV_PER_N, delta=0.33)
    spec = HELIUM_TABLE2_DR_LOW
    datasets = []
    for name, sl, err, modulated in [("voyager", slice(30, 70, 2), 0.05, False), ("ams", slice(70, 120), 0.02, True),
                                     ("dampe", slice(90, 150, 2), 0.08, True), ("knee", slice(160, 220, 2), 0.15, True)]:
        ek, flux, e, lis = synthetic_nucleus_data(spec, 4, 2, HELIUM.mass_GeV, green, 0.05, sl, err,
                                                  modulated=modulated)
        datasets.append(fitting.FitDataset(name, name, "helium", ek, flux, e, e, False, modulated=modulated))
    start = {"nu": [1.6, 2.3, 2.2, 2.35, 2.2], "breaks_GV": [2.5, 500.0, 2e4, 8e4], "cutoff_GV": 6e6, "phi_GV": 0.6}
    result = fitting.fit(fitting.NucleusModel(HELIUM, GRID_GEV_PER_N, green, start), datasets)
    assert result.valid and result.chi2 < 1e-3
    for i, v in enumerate(spec["nu"]):
        assert abs(result.params[f"nu{i}"] - v) < 0.05 * result.errors[f"nu{i}"]
    for i, v in enumerate(spec["breaks_GV"]):
        assert abs(result.params[f"R{i + 1}_GV"] - v) < 0.05 * result.errors[f"R{i + 1}_GV"]
    assert abs(result.params["Phi_GV"] - 0.7) < 0.05 * result.errors["Phi_GV"]
    assert result.params[NORM_PARAM] == pytest.approx(100.0**2.7 * lis[100], rel=1e-4)


def test_coverage_of_noisy_proton_fits():
    """Ten noisy pseudo-experiments: likelihood-ratio coverage and HESSE pulls.

    chi2(truth) - chi2(best) follows a chi-square law with as many dof as free parameters (11 here,
    R4 fixed), whatever the parametrisation. HESSE pulls are checked for the parameters whose
    likelihood is close to Gaussian; R3 and nu3 (a break only 0.8 dex below R4, seen by 6 % data)
    are strongly non-linear and covered by the likelihood-ratio test instead.
    """
    green = leaky_box_green(GRID_GEV_PER_N)
    delta_chi2, pulls, chi2_over_ndof = [], [], []
    for seed in range(10):
        datasets, lis = proton_datasets(green, q0=1.0, seed=seed)
        truth = proton_truth(lis)
        model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
        result = fitting.fit(model, datasets, fixed=["R4_GV"])
        assert result.valid
        delta_chi2.append(sum(fitting.ChiSquare(model, datasets).chi2_by_dataset(truth).values()) - result.chi2)
        pulls += [(result.params[k] - v) / result.errors[k] for k, v in truth.items()
                  if k not in ("R3_GV", "R4_GV", "nu3")]
        chi2_over_ndof.append(result.chi2 / result.ndof)
    delta_chi2, pulls = np.array(delta_chi2), np.array(pulls)
    assert np.all(delta_chi2 > -1e-6)  # the fit found a minimum at least as good as the truth
    assert np.all(delta_chi2 < 31.3)  # P(chi2_11 > 31.3) = 1e-3
    assert 6.5 < np.mean(delta_chi2) < 15.5  # mean 11, standard error 1.5
    assert np.all(np.abs(pulls) < 4.0)
    assert abs(np.mean(pulls)) < 0.4
    assert 0.7 < np.std(pulls) < 1.35
    assert 0.75 < np.mean(chi2_over_ndof) < 1.25


def test_asimov_lepton_fit_recovers_truth_and_c_eplus_definition():
    green = leaky_box_green(GRID_GEV_PER_N, delta=0.4, loss_fraction=0.15)
    q0, q0_extra, c_eplus = 2.0e-3, 1.0e-3, 1.3
    lis_electron = green @ (q0 * cell_average_injection(spec_key(ELECTRON_TABLE3), 1, 1, M_E_GEV))
    # the extra e+ source has its own prefactor; c_e+ scales the secondary positrons only
    lis_extra = green @ (q0_extra * cell_average_injection(spec_key(POSITRON_TABLE3), 1, 1, M_E_GEV))
    # secondaries: smooth power laws, e+ twice e-; they dominate the positrons below ~30 GeV, the
    # extra source above (positron fraction ~7 % at 2.5 GeV, ~2 % at 1 TeV), so that c_e+ and the
    # extra amplitude are both constrained
    secondary = {"electron": 1e3 * GRID_GEV_PER_N ** (-3.5), "positron": 2e3 * GRID_GEV_PER_N ** (-3.5)}
    phi = 1.1
    datasets = []
    for name, species, sl, err in [("sum_low", "electron+positron", slice(68, 130), 0.02),
                                   ("sum_high", "electron+positron", slice(120, 150), 0.05),
                                   ("positron", "positron", slice(68, 140, 2), 0.05)]:
        nodes = GRID_GEV_PER_N[sl]
        ek = nodes - phi
        factor = force_field_factor_closed_form(ek, phi, M_E_GEV)
        electrons = (lis_electron[sl] + secondary["electron"][sl]) * factor
        positrons = (lis_extra[sl] + c_eplus * secondary["positron"][sl]) * factor
        flux = positrons if species == "positron" else electrons + positrons
        datasets.append(fitting.FitDataset(name, name, species, ek, flux, err * flux, err * flux, False))
    start = {"electron": {"nu": [2.2, 0.3, 2.8, 2.5], "breaks_GV": [1.2, 5.0, 45.0], "cutoff_GV": 5e3, "phi_GV": 1.0},
             "positron": {"c_eplus": 1.0, "nu": [3.0, 2.2], "breaks_GV": [25.0], "cutoff_GV": 2.5e3, "phi_GV": 1.0,
                          NORM_PARAM: 1.5 * 100.0**2.7 * lis_extra[100]}}
    # modulated data at T probe the LIS only above T + Phi = 1.1 GeV and this G only moves particles down
    # in energy, so nu0 (below R1 = 0.95 GV) and R1 are unconstrained here: hold them at the truth
    start["electron"]["nu"][0], start["electron"]["breaks_GV"][0] = 2.33, 0.95
    model = fitting.LeptonModel(GRID_GEV_PER_N, green, start, secondary_lis=secondary, pivot_ek_GeV_per_n=10.0)
    result = fitting.fit(model, datasets, fixed=["nu0", "R1_GV"])
    assert result.valid and result.chi2 < 1e-3
    truth = {"nu0": 2.33, "nu1": 0.01, "nu2": 2.88, "nu3": 2.45, "R1_GV": 0.95, "R2_GV": 4.19, "R3_GV": 55.7,
             "Rc_GV": 6.27e3, "Phi_GV": 1.1, "c_eplus": c_eplus, "nu1_eplus": 3.04, "nu2_eplus": 2.08,
             "R1_eplus_GV": 31.2, "Rc_eplus_GV": 3.42e3, "Phi_eplus_GV": 1.1,
             NORM_PARAM: 10.0**2.7 * lis_electron[80],  # node 80 is 10 GeV
             fitting.EXTRA_NORM_PARAM: 100.0**2.7 * lis_extra[100]}  # node 100 is 100 GeV (the extra pivot)
    for name, value in truth.items():
        assert abs(result.params[name] - value) <= 0.05 * result.errors[name] + 1e-9 * abs(value), name
    assert result.derived["q0"] == pytest.approx(q0, rel=1e-3)
    assert result.derived["q0_eplus"] == pytest.approx(q0_extra, rel=5e-3)  # positron data: 5 % errors
    summary = result.summary_dict()
    assert set(summary) == {"electron", "positron"}
    assert set(summary["positron"]["params"]) == {"c_eplus", "nu1", "nu2", "R1_GV", "Rc_GV", "Phi_GV", NORM_PARAM}
    assert set(summary["electron"]["params"]) == {"nu0", "nu1", "nu2", "nu3", "R1_GV", "R2_GV", "R3_GV", "Rc_GV",
                                                  "Phi_GV", NORM_PARAM}
    assert summary["positron"]["params"]["nu1"] == pytest.approx(3.04, abs=1e-3)
    assert summary["electron"]["ndof"] == sum(d.flux.size for d in datasets) - (17 - 2)


def test_c_eplus_scales_the_secondary_positrons_and_nothing_else():
    """c_e+ (Table III) multiplies the secondary e+ LIS; primaries and secondary e- do not move.

    The reading c_e+ = q0(e+)/q0(e-) made the Table III extra positrons 0.9 times the electrons at
    1 GV (S+(1 GV) = 1 vs S-(1 GV) = 0.95^-2.33 = 1.13 for the raw Eq. 3 shapes): more positrons than
    electrons below ~1.5 GeV, against a measured positron fraction of ~10 % there.
    """
    green = leaky_box_green(GRID_GEV_PER_N)
    secondary = {"electron": 1e-3 * GRID_GEV_PER_N ** (-3.5), "positron": 2e-3 * GRID_GEV_PER_N ** (-3.5)}
    model = fitting.LeptonModel(GRID_GEV_PER_N, green, {"electron": ELECTRON_TABLE3, "positron": POSITRON_TABLE3},
                                secondary_lis=secondary)
    params = {p.name: p.start for p in model.params}
    one = model.components(params)["lis"]
    np.testing.assert_array_equal(one["positron_secondary"][0], secondary["positron"])
    params["c_eplus"] = 2.5
    scaled = model.components(params)["lis"]
    np.testing.assert_allclose(scaled["positron_secondary"][0], 2.5 * secondary["positron"], rtol=1e-15)
    for name in ("electron_primary", "positron_primary", "electron_secondary"):
        np.testing.assert_array_equal(scaled[name][0], one[name][0])
    # the extra source's amplitude is its own parameter: T^2.7 J at the 100 GeV pivot
    extra = one["positron_primary"][0]
    assert 100.0**2.7 * np.interp(np.log(100.0), np.log(GRID_GEV_PER_N), extra) == pytest.approx(
        params[fitting.EXTRA_NORM_PARAM], rel=1e-9)
    # pulsar-like pairs: the same injection of e-, modulated with Phi-
    pairs = fitting.LeptonModel(GRID_GEV_PER_N, green, {"electron": ELECTRON_TABLE3, "positron": POSITRON_TABLE3},
                                secondary_lis=secondary, extra_pairs=True)
    with_pairs = pairs.components(params)["lis"]
    np.testing.assert_allclose(with_pairs["electron_extra"][0], with_pairs["positron_primary"][0], rtol=1e-12)
    assert "electron_extra" in pairs.data_components("electron")
    assert "electron_extra" not in model.data_components("electron+positron")


def test_nuisance_normalisation_matches_profiled_closed_form():
    green = leaky_box_green(GRID_GEV_PER_N)
    datasets, lis = proton_datasets(green, q0=1.0)
    truth = proton_truth(lis)
    shifted = datasets[2]
    shifted.flux = shifted.flux * 1.08
    shifted.scale_group, shifted.scale_uncertainty = "DAMPE", 0.05
    start = dict(PROTON_TABLE2_DR_HIGH, **{NORM_PARAM: truth[NORM_PARAM]})
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, start)
    result = fitting.fit(model, datasets, fixed=[p.name for p in model.params])
    # chi2(a) = sum((a m - d)/sigma)^2 + ((a - 1)/s)^2, minimum at a = (sum m d/s2 + 1/s^2)/(sum m^2/s2 + 1/s^2)
    m = shifted.flux / 1.08
    weights = 1.0 / shifted.err_lo**2  # symmetric errors
    a_best = (np.sum(m * shifted.flux * weights) + 1 / 0.05**2) / (np.sum(m**2 * weights) + 1 / 0.05**2)
    assert result.derived["nuisance_scales"]["scale_DAMPE"] == pytest.approx(a_best, rel=1e-5)
    assert result.ndof == sum(d.flux.size for d in datasets) + 1 - 1
    assert "prior_scale_DAMPE" in result.chi2_by_dataset


def test_result_yaml_and_summary(tmp_path):
    green = leaky_box_green(GRID_GEV_PER_N)
    datasets, lis = proton_datasets(green, q0=1.0, seed=3)
    result = fitting.fit(fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH), datasets,
                         fixed=["R4_GV"], minos=True)
    path = result.to_yaml(tmp_path / "fit" / "injection.yaml", extra={"model": "dr_high"})
    content = yaml.safe_load(path.read_text())
    assert content["model"] == "dr_high"
    assert content["params"]["R4_GV"] == pytest.approx(1e5) and content["errors"]["R4_GV"] == 0.0
    assert content["fixed"] == ["R4_GV"]
    assert content["chi2"] == pytest.approx(sum(content["chi2_by_dataset"].values()))
    assert set(content["data_used"]) == {"voyager", "ams", "dampe", "knee"}
    assert content["ndof"] == sum(d.flux.size for d in datasets) - 11
    lower, upper = content["minos_errors"]["nu1"]
    assert lower < 0 < upper
    summary = result.summary_dict()["proton"]
    assert set(summary) == {"params", "errors", "chi2", "ndof", "chi2_by_dataset", "injection_mode"}
    assert summary["chi2_by_dataset"] == pytest.approx(content["chi2_by_dataset"])
    assert summary["injection_mode"] == "fit"  # fit() alone; fit_nucleus_injection records the model's mode
    assert {"nu0", "nu4", "R1_GV", "R4_GV", "Rc_GV", "Phi_GV"} <= set(summary["params"])
    config = result.injection_config()["proton"]
    assert config["breaks_GV"][3] == pytest.approx(1e5) and len(config["nu"]) == 5
    assert not list(tmp_path.glob("fit/.*"))  # atomic write leaves no temporary file


def test_data_outside_grid_is_a_clear_error():
    green = leaky_box_green(GRID_GEV_PER_N)
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
    far = fitting.FitDataset("too_high", "X", "proton", [1e9], [1e-30], [1e-31], [1e-31], False)
    with pytest.raises(ValueError, match="too_high"):
        fitting.ChiSquare(model, [far])
    wrong = fitting.FitDataset("he", "X", "helium", [10.0], [1.0], [0.1], [0.1], False)
    with pytest.raises(ValueError, match="helium"):
        fitting.ChiSquare(model, [wrong])


# ----------------------------------------------------------------------------------------------
# real data tables
# ----------------------------------------------------------------------------------------------


def test_default_selection_follows_the_paper(config, schema_path):
    from galdiff.config import validate_config

    # the schema's defaults (fitting.data absent) and config.yaml give the same selection
    validate_config(config, schema_path)
    for fit_data in (None, config["fitting"]["data"]):
        high, low = fitting.fit_data_selection(fit_data, "icetop"), fitting.fit_data_selection(fit_data, "kascade")
        # docs/paper.md, Sec. 2.1: Voyager 1, AMS-02, DAMPE and the knee data set for p and He
        assert list(high["proton"]) == ["voyager_proton", "ams02_proton", "dampe_proton", "icetop_proton"]
        assert list(low["helium"]) == ["voyager_helium", "ams02_helium", "dampe_helium", "kascade_helium"]
        # the paper's e+ + e- sums, and ours: the separate AMS-02 e- and e+ above 10 GeV only
        assert list(high["leptons"]) == ["ams02_electron_positron", "dampe_electron_positron",
                                         "ams02_electron", "ams02_positron"]
        assert high["leptons"] == low["leptons"]
        separate = high["leptons"]
        assert separate["ams02_positron"]["ek_min_GeV_per_n"] == separate["ams02_electron"]["ek_min_GeV_per_n"] == 10.0
        # our error model: Voyager p systematics (Cummings et al. 2016: 5 %), DAMPE e+e- scale prior
        assert high["proton"]["voyager_proton"] == {"sys_fraction": 0.05}
        assert high["leptons"]["dampe_electron_positron"] == {"scale_uncertainty": 0.06}
    with pytest.raises(ValueError):
        fitting.fit_data_selection(None, "auger")
    with pytest.raises(KeyError, match="pions"):
        fitting.fit_data_selection({"pions": {}}, "icetop")


def test_fit_data_is_configured(config, schema_path):
    from galdiff.config import ConfigError, validate_config

    # a configured fit drops or adds data sets: the selection is the configuration's
    config["fitting"]["data"]["helium"] = {"ams02_helium": {"ek_min_GeV_per_n": 5.0}}
    validate_config(config, schema_path)
    selection = fitting.fit_data_selection(config["fitting"]["data"], "icetop")
    assert selection["helium"] == {"ams02_helium": {"ek_min_GeV_per_n": 5.0}, "icetop_helium": {}}
    bad = copy.deepcopy(config)
    bad["fitting"]["data"]["proton"]["auger_proton"] = {}
    with pytest.raises(ConfigError, match="fitting.data.proton.auger_proton"):
        validate_config(bad, schema_path)
    bad = copy.deepcopy(config)
    bad["fitting"]["data"]["proton"]["ams02_proton"] = {"sys_fraction": -0.1}
    with pytest.raises(ConfigError, match="fitting.data.proton.ams02_proton.sys_fraction"):
        validate_config(bad, schema_path)
    bad = copy.deepcopy(config)
    bad["fitting"]["data"]["leptons"]["ams02_positron"] = {"ek_min_GeV_per_n": 10.0, "ek_max_GeV_per_n": 5.0}
    with pytest.raises(ConfigError, match="fitting.data.leptons.ams02_positron.ek_min_GeV_per_n/ek_max_GeV_per_n"):
        validate_config(bad, schema_path)


def test_sys_fraction_adds_in_quadrature(mirror_dir):
    from galdiff.data.datasets import build_dataset

    tables = {"voyager_proton": build_dataset("voyager_proton", mirror_dir)}
    plain = fitting.prepare_datasets(tables, {"voyager_proton": {}})[0]
    with_sys = fitting.prepare_datasets(tables, {"voyager_proton": {"sys_fraction": 0.05}})[0]
    np.testing.assert_allclose(with_sys.err_lo, np.sqrt(plain.err_lo**2 + (0.05 * plain.flux) ** 2), rtol=1e-12)
    np.testing.assert_allclose(with_sys.err_hi, np.sqrt(plain.err_hi**2 + (0.05 * plain.flux) ** 2), rtol=1e-12)
    # the source lists statistical errors only: 1.5 % at 3.7 MeV becomes 5.2 %
    assert plain.err_lo[0] / plain.flux[0] == pytest.approx(0.0152, abs=2e-4)
    assert with_sys.err_lo[0] / with_sys.flux[0] == pytest.approx(0.0523, abs=2e-4)
    with pytest.raises(ValueError, match="sys_fraction"):
        fitting.prepare_datasets(tables, {"voyager_proton": {"sys_fraction": -0.1}})


def test_prepare_real_tables(mirror_dir):
    from galdiff.data.datasets import build_dataset

    names = ["voyager_helium", "ams02_helium", "icetop_helium"]
    tables = {name: build_dataset(name, mirror_dir) for name in names}
    selection = {"voyager_helium": {}, "ams02_helium": {"ek_min_GeV_per_n": 5.0, "scale_uncertainty": 0.03},
                 "icetop_helium": {}}
    prepared = {d.name: d for d in fitting.prepare_datasets(tables, selection)}
    assert not prepared["voyager_helium"].modulated and prepared["ams02_helium"].modulated
    assert prepared["ams02_helium"].ek_GeV_per_n.min() >= 5.0
    assert prepared["ams02_helium"].scale_group == "AMS-02"
    icetop = prepared["icetop_helium"]
    # the row with all errors 0 (1.995e8 GeV total energy) is dropped, the 6 upper limits kept
    assert icetop.n_dropped == 1 and icetop.ek_GeV_per_n.size == len(tables["icetop_helium"]) - 1
    assert np.count_nonzero(icetop.is_upper_limit) == np.count_nonzero(tables["icetop_helium"]["is_upper_limit"])
    # He total energy E -> T_n = (E - M)/4
    e_total = tables["icetop_helium"]["energy"].quantity.to_value("GeV")
    assert icetop.ek_GeV_per_n[0] == pytest.approx((e_total[0] - HELIUM.mass_GeV) / 4)
    assert np.all(icetop.err_lo > 0) and np.all(icetop.err_hi > 0)
    with pytest.raises(KeyError, match="bogus"):
        fitting.prepare_datasets(tables, {"ams02_helium": {"bogus": 1}})


def test_spectra_at_earth_components_sum_and_modulation():
    green = leaky_box_green(GRID_GEV_PER_N)
    secondary = {"electron": 1e-3 * GRID_GEV_PER_N ** (-3.5), "positron": 2e-3 * GRID_GEV_PER_N ** (-3.5)}
    start = {"electron": ELECTRON_TABLE3, "positron": POSITRON_TABLE3}
    model = fitting.LeptonModel(GRID_GEV_PER_N, green, start, secondary_lis=secondary)
    params = {p.name: p.start for p in model.params}
    ek = np.geomspace(1.0, 1e3, 13)
    spectra = fitting.spectra_at_earth(model, params, ek)
    parts = ("electron_primary", "positron_primary", "electron_secondary", "positron_secondary")
    np.testing.assert_allclose(spectra["total"]["flux_toa"], sum(spectra[n]["flux_toa"] for n in parts), rtol=1e-12)
    # secondary e-: a power law, so its modulated value has the closed form
    truth = 1e-3 * (ek + 1.1) ** (-3.5) * force_field_factor_closed_form(ek, 1.1, M_E_GEV)
    np.testing.assert_allclose(spectra["electron_secondary"]["flux_toa"], truth, rtol=1e-9)
    np.testing.assert_allclose(spectra["secondary"]["flux_lis"], 3e-3 * ek ** (-3.5), rtol=1e-9)
    assert np.isnan(fitting.spectra_at_earth(model, params, [2e9])["total"]["flux_toa"][0])


# ----------------------------------------------------------------------------------------------
# figures 1 and 2 (they draw the fit results)
# ----------------------------------------------------------------------------------------------


def _model_curve(scale, index=2.7):
    ek = np.geomspace(1e-2, 1e9, 200)
    return {"ek_GeV_per_n": ek, "flux_toa": scale * ek ** (-index), "flux_lis": 1.1 * scale * ek ** (-index)}


def test_figure1_artists(mirror_dir):
    import matplotlib.pyplot as plt
    from matplotlib.container import ErrorbarContainer

    from galdiff.data.datasets import build_dataset
    from galdiff.plotting.figure1 import plot_figure1

    data = {s: [build_dataset(f"{e}_{s}", mirror_dir) for e in ("voyager", "ams02", "dampe", "icetop", "kascade")]
            for s in ("proton", "helium")}
    curves = {s: {"dr_low": _model_curve(1.0), "dr_high": _model_curve(1.1), "dr_low_paper": _model_curve(1.05)}
              for s in ("proton", "helium")}
    printed_of = {"dr_low_paper": "dr_low"}
    for axis in ("ek_per_n", "total_energy"):
        fig = plot_figure1(curves, data, energy_axis=axis, show_lis=True, printed_of=printed_of)
        assert len(fig.axes) == 4  # p, p ratio, He, He ratio
        top = fig.axes[0]
        inset, = top.child_axes  # Voyager 1 with the LIS curves
        styles = {line.get_label(): (line.get_color(), line.get_linestyle(), line.get_linewidth())
                  for line in top.get_lines()}
        # refit solid, as printed thin dashed in the same colour; DR-high its own colour
        assert styles["DR-low refit"][:2] == ("tab:blue", "-") and styles["DR-high"][:2] == ("tab:red", "-")
        assert styles["DR-low as printed"][:2] == ("tab:blue", "--")
        assert styles["DR-low as printed"][2] < styles["DR-low refit"][2] and "DR-low refit LIS" in styles
        labels = {c.get_label() for c in top.containers if isinstance(c, ErrorbarContainer)}
        assert {"AMS-02", "DAMPE", "IceTop+IceCube", "KASCADE"} <= labels and "Voyager 1" not in labels
        assert "Voyager 1" in {c.get_label() for c in inset.containers if isinstance(c, ErrorbarContainer)}
        # the y range comes from the data above 1 GeV/n (AMS-02 to the knee): about 2 decades, not 7
        low, high = top.get_ylim()
        assert 1.0 < np.log10(high / low) < 3.5 and top.get_xlim()[0] == pytest.approx(1.0)
        # total energy per particle for helium: E = 4 T_n + M, flux / 4 (compare the DR-low curve)
        he_curve = next(line for line in fig.axes[2].get_lines() if line.get_label() == "DR-low refit")
        ek = curves["helium"]["dr_low"]["ek_GeV_per_n"]
        expected_x = ek if axis == "ek_per_n" else 4 * ek + HELIUM.mass_GeV
        np.testing.assert_allclose(he_curve.get_xdata(), expected_x)
        expected_flux = ek ** (-2.7) / (1 if axis == "ek_per_n" else 4)
        np.testing.assert_allclose(he_curve.get_ydata(), expected_x**2.7 * expected_flux)
        # ratio panel: DR-high / DR-low = 1.1, as printed / refit = 1.05 everywhere
        ratios = sorted(float(np.median(line.get_ydata())) for line in fig.axes[1].get_lines()
                        if len(line.get_ydata()) > 2 and line.get_linestyle() in ("-", "--"))
        np.testing.assert_allclose(ratios, [1.05, 1.1], rtol=1e-9)
        plt.close(fig)


def test_figure2_artists(mirror_dir):
    import matplotlib.pyplot as plt
    from matplotlib.container import ErrorbarContainer

    from galdiff.data.datasets import build_dataset
    from galdiff.plotting.figure2 import plot_figure2

    data = [build_dataset(name, mirror_dir) for name in ("ams02_electron_positron", "dampe_electron_positron")]
    energy = np.geomspace(0.5, 1e4, 100)
    components = {"dr_low": {"energy_GeV": energy, "total": 2e-2 * energy**-3.1, "secondary": 2e-3 * energy**-3.5}}
    fig = plot_figure2(components, data)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "DR-low total" in labels and r"DR-low secondary $e^\pm$" in labels
    total = next(line for line in ax.get_lines() if line.get_label() == "DR-low total")
    np.testing.assert_allclose(total.get_ydata(), 2e-2 * energy**-0.1)  # E^3-weighted
    assert {c.get_label() for c in ax.containers if isinstance(c, ErrorbarContainer)} == {"AMS-02", "DAMPE"}
    plt.close(fig)


def test_limits_fixed_and_at_limit_reporting():
    green = leaky_box_green(GRID_GEV_PER_N)
    datasets, lis = proton_datasets(green, q0=1.0)
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, dict(PROTON_TABLE2_DR_HIGH, phi_GV=0.8))
    shape = [p.name for p in model.params if p.name not in ("Phi_GV", NORM_PARAM)]
    # truth Phi = 0.7 lies below the allowed range [0.75, 1.0]: the fit must stop at 0.75 and say so
    result = fitting.fit(model, datasets, fixed=shape, limits={"Phi_GV": (0.75, 1.0)})
    assert result.params["Phi_GV"] == pytest.approx(0.75, abs=1e-4)
    assert result.at_limit == ["Phi_GV"]
    assert result.ndof == sum(d.flux.size for d in datasets) - 2
    with pytest.raises(KeyError, match="R9_GV"):
        fitting.fit(model, datasets, fixed=["R9_GV"])
    with pytest.raises(ValueError, match="outside its limits"):
        fitting.fit(model, datasets, limits={"nu1": (0.0, 1.0)})


def test_green_matrix_checks():
    green = leaky_box_green(GRID_GEV_PER_N)
    noisy = green.copy()
    noisy[5, 100] = -1e-4 * green.max()  # upwind undershoot: accepted and kept, so J = G @ Q
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, noisy, PROTON_TABLE2_DR_HIGH)
    np.testing.assert_array_equal(model.green, noisy)
    values = {p.name: p.start for p in model.params}
    lis = model.components(values)["lis"]["proton"][0]
    q = model.injection(values)["proton"]
    np.testing.assert_allclose(lis, noisy @ q, rtol=1e-12)  # the fit's LIS is what propagation gives
    bad = green.copy()
    bad[5, 100] = -0.05 * green.max()  # a real sign error
    with pytest.raises(ValueError, match="non-negative"):
        fitting.NucleusModel(PROTON, GRID_GEV_PER_N, bad, PROTON_TABLE2_DR_HIGH)
    with pytest.raises(ValueError, match="shape"):
        fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green[:-1, :-1], PROTON_TABLE2_DR_HIGH)


def test_a_spectrum_vanishing_at_the_pivot_is_a_wall_not_a_crash():
    """Extreme parameters on coarse grids can zero the propagated LIS at the pivot: chi2 = 1e30."""
    green = leaky_box_green(GRID_GEV_PER_N)
    near_pivot = np.abs(np.log(GRID_GEV_PER_N / 100.0)) < 0.2
    green[near_pivot] = 0.0
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
    objective = fitting.ChiSquare(model, proton_datasets(leaky_box_green(GRID_GEV_PER_N), 1.0)[0])
    start = [p.to_internal(p.start) for p in model.params]
    assert objective(*start) == 1e30
