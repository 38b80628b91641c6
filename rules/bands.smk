# Uncertainty bands from the fits' covariances (issue 13; config `bands`, library galdiff.uncertainty):
#   band_local: per model and fit, draws of the fit's parameters propagated through its Green's
#   matrix (J = G Q) and modulated -> results/bands/<model>/local_<fit>.ecsv (Figures 1, 2).
#   band_response: per model, d(region spectra)/d(p and He fit parameters) through the model's own chain,
#   with its check against the full chain -> results/bands/<model>/response_hadronic.h5, response_check.json.
#   band_regions: per model, the region spectra's band from the p/He draws (through the response, with
#   fits only) and the EXTRA norms' covariance -> results/bands/<model>/region_<region>.ecsv (Figures 4, 5, 7, 8).
#   band_headline: the headline shares with errors -> results/bands/headline.json (summary.json).

BANDS = {"n_samples": 400, "seed": 13, "levels": [0.68, 0.95], **config.get("bands", {})}


def region_bands(model, region):
    """``{"band": ..., "printed_band": ...}``: the band tables of a model (and its as-printed twin) in a
    region, for the figures' inputs (rules/figures.smk)."""
    out = {"band": f"results/bands/{model}/region_{region}.ecsv"}
    twin = as_printed_twin(model)
    if twin:
        out["printed_band"] = f"results/bands/{twin}/region_{region}.ecsv"
    return out


def band_local_inputs(wildcards):
    """The fit, its curves (the band's energies), its Green's matrix and (leptons) the secondaries."""
    model, name = wildcards.model, wildcards.fit
    inputs = {
        "fit": f"results/fit/{model}/injection_{name}.yaml",
        "curves": f"results/fit/{model}/curves_{name}.ecsv",
        "greens": greens_file(model, "electron" if name == "leptons" else name),
    }
    if name == "leptons":
        inputs.update({lepton: f"results/propagation/{model}/{lepton}.h5"
                       for lepton in ("electron_secondary", "positron_secondary")})
    return inputs


rule band_local:
    input:
        unpack(band_local_inputs),
    output:
        "results/bands/{model}/local_{fit}.ecsv",
    wildcard_constraints:
        model="|".join(MODELS),
        fit="proton|helium|leptons",
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        bands=BANDS,
    log:
        "logs/bands/{model}/local_{fit}.log",
    benchmark:
        "logs/benchmarks/band_local/{model}_{fit}.tsv",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/band_local.py"


def band_response_inputs(wildcards):
    """The p and He fits and Green's matrices, the emissivity file, the lepton grid, the cached line-of-sight
    operators and the mask: everything the model's own chain needs."""
    model = wildcards.model
    inputs = {f"fit_{s}": f"results/fit/{model}/injection_{s}.yaml" for s in ("proton", "helium")}
    inputs.update({f"greens_{s}": greens_file(model, s) for s in ("proton", "helium")})
    inputs.update(los_files(wildcards))
    inputs["emissivity"] = f"results/emission/{model}/emissivity.h5"
    inputs["electron"] = f"results/propagation/{model}/electron.h5"
    if any(region.get("lhaaso_mask", False) for region in config["regions"].values()):
        inputs["mask"] = "results/masks/lhaaso.fits"
    return inputs


rule band_response:
    input:
        unpack(band_response_inputs),
    output:
        response="results/bands/{model}/response_hadronic.h5",
        check="results/bands/{model}/response_check.json",
    wildcard_constraints:
        model="|".join(MODELS),
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        propagation_cfg=PROP,
        emission_cfg=config["emission"],
        maps_cfg=config["maps"],
        regions=config["regions"],
        fine_nside=MASK_CFG.get("fine_nside", 1024),
        bands=BANDS,
    log:
        "logs/bands/{model}/response.log",
    benchmark:
        "logs/benchmarks/band_response/{model}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/band_response.py"


def band_regions_inputs(wildcards):
    """The extras' map cubes (their unscaled region averages), the fitted spectra, the EXTRA fit, the mask."""
    model = wildcards.model
    inputs = {
        "maps": expand("results/maps/{model}/{component}.fits", model=model, component=EXTRA_BAND_MAPS),
        "spectra": expand("results/spectra/{model}/{region}.ecsv", model=model, region=REGIONS),
        "emissivity": f"results/emission/{model}/emissivity.h5",
        "fit": f"results/spectra/{model}/extra_fit.yaml",
    }
    if FIT:  # the cosmic-ray part needs the injection fits (propagation.greens: true)
        inputs["response"] = f"results/bands/{model}/response_hadronic.h5"
    if any(region.get("lhaaso_mask", False) for region in config["regions"].values()):
        inputs["mask"] = "results/masks/lhaaso.fits"
    return inputs


EXTRA_BAND_MAPS = ["extra1", "extra2", "extra1_neutrino", "extra2_neutrino"]


rule band_regions:
    input:
        unpack(band_regions_inputs),
    output:
        expand("results/bands/{{model}}/region_{region}.ecsv", region=REGIONS),
    wildcard_constraints:
        model="|".join(MODELS),
    params:
        regions=config["regions"],
        fine_nside=MASK_CFG.get("fine_nside", 1024),
        bands=BANDS,
    log:
        "logs/bands/{model}/regions.log",
    benchmark:
        "logs/benchmarks/band_regions/{model}.tsv",
    resources:
        mem_mb=3000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/band_regions.py"


def band_headline_inputs(wildcards):
    """The headline model's (and its as-printed twin's) region spectra, band table, EXTRA fit, emissivity."""
    inputs = {"icecube_total": "results/data/icecube_cascades_6yr.ecsv"}
    twin = as_printed_twin(HEADLINE["model"])
    for prefix, model in (("", HEADLINE["model"]), ("printed_", twin)):
        if model is None:
            continue
        inputs.update({f"{prefix}spectra": f"results/spectra/{model}/{HEADLINE['region']}.ecsv",
                       f"{prefix}band": f"results/bands/{model}/region_{HEADLINE['region']}.ecsv",
                       f"{prefix}fit": f"results/spectra/{model}/extra_fit.yaml",
                       f"{prefix}emissivity": f"results/emission/{model}/emissivity.h5"})
        if FIT:
            inputs[f"{prefix}response"] = f"results/bands/{model}/response_hadronic.h5"
    return inputs


rule band_headline:
    input:
        unpack(band_headline_inputs),
    output:
        "results/bands/headline.json",
    params:
        energies_GeV=HEADLINE.get("energies_GeV", [2.0e4, 1.0e6]),
        bands=BANDS,
    log:
        "logs/bands/headline.log",
    benchmark:
        "logs/benchmarks/band_headline.tsv",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/band_headline.py"


TABLE4_WINDOW = config.get("tables", {}).get("table4", {}).get("window", "all_sky")


def band_table4_inputs(wildcards):
    """Per model the window's spectra, band table, EXTRA fit, emissivity and response; IceCube's fits."""
    inputs = {name: path for name, path in neutrino_bands(TABLE4_WINDOW).items() if name != "icecube_total"}
    inputs["template_fits"] = "results/data/icecube_gp2023_template_fits.ecsv"
    for model in REPORT_MODELS:
        inputs.update({f"{model}/spectra": f"results/spectra/{model}/{TABLE4_WINDOW}.ecsv",
                       f"{model}/band": f"results/bands/{model}/region_{TABLE4_WINDOW}.ecsv",
                       f"{model}/fit": f"results/spectra/{model}/extra_fit.yaml",
                       f"{model}/emissivity": f"results/emission/{model}/emissivity.h5"})
        if FIT:
            inputs[f"{model}/response"] = f"results/bands/{model}/response_hadronic.h5"
    return inputs


rule band_table4:
    input:
        unpack(band_table4_inputs),
    output:
        "results/bands/table4.json",
    params:
        models=REPORT_MODELS,
        n_sigma=config.get("tables", {}).get("table4", {}).get("n_sigma", 1.0),
        bands=BANDS,
    log:
        "logs/bands/table4.log",
    benchmark:
        "logs/benchmarks/band_table4.tsv",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/band_table4.py"
