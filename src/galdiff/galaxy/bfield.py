"""Galactic magnetic field for synchrotron losses: GALPROP's "galprop_original" model.

B(R, z) = B0 exp(-(R - R_sun)/r_B) exp(-|z|/z_B) (docs/galaxy_inputs.md#magnetic-field; GALPROP v56
``B_field_model.cc``). Default = GALPROP galdef ``B_field_model = 050100020``: B0 = 5 microG,
r_B = 10 kpc, z_B = 2 kpc, R_sun = 8.5 kpc (the recipe's own R_sun, kept at 8.5 unless
deliberately rescaled). 3D use: evaluate at the galactocentric cylinder radius of the point.
"""

from __future__ import annotations

import numpy as np

from ..units import EV_ERG

__all__ = [
    "GALPROP_R_SUN_KPC",
    "b_field_microG",
    "magnetic_energy_density_eV_cm3",
    "parse_galprop_b_field_model",
]

GALPROP_R_SUN_KPC = 8.5


def b_field_microG(radius_kpc, z_kpc, b0_microG: float = 5.0, r_scale_kpc: float = 10.0,
                   z_scale_kpc: float = 2.0, r_sun_kpc: float = GALPROP_R_SUN_KPC):
    """Total (random + regular) field strength of the GALPROP exponential model.

    B = B0 exp(-(R - R_sun)/r_B) exp(-|z|/z_B) (docs/galaxy_inputs.md#magnetic-field).

    Parameters
    ----------
    radius_kpc, z_kpc : array_like
        Galactocentric cylinder radius and height in kpc (broadcast together).
    b0_microG : float
        Field at the solar position in microgauss (5 for galdef 050100020, 6 for 060100020).
    r_scale_kpc, z_scale_kpc : float
        Radial and vertical exponential scales r_B, z_B in kpc.
    r_sun_kpc : float
        Solar radius of the recipe (GALPROP: 8.5 kpc).

    Returns
    -------
    numpy.ndarray
        B in microgauss.
    """
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    return b0_microG * np.exp(-(r - r_sun_kpc) / r_scale_kpc) * np.exp(-np.abs(z) / z_scale_kpc)


def magnetic_energy_density_eV_cm3(b_microG):
    """Magnetic energy density U_B = B^2/(8 pi) in eV cm^-3 for B in microgauss.

    Gaussian units (B in G gives erg cm^-3), converted with 1 eV = 1.602177e-12 erg:
    U_B = 0.02483 (B/microG)^2 eV cm^-3 (docs/conventions.md#constants, docs/galaxy_inputs.md#magnetic-field).
    """
    b_gauss = 1e-6 * np.asarray(b_microG, dtype=float)
    return b_gauss**2 / (8.0 * np.pi) / EV_ERG


def parse_galprop_b_field_model(code) -> dict:
    """Decode a 9-digit GALPROP ``B_field_model`` code BBBrrrzzz (units of 0.1).

    docs/galaxy_inputs.md#magnetic-field: B0 = BBB x 0.1 microG, r_B = rrr x 0.1 kpc, z_B = zzz x 0.1 kpc;
    e.g. ``"050100020"`` -> 5 microG, 10 kpc, 2 kpc.

    Returns
    -------
    dict
        Keyword arguments for :func:`b_field_microG` (``b0_microG``, ``r_scale_kpc``,
        ``z_scale_kpc``).
    """
    text = str(code).strip()
    if not text.isdigit() or int(text) < 1000:
        raise ValueError(f"B_field_model {code!r}: expected a 9-digit code BBBrrrzzz such as 050100020")
    text = text.zfill(9)
    if len(text) != 9:
        raise ValueError(f"B_field_model {code!r}: expected 9 digits")
    return {
        "b0_microG": int(text[0:3]) * 0.1,
        "r_scale_kpc": int(text[3:6]) * 0.1,
        "z_scale_kpc": int(text[6:9]) * 0.1,
    }
