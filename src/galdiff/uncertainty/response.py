"""Response of the region spectra to the nucleus fits' parameters: hadronic bands without a sky map per draw.

Propagation, the hadronic emissivities, the line of sight and the region average are all linear in
the injection Q of protons and helium (docs/architecture.md#the-chain-is-linear). For one transport
set-up the region spectrum of a hadronic component c is therefore I_c = R_c[Q_p, Q_He] with R_c
linear. The fits' parameters theta enter only through Q(theta); linearising Q (not the chain) around
the best fit,

    I_c(theta) = I_c(theta_hat) + sum_k R_c[dQ/dtheta_k] (theta_k - theta_hat_k),

needs one chain run (propagation + emission + maps + region average) per free parameter (forward
differences), done once per model (:class:`HadronicChain`, :func:`hadronic_response`); a parameter
draw then costs one small matrix product. :func:`validate_response` compares the linear prediction with the full chain run at a
perturbed parameter set (the issue's 1 % check).

Not in this response (issue 13, still to do): the leptons' parameters (bremsstrahlung, IC) and the
secondary leptons' dependence on p and He; the EXTRA fit's response to the hadronic base (its scales
are drawn from their own covariance, independently).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .bands import internal_best_and_limits

__all__ = ["HADRONIC_COMPONENTS", "injection_derivatives", "HadronicChain", "build_hadronic_chain", "hadronic_response",
           "linear_prediction", "validate_response", "write_response_h5", "read_response_h5"]

#: region-spectrum columns the p and He injections move (the rest have no hadronic part)
HADRONIC_COMPONENTS = ("pi0", "gamma_total", "neutrino_diffuse", "neutrino_e", "neutrino_mu", "neutrino_tau",
                       "neutrino_total")


def _values(names, internal):
    return {n.removeprefix("log10_"): (10.0**x if n.startswith("log10_") else float(x)) for n, x in zip(names, internal)}


def injection_of(model, names, internal) -> np.ndarray:
    """Q(theta) on the species grid [cm^-3 s^-1 (GeV/n)^-1] of a nucleus fit (q0 from its normalisation)."""
    return model.injection(_values(names, internal))[model.species.name]


def injection_derivatives(model, fit_entry: Mapping, step: float = 1e-4):
    """dQ/dtheta_k of a nucleus fit for every free spectral parameter (central differences).

    Returns
    -------
    dict
        ``names`` (free internal names), ``best`` (their values), ``covariance`` (their block of the
        fit's covariance, i.e. marginalised over the nuisance scales), ``q_best`` (n_E,) and
        ``derivatives`` (n_free, n_E); ``all_names``/``all_best`` the full internal vector.
    """
    names, best, covariance, _ = internal_best_and_limits(model, fit_entry)
    own = {p.internal_name for p in model.params}
    free = [i for i, name in enumerate(names) if covariance[i, i] > 0 and name in own]
    derivatives = []
    for i in free:
        up, down = best.copy(), best.copy()
        up[i] += step
        down[i] -= step
        derivatives.append((injection_of(model, names, up) - injection_of(model, names, down)) / (2.0 * step))
    return {"names": [names[i] for i in free], "best": best[free], "covariance": covariance[np.ix_(free, free)],
            "q_best": injection_of(model, names, best), "derivatives": np.asarray(derivatives),
            "all_names": names, "all_best": best, "free_index": free}


class HadronicChain:
    """Injections of p and He -> region spectra of the hadronic components, the workflow's own chain.

    Parameters
    ----------
    solvers : mapping
        ``{"proton" | "helium": (SteadyStateSolver, source_shape)}`` (:func:`galdiff.propagation.run.setup_solver`).
    emission_grid : galdiff.emission.EmissionGrid
        Built as the emissivity rule builds it (same energy axes and He/H).
    kappa_per_kpc : ndarray
        Pair-absorption coefficients of the model's emissivity file (they do not depend on the CRs).
    nside, geometry, operators, galaxy_cfg, absorption
        As for :func:`galdiff.skymaps.model_maps.model_map_cubes` (the cached operators).
    weights : mapping
        ``{region: (weights, masked fraction)}`` (:func:`galdiff.skymaps.region_spectra.region_weights`).
    """

    def __init__(self, solvers: Mapping, emission_grid, kappa_per_kpc, *, nside: int, geometry, operators,
                 galaxy_cfg: Mapping | None, absorption: bool, weights: Mapping):
        self.solvers = dict(solvers)
        self.emission_grid = emission_grid
        self.kappa_per_kpc = kappa_per_kpc
        self.nside, self.geometry, self.operators = int(nside), geometry, operators
        self.galaxy_cfg, self.absorption, self.weights = galaxy_cfg, bool(absorption), weights

    def region_spectra(self, injections: Mapping) -> dict:
        """``{region: {component: (n_E,)}}`` of :data:`HADRONIC_COMPONENTS` for ``{species: Q}`` (missing: 0)."""
        from ..emission import species_intensity_from_density
        from ..propagation.greens import propagate_spectrum
        from ..skymaps.region_spectra import average_cubes
        from ..skymaps.model_maps import model_map_cubes

        intensities = {}
        for species in ("proton", "helium"):
            solver, shape = self.solvers[species]
            ek = solver.grid.ek_GeV_per_n
            q = injections.get(species)
            density = (propagate_spectrum(solver, shape, q) if q is not None
                       else np.zeros((ek.size,) + tuple(solver.grid.shape[1:])))
            intensities[species] = (ek, species_intensity_from_density(density, ek, species))
        emissivity = self.emission_grid.compute(intensities, include=("pi0", "neutrinos"))
        emissivity.kappa_per_kpc = self.kappa_per_kpc
        cubes = model_map_cubes(emissivity, self.nside, self.geometry, self.galaxy_cfg, absorption=self.absorption,
                                operators=self.operators)
        _, spectra = average_cubes({c: cubes[c] for c in HADRONIC_COMPONENTS}, self.weights)
        return spectra


def hadronic_response(chain: HadronicChain, derivatives: Mapping, models: Mapping, step_sigma: float = 0.1,
                      best_spectra: Mapping | None = None) -> dict:
    """``{species: {region: {component: (n_free, n_E)}}}``: d(region spectrum)/d(theta_k) of the chain.

    Forward differences of the whole chain in each free internal parameter, with a step of
    ``step_sigma`` times its error, the other species at its best fit (one chain run per parameter
    plus the best fit, ``best_spectra`` if given). Differencing the chain (rather than applying it to
    dQ/dtheta_k) keeps it exact where the workflow's chain is not strictly linear: helium is regridded
    log-log onto the protons' energy grid in the emission stage, which is homogeneous but not
    additive, so a signed dQ cannot be pushed through it. The truncation error of the forward
    difference is step_sigma / 2 of the second-order term over one sigma (5 % of an already small
    term); :func:`validate_response` measures the total.
    """
    best_injections = {species: entry["q_best"] for species, entry in derivatives.items()}
    base = best_spectra if best_spectra is not None else chain.region_spectra(best_injections)
    out = {}
    for species, entry in derivatives.items():
        rows = []
        for k, index in enumerate(entry["free_index"]):
            step = step_sigma * float(np.sqrt(entry["covariance"][k, k]))
            internal = entry["all_best"].copy()
            internal[index] += step
            moved = chain.region_spectra({**best_injections,
                                          species: injection_of(models[species], entry["all_names"], internal)})
            rows.append({region: {c: (moved[region][c] - base[region][c]) / step for c in HADRONIC_COMPONENTS}
                         for region in moved})
        out[species] = {region: {c: np.stack([row[region][c] for row in rows]) for c in HADRONIC_COMPONENTS}
                        for region in rows[0]} if rows else {}
    return out


def linear_prediction(best_spectra: Mapping, response: Mapping, deltas: Mapping) -> dict:
    """Region spectra at theta_hat + delta from the response: ``{region: {component: (..., n_E)}}``.

    ``deltas`` is ``{species: (n_free,) or (n_draws, n_free)}`` of internal-parameter offsets.
    """
    out = {}
    for region, columns in best_spectra.items():
        out[region] = {}
        for component, best in columns.items():
            total = np.asarray(best, dtype=float)
            for species, delta in deltas.items():
                r = response.get(species, {}).get(region, {}).get(component)
                if r is not None and r.size:
                    total = total + np.asarray(delta, dtype=float) @ r
            out[region][component] = total
    return out


def validate_response(chain: HadronicChain, derivatives: Mapping, models: Mapping, response: Mapping,
                      best_spectra: Mapping, n_sigma: float = 1.0, seed: int = 0,
                      components: Sequence[str] = ("pi0", "neutrino_total")) -> dict:
    """The 1 % check: full chain at a perturbed parameter set against the linear prediction.

    The perturbation is one draw from each fit's covariance scaled to ``n_sigma`` (its Mahalanobis
    length), applied to every free parameter at once.

    Returns
    -------
    dict
        ``max_relative_deviation`` (over regions, components and every energy with a non-zero
        spectrum), per region and component the largest deviation, the relative change the
        perturbation made (``max_relative_change``, to show the check is not empty) and the offsets.
    """
    rng = np.random.default_rng(int(seed))
    deltas, injections = {}, {}
    for species, entry in derivatives.items():
        factor = np.linalg.cholesky(entry["covariance"])
        direction = rng.standard_normal(len(entry["names"]))
        delta = factor @ (n_sigma * direction / np.linalg.norm(direction))
        deltas[species] = delta
        internal = entry["all_best"].copy()
        internal[entry["free_index"]] += delta
        injections[species] = injection_of(models[species], entry["all_names"], internal)
    direct = chain.region_spectra(injections)
    predicted = linear_prediction(best_spectra, response, deltas)
    report, worst, change = {}, 0.0, 0.0
    for region in direct:
        report[region] = {}
        for component in components:
            full = np.asarray(direct[region][component], dtype=float)
            significant = full > 0  # every energy: the bands matter most in the steep tails
            if not significant.any():
                continue
            deviation = float(np.max(np.abs(predicted[region][component][significant] / full[significant] - 1.0)))
            moved = float(np.max(np.abs(np.asarray(best_spectra[region][component])[significant] / full[significant]
                                        - 1.0)))
            report[region][component] = {"max_relative_deviation": deviation, "max_relative_change": moved}
            worst, change = max(worst, deviation), max(change, moved)
    return {"max_relative_deviation": worst, "max_relative_change": change, "n_sigma": float(n_sigma),
            "by_region": report, "offsets": {s: d.tolist() for s, d in deltas.items()}}


def build_hadronic_chain(model_cfg: Mapping, propagation_cfg: Mapping, emission_cfg: Mapping, maps_cfg: Mapping,
                         regions, *, electron_ek_GeV, emissivity, los_paths: Sequence, mask=None,
                         fine_nside: int | None = None) -> HadronicChain:
    """The workflow's chain for one model, from its configuration and cached inputs.

    Parameters
    ----------
    model_cfg, propagation_cfg, emission_cfg, maps_cfg : mapping
        ``models.<model>``, ``propagation``, ``emission``, ``maps``.
    regions : sequence of SkyRegion
    electron_ek_GeV : array_like
        The lepton grid (the emission grid's second axis; unused by the hadronic components).
    emissivity : galdiff.emission.EmissivityResult
        The model's emissivity file (its pair-absorption table, and the operators' check).
    los_paths : (gas, path)
        The cached line-of-sight operator files.
    """
    from ..emission import EmissionGrid
    from ..propagation.run import setup_solver
    from ..propagation.setups import transport_setup
    from ..skymaps.region_spectra import region_weights
    from ..skymaps.model_maps import load_operators, map_geometry

    galaxy_cfg = dict(propagation_cfg.get("galaxy", {}))
    solvers = {}
    for species in ("proton", "helium"):
        solver, _, shape = setup_solver(transport_setup(model_cfg, propagation_cfg, species))
        solvers[species] = (solver, shape)
    energy_cfg = emission_cfg["gamma_energy_GeV"]
    # the energy axis exactly as galdiff.emission.model_emissivity forms it
    decades = np.log10(float(energy_cfg["max"]) / float(energy_cfg["min"]))
    gamma_energy = np.geomspace(float(energy_cfg["min"]), float(energy_cfg["max"]),
                                int(round(decades * float(energy_cfg["per_decade"]))) + 1)
    proton_grid = solvers["proton"][0].grid
    grid = EmissionGrid(proton_grid.r_kpc, proton_grid.z_kpc, proton_grid.ek_GeV_per_n, np.asarray(electron_ek_GeV),
                        gamma_energy_GeV=gamma_energy, isrf=None, he_to_h=float(galaxy_cfg.get("he_to_h", 0.11)))
    nside = int(maps_cfg["nside"])
    geometry = map_geometry(maps_cfg, model_cfg["propagation"], float(galaxy_cfg.get("r_sun_kpc", 8.3)))
    operators = load_operators(los_paths[0], los_paths[1], emissivity, geometry, nside)
    weights = region_weights(list(regions), nside, mask=mask, fine_nside=fine_nside)
    return HadronicChain(solvers, grid, emissivity.kappa_per_kpc, nside=nside, geometry=geometry, operators=operators,
                         galaxy_cfg=galaxy_cfg, absorption=bool(maps_cfg.get("absorption", True)), weights=weights)


def write_response_h5(path, derivatives: Mapping, response: Mapping, best_spectra: Mapping, check: Mapping,
                      meta: Mapping | None = None) -> None:
    """Write a model's hadronic response (results/bands/<model>/response_hadronic.h5, galdiff.io records)."""
    import json

    from ..io import writing_h5

    with writing_h5(path) as handle:
        handle.attrs["check_json"] = json.dumps(check)
        handle.attrs["meta_json"] = json.dumps(dict(meta or {}))
        for species, entry in derivatives.items():
            group = handle.create_group(species)
            group.attrs["names_json"] = json.dumps(entry["names"])
            group["best"] = entry["best"]
            group["covariance"] = entry["covariance"]
            for region, columns in response.get(species, {}).items():
                for component, array in columns.items():
                    group[f"response/{region}/{component}"] = array
        for region, columns in best_spectra.items():
            for component, array in columns.items():
                handle[f"best/{region}/{component}"] = np.asarray(array)


def read_response_h5(path) -> dict:
    """``{"species": {s: {names, best, covariance, response: {region: {component}}}}, "best": ..., "check": ...}``."""
    import json

    from ..io import reading_h5

    with reading_h5(path) as handle:
        out = {"check": json.loads(handle.attrs["check_json"]), "species": {}, "best": {}}
        for species in ("proton", "helium"):
            if species not in handle:
                continue
            group = handle[species]
            out["species"][species] = {
                "names": json.loads(group.attrs["names_json"]), "best": group["best"][()],
                "covariance": group["covariance"][()],
                "response": {region: {c: group["response"][region][c][()] for c in group["response"][region]}
                             for region in (group["response"] if "response" in group else {})}}
        for region in handle["best"]:
            out["best"][region] = {c: handle["best"][region][c][()] for c in handle["best"][region]}
    return out
