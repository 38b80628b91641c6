"""Tests of galdiff.galaxy.isrf: analytic CMB (a T^4, n = 410.7 cm^-3) and the GALPROP ISRF file
against the check values of docs/galaxy_inputs.md#interstellar-radiation-field, docs/emission.md#reference-values."""

import numpy as np
import pytest
from scipy.integrate import trapezoid

from galdiff.galaxy.isrf import (
    HC_EV_MICRON,
    ISRF_FILENAME,
    blackbody_energy_density_eV_cm3,
    blackbody_number_density_cm3,
    cmb_number_density_per_eV,
    default_photon_energy_grid_eV,
    energy_density_from_spectrum_eV_cm3,
    graybody_number_density_per_eV,
    read_isrf,
)


def test_cmb_energy_density_analytic():
    # a T^4 with a = 4.7222e-3 eV cm^-3 K^-4 (docs/conventions.md#constants); U(2.7255 K) = 0.2606
    assert blackbody_energy_density_eV_cm3(1.0) == pytest.approx(4.7222e-3, rel=2e-5)
    assert blackbody_energy_density_eV_cm3(2.7255) == pytest.approx(0.2606, abs=5e-5)
    assert blackbody_energy_density_eV_cm3(2.725) == pytest.approx(0.26, abs=5e-4)
    assert blackbody_number_density_cm3(2.7255) == pytest.approx(410.7, abs=0.05)


def test_planck_spectrum_integrates_to_closed_forms():
    eps = np.geomspace(1e-8, 1e-1, 4000)
    dn = cmb_number_density_per_eV(eps, 2.7255)
    assert energy_density_from_spectrum_eV_cm3(eps, dn) == pytest.approx(0.2606, abs=5e-5)
    assert trapezoid(dn * eps, np.log(eps)) == pytest.approx(410.7, abs=0.1)
    # mean energy 2.701 kT = 6.34e-4 eV (docs/emission.md#reference-values)
    mean = energy_density_from_spectrum_eV_cm3(eps, dn) / trapezoid(dn * eps, np.log(eps))
    assert mean == pytest.approx(6.34e-4, abs=5e-7)
    gray = graybody_number_density_per_eV(eps, 30.0, 0.30)
    eps_ir = np.geomspace(1e-7, 1.0, 4000)
    assert energy_density_from_spectrum_eV_cm3(eps_ir, graybody_number_density_per_eV(eps_ir, 30.0, 0.30)) == \
        pytest.approx(0.30, rel=1e-5)
    assert gray.shape == eps.shape


@pytest.fixture(scope="module")
def isrf(mirror_dir):
    path = mirror_dir / "galaxy" / ISRF_FILENAME
    if not path.exists():
        pytest.skip(f"ISRF file not in mirror: {path}")
    return read_isrf(path)


def test_file_axes(isrf):
    assert isrf.nu_u_nu_eV_cm3.shape == (3, 41, 101, 56)
    np.testing.assert_allclose(isrf.radius_kpc[[0, -1]], [0.25, 20.25])
    np.testing.assert_allclose(isrf.z_kpc[[0, 50, -1]], [-5.0, 0.0, 5.0], atol=1e-9)
    # lambda = 0.0912 ... 28840 micron -> eps increasing
    np.testing.assert_allclose(isrf.eps_eV[[-1, 0]], HC_EV_MICRON / np.array([0.0912, 28840.0]), rtol=2e-3)
    assert np.all(np.diff(isrf.eps_eV) > 0)


# docs/galaxy_inputs.md#interstellar-radiation-field check values (bilinear in R, z = 0 unless stated), eV cm^-3
CHECKS = [
    (8.5, 0.0, 0.531, 0.367), (8.5, 1.0, 0.750, 0.251), (0.25, 0.0, 16.79, 1.78), (4.0, 0.0, 3.25, 1.63),
    (12.0, 0.0, 0.221, 0.124), (8.25, 0.0, 0.545, 0.399), (8.75, 0.0, 0.518, 0.336), (8.25, 5.0, 0.459, 0.117),
]


@pytest.mark.parametrize("radius,z,u_opt,u_ir", CHECKS)
def test_energy_densities(isrf, radius, z, u_opt, u_ir):
    # 3 printed digits; 4e-3 because the doc prints 1.63 for 1.6245 at R = 4 (float32 rounding)
    assert isrf.energy_density_at(radius, z, "optical") == pytest.approx(u_opt, rel=4e-3)
    assert isrf.energy_density_at(radius, z, "infrared") == pytest.approx(u_ir, rel=4e-3)
    assert isrf.energy_density_at(radius, z, "cmb") == pytest.approx(0.260, abs=5e-4)
    # z symmetry
    assert isrf.energy_density_at(radius, -z, "optical") == pytest.approx(isrf.energy_density_at(radius, z, "optical"))


def test_local_spectrum_nodes(isrf):
    spectrum = isrf.interpolate(8.5, 0.0)  # (3, n_eps)
    def at(component, lam_micron):
        j = np.argmin(np.abs(isrf.eps_eV - HC_EV_MICRON / lam_micron))
        return spectrum[component, j]
    assert at(0, 0.0912) == pytest.approx(1.04e-2, rel=5e-3)
    assert at(0, 0.912) == pytest.approx(2.57e-1, rel=2e-3)
    assert at(1, 91.2) == pytest.approx(2.20e-1, rel=2.5e-3)
    assert at(2, 912.0) == pytest.approx(1.38e-1, rel=4e-3)
    # peaks of nu u_nu: 1.45 micron (optical), 115 micron (IR)
    lam = HC_EV_MICRON / isrf.eps_eV
    assert lam[np.argmax(spectrum[0])] == pytest.approx(1.45, rel=0.01)
    assert lam[np.argmax(spectrum[1])] == pytest.approx(115.0, rel=0.01)


def test_number_density_per_component(isrf):
    # eps^2 dn/deps = nu u_nu, summed in ln eps (0.1 dex steps) gives the energy density
    dn = isrf.number_density_per_eV_at(np.array([8.5, 12.0]), 0.0, "infrared")
    assert dn.shape == (2, isrf.eps_eV.size)
    u = np.log(10) * 0.1 * np.sum(dn * isrf.eps_eV**2, axis=-1)
    np.testing.assert_allclose(u, [0.367, 0.124], rtol=3e-3)
    np.testing.assert_allclose(isrf.number_density_per_eV()[1, 16, 50], isrf.number_density_per_eV_at(8.25, 0.0, 1))


def test_file_cmb_is_the_analytic_blackbody(isrf):
    # component 3 = 2.725 K blackbody everywhere: compare nu u_nu = eps^2 dn/deps node by node
    spectrum = isrf.interpolate(3.0, 2.0)[2]
    analytic = isrf.eps_eV**2 * cmb_number_density_per_eV(isrf.eps_eV, 2.725)
    significant = analytic > 1e-3 * analytic.max()
    np.testing.assert_allclose(spectrum[significant], analytic[significant], rtol=0.02)


def test_photon_field_grid_and_clamping(isrf):
    radius = np.array([0.0, 8.5, 30.0])[:, None]
    z = np.array([0.0, 6.3])[None, :]
    eps, dn = isrf.photon_field(radius, z)
    assert dn.shape == (3, 2, eps.size) and eps[0] <= 1e-6
    u = energy_density_from_spectrum_eV_cm3(eps, dn)
    u_cmb = blackbody_energy_density_eV_cm3(2.725)
    # local: 0.531 + 0.367 + CMB (trapezoid vs the file's rectangle sum: 0.3 %)
    assert u[1, 0] == pytest.approx(0.531 + 0.367 + u_cmb, rel=3e-3)
    # outside the file: edge values (R = 20.25, |z| = 5) plus the analytic CMB
    edge = isrf.energy_density_at(20.25, 5.0, "optical") + isrf.energy_density_at(20.25, 5.0, "infrared")
    assert u[2, 1] == pytest.approx(edge + u_cmb, rel=3e-3)
    # a user grid conserves the file energy density
    eps2, dn2 = isrf.photon_field(8.5, 0.0, eps_eV=default_photon_energy_grid_eV(), cmb=None)
    assert energy_density_from_spectrum_eV_cm3(eps2, dn2) == pytest.approx(0.5311 + 0.3674, rel=1e-3)
    _, dn_cmb_only = isrf.photon_field(8.5, 0.0, components=(), cmb="file")
    assert energy_density_from_spectrum_eV_cm3(eps, dn_cmb_only) == pytest.approx(0.260, abs=1e-3)
    with pytest.raises(ValueError):
        isrf.photon_field(8.5, 0.0, cmb="planck")


def test_missing_file_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="ISRF file not found"):
        read_isrf(tmp_path / "nope.fits.gz")
