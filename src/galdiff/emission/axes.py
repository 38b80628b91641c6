"""The emission stage's energy axes and its input: the cosmic-ray intensity J = beta c N / (4 pi) of a
propagated density, and the log-log regridding and axis checks every emission channel uses."""

from __future__ import annotations

import numpy as np

from galdiff.units import C_CM_PER_S, beta_from_ek_per_n, get_species

#: Default gamma-ray (and neutrino) energy axis: 0.1 GeV - 10 PeV, 12 per decade (97 points).
DEFAULT_GAMMA_ENERGY_GEV = np.logspace(-1.0, 7.0, 97)
#: Default target-photon grid for IC and pair absorption: 1e-6 - 15 eV, 32 per decade. The IC
#: kernel interpolates n(eps) linearly in ln eps (error ~ (2 dln eps)^2 / 12 ~ 0.2 % here).
DEFAULT_TARGET_ENERGY_EV = np.geomspace(1e-6, 15.0, int(round(32 * np.log10(15.0 / 1e-6))) + 1)
SPECIES = ("proton", "helium", "electron", "positron")


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def _loglog_regrid(x_from, y_from, x_to):
    """Log-log interpolation of y(x) (leading axis = x) onto ``x_to``; zero outside and where y <= 0."""
    x_from = np.asarray(x_from, dtype=float)
    x_to = np.asarray(x_to, dtype=float)
    y = np.asarray(y_from, dtype=float)
    if x_from.shape == x_to.shape and np.allclose(x_from, x_to, rtol=1e-12, atol=0.0):
        return y
    ln_x = np.log(x_from)
    ln_t = np.log(x_to)
    lo = np.clip(np.searchsorted(ln_x, ln_t, side="right") - 1, 0, ln_x.size - 2)
    w = (ln_t - ln_x[lo]) / (ln_x[lo + 1] - ln_x[lo])
    inside = (ln_t >= ln_x[0] - 1e-12) & (ln_t <= ln_x[-1] + 1e-12)
    shape = (-1,) + (1,) * (y.ndim - 1)
    w = w.reshape(shape)
    y_lo, y_hi = y[lo], y[lo + 1]
    positive = (y_lo > 0) & (y_hi > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.exp((1 - w) * np.log(np.where(positive, y_lo, 1.0)) + w * np.log(np.where(positive, y_hi, 1.0)))
    val = np.where(positive, val, (1 - w) * y_lo + w * y_hi)
    return np.where(inside.reshape(shape), val, 0.0)


def _check_axis(name, values):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size < 2 or not np.all(np.isfinite(arr)) or np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be a 1D strictly increasing finite array with >= 2 points")
    return arr


def species_intensity_from_density(density_per_cm3_GeV, ek_GeV_per_n, species):
    """Intensity J = beta c N / (4 pi) of a species from its propagated density N, beta from the
    energies (docs/conventions.md#flux-density-and-emissivity); the propagation stage's
    :func:`galdiff.propagation.solver.intensity_from_density` takes beta itself.

    The propagation stage stores psi = N(E, r, z) in cm^-3 (GeV/n)^-1 (``cr.h5``); the emission
    stage takes J in GeV^-1 cm^-2 s^-1 sr^-1 (per GeV/n for nuclei).

    Parameters
    ----------
    density_per_cm3_GeV : array_like, shape (n_E, ...)
        N per unit kinetic energy per nucleon (per GeV for e+-).
    ek_GeV_per_n : array_like, shape (n_E,)
    species : str or galdiff.units.Species
        'proton', 'helium', 'electron' or 'positron' (sets beta).

    Returns
    -------
    ndarray, same shape as the density
    """
    sp = get_species(species) if isinstance(species, str) else species
    beta = beta_from_ek_per_n(np.asarray(ek_GeV_per_n, dtype=float), sp)
    density = np.asarray(density_per_cm3_GeV, dtype=float)
    return (beta * C_CM_PER_S / (4.0 * np.pi)).reshape((-1,) + (1,) * (density.ndim - 1)) * density
