"""Secondary electrons and positrons of one model from its propagated p and He (rule secondary_leptons)."""

from galdiff.propagation import run
from galdiff.script_logging import setup_logging


def main(inputs, outputs, model_cfg, propagation_cfg, log_path):
    log = setup_logging(log_path)
    results = run.propagate_secondaries(model_cfg, propagation_cfg, run.read_result(inputs["proton"]),
                                        run.read_result(inputs["helium"]), isrf_path=inputs["isrf"], progress=True)
    config = {"model": model_cfg, "propagation": propagation_cfg}
    for name, result in results.items():
        run.write_result(outputs[name], result, config=config, inputs=inputs)
        log.info("%s: written %s", name, outputs[name])


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.output.items()),
         snakemake.params.model_cfg, snakemake.params.propagation_cfg, snakemake.log[0])
