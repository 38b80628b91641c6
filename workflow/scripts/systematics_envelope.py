"""Envelope of the systematic variants around one model's region spectra (rule systematics_envelope)."""

from pathlib import Path

import yaml

from galdiff.data.datasets import read_dataset, write_dataset
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.uncertainty.systematics import envelope_table


def main(inputs, variants, regions, outputs, log_path):
    log = setup_logging(log_path)
    norms = {}
    for variant in variants:
        fit = yaml.safe_load(Path(inputs[f"{variant}/fit"]).read_text())
        norms[variant] = {name: entry.get("norm_per_GeV_cm3_s_sr") for name, entry in (fit.get("components") or {}).items()}
        norms[variant]["chi2"] = fit.get("chi2")
    for index, (region, output) in enumerate(zip(regions, outputs)):
        baseline = read_dataset(inputs["baseline"][index])
        tables = {variant: read_dataset(inputs[variant][index]) for variant in variants}
        paths = {"baseline": inputs["baseline"][index], **{v: inputs[v][index] for v in variants}}
        meta = {"variant_settings": {v: dict(s) for v, s in variants.items()}, "variant_extra_norms": norms,
                **provenance_meta(inputs=paths, config={"variants": variants})}
        table = envelope_table(baseline, tables, meta=meta)
        write_dataset(table, output)
        log.info("wrote %s", output)


if __name__ == "__main__":
    inputs = {name: (value if name.endswith("/fit") else list(value)) for name, value in snakemake.input.items()}
    main(inputs, dict(snakemake.params.variants), list(snakemake.params.regions), list(snakemake.output),
         snakemake.log[0])
