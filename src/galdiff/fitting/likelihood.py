"""The chi-square of the fits: stat+sys errors on the model's side, one-sided upper limits, nuisance
scales with Gaussian priors (the "Likelihood" section of :mod:`galdiff.fitting`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..spectra import (
    force_field_shift_GeV_per_n,
)
from .models import NucleusModel, _Param, lis_at_earth

if TYPE_CHECKING:
    from .data import FitDataset


def chi2_contributions(model, data, err_lo, err_hi, is_upper_limit):
    """Per-point chi-square with asymmetric errors and one-sided upper limits.

    ``((m - d)/sigma)^2`` with sigma = ``err_hi`` where m > d and ``err_lo`` otherwise (the error
    on the side of the model); an upper limit contributes only where m > d.

    Parameters
    ----------
    model, data, err_lo, err_hi : array_like
        Model, measured value (or limit) and total errors, one unit.
    is_upper_limit : array_like of bool

    Returns
    -------
    numpy.ndarray
        Dimensionless contributions, >= 0.
    """
    return model_side_pulls(model, data, err_lo, err_hi, is_upper_limit)[0] ** 2


def model_side_pulls(model, data, err_lo, err_hi, is_upper_limit):
    """Signed pulls (d - m)/sigma of :func:`chi2_contributions` (whose squares they are), and sigma.

    sigma is the error on the side of the model (``err_hi`` where m > d, ``err_lo`` otherwise;
    ``err_hi`` for an upper limit); an upper limit pulls only where m > d (zero elsewhere). The
    least-squares form of the same chi-square, for fits that take residuals (the EXTRA fit,
    :mod:`galdiff.fitting.extra`).

    Returns
    -------
    pulls, sigma : numpy.ndarray
    """
    model = np.asarray(model, dtype=float)
    data = np.asarray(data, dtype=float)
    upper = np.asarray(is_upper_limit, dtype=bool)
    above = model > data
    sigma = np.where(above | upper, err_hi, err_lo)
    return np.where(upper & ~above, 0.0, (data - model) / sigma), sigma

class ChiSquare:
    """chi2(parameters) for a model and data sets, callable by iminuit with internal parameters.

    Internal parameters are the model's (log10 of the positive scale parameters) followed by one
    nuisance normalisation ``scale_<group>`` per scale group (module docstring).
    """

    errordef = 1.0  # iminuit.Minuit.LEAST_SQUARES

    def __init__(self, model: NucleusModel, datasets: Sequence[FitDataset]):
        self.model = model
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("no data sets to fit")
        for dataset in self.datasets:
            model.data_components(dataset.species)  # raises for a species mismatch
        self.scale_groups: dict[str, float] = {}
        for dataset in self.datasets:
            if dataset.scale_group is None:
                continue
            sigma = dataset.scale_uncertainty
            if sigma is None or sigma <= 0:
                raise ValueError(f"data set {dataset.name!r}: scale_uncertainty must be > 0")
            previous = self.scale_groups.setdefault(dataset.scale_group, sigma)
            if not math.isclose(previous, sigma):
                raise ValueError(f"scale group {dataset.scale_group!r}: inconsistent scale_uncertainty")
        self.params = list(model.params) + [
            _Param(f"scale_{group}", 1.0, limits=(max(0.0, 1.0 - 5.0 * s), 1.0 + 5.0 * s))
            for group, s in self.scale_groups.items()
        ]
        self._names = [p.internal_name for p in self.params]
        self._check_ranges()

    def _check_ranges(self):
        """Every data energy (shifted by the largest allowed Phi_n) must lie on the model grid."""
        grid = self.model.grid_ek_GeV_per_n
        phi_max = {p.name: p.limits[1] for p in self.params if p.name.startswith("Phi")}
        for dataset in self.datasets:
            shift = 0.0
            if dataset.modulated:
                for component in self.model.data_components(dataset.species):
                    phi_name = "Phi_eplus_GV" if component.startswith("positron") and "Phi_eplus_GV" in phi_max \
                        else "Phi_GV"
                    shift = max(shift, force_field_shift_GeV_per_n(phi_max[phi_name], self.model.species))
            lo, hi = dataset.ek_GeV_per_n.min(), dataset.ek_GeV_per_n.max() + shift
            if lo < grid[0] or hi > grid[-1]:
                raise ValueError(f"data set {dataset.name!r} needs T_n in [{lo:g}, {hi:g}] GeV/n (with the largest "
                                 f"allowed modulation shift) but the {self.model.fit_name} grid covers "
                                 f"[{grid[0]:g}, {grid[-1]:g}]; extend the grid or cut the data")

    @property
    def internal_names(self) -> list[str]:
        return list(self._names)

    def values_from_internal(self, internal: Sequence[float]) -> dict:
        """Reported parameter values (linear units) from internal ones."""
        return {p.name: p.to_value(x) for p, x in zip(self.params, internal)}

    def predictions(self, values: Mapping) -> dict:
        """Model intensity at each data set's energies (nuisance scale applied), by data-set name."""
        components = self.model.components(values)["lis"]
        grid = self.model.grid_ek_GeV_per_n
        out = {}
        for dataset in self.datasets:
            total = np.zeros_like(dataset.ek_GeV_per_n)
            for name in self.model.data_components(dataset.species):
                lis, species, phi_GV = components[name]
                if not np.any(lis > 0):
                    continue
                total = total + lis_at_earth(dataset.ek_GeV_per_n, grid, lis, phi_GV, species, dataset.modulated)
            if dataset.scale_group is not None:
                total = total * values[f"scale_{dataset.scale_group}"]
            out[dataset.name] = total
        return out

    def chi2_by_dataset(self, values: Mapping) -> dict:
        """chi2 of each data set and of each nuisance prior (``prior_scale_<group>``)."""
        predictions = self.predictions(values)
        out = {d.name: float(np.sum(chi2_contributions(predictions[d.name], d.flux, d.err_lo, d.err_hi,
                                                      d.is_upper_limit)))
               for d in self.datasets}
        for group, sigma in self.scale_groups.items():
            out[f"prior_scale_{group}"] = ((values[f"scale_{group}"] - 1.0) / sigma) ** 2
        return out

    def __call__(self, *internal) -> float:
        values = self.values_from_internal(internal)
        try:
            total = sum(self.chi2_by_dataset(values).values())
        except (ValueError, FloatingPointError):
            return 1e30
        return total if np.isfinite(total) else 1e30

    @property
    def n_measurements(self) -> int:
        """Measurements plus nuisance priors (the pseudo-measurements that ndof counts)."""
        return sum(d.n_measurements for d in self.datasets) + len(self.scale_groups)
