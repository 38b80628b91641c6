"""The paper's models as printed beside our refit, with numbers: writes the README section "as-printed".

Run, after a workflow run (``snakemake --cores 2 all`` at the default or a reduced configuration):

    python benchmarks/study_as_printed.py --results results --label "default configuration, 2026-12-07"
    python benchmarks/study_as_printed.py --results /tmp/reduced/results --label "tests/config/reduced.yaml" \
        --fit-results results     # fit-stage numbers from the default run, spectra stage from the reduced one

Reads only workflow outputs: ``results/fit/<model>/injection.yaml`` (chi2 by data set of the refit and
of the as-printed twin), ``results/fit/<model>/profile_nu4_<species>.yaml`` (the knee profile),
``results/spectra/<model>/extra_fit{.yaml,_points.ecsv}`` and ``<region>.ecsv`` (EXTRA fits, LHAASO above
100 TeV, the DR-high-only model above 60 TeV), ``results/table4.json``, ``results/spectra/headline.json``
and ``results/validation/gev_anchor.json``. Every number of the section comes from those files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from results_file import write_section  # benchmarks/results_file.py

PAIRS = (("dr_high", "dr_high_paper"), ("dr_low", "dr_low_paper"))
LABELS = {"dr_high": "DR-high refit", "dr_high_paper": "DR-high as printed", "dr_low": "DR-low refit",
          "dr_low_paper": "DR-low as printed"}
FLUX = "GeV-1 cm-2 s-1 sr-1"


def _yaml(path):
    return yaml.safe_load(Path(path).read_text())


def fit_rows(results: Path) -> list[str]:
    """chi2 of each fit, total and by data set, refit beside as printed."""
    lines = ["| fit | data set | refit chi2 / points | as printed chi2 / points |", "|---|---|---|---|"]
    for refit, printed in PAIRS:
        fits = {m: _yaml(results / "fit" / m / "injection.yaml")["fits"] for m in (refit, printed)}
        for name in ("proton", "helium", "leptons"):
            a, b = fits[refit][name], fits[printed][name]
            lines.append(f"| {LABELS[refit][:-6]} {name} | all | {a['chi2']:.1f}/{a['ndof']} (ndof) | "
                         f"{b['chi2']:.1f}/{b['ndof']} (ndof) |")
            for dataset, chi2 in a["chi2_by_dataset"].items():
                n = a["n_points_by_dataset"].get(dataset, "")
                lines.append(f"| | {dataset} | {chi2:.1f}/{n} | {b['chi2_by_dataset'].get(dataset, float('nan')):.1f}/{n} |")
    return lines


def printed_phi_effect(results: Path) -> list[str]:
    """Best-fit Phi and knee parameters of the refits beside Table II (what the printed values hold)."""
    lines = ["| model | species | Phi [GV] refit / printed | nu4 refit / printed | Rc [PV] refit / printed |",
             "|---|---|---|---|---|"]
    for refit, printed in PAIRS:
        a = _yaml(results / "fit" / refit / "injection.yaml")["summary"]
        b = _yaml(results / "fit" / printed / "injection.yaml")["summary"]
        for species in ("proton", "helium"):
            pa, pb = a[species]["params"], b[species]["params"]
            lines.append(f"| {refit} | {species} | {pa['Phi_GV']:.3f} / {pb['Phi_GV']:.2f} | {pa['nu4']:.3f} / "
                         f"{pb['nu4']:.2f} | {pa['Rc_GV'] / 1e6:.3g} / {pb['Rc_GV'] / 1e6:.3g} |")
    return lines


def printed_with_free_phi_rows(results: Path, config_path: Path) -> list[str]:
    """Tables II as printed with only Phi freed beside the normalisation: how much is modulation.

    Phi depends on the data-taking period (AMS-02 2011-2018 here), not on the transport: a refit of
    Phi alone separates it from the injection shape. Uses the run's Green's matrices and tables.
    """
    from galdiff import fitting
    from galdiff.data.datasets import read_dataset
    from galdiff.propagation.greens import read_greens_h5
    from galdiff.units import get_species

    models = yaml.safe_load(config_path.read_text())["models"]
    lines = ["| model | species | as printed chi2/ndof (AMS-02) | Phi freed too: chi2/ndof (AMS-02), Phi [GV] |",
             "|---|---|---|---|"]
    for _, printed in PAIRS:
        cfg = models[printed]
        fits = _yaml(results / "fit" / printed / "injection.yaml")["fits"]
        for species in ("proton", "helium"):
            files = sorted(results.glob(f"greens/*/greens_{species}.h5"))
            if len(files) != 1:
                raise SystemExit(f"expected one {species} Green's matrix under {results}/greens, found {len(files)}")
            content = read_greens_h5(files[0])
            selection = fitting.fit_data_selection(None, fitting.knee_dataset(cfg))[species]
            tables = {name: read_dataset(results / "data" / f"{name}.ecsv") for name in selection}
            model = fitting.NucleusModel(get_species(species), content["ek_GeV_per_n"], content["greens"],
                                         fitting.injection_species(cfg)[species])
            free = (fitting.NORM_PARAM, "Phi_GV")
            result = fitting.fit(model, fitting.prepare_datasets(tables, selection),
                                 fixed=[p.name for p in model.params if p.name not in free])
            ams = f"ams02_{species}"
            lines.append(f"| {printed} | {species} | {fits[species]['chi2']:.1f}/{fits[species]['ndof']} "
                         f"({fits[species]['chi2_by_dataset'][ams]:.1f}) | {result.chi2:.1f}/{result.ndof} "
                         f"({result.chi2_by_dataset[ams]:.1f}), {result.params['Phi_GV']:.3f} |")
    return lines


def profile_rows(results: Path) -> list[str]:
    """The nu4 profiles: chi2 total and by data set, relative to the profile's minimum."""
    lines = []
    for refit, _ in PAIRS:
        for species in ("proton", "helium"):
            path = results / "fit" / refit / f"profile_nu4_{species}.yaml"
            if not path.exists():
                continue
            profile = _yaml(path)["profile"]
            best = min(point["chi2"] for point in profile)
            datasets = list(profile[0]["chi2_by_dataset"])
            lines += [f"**{LABELS[refit]} {species}**, chi2 - chi2_min of the profile (min {best:.1f}); "
                      "each row a refit with nu4 held:", "",
                      "| nu4 | delta chi2 | " + " | ".join(datasets) + " | Rc [PV] |",
                      "|---|---|" + "---|" * len(datasets) + "---|"]
            for point in profile:
                parts = " | ".join(f"{point['chi2_by_dataset'][d]:.1f}" for d in datasets)
                lines.append(f"| {point['value']:.2f} | {point['chi2'] - best:.1f} | {parts} | "
                             f"{point['params']['Rc_GV'] / 1e6:.3g} |")
            lines.append("")
    return lines


def _model_side_chi2(model, flux, err_lo, err_hi):
    err = np.where(model > flux, err_hi, err_lo)
    return float(np.sum(((model - flux) / err) ** 2))


def lhaaso_rows(results: Path) -> list[str]:
    """EXTRA fits; LHAASO above 100 TeV; the model without extras above 60 TeV (DR-high alone)."""
    from astropy.table import Table

    from galdiff.spectra import loglog_interp

    lines = ["| model | EXTRA fit chi2/ndof (p) | LHAASO > 100 TeV: chi2 / points, mean model/data | "
             "no extras > 60 TeV: chi2 / points, mean model/data |", "|---|---|---|---|"]
    for model in ("dr_high", "dr_high_paper", "dr_low", "dr_low_paper"):
        fit = _yaml(results / "spectra" / model / "extra_fit.yaml")
        points = Table.read(results / "spectra" / model / "extra_fit_points.ecsv")
        energy = points["energy"].quantity.to_value("GeV")
        flux = points["flux"].quantity.to_value(FLUX)
        lo, hi = (points[c].quantity.to_value(FLUX) for c in ("flux_lo_err", "flux_hi_err"))
        model_fit = points["model_fit"].quantity.to_value(FLUX)
        high = energy >= 1e5
        chi2_high = _model_side_chi2(model_fit[high], flux[high], lo[high], hi[high])
        ratio_high = float(np.mean(model_fit[high] / flux[high]))
        base = np.empty_like(flux)
        for region in set(points["region"]):
            spectra = Table.read(results / "spectra" / model / f"{region}.ecsv")
            e = spectra["energy"].quantity.to_value("GeV")
            without = spectra["gamma_total"].quantity.to_value(FLUX) - sum(
                spectra[c].quantity.to_value(FLUX) for c in ("extra1", "extra2") if c in spectra.colnames)
            mine = np.asarray(points["region"]) == region
            base[mine] = loglog_interp(energy[mine], e, np.clip(without, 1e-300, None))
        above60 = energy >= 6e4
        chi2_base = _model_side_chi2(base[above60], flux[above60], lo[above60], hi[above60])
        lines.append(f"| {LABELS[model]} | {fit['chi2']:.1f}/{fit['ndof']} ({fit['p_value']:.2g}) | "
                     f"{chi2_high:.1f}/{int(high.sum())}, {ratio_high:.2f} | "
                     f"{chi2_base:.1f}/{int(above60.sum())}, {float(np.mean(base[above60] / flux[above60])):.2f} |")
    return lines


def verdict_lines(results: Path) -> list[str]:
    """The paper's LHAASO conclusions, tested for the refit and the printed parameters (p-values)."""
    from scipy.stats import chi2 as chi2_dist

    p_min = json.loads((results / "table4.json").read_text())["settings"].get("gamma_p_value_min", 0.01)
    lines = []
    for model in ("dr_high", "dr_high_paper"):
        row = next(line for line in lhaaso_rows(results) if line.startswith(f"| {LABELS[model]} |"))
        chi2_text, n_text = row.split("|")[4].split(",")[0].strip().split("/")
        p_value = float(chi2_dist.sf(float(chi2_text), int(n_text)))
        lines.append(f"- DR-high alone above 60 TeV ({LABELS[model]}): chi2 = {chi2_text}/{n_text} points, p = "
                     f"{p_value:.2g}: {'consistent' if p_value >= p_min else 'not consistent'} (paper: consistent).")
    for model, name in (("dr_high", "Model 1"), ("dr_high_paper", "Model 1"), ("dr_low", "Model 2"),
                        ("dr_low_paper", "Model 2")):
        fit = _yaml(results / "spectra" / model / "extra_fit.yaml")
        verdict = "fits" if fit["p_value"] >= p_min else "does not fit"
        lines.append(f"- {name} ({LABELS[model]}) {verdict} LHAASO-KM2A: chi2/ndof = {fit['chi2']:.1f}/{fit['ndof']}, "
                     f"p = {fit['p_value']:.2g} (threshold {p_min:g}; paper: fits).")
    return lines


def table4_rows(results: Path) -> list[str]:
    table4 = json.loads((results / "table4.json").read_text())
    lines = ["| origin | column | ours (every model) | paper |", "|---|---|---|---|"]
    for origin, row in table4["rows"].items():
        for key in ("p", "nu", "gamma"):
            lines.append(f"| {origin} | {key} | {row[key]['ours']} | {row[key]['paper']} |")
    return lines


def headline_rows(results: Path) -> list[str]:
    headline = json.loads((results / "spectra" / "headline.json").read_text())
    keys = list(headline["ours"])
    lines = ["| | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    rows = [(headline["model"], headline["ours"])]
    if "as_printed" in headline:
        rows.append((headline["as_printed"]["model"], headline["as_printed"]["ours"]))
    for name, values in rows:
        lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(f"{100 * values[k]:.2g} %" for k in keys) + " |")
    lines.append("| paper | " + " | ".join(f"{100 * headline['paper'][k]:.2g} %" for k in keys) + " |")
    return lines


def anchor_rows(results: Path) -> list[str]:
    path = results / "validation" / "gev_anchor.json"
    if not path.exists():
        return []
    models = json.loads(path.read_text())["models"]
    labels = list(next(iter(models.values()))["ratio_total"])
    lines = ["| model | " + " | ".join(f"total / Fermi-LAT at {e}" for e in labels) + " | pi0 / Fermi-LAT at 10GeV |",
             "|---|" + "---|" * (len(labels) + 1)]
    for model, entry in models.items():
        lines.append(f"| {LABELS.get(model, model)} | " + " | ".join(f"{entry['ratio_total'][e]:.2f}" for e in labels)
                     + f" | {entry['ratio_by_component']['pi0'].get('10GeV', float('nan')):.2f} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="results folder of the spectra-stage run")
    parser.add_argument("--fit-results", default=None, help="results folder of the fit-stage numbers (default --results)")
    parser.add_argument("--label", required=True, help="configuration of the spectra-stage run, e.g. a config file")
    parser.add_argument("--fit-label", default=None, help="configuration of the fit-stage run")
    parser.add_argument("--output", default="README.md")
    parser.add_argument("--config", default="config.yaml", help="the configuration the as-printed models come from")
    args = parser.parse_args(argv)
    results = Path(args.results)
    fit_results = Path(args.fit_results or args.results)
    fit_label = args.fit_label or args.label
    text = "\n".join([
        f"*Generated by `benchmarks/study_as_printed.py`; fit stage: {fit_label}; spectra stage: {args.label}.*", "",
        "**Fits, chi2 by data set** (the same data, error model and Green's matrices; as printed: Tables II-III "
        "with only the normalisations fitted):", "", *fit_rows(fit_results), "",
        "**What the printed values hold** (refit / Table II):", "", *printed_phi_effect(fit_results), "",
        "**Modulation or shape?** Table II with Phi freed beside the normalisation (the same data and "
        "Green's matrices):", "", *printed_with_free_phi_rows(fit_results, Path(args.config)), "",
        "**The knee: chi2 profile in nu4** (every other parameter refitted):", "", *profile_rows(fit_results),
        "**LHAASO-KM2A** (EXTRA fits; chi2 with the error on the model's side):", "", *lhaaso_rows(results), "",
        *verdict_lines(results), "",
        "**Galactic share of IceCube's total astrophysical flux** (Model 2, all sky):", "", *headline_rows(results), "",
        "**GeV anchor without mask** (|l|<80, |b|<8, Fermi-LAT total intensity incl. sources and isotropic):", "",
        *anchor_rows(results), "",
        "**Table IV** (all four models):", "", *table4_rows(results), "",
    ])
    write_section(Path(args.output), "as-printed", text)


if __name__ == "__main__":
    main()
