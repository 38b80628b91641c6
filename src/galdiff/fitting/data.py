"""The data sets of the injection fits: tidy tables to fit points, which data each species' fit uses.

The selection (experiments, energy windows, added systematic errors, nuisance scales) is the
configuration's ``fitting.data`` (its defaults: the paper's data, docs/paper.md#tables-ii-and-iii-injection,
with our error model, documented key by key in ``workflow/schemas/config.schema.yaml``); the
likelihood is :mod:`galdiff.fitting.likelihood`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass
class FitDataset:
    """One data set reduced to what the likelihood needs (plain float64 arrays, one energy axis).

    The injection fits' cosmic-ray data (:func:`prepare_datasets`) and the EXTRA fit's gamma-ray
    data in a sky region (:func:`gamma_ray_datasets`, ``region`` set) are both FitDatasets, with
    the errors made usable by one rule (:func:`usable_errors`), and both enter the one chi-square
    (:mod:`galdiff.fitting.likelihood`).

    Attributes
    ----------
    name : str
        Data-set name (e.g. ``ams02_proton``, ``lhaaso_km2a_inner``).
    experiment : str
    species : str
        ``proton``, ``helium``, ``electron``, ``positron`` or ``electron+positron``; the model
        summed over the matching components is compared with it. ``gamma`` for gamma-ray data.
    ek_GeV_per_n : numpy.ndarray
        Kinetic energy per nucleon (per particle for leptons) of each point, GeV/n; the photon
        energy, GeV, for gamma rays.
    flux : numpy.ndarray
        Measured intensity or upper limit [cm^-2 s^-1 sr^-1 (GeV/n)^-1]; GeV^-1 for gamma rays.
    err_lo, err_hi : numpy.ndarray
        Total (stat and sys in quadrature) lower and upper errors, same units, > 0.
    is_upper_limit : numpy.ndarray of bool
    modulated : bool
        Whether the force field applies (False for Voyager 1, beyond the heliopause).
    scale_group : str or None
        Nuisance-normalisation group; None for no nuisance normalisation.
    scale_uncertainty : float or None
        Fractional width of the Gaussian prior on the group's normalisation.
    citation : str
    n_dropped : int
        Points inside the energy range dropped for having no usable error.
    region : str or None
        Sky region (a key of the configuration's ``regions``) of a gamma-ray data set; None for the
        local cosmic-ray data.
    """

    name: str
    experiment: str
    species: str
    ek_GeV_per_n: np.ndarray
    flux: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    is_upper_limit: np.ndarray
    modulated: bool = True
    scale_group: str | None = None
    scale_uncertainty: float | None = None
    citation: str = ""
    n_dropped: int = 0
    region: str | None = None

    def __post_init__(self):
        self.ek_GeV_per_n = np.asarray(self.ek_GeV_per_n, dtype=float)
        n = self.ek_GeV_per_n.size
        self.flux = np.asarray(self.flux, dtype=float)
        self.err_lo = np.broadcast_to(np.asarray(self.err_lo, dtype=float), (n,)).copy()
        self.err_hi = np.broadcast_to(np.asarray(self.err_hi, dtype=float), (n,)).copy()
        self.is_upper_limit = np.broadcast_to(np.asarray(self.is_upper_limit, dtype=bool), (n,)).copy()
        if self.flux.shape != (n,):
            raise ValueError(f"data set {self.name!r}: flux and ek_GeV_per_n differ in shape")
        if np.any(self.ek_GeV_per_n <= 0):
            raise ValueError(f"data set {self.name!r}: energies must be > 0")
        if np.any(self.err_lo <= 0) or np.any(self.err_hi <= 0):
            raise ValueError(f"data set {self.name!r}: total errors must be > 0 (drop or fix such points)")

    @property
    def n_measurements(self) -> int:
        """Points that are measurements (not upper limits)."""
        return int(np.count_nonzero(~self.is_upper_limit))


#: the fits of one model (``fitting.data`` of the configuration has one entry each)
FIT_NAMES = ("proton", "helium", "leptons")
#: the fits that add the model's knee data set (``<knee_dataset>_<species>``)
KNEE_FITS = ("proton", "helium")


def fit_data_selection(fit_data: Mapping | None, knee_dataset: str) -> dict:
    """The data of a model's injection fits: ``fitting.data`` of the configuration plus the knee data set.

    ``fitting.data`` (``workflow/schemas/config.schema.yaml``; its defaults are the paper's
    selection, docs/paper.md#tables-ii-and-iii-injection) names the tidy tables of each fit with
    their options (:func:`prepare_datasets`); the proton and helium fits add the model's air-shower
    data set at the knee, ``<knee_dataset>_<species>`` with no options (DR-high IceTop, DR-low
    KASCADE), after the configured ones.

    Parameters
    ----------
    fit_data : mapping or None
        ``{fit_name: {dataset_name: options}}`` with fit names :data:`FIT_NAMES` (the configuration's
        ``fitting.data``); None for the schema's defaults.
    knee_dataset : {"icetop", "kascade"}
        The configuration's ``models.<model>.knee_dataset``.

    Returns
    -------
    dict
        ``{fit_name: {dataset_name: options}}`` for every fit of :data:`FIT_NAMES`.
    """
    if knee_dataset not in ("icetop", "kascade"):
        raise ValueError(f"knee_dataset must be 'icetop' or 'kascade', got {knee_dataset!r}")
    if fit_data is None:
        from ..config import schema_defaults

        fit_data = schema_defaults("fitting")["data"]
    unknown = set(fit_data) - set(FIT_NAMES)
    if unknown:
        raise KeyError(f"fitting.data: unknown fit(s) {sorted(unknown)}; the fits are {list(FIT_NAMES)}")
    selection = {name: {dataset: dict(options or {}) for dataset, options in (fit_data.get(name) or {}).items()}
                 for name in FIT_NAMES}
    for species in KNEE_FITS:
        selection[species].setdefault(f"{knee_dataset}_{species}", {})
    return selection


def usable_errors(flux, err_lo, err_hi, is_upper_limit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total errors as the likelihood uses them, and which points have one.

    An upper limit's only relevant error is the upper one (the limit itself when it has none), so
    its lower error is set to it; a measurement with one side zero uses the other side; a point
    with neither is not usable (its fit drops it and counts it in ``n_dropped``).

    Parameters
    ----------
    flux, err_lo, err_hi : array_like
        Value or limit and total (stat and sys) lower and upper errors, one unit; a missing error is 0.
    is_upper_limit : array_like of bool

    Returns
    -------
    err_lo, err_hi : numpy.ndarray
    usable : numpy.ndarray of bool
    """
    flux = np.asarray(flux, dtype=float)
    upper = np.asarray(is_upper_limit, dtype=bool)
    err_hi = np.where(upper & (np.asarray(err_hi, dtype=float) <= 0), flux, err_hi)
    err_lo = np.where(upper, err_hi, err_lo)
    err_lo, err_hi = np.where(err_lo > 0, err_lo, err_hi), np.where(err_hi > 0, err_hi, err_lo)
    return err_lo, err_hi, (err_lo > 0) & (err_hi > 0)


def prepare_datasets(tables: Mapping, selection: Mapping) -> list[FitDataset]:
    """Turn tidy cosmic-ray tables into :class:`FitDataset` objects, applying a selection.

    Parameters
    ----------
    tables : mapping of str to astropy.table.Table
        Tidy tables (:func:`galdiff.data.datasets.build_dataset` / ``read_dataset``) by data-set
        name; converted to T_n with :func:`galdiff.data.datasets.flux_vs_ek_per_n`.
    selection : mapping of str to mapping
        ``{dataset_name: options}`` for one fit, options (all optional):
        ``ek_min_GeV_per_n``, ``ek_max_GeV_per_n`` (inclusive range of T_n kept),
        ``modulated`` (default: False for names starting with ``voyager``, else True),
        ``sys_fraction`` (a fractional systematic error added in quadrature to both sides, for
        sources without systematic errors),
        ``scale_uncertainty`` (fractional width of a nuisance-normalisation prior; absent or
        None: no nuisance), ``scale_group`` (default: the table's experiment).

    Returns
    -------
    list of FitDataset
        Points with zero total error on both sides are dropped (counted in ``n_dropped``, e.g. the
        IceTop helium row at 1.995e8 GeV); a point with one zero side uses the other side.
    """
    from ..data.datasets import flux_vs_ek_per_n  # local import: the data layer pulls in astropy

    out = []
    for name, options in selection.items():
        options = dict(options or {})
        unknown = set(options) - {"ek_min_GeV_per_n", "ek_max_GeV_per_n", "modulated", "scale_uncertainty",
                                  "scale_group", "sys_fraction"}
        if unknown:
            raise KeyError(f"data set {name!r}: unknown selection option(s) {sorted(unknown)}")
        if name not in tables:
            raise KeyError(f"data set {name!r} selected but no table given; have {sorted(tables)}")
        table = tables[name]
        spectrum = flux_vs_ek_per_n(table)
        ek = spectrum.ek_GeV_per_n
        keep = np.isfinite(ek) & np.isfinite(spectrum.flux_per_GeV_per_n)
        if options.get("ek_min_GeV_per_n") is not None:
            keep &= ek >= float(options["ek_min_GeV_per_n"])
        if options.get("ek_max_GeV_per_n") is not None:
            keep &= ek <= float(options["ek_max_GeV_per_n"])
        err_lo = np.hypot(np.nan_to_num(spectrum.stat_lo), np.nan_to_num(spectrum.sys_lo))
        err_hi = np.hypot(np.nan_to_num(spectrum.stat_hi), np.nan_to_num(spectrum.sys_hi))
        upper = spectrum.is_upper_limit
        flux = spectrum.flux_per_GeV_per_n
        sys_fraction = float(options.get("sys_fraction") or 0.0)
        if sys_fraction < 0:
            raise ValueError(f"data set {name!r}: sys_fraction must be >= 0, got {sys_fraction}")
        if sys_fraction > 0:
            extra = sys_fraction * np.abs(flux)
            err_lo, err_hi = np.where(upper, err_lo, np.hypot(err_lo, extra)), np.where(upper, err_hi, np.hypot(err_hi, extra))
        err_lo, err_hi, usable = usable_errors(flux, err_lo, err_hi, upper)
        n_dropped = int(np.count_nonzero(keep & ~usable))
        keep &= usable
        if not np.any(keep):
            raise ValueError(f"data set {name!r}: no points left after the selection {options}")
        scale_uncertainty = options.get("scale_uncertainty")
        out.append(FitDataset(
            name=name,
            experiment=str(table.meta.get("experiment", name)),
            species=str(table.meta.get("species")),
            ek_GeV_per_n=ek[keep],
            flux=flux[keep],
            err_lo=err_lo[keep],
            err_hi=err_hi[keep],
            is_upper_limit=upper[keep],
            modulated=bool(options.get("modulated", not name.startswith("voyager"))),
            scale_group=(options.get("scale_group") or str(table.meta.get("experiment", name)))
            if scale_uncertainty is not None else None,
            scale_uncertainty=None if scale_uncertainty is None else float(scale_uncertainty),
            citation=str(table.meta.get("citation", "")),
            n_dropped=n_dropped,
        ))
    return out


def gamma_ray_datasets(tables_by_region: Mapping, energy_range_GeV=None,
                       dataset_energy_ranges_GeV: Mapping | None = None) -> list[FitDataset]:
    """The EXTRA fit's data: tidy gamma-ray tables by sky region as :class:`FitDataset` objects.

    Tidy gamma-ray tables carry ``energy``, ``flux``, ``flux_lo_err``, ``flux_hi_err`` (stat and sys
    in quadrature) and optionally ``is_upper_limit`` (:mod:`galdiff.data.datasets`).

    Parameters
    ----------
    tables_by_region : mapping
        ``{region: [astropy.table.Table, ...]}`` (the configuration's ``spectra.extra_fit.data``, read).
    energy_range_GeV : (float, float), optional
        Inclusive photon-energy range of the points kept; all when None.
    dataset_energy_ranges_GeV : mapping, optional
        ``{dataset: (min, max)}``, by ``meta["dataset"]``: replaces ``energy_range_GeV`` for the
        tables it names (e.g. a GeV Fermi-LAT table beside the TeV-PeV LHAASO ones).

    Returns
    -------
    list of FitDataset
        One per (region, table) with points in its window, in the given order; ``species``
        ``gamma``, not modulated, no nuisance scale, errors by :func:`usable_errors`.
    """
    from astropy import units as u

    from ..conventions import INTENSITY_UNIT

    out = []
    for region, tables in tables_by_region.items():
        for table in tables:
            name = str(table.meta.get("dataset", ""))
            energy = table["energy"].quantity.to_value(u.GeV)
            keep = np.ones(energy.size, dtype=bool)
            window = (dataset_energy_ranges_GeV or {}).get(name, energy_range_GeV)
            if window is not None:
                keep = (energy >= window[0]) & (energy <= window[1])
            upper = (np.asarray(table["is_upper_limit"], dtype=bool) if "is_upper_limit" in table.colnames
                     else np.zeros(energy.size, dtype=bool))
            flux = table["flux"].quantity.to_value(INTENSITY_UNIT)
            err_lo, err_hi, usable = usable_errors(
                flux, np.nan_to_num(table["flux_lo_err"].quantity.to_value(INTENSITY_UNIT)),
                np.nan_to_num(table["flux_hi_err"].quantity.to_value(INTENSITY_UNIT)), upper)
            n_dropped = int(np.count_nonzero(keep & ~usable))
            keep &= usable
            if not np.any(keep):
                continue
            out.append(FitDataset(
                name=name, experiment=str(table.meta.get("experiment", name)), species="gamma",
                ek_GeV_per_n=energy[keep], flux=flux[keep], err_lo=err_lo[keep], err_hi=err_hi[keep],
                is_upper_limit=upper[keep], modulated=False, citation=str(table.meta.get("citation", "")),
                n_dropped=n_dropped, region=str(region),
            ))
    return out
