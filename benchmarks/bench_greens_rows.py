"""Per-row cost of the Green's matrices at the default grid: CPU seconds, GMRES iterations, window.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_greens_rows.py [--species proton electron]
      [--rows 0 16 32 ...] [--save rows.npz] [--compare before.npz] [--rtol 1e-8]

Set-up: the workflow's own (config.yaml, model dr_high: GALPROP gas, ISRF, B field, all losses),
built as ``bench_propagation.py --model-greens`` builds it. Sampled batches of
:data:`~galdiff.propagation.greens.BATCH_ROWS` neighbouring rows (first row of each batch given by
``--rows``) are solved one after the other in this process, as a Green's worker solves them, and
timed with ``time.process_time`` (CPU of this process: the machine is shared, wall clock is not
comparable). ``--save`` keeps the rows; ``--compare`` prints the largest difference of each row
to a saved run relative to the row's largest |entry|.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import yaml

from bench_propagation import ISRF_NAME, PeakMemory  # benchmarks/bench_propagation.py
from galdiff.propagation import model as galaxy_model
from galdiff.propagation.greens import BATCH_ROWS, GREENS_RTOL, R_SUN_KPC, Z_SUN_KPC, _greens_rows, _source_shape_unknowns
from galdiff.propagation.solver import SteadyStateSolver

ROOT = Path(__file__).resolve().parents[1]
#: first rows of the sampled batches: 16 bins/decade, so every ~decade from the bottom of the grid
DEFAULT_ROWS = {"proton": (0, 16, 32, 48, 64, 80, 96, 128, 160), "electron": (0, 16, 32, 48, 64, 96)}


def workflow_solver(species: str, **solver_options) -> SteadyStateSolver:
    """The factorised operator of the workflow's dr_high set-up for one species."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    isrf_path = next((ROOT / m / "galaxy" / ISRF_NAME for m in config["data"]["mirrors"]
                      if (ROOT / m / "galaxy" / ISRF_NAME).exists()), None)
    propagation_cfg, model_cfg = config["propagation"], config["models"]["dr_high"]
    grid = galaxy_model.model_grid(dict(propagation_cfg["grid"]), model_cfg["propagation"], species)
    env = galaxy_model.galaxy_environment(grid, propagation_cfg.get("galaxy"),
                                          None if species in galaxy_model.NUCLEI else isrf_path)
    setup = galaxy_model.propagation_setup(grid, species, galaxy_model.diffusion_parameters(model_cfg["propagation"]),
                                           env, loss_order=int(propagation_cfg.get("loss_order", 3)))
    return SteadyStateSolver(setup, progress=False, **solver_options)


class BlockSolveCounter:
    """Counts the 2D block solves (one per energy block and column) of every solver: the
    preconditioner's sweeps are ~60 % of a Green's row's CPU, and unlike CPU seconds on a shared
    machine the count does not depend on the load."""

    def __init__(self):
        self.columns = 0
        original = SteadyStateSolver._block_solve

        def counted(solver, k, block, transposed):
            self.columns += block.shape[0]
            return original(solver, k, block, transposed)

        SteadyStateSolver._block_solve = counted


COUNTER = BlockSolveCounter()


def sample_rows(solver: SteadyStateSolver, first_rows, batch_rows: int = BATCH_ROWS, rtol: float = GREENS_RTOL):
    """Solve the sampled batches; returns the table rows and {first row: G rows}."""
    grid = solver.grid
    shape = _source_shape_unknowns(solver, galaxy_model.source_shape(grid))
    weights = solver.observer_weights(R_SUN_KPC, Z_SUN_KPC)
    beta = grid.beta(solver.setup.species)
    table, saved = [], {}
    for first in first_rows:
        rows = list(range(first, min(first + batch_rows, grid.ek_GeV_per_n.size)))
        cpu, solves = time.process_time(), COUNTER.columns
        block = _greens_rows(solver, weights, shape, beta, rows, True, rtol)
        cpu, solves = time.process_time() - cpu, COUNTER.columns - solves
        window = getattr(solver, "last_greens_window", (np.nan, np.nan))
        table.append((first, grid.ek_GeV_per_n[first], cpu / len(rows), solves / len(rows),
                      solver.iterations_last_solve, window[1] - window[0]))
        saved[str(first)] = block
    return table, saved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--species", nargs="+", default=["proton", "electron"])
    parser.add_argument("--rows", nargs="+", type=int, help="first row of each sampled batch")
    parser.add_argument("--save", help="npz file for the rows (keys species/first_row)")
    parser.add_argument("--compare", help="npz of an earlier run: largest |difference| / row max")
    parser.add_argument("--rtol", type=float, default=GREENS_RTOL, help="GMRES tolerance of the rows (default: the workflow's)")
    args = parser.parse_args(argv)
    solver_energies = {}
    saved, reference = {}, (dict(np.load(args.compare)) if args.compare else None)
    print("| species | first row | T [GeV/n] | CPU s per row | 2D block solves per row | GMRES it | window (energies) "
          "| max diff / row max | max diff, T^-2 weighted |")
    print("|---|---|---|---|---|---|---|---|---|")
    for species in args.species:
        with PeakMemory() as memory:
            cpu = time.process_time()
            solver = workflow_solver(species)
            setup_cpu = time.process_time() - cpu
            table, rows = sample_rows(solver, args.rows or DEFAULT_ROWS[species], rtol=args.rtol)
            solver_energies[species] = solver.ek_GeV_per_n
        weight = solver_energies[species] ** -2.0
        for first, energy, cpu_row, solves, iterations, window in table:
            key = f"{species}/{first}"
            diff = weighted = "-"
            if reference is not None and key in reference:
                old, new = reference[key], rows[str(first)]
                diff = f"{np.max(np.abs(new - old).max(axis=1) / np.abs(old).max(axis=1)):.1e}"
                weighted = f"{np.max(np.abs((new - old) * weight).max(axis=1) / np.abs(old * weight).max(axis=1)):.1e}"
            print(f"| {species} | {first} | {energy:.3g} | {cpu_row:.2f} | {solves:.0f} | {iterations} | {window} "
                  f"| {diff} | {weighted} |")
            saved[key] = rows[str(first)]
        print(f"<!-- {species}: set-up {setup_cpu:.1f} CPU s, peak PSS {memory.peak_GiB:.2f} GiB -->", flush=True)
        del solver
    if args.save:
        np.savez(args.save, **saved)


if __name__ == "__main__":
    main()
