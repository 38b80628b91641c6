"""CPU time of one region_los_weights job (the region-averaged line-of-sight weights of one set-up).

Runs the job's library call on the inputs of a finished run and writes the weights, so two versions
of the code can be compared number by number:

    OPENBLAS_NUM_THREADS=1 python benchmarks/peak_memory.py -- python benchmarks/bench_region_los_weights.py \
        --results /work/default-run3/results --key 93e62e80edabb4ea --model dr_low --out /tmp/weights.h5
    python benchmarks/bench_region_los_weights.py --compare /tmp/old.h5 /tmp/new.h5
    # the X_CO variants' weights from the baseline set-up (rule region_los_weights_xco), one file per variant:
    python benchmarks/bench_region_los_weights.py --x-co --results ... --key ... --model dr_low --out /tmp/xco/

Prints the process CPU time (user + sys) of the whole call; the configured regions and N_side are the
default config's (config.yaml).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import yaml


def run(results: Path, key: str, model: str, out: Path) -> dict:
    from galdiff.emission import read_emissivity_h5
    from galdiff.skymaps.masks import read_mask_fits
    from galdiff.skymaps.regions import SkyRegion
    from galdiff.uncertainty.systematics import region_los_weights_of_operators, write_region_los_weights_h5

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    start = os.times()
    regions = [SkyRegion.from_config(name, entry) for name, entry in config["regions"].items()]
    mask = read_mask_fits(results / "masks/lhaaso.fits")
    kappa = read_emissivity_h5(results / f"emission/{model}/emissivity.h5").kappa_per_kpc
    weights = region_los_weights_of_operators(results / f"los/{key}/gas.npz", results / f"los/{key}/path.npz",
                                              regions, config["maps"]["nside"], mask=mask,
                                              fine_nside=config["masks"]["lhaaso"]["fine_nside"], kappa_per_kpc=kappa)
    write_region_los_weights_h5(out, weights, meta={})
    stop = os.times()
    return {"cpu_s": round(stop.user + stop.system - start.user - start.system, 2)}


def run_x_co(results: Path, key: str, model: str, out: Path) -> dict:
    """The X_CO variants' weights of the default config (rule region_los_weights_xco) from set-up ``key``:
    ``out`` gets ``<variant>.h5`` each."""
    from galdiff.los_setups import los_key, los_setup
    from galdiff.uncertainty.systematics import (read_region_los_weights_h5, write_region_los_weights_h5,
                                                 x_co_region_los_weights)

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    setup = los_setup(config["maps"], config["models"][model]["propagation"], config["propagation"])
    if los_key(setup) != key:
        raise ValueError(f"model {model}'s set-up is {los_key(setup)}, not {key}")
    x_co = {name: v["x_co"] for name, v in config["systematics"]["variants"].items() if "x_co" in v}
    start = os.times()
    baseline = read_region_los_weights_h5(results / f"los/{key}/region_weights.h5")
    weights = x_co_region_los_weights(results / f"los/{key}/gas.npz", results / f"los/{key}/path.npz", baseline,
                                      setup, x_co, config["maps"]["nside"])
    out.mkdir(parents=True, exist_ok=True)
    for name, entry in weights.items():
        write_region_los_weights_h5(out / f"{name}.h5", entry, meta={})
    stop = os.times()
    return {"cpu_s": round(stop.user + stop.system - start.user - start.system, 2), "variants": x_co}


def compare(old: Path, new: Path) -> dict:
    from galdiff.uncertainty.systematics import read_region_los_weights_h5

    a, b = read_region_los_weights_h5(old), read_region_los_weights_h5(new)
    worst = {}
    for name, entry in a["regions"].items():
        for kind, value in entry.items():
            if isinstance(value, np.ndarray) and kind != "pixel_weights":
                other = b["regions"][name][kind]
                nonzero = value != 0.0
                if np.any(other[~nonzero] != 0.0):
                    raise ValueError(f"{name}/{kind}: non-zero where the other file has zeros")
                worst[f"{name}/{kind}"] = float(np.max(np.abs(other[nonzero] / value[nonzero] - 1.0), initial=0.0))
    return {"max_relative_difference": max(worst.values()), "per_array": worst}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path)
    parser.add_argument("--key")
    parser.add_argument("--model", default="dr_low")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path)
    parser.add_argument("--x-co", action="store_true", help="the X_CO variants' weights (--out: a folder)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    if args.compare:
        result = compare(*args.compare)
    elif args.x_co:
        result = run_x_co(args.results, args.key, args.model, args.out)
    else:
        result = run(args.results, args.key, args.model, args.out)
    result["wall_s"] = round(time.perf_counter() - t0, 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
