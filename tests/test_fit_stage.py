"""Orchestration of the fit stage (galdiff.fitting): nuclei and lepton fits run separately, their
best-fit injections in a form the propagation stage reproduces, per-fit files merged."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from galdiff import fitting
from galdiff.propagation import run
from galdiff.units import PROTON

GRID = np.geomspace(1e-3, 1e9, 121)  # 0.1 dex
LEPTON_GRID = np.geomspace(0.1, 1e5, 61)
ELECTRON_START = {"nu": [2.33, 0.01, 2.88, 2.45], "breaks_GV": [0.95, 4.19, 55.7], "cutoff_GV": 6270.0, "phi_GV": 1.1}
POSITRON_START = {"nu": [3.04, 2.08], "breaks_GV": [31.2], "cutoff_GV": 3420.0, "phi_GV": 1.1}
PROTON_START = {"nu": [2.06, 2.43, 2.22, 2.52, 2.18], "breaks_GV": [13.9, 500.0, 15000.0, 100000.0],
                "cutoff_GV": 1.2e7, "phi_GV": 0.7}


def leaky_box(grid, delta=0.36, scale=1e6):
    """Diagonal escape ~ max(T, 1)^-delta plus a small downward smear (a stand-in for a Green's matrix)."""
    green = np.diag(scale * np.maximum(grid, 1.0) ** (-delta))
    green[np.arange(grid.size - 1), np.arange(1, grid.size)] = 0.05 * np.diag(green)[1:]
    return green


def synthetic_fit(model, species, ek, phi_GV):
    """Data = the start model at Earth; fit only the normalisation (fast, exact)."""
    values = {p.name: p.start for p in model.params}
    values[fitting.NORM_PARAM] = 1.0
    lis = model.components(values)["lis"]
    names = model.data_components(species)
    flux = sum(fitting.lis_at_earth(ek, model.grid_ek_GeV_per_n, lis[n][0], lis[n][2], lis[n][1]) for n in names)
    data = fitting.FitDataset("synthetic", "X", species, ek, flux, 0.02 * flux, 0.02 * flux, False)
    fixed = [p.name for p in model.params if p.name != fitting.NORM_PARAM]
    return fitting.fit(model, [data], fixed=fixed)


def lepton_model():
    secondary = {"electron": 1e-3 * LEPTON_GRID**-3.5, "positron": 2e-3 * LEPTON_GRID**-3.5}
    return fitting.LeptonModel(LEPTON_GRID, leaky_box(LEPTON_GRID), {"electron": ELECTRON_START,
                                                                      "positron": dict(POSITRON_START, c_eplus=0.3)},
                               secondary_lis=secondary)


def test_fitted_lepton_injection_gives_the_extra_source_prefactor_and_keeps_c_eplus():
    # c_e+ scales the secondary positrons (galdiff.fitting.LeptonModel); the extra source has its own q0
    model = lepton_model()
    result = synthetic_fit(model, "electron+positron", np.geomspace(5.0, 1e3, 20), 1.1)
    injection = fitting.fitted_injection(result, model)
    assert set(injection) == {"electron", "positron"}
    q0 = result.derived["q0"]
    assert injection["electron"]["q0_per_cm3_s_GV"] == pytest.approx(q0)
    assert injection["positron"]["q0_per_cm3_s_GV"] == pytest.approx(result.derived["q0_eplus"])
    assert injection["positron"]["nu"] == POSITRON_START["nu"] and injection["positron"]["c_eplus"] == pytest.approx(0.3)
    expected = model.injection(result.params)
    for lepton in ("electron", "positron"):
        q = run.injection_on_grid(LEPTON_GRID, lepton, injection[lepton])
        np.testing.assert_allclose(q, expected[f"{lepton}_primary"], rtol=1e-12)


def test_fitted_lepton_propagation_scales_the_secondary_positrons_by_c_eplus(monkeypatch):
    from galdiff.propagation.grid import Grid

    grid = Grid(r_kpc=np.array([0.0, 1.0]), z_kpc=np.array([-1.0, 0.0, 1.0]), ek_GeV_per_n=LEPTON_GRID)
    ones = np.ones(grid.shape)

    def stub(model_cfg, propagation_cfg, lepton, entry, env=None, progress=False):
        return run.SpeciesResult(lepton, grid, 2.0 * ones, 2.0 * np.ones(LEPTON_GRID.size), 1.0)

    monkeypatch.setattr(run, "propagate_injection", stub)
    secondaries = {f"{lepton}_secondary": run.SpeciesResult(f"{lepton}_secondary", grid, ones, np.ones(LEPTON_GRID.size))
                   for lepton in ("electron", "positron")}
    injection = {"electron": {}, "positron": {"c_eplus": 2.5}}
    out = run.propagate_fitted_leptons({}, {}, injection, secondaries, env=object())
    np.testing.assert_allclose(out["positron_secondary"].intensity_sun, 2.5)
    np.testing.assert_allclose(out["positron"].intensity_sun, 2.0 + 2.5)
    np.testing.assert_allclose(out["electron"].intensity_sun, 2.0 + 1.0)
    np.testing.assert_allclose(secondaries["positron_secondary"].intensity_sun, 1.0)  # input untouched


def test_fit_files_merge_into_the_model_file(tmp_path):
    nucleus = fitting.NucleusModel(PROTON, GRID, leaky_box(GRID), PROTON_START)
    proton = synthetic_fit(nucleus, "proton", np.geomspace(2.0, 1e4, 30), 0.7)
    leptons = lepton_model()
    lepton = synthetic_fit(leptons, "electron+positron", np.geomspace(5.0, 1e3, 20), 1.1)
    greens_file = tmp_path / "greens_proton.h5"
    greens_file.write_bytes(b"stand-in")
    parts = [fitting.fit_file_content("dr_high", {"proton": (proton, nucleus)}, {"a": 1}, inputs={"greens": greens_file}),
             fitting.fit_file_content("dr_high", {"leptons": (lepton, leptons)})]
    # what the workflow writes: plain YAML
    parts = [yaml.safe_load(yaml.safe_dump(part, sort_keys=False)) for part in parts]
    assert parts[0]["summary"]["proton"]["ndof"] == proton.ndof and "config_hash" in parts[0]
    assert set(parts[0]["inputs_sha256"]) == {"greens"} and "inputs_sha256" not in parts[1]
    paths = {}
    for i, part in enumerate(parts):
        paths[f"part{i}"] = tmp_path / f"part{i}.yaml"
        paths[f"part{i}"].write_text(yaml.safe_dump(part))
    merged = fitting.merge_fit_files(parts, inputs=paths)
    assert merged["model"] == "dr_high" and set(merged["fits"]) == {"proton", "leptons"}
    assert set(merged["summary"]) == {"proton", "electron", "positron"}
    assert set(merged["injection"]) == {"proton", "electron", "positron"}
    assert {"params", "errors", "chi2", "ndof"} <= set(merged["summary"]["positron"])
    assert set(merged["inputs_sha256"]) == {"part0", "part1"}
    with pytest.raises(ValueError, match="more than one"):
        fitting.merge_fit_files([parts[0], parts[0]])
    with pytest.raises(ValueError, match="different models"):
        fitting.merge_fit_files([parts[0], dict(parts[1], model="dr_low")])


def test_nucleus_fit_on_real_tables_uses_the_species_selection(mirror_dir):
    from galdiff.data.datasets import build_dataset

    selection = fitting.fit_data_selection(None, "icetop")["proton"]
    tables = {name: build_dataset(name, mirror_dir) for name in selection}
    model_cfg = {"knee_dataset": "icetop", "injection": {"proton": PROTON_START}}
    result, model = fitting.fit_nucleus_injection("proton", model_cfg, (GRID, leaky_box(GRID)), tables)
    assert isinstance(model, fitting.NucleusModel) and result.fit_name == "proton"
    assert set(result.data_used) == set(selection)
    assert np.isfinite(result.chi2) and result.ndof > 0
    with pytest.raises(ValueError, match="proton"):
        fitting.fit_nucleus_injection("electron", model_cfg, (GRID, leaky_box(GRID)), tables)
    # parameters listed under the injection's `fixed` stay at the configured values
    held = {"knee_dataset": "icetop", "injection": {"proton": {**PROTON_START, "fixed": ["R3_GV", "R4_GV"]}}}
    result, _ = fitting.fit_nucleus_injection("proton", held, (GRID, leaky_box(GRID)), tables)
    assert result.fixed == ["R3_GV", "R4_GV"]
    assert result.params["R3_GV"] == pytest.approx(PROTON_START["breaks_GV"][2], rel=1e-12)  # log10 round trip
    assert result.params["R4_GV"] == pytest.approx(PROTON_START["breaks_GV"][3], rel=1e-12)
    assert result.ndof == fitting.fit_nucleus_injection("proton", model_cfg, (GRID, leaky_box(GRID)), tables)[0].ndof + 2


def test_configured_fixed_names_follow_the_fit_parameters():
    assert fitting.configured_fixed({"nu": [2.0], "fixed": ["R3_GV", "nu4"]}) == ["R3_GV", "nu4"]
    assert fitting.configured_fixed({"nu": [2.0]}) == []
    assert fitting.configured_fixed({"fixed": ["nu1", "R1_GV", "Rc_GV", "Phi_GV", "c_eplus"]}, positron=True) == [
        "nu1_eplus", "R1_eplus_GV", "Rc_eplus_GV", "Phi_eplus_GV", "c_eplus"]


def _data_from_shape(model, species, ek, amplitude, rel_err, wiggle):
    """Points = ``amplitude`` x the unit-norm start model at Earth x a wiggle, symmetric errors."""
    values = {p.name: p.start for p in model.params}
    values[fitting.NORM_PARAM] = 1.0
    lis = model.components(values)["lis"]
    shape = sum(fitting.lis_at_earth(ek, model.grid_ek_GeV_per_n, lis[n][0], lis[n][2], lis[n][1])
                for n in model.data_components(species))
    flux = amplitude * shape * wiggle
    return shape, fitting.FitDataset("synthetic_proton", "X", species, ek, flux, rel_err * flux, rel_err * flux, False)


def test_as_printed_fit_holds_table2_and_fits_the_closed_form_amplitude(monkeypatch):
    """injection.mode as_printed: Table II stays as printed and only the normalisation is fitted.

    With symmetric errors chi2(a) = sum((d - a m)^2 / s^2) is quadratic in the one free amplitude:
    its minimum is a = sum(d m / s^2) / sum(m^2 / s^2), and chi2 and ndof follow.
    """
    ek = np.geomspace(2.0, 1e4, 30)
    nucleus = fitting.NucleusModel(PROTON, GRID, leaky_box(GRID), PROTON_START)
    wiggle = 1.0 + 0.05 * np.sin(np.arange(ek.size))
    shape, data = _data_from_shape(nucleus, "proton", ek, 3.0, 0.02, wiggle)
    monkeypatch.setattr(fitting.stage, "prepare_datasets", lambda tables, selection: [data])
    model_cfg = {"knee_dataset": "icetop", "injection": {"mode": "as_printed", "proton": {**PROTON_START, "fixed": ["R4_GV"]}}}
    result, _ = fitting.fit_nucleus_injection("proton", model_cfg, (GRID, leaky_box(GRID)), {})
    assert result.derived["injection_mode"] == "as_printed"
    assert result.summary_dict()["proton"]["injection_mode"] == "as_printed"
    assert set(result.fixed) == {p.name for p in nucleus.params} - {fitting.NORM_PARAM}
    for i, nu in enumerate(PROTON_START["nu"]):
        assert result.params[f"nu{i}"] == nu
    for i, rigidity in enumerate(PROTON_START["breaks_GV"]):
        assert result.params[f"R{i + 1}_GV"] == pytest.approx(rigidity, rel=1e-12)
    assert result.params["Rc_GV"] == pytest.approx(PROTON_START["cutoff_GV"], rel=1e-12)
    assert result.params["Phi_GV"] == PROTON_START["phi_GV"]
    sigma = data.err_hi
    amplitude = np.sum(data.flux * shape / sigma**2) / np.sum(shape**2 / sigma**2)
    # MIGRAD stops within its EDM tolerance: a few per cent of the amplitude's error, ~1e-4 in chi2
    error = 1.0 / np.sqrt(np.sum(shape**2 / sigma**2))
    assert result.errors[fitting.NORM_PARAM] == pytest.approx(error, rel=1e-2)
    assert abs(result.params[fitting.NORM_PARAM] - amplitude) < 0.05 * error
    assert result.chi2 == pytest.approx(np.sum((data.flux - amplitude * shape) ** 2 / sigma**2), abs=1e-3)
    assert result.ndof == ek.size - 1
    # the refit of the same data frees the spectrum: never a worse chi2
    refit, _ = fitting.fit_nucleus_injection("proton", dict(model_cfg, injection={"proton": PROTON_START}),
                                             (GRID, leaky_box(GRID)), {})
    assert refit.derived["injection_mode"] == "fit" and refit.chi2 <= result.chi2 + 1e-9


def test_as_printed_lepton_fit_frees_only_the_two_amplitudes(monkeypatch):
    model = lepton_model()
    ek = np.geomspace(5.0, 1e3, 20)
    _, data = _data_from_shape(model, "electron+positron", ek, 2.0, 0.03, 1.0)
    monkeypatch.setattr(fitting.stage, "prepare_datasets", lambda tables, selection: [data])
    secondary = dict(model.secondary_lis)
    model_cfg = {"injection": {"mode": "as_printed", "electron": ELECTRON_START, "positron": POSITRON_START}}
    result, _ = fitting.fit_lepton_injection(model_cfg, (LEPTON_GRID, leaky_box(LEPTON_GRID)), secondary, {})
    free = {p.name for p in model.params} - set(result.fixed)
    assert free == {fitting.NORM_PARAM, fitting.EXTRA_NORM_PARAM}
    assert result.params["c_eplus"] == pytest.approx(1.0, rel=1e-12)  # Table III's c_e+
    assert result.params["R3_GV"] == pytest.approx(ELECTRON_START["breaks_GV"][2], rel=1e-12)
    assert result.ndof == ek.size - 2


def test_injection_mode_and_species():
    assert fitting.injection_mode({"injection": {"proton": PROTON_START}}) == "fit"
    cfg = {"injection": {"mode": "as_printed", "proton": PROTON_START}}
    assert fitting.injection_mode(cfg) == "as_printed"
    assert fitting.injection_species(cfg) == {"proton": PROTON_START}
    with pytest.raises(ValueError, match="as_printed"):
        fitting.injection_mode({"injection": {"mode": "printed"}})


def test_profile_is_lowest_at_the_index_the_data_were_made_with(monkeypatch):
    ek = np.geomspace(2.0, 1e7, 40)
    nucleus = fitting.NucleusModel(PROTON, GRID, leaky_box(GRID), PROTON_START)
    _, data = _data_from_shape(nucleus, "proton", ek, 3.0, 0.03, 1.0)
    monkeypatch.setattr(fitting.stage, "prepare_datasets", lambda tables, selection: [data])
    model_cfg = {"knee_dataset": "icetop", "injection": {"proton": {**PROTON_START, "fixed": ["R3_GV", "R4_GV"]}}}
    profile = fitting.profile_nucleus_fit("proton", model_cfg, (GRID, leaky_box(GRID)), {}, "nu4", [1.98, 2.18, 2.38])
    chi2 = [point["chi2"] for point in profile]
    assert chi2[1] < 1e-3 and min(chi2[0], chi2[2]) > 1.0  # the data were made with nu4 = 2.18
    assert profile[1]["chi2_by_dataset"] == {"synthetic_proton": pytest.approx(chi2[1])}
    assert "nu4" not in profile[0]["params"] and profile[0]["ndof"] == ek.size - 9  # 12 parameters, R3, R4 and nu4 held
    with pytest.raises(KeyError, match="nu9"):
        fitting.profile_nucleus_fit("proton", model_cfg, (GRID, leaky_box(GRID)), {}, "nu9", [2.0])
