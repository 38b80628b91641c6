"""Region spectra and EXTRA fit of one model under one systematic variant, without sky maps
(rule systematics_region_spectra)."""

from pathlib import Path

from galdiff.data.datasets import read_dataset
from galdiff.emission import read_emissivity_h5
from galdiff.fitting.extra import extras_from_emissivity
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.region_spectra import fitted_region_spectra, write_region_spectra_outputs
from galdiff.skymaps.regions import SkyRegion
from galdiff.uncertainty.systematics import read_region_los_weights_h5, region_averages_of_emissivity


def baseline_unscaled_gamma(paths):
    """``{region: {component: (n_E,)}}``: the baseline's absorbed gamma-ray sources as its maps gave them (the
    extras divided by their fitted scale; an extra fitted to 0 is left out)."""
    from galdiff.conventions import GAMMA_SOURCES

    out = {}
    for path in paths:
        table = read_dataset(path)
        scales = {name: entry["scale"] for name, entry in (table.meta.get("extra_fit") or {}).items()}
        out[table.meta["region"]] = {}
        for name in GAMMA_SOURCES:
            scale = scales.get(name, 1.0)
            if name in table.colnames and scale and scale > 0:
                out[table.meta["region"]][name] = table[name].quantity.value / scale
    return out


def main(inputs, regions_cfg, fit_data, energy_range_GeV, extra_cfg, model, outputs, log_path,
         dataset_energy_ranges_GeV=None, absorption=True):
    log = setup_logging(log_path)
    weights = read_region_los_weights_h5(inputs["weights"])
    emissivity = read_emissivity_h5(inputs["emissivity"])
    baseline = None
    if inputs.get("baseline_emissivity") and weights is not None:
        baseline = (read_emissivity_h5(inputs["baseline_emissivity"]), baseline_unscaled_gamma(inputs["baseline_spectra"]),
                    read_region_los_weights_h5(inputs["baseline_weights"]))
    energies, spectra = region_averages_of_emissivity(emissivity, weights, absorption=absorption, baseline=baseline)
    del emissivity, baseline
    extras_maps, fractions = extras_from_emissivity(inputs["emissivity"])
    fit_names = [name for name, entry in extras_maps.items()
                 if extra_cfg[name]["fit"] and entry["norm_per_GeV_cm3_s_sr"] > 0]
    tables_by_name = {Path(p).stem: read_dataset(p) for p in inputs["data"]}
    fit_tables = {region: [tables_by_name[name] for name in names] for region, names in fit_data.items()}
    regions = [SkyRegion.from_config(name, entry) for name, entry in regions_cfg.items()]
    areas = {name: (entry["masked_fraction"], entry["unmasked_solid_angle_sr"])
             for name, entry in weights["regions"].items()}
    files = {Path(p).name: p for p in [inputs["emissivity"], inputs["weights"], *inputs["data"]]}
    meta = provenance_meta(inputs=files, config={"regions": regions_cfg, "fit_data": fit_data, "extra": extra_cfg})
    tables, summary, result = fitted_region_spectra(
        energies, spectra, regions, areas, model=model, fit_data=fit_tables, fit_energy_range_GeV=energy_range_GeV,
        extras_maps=extras_maps, fit_names=fit_names, flavour_fractions=fractions, meta=meta,
        fit_dataset_energy_ranges_GeV=dataset_energy_ranges_GeV)
    write_region_spectra_outputs(list(regions_cfg), tables, summary, result, meta, model, outputs, log)


if __name__ == "__main__":
    main({"weights": snakemake.input.weights, "emissivity": snakemake.input.emissivity,
          "baseline_emissivity": snakemake.input.baseline_emissivity,
          "baseline_weights": snakemake.input.baseline_weights,
          "baseline_spectra": list(snakemake.input.baseline_spectra),
          "data": list(snakemake.input.data)},
         dict(snakemake.params.regions), dict(snakemake.params.fit_data), snakemake.params.energy_range_GeV,
         dict(snakemake.params.extra_cfg), snakemake.wildcards.model,
         {"spectra": list(snakemake.output.spectra), "fit": snakemake.output.fit, "points": snakemake.output.points},
         snakemake.log[0], dict(snakemake.params.dataset_energy_ranges_GeV), bool(snakemake.params.absorption))
