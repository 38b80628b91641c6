"""Benchmark of line-of-sight integration (galdiff.skymaps): build of W, W @ emissivity, direct kernel.

Realistic sizes: (r, z) grid 81 x 127 nodes (0-20 kpc, |z| <= 6.3 kpc), 100 energies, an analytic
thin-disk gas (70 pc and 250 pc layers), default geometry (Sun at 8.3 kpc, 50 pc / 10 pc steps).
Throughput is quoted as pixels x LOS steps x energies per second (the work a direct integration
does), so the sparse and direct routes are comparable.

Usage::

    python benchmarks/bench_skymaps.py --nside 64 128 256 [--direct-pixels 20000]

Prints a Markdown table (append it to benchmarks/RESULTS.md with the machine and date).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import healpy as hp
import numba
import numpy as np

from galdiff.skymaps import (
    LineOfSightGeometry,
    RZGrid,
    build_los_operator,
    count_steps,
    default_shell_edges_kpc,
    healpix_directions,
    integrate_los_direct,
)


def thin_disk_gas_cm3(x_kpc, y_kpc, z_kpc):
    r_kpc = np.hypot(x_kpc, y_kpc)
    return np.exp(-r_kpc / 3.0) * (2.0 * np.exp(-((z_kpc / 0.07) ** 2)) + np.exp(-((z_kpc / 0.25) ** 2)))


def inputs(n_energies: int):
    grid = RZGrid.uniform(20.0, 81, 6.3, 127)
    r, z = np.meshgrid(grid.r_kpc, grid.z_kpc, indexing="ij")
    energies_GeV = np.logspace(0, 7, n_energies)
    q_per_sr = (np.exp(-(r - 8.3) / 3.5) * np.exp(-np.abs(z) / 2.0))[:, :, None] * energies_GeV**-2.7
    # CMB-like absorption bump: 1/7.07 kpc^-1 at 2.2 PeV (docs/emission.md#pair-absorption), shape only indicative
    kappa_per_kpc = np.exp(-((np.log10(energies_GeV / 2.2e6) / 0.45) ** 2)) / 7.07
    return grid, energies_GeV, q_per_sr, kappa_per_kpc


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nside", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--n-energies", type=int, default=100)
    parser.add_argument("--direct-pixels", type=int, default=20000,
                        help="pixels used to time the direct kernel (random subset)")
    parser.add_argument("--shells", action="store_true", help="also build the 28-shell operator and time absorption")
    args = parser.parse_args()

    grid, energies_GeV, q_per_sr, kappa_per_kpc = inputs(args.n_energies)
    geometry = LineOfSightGeometry()
    # warm-up (JIT compile / cache load) on a tiny map
    build_los_operator(1, grid, geometry, thin_disk_gas_cm3).intensity(q_per_sr)
    integrate_los_direct(1, grid, q_per_sr[..., :2], geometry, thin_disk_gas_cm3)
    if args.shells:
        shelled_geometry = LineOfSightGeometry(shell_edges_kpc=default_shell_edges_kpc())
        build_los_operator(1, grid, shelled_geometry, thin_disk_gas_cm3).intensity(q_per_sr, kappa_per_kpc)

    print(f"# bench_skymaps {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, "
          f"numba threads {numba.get_num_threads()}, grid 81x127, {args.n_energies} energies")
    print("| nside | n_pix | steps/pixel | W build [s] | nnz/pixel | W [MB] | W@q [s] | W@q throughput [pix*step*E/s] "
          "| direct [s] (extrapolated) | direct throughput | shells build [s] | shells W [MB] | absorbed W@q [s] (n_E absorbed) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for nside in args.nside:
        n_pix = hp.nside2npix(nside)
        n_steps, _ = count_steps(*healpix_directions(nside), geometry)
        total_steps = float(n_steps.sum())
        operator, t_build = timed(build_los_operator, nside, grid, geometry, thin_disk_gas_cm3)
        _, t_apply = timed(operator.intensity, q_per_sr)
        nnz_pix, mbytes = operator.matrix.nnz / n_pix, operator.nbytes / 1e6
        del operator
        work = total_steps * args.n_energies
        n_direct = min(args.direct_pixels, n_pix)
        subset = np.sort(rng.choice(n_pix, n_direct, replace=False))
        _, t_direct_subset = timed(integrate_los_direct, nside, grid, q_per_sr, geometry, thin_disk_gas_cm3, pixels=subset)
        direct_work = float(n_steps[subset].sum()) * args.n_energies
        t_direct = t_direct_subset * total_steps / float(n_steps[subset].sum())
        shells = "-", "-", "-"
        if args.shells:
            shelled, t_sbuild = timed(build_los_operator, nside, grid, shelled_geometry, thin_disk_gas_cm3)
            _, t_abs = timed(shelled.intensity, q_per_sr, kappa_per_kpc)
            n_abs = int(np.sum(kappa_per_kpc > 1e-7))
            shells = f"{t_sbuild:.1f}", f"{shelled.nbytes / 1e6:.0f}", f"{t_abs:.2f} ({n_abs})"
            del shelled
        print(f"| {nside} | {n_pix} | {total_steps / n_pix:.0f} | {t_build:.1f} | {nnz_pix:.0f} | {mbytes:.0f} | {t_apply:.2f} "
              f"| {work / t_apply:.2e} | {t_direct:.1f} ({n_direct} px timed) | {direct_work / t_direct_subset:.2e} "
              f"| {shells[0]} | {shells[1]} | {shells[2]} |", flush=True)


if __name__ == "__main__":
    main()
