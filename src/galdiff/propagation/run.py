"""One model run: Green's functions, propagation of fitted injections, leptons, local spectra.

The stage functions here are what the workflow's propagation rules call; each takes plain config
mappings and arrays and returns results, so they are testable without Snakemake.

Order of the stages (with Green's functions, ``propagation.greens: true``)
---------------------------------------------------------------------------
1. :func:`greens_matrix`: G[E_out, E_in] at the Sun for one transport set-up
   (:mod:`galdiff.propagation.setups`; shared by every model with the same transport).
2. The fit (:mod:`galdiff.fitting`) of protons and helium gives the injection: Eq. 3 shape and
   the prefactor q0 [cm^-3 s^-1 GV^-1] at the Sun's position (source law Eq. 2, 1 at the Sun).
3. :func:`propagate_injection` propagates that injection: the density written for the
   emission stage *is* the best fit, J_sun = G @ Q to the solver's tolerance.
4. :func:`propagate_secondaries`: secondary e- and e+ from those p and He densities.
5. The lepton fit (electron Green's matrix, secondaries held fixed) gives the primary electron
   and extra positron injections; :func:`propagate_fitted_leptons` propagates them and adds the
   secondaries (totals ``electron``, ``positron``).

Normalisation. With Green's functions the overall scale of every fitted species is the fit's
normalisation (the fit's q0); nothing is rescaled to a reference data set afterwards.
``SpeciesResult.norm`` holds q0, the Eq. 3 prefactor in cm^-3 s^-1 GV^-1.

Without Green's functions (``propagation.greens: false``: no fit) the injection shapes are the
configured ones (Tables II-III), and each species' overall scale is the single number that
minimises chi^2 of the modulated flux at Earth against one reference data set in a configured
energy window (``propagation.normalisation``; :func:`normalise_to_data`). For positrons the
secondary component is fixed by the (already normalised) protons and helium, and only the extra
primary positron component is scaled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from astropy import units as u
from astropy.table import Table

from ..conventions import INTENSITY_UNIT
from ..data.datasets import flux_vs_ek_per_n
from ..interactions.hadronic import HadronicMatrix
from ..provenance import sha256_of_file
from ..spectra import force_field_modulate, loglog_interp
from ..units import get_species
from . import model as galaxy_model
from .greens import propagate_spectrum, sun_greens_matrix, sun_intensity
from .grid import Grid
from .setups import RADIATION_SPECIES, transport_setup
from .solver import SteadyStateSolver, intensity_from_density

log = logging.getLogger(__name__)

FLUX_UNIT = INTENSITY_UNIT


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
        Eq. 3 prefactor q0 of the injection in cm^-3 s^-1 GV^-1 (the fit's, or the scale applied
        to the unit-prefactor injection by :func:`normalise_to_data`); 1 for secondaries.
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


def setup_solver(setup: dict, env=None, isrf_path=None, progress: bool = False):
    """The steady-state solver of a :func:`~galdiff.propagation.setups.transport_setup` mapping.

    Parameters
    ----------
    setup : dict
        From :func:`galdiff.propagation.setups.transport_setup`.
    env : GalaxyEnvironment, optional
        Interstellar conditions on the set-up's grid (built from ``setup['galaxy']`` and
        ``isrf_path`` when absent).
    isrf_path : path-like, optional
        GALPROP-format ISRF file; needed by electrons and positrons when ``env`` is not given. If
        the set-up records the file's sha256, the file must match it.
    progress : bool

    Returns
    -------
    (SteadyStateSolver, GalaxyEnvironment, ndarray)
        The factorised solver (its ``grid`` is the species' grid), the environment and the
        dimensionless source shape S(r, z) (docs/paper.md#eq-2-source-distribution, 1 at the Sun).
    """
    species_name = setup["species"]
    grid = Grid.from_config(setup["grid"])
    if env is None:
        if species_name in RADIATION_SPECIES:
            if isrf_path is None:
                raise ValueError(f"{species_name}: the ISRF file is needed for the inverse-Compton losses")
            expected = setup.get("isrf_sha256")
            if expected is not None and sha256_of_file(isrf_path) != expected:
                raise ValueError(f"ISRF file {isrf_path}: sha256 {sha256_of_file(isrf_path)} differs from the "
                                 f"set-up's {expected}")
        env = galaxy_model.galaxy_environment(grid, setup["galaxy"], isrf_path if species_name in RADIATION_SPECIES
                                              else None)
    params = galaxy_model.diffusion_parameters(setup["transport"])
    prop_setup = galaxy_model.propagation_setup(grid, species_name, params, env, loss_order=int(setup["loss_order"]))
    solver = SteadyStateSolver(prop_setup, progress=progress)
    shape = galaxy_model.source_shape(grid, float(setup["galaxy"]["r_sun_kpc"]))
    return solver, env, shape


def greens_matrix(setup: dict, isrf_path=None, n_workers: int = 1, progress: bool = False):
    """Green's matrix at the Sun of one transport set-up (no forward solve).

    Parameters
    ----------
    setup : dict
        From :func:`galdiff.propagation.setups.transport_setup`.
    isrf_path : path-like, optional
        ISRF file (electrons, positrons).
    n_workers : int
        Worker processes for the rows (:func:`galdiff.propagation.greens.sun_greens_matrix`).
    progress : bool

    Returns
    -------
    (Grid, ndarray of shape (n_E, n_E))
        The species' grid and G[E_out, E_in] in cm sr^-1: the interstellar intensity at the Sun
        [cm^-2 s^-1 sr^-1 (GeV/n)^-1] is G @ Q for an injection Q(E) S(r, z) with Q in
        cm^-3 s^-1 (GeV/n)^-1 at the energy nodes.
    """
    solver, _, shape = setup_solver(setup, isrf_path=isrf_path, progress=progress)
    r_sun = float(setup["galaxy"]["r_sun_kpc"])
    greens = sun_greens_matrix(solver, shape, r_sun_kpc=r_sun, n_workers=n_workers, progress=progress)
    return solver.grid, greens


def propagate_primary(model_cfg: dict, propagation_cfg: dict, species_name: str, env=None, isrf_path=None,
                      with_greens: bool = True, progress: bool = False, n_workers: int = 1) -> SpeciesResult:
    """Propagate a primary species with unit-normalised Eq. 3 injection and the SNR source shape.

    ``species_name`` is ``proton``, ``helium``, ``electron`` or ``positron`` (the extra primary
    positron component); the injection parameters are ``model_cfg['injection'][species_name]``,
    sampled at the nodes with prefactor 1 (scale it with :func:`normalise_to_data`). This is the
    path without a fit (``propagation.greens: false``); the fitted injection goes through
    :func:`propagate_injection`.
    """
    setup = transport_setup(model_cfg, propagation_cfg, species_name)
    solver, env, shape = setup_solver(setup, env=env, isrf_path=isrf_path, progress=progress)
    grid = solver.grid
    r_sun = float(setup["galaxy"]["r_sun_kpc"])
    spectrum = galaxy_model.injection_spectrum_per_GeV_per_n(grid.ek_GeV_per_n, species_name, model_cfg["injection"][species_name])
    density = propagate_spectrum(solver, shape, spectrum)
    intensity = sun_intensity(solver, density, r_sun_kpc=r_sun)
    greens = (sun_greens_matrix(solver, shape, r_sun_kpc=r_sun, n_workers=n_workers, progress=progress)
              if with_greens else None)
    return SpeciesResult(species_name, grid, density, intensity, 1.0, greens,
                         meta={"injection": model_cfg["injection"][species_name]})


def injection_on_grid(ek_GeV_per_n, species_name: str, entry: dict) -> np.ndarray:
    """A fitted injection spectrum Q(T_n) on a grid, exactly as the fit formed it for G @ Q.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        Grid nodes in GeV/n (per particle for leptons).
    species_name : str
    entry : dict
        One species of :func:`galdiff.fitting.fitted_injection`: ``nu``, ``breaks_GV``,
        ``cutoff_GV``, the prefactor ``q0_per_cm3_s_GV`` and ``sampling`` (``cell_average``, the
        fit's default, or ``node``).

    Returns
    -------
    numpy.ndarray
        Q in cm^-3 s^-1 (GeV/n)^-1 at the Sun's position (source law Eq. 2, 1 at the Sun).
    """
    from ..spectra import injection_cell_average, injection_per_ek_per_n

    species = get_species(species_name)
    args = (entry["nu"], entry["breaks_GV"], entry["cutoff_GV"], float(entry["q0_per_cm3_s_GV"]))
    sampling = entry.get("sampling", "cell_average")
    if sampling == "cell_average":
        return injection_cell_average(ek_GeV_per_n, species, *args)
    if sampling == "node":
        return injection_per_ek_per_n(ek_GeV_per_n, species, *args)
    raise ValueError(f"injection sampling must be 'cell_average' or 'node', got {sampling!r}")


def propagate_injection(model_cfg: dict, propagation_cfg: dict, species_name: str, entry: dict, env=None,
                        isrf_path=None, name: str | None = None, progress: bool = False) -> SpeciesResult:
    """Propagate a fitted injection (:func:`injection_on_grid`): the best-fit density, no rescaling.

    Parameters
    ----------
    model_cfg, propagation_cfg : dict
        ``models.<model>`` (its ``propagation``, Table I) and the ``propagation`` config: the same
        transport set-up as the Green's matrix the fit used.
    species_name : str
    entry : dict
        The fitted injection of this species (:func:`galdiff.fitting.fitted_injection`).
    env, isrf_path
        As in :func:`setup_solver`.
    name : str, optional
        Component name (default the species; e.g. ``electron_primary``).

    Returns
    -------
    SpeciesResult
        ``norm`` is the fit's prefactor q0 [cm^-3 s^-1 GV^-1]; ``intensity_sun`` equals G @ Q.
    """
    setup = transport_setup(model_cfg, propagation_cfg, species_name)
    solver, env, shape = setup_solver(setup, env=env, isrf_path=isrf_path, progress=progress)
    grid = solver.grid
    spectrum = injection_on_grid(grid.ek_GeV_per_n, species_name, entry)
    density = propagate_spectrum(solver, shape, spectrum)
    intensity = sun_intensity(solver, density, r_sun_kpc=float(setup["galaxy"]["r_sun_kpc"]))
    return SpeciesResult(name or species_name, grid, density, intensity, float(entry["q0_per_cm3_s_GV"]),
                         meta={"injection": dict(entry), "scale": "fitted injection (q0 from the fit)"})


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

    aafragpy channels 'el' and 'posi' (docs/emission.md#hadronic-emissivity) applied to the propagated
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
    setup = transport_setup(model_cfg, propagation_cfg, lepton)
    solver, env, _ = setup_solver(setup, env=env, progress=progress)
    grid = solver.grid
    density = solver.to_full(solver.solve_interior(solver.to_unknowns(source, "secondary source")))
    r_sun = float(setup["galaxy"]["r_sun_kpc"])
    return SpeciesResult(f"{lepton}_secondary", grid, density, sun_intensity(solver, density, r_sun_kpc=r_sun))


def lepton_environment(model_cfg: dict, propagation_cfg: dict, isrf_path):
    """Grid and interstellar conditions (with the radiation field) shared by electrons and positrons."""
    setup = transport_setup(model_cfg, propagation_cfg, "electron")
    positron = transport_setup(model_cfg, propagation_cfg, "positron")
    if positron["grid"] != setup["grid"]:
        raise ValueError("electrons and positrons must share one grid (propagation.grid.species overrides): "
                         f"{setup['grid']} != {positron['grid']}")
    grid = Grid.from_config(setup["grid"])
    return grid, galaxy_model.galaxy_environment(grid, setup["galaxy"], isrf_path)


def propagate_secondaries(model_cfg: dict, propagation_cfg: dict, proton: SpeciesResult, helium: SpeciesResult,
                          isrf_path=None, env=None, progress: bool = False) -> dict:
    """Secondary e- and e+ from the propagated p and He densities (their production and transport).

    Parameters
    ----------
    model_cfg, propagation_cfg : dict
    proton, helium : SpeciesResult
        Propagated nuclei (with a fit: the best-fit densities of :func:`propagate_injection`).
    isrf_path : path-like, optional
        ISRF file (needed when ``env`` is not given).
    env : GalaxyEnvironment, optional
        From :func:`lepton_environment`.

    Returns
    -------
    dict
        ``electron_secondary``, ``positron_secondary`` :class:`SpeciesResult` objects (norm 1).
    """
    if env is None:
        grid, env = lepton_environment(model_cfg, propagation_cfg, isrf_path)
    else:
        grid = Grid.from_config(transport_setup(model_cfg, propagation_cfg, "electron")["grid"])
    sources = secondary_lepton_sources(proton, helium, grid, env, env.he_to_h)
    return {f"{lepton}_secondary": propagate_secondary(lepton, sources[lepton], model_cfg, propagation_cfg, env, progress)
            for lepton in ("electron", "positron")}


def _with_totals(primaries: dict, secondaries: dict) -> dict:
    out = {}
    for lepton in ("electron", "positron"):
        primary, secondary = primaries[lepton], secondaries[f"{lepton}_secondary"]
        if primary.density.shape != secondary.density.shape or not np.allclose(
                primary.grid.ek_GeV_per_n, secondary.grid.ek_GeV_per_n, rtol=1e-12):
            raise ValueError(f"{lepton}: primary and secondary densities are on different grids")
        primary.name = f"{lepton}_primary"
        out[f"{lepton}_primary"] = primary
        out[f"{lepton}_secondary"] = secondary
        out[lepton] = combine(lepton, primary, secondary)
    return out


def propagate_fitted_leptons(model_cfg: dict, propagation_cfg: dict, injection: dict, secondaries: dict,
                             isrf_path=None, env=None, progress: bool = False) -> dict:
    """Primary electrons and extra positrons with the fitted lepton injection, plus the secondaries.

    Parameters
    ----------
    model_cfg, propagation_cfg : dict
    injection : dict
        ``{'electron': entry, 'positron': entry}`` of :func:`galdiff.fitting.fitted_injection` of
        the lepton fit (the positron entry is the extra source; its ``c_eplus`` scales the
        secondary positrons, as in :class:`galdiff.fitting.LeptonModel`).
    secondaries : dict
        From :func:`propagate_secondaries` (the fixed components of the lepton fit); the returned
        ``positron_secondary`` is the input one times c_e+.
    isrf_path, env
        As in :func:`propagate_secondaries`.

    Returns
    -------
    dict
        ``electron``, ``positron`` (totals) and ``electron_primary``, ``electron_secondary``,
        ``positron_primary``, ``positron_secondary``.
    """
    if env is None:
        _, env = lepton_environment(model_cfg, propagation_cfg, isrf_path)
    primaries = {lepton: propagate_injection(model_cfg, propagation_cfg, lepton, injection[lepton], env=env,
                                             progress=progress)
                 for lepton in ("electron", "positron")}
    c_eplus = float(injection["positron"].get("c_eplus", 1.0))
    secondaries = dict(secondaries, positron_secondary=secondaries["positron_secondary"].scaled(c_eplus))
    return _with_totals(primaries, secondaries)


def normalised_primary_leptons(model_cfg: dict, propagation_cfg: dict, secondaries: dict, reference_tables: dict,
                               isrf_path=None, env=None, progress: bool = False) -> dict:
    """Without a fit: configured lepton injection shapes, each scale fitted to one reference data set.

    The primary electron and extra positron scales are fitted to ``reference_tables['electron']``
    and ``['positron']`` (windows ``propagation.normalisation``) with the secondaries held fixed.
    Returns the same mapping as :func:`propagate_fitted_leptons`.
    """
    if env is None:
        _, env = lepton_environment(model_cfg, propagation_cfg, isrf_path)
    primaries = {}
    for lepton in ("electron", "positron"):
        primary = propagate_primary(model_cfg, propagation_cfg, lepton, env=env, with_greens=False, progress=progress)
        primary.name = f"{lepton}_primary"
        norm_cfg = propagation_cfg["normalisation"][lepton]
        primaries[lepton] = normalise_to_data(primary, lepton, model_cfg["injection"][lepton]["phi_GV"],
                                              reference_tables[lepton], norm_cfg["ek_range_GeV_per_n"],
                                              fixed=secondaries[f"{lepton}_secondary"])
    return _with_totals(primaries, secondaries)


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
