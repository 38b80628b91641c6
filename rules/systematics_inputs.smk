# Input functions and settings of the systematic variants' rules (rules/systematics.smk), kept apart from
# the rules as snakemake --lint asks; included before rules/figures.smk (region_systematics).
from galdiff.los_setups import setup_differences
from galdiff.uncertainty.systematics import check_variants, variant_galaxy_for_targets

SYSTEMATICS = config["systematics"]  # defaults filled by the schema
SYST_VARIANTS = check_variants(SYSTEMATICS, config)
SYST_MODELS = REPORT_MODELS if SYST_VARIANTS else []


def _variant_propagation_cfg(variant):
    """``propagation`` as the line-of-sight operators of a variant see it (X_CO of the targets replaced)."""
    return {**PROP, "galaxy": variant_galaxy_for_targets(PROP.get("galaxy") or {}, SYST_VARIANTS[variant])}


# the region weights of each (variant, model): a variant with the baseline's line-of-sight set-up shares its weights;
# one that changes X_CO alone gets them from the baseline's operators and the molecular-gas operator (rule
# region_los_weights_xco, no operators of its own); any other change of the set-up gets its own set-up (cached)
SYST_LOS_KEYS = {}
SYST_WEIGHTS = {}
SYST_X_CO = {}  # {variant: X_CO} of the variants that change X_CO alone
for _variant in SYST_VARIANTS:
    for _model in SYST_MODELS:
        _setup = los_setup(config["maps"], config["models"][_model]["propagation"], _variant_propagation_cfg(_variant))
        _base_key = LOS_KEYS[_model]
        _changed = setup_differences(_setup, LOS_SETUPS[_base_key])
        if not _changed:
            SYST_WEIGHTS[(_variant, _model)] = f"results/los/{_base_key}/region_weights.h5"
        elif _changed == ["galaxy.x_co"]:
            SYST_X_CO[_variant] = _setup["galaxy"]["x_co"]
            SYST_WEIGHTS[(_variant, _model)] = f"results/los/{_base_key}/x_co/{_variant}/region_weights.h5"
        else:
            SYST_LOS_KEYS[(_variant, _model)] = los_key(_setup)
            LOS_SETUPS[SYST_LOS_KEYS[(_variant, _model)]] = _setup
            SYST_WEIGHTS[(_variant, _model)] = f"results/los/{SYST_LOS_KEYS[(_variant, _model)]}/region_weights.h5"


# the emissivity file whose pair-absorption coefficients the region weights of a set-up use: those depend on the
# (r, z) grid, the gamma-ray energies and the ISRF only, so any model of the set-up's grid serves (checked where used)
SYST_KAPPA_MODEL = {}
for _variant in SYST_VARIANTS:
    for _model in SYST_MODELS:
        SYST_KAPPA_MODEL.setdefault(LOS_KEYS[_model], _model)
        if (_variant, _model) in SYST_LOS_KEYS:
            SYST_KAPPA_MODEL.setdefault(SYST_LOS_KEYS[(_variant, _model)], _model)


def region_los_weight_xco_inputs(wildcards):
    """The operator files and the region weights of a line-of-sight set-up (rule region_los_weights_xco)."""
    key = wildcards.key
    return {
        "los_gas": f"results/los/{key}/gas.npz",
        "los_path": f"results/los/{key}/path.npz",
        "baseline_weights": f"results/los/{key}/region_weights.h5",
    }


def region_los_weight_inputs(wildcards):
    """The operator files of a line-of-sight set-up, an emissivity file of its grid (pair absorption) and, if a
    region uses it, the mask (rule region_los_weights)."""
    inputs = {"los_gas": f"results/los/{wildcards.key}/gas.npz", "los_path": f"results/los/{wildcards.key}/path.npz"}
    if MAPS["absorption"]:
        inputs["emissivity"] = f"results/emission/{SYST_KAPPA_MODEL[wildcards.key]}/emissivity.h5"
    if any(region["lhaaso_mask"] for region in config["regions"].values()):
        inputs["mask"] = "results/masks/lhaaso.fits"
    return inputs


def syst_spectra_inputs(wildcards):
    """The variant's emissivities, the region weights of its line-of-sight set-up and the EXTRA fit data."""
    model = wildcards.model
    return {
        "emissivity": f"results/systematics/{wildcards.variant}/emission/{model}/emissivity.h5",
        "weights": SYST_WEIGHTS[(wildcards.variant, model)],
        # the baseline's region spectra (from its maps) and emissivities: a variant adds only its change to them
        "baseline_emissivity": f"results/emission/{model}/emissivity.h5",
        "baseline_weights": f"results/los/{LOS_KEYS[model]}/region_weights.h5",
        "baseline_spectra": expand("results/spectra/{model}/{region}.ecsv", model=model, region=REGIONS),
        "data": extra_fit_tables(wildcards),
    }


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
