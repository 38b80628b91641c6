"""Systematic variants (galdiff.uncertainty.systematics, docs/systematics.md).

Truths: the Kafexhiu et al. 2014 and AAfrag cross sections called directly from aafragpy (not through
galdiff's blend), linearity of the target gas in X_CO, the p-He / p-p yield ratio of a nucleus of
mass number 4 (between A^(2/3) = 2.5 and A = 4 per collision, the geometric and the superposition limits),
and the min/max definition of an envelope.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galdiff.emission import EmissionGrid, gas_on_grid_cm3
from galdiff.interactions.hadronic import HadronicMatrix, hadronic_cross_section_mb_per_GeV
from galdiff.uncertainty.systematics import (
    changed_components,
    check_variants,
    envelope_of_numbers,
    envelope_table,
    variant_emissivity,
    variant_extra_config,
    variant_galaxy_for_targets,
)
from galdiff.units import M_P_GEV

pytest.importorskip("aafragpy")

# proton kinetic energies well inside both descriptions: above the AAfrag switch band (E_n > 10 GeV) and
# below the K14 variant's hand-over to AAfrag (E_n < 3e5 GeV)
EK_GEV = np.geomspace(20.0, 2.0e5, 61)
GAMMA_GEV = np.array([3.0, 30.0, 300.0, 3000.0])


def _log_trapezoid(x, y):
    return np.trapezoid(y * x, np.log(x), axis=0)


def test_k14_variant_changes_pi0_by_the_cross_section_ratio():
    """q_K14 / q_AAfrag of a proton power law on H equals the ratio of the directly integrated aafragpy
    cross sections at each gamma energy (and it is a real change: several per cent somewhere)."""
    from aafragpy import get_cross_section, get_cross_section_Kafexhiu2014

    flux = EK_GEV**-2.7
    base = HadronicMatrix(EK_GEV, GAMMA_GEV, "gam", he_to_h=0.0).emissivity_per_H(flux)
    k14 = HadronicMatrix(EK_GEV, GAMMA_GEV, "gam", he_to_h=0.0, cross_sections="kafexhiu2014").emissivity_per_H(flux)
    e_total = EK_GEV + M_P_GEV
    sigma_aa = np.asarray(get_cross_section("gam", "p-p", e_total, GAMMA_GEV, outside_bounds="zeros")[0], float)
    with np.errstate(all="ignore"):
        sigma_k14 = np.nan_to_num(np.asarray(get_cross_section_Kafexhiu2014(e_total, GAMMA_GEV)[0], float))
    expected = _log_trapezoid(EK_GEV[:, None], flux[:, None] * np.clip(sigma_k14, 0, None)) / _log_trapezoid(
        EK_GEV[:, None], flux[:, None] * sigma_aa)
    # the grid's edge rows (20 GeV and 2e5 GeV) have half weights in both: same quadrature
    np.testing.assert_allclose(k14 / base, expected, rtol=1e-6)
    assert np.max(np.abs(k14 / base - 1.0)) > 0.03
    # the two parametrisations differ by tens of per cent, not by factors (docs/emission.md#aafrag-and-kafexhiu)
    assert np.all((k14 / base > 0.67) & (k14 / base < 1.5))


def test_k14_variant_keeps_aafrag_above_its_range_and_refuses_neutrinos():
    ek = np.array([2.0e6, 1.0e7])
    np.testing.assert_array_equal(
        hadronic_cross_section_mb_per_GeV("gam", "p-p", ek, GAMMA_GEV, cross_sections="kafexhiu2014"),
        hadronic_cross_section_mb_per_GeV("gam", "p-p", ek, GAMMA_GEV))
    with pytest.raises(ValueError, match="gamma rays only"):
        hadronic_cross_section_mb_per_GeV(("nu_mu", "anu_mu"), "p-p", ek, GAMMA_GEV, cross_sections="kafexhiu2014")
    with pytest.raises(ValueError, match="unknown cross_sections"):
        hadronic_cross_section_mb_per_GeV("gam", "p-p", ek, GAMMA_GEV, cross_sections="sibyll")


def test_h2_part_of_pi0_emissivity_scales_linearly_with_x_co():
    """n_H q with n_H = n_HI + 2 n_H2 + n_HII: the H2 part is proportional to X_CO, the rest does not move."""
    r, z = np.array([2.0, 5.0, 8.3, 12.0]), np.array([-0.1, 0.0, 0.1])
    q = HadronicMatrix(EK_GEV, GAMMA_GEV, "gam").emissivity_per_H(EK_GEV**-2.7)
    volume = {}
    for x_co in (1.0e20, 2.0e20, 3.0e20):
        gas = gas_on_grid_cm3(r, z, x_co=x_co)
        volume[x_co] = {part: np.multiply.outer(n, q) for part, n in
                        (("H2", 2 * gas["H2"]), ("atomic", gas["HI"] + gas["HII"]))}
    np.testing.assert_allclose(volume[3.0e20]["H2"], 3 * volume[1.0e20]["H2"], rtol=1e-12)
    np.testing.assert_allclose(volume[2.0e20]["H2"], 2 * volume[1.0e20]["H2"], rtol=1e-12)
    np.testing.assert_array_equal(volume[3.0e20]["atomic"], volume[1.0e20]["atomic"])
    assert np.max(volume[1.0e20]["H2"]) > 0


def test_x_co_variant_line_of_sight_gas_is_affine_in_x_co():
    """The gas-weighted line-of-sight operator (what turns per-H emissivities into maps): W(X) = W_atomic + X w_H2."""
    from galdiff.skymaps.model_maps import build_operator, map_geometry

    r = np.arange(0.0, 20.01, 2.0)
    z = np.arange(-2.0, 2.01, 0.5)
    geometry = map_geometry({"step_max_kpc": 0.5, "step_z_max_kpc": 0.1, "absorption": False},
                            {"zh_kpc": 2.0, "r_max_kpc": 20.0}, 8.3)

    def weights(x_co):
        op = build_operator(2, r, z, geometry, {"x_co": x_co}, with_gas=True)
        return op.matrix.toarray()

    w1, w2, w3 = (weights(x) for x in (1.0e20, 2.0e20, 3.0e20))
    np.testing.assert_allclose(w3 - w2, w2 - w1, rtol=1e-9, atol=1e-12 * np.max(w1))
    assert np.max(w2 - w1) > 0


def _fake_propagated(ek_nuc, ek_lep, r, z):
    """Propagated densities: power laws, with a radial gradient (the shape of the result is irrelevant here)."""
    def species(ek, index):
        grid = SimpleNamespace(r_kpc=r, z_kpc=z, ek_GeV_per_n=ek)
        shape = np.exp(-((r[:, None] - 4.0) / 6.0) ** 2 - (z[None, :] / 1.0) ** 2)
        return SimpleNamespace(grid=grid, density=1e-10 * ek[:, None, None] ** -index * shape[None])
    return {"proton": species(ek_nuc, 2.8), "helium": species(ek_nuc, 2.7),
            "electron": species(ek_lep, 3.1), "positron": species(ek_lep, 3.3)}


@pytest.fixture(scope="module")
def small_chain():
    r, z = np.array([0.0, 4.0, 8.0, 12.0]), np.array([-0.5, 0.0, 0.5])
    ek_nuc, ek_lep = np.geomspace(1.0, 1.0e7, 22), np.geomspace(0.5, 1.0e5, 17)
    propagated = _fake_propagated(ek_nuc, ek_lep, r, z)
    from galdiff.emission import species_intensity_from_density
    from galdiff.units import get_species

    intensities = {s: (p.grid.ek_GeV_per_n, species_intensity_from_density(p.density, p.grid.ek_GeV_per_n, get_species(s)))
                   for s, p in propagated.items()}
    gamma = np.geomspace(1.0, 1.0e6, 7)
    grid = EmissionGrid(r, z, ek_nuc, ek_lep, gamma_energy_GeV=gamma, isrf=None)
    baseline = grid.compute(intensities, include=("pi0", "neutrinos", "bremsstrahlung", "inverse_compton"))
    return propagated, baseline, intensities


def test_variant_emissivity_recomputes_only_what_it_changes(small_chain):
    propagated, baseline, _ = small_chain
    result = variant_emissivity(baseline, propagated, None, {}, {"he_to_h": 0.11, "x_co": 1.9e20}, {},
                                {"hadronic_cross_sections": "kafexhiu2014"})
    assert result.attrs["recomputed_components"] == ["pi0"]
    for name in ("neutrino_all", "bremsstrahlung", "inverse_compton"):
        np.testing.assert_array_equal(result.components[name], baseline.components[name])
    assert not np.allclose(result.components["pi0"], baseline.components["pi0"], rtol=1e-2, atol=0.0)


def test_he_to_h_variant_moves_the_nuclear_enhancement_as_expected(small_chain):
    """eps(f) = q(f) / q_pp is linear in f: eps(f2) - eps(f1) = (f2 - f1) (q_pHe + q_HeHe) / q_pp, and per target
    He nucleus a proton yields 2.5-4 times what it yields on a proton (A^(2/3) to A for A = 4)."""
    propagated, baseline, intensities = small_chain
    low = variant_emissivity(baseline, propagated, None, {}, {"he_to_h": 0.11, "x_co": 1.9e20}, {}, {"he_to_h": 0.085})
    assert {"pi0", "neutrino_all", "bremsstrahlung"} <= set(low.attrs["recomputed_components"])
    np.testing.assert_array_equal(low.components["inverse_compton"], baseline.components["inverse_compton"])
    ek = propagated["proton"].grid.ek_GeV_per_n
    gamma = baseline.energies["gamma_energy_GeV"]
    cell = (1, 1)
    j_p, j_he = intensities["proton"][1][:, cell[0], cell[1]], intensities["helium"][1][:, cell[0], cell[1]]
    m0 = HadronicMatrix(ek, gamma, "gam", he_to_h=0.0)
    m1 = HadronicMatrix(ek, gamma, "gam", he_to_h=1.0)
    q_pp_like = m0.emissivity_per_H(j_p, j_he)          # on H targets only (p-p and He-p)
    q_on_he = m1.emissivity_per_H(j_p, j_he) - q_pp_like  # per He target per H atom ratio of 1
    eps = {f: (q_pp_like + f * q_on_he) / q_pp_like for f in (0.11, 0.085)}
    ratio = low.components["pi0"][cell] / baseline.components["pi0"][cell]
    np.testing.assert_allclose(ratio, eps[0.085] / eps[0.11], rtol=1e-10)
    # energy-weighted yield on He vs on H between the geometric and the superposition limit
    per_nucleus = m1.emissivity_per_H(j_p) - m0.emissivity_per_H(j_p)
    yield_ratio = per_nucleus / m0.emissivity_per_H(j_p)
    assert np.all((yield_ratio[1:5] > 4 ** (2 / 3)) & (yield_ratio[1:5] < 4.0))
    assert np.all(ratio < 1) and np.all(ratio > 1 - 0.025 * 4.5)


def test_variant_helpers_and_checks():
    galaxy = {"x_co": 1.9e20, "he_to_h": 0.11, "r_sun_kpc": 8.3}
    assert variant_galaxy_for_targets(galaxy, {"x_co": 2.6e20}) == {**galaxy, "x_co": 2.6e20}
    assert variant_extra_config({"extra1": {"index": 2.4}}, {"extra_distribution": "snr_paper"}) == {
        "extra1": {"index": 2.4, "distribution": "snr_paper"}}
    assert changed_components({"x_co": 1e20}) == {"bremsstrahlung"}
    assert changed_components({"extra_distribution": "snr_paper"}) == {"extras"}
    cfg = {"variants": {"a": {"x_co": 1e20}, "b": {"he_to_h": 0.1}}, "run": ["b"]}
    assert check_variants(cfg) == {"b": {"he_to_h": 0.1}}
    with pytest.raises(ValueError, match="systematics.run"):
        check_variants({**cfg, "run": ["c"]})
    with pytest.raises(ValueError, match="extra_distribution"):
        check_variants({"variants": {"a": {"extra_distribution": "nowhere"}}})
    with pytest.raises(ValueError, match="changes nothing"):
        check_variants({"variants": {"a": {"description": "nothing"}}})


def test_envelope_is_min_and_max_over_baseline_and_variants():
    energy = [1.0, 10.0, 100.0] * u.GeV
    unit = u.Unit("GeV-1 cm-2 s-1 sr-1")
    base = Table({"energy": energy, "pi0": [1.0, 2.0, 4.0] * unit}, meta={"model": "m", "region": "r"})
    up = Table({"energy": energy, "pi0": [1.5, 1.0, 4.0] * unit})
    down = Table({"energy": energy, "pi0": [0.5, 2.5, 4.0] * unit})
    env = envelope_table(base, {"up": up, "down": down})
    np.testing.assert_allclose(env["pi0_syst_lo"], [0.5, 1.0, 4.0])
    np.testing.assert_allclose(env["pi0_syst_hi"], [1.5, 2.5, 4.0])
    np.testing.assert_allclose(env["pi0_ratio_up"], [1.5, 0.5, 1.0])
    assert env["pi0_syst_lo"].unit == unit and env.meta["variants"] == ["up", "down"]
    numbers = envelope_of_numbers(0.1, {"up": 0.12, "down": 0.09, "none": None})
    assert numbers["syst_plus"] == pytest.approx(0.02) and numbers["syst_minus"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="other energies"):
        envelope_table(base, {"bad": Table({"energy": energy * 2, "pi0": [1, 2, 3] * unit})})


@pytest.mark.system
def test_workflow_envelopes_obey_the_physics_of_each_variant(reduced_results):
    """On the reduced run (or GALDIFF_REDUCED_RESULTS): every envelope contains its baseline; IC never moves;
    more X_CO raises pi0 by at most the X_CO ratio (the H2 share of the gas is < 1); K14 moves pi0 within
    the factor-1.5 band of the two parametrisations."""
    from galdiff.data.datasets import read_dataset

    paths = sorted((reduced_results / "systematics").glob("*/envelope_*.ecsv"))
    assert paths, "no envelope tables in the run"
    x_co_default = 1.9e20
    for path in paths:
        table = read_dataset(path)
        for column in ("pi0", "gamma_total", "neutrino_total"):
            base = np.asarray(table[column])
            assert np.all(np.asarray(table[f"{column}_syst_lo"]) <= base * (1 + 1e-12))
            assert np.all(np.asarray(table[f"{column}_syst_hi"]) >= base * (1 - 1e-12))
        settings = table.meta["variant_settings"]
        for name, variant in settings.items():
            ic = np.asarray(table[f"inverse_compton_ratio_{name}"])
            np.testing.assert_allclose(ic[np.isfinite(ic)], 1.0, rtol=1e-9)
            ratio = np.asarray(table[f"pi0_ratio_{name}"])
            ratio = ratio[np.isfinite(ratio)]
            if "x_co" in variant:
                factor = variant["x_co"] / x_co_default
                low, high = sorted((1.0, factor))
                assert np.all((ratio >= low - 1e-9) & (ratio <= high + 1e-9)), (path, name)
                assert np.all(np.abs(ratio - 1) > 1e-4), (path, name)  # every line of sight crosses some H2
            if "hadronic_cross_sections" in variant:
                assert np.all((ratio > 0.67) & (ratio < 1.5)), (path, name)
                nu = np.asarray(table[f"neutrino_diffuse_ratio_{name}"])
                np.testing.assert_allclose(nu[np.isfinite(nu)], 1.0, rtol=1e-9)


def test_readme_block_renders_values_errors_and_missing_variants():
    from galdiff.uncertainty.systematics import readme_block, summary_entry

    assert "No systematic variants" in readme_block({})
    numbers = {
        "variants": {"a": {"x_co": 1e20}, "b": {"he_to_h": 0.1}}, "definition": "d", "headline_model": "m",
        "headline_region": "all_sky", "table4_window": "all_sky",
        "headline": {"m": {"share_20TeV": envelope_of_numbers(0.1, {"a": 0.12, "b": None})}},
        "table4": {"m": {"hadronic": {"icecube_pi0": envelope_of_numbers(0.9, {"a": 0.8, "b": 1.0})}, "leptonic": None}},
    }
    bands = {"shares": {"share_20TeV": {"error": 0.005}}}
    entry = summary_entry(numbers, bands, {"models": {"m": {"hadronic": {"icecube_pi0": {"error": 0.05}}}}})
    assert entry["headline"]["share_20TeV"]["stat_error"] == 0.005
    assert entry["headline"]["share_20TeV"]["undefined_in"] == ["b"]
    assert entry["table4"]["m"]["hadronic"]["icecube_pi0"]["syst_minus"] == pytest.approx(0.1)
    block = readme_block({"systematics": entry})
    assert "| 20 TeV | 10 % +- 0.5 % | -0 / +2 % | 12 % | n/a |" in block
    assert "| m, hadronic | 0.90 +- 0.05 (-0.1 / +0.1) |" in block


def test_extra_snr_variant_puts_the_extras_on_the_papers_eq2():
    """With ``extra_distribution: snr_paper`` the EXTRA emissivity at z = 0 follows Eq. 2 of the paper,
    (r/r_sun)^1.25 exp(-3.56 (r - r_sun)/r_sun) with r_sun = 8.3 kpc, up to the template's normalisation;
    the spectra (and every other component) stay."""
    from galdiff.emission import extra_components_from_config

    r, z = np.array([1.0, 3.0, 6.0, 8.3, 12.0]), np.array([-0.3, 0.0, 0.3])
    ek_nuc, ek_lep = np.geomspace(1.0, 1.0e7, 22), np.geomspace(0.5, 1.0e5, 17)
    propagated = _fake_propagated(ek_nuc, ek_lep, r, z)
    gamma = np.geomspace(1.0, 1.0e6, 7)
    extra_cfg = {"extra1": {"index": 2.4, "cutoff_GeV": 2.0e4, "norm_per_GeV_cm3_s_sr": 1e-35, "origin": "leptonic"}}
    grid = EmissionGrid(r, z, ek_nuc, ek_lep, gamma_energy_GeV=gamma, isrf=None)
    baseline = grid.compute({}, extras=extra_components_from_config(extra_cfg), include=())
    result = variant_emissivity(baseline, propagated, None, {}, {"he_to_h": 0.11, "x_co": 1.9e20}, extra_cfg,
                                {"extra_distribution": "snr_paper"})
    extra = result.components["extra1"][:, 1, :]  # z = 0
    eq2 = (r / 8.3) ** 1.25 * np.exp(-3.56 * (r - 8.3) / 8.3)
    shape = extra / extra[3]  # relative to r = 8.3 kpc
    np.testing.assert_allclose(shape, np.broadcast_to((eq2 / eq2[3])[:, None], shape.shape), rtol=1e-10)
    np.testing.assert_allclose(extra / extra[:, :1], baseline.components["extra1"][:, 1, :] /
                               baseline.components["extra1"][:, 1, :1], rtol=1e-12)  # same spectrum
    assert result.attrs["extras"][0]["distribution"] == "snr_paper"
    assert not np.allclose(result.components["extra1"], baseline.components["extra1"], rtol=1e-3, atol=0.0)


def test_region_weights_reproduce_the_region_averages_of_the_maps(tmp_path):
    """V_r . q equals the region average of the map of q: exactly without absorption and, with pair
    absorption, for emission in one cell (where both take the attenuation at the same distance), and to
    second order in the optical depth across a shell for extended emission."""
    from galdiff.skymaps.model_maps import build_operators, map_geometry
    from galdiff.skymaps.operator import save_operator
    from galdiff.skymaps.region_spectra import average_cubes, region_weights
    from galdiff.skymaps.regions import SkyRegion
    from galdiff.uncertainty.systematics import region_los_weights_of_operators

    r, z = np.arange(0.0, 20.01, 2.0), np.arange(-2.0, 2.01, 0.5)
    geometry = map_geometry({"step_max_kpc": 0.5, "step_z_max_kpc": 0.1, "absorption": True},
                            {"zh_kpc": 2.0, "r_max_kpc": 20.0}, 8.3)
    gas, path = build_operators(2, r, z, geometry, {"x_co": 2.0e20})
    files = [save_operator(tmp_path / name, op) for name, op in (("gas.npz", gas), ("path.npz", path))]
    regions = [SkyRegion.from_config("inner", {"l_min_deg": -60.0, "l_max_deg": 60.0, "b_max_deg": 10.0}),
               SkyRegion.from_config("sky", {"l_min_deg": 0.0, "l_max_deg": 360.0, "b_max_deg": 90.0})]
    # kappa [kpc^-1]: none, the CMB's peak (uniform), a peak in the inner Galaxy
    inner = np.exp(-(r[:, None] / 6.0) ** 2 - (z[None, :] / 1.0) ** 2)
    kappa = np.stack([np.zeros_like(inner), np.full_like(inner, 1.0 / 7.07), 0.1 + 0.2 * inner], axis=-1)
    weights = region_los_weights_of_operators(*files, regions, 2, fine_nside=16, kappa_per_kpc=kappa)
    pixel = {region.name: w for region, (w, _) in zip(regions, region_weights(regions, 2, fine_nside=16).values())}

    def through_maps(operator, q, absorbed):
        cube = operator.intensity(q, kappa_per_kpc=kappa if absorbed else None, path_operator=path)
        return average_cubes({"c": (np.arange(3.0), cube)}, pixel)[1]

    single = np.zeros((r.size, z.size, 3))
    single[3, 4] = 1.0  # r = 6 kpc, z = 0: a ring seen through many shells
    smooth = np.repeat(np.exp(-((r[:, None] - 4.0) / 5.0) ** 2 - (z[None, :] / 0.6) ** 2)[..., None], 3, axis=-1)
    for kind, operator in (("gas", gas), ("path", path)):
        for q, rtol in ((single, 1e-10), (smooth, 2e-3)):
            maps_absorbed, maps_plain = through_maps(operator, q, True), through_maps(operator, q, False)
            for name, entry in weights["regions"].items():
                plain = np.tensordot(entry[kind], q, axes=([0, 1], [0, 1]))
                np.testing.assert_allclose(plain, maps_plain[name]["c"], rtol=1e-12)
                absorbed = np.einsum("erz,rze->e", entry[f"{kind}_absorbed"], q)
                np.testing.assert_allclose(absorbed, maps_absorbed[name]["c"], rtol=rtol)
                assert absorbed[0] == pytest.approx(plain[0], rel=1e-12)  # kappa = 0: not absorbed
                assert absorbed[2] < 0.95 * plain[2]  # the check is not empty: absorption of > 5 %
