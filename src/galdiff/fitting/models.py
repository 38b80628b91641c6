"""Injection models of the fits: parameters, the nucleus model (Eq. 3 + force field) and the lepton
model (primary e-, extra e+ source, secondaries scaled by c_e+), and their spectra at Earth."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import units as kin
from ..spectra import (
    force_field_modulate_tabulated,
    injection_cell_average,
    injection_per_ek_per_n,
    loglog_interp,
)
from ..units import Species

#: name of the fitted normalisation (E^2.7-weighted LIS at the pivot), see the module docstring
NORM_PARAM = "norm_E2p7_GeV1p7_per_cm2_s_sr"
#: exponent of the energy weight of the normalisation parameter
NORM_WEIGHT_EXPONENT = 2.7
DEFAULT_PIVOT_GEV_PER_N = {"proton": 100.0, "helium": 100.0, "leptons": 20.0}
#: amplitude of the extra (e+) source of the lepton model: E^2.7-weighted LIS of that component
EXTRA_NORM_PARAM = NORM_PARAM + "_eplus"
#: its pivot energy (GeV), where the extra source dominates the positrons
DEFAULT_EXTRA_PIVOT_GEV = 100.0
#: its start value: ~80 % of the AMS-02 e+ flux at 100 GeV (E^3 J = 16 GeV^2 m^-2 s^-1 sr^-1)
DEFAULT_EXTRA_NORM = 3.0e-4

def lis_at_earth(ek_GeV_per_n, grid_ek_GeV_per_n, flux_lis, phi_GV, species: Species, modulated: bool = True):
    """Model intensity at the data energies from a LIS tabulated on the propagation grid.

    With ``modulated`` the force field is applied (J_TOA(T) = J_LIS(T + Phi_n) T (T + 2 m_n) /
    [(T + Phi_n)(T + Phi_n + 2 m_n)], Gleeson & Axford 1968; docs/conventions.md#force-field-modulation); J_LIS
    is read from the table by log-log interpolation (exact for a power law). Without it (Voyager 1
    beyond the heliopause) the LIS itself is interpolated.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        Data kinetic energies per nucleon in GeV/n.
    grid_ek_GeV_per_n, flux_lis : array_like
        LIS table (GeV/n, increasing) and intensity [cm^-2 s^-1 sr^-1 (GeV/n)^-1].
    phi_GV : float
        Force-field potential in GV.
    species : Species
    modulated : bool

    Returns
    -------
    numpy.ndarray
        Intensity at the data energies, units of ``flux_lis``. Raises ValueError when a needed
        energy lies outside the grid.
    """
    if modulated:
        return force_field_modulate_tabulated(ek_GeV_per_n, grid_ek_GeV_per_n, flux_lis, phi_GV, species)
    return loglog_interp(ek_GeV_per_n, grid_ek_GeV_per_n, flux_lis)

@dataclass
class _Param:
    """One fit parameter: ``name`` as reported, fitted as log10 of the value when ``log``."""

    name: str
    start: float
    log: bool = False
    limits: tuple[float, float] | None = None  # in reported (linear) units
    fixed: bool = False

    @property
    def internal_name(self) -> str:
        return f"log10_{self.name}" if self.log else self.name

    def to_internal(self, value: float) -> float:
        return math.log10(value) if self.log else float(value)

    def to_value(self, internal: float) -> float:
        return 10.0**internal if self.log else float(internal)


def _break_limits(breaks_GV: Sequence[float], outer_dex: float = 1.0):
    """Non-overlapping limits for ordered breaks: split at the log-midpoints of the start values.

    Keeps R1 < R2 < ... during the fit (each break moves inside its own interval).
    """
    logs = np.log10(np.asarray(breaks_GV, dtype=float))
    edges = np.concatenate(([logs[0] - outer_dex], 0.5 * (logs[1:] + logs[:-1]), [logs[-1] + outer_dex]))
    return [(10.0 ** edges[i], 10.0 ** edges[i + 1]) for i in range(len(logs))]


def _nucleus_params(prefix_suffix: str, spec: Mapping, index_offset: int = 0) -> list[_Param]:
    """Parameters of one Eq. 3 spectrum from a config-format mapping {nu, breaks_GV, cutoff_GV, phi_GV}."""
    nu = [float(v) for v in spec["nu"]]
    breaks = [float(v) for v in spec["breaks_GV"]]
    if len(nu) != len(breaks) + 1:
        raise ValueError(f"injection start values: need len(nu) == len(breaks_GV) + 1, got {len(nu)}, {len(breaks)}")
    if any(b <= a for a, b in zip(breaks, breaks[1:])):
        raise ValueError(f"injection start values: breaks_GV must increase, got {breaks}")
    sfx = prefix_suffix
    # indices: start - 1.5 .. max(start + 1.5, 4): Table III's nu1- = 0.01 would otherwise cap that
    # index at 1.5, and the fitted e- injection between ~1 and 5 GV wants ~1.7-1.9 with our transport
    params = [_Param(f"nu{i + index_offset}{sfx}", v, limits=(v - 1.5, max(v + 1.5, 4.0))) for i, v in enumerate(nu)]
    limits = _break_limits(breaks) if breaks else []
    params += [_Param(f"R{i + 1}{sfx}_GV", v, log=True, limits=lim)
               for i, (v, lim) in enumerate(zip(breaks, limits))]
    cutoff = float(spec["cutoff_GV"])
    params.append(_Param(f"Rc{sfx}_GV", cutoff, log=True, limits=(cutoff / 30.0, cutoff * 30.0)))
    phi = float(spec["phi_GV"])
    params.append(_Param(f"Phi{sfx}_GV", phi, limits=(0.0, max(2.0, 2.0 * phi))))
    return params


def _check_grid(grid_ek_GeV_per_n, green, label):
    grid = np.asarray(grid_ek_GeV_per_n, dtype=float)
    green = np.asarray(green, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(grid <= 0) or np.any(np.diff(grid) <= 0):
        raise ValueError(f"{label}: ek_GeV_per_n grid must be 1D, positive and strictly increasing")
    if green.shape != (grid.size, grid.size):
        raise ValueError(f"{label}: Green's matrix shape {green.shape} does not match the grid ({grid.size},)")
    if not np.all(np.isfinite(green)):
        raise ValueError(f"{label}: Green's matrix has non-finite entries")
    largest = float(np.max(np.abs(green))) if green.size else 0.0
    if largest == 0.0 or green.min() < -1e-2 * largest:
        raise ValueError(f"{label}: Green's matrix must be non-negative and not all zero "
                         f"(min {green.min():g}, max {largest:g})")
    # Small negatives are the undershoot (<~1 % of the peak) of the propagation's third-order
    # upwind loss flux just below a single-bin injection (galdiff.propagation.solver docstring):
    # a property of the discrete operator, so G is kept as it is and the fit's J = G @ Q equals
    # the propagated best fit; only J itself is clipped at 0 (NucleusModel._unit_lis).
    return grid, green


class NucleusModel:
    """Protons or helium: Eq. 3 with N breaks, cutoff, force field, propagated by a Green's matrix.

    Parameters (reported names): ``nu0..nuN``, ``R1_GV..RN_GV``, ``Rc_GV``, ``Phi_GV`` and
    :data:`NORM_PARAM` (E^2.7-weighted LIS at the pivot, see the module docstring).

    Parameters
    ----------
    species : Species
        :data:`galdiff.units.PROTON` or :data:`galdiff.units.HELIUM`.
    grid_ek_GeV_per_n : array_like
        Energy grid of the Green's matrix, GeV/n.
    green : array_like, shape (n, n)
        ``J_LIS = green @ Q`` (module docstring).
    start : mapping
        Config-format start values ``{nu: [...], breaks_GV: [...], cutoff_GV, phi_GV}``
        (``models.<model>.injection.<species>``; the paper's Table II), optionally with
        ``norm_E2p7_GeV1p7_per_cm2_s_sr`` (else estimated from the data by the fitter).
    pivot_ek_GeV_per_n : float
        T_piv of the normalisation.
    sampling : {"cell_average", "node"}
        Q on the grid as the cell average of Eq. 3 (:func:`injection_cell_average`, default) or
        its value at the nodes (:func:`injection_per_ek_per_n`); must match what the
        propagation solver assumes about its source term.
    """

    fit_name: str

    def __init__(self, species: Species, grid_ek_GeV_per_n, green, start: Mapping, pivot_ek_GeV_per_n: float | None = None,
                 sampling: str = "cell_average"):
        if sampling not in ("cell_average", "node"):
            raise ValueError(f"sampling must be 'cell_average' or 'node', got {sampling!r}")
        self.sampling = sampling
        self.species = species
        self.fit_name = species.name
        self.grid_ek_GeV_per_n, self.green = _check_grid(grid_ek_GeV_per_n, green, f"{species.name} Green's function")
        self.pivot_ek_GeV_per_n = float(pivot_ek_GeV_per_n or DEFAULT_PIVOT_GEV_PER_N.get(species.name, 100.0))
        if not self.grid_ek_GeV_per_n[0] <= self.pivot_ek_GeV_per_n <= self.grid_ek_GeV_per_n[-1]:
            raise ValueError(f"pivot {self.pivot_ek_GeV_per_n} GeV/n outside the {species.name} grid")
        self.n_breaks = len(start["breaks_GV"])
        self.params = _nucleus_params("", start)
        self.norm_given = NORM_PARAM in start
        norm_start = start.get(NORM_PARAM, 1.0)
        self.params.append(_Param(NORM_PARAM, float(norm_start), log=True,
                                  limits=(float(norm_start) * 1e-3, float(norm_start) * 1e3)))

    def _spectrum_args(self, values: Mapping, sfx: str = "", n_breaks: int | None = None, offset: int = 0):
        n = self.n_breaks if n_breaks is None else n_breaks
        indices = [values[f"nu{i + offset}{sfx}"] for i in range(n + 1)]
        breaks = [values[f"R{i + 1}{sfx}_GV"] for i in range(n)]
        return indices, breaks, values[f"Rc{sfx}_GV"]

    def _injection_on_grid(self, species, indices, breaks, cutoff, norm):
        if self.sampling == "node":
            return injection_per_ek_per_n(self.grid_ek_GeV_per_n, species, indices, breaks, cutoff, norm)
        return injection_cell_average(self.grid_ek_GeV_per_n, species, indices, breaks, cutoff, norm)

    def _unit_lis(self, green, species, indices, breaks, cutoff):
        q_shape = self._injection_on_grid(species, indices, breaks, cutoff, 1.0)
        # a flux is >= 0; G @ Q dips below only far beyond a steep cutoff (see _check_grid)
        return np.maximum(green @ q_shape, 0.0)

    def _pivot_scale(self, unit_lis, norm, pivot_ek_GeV_per_n: float | None = None):
        """Factor turning the unit-prefactor LIS into the one with T_piv^2.7 J(T_piv) = norm (the q0).

        Raises ValueError (which the chi-square turns into a wall) where the propagated unit
        spectrum vanishes at the pivot, as it can for extreme parameters on coarse grids.
        """
        pivot = self.pivot_ek_GeV_per_n if pivot_ek_GeV_per_n is None else pivot_ek_GeV_per_n
        at_pivot = float(loglog_interp(pivot, self.grid_ek_GeV_per_n, unit_lis))
        if not at_pivot > 0.0:
            raise ValueError(f"the propagated unit spectrum is {at_pivot:g} at the pivot {pivot:g} GeV/n")
        return norm / (pivot**NORM_WEIGHT_EXPONENT * at_pivot)

    def components(self, values: Mapping) -> dict:
        """LIS components on the grid for reported parameter values.

        Returns
        -------
        dict
            ``{species_name: (J_LIS array, Species, phi_GV)}`` and ``"q0"`` (the Eq. 3 prefactor
            in the units of Q per (GeV/n) * (GeV/n)/GV, i.e. per GV at R = 1 GV).
        """
        indices, breaks, cutoff = self._spectrum_args(values)
        unit_lis = self._unit_lis(self.green, self.species, indices, breaks, cutoff)
        q0 = self._pivot_scale(unit_lis, values[NORM_PARAM])
        return {"lis": {self.species.name: (q0 * unit_lis, self.species, values["Phi_GV"])}, "q0": q0}

    def injection(self, values: Mapping) -> dict:
        """Injection spectra Q(T_n) on the grid [units of Q], by component name."""
        indices, breaks, cutoff = self._spectrum_args(values)
        q0 = self.components(values)["q0"]
        return {self.species.name: self._injection_on_grid(self.species, indices, breaks, cutoff, q0)}

    def data_components(self, dataset_species: str) -> tuple[str, ...]:
        """Which LIS components are summed to compare with a data set of this species."""
        if dataset_species != self.species.name:
            raise ValueError(f"a {dataset_species} data set cannot be fitted with the {self.species.name} model")
        return (self.species.name,)

    def split_for_summary(self, params: Mapping, errors: Mapping) -> dict:
        """``{species: (params, errors)}`` as in results/summary.json (reported names)."""
        return {self.species.name: (dict(params), dict(errors))}


class LeptonModel(NucleusModel):
    """Primary electrons (Eq. 3, three breaks), extra primary positrons (one break) and secondaries.

    Components of the interstellar intensity at the Sun (module docstring, "Leptons"):

    * ``electron_primary``: Eq. 3 with nu0-..nu3-, R1-..R3-, Rc-, propagated by the electron
      Green's matrix, amplitude :data:`NORM_PARAM` (E^2.7-weighted LIS at the pivot, 20 GeV).
    * ``positron_primary``: the extra source, Eq. 3 with nu1+ below R1+, nu2+ above, cutoff Rc+,
      propagated by the positron Green's matrix, with its own amplitude :data:`EXTRA_NORM_PARAM`
      (E^2.7-weighted LIS of this component at ``extra_pivot_ek_GeV``, default 100 GeV, where it
      dominates the positrons). With ``extra_pairs`` the source injects e+ e- pairs (pulsars), and
      an equal ``electron_extra`` component is added to the electrons.
    * ``electron_secondary``: the fixed secondary e- from p and He.
    * ``positron_secondary``: c_e+ times the fixed secondary e+ (Table III's c_e+).

    Electrons are modulated with Phi-, positrons with Phi+ (``Phi_GV``, ``Phi_eplus_GV``).

    Reported parameter names: electrons ``nu0..nu3``, ``R1_GV..R3_GV``, ``Rc_GV``, ``Phi_GV``,
    :data:`NORM_PARAM`; positrons ``c_eplus``, ``nu1_eplus``, ``nu2_eplus``, ``R1_eplus_GV``,
    ``Rc_eplus_GV``, ``Phi_eplus_GV``, :data:`EXTRA_NORM_PARAM` (Table III plus the extra amplitude,
    which the paper does not print, like all its normalisations).

    Parameters
    ----------
    grid_ek_GeV_per_n : array_like
        Lepton energy grid (kinetic energy, GeV).
    green_electron : array_like
        Green's matrix of electrons.
    start : mapping
        ``{"electron": {nu, breaks_GV, cutoff_GV, phi_GV}, "positron": {c_eplus (optional), nu: [nu1+, nu2+],
        breaks_GV: [R1+], cutoff_GV, phi_GV, norm_E2p7_GeV1p7_per_cm2_s_sr (optional)}}`` (Table III).
    secondary_lis : mapping
        ``{"electron": array, "positron": array}``: secondary e-/e+ interstellar intensities on the
        grid [cm^-2 s^-1 sr^-1 GeV^-1] for the propagated p and He; the e+ one is scaled by c_e+;
        missing entries count as zero.
    green_positron : array_like or None
        Positron Green's matrix (default: the electron one; the losses and diffusion are equal).
    pivot_ek_GeV_per_n : float or None
        Pivot of the primary-electron amplitude (default 20 GeV).
    sampling : {"cell_average", "node"}
        See :class:`NucleusModel`.
    c_eplus_start : float
        Start value of c_e+ when ``start["positron"]`` has no ``c_eplus`` (the config schema's
        injection block has no such key); default 1.00 as in Table III. Limits: start / 10 ..
        start x 10 (the secondary e+ yield is uncertain by tens of per cent, not by factors of 10).
    extra_pairs : bool
        The extra source injects e+ e- pairs (True) or positrons only (False, default: Table III
        lists the extra component under e+ only).
    extra_pivot_ek_GeV : float
        Pivot of :data:`EXTRA_NORM_PARAM`.
    """

    def __init__(self, grid_ek_GeV_per_n, green_electron, start: Mapping, secondary_lis: Mapping | None = None,
                 green_positron=None, pivot_ek_GeV_per_n: float | None = None, sampling: str = "cell_average",
                 c_eplus_start: float = 1.0, extra_pairs: bool = False,
                 extra_pivot_ek_GeV: float = DEFAULT_EXTRA_PIVOT_GEV):
        electron_start = start["electron"]
        super().__init__(kin.ELECTRON, grid_ek_GeV_per_n, green_electron, electron_start,
                         pivot_ek_GeV_per_n or DEFAULT_PIVOT_GEV_PER_N["leptons"], sampling)
        self.fit_name = "leptons"
        self.extra_pairs = bool(extra_pairs)
        self.extra_pivot_ek_GeV = float(extra_pivot_ek_GeV)
        if not self.grid_ek_GeV_per_n[0] <= self.extra_pivot_ek_GeV <= self.grid_ek_GeV_per_n[-1]:
            raise ValueError(f"extra-positron pivot {self.extra_pivot_ek_GeV} GeV outside the lepton grid")
        _, self.green_positron = _check_grid(grid_ek_GeV_per_n, green_electron if green_positron is None
                                             else green_positron, "positron Green's function")
        positron_start = start["positron"]
        if len(positron_start["nu"]) != 2 or len(positron_start["breaks_GV"]) != 1:
            raise ValueError("positron start values: need nu = [nu1+, nu2+] and breaks_GV = [R1+]")
        positron = _nucleus_params("_eplus", positron_start, index_offset=1)
        c_start = float(positron_start.get("c_eplus", c_eplus_start))
        extra_norm = float(positron_start.get(NORM_PARAM, DEFAULT_EXTRA_NORM))
        self.params += ([_Param("c_eplus", c_start, log=True, limits=(c_start / 10.0, c_start * 10.0))] + positron
                        + [_Param(EXTRA_NORM_PARAM, extra_norm, log=True, limits=(extra_norm * 1e-3, extra_norm * 1e3))])
        self.secondary_lis = {}
        for name in ("electron", "positron"):
            array = np.zeros_like(self.grid_ek_GeV_per_n) if secondary_lis is None or secondary_lis.get(name) is None \
                else np.asarray(secondary_lis[name], dtype=float)
            if array.shape != self.grid_ek_GeV_per_n.shape or np.any(array < 0) or not np.all(np.isfinite(array)):
                raise ValueError(f"secondary_lis[{name!r}] must be finite, >= 0 and on the lepton grid")
            self.secondary_lis[name] = array

    def components(self, values: Mapping) -> dict:
        """LIS components (class docstring) and the Eq. 3 prefactors ``q0`` (e-) and ``q0_eplus`` (extra)."""
        indices, breaks, cutoff = self._spectrum_args(values)
        unit_lis = self._unit_lis(self.green, kin.ELECTRON, indices, breaks, cutoff)
        q0 = self._pivot_scale(unit_lis, values[NORM_PARAM])
        p_indices, p_breaks, p_cutoff = self._spectrum_args(values, "_eplus", n_breaks=1, offset=1)
        positron_lis = self._unit_lis(self.green_positron, kin.POSITRON, p_indices, p_breaks, p_cutoff)
        # q0 of the extra source such that T_piv+^2.7 J_LIS+(T_piv+) = its norm
        q0_extra = self._pivot_scale(positron_lis, values[EXTRA_NORM_PARAM], self.extra_pivot_ek_GeV)
        phi_minus, phi_plus = values["Phi_GV"], values["Phi_eplus_GV"]
        lis = {
            "electron_primary": (q0 * unit_lis, kin.ELECTRON, phi_minus),
            "positron_primary": (q0_extra * positron_lis, kin.POSITRON, phi_plus),
            "electron_secondary": (self.secondary_lis["electron"], kin.ELECTRON, phi_minus),
            "positron_secondary": (values["c_eplus"] * self.secondary_lis["positron"], kin.POSITRON, phi_plus),
        }
        if self.extra_pairs:
            pair_lis = self._unit_lis(self.green, kin.ELECTRON, p_indices, p_breaks, p_cutoff)
            lis["electron_extra"] = (q0_extra * pair_lis, kin.ELECTRON, phi_minus)
        return {"lis": lis, "q0": q0, "q0_eplus": q0_extra}

    def injection(self, values: Mapping) -> dict:
        """Primary injection spectra Q(T) on the grid: ``electron_primary``, ``positron_primary`` (and ``electron_extra``)."""
        prefactors = self.components(values)
        indices, breaks, cutoff = self._spectrum_args(values)
        p_indices, p_breaks, p_cutoff = self._spectrum_args(values, "_eplus", n_breaks=1, offset=1)
        out = {
            "electron_primary": self._injection_on_grid(kin.ELECTRON, indices, breaks, cutoff, prefactors["q0"]),
            "positron_primary": self._injection_on_grid(kin.POSITRON, p_indices, p_breaks, p_cutoff,
                                                        prefactors["q0_eplus"]),
        }
        if self.extra_pairs:
            out["electron_extra"] = self._injection_on_grid(kin.ELECTRON, p_indices, p_breaks, p_cutoff,
                                                            prefactors["q0_eplus"])
        return out

    def data_components(self, dataset_species: str) -> tuple[str, ...]:
        electrons = ("electron_primary", "electron_secondary") + (("electron_extra",) if self.extra_pairs else ())
        positrons = ("positron_primary", "positron_secondary")
        table = {"electron": electrons, "positron": positrons, "electron+positron": electrons + positrons}
        if dataset_species not in table:
            raise ValueError(f"a {dataset_species} data set cannot be fitted with the lepton model")
        return table[dataset_species]

    def split_for_summary(self, params: Mapping, errors: Mapping) -> dict:
        """Electron and positron entries; positron names lose their ``_eplus`` tag (Table III columns)."""
        out = {}
        for species, keep in (("electron", lambda n: "eplus" not in n), ("positron", lambda n: "eplus" in n)):
            rename = (lambda n: n if n == "c_eplus" else n.replace("_eplus", "")) if species == "positron" \
                else (lambda n: n)
            out[species] = ({rename(k): v for k, v in params.items() if keep(k)},
                            {rename(k): v for k, v in errors.items() if keep(k)})
        return out

def spectra_at_earth(model: NucleusModel, params: Mapping, ek_GeV_per_n) -> dict:
    """Best-fit spectra for figures: every LIS component and its force-field modulated version.

    Parameters
    ----------
    model : NucleusModel or LeptonModel
        The model that was fitted (same Green's matrix and grid).
    params : mapping
        Reported parameter values (:attr:`FitResult.params`).
    ek_GeV_per_n : array_like
        Output kinetic energies per nucleon (GeV/n); where T + Phi_n leaves the grid the
        modulated value is NaN (and the LIS outside the grid too).

    Returns
    -------
    dict
        ``{component: {"flux_lis": array, "flux_toa": array}}`` [cm^-2 s^-1 sr^-1 (GeV/n)^-1] plus
        ``"total"`` (sum of all components); components ``proton``/``helium``, or for leptons
        ``electron_primary``, ``positron_primary``, ``electron_secondary``, ``positron_secondary``,
        and for leptons also ``"secondary"`` (e+ + e- secondaries).
    """
    ek = np.asarray(ek_GeV_per_n, dtype=float)
    grid = model.grid_ek_GeV_per_n
    out = {}
    for name, (lis, species, phi_GV) in model.components(dict(params))["lis"].items():
        out[name] = {
            "flux_lis": loglog_interp(ek, grid, lis, out_of_range="nan"),
            "flux_toa": force_field_modulate_tabulated(ek, grid, lis, phi_GV, species, out_of_range="nan"),
        }
    names = list(out)
    out["total"] = {key: sum(out[n][key] for n in names) for key in ("flux_lis", "flux_toa")}
    secondaries = [n for n in names if n.endswith("_secondary")]
    if secondaries:
        out["secondary"] = {key: sum(out[n][key] for n in secondaries) for key in ("flux_lis", "flux_toa")}
    return out
