"""IceCube's Galactic-plane pi0-template fit as a per-flavour intensity band in a sky region."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

import numpy as np  # noqa: E402

from galdiff.data.datasets import read_dataset, write_dataset  # noqa: E402
from galdiff.neutrino_references import pi0_template_band_table  # noqa: E402
from galdiff.regions import SkyRegion, equatorial_to_galactic_map, region_mean  # noqa: E402


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
        snakemake.input.template,  # noqa: F821
        snakemake.input.fits,  # noqa: F821
        snakemake.wildcards.region,  # noqa: F821
        snakemake.params.region,  # noqa: F821
        snakemake.params.index,  # noqa: F821
        snakemake.output[0],  # noqa: F821
        snakemake.log[0],  # noqa: F821
    )
