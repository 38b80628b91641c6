"""System-level physics of the whole workflow on the reduced configuration (issue 17).

The reduced configuration (tests/config/reduced.yaml: the default physics on a 1 x 0.3 kpc grid,
8 bins per decade, nside 32) is run once per session by the ``reduced_results`` fixture (conftest;
``GALDIFF_REDUCED_RESULTS=/path`` reuses a finished run). These tests read what a user reads:
the fits, Table II, the EXTRA fit, the headline neutrino share and the model's sky spectra against
the measurements. Every bound is argued from the physics or the data's errors next to it; the
README records that the reduced grid reproduces the default-resolution numbers to ~10 %
(neutrino shares 9.8 % vs 8.9 %), which is the headroom the bounds leave for the coarse grid.
"""

import json

import numpy as np
import pytest
import yaml
from astropy.table import QTable, Table
from scipy import stats

from galdiff.skymaps.regions import SkyRegion, region_pixel_weights, weighted_region_average
from galdiff.skymaps.cube import read_healpix_cube
from result_checks import CHI2_PER_NDOF_MAX, table2_mismatches

pytestmark = pytest.mark.system

MODELS = ("dr_high", "dr_low")
#: reduced grid vs default resolution (README, "Spectra stage")
GRID_HEADROOM = 0.10


@pytest.fixture(scope="module")
def summary(reduced_results):
    return json.loads((reduced_results / "summary.json").read_text())


def read_table(results, name):
    return QTable.read(results / "data" / f"{name}.ecsv")


# ---- injection fits ------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("species", ["proton", "helium", "electron"])
def test_every_injection_fit_is_adequate(summary, model, species):
    fit = summary["models"][model]["fit"][species]
    assert fit["ndof"] > 50
    assert fit["chi2"] / fit["ndof"] < CHI2_PER_NDOF_MAX[species], fit["chi2"] / fit["ndof"]


# Table II as printed (docs/paper.md), typed here. Tolerances as the README states them for "agree":
# indices 0.05, breaks 20 %, Phi one unit of the paper's last digit (0.1 GV). Only the entries the
# README says agree are checked (the knee parameters and Phi_p differ, for the reasons given there).
PAPER_TABLE_II = {
    "proton": {"nu0": 2.06, "nu1": 2.43, "nu2": 2.22, "R1_GV": 13.9, "R2_GV": 500.0},
    "helium": {"nu1": 2.36, "R1_GV": 1.99, "R2_GV": 650.0, "Phi_GV": 0.70},
}
PAPER_TABLE_II_DR_HIGH_ONLY = {"proton": {"nu3": 2.52}}


def within_paper_tolerance(name, ours, paper):
    if name.startswith("nu"):
        return abs(ours - paper) <= 0.05
    if name == "Phi_GV":
        return abs(ours - paper) <= 0.1
    return abs(ours / paper - 1.0) <= 0.20


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("species", ["proton", "helium"])
def test_table2_agrees_with_the_paper_where_the_readme_says_so(summary, model, species):
    params = summary["models"][model]["fit"][species]["params"]
    expected = dict(PAPER_TABLE_II[species])
    if model == "dr_high":
        expected.update(PAPER_TABLE_II_DR_HIGH_ONLY.get(species, {}))
    off = {name: (params[name], paper) for name, paper in expected.items()
           if not within_paper_tolerance(name, params[name], paper)}
    assert not off, off


# ---- EXTRA fit and the LHAASO spectra ---------------------------------------------------------------

def extra_fit(results, model):
    return yaml.safe_load((results / "spectra" / model / "extra_fit.yaml").read_text())


@pytest.mark.parametrize("model", MODELS)
def test_extra_fit_is_acceptable(reduced_results, model):
    fit = extra_fit(reduced_results, model)
    assert fit["n_points"] == 15 and fit["ndof"] == 15 - len(fit["parameters"])
    p_value = stats.chi2.sf(fit["chi2"], fit["ndof"])
    if model == "dr_low":
        # Model 2 is the paper's full model; Table IV accepts a gamma-ray fit above p = 0.01
        # (tables.table4.gamma_p_value_min)
        assert p_value > 0.01, (fit["chi2"], fit["ndof"])
    else:
        # Model 1 under-predicts LHAASO above 100 TeV (README: p = 9e-4 at the default grid, the
        # price of one cutoff at 20 TeV); allowed, but not a worse tension than p = 1e-4. The
        # TeV^-1 -> GeV^-1 conversion off by 1e3 gave chi2 = 248 for 14 dof.
        assert p_value > 1e-4, (fit["chi2"], fit["ndof"])
    pulls = Table.read(reduced_results / "spectra" / model / "extra_fit_points.ecsv")["pull"]
    # no single LHAASO point off by more than 3 sigma (Model 2) or 5 sigma (Model 1's known tension;
    # a factor 2 at 100 TeV with LHAASO's 13 % errors would be 7 sigma)
    assert np.max(np.abs(pulls)) < (3.0 if model == "dr_low" else 5.0), list(np.round(pulls, 2))


@pytest.mark.parametrize("model", MODELS)
def test_extra_scales_are_detected_and_inside_bounds(reduced_results, model):
    for name, entry in extra_fit(reduced_results, model)["components"].items():
        if not entry["fitted"]:
            continue
        # the paper needs every extra it fits (Model 1: EXTRA1, Model 2: EXTRA1 and EXTRA2): a scale
        # at its bound 0 (what the units error gave) or consistent with 0 is a failure
        assert not entry["at_lower_bound"], name
        assert entry["scale"] > 2.0 * entry["scale_error"], (name, entry["scale"], entry["scale_error"])
        # the configured norms are placeholders of the right order (the local pi0 volume
        # emissivity at 1 TeV, galdiff.emission): a scale beyond a factor 10 means a units error
        assert 0.1 < entry["scale"] < 10.0, (name, entry["scale"])


@pytest.mark.parametrize("model", MODELS)
def test_extras_carry_a_share_of_the_lhaaso_inner_flux_at_10_tev(reduced_results, model):
    # LHAASO-KM2A's masked diffuse flux at 10-60 TeV is ~1.5-3 x what the CR sea (measured local
    # p and He) predicts (Cao et al. 2023), so unresolved sources make a third to two thirds of it:
    # the fitted extras' share at 10 TeV (below EXTRA1's 20 TeV cutoff) must lie in 0.2-0.8
    spectra = QTable.read(reduced_results / "spectra" / model / "lhaaso_inner.ecsv")
    k = np.argmin(np.abs(spectra["energy"].to_value("GeV") - 1e4))
    share = (spectra["extra1"][k] + spectra["extra2"][k]) / spectra["gamma_total"][k]
    assert 0.2 < share < 0.8, share


def lhaaso_ratio(results, model, region):
    data = read_table(results, f"lhaaso_km2a_{region}")
    spectra = QTable.read(results / "spectra" / model / f"lhaaso_{region}.ecsv")
    e_model = spectra["energy"].to_value("GeV")
    e = data["energy"].to_value("GeV")
    model_flux = np.exp(np.interp(np.log(e), np.log(e_model), np.log(spectra["gamma_total"].to_value("GeV-1 cm-2 s-1 sr-1"))))
    flux = data["flux"].to_value("GeV-1 cm-2 s-1 sr-1")
    error = np.maximum(data["flux_lo_err"], data["flux_hi_err"]).to_value("GeV-1 cm-2 s-1 sr-1") / flux
    return e, model_flux / flux, error


@pytest.mark.parametrize("model", MODELS)
def test_inner_galaxy_spectrum_follows_lhaaso(reduced_results, model):
    # the spectra file (fitted extras, masked region mean) against the LHAASO-KM2A inner points,
    # independently of the fit's own bookkeeping: below 100 TeV (errors 13-19 %) within 3 sigma plus
    # the grid headroom; above, Model 1's known deficit is allowed down to half the flux
    e, ratio, error = lhaaso_ratio(reduced_results, model, "inner")
    below = e < 1e5
    assert below.sum() >= 5
    assert np.all(np.abs(ratio[below] - 1.0) < 3.0 * error[below] + GRID_HEADROOM), dict(zip(e, ratio.round(2)))
    assert np.all((ratio[~below] > 0.5 - 2.0 * error[~below]) & (ratio[~below] < 1.0 + 3.0 * error[~below])), \
        dict(zip(e, ratio.round(2)))


# ---- the inner Galaxy at GeV energies (Fermi-LAT) ----------------------------------------------------

FERMI_REGION = SkyRegion("fermi_inner_galaxy", -80.0, 80.0, 8.0)


def fermi_ratio(results, model):
    data = read_table(results, "fermi_lat_ackermann2012_inner_galaxy")
    cube = read_healpix_cube(results / "maps_fitted" / model / "gamma_total.fits")
    spectrum = weighted_region_average(cube.data, region_pixel_weights(cube.nside, FERMI_REGION))
    e = data["energy"].to_value("GeV")
    model_flux = np.exp(np.interp(np.log(e), np.log(cube.energies_GeV), np.log(spectrum)))
    flux = data["flux"].to_value("GeV-1 cm-2 s-1 sr-1")
    error = np.maximum(data["flux_lo_err"], data["flux_hi_err"]).to_value("GeV-1 cm-2 s-1 sr-1") / flux
    return e, model_flux / flux, error


@pytest.mark.parametrize("model", MODELS)
def test_inner_galaxy_spectrum_follows_fermi_lat_above_2_gev(reduced_results, model):
    # Ackermann et al. (2012) Fig. 17 is the TOTAL intensity of |l| < 80, |b| < 8: Galactic diffuse
    # emission plus detected sources (15-25 % here), unresolved sources and the isotropic
    # background (a few %). Our model is the diffuse emission plus unresolved sources (the extras),
    # so it must not exceed the total beyond the data's error (2 sigma) and the grid headroom,
    # and must not fall below 0.75 (diffuse share) x 0.75 (GALPROP-type models' deficit of up to
    # ~25 % in the inner Galaxy above a few GeV, Ackermann 2012) - the grid headroom = 0.45.
    e, ratio, error = fermi_ratio(reduced_results, model)
    keep = (e > 2.0) & (e < 100.0)
    assert keep.sum() >= 8
    assert np.all(ratio[keep] < 1.0 + 2.0 * error[keep] + GRID_HEADROOM), dict(zip(e[keep].round(1), ratio[keep].round(2)))
    assert np.all(ratio[keep] > 0.75 * 0.75 - GRID_HEADROOM), dict(zip(e[keep].round(1), ratio[keep].round(2)))


@pytest.mark.xfail(strict=True, reason=(
    "known: below ~1 GeV the model exceeds Fermi-LAT's total inner-Galaxy intensity (x1.4 at 0.9 GeV, x2.3 at "
    "0.24 GeV): bremsstrahlung alone equals the measured total at 0.24 GeV because the fitted electron LIS below "
    "~2 GeV, which AMS-02 at Earth does not constrain (nu1- = 1.6-1.7 vs the paper's 0.01), is E^2 J = 570 "
    "GeV m^-2 s^-1 sr^-1 at 1 GeV, about ten times Voyager-anchored LIS. strict: XPASS (a failure) once fixed"))
@pytest.mark.parametrize("model", MODELS)
def test_inner_galaxy_spectrum_below_1_gev_does_not_exceed_fermi_lat(reduced_results, model):
    e, ratio, error = fermi_ratio(reduced_results, model)
    keep = e < 1.0
    assert np.all(ratio[keep] < 1.0 + 2.0 * error[keep] + GRID_HEADROOM), dict(zip(e[keep].round(2), ratio[keep].round(2)))


# ---- headline neutrino share ------------------------------------------------------------------------

def test_galactic_share_of_icecube_flux_at_20_tev_within_a_factor_2_of_the_paper(reduced_results):
    # the paper's 9 % (Model 2, all sky). A factor 2 covers IceCube's total-flux normalisation
    # (+-25 % at 20 TeV, Aartsen et al. 2020), the CR-sea pi0 from the knee data's spread and the
    # EXTRA fits; a units error in neutrino yields, oscillations or the flavour sum is larger.
    headline = json.loads((reduced_results / "spectra" / "headline.json").read_text())
    assert headline["paper"]["share_20TeV"] == 0.09
    share = headline["ours"]["share_20TeV"]
    assert 0.09 / 2 < share < 0.09 * 2, share
    # the 1 PeV shares keep their order: a hadronic EXTRA2 makes neutrinos, a leptonic one none
    assert headline["ours"]["share_1PeV_extra2_hadronic"] > headline["ours"]["share_1PeV_extra2_leptonic"] > 0


def test_table2_prints_the_fitted_values(reduced_results, summary):
    assert not table2_mismatches((reduced_results / "table2.md").read_text(), summary)
