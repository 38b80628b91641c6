"""What the workflow calls: one model's injection fits from the propagation products (fit rule),
the as-printed mode, the nu4 profile, the fit files and curves."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np

from .. import units as kin
from ..config import schema_defaults
from ..provenance import provenance_meta
from .data import FitDataset, fit_data_selection, prepare_datasets
from .fit import FitResult, _plain, fit
from .models import EXTRA_NORM_PARAM, NORM_PARAM, LeptonModel, NucleusModel, _nucleus_params, spectra_at_earth


def fixable_parameter_names(species: str, injection_cfg: Mapping) -> list[str]:
    """Names that ``models.<model>.injection.<species>.fixed`` may hold, in the config's naming.

    Parameters
    ----------
    species : {"proton", "helium", "electron", "positron"}
    injection_cfg : mapping
        The species' injection entry (``nu``, ``breaks_GV``, ``cutoff_GV``, ``phi_GV``).

    Returns
    -------
    list of str
        ``nu<i>``, ``R<i>_GV``, ``Rc_GV``, ``Phi_GV``, the normalisation :data:`NORM_PARAM` and, for
        positrons, ``c_eplus`` (indices count from 1 for positrons, from 0 otherwise, as the fits do).
    """
    offset = 1 if species == "positron" else 0
    names = [p.name for p in _nucleus_params("", injection_cfg, index_offset=offset)] + [NORM_PARAM]
    return (["c_eplus"] + names) if species == "positron" else names


def configured_fixed(injection_cfg: Mapping, positron: bool = False) -> list[str]:
    """Fit-parameter names held at their start values, from an injection entry's ``fixed`` list.

    The config names parameters as its species' table does (``R3_GV``, ``nu4``, ``Rc_GV``,
    ``Phi_GV``, ``c_eplus``); in the lepton fit the extra positrons' ones carry ``_eplus``
    (``R1_GV`` -> ``R1_eplus_GV``, ``nu1`` -> ``nu1_eplus``), which ``positron`` adds.
    """
    names = [str(name) for name in {**schema_defaults("models.*.injection.*"), **injection_cfg}["fixed"] or []]
    if not positron:
        return names
    return [name if name == "c_eplus" else name[:-3] + "_eplus_GV" if name.endswith("_GV") else name + "_eplus"
            for name in names]


#: ``models.<model>.injection.mode``: ``fit`` refits Eq. 3 and Phi to the data (start values Tables II-III);
#: ``as_printed`` keeps Tables II-III as given and fits only the per-species normalisation(s)
INJECTION_MODES = ("fit", "as_printed")


def injection_mode(model_cfg: Mapping) -> str:
    """The model's injection mode (:data:`INJECTION_MODES`), the schema's default when not given."""
    mode = {**schema_defaults("models.*.injection"), **(model_cfg.get("injection") or {})}["mode"]
    if mode not in INJECTION_MODES:
        raise ValueError(f"models.<model>.injection.mode: expected one of {INJECTION_MODES}, got {mode!r}")
    return mode


def knee_dataset(model_cfg: Mapping) -> str:
    """The air-shower data set that fixes the model's knee (``models.<model>.knee_dataset``; the
    schema's default when not given)."""
    return str({**schema_defaults("models.*"), **model_cfg}["knee_dataset"])


def injection_species(model_cfg: Mapping) -> dict:
    """``{species: injection entry}`` of a model's ``injection`` section (its ``mode`` key left out)."""
    return {name: entry for name, entry in (model_cfg.get("injection") or {}).items() if name != "mode"}


def as_printed_fixed(model: NucleusModel) -> list[str]:
    """Every spectral and modulation parameter of ``model``: all but its normalisation(s) are held.

    The as-printed mode keeps the paper's Tables II-III (breaks, indices, cutoffs, Phi and c_e+)
    and fits only the amplitudes the paper does not print: :data:`NORM_PARAM` (and, for leptons,
    :data:`EXTRA_NORM_PARAM` of the extra positrons). Nuisance scales of the data (``scale_*``,
    with their priors) stay free: they belong to the data's error model, which is the same as the
    refit's, so the chi2 of both modes is defined alike.
    """
    return [p.name for p in model.params if p.name not in (NORM_PARAM, EXTRA_NORM_PARAM)]


def fit_nucleus_injection(species_name: str, model_cfg: Mapping, greens: tuple, tables: Mapping,
                          selection: Mapping | None = None) -> tuple:
    """Fit the injection of protons or helium of one model with its Green's matrix.

    Parameters
    ----------
    species_name : {"proton", "helium"}
    model_cfg : mapping
        ``models.<model>`` config: ``injection.<species>`` start values (Table II),
        ``injection.mode`` (:func:`injection_mode`; ``as_printed`` fits only the normalisation) and
        ``knee_dataset``.
    greens : tuple
        ``(ek_GeV_per_n, G[E_out, E_in])`` of the species (G in cm sr^-1).
    tables : mapping
        Tidy tables by data-set name (at least those of the selection).
    selection : mapping, optional
        ``{dataset: options}`` for this species; default the species' entry of
        :func:`~galdiff.fitting.data.fit_data_selection` with the schema's ``fitting.data`` and the
        model's knee data set.

    Returns
    -------
    (FitResult, NucleusModel)
    """
    if species_name not in ("proton", "helium"):
        raise ValueError(f"nucleus fit: species must be 'proton' or 'helium', got {species_name!r}")
    if selection is None:
        selection = fit_data_selection(None, knee_dataset(model_cfg))[species_name]
    ek, green = greens
    injection = model_cfg["injection"][species_name]
    model = NucleusModel(kin.get_species(species_name), ek, green, injection)
    return _fit_in_mode(model, prepare_datasets(tables, selection), configured_fixed(injection), model_cfg), model


def profile_nucleus_fit(species_name: str, model_cfg: Mapping, greens: tuple, tables: Mapping, parameter: str,
                        values: Sequence[float], selection: Mapping | None = None) -> list[dict]:
    """chi2 profile of a refit in one parameter: refit with ``parameter`` held at each of ``values``.

    Every other parameter is free as in :func:`fit_nucleus_injection` (the configured ``fixed`` stay
    held), so the chi2 difference to the best fit measures how strongly the data place it, and the
    per-data-set chi2 says which data do.

    Parameters
    ----------
    species_name, model_cfg, greens, tables, selection
        As for :func:`fit_nucleus_injection`.
    parameter : str
        A reported name, e.g. ``nu4`` or ``Rc_GV``.
    values : sequence of float

    Returns
    -------
    list of dict
        Per value: ``value``, ``chi2``, ``ndof``, ``chi2_by_dataset``, ``params`` (the other best-fit
        values), ``valid``.
    """
    if selection is None:
        selection = fit_data_selection(None, knee_dataset(model_cfg))[species_name]
    ek, green = greens
    injection = injection_species(model_cfg)[species_name]
    base = NucleusModel(kin.get_species(species_name), ek, green, injection)
    if parameter not in {p.name for p in base.params}:
        raise KeyError(f"profile: unknown parameter {parameter!r}; parameters are {[p.name for p in base.params]}")
    datasets = prepare_datasets(tables, selection)
    fixed = sorted(set(configured_fixed(injection)) | {parameter})
    out = []
    for value in values:
        model = copy.copy(base)
        model.params = [copy.copy(p) for p in base.params]
        held = next(p for p in model.params if p.name == parameter)
        held.start = float(value)
        if held.limits is not None and not held.limits[0] <= held.start <= held.limits[1]:
            held.limits = (min(held.limits[0], held.start), max(held.limits[1], held.start))
        result = fit(model, datasets, fixed=fixed)
        out.append({"value": float(value), "chi2": float(result.chi2), "ndof": int(result.ndof),
                    "chi2_by_dataset": _plain(result.chi2_by_dataset), "valid": bool(result.valid),
                    "params": _plain({k: v for k, v in result.params.items() if k != parameter})})
    return out


def _fit_in_mode(model: NucleusModel, datasets: Sequence[FitDataset], fixed: Sequence[str],
                 model_cfg: Mapping) -> FitResult:
    """:func:`fit` with the parameters the model's injection mode holds; the mode is recorded in ``derived``."""
    mode = injection_mode(model_cfg)
    if mode == "as_printed":
        fixed = as_printed_fixed(model)
    result = fit(model, datasets, fixed=fixed)
    result.derived["injection_mode"] = mode
    return result


def fit_lepton_injection(model_cfg: Mapping, greens_electron: tuple, secondary_lis: Mapping, tables: Mapping,
                         selection: Mapping | None = None) -> tuple:
    """Fit primary electrons and extra positrons of one model; secondaries are fixed components.

    Parameters
    ----------
    model_cfg : mapping
        ``models.<model>`` config: ``injection.electron`` and ``injection.positron`` start values
        (Table III) and ``injection.mode`` (``as_printed``: only the e- and extra-e+ normalisations free).
    greens_electron : tuple
        ``(ek_GeV_per_n, G)`` of electrons (also used for the extra positrons: same transport).
    secondary_lis : mapping
        ``{'electron', 'positron'}`` -> secondary interstellar intensity at the Sun on the
        electron Green's grid, from the propagated best-fit p and He.
    tables : mapping
        Tidy tables by data-set name.
    selection : mapping, optional
        ``{dataset: options}``; default the ``leptons`` entry of
        :func:`~galdiff.fitting.data.fit_data_selection` with the schema's ``fitting.data``.

    Returns
    -------
    (FitResult, LeptonModel)
    """
    injection = model_cfg["injection"]
    if selection is None:
        selection = fit_data_selection(None, knee_dataset(model_cfg))["leptons"]
    ek, green = greens_electron
    # The propagated secondaries can dip below zero at the ~1e-4 level of their peak where they
    # fall steeply (centred reacceleration flux, iterative tolerance); a flux is >= 0.
    secondary_lis = {name: np.clip(np.asarray(lis, dtype=float), 0.0, None) for name, lis in secondary_lis.items()}
    model = LeptonModel(ek, green, {"electron": injection["electron"], "positron": injection["positron"]},
                        secondary_lis=secondary_lis, c_eplus_start=float(injection["positron"].get("c_eplus", 1.0)))
    fixed = configured_fixed(injection["electron"]) + configured_fixed(injection["positron"], positron=True)
    return _fit_in_mode(model, prepare_datasets(tables, selection), fixed, model_cfg), model


def fit_model_injection(model_cfg: Mapping, greens: Mapping, secondary_lis: Mapping, tables: Mapping,
                        selection: Mapping | None = None) -> dict:
    """Fit protons, helium and leptons of one model with its Green's functions.

    The workflow runs the two steps separately (:func:`fit_nucleus_injection`, then, after the
    best-fit nuclei have been propagated and their secondaries computed,
    :func:`fit_lepton_injection`); this runs both with given secondaries.

    Parameters
    ----------
    model_cfg : mapping
        ``models.<model>`` config: ``injection`` start values (the paper's Tables II-III) and
        ``knee_dataset``.
    greens : mapping
        ``{'proton' | 'helium' | 'electron': (ek_GeV_per_n, G[E_out, E_in])}``.
    secondary_lis : mapping
        ``{'electron', 'positron'}`` -> secondary interstellar intensity at the Sun on the
        electron Green's grid (from the propagated p and He).
    tables : mapping
        Tidy tables by data-set name (at least those of the selection).
    selection : mapping, optional
        ``{fit_name: {dataset: options}}``; default :func:`~galdiff.fitting.data.fit_data_selection`
        with the schema's ``fitting.data`` and the model's knee data set.

    Returns
    -------
    dict
        ``{'proton': (FitResult, model), 'helium': ..., 'leptons': ...}``.
    """
    selection = selection or fit_data_selection(None, knee_dataset(model_cfg))
    out = {species: fit_nucleus_injection(species, model_cfg, greens[species], tables, selection[species])
           for species in ("proton", "helium")}
    out["leptons"] = fit_lepton_injection(model_cfg, greens["electron"], secondary_lis, tables, selection["leptons"])
    return out


def fitted_injection(result: FitResult, model: NucleusModel) -> dict:
    """Best-fit injection by species, in the config's format plus the prefactor, for re-propagation.

    Parameters
    ----------
    result : FitResult
    model : NucleusModel or LeptonModel
        The fitted model (its sampling of Q on the grid is recorded).

    Returns
    -------
    dict
        ``{species: {nu, breaks_GV, cutoff_GV, phi_GV, q0_per_cm3_s_GV, sampling}}`` (leptons:
        ``electron`` and ``positron``, the latter with ``c_eplus``). ``q0_per_cm3_s_GV`` is the
        Eq. 3 prefactor of the species' injection at the Sun's position (for positrons that of the
        extra source, ``derived["q0_eplus"]``), so that Q on the grid (:meth:`NucleusModel.injection`,
        reproduced by :func:`galdiff.propagation.run.injection_on_grid`) gives J_LIS = G @ Q:
        propagating it gives the best-fit densities with no further normalisation. ``c_eplus``
        multiplies the secondary positrons (:class:`LeptonModel`;
        :func:`galdiff.propagation.run.propagate_fitted_leptons` applies it).
    """
    if getattr(model, "extra_pairs", False):
        raise ValueError("fitted_injection: an extra source of e+ e- pairs has no re-propagation recipe yet")
    q0 = float(result.derived["q0"])
    out = result.injection_config()
    for species, entry in out.items():
        entry["q0_per_cm3_s_GV"] = float(result.derived["q0_eplus"]) if species == "positron" else q0
        entry["sampling"] = model.sampling
    return out


def fit_file_content(model_name: str, fits: Mapping, model_cfg: Mapping | None = None,
                     inputs: Mapping | None = None) -> dict:
    """Content of ``results/fit/<model>/injection[_<fit>].yaml`` for some fits of one model.

    Parameters
    ----------
    model_name : str
    fits : mapping
        ``{fit_name: (FitResult, model)}``.
    model_cfg : mapping, optional
        The model's config (its hash is recorded).
    inputs : mapping, optional
        ``{name: path}`` of the files the fits read (Green's matrix, tables); their sha256 is recorded.

    Returns
    -------
    dict
        ``model``, provenance, ``fits`` (:meth:`FitResult.as_dict` by fit), ``summary``
        (:meth:`FitResult.summary_dict`, the ``models.<model>.fit`` entry of summary.json) and
        ``injection`` (:func:`fitted_injection` by species).
    """
    provenance = provenance_meta(inputs=dict(inputs) if inputs else None,
                                 config=dict(model_cfg) if model_cfg is not None else None)
    content = {"model": model_name, **provenance, "fits": {}, "summary": {}, "injection": {}}
    for name, (result, model) in fits.items():
        content["fits"][name] = result.as_dict()
        content["summary"].update(result.summary_dict())
        content["injection"].update(fitted_injection(result, model))
    return _plain(content)


def merge_fit_files(contents: Sequence[Mapping], inputs: Mapping | None = None) -> dict:
    """One model's ``injection.yaml`` from its per-fit files (:func:`fit_file_content` outputs).

    ``fits``, ``summary`` and ``injection`` are merged; every part must belong to the same model
    and no fit may appear twice. The provenance of each part is kept under ``parts``; ``inputs``
    (``{name: path}`` of the part files) adds their sha256.
    """
    models = {content["model"] for content in contents}
    if len(models) != 1:
        raise ValueError(f"fit files of different models cannot be merged: {sorted(models)}")
    merged = {"model": models.pop(), **provenance_meta(inputs=dict(inputs) if inputs else None), "fits": {}, "summary": {}, "injection": {}, "parts": {}}
    for content in contents:
        for name in content["fits"]:
            if name in merged["fits"]:
                raise ValueError(f"fit {name!r} appears in more than one file")
        for key in ("fits", "summary", "injection"):
            merged[key].update(content[key])
        merged["parts"][",".join(content["fits"])] = {k: v for k, v in content.items()
                                                      if k not in ("model", "fits", "summary", "injection")}
    return merged


def fit_curves_table(model: NucleusModel, params: Mapping, ek_GeV_per_n):
    """Best-fit spectra at Earth and in interstellar space as an astropy Table (for Figures 1-2).

    Columns ``ek_GeV_per_n`` and, per component of :func:`spectra_at_earth`, ``<name>_lis`` and
    ``<name>_toa`` in cm^-2 s^-1 sr^-1 GeV^-1 (per GeV/n for nuclei; NaN off the grid).
    """
    from astropy import units as u
    from astropy.table import Table

    curves = spectra_at_earth(model, params, ek_GeV_per_n)
    table = Table()
    table["ek_GeV_per_n"] = np.asarray(ek_GeV_per_n, dtype=float) * u.GeV
    flux_unit = u.Unit("cm-2 s-1 sr-1 GeV-1")
    for name, values in curves.items():
        table[f"{name}_lis"] = values["flux_lis"] * flux_unit
        table[f"{name}_toa"] = values["flux_toa"] * flux_unit
    return table
