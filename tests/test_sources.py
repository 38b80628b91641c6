"""Tests of galdiff.galaxy.sources (Eq. 2 SNR law, pulsar laws, normalisation) and
galdiff.galaxy.bfield, against docs/galaxy_inputs.md#magnetic-field, #snr-distribution, #pulsar-distributions and analytic results."""

import numpy as np
import pytest

from galdiff.galaxy import bfield
from galdiff.galaxy.sources import (
    RADIAL_PROFILES,
    grid_volume_weights_kpc3,
    normalise_on_grid,
    pulsar_distribution,
    radial_integral_kpc2,
    snr_distribution,
    snr_peak_radius_kpc,
    volume_integral_kpc3,
)

# docs/galaxy_inputs.md#snr-distribution check values q(R, 0)/q(r_sun, 0)
CHECK_83 = [(0.5, 0.847), (1, 1.625), (2, 2.518), (2.914, 2.723), (4, 2.539), (6, 1.788), (8.5, 0.946),
            (10, 0.609), (12, 0.324), (14.999, 0.118)]
CHECK_85 = [(0.5, 0.826), (1, 1.594), (2, 2.494), (2.985, 2.723), (4, 2.566), (6, 1.844), (10, 0.654),
            (12, 0.355), (14.999, 0.134)]


@pytest.mark.parametrize("radius,expected", CHECK_83)
def test_snr_paper_values(radius, expected):
    assert snr_distribution(radius, 0.0) == pytest.approx(expected, abs=6e-4)


@pytest.mark.parametrize("radius,expected", CHECK_85)
def test_snr_galprop_values(radius, expected):
    assert snr_distribution(radius, 0.0, r_sun_kpc=8.5) == pytest.approx(expected, abs=6e-4)


def test_snr_formula_and_limits():
    r, z = 5.0, 0.3
    expected = (5 / 8.3) ** 1.25 * np.exp(-3.56 * (5 - 8.3) / 8.3) * np.exp(-0.3 / 0.2)
    assert snr_distribution(r, z) == pytest.approx(expected, rel=1e-13)
    assert snr_distribution(r, -z) == pytest.approx(expected, rel=1e-13)
    assert snr_distribution(8.3, 0.0) == pytest.approx(1.0)
    assert snr_distribution(0.0, 0.0) == 0.0  # R^1.25 -> 0 on the axis
    assert snr_distribution(15.0, 0.0) == 0.0 and snr_distribution(16.0, 0.0) == 0.0  # DRAGON2-style cut
    assert snr_distribution(16.0, 0.0, r_max_kpc=None) > 0.0
    # r_const freezes the value beyond r_const
    frozen = snr_distribution(np.array([10.0, 12.0, 14.0]), 0.0, r_const_kpc=10.0)
    np.testing.assert_allclose(frozen, snr_distribution(10.0, 0.0))
    with pytest.raises(ValueError):
        snr_distribution(-1.0, 0.0)


def test_snr_peak_radius():
    assert snr_peak_radius_kpc() == pytest.approx(1.25 * 8.3 / 3.56)
    assert snr_peak_radius_kpc() == pytest.approx(2.914, abs=5e-4)
    r = np.linspace(0.01, 14, 140001)
    q = snr_distribution(r, 0.0)
    assert r[np.argmax(q)] == pytest.approx(snr_peak_radius_kpc(), abs=2e-4)
    assert q.max() == pytest.approx(2.723, abs=5e-4)


@pytest.mark.parametrize("r_sun,r_max,expected", [(8.3, 15, 589.1), (8.3, 30, 625.8), (8.5, 15, 613.5),
                                                  (8.5, 30, 656.3)])
def test_radial_integrals(r_sun, r_max, expected):
    value = radial_integral_kpc2(lambda r: snr_distribution(r, 0.0, r_sun_kpc=r_sun, r_max_kpc=None), r_max)
    assert value == pytest.approx(expected, abs=0.06)


def test_volume_integral_is_radial_times_two_zs():
    # exp(-|z|/z_s) integrates to 2 z_s (1 - exp(-z_max/z_s))
    shape = lambda r, z: snr_distribution(r, z, r_max_kpc=None)
    z_max = 3.0
    expected = 625.8 * 2 * 0.2 * (1 - np.exp(-z_max / 0.2))
    assert volume_integral_kpc3(shape, 30.0, z_max) == pytest.approx(expected, rel=2e-4)


def test_grid_weights_and_normalisation():
    r = np.linspace(0, 20, 41)
    z = np.linspace(-4, 4, 81)
    w = grid_volume_weights_kpc3(r, z)
    # cells cover R in [0, 20.25], z in [-4.05, 4.05]
    assert w.sum() == pytest.approx(np.pi * 20.25**2 * 8.1, rel=1e-12)
    q = snr_distribution(r[:, None], z[None, :])
    qn = normalise_on_grid(q, r, z)
    assert np.sum(qn * w) == pytest.approx(1.0, rel=1e-12)
    # the grid sum approximates the analytic volume integral (589.1 x 2 z_s), coarse dz = 0.1 vs z_s = 0.2
    assert np.sum(q * w) == pytest.approx(589.1 * 0.4, rel=0.03)
    with pytest.raises(ValueError):
        normalise_on_grid(np.zeros_like(q), r, z)


def test_lorimer_default_and_registry():
    r = np.array([1.0, 4.0, 8.5, 12.0])
    expected = (r / 8.5) ** 1.9 * np.exp(-5.0 * (r - 8.5) / 8.5) * np.exp(-0.1 / 0.2)
    np.testing.assert_allclose(pulsar_distribution(r, 0.1), expected, rtol=1e-13)
    # peak at B R_sun / C
    rr = np.linspace(0.01, 15, 150001)
    assert rr[np.argmax(pulsar_distribution(rr, 0.0))] == pytest.approx(1.9 * 8.5 / 5.0, abs=2e-4)
    # Yusifov & Kucuk 2004 Eq. 15 at R = 3: ((3.55)/(9.05))^1.64 exp(-4.01 (3 - 8.5)/9.05)
    yk = ((3 + 0.55) / 9.05) ** 1.64 * np.exp(-4.01 * (3 - 8.5) / 9.05)
    assert pulsar_distribution(3.0, 0.0, model="yusifov_kucuk2004") == pytest.approx(yk, rel=1e-13)
    assert pulsar_distribution(7.04, 0.0, model="faucher_giguere_kaspi2006_birth") == pytest.approx(1.0)
    assert pulsar_distribution(0.0, 0.0, model="taylor_manchester_lyne1993") == pytest.approx(np.cosh(8.5 / 3.5))
    assert pulsar_distribution(20.0, 0.0, r_max_kpc=15.0) == 0.0
    assert pulsar_distribution(8.3, 0.0, r_sun=8.3) == pytest.approx(1.0)
    for name, profile in RADIAL_PROFILES.items():
        values = pulsar_distribution(np.linspace(0.1, 20, 50), 0.0, model=name)
        assert np.all(np.isfinite(values)) and np.all(values >= 0), name
        assert profile.reference
    with pytest.raises(KeyError, match="unknown source distribution"):
        pulsar_distribution(1.0, 0.0, model="nope")


def test_bfield_galprop_default():
    assert bfield.b_field_microG(8.5, 0.0) == pytest.approx(5.0)
    assert bfield.b_field_microG(18.5, -2.0) == pytest.approx(5.0 * np.exp(-2.0))
    assert bfield.parse_galprop_b_field_model("050100020") == pytest.approx(
        {"b0_microG": 5.0, "r_scale_kpc": 10.0, "z_scale_kpc": 2.0})
    assert bfield.parse_galprop_b_field_model(60100020)["b0_microG"] == pytest.approx(6.0)
    with pytest.raises(ValueError):
        bfield.parse_galprop_b_field_model("abc")


def test_magnetic_energy_density():
    # docs/conventions.md#constants, docs/emission.md#reference-values: 0.02483 (B/microG)^2; 3 microG 0.2235, 6 microG 0.894 eV cm^-3
    assert bfield.magnetic_energy_density_eV_cm3(1.0) == pytest.approx(0.02483, abs=1e-5)
    assert bfield.magnetic_energy_density_eV_cm3(3.0) == pytest.approx(0.2235, abs=1e-4)
    assert bfield.magnetic_energy_density_eV_cm3(6.0) == pytest.approx(0.894, abs=5e-4)
