"""Region averages against analytic maps, and the EXTRA normalisation fit on synthetic data."""

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galdiff.fitting.data import FitDataset, gamma_ray_datasets, usable_errors
from galdiff.fitting.extra import fit_extra_scales, scale_components
from galdiff.skymaps.masks import SourceMask
from galdiff.skymaps.region_spectra import SPECTRUM_COMPONENTS, model_region_spectra, region_weights
from galdiff.skymaps.regions import SkyRegion, region_pixel_weights, weighted_region_average
from galdiff.spectra import loglog_interp


def pixel_lb(nside):
    return hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), lonlat=True)


def test_uniform_map_averages_to_one_and_weights_give_the_solid_angle():
    region = SkyRegion("inner", 15.0, 125.0, 5.0)
    weights = region_pixel_weights(32, region, fine_nside=1024)
    assert weighted_region_average(np.full(weights.size, 3.0), weights) == pytest.approx(3.0, rel=1e-12)
    assert weights.sum() * hp.nside2pixarea(32) == pytest.approx(region.solid_angle_sr(), rel=5e-3)
    assert weights.max() == 1.0 and 0.0 < weights[weights > 0].min() < 1.0  # edge pixels are partial


def test_cos_b_and_b_squared_maps_match_the_analytic_means():
    nside = 128
    l_deg, b_deg = pixel_lb(nside)
    region = SkyRegion("band", 15.0, 125.0, 5.0)
    weights = region_pixel_weights(nside, region, fine_nside=1024)
    b_max = np.deg2rad(5.0)
    # <cos b> over |b| < B with the cos b area element: (B + sin B cos B) / (2 sin B)
    expected_cos = (b_max + np.sin(b_max) * np.cos(b_max)) / (2 * np.sin(b_max))
    assert weighted_region_average(np.cos(np.deg2rad(b_deg)), weights) == pytest.approx(expected_cos, rel=1e-5)
    # <b^2> ~ B^2 / 3 (the cos b weighting changes it by < 0.2 % at 5 deg)
    assert weighted_region_average(b_deg**2, weights) == pytest.approx(25.0 / 3.0, rel=5e-3)
    # a longitude gradient averages to the box centre
    assert weighted_region_average(l_deg, weights) == pytest.approx(70.0, rel=2e-3)


def test_mask_removes_its_area_from_the_average():
    # mask everything at b < 0: a map equal to +1 at b >= 0 (pixel centres; the b = 0 ring is half kept)
    # and -1 below then averages to +1 over the band
    fine = 256
    _, b_fine = pixel_lb(fine)
    keep = b_fine > 0
    _, b_deg = pixel_lb(32)
    region = SkyRegion("band", 0.0, 360.0, 10.0, lhaaso_mask=True)
    weights = region_pixel_weights(32, region, keep_fine=keep)
    assert weighted_region_average(np.where(b_deg >= 0, 1.0, -1.0), weights) == pytest.approx(1.0)
    mask = SourceMask(keep_fine=keep, discs=Table())
    (masked_weights, fraction), = region_weights([region], 32, mask=mask).values()
    np.testing.assert_allclose(masked_weights, weights)
    assert fraction == pytest.approx(0.5, abs=0.01)  # the fine b = 0 ring itself is masked
    unmasked = SkyRegion("band", 0.0, 360.0, 10.0, lhaaso_mask=False)
    (_, fraction), = region_weights([unmasked], 32, mask=mask).values()
    assert fraction == 0.0


def synthetic_spectra(energy):
    """Base (pi0-like power law) and two ECPL extras in two regions."""
    base = {"inner": 2e-3 * energy**-2.7, "outer": 0.7e-3 * energy**-2.7}
    shapes = {"extra1": energy**-2.4 * np.exp(-energy / 2e4), "extra2": energy**-2.3 * np.exp(-energy / 2e6)}
    components = {name: {"inner": 1e-3 * shape, "outer": 0.3e-3 * shape} for name, shape in shapes.items()}
    return base, components


def synthetic_points(energy_grid, injected, relative_error=0.05, noise=None, upper_limits=()):
    """The EXTRA fit's data sets: one per region on the injected model, then the upper limits."""
    base, components = synthetic_spectra(energy_grid)
    rng = np.random.default_rng(1)
    datasets = []
    for region, energies in (("inner", np.geomspace(1e4, 8e5, 10)), ("outer", np.geomspace(1.5e4, 6e5, 5))):
        # the model as the fit evaluates it: each spectrum interpolated log-log, then summed
        truth = loglog_interp(energies, energy_grid, base[region]) + sum(
            injected[name] * loglog_interp(energies, energy_grid, components[name][region]) for name in injected)
        flux = truth * (1 + (relative_error * rng.standard_normal(truth.size) if noise else 0.0))
        error = relative_error * truth
        datasets.append(FitDataset("synthetic", "X", "gamma", energies, flux, error, error, False, modulated=False,
                                   region=region))
    for region, energy, flux, error in upper_limits:
        err_lo, err_hi, _ = usable_errors([flux], [0.0], [error], [True])
        datasets.append(FitDataset("limits", "X", "gamma", [energy], [flux], err_lo, err_hi, True, modulated=False,
                                   region=region))
    return datasets


def as_pairs(energy, spectra):
    return {region: (energy, values) for region, values in spectra.items()}


def test_extra_fit_recovers_injected_norms():
    energy = np.geomspace(1.0, 1e7, 141)
    injected = {"extra1": 0.7, "extra2": 2.3}
    points = synthetic_points(energy, injected)
    base, components = synthetic_spectra(energy)
    result = fit_extra_scales(points, as_pairs(energy, base), {k: as_pairs(energy, v) for k, v in components.items()})
    assert result.names == ["extra1", "extra2"]
    np.testing.assert_allclose(result.scales, [0.7, 2.3], rtol=1e-4)
    assert result.chi2 < 1e-6 and result.ndof == 13
    assert np.all(result.scale_errors > 0) and result.prefit_chi2 > 10
    # with 5 % noise the fit lands within ~3 sigma of the truth and chi2/ndof is of order one
    noisy = fit_extra_scales(synthetic_points(energy, injected, noise=True), as_pairs(energy, base),
                             {k: as_pairs(energy, v) for k, v in components.items()})
    assert np.all(np.abs(noisy.scales - [0.7, 2.3]) < 3 * noisy.scale_errors)
    assert 0.2 < noisy.chi2 / noisy.ndof < 3.0


def test_extra_fit_upper_limits_are_one_sided_and_scales_non_negative():
    energy = np.geomspace(1.0, 1e7, 141)
    base, components = synthetic_spectra(energy)
    pairs = {k: as_pairs(energy, v) for k, v in components.items()}
    injected = {"extra1": 1.0, "extra2": 1.0}
    model_at_1PeV = np.interp(6.0, np.log10(energy), base["inner"] + components["extra1"]["inner"]
                              + components["extra2"]["inner"])
    loose = synthetic_points(energy, injected, upper_limits=[("inner", 1e6, 10 * model_at_1PeV, 0.0)])
    result = fit_extra_scales(loose, as_pairs(energy, base), pairs)
    np.testing.assert_allclose(result.scales, [1.0, 1.0], rtol=1e-4)  # a limit above the model costs nothing
    assert result.ndof == 13  # limits are not degrees of freedom
    tight = synthetic_points(energy, injected, upper_limits=[("inner", 1e6, 0.5 * model_at_1PeV, 0.02 * model_at_1PeV)])
    result = fit_extra_scales(tight, as_pairs(energy, base), pairs)
    assert result.scales[1] < 0.99  # the limit pulls EXTRA2 down
    # data below the base model: the extra scale stops at zero instead of going negative
    low = synthetic_points(energy, {"extra1": 0.0, "extra2": 0.0})
    for dataset in low:
        dataset.flux *= 0.8
    result = fit_extra_scales(low, as_pairs(energy, base), pairs)
    assert np.all(result.scales >= 0) and any(result.at_bound)


def test_scaling_keeps_totals_and_flavours_consistent():
    energy = np.geomspace(1.0, 1e7, 15)
    rng = np.random.default_rng(0)
    parts = {name: rng.uniform(1, 2, energy.size) for name in ("pi0", "bremsstrahlung", "inverse_compton",
                                                               "extra1", "extra2")}
    spectra = dict(parts, gamma_total=sum(parts.values()))
    diffuse = {f: rng.uniform(1, 2, energy.size) for f in ("e", "mu", "tau")}
    extra_nu = {"extra1": rng.uniform(1, 2, energy.size), "extra2": rng.uniform(1, 2, energy.size)}
    fractions = {"extra1": {"e": 0.30 * np.ones(15), "mu": 0.36 * np.ones(15), "tau": 0.34 * np.ones(15)}}
    for flavour in ("e", "mu", "tau"):
        share1 = fractions["extra1"][flavour]
        spectra[f"neutrino_{flavour}"] = diffuse[flavour] + share1 * extra_nu["extra1"] + extra_nu["extra2"] / 3
    spectra["neutrino_diffuse"] = sum(diffuse.values())
    spectra["extra1_neutrino"], spectra["extra2_neutrino"] = extra_nu["extra1"], extra_nu["extra2"]
    spectra["neutrino_total"] = spectra["neutrino_diffuse"] + extra_nu["extra1"] + extra_nu["extra2"]
    scaled = scale_components(spectra, {"extra1": 0.5, "extra2": 3.0}, fractions)
    np.testing.assert_allclose(scaled["gamma_total"], sum(scaled[n] for n in parts))
    np.testing.assert_allclose(scaled["neutrino_total"],
                               scaled["neutrino_diffuse"] + scaled["extra1_neutrino"] + scaled["extra2_neutrino"])
    np.testing.assert_allclose(sum(scaled[f"neutrino_{f}"] for f in ("e", "mu", "tau")), scaled["neutrino_total"])
    np.testing.assert_allclose(scaled["neutrino_mu"], diffuse["mu"] + 0.36 * 0.5 * extra_nu["extra1"]
                               + extra_nu["extra2"])
    np.testing.assert_allclose(scaled["pi0"], spectra["pi0"])
    # cubes (n_E, n_pix) scale the same way
    cube = {"extra1": np.ones((15, 4)), "gamma_total": 3 * np.ones((15, 4))}
    np.testing.assert_allclose(scale_components(cube, {"extra1": 2.0})["gamma_total"], 4.0)


def test_model_region_spectra_fits_and_rescales_synthetic_maps():
    nside, fine = 16, 128
    energy = np.geomspace(1.0, 1e7, 29)
    l_deg, b_deg = pixel_lb(nside)
    profile = np.exp(-np.abs(b_deg) / 3.0) * (1 + 0.5 * np.cos(np.deg2rad(l_deg)))
    base_spectrum = 1e-3 * energy**-2.7
    extra_spectrum = 1e-3 * energy**-2.4 * np.exp(-energy / 2e4)
    cubes = {name: (energy, np.zeros((energy.size, profile.size))) for name in SPECTRUM_COMPONENTS}
    cubes["pi0"] = (energy, np.outer(base_spectrum, profile))
    cubes["extra1"] = (energy, np.outer(extra_spectrum, profile))
    cubes["gamma_total"] = (energy, cubes["pi0"][1] + cubes["extra1"][1])
    cubes["extra1_neutrino"] = (energy, 0.5 * cubes["extra1"][1])
    cubes["neutrino_total"] = (energy, cubes["extra1_neutrino"][1].copy())
    for flavour in ("e", "mu", "tau"):
        cubes[f"neutrino_{flavour}"] = (energy, cubes["extra1_neutrino"][1] / 3)
    regions = [SkyRegion("inner", 15.0, 125.0, 5.0), SkyRegion("all_sky", 0.0, 360.0, 90.0)]
    weights = region_pixel_weights(nside, regions[0], fine_nside=fine)
    mean_profile = weighted_region_average(profile, weights)
    # data: the model with EXTRA1 three times stronger, 10 % errors
    data_energy = np.geomspace(1e4, 5e5, 8)
    flux = mean_profile * (loglog_interp(data_energy, energy, base_spectrum)
                           + 3 * loglog_interp(data_energy, energy, extra_spectrum))
    table = Table({"energy": data_energy * u.GeV, "flux": flux * u.Unit("GeV-1 cm-2 s-1 sr-1"),
                   "flux_lo_err": 0.1 * flux * u.Unit("GeV-1 cm-2 s-1 sr-1"),
                   "flux_hi_err": 0.1 * flux * u.Unit("GeV-1 cm-2 s-1 sr-1"), "is_upper_limit": np.zeros(8, bool)},
                  meta={"dataset": "fake"})
    extras = {"extra1": {"norm_per_GeV_cm3_s_sr": 2e-35, "index": 2.4, "cutoff_GeV": 2e4, "origin": "hadronic"}}
    tables, summary, result = model_region_spectra(cubes, regions, model="toy", fine_nside=fine,
                                                   fit_data={"inner": [table]}, extras_maps=extras)
    assert result.scales[0] == pytest.approx(3.0, rel=1e-3)
    assert summary["components"]["extra1"]["norm_per_GeV_cm3_s_sr"] == pytest.approx(6e-35, rel=1e-3)
    inner = tables["inner"]
    assert inner["extra1"].unit == u.Unit("GeV-1 cm-2 s-1 sr-1") and inner.meta["region"] == "inner"
    np.testing.assert_allclose(inner["extra1"].value, 3 * mean_profile * extra_spectrum, rtol=1e-3)
    np.testing.assert_allclose(inner["gamma_total"].value, inner["pi0"].value + inner["extra1"].value, rtol=1e-12)
    np.testing.assert_allclose(inner["neutrino_total"].value, inner["extra1_neutrino"].value, rtol=1e-12)
    assert inner.meta["extra_fit"]["extra1"]["scale"] == pytest.approx(3.0, rel=1e-3)
    # the all-sky average is the plain pixel mean
    np.testing.assert_allclose(tables["all_sky"]["pi0"].value, base_spectrum * profile.mean(), rtol=1e-12)
    # without fit data every extra keeps the maps' norm
    tables, summary, result = model_region_spectra(cubes, regions, model="toy", fine_nside=fine, extras_maps=extras)
    assert result is None and "chi2" not in summary
    assert summary["components"]["extra1"]["scale"] == 1.0
    assert not summary["components"]["extra1"]["fitted"]
    np.testing.assert_allclose(tables["inner"]["extra1"].value, mean_profile * extra_spectrum, rtol=1e-3)


def test_fit_points_from_tidy_tables_respects_the_energy_range():
    unit = u.Unit("GeV-1 cm-2 s-1 sr-1")
    table = Table({"energy": [1e3, 1e4, 1e5] * u.GeV, "flux": [3.0, 2.0, 1.0] * unit,
                   "flux_lo_err": [0.1, 0.1, 0.1] * unit, "flux_hi_err": [0.2, 0.2, np.nan] * unit,
                   "is_upper_limit": [False, False, True]}, meta={"dataset": "d"})
    (points,) = gamma_ray_datasets({"inner": [table]}, energy_range_GeV=[5e3, 1e6])
    assert points.ek_GeV_per_n.size == 2 and points.region == "inner" and points.name == "d"
    assert points.is_upper_limit.tolist() == [False, True]
    assert points.err_hi[1] == 1.0  # a limit without an upper error uses the limit itself
    assert points.err_lo[1] == 1.0  # ... which is its only relevant error (the injection fits' rule)
    # one rule for both fits: a point without any error is dropped and counted, as in prepare_datasets
    table["flux_lo_err"][1] = table["flux_hi_err"][1] = 0.0
    (points,) = gamma_ray_datasets({"inner": [table]})
    assert points.ek_GeV_per_n.tolist() == [1e3, 1e5] and points.n_dropped == 1


def test_fit_points_take_a_dataset_its_own_energy_range():
    """A GeV table (Fermi-LAT) in the fit beside TeV-PeV ones keeps its points in its own window."""
    unit = u.Unit("GeV-1 cm-2 s-1 sr-1")

    def table(name, energies):
        n = len(energies)
        return Table({"energy": energies * u.GeV, "flux": np.ones(n) * unit, "flux_lo_err": 0.1 * np.ones(n) * unit,
                      "flux_hi_err": 0.1 * np.ones(n) * unit, "is_upper_limit": np.zeros(n, bool)},
                     meta={"dataset": name})

    tables = {"inner": [table("fermi", np.array([1.0, 10.0, 400.0])), table("km2a", np.array([1e4, 1e5]))]}
    fermi, km2a = gamma_ray_datasets(tables, energy_range_GeV=[1e3, 1e7], dataset_energy_ranges_GeV={"fermi": [2.0, 1e3]})
    assert (fermi.name, km2a.name) == ("fermi", "km2a")
    assert fermi.ek_GeV_per_n.tolist() == [10.0, 400.0] and km2a.ek_GeV_per_n.tolist() == [1e4, 1e5]
    # without its own window the GeV table has no point in the fit's range, and no data set
    assert [d.name for d in gamma_ray_datasets(tables, energy_range_GeV=[1e3, 1e7])] == ["km2a"]
