"""Parameter scans: one base model expanded over a grid or a list of parameter values.

A scan (config ``scans.<name>``) names a base model (a key of ``models``) and either a ``grid``
(parameter -> values, every combination) or ``points`` (a list of parameter -> value mappings).
Each point becomes an ordinary model entry ``<scan>_<index>`` (index zero-padded to three digits)
that :func:`scan_models` returns for the workflow to merge into ``config["models"]``, so every
rule treats it like any configured model: models with the same transport (``propagation``)
share one set of Green's matrices through :func:`galdiff.propagation.setups.setup_key`, and a
scan of injection or extra-component parameters needs no new ones.

Parameters are dotted paths into a model entry, list items in brackets:

* ``propagation.<key>`` (Table I: ``D0_1e28_cm2_per_s``, ``delta``, ``zh_kpc``, ``vA_km_per_s``,
  ``eta``, ``r_max_kpc``): new transport, new Green's matrices;
* ``injection.<species>.nu[i]``, ``.breaks_GV[i]``, ``.cutoff_GV``, ``.phi_GV`` (Tables II-III):
  the injection fits would move a start value, so a scanned
  injection parameter is also **held fixed** in its fit (added to ``fixed``): the scan is a
  profile of the fit's chi-square in that parameter, the other parameters refitted at each point;
* ``extra.<component>.index``, ``.cutoff_GeV``, ``.origin``, ``.norm_per_GeV_cm3_s_sr``: the
  EXTRA1/2 shapes (the EXTRA fit refits the norms unless ``fit: false``);
* ``knee_dataset``.

``through`` states how far each point runs: ``fit`` (Green's matrices and the injection fits of
p, He and the leptons) or ``spectra`` (the default: also emission, the map cubes the region
spectra are integrated from, region spectra, the EXTRA fit and the headline numbers). Scan points
are not drawn in the paper's figures and tables; their results are one table per scan,
``results/scans/<scan>.ecsv`` (:func:`scan_table`), and its figure.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import jsonschema
import numpy as np
from astropy.table import Table

from .config import ConfigError, schema_defaults

__all__ = [
    "FIT_NAMES",
    "STAGES",
    "ScanPoint",
    "parse_parameter",
    "fixed_name",
    "scan_points",
    "scan_models",
    "scan_row",
    "scan_table",
]

#: How far a scan point runs (each stage includes the ones before it).
STAGES = ("fit", "spectra")
#: The injection fits of one model (rules/fit.smk).
FIT_NAMES = ("proton", "helium", "leptons")
#: Headline numbers of :func:`galdiff.comparison.table4.headline_numbers` that go into a scan table.
HEADLINE_KEYS = ("share_20TeV", "share_1PeV_extra2_hadronic", "share_1PeV_extra2_leptonic")

_TOKEN = re.compile(r"([A-Za-z0-9_]+)(?:\[(\d+)\])?$")
# injection entry key -> fit-parameter name (galdiff.fitting._nucleus_params); the extra positrons'
# indices start at nu1 (Table III: nu1+, nu2+)
_INJECTION_FIT_NAMES = {"cutoff_GV": "Rc_GV", "phi_GV": "Phi_GV"}


@dataclass(frozen=True)
class ScanPoint:
    """One point of a scan: the model it becomes and the values it sets (dotted path -> value)."""

    scan: str
    index: int
    model: str
    parameters: dict = field(hash=False)


def parse_parameter(path: str) -> list:
    """Keys and list indices of a dotted parameter path: ``injection.proton.nu[4]`` ->
    ``["injection", "proton", "nu", 4]``."""
    parts = []
    for token in str(path).split("."):
        match = _TOKEN.match(token)
        if not match:
            raise ValueError(f"parameter {path!r}: {token!r} is not a key or key[index]")
        parts.append(match.group(1))
        if match.group(2) is not None:
            parts.append(int(match.group(2)))
    return parts


def fixed_name(path: str) -> str | None:
    """The injection-fit parameter that a scanned injection value is held as (``nu4``, ``R3_GV``,
    ``Rc_GV``, ``Phi_GV``), or None for a parameter outside ``injection``."""
    parts = parse_parameter(path)
    if parts[0] != "injection":
        return None
    species, key = parts[1], parts[2]
    if key == "nu":
        return f"nu{parts[3] + (1 if species == 'positron' else 0)}"
    if key == "breaks_GV":
        return f"R{parts[3] + 1}_GV"
    if key in _INJECTION_FIT_NAMES:
        return _INJECTION_FIT_NAMES[key]
    raise ValueError(f"parameter {path!r}: injection key {key!r} cannot be scanned")


def _set(entry: dict, parts: Sequence, value, where: str) -> None:
    node = entry
    for depth, part in enumerate(parts[:-1]):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            raise ConfigError(f"config key '{where}': the base model has no "
                              f"{'.'.join(str(p) for p in parts[:depth + 1])!r}") from None
    last = parts[-1]
    if isinstance(node, list) and not (isinstance(last, int) and last < len(node)):
        raise ConfigError(f"config key '{where}': index {last} outside the base model's list of {len(node)}")
    if isinstance(node, dict) and isinstance(last, str) and last not in node and parts[0] != "propagation":
        raise ConfigError(f"config key '{where}': the base model has no {'.'.join(str(p) for p in parts)!r}")
    node[last] = value


def _grid_points(grid: Mapping) -> list[dict]:
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[name] for name in names))]


def scan_points(config: Mapping) -> dict[str, list[ScanPoint]]:
    """``{scan: [ScanPoint, ...]}`` of every scan in ``config["scans"]``, points in grid order
    (the last parameter varying fastest) or list order."""
    out = {}
    for scan, spec in (config.get("scans") or {}).items():
        values = _grid_points(spec["grid"]) if "grid" in spec else [dict(point) for point in spec["points"]]
        width = max(3, len(str(len(values) - 1)))
        out[scan] = [ScanPoint(scan, i, f"{scan}_{i:0{width}d}", point) for i, point in enumerate(values)]
    return out


def _model_schema(schema: Mapping | None):
    if schema is None:
        return None
    sub = schema["properties"]["models"]["additionalProperties"]
    return {**sub, "$defs": schema.get("$defs", {})}


def scan_models(config: Mapping, schema: Mapping | None = None) -> dict[str, dict]:
    """Model entries of every scan point, to merge into ``config["models"]``.

    Each is a deep copy of the base model with the point's values set; injection values are
    added to their species' ``fixed`` list (module docstring). With ``schema`` (the config
    schema) each entry is validated like a configured model.

    Raises
    ------
    ConfigError
        The base model is not defined, a parameter path does not exist in it, a point's model
        name is taken, or (with ``schema``) a value is out of the model's allowed range; the
        message names the scan's key.
    """
    models = config.get("models", {})
    model_schema = _model_schema(schema)
    out = {}
    for scan, points in scan_points(config).items():
        spec = config["scans"][scan]
        base = spec["base"]
        if base not in models:
            raise ConfigError(f"config key 'scans.{scan}.base': model {base!r} is not defined under 'models' "
                              f"(defined: {sorted(models)})")
        for point in points:
            if point.model in models or point.model in out:
                raise ConfigError(f"config key 'scans.{scan}': scan point model name {point.model!r} is already "
                                  f"a model; rename the scan")
            entry = copy.deepcopy(models[base])
            for path, value in point.parameters.items():
                where = f"scans.{scan}.{'grid' if 'grid' in spec else f'points.{point.index}'}.{path}"
                parts = parse_parameter(path)
                _set(entry, parts, value, where)
                name = fixed_name(path)
                if name is not None:
                    species = entry["injection"][parts[1]]
                    species["fixed"] = list(species.get("fixed") or [])
                    if name not in species["fixed"]:
                        species["fixed"].append(name)
            if model_schema is not None:
                try:
                    jsonschema.validate(entry, model_schema)
                except jsonschema.ValidationError as err:
                    key = ".".join(str(p) for p in err.absolute_path)
                    raise ConfigError(f"config key 'scans.{scan}': point {point.index} {point.parameters} makes "
                                      f"'models.{point.model}.{key}' invalid: {err.message}") from None
            out[point.model] = entry
    return out


def _number(value):
    return float("nan") if value is None else float(value)


def scan_row(point: ScanPoint, fit: Mapping, extra_fit: Mapping | None = None,
             headline: Mapping | None = None, greens_key: str | None = None) -> dict:
    """One row of a scan table from one point's results.

    Parameters
    ----------
    point : ScanPoint
    fit : mapping
        The model's merged injection fits (``results/fit/<model>/injection.yaml``).
    extra_fit : mapping, optional
        Its EXTRA fit (``results/spectra/<model>/extra_fit.yaml``); with ``extra_points`` in it
        (``{dataset: chi2}``) the per-data-set chi-square.
    headline : mapping, optional
        ``ours`` of :func:`galdiff.comparison.table4.headline_numbers` for the model.
    greens_key : str, optional
        Set-up key of the point's proton Green's matrix (points that share it share transport).

    Returns
    -------
    dict
        ``model``, ``point``, the parameters, ``chi2_<fit>``, ``ndof_<fit>``, ``valid_<fit>`` and
        ``chi2_<fit>_<dataset>`` of each injection fit, ``chi2_cr``/``ndof_cr`` (their sums); with
        the EXTRA fit ``chi2_extra``, ``ndof_extra``, ``p_value_extra``, ``chi2_extra_<dataset>``,
        ``norm_<component>_per_GeV_cm3_s_sr`` and its ``_error``; the headline shares.
    """
    row = {"model": point.model, "point": point.index}
    row.update(point.parameters)
    if greens_key is not None:
        row["greens_key"] = greens_key
    chi2_cr, ndof_cr = 0.0, 0
    for name in FIT_NAMES:
        entry = fit["fits"][name]
        row[f"chi2_{name}"] = float(entry["chi2"])
        row[f"ndof_{name}"] = int(entry["ndof"])
        row[f"valid_{name}"] = bool(entry["valid"])
        for dataset, value in sorted(entry.get("chi2_by_dataset", {}).items()):
            row[f"chi2_{name}_{dataset}"] = float(value)
        chi2_cr += float(entry["chi2"])
        ndof_cr += int(entry["ndof"])
    row["chi2_cr"], row["ndof_cr"] = chi2_cr, ndof_cr
    if extra_fit is not None:
        row["chi2_extra"] = float(extra_fit["chi2"])
        row["ndof_extra"] = int(extra_fit["ndof"])
        row["p_value_extra"] = _number(extra_fit.get("p_value"))
        for dataset, value in sorted((extra_fit.get("chi2_by_dataset") or {}).items()):
            row[f"chi2_extra_{dataset}"] = float(value)
        for component, entry in sorted(extra_fit["components"].items()):
            row[f"norm_{component}_per_GeV_cm3_s_sr"] = float(entry["norm_per_GeV_cm3_s_sr"])
            row[f"norm_{component}_error_per_GeV_cm3_s_sr"] = _number(entry.get("norm_error_per_GeV_cm3_s_sr"))
    if headline is not None:
        for key in HEADLINE_KEYS:
            row[key] = _number(headline.get(key))
    return row


def extra_chi2_by_dataset(points_table) -> dict:
    """chi-square per data set of an EXTRA fit from its points (``extra_fit_points.ecsv``): the sum
    of the squared pulls of the fitted model (upper limits count only where the model exceeds them,
    as in :mod:`galdiff.fitting.extra`, whose pulls are zero otherwise)."""
    pulls = np.asarray(points_table["pull"], dtype=float)
    datasets = np.asarray(points_table["dataset"]).astype(str)
    return {str(name): float(np.sum(pulls[datasets == name] ** 2)) for name in sorted(set(datasets))}


def scan_table(scan: str, spec: Mapping, rows: Sequence[Mapping], paper_point: Mapping | None = None,
               meta: Mapping | None = None) -> Table:
    """The tidy table of one scan: one row per point (:func:`scan_row`), columns in a stable order.

    A column missing from some rows (a data set one point's fit did not use) is NaN there.
    ``meta`` gets the scan (``scan``, ``base``, ``through``, ``parameters``), ``paper_point``
    (the base model's values of the scanned parameters) and what ``meta`` adds (provenance).
    """
    if not rows:
        raise ValueError(f"scan {scan!r} has no points")
    names = []
    for row in rows:
        names.extend(name for name in row if name not in names)
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        present = [v for v in values if v is not None]
        if all(isinstance(v, str) for v in present):
            columns[name] = [("" if v is None else v) for v in values]
        elif all(isinstance(v, (bool, np.bool_)) for v in present):
            columns[name] = [bool(v) if v is not None else False for v in values]
        elif all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in present) \
                and len(present) == len(values):
            columns[name] = [int(v) for v in values]
        else:
            columns[name] = [math.nan if v is None else float(v) for v in values]
    table = Table(columns)
    parameters = list(spec["grid"]) if "grid" in spec else list(dict.fromkeys(p for pt in spec["points"] for p in pt))
    table.meta.update({
        "scan": scan,
        "base": spec["base"],
        "through": {**schema_defaults("scans.*"), **spec}["through"],
        "kind": "grid" if "grid" in spec else "points",
        "parameters": parameters,
        "paper_point": dict(paper_point or {}),
    })
    table.meta.update(dict(meta or {}))
    return table


def base_values(model_entry: Mapping, parameters: Sequence[str]) -> dict:
    """The base model's values of the scanned parameters (the paper's point for the paper's models)."""
    out = {}
    for path in parameters:
        node = model_entry
        try:
            for part in parse_parameter(path):
                node = node[part]
        except (KeyError, IndexError, TypeError):
            continue
        out[path] = node
    return out
