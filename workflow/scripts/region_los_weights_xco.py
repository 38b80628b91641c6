"""Region-averaged line-of-sight weights of the X_CO variants of one line-of-sight set-up, from its own
operators and the molecular-gas operator (rule region_los_weights_xco): no operators per X_CO value."""

from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.uncertainty.systematics import (read_region_los_weights_h5, write_region_los_weights_h5,
                                             x_co_region_los_weights)


def main(inputs, setup, x_co_values, nside, outputs, log_path):
    log = setup_logging(log_path)
    baseline = read_region_los_weights_h5(inputs["baseline_weights"])
    weights = x_co_region_los_weights(inputs["los_gas"], inputs["los_path"], baseline, setup, x_co_values, nside)
    for variant, path in outputs.items():
        meta = provenance_meta(inputs=inputs, config={"setup": setup, "x_co": x_co_values[variant], "nside": nside})
        write_region_los_weights_h5(path, weights[variant], meta=meta)
        log.info("wrote %s (X_CO %.4g, the set-up's %.4g)", path, x_co_values[variant], setup["galaxy"]["x_co"])


if __name__ == "__main__":
    variants = list(snakemake.params.x_co_values)
    main(dict(snakemake.input.items()), dict(snakemake.params.setup), dict(snakemake.params.x_co_values),
         int(snakemake.params.nside), dict(zip(variants, snakemake.output)), snakemake.log[0])
