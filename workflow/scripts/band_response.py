"""Response of one model's region spectra to its p and He fit parameters, and its 1 % check (rule band_response).

Cheap by design (galdiff.uncertainty.response.HadronicResponse, LeptonResponse): per species one batched
transport solve of all parameter directions of its fit, the region-averaged line-of-sight weights and the
emission matrices (pi0 and neutrinos from p and He; bremsstrahlung and IC from the lepton fit); the solvers
are built one at a time and freed; the check's draw is solved after the batch, at its rtol. A fit whose every basis direction, and the check's draw, is a combination
of the best fit's own injection components (only normalisations fitted: the as-printed models;
galdiff.uncertainty.response.span_coefficients) needs no solver: its densities are the same combination of the
best-fit densities on disk (rules propagate_nucleus, propagate_leptons). The check runs the full chain
(emission, maps, region averages) once, at a band draw of all three fits (its exact injection, not its basis
representation), from the densities solved in the batch (or combined from disk).
"""

import json
import time

import numpy as np
import yaml

from galdiff.data.datasets import read_dataset
from galdiff.emission import read_emissivity_h5
from galdiff.galaxy.isrf import read_isrf
from galdiff.propagation.greens import read_greens_h5
from galdiff.propagation.grid import Grid
from galdiff.propagation.run import read_result
from galdiff.propagation.setups import transport_setup
from galdiff.propagation.solver import release_freed_heap
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.masks import read_mask_fits
from galdiff.skymaps.regions import SkyRegion
from galdiff.uncertainty.bands import rebuild_fit_model
from galdiff.uncertainty.extra_bands import FIT_SEED_OFFSETS
from galdiff.uncertainty.response import (HADRONIC_COMPONENTS, LEPTONIC_COMPONENTS, HadronicResponse,
                                          LeptonResponse, absorption_ratios, build_hadronic_chain, compare_with_chain,
                                          hadronic_emission_grid, hadronic_response, injection_derivatives,
                                          best_injection_components, injection_basis, injection_draws,
                                          lepton_response, span_coefficients, span_densities,
                                          linear_validity_energy, nucleus_solver,
                                          region_los_weights_of_model, write_response_h5)

SPECIES = ("proton", "helium")
#: fit -> the species whose solver and Green's matrix it uses
FITS = {"proton": "proton", "helium": "helium", "leptons": "electron"}


def densities_from_disk(model, entry, directions, check_injection, inputs, greens, log):
    """The basis directions' and the check draw's propagated densities combined from the best-fit densities on
    disk, or None where a direction (or the draw) leaves the span of the best fit's injection components.

    Each file is checked to be the propagation of its component (its intensity at the Sun against the fit's
    Green's matrix times the injection): a stale or foreign file is an error, not a silent band.
    """
    components = best_injection_components(model, entry)
    if any(f"density_{name}" not in inputs for name in components):
        return None
    q = np.stack(list(components.values()))
    coefficients = span_coefficients(directions, q)
    check_coefficients = span_coefficients(check_injection, q)
    if coefficients is None or check_coefficients is None:
        return None
    densities = []
    for name, injection in components.items():
        result = read_result(inputs[f"density_{name}"])
        expected = greens @ injection
        deviation = float(np.max(np.abs(result.intensity_sun - expected)) / np.max(np.abs(expected)))
        if deviation > SUN_CONSISTENCY:
            raise ValueError(f"{inputs[f'density_{name}']}: its intensity at the Sun differs from the fit's Green's "
                             f"matrix times the best-fit {name} injection by {deviation:.3g} of the peak "
                             f"(expected below {SUN_CONSISTENCY:g}): not this fit's best-fit propagation")
        log.info("%s: best-fit density on disk, intensity at the Sun vs G Q %.2g of the peak", name, deviation)
        densities.append(result.density)
    densities = np.stack(densities)
    return span_densities(coefficients, densities), span_densities(check_coefficients, densities)[0]


def mark(cpu, step, log):
    """The CPU clock at the end of ``step`` (the log's "CPU seconds by step"), logged with its wall time."""
    cpu[step] = time.process_time()
    log.info("step %s done", step)


#: a best-fit density file must reproduce G Q at the Sun to this fraction of the peak (the Green's matrix and
#: the propagation are two solves of one operator, each to the propagation's tolerance)
SUN_CONSISTENCY = 1e-6


def main(inputs, model_cfg, propagation_cfg, emission_cfg, maps_cfg, regions_cfg, fine_nside, bands, outputs, log_path):
    log = setup_logging(log_path)
    cpu = {"start": time.process_time()}
    regions = [SkyRegion.from_config(name, entry) for name, entry in regions_cfg.items()]
    spectra = {region: read_dataset(path) for region, path in zip(regions_cfg, inputs["spectra"])}
    # the workflow's own best fit (full chain with absorption): the base of the bands and of the check
    best = {region: {c: np.asarray(table[c], dtype=float) for c in HADRONIC_COMPONENTS + LEPTONIC_COMPONENTS
                     if c in table.colnames} for region, table in spectra.items()}
    emissivity = read_emissivity_h5(inputs["emissivity"])
    mask = read_mask_fits(inputs["mask"]) if inputs.get("mask") else None
    proton_grid = Grid.from_config(transport_setup(model_cfg, propagation_cfg, "proton")["grid"])
    grid = hadronic_emission_grid(proton_grid, propagation_cfg, emission_cfg, read_result(inputs["electron"]).grid.ek_GeV_per_n,
                                  isrf=read_isrf(inputs["isrf"]))
    for _ in (grid.pi0_matrix, grid.neutrino_matrix("e"), grid.neutrino_matrix("mu")):  # built once, here
        pass
    los_weights, weights = region_los_weights_of_model(model_cfg, propagation_cfg, maps_cfg, regions,
                                                       emissivity=emissivity, los_gas=inputs["los_gas"], mask=mask,
                                                       fine_nside=fine_nside)
    path_weights, _ = region_los_weights_of_model(model_cfg, propagation_cfg, maps_cfg, regions, emissivity=emissivity,
                                                  los_gas=inputs["los_path"], mask=mask, fine_nside=fine_nside,
                                                  includes_gas=False)
    absorbed = maps_cfg.get("absorption", True)
    ratios = absorption_ratios(los_weights, emissivity, {r: best[r]["pi0"] for r in best}) if absorbed else None
    lepton_ratios = ({"bremsstrahlung": absorption_ratios(los_weights, emissivity,
                                                          {r: best[r]["bremsstrahlung"] for r in best}, "bremsstrahlung"),
                      "inverse_compton": absorption_ratios(path_weights, emissivity,
                                                           {r: best[r]["inverse_compton"] for r in best}, "inverse_compton")}
                     if absorbed else None)
    derivatives, models, bases, check_point, check_density = {}, {}, {}, {}, {}
    for fit, species in FITS.items():
        content = read_greens_h5(inputs[f"greens_{species}"])
        models[fit] = rebuild_fit_model(fit, model_cfg, (content["ek_GeV_per_n"], content["greens"]))
        with open(inputs[f"fit_{fit}"]) as handle:
            derivatives[fit] = injection_derivatives(models[fit], yaml.safe_load(handle)["fits"][fit])
        entry, seed = derivatives[fit], int(bands["seed"]) + FIT_SEED_OFFSETS[fit]
        # how far a band linear in the parameters would hold (recorded: why the draws go in exactly)
        entry["linear_valid_below_GeV"] = linear_validity_energy(
            content["greens"], content["ek_GeV_per_n"], entry, models[fit], n_samples=int(bands["n_samples"]),
            seed=seed)
        # band_regions' draws (same seeds), their exact injections, and a small basis of their offsets
        draws, q = injection_draws(entry, models[fit], int(bands["n_samples"]), seed)
        coefficients, directions = injection_basis(q - entry["q_best"][None, :], float(bands["basis_tolerance"]))
        names = [f"basis{k}" for k in range(directions.shape[0])]
        if fit == "leptons":  # c_e+ scales the secondary e+: one more row, its offset in c (not log10 c)
            k = [i for i, n in enumerate(entry["names"]) if n.removeprefix("log10_") == "c_eplus"]
            if k:
                log_c = entry["names"][k[0]].startswith("log10_")
                c = (lambda x: 10.0**x) if log_c else (lambda x: x)
                coefficients = np.column_stack([coefficients, c(draws[:, k[0]]) - c(entry["best"][k[0]])])
                directions = np.vstack([directions, np.zeros(directions.shape[1])])
                names.append("c_eplus")
                check_point["c_eplus"] = float(c(draws[0, k[0]]))
        entry["coefficients"] = coefficients
        bases[fit] = {"names": names, "best": np.zeros(len(names)), "derivatives": directions}
        check_point[fit] = q[0]  # the check: the first band draw, a typical one
        on_disk = densities_from_disk(models[fit], entry, directions, q[0], inputs, content["greens"], log)
        if on_disk is not None:  # only normalisations fitted: no solve for this fit
            bases[fit]["densities"], check_density[fit] = on_disk
            log.info("%s: every basis direction and the check's draw are combinations of the best fit's injection "
                     "components: densities from the best-fit propagation on disk, no solve", fit)
        log.info("%s: %d band draws on a basis of %d injection directions (linear band valid below %.3g GeV)",
                 fit, len(draws), directions.shape[0], entry["linear_valid_below_GeV"])
    mark(cpu, "setup", log)
    response, densities = {}, {}
    for species in SPECIES:  # one factorised solver at a time (each is ~2 GB at the default grid)
        if species in check_density:
            response.update(hadronic_response(HadronicResponse({}, grid, los_weights, ratios), {species: bases[species]}))
            densities[species] = check_density[species]
            mark(cpu, f"response_{species}", log)
            continue
        solver, shape = nucleus_solver(model_cfg, propagation_cfg, species)
        mark(cpu, f"factorise_{species}", log)
        # the check's draw (exact injection) solved after the batch, at its rtol (no 1e-10 propagation)
        batch = HadronicResponse({species: (solver, shape)}, grid, los_weights, ratios, rtol=float(bands["solver_rtol"]))
        response.update(hadronic_response(batch, {species: bases[species] | {"check_injection": check_point[species]}}))
        densities[species] = batch.last_density[species]
        mark(cpu, f"response_{species}", log)
        del solver, shape, batch
        release_freed_heap()
    # the leptons: the basis through the electrons' solver (or from disk), c_e+ through the secondary e+
    secondary = read_result(inputs["positron_secondary"]).density
    if "leptons" in check_density:
        solver, shape, primaries = None, None, check_density["leptons"]
    else:
        solver, shape = nucleus_solver(model_cfg, propagation_cfg, "electron", isrf_path=inputs["isrf"])
        mark(cpu, "factorise_electron", log)
    leptons = LeptonResponse(None if solver is None else (solver, shape), grid, los_weights, path_weights,
                             lepton_ratios, rtol=float(bands["solver_rtol"]))
    response["leptons"] = lepton_response(leptons, bases["leptons"] | ({} if solver is None else
                                                                       {"check_injection": check_point["leptons"]}),
                                          secondary_positron_density=secondary)
    if solver is not None:
        primaries = leptons.last_density
    mark(cpu, "response_leptons", log)
    # the check's e+ + e- total, as the workflow forms it: the drawn primaries plus the secondaries, the e+
    # scaled by the drawn c_e+
    densities["electron"] = (primaries + read_result(inputs["electron_secondary"]).density
                             + check_point.get("c_eplus", 1.0) * secondary)
    del solver, shape, leptons
    release_freed_heap()
    deltas = {fit: derivatives[fit]["coefficients"][0] for fit in FITS}
    # the unabsorbed best-fit neutrinos through the region weights against the maps' region averages
    los_check = max(float(np.max(np.abs(np.divide(
        np.tensordot(los_weights[r], emissivity.components["neutrino_all"], axes=([0, 1], [0, 1])),
        best[r]["neutrino_diffuse"], out=np.ones_like(best[r]["neutrino_diffuse"]),
        where=best[r]["neutrino_diffuse"] > 0) - 1.0))) for r in best)
    chain = build_hadronic_chain(model_cfg, propagation_cfg, emission_cfg, maps_cfg, regions,
                                 electron_ek_GeV=grid.electron_ek_GeV, emissivity=emissivity,
                                 los_paths=(inputs["los_gas"], inputs["los_path"]), mask=mask, fine_nside=fine_nside,
                                 solvers={}, emission_grid=grid, weights=weights)
    check = compare_with_chain(chain.region_spectra_from_densities(densities), best, response, deltas,
                               components=("pi0", "neutrino_diffuse", "bremsstrahlung", "inverse_compton"),
                               energies_GeV=grid.gamma_energy_GeV)
    del chain
    mark(cpu, "check_maps", log)
    check["los_weights_vs_maps_neutrinos"] = los_check
    check["linear_valid_below_GeV"] = {fit: entry["linear_valid_below_GeV"] for fit, entry in derivatives.items()}
    check["basis_rank"] = {fit: len(entry["names"]) for fit, entry in bases.items()}
    check["densities_from_disk"] = sorted(check_density)
    check["perturbation"] = "the first band draw of every fit (exact injection), n_sigma is not used"
    log.info("response: %s free parameters; check at a band draw: response vs full chain %.2g (the draw moved the "
             "spectra by up to %.2g); region weights vs maps (unabsorbed neutrinos) %.2g",
             {s: len(e["names"]) for s, e in derivatives.items()}, check["max_relative_deviation"],
             check["max_relative_change"], los_check)
    marks = list(cpu.items())
    log.info("CPU seconds by step: %s", {name: round(t - marks[i][1], 2) for i, (name, t) in enumerate(marks[1:])})
    files = {k: v for k, v in inputs.items() if k != "spectra"} | {f"spectra_{r}": p for r, p in
                                                                   zip(regions_cfg, inputs["spectra"])}
    write_response_h5(outputs["response"], derivatives, response, best, check, meta=provenance_meta(inputs=files))
    with atomic_path(outputs["check"]) as tmp:
        tmp.write_text(json.dumps(check | {"provenance": provenance_meta(inputs=files)}, indent=2))


if __name__ == "__main__":
    main({**dict(snakemake.input.items()), "spectra": list(snakemake.input.spectra)}, snakemake.params.model_cfg,
         snakemake.params.propagation_cfg, snakemake.params.emission_cfg, snakemake.params.maps_cfg,
         dict(snakemake.params.regions), int(snakemake.params.fine_nside), dict(snakemake.params.bands),
         dict(snakemake.output.items()), snakemake.log[0])
