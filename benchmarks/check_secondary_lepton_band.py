"""How much of the lepton bands the secondary e+- would add through the p and He draws (issue 13's omission).

The band response carries the secondary e+ only through c_e+ (rule band_response); the secondaries also
follow the p and He draws, which the bands leave out. This script bounds that term from a finished run's
outputs: per region (gas- and path-weighted line-of-sight weights, the bremsstrahlung and IC targets), the
secondaries' share s(E) of the region-weighted e+ + e- density, times the largest 68 % relative half-width
of the local p and He bands over the parents' energies (E to ``--parent-span`` x E: a secondary e+- carries
roughly a tenth of its parent's energy), against the lepton fit's own 68 % relative half-width of the local
e+ + e- (``local_leptons.ecsv``, total_lis). It reads only a run's outputs:

    python benchmarks/check_secondary_lepton_band.py --results results --configfile config.yaml --models dr_low dr_high

The added term enters in quadrature, so a ratio r widens the lepton band by a factor sqrt(1 + r^2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

from galdiff.data.datasets import read_dataset
from galdiff.los_setups import los_key, los_setup
from galdiff.propagation.run import read_result
from galdiff.uncertainty.systematics import read_region_los_weights_h5


def relative_half_width(table, column: str) -> np.ndarray:
    value = np.asarray(table[column], dtype=float)
    half = 0.5 * (np.asarray(table[f"{column}_hi68"], dtype=float) - np.asarray(table[f"{column}_lo68"], dtype=float))
    return np.divide(half, value, out=np.zeros_like(value), where=value > 0)


def parents_half_width(energy_GeV, bands: dict, span: float) -> np.ndarray:
    """max over p and He and over parent energies E..span E of their relative half-widths, per lepton energy E."""
    out = np.zeros(np.size(energy_GeV))
    for e_parent, width in bands.values():
        for i, e in enumerate(np.asarray(energy_GeV, dtype=float)):
            window = (e_parent >= e) & (e_parent <= span * e)
            if window.any():
                out[i] = max(out[i], float(width[window].max()))
    return out


def region_shares(propagation: Path, los_weights: dict) -> tuple[np.ndarray, dict]:
    """Lepton energies and ``{(region, kind): s(E)}``: the secondaries' share of the region-weighted e+ + e-."""
    total = read_result(propagation / "electron.h5").density + read_result(propagation / "positron.h5").density
    secondary = (read_result(propagation / "electron_secondary.h5").density
                 + read_result(propagation / "positron_secondary.h5").density)
    energy = read_result(propagation / "electron.h5").grid.ek_GeV_per_n
    out = {}
    for region, entry in los_weights["regions"].items():
        for kind in ("gas", "path"):
            weigh = lambda density: np.tensordot(density, entry[kind], axes=([1, 2], [0, 1]))  # noqa: E731
            t = weigh(total)
            out[(region, kind)] = np.divide(weigh(secondary), t, out=np.zeros_like(t), where=t > 0)
    return np.asarray(energy, dtype=float), out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--configfile", type=Path, default=Path("config.yaml"), help="the run's configuration")
    parser.add_argument("--models", nargs="+", default=["dr_low", "dr_high"])
    parser.add_argument("--parent-span", type=float, default=30.0)
    parser.add_argument("--energy-range-GeV", type=float, nargs=2, default=[1.0, 1.0e5],
                        help="lepton energies compared (the lepton data end at ~5 TeV)")
    args = parser.parse_args(argv)
    with open(args.configfile) as handle:
        config = yaml.safe_load(handle)
    for model in args.models:
        bands = args.results / "bands" / model
        # the model's own line-of-sight set-up (the workflow's rules/common.smk LOS_KEYS)
        key = los_key(los_setup(config["maps"], config["models"][model]["propagation"], config["propagation"]))
        weights_path = args.results / "los" / key / "region_weights.h5"
        energy, shares = region_shares(args.results / "propagation" / model, read_region_los_weights_h5(weights_path))
        parents = {s: (np.asarray(t["ek_GeV_per_n"], dtype=float), relative_half_width(t, f"{s}_lis"))
                   for s in ("proton", "helium") for t in [read_dataset(bands / f"local_{s}.ecsv")]}
        leptons = read_dataset(bands / "local_leptons.ecsv")
        lepton_width = np.interp(np.log(energy), np.log(np.asarray(leptons["ek_GeV_per_n"], dtype=float)),
                                 relative_half_width(leptons, "total_lis"))
        added = parents_half_width(energy, parents, args.parent_span)
        inside = (energy >= args.energy_range_GeV[0]) & (energy <= args.energy_range_GeV[1])
        print(f"{model} ({weights_path.parent.name}): secondaries' share x parents' 68 % half-width, and its ratio to "
              f"the lepton band's 68 % half-width, {args.energy_range_GeV[0]:g}-{args.energy_range_GeV[1]:g} GeV")
        for (region, kind), share in shares.items():
            term = share * added
            ratio = np.divide(term, lepton_width, out=np.zeros_like(term), where=lepton_width > 0)
            i = int(np.argmax(np.where(inside, ratio, -1.0)))
            print(f"  {region:20s} {kind:4s}: share max {share[inside].max():.3f}; added term max "
                  f"{term[inside].max():.4f}; largest ratio {ratio[i]:.3f} at {energy[i]:.3g} GeV (lepton band "
                  f"{lepton_width[i]:.3f}), band widened by {np.sqrt(1 + ratio[i]**2) - 1:.2%}")


if __name__ == "__main__":
    main()
