"""Green's functions at the Sun, propagation of a source spectrum, and HDF5 files.

The steady state is linear in the source. For a source q(E, r, z) = Q(E_k) S(r, z) with a
fixed spatial shape S (dimensionless) and a spectrum Q (cm^-3 s^-1 (GeV/n)^-1, one value per
energy node), the intensity at the Sun is

    J_sun(E_o) = sum_k G[o, k] Q(E_k),   G[o, k] = (beta_o c / 4 pi) w_sun . (A^-1 (e_k S))_o,

with A the steady-state operator of :class:`~galdiff.propagation.solver.SteadyStateSolver` and
w_sun the bilinear interpolation weights of the Sun on the grid. G is computed row by row from
the adjoint problem A^T y_o = e_o w_sun: G[o, k] = (beta_o c / 4 pi) y_o[k] . S, so one adjoint
solve gives a whole row (every injection energy at once) and a fit costs only the product G Q.
Without reacceleration the adjoint sweep is exact and each row costs one block sweep; with it,
~15 GMRES iterations below ~100 GeV and 1-2 above (see the solver's module docstring).
Neighbouring rows are solved together in batches of :data:`BATCH_ROWS` (one GMRES per row, the
preconditioner shared), each batch only on the energy window where its rows' T^-2-weighted
responses exceed 1e-16 of their peaks (estimated from the first sweep and the coarse correction
of one preconditioner application on the whole axis, which give the same windows as the whole
application; widened until the response at the window edges is < 1e-13 of the peak, GMRES then
restarting from the smaller window's solution; :meth:`SteadyStateSolver.energy_window` is the
exact principal submatrix, its coarse problem projected for those energies alone; a window that
is the whole axis, as for the low-energy electron rows, reuses the estimate's preconditioner
application and the solver's own coarse factor). GMRES's own residual estimate ends each batch
(no recomputed residual: one preconditioner application fewer, the same rows). Rows above a few TeV
then span ~20-40 bins instead of 193, rows below 100 GeV ~80. Each row is solved to relative
accuracy :data:`GREENS_RTOL` wherever its contribution to J under a T^-2 source is above 1e-12
of the largest; windowed and whole-axis rows agree to 1e-10 of the row maximum and G @ Q agrees
with a direct run to < 1e-6 in the tests (~1e-8 measured). Batches are independent, so
``n_workers`` forked processes divide the wall time (benchmarks/RESULTS.md for the default
grid).

Units: G in cm^-2 s^-1 sr^-1 (GeV/n)^-1 per [cm^-3 s^-1 (GeV/n)^-1 of Q] = cm sr^-1.
Axis order of G: [E_out, E_in]; of psi: (E, r, z).
"""

from __future__ import annotations

import copy
import logging
import multiprocessing as mp
import os

import numpy as np
from tqdm.auto import tqdm

from ..io import H5_RECORD_ATTR, reading_h5, writing_h5
from ..provenance import provenance_meta
from ..units import C_CM_PER_S
from .solver import SteadyStateSolver, release_freed_heap

R_SUN_KPC = 8.3
Z_SUN_KPC = 0.0
PSI_UNIT = "cm-3 GeV-1"  # per GeV of kinetic energy per nucleon
GREENS_UNIT = "cm sr-1"  # (cm-2 s-1 sr-1 GeV-1) per (cm-3 s-1 GeV-1)

log = logging.getLogger(__name__)


_FORKED_STATE: dict = {}


#: an adjoint row is solved on the energies where its T^-2-weighted response exceeds this
#: fraction of its peak (plus a margin), and accepted when the response at the window edges
#: is below WINDOW_EDGE of the peak; otherwise the window grows
WINDOW_SUPPORT = 1e-16
WINDOW_EDGE = 1e-13
WINDOW_MARGIN = 4
#: rows solved together: they share the preconditioner's sparse triangular solves. 4 is the
#: fastest per row on the default grid (SuperLU 0.30 ms per column and 2D block against 0.31
#: for 3 and 0.33 for 2) and gives rows bit-identical to those of earlier releases; a worker then
#: holds ~0.65 GiB (Krylov vectors of 4 rows x ~90 energies x 10^4 cells), two of them beside the
#: 1.5 GiB parent 2.9 GiB, under the 3 GiB target. 3 rows keep the job near 2.6 GiB for ~9 % more
#: CPU per row but move rows by ~4e-10 of their maximum (benchmarks/RESULTS.md)
BATCH_ROWS = 4
#: GMRES tolerance of the adjoint rows (energy-scaled, preconditioned residual): rows agree
#: with rtol = 1e-11 ones to ~5e-9 of their maximum, so G @ Q to ~1e-8 (benchmarks/RESULTS.md).
#: 1e-6 would need a third fewer block solves, but the tiny configuration's lepton fits then land
#: in other minima (benchmarks/RESULTS.md, "Green's rows: GMRES tolerance")
GREENS_RTOL = 1e-8


def _greens_rows(solver: SteadyStateSolver, weights, shape_unknowns, beta, rows, windowed: bool = True,
                 rtol: float | None = None) -> np.ndarray:
    """Rows ``rows`` of G from adjoint solves done together (see the module docstring).

    With ``windowed`` the adjoint problems are solved only on the energy range where the rows'
    responses matter (estimated from the first half of one preconditioner application, then checked at the
    window edges and enlarged if needed); outside it the rows are set to zero. This is exact to
    ~WINDOW_EDGE relative to each row's largest T^-2-weighted entry and makes rows above a few
    TeV, whose response spans a few bins, nearly free. Rows batched together should be
    neighbours in energy, since they share one window.

    Returns
    -------
    ndarray, shape (len(rows), n_E)
    """
    rows = np.asarray(rows, dtype=int)
    n_e = beta.size

    def adjoint_rhs(start, stop):  # e_o w_sun on energies [start, stop): built per window, not kept
        rhs = np.zeros((rows.size, stop - start, weights.size))
        inside = (rows >= start) & (rows < stop)
        rhs[np.nonzero(inside)[0], rows[inside] - start] = weights
        return rhs

    coefficient = (beta[rows] * C_CM_PER_S / (4.0 * np.pi))[:, None]
    reference = solver.ek_GeV_per_n ** -2.0
    if not windowed or not solver.has_upward_coupling:
        return coefficient * (solver.solve_adjoint_interior(adjoint_rhs(0, n_e), rtol=rtol) @ shape_unknowns)
    # the window is estimated from the preconditioner's first sweep and coarse correction on the
    # whole axis (the last sweep changes the support by < WINDOW_SUPPORT; benchmarks/RESULTS.md);
    # a window that turns out to be the whole axis finishes that preconditioner application and
    # hands it to GMRES, and solves with the solver's own factors (no coarse problem factorised again)
    partial, residual = solver._precondition_first_half(adjoint_rhs(0, n_e), transposed=True)
    estimate = np.maximum(partial.max(axis=2), -partial.min(axis=2)) * reference  # max |partial|, no copy
    support = estimate > WINDOW_SUPPORT * estimate.max(axis=1, keepdims=True)
    support[np.arange(rows.size), rows] = True
    energies = np.nonzero(support.any(axis=0))[0]
    start = max(energies.min() - WINDOW_MARGIN, 0)
    stop = min(energies.max() + WINDOW_MARGIN + 1, n_e)
    preconditioned = None
    if start == 0 and stop == n_e:
        preconditioned = solver._precondition_second_half(partial, residual, transposed=True)
    del partial, residual, estimate
    guess = None
    while True:
        view = copy.copy(solver) if (start, stop) == (0, n_e) else solver.energy_window(start, stop)
        view.verify_gmres_residual = False  # GMRES's own residual estimate decides (one application saved)
        adjoint = view.solve_adjoint_interior(adjoint_rhs(start, stop), source_spectrum_ref=reference[start:stop],
                                              rtol=rtol, initial_guess=guess, preconditioned_rhs=preconditioned)
        preconditioned = None
        solver.iterations_last_solve = view.iterations_last_solve
        solver.last_greens_window = (start, stop)
        log.debug("Green's rows %d-%d: window [%d, %d), %d GMRES iterations%s", rows[0], rows[-1], start, stop,
                  view.iterations_last_solve, "" if guess is None else " (from the smaller window's solution)")
        del view
        response = np.maximum(adjoint.max(axis=2), -adjoint.min(axis=2)) * reference[start:stop]
        peak = response.max(axis=1)
        edge_low = start > 0 and np.any(response[:, 0] > WINDOW_EDGE * peak)
        edge_high = stop < n_e and np.any(response[:, -1] > WINDOW_EDGE * peak)
        if not (edge_low or edge_high):
            break
        # grow the window and start from this solution (zero in the new energies): the response
        # there is ~WINDOW_EDGE of the peak, so GMRES has only the new bins' few digits to find
        new_start = max(start - 4 * WINDOW_MARGIN, 0) if edge_low else start
        new_stop = min(stop + 4 * WINDOW_MARGIN, n_e) if edge_high else stop
        guess = np.zeros((rows.size, new_stop - new_start, weights.size))
        guess[:, start - new_start:stop - new_start] = adjoint
        start, stop = new_start, new_stop
        del adjoint
    out = np.zeros((rows.size, n_e))
    out[:, start:stop] = coefficient * (adjoint @ shape_unknowns)
    return out


def _greens_rows_forked(rows):
    solver, weights, shape_unknowns, beta, windowed, rtol = _FORKED_STATE["args"]
    solver.progress = False
    block = _greens_rows(solver, weights, shape_unknowns, beta, rows, windowed, rtol)
    release_freed_heap()  # what a batch freed would otherwise stay with this worker
    return rows, block


def sun_greens_matrix(solver: SteadyStateSolver, source_shape, r_sun_kpc: float = R_SUN_KPC,
                      z_sun_kpc: float = Z_SUN_KPC, n_workers: int = 1, rows=None,
                      windowed: bool = True, progress: bool | None = None, batch_rows: int = BATCH_ROWS,
                      rtol: float = GREENS_RTOL) -> np.ndarray:
    """Green's matrix G[E_out, E_in] of the intensity at the Sun per unit injection spectrum.

    Parameters
    ----------
    solver : SteadyStateSolver
        Factorised operator of one species and setup.
    source_shape : array_like, shape (n_r, n_z)
        Dimensionless spatial source shape S(r, z) (e.g. the SNR law of Eq. 2).
    r_sun_kpc, z_sun_kpc : float
        Observer position (docs/paper.md#eq-2-source-distribution: r_sun = 8.3 kpc, z = 0).
    n_workers : int
        Batches of rows are independent adjoint solves: with n_workers > 1 they are spread over
        forked processes that share the factorised solver copy-on-write (Linux/macOS ``fork``).
    rows : sequence of int, optional
        Output-energy indices to compute (default all); the other rows are NaN. A fit needs
        only the rows at (or bracketing) the measured energies.
    windowed : bool
        Solve each batch only on the energy window where it matters (see :func:`_greens_rows`);
        False solves every row on the whole energy axis.
    progress : bool, optional
        tqdm bar over the rows (default: the solver's setting).
    batch_rows : int
        Neighbouring rows solved together (1: one at a time).
    rtol : float
        GMRES tolerance of the adjoint solves (see :data:`GREENS_RTOL`).

    Returns
    -------
    ndarray, shape (n_E, n_E)
        G[o, k] in cm sr^-1: J_sun(E_o) [cm^-2 s^-1 sr^-1 (GeV/n)^-1] = G @ Q with Q the
        source spectrum in cm^-3 s^-1 (GeV/n)^-1 at the energy nodes (rows not requested: NaN).

    Notes
    -----
    With the default third-order loss flux a single-bin injection is answered with a small
    damped undershoot a few bins below it, so individual entries of G can be slightly negative
    (<~ 1 % of the row maximum in the tests); G @ Q is accurate and positive for smooth Q.
    """
    grid = solver.grid
    shape_unknowns = _source_shape_unknowns(solver, source_shape)
    weights = solver.observer_weights(r_sun_kpc, z_sun_kpc)
    beta = grid.beta(solver.setup.species)
    n_e = grid.ek_GeV_per_n.size
    greens = np.full((n_e, n_e), np.nan)
    wanted = list(range(n_e)) if rows is None else sorted({int(o) for o in rows})
    if any(o < 0 or o >= n_e for o in wanted):
        raise ValueError(f"rows must be energy indices in [0, {n_e}), got {rows!r}")
    batch_rows = max(1, int(batch_rows))
    # ascending energy: the expensive low-energy batches go out first (load balance)
    batches = [wanted[i:i + batch_rows] for i in range(0, len(wanted), batch_rows)]
    show = solver.progress if progress is None else progress
    bar = tqdm(total=len(wanted), desc="Green's rows", disable=not show)
    if n_workers > 1 and len(batches) > 1 and "fork" in mp.get_all_start_methods():
        _FORKED_STATE["args"] = (solver, weights, shape_unknowns, beta, windowed, rtol)
        try:
            with mp.get_context("fork").Pool(min(n_workers, len(batches))) as pool:
                for done, block in pool.imap_unordered(_greens_rows_forked, batches):
                    greens[done] = block
                    bar.update(len(done))
        finally:
            _FORKED_STATE.clear()
    else:
        for batch in batches:
            greens[batch] = _greens_rows(solver, weights, shape_unknowns, beta, batch, windowed, rtol)
            bar.update(len(batch))
    bar.close()
    return greens


def _source_shape_unknowns(solver: SteadyStateSolver, source_shape) -> np.ndarray:
    grid = solver.grid
    shape = np.asarray(source_shape, dtype=float)
    if shape.shape != grid.shape[1:]:
        raise ValueError(f"source_shape must have shape (n_r, n_z) = {grid.shape[1:]}, got {shape.shape}")
    if not np.all(np.isfinite(shape)):
        raise ValueError("source_shape must be finite")
    return solver.to_unknowns(shape[None], "source_shape")[0]


def propagate_spectrum(solver: SteadyStateSolver, source_shape, spectrum_per_cm3_s_GeV) -> np.ndarray:
    """Full steady-state density for the source S(r, z) Q(E).

    Parameters
    ----------
    solver : SteadyStateSolver
    source_shape : array_like, shape (n_r, n_z)
        Dimensionless spatial shape S.
    spectrum_per_cm3_s_GeV : array_like, shape (n_E,)
        Q(E) at the energy nodes, cm^-3 s^-1 (GeV/n)^-1.

    Returns
    -------
    ndarray, shape (n_E, n_r, n_z)
        psi = N in cm^-3 (GeV/n)^-1.
    """
    grid = solver.grid
    spectrum = np.asarray(spectrum_per_cm3_s_GeV, dtype=float)
    if spectrum.shape != (grid.ek_GeV_per_n.size,):
        raise ValueError(f"spectrum must have shape ({grid.ek_GeV_per_n.size},), got {spectrum.shape}")
    shape = _source_shape_unknowns(solver, source_shape)
    return solver.to_full(solver.solve_interior(spectrum[:, None] * shape[None, :]))


def sun_intensity(solver: SteadyStateSolver, density_full, r_sun_kpc: float = R_SUN_KPC,
                  z_sun_kpc: float = Z_SUN_KPC) -> np.ndarray:
    """Intensity J = beta c N / 4 pi at the Sun from a full density, cm^-2 s^-1 sr^-1 (GeV/n)^-1."""
    weights = solver.observer_weights(r_sun_kpc, z_sun_kpc)
    beta = solver.grid.beta(solver.setup.species)
    return beta * C_CM_PER_S / (4.0 * np.pi) * (solver.to_unknowns(density_full, "density") @ weights)


# --------------------------------------------------------------------------------------------
# HDF5 files
# --------------------------------------------------------------------------------------------
def _write_attrs(handle, attrs: dict):
    for key, value in attrs.items():
        if isinstance(value, dict):
            value = repr(value)
        handle.attrs[key] = value


def write_density_h5(path: str | os.PathLike, grid, species_name: str, density_full: np.ndarray,
                     config: dict | None = None, inputs: dict | None = None, extra_attrs: dict | None = None):
    """Write psi(E, r, z) with its axes, units and provenance to HDF5, atomically.

    Layout: datasets ``psi`` (E, r, z) [cm-3 GeV-1, per GeV/n], ``ek_GeV_per_n``, ``r_kpc``,
    ``z_kpc``; root attributes ``species``, ``axis_order`` = "E,r,z", ``galdiff_version``,
    ``config_hash``, ``inputs_sha256`` and anything in ``extra_attrs``.
    """
    density_full = np.asarray(density_full, dtype=float)
    if density_full.shape != grid.shape:
        raise ValueError(f"density shape {density_full.shape} does not match the grid {grid.shape}")
    with writing_h5(path) as handle:
        data = handle.create_dataset("psi", data=density_full, compression="gzip", shuffle=True)
        data.attrs["unit"] = PSI_UNIT
        data.attrs["description"] = "differential density per unit kinetic energy per nucleon"
        for name, unit in (("ek_GeV_per_n", "GeV"), ("r_kpc", "kpc"), ("z_kpc", "kpc")):
            axis = handle.create_dataset(name, data=getattr(grid, name))
            axis.attrs["unit"] = unit
        attrs = {"species": species_name, "axis_order": "E,r,z", "grid_config": repr(grid.config)}
        attrs.update(provenance_meta(inputs=inputs, config=config))
        attrs.update(extra_attrs or {})
        _write_attrs(handle, attrs)


def read_density_h5(path: str | os.PathLike) -> dict:
    """Read a file written by :func:`write_density_h5`.

    Returns
    -------
    dict
        ``psi`` (E, r, z), ``ek_GeV_per_n``, ``r_kpc``, ``z_kpc`` arrays and ``attrs`` (dict).
    """
    with reading_h5(path) as handle:
        for key in ("psi", "ek_GeV_per_n", "r_kpc", "z_kpc"):
            if key not in handle:
                raise KeyError(f"{path}: dataset {key!r} missing; not a galdiff density file")
        out = {key: handle[key][()] for key in ("psi", "ek_GeV_per_n", "r_kpc", "z_kpc")}
        out["attrs"] = {key: value for key, value in handle.attrs.items() if key != H5_RECORD_ATTR}
    return out


def write_greens_h5(path: str | os.PathLike, grid, species_name: str, greens: np.ndarray,
                    r_sun_kpc: float = R_SUN_KPC, z_sun_kpc: float = Z_SUN_KPC,
                    config: dict | None = None, inputs: dict | None = None, extra_attrs: dict | None = None):
    """Write G[E_out, E_in] (cm sr-1) with the energy axis and provenance, atomically."""
    greens = np.asarray(greens, dtype=float)
    n_e = grid.ek_GeV_per_n.size
    if greens.shape != (n_e, n_e):
        raise ValueError(f"Green's matrix shape {greens.shape} does not match ({n_e}, {n_e})")
    with writing_h5(path) as handle:
        data = handle.create_dataset("greens", data=greens)
        data.attrs["unit"] = GREENS_UNIT
        data.attrs["axis_order"] = "E_out,E_in"
        data.attrs["description"] = ("intensity at the observer [cm-2 s-1 sr-1 GeV-1] per unit "
                                     "source spectrum [cm-3 s-1 GeV-1] (energies per nucleon)")
        axis = handle.create_dataset("ek_GeV_per_n", data=grid.ek_GeV_per_n)
        axis.attrs["unit"] = "GeV"
        attrs = {"species": species_name, "r_observer_kpc": r_sun_kpc, "z_observer_kpc": z_sun_kpc,
                 "grid_config": repr(grid.config)}
        attrs.update(provenance_meta(inputs=inputs, config=config))
        attrs.update(extra_attrs or {})
        _write_attrs(handle, attrs)


def read_greens_h5(path: str | os.PathLike) -> dict:
    """Read a file written by :func:`write_greens_h5`: ``greens``, ``ek_GeV_per_n``, ``attrs``."""
    with reading_h5(path) as handle:
        for key in ("greens", "ek_GeV_per_n"):
            if key not in handle:
                raise KeyError(f"{path}: dataset {key!r} missing; not a galdiff Green's-function file")
        out = {key: handle[key][()] for key in ("greens", "ek_GeV_per_n")}
        out["attrs"] = {key: value for key, value in handle.attrs.items() if key != H5_RECORD_ATTR}
    return out
