"""Speed, memory, scaling and grid convergence of the steady-state propagation solver.

Run:  python benchmarks/bench_propagation.py [--skip-scaling] [--greens-default] [--model-greens]

Writes a Markdown table to benchmarks/RESULTS.md (machine, date, figures). The physics inputs
below are *benchmark inputs defined here*, not the project's gas/loss models (those live in
galdiff.galaxy and galdiff.propagation.losses): they only need realistic magnitudes and
spatial structure so that the solver does representative work.

* BENCHMARK GAS: n_H(r, z) = 0.9 cm^-3 exp(-(r - 8.3)/6 kpc) exp(-(z / 0.15 kpc)^2 ln 2)
  (a thin disk), capped at 10 cm^-3.
* BENCHMARK CATASTROPHIC RATE: Gamma = beta c n_H sigma, sigma = 35 mb (p-ISM inelastic,
  He included, energy independent).
* BENCHMARK IONISATION-LIKE LOSS: b = 1.82e-16 GeV/s n_H 2 beta^2 / (beta_0^3 + 2 beta^3),
  beta_0 = 0.01 (Mannheim & Schlickeiser 1994 form without the logarithm).
* SOURCE: docs/paper.md#eq-2-source-distribution (SNR law, r_sun = 8.3 kpc, z_s = 0.2 kpc; the z profile averaged
  over each grid cell) times T^-2.3.
* TRANSPORT: docs/paper.md#table-i-propagation (D0 = 7.69e28 cm^2/s at 4 GV, delta = 0.362, eta = -0.05,
  v_A = 33.76 km/s, zh = 6.3 kpc); r_max = 20 kpc.

The benchmark gas is even in z, so the solver folds the problem at z = 0 (half the unknowns,
galdiff.propagation.layout); the default-grid table also times the unfolded solve, which is what
the project's own Galaxy needs (GALPROP's H2 layer sits off the plane). ``--model-greens`` times
the Green's matrices of the workflow's actual set-up (config.yaml, model dr_high: GALPROP gas,
ISRF, B field, all losses) for protons, helium and electrons, each in a fresh process as the
``greens`` rule runs it (time, CPU and peak memory of the job), and for the nuclei also on the
issue's 0.1 GeV/n - 100 PeV/n range.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from galdiff.propagation.coefficients import dr_coefficients
from galdiff.propagation.greens import propagate_spectrum, sun_greens_matrix, sun_intensity
from galdiff.propagation.grid import Grid
from galdiff.propagation.solver import PropagationSetup, SteadyStateSolver
from galdiff.units import C_CM_PER_S, PROTON
from results_file import write_section  # benchmarks/results_file.py

DEFAULT_GRID = dict(r_max_kpc=20.0, dr_kpc=0.25, zh_kpc=6.3, dz_kpc=0.1, ek_min_GeV=0.1,
                    ek_max_GeV=1e8, bins_per_decade=16)


def benchmark_gas_per_cm3(grid: Grid) -> np.ndarray:
    """BENCHMARK GAS (see module docstring), shape (n_r, n_z)."""
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    return np.minimum(0.9 * np.exp(-(r - 8.3) / 6.0) * np.exp(-np.log(2) * (z / 0.15) ** 2), 10.0)


def snr_shape(grid: Grid, z_scale_kpc: float = 0.2) -> np.ndarray:
    """docs/paper.md#eq-2-source-distribution, dimensionless, shape (n_r, n_z), with exp(-|z|/z_s) averaged over each z cell.

    Point sampling exp(-|z|/0.2 kpc) at nodes mis-states the injected power by +2 % (dz = 0.1,
    node at z = 0) to -6 % (dz = 0.2 kpc, nodes at +/-0.1 kpc); the cell average is exact, so
    the grid-convergence table below measures the solver, not the sampling of the source.
    """
    r = grid.r_kpc[:, None]
    lower = grid.z_kpc - 0.5 * grid.dz_kpc
    upper = grid.z_kpc + 0.5 * grid.dz_kpc

    def primitive(z):  # integral of exp(-|z'|/z_s) from 0 to z (odd function)
        return np.sign(z) * z_scale_kpc * (1.0 - np.exp(-np.abs(z) / z_scale_kpc))

    vertical = (primitive(upper) - primitive(lower)) / grid.dz_kpc
    return (r / 8.3) ** 1.25 * np.exp(-3.56 * (r - 8.3) / 8.3) * vertical[None, :]


def benchmark_setup(grid: Grid) -> PropagationSetup:
    """Table I transport with the benchmark gas, catastrophic rate and ionisation-like loss."""
    diffusion, rate = dr_coefficients(grid.ek_GeV_per_n, PROTON)
    beta = grid.beta(PROTON)[:, None, None]
    gas = benchmark_gas_per_cm3(grid)[None]
    catastrophic = beta * C_CM_PER_S * gas * 35e-27
    loss = 1.82e-16 * gas * 2 * beta**2 / (0.01**3 + 2 * beta**3)
    return PropagationSetup(grid, PROTON, diffusion, rate, loss, catastrophic)


def peak_rss_GiB() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def timed_run(config: dict, z_symmetric: bool | None = None) -> dict:
    """Factorise and solve one proton problem; return timings and the Sun intensity."""
    grid = Grid.from_config(config)
    start = time.perf_counter()
    solver = SteadyStateSolver(benchmark_setup(grid), z_symmetric=z_symmetric)
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    density = propagate_spectrum(solver, snr_shape(grid), grid.ek_GeV_per_n**-2.3)
    solve_s = time.perf_counter() - start
    return dict(grid=grid, solver=solver, setup_s=setup_s, solve_s=solve_s,
                iterations=solver.iterations_last_solve, intensity=sun_intensity(solver, density))


def grid_convergence(coarse: dict, fine: dict, energies_GeV=(1.0, 10.0, 1e3, 1e5)) -> list[tuple]:
    """Relative change of the Sun intensity between two grids at a few energies (log interp)."""
    rows = []
    for energy in energies_GeV:
        values = [np.exp(np.interp(np.log(energy), np.log(run["grid"].ek_GeV_per_n), np.log(run["intensity"])))
                  for run in (coarse, fine)]
        rows.append((energy, values[0] / values[1] - 1))
    return rows


def describe(config: dict) -> str:
    grid = Grid.from_config(config)
    n_e, n_r, n_z = grid.shape
    return f"{n_r} x {n_z} x {n_e} ({n_r * n_z * n_e / 1e6:.2f} M nodes)"


#: the nuclei's energy range the issue asks for (0.1 GeV/n - 100 PeV/n); config.yaml extends
#: it to 1 MeV/n - 1 EeV/n for Voyager 1 and IceTop, and rows below 0.1 GeV/n are the slowest
ISSUE_NUCLEI_ENERGIES = {"ek_min_GeV": 0.1, "ek_max_GeV": 1.0e8}


def model_greens_section(workers: int) -> list[str]:
    """Time G for p, He and e- with the workflow's own set-up (config.yaml, model dr_high), on the
    workflow's grid and, for the nuclei, on the issue's energy range.

    Each case runs in a fresh process, as the workflow's ``greens`` job does, so that its peak
    memory is the job's own and not this benchmark's earlier sections'.
    """
    import subprocess

    lines = ["\n### Green's matrices of the workflow's set-up (config.yaml, dr_high; GALPROP gas, ISRF, all losses)\n",
             "One fresh process per row (set-up, factorisation and G, as the `greens` rule runs it).\n",
             "| species | energies [GeV/n] | grid (r x z x E) | folded at z = 0 | factorise [s] | G wall [s] | "
             "G CPU, all workers [s] | peak memory of the job, all processes (PSS) [GiB] |",
             "|---|---|---|---|---|---|---|---|"]
    cases = [("proton", False), ("helium", False), ("electron", False), ("proton", True), ("helium", True)]
    for species, issue_energies in cases:
        command = [sys.executable, __file__, "--model-greens-case", species, "--workers", str(workers)]
        if issue_energies:
            command.append("--issue-energies")
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        lines.append(done.stdout.strip().splitlines()[-1])
    return lines


def model_greens_row(species: str, issue_energies: bool, workers: int) -> str:
    """One row of the table above: set up, factorise and compute G for one species."""
    import yaml

    from galdiff.propagation import model as galaxy_model

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config.yaml").read_text())
    isrf_path = next((root / m / "galaxy" / ISRF_NAME for m in config["data"]["mirrors"]
                      if (root / m / "galaxy" / ISRF_NAME).exists()), None)
    propagation_cfg, model_cfg = config["propagation"], config["models"]["dr_high"]
    grid_cfg = dict(propagation_cfg["grid"])
    if issue_energies:  # the nuclei's range; the per-species overrides (leptons) are left as they are
        grid_cfg.update(ISSUE_NUCLEI_ENERGIES)
    with PeakMemory() as memory:
        grid = galaxy_model.model_grid(grid_cfg, model_cfg["propagation"], species)
        env = galaxy_model.galaxy_environment(grid, propagation_cfg.get("galaxy"),
                                              None if species in galaxy_model.NUCLEI else isrf_path)
        setup = galaxy_model.propagation_setup(grid, species, galaxy_model.diffusion_parameters(model_cfg["propagation"]),
                                               env, loss_order=int(propagation_cfg.get("loss_order", 3)))
        start = time.perf_counter()
        solver = SteadyStateSolver(setup, progress=False)
        factorise_s = time.perf_counter() - start
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        sun_greens_matrix(solver, galaxy_model.source_shape(grid), n_workers=workers, progress=False)
        wall_s = time.perf_counter() - start
        cpu_s = _cpu_seconds() - cpu_before
        folded = solver.layout.folded
        del solver, setup, env
    n_e, n_r, n_z = grid.shape
    return (f"| {species} | {grid.ek_GeV_per_n[0]:.3g} - {grid.ek_GeV_per_n[-1]:.3g} | {n_r} x {n_z} x {n_e} | "
            f"{folded} | {factorise_s:.1f} | {wall_s:.0f} | {cpu_s:.0f} | {memory.peak_GiB:.2f} |")


ISRF_NAME = "MilkyWay_DR0.5_DZ0.1_DPHI10_RMAX20_ZMAX5_galprop_format.fits.gz"


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class PeakMemory:
    """Largest proportional set size (PSS) of this process and its children, sampled every second.

    PSS shares each copy-on-write page among the forked workers that map it, so the sum is the
    memory the job really holds (the workers' RSS would count the solver's factors once each).
    It is read from /proc/<pid>/smaps_rollup (Linux), which the kernel sums cheaply; the peak
    between samples can be missed by at most the memory a batch allocates in one second.
    Elsewhere ``peak_GiB`` is NaN.
    """

    INTERVAL_S = 1.0

    def __enter__(self):
        import threading

        self.peak_GiB = 0.0 if Path("/proc/self/smaps_rollup").exists() else float("nan")
        self._stop = threading.Event()

        def sample():
            me = os.getpid()
            while not self._stop.is_set():
                total_kB = sum(_pss_kB(pid) for pid in [me, *_children(me)])
                self.peak_GiB = max(self.peak_GiB, total_kB / 2**20)
                self._stop.wait(self.INTERVAL_S)

        self._thread = threading.Thread(target=sample, daemon=True)
        if self.peak_GiB == 0.0:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _pss_kB(pid: int) -> int:
    """Proportional set size of one process in kB (0 if it has just exited)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            return next((int(line.split()[1]) for line in handle if line.startswith("Pss:")), 0)
    except (FileNotFoundError, ProcessLookupError):
        return 0


def _children(pid: int) -> list[int]:
    """Direct children of a process (the Green's-function workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-scaling", action="store_true", help="only the default-grid run")
    parser.add_argument("--greens-default", action="store_true",
                        help="also time the full Green's matrix on the default grid (minutes)")
    parser.add_argument("--model-greens", action="store_true",
                        help="time the Green's matrices of the workflow's own set-up (p, He, e-; minutes)")
    parser.add_argument("--workers", type=int, default=1, help="processes for the Green's matrix")
    parser.add_argument("--model-greens-case", choices=("proton", "helium", "electron"),
                        help=argparse.SUPPRESS)  # one row of --model-greens, run in its own process
    parser.add_argument("--issue-energies", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(Path(__file__).with_name("RESULTS.md")))
    args = parser.parse_args(argv)
    if args.model_greens_case:
        print(model_greens_row(args.model_greens_case, args.issue_energies, args.workers))
        return

    lines = []
    machine = f"{platform.node()} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, load {os.getloadavg()[0]:.1f})"
    lines.append(f"## Propagation (`galdiff.propagation`, `benchmarks/bench_propagation.py`)\n\nmachine: {machine}  \ndate: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC  \n"
                 f"python {sys.version.split()[0]}; inputs: benchmark gas/loss/source defined in bench_propagation.py\n")

    default = timed_run(DEFAULT_GRID)
    lines.append("### Default grid, one proton steady state (Table I DR, losses, fragmentation)\n")
    lines.append("| figure | value |\n|---|---|")
    lines.append(f"| grid (r x z x E) | {describe(DEFAULT_GRID)} |")
    lines.append(f"| factorise 2D blocks + coarse space | {default['setup_s']:.1f} s |")
    lines.append(f"| solve (GMRES iterations) | {default['solve_s']:.1f} s ({default['iterations']}) |")
    lines.append(f"| total | {default['setup_s'] + default['solve_s']:.1f} s |")
    lines.append(f"| peak resident memory (process) | {peak_rss_GiB():.2f} GiB |")
    unfolded = timed_run(DEFAULT_GRID, z_symmetric=False)
    lines.append(f"| the same unfolded (all z): setup, solve (GMRES iterations) | {unfolded['setup_s']:.1f} s, "
                 f"{unfolded['solve_s']:.1f} s ({unfolded['iterations']}) |")
    del unfolded
    solver = default["solver"]
    n_e = default["grid"].ek_GeV_per_n.size
    shape = snr_shape(default["grid"])
    row_times = []
    for o in (0, n_e // 4, n_e // 2, n_e - 1):
        times = []
        for windowed in (True, False):
            start = time.perf_counter()
            sun_greens_matrix(solver, shape, rows=[o], windowed=windowed, progress=False)
            times.append(time.perf_counter() - start)
        row_times.append((default["grid"].ek_GeV_per_n[o], *times))
    lines.append("| one Green's row (adjoint solve), windowed / whole energy axis, at T = "
                 + ", ".join(f"{e:.3g}" for e, _, _ in row_times) + " GeV | "
                 + ", ".join(f"{w:.1f} / {f:.1f} s" for _, w, f in row_times) + " |")
    if args.greens_default:
        start = time.perf_counter()
        sun_greens_matrix(solver, snr_shape(default["grid"]), n_workers=args.workers)
        lines.append(f"| full Green's matrix {n_e} x {n_e}, {args.workers} worker(s) | {time.perf_counter() - start:.0f} s |")
    del solver, default["solver"]

    if not args.skip_scaling:
        lines.append("\n### Scaling (one proton run: setup + solve)\n")
        lines.append("| varied | grid (r x z x E) | setup [s] | solve [s] | GMRES it |\n|---|---|---|---|---|")
        cases = [("dr 1.0 kpc", dict(dr_kpc=1.0)), ("dr 0.5 kpc", dict(dr_kpc=0.5)),
                 ("dz 0.3 kpc", dict(dz_kpc=0.3)), ("dz 0.2 kpc", dict(dz_kpc=0.2)),
                 ("4 bins/decade", dict(bins_per_decade=4)), ("8 bins/decade", dict(bins_per_decade=8))]
        runs = {}
        for label, change in cases:
            config = {**DEFAULT_GRID, **change}
            run = timed_run(config)
            runs[label] = run
            lines.append(f"| {label} | {describe(config)} | {run['setup_s']:.1f} | {run['solve_s']:.1f} | {run['iterations']} |")
            del run["solver"]
        lines.append(f"| (default) | {describe(DEFAULT_GRID)} | {default['setup_s']:.1f} | {default['solve_s']:.1f} | {default['iterations']} |")

        lines.append("\n### Grid convergence of the Sun intensity (coarse / default - 1)\n")
        lines.append("| coarser grid | " + " | ".join(f"{e:g} GeV" for e in (1.0, 10.0, 1e3, 1e5)) + " |")
        lines.append("|---|---|---|---|---|")
        for label in ("dr 0.5 kpc", "dz 0.2 kpc", "8 bins/decade"):
            changes = grid_convergence(runs[label], default)
            lines.append(f"| {label} | " + " | ".join(f"{c:+.2e}" for _, c in changes) + " |")

        small = {**DEFAULT_GRID, "dr_kpc": 1.0, "dz_kpc": 0.2, "bins_per_decade": 8}
        grid = Grid.from_config(small)
        solver = SteadyStateSolver(benchmark_setup(grid))
        start = time.perf_counter()
        sun_greens_matrix(solver, snr_shape(grid), n_workers=args.workers)
        lines.append(f"\n### Green's matrix (all rows, adjoint solves)\n\n| grid | rows | workers | time |\n|---|---|---|---|\n"
                     f"| {describe(small)} | {grid.ek_GeV_per_n.size} | {args.workers} | {time.perf_counter() - start:.0f} s |")

    if args.model_greens:
        lines += model_greens_section(args.workers)

    text = "\n".join(lines) + "\n"
    write_section(Path(args.output), "bench_propagation", text)
    print(text)


if __name__ == "__main__":
    main()
