"""Configuration checks that a JSON schema cannot express.

The schema (``workflow/schemas/config.schema.yaml``) checks types and ranges key by key;
the checks here relate keys to each other. Each failure names the key and what was expected.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key."""


def load_schema(schema_path: str | Path) -> dict:
    with open(schema_path) as handle:
        return yaml.safe_load(handle)


def validate_config(config: dict, schema_path: str | Path) -> None:
    """Validate ``config`` against the schema and the cross-key rules; raise ConfigError.

    The message names the offending key as a dotted path (``models.dr_high.propagation.delta``).
    """
    try:
        jsonschema.validate(config, load_schema(schema_path))
    except jsonschema.ValidationError as err:
        key = ".".join(str(part) for part in err.absolute_path) or "<top level>"
        raise ConfigError(f"config key '{key}': {err.message}") from None
    check_cross_key_rules(config)


def check_cross_key_rules(config: dict) -> None:
    """Rules between keys: index counts match breaks, breaks increase, regions exist."""
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
        _check_refit_model(models, model_name)
    regions = config.get("regions", {})
    fig3 = config.get("figures", {}).get("fig3")
    if fig3 and fig3["icecube_pi0_region"] not in regions:
        raise ConfigError(
            f"config key 'figures.fig3.icecube_pi0_region': region {fig3['icecube_pi0_region']!r} "
            f"is not defined under 'regions' (defined: {sorted(regions)})"
        )
    for name, region in regions.items():
        if region["l_max_deg"] == region["l_min_deg"]:
            raise ConfigError(f"config key 'regions.{name}': l_min_deg and l_max_deg must differ")
    _check_references(config)


def _check_refit_model(models: dict, model_name: str) -> None:
    """An as-printed model names the refit it is drawn beside; both must share transport and data."""
    model = models[model_name]
    mode = (model.get("injection") or {}).get("mode", "fit")
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
    if (other.get("injection") or {}).get("mode", "fit") != "fit":
        raise ConfigError(f"config key '{key}': model {refit!r} must have injection.mode 'fit'")
    for part in ("propagation", "knee_dataset"):
        if model.get(part) != other.get(part):
            raise ConfigError(f"config key 'models.{model_name}.{part}': must equal that of its refit model "
                              f"{refit!r} (same transport and data, so the two differ only by the fit)")


def _references(config: dict):
    """(dotted key, value, kind) of every region or model named by the spectra, figure and table sections."""
    figures = config.get("figures", {})
    for letter, panel in figures.get("fig4", {}).get("panels", {}).items():
        yield f"figures.fig4.panels.{letter}.model", panel["model"], "models"
        yield f"figures.fig4.panels.{letter}.region", panel["region"], "regions"
    for name in ("fig5", "fig8"):
        if name in figures:
            yield f"figures.{name}.model", figures[name]["model"], "models"
            yield f"figures.{name}.region", figures[name]["region"], "regions"
    if "fig7" in figures:
        yield "figures.fig7.model", figures["fig7"]["model"], "models"
        for letter, region in figures["fig7"].get("panels", {}).items():
            yield f"figures.fig7.panels.{letter}", region, "regions"
    spectra = config.get("spectra", {})
    for region in spectra.get("extra_fit", {}).get("data", {}) or {}:
        yield f"spectra.extra_fit.data.{region}", region, "regions"
    fermi = spectra.get("extra_fit", {}).get("fermi_lat") or {}
    if fermi:
        yield "spectra.extra_fit.fermi_lat.region", fermi.get("region", "lhaaso_inner"), "regions"
    if "gev_anchor" in spectra:
        yield "spectra.gev_anchor.region", spectra["gev_anchor"].get("region", "fermi_inner_galaxy"), "regions"
    if "headline" in spectra:
        yield "spectra.headline.model", spectra["headline"].get("model", "dr_low"), "models"
        yield "spectra.headline.region", spectra["headline"].get("region", "all_sky"), "regions"
    table4 = config.get("tables", {}).get("table4")
    if table4:
        yield "tables.table4.window", table4.get("window", "all_sky"), "regions"


def _check_references(config: dict) -> None:
    """Every region and model that a spectra/figure/table key names must be defined."""
    for key, value, kind in _references(config):
        defined = config.get(kind, {})
        if value not in defined:
            raise ConfigError(f"config key '{key}': {kind[:-1]} {value!r} is not defined under '{kind}' "
                              f"(defined: {sorted(defined)})")
