"""HEALPix map cubes of every component of one model (rule sky_maps)."""

from galdiff.emission import read_emissivity_h5
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.cube import write_healpix_cube
from galdiff.skymaps.model_maps import cached_operators, iter_model_map_cubes, map_geometry


def main(inputs, outputs, maps_cfg, galaxy_cfg, model_propagation, log_path):
    log = setup_logging(log_path)
    emissivity_path = inputs["emissivity"]
    emissivity = read_emissivity_h5(emissivity_path)
    nside = int(maps_cfg["nside"])
    geometry = map_geometry(maps_cfg, model_propagation, float(galaxy_cfg["r_sun_kpc"]))
    # memory-mapped, each opened for the step that needs it: the job holds one operator's arrays at a time
    operators = cached_operators(inputs["los_gas"], inputs["los_path"], emissivity, geometry, nside,
                                 total_paths=(inputs["los_gas_total"], inputs["los_path_total"]))
    log.info("line-of-sight operators from %s, %s", inputs["los_gas"], inputs["los_path"])
    provenance = provenance_meta(inputs={"emissivity": emissivity_path}, config=maps_cfg)
    cubes = iter_model_map_cubes(emissivity, nside, geometry, galaxy_cfg, absorption=bool(maps_cfg["absorption"]),
                                 operators=operators)
    for name, (energies_GeV, cube) in cubes:  # written as each is complete, then dropped
        write_healpix_cube(outputs[name], cube, energies_GeV, provenance={**provenance, "component": name})
        log.info("wrote %s", outputs[name])
        del cube


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.output.items()), snakemake.params.maps_cfg,
         snakemake.params.galaxy_cfg, snakemake.params.model_propagation, snakemake.log[0])
