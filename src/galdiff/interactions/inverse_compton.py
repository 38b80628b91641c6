"""Inverse-Compton (IC) emission on isotropic photon fields with the full Klein-Nishina kernel.

Kernel: Jones 1968 (Phys. Rev. 167, 1159); Blumenthal & Gould 1970 (Rev. Mod. Phys. 42, 237),
Eq. 2.48; restated in docs/emission.md#inverse-compton:

    dN/(dt dE_g) = (3 sigma_T c / (4 gamma^2)) int d eps [n(eps)/eps] F(q, G),
    G = 4 eps gamma / (m_e c^2),  E1 = E_g / (gamma m_e c^2),  q = E1 / (G (1 - E1)),
    F(q, G) = 2 q ln q + (1 + 2q)(1 - q) + (G q)^2 (1 - q) / (2 (1 + G q)),   1/(4 gamma^2) <= q <= 1.

Emissivity convention (docs/conventions.md#flux-density-and-emissivity, docs/emission.md#inverse-compton): per steradian,

    j_IC(E_g) = int dE_e (J_e(E_e)/beta) int d eps n(eps) (3 sigma_T / (4 gamma^2 eps)) F(q, G)
                [photons GeV^-1 cm^-3 s^-1 sr^-1]

for an electron (+ positron) flux J_e in GeV^-1 cm^-2 s^-1 sr^-1 (per unit kinetic energy) and a
target photon density n(eps) in cm^-3 eV^-1. The line-of-sight integral of j needs no 1/(4 pi).

The kernel is tabulated once on (E_g, E_e, eps) as a tensor (:class:`InverseComptonKernel`) and
applied to many cells with ``einsum``/matrix products; no Python loop over cells.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from galdiff.units import C_CM_PER_S, HBAR_C_EV_CM, K_B_EV_PER_K, M_E_GEV, SIGMA_T_CM2

M_E_EV = M_E_GEV * 1e9
CMB_TEMPERATURE_K = 2.7255

__all__ = [
    "CMB_TEMPERATURE_K",
    "planck_photon_density_per_cm3_eV",
    "jones_f",
    "jones_f_numpy",
    "ic_photon_spectrum_per_electron",
    "InverseComptonKernel",
]


def planck_photon_density_per_cm3_eV(target_energy_eV, temperature_K=CMB_TEMPERATURE_K, energy_density_eV_per_cm3=None):
    """Differential number density of a (diluted) blackbody, n(eps) in cm^-3 eV^-1.

    n(eps) = (8 pi / (h c)^3) eps^2 / (exp(eps / k T) - 1), optionally scaled by U / (a T^4) for a
    graybody of energy density U (docs/emission.md#inverse-compton). For the CMB (T = 2.7255 K) the
    integrals are n = 410.7 cm^-3 and U = 0.2606 eV cm^-3 (docs/emission.md#reference-values).

    Parameters
    ----------
    target_energy_eV : array_like
        Photon energies eps in eV.
    temperature_K : float
        Blackbody temperature in K (default: CMB).
    energy_density_eV_per_cm3 : float, optional
        Energy density U of the diluted field in eV cm^-3; None keeps the undiluted blackbody.

    Returns
    -------
    ndarray
        n(eps) in cm^-3 eV^-1.
    """
    eps = np.asarray(target_energy_eV, dtype=float)
    kt_eV = K_B_EV_PER_K * temperature_K
    hc_eV_cm = 2.0 * np.pi * HBAR_C_EV_CM
    x = eps / kt_eV
    with np.errstate(over="ignore"):
        density = 8.0 * np.pi / hc_eV_cm**3 * eps**2 / np.expm1(x)
    if energy_density_eV_per_cm3 is not None:
        # a T^4 = (8 pi^5 / 15) (kT)^4 / (hc)^3
        u_blackbody = 8.0 * np.pi**5 / 15.0 * kt_eV**4 / hc_eV_cm**3
        density = density * (energy_density_eV_per_cm3 / u_blackbody)
    return density


@njit(cache=True)
def jones_f(e1, gamma, recoil_g):
    """Jones/Blumenthal-Gould function F(q, G) for one set of arguments (0 outside its range).

    Parameters
    ----------
    e1 : float
        E_g / (gamma m_e c^2), fraction of the electron energy carried by the photon.
    gamma : float
        Electron Lorentz factor.
    recoil_g : float
        G = 4 eps gamma / (m_e c^2).

    Returns
    -------
    float
        F(q, G) of BG70 Eq. 2.48 with q = E1 / (G (1 - E1)); zero unless 1/(4 gamma^2) <= q <= 1.
    """
    if e1 <= 0.0 or e1 >= 1.0:
        return 0.0
    q = e1 / (recoil_g * (1.0 - e1))
    if q > 1.0 or q < 0.25 / (gamma * gamma):
        return 0.0
    gq = recoil_g * q
    return 2.0 * q * np.log(q) + (1.0 + 2.0 * q) * (1.0 - q) + gq * gq * (1.0 - q) / (2.0 * (1.0 + gq))


def jones_f_numpy(e1, gamma, recoil_g):
    """Slow, obvious NumPy version of :func:`jones_f` (broadcasting), used to test the kernel."""
    e1, gamma, recoil_g = np.broadcast_arrays(
        np.asarray(e1, float), np.asarray(gamma, float), np.asarray(recoil_g, float)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        q = e1 / (recoil_g * (1.0 - e1))
        f = 2 * q * np.log(q) + (1 + 2 * q) * (1 - q) + (recoil_g * q) ** 2 * (1 - q) / (2 * (1 + recoil_g * q))
    valid = (e1 > 0) & (e1 < 1) & (q <= 1) & (q >= 0.25 / gamma**2)
    return np.where(valid, f, 0.0)


@njit(cache=True)
def _rate_kernel_cm2_per_eV(e_gamma_eV, gamma, eps_eV):
    """(3 sigma_T / (4 gamma^2 eps)) F(q, G): cm^2 per eV of E_g per (target photon per cm^3) / c."""
    e1 = e_gamma_eV / (gamma * M_E_EV)
    recoil_g = 4.0 * eps_eV * gamma / M_E_EV
    f = jones_f(e1, gamma, recoil_g)
    if f <= 0.0:
        return 0.0
    return 0.75 * SIGMA_T_CM2 / (gamma * gamma * eps_eV) * f


@njit(cache=True)
def _spectrum_per_electron(e_gamma_eV, gamma, eps_eV, density_weights):
    """Sum over target nodes of w_i n_i K(E_g, gamma, eps_i); output (n_E,) in cm^-1 eV^-1 (x c -> s^-1 eV^-1)."""
    out = np.zeros(e_gamma_eV.size)
    for g in range(e_gamma_eV.size):
        acc = 0.0
        for i in range(eps_eV.size):
            if density_weights[i] != 0.0:
                acc += density_weights[i] * _rate_kernel_cm2_per_eV(e_gamma_eV[g], gamma, eps_eV[i])
        out[g] = acc
    return out


def _log_trapezoid_weights(x):
    """Trapezoid weights for int f(x) dx on an increasing grid, written as sum w_i f_i (w in x units)."""
    x = np.asarray(x, dtype=float)
    ln_x = np.log(x)
    w = np.zeros_like(x)
    d = np.diff(ln_x)
    w[:-1] += 0.5 * d
    w[1:] += 0.5 * d
    return w * x


def ic_photon_spectrum_per_electron(gamma_energy_GeV, lorentz_factor, target_energy_eV, photon_density_per_cm3_eV):
    """IC photon spectrum of one electron, dN/(dt dE_g) in GeV^-1 s^-1 (BG70 Eq. 2.48).

    Parameters
    ----------
    gamma_energy_GeV : array_like, shape (n_E,)
        Scattered-photon energies E_g in GeV.
    lorentz_factor : float
        Electron Lorentz factor gamma (>> 1).
    target_energy_eV : array_like, shape (n_eps,)
        Target-photon grid eps in eV (log-spaced, ~100 per decade for a Planck field); the
        integral over eps is a trapezoid in ln eps.
    photon_density_per_cm3_eV : array_like, shape (n_eps,)
        n(eps) in cm^-3 eV^-1.

    Returns
    -------
    ndarray, shape (n_E,)
        dN/(dt dE_g) in photons s^-1 GeV^-1.
    """
    eps = np.ascontiguousarray(target_energy_eV, dtype=float)
    weights = _log_trapezoid_weights(eps) * np.asarray(photon_density_per_cm3_eV, dtype=float)
    e_g_eV = np.ascontiguousarray(np.atleast_1d(gamma_energy_GeV), dtype=float) * 1e9
    per_eV = _spectrum_per_electron(e_g_eV, float(lorentz_factor), eps, np.ascontiguousarray(weights))
    return per_eV * C_CM_PER_S * 1e9


def _hat_refinement(nodes, oversample):
    """Fine points and hat-function weights for int f(x) g(x) dx with g linear in ln x between nodes.

    Returns (fine_x, node_index, frac, fine_dx): every fine point lies in the interval
    [nodes[node_index], nodes[node_index + 1]] at fractional ln-position frac, and carries a
    trapezoid weight fine_dx (in x units). The integral of f against the hat of node k is then
    sum over fine points of fine_dx f ((1 - frac) if k == node_index else frac if k == node_index + 1).
    """
    ln_nodes = np.log(np.asarray(nodes, dtype=float))
    n_int = ln_nodes.size - 1
    t = np.arange(oversample + 1) / oversample
    fine_ln = (ln_nodes[:-1, None] + np.diff(ln_nodes)[:, None] * t[None, :])  # (n_int, m+1)
    node_index = np.repeat(np.arange(n_int), oversample + 1)
    frac = np.tile(t, n_int)
    fine_ln = fine_ln.ravel()
    # trapezoid within each interval (end points counted per interval, so shared nodes sum up)
    dlog = np.repeat(np.diff(ln_nodes) / oversample, oversample + 1)
    wt = np.tile(np.r_[0.5, np.ones(oversample - 1), 0.5], n_int) * dlog
    fine_x = np.exp(fine_ln)
    return fine_x, node_index, frac, wt * fine_x


@njit(cache=True)
def _build_tensor(e_gamma_eV, fine_gamma, fine_beta, e_index, e_basis_lo, e_basis_hi, e_weight_eV,
                  fine_eps, eps_index, eps_frac, eps_weight, n_electron, n_eps):
    """T[g, k, i] = sum_a sum_b bE_k(a) hatEps_i(b) wE_a wEps_b K(E_g, gamma_a, eps_b) / beta_a.

    bE_k(a) is the electron basis function of node k at fine point a: e_basis_lo for the lower
    node of its interval, e_basis_hi for the upper one.
    """
    n_g = e_gamma_eV.size
    tensor = np.zeros((n_g, n_electron, n_eps))
    for g in range(n_g):
        for a in range(fine_gamma.size):
            gamma = fine_gamma[a]
            if e_gamma_eV[g] >= gamma * M_E_EV:
                continue
            wa = e_weight_eV[a] / fine_beta[a]
            ka = e_index[a]
            b_lo = e_basis_lo[a]
            b_hi = e_basis_hi[a]
            for b in range(fine_eps.size):
                k = _rate_kernel_cm2_per_eV(e_gamma_eV[g], gamma, fine_eps[b])
                if k == 0.0:
                    continue
                val = wa * eps_weight[b] * k
                ib = eps_index[b]
                fb = eps_frac[b]
                tensor[g, ka, ib] += val * b_lo * (1.0 - fb)
                tensor[g, ka, ib + 1] += val * b_lo * fb
                tensor[g, ka + 1, ib] += val * b_hi * (1.0 - fb)
                tensor[g, ka + 1, ib + 1] += val * b_hi * fb
    return tensor


class InverseComptonKernel:
    """IC emissivity kernel tabulated once on (E_gamma, E_e, eps) grids.

    Between grid nodes the photon density n(eps) is interpolated linearly in ln eps, and the
    electron flux as E_e^-s x (linear in ln E_e) with a fixed index s = ``flux_index`` (exact for
    J ~ E^-s; error ~ (p - s)^2 dlnE^2 / 12 for J ~ E^-p; both representations are linear in the
    input arrays). The Jones/BG70 kernel (Eq. 2.48) is integrated against these basis functions
    on an ``oversample``-times finer grid, which resolves the Klein-Nishina pile-up near
    E_g -> E_e and the kinematic edges better than a node-only trapezoid.

    Parameters
    ----------
    gamma_energy_GeV : array_like, shape (n_g,)
        Gamma-ray energies in GeV.
    electron_energy_GeV : array_like, shape (n_e,)
        Electron kinetic-energy grid in GeV, increasing, log-spaced (20-60 per decade);
        the flux J_e is per unit kinetic energy (= per unit total energy).
    target_energy_eV : array_like, shape (n_eps,)
        Target-photon grid in eV, increasing, log-spaced. n(eps) is interpolated linearly in
        ln eps, which overestimates a Planck-like field by ~(2 dln eps)^2/12: use >= 50 points per
        decade (0.2 % at 20 per decade), e.g. by interpolating a coarse ISRF log-log first.
    oversample : int
        Sub-intervals per grid interval in both E_e and eps (default 4).
    flux_index : float
        Power-law index s assumed for J_e inside electron-grid intervals (default 3).

    Attributes
    ----------
    tensor : ndarray, shape (n_g, n_e, n_eps)
        T such that j_IC[g] = sum_k sum_i T[g, k, i] J_e[k] n[i] in GeV^-1 cm^-3 s^-1 sr^-1 for J_e
        in GeV^-1 cm^-2 s^-1 sr^-1 and n in cm^-3 eV^-1 (docs/emission.md#inverse-compton).
    """

    def __init__(self, gamma_energy_GeV, electron_energy_GeV, target_energy_eV, oversample=4, flux_index=3.0):
        self.gamma_energy_GeV = np.asarray(gamma_energy_GeV, dtype=float)
        self.electron_energy_GeV = np.asarray(electron_energy_GeV, dtype=float)
        self.target_energy_eV = np.asarray(target_energy_eV, dtype=float)
        if self.electron_energy_GeV.size < 2 or self.target_energy_eV.size < 2:
            raise ValueError("need at least two electron and two target-photon grid points")
        fine_ek, e_index, e_frac, e_weight_GeV = _hat_refinement(self.electron_energy_GeV, oversample)
        ln_ek = np.log(self.electron_energy_GeV)
        ln_fine = np.log(fine_ek)
        e_basis_lo = (1.0 - e_frac) * np.exp(-flux_index * (ln_fine - ln_ek[e_index]))
        e_basis_hi = e_frac * np.exp(-flux_index * (ln_fine - ln_ek[e_index + 1]))
        fine_gamma = 1.0 + fine_ek / M_E_GEV
        fine_beta = np.sqrt(1.0 - 1.0 / fine_gamma**2)
        fine_eps, eps_index, eps_frac, eps_weight_eV = _hat_refinement(self.target_energy_eV, oversample)
        tensor = _build_tensor(
            self.gamma_energy_GeV * 1e9, fine_gamma, fine_beta, e_index, e_basis_lo, e_basis_hi, e_weight_GeV,
            fine_eps, eps_index, eps_frac, eps_weight_eV,
            self.electron_energy_GeV.size, self.target_energy_eV.size,
        )
        # kernel is per eV of E_g: x 1e9 for per GeV; dE_e already in GeV; d eps in eV
        self.tensor = tensor * 1e9

    def matrix(self, photon_density_per_cm3_eV):
        """IC emissivity matrix M (n_g, n_e) for one photon field: j_IC = M @ J_e.

        Parameters
        ----------
        photon_density_per_cm3_eV : array_like, shape (n_eps,)
            n(eps) in cm^-3 eV^-1 on ``target_energy_eV``.

        Returns
        -------
        ndarray, shape (n_g, n_e)
            M in cm^-1 (j in GeV^-1 cm^-3 s^-1 sr^-1 per J_e in GeV^-1 cm^-2 s^-1 sr^-1).
        """
        return self.tensor @ np.asarray(photon_density_per_cm3_eV, dtype=float)

    def emissivity_per_sr(self, electron_flux, photon_density_per_cm3_eV):
        """IC emissivity j_IC(E_g) per unit volume and per sr for many cells at once.

        Parameters
        ----------
        electron_flux : array_like, shape (n_e,) or (n_e, n_cells)
            e- + e+ flux J_e in GeV^-1 cm^-2 s^-1 sr^-1 on ``electron_energy_GeV``.
        photon_density_per_cm3_eV : array_like, shape (n_eps,) or (n_eps, n_cells)
            n(eps) in cm^-3 eV^-1; one field for all cells or one per cell.

        Returns
        -------
        ndarray, shape (n_g,) or (n_g, n_cells)
            j_IC in photons GeV^-1 cm^-3 s^-1 sr^-1.

        Notes
        -----
        With one field per cell the cost is n_g n_e n_eps n_cells multiply-adds (about 5 ms per
        cell for 91 x 221 x 326 on one core); cells sharing a field (e.g. the nodes of a coarse
        ISRF grid) are cheaper through :meth:`matrix` once per field.
        """
        flux = np.asarray(electron_flux, dtype=float)
        density = np.asarray(photon_density_per_cm3_eV, dtype=float)
        if density.ndim == 1:
            return self.matrix(density) @ flux
        if flux.ndim == 1:
            flux = np.broadcast_to(flux[:, None], (flux.size, density.shape[1]))
        return np.einsum("gki,ic,kc->gc", self.tensor, density, flux, optimize=True)
