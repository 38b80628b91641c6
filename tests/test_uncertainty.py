"""Tests of galdiff.uncertainty: sampled bands against analytic covariances, coverage on Asimov data,
the local-spectra band through the fit's own Green's matrix, and the linear EXTRA bands.

Truths: for a linear model y = A theta the covariance of y is A C A^T exactly (Gaussian error
propagation), so the sampled band must reproduce it within the sampling noise; a band drawn from a
fit's covariance must contain the true curve in the stated fraction of pseudo-experiments.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2
from scipy.stats import norm as gaussian

from galdiff import fitting
from galdiff.units import PROTON
from galdiff.uncertainty.bands import internal_best_and_limits, local_band_table, local_spectra_draws
from galdiff.uncertainty.sampling import CL_SIGMA, central_interval, draw_parameters, linearised_band, sampled_band
from test_fitting import GRID_GEV_PER_N, PROTON_TABLE2_DR_HIGH, leaky_box_green, proton_datasets, proton_truth


def test_cl_sigma_is_the_gaussian_quantile():
    for cl, sigma in CL_SIGMA.items():
        assert gaussian.cdf(sigma) - gaussian.cdf(-sigma) == pytest.approx(cl, abs=1e-8)


def test_sampled_band_of_linear_model_matches_analytic_covariance():
    """y = A theta with correlated theta: sampled std and 68/95 % half-widths equal sqrt(diag(A C A^T))."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 3))
    l_factor = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [-0.3, 0.5, 0.4]])
    cov = l_factor @ l_factor.T * 0.04
    best = np.array([1.0, -2.0, 0.5])
    draws = draw_parameters(best, cov, 40000, seed=3)
    band = sampled_band(lambda theta: a @ theta, draws, levels=(0.68, 0.95))
    sigma = linearised_band(a, cov)
    assert np.allclose(sigma, np.sqrt(np.diag(a @ cov @ a.T)))
    # the standard error of a sample std is sigma / sqrt(2n) = 0.35 %
    assert np.allclose(band["std"], sigma, rtol=0.02)
    assert np.allclose(band["median"], a @ best, atol=0.03 * sigma.max())
    for cl in (0.68, 0.95):
        lo, hi = band["intervals"][cl]
        assert np.allclose(0.5 * (hi - lo), CL_SIGMA[cl] * sigma, rtol=0.03)


def test_draws_hold_fixed_parameters_and_are_reproducible():
    cov = np.diag([0.01, 0.0, 0.04])
    first = draw_parameters([1.0, 2.0, 3.0], cov, 100, seed=7)
    assert np.array_equal(first, draw_parameters([1.0, 2.0, 3.0], cov, 100, seed=7))
    assert np.all(first[:, 1] == 2.0)
    assert not np.array_equal(first, draw_parameters([1.0, 2.0, 3.0], cov, 100, seed=8))
    clipped = draw_parameters([1.0, 2.0, 3.0], cov, 100, seed=7, limits=[(0.9, 1.1), None, None])
    assert clipped[:, 0].min() >= 0.9 and clipped[:, 0].max() <= 1.1


def test_central_interval_rejects_a_bad_level():
    with pytest.raises(ValueError, match="confidence level"):
        central_interval(np.ones((3, 2)), 1.5)


# the proton fits below: breaks, cutoff and the knee indices held, as a fast 5-parameter fit
HELD = ["R1_GV", "R2_GV", "R3_GV", "R4_GV", "Rc_GV", "nu3", "nu4"]
BAND_ENERGIES = np.array([3.0, 30.0, 300.0, 3000.0])


def _fit_entry(result):
    return {"fit": "proton", "internal_names": result.internal_names, "params": result.params,
            "covariance_internal": result.covariance_internal}


def test_band_of_asimov_fit_matches_the_linearised_errors():
    """On Asimov data (the truth itself) the sampled 68 % band of the modulated flux agrees with the
    linear propagation J C J^T of the HESSE covariance (a numerical Jacobian of the same curve): the
    chi2 is close to quadratic in the internal parameters, so linearising would be accurate too."""
    green = leaky_box_green(GRID_GEV_PER_N)
    datasets, lis = proton_datasets(green, q0=1.0)
    model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
    result = fitting.fit(model, datasets, fixed=HELD)
    assert result.valid
    truth = proton_truth(lis)
    for name in ("nu0", "nu1", "nu2", "Phi_GV"):
        assert result.params[name] == pytest.approx(truth[name], abs=1e-4)
    entry = _fit_entry(result)
    names, best, cov, _ = internal_best_and_limits(model, entry)

    def curve(theta):
        values = {n.removeprefix("log10_"): (10.0**x if n.startswith("log10_") else x) for n, x in zip(names, theta)}
        return np.log(fitting.spectra_at_earth(model, values, BAND_ENERGIES)["proton"]["flux_toa"])

    step = 1e-5
    jacobian = np.stack([(curve(best + step * e) - curve(best - step * e)) / (2 * step)
                         for e in np.eye(best.size)], axis=1)
    sigma_log = linearised_band(jacobian, cov)
    table = local_band_table(model, entry, BAND_ENERGIES, n_samples=4000, seed=5, levels=[0.68])
    half_log = 0.5 * np.log(np.asarray(table["proton_toa_hi68"]) / np.asarray(table["proton_toa_lo68"]))
    assert np.all(sigma_log > 0)
    assert np.allclose(half_log, CL_SIGMA[0.68] * sigma_log, rtol=0.06)
    # the best-fit column is the fit's curve
    assert np.allclose(np.asarray(table["proton_toa"]), np.exp(curve(best)), rtol=1e-12)


@pytest.mark.slow
def test_bands_cover_the_truth_in_pseudo_experiments():
    """Coverage: around the Asimov truth, noisy pseudo-data are fitted and each fit's sampled band is
    drawn; the true modulated flux lies inside the 68 % (95 %) band in ~68 % (~95 %) of them. And the
    parameter sampling: the Asimov fit's covariance (what the draws are taken from) holds the
    pseudo-experiments' best fits inside its 68 % (95 %) ellipsoid in ~68 % (~95 %) of them."""
    green = leaky_box_green(GRID_GEV_PER_N)
    _, lis = proton_datasets(green, q0=1.0)
    truth = proton_truth(lis)
    true_model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
    true_flux = fitting.spectra_at_earth(true_model, truth, BAND_ENERGIES)["proton"]["flux_toa"]
    inside = {0.68: [], 0.95: []}
    asimov_data, _ = proton_datasets(green, q0=1.0)
    asimov_model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
    asimov = fitting.fit(asimov_model, asimov_data, fixed=HELD)
    asimov_names, asimov_best, asimov_cov, _ = internal_best_and_limits(asimov_model, _fit_entry(asimov))
    free = np.flatnonzero(np.diag(asimov_cov) > 0)  # the held parameters have no variance
    asimov_names = [asimov_names[i] for i in free]
    asimov_best, asimov_cov = asimov_best[free], asimov_cov[np.ix_(free, free)]
    offsets = []
    n_experiments = 40
    for seed in range(n_experiments):
        datasets, _ = proton_datasets(green, q0=1.0, seed=100 + seed)
        model = fitting.NucleusModel(PROTON, GRID_GEV_PER_N, green, PROTON_TABLE2_DR_HIGH)
        result = fitting.fit(model, datasets, fixed=HELD)
        assert result.valid
        draws = local_spectra_draws(model, _fit_entry(result), BAND_ENERGIES, n_samples=300, seed=seed)
        values = draws["draws"]["proton"]["flux_toa"]
        for cl in inside:
            lo, hi = central_interval(values, cl)
            inside[cl].append((lo <= true_flux) & (true_flux <= hi))
        # the parameter sampling itself: the draws come from N(best, C); on Asimov data C must describe
        # the scatter of the pseudo-experiments' best fits around the truth (Mahalanobis d^2 ~ chi2_k)
        names, fitted, _, _ = internal_best_and_limits(model, _fit_entry(result))
        offsets.append(fitted[[names.index(n) for n in asimov_names]] - asimov_best)
    fraction = {cl: float(np.mean(v)) for cl, v in inside.items()}
    # 40 experiments: binomial standard error 0.074 (68 %) and 0.034 (95 %), per energy
    assert 0.48 < fraction[0.68] < 0.86, fraction
    assert 0.85 < fraction[0.95] <= 1.0, fraction
    offsets = np.asarray(offsets)
    d2 = np.einsum("ni,ij,nj->n", offsets, np.linalg.inv(asimov_cov), offsets)
    covered = {cl: float(np.mean(d2 <= chi2.ppf(cl, len(asimov_names)))) for cl in (0.68, 0.95)}
    assert 0.48 < covered[0.68] < 0.86, covered
    assert 0.85 < covered[0.95] <= 1.0, covered


def _region_table(scale=2.0):
    from astropy import units as u
    from astropy.table import Table

    energy = np.geomspace(1e3, 1e6, 4)
    unit = u.Unit("GeV-1 cm-2 s-1 sr-1")
    extra_unscaled = 1e-9 * (energy / 1e3) ** -2.5
    nu_unscaled = 0.5 * extra_unscaled
    table = Table({"energy": energy * u.GeV})
    table["pi0"] = 3e-9 * (energy / 1e3) ** -2.7 * unit
    table["extra1"] = scale * extra_unscaled * unit
    table["gamma_total"] = table["pi0"] + table["extra1"]
    table["extra1_neutrino"] = scale * nu_unscaled * unit
    table["neutrino_total"] = (2e-9 * (energy / 1e3) ** -2.7 + scale * nu_unscaled) * unit
    for flavour in ("e", "mu", "tau"):
        table[f"neutrino_{flavour}"] = table["neutrino_total"] / 3.0
    table.meta.update(model="toy", region="toy_region")
    return table, {"extra1": extra_unscaled, "extra1_neutrino": nu_unscaled}


def test_extra_band_is_the_scale_error_times_the_unscaled_extra():
    """One extra at s = 2 +- 0.1 (far from its bound): every column it moves gets a band of half-width
    0.1 x (its part of that column at s = 1), 1 sigma; columns it does not move get none."""
    from galdiff.uncertainty.extra_bands import region_band_table

    table, unscaled = _region_table()
    summary = {"parameters": ["extra1"], "components": {"extra1": {"scale": 2.0, "scale_error": 0.1}},
               "correlation": [[1.0]]}
    band = region_band_table(table, unscaled, summary, n_samples=20000, seed=1, levels=[0.68])
    for column, part in (("gamma_total", unscaled["extra1"]), ("extra1", unscaled["extra1"]),
                         ("neutrino_total", unscaled["extra1_neutrino"]), ("neutrino_mu", unscaled["extra1_neutrino"] / 3)):
        half = 0.5 * (np.asarray(band[f"{column}_hi68"]) - np.asarray(band[f"{column}_lo68"]))
        np.testing.assert_allclose(half, CL_SIGMA[0.68] * 0.1 * part, rtol=0.03)
    assert "pi0_median" not in band.colnames


def test_hadronic_offsets_follow_the_response_covariance():
    """Region-column offsets of the p/He draws through a linear response r: standard deviation sqrt(r C r^T)."""
    from galdiff.uncertainty.extra_bands import region_band_table

    table, unscaled = _region_table()
    r = np.array([[1e-10, 2e-11, 1e-12, 1e-13], [-5e-11, 1e-11, 3e-12, 2e-13]])
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    response = {"species": {"proton": {"names": ["nu0", "nu1"], "best": np.array([2.0, 2.5]), "covariance": cov,
                                       "response": {"toy_region": {"pi0": r}}}}}
    summary = {"parameters": [], "components": {}}
    band = region_band_table(table, unscaled, summary, n_samples=20000, seed=2, levels=[0.68], response=response,
                             region="toy_region")
    half = 0.5 * (np.asarray(band["pi0_hi68"]) - np.asarray(band["pi0_lo68"]))
    np.testing.assert_allclose(half, CL_SIGMA[0.68] * np.sqrt(np.einsum("ki,kl,li->i", r, cov, r)), rtol=0.03)


def test_hadronic_offsets_take_the_draws_coefficients_when_given():
    """With the band draws' coefficients on an injection basis (band_response), each draw's offset is
    coefficients @ rows exactly; a count that differs from bands.n_samples is an error."""
    from galdiff.uncertainty.extra_bands import hadronic_offsets

    rows = np.array([[1e-10, 2e-11, 1e-12, 1e-13], [-5e-11, 1e-11, 3e-12, 2e-13], [0.0, 0.0, 1e-12, 5e-13]])
    coefficients = np.random.default_rng(3).normal(size=(50, 3))
    response = {"species": {"leptons": {"names": ["nu0", "nu1"], "best": np.zeros(2), "covariance": np.eye(2),
                                        "coefficients": coefficients,
                                        "response": {"toy_region": {"inverse_compton": rows}}}}}
    offsets = hadronic_offsets(response, "toy_region", 50, seed=1)
    np.testing.assert_allclose(offsets["inverse_compton"], coefficients @ rows, rtol=1e-14, atol=0.0)
    with pytest.raises(ValueError, match="n_samples"):
        hadronic_offsets(response, "toy_region", 40, seed=1)


def _toy_extra_fit(base_shift_of_energy=None):
    """Two extras fitted to toy gamma-ray points with symmetric errors (the workflow's fit_extra_scales):
    the points, the fit summary, the region table and the extras' unscaled spectra on a grid that
    contains every point's energy (so no interpolation enters the comparison)."""
    from astropy import units as u
    from astropy.table import Table

    from galdiff.fitting.data import FitDataset
    from galdiff.fitting.extra import extra_fit_summary, fit_extra_scales

    grid = np.geomspace(1e4, 1e6, 9)
    unscaled = {"extra1": 1e-12 * (grid / 1e4) ** -2.4 * np.exp(-grid / 2e5),
                "extra2": 2e-13 * (grid / 1e4) ** -2.3 * np.exp(-grid / 2e6)}
    base = 3e-12 * (grid / 1e4) ** -2.7
    truth = base + 1.3 * unscaled["extra1"] + 0.7 * unscaled["extra2"]
    flux = truth * (1.0 + 0.05 * np.sin(np.arange(grid.size)))  # the data stay; a shift moves the model's base
    if base_shift_of_energy is not None:
        base = base + base_shift_of_energy(grid)
    error = 0.1 * flux
    data = FitDataset(name="toy", experiment="toy", species="gamma", ek_GeV_per_n=grid, flux=flux, err_lo=error,
                      err_hi=error, is_upper_limit=np.zeros(grid.size, bool), modulated=False, scale_group=None,
                      scale_uncertainty=None, citation="", region="toy_region")
    components = {name: {"toy_region": (grid, spectrum)} for name, spectrum in unscaled.items()}
    result = fit_extra_scales([data], {"toy_region": (grid, base)}, components)
    norms = {name: {"norm_per_GeV_cm3_s_sr": 1.0} for name in unscaled}
    table = Table({"energy": grid * u.GeV})
    table["gamma_total"] = (base + sum(s * unscaled[n] for n, s in zip(result.names, result.scales))) * u.Unit(
        "GeV-1 cm-2 s-1 sr-1")
    return data, result, extra_fit_summary(result, norms), table, unscaled


def _response_moving_the_total(table, rows, coefficients):
    """A band_response-like mapping whose draws move the region's gamma_total by coefficients @ rows."""
    return {"species": {"proton": {"names": ["nu0"], "best": np.zeros(1), "covariance": np.eye(1),
                                   "coefficients": coefficients, "response": {"toy_region": {"gamma_total": rows}}}}}


def test_extra_refit_absorbs_a_base_shift_shaped_like_an_extra():
    """A cosmic-ray draw that adds alpha x (extra1's spectrum) to the base is absorbed exactly by the
    refit: extra1's scale moves by -alpha, extra2's not at all, and the model at the points is unchanged."""
    from galdiff.uncertainty.extra_bands import extra_refit_shifts

    _, result, summary, table, unscaled = _toy_extra_fit()
    alpha = np.array([[0.2], [-0.5], [0.05]])
    response = _response_moving_the_total(table, unscaled["extra1"][None, :], alpha)
    shifts = extra_refit_shifts(summary, result.points, {"toy_region": table}, {"toy_region": unscaled}, response,
                                n_samples=3, seed=0)
    # to the summary's precision: its correlation is written with 6 digits
    np.testing.assert_allclose(shifts[:, 0], -alpha[:, 0], rtol=1e-5)
    np.testing.assert_allclose(shifts[:, 1], 0.0, atol=1e-5 * np.abs(alpha).max())


def test_extra_refit_shifts_equal_the_fit_redone_on_the_shifted_base():
    """Against the workflow's own EXTRA fit (fit_extra_scales) redone on each draw's base: with symmetric
    errors the fit's normal equations are linear in the base, so the shifts agree to the optimiser's
    tolerance; a draw of shape unlike either extra (a softer power law) is only partly absorbed."""
    from galdiff.uncertainty.extra_bands import extra_refit_shifts

    _, result, summary, table, unscaled = _toy_extra_fit()
    grid = np.asarray(table["energy"], dtype=float)
    shape = 4e-13 * (grid / 1e4) ** -3.0
    coefficients = np.array([[1.0], [-0.6]])
    response = _response_moving_the_total(table, shape[None, :], coefficients)
    shifts = extra_refit_shifts(summary, result.points, {"toy_region": table}, {"toy_region": unscaled}, response,
                                n_samples=2, seed=0)
    for i, c in enumerate(coefficients[:, 0]):
        _, redone, _, _, _ = _toy_extra_fit(lambda e, c=c: c * 4e-13 * (e / 1e4) ** -3.0)
        np.testing.assert_allclose(shifts[i], redone.scales - result.scales, rtol=1e-5, atol=1e-8)
    assert np.all(np.abs(shifts) > 1e-3)


def test_refit_shifts_move_the_extra_draws_and_keep_the_bound():
    """The shifts are added to the scales' own draws before the bound s >= 0 is applied; a shape that does
    not match the draws is one clear error."""
    from galdiff.uncertainty.extra_bands import extra_scale_draws

    summary = {"parameters": ["extra1"], "components": {"extra1": {"scale": 1.0, "scale_error": 0.1}},
               "correlation": [[1.0]]}
    _, _, plain = extra_scale_draws(summary, 1000, seed=4)
    shifts = np.full((1000, 1), 0.5)
    shifts[:10] = -5.0
    _, _, moved = extra_scale_draws(summary, 1000, seed=4, scale_shifts=shifts)
    np.testing.assert_allclose(moved[10:], plain[10:] + 0.5, rtol=1e-15)
    assert np.all(moved[:10] == 0.0)
    with pytest.raises(ValueError, match="refit shifts"):
        extra_scale_draws(summary, 1000, seed=4, scale_shifts=np.zeros((999, 1)))
