"""The production cube builder (galdiff.skymaps.model_maps): emissivities -> every map cube of a model.

Uniform emissivities in a uniform Galaxy have closed-form intensities along each line of sight:
with L the distance from the Sun to the cylinder's boundary, a per-H-atom emissivity q gives
I = q n_H L, a per-volume one j gives I = j L, and a uniform absorber kappa turns L into
(1 - exp(-kappa L)) / kappa, for gamma rays only. The gas is made uniform by replacing the
GALPROP gas functions the builder calls, so its own gas wiring (n_H = n_HI + 2 n_H2 + n_HII) is
what is tested.
"""

import math

import healpy as hp
import numpy as np
import pytest

from galdiff.emission import EmissivityResult
from galdiff.skymaps import model_maps
from galdiff.units import KPC_CM

N_HI, N_H2, N_HII = 0.7, 0.4, 0.05  # cm^-3 (H2 in molecules): n_H = 0.7 + 2 x 0.4 + 0.05 = 1.55
N_H = 1.55
R_MAX, Z_MAX, R_SUN = 20.0, 4.0, 8.3
NSIDE = 4


def path_length_kpc(l_rad, b_rad):
    """Distance from the Sun (R_SUN, 0, 0) to the cylinder r = R_MAX, |z| = Z_MAX (closed form)."""
    cos_b = np.cos(b_rad)
    # radial exit: |(R_SUN - s cos b cos l, s cos b sin l)| = R_MAX
    with np.errstate(divide="ignore"):
        radial = (R_SUN * np.cos(l_rad) + np.sqrt(R_MAX**2 - (R_SUN * np.sin(l_rad)) ** 2)) / cos_b
        vertical = Z_MAX / np.abs(np.sin(b_rad))
    return np.minimum(radial, vertical)


def per_h(messenger):
    return {"convention": "per_H", "energy_axis": f"{messenger}_energy_GeV"}


def per_volume(messenger):
    return {"convention": "per_volume", "energy_axis": f"{messenger}_energy_GeV"}


@pytest.fixture()
def uniform_gas(monkeypatch):
    """The GALPROP gas functions the builder calls (through galdiff.galaxy.gas.GasModel), replaced by constants."""
    from galdiff.galaxy import gas

    monkeypatch.setattr(gas, "n_hi_cm3", lambda r, z, **kw: np.full(np.broadcast(r, z).shape, N_HI))
    monkeypatch.setattr(gas, "n_h2_cm3", lambda r, z, **kw: np.full(np.broadcast(r, z).shape, N_H2))
    monkeypatch.setattr(gas, "n_hii_cm3", lambda r, z, **kw: np.full(np.broadcast(r, z).shape, N_HII))


def uniform_emissivity():
    r = np.array([0.0, 10.0, R_MAX])
    z = np.array([-Z_MAX, 0.0, Z_MAX])
    e = np.array([1.0, 1e4, 1e6])  # GeV; the same number of gamma and neutrino energies on purpose
    shape = (r.size, z.size, e.size)
    spectrum = np.array([1.0, 1e-4, 1e-7])
    values = {  # emissivities per sr: per H atom (GeV^-1 s^-1 sr^-1 H^-1) or per volume (GeV^-1 cm^-3 s^-1 sr^-1)
        "pi0": (2.0e-26, per_h("gamma")), "bremsstrahlung": (3.0e-27, per_h("gamma")),
        "inverse_compton": (5.0e-27, per_volume("gamma")), "extra1": (7.0e-28, per_volume("gamma")),
        "extra2": (1.1e-28, per_volume("gamma")),
        "neutrino_e": (1.3e-26, per_h("neutrino")), "neutrino_mu": (1.7e-26, per_h("neutrino")),
        "neutrino_tau": (1.9e-26, per_h("neutrino")),
        "extra1_neutrino_e": (2.3e-28, per_volume("neutrino")), "extra1_neutrino_mu": (2.9e-28, per_volume("neutrino")),
        "extra1_neutrino_tau": (3.1e-28, per_volume("neutrino")),
    }
    components = {name: np.broadcast_to(value * spectrum, shape).copy() for name, (value, _) in values.items()}
    meta = {name: m for name, (_, m) in values.items()}
    kappa = np.broadcast_to(np.array([0.0, 0.05, 0.3]), shape).copy()  # kpc^-1, strong at 1 PeV
    emissivity = EmissivityResult(r_kpc=r, z_kpc=z, energies={"gamma_energy_GeV": e, "neutrino_energy_GeV": e},
                                  components=components, component_meta=meta, kappa_per_kpc=kappa)
    return emissivity, {name: value * spectrum for name, (value, _) in values.items()}, kappa[0, 0]


def geometry(absorption):
    return model_maps.map_geometry({"step_max_kpc": 0.2, "step_z_max_kpc": 0.05, "absorption": absorption},
                                   {"zh_kpc": Z_MAX, "r_max_kpc": R_MAX}, r_sun_kpc=R_SUN)


def directions():
    theta, phi = hp.pix2ang(NSIDE, np.arange(hp.nside2npix(NSIDE)))
    return phi, math.pi / 2 - theta  # l, b in radians (Galactic, RING)


@pytest.mark.parametrize("absorption", [False, True])
def test_uniform_galaxy_gives_q_nH_L_and_j_L(uniform_gas, absorption):
    emissivity, values, kappa = uniform_emissivity()
    cubes = model_maps.model_map_cubes(emissivity, NSIDE, geometry(absorption), absorption=absorption)
    l_rad, b_rad = directions()
    length_kpc = path_length_kpc(l_rad, b_rad)
    # gamma rays: with absorption the path length becomes (1 - exp(-kappa L)) / kappa, energy by energy
    if absorption:
        with np.errstate(divide="ignore", invalid="ignore"):
            effective = np.where(kappa[:, None] > 0, -np.expm1(-np.outer(kappa, length_kpc)) / kappa[:, None],
                                 length_kpc[None, :])
    else:
        effective = np.broadcast_to(length_kpc, (3, length_kpc.size))
    gamma_total = 0.0
    for name in model_maps.GAMMA_SOURCES:
        factor = N_H if emissivity.component_meta[name]["convention"] == "per_H" else 1.0
        expected = values[name][:, None] * factor * effective * KPC_CM
        energies, cube = cubes[name]
        np.testing.assert_array_equal(energies, emissivity.energies["gamma_energy_GeV"])
        np.testing.assert_allclose(cube, expected, rtol=1e-6, err_msg=name)
        gamma_total = gamma_total + expected
    np.testing.assert_allclose(cubes["gamma_total"][1], gamma_total, rtol=1e-6)
    if absorption:  # the absorber is strong enough to matter: 1 PeV towards the Galactic centre
        centre = hp.ang2pix(NSIDE, 0.0, 0.0, lonlat=True)
        assert cubes["pi0"][1][2, centre] < 0.5 * values["pi0"][2] * N_H * length_kpc[centre] * KPC_CM
    # neutrinos are never absorbed: plain L for every flavour and source
    neutrino = {f: 0.0 for f in model_maps.FLAVOURS}
    for source, prefix, factor in (("neutrino_diffuse", "neutrino", N_H), ("extra1_neutrino", "extra1_neutrino", 1.0)):
        all_flavours = 0.0
        for flavour in model_maps.FLAVOURS:
            expected = values[f"{prefix}_{flavour}"][:, None] * factor * length_kpc[None, :] * KPC_CM
            neutrino[flavour] = neutrino[flavour] + expected
            all_flavours = all_flavours + expected
        np.testing.assert_allclose(cubes[source][1], all_flavours, rtol=1e-6, err_msg=source)
    np.testing.assert_array_equal(cubes["extra2_neutrino"][1], 0.0)  # absent component: zero cube
    for flavour in model_maps.FLAVOURS:
        np.testing.assert_allclose(cubes[f"neutrino_{flavour}"][1], neutrino[flavour], rtol=1e-6)
    np.testing.assert_allclose(cubes["neutrino_total"][1], sum(neutrino.values()), rtol=1e-6)


def test_local_gamma_intensity_at_the_pole_is_q_nH_times_halo_height(uniform_gas):
    # one number by hand: q = 2e-26 GeV^-1 s^-1 sr^-1 H^-1 at 1 GeV, n_H = 1.55 cm^-3, L = 4 kpc / sin b
    emissivity, _, _ = uniform_emissivity()
    cubes = model_maps.model_map_cubes(emissivity, NSIDE, geometry(False), absorption=False)
    pixel = 0  # RING pixel 0: the first ring, b = 90 - 19.47 deg at nside 4
    b = math.pi / 2 - hp.pix2ang(NSIDE, pixel)[0]
    assert cubes["pi0"][1][0, pixel] == pytest.approx(2e-26 * 1.55 * 4.0 * 3.0857e21 / math.sin(b), rel=1e-4)
