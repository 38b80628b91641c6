"""HEALPix map cubes of every component of one model (rule sky_maps)."""

from galdiff.emission import read_emissivity_h5
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.cube import write_healpix_cube
from galdiff.skymaps.model_maps import load_operators, map_geometry, model_map_cubes


def main(inputs, outputs, maps_cfg, galaxy_cfg, model_propagation, log_path):
    log = setup_logging(log_path)
    emissivity_path = inputs["emissivity"]
    emissivity = read_emissivity_h5(emissivity_path)
    nside = int(maps_cfg["nside"])
    geometry = map_geometry(maps_cfg, model_propagation, float(galaxy_cfg["r_sun_kpc"]))
    operators = load_operators(inputs["los_gas"], inputs["los_path"], emissivity, geometry, nside)
    log.info("line-of-sight operators from %s, %s", inputs["los_gas"], inputs["los_path"])
    cubes = model_map_cubes(emissivity, nside, geometry, galaxy_cfg,
                            absorption=bool(maps_cfg["absorption"]), operators=operators)
    provenance = provenance_meta(inputs={"emissivity": emissivity_path}, config=maps_cfg)
    for name, path in outputs.items():
        energies_GeV, cube = cubes[name]
        write_healpix_cube(path, cube, energies_GeV, provenance={**provenance, "component": name})
        log.info("wrote %s", path)


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.output.items()), snakemake.params.maps_cfg,
         snakemake.params.galaxy_cfg, snakemake.params.model_propagation, snakemake.log[0])
