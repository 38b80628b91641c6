"""The batched hadronic response (galdiff.uncertainty.response) against the unbatched full chain.

Truths: propagation, the hadronic emission and the line of sight are linear in the p and He
injections, so one batched pass of m injection directions must equal m separate runs of the full
chain (propagation + emission + sky maps + region averages), differenced; without absorption to the
solver's tolerance, with pair absorption within the issue's 1 % (the response takes the best fit's
absorption ratio). The region-averaged line-of-sight weights must reproduce the region average of
the maps exactly. The leptons likewise (bremsstrahlung and IC of a batch of e+ + e- injections,
IC through the low-rank photon field, whose error is bounded by its 1e-4 tolerance of the field's
peak). Small grid: the tiny configuration's transport grid, N_side 4.
"""

from __future__ import annotations

import numpy as np
import pytest

from galdiff.config import load_config, validate_config
from galdiff.emission import species_intensity_from_density
from galdiff.propagation.greens import propagate_spectrum
from galdiff.skymaps.model_maps import build_operators, map_geometry
from galdiff.skymaps.region_spectra import average_cubes, region_weights
from galdiff.skymaps.regions import SkyRegion
from galdiff.galaxy.isrf import ISRF_FILENAME, read_isrf
from galdiff.uncertainty.response import (HADRONIC_COMPONENTS, LEPTONIC_COMPONENTS, HadronicChain, HadronicResponse,
                                          LeptonResponse, absorption_ratios, hadronic_emission_grid, hadronic_response,
                                          nucleus_solver, nucleus_solvers, region_los_weights, span_coefficients,
                                          span_densities)

NSIDE = 4
REGIONS = ("all_sky", "tibet_window")


@pytest.fixture(scope="module")
def setup(request):
    config = load_config([request.config.rootpath / "tests/config/tiny.yaml"])
    validate_config(config)
    model_cfg, propagation = config["models"]["dr_low"], config["propagation"]
    solvers = nucleus_solvers(model_cfg, propagation)
    grid = hadronic_emission_grid(solvers["proton"][0].grid, propagation, config["emission"], [0.1, 1.0])
    geometry = map_geometry({**config["maps"], "absorption": True}, model_cfg["propagation"])
    operators = build_operators(NSIDE, grid.r_kpc, grid.z_kpc, geometry, propagation["galaxy"])
    regions = [SkyRegion.from_config(name, config["regions"][name]) for name in REGIONS]
    weights = region_weights(regions, NSIDE, fine_nside=8 * NSIDE)
    ek = solvers["proton"][0].grid.ek_GeV_per_n
    injections = {"proton": 1e-10 * ek**-2.4 * np.exp(-ek / 3e6), "helium": 1e-11 * ek**-2.3 * np.exp(-ek / 2e6)}
    # the CMB alone as the absorber: the pair-absorption table of an emission grid without ISRF
    kappa = grid.absorption_per_kpc()
    return {"solvers": solvers, "grid": grid, "geometry": geometry, "operators": operators, "weights": weights,
            "galaxy": propagation["galaxy"], "injections": injections, "kappa": kappa, "ek": ek}


def _chain(setup, absorption):
    return HadronicChain(setup["solvers"], setup["grid"], setup["kappa"], nside=NSIDE, geometry=setup["geometry"],
                         operators=setup["operators"], galaxy_cfg=setup["galaxy"], absorption=absorption,
                         weights=setup["weights"])


def _directions(ek, q):
    """Three injection directions: the index, a soft cutoff and a bump around 100 TeV (signed)."""
    x = np.log(ek / 1e3)
    return np.stack([-x * q, -(ek / 1e6) * q, np.exp(-0.5 * (x - np.log(100.0)) ** 2) * q])


def test_region_weights_reproduce_the_region_average_of_the_map(setup):
    gas, _ = setup["operators"]
    field = setup["grid"].pi0_per_H(np.ones((setup["ek"].size,) + setup["grid"].shape))
    cube = gas.intensity(field)
    _, averaged = average_cubes({"pi0": (None, cube)}, setup["weights"])
    for region, v in region_los_weights(gas, setup["weights"]).items():
        direct = np.tensordot(v, field, axes=([0, 1], [0, 1]))
        assert np.all(direct > 0)
        assert np.allclose(direct, averaged[region]["pi0"], rtol=1e-12, atol=0.0)


@pytest.mark.parametrize("species", ["proton", "helium"])
def test_batched_response_equals_the_unbatched_chain_without_absorption(setup, species):
    chain = _chain(setup, absorption=False)
    gas, _ = setup["operators"]
    response = HadronicResponse(setup["solvers"], setup["grid"], region_los_weights(gas, setup["weights"]), None)
    q = setup["injections"][species]
    directions = _directions(setup["ek"], q)
    batched = response.region_offsets(species, directions)  # all directions in one solve
    base = chain.region_spectra(setup["injections"])
    for k, dq in enumerate(directions):  # one full chain per direction (linear: a unit step is exact)
        moved = chain.region_spectra({**setup["injections"], species: q + dq})
        for region in REGIONS:
            for component in ("pi0", "neutrino_e", "neutrino_mu", "neutrino_tau", "neutrino_total"):
                difference = moved[region][component] - base[region][component]
                scale = np.max(np.abs(difference))
                assert scale > 0
                assert np.allclose(batched[region][component][k], difference, rtol=0.0, atol=1e-7 * scale), \
                    (region, component, k)


def test_batched_response_with_absorption_is_within_one_percent_of_the_full_chain(setup):
    """The absorbed pi0 of a perturbed injection: best fit + response against the full chain, <1 %."""
    chain = _chain(setup, absorption=True)
    gas, _ = setup["operators"]
    los = region_los_weights(gas, setup["weights"])
    best = chain.region_spectra(setup["injections"])
    # the best fit's unabsorbed pi0 emissivity, as the emissivity rule writes it
    intensities = {}
    for species, (solver, shape) in setup["solvers"].items():
        density = propagate_spectrum(solver, shape, setup["injections"][species])
        intensities[species] = (setup["ek"], species_intensity_from_density(density, setup["ek"], species))
    emissivity = setup["grid"].compute(intensities, include=("pi0", "neutrinos"))
    ratios = absorption_ratios(los, emissivity, {r: best[r]["pi0"] for r in REGIONS})
    assert min(float(r.min()) for r in ratios.values()) < 0.97  # absorption matters at the top energies
    response = HadronicResponse(setup["solvers"], setup["grid"], los, ratios)
    q = setup["injections"]["proton"]
    dq = 0.05 * _directions(setup["ek"], q)[0]  # the index softer by 0.05 (to first order; q + dq > 0)
    predicted = response.region_offsets("proton", dq[None])
    moved = chain.region_spectra({**setup["injections"], "proton": q + dq})
    for region in REGIONS:
        full = moved[region]["pi0"]
        linear = best[region]["pi0"] + predicted[region]["pi0"][0]
        positive = full > 0
        assert np.max(np.abs(best[region]["pi0"][positive] / full[positive] - 1)) > 0.1  # the check is not empty
        assert np.max(np.abs(linear[positive] / full[positive] - 1)) < 0.01, region


@pytest.fixture(scope="module")
def leptons(setup, mirror_dir, request):
    """The tiny configuration's electron solver, its emission grid (with the ISRF) and the region weights of the
    gas-weighted and path-length operators."""
    path = mirror_dir / "galaxy" / ISRF_FILENAME
    if not path.is_file():
        pytest.skip(f"ISRF file not found: {path}")
    config = load_config([request.config.rootpath / "tests/config/tiny.yaml"])
    validate_config(config)
    electron = nucleus_solver(config["models"]["dr_low"], config["propagation"], "electron", isrf_path=path)
    grid = hadronic_emission_grid(setup["solvers"]["proton"][0].grid, config["propagation"], config["emission"],
                                  electron[0].grid.ek_GeV_per_n, isrf=read_isrf(path))
    gas, path_operator = setup["operators"]
    return electron, grid, (region_los_weights(gas, setup["weights"]), region_los_weights(path_operator, setup["weights"]))


def test_batched_lepton_response_equals_the_unbatched_chain(setup, leptons):
    """Bremsstrahlung and IC of three e+ + e- injection directions at once against the full chain per direction."""
    electron, grid, weights = leptons
    ek = electron[0].grid.ek_GeV_per_n
    response = LeptonResponse(electron, grid, *weights, None)
    chain = HadronicChain({}, grid, setup["kappa"], nside=NSIDE, geometry=setup["geometry"],
                          operators=setup["operators"], galaxy_cfg=setup["galaxy"], absorption=False,
                          weights=setup["weights"])
    q = 1e-12 * ek**-2.5 * np.exp(-ek / 1e4)
    directions = _directions(ek, q)
    densities = response.densities(directions)
    batched = response.region_offsets_of_densities(densities)
    for k in range(len(directions)):  # the chain is linear: each direction's own region spectra
        direct = chain.region_spectra_from_densities({"electron": electron[0].to_full(densities[k])})
        for region in REGIONS:
            for component in ("bremsstrahlung", "inverse_compton", "gamma_total"):
                full = direct[region][component]
                scale = np.max(np.abs(full))
                assert scale > 0
                tolerance = 1e-9 if component == "bremsstrahlung" else 1e-3  # IC: the low-rank photon field
                assert np.allclose(batched[region][component][k], full, rtol=0.0, atol=tolerance * scale), \
                    (region, component, k)
    # the batched solve itself against one solve per direction
    single = electron[0].solve_interior(directions[1][:, None] * electron[0].to_unknowns(
        np.asarray(electron[1])[None])[0][None, :])
    assert np.allclose(densities[1], single, rtol=0.0, atol=1e-5 * np.abs(single).max())


def test_injection_basis_reproduces_nonlinear_draws():
    """Draws of a power law with a loose exponential cutoff (a decade of error on log10 Ec): far beyond
    the cutoff the injection changes by orders of magnitude, which no linearisation in the parameters
    follows, but the SVD basis reproduces every draw's offset to its tolerance of the envelope."""
    from galdiff.uncertainty.response import injection_basis

    rng = np.random.default_rng(4)
    ek = np.geomspace(1.0, 1e7, 113)
    index, log_cut = 2.4 + 0.05 * rng.standard_normal(400), 5.0 + 1.0 * rng.standard_normal(400)
    q = ek[None, :] ** -index[:, None] * np.exp(-ek[None, :] / 10.0 ** log_cut[:, None])
    best = ek**-2.4 * np.exp(-ek / 1e5)
    delta = q - best[None, :]
    coefficients, directions = injection_basis(delta, tolerance=1e-3)
    envelope = np.max(np.abs(delta), axis=0)
    assert directions.shape[0] < ek.size // 2
    assert np.all(np.abs(coefficients @ directions - delta) <= 1e-3 * envelope[None, :] * (1 + 1e-9))
    # the linearisation in (index, log_cut) misses the tail by orders of magnitude
    d_index, d_cut = -np.log(ek) * best, best * (ek / 1e5) * np.log(10.0)
    linear = (index - 2.4)[:, None] * d_index + (log_cut - 5.0)[:, None] * d_cut
    assert np.max(np.abs(linear - delta)[:, -1] / envelope[-1]) > 0.5


def test_band_edges_with_the_default_accuracy_settings_match_tight_ones(setup, request):
    """bands.basis_tolerance and bands.solver_rtol (band_response) loosen the basis and the batched GMRES
    solves below what a response check needs; the 68 % band edges of the region spectra over the draws
    must still agree with those of tight settings (basis 1e-8, GMRES 1e-10) within 1 % of the band's
    half-width at every energy where the band is resolved (half-width above 1e-6 of the spectrum)."""
    from galdiff.uncertainty.response import hadronic_response, injection_basis

    config = load_config([request.config.rootpath / "tests/config/tiny.yaml"])
    validate_config(config)  # the schema's defaults: what the workflow runs
    loose = (float(config["bands"]["basis_tolerance"]), float(config["bands"]["solver_rtol"]))
    gas, _ = setup["operators"]
    los = region_los_weights(gas, setup["weights"])
    ek = setup["ek"]
    rng = np.random.default_rng(11)
    index, log_cut = 2.4 + 0.03 * rng.standard_normal(400), 6.5 + 0.3 * rng.standard_normal(400)
    q = 1e-10 * ek[None, :] ** -index[:, None] * np.exp(-ek[None, :] / 10.0 ** log_cut[:, None])
    best = 1e-10 * ek**-2.4 * np.exp(-ek / 10.0**6.5)
    edges = {}
    for label, (tolerance, rtol) in {"loose": loose, "tight": (1e-8, 1e-10)}.items():
        coefficients, directions = injection_basis(q - best[None, :], tolerance)
        response = HadronicResponse(setup["solvers"], setup["grid"], los, None, rtol=rtol)
        rows = hadronic_response(response, {"proton": {"names": list(range(directions.shape[0])),
                                                       "derivatives": directions}})["proton"]
        base = response.region_offsets("proton", best[None])
        edges[label] = {(region, component): np.quantile(base[region][component][0] + coefficients @ rows[region][component],
                                                         [0.16, 0.84], axis=0)
                        for region in REGIONS for component in ("pi0", "neutrino_diffuse")}
    for key, (lo, hi) in edges["tight"].items():
        half = 0.5 * (hi - lo)
        resolved = half > 1e-6 * np.abs(lo + hi)
        assert np.count_nonzero(resolved) > 10, key
        shift = np.maximum(np.abs(edges["loose"][key][0] - lo), np.abs(edges["loose"][key][1] - hi))
        assert np.max(shift[resolved] / half[resolved]) < 0.01, key


def test_span_criterion_accepts_normalisations_and_rejects_shape_changes():
    """A fit with only normalisations free moves Q along its best-fit components: accepted, with the exact
    coefficients; an index, a cutoff or a bump changes the shape: rejected; so does a direction that is
    non-zero where every component vanishes, or one off the span by far more than rounding."""
    ek = np.geomspace(0.1, 1e7, 200)
    electron = 1e-12 * ek**-2.6 * np.exp(-ek / 1e4)
    positron = 1e-14 * ek**-2.2 * np.exp(-ek / 3e3)
    coefficients = np.array([[0.3, 0.0], [-2e-3, 0.5]])
    directions = coefficients @ np.stack([electron, positron])
    found = span_coefficients(directions, np.stack([electron, positron]))
    assert found is not None
    assert np.allclose(found, coefficients, rtol=1e-10, atol=1e-14)
    assert span_coefficients(0.07 * electron, electron[None]) is not None  # a single component, one row
    for shape_change in _directions(ek, electron):
        assert span_coefficients(shape_change, electron[None]) is None
        assert span_coefficients(np.stack([0.1 * electron, shape_change]), np.stack([electron, positron])) is None
    assert span_coefficients(0.2 * electron * (1.0 + 1e-6 * np.sin(ek)), electron[None]) is None
    truncated = np.where(ek < 1e5, electron, 0.0)
    assert span_coefficients(electron, truncated[None]) is None


def test_response_from_propagated_densities_equals_the_solve_path(setup):
    """An as-printed-like basis (one direction, a multiple of the best fit's injection): region spectra from the
    best-fit density, combined by span_densities, against the batched solve at the workflow's GMRES rtol (1e-4)."""
    gas, _ = setup["operators"]
    los = region_los_weights(gas, setup["weights"])
    rtol = 1e-4  # bands.solver_rtol's default
    solved = HadronicResponse(setup["solvers"], setup["grid"], los, None, rtol=rtol)
    no_solver = HadronicResponse({}, setup["grid"], los, None)
    for species in ("proton", "helium"):
        q = setup["injections"][species]
        solver, shape = setup["solvers"][species]
        best_density = propagate_spectrum(solver, shape, q)  # the best-fit propagation, as on disk
        directions = np.stack([-0.04 * q])
        coefficients = span_coefficients(directions, q[None])
        assert coefficients is not None and np.isclose(coefficients[0, 0], -0.04, rtol=1e-12)
        basis = {"names": ["basis0"], "best": np.zeros(1), "derivatives": directions}
        via_solve = hadronic_response(solved, {species: basis})[species]
        from_disk = hadronic_response(no_solver, {species: basis | {
            "densities": span_densities(coefficients, best_density[None])}})[species]
        for region in REGIONS:
            for component in HADRONIC_COMPONENTS:
                a, b = from_disk[region][component][0], via_solve[region][component][0]
                scale = np.max(np.abs(b))
                assert scale > 0
                assert np.allclose(a, b, rtol=0.0, atol=rtol * scale), (species, region, component)
        # the basis of a refit model is not the best fit's direction: the criterion sends it to the solver
        assert span_coefficients(_directions(setup["ek"], q), q[None]) is None


def test_lepton_response_from_full_grid_densities_needs_no_solver(leptons):
    """LeptonResponse without a solver (densities on the full grid) equals the one on the solver's unknowns."""
    electron, grid, weights = leptons
    ek = electron[0].grid.ek_GeV_per_n
    with_solver = LeptonResponse(electron, grid, *weights, None)
    without = LeptonResponse(None, grid, *weights, None)
    q = 1e-12 * ek**-2.5 * np.exp(-ek / 1e4)
    densities = with_solver.densities(np.stack([q, 0.3 * q]))
    expected = with_solver.region_offsets_of_densities(densities)
    got = without.region_offsets_of_full_densities(np.stack([electron[0].to_full(d) for d in densities]))
    for region in REGIONS:
        for component in LEPTONIC_COMPONENTS:
            scale = np.max(np.abs(expected[region][component]))
            assert scale > 0
            assert np.allclose(got[region][component], expected[region][component], rtol=0.0, atol=1e-12 * scale)
