"""A Fermi-style CAR cube (gll_iem layout, ENERGIES extension) from a HEALPix cube (rule car_cube)."""

from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.cube import read_healpix_cube, write_car_cube


def main(healpix_path, output_path, binsz_deg, log_path):
    log = setup_logging(log_path)
    cube = read_healpix_cube(healpix_path)
    provenance = {**provenance_meta(inputs={"healpix_cube": healpix_path}), "component": cube.meta.get("component")}
    write_car_cube(output_path, cube.data, cube.energies_GeV, unit=str(cube.unit), binsz_deg=binsz_deg,
                   provenance=provenance)
    log.info("wrote %s (%d energies, %.3g deg pixels)", output_path, cube.energies_GeV.size, binsz_deg)


if __name__ == "__main__":
    main(snakemake.input[0], snakemake.output[0], float(snakemake.params.binsz_deg), snakemake.log[0])
