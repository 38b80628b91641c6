"""GALPROP analytic 2D interstellar gas models: HI, H2 (with X_CO) and HII.

Source: docs/galaxy_inputs.md#interstellar-gas (GALPROP v56 ``nH.cc``: nHI, nH2, nHII; Moskalenko et al.
2002, ApJ 565, 280; Strong & Moskalenko 1998, ApJ 509, 212). Densities are in cm^-3:
HI and HII in atoms (HII = free electrons = protons), H2 in **molecules** (the hydrogen-atom
target density is n_HI + 2 n_H2 + n_HII, :func:`total_hydrogen_cm3`).

Model switches (galdef ``nHI_model``, ``nH2_model``, ``nHII_model``):

* HI model 1 ("old", v54): Gordon & Burton 1976 radial table x Dickey & Lockman 1990 /
  Cox et al. 1986 vertical profile; model 2 (v56 default): the same rescaled to R_sun.
* H2 model 1: Bronfman et al. 1988 CO table + inner/outer nodes (44 nodes); model 2 (v56
  default): 45-node table in R_sun = 10 kpc units, rescaled (contains the F07 CMZ).
* HII model 1 (default): Cordes et al. 1991; model 2: NE2001 smooth discs; model 3:
  Gaensler et al. 2008 thick disc + NE2001 thin disc.

R_sun: the recipes were built with GALPROP's R_sun = 8.5 kpc (the check values of docs/galaxy_inputs.md#gas-check-values
use 8.5). ``r_sun_kpc`` only enters the *model-2* rescalings (and NE2001's g1); keep 8.5 unless
deliberately rescaling. The paper's r_sun = 8.3 kpc belongs to its source law (Eq. 2), not here.

2D vs 3D: these are axisymmetric point models n(R, z). For 3D sky maps evaluate them at the
galactocentric cylinder radius R = sqrt(x^2 + y^2) of each point (GALPROP ``nHI3D`` etc. do the
same for these models). For a propagation grid use :func:`cell_average_z` (GALPROP averages in
z only, docs/galaxy_inputs.md#cell-averages). All functions are vectorised with NumPy (broadcast R and z) and use only
np.interp / np.exp / np.where. Scalar Numba twins (:func:`n_hi_point_cm3`, :func:`n_h2_point_cm3`,
:func:`n_hii_point_cm3`) serve line-of-sight kernels written in Numba.

One configuration, one gas: :class:`GasModel` (``GasModel.from_config(galaxy_cfg)`` of
``propagation.galaxy``) is what every stage evaluates: the cell-averaged phases on the (r, z) grid
for the propagation and the emissivities (:meth:`GasModel.on_grid_cm3`), the H-atom density along
the lines of sight (:meth:`GasModel.hydrogen_atoms_cm3`) and point values (Table IV's local n_H).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit

from ..units import KPC_CM

__all__ = [
    "GALPROP_R_SUN_KPC",
    "HE_TO_H",
    "X_CO_DEFAULT",
    "n_hi_cm3",
    "n_h2_cm3",
    "n_hii_cm3",
    "x_co_profile",
    "total_hydrogen_cm3",
    "neutral_hydrogen_cm3",
    "helium_cm3",
    "cell_average_z",
    "column_density_cm2",
    "n_hi_point_cm3",
    "n_h2_point_cm3",
    "n_hii_point_cm3",
    "GasModel",
    "gas_on_grid_cm3",
]

GALPROP_R_SUN_KPC = 8.5
#: ISM He/H by number (GALPROP ``He_H_ratio``), docs/galaxy_inputs.md#helium.
HE_TO_H = 0.11
#: GALPROP default X_CO (Strong & Mattox 1996), H2 molecules cm^-2 (K km/s)^-1.
X_CO_DEFAULT = 1.9e20
_LN2 = np.log(2.0)

# ---- HI: Gordon & Burton 1976 table (docs/galaxy_inputs.md#atomic-hydrogen) ----------------------------------
_GB76_EDGES_KPC = np.array([0.0, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5,
                            9.0, 9.5, 10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5, 15.0,
                            15.5, 16.0])
_GB76_DENSITY_CM3 = np.array([.10, .13, .14, .16, .19, .25, .30, .33, .32, .31, .30, .37, .38, .36, .32,
                              .29, .38, .40, .25, .23, .32, .36, .32, .25, .16, .10, .09, .08, .06, .00])
_GB76_MEAN_CM3 = 0.33
# GALPROP interpolates linearly between bin centres C_i = (R_i + R_{i+1})/2 (i = 0..28), with an
# extra node (R = 0, Y_0) below the first centre; beyond C_28 = 15.75 kpc an exponential tail.
_GB76_CENTRES_KPC = np.concatenate(([0.0], 0.5 * (_GB76_EDGES_KPC[1:] + _GB76_EDGES_KPC[:-1])))
_GB76_CENTRE_VALUES = np.concatenate(([_GB76_DENSITY_CM3[0]], _GB76_DENSITY_CM3[:-1]))
_GB76_TAIL_START_KPC = _GB76_CENTRES_KPC[-1]  # 15.75
_GB76_TAIL_SCALE_KPC = 3.0

# ---- H2: CO tables (docs/galaxy_inputs.md#molecular-hydrogen) ------------------------------------------------------
_B88_R = np.array([2.25, 2.75, 3.25, 3.75, 4.25, 4.75, 5.25, 5.75, 6.25, 6.75, 7.25, 7.75, 8.25, 8.75,
                   9.25, 9.75])
_B88_EPS = np.array([1.5, 3.3, 5.8, 5.5, 8.4, 9.0, 9.6, 8.6, 9.1, 7.9, 9.2, 7.7, 5.0, 3.6, 4.8, 1.7])
_B88_Z0 = np.array([.039, .036, .000, -.008, .001, -.010, -.001, -.004, -.019, -.022, -.014, -.009,
                    -.004, .013, -.004, -.020])
_B88_ZH = np.array([.077, .080, .061, .065, .071, .072, .082, .083, .073, .063, .058, .072, .080, .066,
                    .023, .147])

_M1_INNER_R = np.round(np.arange(16) * 0.1, 10)
_M1_INNER_EPS = np.array([43.7, 24.5, 10.7, 1.6, 1.4, 1.5, 1.1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
_M1_OUTER_R = np.arange(10.0, 22.0, 1.0)
_M1_OUTER_EPS = np.array([0.4, 1.2, 1.0, 0.7, 0.3, 0.15, 0.09, 0.07, 0.05, 0.005, 0.008, 0.004])
_M1_OUTER_ZH = np.array([.111, .136, .147, .160, .223, .257, .220, .200, .188, .200, .200, .200])
_H2_M1_R = np.concatenate((_M1_INNER_R, _B88_R, _M1_OUTER_R))
_H2_M1_EPS = np.concatenate((_M1_INNER_EPS, _B88_EPS, _M1_OUTER_EPS))
_H2_M1_Z0 = np.concatenate((np.zeros(16), _B88_Z0, np.zeros(12)))
_H2_M1_ZH = np.concatenate((np.full(16, 0.070), _B88_ZH, _M1_OUTER_ZH))
_H2_M1_RMAX_KPC = 21.0

_M2_INNER_R = np.array([0.00, 0.12, 0.24, 0.35, 0.47, 0.59, 0.71, 0.82, 0.94, 1.06, 1.18, 1.29, 1.41,
                        1.53, 1.65, 1.76])
_M2_INNER_EPS = np.array([9378, 5261, 2290, 95.2, 83.7, 91.8, 65.1, 54.7, 50.1, 43.5, 36.0, 29.2, 22.9,
                          16.3, 9.4, 3.7])
_M2_INNER_ZH = np.array([.015, .015, .015] + [.068] + [.082] * 12)
_M2_OUTER_R = np.array([10.6, 11.8, 12.9, 14.1, 15.3, 16.5, 17.6, 18.8, 20.0, 21.2, 22.4, 23.5, 24.7])
_M2_OUTER_EPS = np.array([1.7, 0.3, 0.9, 0.7, 0.5, 0.21, 0.11, 0.07, 0.05, 0.04, 0.003, 0.006, 0.002])
_M2_OUTER_ZH = np.array([.091, .131, .160, .173, .188, .262, .302, .259, .235, .221, .235, .235, .235])
_H2_M2_R = np.concatenate((_M2_INNER_R, _B88_R, _M2_OUTER_R))
_H2_M2_EPS = np.concatenate((_M2_INNER_EPS, _B88_EPS, _M2_OUTER_EPS))
_H2_M2_Z0 = np.concatenate((np.zeros(16), _B88_Z0, np.zeros(13)))
_H2_M2_ZH = np.concatenate((_M2_INNER_ZH, _B88_ZH, _M2_OUTER_ZH))
_H2_M2_RMAX_SCALED = 23.5
_H2_M2_R_REF_KPC = 10.0
_CO_FLOOR = 1e-40


def _hi_radial_gb76(radius_kpc):
    """GB76 radial factor f_R(R) in cm^-3 exactly as GALPROP evaluates it (docs/galaxy_inputs.md#atomic-hydrogen)."""
    inner = np.interp(radius_kpc, _GB76_CENTRES_KPC, _GB76_CENTRE_VALUES)
    tail = _GB76_CENTRE_VALUES[-1] * np.exp(-(radius_kpc - _GB76_TAIL_START_KPC) / _GB76_TAIL_SCALE_KPC)
    return np.where(radius_kpc > _GB76_TAIL_START_KPC, tail, inner)


def _hi_vertical(radius_kpc, z_kpc):
    """Vertical factor f_Z(R, z) in cm^-3: DL90 (R <= 8), Cox+86 (R >= 10), linear mix between."""
    az = np.abs(z_kpc)
    f_z1 = (0.395 * np.exp(-_LN2 * (az / 0.106) ** 2) + 0.107 * np.exp(-_LN2 * (az / 0.265) ** 2)
            + 0.064 * np.exp(-az / 0.403))
    f_z2 = 0.57 * np.exp(-((az / (0.0523 * np.exp(0.11 * radius_kpc))) ** 2))
    mix = np.clip((radius_kpc - 8.0) / 2.0, 0.0, 1.0)
    return f_z1 + (f_z2 - f_z1) * mix


def n_hi_cm3(radius_kpc, z_kpc, model: int = 2, r_sun_kpc: float = GALPROP_R_SUN_KPC):
    """Atomic hydrogen density n_HI(R, z) in cm^-3 (GALPROP nHI, docs/galaxy_inputs.md#atomic-hydrogen).

    n_HI = f_R(R) f_Z(R, z) / 0.33 cm^-3 with f_R the Gordon & Burton 1976 table (interpolated
    between bin centres, exponential tail beyond 15.75 kpc) and f_Z the Dickey & Lockman 1990
    (R <= 8 kpc) / Cox, Kruegel & Mezger 1986 (R >= 10 kpc) profiles, mixed linearly in between.
    Model 2 first maps R -> R 10/R_sun, z -> z 8.5/R_sun and multiplies the result by 8.5/R_sun.
    Floor 1e-20 cm^-3.

    Parameters
    ----------
    radius_kpc, z_kpc : array_like
        Galactocentric cylinder radius and height in kpc (broadcast).
    model : {1, 2}
        GALPROP ``nHI_model`` (1 = v54 "old", 2 = v56 default).
    r_sun_kpc : float
        Solar radius used by the model-2 rescaling (GALPROP: 8.5).

    Returns
    -------
    numpy.ndarray
        n_HI in cm^-3 (atoms).
    """
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    if model == 1:
        scale_density = 1.0
    elif model == 2:
        r = r * 10.0 / r_sun_kpc
        z = z * GALPROP_R_SUN_KPC / r_sun_kpc
        scale_density = GALPROP_R_SUN_KPC / r_sun_kpc
    else:
        raise ValueError(f"nHI model must be 1 or 2, got {model!r}")
    density = _hi_radial_gb76(r) * _hi_vertical(r, z) / _GB76_MEAN_CM3 * scale_density
    return np.maximum(density, 1e-20)


def x_co_profile(radius_kpc, model: str = "constant", value: float = X_CO_DEFAULT,
                 radius_nodes_kpc=None, value_nodes=None):
    """CO-to-H2 conversion factor X_CO(R) in H2 molecules cm^-2 (K km/s)^-1.

    GALPROP ``fX_CO`` (docs/galaxy_inputs.md#molecular-hydrogen, table of ``n_X_CO``):

    * ``"constant"`` (n_X_CO = 0): ``value`` (default 1.9e20, Strong & Mattox 1996);
    * ``"tabulated"`` (n_X_CO = 1): linear in R through (radius_nodes_kpc, value_nodes),
      constant outside;
    * ``"strong2004"`` (n_X_CO = 9): steps 0.4, 0.6, 0.8, 1.5, 10 x 1e20 at R <= 3.5, 5.5, 7.5,
      9.5 kpc and beyond;
    * ``"gradient"`` (n_X_CO = 10): 1e20 x 10^(-0.4 + 0.066 R), frozen beyond R = 15 kpc.
    """
    r = np.asarray(radius_kpc, dtype=float)
    if model == "constant":
        return np.full_like(r, float(value))
    if model == "tabulated":
        if radius_nodes_kpc is None or value_nodes is None:
            raise ValueError("X_CO model 'tabulated' needs radius_nodes_kpc and value_nodes")
        return np.interp(r, radius_nodes_kpc, value_nodes)
    if model == "strong2004":
        edges = np.array([3.5, 5.5, 7.5, 9.5])
        steps = np.array([0.4, 0.6, 0.8, 1.5, 10.0]) * 1e20
        return steps[np.searchsorted(edges, r, side="left")]
    if model == "gradient":
        return 1e20 * 10.0 ** (-0.4 + 0.066 * np.minimum(r, 15.0))
    raise ValueError(f"unknown X_CO model {model!r}; expected constant, tabulated, strong2004 or gradient")


def n_h2_cm3(radius_kpc, z_kpc, model: int = 2, x_co=X_CO_DEFAULT, r_sun_kpc: float = GALPROP_R_SUN_KPC):
    """Molecular hydrogen density n_H2(R, z) in H2 **molecules** cm^-3 (GALPROP nH2).

    n_H2 = eps_CO(R) exp(-ln2 [(z - z0(R))/zh(R)]^2) X_CO(R) / kpc[cm] (docs/galaxy_inputs.md#molecular-hydrogen); eps_CO (K km/s/kpc), z0 and zh (HWHM) linear in R between the table nodes.
    Model 1: 44-node table (Bronfman et al. 1988 + inner/outer nodes), zero beyond 21 kpc.
    Model 2: 45-node table in R_sun = 10 kpc units, evaluated at R 10/R_sun, z 10/R_sun with
    eps_CO x 10/R_sun; CO floor 1e-40, floor value beyond scaled R = 23.5.

    Parameters
    ----------
    radius_kpc, z_kpc : array_like
        Galactocentric cylinder radius and height in kpc.
    model : {1, 2}
        GALPROP ``nH2_model``.
    x_co : float or callable
        X_CO in H2 molecules cm^-2 (K km/s)^-1, or ``x_co(radius_kpc) -> array`` (see
        :func:`x_co_profile`); GALPROP evaluates X_CO at the true (unscaled) radius.
    r_sun_kpc : float
        Solar radius of the model-2 rescaling.

    Returns
    -------
    numpy.ndarray
        n_H2 in molecules cm^-3 (hydrogen atoms in H2: 2 n_H2).
    """
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    r, z = np.broadcast_arrays(r, z)
    x_co_values = np.asarray(x_co(r), dtype=float) if callable(x_co) else float(x_co)
    if model == 1:
        eps = np.interp(r, _H2_M1_R, _H2_M1_EPS)
        z0 = np.interp(r, _H2_M1_R, _H2_M1_Z0)
        zh = np.interp(r, _H2_M1_R, _H2_M1_ZH)
        eps = np.where(r > _H2_M1_RMAX_KPC, 0.0, eps)
        density = eps * np.exp(-_LN2 * ((z - z0) / zh) ** 2) * x_co_values / KPC_CM
        return np.maximum(density, 1e-30)
    if model == 2:
        scale = _H2_M2_R_REF_KPC / r_sun_kpc
        rs, zs = r * scale, z * scale
        eps = np.interp(rs, _H2_M2_R, _H2_M2_EPS) * scale
        z0 = np.interp(rs, _H2_M2_R, _H2_M2_Z0)
        zh = np.interp(rs, _H2_M2_R, _H2_M2_ZH)
        co = np.maximum(eps * np.exp(-_LN2 * ((zs - z0) / zh) ** 2), _CO_FLOOR)
        co = np.where(rs > _H2_M2_RMAX_SCALED, _CO_FLOOR, co)
        return co * x_co_values / KPC_CM
    raise ValueError(f"nH2 model must be 1 or 2, got {model!r}")


def n_hii_cm3(radius_kpc, z_kpc, model: int = 1, r_sun_kpc: float = GALPROP_R_SUN_KPC):
    """Ionised hydrogen (= free electron) density n_HII(R, z) in cm^-3 (GALPROP nHII).

    docs/galaxy_inputs.md#ionised-hydrogen:

    * model 1 (default), Cordes et al. 1991 (Nature 354, 121, Eq. 6):
      0.025 exp(-|z|/1) exp(-(R/20)^2) + 0.2 exp(-|z|/0.15) exp(-((R - 4)/2)^2);
    * model 2, NE2001 smooth discs (Cordes & Lazio 2002): thick disc (n1 H1 = 0.033 cm^-3 kpc,
      H1 = 0.95 kpc, A1 = 17 kpc, g1 = cos(pi R/2A1)/cos(pi R_sun/2A1)) + thin disc (0.09 cm^-3,
      H2 = 0.14 kpc, g2 = exp(-((R - 3.7)/1.8)^2)), both sech^2(z/H);
    * model 3, Gaensler et al. 2008 thick disc 0.014 exp(-|z|/1.8) + NE2001 thin disc.

    Floor 1e-50 cm^-3.
    """
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    az = np.abs(z)
    thin_ne2001 = 0.09 * np.exp(-(((r - 3.7) / 1.8) ** 2)) / np.cosh(z / 0.14) ** 2
    if model == 1:
        density = (0.025 * np.exp(-az / 1.0) * np.exp(-((r / 20.0) ** 2))
                   + 0.200 * np.exp(-az / 0.15) * np.exp(-(((r - 4.0) / 2.0) ** 2)))
    elif model == 2:
        a1, h1 = 17.0, 0.95
        g1 = np.where(r < a1, np.cos(np.pi * r / (2 * a1)) / np.cos(np.pi * r_sun_kpc / (2 * a1)), 0.0)
        density = (0.033 / h1) * g1 / np.cosh(z / h1) ** 2 + thin_ne2001
    elif model == 3:
        density = 0.014 * np.exp(-az / 1.8) + thin_ne2001
    else:
        raise ValueError(f"nHII model must be 1, 2 or 3, got {model!r}")
    return np.maximum(density, 1e-50)


def neutral_hydrogen_cm3(n_hi, n_h2):
    """Neutral hydrogen atoms n_HI + 2 n_H2 in cm^-3 (docs/galaxy_inputs.md#coordinates-and-conventions)."""
    return np.asarray(n_hi, dtype=float) + 2.0 * np.asarray(n_h2, dtype=float)


def total_hydrogen_cm3(n_hi, n_h2, n_hii):
    """Total target hydrogen atoms n_H = n_HI + 2 n_H2 + n_HII in cm^-3 (docs/galaxy_inputs.md)."""
    return neutral_hydrogen_cm3(n_hi, n_h2) + np.asarray(n_hii, dtype=float)


def helium_cm3(n_h_cm3, he_to_h: float = HE_TO_H):
    """ISM helium density (He/H) n_H in cm^-3, He distributed like H (docs/galaxy_inputs.md#helium)."""
    return he_to_h * np.asarray(n_h_cm3, dtype=float)


def cell_average_z(density_function: Callable, radius_kpc, z_kpc, dz_kpc: float, sub_step_kpc: float = 0.02,
                   **kwargs):
    """Mean of a point model over sub-samples in z inside each cell, as GALPROP ``nH_av``.

    Sub-samples z_k = z - dz/2 + dzz/2 + k dzz while z_k < z + dz/2 (dzz = 0.02 kpc in v56,
    0.01 in v54); no averaging in R (docs/galaxy_inputs.md#cell-averages).

    Parameters
    ----------
    density_function : callable
        ``f(radius_kpc, z_kpc, **kwargs)`` such as :func:`n_h2_cm3`.
    radius_kpc, z_kpc : array_like
        Cell-centre coordinates (broadcast together, e.g. R[:, None] and z[None, :]).
    dz_kpc : float
        Cell height.
    sub_step_kpc : float
        Sub-sample step dzz.

    Returns
    -------
    numpy.ndarray
        Cell-averaged density, broadcast shape of (radius_kpc, z_kpc).
    """
    offsets = -0.5 * dz_kpc + 0.5 * sub_step_kpc + sub_step_kpc * np.arange(int(np.ceil(dz_kpc / sub_step_kpc)) + 1)
    offsets = offsets[offsets < 0.5 * dz_kpc - 1e-12]
    if offsets.size == 0:
        offsets = np.array([0.0])
    r = np.asarray(radius_kpc, dtype=float)
    z = np.asarray(z_kpc, dtype=float)
    total = 0.0
    for offset in offsets:
        total = total + density_function(r, z + offset, **kwargs)
    return total / offsets.size


def column_density_cm2(density_function: Callable, radius_kpc: float, z_max_kpc: float = 5.0,
                       n_points: int = 20001, **kwargs) -> float:
    """Vertical column integral of n(R, z) dz over |z| <= z_max, in cm^-2 (Simpson's rule).

    For sanity checks against the surface densities of docs/galaxy_inputs.md#gas-check-values.
    """
    from scipy.integrate import simpson

    z = np.linspace(-z_max_kpc, z_max_kpc, n_points)
    values = density_function(np.full_like(z, float(radius_kpc)), z, **kwargs)
    return float(simpson(values, x=z)) * KPC_CM


# ---- Numba point kernels (for line-of-sight integration inside other Numba code) ------------------------
# Same formulas as the NumPy functions above (docs/galaxy_inputs.md#interstellar-gas), scalar in, scalar out;
# tests/test_gas.py checks them against the NumPy versions. X_CO is a plain number here: evaluate
# :func:`x_co_profile` at the point's radius beforehand if it varies.


@njit(cache=True)
def n_hi_point_cm3(radius_kpc, z_kpc, model=2, r_sun_kpc=GALPROP_R_SUN_KPC):
    """Scalar Numba version of :func:`n_hi_cm3` (atoms cm^-3), callable from other Numba kernels."""
    r, z, scale = radius_kpc, z_kpc, 1.0
    if model == 2:
        r = radius_kpc * 10.0 / r_sun_kpc
        z = z_kpc * GALPROP_R_SUN_KPC / r_sun_kpc
        scale = GALPROP_R_SUN_KPC / r_sun_kpc
    elif model != 1:
        raise ValueError("nHI model must be 1 or 2")
    if r > _GB76_TAIL_START_KPC:
        f_r = _GB76_CENTRE_VALUES[-1] * np.exp(-(r - _GB76_TAIL_START_KPC) / _GB76_TAIL_SCALE_KPC)
    else:
        f_r = np.interp(r, _GB76_CENTRES_KPC, _GB76_CENTRE_VALUES)
    az = abs(z)
    f_z1 = (0.395 * np.exp(-_LN2 * (az / 0.106) ** 2) + 0.107 * np.exp(-_LN2 * (az / 0.265) ** 2)
            + 0.064 * np.exp(-az / 0.403))
    f_z2 = 0.57 * np.exp(-((az / (0.0523 * np.exp(0.11 * r))) ** 2))
    mix = min(max((r - 8.0) / 2.0, 0.0), 1.0)
    density = f_r * (f_z1 + (f_z2 - f_z1) * mix) / _GB76_MEAN_CM3 * scale
    return max(density, 1e-20)


@njit(cache=True)
def n_h2_point_cm3(radius_kpc, z_kpc, model=2, x_co=X_CO_DEFAULT, r_sun_kpc=GALPROP_R_SUN_KPC):
    """Scalar Numba version of :func:`n_h2_cm3` (H2 molecules cm^-3) with a constant X_CO."""
    if model == 1:
        eps = np.interp(radius_kpc, _H2_M1_R, _H2_M1_EPS)
        z0 = np.interp(radius_kpc, _H2_M1_R, _H2_M1_Z0)
        zh = np.interp(radius_kpc, _H2_M1_R, _H2_M1_ZH)
        if radius_kpc > _H2_M1_RMAX_KPC:
            eps = 0.0
        density = eps * np.exp(-_LN2 * ((z_kpc - z0) / zh) ** 2) * x_co / KPC_CM
        return max(density, 1e-30)
    if model == 2:
        scale = _H2_M2_R_REF_KPC / r_sun_kpc
        rs, zs = radius_kpc * scale, z_kpc * scale
        eps = np.interp(rs, _H2_M2_R, _H2_M2_EPS) * scale
        z0 = np.interp(rs, _H2_M2_R, _H2_M2_Z0)
        zh = np.interp(rs, _H2_M2_R, _H2_M2_ZH)
        co = max(eps * np.exp(-_LN2 * ((zs - z0) / zh) ** 2), _CO_FLOOR)
        if rs > _H2_M2_RMAX_SCALED:
            co = _CO_FLOOR
        return co * x_co / KPC_CM
    raise ValueError("nH2 model must be 1 or 2")


@njit(cache=True)
def n_hii_point_cm3(radius_kpc, z_kpc, model=1, r_sun_kpc=GALPROP_R_SUN_KPC):
    """Scalar Numba version of :func:`n_hii_cm3` (cm^-3)."""
    az = abs(z_kpc)
    thin = 0.09 * np.exp(-(((radius_kpc - 3.7) / 1.8) ** 2)) / np.cosh(z_kpc / 0.14) ** 2
    if model == 1:
        density = (0.025 * np.exp(-az) * np.exp(-((radius_kpc / 20.0) ** 2))
                   + 0.200 * np.exp(-az / 0.15) * np.exp(-(((radius_kpc - 4.0) / 2.0) ** 2)))
    elif model == 2:
        g1 = 0.0
        if radius_kpc < 17.0:
            g1 = np.cos(np.pi * radius_kpc / 34.0) / np.cos(np.pi * r_sun_kpc / 34.0)
        density = (0.033 / 0.95) * g1 / np.cosh(z_kpc / 0.95) ** 2 + thin
    elif model == 3:
        density = 0.014 * np.exp(-az / 1.8) + thin
    else:
        raise ValueError("nHII model must be 1, 2 or 3")
    return max(density, 1e-50)


# ---- The gas model of a configuration: the one way every stage evaluates the gas -------------------------


@dataclass(frozen=True)
class GasModel:
    """The GALPROP analytic gas of one configuration, evaluated the same way by every stage.

    Propagation (cell averages on the (r, z) grid), emission (target gas of each grid cell), the
    line-of-sight operators (H-atom density along the line of sight) and Table IV (local n_H) all
    take their gas from one :class:`GasModel`, so that a setting of ``propagation.galaxy`` reaches
    all of them (docs/galaxy_inputs.md#interstellar-gas).

    Attributes
    ----------
    x_co : float or callable
        CO-to-H2 conversion factor X_CO in H2 molecules cm^-2 (K km/s)^-1, or ``x_co(radius_kpc)``
        (:func:`x_co_profile`).
    r_sun_kpc : float
        Solar radius of the models' rescalings in kpc (``propagation.galaxy.gas_r_sun_kpc``; GALPROP 8.5).
    he_to_h : float
        ISM He/H by number (``propagation.galaxy.he_to_h``).
    hi_model, h2_model, hii_model : int
        GALPROP ``nHI_model`` (1, 2), ``nH2_model`` (1, 2), ``nHII_model`` (1, 2, 3).
    """

    x_co: float = X_CO_DEFAULT
    r_sun_kpc: float = GALPROP_R_SUN_KPC
    he_to_h: float = HE_TO_H
    hi_model: int = 2
    h2_model: int = 2
    hii_model: int = 1

    @classmethod
    def from_config(cls, galaxy_cfg: Mapping | None = None) -> "GasModel":
        """The gas of a ``propagation.galaxy`` mapping (``x_co``, ``gas_r_sun_kpc``, ``he_to_h``).

        Keys left out take the schema's defaults; other keys of the mapping (the observer's
        ``r_sun_kpc``, the B field) are not the gas's and are ignored.
        """
        from ..config import schema_defaults

        cfg = {**schema_defaults("propagation.galaxy"), **(galaxy_cfg or {})}
        return cls(x_co=float(cfg["x_co"]), r_sun_kpc=float(cfg["gas_r_sun_kpc"]), he_to_h=float(cfg["he_to_h"]))

    # -- point values n(R, z) -------------------------------------------------------------------------------
    def n_hi_cm3(self, radius_kpc, z_kpc) -> np.ndarray:
        """Atomic hydrogen n_HI(R, z) in cm^-3 at points (:func:`n_hi_cm3`)."""
        return n_hi_cm3(radius_kpc, z_kpc, model=self.hi_model, r_sun_kpc=self.r_sun_kpc)

    def n_h2_cm3(self, radius_kpc, z_kpc) -> np.ndarray:
        """Molecular hydrogen n_H2(R, z) in H2 molecules cm^-3 at points (:func:`n_h2_cm3`)."""
        return n_h2_cm3(radius_kpc, z_kpc, model=self.h2_model, x_co=self.x_co, r_sun_kpc=self.r_sun_kpc)

    def n_hii_cm3(self, radius_kpc, z_kpc) -> np.ndarray:
        """Ionised hydrogen n_HII(R, z) in cm^-3 at points (:func:`n_hii_cm3`)."""
        return n_hii_cm3(radius_kpc, z_kpc, model=self.hii_model, r_sun_kpc=self.r_sun_kpc)

    def hydrogen_atoms_cm3(self, radius_kpc, z_kpc) -> np.ndarray:
        """Hydrogen atoms n_H = n_HI + 2 n_H2 + n_HII in cm^-3 at points (R, z) in kpc.

        The target density of the line-of-sight operators: pass this bound method as their
        ``gas_density_cm3`` with ``gas_coordinates="rz"`` (axisymmetric gas, evaluated at the
        cylinder radius of each point).
        """
        return total_hydrogen_cm3(self.n_hi_cm3(radius_kpc, z_kpc), self.n_h2_cm3(radius_kpc, z_kpc),
                                  self.n_hii_cm3(radius_kpc, z_kpc))

    # -- the (r, z) grid -----------------------------------------------------------------------------------
    def on_grid_cm3(self, r_kpc, z_kpc, cell_average: bool = True) -> dict:
        """The gas on the (r, z) nodes of a grid: ``{'HI', 'H2', 'HII'}``, each shape (n_r, n_z), in cm^-3.

        H2 counts molecules. With ``cell_average`` and uniformly spaced z nodes each node holds
        the mean over its z cell (:func:`cell_average_z`, GALPROP ``nH_av``, as the propagation
        uses it); otherwise the point values at the nodes.

        Parameters
        ----------
        r_kpc, z_kpc : array_like, shapes (n_r,), (n_z,)
            Node coordinates in kpc.
        cell_average : bool
            Average over each node's z cell (needs uniform z spacing; point values otherwise).

        Returns
        -------
        dict of numpy.ndarray
            ``'HI'`` (atoms), ``'H2'`` (molecules), ``'HII'`` in cm^-3.
        """
        r = np.asarray(r_kpc, dtype=float)[:, None]
        z = np.asarray(z_kpc, dtype=float)[None, :]
        dz = np.diff(np.asarray(z_kpc, dtype=float))
        phases = {"HI": self.n_hi_cm3, "H2": self.n_h2_cm3, "HII": self.n_hii_cm3}
        if cell_average and dz.size > 0 and np.ptp(dz) <= 1e-9 * abs(dz[0]):
            values = {key: cell_average_z(f, r, z, float(dz[0])) for key, f in phases.items()}
        else:
            values = {key: f(r, z) for key, f in phases.items()}
        shape = (r.size, z.size)
        return {key: np.broadcast_to(value, shape).copy() for key, value in values.items()}

    def description(self) -> str:
        """One line naming the models and their parameters (recorded with the emissivities)."""
        x_co = "R-dependent" if callable(self.x_co) else f"{self.x_co:.3g}".replace("e+", "e")
        r_sun = "" if self.r_sun_kpc == GALPROP_R_SUN_KPC else f", R_sun {self.r_sun_kpc:g} kpc"
        return (f"GALPROP analytic nHI model {self.hi_model}, nH2 model {self.h2_model} (X_CO {x_co}), "
                f"nHII model {self.hii_model}{r_sun}, z-cell averaged")


def gas_on_grid_cm3(r_kpc, z_kpc, hi_model=2, h2_model=2, hii_model=1, x_co=X_CO_DEFAULT, cell_average=True,
                    r_sun_kpc: float = GALPROP_R_SUN_KPC):
    """GALPROP analytic 2D gas on the (r, z) nodes, each shape (n_r, n_z): :meth:`GasModel.on_grid_cm3`.

    Kept for callers that name the models one by one; a configuration's gas is
    ``GasModel.from_config(galaxy_cfg).on_grid_cm3(r_kpc, z_kpc)``.

    Returns
    -------
    dict
        'HI', 'H2' (molecules), 'HII' in cm^-3.
    """
    model = GasModel(x_co=x_co, r_sun_kpc=r_sun_kpc, hi_model=hi_model, h2_model=h2_model, hii_model=hii_model)
    return model.on_grid_cm3(r_kpc, z_kpc, cell_average=cell_average)
