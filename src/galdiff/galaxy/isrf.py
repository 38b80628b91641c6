"""Interstellar radiation field (ISRF): the GALPROP-format FITS file and the analytic CMB.

File (docs/galaxy_inputs.md#interstellar-radiation-field; shared/data/galaxy/SOURCES.md):
``MilkyWay_DR0.5_DZ0.1_DPHI10_RMAX20_ZMAX5_galprop_format.fits.gz``, the axisymmetric
Porter & Strong (2005) "MilkyWay" ISRF in GALPROP format. One primary HDU, shape
(component, log10 lambda, z, R) = (3, 56, 101, 41) in C order; axis values from the
CRVAL/CDELT keywords (R = 0.25..20.25 kpc, z = -5..5 kpc, log10(lambda/micron) = -1.04..4.46);
values are nu u_nu = lambda u_lambda in eV cm^-3; components 1 = optical (stellar direct +
scattered), 2 = infrared (dust), 3 = CMB.

Conversions (docs/galaxy_inputs.md#interstellar-radiation-field): eps = 1.23984198 eV / (lambda/micron); dn/d ln eps = (nu u_nu)/eps;
dn/d eps = (nu u_nu)/eps^2 [cm^-3 eV^-1]; U = ln(10) dlog10(lambda) sum(nu u_nu).

CMB decision: the file's component 3 is a 2.725 K blackbody sampled at 0.1 dex in wavelength.
By default (``cmb="analytic"``) :meth:`ISRF.photon_field` *replaces* it by the analytic
Planck spectrum (T = 2.725 K, configurable), which is position independent, is exact on any
energy grid (needed for Klein-Nishina losses and gamma-gamma opacity), and extends beyond the
file's |z| <= 5 kpc (the paper's halo reaches 6.3 kpc). ``cmb="file"`` keeps the tabulated one
(they agree: U = 0.260 eV cm^-3), ``cmb=None`` drops it.

Interpolation: bilinear in (R, |z|) (the file is exactly symmetric in z), clamped to the edge
nodes outside the grid (docs/galaxy_inputs.md#interstellar-radiation-field recommendation; GALPROP anchors at the nearest node instead).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from scipy.integrate import trapezoid
from scipy.special import zeta

from ..units import HBAR_C_EV_CM, K_B_EV_PER_K

__all__ = [
    "CMB_TEMPERATURE_K",
    "HC_EV_MICRON",
    "ISRF_FILENAME",
    "planck_number_density_per_eV",
    "blackbody_energy_density_eV_cm3",
    "blackbody_number_density_cm3",
    "graybody_number_density_per_eV",
    "cmb_number_density_per_eV",
    "default_photon_energy_grid_eV",
    "energy_density_from_spectrum_eV_cm3",
    "ISRF",
    "read_isrf",
]

CMB_TEMPERATURE_K = 2.725
#: h c in eV micron (docs/galaxy_inputs.md#interstellar-radiation-field).
HC_EV_MICRON = 1.23984198
ISRF_FILENAME = "MilkyWay_DR0.5_DZ0.1_DPHI10_RMAX20_ZMAX5_galprop_format.fits.gz"
COMPONENT_NAMES = ("optical", "infrared", "cmb")


def planck_number_density_per_eV(eps_eV, temperature_K):
    """Blackbody photon number density per unit energy, dn/d eps in cm^-3 eV^-1.

    dn/d eps = eps^2 / (pi^2 (hbar c)^3 (exp(eps/kT) - 1)) (docs/galaxy_inputs.md#other-radiation-fields;
    docs/emission.md#inverse-compton writes the same as 8 pi eps^2/((h c)^3 (e^{eps/kT} - 1))).

    Parameters
    ----------
    eps_eV : array_like
        Photon energy in eV (> 0).
    temperature_K : float
    """
    eps = np.asarray(eps_eV, dtype=float)
    x = eps / (K_B_EV_PER_K * temperature_K)
    with np.errstate(over="ignore"):
        return eps**2 / (np.pi**2 * HBAR_C_EV_CM**3 * np.expm1(x))


def blackbody_energy_density_eV_cm3(temperature_K):
    """Blackbody energy density a T^4 in eV cm^-3, a = pi^2 k^4/(15 (hbar c)^3) = 4.7222e-3 eV cm^-3 K^-4.

    docs/conventions.md#constants, docs/emission.md#reference-values (CMB at 2.7255 K: 0.2606 eV cm^-3).
    """
    return np.pi**2 / 15.0 * (K_B_EV_PER_K * np.asarray(temperature_K, dtype=float)) ** 4 / HBAR_C_EV_CM**3


def blackbody_number_density_cm3(temperature_K):
    """Blackbody photon number density 2 zeta(3)/pi^2 (kT/hbar c)^3 in cm^-3 (410.7 for the CMB)."""
    return 2.0 * zeta(3.0) / np.pi**2 * (K_B_EV_PER_K * np.asarray(temperature_K, dtype=float) / HBAR_C_EV_CM) ** 3


def graybody_number_density_per_eV(eps_eV, temperature_K, energy_density_eV_cm3):
    """Diluted blackbody with total energy density U: Planck x U/(a T^4), in cm^-3 eV^-1.

    docs/emission.md#inverse-compton (graybody component) and docs/propagation.md#loss-times (illustrative local ISRF).
    """
    dilution = energy_density_eV_cm3 / blackbody_energy_density_eV_cm3(temperature_K)
    return dilution * planck_number_density_per_eV(eps_eV, temperature_K)


def cmb_number_density_per_eV(eps_eV, temperature_K: float = CMB_TEMPERATURE_K):
    """CMB photon spectrum dn/d eps (cm^-3 eV^-1), a blackbody of T = 2.725 K by default."""
    return planck_number_density_per_eV(eps_eV, temperature_K)


def default_photon_energy_grid_eV(eps_min_eV: float = 1e-6, eps_max_eV: float = 15.0,
                                  points_per_decade: int = 40):
    """Log-spaced photon energy grid (eV) covering CMB to the Lyman limit (13.6 eV)."""
    n = int(np.ceil(np.log10(eps_max_eV / eps_min_eV) * points_per_decade)) + 1
    return np.geomspace(eps_min_eV, eps_max_eV, n)


def energy_density_from_spectrum_eV_cm3(eps_eV, dn_deps_per_cm3_eV):
    """U = integral eps (dn/d eps) d eps in eV cm^-3 (trapezoid in ln eps, last axis = energy)."""
    eps = np.asarray(eps_eV, dtype=float)
    integrand = np.asarray(dn_deps_per_cm3_eV, dtype=float) * eps**2
    return trapezoid(integrand, x=np.log(eps), axis=-1)


@dataclass
class ISRF:
    """A tabulated axisymmetric ISRF on an (R, z, eps) grid.

    Attributes
    ----------
    radius_kpc : ndarray, shape (n_r,)
        Galactocentric radius nodes (kpc).
    z_kpc : ndarray, shape (n_z,)
        Height nodes (kpc), symmetric about 0.
    eps_eV : ndarray, shape (n_eps,)
        Photon energies in eV, increasing.
    nu_u_nu_eV_cm3 : ndarray, shape (n_comp, n_r, n_z, n_eps)
        nu u_nu in eV cm^-3 per component.
    component_names : tuple of str
    dlog10_lambda : float
        Wavelength step in dex (for the file's own energy-density sum).
    source : str
        Where the table came from.
    """

    radius_kpc: np.ndarray
    z_kpc: np.ndarray
    eps_eV: np.ndarray
    nu_u_nu_eV_cm3: np.ndarray
    component_names: tuple = COMPONENT_NAMES
    dlog10_lambda: float = 0.1
    source: str = ""

    @classmethod
    def from_fits(cls, path: str | os.PathLike) -> "ISRF":
        """Read a GALPROP-format ISRF FITS(.gz) file (layout of docs/galaxy_inputs.md#interstellar-radiation-field)."""
        from astropy.io import fits

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"ISRF file not found: {path}")
        try:
            with fits.open(path, memmap=False) as hdul:
                header = hdul[0].header
                data = np.asarray(hdul[0].data, dtype=np.float64)
        except OSError as exc:
            raise OSError(f"cannot read ISRF FITS file {path}: {exc}") from exc
        if data is None or data.ndim != 4:
            raise ValueError(f"{path}: expected a 4D primary HDU (component, lambda, z, R), got {getattr(data, 'shape', None)}")
        n_comp, n_lam, n_z, n_r = data.shape

        def axis(k, n):
            return header[f"CRVAL{k}"] + header[f"CDELT{k}"] * np.arange(n)

        radius = axis(1, n_r)
        z = axis(2, n_z)
        log10_lambda = axis(3, n_lam)
        if n_comp != 3:
            raise ValueError(f"{path}: expected 3 components (optical, infrared, CMB), got {n_comp}")
        if not np.allclose(z, -z[::-1], atol=1e-6):
            raise ValueError(f"{path}: z axis is not symmetric about 0")
        if np.any(data < 0) or not np.all(np.isfinite(data)):
            raise ValueError(f"{path}: negative or non-finite nu u_nu values")
        eps = HC_EV_MICRON / 10.0**log10_lambda
        order = np.argsort(eps)  # lambda increasing -> eps decreasing: reverse
        table = np.transpose(data, (0, 3, 2, 1))[..., order]  # (comp, R, z, eps)
        return cls(radius_kpc=radius, z_kpc=z, eps_eV=eps[order], nu_u_nu_eV_cm3=np.ascontiguousarray(table),
                   component_names=COMPONENT_NAMES, dlog10_lambda=float(abs(header["CDELT3"])),
                   source=os.path.basename(path))

    # -- helpers --------------------------------------------------------------------------------------
    def component_index(self, component) -> int:
        """Index of a component given by name ('optical', 'infrared', 'cmb') or integer."""
        if isinstance(component, (int, np.integer)):
            return int(component)
        try:
            return self.component_names.index(component)
        except ValueError:
            raise KeyError(f"unknown ISRF component {component!r}; expected one of {self.component_names}") from None

    def number_density_per_eV(self):
        """dn/d eps = nu u_nu / eps^2 on the file grid, cm^-3 eV^-1, shape (n_comp, n_r, n_z, n_eps)."""
        return self.nu_u_nu_eV_cm3 / self.eps_eV**2

    def number_density_per_eV_at(self, radius_kpc, z_kpc, component):
        """dn/d eps (cm^-3 eV^-1) of one file component at (R, z) on the file's energies ``eps_eV``.

        Bilinear in (R, |z|), clamped; shape broadcast(R, z).shape + (n_eps,).
        """
        return self.interpolate(radius_kpc, z_kpc)[self.component_index(component)] / self.eps_eV**2

    def energy_density_eV_cm3(self, component=None):
        """Energy density on the node grid, U = ln(10) dlog10(lambda) sum(nu u_nu), eV cm^-3.

        docs/galaxy_inputs.md#interstellar-radiation-field. ``component`` None gives the sum of all components.
        Returns shape (n_r, n_z).
        """
        table = self.nu_u_nu_eV_cm3 if component is None else self.nu_u_nu_eV_cm3[self.component_index(component)][None]
        return np.log(10.0) * self.dlog10_lambda * table.sum(axis=(0, 3))

    def _bilinear(self, radius_kpc, z_kpc):
        """Indices and weights for bilinear interpolation in (R, |z|), clamped to the grid."""
        r = np.asarray(radius_kpc, dtype=float)
        az = np.abs(np.asarray(z_kpc, dtype=float))
        r, az = np.broadcast_arrays(r, az)
        z_half_start = int(np.argmin(np.abs(self.z_kpc)))
        z_half = self.z_kpc[z_half_start:]

        def locate(x, nodes):
            step = nodes[1] - nodes[0]
            frac = np.clip((x - nodes[0]) / step, 0.0, nodes.size - 1)
            lo = np.minimum(np.floor(frac).astype(int), nodes.size - 2)
            return lo, frac - lo

        ir, wr = locate(r, self.radius_kpc)
        iz, wz = locate(az, z_half)
        return ir, wr, iz + z_half_start, wz

    def interpolate(self, radius_kpc, z_kpc):
        """nu u_nu (eV cm^-3) at arbitrary (R, z), bilinear in (R, |z|) and clamped.

        Returns
        -------
        numpy.ndarray, shape (n_comp,) + broadcast(R, z).shape + (n_eps,)
        """
        ir, wr, iz, wz = self._bilinear(radius_kpc, z_kpc)
        t = self.nu_u_nu_eV_cm3
        wr = wr[..., None]
        wz = wz[..., None]
        return ((1 - wr) * (1 - wz) * t[:, ir, iz] + wr * (1 - wz) * t[:, ir + 1, iz]
                + (1 - wr) * wz * t[:, ir, iz + 1] + wr * wz * t[:, ir + 1, iz + 1])

    def energy_density_at(self, radius_kpc, z_kpc, component=None):
        """Energy density (eV cm^-3) of one component (or all) at (R, z), bilinear in (R, |z|)."""
        values = self.interpolate(radius_kpc, z_kpc)
        if component is not None:
            values = values[self.component_index(component)][None]
        return np.log(10.0) * self.dlog10_lambda * values.sum(axis=(0, -1))

    def native_energy_grid_eV(self, eps_min_eV: float = 1e-6):
        """The file's photon energies, extended downwards with the same log step to ``eps_min_eV``.

        The extension carries no file photons; it lets the analytic CMB be integrated on the
        same grid down to eps << kT_CMB.
        """
        step = np.log(self.eps_eV[1] / self.eps_eV[0])
        n_extra = max(0, int(np.ceil(np.log(self.eps_eV[0] / eps_min_eV) / step)))
        extra = self.eps_eV[0] * np.exp(-step * np.arange(n_extra, 0, -1))
        return np.concatenate((extra, self.eps_eV))

    def photon_field(self, radius_kpc, z_kpc, eps_eV=None, components=("optical", "infrared"),
                     cmb: str | None = "analytic", cmb_temperature_K: float = CMB_TEMPERATURE_K,
                     factors=None, preserve_energy_density: bool = True):
        """Photon spectrum dn/d eps (cm^-3 eV^-1) at (R, z) on one energy grid.

        File components are interpolated bilinearly in (R, |z|). On the default grid
        (:meth:`native_energy_grid_eV`: the file's own energies, extended down to 1e-6 eV) no
        interpolation in eps is needed. On a user grid the file spectra are interpolated
        log-log in eps (zero outside the file's range) and, if ``preserve_energy_density``,
        rescaled per position and component so that the trapezoid energy density on the new
        grid equals the file's own (docs/galaxy_inputs.md#interstellar-radiation-field sum); log-log interpolation
        of the 0.1-dex peaks otherwise loses ~2 % of U. The CMB is added analytically (or taken
        from the file, see module docstring). This is the input of the Klein-Nishina loss
        (:func:`galdiff.propagation.losses.inverse_compton_loss_rate_GeV_per_s`) and of
        gamma-gamma opacity.

        Parameters
        ----------
        radius_kpc, z_kpc : array_like
            Target positions (broadcast), e.g. R[:, None], z[None, :] for a 2D grid.
        eps_eV : array_like or None
            Target photon energies in eV, increasing (None: native grid).
        components : sequence
            File components to include (names or indices), default optical + infrared.
        cmb : {"analytic", "file", None}
            How to include the CMB.
        cmb_temperature_K : float
            Temperature of the analytic CMB (default 2.725 K).
        factors : dict or None
            Optional multipliers per component name (GALPROP ``ISRF_factors``), e.g.
            ``{"optical": 1.0, "infrared": 1.0, "cmb": 1.0}``.
        preserve_energy_density : bool
            See above (user grids only).

        Returns
        -------
        eps_eV : ndarray, shape (n_eps,)
        dn_deps : ndarray, shape broadcast(R, z).shape + (n_eps,)
        """
        native = eps_eV is None
        eps = self.native_energy_grid_eV() if native else np.asarray(eps_eV, dtype=float)
        if eps.ndim != 1 or np.any(np.diff(eps) <= 0) or np.any(eps <= 0):
            raise ValueError("eps_eV must be a positive, strictly increasing 1D array")
        factors = dict(factors or {})
        chosen = [self.component_index(c) for c in components]
        if cmb == "file":
            chosen.append(self.component_index("cmb"))
        elif cmb not in ("analytic", None):
            raise ValueError(f"cmb must be 'analytic', 'file' or None, got {cmb!r}")
        table = self.interpolate(radius_kpc, z_kpc)  # (comp, *pts, n_file)
        dn = np.zeros(table.shape[1:-1] + (eps.size,))
        if native:
            n_extra = eps.size - self.eps_eV.size
            for index in chosen:
                factor = factors.get(self.component_names[index], 1.0)
                dn[..., n_extra:] += factor * table[index] / self.eps_eV**2
        else:
            # log-log interpolation in eps with weights shared by all positions
            log_eps_file = np.log(self.eps_eV)
            log_eps = np.log(eps)
            inside = (eps >= self.eps_eV[0]) & (eps <= self.eps_eV[-1])
            lo = np.clip(np.searchsorted(log_eps_file, log_eps, side="right") - 1, 0, self.eps_eV.size - 2)
            weight = np.clip((log_eps - log_eps_file[lo]) / (log_eps_file[lo + 1] - log_eps_file[lo]), 0.0, 1.0)
            for index in chosen:
                logs = np.log(np.maximum(table[index], 1e-300))
                nu_u_nu = np.where(inside, np.exp((1.0 - weight) * logs[..., lo] + weight * logs[..., lo + 1]), 0.0)
                nu_u_nu = np.where(nu_u_nu < 1e-250, 0.0, nu_u_nu)
                if preserve_energy_density:
                    target = np.log(10.0) * self.dlog10_lambda * table[index].sum(axis=-1)
                    got = trapezoid(nu_u_nu, x=log_eps, axis=-1)
                    ratio = np.divide(target, got, out=np.ones_like(got), where=got > 0)
                    nu_u_nu = nu_u_nu * ratio[..., None]
                dn += factors.get(self.component_names[index], 1.0) * nu_u_nu / eps**2
        if cmb == "analytic":
            dn += factors.get("cmb", 1.0) * cmb_number_density_per_eV(eps, cmb_temperature_K)
        return eps, dn


def read_isrf(path: str | os.PathLike) -> ISRF:
    """Read the GALPROP-format ISRF file; see :meth:`ISRF.from_fits`."""
    return ISRF.from_fits(path)
