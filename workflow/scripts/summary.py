"""Machine-readable headline numbers: results/summary.json (rule summary)."""

import json
from pathlib import Path

import yaml

from galdiff.provenance import atomic_path, provenance_meta
from galdiff.script_logging import setup_logging


def main(fit_paths, output_path, log_path, extra_paths=(), mask_path=None, headline_path=None, table4_path=None,
         gev_anchor_path=None, band_headline_path=None, local_band_paths=(), band_table4_path=None,
         systematics_path=None):
    log = setup_logging(log_path)
    inputs = {Path(p).parent.name: p for p in fit_paths}
    inputs.update({f"{Path(p).parent.name}/extra_fit": p for p in extra_paths})
    inputs.update({name: p for name, p in (("mask", mask_path), ("headline", headline_path), ("table4", table4_path),
                                           ("gev_anchor", gev_anchor_path)) if p})
    summary = {**provenance_meta(inputs=inputs), "models": {}}
    for path in fit_paths:
        content = yaml.safe_load(Path(path).read_text())
        entry = summary["models"].setdefault(content["model"], {})
        entry["fit"] = content["summary"]
        # fit: refitted to our data; as_printed: the paper's Tables II-III, only normalisations fitted
        entry["injection_mode"] = next(iter(content["summary"].values()), {}).get("injection_mode", "fit")
    for path in extra_paths:  # EXTRA normalisation fits (spectra stage)
        content = yaml.safe_load(Path(path).read_text())
        content.pop("provenance", None)
        summary["models"].setdefault(content["model"], {})["extra"] = content
    if mask_path:
        from galdiff.skymaps.masks import read_mask_fractions

        summary["masks"] = {"lhaaso": read_mask_fractions(mask_path)}
    if headline_path:
        headline = json.loads(Path(headline_path).read_text())
        summary["headline"] = {key: headline[key] for key in ("model", "region", "definition", "ours", "paper",
                                                              "as_printed") if key in headline}
    if table4_path:
        table4 = json.loads(Path(table4_path).read_text())
        summary["table4"] = table4["rows"]
    if gev_anchor_path:  # model / Fermi-LAT in |l|<80, |b|<8 without mask, per model
        for model, entry in json.loads(Path(gev_anchor_path).read_text())["models"].items():
            summary["models"].setdefault(model, {})["gev_anchor"] = entry
    if band_headline_path:  # errors of the headline shares (rules/bands.smk)
        bands = json.loads(Path(band_headline_path).read_text())
        bands.pop("provenance", None)
        summary["headline_errors"] = bands
        inputs["band_headline"] = band_headline_path
    if band_table4_path:  # Table IV's flux ratios with their errors (rules/bands.smk)
        ratios = json.loads(Path(band_table4_path).read_text())
        summary["table4_errors"] = {"definition": ratios["definition"], "models": ratios["models"]}
        inputs["band_table4"] = band_table4_path
    if systematics_path:  # the envelope of the systematic variants beside the statistical errors (rules/systematics.smk)
        from galdiff.uncertainty.systematics import summary_entry

        summary["systematics"] = summary_entry(
            json.loads(Path(systematics_path).read_text()),
            json.loads(Path(band_headline_path).read_text()) if band_headline_path else None,
            json.loads(Path(band_table4_path).read_text()) if band_table4_path else None)
        inputs["systematics"] = systematics_path
    if local_band_paths:  # relative 68 % half-widths of the modulated local spectra (rules/bands.smk)
        from galdiff.data.datasets import read_dataset
        from galdiff.uncertainty.bands import relative_half_widths

        for path in local_band_paths:
            table, fit = read_dataset(path), Path(path).stem.removeprefix("local_")
            inputs[f"{Path(path).parent.name}/{Path(path).stem}"] = path
            column = f"{fit}_toa" if fit != "leptons" else "total_toa"
            widths = summary["models"].setdefault(Path(path).parent.name, {}).setdefault("bands", {})
            widths[fit if fit != "leptons" else "electron+positron"] = {
                "relative_half_width_by_energy_GeV_per_n": relative_half_widths(table, column),
                "level": table.meta["levels"][0], "n_samples": table.meta["n_samples"]}
    summary.update(provenance_meta(inputs=inputs))
    with atomic_path(output_path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(list(snakemake.input.fits), snakemake.output[0], snakemake.log[0], list(snakemake.input.extra),
         snakemake.input.mask, snakemake.input.headline, snakemake.input.table4,
         snakemake.input.get("gev_anchor") or None, snakemake.input.get("band_headline") or None,
         list(snakemake.input.get("local_bands", [])), snakemake.input.get("band_table4") or None,
         snakemake.input.get("systematics") or None)
