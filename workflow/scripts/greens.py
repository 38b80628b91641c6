"""Green's matrix at the Sun of one transport set-up and species (rule greens)."""

import json

from galdiff.propagation import run
from galdiff.propagation.greens import write_greens_h5
from galdiff.propagation.setups import setup_key
from galdiff.script_logging import setup_logging


def main(key, setup, isrf_path, output_path, log_path, n_workers=1):
    log = setup_logging(log_path)
    if setup_key(setup) != key:
        raise ValueError(f"set-up of key {key} hashes to {setup_key(setup)}: the workflow's key helper and the "
                         f"library disagree")
    log.info("%s Green's matrix for set-up %s: %s", setup["species"], key, json.dumps(setup))
    grid, greens = run.greens_matrix(setup, isrf_path=isrf_path or None, n_workers=n_workers, progress=True)
    r_sun = float(setup["galaxy"]["r_sun_kpc"])
    write_greens_h5(output_path, grid, setup["species"], greens, r_sun_kpc=r_sun, config=setup,
                    inputs={"isrf": isrf_path} if isrf_path else None,
                    extra_attrs={"setup_key": key, "setup_json": json.dumps(setup, sort_keys=True),
                                 "source_shape": "docs/paper.md#eq-2-source-distribution, 1 at the Sun"})
    log.info("wrote %s (%d x %d)", output_path, *greens.shape)


if __name__ == "__main__":
    main(snakemake.wildcards.key, snakemake.params.setup, snakemake.input.get("isrf", ""),
         snakemake.output[0], snakemake.log[0], snakemake.threads)
