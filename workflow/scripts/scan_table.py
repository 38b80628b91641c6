"""One scan's tidy table: parameters, chi-square per data set of the CR and EXTRA fits, headline numbers (rule scan_table)."""

from pathlib import Path

import yaml

from galdiff.data.datasets import read_dataset, write_dataset
from galdiff.comparison.table4 import headline_numbers
from galdiff.provenance import provenance_meta
from galdiff.scans import ScanPoint, extra_chi2_by_dataset, scan_row, scan_table
from galdiff.script_logging import setup_logging


def main(scan, inputs, settings, output_path, log_path):
    log = setup_logging(log_path)
    spectra_stage = "extra_fits" in inputs
    cascades = read_dataset(inputs["icecube_total"]) if spectra_stage else None
    rows, used = [], {}
    for i, (point, greens_key) in enumerate(zip(settings["points"], settings["greens_keys"])):
        point = ScanPoint(scan, point["index"], point["model"], dict(point["parameters"]))
        fit = yaml.safe_load(Path(inputs["fits"][i]).read_text())
        used[f"{point.model}/injection.yaml"] = inputs["fits"][i]
        extra_fit = headline = None
        if spectra_stage:
            extra_fit = yaml.safe_load(Path(inputs["extra_fits"][i]).read_text())
            extra_fit["chi2_by_dataset"] = extra_chi2_by_dataset(read_dataset(inputs["extra_points"][i]))
            headline = headline_numbers(read_dataset(inputs["spectra"][i]), cascades, settings["energies_GeV"])["ours"]
            used.update({f"{point.model}/extra_fit.yaml": inputs["extra_fits"][i],
                         f"{point.model}/extra_fit_points.ecsv": inputs["extra_points"][i],
                         f"{point.model}/{Path(inputs['spectra'][i]).name}": inputs["spectra"][i]})
        rows.append(scan_row(point, fit, extra_fit, headline, greens_key=greens_key))
        log.info("%s %s: chi2_cr %.2f%s", point.model, point.parameters, rows[-1]["chi2_cr"],
                 f", chi2_extra {rows[-1]['chi2_extra']:.2f}" if spectra_stage else "")
    if spectra_stage:
        used["icecube_cascades_6yr.ecsv"] = inputs["icecube_total"]
    table = scan_table(scan, settings["spec"], rows, paper_point=settings["paper_point"],
                       meta={"provenance": provenance_meta(inputs=used)})
    write_dataset(table, output_path)
    log.info("wrote %s (%d points)", output_path, len(table))


if __name__ == "__main__":
    inputs = {key: (list(value) if key != "icecube_total" else value) for key, value in snakemake.input.items()}
    main(snakemake.wildcards.scan, inputs, snakemake.params.scan, snakemake.output[0], snakemake.log[0])
