"""Line-of-sight operators (gas-weighted and path-length) of one set-up, shared by models (rule los_operators).

Beside each operator its sum over the distance shells (what every model's unabsorbed maps use), formed
here once instead of in every sky_maps job.
"""

import json

from galdiff.los_setups import los_key
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.model_maps import setup_operator
from galdiff.skymaps.operator import save_operator, save_total_matrix


def main(key, setup, outputs, log_path):
    log = setup_logging(log_path)
    if los_key(setup) != key:
        raise ValueError(f"line-of-sight set-up of key {key} hashes to {los_key(setup)}: the workflow's key "
                         f"helper and the library disagree")
    log.info("line-of-sight operators for set-up %s: %s", key, json.dumps(setup))
    provenance = {**provenance_meta(config=setup), "setup_key": key, "setup_json": json.dumps(setup, sort_keys=True)}
    for name, with_gas in (("gas", True), ("path", False)):  # one at a time: half the memory of both
        operator = setup_operator(setup, with_gas)
        save_operator(outputs[name], operator, provenance=provenance)
        log.info("wrote %s (%d x %d, %d nonzeros)", outputs[name], *operator.matrix.shape, operator.matrix.nnz)
        save_total_matrix(outputs[f"{name}_total"], operator, provenance=provenance)
        log.info("wrote %s (%d nonzeros)", outputs[f"{name}_total"], operator.total_matrix.nnz)
        del operator


if __name__ == "__main__":
    main(snakemake.wildcards.key, snakemake.params.setup, dict(snakemake.output.items()),
         snakemake.log[0])
