"""Correlated parameter draws from a fit covariance and quantile bands of functions of them.

A fit (:func:`galdiff.fitting.fit`) reports the best-fit *internal* parameters (log10 of the
positive scale parameters, the indices and Phi linear) and their HESSE covariance. In the Gaussian
(quadratic chi2) approximation the parameters' posterior is the multivariate normal
N(best, C); a band of any curve f(theta) is the pointwise central interval of f over draws from
it. Drawing in the internal parameters keeps scale parameters positive and is where the chi2 is
closest to quadratic (that is why the fit uses them).

Fixed parameters have zero rows and columns in C and are held at their values; the draw uses the
Cholesky factor of the free block (an eigen-decomposition with the negative eigenvalues set to zero
if HESSE's matrix is not numerically positive definite). Draws use ``numpy.random.default_rng(seed)``,
so identical inputs give identical bands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["covariance_factor", "draw_parameters", "central_interval", "sampled_band", "linearised_band",
           "CL_SIGMA"]

#: the central intervals the bands offer: confidence level -> Gaussian sigma (for the linearised band)
CL_SIGMA = {0.68: 0.994457883, 0.95: 1.959963985}


def covariance_factor(covariance) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the free parameters and a factor L of their covariance block (C_free = L L^T).

    Parameters
    ----------
    covariance : array_like, shape (n, n)
        Covariance of all parameters; fixed ones have a zero diagonal.

    Returns
    -------
    free : ndarray of int
    factor : ndarray, shape (n_free, n_free)
    """
    cov = np.asarray(covariance, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not np.all(np.isfinite(cov)):
        raise ValueError(f"covariance must be a finite square matrix, got shape {cov.shape}")
    free = np.flatnonzero(np.diag(cov) > 0.0)
    block = 0.5 * (cov[np.ix_(free, free)] + cov[np.ix_(free, free)].T)
    try:
        factor = np.linalg.cholesky(block)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(block)
        factor = vectors * np.sqrt(np.clip(values, 0.0, None))
    return free, factor


def draw_parameters(best, covariance, n_samples: int, seed: int, limits: Sequence | None = None) -> np.ndarray:
    """``n_samples`` draws of the parameter vector from N(best, covariance).

    Parameters
    ----------
    best : array_like, shape (n,)
    covariance : array_like, shape (n, n)
    n_samples : int
    seed : int
        Seed of :func:`numpy.random.default_rng` (identical draws for identical inputs).
    limits : sequence of (lo, hi) or None, optional
        Per parameter the fit's limits (None or a None side for none); draws are clipped into them,
        since the model is undefined (or the fit would not go) beyond.

    Returns
    -------
    ndarray, shape (n_samples, n)
    """
    best = np.asarray(best, dtype=float)
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    free, factor = covariance_factor(covariance)
    if np.asarray(covariance).shape[0] != best.size:
        raise ValueError(f"covariance shape {np.shape(covariance)} does not match {best.size} parameters")
    rng = np.random.default_rng(int(seed))
    normal = rng.standard_normal((int(n_samples), free.size))
    draws = np.repeat(best[None, :], int(n_samples), axis=0)
    draws[:, free] += normal @ factor.T
    for i, lim in enumerate(limits or []):
        if lim is None:
            continue
        lo, hi = lim
        draws[:, i] = np.clip(draws[:, i], -np.inf if lo is None else lo, np.inf if hi is None else hi)
    return draws


def central_interval(values, cl: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise central ``cl`` interval (quantiles (1 - cl)/2 and (1 + cl)/2) along ``axis``, NaN-aware."""
    if not 0.0 < cl < 1.0:
        raise ValueError(f"confidence level must lie in (0, 1), got {cl}")
    lo, hi = np.nanquantile(np.asarray(values, dtype=float), [0.5 * (1.0 - cl), 0.5 * (1.0 + cl)], axis=axis)
    return lo, hi


def sampled_band(function: Callable[[np.ndarray], np.ndarray], draws, levels: Sequence[float]) -> dict:
    """Evaluate ``function`` on every draw and return its median and central intervals.

    Parameters
    ----------
    function : callable
        Parameter vector -> array (any shape, the same for every draw).
    draws : array_like, shape (n_samples, n)
        From :func:`draw_parameters`.
    levels : sequence of float
        Confidence levels, e.g. (0.68, 0.95).

    Returns
    -------
    dict
        ``median``, ``std`` and ``{cl: (lo, hi)}`` under ``intervals``; ``values`` (n_samples, ...).
    """
    values = np.stack([np.asarray(function(theta), dtype=float) for theta in np.asarray(draws, dtype=float)])
    return {"values": values, "median": np.nanmedian(values, axis=0), "std": np.nanstd(values, axis=0),
            "intervals": {float(cl): central_interval(values, cl) for cl in levels}}


def linearised_band(jacobian, covariance) -> np.ndarray:
    """1-sigma error of y = f(theta) from the linearisation: sqrt(diag(J C J^T)).

    Parameters
    ----------
    jacobian : array_like, shape (m, n)
        df_i/dtheta_j at the best fit.
    covariance : array_like, shape (n, n)
    """
    jac = np.asarray(jacobian, dtype=float)
    return np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, np.asarray(covariance, dtype=float), jac), 0.0, None))
