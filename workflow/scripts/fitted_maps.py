"""Map cubes with the fitted EXTRA norms (rule fitted_maps): the extras and totals rescaled."""

from pathlib import Path

import yaml

from galdiff.fitting.extra import extras_from_emissivity, scale_components
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.cube import read_healpix_cube, write_healpix_cube


def main(map_paths, fit_path, emissivity_path, output_paths, log_path):
    log = setup_logging(log_path)
    fit = yaml.safe_load(Path(fit_path).read_text())
    scales = {name: entry["scale"] for name, entry in fit["components"].items()}
    _, fractions = extras_from_emissivity(emissivity_path)
    cubes = {Path(p).stem: read_healpix_cube(p) for p in map_paths}
    scaled = scale_components({name: cube.data for name, cube in cubes.items()}, scales, fractions)
    provenance = provenance_meta(inputs={**{Path(p).name: p for p in map_paths}, "extra_fit.yaml": fit_path})
    for path in output_paths:
        name = Path(path).stem
        write_healpix_cube(path, scaled[name], cubes[name].energies_GeV, unit=str(cubes[name].unit),
                           provenance={**provenance, "component": name, "extra_scales": scales})
        log.info("wrote %s (EXTRA scales %s)", path, scales)


if __name__ == "__main__":
    main(list(snakemake.input.maps), snakemake.input.fit, snakemake.input.emissivity,
         list(snakemake.output), snakemake.log[0])
