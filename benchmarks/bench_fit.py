"""Wall time of the fit stage (issue 4): both models, all species, once the Green's functions exist.

Run:  python benchmarks/bench_fit.py [--grid bins_per_decade=8 dr_kpc=0.5 ...] [--models dr_high dr_low]

What is timed, per model, in the workflow's order (rules/propagation.smk, rules/fit.smk), with
the same library calls as the rules:

1. proton and helium fits from their Green's matrices (``fitting.fit_nucleus_injection``);
2. propagation of the fitted p and He injections (``run.propagate_injection``);
3. secondary e- and e+ from those densities (``run.propagate_secondaries``);
4. the lepton fit, secondaries fixed (``fitting.fit_lepton_injection``);
5. propagation of the fitted primary e- and extra e+ (``run.propagate_fitted_leptons``).

The issue-4 target is the whole stage (1-5, both models) under 5 minutes on 2 cores.

Green's matrices are read from ``<greens-dir>/<set-up key>/greens_<species>.h5``, the files the
workflow's rule ``greens`` writes (the key is galdiff.propagation.setups.setup_key of the
project config with the ``--grid``/``--loss-order`` overrides applied). A missing one is built
here (``run.greens_matrix``, ``--workers`` processes) and written there, and the output says so:
at the default grid that takes ~5-10 min per species, so build them with the workflow
(``snakemake --cores 2 results/fit/dr_high/injection.yaml``) or pass a reduced ``--grid``.
The data tables come from ``--tables-dir`` (the workflow's results/data), or are built from the
raw-data mirror when absent. Writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from galdiff import fitting
from galdiff.data.datasets import build_dataset, read_dataset
from galdiff.data.registry import load_registry
from galdiff.propagation import run
from galdiff.propagation.greens import read_greens_h5, write_greens_h5
from galdiff.propagation.setups import GREENS_SPECIES, RADIATION_SPECIES, setup_key, transport_setup
from results_file import write_section  # benchmarks/results_file.py

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ISRF_FILE = "MilkyWay_DR0.5_DZ0.1_DPHI10_RMAX20_ZMAX5_galprop_format.fits.gz"


def parse_overrides(items):
    """``key=value`` pairs of the grid config (numbers)."""
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        out[key] = float(value) if "." in value or "e" in value.lower() else int(value)
    return out


class Clock:
    """Named wall-time accumulator."""

    def __init__(self):
        self.seconds = {}

    def __call__(self, name, func, *args, **kwargs):
        start = time.perf_counter()
        out = func(*args, **kwargs)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        return out


def load_greens(config, model, species, greens_dir, isrf_path, isrf_sha256, workers, built):
    """``(ek, G)`` of one species of one model: read the workflow's file, or build and write it."""
    setup = transport_setup(config["models"][model], config["propagation"], species,
                            isrf_sha256=isrf_sha256 if species in RADIATION_SPECIES else None)
    key = setup_key(setup)
    path = Path(greens_dir) / key / f"greens_{species}.h5"
    if not path.exists():
        print(f"Green's matrix {path} absent: building it on this grid ({setup['grid']}) ...", flush=True)
        start = time.perf_counter()
        grid, greens = run.greens_matrix(setup, isrf_path=isrf_path if species in RADIATION_SPECIES else None,
                                         n_workers=workers)
        write_greens_h5(path, grid, species, greens, r_sun_kpc=setup["galaxy"]["r_sun_kpc"], config=setup,
                        extra_attrs={"setup_key": key, "made_by": "benchmarks/bench_fit.py"})
        built[f"{key}/greens_{species}.h5"] = time.perf_counter() - start
    content = read_greens_h5(path)
    return content["ek_GeV_per_n"], content["greens"]


def fit_model_stage(model, config, greens, tables, isrf_path, clock):
    """Steps 1-5 of the module docstring for one model; returns the fit results."""
    model_cfg, prop = config["models"][model], config["propagation"]
    fits, nuclei = {}, {}
    for species in ("proton", "helium"):
        result, nucleus = clock(f"{model} fit {species}", fitting.fit_nucleus_injection, species, model_cfg,
                                greens[species], tables)
        fits[species] = (result, nucleus)
        entry = fitting.fitted_injection(result, nucleus)[species]
        nuclei[species] = clock(f"{model} propagate p, He", run.propagate_injection, model_cfg, prop, species, entry)
    secondaries = clock(f"{model} secondaries", run.propagate_secondaries, model_cfg, prop, nuclei["proton"],
                        nuclei["helium"], isrf_path=isrf_path)
    lis = {lepton: secondaries[f"{lepton}_secondary"].intensity_sun for lepton in ("electron", "positron")}
    result, leptons = clock(f"{model} fit leptons", fitting.fit_lepton_injection, model_cfg, greens["electron"],
                            lis, tables)
    fits["leptons"] = (result, leptons)
    clock(f"{model} propagate e-, e+", run.propagate_fitted_leptons, model_cfg, prop,
          fitting.fitted_injection(result, leptons), secondaries, isrf_path=isrf_path)
    return fits, nuclei


def lis_consistency(model, result, greens_raw, species, band=(1.0, 1e4)):
    """Largest |fit's LIS / G @ Q - 1| in a T_n band, Q the fitted injection as the propagation rules build it.

    G @ Q is what propagating the best fit gives at the Sun, so this checks that the curves the
    fit reports (Figures 1-2) are the densities the emission stage reads.
    """
    entry = fitting.fitted_injection(result, model)[species]
    ek, green = greens_raw
    q = run.injection_on_grid(ek, species, entry)
    lis = model.components(result.params)["lis"][species if species in ("proton", "helium") else f"{species}_primary"][0]
    inside = (ek >= band[0]) & (ek <= band[1])
    return float(np.max(np.abs(lis[inside] / (green @ q)[inside] - 1.0)))


def run_once(base_config, overrides, loss_order, models, tables, args, isrf_path, isrf_sha256):
    """One benchmark run on one grid; returns its Markdown lines."""
    config = copy.deepcopy(base_config)
    config["propagation"]["grid"].update(overrides)
    if loss_order is not None:
        config["propagation"]["loss_order"] = loss_order
    built, greens = {}, {}
    for model in models:
        greens[model] = {species: load_greens(config, model, species, args.greens_dir, isrf_path, isrf_sha256,
                                              args.workers, built) for species in GREENS_SPECIES}
    clock = Clock()
    start = time.perf_counter()
    results = {model: fit_model_stage(model, config, greens[model], tables, isrf_path, clock) for model in models}
    total_s = time.perf_counter() - start
    fit_s = sum(v for k, v in clock.seconds.items() if " fit " in k)

    grid = config["propagation"]["grid"]
    n_nuclei = greens[models[0]]["proton"][0].size
    n_leptons = greens[models[0]]["electron"][0].size
    lines = [f"### Grid dr {grid['dr_kpc']} kpc, dz {grid['dz_kpc']} kpc, {grid['bins_per_decade']} bins/decade "
             f"({n_nuclei} nuclei energies, {n_leptons} lepton energies), loss_order "
             f"{config['propagation'].get('loss_order', 3)}\n"]
    if built:
        lines.append(f"Green's matrices absent from {args.greens_dir}, built here first (not part of the fit "
                     f"stage's time): " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in built.items())
                     + "\n")
    lines.append("| step | wall time [s] |\n|---|---|")
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in clock.seconds.items()]
    lines.append(f"| **fits only (MIGRAD + HESSE, {len(models)} models x p, He, leptons)** | **{fit_s:.1f}** |")
    lines.append(f"| **whole fit stage (fits + best-fit propagations + secondaries)** | **{total_s:.1f}** |")
    lines.append("\n| model | fit | chi2 / ndof | valid | function calls | at limit | fit LIS vs propagated best fit, "
                 "1-1e4 GeV/n |\n|---|---|---|---|---|---|---|")
    for model, (fits, _) in results.items():
        for name, (result, fitted) in fits.items():
            species = "electron" if name == "leptons" else name
            deviation = lis_consistency(fitted, result, greens[model][species], species)
            lines.append(f"| {model} | {name} | {result.chi2:.1f} / {result.ndof} | {result.valid} | "
                         f"{result.derived['nfcn']} | {', '.join(result.at_limit) or '-'} | {deviation:.1e} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(PROJECT_ROOT / "config.yaml"))
    parser.add_argument("--grid", nargs="*", action="append", metavar="KEY=VALUE",
                        help="propagation.grid overrides (a reduced grid); repeat the option for several runs")
    parser.add_argument("--loss-order", type=int, help="propagation.loss_order override")
    parser.add_argument("--models", nargs="*", help="models to fit (default: every model of the config)")
    parser.add_argument("--greens-dir", default=str(PROJECT_ROOT / "results" / "greens"))
    parser.add_argument("--tables-dir", default=str(PROJECT_ROOT / "results" / "data"))
    parser.add_argument("--mirror", default=str(PROJECT_ROOT.parent / "shared" / "data"))
    parser.add_argument("--workers", type=int, default=2, help="processes for Green's matrices built here")
    parser.add_argument("--output", default=str(Path(__file__).with_name("RESULTS.md")))
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    args = parser.parse_args(argv)

    config = yaml.safe_load(Path(args.config).read_text())
    models = args.models or list(config["models"])
    registry = load_registry(PROJECT_ROOT / config["data"]["registry"])
    isrf_path = Path(args.mirror) / registry[ISRF_FILE].relative_raw_path
    isrf_sha256 = registry[ISRF_FILE].sha256
    names = sorted({d for m in models for f in fitting.fit_data_selection(
        (config.get("fitting") or {}).get("data"), fitting.knee_dataset(config["models"][m])).values() for d in f})
    tables = {}
    for name in names:
        path = Path(args.tables_dir) / f"{name}.ecsv"
        tables[name] = read_dataset(path) if path.exists() else build_dataset(name, args.mirror)

    machine = (f"{platform.node()} ({platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, "
               f"load {os.getloadavg()[0]:.1f})")
    lines = ["## Fit stage (`galdiff.fitting`, `benchmarks/bench_fit.py`)\n",
             f"machine: {machine}  \ndate: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC  \n"
             f"python {sys.version.split()[0]}; command: `python benchmarks/bench_fit.py "
             f"{' '.join(argv if argv is not None else sys.argv[1:])}`\n"]
    for overrides in args.grid or [[]]:
        lines += run_once(config, parse_overrides(overrides), args.loss_order, models, tables, args, isrf_path,
                          isrf_sha256)
        lines.append("")
    lines.append("Steps are timed as the workflow runs them (module docstring); \"fit LIS vs propagated best fit\" is "
                 "max |J_fit / (G @ Q) - 1| with Q the fitted injection as the propagation rules build it (the "
                 "propagated density the emission stage reads gives G @ Q at the Sun).")
    text = "\n".join(lines) + "\n"
    if not args.no_write:
        write_section(Path(args.output), "bench_fit", text)
    print(text)


if __name__ == "__main__":
    main()
