"""IceCube's Galactic-plane pi0-template fit as a per-flavour intensity band in a sky region."""

import numpy as np

from galdiff.data.datasets import read_dataset, write_dataset
from galdiff.comparison.icecube import pi0_template_band_table
from galdiff.skymaps.regions import SkyRegion, equatorial_to_galactic_map, region_mean
from galdiff.script_logging import setup_logging


def main(template_npy, fits_ecsv, region_name, region_cfg, index, output_path, log_path):
    log = setup_logging(log_path)
    region = SkyRegion.from_config(region_name, region_cfg)
    template_gal = equatorial_to_galactic_map(np.load(template_npy))
    mean_per_sr = float(region_mean(template_gal, region))
    log.info("mean normalised pi0 template in %s: %.4g sr^-1", region_name, mean_per_sr)
    table = pi0_template_band_table(read_dataset(fits_ecsv), mean_per_sr, region, index)
    write_dataset(table, output_path)


if __name__ == "__main__":
    main(
        snakemake.input.template,
        snakemake.input.fits,
        snakemake.wildcards.region,
        snakemake.params.region,
        snakemake.params.index,
        snakemake.output[0],
        snakemake.log[0],
    )
