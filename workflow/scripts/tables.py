"""Tables I-III as LaTeX and Markdown, ours beside the paper's (rule tables)."""

from pathlib import Path

import yaml

from galdiff import tables
from galdiff.script_logging import setup_logging


def main(fit_paths, config, outputs, log_path):
    log = setup_logging(log_path)
    fits = {}
    for path in fit_paths:
        content = yaml.safe_load(Path(path).read_text())
        fits[content["model"]] = content["summary"]
    # refit models get the columns; an as-printed twin (models.<m>.refit_model) fills the paper's chi2 cells
    printed = {config["models"][m]["refit_model"]: fits[m] for m in fits if config["models"][m].get("refit_model")}
    models = [m for m in fits if not config["models"][m].get("refit_model")]
    paper_values = {m: v for m, v in tables.paper_values_from_config(config).items() if m in models}
    rendered = {
        "table1": tables.table1({m: config["models"][m]["propagation"] for m in models}, paper_values=tables.PAPER_TABLE1),
        "table2": tables.table2(fits, paper_values=paper_values, models=models, printed_fits=printed),
        "table3": tables.table3(fits, models=models, printed_fits=printed),
    }
    for name, table in rendered.items():
        tables.write_table(table, Path(outputs[f"{name}_tex"]).with_suffix(""))
        log.info("wrote %s", name)


if __name__ == "__main__":
    main(list(snakemake.input.fits), snakemake.params.config, dict(snakemake.output.items()), snakemake.log[0])
