"""Propagate protons or helium for one model, normalise to data, Green's functions (rule propagate_nucleus)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.data.datasets import read_dataset  # noqa: E402
from galdiff.propagation import run  # noqa: E402
from galdiff.propagation.greens import write_greens_h5  # noqa: E402


def main(species, model_cfg, propagation_cfg, reference_path, density_path, greens_path, log_path, n_workers=1):
    log = setup_logging(log_path)
    with_greens = bool(greens_path)
    result = run.propagate_primary(model_cfg, propagation_cfg, species, with_greens=with_greens, progress=True,
                                   n_workers=n_workers)
    norm_cfg = propagation_cfg["normalisation"][species]
    result = run.normalise_to_data(result, species, model_cfg["injection"][species]["phi_GV"],
                                   read_dataset(reference_path), norm_cfg["ek_range_GeV_per_n"])
    config = {"model": model_cfg, "propagation": propagation_cfg}
    run.write_result(density_path, result, config=config, inputs={"reference": reference_path})
    if with_greens:
        write_greens_h5(greens_path, result.grid, species, result.greens, config=config,
                        extra_attrs={"source_shape": "PAPER.md Eq. 2, 1 at the Sun",
                                     "normalisation_of_fitted_injection": result.norm})
    log.info("%s: norm %.4g, written %s", species, result.norm, density_path)


if __name__ == "__main__":
    main(
        snakemake.wildcards.species,  # noqa: F821
        snakemake.params.model_cfg,  # noqa: F821
        snakemake.params.propagation_cfg,  # noqa: F821
        snakemake.input.reference,  # noqa: F821
        snakemake.output.density,  # noqa: F821
        snakemake.output.get("greens", ""),  # noqa: F821
        snakemake.log[0],  # noqa: F821
        snakemake.threads,  # noqa: F821
    )
