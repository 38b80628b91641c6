"""IceCube's KRA-gamma fit as a per-flavour intensity band in a sky region (rule icecube_kra_band)."""

from pathlib import Path

import numpy as np

from galdiff.data.datasets import read_dataset, write_dataset
from galdiff.comparison.icecube import kra_band_table
from galdiff.provenance import provenance_meta
from galdiff.skymaps.regions import SkyRegion, equatorial_to_galactic_map, region_mean
from galdiff.script_logging import setup_logging


def main(spectrum_path, fits_path, template_npy, region_name, region_cfg, morphology, output_path, log_path):
    log = setup_logging(log_path)
    region = SkyRegion.from_config(region_name, region_cfg)
    template_mean = float(region_mean(equatorial_to_galactic_map(np.load(template_npy)), region))
    table = kra_band_table(read_dataset(spectrum_path), read_dataset(fits_path), region, morphology, template_mean)
    table.meta.update(provenance_meta(inputs={Path(p).name: p for p in (spectrum_path, fits_path, template_npy)}))
    log.info("%s in %s: %s", table.meta["template"], region_name, table.meta["conversion"])
    write_dataset(table, output_path)


if __name__ == "__main__":
    main(snakemake.input.spectrum, snakemake.input.fits, snakemake.input.template,
         snakemake.wildcards.region, snakemake.params.region, snakemake.params.morphology,
         snakemake.output[0], snakemake.log[0])
