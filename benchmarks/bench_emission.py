"""Benchmark of the emission stage (galdiff.emission) at the default grid.

Grid: (r, z) = 81 x 127 nodes (0-20 kpc, |z| <= 6.3 kpc: dr = 0.25, dz = 0.1 kpc), 97 gamma-ray
energies (0.1 GeV - 10 PeV, 12 per decade), 150 e+- kinetic energies (10 MeV - 100 PeV),
181 nucleus energies per nucleon (0.1 GeV/n - 1e8 GeV/n, 20 per decade), the default
target-photon grid (1e-6 - 15 eV, 32 per decade; 231 points) with the GALPROP ISRF file
(optical + IR) and the analytic CMB. Each cell gets its own intensities.

Measures: build of every matrix (pi0, neutrinos, bremsstrahlung, IC kernel, photon field),
the IC application (exact chunked contraction and the low-rank option) and its accuracy,
the other applications, and the pair-absorption table.

Usage::

    python benchmarks/bench_emission.py [--nr 81 --nz 127] [--isrf PATH]

Prints a Markdown table (append it to benchmarks/RESULTS.md with the machine and date).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np

from galdiff.emission import EXTRA1, EXTRA2, EmissionGrid
from galdiff.galaxy.isrf import ISRF_FILENAME, read_isrf

DEFAULT_ISRF = Path(__file__).resolve().parents[2] / "shared" / "data" / "galaxy" / ISRF_FILENAME


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nr", type=int, default=81)
    parser.add_argument("--nz", type=int, default=127)
    parser.add_argument("--n-electron", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each application step (best is kept)")
    parser.add_argument("--isrf", type=Path, default=Path(os.environ.get("GALDIFF_ISRF", DEFAULT_ISRF)))
    args = parser.parse_args()

    r_kpc = np.linspace(0.0, 20.0, args.nr)
    z_kpc = np.linspace(-6.3, 6.3, args.nz)
    ek_nuc = np.geomspace(0.1, 1e8, 20 * 9 + 1)
    ek_lep = np.geomspace(1e-2, 1e8, args.n_electron)
    rng = np.random.default_rng(0)
    shape = (1, args.nr, args.nz)
    amp = rng.uniform(0.5, 2.0, shape)
    flux = {
        "proton": amp * (ek_nuc**-2.7)[:, None, None],
        "helium": 0.05 * amp * (ek_nuc**-2.6)[:, None, None],
        "electron": amp * (1e-2 * ek_lep**-3.1 * np.exp(-ek_lep / 1e4))[:, None, None],
        "positron": amp * (1e-3 * ek_lep**-2.9 * np.exp(-ek_lep / 1e4))[:, None, None],
    }
    isrf = read_isrf(args.isrf)
    rows = []

    def timed(label, func, repeat=1):
        """Run ``func`` ``repeat`` times and record the fastest wall time (the machine is shared)."""
        best = np.inf
        for _ in range(repeat):
            start = time.perf_counter()
            value = func()
            best = min(best, time.perf_counter() - start)
        rows.append((label if repeat == 1 else f"{label} (best of {repeat})", best))
        return value

    grid = EmissionGrid(r_kpc, z_kpc, ek_nuc, ek_lep, isrf=isrf)
    timed("build pi0 matrix (181 x 97)", lambda: grid.pi0_matrix)
    timed("build neutrino matrices (e, mu)", lambda: (grid.neutrino_matrix("e"), grid.neutrino_matrix("mu")))
    timed("build bremsstrahlung matrices", lambda: grid.bremsstrahlung_matrix)
    timed("build IC kernel tensor (97 x 150 x 231)", lambda: grid.ic_kernel)
    timed("photon field per cell (231 x 10287)", lambda: grid.photon_density_per_cm3_eV)
    leptons = grid.lepton_flux(flux["electron"], flux["positron"]).reshape((ek_lep.size, args.nr, args.nz))
    timed("apply pi0 (all cells)", lambda: grid.pi0_per_H(flux["proton"], flux["helium"]), repeat=args.repeat)
    timed("apply neutrinos + oscillations", lambda: grid.neutrinos_per_H(flux["proton"], flux["helium"]), repeat=args.repeat)
    timed("apply bremsstrahlung", lambda: grid.bremsstrahlung(leptons), repeat=args.repeat)
    j_exact = timed("apply IC, exact chunked contraction", lambda: grid.inverse_compton(leptons), repeat=args.repeat)
    timed("absorption kappa (all cells)", grid.absorption_per_kpc)
    accuracy = []
    for tol in (1e-3, 1e-4):
        low = EmissionGrid(r_kpc, z_kpc, ek_nuc, ek_lep, isrf=isrf, ic_method="lowrank", ic_rank_tolerance=tol)
        low._cache["ic_kernel"] = grid.ic_kernel
        low._cache["photon_field"] = grid.photon_density_per_cm3_eV
        timed(f"IC low-rank field decomposition (tol {tol:g})", lambda: low.photon_field_lowrank)
        j_low = timed(f"apply IC, low-rank (tol {tol:g}, rank {low.photon_field_lowrank[2]})",
                      lambda: low.inverse_compton(leptons), repeat=args.repeat)
        significant = j_exact > 1e-6 * j_exact.max(axis=(0, 1), keepdims=True)
        dev = np.abs(j_low / np.where(significant, j_exact, 1.0) - 1.0)[significant]
        accuracy.append((tol, low.photon_field_lowrank[2], float(dev.max()), float(np.median(dev))))
    timed("EXTRA1 + EXTRA2 (hadronic) incl. parent-proton fits",
          lambda: grid.compute({}, extras=(EXTRA1, EXTRA2), include=()))
    total = timed("compute(): everything, matrices cached",
                  lambda: grid.compute(flux, extras=(EXTRA1, EXTRA2)))
    assert np.allclose(total.components["inverse_compton"], j_exact)

    print(f"### Emission stage ({datetime.date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs visible, OMP/BLAS threads = {os.environ.get('OMP_NUM_THREADS', 'default')})\n")
    print(f"Grid {args.nr} x {args.nz} cells, 97 E_gamma, {ek_lep.size} E_e, 181 E_n, 231 eps.\n")
    print("| step | wall time [s] |\n|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} |")
    print("\n| IC low-rank tolerance | rank | max rel. deviation from exact | median |\n|---|---|---|---|")
    for tol, rank, dmax, dmed in accuracy:
        print(f"| {tol:g} | {rank} | {dmax:.2e} | {dmed:.2e} |")


if __name__ == "__main__":
    main()
