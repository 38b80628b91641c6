# Helpers shared by all rules: config validation, registry look-ups, library import path.
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(workflow.basedir)
# Scripts (also in conda environments) import the library from the source tree.
# (set, not read: an unset PYTHONPATH is fine)
os.environ.update(
    PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
)
sys.path.insert(0, str(PROJECT_ROOT / "src"))

from galdiff.config import validate_config
from galdiff.data.registry import load_registry
from galdiff.data.datasets import DATASETS
from galdiff.fitting import fit_data_selection
from galdiff.los_setups import los_key, los_setup
from galdiff.propagation.setups import GREENS_SPECIES, RADIATION_SPECIES, setup_key, transport_setup
from galdiff.conventions import MAP_COMPONENTS as galdiff_map_components
from galdiff.conventions import EXTRA_COMPONENTS
from galdiff.comparison.icecube import NEUTRINO_BANDS
from galdiff.config import load_schema
from galdiff.scans import base_values, scan_models, scan_points

CONFIG_SCHEMA = PROJECT_ROOT / "workflow" / "schemas" / "config.schema.yaml"
validate_config(config, CONFIG_SCHEMA)

# Parameter scans (config `scans`, rules/scans.smk): every point is a model entry <scan>_<index>, merged
# into config["models"] so that every rule (and the Green's-matrix sharing) treats it like any model.
SCAN_POINTS = scan_points(config)
config["models"].update(scan_models(config, load_schema(CONFIG_SCHEMA)))

REGISTRY = load_registry(PROJECT_ROOT / config["data"]["registry"])
CONDA_ENV = str(PROJECT_ROOT / "envs" / "galdiff.yaml")
PROP = config["propagation"]
MODELS = list(config["models"])
# the models the paper's figures and tables show: every model but the scan points
REPORT_MODELS = [model for model in MODELS if model not in {p.model for points in SCAN_POINTS.values() for p in points}]
# With Green's functions the injections are fitted and the best fit is propagated; without them
# (propagation.greens: false) nothing is fitted and each species is scaled to a reference data set.
FIT = bool(PROP["greens"])
#: {as-printed model: the refit model it is drawn beside} (``models.<m>.refit_model``, injection.mode as_printed)
PRINTED_OF = {m: config["models"][m]["refit_model"] for m in MODELS if config["models"][m].get("refit_model")}


def as_printed_twin(model):
    """The as-printed model drawn beside refit ``model`` (None if it has none)."""
    return next((printed for printed, refit in PRINTED_OF.items() if refit == model), None)


def printed_spectra(model, region):
    """``{"printed": region spectra of the as-printed twin of model}``, or ``{}`` (figure inputs)."""
    twin = as_printed_twin(model)
    return {"printed": f"results/spectra/{twin}/{region}.ecsv"} if twin else {}


ISRF_FILE = "MilkyWay_DR0.5_DZ0.1_DPHI10_RMAX20_ZMAX5_galprop_format.fits.gz"


def project_file(path):
    """A file of the project (``path`` relative to its root) as the jobs see it: relative to the working
    directory, so that inputs stay the same when the project is moved (``data/...`` when the project
    root is the working directory, the default)."""
    return os.path.relpath(PROJECT_ROOT / path)


def raw_file(name):
    """Where the workflow keeps raw file `name`: downloaded files under data/raw/, transcribed ones in the repo.

    Nothing here depends on where a file was found (``data.mirrors``): a raw file is identified by its
    registry sha256, which every reader checks.
    """
    entry = REGISTRY[name]
    if entry.kind == "transcribed":
        return project_file(entry.path)
    return f"data/raw/{entry.folder}/{name}"


def dataset_raw_files(wildcards):
    spec = DATASETS[wildcards.dataset]
    names = [Path(relative).name for relative in spec.raw_files]
    return {name: raw_file(name) for name in names}


def normalisation_table(species):
    """Tidy table that fixes the overall scale of a propagated species."""
    return f"results/data/{PROP['normalisation'][species]['dataset']}.ecsv"


def fit_selection(model):
    """``{fit: {dataset: options}}`` of the injection fits of ``model``: ``fitting.data`` and its knee data set."""
    return fit_data_selection(config["fitting"]["data"], config["models"][model]["knee_dataset"])


def fit_datasets(model, fit=None):
    """Tidy tables the injection fits of ``model`` use (knee data set per model); one fit's, or all."""
    selection = fit_selection(model)
    fits = [fit] if fit is not None else list(selection)
    return sorted({dataset for name in fits for dataset in selection[name]})


def _greens_setups():
    """``{(key, species): set-up}`` and ``{(model, species): key}`` of every model's Green's matrices."""
    setups, keys = {}, {}
    for model in MODELS:
        for species in GREENS_SPECIES:
            isrf_sha256 = REGISTRY[ISRF_FILE].sha256 if species in RADIATION_SPECIES else None
            setup = transport_setup(config["models"][model], PROP, species, isrf_sha256=isrf_sha256)
            key = setup_key(setup)
            setups[(key, species)] = setup
            keys[(model, species)] = key
    return setups, keys


# Green's matrices are cached by the hash of exactly what they depend on (galdiff.propagation.setups):
# models with the same transport share results/greens/<key>/greens_<species>.h5.
GREENS_SETUPS, GREENS_KEYS = _greens_setups()


def greens_file(model, species):
    """Green's matrix file that the fits of ``model`` use for ``species`` (proton, helium, electron)."""
    return f"results/greens/{GREENS_KEYS[(model, species)]}/greens_{species}.h5"


def greens_setup(wildcards):
    """Transport set-up of a requested Green's file (rule greens)."""
    try:
        return GREENS_SETUPS[(wildcards.key, wildcards.species)]
    except KeyError:
        known = sorted(f"{key}/greens_{species}.h5" for key, species in GREENS_SETUPS)
        raise ValueError(
            f"no model of the configuration has the {wildcards.species} set-up {wildcards.key}; " f"known: {known}"
        ) from None


def _los_setups():
    """``{key: set-up}`` and ``{model: key}`` of every model's line-of-sight operators."""
    setups, keys = {}, {}
    for model in MODELS:
        setup = los_setup(config["maps"], config["models"][model]["propagation"], PROP)
        keys[model] = los_key(setup)
        setups[keys[model]] = setup
    return setups, keys


# Line-of-sight operators are cached by the hash of what they depend on (galdiff.los_setups):
# models with the same geometry and gas share results/los/<key>/{gas,path}{,_total}.npz.
LOS_SETUPS, LOS_KEYS = _los_setups()


def los_files(wildcards):
    """The gas-weighted and path-length operator files of a model (rules sky_maps, band_response)."""
    key = LOS_KEYS[wildcards.model]
    return {"los_gas": f"results/los/{key}/gas.npz", "los_path": f"results/los/{key}/path.npz"}


def los_total_files(wildcards):
    """The shell sums of a model's operators (rule sky_maps; rule los_operators writes them)."""
    key = LOS_KEYS[wildcards.model]
    return {"los_gas_total": f"results/los/{key}/gas_total.npz", "los_path_total": f"results/los/{key}/path_total.npz"}


def los_setup_of(wildcards):
    """Line-of-sight set-up of a requested operator folder (rule los_operators)."""
    try:
        return LOS_SETUPS[wildcards.key]
    except KeyError:
        raise ValueError(
            f"no model of the configuration has the line-of-sight set-up {wildcards.key}; "
            f"known: {sorted(LOS_SETUPS)}"
        ) from None


# Input functions of the propagation and fit rules
def greens_inputs(wildcards):
    """The ISRF file for lepton Green's matrices (inverse-Compton losses), nothing for nuclei."""
    return {"isrf": raw_file(ISRF_FILE)} if wildcards.species in RADIATION_SPECIES else {}


def nucleus_inputs(wildcards):
    """The fitted injection of the species, or (no fit) the data set that fixes its scale."""
    if FIT:
        return {"injection": f"results/fit/{wildcards.model}/injection_{wildcards.species}.yaml"}
    return {"reference": normalisation_table(wildcards.species)}


def lepton_inputs(wildcards):
    """Secondaries, ISRF and the lepton fit's injection (or, without a fit, the reference data sets)."""
    inputs = {
        name: f"results/propagation/{wildcards.model}/{name}.h5"
        for name in ("electron_secondary", "positron_secondary")
    }
    inputs["isrf"] = raw_file(ISRF_FILE)
    if FIT:
        inputs["injection"] = f"results/fit/{wildcards.model}/injection_leptons.yaml"
    else:
        inputs.update({f"{lepton}_reference": normalisation_table(lepton) for lepton in ("electron", "positron")})
    return inputs


def fit_inputs(wildcards):
    """Green's matrix, data tables and (leptons) the secondaries of one fit of one model."""
    model, name = wildcards.model, wildcards.fit
    inputs = {
        "greens": greens_file(model, "electron" if name == "leptons" else name),
        "tables": expand("results/data/{dataset}.ecsv", dataset=fit_datasets(model, name)),
    }
    if name == "leptons":
        inputs.update(
            {
                lepton: f"results/propagation/{model}/{lepton}.h5"
                for lepton in ("electron_secondary", "positron_secondary")
            }
        )
    return inputs


# Input functions of the spectra stage (rules/spectra.smk) and its figures
SPECTRUM_COMPONENTS = list(
    galdiff_map_components
)  # every map component is averaged over the regions (galdiff.conventions)


def extra_fit_data():
    """``{region: [tidy tables]}`` the EXTRA norms are fitted to: spectra.extra_fit.data, plus the
    Fermi-LAT table of spectra.extra_fit.fermi_lat where its ``include`` is true."""
    extra_fit = config["spectra"]["extra_fit"]
    data = {region: list(names) for region, names in (extra_fit.get("data") or {}).items()}
    fermi = extra_fit["fermi_lat"]
    if fermi["include"]:
        names = data.setdefault(fermi["region"], [])
        if fermi["dataset"] not in names:
            names.append(fermi["dataset"])
    return data


def extra_fit_dataset_ranges():
    """``{dataset: [min, max] GeV}`` replacing spectra.extra_fit.energy_range_GeV (the included Fermi-LAT table)."""
    fermi = config["spectra"]["extra_fit"]["fermi_lat"]
    if not fermi["include"]:
        return {}
    return {fermi["dataset"]: list(fermi["energy_range_GeV"])}


def extra_fit_tables(wildcards):
    """Tidy tables the EXTRA norms are fitted to (all models use the same)."""
    data = extra_fit_data()
    return expand("results/data/{dataset}.ecsv", dataset=sorted({d for names in data.values() for d in names}))


def spectra_inputs(wildcards):
    """Map cubes, emissivities (extras' norms and flavour shares), fit data and, if used, the mask."""
    inputs = {
        "maps": expand("results/maps/{model}/{component}.fits", model=wildcards.model, component=SPECTRUM_COMPONENTS),
        "emissivity": f"results/emission/{wildcards.model}/emissivity.h5",
        "data": extra_fit_tables(wildcards),
    }
    if any(region["lhaaso_mask"] for region in config["regions"].values()):
        inputs["mask"] = "results/masks/lhaaso.fits"
    return inputs


def neutrino_bands(region):
    """IceCube's reference tables for neutrino spectra in ``region`` (galdiff.comparison.icecube.NEUTRINO_BANDS):
    total, pi0, KRA-gamma 5 and 50."""
    paths = {
        "icecube_total": "results/data/icecube_cascades_6yr.ecsv",
        "icecube_pi0": f"results/data/icecube_gp2023_pi0_band_{region}.ecsv",
        "kra_gamma_5": f"results/data/icecube_gp2023_kra_gamma_5_band_{region}.ecsv",
        "kra_gamma_50": f"results/data/icecube_gp2023_kra_gamma_50_band_{region}.ecsv",
    }
    return {name: paths[name] for name in NEUTRINO_BANDS}


def table4_inputs(wildcards):
    """Window spectra, EXTRA fits and local spectra of every model, IceCube's fits and bands in the window."""
    window = config["tables"]["table4"]["window"]
    inputs = {
        "spectra": expand("results/spectra/{model}/{window}.ecsv", model=REPORT_MODELS, window=window),
        "fits": expand("results/spectra/{model}/extra_fit.yaml", model=REPORT_MODELS),
        "local": expand("results/propagation/{model}/local_spectra.ecsv", model=REPORT_MODELS),
        "template_fits": "results/data/icecube_gp2023_template_fits.ecsv",
        # the flux ratios' errors over the band draws (rules/bands.smk), printed beside the ratios
        "band_ratios": "results/bands/table4.json",
    }
    inputs.update({name: path for name, path in neutrino_bands(window).items() if name != "icecube_total"})
    return inputs


# Input function of the CAR cubes (rules/products.smk)
def car_cube_source(wildcards):
    """The HEALPix cube a CAR cube resamples: the fitted one if the spectra stage wrote it (spectra.fitted_maps)."""
    fitted = config["spectra"]["fitted_maps"]
    folder = "maps_fitted" if wildcards.component in fitted else "maps"
    return f"results/{folder}/{wildcards.model}/{wildcards.component}.fits"


# Input functions of the scan rules (rules/scans.smk)
def scan_inputs(wildcards):
    """Each point's merged injection fits; with `through: spectra` also its EXTRA fit, points and the
    spectra of the headline region, and IceCube's total flux (the headline numbers)."""
    models = [point.model for point in SCAN_POINTS[wildcards.scan]]
    inputs = {"fits": expand("results/fit/{model}/injection.yaml", model=models)}
    if config["scans"][wildcards.scan]["through"] == "spectra":
        inputs["extra_fits"] = expand("results/spectra/{model}/extra_fit.yaml", model=models)
        inputs["extra_points"] = expand("results/spectra/{model}/extra_fit_points.ecsv", model=models)
        inputs["spectra"] = expand("results/spectra/{model}/{region}.ecsv", model=models, region=HEADLINE["region"])
        inputs["icecube_total"] = "results/data/icecube_cascades_6yr.ecsv"
    return inputs


def scan_params(wildcards):
    """The scan's points, section and reference point (the base model's values), and Green's keys."""
    spec = config["scans"][wildcards.scan]
    points = SCAN_POINTS[wildcards.scan]
    parameters = list(dict.fromkeys(name for point in points for name in point.parameters))
    return {
        "spec": spec,
        "points": [{"index": p.index, "model": p.model, "parameters": p.parameters} for p in points],
        "paper_point": base_values(config["models"][spec["base"]], parameters),
        "greens_keys": [GREENS_KEYS[(p.model, "proton")] for p in points],
        "energies_GeV": HEADLINE["energies_GeV"],
    }


# Uncertainty bands (rules/bands.smk)
BANDS = config["bands"]  # defaults filled by the schema


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
        inputs.update(
            {
                lepton: f"results/propagation/{model}/{lepton}.h5"
                for lepton in ("electron_secondary", "positron_secondary")
            }
        )
    return inputs


def band_response_inputs(wildcards):
    """The p, He and lepton fits and Green's matrices, the emissivity file, the lepton grid, the cached
    line-of-sight operators, the mask and the best-fit region spectra: everything the model's own chain needs."""
    model = wildcards.model
    inputs = {f"fit_{s}": f"results/fit/{model}/injection_{s}.yaml" for s in ("proton", "helium", "leptons")}
    inputs.update({f"greens_{s}": greens_file(model, s) for s in ("proton", "helium", "electron")})
    # the leptons: the ISRF (electron losses, IC) and the unscaled secondary e+ (c_e+ scales it)
    inputs["isrf"] = raw_file(ISRF_FILE)
    inputs.update(
        {lepton: f"results/propagation/{model}/{lepton}.h5" for lepton in ("electron_secondary", "positron_secondary")}
    )
    # the best-fit densities: a fit with only normalisations free takes its band's densities from them, no solve
    inputs.update(
        {
            f"density_{name}": f"results/propagation/{model}/{name}.h5"
            for name in ("proton", "helium", "electron_primary", "positron_primary")
        }
    )
    inputs.update(los_files(wildcards))
    inputs["emissivity"] = f"results/emission/{model}/emissivity.h5"
    inputs["electron"] = f"results/propagation/{model}/electron.h5"
    # the workflow's best-fit region spectra: the bands' base and the absorption of pi0
    inputs["spectra"] = expand("results/spectra/{model}/{region}.ecsv", model=model, region=REGIONS)
    if any(region.get("lhaaso_mask", False) for region in config["regions"].values()):
        inputs["mask"] = "results/masks/lhaaso.fits"
    return inputs


def band_regions_inputs(wildcards):
    """The extras' map cubes (their unscaled region averages), the fitted spectra, the EXTRA fit, the mask."""
    model = wildcards.model
    inputs = {
        "maps": expand("results/maps/{model}/{component}.fits", model=model, component=EXTRA_BAND_MAPS),
        "spectra": expand("results/spectra/{model}/{region}.ecsv", model=model, region=REGIONS),
        "emissivity": f"results/emission/{model}/emissivity.h5",
        "fit": f"results/spectra/{model}/extra_fit.yaml",
        "points": f"results/spectra/{model}/extra_fit_points.ecsv",
    }
    if FIT:  # the cosmic-ray part needs the injection fits (propagation.greens: true)
        inputs["response"] = f"results/bands/{model}/response_hadronic.h5"
    if any(region.get("lhaaso_mask", False) for region in config["regions"].values()):
        inputs["mask"] = "results/masks/lhaaso.fits"
    return inputs


# the extras' map cubes (galdiff.conventions registry): their region averages are linear in the fitted norms
EXTRA_BAND_MAPS = list(EXTRA_COMPONENTS)


def band_headline_inputs(wildcards):
    """The headline model's (and its as-printed twin's) region spectra, band table, EXTRA fit, emissivity."""
    inputs = {"icecube_total": "results/data/icecube_cascades_6yr.ecsv"}
    twin = as_printed_twin(HEADLINE["model"])
    for prefix, model in (("", HEADLINE["model"]), ("printed_", twin)):
        if model is None:
            continue
        inputs.update(
            {
                f"{prefix}spectra": f"results/spectra/{model}/{HEADLINE['region']}.ecsv",
                f"{prefix}band": f"results/bands/{model}/region_{HEADLINE['region']}.ecsv",
                f"{prefix}fit": f"results/spectra/{model}/extra_fit.yaml",
                f"{prefix}emissivity": f"results/emission/{model}/emissivity.h5",
            }
        )
        if FIT:
            inputs[f"{prefix}response"] = f"results/bands/{model}/response_hadronic.h5"
            inputs[f"{prefix}refit"] = f"results/bands/{model}/extra_refit.ecsv"
    return inputs


def band_table4_inputs(wildcards):
    """Per model the window's spectra, band table, EXTRA fit, emissivity and response; IceCube's fits."""
    inputs = {name: path for name, path in neutrino_bands(TABLE4_WINDOW).items() if name != "icecube_total"}
    inputs["template_fits"] = "results/data/icecube_gp2023_template_fits.ecsv"
    for model in REPORT_MODELS:
        inputs.update(
            {
                f"{model}/spectra": f"results/spectra/{model}/{TABLE4_WINDOW}.ecsv",
                f"{model}/band": f"results/bands/{model}/region_{TABLE4_WINDOW}.ecsv",
                f"{model}/fit": f"results/spectra/{model}/extra_fit.yaml",
                f"{model}/emissivity": f"results/emission/{model}/emissivity.h5",
            }
        )
        if FIT:
            inputs[f"{model}/response"] = f"results/bands/{model}/response_hadronic.h5"
            inputs[f"{model}/refit"] = f"results/bands/{model}/extra_refit.ecsv"
    return inputs
