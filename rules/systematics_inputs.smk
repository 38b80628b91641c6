# Input functions and settings of the systematic variants' rules (rules/systematics.smk), kept apart from
# the rules as snakemake --lint asks; included before rules/figures.smk (region_systematics).
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
