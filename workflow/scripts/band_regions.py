"""Bands of one model's region spectra from the EXTRA normalisations' covariance and the cosmic-ray fits'
draws, the EXTRA fit redone on each cosmic-ray draw (rule band_regions; galdiff.uncertainty.extra_bands)."""

from pathlib import Path


import yaml

from galdiff.data.datasets import read_dataset, write_dataset
from galdiff.fitting.extra import extras_from_emissivity
from galdiff.skymaps.masks import read_mask_fits
from galdiff.provenance import provenance_meta
from galdiff.skymaps.region_spectra import average_cubes, region_weights
from galdiff.skymaps.regions import SkyRegion
from galdiff.skymaps.cube import read_healpix_cube
from galdiff.uncertainty.extra_bands import extra_refit_shifts, region_band_table, write_refit_shifts
from galdiff.uncertainty.response import read_response_h5
from galdiff.script_logging import setup_logging


def main(inputs, regions_cfg, fine_nside, bands, outputs, refit_output, log_path):
    log = setup_logging(log_path)
    cubes = {}
    for path in inputs["maps"]:
        cube = read_healpix_cube(path)
        cubes[Path(path).stem] = (cube.energies_GeV, cube.data)
    nside = int(round((next(iter(cubes.values()))[1].shape[-1] / 12) ** 0.5))
    regions = [SkyRegion.from_config(name, entry) for name, entry in regions_cfg.items()]
    mask = read_mask_fits(inputs["mask"]) if inputs.get("mask") else None
    _, unscaled = average_cubes(cubes, region_weights(regions, nside, mask=mask, fine_nside=fine_nside))
    _, fractions = extras_from_emissivity(inputs["emissivity"])
    with open(inputs["fit"]) as handle:
        fit_summary = yaml.safe_load(handle)
    response = read_response_h5(inputs["response"]) if inputs.get("response") else None
    tables = {region: read_dataset(path) for region, path in zip(regions_cfg, inputs["spectra"])}
    n_samples, seed = int(bands["n_samples"]), int(bands["seed"])
    shifts = extra_refit_shifts(fit_summary, read_dataset(inputs["points"]), tables, unscaled, response,
                                n_samples=n_samples, seed=seed)
    write_refit_shifts(refit_output, list(fit_summary.get("parameters") or []), shifts,
                       meta={"model": fit_summary.get("model"), "n_samples": n_samples, "seed": seed,
                             **provenance_meta(inputs={"extra_fit_points.ecsv": inputs["points"]})})
    log.info("EXTRA refit on the cosmic-ray draws: scale shifts' standard deviation %s (the fit's own errors %s)",
             shifts.std(axis=0).tolist(), [fit_summary["components"][n]["scale_error"]
                                           for n in fit_summary.get("parameters") or []])
    for region, spectra_path, output in zip(regions_cfg, inputs["spectra"], outputs):
        table = region_band_table(tables[region], unscaled[region], fit_summary, n_samples=n_samples, seed=seed,
                                  levels=[float(cl) for cl in bands["levels"]], flavour_fractions=fractions,
                                  response=response, region=region,
                                  scale_shifts=shifts if response is not None else None)
        table.meta.update(provenance_meta(inputs={Path(spectra_path).name: spectra_path, "extra_fit.yaml": inputs["fit"]}))
        write_dataset(table, output)
        log.info("%s: band columns %s", output, [c for c in table.colnames if c.endswith("_median")])


if __name__ == "__main__":
    main({"maps": list(snakemake.input.maps), "spectra": list(snakemake.input.spectra),
          "emissivity": snakemake.input.emissivity, "fit": snakemake.input.fit, "points": snakemake.input.points,
          "mask": snakemake.input.get("mask"), "response": snakemake.input.get("response")}, dict(snakemake.params.regions),
         int(snakemake.params.fine_nside), dict(snakemake.params.bands), list(snakemake.output.regions),
         snakemake.output.refit, snakemake.log[0])
