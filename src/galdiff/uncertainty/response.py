"""Response of the region spectra to the injection fits' parameters: bands without a sky map per draw.

Propagation, the emissivities, the line of sight and the region average are all linear in the
injections Q of protons, helium and the leptons (docs/architecture.md#the-chain-is-linear). The fits'
parameters theta enter only through Q(theta), which is not linear in theta (far beyond a loosely
constrained cutoff a draw moves Q by orders of magnitude; :func:`linear_validity_energy` shows a band
linear in theta failing above a few hundred GeV at the default fits). So the band draws theta_i
themselves are taken (:func:`injection_draws`), their exact injection offsets Q(theta_i) - Q_best
are written on a small basis (SVD, :func:`injection_basis`), and only the r basis directions d_k go
through the chain R_c:

    I_c(theta_i) = I_c(theta_hat) + sum_k a_ik R_c[d_k],   Q(theta_i) - Q_best = sum_k a_ik d_k,

exact up to the basis' tolerance. Cheap by design (:class:`HadronicResponse`,
:class:`LeptonResponse`): all directions of a fit go through one batched transport solve on the
factorised solver, or none where they all lie in the span of the best fit's injection components
(only normalisations fitted, :func:`span_coefficients`: the best-fit densities, combined); no
emissivity field and no map is formed, since
the region average of a map is V_r . q for one region-averaged line-of-sight weight V_r per region
(:func:`region_los_weights`), and V_r . q = M (V_r . J) for the emission matrices M (hadronic: pi0,
neutrinos; bremsstrahlung with the cells' ionised fraction; IC with the low-rank photon field). Pair
absorption enters as the best fit's absorbed / unabsorbed ratio per region and energy
(:func:`absorption_ratios`). A draw then costs one small matrix product
(:mod:`galdiff.uncertainty.extra_bands`, which reads the draws' coefficients a_ik from the response
file); without coefficients it falls back to the linearisation (rows dI/dtheta_k, :func:`injection_derivatives`).

:func:`compare_with_chain` (the issue's 1 % check) compares best fit + response with the full chain
(propagation + emission + maps + region average, :class:`HadronicChain`) at one band draw of every
fit; :func:`chain_difference_response` is the unbatched reference (one full chain per parameter).

Not in this response (issue 13, still to do): the secondary leptons' dependence on p and He; the
EXTRA fit's response to the cosmic-ray draws (its scales are drawn from their own covariance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .bands import internal_best_and_limits

__all__ = ["HADRONIC_COMPONENTS", "injection_derivatives", "HadronicChain", "build_hadronic_chain", "hadronic_response",
           "region_los_weights", "region_los_weights_of_model", "absorption_ratios", "HadronicResponse",
           "LEPTONIC_COMPONENTS", "LeptonResponse", "lepton_response",
           "chain_difference_response", "linear_prediction", "perturbed_parameters", "compare_with_chain",
           "validate_response", "linear_validity_energy", "injection_draws", "injection_basis", "SPAN_TOLERANCE", "best_injection_components", "span_coefficients", "span_densities", "nucleus_solver", "nucleus_solvers", "hadronic_emission_grid", "write_response_h5",
           "read_response_h5"]

#: region-spectrum columns the p and He injections move (the rest have no hadronic part)
HADRONIC_COMPONENTS = ("pi0", "gamma_total", "neutrino_diffuse", "neutrino_e", "neutrino_mu", "neutrino_tau",
                       "neutrino_total")


def _values(names, internal):
    return {n.removeprefix("log10_"): (10.0**x if n.startswith("log10_") else float(x)) for n, x in zip(names, internal)}


def injection_of(model, names, internal) -> np.ndarray:
    """Q(theta) on the species grid [cm^-3 s^-1 (GeV/n)^-1] of a fit (q0 from its normalisation).

    For the lepton fit the sum of its primary injections (e-, the extra e+ and, with pairs, the extra
    e-): e+ and e- share one transport (same losses and diffusion), and bremsstrahlung and IC see
    their sum only.
    """
    injections = model.injection(_values(names, internal))
    if model.species.name in injections:
        return injections[model.species.name]
    return np.sum([np.asarray(q, dtype=float) for q in injections.values()], axis=0)


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


def linear_validity_energy(greens, ek_GeV, derivatives: Mapping, model, *, n_samples: int = 400, seed: int = 0,
                           tolerance: float = 0.01, width_tolerance: float = 0.2,
                           levels: Sequence[float] = (0.68, 0.95), start_GeV: float = 100.0) -> float:
    """Highest energy up to which the linearised band of a fit's draws is the exact one [GeV (/n)].

    The chain is linear in Q, but Q(theta) is not linear in theta: far beyond a poorly constrained
    cutoff (the lepton fit's Rc has an error of a decade) a draw changes the injection by orders of
    magnitude. Through the fit's own Green's matrix (the local spectrum, J = G Q, exact and cheap)
    the band of the linear J_best + G dQ/dtheta . delta over the ``n_samples`` band draws is compared
    with the band of the exact G Q(theta): returned is the first energy above ``start_GeV`` (where
    the fits are constrained best) beyond which the central intervals' edges (``levels``) differ by
    more than ``tolerance`` of the best-fit spectrum and more than ``width_tolerance`` of the exact
    68 % half-width (the grid's top if they never do). A spectrum at energy E comes from cosmic rays
    at and above E (propagation moves them down in energy, emission to lower energies still), so a
    region band is valid up to that energy. Below ``start_GeV`` the linear band's edges can be off by
    a few per cent of the spectrum where the low-energy indices are loose; that is not cut.
    """
    from .sampling import central_interval, draw_parameters

    green = np.asarray(greens, dtype=float)
    ek = np.asarray(ek_GeV, dtype=float)
    if not len(derivatives["names"]):
        return float(ek[-1])
    draws = draw_parameters(derivatives["best"], derivatives["covariance"], int(n_samples), int(seed))
    base = green @ derivatives["q_best"]
    linear = base[None, :] + (draws - derivatives["best"][None, :]) @ (derivatives["derivatives"] @ green.T)
    exact = np.empty_like(linear)
    for i, draw in enumerate(draws):
        internal = derivatives["all_best"].copy()
        internal[derivatives["free_index"]] = draw
        exact[i] = green @ injection_of(model, derivatives["all_names"], internal)
    lo68, hi68 = central_interval(exact, levels[0])
    allowed = np.maximum(tolerance * np.abs(base), width_tolerance * 0.5 * np.abs(hi68 - lo68))
    worst = np.zeros(ek.size, dtype=bool)
    for cl in levels:
        for edge_linear, edge_exact in zip(central_interval(linear, cl), central_interval(exact, cl)):
            worst |= ~(np.abs(edge_linear - edge_exact) <= allowed)
    failing = np.flatnonzero(worst & (ek >= start_GeV))
    return float(ek[-1]) if not failing.size else float(ek[max(failing[0] - 1, 0)])


def injection_draws(derivatives: Mapping, model, n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The band draws of a fit's free parameters (:func:`galdiff.uncertainty.sampling.draw_parameters`,
    as band_regions draws them) and their exact injections Q(theta_i): ``(draws (n, k), Q (n, n_E))``."""
    from .sampling import draw_parameters

    draws = draw_parameters(derivatives["best"], derivatives["covariance"], int(n_samples), int(seed))
    q = np.empty((draws.shape[0], np.asarray(derivatives["q_best"]).size))
    for i, draw in enumerate(draws):
        internal = derivatives["all_best"].copy()
        internal[derivatives["free_index"]] = draw
        q[i] = injection_of(model, derivatives["all_names"], internal)
    return draws, q


def injection_basis(delta_q, tolerance: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """A small basis of the draws' injection offsets: ``(coefficients (n, r), directions (r, n_E))``.

    The offsets Q(theta_i) - Q_best are scaled per energy by their largest magnitude over the draws
    (so every energy counts, the cutoff tails included) and decomposed (SVD); the rank is the
    smallest whose reconstruction error is below ``tolerance`` of that scale at every draw and
    energy. coefficients @ directions reproduces the offsets to that accuracy, and since the chain is
    linear in Q, pushing the r directions through it gives every draw's region spectra exactly to
    the same accuracy: no linearisation in the parameters (which fails far beyond a loosely
    constrained cutoff or for loose indices, :func:`linear_validity_energy`).
    """
    delta = np.asarray(delta_q, dtype=float)
    scale = np.max(np.abs(delta), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    u, singular, vt = np.linalg.svd(delta / scale, full_matrices=False)
    for rank in range(1, singular.size + 1):
        approximation = (u[:, :rank] * singular[:rank]) @ vt[:rank]
        if np.max(np.abs(approximation - delta / scale)) <= tolerance:
            break
    return u[:, :rank] * singular[:rank], vt[:rank] * scale[None, :]


#: a direction lies in the span of the best fit's injections when its least-squares remainder is below this
#: fraction of its own size (per energy, in units of the injections' magnitude there): rounding only, since
#: a changed index or break moves Q by a factor smooth in log E that no combination of fixed shapes matches
#: to better than ~1e-3
SPAN_TOLERANCE = 1e-9
#: energies where the components' summed magnitude is below this fraction of its peak do not enter the fit
#: (cutoff tails down to subnormal numbers); a direction must be as small there, relative to its own peak
SPAN_FLOOR = 1e-200


def span_coefficients(directions, components, tolerance: float = SPAN_TOLERANCE) -> np.ndarray | None:
    """Coefficients C (r, n_j) with ``directions`` (r, n_E) = C @ ``components`` (n_j, n_E) to rounding, or None.

    The criterion by which a fit's band needs no transport solve: when every basis direction of its
    draws (:func:`injection_basis`) is a combination of the best fit's own injection components
    (one for p and He, the primary e- and extra e+ for the leptons), its propagated density is the
    same combination of the best-fit densities the workflow has already propagated, exactly (the
    transport is linear). This holds when only normalisations are fitted (the as-printed models,
    Tables I/II held fixed). Energies are weighted by the components' summed magnitude (every
    energy counts, the cutoff tails included); a direction is accepted when its remainder is at most
    ``tolerance`` of its largest weighted magnitude at every energy where the components exceed
    :data:`SPAN_FLOOR` of their peak, and it is that negligible itself where they do not (a direction
    non-zero where every component vanishes is rejected).
    """
    d = np.atleast_2d(np.asarray(directions, dtype=float))
    q = np.atleast_2d(np.asarray(components, dtype=float))
    if d.shape[1] != q.shape[1]:
        raise ValueError(f"directions have {d.shape[1]} energies, the components {q.shape[1]}")
    scale = np.sum(np.abs(q), axis=0)
    counted = scale >= SPAN_FLOOR * scale.max()
    # far beyond a cutoff the injections underflow to subnormal numbers, which carry too few digits for
    # any ratio: there a direction need only be as negligible as the components
    outside = np.max(np.abs(d[:, ~counted]), axis=1, initial=0.0)
    if np.any(outside > SPAN_FLOOR * np.max(np.abs(d), axis=1)):
        return None
    a, b = (q[:, counted] / scale[counted]).T, (d[:, counted] / scale[counted]).T  # (n_E, n_j), (n_E, r)
    c, *_ = np.linalg.lstsq(a, b, rcond=None)
    size = np.max(np.abs(b), axis=0)
    if np.any(np.abs(a @ c - b) > float(tolerance) * np.where(size > 0.0, size, 1.0)[None, :]):
        return None
    return c.T


def best_injection_components(model, derivatives: Mapping) -> dict:
    """``{component: Q (n_E,)}``: the best fit's injection by component, as the propagation rules propagate it
    (a nucleus: itself; the leptons: ``electron_primary``, ``positron_primary`` and with pairs ``electron_extra``;
    :func:`injection_of` is their sum)."""
    injections = model.injection(_values(derivatives["all_names"], derivatives["all_best"]))
    return {name: np.asarray(q, dtype=float) for name, q in injections.items()}


def span_densities(coefficients, densities) -> np.ndarray:
    """Propagated densities (r, n_E, n_r, n_z) of directions C @ Q_j, from the components' densities
    ``densities`` (n_j, n_E, n_r, n_z) and C = :func:`span_coefficients` (r, n_j): the transport is linear."""
    return np.tensordot(np.asarray(coefficients, dtype=float), np.asarray(densities, dtype=float), axes=(1, 0))


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
        from ..propagation.greens import propagate_spectrum

        densities = {}
        for species in ("proton", "helium"):
            solver, shape = self.solvers[species]
            q = injections.get(species)
            densities[species] = (propagate_spectrum(solver, shape, q) if q is not None
                                  else np.zeros((solver.grid.ek_GeV_per_n.size,) + tuple(solver.grid.shape[1:])))
        return self.region_spectra_from_densities(densities)

    def region_spectra_from_densities(self, densities: Mapping) -> dict:
        """The chain after the propagation: ``{species: N (n_E, n_r, n_z)}`` -> ``{region: {component: (n_E,)}}``.

        Nuclei on the protons' grid; ``electron`` (optional) is the e+ + e- total on the lepton grid
        (bremsstrahlung and IC, the emission grid then needs its ISRF). Every map component the
        densities feed is averaged.
        """
        from ..emission import species_intensity_from_density
        from ..skymaps.region_spectra import average_cubes
        from ..skymaps.model_maps import iter_model_map_cubes

        grids = {"proton": self.emission_grid.nucleus_ek_GeV_per_n, "helium": self.emission_grid.nucleus_ek_GeV_per_n,
                 "electron": self.emission_grid.electron_ek_GeV}
        intensities = {species: (grids[species], species_intensity_from_density(density, grids[species], species))
                       for species, density in densities.items()}
        include = (("pi0", "neutrinos") if "proton" in densities else ()) + (
            ("bremsstrahlung", "inverse_compton") if "electron" in densities else ())
        emissivity = self.emission_grid.compute(intensities, include=include)
        emissivity.kappa_per_kpc = self.kappa_per_kpc
        components = (HADRONIC_COMPONENTS if "proton" in densities else ()) + (
            LEPTONIC_COMPONENTS if "electron" in densities else ())
        spectra = {region: {} for region in self.weights}
        # one map cube at a time, averaged as soon as it is made (the cubes of all components together are
        # ~1 GB at the default N_side)
        for name, cube in iter_model_map_cubes(emissivity, self.nside, self.geometry, self.galaxy_cfg,
                                               self.absorption, self.operators):
            if name in components:
                for region, columns in average_cubes({name: cube}, self.weights)[1].items():
                    spectra[region].update(columns)
            del cube
        return {region: {c: columns[c] for c in dict.fromkeys(components) if c in columns}
                for region, columns in spectra.items()}


def region_los_weights(operator, weights: Mapping) -> dict:
    """Region-averaged line-of-sight weights: ``{region: (n_r, n_z)}``, V_r = sum_p w_p W[p, cell] / sum_p w_p.

    For every emissivity field q (n_r, n_z) without absorption, V_r . q is exactly the region average
    of the map ``operator.intensity(q)`` (:func:`galdiff.skymaps.region_spectra.average_cubes`): one
    sparse vector product per region replaces the map (cm^-2 per H atom for the gas operator, cm for
    the path operator).
    """
    out = {}
    for region, entry in weights.items():
        w = np.asarray(entry[0] if isinstance(entry, tuple) else entry, dtype=float)
        if w.size != operator.n_pix:
            raise ValueError(f"region {region!r}: {w.size} pixel weights, the operator has {operator.n_pix} pixels")
        rows = np.repeat(w, operator.n_shells) / w.sum()  # rows are p * n_shells + shell
        out[region] = np.asarray(operator.matrix.T @ rows).reshape(operator.grid.shape)
    return out


def absorption_ratios(los_weights: Mapping, emissivity_best, absorbed_spectra: Mapping,
                      component: str = "pi0") -> dict:
    """``{region: (n_E,)}``: absorbed / unabsorbed region spectrum of a gamma-ray component at the best fit.

    The line of sight with pair absorption is linear in the emissivity at fixed attenuation; the
    attenuation of a region's emission depends on where along the lines of sight it is emitted,
    which a change of the injection spectrum leaves unchanged to first order (protons above the
    ~100 TeV where absorption matters suffer no energy coupling, so their spatial distribution at one
    energy does not depend on the spectrum). The response of the absorbed spectrum is therefore the
    unabsorbed one times this ratio; :func:`validate_response` checks the approximation against the
    full chain with absorption. Energies with no unabsorbed emission get 1.
    """
    field = np.asarray(emissivity_best.components[component], dtype=float)  # (n_r, n_z, n_E)
    out = {}
    for region, v in los_weights.items():
        unabsorbed = np.tensordot(v, field, axes=([0, 1], [0, 1]))
        absorbed = np.asarray(absorbed_spectra[region], dtype=float)
        out[region] = np.divide(absorbed, unabsorbed, out=np.ones_like(unabsorbed), where=unabsorbed > 0)
    return out


#: right-hand sides per batched solve: GMRES keeps 10-40 Krylov vectors of the whole batch (the solver's
#: budget is 1 GB) besides its work arrays; at 8 columns of the default grid a solve held ~2 GB on top of the
#: factorised solver (job peak 4.1 GiB), at 4 it holds ~0.9 GB (2.9 GiB) for no more CPU time and the
#: same numbers (columns converge on their own: p, He bit-identical at the default grid, leptons 5e-14;
#: benchmarks/RESULTS.md)
CHUNK_COLUMNS = 4


def solve_in_chunks(solver, sources, rtol: float, chunk: int = CHUNK_COLUMNS):
    """Densities (per chunk, (<= chunk, n_E, n_s)) of ``sources`` (m, n_E, n_s) on the solver's unknowns,
    solved ``chunk`` columns at a time with GMRES tolerance ``rtol`` (the solver's own is restored)."""
    default_rtol = solver.rtol
    try:
        solver.rtol = float(rtol)
        for start in range(0, sources.shape[0], int(chunk)):
            yield solver.solve_interior(np.ascontiguousarray(sources[start:start + int(chunk)]))
    finally:
        solver.rtol = default_rtol


def solve_injections_in_chunks(solver, dq, shape_unknowns, rtol: float, chunk: int = CHUNK_COLUMNS):
    """As :func:`solve_in_chunks` for the sources dq_k(E) S(s) of injections ``dq`` (m, n_E) with the spatial
    shape ``shape_unknowns`` (n_s,), each chunk's sources formed only when it is solved (all m at once are
    ~16 MB per direction at the default grid, 0.6 GB for a basis of 37)."""
    dq = np.atleast_2d(np.asarray(dq, dtype=float))
    for start in range(0, dq.shape[0], int(chunk)):
        sources = dq[start:start + int(chunk), :, None] * shape_unknowns[None, None, :]
        yield next(solve_in_chunks(solver, sources, rtol, chunk))
        del sources


class HadronicResponse:
    """Batched linear response of the hadronic region spectra to the p and He injections.

    Every direction dQ_k of a species goes through the chain at once: one transport solve with the
    m right-hand sides dQ_k(E) S(r, z) on the factorised solver (:meth:`SteadyStateSolver.solve_interior`
    takes a batch), the region-averaged line-of-sight weights contracted with the densities on the
    solver's unknowns (V_r . N_k(E), :func:`region_los_weights`), and the hadronic emission matrices
    applied to these (n_E, m n_regions) region-weighted intensities: the emission stage is
    q = M_p J_p + M_He J_He at every cell, so summing over cells first is exact. Pair absorption
    enters as the best fit's ratio (:func:`absorption_ratios`). No emissivity field, no map.

    Parameters
    ----------
    solvers : mapping
        ``{"proton" | "helium": (SteadyStateSolver, source_shape)}``.
    emission_grid : galdiff.emission.EmissionGrid
        Its hadronic matrices (on the protons' energy grid; helium must be on the same grid).
    los_weights : mapping
        ``{region: (n_r, n_z)}`` of the gas-weighted operator (:func:`region_los_weights`).
    gamma_ratios : mapping
        ``{region: (n_E,)}`` absorption ratios of pi0 (:func:`absorption_ratios`); None: no absorption.
    rtol : float
        GMRES tolerance of the batched solves (default 1e-7: a band needs the response to far better
        than its 1 % check, not to the propagation's 1e-10; the GMRES iterations fall with it).
    """

    def __init__(self, solvers: Mapping, emission_grid, los_weights: Mapping, gamma_ratios: Mapping | None = None,
                 rtol: float = 1e-7):
        self.rtol = float(rtol)
        self.solvers = dict(solvers)  # one species is enough (the script builds them one at a time)
        self.emission_grid = emission_grid
        self.regions = list(los_weights)
        self.los_weights = dict(los_weights)
        self.gamma_ratios = gamma_ratios
        ek_p = emission_grid.nucleus_ek_GeV_per_n  # the protons' propagation grid
        self._observables, self._shapes, self.last_density = {}, {}, {}
        for species, (solver, shape) in self.solvers.items():
            ek = solver.grid.ek_GeV_per_n
            if not np.allclose(ek, ek_p, rtol=1e-12, atol=0.0):
                # the emission stage regrids helium log-log, which is not additive: the batched
                # response needs helium on the protons' grid (the workflow's one grid per nucleon)
                raise ValueError(f"{species}: energy grid differs from the protons'; the batched response "
                                 "needs one GeV/n grid for p and He")
            interior = np.stack([v[:-1, 1:-1] for v in (los_weights[r] for r in self.regions)])
            self._observables[species] = np.stack([solver.layout.observable_weights(v) for v in interior], axis=1)
            self._shapes[species] = solver.to_unknowns(np.asarray(shape, dtype=float)[None], "source_shape")[0]

    def region_weighted_intensity(self, species: str, dq, keep_last: bool = False) -> np.ndarray:
        """V_r . J_k(E) for directions ``dq`` (m, n_E) [cm^-3 s^-1 (GeV/n)^-1]: (m, n_regions, n_E).

        J = beta c N / 4 pi; in cm^-2 s^-1 sr^-1 (GeV/n)^-1 times the weights' unit (cm^-2 for the gas operator).
        ``keep_last``: the last direction (the check's draw) is solved on its own, at the same rtol, and its
        density on the full grid kept in ``last_density[species]``.
        """
        from ..emission import species_intensity_from_density

        solver, _ = self.solvers[species]
        dq = np.atleast_2d(np.asarray(dq, dtype=float))
        shape = self._shapes[species]
        parts = [chunk @ self._observables[species]  # (m, n_E, n_regions)
                 for chunk in solve_injections_in_chunks(solver, dq[:-1] if keep_last else dq, shape, self.rtol)]
        if keep_last:  # a chunk of its own: the other columns' GMRES iterations, hence their bits, unchanged
            last = next(solve_injections_in_chunks(solver, dq[-1:], shape, self.rtol))
            parts.append(last @ self._observables[species])
            self.last_density[species] = solver.to_full(last[0])
        weighted = np.concatenate(parts)
        ek = solver.grid.ek_GeV_per_n
        return np.moveaxis(species_intensity_from_density(np.moveaxis(weighted, 1, 0), ek, species), 0, 2)

    def region_offsets(self, species: str, dq, keep_last: bool = False) -> dict:
        """``{region: {component: (m, n_E)}}``: the hadronic region spectra of the injections ``dq``
        (``keep_last``: as :meth:`region_weighted_intensity`)."""
        return self._region_offsets_of_weighted(species, self.region_weighted_intensity(species, dq, keep_last))

    def region_offsets_of_densities(self, species: str, densities) -> dict:
        """As :meth:`region_offsets`, for densities already propagated: ``densities`` (m, n_E, n_r, n_z) on the
        full grid [cm^-3 (GeV/n)^-1] (zero on the escape boundary, as every propagated density is). No solver."""
        from ..emission import species_intensity_from_density

        weights = np.stack([np.asarray(self.los_weights[r], dtype=float) for r in self.regions])  # (n_regions, n_r, n_z)
        weighted = np.tensordot(np.asarray(densities, dtype=float), weights, axes=([2, 3], [1, 2]))  # (m, n_E, n_reg)
        ek = self.emission_grid.nucleus_ek_GeV_per_n
        intensity = species_intensity_from_density(np.moveaxis(weighted, 1, 0), ek, species)
        return self._region_offsets_of_weighted(species, np.moveaxis(intensity, 0, 2))

    def _region_offsets_of_weighted(self, species: str, weighted) -> dict:
        """The emission stage of :meth:`region_offsets` on region-weighted intensities (m, n_regions, n_E)."""
        from ..interactions.neutrino_oscillation import flavour_fluxes_at_earth

        m, n_regions, n_e = weighted.shape
        flux = weighted.reshape(m * n_regions, n_e).T  # (n_E, m n_regions)
        grid = self.emission_grid

        def emit(matrix):
            if species == "proton":
                q = matrix.emissivity_per_H(flux)
            else:
                q = matrix.emissivity_per_H(np.zeros_like(flux), flux)
            return q.T.reshape(m, n_regions, -1)

        pi0 = emit(grid.pi0_matrix)
        nu_e, nu_mu, nu_tau = flavour_fluxes_at_earth(emit(grid.neutrino_matrix("e")), emit(grid.neutrino_matrix("mu")),
                                                      angles=grid.mixing)
        out = {}
        for j, region in enumerate(self.regions):
            ratio = 1.0 if self.gamma_ratios is None else np.asarray(self.gamma_ratios[region])[None, :]
            gamma = pi0[:, j] * ratio
            neutrinos = nu_e[:, j] + nu_mu[:, j] + nu_tau[:, j]
            out[region] = {"pi0": gamma, "gamma_total": gamma, "neutrino_diffuse": neutrinos,
                           "neutrino_e": nu_e[:, j], "neutrino_mu": nu_mu[:, j], "neutrino_tau": nu_tau[:, j],
                           "neutrino_total": neutrinos}
        return out


def hadronic_response(response: HadronicResponse, derivatives: Mapping) -> dict:
    """``{species: {region: {component: (n, n_E)}}}``: the region spectra R[d_k] of a fit's injection directions.

    ``derivatives[species]["derivatives"]`` (n, n_E) are the directions: dQ/dtheta_k
    (:func:`injection_derivatives`, giving d I / d theta_k) or the basis of the band draws'
    offsets (:func:`injection_basis`); all go through the chain at once. Directions that do not move
    the injection (the modulation potential) get zero rows without a solve. An entry with
    ``densities`` (n, n_E, n_r, n_z), the directions' propagated densities on the full grid
    (:func:`span_densities`), needs no solver. An entry with ``check_injection`` (n_E,) solves it as one
    more column of the same batch (same rtol) and keeps its full-grid density in
    ``response.last_density[species]``: the 1 % check's draw without a separate solve.
    """
    out = {}
    for species, entry in derivatives.items():
        dq = np.asarray(entry["derivatives"], dtype=float).reshape(len(entry["names"]), -1)
        moving = np.flatnonzero(np.any(dq != 0.0, axis=1))
        check = entry.get("check_injection")
        if entry.get("densities") is not None:  # already propagated (:func:`span_densities`)
            offsets = (response.region_offsets_of_densities(species, np.asarray(entry["densities"])[moving])
                       if moving.size else {})
        elif check is not None:  # the check's draw at the batch's rtol, no separate propagation
            offsets = response.region_offsets(species, np.vstack([dq[moving], np.asarray(check, dtype=float)[None]]),
                                              keep_last=True)
        else:
            offsets = response.region_offsets(species, dq[moving]) if moving.size else {}
        out[species] = {}
        for region in response.regions:
            out[species][region] = {}
            for component in HADRONIC_COMPONENTS:
                rows = np.zeros((dq.shape[0], response.emission_grid.gamma_energy_GeV.size))
                if moving.size:
                    rows[moving] = offsets[region][component][:moving.size]
                out[species][region][component] = rows
    return out


#: region-spectrum columns the lepton fit moves
LEPTONIC_COMPONENTS = ("bremsstrahlung", "inverse_compton", "gamma_total")


class LeptonResponse:
    """Batched linear response of the bremsstrahlung and IC region spectra to the e+ + e- density.

    Like :class:`HadronicResponse`: the directions' densities come from one batched solve on the
    electrons' factorised solver, then only region-weighted sums of them are formed. Bremsstrahlung
    mixes its neutral and ionised matrices with the cell's ionised fraction f (as
    :meth:`galdiff.emission.EmissionGrid.bremsstrahlung`), so its region sums carry V (1 - f) and V f;
    IC contracts the Klein-Nishina kernel with the photon field of each cell, here its low-rank form
    n(eps, c) ~ sum_k u_k(eps) a_k(c) (:attr:`EmissionGrid.photon_field_lowrank`, error below
    ``ic_rank_tolerance`` of the field's peak), so its region sums carry V_path a_k. Pair absorption:
    the best fit's ratio per component (:func:`absorption_ratios`).

    Parameters
    ----------
    solver : (SteadyStateSolver, source_shape)
        The electrons' solver (its grid is the emission grid's lepton axis).
    emission_grid : galdiff.emission.EmissionGrid
        With the ISRF (IC).
    gas_weights, path_weights : mapping
        ``{region: (n_r, n_z)}`` of the gas-weighted and the path-length operators (:func:`region_los_weights`).
    gamma_ratios : mapping, optional
        ``{"bremsstrahlung" | "inverse_compton": {region: (n_E,)}}``.
    rtol : float
        GMRES tolerance of the batched solve (as :class:`HadronicResponse`).
    """

    def __init__(self, solver, emission_grid, gas_weights: Mapping, path_weights: Mapping,
                 gamma_ratios: Mapping | None = None, rtol: float = 1e-7):
        # solver None: densities come propagated (:meth:`region_offsets_of_full_densities`), no solve
        self.solver, self.shape = solver if solver is not None else (None, None)
        self.emission_grid = emission_grid
        self.regions = list(gas_weights)
        self.gamma_ratios = gamma_ratios
        self.rtol = float(rtol)
        if self.solver is not None and not np.allclose(self.solver.grid.ek_GeV_per_n, emission_grid.electron_ek_GeV,
                                                       rtol=1e-12, atol=0.0):
            raise ValueError("electron solver: its energies must be the emission grid's lepton axis")
        gas = emission_grid.gas_cm3
        n_neutral = gas["HI"] + 2.0 * gas["H2"]
        n_h = n_neutral + gas["HII"]
        f_ion = np.divide(gas["HII"], n_h, out=np.zeros_like(n_h), where=n_h > 0)
        _, amplitude, rank, _ = emission_grid.photon_field_lowrank
        self.rank = int(rank)
        amplitude = amplitude.reshape((rank,) + emission_grid.shape)
        fields = []  # per region: V (1 - f), V f, then V_path a_k for every k
        for region in self.regions:
            v_gas, v_path = np.asarray(gas_weights[region]), np.asarray(path_weights[region])
            fields += [v_gas * (1.0 - f_ion), v_gas * f_ion] + [v_path * amplitude[k] for k in range(rank)]
        self._fields = np.stack(fields)  # (n_regions (2 + k), n_r, n_z)
        if self.solver is not None:
            layout = self.solver.layout
            self._observables = np.stack([layout.observable_weights(f[:-1, 1:-1]) for f in fields], axis=1)
            self._shape_unknowns = self.solver.to_unknowns(np.asarray(self.shape, dtype=float)[None],
                                                           "source_shape")[0]
        basis = emission_grid.photon_field_lowrank[0]
        self._ic_kernel = np.tensordot(emission_grid.ic_kernel.tensor, basis, axes=(2, 0))  # (n_g, n_Ee, k)

    def densities(self, dq) -> np.ndarray:
        """Densities on the solver's unknowns (m, n_E, n_s) of the injections ``dq`` (m, n_E), one batched solve."""
        return np.concatenate(list(solve_injections_in_chunks(self.solver, dq, self._shape_unknowns, self.rtol)))

    def region_offsets_of_injections(self, dq) -> dict:
        """:meth:`region_offsets_of_densities` of :meth:`densities`, a chunk at a time (the densities of all
        directions together are never held)."""
        parts = [self.region_offsets_of_densities(chunk)
                 for chunk in solve_injections_in_chunks(self.solver, dq, self._shape_unknowns, self.rtol)]
        return {region: {c: np.concatenate([part[region][c] for part in parts]) for c in parts[0][region]}
                for region in self.regions}

    def region_offsets_of_densities(self, density) -> dict:
        """``{region: {component: (m, n_g)}}`` of e+ + e- densities on the unknowns (m, n_E, n_s)."""
        return self._region_offsets_of_weighted(np.asarray(density) @ self._observables)

    def region_offsets_of_full_densities(self, density) -> dict:
        """As :meth:`region_offsets_of_densities`, for densities (m, n_E, n_r, n_z) on the full grid
        (zero on the escape boundary, as every propagated density is); needs no solver."""
        return self._region_offsets_of_weighted(
            np.tensordot(np.asarray(density, dtype=float), self._fields, axes=([2, 3], [1, 2])))

    def _region_offsets_of_weighted(self, weighted) -> dict:
        """The emission stage on region-weighted densities (m, n_E, n_regions (2 + k))."""
        from ..emission import species_intensity_from_density

        ek = self.emission_grid.electron_ek_GeV
        intensity = np.moveaxis(species_intensity_from_density(np.moveaxis(weighted, 1, 0), ek, "electron"), 0, 1)
        m, n_e = intensity.shape[:2]
        per_region = intensity.reshape(m, n_e, len(self.regions), 2 + self.rank)
        matrices = self.emission_grid.bremsstrahlung_matrix
        out = {}
        for j, region in enumerate(self.regions):
            neutral, ionised, amplitudes = per_region[:, :, j, 0], per_region[:, :, j, 1], per_region[:, :, j, 2:]
            brems = neutral @ matrices.matrix_neutral_per_H.T + ionised @ matrices.matrix_ionised_per_HII.T
            ic = np.einsum("gek,mek->mg", self._ic_kernel, amplitudes)
            if self.gamma_ratios is not None:
                brems = brems * np.asarray(self.gamma_ratios["bremsstrahlung"][region])[None, :]
                ic = ic * np.asarray(self.gamma_ratios["inverse_compton"][region])[None, :]
            out[region] = {"bremsstrahlung": brems, "inverse_compton": ic, "gamma_total": brems + ic}
        return out


def lepton_response(response: LeptonResponse, derivatives: Mapping, secondary_positron_density=None) -> dict:
    """``{region: {component: (n_free, n_E)}}``: d(bremsstrahlung, IC)/d(theta_k) of the lepton fit, all k at once.

    ``secondary_positron_density`` (n_E, n_r, n_z), the unscaled secondary e+ of the model
    (``results/propagation/<model>/positron_secondary.h5``): c_e+ scales it, the only parameter
    that moves the leptons without an injection. ``derivatives["densities"]`` (n, n_E, n_r, n_z), the
    directions' propagated e+ + e- densities (:func:`span_densities`), replaces the solve;
    ``derivatives["check_injection"]`` (n_E,) is solved at the batch's rtol, its full-grid
    density kept in ``response.last_density``.
    """
    names = list(derivatives["names"])
    dq = np.asarray(derivatives["derivatives"], dtype=float).reshape(len(names), -1)
    n_g = response.emission_grid.gamma_energy_GeV.size
    out = {region: {c: np.zeros((len(names), n_g)) for c in LEPTONIC_COMPONENTS} for region in response.regions}
    moving = np.flatnonzero(np.any(dq != 0.0, axis=1))
    check = derivatives.get("check_injection")
    offsets = None
    if derivatives.get("densities") is not None:  # already propagated (:func:`span_densities`)
        if moving.size:
            offsets = response.region_offsets_of_full_densities(np.asarray(derivatives["densities"])[moving])
    elif check is not None:  # the check's draw at the batch's rtol, no separate propagation
        # solved on its own, at the batch's rtol: the basis columns' GMRES iterations, hence their bits, unchanged
        response.last_density = response.solver.to_full(response.densities(np.asarray(check, dtype=float)[None])[0])
        if moving.size:
            offsets = response.region_offsets_of_injections(dq[moving])
    elif moving.size:
        offsets = response.region_offsets_of_injections(dq[moving])
    if offsets is not None:
        for region in response.regions:
            for c in LEPTONIC_COMPONENTS:
                out[region][c][moving] = offsets[region][c]
    for k, name in enumerate(names):
        if name.removeprefix("log10_") != "c_eplus" or secondary_positron_density is None:
            continue
        best = float(derivatives["best"][k])
        factor = np.log(10.0) * 10.0**best if name.startswith("log10_") else 1.0  # dc/dtheta
        if response.solver is None:
            offsets = response.region_offsets_of_full_densities(
                factor * np.asarray(secondary_positron_density, dtype=float)[None])
        else:
            unknowns = response.solver.to_unknowns(np.asarray(secondary_positron_density, dtype=float), "positron")
            offsets = response.region_offsets_of_densities(factor * unknowns[None])
        for region in response.regions:
            for c in LEPTONIC_COMPONENTS:
                out[region][c][k] = offsets[region][c][0]
    return out


def chain_difference_response(chain: HadronicChain, derivatives: Mapping, models: Mapping, step_sigma: float = 0.1,
                              best_spectra: Mapping | None = None) -> dict:
    """The unbatched reference of :func:`hadronic_response`: forward differences of the whole chain.

    One full chain run (propagation + emission + maps + region average) per free parameter, with a
    step of ``step_sigma`` times its error, the other species at its best fit. Costs a map per
    parameter: kept for tests and checks, not used by the workflow.
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


def perturbed_parameters(derivatives: Mapping, models: Mapping, n_sigma: float = 1.0, seed: int = 0):
    """The check's parameter set: per fit one direction drawn from its covariance, scaled to ``n_sigma``
    (Mahalanobis length), on every free parameter at once. Returns ``(deltas, injections)`` per species."""
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
    return deltas, injections


def compare_with_chain(direct: Mapping, best_spectra: Mapping, response: Mapping, deltas: Mapping,
                       n_sigma: float = 1.0, components: Sequence[str] = ("pi0", "neutrino_total"),
                       energies_GeV=None, floor: float = 1e-6, valid_below_GeV: Mapping | None = None) -> dict:
    """Full-chain region spectra ``direct`` at theta_hat + delta against best + response . delta (the 1 % check).

    A component counts at the energies where E^2 I is above ``floor`` of its largest value (default
    1e-6, far below any figure's range): there the spectra carry information, while in the far tails
    the transport solves are only accurate to an absolute level (the solver solves energies whose
    response is below its floor of the largest to that level), so two solves can differ by a large
    fraction of a negligible number. ``energies_GeV`` (default: all energies count) sets E;
    ``valid_below_GeV`` (``{component: E}``, :func:`linear_validity_energy` of the fit that moves it)
    leaves out the energies above, where the bands are not drawn.

    Returns
    -------
    dict
        ``max_relative_deviation`` (over regions, components and every counted energy), per region
        and component the largest deviation, the energy where it occurs, the relative change the
        perturbation made (``max_relative_change``, to show the check is not empty), the largest
        deviation at any energy with a non-zero spectrum (``max_relative_deviation_all_energies``)
        and the offsets.
    """
    predicted = linear_prediction(best_spectra, response, deltas)
    report, worst, change, worst_all = {}, 0.0, 0.0, 0.0
    for region in direct:
        report[region] = {}
        for component in components:
            if component not in best_spectra.get(region, {}):
                continue
            full = np.asarray(direct[region][component], dtype=float)
            weight = np.ones_like(full) if energies_GeV is None else np.asarray(energies_GeV, dtype=float) ** 2
            level = np.abs(full) * weight
            significant = (full > 0) & (level >= floor * level.max())
            if valid_below_GeV and component in valid_below_GeV and energies_GeV is not None:
                significant &= np.asarray(energies_GeV, dtype=float) <= float(valid_below_GeV[component])
            if not significant.any():
                continue
            relative = np.abs(predicted[region][component] / np.where(full > 0, full, 1.0) - 1.0)
            deviation = float(np.max(relative[significant]))
            at = int(np.flatnonzero(significant)[np.argmax(relative[significant])])
            moved = float(np.max(np.abs(np.asarray(best_spectra[region][component])[significant]
                                        / full[significant] - 1.0)))
            anywhere = float(np.max(relative[full > 0]))
            report[region][component] = {"max_relative_deviation": deviation, "max_relative_change": moved,
                                         "max_relative_deviation_all_energies": anywhere,
                                         "energy_GeV_of_max": None if energies_GeV is None
                                         else float(np.asarray(energies_GeV)[at])}
            worst, change, worst_all = max(worst, deviation), max(change, moved), max(worst_all, anywhere)
    return {"max_relative_deviation": worst, "max_relative_change": change,
            "max_relative_deviation_all_energies": worst_all, "floor_of_peak_E2_intensity": float(floor),
            "n_sigma": float(n_sigma), "by_region": report,
            "offsets": {s: np.asarray(d).tolist() for s, d in deltas.items()}}


def validate_response(chain: HadronicChain, derivatives: Mapping, models: Mapping, response: Mapping,
                      best_spectra: Mapping, n_sigma: float = 1.0, seed: int = 0,
                      components: Sequence[str] = ("pi0", "neutrino_total")) -> dict:
    """The 1 % check in one call: :func:`perturbed_parameters`, the full chain there, :func:`compare_with_chain`."""
    deltas, injections = perturbed_parameters(derivatives, models, n_sigma, seed)
    return compare_with_chain(chain.region_spectra(injections), best_spectra, response, deltas, n_sigma, components)


def nucleus_solver(model_cfg: Mapping, propagation_cfg: Mapping, species: str, isrf_path=None):
    """``(SteadyStateSolver, source_shape)`` of one species of a model, as its propagation rule builds it
    (``isrf_path``: the ISRF file, for the electrons' inverse-Compton losses)."""
    from ..propagation.run import setup_solver
    from ..propagation.setups import transport_setup

    solver, _, shape = setup_solver(transport_setup(model_cfg, propagation_cfg, species), isrf_path=isrf_path)
    return solver, shape


def nucleus_solvers(model_cfg: Mapping, propagation_cfg: Mapping) -> dict:
    """``{"proton" | "helium": (SteadyStateSolver, source_shape)}`` of a model, as its propagation rules build them."""
    return {species: nucleus_solver(model_cfg, propagation_cfg, species) for species in ("proton", "helium")}


def hadronic_emission_grid(proton_grid, propagation_cfg: Mapping, emission_cfg: Mapping, electron_ek_GeV, isrf=None):
    """The emission grid of the model's components, as :func:`galdiff.emission.model_emissivity` forms it.

    ``proton_grid``: anything with ``r_kpc``, ``z_kpc`` and ``ek_GeV_per_n`` (the protons' propagation grid);
    ``isrf`` (:func:`galdiff.galaxy.isrf.read_isrf`) is needed by IC only.
    """
    from ..emission import EmissionGrid
    from ..galaxy.gas import GasModel

    energy_cfg = emission_cfg["gamma_energy_GeV"]
    decades = np.log10(float(energy_cfg["max"]) / float(energy_cfg["min"]))
    gamma_energy = np.geomspace(float(energy_cfg["min"]), float(energy_cfg["max"]),
                                int(round(decades * float(energy_cfg["per_decade"]))) + 1)
    return EmissionGrid(proton_grid.r_kpc, proton_grid.z_kpc, proton_grid.ek_GeV_per_n, np.asarray(electron_ek_GeV),
                        gamma_energy_GeV=gamma_energy, isrf=isrf,
                        gas_model=GasModel.from_config(propagation_cfg.get("galaxy")))


def _checked_operator(path, emissivity, geometry, nside: int, includes_gas: bool):
    from ..skymaps.operator import RZGrid, load_operator

    operator = load_operator(path, mmap=True)  # read once for the region weights, unmapped when dropped
    grid = RZGrid(np.asarray(emissivity.r_kpc), np.asarray(emissivity.z_kpc))
    if (not operator.grid.same_as(grid) or operator.geometry != geometry or operator.nside != int(nside)
            or operator.includes_gas != includes_gas):
        raise ValueError(f"{path}: line-of-sight operator does not fit this model (grid, geometry, nside or gas)")
    return operator


def region_los_weights_of_model(model_cfg: Mapping, propagation_cfg: Mapping, maps_cfg: Mapping, regions, *,
                                emissivity, los_gas, mask=None, fine_nside: int | None = None,
                                includes_gas: bool = True) -> tuple[dict, dict]:
    """Region-averaged line-of-sight weights of one model (:func:`region_los_weights`) and the pixel weights.

    One operator file is read (``los_gas``: the gas-weighted one, or with ``includes_gas=False`` the
    path-length one) and freed on return: ``({region: (n_r, n_z)}, {region: (pixel weights, masked fraction)})``.
    """
    from ..skymaps.model_maps import map_geometry
    from ..skymaps.region_spectra import region_weights

    galaxy_cfg = dict(propagation_cfg.get("galaxy", {}))
    nside = int(maps_cfg["nside"])
    geometry = map_geometry(maps_cfg, model_cfg["propagation"], float(galaxy_cfg.get("r_sun_kpc", 8.3)))
    operator = _checked_operator(los_gas, emissivity, geometry, nside, includes_gas=includes_gas)
    weights = region_weights(list(regions), nside, mask=mask, fine_nside=fine_nside)
    return region_los_weights(operator, weights), weights


def build_hadronic_chain(model_cfg: Mapping, propagation_cfg: Mapping, emission_cfg: Mapping, maps_cfg: Mapping,
                         regions, *, electron_ek_GeV, emissivity, los_paths: Sequence, mask=None,
                         fine_nside: int | None = None, solvers: Mapping | None = None,
                         emission_grid=None, weights: Mapping | None = None) -> HadronicChain:
    """The workflow's full chain for one model, from its configuration and cached inputs.

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
    solvers, emission_grid, weights : optional
        Already built (:func:`nucleus_solvers`, :func:`hadronic_emission_grid`,
        :func:`galdiff.skymaps.region_spectra.region_weights`); ``solvers={}`` gives a chain for
        :meth:`HadronicChain.region_spectra_from_densities` only.
    """
    from ..skymaps.region_spectra import region_weights
    from ..skymaps.model_maps import cached_operators, map_geometry

    galaxy_cfg = dict(propagation_cfg.get("galaxy", {}))
    solvers = solvers if solvers is not None else nucleus_solvers(model_cfg, propagation_cfg)
    grid = emission_grid if emission_grid is not None else hadronic_emission_grid(
        solvers["proton"][0].grid, propagation_cfg, emission_cfg, electron_ek_GeV)
    nside = int(maps_cfg["nside"])
    geometry = map_geometry(maps_cfg, model_cfg["propagation"], float(galaxy_cfg.get("r_sun_kpc", 8.3)))
    # opened (memory-mapped) only for the step that needs each, as rule sky_maps does
    operators = cached_operators(los_paths[0], los_paths[1], emissivity, geometry, nside)
    weights = weights if weights is not None else region_weights(list(regions), nside, mask=mask, fine_nside=fine_nside)
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
            if "valid_below_GeV" in entry:  # where the linearisation in the parameters holds
                group.attrs["valid_below_GeV"] = float(entry["valid_below_GeV"])
            if "coefficients" in entry:  # the band draws on the basis the response rows belong to
                group["coefficients"] = np.asarray(entry["coefficients"], dtype=float)
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
        for species in ("proton", "helium", "leptons"):
            if species not in handle:
                continue
            group = handle[species]
            out["species"][species] = {
                "names": json.loads(group.attrs["names_json"]), "best": group["best"][()],
                "covariance": group["covariance"][()],
                "valid_below_GeV": float(group.attrs.get("valid_below_GeV", np.inf)),
                **({"coefficients": group["coefficients"][()]} if "coefficients" in group else {}),
                "response": {region: {c: group["response"][region][c][()] for c in group["response"][region]}
                             for region in (group["response"] if "response" in group else {})}}
        for region in handle["best"]:
            out["best"][region] = {c: handle["best"][region][c][()] for c in handle["best"][region]}
    return out
