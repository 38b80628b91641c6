# Systematic variants (issue 13; config `systematics`, library galdiff.uncertainty.systematics, docs/systematics.md):
#   systematics_emissivity: the model's baseline emissivities with the components a variant changes recomputed
#   from the model's own propagated cosmic rays (no new Green's matrix; the propagation keeps its defaults)
#   -> results/systematics/<variant>/emission/<model>/emissivity.h5
#   systematics_sky_maps, systematics_region_spectra: the ordinary scripts on the variant's emissivities (an X_CO
#   variant has its own line-of-sight operators), the EXTRA norms refitted -> results/systematics/<variant>/...
#   systematics_envelope: per model and region, min/max over baseline and variants -> results/systematics/<model>/
#   envelope_<region>.ecsv (the lighter band of Figures 4, 5, 7, 8)
#   systematics_numbers: headline shares and Table IV ratios per variant -> results/systematics/numbers.json
from galdiff.uncertainty.systematics import check_variants, variant_galaxy_for_targets

SYSTEMATICS = config["systematics"]  # defaults filled by the schema
SYST_VARIANTS = check_variants(SYSTEMATICS, config)
SYST_MODELS = REPORT_MODELS if SYST_VARIANTS else []


def _variant_propagation_cfg(variant):
    """``propagation`` as the line-of-sight operators of a variant see it (X_CO of the targets replaced)."""
    return {**PROP, "galaxy": variant_galaxy_for_targets(PROP.get("galaxy") or {}, SYST_VARIANTS[variant])}


# every variant's line-of-sight set-up joins the cache (an X_CO variant gets its own key; the others share)
SYST_LOS_KEYS = {}
for _variant in SYST_VARIANTS:
    for _model in SYST_MODELS:
        _setup = los_setup(config["maps"], config["models"][_model]["propagation"], _variant_propagation_cfg(_variant))
        SYST_LOS_KEYS[(_variant, _model)] = los_key(_setup)
        LOS_SETUPS[SYST_LOS_KEYS[(_variant, _model)]] = _setup


def syst_los_files(wildcards):
    key = SYST_LOS_KEYS[(wildcards.variant, wildcards.model)]
    return {"los_gas": f"results/los/{key}/gas.npz", "los_path": f"results/los/{key}/path.npz"}


def syst_spectra_inputs(wildcards):
    """As spectra_inputs (rules/common.smk), on the variant's maps and emissivities."""
    inputs = spectra_inputs(wildcards)
    inputs["maps"] = expand(
        "results/systematics/{variant}/maps/{model}/{component}.fits",
        variant=wildcards.variant,
        model=wildcards.model,
        component=SPECTRUM_COMPONENTS,
    )
    inputs["emissivity"] = f"results/systematics/{wildcards.variant}/emission/{wildcards.model}/emissivity.h5"
    return inputs


def region_systematics(model, region):
    """``{"syst": ..., "printed_syst": ...}``: the envelope tables of a model (and its as-printed twin) in a region,
    for the figures' inputs (rules/figures.smk); nothing without variants."""
    if not SYST_VARIANTS:
        return {}
    out = {"syst": f"results/systematics/{model}/envelope_{region}.ecsv"}
    twin = as_printed_twin(model)
    if twin:
        out["printed_syst"] = f"results/systematics/{twin}/envelope_{region}.ecsv"
    return out


def syst_envelope_inputs(wildcards):
    model = wildcards.model
    inputs = {"baseline": expand("results/spectra/{model}/{region}.ecsv", model=model, region=REGIONS)}
    for variant in SYST_VARIANTS:
        inputs[variant] = expand(
            "results/systematics/{variant}/spectra/{model}/{region}.ecsv", variant=variant, model=model, region=REGIONS
        )
        inputs[f"{variant}/fit"] = f"results/systematics/{variant}/spectra/{model}/extra_fit.yaml"
    return inputs


def syst_numbers_inputs(wildcards):
    """Headline region and Table IV window spectra of every model, baseline and variants; IceCube's references."""
    inputs = {name: path for name, path in neutrino_bands(TABLE4_WINDOW).items()}
    inputs["template_fits"] = "results/data/icecube_gp2023_template_fits.ecsv"
    for model in SYST_MODELS:
        for region in sorted({HEADLINE["region"], TABLE4_WINDOW}):
            inputs[f"{model}/baseline/{region}"] = f"results/spectra/{model}/{region}.ecsv"
            for variant in SYST_VARIANTS:
                inputs[f"{model}/{variant}/{region}"] = f"results/systematics/{variant}/spectra/{model}/{region}.ecsv"
    return inputs


SYST_OUTPUTS = (
    expand("results/systematics/{model}/envelope_{region}.ecsv", model=SYST_MODELS, region=REGIONS)
    + ["results/systematics/numbers.json"]
    if SYST_VARIANTS
    else []
)


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
