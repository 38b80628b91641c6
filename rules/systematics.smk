# Systematic variants (issue 13; config `systematics`, library galdiff.uncertainty.systematics, docs/systematics.md):
#   systematics_emissivity: the model's baseline emissivities with the components a variant changes recomputed
#   from the model's own propagated cosmic rays (no new Green's matrix; the propagation keeps its defaults)
#   -> results/systematics/<variant>/emission/<model>/emissivity.h5
#   systematics_sky_maps, systematics_region_spectra: the ordinary scripts on the variant's emissivities (an X_CO
#   variant has its own line-of-sight operators), the EXTRA norms refitted -> results/systematics/<variant>/...
#   systematics_envelope: per model and region, min/max over baseline and variants -> results/systematics/<model>/
#   envelope_<region>.ecsv (the lighter band of Figures 4, 5, 7, 8)
#   systematics_numbers: headline shares and Table IV ratios per variant -> results/systematics/numbers.json
# (their input functions and SYST_VARIANTS: rules/systematics_inputs.smk)


rule systematics_emissivity:
    input:
        baseline="results/emission/{model}/emissivity.h5",
        proton="results/propagation/{model}/proton.h5",
        helium="results/propagation/{model}/helium.h5",
        electron="results/propagation/{model}/electron.h5",
        positron="results/propagation/{model}/positron.h5",
        isrf=raw_file(ISRF_FILE),
    output:
        "results/systematics/{variant}/emission/{model}/emissivity.h5",
    log:
        "logs/systematics/{variant}/emission_{model}.log",
    benchmark:
        "logs/benchmarks/systematics_emissivity/{variant}_{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
        variant="|".join(SYST_VARIANTS) or "no_variant_configured",
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        emission_cfg=config["emission"],
        galaxy_cfg=PROP["galaxy"],
        extra_cfg=lambda wc: config["models"][wc.model]["extra"],
        variant=lambda wc: SYST_VARIANTS[wc.variant],
    script:
        "../workflow/scripts/systematics_emissivity.py"


rule systematics_sky_maps:
    input:
        unpack(syst_los_files),
        emissivity="results/systematics/{variant}/emission/{model}/emissivity.h5",
    output:
        **{name: f"results/systematics/{{variant}}/maps/{{model}}/{name}.fits" for name in MAP_COMPONENTS},
    log:
        "logs/systematics/{variant}/maps_{model}.log",
    benchmark:
        "logs/benchmarks/systematics_sky_maps/{variant}_{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
        variant="|".join(SYST_VARIANTS) or "no_variant_configured",
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        maps_cfg=MAPS,
        galaxy_cfg=lambda wc: variant_galaxy_for_targets(PROP["galaxy"], SYST_VARIANTS[wc.variant]),
        model_propagation=lambda wc: config["models"][wc.model]["propagation"],
    script:
        "../workflow/scripts/sky_maps.py"


rule systematics_region_spectra:
    input:
        unpack(syst_spectra_inputs),
    output:
        spectra=expand("results/systematics/{{variant}}/spectra/{{model}}/{region}.ecsv", region=REGIONS),
        fit="results/systematics/{variant}/spectra/{model}/extra_fit.yaml",
        points="results/systematics/{variant}/spectra/{model}/extra_fit_points.ecsv",
    log:
        "logs/systematics/{variant}/spectra_{model}.log",
    benchmark:
        "logs/benchmarks/systematics_region_spectra/{variant}_{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
        variant="|".join(SYST_VARIANTS) or "no_variant_configured",
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        regions=config["regions"],
        fit_data=extra_fit_data(),
        energy_range_GeV=EXTRA_FIT.get("energy_range_GeV"),
        dataset_energy_ranges_GeV=extra_fit_dataset_ranges(),
        extra_cfg=lambda wc: config["models"][wc.model]["extra"],
        fine_nside=MASK_CFG["fine_nside"],
    script:
        "../workflow/scripts/region_spectra.py"


rule systematics_envelope:
    input:
        unpack(syst_envelope_inputs),
    output:
        expand("results/systematics/{{model}}/envelope_{region}.ecsv", region=REGIONS),
    log:
        "logs/systematics/envelope_{model}.log",
    benchmark:
        "logs/benchmarks/systematics_envelope/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        variants=SYST_VARIANTS,
        regions=REGIONS,
    script:
        "../workflow/scripts/systematics_envelope.py"


rule systematics_numbers:
    input:
        unpack(syst_numbers_inputs),
    output:
        "results/systematics/numbers.json",
    log:
        "logs/systematics/numbers.log",
    benchmark:
        "logs/benchmarks/systematics_numbers.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        variants=SYST_VARIANTS,
        models=SYST_MODELS,
        headline_model=HEADLINE["model"],
        headline_region=HEADLINE["region"],
        energies_GeV=HEADLINE["energies_GeV"],
        window=TABLE4_WINDOW,
        n_sigma=TABLE4["n_sigma"],
    script:
        "../workflow/scripts/systematics_numbers.py"


rule systematics:
    input:
        SYST_OUTPUTS,
