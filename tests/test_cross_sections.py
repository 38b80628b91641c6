"""Tests of galdiff.interactions.cross_sections against EMISSION_PHYSICS.md Sec. 3.5 / GALAXY_INPUTS.md Sec. 5.5."""

import numpy as np
import pytest

from galdiff.interactions.cross_sections import (
    KAFEXHIU2014_THRESHOLD_GEV,
    inelastic_loss_rate_per_s,
    he_target_ratio_ferrando1988,
    orth_buffington_factor,
    proton_equivalent_ek_GeV,
    sigma_inel_mb,
    sigma_inel_phe_galprop_mb,
    sigma_inel_pp_kafexhiu2014_mb,
    sigma_inel_pp_kelner2006_mb,
)
from galdiff.units import ELECTRON, HELIUM, PROTON

T_P = np.array([1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7])
K14 = np.array([22.52, 29.47, 31.28, 34.90, 40.42, 47.86, 57.20, 68.45])
KAB06 = np.array([22.96, 30.90, 31.30, 34.30, 39.95, 48.26, 59.22, 72.82])


def test_kafexhiu2014_table():
    np.testing.assert_allclose(sigma_inel_pp_kafexhiu2014_mb(T_P), K14, atol=0.006)


def test_kelner2006_table():
    np.testing.assert_allclose(sigma_inel_pp_kelner2006_mb(T_P), KAB06, atol=0.006)


def test_threshold():
    assert KAFEXHIU2014_THRESHOLD_GEV == pytest.approx(0.2797, abs=1e-4)
    assert sigma_inel_pp_kafexhiu2014_mb(0.27) == 0.0
    assert sigma_inel_pp_kafexhiu2014_mb(0.29) > 0.0
    assert sigma_inel_pp_kelner2006_mb(0.2) == 0.0  # E_p < 1.22 GeV


def test_orth_buffington_factors():
    assert orth_buffington_factor(1, 1) == pytest.approx(1.0)
    assert orth_buffington_factor(1, 4) == pytest.approx(2.83, abs=0.005)
    assert orth_buffington_factor(4, 1) == pytest.approx(2.83, abs=0.005)
    assert orth_buffington_factor(4, 4) == pytest.approx(5.59, abs=0.005)


def test_orth_buffington_option_scales_pp_at_same_momentum_per_nucleon():
    t = np.array([1.0, 100.0, 1e5])
    pp = sigma_inel_pp_kafexhiu2014_mb(t)
    np.testing.assert_allclose(sigma_inel_mb(t, PROTON, 1), pp)
    np.testing.assert_allclose(sigma_inel_mb(t, PROTON, 4, nuclear="orth_buffington"), 2 ** 1.5 * pp, rtol=1e-12)
    # He: same momentum per nucleon -> T_p slightly above T_n (m_n(He) < m_p)
    t_p = proton_equivalent_ek_GeV(t, HELIUM)
    p_n = np.sqrt(t * (t + 2 * HELIUM.mass_per_nucleon_GeV))
    np.testing.assert_allclose(np.sqrt(t_p * (t_p + 2 * PROTON.mass_GeV)), p_n, rtol=1e-12)
    np.testing.assert_allclose(sigma_inel_mb(t, HELIUM, 4, nuclear="orth_buffington"),
                               orth_buffington_factor(4, 4) * sigma_inel_pp_kafexhiu2014_mb(t_p), rtol=1e-12)
    np.testing.assert_allclose(sigma_inel_mb(t, HELIUM, 4, scaling=3.0), 3.0 * sigma_inel_pp_kafexhiu2014_mb(t_p))
    with pytest.raises(ValueError):
        sigma_inel_mb(t, ELECTRON)
    with pytest.raises(KeyError):
        sigma_inel_mb(t, HELIUM, 1, nuclear="glauber")


def test_galprop_phe_fit_values():
    # GALPROP nucleon_cs.cc option 0 "pHe" fit, evaluated by hand from its formula
    t = np.array([0.03, 0.1, 0.3, 1.0, 10.0])
    np.testing.assert_allclose(sigma_inel_phe_galprop_mb(t), [45.9, 110.0, 87.9, 106.7, 111.0], atol=0.1)
    assert sigma_inel_phe_galprop_mb(0.015) == 0.0  # the formula turns negative below ~22 MeV: clipped
    assert he_target_ratio_ferrando1988(4) == pytest.approx(1.946, abs=1e-3)


def test_helium_breakup_has_no_pion_threshold():
    """p-4He / 4He-p reaction cross sections are ~90-111 mb from 0.1 GeV/n up (nuclear break-up needs
    no pion): sigma_pp x 2.83 gave 0 at 0.2 GeV/n, 25 mb at 0.5 and 85 mb at 10 GeV/n."""
    t = np.array([0.1, 0.2, 0.5, 1.0, 10.0, 100.0])
    for projectile, target in ((HELIUM, 1), (PROTON, 4)):
        sigma = sigma_inel_mb(t, projectile, target)
        assert np.all(sigma > 85.0) and np.all(sigma < 115.0)
    # He on He: 1.95 x He on H (Ferrando et al. 1988 ratio, GALPROP He_to_H_CS)
    np.testing.assert_allclose(sigma_inel_mb(t, HELIUM, 4), 1.946 * sigma_inel_mb(t, HELIUM, 1), rtol=1e-3)
    # p-p keeps its pion threshold (elastic only below it)
    assert sigma_inel_mb(0.2, PROTON, 1) == 0.0
    # the rise of sigma_pp carries over above ~3 TeV (no flat plateau at the knee)
    high = sigma_inel_mb(np.array([1e3, 1e6]), HELIUM, 1)
    assert high[0] == pytest.approx(111.0, abs=0.5) and high[1] > 150.0


def test_loss_rate_value_and_shape():
    # 1 TeV proton, pure H, n_H = 1: rate = beta c sigma = 2.9979e10 * 34.90e-27 s^-1
    rate = inelastic_loss_rate_per_s([1e3], PROTON, 1.0, he_to_h=0.0)
    assert rate.shape == (1,)
    assert rate[0] == pytest.approx(2.99792458e10 * 34.895e-27, rel=2e-4)
    with_he = inelastic_loss_rate_per_s([1e3], PROTON, 1.0, he_to_h=0.11)
    assert with_he[0] / rate[0] == pytest.approx(1 + 0.11 * 111.0 / 34.895, rel=2e-3)
    grid = inelastic_loss_rate_per_s(np.geomspace(1, 1e6, 7), HELIUM, np.full((4, 5), 0.5))
    assert grid.shape == (7, 4, 5)  # energy first, as the solver's (n_E, n_r, n_z)
    # linear in n_H
    np.testing.assert_allclose(grid[:, 0, 0], 0.5 * inelastic_loss_rate_per_s(np.geomspace(1, 1e6, 7), HELIUM, 1.0))
