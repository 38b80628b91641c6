"""Emissivities of every component on the (r, z) propagation grid: each channel one matrix built once
on the energy grids and applied to all cells as one matrix product (:class:`EmissionGrid`), and one
model's emissivities from its propagated densities (:func:`model_emissivity`, the workflow's rule)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from galdiff.galaxy.gas import GasModel
from galdiff.interactions.bremsstrahlung import BremsstrahlungMatrix
from galdiff.interactions.gamma_gamma import absorption_coefficient_per_kpc
from galdiff.interactions.hadronic import NEUTRINO_FLAVOUR_CODES, HadronicMatrix
from galdiff.interactions.inverse_compton import InverseComptonKernel
from galdiff.interactions.neutrino_oscillation import (
    NUFIT52_NO_WITH_SK,
    MixingAngles,
    flavour_fluxes_at_earth,
)
from galdiff.units import get_species

from .axes import DEFAULT_GAMMA_ENERGY_GEV, DEFAULT_TARGET_ENERGY_EV, SPECIES, _check_axis, _loglog_regrid
from .axes import species_intensity_from_density
from .extras import extra_gamma_emissivity, extra_neutrino_emissivity, fit_parent_proton_ecpl

# ------------------------------------------------------------------------------------------------
# the grid
# ------------------------------------------------------------------------------------------------
@dataclass
class EmissivityResult:
    """Emissivities of one model on the (r, z) grid.

    Attributes
    ----------
    r_kpc, z_kpc : ndarray
        Grid nodes (kpc).
    energies : dict
        Axis name ('gamma_energy_GeV', 'neutrino_energy_GeV') -> energies in GeV.
    components : dict
        Name -> array (n_r, n_z, n_E).
    component_meta : dict
        Name -> {'convention': 'per_H' | 'per_volume', 'units', 'energy_axis', 'messenger',
        'absorbed', 'description'}.
    kappa_per_kpc : ndarray or None
        Pair-absorption coefficient (n_r, n_z, n_gamma) in kpc^-1.
    gas_cm3 : dict
        2D gas used for the bremsstrahlung mix ('HI', 'H2', 'HII'), (n_r, n_z) each.
    attrs : dict
        Settings and diagnostics (JSON-serialisable), written to the file.
    timings_s : dict
        Wall-clock seconds of each step: for the log only, never written (identical inputs give
        byte-identical files).
    """

    r_kpc: np.ndarray
    z_kpc: np.ndarray
    energies: dict
    components: dict = field(default_factory=dict)
    component_meta: dict = field(default_factory=dict)
    kappa_per_kpc: np.ndarray | None = None
    gas_cm3: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)


_UNITS_PER_H = "GeV-1 s-1 sr-1 H-1"
_UNITS_PER_VOLUME = "GeV-1 cm-3 s-1 sr-1"


def _meta(convention, messenger, description, absorbed=None):
    return {
        "convention": convention,
        "units": _UNITS_PER_H if convention == "per_H" else _UNITS_PER_VOLUME,
        "energy_axis": "gamma_energy_GeV" if messenger == "gamma" else "neutrino_energy_GeV",
        "messenger": messenger,
        "absorbed": bool(messenger == "gamma") if absorbed is None else bool(absorbed),
        "description": description,
    }


class EmissionGrid:
    """All emission matrices for one (r, z) grid and one set of energy axes, built once.

    Parameters
    ----------
    r_kpc : array_like, shape (n_r,)
        Galactocentric radii of the nodes (kpc).
    z_kpc : array_like, shape (n_z,)
        Heights of the nodes (kpc).
    nucleus_ek_GeV_per_n : array_like, shape (n_Ep,)
        Kinetic energy per nucleon grid (GeV/n) of the p and He intensities (log-spaced,
        >= 20 per decade and up to ~1e8 GeV/n for PeV secondaries, docs/emission.md#hadronic-recipe).
        He given on another grid is regridded log-log onto this one.
    electron_ek_GeV : array_like, shape (n_Ee,)
        Kinetic energy grid of e- and e+ (GeV), log-spaced (20-60 per decade).
    gamma_energy_GeV : array_like, shape (n_g,)
        Gamma-ray energies (default :data:`DEFAULT_GAMMA_ENERGY_GEV`).
    neutrino_energy_GeV : array_like, shape (n_nu,), optional
        Neutrino energies (default: the gamma grid).
    isrf : galdiff.galaxy.isrf.ISRF or None
        ISRF table (:func:`galdiff.galaxy.isrf.read_isrf`); None means CMB only.
    isrf_components : sequence of str
        File components used for IC and absorption (default optical + infrared).
    cmb : {'analytic', 'file', None}
        How the CMB enters (see :meth:`galdiff.galaxy.isrf.ISRF.photon_field`).
    target_energy_eV : array_like, optional
        Target-photon grid (default :data:`DEFAULT_TARGET_ENERGY_EV`).
    he_to_h : float, optional
        ISM He/H by number (default: that of ``gas_model``, GALPROP's 0.11 without one).
    gas_cm3 : dict, optional
        {'HI', 'H2', 'HII'} arrays (n_r, n_z) in cm^-3 (H2 in molecules), given instead of ``gas_model``.
    gas_model : galdiff.galaxy.gas.GasModel, optional
        The gas of the configuration (``GasModel.from_config(propagation.galaxy)``), evaluated on the
        nodes by :meth:`~galdiff.galaxy.gas.GasModel.on_grid_cm3` when ``gas_cm3`` is not given;
        default ``GasModel()`` (GALPROP models 2, 2, 1, X_CO 1.9e20).
    mixing : MixingAngles
        Oscillation parameters (default NuFIT 5.2 NO with SK).
    ic_oversample : int
        Sub-intervals per grid interval in the IC kernel integration.
    chunk_cells : int
        Cells per IC contraction chunk (memory ~ n_Ee n_eps chunk_cells x 8 bytes).
    ic_method : {'exact', 'lowrank'}
        'exact': full contraction per cell. 'lowrank': the photon field of all cells is first
        approximated as n(eps, c) ~ sum_k u_k(eps) a_k(c) (truncated SVD of eps^2 n, columns scaled
        to unit peak), with the smallest rank whose reconstruction error is below
        ``ic_rank_tolerance`` x the cell's peak of eps^2 n everywhere; then
        j = sum_k (T . u_k) @ (J a_k). Since j is a positive linear functional of n, the error of j
        is bounded by the same relative tolerance of the field's peak (benchmarks/RESULTS.md).
    ic_rank_tolerance : float
        Tolerance of the low-rank photon field (default 1e-4).
    hadronic_switch_GeV : tuple of float
        (low, high) AAfrag blend band in total energy per nucleon.
    pi0_cross_sections : {'aafrag', 'kafexhiu2014'}
        Cross sections of the pi0 gamma rays (:data:`galdiff.interactions.hadronic.CROSS_SECTION_MODELS`;
        neutrinos always AAfrag). 'kafexhiu2014' is a systematic variant (docs/systematics.md).

    Notes
    -----
    Matrices are built lazily on first use and then reused for every model/species; the build
    times are in :attr:`timings_s`.
    """

    def __init__(self, r_kpc, z_kpc, nucleus_ek_GeV_per_n, electron_ek_GeV, gamma_energy_GeV=None,
                 neutrino_energy_GeV=None, isrf=None, isrf_components=("optical", "infrared"), cmb="analytic",
                 target_energy_eV=None, he_to_h=None, gas_cm3=None, gas_model: GasModel | None = None,
                 mixing: MixingAngles = NUFIT52_NO_WITH_SK, ic_oversample=4, chunk_cells=64,
                 hadronic_switch_GeV=(4.0, 10.0), ic_method="exact", ic_rank_tolerance=1e-4,
                 pi0_cross_sections="aafrag"):
        self.r_kpc = _check_axis("r_kpc", r_kpc)
        self.z_kpc = _check_axis("z_kpc", z_kpc)
        self.nucleus_ek_GeV_per_n = _check_axis("nucleus_ek_GeV_per_n", nucleus_ek_GeV_per_n)
        self.electron_ek_GeV = _check_axis("electron_ek_GeV", electron_ek_GeV)
        self.gamma_energy_GeV = _check_axis(
            "gamma_energy_GeV", DEFAULT_GAMMA_ENERGY_GEV if gamma_energy_GeV is None else gamma_energy_GeV)
        self.neutrino_energy_GeV = _check_axis(
            "neutrino_energy_GeV", self.gamma_energy_GeV if neutrino_energy_GeV is None else neutrino_energy_GeV)
        self.target_energy_eV = _check_axis(
            "target_energy_eV", DEFAULT_TARGET_ENERGY_EV if target_energy_eV is None else target_energy_eV)
        self.isrf = isrf
        self.isrf_components = tuple(isrf_components) if isrf is not None else ()
        self.cmb = cmb
        if gas_cm3 is not None and gas_model is not None:
            raise ValueError("EmissionGrid: give the gas as gas_cm3 arrays or as a gas_model, not both")
        gas_model = GasModel() if gas_model is None else gas_model
        self.he_to_h = float(gas_model.he_to_h if he_to_h is None else he_to_h)
        self.mixing = mixing
        self.ic_oversample = int(ic_oversample)
        self.chunk_cells = int(chunk_cells)
        if ic_method not in ("exact", "lowrank"):
            raise ValueError(f"ic_method must be 'exact' or 'lowrank', got {ic_method!r}")
        self.ic_method = ic_method
        self.ic_rank_tolerance = float(ic_rank_tolerance)
        self.hadronic_switch_GeV = tuple(float(x) for x in hadronic_switch_GeV)
        self.pi0_cross_sections = str(pi0_cross_sections)
        self.shape = (self.r_kpc.size, self.z_kpc.size)
        self.n_cells = self.shape[0] * self.shape[1]
        self.gas_source = "user-supplied arrays" if gas_cm3 is not None else gas_model.description()
        if gas_cm3 is None:
            gas_cm3 = gas_model.on_grid_cm3(self.r_kpc, self.z_kpc)
        self.gas_cm3 = {}
        for key in ("HI", "H2", "HII"):
            if key not in gas_cm3:
                raise ValueError(f"gas_cm3 must have keys 'HI', 'H2', 'HII'; missing {key!r}")
            arr = np.broadcast_to(np.asarray(gas_cm3[key], dtype=float), self.shape)
            if np.any(arr < 0) or not np.all(np.isfinite(arr)):
                raise ValueError(f"gas_cm3[{key!r}] must be finite and >= 0")
            self.gas_cm3[key] = np.array(arr)
        self.timings_s = {}
        self.diagnostics = {}
        self._cache = {}

    # -- lazily built matrices -----------------------------------------------------------------
    def _timed(self, key, builder):
        if key not in self._cache:
            start = time.perf_counter()
            self._cache[key] = builder()
            self.timings_s[f"build_{key}"] = time.perf_counter() - start
        return self._cache[key]

    def _hadronic(self, key, energies, codes, cross_sections="aafrag"):
        low, high = self.hadronic_switch_GeV
        return self._timed(key, lambda: HadronicMatrix(self.nucleus_ek_GeV_per_n, energies, codes, he_to_h=self.he_to_h,
                                                        switch_low_GeV=low, switch_high_GeV=high,
                                                        cross_sections=cross_sections))

    @property
    def pi0_matrix(self) -> HadronicMatrix:
        """:class:`HadronicMatrix` for gamma rays on (nucleus grid, gamma grid)."""
        return self._hadronic("pi0", self.gamma_energy_GeV, "gam", self.pi0_cross_sections)

    def neutrino_matrix(self, flavour) -> HadronicMatrix:
        """:class:`HadronicMatrix` for source flavour 'e' or 'mu' (nu + anti-nu)."""
        return self._hadronic(f"neutrino_{flavour}", self.neutrino_energy_GeV, NEUTRINO_FLAVOUR_CODES[flavour])

    @property
    def bremsstrahlung_matrix(self) -> BremsstrahlungMatrix:
        """:class:`BremsstrahlungMatrix` on (gamma grid, electron grid), He/H folded into the neutral part."""
        return self._timed("bremsstrahlung", lambda: BremsstrahlungMatrix(
            self.gamma_energy_GeV, self.electron_ek_GeV, he_to_h=self.he_to_h))

    @property
    def ic_kernel(self) -> InverseComptonKernel:
        """:class:`InverseComptonKernel` tensor T (n_g, n_Ee, n_eps) on the grids of this object."""
        return self._timed("ic_kernel", lambda: InverseComptonKernel(
            self.gamma_energy_GeV, self.electron_ek_GeV, self.target_energy_eV, oversample=self.ic_oversample))

    @property
    def photon_density_per_cm3_eV(self) -> np.ndarray:
        """Target photon spectrum per cell, n(eps) in cm^-3 eV^-1, shape (n_eps, n_cells)."""
        def build():
            eps = self.target_energy_eV
            if self.isrf is None:
                if self.cmb not in ("analytic", "file"):
                    raise ValueError("without an ISRF table the photon field is the CMB: cmb must be 'analytic'")
                from galdiff.galaxy.isrf import cmb_number_density_per_eV

                column = cmb_number_density_per_eV(eps)
                return np.ascontiguousarray(np.broadcast_to(column[:, None], (eps.size, self.n_cells)))
            _, dn = self.isrf.photon_field(self.r_kpc[:, None], self.z_kpc[None, :], eps_eV=eps,
                                           components=self.isrf_components, cmb=self.cmb)
            return np.ascontiguousarray(dn.reshape(self.n_cells, eps.size).T)

        return self._timed("photon_field", build)

    # -- input handling ------------------------------------------------------------------------
    def _cells(self, flux, name, n_energy):
        arr = np.asarray(flux, dtype=float)
        if arr.shape != (n_energy,) + self.shape:
            raise ValueError(f"{name}: expected shape (n_E, n_r, n_z) = {(n_energy,) + self.shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: intensities must be finite")
        return arr.reshape(n_energy, self.n_cells)

    def _to_rz(self, values_e_cells):
        """(n_E, n_cells) -> (n_r, n_z, n_E)."""
        return np.ascontiguousarray(values_e_cells.T.reshape(self.shape + (values_e_cells.shape[0],)))

    def nucleus_fluxes(self, flux_p, flux_he=None, ek_he_GeV_per_n=None):
        """Proton and He intensities as (n_Ep, n_cells) on the nucleus grid (He regridded if needed)."""
        p = self._cells(flux_p, "proton intensity", self.nucleus_ek_GeV_per_n.size)
        if flux_he is None:
            return p, None
        if ek_he_GeV_per_n is not None:
            ek_he = _check_axis("helium ek_GeV_per_n", ek_he_GeV_per_n)
            he_raw = np.asarray(flux_he, dtype=float)
            if he_raw.shape != (ek_he.size,) + self.shape:
                raise ValueError(f"helium intensity: expected shape {(ek_he.size,) + self.shape}, got {he_raw.shape}")
            flux_he = _loglog_regrid(ek_he, he_raw, self.nucleus_ek_GeV_per_n)
        return p, self._cells(flux_he, "helium intensity", self.nucleus_ek_GeV_per_n.size)

    # -- components ----------------------------------------------------------------------------
    def pi0_per_H(self, flux_p, flux_he=None, ek_he_GeV_per_n=None):
        """pi0-decay gamma-ray emissivity per H atom, (n_r, n_z, n_g) in GeV^-1 s^-1 sr^-1 H^-1.

        p-p, p-He, He-p, He-He via :class:`HadronicMatrix` (AAfrag + low-energy completion,
        docs/emission.md#hadronic-emissivity); multiply by n_H = n_HI + 2 n_H2 + n_HII on the line of sight.

        Parameters
        ----------
        flux_p : array_like, shape (n_Ep, n_r, n_z)
            Proton intensity, GeV^-1 cm^-2 s^-1 sr^-1 per GeV of kinetic energy.
        flux_he : array_like, shape (n_Ep or n_Ehe, n_r, n_z), optional
            He-nucleus intensity per GeV/n.
        ek_he_GeV_per_n : array_like, optional
            He grid if it differs from the nucleus grid.
        """
        p, he = self.nucleus_fluxes(flux_p, flux_he, ek_he_GeV_per_n)
        return self._to_rz(self.pi0_matrix.emissivity_per_H(p, he))

    def neutrinos_per_H(self, flux_p, flux_he=None, ek_he_GeV_per_n=None):
        """Per-flavour neutrino emissivities per H atom after oscillations, (n_r, n_z, n_nu) each.

        Returns
        -------
        dict
            'e', 'mu', 'tau' (nu + anti-nu each, at Earth, docs/emission.md#neutrino-oscillations) and 'all'
            (their sum, equal to the source all-flavour emissivity), GeV^-1 s^-1 sr^-1 H^-1.
        """
        p, he = self.nucleus_fluxes(flux_p, flux_he, ek_he_GeV_per_n)
        source = {flavour: self.neutrino_matrix(flavour).emissivity_per_H(p, he) for flavour in NEUTRINO_FLAVOUR_CODES}
        nu_e, nu_mu, nu_tau = flavour_fluxes_at_earth(source["e"], source["mu"], angles=self.mixing)
        out = {"e": nu_e, "mu": nu_mu, "tau": nu_tau, "all": nu_e + nu_mu + nu_tau}
        return {key: self._to_rz(val) for key, val in out.items()}

    def lepton_flux(self, flux_electron=None, flux_positron=None, ek_positron_GeV=None):
        """e- + e+ intensity as (n_Ee, n_cells) on the electron grid."""
        total = np.zeros((self.electron_ek_GeV.size, self.n_cells))
        if flux_electron is not None:
            total += self._cells(flux_electron, "electron intensity", self.electron_ek_GeV.size)
        if flux_positron is not None:
            if ek_positron_GeV is not None:
                flux_positron = _loglog_regrid(_check_axis("positron ek_GeV", ek_positron_GeV),
                                               np.asarray(flux_positron, dtype=float), self.electron_ek_GeV)
            total += self._cells(flux_positron, "positron intensity", self.electron_ek_GeV.size)
        return total

    def bremsstrahlung(self, flux_leptons):
        """Bremsstrahlung emissivities from the e- + e+ intensity.

        Parameters
        ----------
        flux_leptons : array_like, shape (n_Ee, n_r, n_z)
            e- + e+ intensity, GeV^-1 cm^-2 s^-1 sr^-1 per GeV (see :meth:`lepton_flux`).

        Returns
        -------
        dict of ndarray, each (n_r, n_z, n_g)
            'neutral' per neutral H atom (n_HI + 2 n_H2, He/H folded), 'ionised' per H+ ion (e-p + e-e),
            and 'per_H' = (n_neutral q_neutral + n_HII q_ionised) / n_H with the cell's 2D gas
            (module docstring), all in GeV^-1 s^-1 sr^-1 per target.
        """
        flux = self._cells(flux_leptons, "lepton intensity", self.electron_ek_GeV.size)
        mat = self.bremsstrahlung_matrix
        q_neutral = mat.matrix_neutral_per_H @ flux
        q_ionised = mat.matrix_ionised_per_HII @ flux
        n_neutral = (self.gas_cm3["HI"] + 2.0 * self.gas_cm3["H2"]).reshape(-1)
        n_hii = self.gas_cm3["HII"].reshape(-1)
        n_h = n_neutral + n_hii
        f_ion = np.divide(n_hii, n_h, out=np.zeros_like(n_h), where=n_h > 0)
        q_mix = (1.0 - f_ion) * q_neutral + f_ion * q_ionised
        return {"neutral": self._to_rz(q_neutral), "ionised": self._to_rz(q_ionised), "per_H": self._to_rz(q_mix)}

    def inverse_compton(self, flux_leptons):
        """Inverse-Compton volume emissivity j_IC, (n_r, n_z, n_g) in GeV^-1 cm^-3 s^-1 sr^-1.

        j[g, c] = sum_{e, eps} T[g, e, eps] J[e, c] n[eps, c] with T the tabulated Klein-Nishina
        kernel (:class:`InverseComptonKernel`, docs/emission.md#inverse-compton) and n the photon
        field of cell c. Per chunk of cells the Khatri-Rao product P[(e, eps), c] = J[e, c] n[eps, c]
        is formed and one GEMM T(g, e*eps) @ P is done: exact, memory n_Ee n_eps chunk x 8 bytes.
        Electron-energy rows where the kernel is zero for every gamma energy are skipped.

        Parameters
        ----------
        flux_leptons : array_like, shape (n_Ee, n_r, n_z)
            e- + e+ intensity, GeV^-1 cm^-2 s^-1 sr^-1 per GeV.
        """
        flux = self._cells(flux_leptons, "lepton intensity", self.electron_ek_GeV.size)
        if self.ic_method == "lowrank":
            return self._to_rz(self._inverse_compton_lowrank(flux))
        tensor = self.ic_kernel.tensor
        density = self.photon_density_per_cm3_eV
        start = time.perf_counter()
        # drop target-photon columns that are zero in every cell and electron rows with no kernel
        eps_used = np.flatnonzero(np.any(density > 0, axis=1) & np.any(tensor != 0, axis=(0, 1)))
        e_used = np.flatnonzero(np.any(tensor[:, :, eps_used] != 0, axis=(0, 2)))
        t_flat = np.ascontiguousarray(tensor[:, e_used][:, :, eps_used].reshape(tensor.shape[0], -1))
        dens = np.ascontiguousarray(density[eps_used])
        jflux = np.ascontiguousarray(flux[e_used])
        out = np.empty((tensor.shape[0], self.n_cells))
        for lo in range(0, self.n_cells, self.chunk_cells):
            hi = min(lo + self.chunk_cells, self.n_cells)
            khatri_rao = (jflux[:, None, lo:hi] * dens[None, :, lo:hi]).reshape(-1, hi - lo)
            out[:, lo:hi] = t_flat @ khatri_rao
        self.timings_s["apply_ic"] = time.perf_counter() - start
        return self._to_rz(out)

    @property
    def photon_field_lowrank(self):
        """Low-rank photon field (basis (n_eps, k) in cm^-3 eV^-1, amplitudes (k, n_cells), max error).

        eps^2 n(eps, c) / peak_c is decomposed by an eigen-decomposition of its (n_eps x n_eps)
        Gram matrix (equivalent to a truncated SVD); the rank is the smallest with
        max |reconstruction - field| <= ``ic_rank_tolerance`` x peak_c in every cell.
        """
        def build():
            density = self.photon_density_per_cm3_eV
            weight = self.target_energy_eV**2
            field_w = density * weight[:, None]
            peak = field_w.max(axis=0)
            peak = np.where(peak > 0, peak, 1.0)
            scaled = field_w / peak
            _, eigvec = np.linalg.eigh(scaled @ scaled.T)
            basis_all = eigvec[:, ::-1]
            projection = basis_all.T @ scaled
            residual = scaled.copy()
            for rank in range(1, basis_all.shape[1] + 1):
                residual -= np.outer(basis_all[:, rank - 1], projection[rank - 1])
                error = float(np.max(np.abs(residual)))
                if error <= self.ic_rank_tolerance:
                    break
            return basis_all[:, :rank] / weight[:, None], projection[:rank] * peak[None, :], rank, error

        return self._timed("photon_field_lowrank", build)

    def _inverse_compton_lowrank(self, flux):
        basis, amplitude, rank, error = self.photon_field_lowrank
        start = time.perf_counter()
        # M[g, e, k] = sum_eps T[g, e, eps] u_k(eps); j[g, c] = sum_{e, k} M[g, e, k] J[e, c] a[k, c]
        reduced = self._timed("ic_lowrank_kernel", lambda: np.ascontiguousarray(
            (self.ic_kernel.tensor @ basis).reshape(self.gamma_energy_GeV.size, -1)))
        out = np.empty((self.gamma_energy_GeV.size, self.n_cells))
        for lo in range(0, self.n_cells, self.chunk_cells * 8):
            hi = min(lo + self.chunk_cells * 8, self.n_cells)
            khatri_rao = (flux[:, None, lo:hi] * amplitude[None, :, lo:hi]).reshape(-1, hi - lo)
            out[:, lo:hi] = reduced @ khatri_rao
        self.timings_s["apply_ic"] = time.perf_counter() - start
        self.diagnostics["ic_lowrank_rank"] = rank
        self.diagnostics["ic_lowrank_max_field_error"] = error
        return out

    def absorption_per_kpc(self):
        """Pair-absorption coefficient kappa(E; r, z) = 1/lambda, (n_r, n_z, n_g) in kpc^-1.

        Isotropic target field = the same ISRF components + CMB as IC
        (:func:`galdiff.interactions.gamma_gamma.absorption_coefficient_per_kpc`,
        docs/emission.md#pair-absorption); one (n_g, n_eps) @ (n_eps, n_cells) product.
        """
        def build():
            kappa = absorption_coefficient_per_kpc(self.gamma_energy_GeV, self.target_energy_eV,
                                                   self.photon_density_per_cm3_eV)
            return self._to_rz(np.asarray(kappa).reshape(self.gamma_energy_GeV.size, self.n_cells))

        return self._timed("absorption", build)

    # -- everything at once --------------------------------------------------------------------
    def compute(self, intensities, extras=(), include=("pi0", "neutrinos", "bremsstrahlung", "inverse_compton", "absorption"),
                attrs=None) -> EmissivityResult:
        """All components of one model.

        Parameters
        ----------
        intensities : dict
            Species name ('proton', 'helium', 'electron', 'positron') -> either an array
            (n_E, n_r, n_z) on the grid given at construction, or a pair (ek_axis, array) (He on
            another GeV/n grid, e+ on another GeV grid are regridded log-log). Missing species
            count as zero (a missing proton intensity skips the hadronic components).
        extras : sequence of ExtraComponent
            E.g. ``(EXTRA1,)`` or ``(EXTRA1, EXTRA2)``.
        include : sequence of str
            Which CR-driven components (and the absorption table) to compute.
        attrs : dict, optional
            Extra metadata to store (model name, config, ...).

        Returns
        -------
        EmissivityResult
        """
        unknown = set(intensities) - set(SPECIES)
        if unknown:
            raise ValueError(f"unknown species {sorted(unknown)}; expected a subset of {SPECIES}")

        def split(name):
            value = intensities.get(name)
            if value is None:
                return None, None
            if isinstance(value, tuple):
                return np.asarray(value[1], dtype=float), np.asarray(value[0], dtype=float)
            return np.asarray(value, dtype=float), None

        result = EmissivityResult(
            r_kpc=self.r_kpc, z_kpc=self.z_kpc,
            energies={"gamma_energy_GeV": self.gamma_energy_GeV, "neutrino_energy_GeV": self.neutrino_energy_GeV},
            gas_cm3=self.gas_cm3,
        )
        flux_p, ek_p = split("proton")
        flux_he, ek_he = split("helium")
        if ek_p is not None and not np.allclose(ek_p, self.nucleus_ek_GeV_per_n):
            raise ValueError("proton intensity must be on nucleus_ek_GeV_per_n (the grid of the hadronic matrices)")
        if flux_p is not None:
            if "pi0" in include:
                result.components["pi0"] = self.pi0_per_H(flux_p, flux_he, ek_he)
                result.component_meta["pi0"] = _meta("per_H", "gamma", "pi0-decay gamma rays (p, He on H + He ISM; AAfrag)")
            if "neutrinos" in include:
                for flavour, values in self.neutrinos_per_H(flux_p, flux_he, ek_he).items():
                    key = f"neutrino_{flavour}"
                    result.components[key] = values
                    desc = ("all-flavour" if flavour == "all" else f"nu_{flavour} + anti-nu_{flavour}")
                    result.component_meta[key] = _meta("per_H", "neutrino", f"hadronic {desc} after averaged oscillations")
        flux_em, ek_em = split("electron")
        flux_ep, ek_ep = split("positron")
        if ek_em is not None and not np.allclose(ek_em, self.electron_ek_GeV):
            raise ValueError("electron intensity must be on electron_ek_GeV")
        if flux_em is not None or flux_ep is not None:
            leptons = self.lepton_flux(flux_em, flux_ep, ek_ep).reshape((self.electron_ek_GeV.size,) + self.shape)
            if "bremsstrahlung" in include:
                brems = self.bremsstrahlung(leptons)
                result.components["bremsstrahlung"] = brems["per_H"]
                result.component_meta["bremsstrahlung"] = _meta(
                    "per_H", "gamma", "e+- bremsstrahlung per H atom, neutral/ionised mixed with the cell's 2D gas")
                result.components["bremsstrahlung_neutral"] = brems["neutral"]
                result.component_meta["bremsstrahlung_neutral"] = _meta(
                    "per_H", "gamma", "bremsstrahlung per neutral H atom (n_HI + 2 n_H2), He/H folded in")
                result.components["bremsstrahlung_ionised"] = brems["ionised"]
                result.component_meta["bremsstrahlung_ionised"] = _meta(
                    "per_H", "gamma", "bremsstrahlung per H+ ion of ionised gas (e-p + e-e); multiply by n_HII")
            if "inverse_compton" in include:
                result.components["inverse_compton"] = self.inverse_compton(leptons)
                result.component_meta["inverse_compton"] = _meta(
                    "per_volume", "gamma", "inverse Compton on ISRF (optical + IR from file) + CMB, isotropic KN")
        extra_fits = {}
        for component in extras:
            result.components[component.name] = extra_gamma_emissivity(component, self.r_kpc, self.z_kpc, self.gamma_energy_GeV)
            result.component_meta[component.name] = _meta(
                "per_volume", "gamma", f"{component.origin} ECPL (index {component.index}, cutoff {component.cutoff_GeV} GeV) "
                f"x {component.distribution} template")
            if component.origin == "hadronic":
                fit = self._timed(f"fit_{component.name}", lambda c=component: fit_parent_proton_ecpl(
                    c.index, c.cutoff_GeV, self.neutrino_energy_GeV, c.reference_GeV, he_to_h=self.he_to_h, mixing=self.mixing))
                for flavour, values in extra_neutrino_emissivity(component, self.r_kpc, self.z_kpc,
                                                                 self.neutrino_energy_GeV, fit=fit).items():
                    key = f"{component.name}_neutrino_{flavour}"
                    result.components[key] = values
                    result.component_meta[key] = _meta("per_volume", "neutrino",
                                                       f"{component.name} hadronic neutrinos ({flavour}) from parent-proton ECPL")
                extra_fits[component.name] = {
                    "proton_index": fit.proton_index, "proton_curvature": fit.proton_curvature,
                    "proton_cutoff_GeV": fit.proton_cutoff_GeV, "proton_cutoff_sharpness": fit.proton_cutoff_sharpness,
                    "max_abs_log_residual": fit.max_abs_log_residual, "fit_range_GeV": list(fit.fit_range_GeV),
                }
        if "absorption" in include:
            result.kappa_per_kpc = self.absorption_per_kpc()
        result.attrs = {
            "he_to_h": self.he_to_h,
            "isrf_source": getattr(self.isrf, "source", None) or "none (CMB only)",
            "isrf_components": list(self.isrf_components),
            "cmb": str(self.cmb),
            "mixing_angles_deg": asdict(self.mixing),
            "hadronic_switch_GeV": list(self.hadronic_switch_GeV),
            # recorded only where it is not the default, so the baseline files keep their bytes
            **({"pi0_cross_sections": self.pi0_cross_sections} if self.pi0_cross_sections != "aafrag" else {}),
            "ic_oversample": self.ic_oversample,
            "ic_method": self.ic_method,
            "ic_rank_tolerance": self.ic_rank_tolerance,
            "extras": [asdict(c) for c in extras],
            "extra_parent_proton_fits": extra_fits,
            "gas": self.gas_source,
            "diagnostics": dict(self.diagnostics),
            **(attrs or {}),
        }
        result.timings_s = dict(self.timings_s)
        return result


def model_emissivity(propagated: dict, isrf, emission_cfg: dict, extras=(), galaxy_cfg: dict | None = None,
                     attrs: dict | None = None) -> EmissivityResult:
    """Emissivities of one model from its propagated densities.

    Parameters
    ----------
    propagated : dict
        ``{'proton', 'helium', 'electron', 'positron'}`` -> objects with ``grid`` (``r_kpc``,
        ``z_kpc``, ``ek_GeV_per_n``) and ``density`` (n_E, n_r, n_z) in cm^-3 (GeV/n)^-1
        (:class:`galdiff.propagation.run.SpeciesResult`); leptons are primary + secondary.
    isrf : galdiff.galaxy.isrf.ISRF
    emission_cfg : dict
        ``gamma_energy_GeV`` mapping with ``min``, ``max``, ``per_decade`` (the neutrino grid is
        the same).
    extras : sequence of ExtraComponent
    galaxy_cfg : dict, optional
        ``propagation.galaxy`` config: the target gas (X_CO, gas R_sun, He/H) of
        :meth:`galdiff.galaxy.gas.GasModel.from_config`, the same as the propagation's.
    """
    energy_cfg = emission_cfg["gamma_energy_GeV"]
    decades = np.log10(float(energy_cfg["max"]) / float(energy_cfg["min"]))
    gamma_energy = np.geomspace(float(energy_cfg["min"]), float(energy_cfg["max"]),
                                int(round(decades * float(energy_cfg["per_decade"]))) + 1)
    proton = propagated["proton"]
    grid = EmissionGrid(
        proton.grid.r_kpc, proton.grid.z_kpc, proton.grid.ek_GeV_per_n, propagated["electron"].grid.ek_GeV_per_n,
        gamma_energy_GeV=gamma_energy, isrf=isrf, gas_model=GasModel.from_config(galaxy_cfg),
    )
    intensities = {}
    for species, result in propagated.items():
        ek = result.grid.ek_GeV_per_n
        intensities[species] = (ek, species_intensity_from_density(result.density, ek, get_species(species)))
    return grid.compute(intensities, extras=extras, attrs=attrs)
