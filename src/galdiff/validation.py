"""A GeV anchor that needs no mask: the model's gamma rays in the inner Galaxy against Fermi-LAT.

Ackermann et al. (2012, ApJ 750, 3, Fig. 17) give the total Fermi-LAT intensity of |l| < 80 deg,
|b| < 8 deg (sources and isotropic background included). Unlike the LHAASO comparisons it needs
no source mask, so the ratio model / Fermi-LAT at 1-100 GeV checks the engine (gas, cosmic-ray
sea, pi0, IC, line of sight) where the extras are negligible. The model has no point sources and
no isotropic background, so it is expected a little below the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from astropy import units as u

from .skymaps.region_spectra import INTENSITY_UNIT, spectrum_columns
from .spectra import loglog_interp

__all__ = ["ANCHOR_COMPONENTS", "MAX_EXTRAPOLATION_DEX", "gev_anchor_ratios"]

#: components drawn and tabulated (the total and its parts)
ANCHOR_COMPONENTS = ("pi0", "inverse_compton", "bremsstrahlung", "extra1", "extra2", "gamma_total")
#: how far beyond the digitised points (0.24-94 GeV) a ratio may be taken, by log-log extrapolation
MAX_EXTRAPOLATION_DEX = 0.05


def _fermi_intensity(fermi_table, energy_GeV: float) -> float:
    energy = fermi_table["energy"].quantity.to_value(u.GeV)
    flux = fermi_table["flux"].quantity.to_value(INTENSITY_UNIT)
    log_e = np.log10(energy_GeV)
    if not np.log10(energy[0]) - MAX_EXTRAPOLATION_DEX <= log_e <= np.log10(energy[-1]) + MAX_EXTRAPOLATION_DEX:
        return float("nan")
    if energy[0] <= energy_GeV <= energy[-1]:
        return float(loglog_interp(energy_GeV, energy, flux))
    end = slice(0, 2) if energy_GeV < energy[0] else slice(-2, None)
    slope = np.diff(np.log(flux[end])) / np.diff(np.log(energy[end]))
    return float(flux[end][0] * (energy_GeV / energy[end][0]) ** slope[0])


def gev_anchor_ratios(spectra_table, fermi_table, energies_GeV: Sequence[float] = (1.0, 10.0, 100.0)) -> dict:
    """Model / Fermi-LAT intensity ratios of the total and of each component at the given energies.

    Parameters
    ----------
    spectra_table : astropy.table.Table
        Region spectra of |l| < 80, |b| < 8 (no mask; :mod:`galdiff.skymaps.region_spectra`).
    fermi_table : astropy.table.Table
        Tidy ``fermi_lat_ackermann2012_inner_galaxy``.
    energies_GeV : sequence of float

    Returns
    -------
    dict
        ``model``, ``region``, ``energies_GeV``, ``ratio_total`` (``{energy label: ratio}``, labels
        like ``"1GeV"``), ``ratio_by_component`` (component -> the same), ``fermi_energy_range_GeV`` and
        a ``definition``. Energies more than :data:`MAX_EXTRAPOLATION_DEX` outside the data give NaN.
    """
    columns = spectrum_columns(spectra_table, [c for c in ANCHOR_COMPONENTS if c in spectra_table.colnames])
    energy = columns["energy_GeV"]
    by_component = {}
    for component in ANCHOR_COMPONENTS:
        if component not in columns:
            continue
        ratios = {}
        for e in energies_GeV:
            data = _fermi_intensity(fermi_table, float(e))
            model = float(loglog_interp(float(e), energy, columns[component]))
            ratios[f"{float(e):g}GeV"] = model / data if np.isfinite(data) and data > 0 else float("nan")
        by_component[component] = ratios
    fermi_energy = fermi_table["energy"].quantity.to_value(u.GeV)
    return {
        "model": spectra_table.meta.get("model"),
        "region": spectra_table.meta.get("region"),
        "energies_GeV": [float(e) for e in energies_GeV],
        "ratio_total": by_component.get("gamma_total", {}),
        "ratio_by_component": by_component,
        "fermi_energy_range_GeV": [float(fermi_energy.min()), float(fermi_energy.max())],
        "definition": ("model mean intensity in the region (no mask) / Fermi-LAT total intensity of |l|<80, |b|<8 "
                       "(Ackermann et al. 2012 Fig. 17, digitised; sources and isotropic background included, the "
                       f"model has neither); log-log interpolation, extrapolated <= {MAX_EXTRAPOLATION_DEX} dex "
                       "beyond the points"),
    }
