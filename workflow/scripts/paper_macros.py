"""The manuscript's numbers as LaTeX macros (rule paper_macros): results/paper/numbers.tex."""

import json
from pathlib import Path

import yaml

from galdiff.provenance import atomic_path
from galdiff.reporting import paper_numbers, render_macros
from galdiff.script_logging import setup_logging


def main(summary_path, fit_paths, table4_path, config, output_path, log_path):
    log = setup_logging(log_path)
    summary = json.loads(Path(summary_path).read_text())
    fit_files = {}
    for path in fit_paths:
        content = yaml.safe_load(Path(path).read_text())
        fit_files[content["model"]] = content
    table4 = json.loads(Path(table4_path).read_text())
    numbers = paper_numbers(summary, config=config, fit_files=fit_files, table4=table4)
    with atomic_path(output_path) as tmp:
        tmp.write_text(render_macros(numbers, source=str(summary_path)))
    log.info("wrote %d numbers to %s", len(numbers), output_path)


if __name__ == "__main__":
    main(snakemake.input.summary, list(snakemake.input.fits), snakemake.input.table4,
         snakemake.config, snakemake.output[0], snakemake.log[0])
