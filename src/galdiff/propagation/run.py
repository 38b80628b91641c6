"""One model run: propagate nuclei and leptons, normalise to data, Green's functions, local spectra.

The stage functions here are what the workflow's propagation rules call; each takes plain config
mappings and arrays and returns results, so they are testable without Snakemake.

Normalisation. The paper does not print the injection normalisations, so each species' overall
scale is the single number that minimises chi^2 of the modulated flux at Earth against one
reference data set in a configured energy window (``propagation.normalisation``). This fixes
nothing else: spectral shapes come from Tables II-III and the propagation. For positrons the
secondary component is fixed by the (already normalised) protons and helium, and only the
extra primary positron component is scaled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..data.datasets import flux_vs_ek_per_n
from ..interactions.hadronic import HadronicMatrix
from ..spectra import force_field_modulate, loglog_interp
from ..units import get_species
from . import model as galaxy_model
from .greens import propagate_spectrum, sun_greens_matrix, sun_intensity
from .solver import SteadyStateSolver, intensity_from_density

log = logging.getLogger(__name__)

FLUX_UNIT = u.Unit("GeV-1 cm-2 s-1 sr-1")


@dataclass
class SpeciesResult:
    """Propagated density of one species (or component) and what it gives at the Sun.

    Attributes
    ----------
    name : str
        Species or component name (``proton``, ``electron_secondary``, ...).
    grid : Grid
    density : ndarray, shape (n_E, n_r, n_z)
        N in cm^-3 (GeV/n)^-1, after normalisation.
    intensity_sun : ndarray, shape (n_E,)
        Interstellar intensity at the Sun, cm^-2 s^-1 sr^-1 (GeV/n)^-1.
    norm : float
        Scale applied to the unit-normalised injection (1 for secondaries).
    greens : ndarray or None, shape (n_E, n_E)
        Green's matrix at the Sun for the unit-normalised spatial source shape.
    """

    name: str
    grid: object
    density: np.ndarray
    intensity_sun: np.ndarray
    norm: float = 1.0
    greens: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def scaled(self, factor: float) -> "SpeciesResult":
        return SpeciesResult(self.name, self.grid, self.density * factor, self.intensity_sun * factor,
                             self.norm * factor, self.greens, dict(self.meta))


def modulated_intensity(ek_GeV_per_n, intensity_lis, species_name: str, phi_GV: float):
    """Force-field modulated intensity at the LIS energy nodes (zero where the shifted energy leaves the table)."""
    species = get_species(species_name)
    # The third-order upwind loss flux can undershoot by <~1 % of the peak just below a steep
    # cutoff (solver module docstring); a flux is non-negative, so such values are zeros.
    intensity_lis = np.maximum(np.asarray(intensity_lis, dtype=float), 0.0)
    modulated = force_field_modulate(ek_GeV_per_n, (ek_GeV_per_n, intensity_lis), phi_GV, species, out_of_range="nan")
    return np.nan_to_num(modulated, nan=0.0)


def best_scale(model_fixed, model_scaled, data, sigma):
    """Scale s minimising sum(((fixed + s scaled) - data)/sigma)^2 (linear least squares)."""
    weights = 1.0 / np.asarray(sigma) ** 2
    numerator = np.sum(weights * model_scaled * (np.asarray(data) - model_fixed))
    denominator = np.sum(weights * model_scaled**2)
    if not denominator > 0:
        raise ValueError("normalisation: the model vanishes at every reference data point")
    return numerator / denominator


def reference_points(table, ek_range_GeV_per_n):
    """Data points of a tidy CR table inside an energy window: (T_n, flux, total symmetric error)."""
    spec = flux_vs_ek_per_n(table)
    lo, hi = ek_range_GeV_per_n
    keep = (spec.ek_GeV_per_n >= lo) & (spec.ek_GeV_per_n <= hi) & ~np.asarray(spec.is_upper_limit, bool)
    if not keep.any():
        raise ValueError(
            f"normalisation: data set {table.meta.get('dataset')!r} has no point in {lo}-{hi} GeV/n"
        )
    sigma = 0.5 * (np.hypot(spec.stat_lo, spec.sys_lo) + np.hypot(spec.stat_hi, spec.sys_hi))
    return spec.ek_GeV_per_n[keep], spec.flux_per_GeV_per_n[keep], sigma[keep]


def model_at_data(result: SpeciesResult, species_name: str, phi_GV: float, ek_data):
    modulated = modulated_intensity(result.grid.ek_GeV_per_n, result.intensity_sun, species_name, phi_GV)
    return loglog_interp(ek_data, result.grid.ek_GeV_per_n, modulated)


def propagate_primary(model_cfg: dict, propagation_cfg: dict, species_name: str, env=None, isrf_path=None,
                      with_greens: bool = True, progress: bool = False, n_workers: int = 1) -> SpeciesResult:
    """Propagate a primary species with unit-normalised Eq. 3 injection and the SNR source shape.

    ``species_name`` is ``proton``, ``helium``, ``electron`` or ``positron`` (the extra primary
    positron component); the injection parameters are ``model_cfg['injection'][species_name]``.
    """
    prop = model_cfg["propagation"]
    grid = galaxy_model.model_grid(propagation_cfg["grid"], prop, species_name)
    if env is None:
        env = galaxy_model.galaxy_environment(grid, propagation_cfg.get("galaxy"), isrf_path)
    params = galaxy_model.diffusion_parameters(prop)
    setup = galaxy_model.propagation_setup(grid, species_name, params, env,
                                             loss_order=int(propagation_cfg.get("loss_order", 3)))
    solver = SteadyStateSolver(setup, progress=progress)
    r_sun = float(propagation_cfg.get("galaxy", {}).get("r_sun_kpc", 8.3))
    shape = galaxy_model.source_shape(grid, r_sun)
    spectrum = galaxy_model.injection_spectrum_per_GeV_per_n(grid.ek_GeV_per_n, species_name, model_cfg["injection"][species_name])
    density = propagate_spectrum(solver, shape, spectrum)
    intensity = sun_intensity(solver, density, r_sun_kpc=r_sun)
    greens = (sun_greens_matrix(solver, shape, r_sun_kpc=r_sun, n_workers=n_workers, progress=progress)
              if with_greens else None)
    return SpeciesResult(species_name, grid, density, intensity, 1.0, greens,
                         meta={"injection": model_cfg["injection"][species_name]})


def normalise_to_data(result: SpeciesResult, species_name: str, phi_GV: float, table, ek_range_GeV_per_n,
                      fixed: SpeciesResult | None = None) -> SpeciesResult:
    """Scale ``result`` so that (fixed +) result, modulated, best matches ``table`` in the window."""
    ek, flux, sigma = reference_points(table, ek_range_GeV_per_n)
    scaled_model = model_at_data(result, species_name, phi_GV, ek)
    fixed_model = model_at_data(fixed, species_name, phi_GV, ek) if fixed is not None else 0.0
    scale = best_scale(fixed_model, scaled_model, flux, sigma)
    log.info("%s normalised to %s: scale %.4g", result.name, table.meta.get("dataset"), scale)
    out = result.scaled(scale)
    out.meta["normalisation_dataset"] = table.meta.get("dataset")
    out.meta["normalisation_window_GeV_per_n"] = list(ek_range_GeV_per_n)
    return out


def secondary_lepton_sources(proton: SpeciesResult, helium: SpeciesResult, lepton_grid, env, he_to_h: float):
    """Production rates Q(E, r, z) [GeV^-1 cm^-3 s^-1] of secondary e- and e+ from p and He on the gas.

    aafragpy channels 'el' and 'posi' (EMISSION_PHYSICS.md Sec. 3) applied to the propagated
    p and He intensities in every cell; nuclei and leptons must share the (r, z) nodes.
    """
    if proton.grid.r_kpc.shape != lepton_grid.r_kpc.shape or helium.grid.ek_GeV_per_n.shape != proton.grid.ek_GeV_per_n.shape:
        raise ValueError("secondary leptons: proton, helium and lepton grids must share (r, z) nodes and the nuclei energy axis")
    ek = proton.grid.ek_GeV_per_n
    n_cells = proton.density.shape[1] * proton.density.shape[2]
    flux_p = intensity_from_density(proton.density, proton.grid.beta(get_species("proton"))).reshape(ek.size, n_cells)
    flux_he = intensity_from_density(helium.density, helium.grid.beta(get_species("helium"))).reshape(ek.size, n_cells)
    n_h = env.n_h_total_cm3.reshape(n_cells)
    sources = {}
    for lepton, channel in (("electron", "el"), ("positron", "posi")):
        matrix = HadronicMatrix(ek, lepton_grid.ek_GeV_per_n, secondary=channel, he_to_h=he_to_h)
        rate = matrix.source_rate_per_volume_4pi(flux_p, flux_he, n_h)
        sources[lepton] = rate.reshape(lepton_grid.shape)
    return sources


def propagate_secondary(lepton: str, source, model_cfg, propagation_cfg, env, progress=False) -> SpeciesResult:
    """Propagate secondary e- or e+ from a production-rate array on the lepton grid."""
    prop = model_cfg["propagation"]
    grid = galaxy_model.model_grid(propagation_cfg["grid"], prop, lepton)
    setup = galaxy_model.propagation_setup(grid, lepton, galaxy_model.diffusion_parameters(prop), env,
                                             loss_order=int(propagation_cfg.get("loss_order", 3)))
    solver = SteadyStateSolver(setup, progress=progress)
    density = grid.interior_to_full(solver.solve_interior(grid.full_to_interior(source)))
    r_sun = float(propagation_cfg.get("galaxy", {}).get("r_sun_kpc", 8.3))
    return SpeciesResult(f"{lepton}_secondary", grid, density, sun_intensity(solver, density, r_sun_kpc=r_sun))


def local_spectra_table(results: dict, phis_GV: dict, meta: dict | None = None) -> Table:
    """``local_spectra.ecsv``: interstellar and modulated fluxes at the Sun per species.

    Parameters
    ----------
    results : dict
        ``{'proton': SpeciesResult, 'helium': ..., 'electron': ..., 'positron': ...}`` with the
        total (primary + secondary) leptons; each on its own T_n grid.
    phis_GV : dict
        Force-field potential per species.

    Returns
    -------
    astropy.table.Table
        Column ``Ek_GeV_per_n`` (the union grid: the nuclei grid), then ``<species>_lis`` and
        ``<species>_modulated`` in GeV^-1 cm^-2 s^-1 sr^-1 (per GeV/n for nuclei); fluxes outside
        a species' own grid are zero.
    """
    grids = {name: res.grid.ek_GeV_per_n for name, res in results.items()}
    ek = max(grids.values(), key=lambda e: e[-1] / e[0])
    table = Table(meta=dict(meta or {}))
    table["Ek_GeV_per_n"] = ek * u.GeV
    table["Ek_GeV_per_n"].description = "kinetic energy per nucleon (per particle for leptons)"
    for name, res in results.items():
        own = res.grid.ek_GeV_per_n
        inside = (ek >= own[0] * (1 - 1e-9)) & (ek <= own[-1] * (1 + 1e-9))
        lis = np.where(inside, loglog_interp(ek, own, np.maximum(res.intensity_sun, 0.0), out_of_range="nan"), 0.0)
        modulated = modulated_intensity(own, res.intensity_sun, name, phis_GV[name])
        mod = np.where(inside, loglog_interp(ek, own, modulated, out_of_range="nan"), 0.0)
        per = "per GeV/n" if name in galaxy_model.NUCLEI else "per GeV"
        table[f"{name}_lis"] = lis * FLUX_UNIT
        table[f"{name}_lis"].description = f"interstellar flux at the Sun ({per})"
        table[f"{name}_modulated"] = mod * FLUX_UNIT
        table[f"{name}_modulated"].description = f"force-field modulated, phi = {phis_GV[name]} GV ({per})"
    table.meta["phi_GV"] = dict(phis_GV)
    table.meta["norms"] = {name: float(res.norm) for name, res in results.items()}
    return table


def write_result(path, result: SpeciesResult, config: dict | None = None, inputs: dict | None = None) -> None:
    """Write a :class:`SpeciesResult` (density, axes, intensity at the Sun, norm) atomically to HDF5."""
    from .greens import write_density_h5

    extra = {
        "component": result.name,
        "norm": float(result.norm),
        "intensity_sun": np.asarray(result.intensity_sun, dtype=float),
        "intensity_sun_unit": "cm-2 s-1 sr-1 GeV-1 (per GeV/n for nuclei)",
    }
    extra.update({key: repr(value) for key, value in result.meta.items()})
    write_density_h5(path, result.grid, result.name.split("_")[0], result.density,
                     config=config, inputs=inputs, extra_attrs=extra)


def read_result(path) -> SpeciesResult:
    """Read a file written by :func:`write_result`."""
    from .greens import read_density_h5
    from .grid import Grid

    content = read_density_h5(path)
    attrs = content["attrs"]
    grid = Grid(r_kpc=content["r_kpc"], z_kpc=content["z_kpc"], ek_GeV_per_n=content["ek_GeV_per_n"])
    return SpeciesResult(str(attrs.get("component", attrs["species"])), grid, content["psi"],
                         np.asarray(attrs["intensity_sun"]), float(attrs.get("norm", 1.0)))


def combine(name: str, *parts: SpeciesResult) -> SpeciesResult:
    """Sum of components on one grid (e.g. primary + secondary electrons)."""
    first = parts[0]
    return SpeciesResult(name, first.grid, sum(p.density for p in parts), sum(p.intensity_sun for p in parts),
                         meta={"components": [p.name for p in parts]})


def propagate_leptons(model_cfg: dict, propagation_cfg: dict, proton: SpeciesResult, helium: SpeciesResult,
                      isrf_path, reference_tables: dict, with_greens: bool = True, progress: bool = False,
                      n_workers: int = 1) -> dict:
    """Primary electrons, extra primary positrons and secondary e+- of one model, normalised.

    The secondaries follow from the (normalised) proton and helium densities; the primary
    electron and extra positron scales are then fitted to ``reference_tables['electron']`` and
    ``['positron']`` with the secondaries held fixed.

    Returns
    -------
    dict
        ``electron``, ``positron`` (totals) and ``electron_primary``, ``electron_secondary``,
        ``positron_primary``, ``positron_secondary`` :class:`SpeciesResult` objects.
    """
    prop = model_cfg["propagation"]
    grid = galaxy_model.model_grid(propagation_cfg["grid"], prop, "electron")
    env = galaxy_model.galaxy_environment(grid, propagation_cfg.get("galaxy"), isrf_path)
    sources = secondary_lepton_sources(proton, helium, grid, env, env.he_to_h)
    out = {}
    for lepton in ("electron", "positron"):
        secondary = propagate_secondary(lepton, sources[lepton], model_cfg, propagation_cfg, env, progress)
        primary = propagate_primary(model_cfg, propagation_cfg, lepton, env=env,
                                    with_greens=with_greens and lepton == "electron", progress=progress,
                                    n_workers=n_workers)
        primary.name = f"{lepton}_primary"
        norm_cfg = propagation_cfg["normalisation"][lepton]
        primary = normalise_to_data(primary, lepton, model_cfg["injection"][lepton]["phi_GV"],
                                    reference_tables[lepton], norm_cfg["ek_range_GeV_per_n"], fixed=secondary)
        out[f"{lepton}_primary"] = primary
        out[f"{lepton}_secondary"] = secondary
        out[lepton] = combine(lepton, primary, secondary)
    return out
