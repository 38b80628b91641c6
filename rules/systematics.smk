# Systematic variants (issue 13; config `systematics`, library galdiff.uncertainty.systematics, docs/systematics.md):
#   systematics_emissivity: the model's baseline emissivities with the components a variant changes recomputed
#   from the model's own propagated cosmic rays (no new Green's matrix; the propagation keeps its defaults)
#   -> results/systematics/<variant>/emission/<model>/emissivity.h5
#   region_los_weights: per line-of-sight set-up the region-averaged line-of-sight weights V_r (gas and path; with
#   pair absorption per energy) -> results/los/<key>/region_weights.h5 (shared by every model and variant of the key)
#   region_los_weights_xco: per line-of-sight set-up, the weights of every X_CO variant from the set-up's own
#   operators and its molecular-gas operator (built in the job, not cached): the gas weights are linear in X_CO
#   -> results/los/<key>/x_co/<variant>/region_weights.h5 (no operators per X_CO value)
#   systematics_region_spectra: the variant's region spectra as V_r . q of its emissivities, the EXTRA norms
#   refitted -> results/systematics/<variant>/spectra/<model>/
#   (no sky map per variant)
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


rule region_los_weights:
    input:
        unpack(region_los_weight_inputs),
    output:
        "results/los/{key}/region_weights.h5",
    log:
        "logs/los/region_weights_{key}.log",
    benchmark:
        "logs/benchmarks/region_los_weights/{key}.tsv"
    wildcard_constraints:
        key="[0-9a-f]{16}",
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        regions=config["regions"],
        nside=MAPS["nside"],
        fine_nside=MASK_CFG["fine_nside"],
    script:
        "../workflow/scripts/region_los_weights.py"


if SYST_X_CO:

    rule region_los_weights_xco:
        input:
            unpack(region_los_weight_xco_inputs),
        output:
            expand("results/los/{{key}}/x_co/{variant}/region_weights.h5", variant=list(SYST_X_CO)),
        log:
            "logs/los/region_weights_xco_{key}.log",
        benchmark:
            "logs/benchmarks/region_los_weights_xco/{key}.tsv"
        wildcard_constraints:
            key="[0-9a-f]{16}",
        conda:
            CONDA_ENV
        resources:
            mem_mb=4000,
            runtime=15,
        params:
            setup=los_setup_of,
            x_co_values=SYST_X_CO,
            nside=MAPS["nside"],
        script:
            "../workflow/scripts/region_los_weights_xco.py"


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
        mem_mb=2000,
        runtime=15,
    params:
        regions=config["regions"],
        fit_data=extra_fit_data(),
        energy_range_GeV=EXTRA_FIT.get("energy_range_GeV"),
        dataset_energy_ranges_GeV=extra_fit_dataset_ranges(),
        extra_cfg=lambda wc: config["models"][wc.model]["extra"],
        absorption=MAPS["absorption"],
    script:
        "../workflow/scripts/systematics_region_spectra.py"


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
