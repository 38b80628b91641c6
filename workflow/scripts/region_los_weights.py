"""Region-averaged line-of-sight weights of one line-of-sight set-up (rule region_los_weights)."""

from galdiff.emission import read_emissivity_h5
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.masks import read_mask_fits
from galdiff.skymaps.regions import SkyRegion
from galdiff.uncertainty.systematics import region_los_weights_of_operators, write_region_los_weights_h5


def main(inputs, regions_cfg, nside, fine_nside, output_path, log_path):
    log = setup_logging(log_path)
    regions = [SkyRegion.from_config(name, entry) for name, entry in regions_cfg.items()]
    mask = read_mask_fits(inputs["mask"]) if inputs.get("mask") else None
    kappa = read_emissivity_h5(inputs["emissivity"]).kappa_per_kpc if inputs.get("emissivity") else None
    weights = region_los_weights_of_operators(inputs["los_gas"], inputs["los_path"], regions, nside, mask=mask,
                                              fine_nside=fine_nside, kappa_per_kpc=kappa)
    meta = provenance_meta(inputs=inputs, config={"regions": regions_cfg, "nside": nside, "fine_nside": fine_nside})
    write_region_los_weights_h5(output_path, weights, meta=meta)
    log.info("wrote %s: %s", output_path, {name: round(entry["masked_fraction"], 4)
                                           for name, entry in weights["regions"].items()})


if __name__ == "__main__":
    main(dict(snakemake.input.items()), dict(snakemake.params.regions), int(snakemake.params.nside),
         int(snakemake.params.fine_nside), snakemake.output[0], snakemake.log[0])
