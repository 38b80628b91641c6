"""Secondary electrons and positrons of one model from its propagated p and He (rule secondary_leptons)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.propagation import run  # noqa: E402


def main(inputs, outputs, model_cfg, propagation_cfg, log_path):
    log = setup_logging(log_path)
    results = run.propagate_secondaries(model_cfg, propagation_cfg, run.read_result(inputs["proton"]),
                                        run.read_result(inputs["helium"]), isrf_path=inputs["isrf"], progress=True)
    config = {"model": model_cfg, "propagation": propagation_cfg}
    for name, result in results.items():
        run.write_result(outputs[name], result, config=config, inputs=inputs)
        log.info("%s: written %s", name, outputs[name])


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.output.items()),  # noqa: F821
         snakemake.params.model_cfg, snakemake.params.propagation_cfg, snakemake.log[0])  # noqa: F821
