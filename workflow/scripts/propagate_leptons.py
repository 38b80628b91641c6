"""Primary and secondary electrons and positrons for one model (rule propagate_leptons)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.data.datasets import read_dataset  # noqa: E402
from galdiff.propagation import run  # noqa: E402
from galdiff.propagation.greens import write_greens_h5  # noqa: E402


def main(inputs, outputs, model_cfg, propagation_cfg, log_path, n_workers=1):
    log = setup_logging(log_path)
    config = {"model": model_cfg, "propagation": propagation_cfg}
    results = run.propagate_leptons(
        model_cfg, propagation_cfg, run.read_result(inputs["proton"]), run.read_result(inputs["helium"]),
        inputs["isrf"], {"electron": read_dataset(inputs["electron_reference"]),
                         "positron": read_dataset(inputs["positron_reference"])},
        with_greens="greens" in outputs, n_workers=n_workers,
    )
    for name, result in results.items():
        run.write_result(outputs[name], result, config=config)
        log.info("%s: norm %.4g", name, result.norm)
    if "greens" in outputs:
        primary = results["electron_primary"]
        write_greens_h5(outputs["greens"], primary.grid, "electron", primary.greens, config=config,
                        extra_attrs={"source_shape": "PAPER.md Eq. 2, 1 at the Sun",
                                     "note": "same transport for the extra primary positrons"})


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.output.items()),  # noqa: F821
         snakemake.params.model_cfg, snakemake.params.propagation_cfg, snakemake.log[0], snakemake.threads)  # noqa: F821
