# Uncertainty bands from the fits' covariances (issue 13; config `bands`, library galdiff.uncertainty):
#   band_local: per model and fit, draws of the fit's parameters propagated through its Green's
#   matrix (J = G Q) and modulated -> results/bands/<model>/local_<fit>.ecsv (Figures 1, 2).
#   band_response: per model and fit (p, He, leptons), the region spectra of a small basis of the band
#   draws' injection offsets through the model's own chain (batched solves, region-averaged line-of-sight
#   weights, no maps; a fit with only normalisations free, as the as-printed models, takes its densities
#   from the best-fit propagation instead of a solve) and each draw's coefficients, with its check against
#   the full chain
#   -> results/bands/<model>/response_hadronic.h5, response_check.json.
#   band_regions: per model, the region spectra's band from the cosmic-ray draws (through the response,
#   with fits only) and the EXTRA norms' covariance, the EXTRA fit redone on each cosmic-ray draw
#   -> results/bands/<model>/region_<region>.ecsv (Figures 4, 5, 7, 8), extra_refit.ecsv (the draws' scale shifts).
#   band_headline: the headline shares with errors -> results/bands/headline.json (summary.json).
# (their input functions and BANDS: rules/common.smk)


rule band_local:
    input:
        unpack(band_local_inputs),
    output:
        "results/bands/{model}/local_{fit}.ecsv",
    log:
        "logs/bands/{model}/local_{fit}.log",
    benchmark:
        "logs/benchmarks/band_local/{model}_{fit}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
        fit="proton|helium|leptons",
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        bands=BANDS,
    script:
        "../workflow/scripts/band_local.py"


rule band_response:
    input:
        unpack(band_response_inputs),
    output:
        response="results/bands/{model}/response_hadronic.h5",
        check="results/bands/{model}/response_check.json",
    log:
        "logs/bands/{model}/response.log",
    benchmark:
        "logs/benchmarks/band_response/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        # default grid, refit model: a factorised solver ~1.5 GB plus ~0.9 GB of batched GMRES (2.9 GiB PSS),
        # the full-chain check 3.6 GiB (its line-of-sight operator and map cubes); as-printed: no solver, 2.6 GiB
        mem_mb=4500,
        runtime=30,
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        propagation_cfg=PROP,
        emission_cfg=config["emission"],
        maps_cfg=config["maps"],
        regions=config["regions"],
        fine_nside=MASK_CFG.get("fine_nside", 1024),
        bands=BANDS,
    script:
        "../workflow/scripts/band_response.py"


rule band_regions:
    input:
        unpack(band_regions_inputs),
    output:
        regions=expand("results/bands/{{model}}/region_{region}.ecsv", region=REGIONS),
        refit="results/bands/{model}/extra_refit.ecsv",
    log:
        "logs/bands/{model}/regions.log",
    benchmark:
        "logs/benchmarks/band_regions/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        regions=config["regions"],
        fine_nside=MASK_CFG.get("fine_nside", 1024),
        bands=BANDS,
    script:
        "../workflow/scripts/band_regions.py"


rule band_headline:
    input:
        unpack(band_headline_inputs),
    output:
        "results/bands/headline.json",
    log:
        "logs/bands/headline.log",
    benchmark:
        "logs/benchmarks/band_headline.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        energies_GeV=HEADLINE.get("energies_GeV", [2.0e4, 1.0e6]),
        bands=BANDS,
    script:
        "../workflow/scripts/band_headline.py"


TABLE4_WINDOW = config.get("tables", {}).get("table4", {}).get("window", "all_sky")


rule band_table4:
    input:
        unpack(band_table4_inputs),
    output:
        "results/bands/table4.json",
    log:
        "logs/bands/table4.log",
    benchmark:
        "logs/benchmarks/band_table4.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        models=REPORT_MODELS,
        n_sigma=config.get("tables", {}).get("table4", {}).get("n_sigma", 1.0),
        bands=BANDS,
    script:
        "../workflow/scripts/band_table4.py"
