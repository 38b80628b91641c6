"""IceCube's KRA-gamma fit as a per-flavour intensity band in a sky region (rule icecube_kra_band)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

import numpy as np  # noqa: E402

from galdiff.data.datasets import read_dataset, write_dataset  # noqa: E402
from galdiff.neutrino_references import kra_band_table  # noqa: E402
from galdiff.provenance import provenance_meta  # noqa: E402
from galdiff.regions import SkyRegion, equatorial_to_galactic_map, region_mean  # noqa: E402


def main(spectrum_path, fits_path, template_npy, region_name, region_cfg, morphology, output_path, log_path):
    log = setup_logging(log_path)
    region = SkyRegion.from_config(region_name, region_cfg)
    template_mean = float(region_mean(equatorial_to_galactic_map(np.load(template_npy)), region))
    table = kra_band_table(read_dataset(spectrum_path), read_dataset(fits_path), region, morphology, template_mean)
    table.meta.update(provenance_meta(inputs={Path(p).name: p for p in (spectrum_path, fits_path, template_npy)}))
    log.info("%s in %s: %s", table.meta["template"], region_name, table.meta["conversion"])
    write_dataset(table, output_path)


if __name__ == "__main__":
    main(snakemake.input.spectrum, snakemake.input.fits, snakemake.input.template,  # noqa: F821
         snakemake.wildcards.region, snakemake.params.region, snakemake.params.morphology,  # noqa: F821
         snakemake.output[0], snakemake.log[0])  # noqa: F821
