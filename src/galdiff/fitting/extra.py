"""EXTRA normalisation fit: scale the unresolved-source components to the diffuse gamma-ray data.

docs/paper.md#model-chain: EXTRA1 (index 2.4, cutoff 20 TeV) and EXTRA2 (2.3, 2 PeV) have
fixed ECPL shapes; their normalisations are fitted to the LHAASO (and Fermi-LAT) diffuse spectra.
Model 1 = DR-high + EXTRA1, Model 2 = DR-low + EXTRA1 + EXTRA2.

Everything from emissivity to region spectrum is linear in an extra component's norm K_k
(docs/architecture.md#the-chain-is-linear), so the model in a region is

    I(E) = I_base(E) + sum_k s_k I_k(E),     s_k = K_k,fit / K_k,maps,

with I_base the propagated components (pi0, bremsstrahlung, IC) plus any extra that is not fitted,
and I_k the extra component's region spectrum from the maps (made with K_k,maps). The scales s_k
(>= 0) are fitted to all data points of all fitted regions at once (the norms are local
emissivities, shared by every region; the pulsar template fixes the inner/outer ratio), no map is
recomputed. The chi-square is the one of the injection fits (:mod:`galdiff.fitting`): errors are
stat and sys in quadrature, on the side of the model (upper error where the model is above the
point); upper limits count only where the model exceeds them (sigma = their upper error, or the
limit itself) and not in the degrees of freedom. The model is interpolated log-log from the map
energy grid to each point's energy. Errors on s_k come from the curvature of the chi-square at the
minimum (J^T J with J = d residual / d s); a scale at its bound 0 is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from astropy import units as u
from astropy.table import Table
from scipy import optimize, stats

from ..conventions import INTENSITY_UNIT
from ..spectra import loglog_interp
from .data import FitDataset
from .likelihood import model_side_pulls

__all__ = ["ExtraFitResult", "fit_extra_scales", "scale_components", "extra_fit_summary", "extras_from_emissivity"]

FLUX_UNIT = INTENSITY_UNIT


@dataclass
class _Points:
    """The points of all data sets of the EXTRA fit, one row each (the fit is vectorised over them)."""

    region: np.ndarray
    dataset: np.ndarray
    energy_GeV: np.ndarray
    flux: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    is_upper_limit: np.ndarray

    @classmethod
    def stack(cls, datasets: Sequence[FitDataset]) -> _Points:
        missing = [d.name for d in datasets if d.region is None]
        if missing:
            raise ValueError(f"EXTRA fit: data set(s) {missing} have no sky region "
                             "(galdiff.fitting.data.gamma_ray_datasets)")

        def column(attribute, dtype):
            return (np.concatenate([getattr(d, attribute) for d in datasets]) if datasets
                    else np.zeros(0, dtype=dtype))

        return cls(
            region=np.array([d.region for d in datasets for _ in range(d.ek_GeV_per_n.size)], dtype=str),
            dataset=np.array([d.name for d in datasets for _ in range(d.ek_GeV_per_n.size)], dtype=str),
            energy_GeV=column("ek_GeV_per_n", float), flux=column("flux", float), err_lo=column("err_lo", float),
            err_hi=column("err_hi", float), is_upper_limit=column("is_upper_limit", bool),
        )

    def __len__(self):
        return int(self.energy_GeV.size)


@dataclass
class ExtraFitResult:
    """Outcome of :func:`fit_extra_scales`.

    Attributes
    ----------
    names : list of str
        Fitted components, in parameter order.
    scales, scale_errors : ndarray
        s_k = K_fit / K_maps and their 1-sigma errors.
    covariance : ndarray, shape (n, n)
    chi2 : float
    ndof : int
        Measurements (not upper limits) minus free parameters.
    p_value : float
    at_bound : list of bool
        Scale pinned at 0.
    points : astropy.table.Table
        Per point: region, dataset, energy, flux, errors, model before and after, pull.
    prefit_chi2 : float
        Chi-square with all scales 1 (the configured norms).
    """

    names: list
    scales: np.ndarray
    scale_errors: np.ndarray
    covariance: np.ndarray
    chi2: float
    ndof: int
    p_value: float
    at_bound: list
    points: Table
    prefit_chi2: float
    message: str = ""
    extras: dict = field(default_factory=dict)


def extras_at_points(region, energy_GeV, components: dict, names) -> np.ndarray:
    """(n_points, k): each fitted extra's region spectrum at the data points (log-log interpolation).

    ``region``, ``energy_GeV``: per point; ``components``: ``{name: {region: (energies_GeV, intensity)}}``
    as for :func:`fit_extra_scales`. The fit's design matrix (and that of its redo on the band draws,
    :func:`galdiff.uncertainty.extra_bands.extra_refit_shifts`).
    """
    region, energy_GeV = np.asarray(region).astype(str), np.asarray(energy_GeV, dtype=float)
    design = np.zeros((energy_GeV.size, len(names)))
    for name_region in np.unique(region):
        rows = region == name_region
        for k, name in enumerate(names):
            energy_k, flux_k = components[name][name_region]
            design[rows, k] = loglog_interp(energy_GeV[rows], energy_k, flux_k, out_of_range="raise")
    return design


def pulling_points(model, flux, is_upper_limit) -> np.ndarray:
    """Points that pull the fit (bool): the measurements, and the upper limits the model exceeds."""
    return ~np.asarray(is_upper_limit, dtype=bool) | (np.asarray(model, dtype=float) > np.asarray(flux, dtype=float))


def _design(points: _Points, base: dict, components: dict, names):
    """Base model and the extra spectra at each data point (log-log interpolation)."""
    base_at = np.empty(len(points))
    for region in np.unique(points.region):
        rows = points.region == region
        if region not in base:
            raise KeyError(f"EXTRA fit: no model spectrum for region {region!r} (have {sorted(base)})")
        energy, flux = base[region]
        base_at[rows] = loglog_interp(points.energy_GeV[rows], energy, flux, out_of_range="raise")
    return base_at, extras_at_points(points.region, points.energy_GeV, components, names)


def _residuals(model, points: _Points):
    """Signed pulls and sigma of the points: the likelihood of the injection fits (model_side_pulls)."""
    return model_side_pulls(model, points.flux, points.err_lo, points.err_hi, points.is_upper_limit)


def fit_extra_scales(datasets: Sequence[FitDataset], base: dict, components: dict, names=None) -> ExtraFitResult:
    """Fit the scales of the extra components to the data (module docstring).

    Parameters
    ----------
    datasets : sequence of FitDataset
        Gamma-ray data sets with their sky region (:func:`galdiff.fitting.data.gamma_ray_datasets`);
        the fit takes all their points at once.
    base : dict
        ``{region: (energies_GeV, intensity)}``: everything that is not fitted (propagated
        components and fixed extras).
    components : dict
        ``{name: {region: (energies_GeV, intensity)}}``: each fitted extra's region spectrum as in
        the maps (scale 1).
    names : sequence of str, optional
        Components to fit (default: all of ``components``).

    Returns
    -------
    ExtraFitResult
    """
    names = list(components) if names is None else list(names)
    if not names:
        raise ValueError("EXTRA fit: no component to fit")
    points = _Points.stack(list(datasets))
    base_at, design = _design(points, base, components, names)
    measured = ~points.is_upper_limit
    n_free = len(names)
    if int(measured.sum()) <= n_free:
        raise ValueError(f"EXTRA fit: {int(measured.sum())} measurements for {n_free} free scales")
    if np.any(design.max(axis=0) <= 0):
        zero = [name for name, column in zip(names, design.T) if column.max() <= 0]
        raise ValueError(f"EXTRA fit: component(s) {zero} vanish at every data point; nothing to fit")

    def residual(scales):
        return _residuals(base_at + design @ scales, points)[0]

    # start: non-negative linear least squares with symmetric (mean) errors
    sigma0 = 0.5 * (points.err_lo + points.err_hi)
    start, _ = optimize.nnls(design[measured] / sigma0[measured, None],
                             (points.flux - base_at)[measured] / sigma0[measured])
    start = np.maximum(start, 1e-3 * np.max(np.abs(start)) if np.any(start) else 1.0)
    # x_scale from the data: a unit change of s_k moves the model by design[:, k]
    result = optimize.least_squares(residual, start, bounds=(0.0, np.inf), method="trf", x_scale="jac",
                                    xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
    # a scale pinned at its bound is zero, not a 1e-30 remnant of the optimiser
    at_bound = [bool(value <= 1e-9 * max(1.0, abs(start[k]))) for k, value in enumerate(result.x)]
    scales = np.where(at_bound, 0.0, result.x)
    model = base_at + design @ scales
    pulls, sigma = _residuals(model, points)
    active = pulling_points(model, points.flux, points.is_upper_limit)
    jac = design[active] / sigma[active, None]
    fisher = jac.T @ jac
    try:
        covariance = np.linalg.inv(fisher)
    except np.linalg.LinAlgError:
        covariance = np.linalg.pinv(fisher)
    chi2 = float(np.sum(pulls**2))
    ndof = int(measured.sum()) - n_free
    prefit_model = base_at + design.sum(axis=1)
    prefit_chi2 = float(np.sum(_residuals(prefit_model, points)[0] ** 2))
    table = Table()
    table["region"] = points.region
    table["dataset"] = points.dataset
    table["energy"] = points.energy_GeV * u.GeV
    table["flux"] = points.flux * FLUX_UNIT
    table["flux_lo_err"] = points.err_lo * FLUX_UNIT
    table["flux_hi_err"] = points.err_hi * FLUX_UNIT
    table["is_upper_limit"] = points.is_upper_limit
    table["model_prefit"] = prefit_model * FLUX_UNIT
    table["model_fit"] = model * FLUX_UNIT
    table["pull"] = pulls
    return ExtraFitResult(
        names=names, scales=scales, scale_errors=np.sqrt(np.clip(np.diag(covariance), 0.0, None)),
        covariance=covariance, chi2=chi2, ndof=ndof, p_value=float(stats.chi2.sf(chi2, ndof)) if ndof > 0 else float("nan"),
        at_bound=at_bound, points=table, prefit_chi2=prefit_chi2, message=str(result.message),
    )


def scale_components(spectra: dict, scales: dict, flavour_fractions: dict | None = None) -> dict:
    """Apply fitted scales to one region's (or one map's) component spectra.

    ``extraK`` and ``extraK_neutrino`` are multiplied by s_K; ``gamma_total`` and ``neutrino_total``
    gain (s_K - 1) times the extra's part; the per-flavour totals ``neutrino_<f>`` gain
    (s_K - 1) f_Kf(E) extraK_neutrino, where f_Kf(E) is the flavour share of the extra's neutrinos
    (``flavour_fractions[K][f]``, from the emissivities; 1/3 each if not given). Works on 1D spectra
    and (n_E, n_pix) cubes alike (the energy axis first).

    Parameters
    ----------
    spectra : dict
        ``{component: array}``; unchanged, a new dict is returned.
    scales : dict
        ``{extra name: s}``.
    flavour_fractions : dict, optional
        ``{extra name: {"e": array (n_E,), "mu": ..., "tau": ...}}``.
    """
    out = dict(spectra)
    for name, scale in scales.items():
        delta = float(scale) - 1.0
        if name in spectra:
            gamma = np.asarray(spectra[name], dtype=float)
            out[name] = gamma * scale
            if "gamma_total" in out:
                out["gamma_total"] = out["gamma_total"] + delta * gamma
        neutrino_name = f"{name}_neutrino"
        if neutrino_name in spectra:
            neutrino = np.asarray(spectra[neutrino_name], dtype=float)
            out[neutrino_name] = neutrino * scale
            if "neutrino_total" in out:
                out["neutrino_total"] = out["neutrino_total"] + delta * neutrino
            for flavour in ("e", "mu", "tau"):
                key = f"neutrino_{flavour}"
                if key not in out:
                    continue
                share = (flavour_fractions or {}).get(name, {}).get(flavour)
                share = np.full(neutrino.shape[0], 1.0 / 3.0) if share is None else np.asarray(share, dtype=float)
                share = share.reshape((-1,) + (1,) * (neutrino.ndim - 1))
                out[key] = out[key] + delta * share * neutrino
    return out


def extra_fit_summary(result: ExtraFitResult | None, maps_norms: dict, fixed: dict | None = None,
                      regions: dict | None = None) -> dict:
    """YAML/JSON-ready summary: fitted norms [GeV^-1 cm^-3 s^-1 sr^-1 at 1 TeV], errors, chi2/ndof.

    Parameters
    ----------
    result : ExtraFitResult or None
        None when nothing was fitted (then every extra keeps its maps' norm).
    maps_norms : dict
        ``{name: {"norm_per_GeV_cm3_s_sr": K_maps, "index": ..., "cutoff_GeV": ..., "origin": ...}}``.
    fixed : dict, optional
        ``{name: reason}`` for extras that were not fitted.
    regions : dict, optional
        ``{region: [datasets]}`` fitted.
    """
    components = {}
    fitted = dict(zip(result.names, range(len(result.names)))) if result is not None else {}
    for name, entry in maps_norms.items():
        norm = float(entry["norm_per_GeV_cm3_s_sr"])
        item = {key: entry[key] for key in ("index", "cutoff_GeV", "origin", "reference_GeV", "distribution", "r_sun_kpc")
                if key in entry}
        item["norm_maps_per_GeV_cm3_s_sr"] = norm
        if name in fitted:
            k = fitted[name]
            item.update({
                "fitted": True,
                "scale": float(result.scales[k]),
                "scale_error": float(result.scale_errors[k]),
                "norm_per_GeV_cm3_s_sr": float(result.scales[k] * norm),
                "norm_error_per_GeV_cm3_s_sr": float(result.scale_errors[k] * norm),
                "at_lower_bound": bool(result.at_bound[k]),
            })
        else:
            item.update({"fitted": False, "scale": 1.0, "norm_per_GeV_cm3_s_sr": norm,
                         "reason": (fixed or {}).get(name, "not fitted")})
        components[name] = item
    summary = {"components": components}
    if result is not None:
        summary.update({
            "chi2": result.chi2, "ndof": result.ndof, "chi2_per_ndof": result.chi2 / result.ndof if result.ndof else None,
            "p_value": result.p_value, "prefit_chi2": result.prefit_chi2, "n_points": len(result.points),
            "n_upper_limits": int(np.sum(result.points["is_upper_limit"])),
            "correlation": np.round(_correlation(result.covariance), 6).tolist(),
            "parameters": list(result.names), "regions": regions or {}, "optimizer": result.message,
        })
    return summary


def _correlation(covariance):
    sigma = np.sqrt(np.clip(np.diag(covariance), 1e-300, None))
    return covariance / np.outer(sigma, sigma)


def extras_from_emissivity(path) -> tuple[dict, dict]:
    """The extra components the maps were made with, and the flavour shares of their neutrinos.

    Reads only what is needed from an emissivity file (:func:`galdiff.emission.write_emissivity_h5`):
    the ``extras`` settings (norm, index, cutoff, origin per component) and, for hadronic ones, the
    per-flavour neutrino emissivities, whose ratio to the all-flavour one is the same in every cell
    (one spatial template times one spectrum).

    Returns
    -------
    norms : dict
        ``{name: {"norm_per_GeV_cm3_s_sr", "index", "cutoff_GeV", "origin", "reference_GeV"}}``.
    flavour_fractions : dict
        ``{name: {"e": array, "mu": array, "tau": array}}`` on the neutrino energy grid (hadronic only).
    """
    import json

    from ..io import reading_h5

    with reading_h5(path) as handle:
        settings = json.loads(handle.attrs["settings"])
        names = json.loads(handle.attrs["component_names"])
        norms, fractions = {}, {}
        for entry in settings.get("extras", []):
            name = entry["name"]
            norms[name] = {key: entry[key] for key in ("norm_per_GeV_cm3_s_sr", "index", "cutoff_GeV", "origin",
                                                        "reference_GeV", "distribution", "r_sun_kpc") if key in entry}
            if f"{name}_neutrino_all" not in names:
                continue
            total = handle["components"][f"{name}_neutrino_all"][()]
            cell = np.unravel_index(np.argmax(total.sum(axis=-1)), total.shape[:-1])
            denominator = total[cell]
            fractions[name] = {
                flavour: np.divide(handle["components"][f"{name}_neutrino_{flavour}"][()][cell], denominator,
                                   out=np.full(denominator.shape, 1.0 / 3.0), where=denominator > 0)
                for flavour in ("e", "mu", "tau")
            }
    return norms, fractions
