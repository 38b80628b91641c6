"""Tests of galdiff.galaxy.gas against docs/galaxy_inputs.md#interstellar-gas (check values of 1.1(f),
surface-density normalisation of DL90, and the model-2 rescaling rules as stated)."""

import numpy as np
import pytest

from galdiff.galaxy import gas
from galdiff.units import KPC_CM


def rel(value, printed, digits):
    """Relative tolerance of a value printed with ``digits`` significant digits."""
    return 0.5 * 10 ** (np.floor(np.log10(abs(printed))) - digits + 1) / abs(printed) + 1e-9


@pytest.mark.parametrize("model,expected", [(1, 0.584), (2, 0.674)])
def test_hi_local_density(model, expected):
    assert gas.n_hi_cm3(8.5, 0.0, model=model) == pytest.approx(expected, rel=rel(0, expected, 3))


@pytest.mark.parametrize("radius,expected", [(4.0, 5.56e20), (8.5, 5.79e20), (12.0, 2.71e20), (15.0, 1.10e20)])
def test_hi_columns_model2(radius, expected):
    column = gas.column_density_cm2(gas.n_hi_cm3, radius, z_max_kpc=6.0, model=2)
    assert column == pytest.approx(expected, rel=rel(0, expected, 3))


@pytest.mark.parametrize("model,expected", [(1, 0.264), (2, 0.122)])
def test_h2_local_density(model, expected):
    assert gas.n_h2_cm3(8.5, 0.0, model=model) == pytest.approx(expected, rel=rel(0, expected, 3))


@pytest.mark.parametrize("radius,model,expected", [(8.5, 1, 1.27e20), (8.5, 2, 8.98e19), (5.0, 1, 2.90e20),
                                                   (5.0, 2, 2.84e20)])
def test_h2_columns(radius, model, expected):
    column = gas.column_density_cm2(gas.n_h2_cm3, radius, z_max_kpc=2.0, model=model)
    assert column == pytest.approx(expected, rel=rel(0, expected, 3))


@pytest.mark.parametrize("model,expected", [(1, 2.69), (2, 679.0)])
def test_h2_centre(model, expected):
    assert gas.n_h2_cm3(0.0, 0.0, model=model) == pytest.approx(expected, rel=rel(0, expected, 3))


def test_hii_cordes():
    assert gas.n_hii_cm3(8.5, 0.0) == pytest.approx(0.0221, rel=rel(0, 0.0221, 3))
    assert gas.n_hii_cm3(4.0, 0.0) == pytest.approx(0.224, rel=rel(0, 0.224, 3))


def test_hi_surface_density_normalisation_dl90():
    # DL90 profile: where f_R = n_GB = 0.33 cm^-3 (R = 5.25 kpc, a GB76 bin centre with Y = .33),
    # the column is the DL90 value: integral of f_Z1 = 0.395*0.106*c + 0.107*0.265*c + 2*0.064*0.403 kpc cm^-3
    c = np.sqrt(np.pi / np.log(2))
    expected = (0.395 * 0.106 * c + 0.107 * 0.265 * c + 2 * 0.064 * 0.403) * KPC_CM  # ~6.2e20 (docs/galaxy_inputs.md#atomic-hydrogen)
    assert expected == pytest.approx(6.2e20, rel=0.01)
    assert gas.column_density_cm2(gas.n_hi_cm3, 5.25, model=1) == pytest.approx(expected, rel=1e-4)
    # mean over 4-8 kpc close to 6.2e20 (GB76 mean density 0.33 there, to ~4 %)
    columns = [gas.column_density_cm2(gas.n_hi_cm3, r, model=1, n_points=4001) for r in np.linspace(4, 8, 41)]
    assert np.mean(columns) == pytest.approx(6.2e20, rel=0.05)


def test_model2_rescaling_rule():
    # docs/galaxy_inputs.md#atomic-hydrogen: model 2 = model 1 evaluated at (R 10/R_sun, z 8.5/R_sun), times 8.5/R_sun
    r = np.array([1.0, 5.0, 8.3, 11.0, 17.0])
    z = np.array([0.0, 0.1, -0.3, 0.5, 1.0])
    for r_sun in (8.5, 8.3):
        expected = gas.n_hi_cm3(r * 10 / r_sun, z * 8.5 / r_sun, model=1) * 8.5 / r_sun
        np.testing.assert_allclose(gas.n_hi_cm3(r, z, model=2, r_sun_kpc=r_sun), expected, rtol=1e-12)


def test_hi_radial_profile_details():
    # f_R = 0.10 for R < 1 kpc (docs/galaxy_inputs.md#atomic-hydrogen); exponential tail beyond 15.75 kpc with 3 kpc scale
    np.testing.assert_allclose(gas.n_hi_cm3(np.array([0.0, 0.5, 0.99]), 0.0, model=1),
                               0.10 * 0.566 / 0.33, rtol=1e-12)
    ratio = gas.n_hi_cm3(19.0, 0.0, model=1) / gas.n_hi_cm3(16.0, 0.0, model=1)
    assert ratio == pytest.approx(np.exp(-1.0), rel=1e-12)
    assert gas.n_hi_cm3(100.0, 3.0, model=1) == pytest.approx(1e-20)  # floor


def test_h2_x_co_linear_and_profiles():
    base = gas.n_h2_cm3(6.0, 0.02, model=1)
    assert gas.n_h2_cm3(6.0, 0.02, model=1, x_co=3.8e20) == pytest.approx(2 * base, rel=1e-12)
    profile = lambda r: gas.x_co_profile(r, "gradient")
    assert gas.x_co_profile(8.5, "gradient") == pytest.approx(1.45e20, rel=5e-3)
    assert gas.x_co_profile(20.0, "gradient") == pytest.approx(3.89e20, rel=5e-3)
    np.testing.assert_allclose(gas.x_co_profile([3.0, 3.5, 5.0, 9.0, 12.0], "strong2004"),
                               [0.4e20, 0.4e20, 0.6e20, 1.5e20, 10e20])
    assert gas.n_h2_cm3(8.5, 0.0, model=1, x_co=profile) == pytest.approx(
        gas.n_h2_cm3(8.5, 0.0, model=1) * 1.45 / 1.9, rel=5e-3)
    assert gas.n_h2_cm3(22.0, 0.0, model=1) <= 1e-30
    with pytest.raises(ValueError):
        gas.x_co_profile(1.0, "nonsense")


def test_totals_and_helium():
    assert gas.total_hydrogen_cm3(0.5, 0.1, 0.02) == pytest.approx(0.72)
    assert gas.neutral_hydrogen_cm3(0.5, 0.1) == pytest.approx(0.7)
    assert gas.helium_cm3(1.0) == pytest.approx(0.11)
    assert gas.HE_TO_H == 0.11


def test_cell_average_z():
    # exact for a function linear in z; GALPROP sub-sampling for a Gaussian layer
    linear = lambda r, z: 1.0 + 2.0 * z + 0.0 * r
    np.testing.assert_allclose(gas.cell_average_z(linear, 8.5, np.array([0.0, 0.1, 0.2]), 0.1), [1.0, 1.2, 1.4])
    avg = gas.cell_average_z(gas.n_h2_cm3, np.array([8.5])[:, None], np.array([0.0])[None, :], 0.1, model=1)
    z_sub = np.linspace(-0.04, 0.04, 5)  # dzz = 0.02: 5 sub-samples at -0.04 ... 0.04
    assert avg[0, 0] == pytest.approx(np.mean(gas.n_h2_cm3(8.5, z_sub, model=1)), rel=1e-12)


def test_vectorised_shapes_and_bad_model():
    r = np.linspace(0, 20, 11)[:, None]
    z = np.linspace(-2, 2, 9)[None, :]
    for func in (gas.n_hi_cm3, gas.n_h2_cm3, gas.n_hii_cm3):
        out = func(r, z)
        assert out.shape == (11, 9) and np.all(out > 0) and np.all(np.isfinite(out))
        if func is not gas.n_h2_cm3:  # H2 has a midplane offset z0(R) (B88 table), not symmetric
            np.testing.assert_allclose(out, func(r, -z))
    with pytest.raises(ValueError):
        gas.n_hi_cm3(1.0, 0.0, model=3)
    with pytest.raises(ValueError):
        gas.n_hii_cm3(1.0, 0.0, model=7)


def test_hii_alternatives():
    # NE2001 thin disc peak 0.09 at R = 3.7, z = 0; thick disc 0.033/0.95 at R_sun
    thin = 0.09
    thick_at_37 = 0.033 / 0.95 * np.cos(np.pi * 3.7 / 34) / np.cos(np.pi * 8.5 / 34)
    assert gas.n_hii_cm3(3.7, 0.0, model=2) == pytest.approx(thin + thick_at_37, rel=1e-12)
    assert gas.n_hii_cm3(3.7, 0.0, model=3) == pytest.approx(thin + 0.014, rel=1e-12)


def test_numba_point_kernels_match_numpy():
    rng = np.random.default_rng(7)
    r = rng.uniform(0.0, 30.0, 300)
    z = rng.uniform(-3.0, 3.0, 300)
    r[:5] = [0.0, 8.5, 15.75, 21.5, 27.0]
    for model in (1, 2):
        for r_sun in (8.5, 8.3):
            np.testing.assert_allclose([gas.n_hi_point_cm3(a, b, model, r_sun) for a, b in zip(r, z)],
                                       gas.n_hi_cm3(r, z, model=model, r_sun_kpc=r_sun), rtol=1e-12)
            np.testing.assert_allclose([gas.n_h2_point_cm3(a, b, model, 2.0e20, r_sun) for a, b in zip(r, z)],
                                       gas.n_h2_cm3(r, z, model=model, x_co=2.0e20, r_sun_kpc=r_sun), rtol=1e-12)
    for model in (1, 2, 3):
        np.testing.assert_allclose([gas.n_hii_point_cm3(a, b, model) for a, b in zip(r, z)],
                                   gas.n_hii_cm3(r, z, model=model), rtol=1e-12)


def test_target_hydrogen_counts_two_atoms_per_molecule():
    """n_H = n_HI + 2 n_H2 + n_HII wherever the code forms it: the gas helpers, the propagation's
    environment (inelastic losses, secondary production) and the sky maps' gas (test_model_maps)."""
    from galdiff.propagation.model import GalaxyEnvironment

    n_hi, n_h2, n_hii = np.array([0.7, 0.0]), np.array([0.4, 0.3]), np.array([0.05, 0.0])
    expected = np.array([0.7 + 0.8 + 0.05, 0.6])
    np.testing.assert_allclose(gas.total_hydrogen_cm3(n_hi, n_h2, n_hii), expected, rtol=1e-15)
    np.testing.assert_allclose(gas.neutral_hydrogen_cm3(n_hi, n_h2), expected - n_hii, rtol=1e-15)
    env = GalaxyEnvironment(n_hi, n_h2, n_hii, np.ones(2), None, None)
    np.testing.assert_allclose(env.n_h_total_cm3, expected, rtol=1e-15)


def test_gas_model_of_a_configuration_is_the_gas_of_every_stage():
    """One propagation.galaxy, one gas: GasModel reads X_CO, the gas R_sun and He/H; its grid is the z-cell
    average of its point values (GALPROP nH_av), the propagation's environment holds the same arrays, and
    n_H2 is proportional to X_CO (n_H2 = eps_CO X_CO / kpc) while HI and HII do not depend on it."""
    from galdiff.propagation.grid import Grid
    from galdiff.propagation.model import galaxy_environment

    cfg = {"x_co": 3.8e20, "gas_r_sun_kpc": 8.3, "he_to_h": 0.09, "b0_microG": 5.0}
    model = gas.GasModel.from_config(cfg)
    assert (model.x_co, model.r_sun_kpc, model.he_to_h) == (3.8e20, 8.3, 0.09)
    assert gas.GasModel.from_config(None) == gas.GasModel()  # the schema's defaults are GALPROP's

    r, z = 2.0 * np.arange(11), -1.0 + 0.2 * np.arange(11)
    on_grid = model.on_grid_cm3(r, z)
    dz = z[1] - z[0]
    expected_h2 = gas.cell_average_z(gas.n_h2_cm3, r[:, None], z[None, :], dz, x_co=3.8e20, r_sun_kpc=8.3)
    np.testing.assert_allclose(on_grid["H2"], expected_h2, rtol=1e-14)
    default = gas.GasModel(r_sun_kpc=8.3).on_grid_cm3(r, z)
    np.testing.assert_allclose(on_grid["H2"], 2.0 * default["H2"], rtol=1e-12)
    for phase in ("HI", "HII"):
        np.testing.assert_array_equal(on_grid[phase], default[phase])

    grid = Grid(r_kpc=r, z_kpc=z, ek_GeV_per_n=np.geomspace(1.0, 10.0, 3))
    env = galaxy_environment(grid, cfg)
    for phase, array in (("HI", env.n_hi_cm3), ("H2", env.n_h2_cm3), ("HII", env.n_hii_cm3)):
        np.testing.assert_array_equal(array, on_grid[phase])
    assert env.he_to_h == 0.09

    points_r, points_z = np.array([0.5, 8.3, 14.0]), np.array([0.0, 0.05, -0.3])
    np.testing.assert_allclose(model.hydrogen_atoms_cm3(points_r, points_z),
                               gas.n_hi_cm3(points_r, points_z, r_sun_kpc=8.3)
                               + 2.0 * gas.n_h2_cm3(points_r, points_z, x_co=3.8e20, r_sun_kpc=8.3)
                               + gas.n_hii_cm3(points_r, points_z, r_sun_kpc=8.3), rtol=1e-15)
    assert model.description() == ("GALPROP analytic nHI model 2, nH2 model 2 (X_CO 3.8e20), nHII model 1, "
                                   "R_sun 8.3 kpc, z-cell averaged")
