"""Line-of-sight operators of the workflow's set-up: build once (rule los_operators) vs load per model (sky_maps).

Builds the gas-weighted and path-length operators of config.yaml's line-of-sight set-up
(:func:`galdiff.los_setups.los_setup`), writes them as the workflow does, loads them back and
checks that the loaded operators give the same map (absorbed and unabsorbed) bit for bit. Times
are CPU seconds of this process (all threads, ``time.process_time``) and wall seconds; on a shared
machine compare the CPU figures.

    NUMBA_NUM_THREADS=2 python benchmarks/bench_los_cache.py [--nside 128] [--out /tmp/los]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from galdiff.los_setups import los_key, los_setup  # noqa: E402
from galdiff.propagation.grid import spatial_nodes_kpc  # noqa: E402
from galdiff.skymaps.model_maps import load_operators, map_geometry, setup_operators  # noqa: E402
from galdiff.skymaps.operator import save_operator  # noqa: E402


def timed(label, func, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    out = func(*args)
    print(f"{label}: wall {time.perf_counter() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s", flush=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nside", type=int, default=None, help="override maps.nside")
    parser.add_argument("--out", default=None, help="folder for the operator files (default: a temporary one)")
    args = parser.parse_args(argv)
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    maps = dict(config["maps"], **({"nside": args.nside} if args.nside else {}))
    model = next(iter(config["models"]))
    setup = los_setup(maps, config["models"][model]["propagation"], config["propagation"])
    print(f"set-up {los_key(setup)}: {setup}")
    operators = timed("build gas + path operators", setup_operators, setup)
    out = Path(args.out or tempfile.mkdtemp(prefix="los_"))
    files = [out / "gas.npz", out / "path.npz"]
    timed("write both", lambda: [save_operator(f, op) for f, op in zip(files, operators)])
    print("file sizes [MB]:", [round(f.stat().st_size / 1e6) for f in files])
    r_kpc, z_kpc = spatial_nodes_kpc(setup["grid"])
    grid = type("EmissivityGrid", (), {"r_kpc": r_kpc, "z_kpc": z_kpc})
    geometry = map_geometry(setup["maps"], {"r_max_kpc": setup["grid"]["r_max_kpc"],
                                            "zh_kpc": setup["grid"]["zh_kpc"]}, setup["galaxy"]["r_sun_kpc"])
    loaded = timed("load both (what each sky_maps job does)", load_operators, *files, grid, geometry, setup["nside"])
    rng = np.random.default_rng(1)
    field = rng.random((r_kpc.size, z_kpc.size, 8))
    kappa = rng.random((r_kpc.size, z_kpc.size, 8)) * np.geomspace(1e-4, 0.3, 8)
    for name, built, cached in zip(("gas", "path"), operators, loaded):
        same = (np.array_equal(built.intensity(field), cached.intensity(field))
                and np.array_equal(built.intensity(field, kappa, path_operator=operators[1]),
                                   cached.intensity(field, kappa, path_operator=loaded[1])))
        print(f"{name}: maps from the loaded operator identical to the built one: {same}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"peak resident memory of this process: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
