"""Lepton physics where users read it: energy losses in the real Galaxy and e+ + e- at Earth.

Two checks the unit tests of each loss component cannot make (issue 17):

* A losses-only propagation (no diffusion, no reacceleration) through the production path
  (``propagation.model.propagation_setup`` with the GALPROP gas, B field and the ISRF file) must
  give N(E) = (1/b(E)) int_E^inf q(E') dE' in every cell, where b is summed *here* from the
  individual loss functions (ionisation, Coulomb, bremsstrahlung, synchrotron, Klein-Nishina IC).
  A loss term missing from the total the solver uses (synchrotron, IC) changes N at 1 TeV by a
  factor ~2 in the disc.
* The paper's Table III injection, propagated with Table I, modulated with its Phi = 1.1 GV and
  scaled to AMS-02 e- and e+ in 20-200 GeV (``propagation.normalisation``, the path without a fit),
  must follow the AMS-02 and DAMPE e+ + e- spectra (as the p and He checks of
  test_propagation_physics.py do for Table II).
"""

import numpy as np
import pytest
import yaml

from galdiff.data.datasets import build_dataset, flux_vs_ek_per_n
from galdiff.galaxy import bfield
from galdiff.galaxy.isrf import ISRF_FILENAME
from galdiff.propagation import losses, run
from galdiff.propagation import model as galaxy_model
from galdiff.propagation.grid import Grid
from galdiff.propagation.solver import SteadyStateSolver


@pytest.fixture(scope="module")
def config(project_root):
    with open(project_root / "config.yaml") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def isrf_path(mirror_dir):
    path = mirror_dir / "galaxy" / ISRF_FILENAME
    if not path.exists():
        pytest.skip(f"ISRF file not in mirror: {path}")  # a failure under GALDIFF_REQUIRE_DATA (conftest)
    return path


def independent_loss_rate_GeV_per_s(ek_GeV, env, galaxy_cfg, r_kpc, z_kpc):
    """b(E) in every cell, summed here from the component functions; (n_E, n_r, n_z).

    The gas conventions are typed here, not taken from the code under test: n_n = n_HI + 2 n_H2
    (two atoms per molecule), n_He = (He/H) n_n, free electrons n_e = n_HII; U_B from the GALPROP
    exponential field evaluated again at the nodes.
    """
    n_neutral = env.n_hi_cm3 + 2.0 * env.n_h2_cm3
    n_he = galaxy_cfg["he_to_h"] * n_neutral
    b_microG = bfield.b_field_microG(r_kpc[:, None], z_kpc[None, :], b0_microG=galaxy_cfg["b0_microG"],
                                     r_scale_kpc=galaxy_cfg["b_r_scale_kpc"], z_scale_kpc=galaxy_cfg["b_z_scale_kpc"],
                                     r_sun_kpc=galaxy_cfg["gas_r_sun_kpc"])
    u_b = bfield.magnetic_energy_density_eV_cm3(b_microG) + 0.0 * n_neutral
    return (losses.electron_ionisation_loss_rate_GeV_per_s(ek_GeV, n_neutral, n_he)
            + losses.electron_coulomb_loss_rate_GeV_per_s(ek_GeV, env.n_hii_cm3)
            + losses.electron_bremsstrahlung_neutral_loss_rate_GeV_per_s(ek_GeV, n_neutral, n_he)
            + losses.electron_bremsstrahlung_ionised_loss_rate_GeV_per_s(ek_GeV, env.n_hii_cm3)
            + losses.synchrotron_loss_rate_GeV_per_s(ek_GeV, u_b)
            + losses.inverse_compton_loss_rate_GeV_per_s(ek_GeV, env.eps_eV, env.photon_density_per_cm3_eV)), u_b


def test_losses_only_electrons_in_the_real_galaxy_follow_one_over_b_integral_q(config, isrf_path):
    galaxy_cfg = config["propagation"]["galaxy"]
    grid = Grid.from_config({"r_max_kpc": 20.0, "dr_kpc": 2.0, "zh_kpc": 4.0, "dz_kpc": 1.0, "ek_min_GeV": 0.1,
                             "ek_max_GeV": 1.0e6, "bins_per_decade": 16}, species="electron")
    env = galaxy_model.galaxy_environment(grid, galaxy_cfg, isrf_path)
    params = galaxy_model.diffusion_parameters(config["models"]["dr_high"]["propagation"])
    setup = galaxy_model.propagation_setup(grid, "electron", params, env, reacceleration=False)
    setup.diffusion_cm2_per_s = np.zeros_like(setup.diffusion_cm2_per_s)  # losses only: every cell on its own
    index = 2.2
    ek = grid.ek_GeV_per_n
    density = SteadyStateSolver(setup, progress=False).solve(np.broadcast_to(ek[:, None, None] ** -index, grid.shape))

    b, u_b = independent_loss_rate_GeV_per_s(ek, env, galaxy_cfg, grid.r_kpc, grid.z_kpc)
    np.testing.assert_allclose(env.u_b_eV_cm3, u_b, rtol=1e-12)
    top = grid.ek_edges_GeV_per_n[-1]
    exact = (ek ** (1 - index) - top ** (1 - index))[:, None, None] / ((index - 1) * b)
    keep = ek < 0.3 * ek[-1]  # the grid top truncates the spectrum
    # interior cells (the last radial node and the z boundaries are the escape surface)
    got, want = density[keep][:, :-1, 1:-1], exact[keep][:, :-1, 1:-1]
    # third-order upwind at 16 bins per decade: < 0.5 % on smooth b (test_propagation_solver); the
    # Klein-Nishina softening of b near 10-100 GeV is as smooth on this grid (node 0: half cell)
    np.testing.assert_allclose(got[1:], want[1:], rtol=5e-3)
    # the check has teeth: at 1 TeV in the disc near the Sun synchrotron is a large part of b
    i_sun, i_disc = np.argmin(np.abs(grid.r_kpc - 8.3)), np.argmin(np.abs(grid.z_kpc))
    k_tev = np.argmin(np.abs(ek - 1e3))
    synchrotron = losses.synchrotron_loss_rate_GeV_per_s(ek, u_b)
    assert synchrotron[k_tev, i_sun, i_disc] / b[k_tev, i_sun, i_disc] > 0.3
    # and the local loss time of a 1 TeV electron is the textbook few 1e5 yr (Thomson estimate with
    # U_B ~ 0.6 and U_rad ~ 1 eV cm^-3, Klein-Nishina cutting the starlight part)
    t_yr = 1e3 / b[k_tev, i_sun, i_disc] / 3.156e7
    assert 1.5e5 < t_yr < 5e5, t_yr


# ---- Table III e+ + e- at Earth ------------------------------------------------------------------------

LEPTON_GRID = {"dr_kpc": 0.5, "dz_kpc": 0.2, "ek_min_GeV": 0.1, "ek_max_GeV": 1.0e8, "bins_per_decade": 8,
               "species": {lepton: {"ek_min_GeV": 0.1, "ek_max_GeV": 1.0e5, "bins_per_decade": 16}
                           for lepton in ("electron", "positron")}}
PHI_TABLE_III_GV = 1.1


@pytest.fixture(scope="module")
def table3_leptons(config, mirror_dir, isrf_path):
    """Table II p, He (secondaries) and Table III primaries, each scaled as ``propagation.normalisation`` says."""
    model = config["models"]["dr_high"]
    propagation = {"grid": LEPTON_GRID, "galaxy": config["propagation"]["galaxy"],
                   "normalisation": config["propagation"]["normalisation"]}
    nuclei = {}
    for species in ("proton", "helium"):
        result = run.propagate_primary(model, propagation, species, with_greens=False)
        nuclei[species] = run.normalise_to_data(result, species, 0.7, build_dataset(f"ams02_{species}", mirror_dir),
                                                (20.0, 200.0))
    secondaries = run.propagate_secondaries(model, propagation, nuclei["proton"], nuclei["helium"], isrf_path=isrf_path)
    references = {lepton: build_dataset(f"ams02_{lepton}", mirror_dir) for lepton in ("electron", "positron")}
    return run.normalised_primary_leptons(model, propagation, secondaries, references, isrf_path=isrf_path)


def electron_positron_ratio(leptons, dataset, mirror_dir, window):
    spectrum = flux_vs_ek_per_n(build_dataset(dataset, mirror_dir))
    keep = (spectrum.ek_GeV_per_n >= window[0]) & (spectrum.ek_GeV_per_n <= window[1])
    e = spectrum.ek_GeV_per_n[keep]
    model = (run.model_at_data(leptons["electron"], "electron", PHI_TABLE_III_GV, e)
             + run.model_at_data(leptons["positron"], "positron", PHI_TABLE_III_GV, e))
    error = np.hypot(np.maximum(spectrum.stat_lo, spectrum.stat_hi), np.maximum(spectrum.sys_lo, spectrum.sys_hi))
    return e, model / spectrum.flux_per_GeV_per_n[keep], error[keep] / spectrum.flux_per_GeV_per_n[keep]


def test_table3_electrons_plus_positrons_follow_ams02(table3_leptons, mirror_dir):
    # The scale is AMS-02's (e- and e+ in 20-200 GeV); the shape from 15 GeV to 1 TeV is the paper's
    # Table III with our losses. The paper quotes indices to 0.05 (its fit tolerance): an index off
    # by 0.05 turns the spectrum by (1 TeV / 63 GeV)^0.05 = 1.15 between the centre of the scaling
    # window and either end, so 15 % (or 2.5 sigma where AMS-02's own error is larger, above 1 TeV).
    # Dropping synchrotron or IC from the loss rate raises 1 TeV by ~x2; a Jacobian or unit error
    # is worse.
    energy, ratio, error = electron_positron_ratio(table3_leptons, "ams02_electron_positron", mirror_dir, (15.0, 2e3))
    assert ratio.size >= 30
    assert np.all(np.abs(ratio - 1.0) < np.maximum(0.15, 2.5 * error)), dict(zip(energy.round(), ratio.round(3)))


def test_table3_electrons_plus_positrons_follow_dampe(table3_leptons, mirror_dir):
    # DAMPE e+ + e- sits 9-10 % above AMS-02 where both measure (40 GeV - 1 TeV; README, Fits), so a
    # model scaled to AMS-02 lies ~0.9 of DAMPE; DAMPE's spectral bump before its 0.9 TeV break
    # (Ambrosi et al. 2017) is ~10 % more that Table III's smooth cutoff does not follow. Hence
    # 0.9 - 0.15 < model/DAMPE < 0.9 + 0.15 (the index tolerance above), widened by 2.5 sigma where
    # DAMPE's error exceeds it (above ~1.5 TeV).
    energy, ratio, error = electron_positron_ratio(table3_leptons, "dampe_electron_positron", mirror_dir, (25.0, 5e3))
    assert ratio.size >= 25
    low, high = 0.75 - 2.5 * error, 1.05 + 2.5 * error
    assert np.all((ratio > low) & (ratio < high)), dict(zip(energy.round(), ratio.round(3)))

