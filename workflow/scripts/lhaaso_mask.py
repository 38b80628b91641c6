"""The LHAASO source mask at the maps' resolution (rule lhaaso_mask)."""

from galdiff.data.datasets import read_dataset
from galdiff.skymaps.masks import build_source_mask, write_mask_fits
from galdiff.provenance import provenance_meta
from galdiff.skymaps.regions import SkyRegion
from galdiff.script_logging import setup_logging


def main(lhaaso_path, gammacat_path, settings, nside, regions_cfg, output_path, log_path):
    log = setup_logging(log_path)
    catalogs = {"1lhaaso": read_dataset(lhaaso_path), "gammacat": read_dataset(gammacat_path)}
    mask = build_source_mask(catalogs, settings, map_nside=nside)
    regions = [SkyRegion.from_config(name, entry) for name, entry in regions_cfg.items()]
    provenance = provenance_meta(inputs={"catalog_1lhaaso": lhaaso_path, "catalog_gammacat": gammacat_path},
                                 config={"settings": settings, "nside": nside})
    fractions = write_mask_fits(output_path, mask, nside, regions, provenance)
    log.info("%d discs on nside %d (maps: %d)", len(mask.discs), mask.fine_nside, nside)
    for name, fraction in fractions.items():
        log.info("masked fraction of %s: %.3f", name, fraction)


if __name__ == "__main__":
    main(snakemake.input.lhaaso, snakemake.input.gammacat, dict(snakemake.params.settings),
         int(snakemake.params.nside), dict(snakemake.params.regions), snakemake.output[0], snakemake.log[0])
