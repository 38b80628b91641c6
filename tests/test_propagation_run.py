"""Transport set-ups and their cache keys; Green's matrices and the propagation of a fitted injection.

The workflow computes one Green's matrix per transport set-up (galdiff.propagation.setups) and
propagates the fit's injection (galdiff.propagation.run.propagate_injection); the density it
writes must be the one the fit saw, J_sun = G @ Q.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from galdiff import fitting
from galdiff.propagation import run
from galdiff.propagation.setups import setup_key, transport_setup
from galdiff.units import PROTON

TABLE_I = {"D0_1e28_cm2_per_s": 7.69, "delta": 0.362, "zh_kpc": 6.3, "vA_km_per_s": 33.76, "eta": -0.05,
           "r_max_kpc": 20.0}
PROTON_TABLE2 = {"nu": [2.06, 2.43, 2.22, 2.52, 2.18], "breaks_GV": [13.9, 500.0, 15000.0, 100000.0],
                 "cutoff_GV": 1.2e7, "phi_GV": 0.7}
PROPAGATION_CFG = {
    "grid": {"dr_kpc": 1.0, "dz_kpc": 0.3, "ek_min_GeV": 1.0e-3, "ek_max_GeV": 1.0e9, "bins_per_decade": 3,
             "species": {"electron": {"ek_min_GeV": 0.1, "ek_max_GeV": 1.0e5},
                         "positron": {"ek_min_GeV": 0.1, "ek_max_GeV": 1.0e5}}},
    "galaxy": {"r_sun_kpc": 8.3, "he_to_h": 0.11},
    "loss_order": 1,
}


def model(**propagation):
    return {"propagation": {**TABLE_I, **propagation}, "injection": {"proton": PROTON_TABLE2}}


# ----------------------------------------------------------------------------------------------
# set-ups and keys
# ----------------------------------------------------------------------------------------------


def test_models_with_the_same_transport_share_a_key():
    high, low = model(), model()
    low["injection"] = {"proton": dict(PROTON_TABLE2, cutoff_GV=4e6)}  # injection does not enter
    low["knee_dataset"] = "kascade"
    assert setup_key(transport_setup(high, PROPAGATION_CFG, "proton")) == \
        setup_key(transport_setup(low, PROPAGATION_CFG, "proton"))
    # protons and helium on one grid share the key (the file name carries the species)
    assert setup_key(transport_setup(high, PROPAGATION_CFG, "proton")) == \
        setup_key(transport_setup(high, PROPAGATION_CFG, "helium"))


@pytest.mark.parametrize("change", [
    {"model": {"D0_1e28_cm2_per_s": 7.7}}, {"model": {"delta": 0.4}}, {"model": {"zh_kpc": 5.1}},
    {"model": {"vA_km_per_s": 0.0}}, {"model": {"eta": 0.0}}, {"model": {"r_max_kpc": 18.0}},
    {"prop": ("grid", "dr_kpc", 0.5)}, {"prop": ("grid", "bins_per_decade", 4)},
    {"prop": ("galaxy", "he_to_h", 0.1)}, {"prop": ("galaxy", "r_sun_kpc", 8.5)},
])
def test_any_transport_input_changes_the_key(change):
    reference = setup_key(transport_setup(model(), PROPAGATION_CFG, "proton"))
    prop_cfg = copy.deepcopy(PROPAGATION_CFG)
    model_cfg = model(**change.get("model", {}))
    if "prop" in change:
        section, key, value = change["prop"]
        prop_cfg[section][key] = value
    assert setup_key(transport_setup(model_cfg, prop_cfg, "proton")) != reference


def test_key_is_blind_to_spelling_and_to_other_species_overrides():
    reference = transport_setup(model(), PROPAGATION_CFG, "proton")
    prop_cfg = copy.deepcopy(PROPAGATION_CFG)
    prop_cfg["grid"]["bins_per_decade"] = 3.0  # int or float
    prop_cfg["grid"]["species"]["electron"]["ek_max_GeV"] = 1.0e7  # another species' grid
    prop_cfg["loss_order"] = 1
    del prop_cfg["galaxy"]["he_to_h"]  # the default, spelled out or not
    assert setup_key(transport_setup(model(), prop_cfg, "proton")) == setup_key(reference)
    # ... but the electron grid is the electron set-up's, and the ISRF enters for leptons only
    electron = transport_setup(model(), PROPAGATION_CFG, "electron", isrf_sha256="ab" * 32)
    assert setup_key(transport_setup(model(), prop_cfg, "electron", isrf_sha256="ab" * 32)) != setup_key(electron)
    assert setup_key(transport_setup(model(), PROPAGATION_CFG, "electron", isrf_sha256="cd" * 32)) != setup_key(electron)
    assert "isrf_sha256" not in reference and electron["grid"]["ek_min_GeV"] == 0.1
    assert setup_key(electron) != setup_key(reference)
    assert len(setup_key(reference)) == 16
    with pytest.raises(KeyError, match="bogus"):
        transport_setup(model(), {**PROPAGATION_CFG, "galaxy": {"bogus": 1.0}}, "proton")


# ----------------------------------------------------------------------------------------------
# Green's matrix and the propagated fitted injection agree
# ----------------------------------------------------------------------------------------------

SMALL = {"grid": {"dr_kpc": 1.0, "dz_kpc": 0.5, "ek_min_GeV": 0.1, "ek_max_GeV": 1.0e5, "bins_per_decade": 3},
         "loss_order": 1}


@pytest.fixture(scope="module")
def small_proton():
    cfg = model(zh_kpc=3.0, r_max_kpc=12.0)
    setup = transport_setup(cfg, SMALL, "proton")
    grid, greens = run.greens_matrix(setup)
    return cfg, grid, greens


def test_propagated_fitted_injection_equals_greens_times_q(small_proton):
    cfg, grid, greens = small_proton
    assert greens.shape == (grid.ek_GeV_per_n.size,) * 2 and np.all(np.isfinite(greens))
    entry = dict(PROTON_TABLE2, q0_per_cm3_s_GV=3.5e-9, sampling="cell_average")
    result = run.propagate_injection(cfg, SMALL, "proton", entry)
    q = run.injection_on_grid(grid.ek_GeV_per_n, "proton", entry)
    np.testing.assert_allclose(result.intensity_sun, greens @ q, rtol=1e-6)
    assert result.norm == 3.5e-9 and result.density.shape == grid.shape
    # linear in q0, and node sampling differs from the cell average only at O(h^2)
    doubled = run.injection_on_grid(grid.ek_GeV_per_n, "proton", dict(entry, q0_per_cm3_s_GV=7e-9))
    np.testing.assert_allclose(doubled, 2 * q, rtol=1e-14)
    node = run.injection_on_grid(grid.ek_GeV_per_n, "proton", dict(entry, sampling="node"))
    assert np.all(np.abs(node / q - 1) < 0.2)
    with pytest.raises(ValueError, match="sampling"):
        run.injection_on_grid(grid.ek_GeV_per_n, "proton", dict(entry, sampling="spline"))


def test_fitted_injection_round_trip_through_the_fit(small_proton):
    """fitting.fitted_injection -> run.injection_on_grid gives the Q the fit propagated with G."""
    _, grid, greens = small_proton
    start = dict(PROTON_TABLE2)
    nucleus = fitting.NucleusModel(PROTON, grid.ek_GeV_per_n, greens, start)
    truth = {p.name: p.start for p in nucleus.params}
    truth[fitting.NORM_PARAM] = 1.2
    lis = nucleus.components(truth)["lis"]["proton"][0]
    ek = grid.ek_GeV_per_n[(grid.ek_GeV_per_n > 1.0) & (grid.ek_GeV_per_n < 1e4)]
    flux = fitting.lis_at_earth(ek, grid.ek_GeV_per_n, lis, 0.7, PROTON)
    data = fitting.FitDataset("synthetic", "X", "proton", ek, flux, 0.02 * flux, 0.02 * flux, False)
    shape = [p.name for p in nucleus.params if p.name != fitting.NORM_PARAM]
    result = fitting.fit(nucleus, [data], fixed=shape)
    entry = fitting.fitted_injection(result, nucleus)["proton"]
    assert entry["sampling"] == "cell_average" and entry["nu"] == PROTON_TABLE2["nu"]
    q = run.injection_on_grid(grid.ek_GeV_per_n, "proton", entry)
    np.testing.assert_allclose(q, nucleus.injection(result.params)["proton"], rtol=1e-12)
    # the fit's LIS is its (non-negative) Green's matrix times that Q
    np.testing.assert_allclose(nucleus.green @ q, nucleus.components(result.params)["lis"]["proton"][0], rtol=1e-12)
    assert result.params[fitting.NORM_PARAM] == pytest.approx(1.2, rel=1e-4)
