"""Hadronic (pi0-decay gamma-ray, neutrino and secondary e+-) emissivities from AAfrag.

Emissivity per target H atom and per steradian (docs/conventions.md#flux-density-and-emissivity, docs/emission.md#hadronic-emissivity):

    q_s(E) = sum_{i in p, He} int dT_n J_i(T_n) [ dsigma_{i+p -> s}/dE (E_i(T_n), E)
                                                + f_He dsigma_{i+He -> s}/dE (E_i(T_n), E) ]

in GeV^-1 s^-1 sr^-1 H-atom^-1, with J_i the flux of nuclei per unit kinetic energy per nucleon
(GeV^-1 cm^-2 s^-1 sr^-1 per GeV/n) and f_He = n_He/n_H of the ISM (default 0.11, GALPROP's
``He_H_ratio``; docs/galaxy_inputs.md). For He projectiles the AAfrag tables take the total energy of the
nucleus, E_He = 4 T_n + M_He, and the flux per unit total energy J_T,n/4; the factor 4 cancels
against dE_He = 4 dT_n, so both species integrate over dT_n with their per-nucleon flux
(docs/emission.md#aafrag-tables, #hadronic-recipe).

Cross sections: aafragpy 2.0.4 (AAfrag 2.01; Kachelriess, Ostapchenko & Tjemsland 2023; Koldobskiy
et al. 2021) above a switch band in total energy per nucleon (default 4-10 GeV), and below it the
p-p parametrisations shipped with aafragpy: Kafexhiu et al. 2014 for gamma rays and Kamae et al.
2006 for neutrinos and e+- (docs/emission.md#low-energy-completion). Nuclear channels below the switch use
p-p at the same kinetic energy per nucleon times a constant channel factor (energy-weighted AAfrag
yield ratio per projectile nucleus, computed at the upper edge of the band; docs/emission.md#low-energy-completion table). Within
the band the two descriptions are blended linearly in ln E_n, so there is no jump at the switch.
(The K14 parametrisation itself, in aafragpy and naima alike, drops by ~35 % in energy-weighted
yield between T_p = 3.6 and 4.1 GeV; integrated over a CR spectrum this leaves q(E) smooth.)
A systematic variant (``cross_sections="kafexhiu2014"``, gamma rays only; docs/systematics.md) replaces
AAfrag in p-p by the Kafexhiu et al. 2014 parametrisation shipped with aafragpy (GEANT parameters)
over the whole range where aafragpy defines it (proton kinetic energy up to 1 PeV), blended into AAfrag
over 0.3-1 PeV per nucleon above it; the nuclear channels are K14 p-p times the same constant channel
factors as the low-energy completion.
aafragpy's Kamae 2006 positron renormalisation has a typo that removes most e+ below
T_p = 5.52 GeV; it is corrected here (:func:`kamae2006_positron_correction_mb_per_GeV`).

The matrices are built once on (T_n grid, secondary grid) and applied to all grid cells as one
matrix product. Secondary e+- source terms for propagation are Q_e = 4 pi n_H q_e (docs/emission.md#hadronic-emissivity).
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from galdiff.units import M_HE4_GEV, M_P_GEV, MB_CM2

__all__ = [
    "SECONDARY_CODES",
    "CHANNELS",
    "NEUTRINO_FLAVOUR_CODES",
    "DEFAULT_HE_TO_H",
    "aafrag_cross_section_mb_per_GeV",
    "low_energy_pp_cross_section_mb_per_GeV",
    "kamae2006_positron_correction_mb_per_GeV",
    "channel_factor",
    "hadronic_cross_section_mb_per_GeV",
    "CROSS_SECTION_MODELS",
    "HadronicMatrix",
]

SECONDARY_CODES = ("gam", "el", "posi", "nu_e", "anu_e", "nu_mu", "anu_mu")
CHANNELS = ("p-p", "p-He", "He-p", "He-He")
# neutrino flavours at the source, nu + anti-nu (AAfrag produces no nu_tau; docs/emission.md#neutrinos)
NEUTRINO_FLAVOUR_CODES = {"e": ("nu_e", "anu_e"), "mu": ("nu_mu", "anu_mu")}
DEFAULT_HE_TO_H = 0.11
HE_MASS_NUMBER = 4
M_N_HE_GEV = M_HE4_GEV / HE_MASS_NUMBER
# K14 threshold in proton kinetic energy: 2 m_pi0 + m_pi0^2 / (2 m_p) (Kafexhiu et al. 2014, Eq. 1)
K14_THRESHOLD_T_GEV = 0.2797
# aafragpy 2.0.4 table ranges in projectile total energy (docs/emission.md#aafrag-tables)
AAFRAG_MIN_TOTAL_GEV = {"p-p": 4.0, "p-He": 4.0, "He-p": 5.0, "He-He": 5.0}
#: high-energy cross-section models: AAfrag (the default) or the Kafexhiu et al. 2014 variant (gamma rays only)
CROSS_SECTION_MODELS = ("aafrag", "kafexhiu2014")
# aafragpy's K14 returns zero above T_p = 1e6 GeV (its validity limit); the K14 variant hands over to AAfrag
# over this band in total energy per nucleon (GeV), so it stays K14 wherever K14 is defined
K14_VARIANT_SWITCH_GEV = (3.0e5, 1.0e6)
# energy per nucleon (GeV) of the constant nuclear channel factors of the low-energy description (the default band top)
CHANNEL_FACTOR_ENERGY_GEV = 10.0


def _as_codes(secondary):
    codes = (secondary,) if isinstance(secondary, str) else tuple(secondary)
    for code in codes:
        if code not in SECONDARY_CODES:
            raise ValueError(f"unknown secondary {code!r}; expected one of {SECONDARY_CODES}")
    return codes


def _projectile_is_helium(channel):
    return channel.startswith("He")


def _projectile_total_energy_GeV(channel, ek_GeV_per_n):
    """Total energy of the projectile nucleus for a kinetic energy per nucleon T_n."""
    ek = np.asarray(ek_GeV_per_n, dtype=float)
    if _projectile_is_helium(channel):
        return HE_MASS_NUMBER * ek + M_HE4_GEV
    return ek + M_P_GEV


def aafrag_cross_section_mb_per_GeV(secondary, channel, projectile_total_energy_GeV, secondary_energy_GeV):
    """AAfrag differential production cross section dsigma/dE_s in mb GeV^-1.

    Thin wrapper of ``aafragpy.get_cross_section`` (docs/emission.md#aafrag-tables) that fixes its
    quirks: the output is always 2-D, energies outside the tables give zeros, several secondary
    codes are summed.

    Parameters
    ----------
    secondary : str or sequence of str
        aafragpy secondary code(s) from ``SECONDARY_CODES``; a sequence is summed (e.g.
        ``("nu_mu", "anu_mu")``).
    channel : {'p-p', 'p-He', 'He-p', 'He-He'}
        Projectile-target pair.
    projectile_total_energy_GeV : array_like, shape (n_proj,)
        Total energy of the projectile nucleus in GeV (for He: of the whole nucleus).
    secondary_energy_GeV : array_like, shape (n_sec,)
        Secondary energies in GeV.

    Returns
    -------
    ndarray, shape (n_proj, n_sec)
        dsigma/dE_s in mb GeV^-1 (zero outside the table range).
    """
    from aafragpy import get_cross_section

    e_proj = np.atleast_1d(np.asarray(projectile_total_energy_GeV, dtype=float))
    e_sec = np.atleast_1d(np.asarray(secondary_energy_GeV, dtype=float))
    out = np.zeros((e_proj.size, e_sec.size))
    inside = e_proj >= AAFRAG_MIN_TOTAL_GEV[channel]
    if not np.any(inside):
        return out
    for code in _as_codes(secondary):
        cs, _, _ = get_cross_section(code, channel, e_proj[inside], e_sec, outside_bounds="zeros")
        out[inside] += np.asarray(cs, dtype=float).reshape(-1, e_sec.size)
    return np.clip(np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)


KAMAE_POSITRON_RFACTOR_MAX_TP_GEV = 5.52


def kamae2006_positron_correction_mb_per_GeV(proton_total_energy_GeV, secondary_energy_GeV):
    """Additive correction to aafragpy's Kamae et al. 2006 positron cross section below T_p = 5.52 GeV.

    The low-energy renormalisation of the non-diffractive positron part (Kamae et al. 2006,
    Table 3 footnote form) is r(y) = 2.22 exp(-98.9 [(y + 3.25)/(1 + c (y + 3.25))]^2),
    y = log10(T_p / TeV). aafragpy 2.0.4 uses c = 1.04 (as in the Fortran code it was ported from);
    cparamlib (Karlsson; the library GALPROP links) uses c = 10.4. With c = 1.04, r drops to ~5e-11
    at T_p = 5.52 GeV where it must join r = 1, removing the non-diffractive e+ and giving e+ < e-
    in p-p at a few GeV, which charge conservation forbids. With c = 10.4, r(5.52 GeV) = 1.04
    (continuous). This function returns sigma_nd (r_10.4 / r_1.04 - 1), to be added.

    Parameters
    ----------
    proton_total_energy_GeV : array_like, shape (n_proj,)
    secondary_energy_GeV : array_like, shape (n_sec,)

    Returns
    -------
    ndarray, shape (n_proj, n_sec)
        mb GeV^-1.
    """
    from aafragpy import Kamae2006 as kamae

    e_proj = np.atleast_1d(np.asarray(proton_total_energy_GeV, dtype=float))
    e_sec = np.atleast_1d(np.asarray(secondary_energy_GeV, dtype=float))
    out = np.zeros((e_proj.size, e_sec.size))
    non_diffractive = np.vectorize(kamae.sigma_incl_nond, otypes=[float], excluded={1, 2})
    for i, e_p in enumerate(e_proj):
        tp = e_p - M_P_GEV
        if tp <= 0.4 or tp > KAMAE_POSITRON_RFACTOR_MAX_TP_GEV:
            continue
        y3 = np.log10(tp * 1e-3) + 3.25
        ratio = np.exp(-98.9 * ((y3 / (1.0 + 10.4 * y3)) ** 2 - (y3 / (1.0 + 1.04 * y3)) ** 2))
        e_dsigma_de = np.where(e_sec >= tp, 0.0, non_diffractive(e_sec, tp, "posi"))
        out[i] = e_dsigma_de / e_sec * (ratio - 1.0)
    return out


def low_energy_pp_cross_section_mb_per_GeV(secondary, proton_total_energy_GeV, secondary_energy_GeV):
    """Low-energy p-p production cross section dsigma/dE_s in mb GeV^-1.

    Gamma rays: Kafexhiu et al. 2014 (PRD 90, 123014), "GEANT" parameter set, from threshold
    T_p = 0.2797 GeV. Neutrinos and e+-: Kamae et al. 2006 (ApJ 647, 692; erratum 2007), with
    diffraction. Both as shipped with aafragpy 2.0.4 (docs/emission.md#aafrag-tables, #low-energy-completion), with
    the Kamae positron renormalisation corrected (:func:`kamae2006_positron_correction_mb_per_GeV`).
    Kinematically forbidden secondary energies (returned as NaN by aafragpy) are set to zero.

    Parameters
    ----------
    secondary : str or sequence of str
        Codes from ``SECONDARY_CODES`` (summed if several).
    proton_total_energy_GeV : array_like, shape (n_proj,)
        Proton total energy in GeV.
    secondary_energy_GeV : array_like, shape (n_sec,)

    Returns
    -------
    ndarray, shape (n_proj, n_sec)
    """
    from aafragpy import get_cross_section_Kafexhiu2014, get_cross_section_Kamae2006

    e_proj = np.atleast_1d(np.asarray(proton_total_energy_GeV, dtype=float))
    e_sec = np.atleast_1d(np.asarray(secondary_energy_GeV, dtype=float))
    out = np.zeros((e_proj.size, e_sec.size))
    above = e_proj > M_P_GEV + K14_THRESHOLD_T_GEV + 1e-6
    if not np.any(above):
        return out
    for code in _as_codes(secondary):
        with np.errstate(all="ignore"):
            if code == "gam":
                cs, _, _ = get_cross_section_Kafexhiu2014(e_proj[above], e_sec)
            else:
                cs, _, _ = get_cross_section_Kamae2006(code, e_proj[above], e_sec)
        out[above] += np.asarray(cs, dtype=float).reshape(-1, e_sec.size)
        if code == "posi":
            out[above] += kamae2006_positron_correction_mb_per_GeV(e_proj[above], e_sec)
    return np.clip(np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)


@lru_cache(maxsize=64)
def channel_factor(secondary, channel, total_energy_per_nucleon_GeV=10.0):
    """Energy-weighted AAfrag yield of a nuclear channel relative to p-p, per projectile nucleus.

    k = int E dsigma_ch/dE dE / int E dsigma_pp/dE dE at equal total energy per nucleon E_n
    (docs/emission.md#low-energy-completion; for gamma rays at E_n = 10 GeV: p-He 3.84, He-p 4.09,
    He-He 14.2).

    Parameters
    ----------
    secondary : str or tuple of str
    channel : {'p-p', 'p-He', 'He-p', 'He-He'}
    total_energy_per_nucleon_GeV : float
        E_n in GeV (must lie inside the AAfrag tables, >= 4 GeV for p, >= 1.25 GeV/n for He).

    Returns
    -------
    float
    """
    e_n = float(total_energy_per_nucleon_GeV)
    e_sec = np.logspace(-5, np.log10(e_n * HE_MASS_NUMBER), 1201)
    e_proj = HE_MASS_NUMBER * e_n if _projectile_is_helium(channel) else e_n
    codes = _as_codes(secondary)
    yield_ch = aafrag_cross_section_mb_per_GeV(codes, channel, [e_proj], e_sec)[0]
    yield_pp = aafrag_cross_section_mb_per_GeV(codes, "p-p", [e_n], e_sec)[0]
    ln_e = np.log(e_sec)
    return float(np.trapezoid(yield_ch * e_sec**2, ln_e) / np.trapezoid(yield_pp * e_sec**2, ln_e))


def _aafrag_weight(total_energy_per_nucleon_GeV, switch_low_GeV, switch_high_GeV):
    """Blend weight of AAfrag (0 below the band, 1 above, linear in ln E_n inside)."""
    e_n = np.asarray(total_energy_per_nucleon_GeV, dtype=float)
    if switch_high_GeV <= switch_low_GeV:
        return (e_n >= switch_low_GeV).astype(float)
    return np.clip(np.log(e_n / switch_low_GeV) / np.log(switch_high_GeV / switch_low_GeV), 0.0, 1.0)


def hadronic_cross_section_mb_per_GeV(secondary, channel, ek_GeV_per_n, secondary_energy_GeV,
                                      switch_low_GeV=4.0, switch_high_GeV=10.0, cross_sections="aafrag"):
    """Production cross section on the T_n grid: AAfrag above the switch band, p-p parametrisation below.

    Parameters
    ----------
    secondary : str or sequence of str
    channel : {'p-p', 'p-He', 'He-p', 'He-He'}
    ek_GeV_per_n : array_like, shape (n_proj,)
        Kinetic energy per nucleon of the projectile, GeV/n.
    secondary_energy_GeV : array_like, shape (n_sec,)
    switch_low_GeV, switch_high_GeV : float
        Band in total energy per nucleon E_n = T_n + m_n (GeV) over which the low-energy
        description (below) is blended into AAfrag (above); docs/emission.md#low-energy-completion
        recommends 4-10 GeV. Needs switch_low >= 4 GeV (AAfrag p-p table start).
    cross_sections : {'aafrag', 'kafexhiu2014'}
        'kafexhiu2014' (gamma rays only, a systematic variant): the low-energy description (K14 p-p,
        nuclear channels by the constant factors of :func:`channel_factor` at 10 GeV/n) up to
        :data:`K14_VARIANT_SWITCH_GEV`, AAfrag above; ``switch_low_GeV``, ``switch_high_GeV`` are then unused.

    Returns
    -------
    ndarray, shape (n_proj, n_sec)
        dsigma/dE_s in mb GeV^-1 per projectile nucleus (He: whole nucleus).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")
    if cross_sections not in CROSS_SECTION_MODELS:
        raise ValueError(f"unknown cross_sections {cross_sections!r}; expected one of {CROSS_SECTION_MODELS}")
    factor_energy_GeV = switch_high_GeV
    if cross_sections == "kafexhiu2014":
        if _as_codes(secondary) != ("gam",):
            raise ValueError("cross_sections='kafexhiu2014' parametrises gamma rays only (secondary 'gam')")
        switch_low_GeV, switch_high_GeV = K14_VARIANT_SWITCH_GEV
        factor_energy_GeV = CHANNEL_FACTOR_ENERGY_GEV
    if switch_low_GeV < AAFRAG_MIN_TOTAL_GEV["p-p"]:
        raise ValueError("switch_low_GeV must be >= 4 GeV (start of the AAfrag p-p table)")
    codes = _as_codes(secondary)
    ek = np.atleast_1d(np.asarray(ek_GeV_per_n, dtype=float))
    e_sec = np.atleast_1d(np.asarray(secondary_energy_GeV, dtype=float))
    m_n = M_N_HE_GEV if _projectile_is_helium(channel) else M_P_GEV
    weight = _aafrag_weight(ek + m_n, switch_low_GeV, switch_high_GeV)
    out = np.zeros((ek.size, e_sec.size))
    high = weight > 0.0
    if np.any(high):
        e_tot = _projectile_total_energy_GeV(channel, ek[high])
        out[high] += weight[high, None] * aafrag_cross_section_mb_per_GeV(codes, channel, e_tot, e_sec)
    low = weight < 1.0
    if np.any(low):
        factor = 1.0 if channel == "p-p" else channel_factor(codes, channel, factor_energy_GeV)
        # same kinetic energy per nucleon (same Lorentz factor) for the nucleon-nucleon collision
        out[low] += (1.0 - weight[low, None]) * factor * low_energy_pp_cross_section_mb_per_GeV(
            codes, ek[low] + M_P_GEV, e_sec
        )
    return out


def _log_trapezoid_weights(x):
    """Weights w with int f dx ~ sum_k w_k f_k, trapezoid in ln x (w_k = x_k dln x_k)."""
    ln_x = np.log(np.asarray(x, dtype=float))
    w = np.zeros_like(ln_x)
    d = np.diff(ln_x)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w * np.exp(ln_x)


class HadronicMatrix:
    """Hadronic emissivity matrices per H atom for one secondary species.

    Parameters
    ----------
    ek_GeV_per_n : array_like, shape (n_proj,)
        Projectile grid of kinetic energy per nucleon (GeV/n), increasing and log-spaced
        (>= 20 per decade; docs/emission.md#hadronic-recipe recommends reaching ~1e8 GeV/n for PeV
        secondaries). The same grid is used for protons and He nuclei.
    secondary_energy_GeV : array_like, shape (n_sec,)
        Secondary energies in GeV.
    secondary : str or sequence of str
        aafragpy code(s): 'gam', 'nu_e', 'anu_e', 'nu_mu', 'anu_mu', 'el', 'posi'; a sequence is
        summed (e.g. ``("nu_mu", "anu_mu")`` for one flavour, nu + anti-nu).
    he_to_h : float
        ISM He/H number ratio f_He (default 0.11; docs/emission.md#hadronic-emissivity).
    switch_low_GeV, switch_high_GeV : float
        Blend band in total energy per nucleon (see :func:`hadronic_cross_section_mb_per_GeV`).
    cross_sections : {'aafrag', 'kafexhiu2014'}
        High-energy cross sections (:data:`CROSS_SECTION_MODELS`; 'kafexhiu2014' for gamma rays only).

    Attributes
    ----------
    matrix_p, matrix_he : ndarray, shape (n_sec, n_proj)
        M in cm^2 (= cm^2 GeV^-1 x GeV) with q = M_p @ J_p + M_He @ J_He, q in
        GeV^-1 s^-1 sr^-1 H-atom^-1 for J in GeV^-1 cm^-2 s^-1 sr^-1 per GeV/n.
    cross_sections_mb_per_GeV : dict
        The per-channel tables (n_proj, n_sec) before weighting, for inspection and tests.
    build_seconds : float
        Wall time of the build.
    """

    def __init__(self, ek_GeV_per_n, secondary_energy_GeV, secondary="gam", he_to_h=DEFAULT_HE_TO_H,
                 switch_low_GeV=4.0, switch_high_GeV=10.0, cross_sections="aafrag"):
        start = time.perf_counter()
        self.cross_sections = str(cross_sections)
        self.ek_GeV_per_n = np.asarray(ek_GeV_per_n, dtype=float)
        self.secondary_energy_GeV = np.asarray(secondary_energy_GeV, dtype=float)
        self.secondary = _as_codes(secondary)
        self.he_to_h = float(he_to_h)
        if np.any(np.diff(self.ek_GeV_per_n) <= 0):
            raise ValueError("ek_GeV_per_n must be strictly increasing")
        self.cross_sections_mb_per_GeV = {
            ch: hadronic_cross_section_mb_per_GeV(
                self.secondary, ch, self.ek_GeV_per_n, self.secondary_energy_GeV, switch_low_GeV, switch_high_GeV,
                cross_sections=self.cross_sections,
            )
            for ch in CHANNELS
        }
        weights_GeV = _log_trapezoid_weights(self.ek_GeV_per_n)
        cs = self.cross_sections_mb_per_GeV
        self.matrix_p = (MB_CM2 * weights_GeV[:, None] * (cs["p-p"] + self.he_to_h * cs["p-He"])).T.copy()
        self.matrix_he = (MB_CM2 * weights_GeV[:, None] * (cs["He-p"] + self.he_to_h * cs["He-He"])).T.copy()
        self.build_seconds = time.perf_counter() - start

    def emissivity_per_H(self, flux_p, flux_he=None):
        """Emissivity per H atom and per sr, q(E_s) in GeV^-1 s^-1 sr^-1 H-atom^-1.

        Parameters
        ----------
        flux_p : array_like, shape (n_proj,) or (n_proj, n_cells)
            Proton flux per unit kinetic energy, GeV^-1 cm^-2 s^-1 sr^-1, on ``ek_GeV_per_n``.
        flux_he : array_like, same shape as flux_p, optional
            He-nucleus flux per unit kinetic energy per nucleon (nuclei (GeV/n)^-1 cm^-2 s^-1 sr^-1);
            None means no He projectiles.

        Returns
        -------
        ndarray, shape (n_sec,) or (n_sec, n_cells)
            q per H atom (He/H of the ISM folded in). Volume emissivity: n_H q, with
            n_H = n_HI + 2 n_H2 + n_HII (docs/emission.md#hadronic-emissivity).
        """
        q = self.matrix_p @ np.asarray(flux_p, dtype=float)
        if flux_he is not None:
            q = q + self.matrix_he @ np.asarray(flux_he, dtype=float)
        return q

    def source_rate_per_volume_4pi(self, flux_p, flux_he, n_H_per_cm3):
        """Total (4 pi-integrated) production rate per volume, Q = 4 pi n_H q, GeV^-1 cm^-3 s^-1.

        The source term of the propagation equation for secondary e+- (docs/emission.md#hadronic-emissivity).

        Parameters
        ----------
        flux_p, flux_he : array_like, shape (n_proj, n_cells)
            As in :meth:`emissivity_per_H` (flux_he may be None).
        n_H_per_cm3 : array_like, shape (n_cells,)
            n_HI + 2 n_H2 + n_HII in cm^-3.

        Returns
        -------
        ndarray, shape (n_sec, n_cells)
        """
        return 4.0 * np.pi * self.emissivity_per_H(flux_p, flux_he) * np.asarray(n_H_per_cm3, dtype=float)

    def save(self, path):
        """Write the matrices and grids to an ``.npz`` file (for the workflow's cache)."""
        np.savez_compressed(
            Path(path), ek_GeV_per_n=self.ek_GeV_per_n, secondary_energy_GeV=self.secondary_energy_GeV,
            secondary=np.array(self.secondary), he_to_h=self.he_to_h, cross_sections=self.cross_sections,
            matrix_p=self.matrix_p, matrix_he=self.matrix_he,
        )

    @classmethod
    def load(cls, path):
        """Read matrices written by :meth:`save` (no aafragpy call)."""
        data = np.load(Path(path))
        obj = cls.__new__(cls)
        obj.ek_GeV_per_n = data["ek_GeV_per_n"]
        obj.secondary_energy_GeV = data["secondary_energy_GeV"]
        obj.secondary = tuple(str(s) for s in data["secondary"])
        obj.he_to_h = float(data["he_to_h"])
        obj.cross_sections = str(data["cross_sections"]) if "cross_sections" in data else "aafrag"
        obj.matrix_p = data["matrix_p"]
        obj.matrix_he = data["matrix_he"]
        obj.cross_sections_mb_per_GeV = {}
        obj.build_seconds = 0.0
        return obj
