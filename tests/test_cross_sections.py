"""Tests of galdiff.interactions.cross_sections against EMISSION_PHYSICS.md Sec. 3.5 / GALAXY_INPUTS.md Sec. 5.5."""

import numpy as np
import pytest

from galdiff.interactions.cross_sections import (
    KAFEXHIU2014_THRESHOLD_GEV,
    inelastic_loss_rate_per_s,
    orth_buffington_factor,
    proton_equivalent_ek_GeV,
    sigma_inel_mb,
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


def test_nuclear_channels_scale_pp_at_same_momentum_per_nucleon():
    t = np.array([1.0, 100.0, 1e5])
    pp = sigma_inel_pp_kafexhiu2014_mb(t)
    np.testing.assert_allclose(sigma_inel_mb(t, PROTON, 1), pp)
    np.testing.assert_allclose(sigma_inel_mb(t, PROTON, 4), 2 ** 1.5 * pp, rtol=1e-12)
    # He: same momentum per nucleon -> T_p slightly above T_n (m_n(He) < m_p)
    t_p = proton_equivalent_ek_GeV(t, HELIUM)
    p_n = np.sqrt(t * (t + 2 * HELIUM.mass_per_nucleon_GeV))
    np.testing.assert_allclose(np.sqrt(t_p * (t_p + 2 * PROTON.mass_GeV)), p_n, rtol=1e-12)
    np.testing.assert_allclose(sigma_inel_mb(t, HELIUM, 4),
                               orth_buffington_factor(4, 4) * sigma_inel_pp_kafexhiu2014_mb(t_p), rtol=1e-12)
    with pytest.raises(ValueError):
        sigma_inel_mb(t, ELECTRON)


def test_loss_rate_value_and_shape():
    # 1 TeV proton, pure H, n_H = 1: rate = beta c sigma = 2.9979e10 * 34.90e-27 s^-1
    rate = inelastic_loss_rate_per_s([1e3], PROTON, 1.0, he_to_h=0.0)
    assert rate.shape == (1,)
    assert rate[0] == pytest.approx(2.99792458e10 * 34.895e-27, rel=2e-4)
    with_he = inelastic_loss_rate_per_s([1e3], PROTON, 1.0, he_to_h=0.11)
    assert with_he[0] / rate[0] == pytest.approx(1 + 0.11 * 2 ** 1.5, rel=1e-12)
    grid = inelastic_loss_rate_per_s(np.geomspace(1, 1e6, 7), HELIUM, np.full((4, 5), 0.5))
    assert grid.shape == (7, 4, 5)  # energy first, as the solver's (n_E, n_r, n_z)
    # linear in n_H
    np.testing.assert_allclose(grid[:, 0, 0], 0.5 * inelastic_loss_rate_per_s(np.geomspace(1, 1e6, 7), HELIUM, 1.0))
