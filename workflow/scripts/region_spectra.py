"""Region spectra of one model with the EXTRA normalisation fit (rule region_spectra)."""

from pathlib import Path

from galdiff.data.datasets import read_dataset
from galdiff.fitting.extra import extras_from_emissivity
from galdiff.skymaps.masks import read_mask_fits
from galdiff.provenance import provenance_meta
from galdiff.skymaps.region_spectra import model_region_spectra, write_region_spectra_outputs
from galdiff.skymaps.regions import SkyRegion
from galdiff.script_logging import setup_logging
from galdiff.skymaps.cube import read_healpix_cube


def main(map_paths, emissivity_path, mask_path, data_paths, regions_cfg, fit_data, energy_range_GeV, extra_cfg,
         fine_nside, model, outputs, log_path, dataset_energy_ranges_GeV=None):
    log = setup_logging(log_path)
    cubes = {}
    for path in map_paths:
        cube = read_healpix_cube(path)
        cubes[Path(path).stem] = (cube.energies_GeV, cube.data)
    extras_maps, fractions = extras_from_emissivity(emissivity_path)
    fit_names = [name for name, entry in extras_maps.items()
                 if extra_cfg[name]["fit"] and entry["norm_per_GeV_cm3_s_sr"] > 0]
    tables_by_name = {Path(p).stem: read_dataset(p) for p in data_paths}
    fit_tables = {region: [tables_by_name[name] for name in names] for region, names in fit_data.items()}
    regions = [SkyRegion.from_config(name, entry) for name, entry in regions_cfg.items()]
    inputs = {Path(p).name: p for p in [*map_paths, emissivity_path, *data_paths]}
    if mask_path:
        inputs["lhaaso_mask.fits"] = mask_path
    meta = provenance_meta(inputs=inputs, config={"regions": regions_cfg, "fit_data": fit_data, "extra": extra_cfg})
    tables, summary, result = model_region_spectra(
        cubes, regions, model=model, mask=read_mask_fits(mask_path) if mask_path else None, fine_nside=fine_nside,
        fit_data=fit_tables, fit_energy_range_GeV=energy_range_GeV, extras_maps=extras_maps, fit_names=fit_names,
        flavour_fractions=fractions, meta=meta, fit_dataset_energy_ranges_GeV=dataset_energy_ranges_GeV)
    write_region_spectra_outputs(list(regions_cfg), tables, summary, result, meta, model, outputs, log)


if __name__ == "__main__":
    main(list(snakemake.input.maps), snakemake.input.emissivity,
         snakemake.input.get("mask"), list(snakemake.input.data), dict(snakemake.params.regions),
         dict(snakemake.params.fit_data), snakemake.params.energy_range_GeV, dict(snakemake.params.extra_cfg),
         int(snakemake.params.fine_nside), snakemake.wildcards.model,
         {"spectra": list(snakemake.output.spectra), "fit": snakemake.output.fit,
          "points": snakemake.output.points}, snakemake.log[0],
         dict(snakemake.params.dataset_energy_ranges_GeV))
