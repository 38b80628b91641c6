"""The iminuit driver (MIGRAD, HESSE, optional MINOS) and the fit result (parameters, errors,
covariance, chi2 by data set, derived Eq. 3 prefactors)."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..provenance import atomic_path, provenance_meta
from .data import FitDataset
from .likelihood import ChiSquare
from .models import EXTRA_NORM_PARAM, NORM_PARAM, NORM_WEIGHT_EXPONENT, LeptonModel, NucleusModel, _Param


def _plain(value):
    """Convert numpy scalars/arrays to plain Python for YAML/JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass
class FitResult:
    """Outcome of :func:`fit`.

    Attributes
    ----------
    fit_name : str
        ``proton``, ``helium`` or ``leptons``.
    params, errors : dict
        Reported values and symmetric (HESSE) errors; positive scale parameters (breaks, cutoffs,
        normalisation, c_e+) were fitted as log10, their errors are linearised (x ln10 sigma_log10).
        Fixed parameters have error 0.
    minos_errors : dict or None
        ``{name: (lower, upper)}`` in reported units (MINOS on the internal parameters, mapped).
    chi2 : float
    ndof : int
        (measurements + nuisance priors) - free parameters.
    chi2_by_dataset : dict
    n_points_by_dataset : dict
        Measurements per data set (upper limits excluded).
    data_used : dict
        Per data set: experiment, citation, T_n range, measurements, upper limits, dropped points.
    fixed : list of str
    at_limit : list of str
        Free parameters that ended at one of their limits (their errors are not meaningful; widen
        the limit with ``limits=`` or fix them).
    valid : bool
        Minuit's validity flag (converged, positive-definite covariance).
    derived : dict
        ``q0`` (Eq. 3 prefactor), pivot energy, nuisance scales.
    internal_names : list of str
    covariance_internal : list of list or None
        Covariance of the internal parameters.
    model_meta : dict
        What a reader needs to interpret the numbers (definitions of the normalisation and of c_e+).
    """

    fit_name: str
    params: dict
    errors: dict
    chi2: float
    ndof: int
    chi2_by_dataset: dict
    n_points_by_dataset: dict
    data_used: dict
    fixed: list = field(default_factory=list)
    at_limit: list = field(default_factory=list)
    valid: bool = True
    minos_errors: dict | None = None
    derived: dict = field(default_factory=dict)
    internal_names: list = field(default_factory=list)
    covariance_internal: list | None = None
    model_meta: dict = field(default_factory=dict)
    split: dict = field(default_factory=dict, repr=False)

    def summary_dict(self) -> dict:
        """``{species: {params, errors, chi2, ndof}}`` for ``results/summary.json`` -> ``models.<model>.fit``.

        Nuclei give one entry (``proton`` or ``helium``); the joint lepton fit gives ``electron`` and
        ``positron`` entries (positron names without the ``_eplus`` tag), both with the joint chi2 and
        ndof. Nuisance scales are left out (they are in :meth:`to_yaml`).
        """
        out = {}
        for species, (params, errors) in self.split.items():
            out[species] = {"params": _plain(params), "errors": _plain(errors), "chi2": float(self.chi2),
                            "ndof": int(self.ndof), "chi2_by_dataset": _plain(self.chi2_by_dataset),
                            "injection_mode": self.derived.get("injection_mode", "fit")}
        return out

    def as_dict(self) -> dict:
        """Everything, as plain Python (the content of ``injection.yaml``)."""
        return _plain({
            "fit": self.fit_name,
            "params": self.params,
            "errors": self.errors,
            "minos_errors": self.minos_errors,
            "fixed": self.fixed,
            "at_limit": self.at_limit,
            "chi2": self.chi2,
            "ndof": self.ndof,
            "chi2_by_dataset": self.chi2_by_dataset,
            "n_points_by_dataset": self.n_points_by_dataset,
            "valid": self.valid,
            "derived": self.derived,
            "data_used": self.data_used,
            "internal_names": self.internal_names,
            "covariance_internal": self.covariance_internal,
            "definitions": self.model_meta,
            "by_species": self.summary_dict(),
        })

    def to_yaml(self, path, extra: Mapping | None = None) -> Path:
        """Write :meth:`as_dict` (plus provenance and ``extra``) to ``path`` atomically.

        Parameters
        ----------
        path : str or Path
            E.g. ``results/fit/{model}/injection.yaml`` (one file may hold several fits: the
            workflow can merge :meth:`as_dict` outputs by ``fit_name``).
        extra : mapping, optional
            Added at the top level (model name, config hash, ...).
        """
        import yaml

        content = {"provenance": provenance_meta(), **self.as_dict(), **_plain(dict(extra or {}))}
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "w") as handle:
                yaml.safe_dump(content, handle, sort_keys=False)
        return path

    def injection_config(self) -> dict:
        """Best fit in the config's injection format, by species (for the re-propagation stage)."""
        out = {}
        for species, (params, _) in self.split.items():
            nus = sorted((k for k in params if k.startswith("nu")), key=lambda k: int(k[2:]))
            breaks = sorted((k for k in params if k.startswith("R") and k[1:-3].isdigit()),
                            key=lambda k: int(k[1:-3]))
            entry = {"nu": [params[k] for k in nus], "breaks_GV": [params[k] for k in breaks],
                     "cutoff_GV": params["Rc_GV"], "phi_GV": params["Phi_GV"]}
            if "c_eplus" in params:
                entry["c_eplus"] = params["c_eplus"]
            out[species] = _plain(entry)
        return out


def _apply_overrides(params: list[_Param], fixed: Sequence[str], limits: Mapping | None):
    names = {p.name for p in params}
    for name in list(fixed) + list((limits or {}).keys()):
        if name not in names:
            raise KeyError(f"unknown parameter {name!r}; parameters are {sorted(names)}")
    for p in params:
        if p.name in fixed:
            p.fixed = True
        if limits and p.name in limits:
            lo, hi = limits[p.name]
            p.limits = (float(lo), float(hi))
        if p.limits is not None and not p.limits[0] <= p.start <= p.limits[1]:
            raise ValueError(f"start value of {p.name} ({p.start:g}) outside its limits {p.limits}")


def _estimate_norm(objective: ChiSquare, start: dict) -> float:
    """Start value of the normalisation: median data/model ratio of the start shape over all measurements.

    The median of the logarithms is robust against points where the start shape is far off (e.g.
    beyond a misplaced cutoff), unlike a least-squares amplitude.
    """
    values = dict(start)
    values[NORM_PARAM] = 1.0
    predictions = objective.predictions(values)
    log_ratios = []
    for dataset in objective.datasets:
        good = ~dataset.is_upper_limit & (dataset.flux > 0) & (predictions[dataset.name] > 0)
        log_ratios.append(np.log(dataset.flux[good] / predictions[dataset.name][good]))
    log_ratios = np.concatenate(log_ratios)
    return float(np.exp(np.median(log_ratios))) if log_ratios.size else 1.0


def fit(model: NucleusModel, datasets: Sequence[FitDataset], *, fixed: Sequence[str] = (),
        limits: Mapping | None = None, estimate_norm: bool = True, minos: bool = False,
        ncall: int | None = None, stage_one_fixed: Sequence[str] | None = None) -> FitResult:
    """Fit the injection and modulation parameters of ``model`` to ``datasets`` with iminuit.

    MIGRAD (strategy 1, retried after SIMPLEX if invalid), then HESSE; MINOS optionally.

    Parameters
    ----------
    model : NucleusModel or LeptonModel
        Carries the Green's matrix, grid and start values (Tables II/III via the config).
    datasets : sequence of FitDataset
        From :func:`prepare_datasets` (or built directly).
    fixed : sequence of str
        Reported names of parameters held at their start values (e.g. ``["R4_GV"]``, or
        ``["scale_AMS-02"]``).
    limits : mapping, optional
        ``{name: (lo, hi)}`` in reported units, overriding the defaults (indices start - 1.5 .. max(start + 1.5, 4);
        breaks within non-overlapping intervals split at the log-midpoints of their start values,
        which keeps them ordered; cutoffs start / 30 .. start * 30; Phi 0 .. max(2, 2 Phi_start) GV;
        normalisations start * 1e-3 .. start * 1e3; c_e+ start / 10 .. start * 10; nuisance 1 +- 5 sigma).
    estimate_norm : bool
        Start the normalisation from the least-squares amplitude of the start shape (ignored
        when the start values give :data:`NORM_PARAM`).
    minos : bool
        Also run MINOS for asymmetric errors of free parameters.
    ncall : int or None
        Call limit for MIGRAD.
    stage_one_fixed : sequence of str or None
        Parameters held fixed in a first MIGRAD pass before everything is released (default: all
        break rigidities ``R*_GV``, which are the multimodal directions; pass ``()`` for a
        single pass).

    Returns
    -------
    FitResult
    """
    from iminuit import Minuit

    model = copy.copy(model)
    model.params = [copy.copy(p) for p in model.params]
    objective = ChiSquare(model, datasets)
    params = objective.params
    start_values = {p.name: p.start for p in params}
    norm_param = next(p for p in params if p.name == NORM_PARAM)
    if estimate_norm and not model.norm_given and NORM_PARAM not in fixed:
        norm = _estimate_norm(objective, start_values)
        norm_param.start = norm
        norm_param.limits = (norm * 1e-3, norm * 1e3)
    _apply_overrides(params, fixed, limits)
    if stage_one_fixed is None:
        stage_one_fixed = [p.name for p in params if p.name.startswith("R") and p.name[1:2].isdigit()]

    minuit = Minuit(objective, *[p.to_internal(p.start) for p in params], name=objective.internal_names)
    minuit.strategy = 1
    for p in params:
        if p.limits is not None:
            lo = p.to_internal(p.limits[0]) if not (p.log and p.limits[0] <= 0) else None
            minuit.limits[p.internal_name] = (lo, p.to_internal(p.limits[1]))
        minuit.fixed[p.internal_name] = p.fixed
        # steps: 0.02 in the indices and Phi, 0.01 dex in the log-parameters
        minuit.errors[p.internal_name] = 0.01 if p.log else 0.02
    staged = [p for p in params if not p.fixed and p.name in set(stage_one_fixed)]
    if staged:
        # stage 1: hold the break rigidities, let indices, cutoffs, Phi and normalisations adapt
        for p in staged:
            minuit.fixed[p.internal_name] = True
        minuit.migrad(ncall=ncall)
        for p in staged:
            minuit.fixed[p.internal_name] = False
    minuit.migrad(ncall=ncall)
    if not minuit.valid:
        minuit.simplex(ncall=ncall)
        minuit.migrad(ncall=ncall)
    minuit.hesse()
    minos_errors = None
    if minos and minuit.valid:
        minuit.minos()
        minos_errors = {}
        for p in params:
            if p.fixed:
                continue
            entry = minuit.merrors[p.internal_name]
            best = minuit.values[p.internal_name]
            lower = p.to_value(best + entry.lower) - p.to_value(best)
            upper = p.to_value(best + entry.upper) - p.to_value(best)
            minos_errors[p.name] = (float(lower), float(upper))

    internal = list(minuit.values)
    values = objective.values_from_internal(internal)
    at_limit = []
    for p, x in zip(params, internal):
        lo, hi = minuit.limits[p.internal_name]
        tolerance = max(1e-4 * minuit.errors[p.internal_name], 1e-7 * (hi - lo))
        if not p.fixed and (abs(x - lo) < tolerance or abs(x - hi) < tolerance):
            at_limit.append(p.name)
    errors = {}
    for p, x, err in zip(params, internal, minuit.errors):
        if p.fixed:
            errors[p.name] = 0.0
        elif p.log:
            errors[p.name] = float(p.to_value(x) * math.log(10.0) * err)
        else:
            errors[p.name] = float(err)
    chi2_parts = objective.chi2_by_dataset(values)
    n_free = sum(not p.fixed for p in params)
    components = model.components(values)
    scales = {k: v for k, v in values.items() if k.startswith("scale_")}
    model_values = {k: v for k, v in values.items() if not k.startswith("scale_")}
    model_errors = {k: v for k, v in errors.items() if not k.startswith("scale_")}
    data_used = {
        d.name: {
            "experiment": d.experiment,
            "citation": d.citation,
            "species": d.species,
            "ek_min_GeV_per_n": float(d.ek_GeV_per_n.min()),
            "ek_max_GeV_per_n": float(d.ek_GeV_per_n.max()),
            "n_measurements": d.n_measurements,
            "n_upper_limits": int(np.count_nonzero(d.is_upper_limit)),
            "n_dropped_no_error": d.n_dropped,
            "modulated": d.modulated,
            "scale_group": d.scale_group,
            "scale_uncertainty": d.scale_uncertainty,
        }
        for d in datasets
    }
    covariance = None
    if minuit.covariance is not None:
        covariance = np.asarray(minuit.covariance).tolist()
    meta = {
        NORM_PARAM: (f"T_piv^{NORM_WEIGHT_EXPONENT} J_LIS(T_piv), propagated unmodulated intensity at the pivot "
                     f"T_piv = {model.pivot_ek_GeV_per_n:g} GeV/n, in GeV^1.7 cm^-2 s^-1 sr^-1 (per nucleon^1.7)"),
        "q0": "Eq. 3 prefactor implied by the normalisation and G: injection per GV at R = 1 GV (first-segment "
              "continuation, no cutoff); units of Q per (GeV/n) times (GeV/n)/GV",
        "errors": "HESSE; log10-fitted parameters (breaks, cutoffs, normalisation, c_eplus) linearised",
        "chi2": "stat and sys in quadrature, error on the side of the model; upper limits one-sided",
    }
    if isinstance(model, LeptonModel):
        meta["c_eplus"] = ("scale factor of the secondary positrons (from p and He), as in Lin, Yuan & Bi 2015 "
                           "and Yuan et al. 2013; 1 = the propagated secondaries as computed")
        meta[EXTRA_NORM_PARAM] = (f"T^{NORM_WEIGHT_EXPONENT} J_LIS(T) of the extra e+ source at T = "
                                  f"{model.extra_pivot_ek_GeV:g} GeV, GeV^1.7 cm^-2 s^-1 sr^-1"
                                  + ("; the source injects e+ e- pairs" if model.extra_pairs else ""))
        meta["q0_eplus"] = "Eq. 3 prefactor of the extra e+ source (derived), units as q0"
    return FitResult(
        fit_name=model.fit_name,
        params=values,
        errors=errors,
        chi2=float(sum(chi2_parts.values())),
        ndof=int(objective.n_measurements - n_free),
        chi2_by_dataset=chi2_parts,
        n_points_by_dataset={d.name: d.n_measurements for d in datasets},
        data_used=data_used,
        fixed=[p.name for p in params if p.fixed],
        at_limit=at_limit,
        valid=bool(minuit.valid),
        minos_errors=minos_errors,
        derived={"q0": float(components["q0"]), "pivot_ek_GeV_per_n": model.pivot_ek_GeV_per_n,
                 "nuisance_scales": scales, "nfcn": int(minuit.nfcn),
                 **({"q0_eplus": float(components["q0_eplus"])} if "q0_eplus" in components else {})},
        internal_names=objective.internal_names,
        covariance_internal=covariance,
        model_meta=meta,
        split=model.split_for_summary(model_values, model_errors),
    )
