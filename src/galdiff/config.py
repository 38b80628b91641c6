"""The configuration: schema validation with the schema's defaults filled in, and the checks a JSON
schema cannot express.

The schema (``workflow/schemas/config.schema.yaml``) checks types and ranges key by key and holds
every default (:func:`validate_config` writes them into the configuration, so no code repeats
one); the checks here relate keys to each other. Each failure names the key and what was
expected.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from pathlib import Path

import jsonschema
import yaml
from jsonschema import validators

#: The configuration's JSON schema in the project tree (``workflow/schemas/config.schema.yaml``).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
#: The project's default configuration, the base every run merges its ``--configfile`` onto.
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.yaml"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key."""


def load_schema(schema_path: str | Path) -> dict:
    with open(schema_path) as handle:
        return yaml.safe_load(handle)


def _default_filling_validator(schema: dict):
    """A validator of ``schema`` that writes each missing property's ``default`` into the instance.

    The same semantics as Snakemake's ``validate(config, schema, set_default=True)``: a default is
    set where its parent mapping exists (a mapping missing altogether is filled only if it has a
    default itself), before that mapping's properties are validated.
    """
    base = validators.validator_for(schema)
    validate_properties = base.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, subschema):
        if validator.is_type(instance, "object"):
            for name, sub in properties.items():
                if name not in instance and isinstance(sub, dict) and "default" in sub:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, subschema)

    return validators.extend(base, {"properties": properties_with_defaults})(schema)


def validate_config(config: dict, schema_path: str | Path = SCHEMA_PATH) -> None:
    """Validate ``config`` against the schema and the cross-key rules; raise ConfigError.

    Every missing key that has a ``default`` in the schema is written into ``config`` (in place,
    as Snakemake's ``validate(config, schema, set_default=True)``), so code reads ``config[key]``
    and never repeats a default; the cross-key rules read the filled configuration. The message names the offending key as a dotted path
    (``models.dr_high.propagation.delta``). A number that YAML read as a string (``1e9``: YAML
    1.1 needs a dot and a signed exponent, ``1.0e+9``) gets a message saying so.
    """
    schema = load_schema(schema_path)
    try:
        # defaults first (an error on the way is raised again by the full check below, which picks
        # the best-matching error as jsonschema.validate does)
        for _ in _default_filling_validator(schema).iter_errors(config):
            pass
        jsonschema.validate(config, schema)
    except jsonschema.ValidationError as err:
        key = ".".join(str(part) for part in err.absolute_path) or "<top level>"
        hint = _number_as_string_hint(err.instance)
        raise ConfigError(f"config key '{key}': {err.message}{hint}") from None
    check_cross_key_rules(config)


@functools.lru_cache(maxsize=None)
def _schema(schema_path: str) -> dict:
    return load_schema(schema_path)


def schema_defaults(section: str, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """The schema's defaults of one configuration section, e.g. ``"propagation.galaxy"`` or
    ``"models.*.extra.*"`` (``*``: any key of a mapping), filled as :func:`validate_config` fills them.

    For library functions called outside the workflow (tests, benchmarks) with part of a section:
    ``{**schema_defaults("maps"), **maps_cfg}`` reads the same defaults as the workflow, from the
    schema, the one place they are written.
    """
    schema = _schema(str(schema_path))
    node = schema
    for part in section.split("."):
        node = _resolve(schema, node)
        node = node["additionalProperties"] if part == "*" else node["properties"][part]
    node = _resolve(schema, node)
    out = {}
    for _ in _default_filling_validator({**node, "$defs": schema.get("$defs", {})}).iter_errors(out):
        pass  # missing required keys: only the defaults are wanted here
    return out


def _resolve(schema: dict, node: dict) -> dict:
    """``node`` with a local ``$ref`` (``#/$defs/<name>``) merged in."""
    if "$ref" not in node:
        return node
    target = schema
    for part in node["$ref"].lstrip("#/").split("/"):
        target = target[part]
    return {**target, **{key: value for key, value in node.items() if key != "$ref"}}


def merge_config(base: dict, overlay: dict) -> dict:
    """Merge ``overlay`` into ``base`` (in place) as Snakemake merges ``--configfile``: mappings key by
    key, any other value replaced."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def load_config(overlays: Iterable[str | Path | dict] = (), base: str | Path | dict = DEFAULT_CONFIG_PATH,
                schema_path: str | Path = SCHEMA_PATH) -> dict:
    """The validated configuration with the schema's defaults filled in, as the workflow sees it.

    ``base`` (``config.yaml`` by default) with every overlay (a file or a mapping, like
    ``--configfile``) merged on top, then :func:`validate_config`. Library code used outside the
    workflow (tests, benchmarks) takes its configuration from here, so it reads the same defaults
    as the workflow.
    """
    def read(item):
        if isinstance(item, dict):
            return copy.deepcopy(item)
        with open(item) as handle:
            return yaml.safe_load(handle) or {}

    config = read(base)
    for overlay in overlays:
        merge_config(config, read(overlay))
    validate_config(config, schema_path)
    return config


def _number_as_string_hint(value) -> str:
    """A hint for a YAML number that was read as a string (``1e9``, ``1.e5``)."""
    if not isinstance(value, str):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    return (f" ({value!r} was read as a string, not a number: YAML 1.1 needs a decimal point and a signed "
            f"exponent, e.g. {number:.1e})").replace("e+0", "e+").replace("e-0", "e-")


def check_cross_key_rules(config: dict) -> None:
    """Rules between keys, all checked before any job runs.

    Injection index counts match the breaks and the breaks increase; every ``fixed:`` name is a
    parameter of its species; every energy range (``*_range_GeV``, ``*_min_*``/``*_max_*`` pairs,
    ``{min, max}``) increases; every region is well defined (:func:`check_region`); every model,
    region, data set and map component that a key names exists.
    """
    models = config.get("models", {})
    for model_name, model in models.items():
        for species, inj in model.get("injection", {}).items():
            if species == "mode":
                continue
            key = f"models.{model_name}.injection.{species}"
            nu, breaks = inj["nu"], inj["breaks_GV"]
            if len(nu) != len(breaks) + 1:
                raise ConfigError(
                    f"config key '{key}.nu': expected {len(breaks) + 1} indices "
                    f"(one more than the {len(breaks)} breaks_GV), got {len(nu)}"
                )
            if any(b2 <= b1 for b1, b2 in zip(breaks, breaks[1:])):
                raise ConfigError(f"config key '{key}.breaks_GV': break rigidities must increase, got {breaks}")
            _check_fixed(key, species, inj)
        _check_refit_model(models, model_name)
    for name, region in config.get("regions", {}).items():
        check_region(f"regions.{name}", region)
    for key, low, high in _ranges(config):
        if not low < high:
            raise ConfigError(f"config key '{key}': the range must increase (lower < upper), got {low!r} to {high!r}")
    _check_references(config)


def check_region(key: str, region: dict) -> None:
    """A sky region of the configuration is well defined, else ConfigError naming ``key``.

    Longitudes run from ``l_min_deg`` eastwards to ``l_max_deg`` with ``l_min_deg < l_max_deg``
    and at most 360 degrees between them; a range through l = 0 is written with a negative lower
    edge, e.g. ``l_min_deg: -30, l_max_deg: 30`` (not 330 to 30, which would read as a typo'd
    inverted range).
    """
    l_min, l_max = region["l_min_deg"], region["l_max_deg"]
    if not l_min < l_max:
        raise ConfigError(
            f"config key '{key}': l_min_deg ({l_min}) must be below l_max_deg ({l_max}); a longitude range through "
            f"l = 0 is written with a negative l_min_deg (the range from {l_min} eastwards through l = 0 to {l_max} "
            f"is l_min_deg: {l_min - 360 if l_min > l_max else l_min - 360}, l_max_deg: {l_max})")
    if l_max - l_min > 360:
        raise ConfigError(f"config key '{key}': l_max_deg - l_min_deg = {l_max - l_min} exceeds 360 degrees")


def _check_fixed(key: str, species: str, injection: dict) -> None:
    """Every name in ``fixed:`` is a fit parameter of the species (galdiff.fitting.fixable_parameter_names)."""
    fixed = injection.get("fixed") or []
    if not fixed:
        return
    from .fitting import fixable_parameter_names

    allowed = fixable_parameter_names(species, injection)
    unknown = [name for name in fixed if name not in allowed]
    if unknown:
        raise ConfigError(f"config key '{key}.fixed': unknown parameter(s) {unknown}; "
                          f"the {species} parameters are {allowed}")


def _ranges(config: dict, prefix: str = ""):
    """(dotted key, lower, upper) of every energy range in the configuration.

    Ranges are two-number lists under keys ending in ``_range_GeV`` or ``_range_GeV_per_n``,
    ``<x>_min_<unit>``/``<x>_max_<unit>`` pairs in one mapping (longitudes excepted: regions
    have their own rule) and ``{min, max}`` mappings.
    """
    if isinstance(config, dict):
        for name, value in config.items():
            key = f"{prefix}{name}"
            if (name.endswith("_range_GeV") or name.endswith("_range_GeV_per_n")) and isinstance(value, list) \
                    and len(value) == 2:
                yield key, value[0], value[1]
            elif isinstance(value, dict):
                if "min" in value and "max" in value:
                    yield key, value["min"], value["max"]
                for low_name in value:
                    if "_min_" in low_name and not low_name.startswith("l_"):
                        high_name = low_name.replace("_min_", "_max_", 1)
                        if high_name in value:
                            yield f"{key}.{low_name}/{high_name}", value[low_name], value[high_name]
                yield from _ranges(value, f"{key}.")


def _check_refit_model(models: dict, model_name: str) -> None:
    """An as-printed model names the refit it is drawn beside; both must share transport and data."""
    model = models[model_name]
    mode = model["injection"]["mode"]
    refit = model.get("refit_model")
    key = f"models.{model_name}.refit_model"
    if refit is None:
        return
    if mode != "as_printed":
        raise ConfigError(f"config key '{key}': only a model with injection.mode 'as_printed' names a refit "
                          f"model (this one has mode {mode!r})")
    if refit not in models:
        raise ConfigError(f"config key '{key}': model {refit!r} is not defined under 'models' "
                          f"(defined: {sorted(models)})")
    other = models[refit]
    if other["injection"]["mode"] != "fit":
        raise ConfigError(f"config key '{key}': model {refit!r} must have injection.mode 'fit'")
    for part in ("propagation", "knee_dataset"):
        if model.get(part) != other.get(part):
            raise ConfigError(f"config key 'models.{model_name}.{part}': must equal that of its refit model "
                              f"{refit!r} (same transport and data, so the two differ only by the fit)")


def _references(config: dict):
    """(dotted key, value, kind) of every name a key refers to: models, regions, data sets, map components."""
    yield from ((f"data.datasets[{i}]", name, "datasets") for i, name in enumerate(config["data"]["datasets"]))
    for fit_name, datasets in ((config.get("fitting") or {}).get("data") or {}).items():
        for name in datasets or {}:
            yield f"fitting.data.{fit_name}.{name}", name, "datasets"
    for species, entry in (config.get("propagation", {}).get("normalisation") or {}).items():
        yield f"propagation.normalisation.{species}.dataset", entry["dataset"], "datasets"
    yield "maps.fig6.model", config["maps"]["fig6"]["model"], "models"
    yield "maps.fig6.component", config["maps"]["fig6"]["component"], "components"
    figures = config.get("figures", {})
    fig3 = figures.get("fig3")
    if fig3:
        yield "figures.fig3.icecube_pi0_region", fig3["icecube_pi0_region"], "regions"
        for i, name in enumerate(fig3["gamma_datasets"]):
            yield f"figures.fig3.gamma_datasets[{i}]", name, "datasets"
    for letter, panel in figures.get("fig4", {}).get("panels", {}).items():
        yield f"figures.fig4.panels.{letter}.model", panel["model"], "models"
        yield f"figures.fig4.panels.{letter}.region", panel["region"], "regions"
        for i, name in enumerate(panel["datasets"]):
            yield f"figures.fig4.panels.{letter}.datasets[{i}]", name, "datasets"
    for name in ("fig5", "fig8"):
        if name in figures:
            yield f"figures.{name}.model", figures[name]["model"], "models"
            yield f"figures.{name}.region", figures[name]["region"], "regions"
            for i, dataset in enumerate(figures[name].get("datasets", [])):
                yield f"figures.{name}.datasets[{i}]", dataset, "datasets"
    if "fig7" in figures:
        yield "figures.fig7.model", figures["fig7"]["model"], "models"
        for letter, region in figures["fig7"].get("panels", {}).items():
            yield f"figures.fig7.panels.{letter}", region, "regions"
    spectra = config["spectra"]
    for region, names in (spectra["extra_fit"].get("data") or {}).items():
        yield f"spectra.extra_fit.data.{region}", region, "regions"
        for i, name in enumerate(names or []):
            yield f"spectra.extra_fit.data.{region}[{i}]", name, "datasets"
    for i, name in enumerate(spectra["fitted_maps"]):
        yield f"spectra.fitted_maps[{i}]", name, "components"
    yield "spectra.extra_fit.fermi_lat.region", spectra["extra_fit"]["fermi_lat"]["region"], "regions"
    yield "spectra.gev_anchor.region", spectra["gev_anchor"]["region"], "regions"
    yield "spectra.headline.model", spectra["headline"]["model"], "models"
    yield "spectra.headline.region", spectra["headline"]["region"], "regions"
    yield "tables.table4.window", config["tables"]["table4"]["window"], "regions"


_KINDS = {  # kind -> (what one is called, where the allowed names come from)
    "models": ("model", "defined under 'models'"),
    "regions": ("region", "defined under 'regions'"),
    "datasets": ("data set", "known data sets (galdiff.data.datasets.DATASETS)"),
    "components": ("map component", "map components (galdiff.conventions.MAP_COMPONENTS)"),
}


def _defined(config: dict, kind: str):
    if kind == "datasets":
        from .data.datasets import DATASETS

        return DATASETS
    if kind == "components":
        from .conventions import MAP_COMPONENTS

        return MAP_COMPONENTS
    return config.get(kind, {})


def _check_references(config: dict) -> None:
    """Every model, region, data set and map component that a key names must exist."""
    for key, value, kind in _references(config):
        defined = _defined(config, kind)
        if value not in defined:
            what, where = _KINDS[kind]
            allowed = list(defined) if kind == "components" else sorted(defined)
            raise ConfigError(f"config key '{key}': {what} {value!r} is not defined; {where}: {allowed}")
