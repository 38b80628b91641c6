"""Table IV: which origin of the extra sources fits the CR, neutrino and gamma-ray data (rule table4)."""

import json
from pathlib import Path

import yaml

from galdiff.data.datasets import read_dataset
from galdiff.comparison.table4 import build_table4, render_table4_latex, render_table4_markdown
from galdiff.provenance import atomic_path, provenance_meta
from galdiff.script_logging import setup_logging


def model_of(path):
    """``results/<stage>/<model>/<file>`` -> model."""
    return Path(path).parent.name


def main(inputs, settings, galaxy_cfg, outputs, log_path):
    log = setup_logging(log_path)
    models = {}
    def read_yaml(path):
        return yaml.safe_load(Path(path).read_text())

    # build_table4's key per model, the rule's input name, how to read it
    for key, input_name, reader in (("spectra", "spectra", read_dataset), ("extra_fit", "fits", read_yaml),
                                    ("local_spectra", "local", read_dataset)):
        for path in inputs[input_name]:
            models.setdefault(model_of(path), {})[key] = reader(path)
    bands = {name: read_dataset(inputs[name]) for name in ("icecube_pi0", "kra_gamma_5", "kra_gamma_50")}
    # the flux ratios' errors over the fits' band draws (rule band_table4), printed beside the ratios
    ratio_errors = json.loads(Path(inputs["band_ratios"]).read_text())["models"] if inputs.get("band_ratios") else None
    table4 = build_table4(models, {**settings, "bands": bands, "template_fits": read_dataset(inputs["template_fits"]),
                                   "galaxy_cfg": galaxy_cfg, "ratio_errors": ratio_errors})
    flat = [p for key in ("spectra", "fits", "local") for p in inputs[key]]
    flat += [inputs[name] for name in ("icecube_pi0", "kra_gamma_5", "kra_gamma_50", "template_fits", "band_ratios")
             if inputs.get(name)]
    table4["provenance"] = provenance_meta(inputs={f"{model_of(p)}/{Path(p).name}": p for p in flat})
    for path, text in ((outputs["md"], render_table4_markdown(table4)), (outputs["tex"], render_table4_latex(table4)),
                       (outputs["json"], json.dumps(table4, indent=2, default=float))):
        with atomic_path(path) as tmp:
            tmp.write_text(text)
        log.info("wrote %s", path)


if __name__ == "__main__":
    names = ("spectra", "fits", "local", "template_fits", "icecube_pi0", "kra_gamma_5", "kra_gamma_50", "band_ratios")
    inputs = {name: (list(snakemake.input[name]) if name in ("spectra", "fits", "local")
                     else snakemake.input.get(name)) for name in names}
    main(inputs, dict(snakemake.params.settings), dict(snakemake.params.galaxy_cfg),
         {"md": snakemake.output.md, "tex": snakemake.output.tex, "json": snakemake.output.json},
         snakemake.log[0])
