"""IceCube bands in regions, template consistency, Galactic neutrino share, parent protons, Table IV."""

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galdiff.comparison.icecube import band_consistency, kra_band_table
from galdiff.comparison.table4 import (
    PAPER_HEADLINE,
    build_table4,
    galactic_neutrino_share,
    headline_numbers,
    neutrino_scenarios,
    parent_proton_check,
    render_table4_latex,
    render_table4_markdown,
)
from galdiff.skymaps.regions import SkyRegion

E2 = u.Unit("GeV cm-2 s-1 sr-1")
FLUX = u.Unit("GeV-1 cm-2 s-1 sr-1")


def template_fits():
    return Table({
        "template": ["pi0", "KRA_gamma_5PeV", "KRA_gamma_50PeV"],
        "best_fit": [21.8, 0.55, 0.37], "one_sigma_lo": [16.9, 0.398, 0.260], "one_sigma_hi": [27.1, 0.726, 0.500],
        "E90_lo": [796.0, 968.0, 1000.0] * u.GeV, "E90_hi": [68869.0, 99713.0, 145376.0] * u.GeV,
    })


def kra_spectrum():
    energy = np.geomspace(1e3, 1e5, 12)
    return Table({"energy": energy * u.GeV, "e2flux_allsky": 1e-7 * (energy / 1e3) ** -0.5 * u.Unit("GeV cm-2 s-1")},
                 meta={"template": "KRA_gamma_5PeV", "dataset": "icecube_gp2023_kra_gamma_5"})


def test_kra_band_is_exact_all_sky_and_a_labelled_proxy_elsewhere():
    spectrum = kra_spectrum()
    all_sky = kra_band_table(spectrum, template_fits(), SkyRegion("all_sky", 0.0, 360.0, 90.0))
    np.testing.assert_allclose(all_sky["e2flux_best"].value, spectrum["e2flux_allsky"].value / (4 * np.pi))
    np.testing.assert_allclose(all_sky["e2flux_lo"].value / all_sky["e2flux_best"].value, 0.398 / 0.55)
    np.testing.assert_allclose(all_sky["e2flux_hi"].value / all_sky["e2flux_best"].value, 0.726 / 0.55)
    assert all_sky.meta["region_specific"]
    window = SkyRegion("window", 25.0, 100.0, 5.0)
    proxy = kra_band_table(spectrum, template_fits(), window, "pi0_template", template_mean_per_sr=0.7)
    np.testing.assert_allclose(proxy["e2flux_best"].value, 0.7 * spectrum["e2flux_allsky"].value)
    assert not proxy.meta["region_specific"] and "PROXY" in proxy.meta["conversion"]
    isotropic = kra_band_table(spectrum, template_fits(), window, "isotropic")
    np.testing.assert_allclose(isotropic["e2flux_best"].value, all_sky["e2flux_best"].value)
    with pytest.raises(ValueError, match="pi0 template"):
        kra_band_table(spectrum, template_fits(), window, "pi0_template")


def test_band_consistency_ratio_and_sigma():
    band = kra_band_table(kra_spectrum(), template_fits(), SkyRegion("all_sky", 0.0, 360.0, 90.0))
    energy = np.geomspace(1e2, 1e7, 51)
    best = 1e-7 / (4 * np.pi) * (energy / 1e3) ** -0.5
    same = band_consistency(energy, best, band)
    assert same["ratio"] == pytest.approx(1.0, rel=1e-3) and same["consistent"]
    double = band_consistency(energy, 2 * best, band, n_sigma=1.0)
    assert double["ratio"] == pytest.approx(2.0, rel=1e-3)
    assert double["z"] == pytest.approx(1.0 / (0.726 / 0.55 - 1.0), rel=1e-3) and not double["consistent"]
    half = band_consistency(energy, 0.5 * best, band, n_sigma=1.5)
    assert half["z"] == pytest.approx(-0.5 / (1 - 0.398 / 0.55), rel=1e-3) and not half["consistent"]
    # only the given energy range counts
    ranged = band_consistency(energy, np.where(energy < 1e4, best, 100 * best), band, energy_range_GeV=(1e3, 5e3))
    assert ranged["ratio"] == pytest.approx(1.0, rel=1e-3)


def spectra_table(energy, diffuse, extra1=None, extra2=None, model="dr_low", region="all_sky"):
    extra1 = np.zeros_like(diffuse) if extra1 is None else extra1
    extra2 = np.zeros_like(diffuse) if extra2 is None else extra2
    total = diffuse + extra1 + extra2
    table = Table({"energy": energy * u.GeV, "neutrino_diffuse": diffuse * FLUX, "extra1_neutrino": extra1 * FLUX,
                   "extra2_neutrino": extra2 * FLUX, "neutrino_total": total * FLUX},
                  meta={"model": model, "region": region})
    for flavour in ("e", "mu", "tau"):
        table[f"neutrino_{flavour}"] = total / 3 * FLUX
    return table


def cascades():
    energy = np.geomspace(1.6e4, 2.6e6, 41)
    best = 1.66e-18 * (energy / 1e5) ** -2.53 * energy**2
    return Table({"energy": energy * u.GeV, "e2flux_best": best * E2, "e2flux_lo": 0.8 * best * E2,
                  "e2flux_hi": 1.2 * best * E2})


def test_galactic_share_against_a_known_fraction():
    energy = np.geomspace(1e3, 1e7, 41)
    icecube = 1.66e-18 * (energy / 1e5) ** -2.53  # per flavour
    # all flavours: diffuse 3 x 5 %, EXTRA2 3 x 4 % of IceCube's per-flavour flux
    table = spectra_table(energy, 3 * 0.05 * icecube, extra2=3 * 0.04 * icecube)
    shares = galactic_neutrino_share(table, cascades(), [2e4, 1e6])
    assert shares["20000"]["hadronic"]["share"] == pytest.approx(0.09, rel=1e-3)
    assert shares["1e+06"]["extra2_leptonic"]["share"] == pytest.approx(0.05, rel=1e-3)
    numbers = headline_numbers(table, cascades(), [2e4, 1e6])
    assert numbers["paper"] == PAPER_HEADLINE
    assert numbers["ours"]["share_1PeV_extra2_hadronic"] == pytest.approx(0.09, rel=1e-3)
    assert numbers["ours"]["share_1PeV_extra2_leptonic"] == pytest.approx(0.05, rel=1e-3)
    # without extra neutrinos in the maps (leptonic extras) there is no hadronic scenario
    assert neutrino_scenarios(spectra_table(energy, icecube))["hadronic"] is None


def test_parent_protons_scale_with_the_norm_and_the_gas():
    energy = np.geomspace(1.0, 1e8, 161)
    lis = 1.8e4 * energy**-2.7 * 1e-4  # ~ proton LIS in GeV^-1 cm^-2 s^-1 sr^-1
    local = Table({"Ek_GeV_per_n": energy * u.GeV, "proton_lis": lis * FLUX})
    components = {"extra1": {"norm_per_GeV_cm3_s_sr": 1e-35, "index": 2.4, "cutoff_GeV": 2e4, "reference_GeV": 1e3,
                             "r_sun_kpc": 8.5}}
    check = parent_proton_check(components, local, fraction_max=0.1)
    first = check["max_ratio"]
    assert first > 0 and 1e4 < check["energy_GeV"] < 1e6  # parent protons of a 20 TeV gamma cutoff: ~100 TeV
    assert check["needs_hadron_less"] == (first > 0.1)
    components["extra1"]["norm_per_GeV_cm3_s_sr"] = 2e-35
    assert parent_proton_check(components, local)["max_ratio"] == pytest.approx(2 * first, rel=1e-6)
    # a denser local gas needs fewer protons for the same emissivity
    dense = parent_proton_check(components, local, galaxy_cfg={"x_co": 4e20})
    assert dense["max_ratio"] < 2 * first
    assert parent_proton_check({}, local)["max_ratio"] == 0.0


def test_table4_from_computed_checks():
    energy = np.geomspace(1e2, 1e7, 51)
    band_all = kra_band_table(kra_spectrum(), template_fits(), SkyRegion("all_sky", 0.0, 360.0, 90.0))
    kra_best = 3 * 1e-7 / (4 * np.pi) * (energy / 1e3) ** -0.5 / energy**2  # all flavours, per GeV
    pi0_band = Table({"energy": band_all["energy"], "e2flux_best": 3 * band_all["e2flux_best"],
                      "e2flux_lo": 3 * band_all["e2flux_best"] * 16.9 / 21.8,
                      "e2flux_hi": 3 * band_all["e2flux_best"] * 27.1 / 21.8})
    bands = {"icecube_pi0": pi0_band, "kra_gamma_5": band_all,
             "kra_gamma_50": kra_band_table(Table(kra_spectrum(), meta={"template": "KRA_gamma_50PeV"}),
                                            template_fits(), SkyRegion("all_sky", 0.0, 360.0, 90.0))}
    # diffuse alone sits on KRA-gamma-5; adding the hadronic extra triples it, onto the pi0 fit
    table = spectra_table(energy, kra_best, extra1=2 * kra_best)
    local = Table({"Ek_GeV_per_n": energy * u.GeV, "proton_lis": 1.8 * energy**-2.7 * FLUX})
    fit = {"chi2": 10.0, "ndof": 13, "p_value": 0.69, "components": {
        "extra1": {"norm_per_GeV_cm3_s_sr": 1e-35, "index": 2.4, "cutoff_GeV": 2e4, "reference_GeV": 1e3}}}
    table4 = build_table4({"dr_low": {"spectra": table, "extra_fit": fit, "local_spectra": local}},
                          {"n_sigma": 1.0, "bands": bands, "template_fits": template_fits(), "window": "all_sky"})
    neutrino = table4["models"]["dr_low"]["neutrino"]
    assert "KRA-gamma-5" in neutrino["leptonic"]["consistent"] and "pi0" not in neutrino["leptonic"]["consistent"]
    assert neutrino["hadronic"]["consistent"] == ["pi0"]
    assert table4["models"]["dr_low"]["gamma"]["ok"]
    assert table4["rows"]["hadronic"]["nu"]["paper"] == "pi0"
    assert table4["rows"]["hadronic"]["nu"]["ours"].startswith("Model 2 (DR-low): pi0")
    markdown = render_table4_markdown(table4)
    assert "| hadronic | nu (IceCube template) | Model 2 (DR-low): pi0" in markdown
    assert r"\begin{tabular}" in render_table4_latex(table4)


def test_table4_prints_the_ratio_errors_of_the_band_draws():
    """With ``ratio_errors`` (results/bands/table4.json) every model/fit ratio carries its +- error, in md and tex."""
    energy = np.geomspace(1e2, 1e7, 51)
    band_all = kra_band_table(kra_spectrum(), template_fits(), SkyRegion("all_sky", 0.0, 360.0, 90.0))
    bands = {"icecube_pi0": band_all, "kra_gamma_5": band_all, "kra_gamma_50": band_all}
    kra_best = 3 * 1e-7 / (4 * np.pi) * (energy / 1e3) ** -0.5 / energy**2
    table = spectra_table(energy, kra_best, extra1=2 * kra_best)
    local = Table({"Ek_GeV_per_n": energy * u.GeV, "proton_lis": 1.8 * energy**-2.7 * FLUX})
    fit = {"chi2": 10.0, "ndof": 13, "p_value": 0.69, "components": {}}
    inputs = {"dr_low": {"spectra": table, "extra_fit": fit, "local_spectra": local}}
    settings = {"n_sigma": 1.0, "bands": bands, "template_fits": template_fits(), "window": "all_sky"}
    plain = build_table4(inputs, settings)
    ratios = {key: r["ratio"] for key, r in plain["models"]["dr_low"]["neutrino"]["leptonic"]["templates"].items()}
    errors = {"dr_low": {"leptonic": {key: {"value": value, "error": 0.01 * (i + 1)}
                                      for i, (key, value) in enumerate(ratios.items())}}}
    table4 = build_table4(inputs, {**settings, "ratio_errors": errors})
    text = table4["rows"]["leptonic"]["nu"]["ours"]
    for i, value in enumerate(ratios.values()):
        assert f"{value:.2f} +- {0.01 * (i + 1):.2f}" in text
    assert "+-" not in plain["rows"]["leptonic"]["nu"]["ours"]
    # a ratio without an error (every extra scale drawn at 0) stays bare; the hadronic row has no errors given
    assert "+-" not in table4["rows"]["hadronic"]["nu"]["ours"]
    assert "68 % interval" in render_table4_markdown(table4) and "68 % interval" not in render_table4_markdown(plain)
    assert r"$\pm$" in render_table4_latex(table4) and "+-" not in render_table4_latex(table4)
