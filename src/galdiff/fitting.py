"""Fits of the injection spectra (paper Eq. 3) and solar modulation to local cosmic-ray data.

The paper (docs/paper.md, Sec. 3.2, Tables II and III) fits, for a fixed propagation set-up (Table I),
the injection spectrum of each species, a multiply broken power law in rigidity with an
exponential cutoff (Eq. 3), together with a force-field modulation potential Phi
(Gleeson & Axford 1968, ApJ 154, 1011; docs/conventions.md#force-field-modulation) to Voyager 1, AMS-02 and
DAMPE data and to one air-shower experiment at the knee: IceTop (model DR-high) or KASCADE
(model DR-low). This module implements that fit for a linear propagation operator.

Propagation contract
--------------------
For each species the propagation stage supplies a Green's matrix ``G[i_out, j_in]`` on that
species' kinetic-energy-per-nucleon grid ``ek_GeV_per_n`` (strictly increasing, GeV/n) such that
the interstellar (unmodulated) intensity at the Sun is

    J_LIS(T_i) = sum_j G[i, j] Q(T_j)      [cm^-2 s^-1 sr^-1 (GeV/n)^-1]

with Q the injection spectrum per unit T_n [cm^-3 s^-1 (GeV/n)^-1] on the grid (the source
spatial shape, Eq. 2, being fixed). Any energy quadrature weight is part of G; this module only
forms the product ``G @ Q``, so the units of J are those of G times those of Q (cm sr^-1 if G
holds no energy weight). By default Q_j is the *cell average* of Eq. 3 over the log-cell of node j
(:func:`injection_cell_average`), not its value at the node: the two agree to O(h^2) (0.16 % for
an E^-2.7 spectrum on a 0.05-dex grid), but point sampling makes chi2 kinked whenever a break
crosses a node, which traps MIGRAD and spoils HESSE. ``sampling="node"`` restores point values
if the solver's source term must be read that way.

Injection model and normalisation
---------------------------------
Eq. 3 gives q_R(R) per unit rigidity; per unit T_n the injection is Q(T_n) = q_R(R(T_n)) dR/dT_n
with dR/dT_n = (A/|Z|)/beta (docs/conventions.md#kinematics-of-nuclei). The overall amplitude of q is not fitted
directly, because it is degenerate with the (arbitrary) scale of G and badly conditioned against
the indices. The fitted normalisation is instead

    norm_E2p7 = T_piv^2.7 * J_LIS(T_piv)        [GeV^1.7 cm^-2 s^-1 sr^-1 per nucleon^1.7]

the E^2.7-weighted *propagated, unmodulated* intensity at a pivot kinetic energy per nucleon
T_piv (default 100 GeV/n for nuclei, 20 GeV for leptons), a quantity of order 1 for protons
(about 1.1-1.2 at 100 GeV; docs/conventions.md#flux-density-and-emissivity) that is nearly uncorrelated with the
spectral shape when T_piv lies where the data are dense. The implied Eq. 3 prefactor q0 (value of
the first segment's continuation at R = 1 GV, in cm^-3 s^-1 GV^-1) is reported as a derived
quantity.

Leptons (Table III): primary electrons follow Eq. 3 with three breaks (nu0-..nu3-, R1-..R3-, Rc-)
and potential Phi-. An extra source of positrons (pulsar-like) follows Eq. 3 with one break (nu1+
below R1+, nu2+ above, cutoff Rc+) and potential Phi+, with its own amplitude (like every
normalisation, not printed in the paper). **Interpretation of c_e+** (not defined in the paper):
c_e+ multiplies the *secondary* positrons from p and He, the convention of the GALPROP-based
lepton fits of the authors' group (Yuan et al. 2013, arXiv:1304.1482; Lin, Yuan & Bi 2015, PRD 91,
063508), where it absorbs the uncertainty of the e+ production cross sections and of the
propagation; Table III's c_e+ = 1.00 then means "secondaries as computed". (The earlier reading,
c_e+ = q0(e+)/q0(e-) with both Eq. 3 spectra in raw GV form, gave Q_e+ = 0.9 Q_e- at 1 GV for the
Table III shapes, so that the extra positrons outnumbered the electrons below ~1.5 GeV and the fit
drove Phi+ to ~2 GV: not a sensible positron fraction.) Secondary e- (fixed) and e+ (times c_e+) are
modulated with Phi- and Phi+ respectively. Optionally (``LeptonModel(extra_pairs=True)``) the
extra source injects e+ e- pairs. See :class:`LeptonModel`.

Fit
---
iminuit MIGRAD then HESSE (MINOS optional). Breaks, cutoffs, the normalisation and c_e+ are
fitted as log10 of their values; break limits are non-overlapping intervals around the start
values, which keeps R1 < R2 < ... . A first MIGRAD pass holds the breaks fixed, then all free
parameters are released (the break directions are the multimodal ones). Parameters that end at a
limit are listed in :attr:`FitResult.at_limit`.

Likelihood
----------
chi2 = sum over data points of ((m - d) / sigma)^2 with sigma the quadrature sum of statistical
and systematic errors *on the side of the model* (upper error if m > d, lower error otherwise).
Upper limits contribute only when the model exceeds the limit, with sigma the upper error (or
the limit itself when no upper error is given). Optionally, each group of data sets (by default
one experiment) gets a free normalisation a_k multiplying the model, with a Gaussian prior
((a_k - 1)/s_k)^2 of width s_k (the experiment's scale uncertainty). The number of degrees of
freedom is (measurements + priors) - free parameters; upper limits are not counted as
measurements. Data are compared with the model at the data energies: J_LIS is modulated with the
force field (not for Voyager 1, which measures the LIS) and interpolated log-log from the grid.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import units as kin
from .config import schema_defaults
from .provenance import atomic_path, provenance_meta
from .spectra import (
    broken_power_law_rigidity,
    force_field_modulate_tabulated,
    force_field_shift_GeV_per_n,
    loglog_interp,
)
from .units import Species

__all__ = [
    "NORM_PARAM",
    "EXTRA_NORM_PARAM",
    "injection_per_ek_per_n",
    "injection_cell_average",
    "cell_edges_GeV_per_n",
    "lis_at_earth",
    "FitDataset",
    "prepare_datasets",
    "default_data_selection",
    "chi2_contributions",
    "NucleusModel",
    "LeptonModel",
    "ChiSquare",
    "spectra_at_earth",
    "FitResult",
    "fit",
    "configured_fixed",
    "INJECTION_MODES",
    "injection_mode",
    "injection_species",
    "as_printed_fixed",
    "fit_nucleus_injection",
    "profile_nucleus_fit",
    "fit_lepton_injection",
    "fit_model_injection",
    "fitted_injection",
    "fit_file_content",
    "merge_fit_files",
]

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


# ---------------------------------------------------------------------------------------------
# spectra
# ---------------------------------------------------------------------------------------------


def injection_per_ek_per_n(ek_GeV_per_n, species: Species, indices, breaks_GV, cutoff_GV=None, norm=1.0):
    """Eq. 3 injection spectrum converted to a density per unit kinetic energy per nucleon.

    Q(T_n) = q_R(R(T_n)) dR/dT_n with q_R the broken power law in rigidity of the paper's Eq. 3
    (:func:`galdiff.spectra.broken_power_law_rigidity`) and dR/dT_n = (A/|Z|)/beta
    (docs/conventions.md#kinematics-of-nuclei), so that the number of particles is conserved.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        Kinetic energy per nucleon T_n in GeV/n (per particle for leptons).
    species : Species
    indices : sequence of float
        nu_0 ... nu_N.
    breaks_GV : sequence of float
        R_1 < ... < R_N in GV.
    cutoff_GV : float or None
        R_c in GV.
    norm : float
        q0, the Eq. 3 prefactor (per GV at R = 1 GV, first-segment continuation, no cutoff).

    Returns
    -------
    numpy.ndarray
        Q(T_n) in the units of ``norm`` times GV per (GeV/n), e.g. cm^-3 s^-1 (GeV/n)^-1.
    """
    rigidity_GV = kin.rigidity_GV_from_ek_per_n(ek_GeV_per_n, species)
    q_rigidity = broken_power_law_rigidity(rigidity_GV, indices, breaks_GV, cutoff_GV, norm)
    return q_rigidity * kin.drigidity_dek_per_n(ek_GeV_per_n, species)


def cell_edges_GeV_per_n(grid_ek_GeV_per_n):
    """Cell edges of a log-spaced (or any increasing) grid: geometric midpoints, end cells symmetric in ln T."""
    grid = np.asarray(grid_ek_GeV_per_n, dtype=float)
    log_grid = np.log(grid)
    inner = 0.5 * (log_grid[1:] + log_grid[:-1])
    first = log_grid[0] - (inner[0] - log_grid[0])
    last = log_grid[-1] + (log_grid[-1] - inner[-1])
    return np.exp(np.concatenate(([first], inner, [last])))


def injection_cell_average(grid_ek_GeV_per_n, species: Species, indices, breaks_GV, cutoff_GV=None, norm=1.0,
                           n_sub: int = 8):
    """Eq. 3 injection averaged over each grid cell: (1/Delta T) * integral of Q(T_n) dT_n over the cell.

    The number of particles injected in a cell, divided by its width, is what a finite-volume
    solver needs, and, unlike point sampling, it moves smoothly as a break rigidity crosses a grid
    node (point sampling makes chi2 kinked there and traps MIGRAD/HESSE at nodes). Cells are
    bounded by the geometric midpoints of the nodes (:func:`cell_edges_GeV_per_n`); cells holding a
    break are split there, and the integral of Q T dlnT over each smooth piece is done by
    ``n_sub``-point Gauss-Legendre quadrature in ln T_n (accurate to ~1e-10). For a smooth spectrum
    the result differs from the node value by O(h^2): for a power law of index 2.7 on a 0.05-dex
    grid, by 0.16 %.

    Parameters
    ----------
    grid_ek_GeV_per_n : array_like
        Grid nodes T_n in GeV/n.
    species, indices, breaks_GV, cutoff_GV, norm
        As in :func:`injection_per_ek_per_n`.
    n_sub : int
        Gauss-Legendre points per smooth piece of a cell.

    Returns
    -------
    numpy.ndarray
        Cell-averaged Q in the units of :func:`injection_per_ek_per_n`.
    """
    edges = cell_edges_GeV_per_n(grid_ek_GeV_per_n)
    # split the cells at the break energies so that every piece has a smooth integrand: the cell
    # integral is then exact to rounding and moves smoothly (C1) as a break crosses a piece boundary
    break_ek = kin.ek_per_n_from_rigidity_GV(np.asarray(breaks_GV, dtype=float), species)
    break_ek = break_ek[(break_ek > edges[0]) & (break_ek < edges[-1])]
    points = np.log(np.union1d(edges, break_ek))
    cell_of_piece = np.searchsorted(edges, np.exp(0.5 * (points[1:] + points[:-1]))) - 1
    nodes, weights = np.polynomial.legendre.leggauss(n_sub)
    width = points[1:] - points[:-1]
    log_t = points[:-1, None] + width[:, None] * 0.5 * (nodes[None, :] + 1.0)
    t_sub = np.exp(log_t)
    q_sub = injection_per_ek_per_n(t_sub, species, indices, breaks_GV, cutoff_GV, norm)
    # integral Q dT = integral Q T dlnT (Gauss-Legendre in ln T per piece), divided by the cell width
    piece_integral = 0.5 * width * np.sum(weights[None, :] * q_sub * t_sub, axis=1)
    cell_integral = np.zeros(edges.size - 1)
    np.add.at(cell_integral, cell_of_piece, piece_integral)
    return cell_integral / np.diff(edges)


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


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


@dataclass
class FitDataset:
    """One data set reduced to what the likelihood needs (plain float64 arrays, T_n axis).

    Attributes
    ----------
    name : str
        Data-set name (e.g. ``ams02_proton``).
    experiment : str
    species : str
        ``proton``, ``helium``, ``electron``, ``positron`` or ``electron+positron``; the model
        summed over the matching components is compared with it.
    ek_GeV_per_n : numpy.ndarray
        Kinetic energy per nucleon (per particle for leptons) of each point, GeV/n.
    flux : numpy.ndarray
        Measured intensity or upper limit [cm^-2 s^-1 sr^-1 (GeV/n)^-1].
    err_lo, err_hi : numpy.ndarray
        Total (stat and sys in quadrature) lower and upper errors, same units, > 0.
    is_upper_limit : numpy.ndarray of bool
    modulated : bool
        Whether the force field applies (False for Voyager 1, beyond the heliopause).
    scale_group : str or None
        Nuisance-normalisation group; None for no nuisance normalisation.
    scale_uncertainty : float or None
        Fractional width of the Gaussian prior on the group's normalisation.
    citation : str
    n_dropped : int
        Points inside the energy range dropped for having no usable error.
    """

    name: str
    experiment: str
    species: str
    ek_GeV_per_n: np.ndarray
    flux: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    is_upper_limit: np.ndarray
    modulated: bool = True
    scale_group: str | None = None
    scale_uncertainty: float | None = None
    citation: str = ""
    n_dropped: int = 0

    def __post_init__(self):
        self.ek_GeV_per_n = np.asarray(self.ek_GeV_per_n, dtype=float)
        n = self.ek_GeV_per_n.size
        self.flux = np.asarray(self.flux, dtype=float)
        self.err_lo = np.broadcast_to(np.asarray(self.err_lo, dtype=float), (n,)).copy()
        self.err_hi = np.broadcast_to(np.asarray(self.err_hi, dtype=float), (n,)).copy()
        self.is_upper_limit = np.broadcast_to(np.asarray(self.is_upper_limit, dtype=bool), (n,)).copy()
        if self.flux.shape != (n,):
            raise ValueError(f"data set {self.name!r}: flux and ek_GeV_per_n differ in shape")
        if np.any(self.ek_GeV_per_n <= 0):
            raise ValueError(f"data set {self.name!r}: energies must be > 0")
        if np.any(self.err_lo <= 0) or np.any(self.err_hi <= 0):
            raise ValueError(f"data set {self.name!r}: total errors must be > 0 (drop or fix such points)")

    @property
    def n_measurements(self) -> int:
        """Points that are measurements (not upper limits)."""
        return int(np.count_nonzero(~self.is_upper_limit))


#: fractional systematic error added to the Voyager 1 proton points (see :func:`default_data_selection`)
VOYAGER_PROTON_SYS_FRACTION = 0.05
#: width of the prior on the DAMPE e+ + e- scale relative to AMS-02 (see :func:`default_data_selection`)
DAMPE_LEPTON_SCALE_UNCERTAINTY = 0.06
#: lowest energy of the separate AMS-02 e- and e+ spectra in the lepton fit, GeV
SEPARATE_LEPTONS_EK_MIN_GEV = 10.0


def default_data_selection(knee_dataset: str, separate_leptons: bool = False) -> dict:
    """Data used by the paper's fits (docs/paper.md, Sec. 2.1 and 'The model chain', item 1), with our error model.

    Both models use Voyager 1, AMS-02 and DAMPE for p and He; DR-high adds IceTop (Sibyll 2.1) and
    DR-low KASCADE (QGSJET-II-02 for p, QGSJET 01 for He) at the knee. Leptons use the AMS-02 and
    DAMPE e+ + e- spectra. No energy cuts on these. Three documented choices of ours:

    * ``voyager_proton`` gets a 5 % systematic error in quadrature (``sys_fraction``): its source
      (Stone et al. 2013 via CRDB) lists statistical errors only (1.5 % at 3.7-7 MeV), Cummings et
      al. 2016 give 5.0 % systematics for the same CRS telescopes (our He table), and the adjacent
      points at 6.95 and 8.96 MeV, from different telescopes, differ by 29 %, far beyond their
      statistical errors. Without it Voyager alone gives chi2 ~ 500 for 19 points at any Eq. 3 shape.
    * ``dampe_electron_positron`` gets a free scale with a 6 % Gaussian prior (``scale_uncertainty``):
      DAMPE lies ~9-10 % above AMS-02 from 40 GeV to 1 TeV; for an E^-3.1 spectrum that is a
      relative energy scale of ~3 %, and the energy-scale uncertainties of the two calorimeters
      (~2 % each) are not in the tabulated errors. Without it DAMPE gives chi2 ~ 250 for 38 points.
    * with ``separate_leptons`` the AMS-02 e- and e+ spectra enter only above 10 GeV: below,
      charge-sign dependent solar modulation (2011-2018 spans the 2012-2014 polarity reversal) is
      not a force field, and a force field cannot follow the e+ spectrum: fitted alone with every
      positron parameter free, AMS-02 e+ gives chi2 639/67 above 0.5 GeV, 363/60 above 2 GeV, 30/52
      above 5 GeV and 27/43 above 10 GeV (reduced grid, DR-high). The paper fitted only the sum.

    Parameters
    ----------
    knee_dataset : {"icetop", "kascade"}
        The config's ``models.<model>.knee_dataset``.
    separate_leptons : bool
        Also fit the AMS-02 e- and e+ spectra (above :data:`SEPARATE_LEPTONS_EK_MIN_GEV`). The
        e+ + e- sum alone leaves c_e+ and the extra-positron parameters unconstrained (they only
        move ~8 % of the sum); the paper lists only the sum, hence the default False.

    Returns
    -------
    dict
        ``{fit_name: {dataset_name: options}}`` with fit names ``proton``, ``helium``,
        ``leptons``; options as documented in :func:`prepare_datasets`.
    """
    if knee_dataset not in ("icetop", "kascade"):
        raise ValueError(f"knee_dataset must be 'icetop' or 'kascade', got {knee_dataset!r}")
    selection = {}
    for species in ("proton", "helium"):
        selection[species] = {f"{prefix}_{species}": {} for prefix in ("voyager", "ams02", "dampe", knee_dataset)}
    selection["proton"]["voyager_proton"] = {"sys_fraction": VOYAGER_PROTON_SYS_FRACTION}
    selection["leptons"] = {"ams02_electron_positron": {},
                            "dampe_electron_positron": {"scale_uncertainty": DAMPE_LEPTON_SCALE_UNCERTAINTY}}
    if separate_leptons:
        selection["leptons"].update({name: {"ek_min_GeV_per_n": SEPARATE_LEPTONS_EK_MIN_GEV}
                                     for name in ("ams02_electron", "ams02_positron")})
    return selection


def prepare_datasets(tables: Mapping, selection: Mapping) -> list[FitDataset]:
    """Turn tidy cosmic-ray tables into :class:`FitDataset` objects, applying a selection.

    Parameters
    ----------
    tables : mapping of str to astropy.table.Table
        Tidy tables (:func:`galdiff.data.datasets.build_dataset` / ``read_dataset``) by data-set
        name; converted to T_n with :func:`galdiff.data.datasets.flux_vs_ek_per_n`.
    selection : mapping of str to mapping
        ``{dataset_name: options}`` for one fit, options (all optional):
        ``ek_min_GeV_per_n``, ``ek_max_GeV_per_n`` (inclusive range of T_n kept),
        ``modulated`` (default: False for names starting with ``voyager``, else True),
        ``sys_fraction`` (a fractional systematic error added in quadrature to both sides, for
        sources without systematic errors),
        ``scale_uncertainty`` (fractional width of a nuisance-normalisation prior; absent or
        None: no nuisance), ``scale_group`` (default: the table's experiment).

    Returns
    -------
    list of FitDataset
        Points with zero total error on both sides are dropped (counted in ``n_dropped``, e.g. the
        IceTop helium row at 1.995e8 GeV); a point with one zero side uses the other side.
    """
    from .data.datasets import flux_vs_ek_per_n  # local import: the data layer pulls in astropy

    out = []
    for name, options in selection.items():
        options = dict(options or {})
        unknown = set(options) - {"ek_min_GeV_per_n", "ek_max_GeV_per_n", "modulated", "scale_uncertainty",
                                  "scale_group", "sys_fraction"}
        if unknown:
            raise KeyError(f"data set {name!r}: unknown selection option(s) {sorted(unknown)}")
        if name not in tables:
            raise KeyError(f"data set {name!r} selected but no table given; have {sorted(tables)}")
        table = tables[name]
        spectrum = flux_vs_ek_per_n(table)
        ek = spectrum.ek_GeV_per_n
        keep = np.isfinite(ek) & np.isfinite(spectrum.flux_per_GeV_per_n)
        if options.get("ek_min_GeV_per_n") is not None:
            keep &= ek >= float(options["ek_min_GeV_per_n"])
        if options.get("ek_max_GeV_per_n") is not None:
            keep &= ek <= float(options["ek_max_GeV_per_n"])
        err_lo = np.hypot(np.nan_to_num(spectrum.stat_lo), np.nan_to_num(spectrum.sys_lo))
        err_hi = np.hypot(np.nan_to_num(spectrum.stat_hi), np.nan_to_num(spectrum.sys_hi))
        upper = spectrum.is_upper_limit
        flux = spectrum.flux_per_GeV_per_n
        sys_fraction = float(options.get("sys_fraction") or 0.0)
        if sys_fraction < 0:
            raise ValueError(f"data set {name!r}: sys_fraction must be >= 0, got {sys_fraction}")
        if sys_fraction > 0:
            extra = sys_fraction * np.abs(flux)
            err_lo, err_hi = np.where(upper, err_lo, np.hypot(err_lo, extra)), np.where(upper, err_hi, np.hypot(err_hi, extra))
        # an upper limit's only relevant error is the upper one; without one, the limit itself
        err_hi = np.where(upper & (err_hi <= 0), flux, err_hi)
        err_lo = np.where(upper, err_hi, err_lo)
        err_lo, err_hi = np.where(err_lo > 0, err_lo, err_hi), np.where(err_hi > 0, err_hi, err_lo)
        usable = (err_lo > 0) & (err_hi > 0)
        n_dropped = int(np.count_nonzero(keep & ~usable))
        keep &= usable
        if not np.any(keep):
            raise ValueError(f"data set {name!r}: no points left after the selection {options}")
        scale_uncertainty = options.get("scale_uncertainty")
        out.append(FitDataset(
            name=name,
            experiment=str(table.meta.get("experiment", name)),
            species=str(table.meta.get("species")),
            ek_GeV_per_n=ek[keep],
            flux=flux[keep],
            err_lo=err_lo[keep],
            err_hi=err_hi[keep],
            is_upper_limit=upper[keep],
            modulated=bool(options.get("modulated", not name.startswith("voyager"))),
            scale_group=(options.get("scale_group") or str(table.meta.get("experiment", name)))
            if scale_uncertainty is not None else None,
            scale_uncertainty=None if scale_uncertainty is None else float(scale_uncertainty),
            citation=str(table.meta.get("citation", "")),
            n_dropped=n_dropped,
        ))
    return out


def chi2_contributions(model, data, err_lo, err_hi, is_upper_limit):
    """Per-point chi-square with asymmetric errors and one-sided upper limits.

    ``((m - d)/sigma)^2`` with sigma = ``err_hi`` where m > d and ``err_lo`` otherwise (the error
    on the side of the model); an upper limit contributes only where m > d.

    Parameters
    ----------
    model, data, err_lo, err_hi : array_like
        Model, measured value (or limit) and total errors, one unit.
    is_upper_limit : array_like of bool

    Returns
    -------
    numpy.ndarray
        Dimensionless contributions, >= 0.
    """
    model = np.asarray(model, dtype=float)
    data = np.asarray(data, dtype=float)
    above = model > data
    sigma = np.where(above, err_hi, err_lo)
    contribution = ((model - data) / sigma) ** 2
    return np.where(np.asarray(is_upper_limit, dtype=bool) & ~above, 0.0, contribution)


# ---------------------------------------------------------------------------------------------
# parameters and models
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# the chi-square
# ---------------------------------------------------------------------------------------------


class ChiSquare:
    """chi2(parameters) for a model and data sets, callable by iminuit with internal parameters.

    Internal parameters are the model's (log10 of the positive scale parameters) followed by one
    nuisance normalisation ``scale_<group>`` per scale group (module docstring).
    """

    errordef = 1.0  # iminuit.Minuit.LEAST_SQUARES

    def __init__(self, model: NucleusModel, datasets: Sequence[FitDataset]):
        self.model = model
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("no data sets to fit")
        for dataset in self.datasets:
            model.data_components(dataset.species)  # raises for a species mismatch
        self.scale_groups: dict[str, float] = {}
        for dataset in self.datasets:
            if dataset.scale_group is None:
                continue
            sigma = dataset.scale_uncertainty
            if sigma is None or sigma <= 0:
                raise ValueError(f"data set {dataset.name!r}: scale_uncertainty must be > 0")
            previous = self.scale_groups.setdefault(dataset.scale_group, sigma)
            if not math.isclose(previous, sigma):
                raise ValueError(f"scale group {dataset.scale_group!r}: inconsistent scale_uncertainty")
        self.params = list(model.params) + [
            _Param(f"scale_{group}", 1.0, limits=(max(0.0, 1.0 - 5.0 * s), 1.0 + 5.0 * s))
            for group, s in self.scale_groups.items()
        ]
        self._names = [p.internal_name for p in self.params]
        self._check_ranges()

    def _check_ranges(self):
        """Every data energy (shifted by the largest allowed Phi_n) must lie on the model grid."""
        grid = self.model.grid_ek_GeV_per_n
        phi_max = {p.name: p.limits[1] for p in self.params if p.name.startswith("Phi")}
        for dataset in self.datasets:
            shift = 0.0
            if dataset.modulated:
                for component in self.model.data_components(dataset.species):
                    phi_name = "Phi_eplus_GV" if component.startswith("positron") and "Phi_eplus_GV" in phi_max \
                        else "Phi_GV"
                    shift = max(shift, force_field_shift_GeV_per_n(phi_max[phi_name], self.model.species))
            lo, hi = dataset.ek_GeV_per_n.min(), dataset.ek_GeV_per_n.max() + shift
            if lo < grid[0] or hi > grid[-1]:
                raise ValueError(f"data set {dataset.name!r} needs T_n in [{lo:g}, {hi:g}] GeV/n (with the largest "
                                 f"allowed modulation shift) but the {self.model.fit_name} grid covers "
                                 f"[{grid[0]:g}, {grid[-1]:g}]; extend the grid or cut the data")

    @property
    def internal_names(self) -> list[str]:
        return list(self._names)

    def values_from_internal(self, internal: Sequence[float]) -> dict:
        """Reported parameter values (linear units) from internal ones."""
        return {p.name: p.to_value(x) for p, x in zip(self.params, internal)}

    def predictions(self, values: Mapping) -> dict:
        """Model intensity at each data set's energies (nuisance scale applied), by data-set name."""
        components = self.model.components(values)["lis"]
        grid = self.model.grid_ek_GeV_per_n
        out = {}
        for dataset in self.datasets:
            total = np.zeros_like(dataset.ek_GeV_per_n)
            for name in self.model.data_components(dataset.species):
                lis, species, phi_GV = components[name]
                if not np.any(lis > 0):
                    continue
                total = total + lis_at_earth(dataset.ek_GeV_per_n, grid, lis, phi_GV, species, dataset.modulated)
            if dataset.scale_group is not None:
                total = total * values[f"scale_{dataset.scale_group}"]
            out[dataset.name] = total
        return out

    def chi2_by_dataset(self, values: Mapping) -> dict:
        """chi2 of each data set and of each nuisance prior (``prior_scale_<group>``)."""
        predictions = self.predictions(values)
        out = {d.name: float(np.sum(chi2_contributions(predictions[d.name], d.flux, d.err_lo, d.err_hi,
                                                      d.is_upper_limit)))
               for d in self.datasets}
        for group, sigma in self.scale_groups.items():
            out[f"prior_scale_{group}"] = ((values[f"scale_{group}"] - 1.0) / sigma) ** 2
        return out

    def __call__(self, *internal) -> float:
        values = self.values_from_internal(internal)
        try:
            total = sum(self.chi2_by_dataset(values).values())
        except (ValueError, FloatingPointError):
            return 1e30
        return total if np.isfinite(total) else 1e30

    @property
    def n_measurements(self) -> int:
        """Measurements plus nuisance priors (the pseudo-measurements that ndof counts)."""
        return sum(d.n_measurements for d in self.datasets) + len(self.scale_groups)


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


# ---------------------------------------------------------------------------------------------
# result and fit
# ---------------------------------------------------------------------------------------------


def _plain(value):
    """Convert numpy scalars/arrays to plain Python for YAML/JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


@dataclass
class FitResult:
    """Outcome of :func:`fit`.

    Attributes
    ----------
    fit_name : str
        ``proton``, ``helium`` or ``leptons``.
    params, errors : dict
        Reported values and symmetric (HESSE) errors; positive scale parameters (breaks, cutoffs,
        normalisation, c_e+) were fitted as log10, their errors are linearised (x ln10 sigma_log10).
        Fixed parameters have error 0.
    minos_errors : dict or None
        ``{name: (lower, upper)}`` in reported units (MINOS on the internal parameters, mapped).
    chi2 : float
    ndof : int
        (measurements + nuisance priors) - free parameters.
    chi2_by_dataset : dict
    n_points_by_dataset : dict
        Measurements per data set (upper limits excluded).
    data_used : dict
        Per data set: experiment, citation, T_n range, measurements, upper limits, dropped points.
    fixed : list of str
    at_limit : list of str
        Free parameters that ended at one of their limits (their errors are not meaningful; widen
        the limit with ``limits=`` or fix them).
    valid : bool
        Minuit's validity flag (converged, positive-definite covariance).
    derived : dict
        ``q0`` (Eq. 3 prefactor), pivot energy, nuisance scales.
    internal_names : list of str
    covariance_internal : list of list or None
        Covariance of the internal parameters.
    model_meta : dict
        What a reader needs to interpret the numbers (definitions of the normalisation and of c_e+).
    """

    fit_name: str
    params: dict
    errors: dict
    chi2: float
    ndof: int
    chi2_by_dataset: dict
    n_points_by_dataset: dict
    data_used: dict
    fixed: list = field(default_factory=list)
    at_limit: list = field(default_factory=list)
    valid: bool = True
    minos_errors: dict | None = None
    derived: dict = field(default_factory=dict)
    internal_names: list = field(default_factory=list)
    covariance_internal: list | None = None
    model_meta: dict = field(default_factory=dict)
    split: dict = field(default_factory=dict, repr=False)

    def summary_dict(self) -> dict:
        """``{species: {params, errors, chi2, ndof}}`` for ``results/summary.json`` -> ``models.<model>.fit``.

        Nuclei give one entry (``proton`` or ``helium``); the joint lepton fit gives ``electron`` and
        ``positron`` entries (positron names without the ``_eplus`` tag), both with the joint chi2 and
        ndof. Nuisance scales are left out (they are in :meth:`to_yaml`).
        """
        out = {}
        for species, (params, errors) in self.split.items():
            out[species] = {"params": _plain(params), "errors": _plain(errors), "chi2": float(self.chi2),
                            "ndof": int(self.ndof), "chi2_by_dataset": _plain(self.chi2_by_dataset),
                            "injection_mode": self.derived.get("injection_mode", "fit")}
        return out

    def as_dict(self) -> dict:
        """Everything, as plain Python (the content of ``injection.yaml``)."""
        return _plain({
            "fit": self.fit_name,
            "params": self.params,
            "errors": self.errors,
            "minos_errors": self.minos_errors,
            "fixed": self.fixed,
            "at_limit": self.at_limit,
            "chi2": self.chi2,
            "ndof": self.ndof,
            "chi2_by_dataset": self.chi2_by_dataset,
            "n_points_by_dataset": self.n_points_by_dataset,
            "valid": self.valid,
            "derived": self.derived,
            "data_used": self.data_used,
            "internal_names": self.internal_names,
            "covariance_internal": self.covariance_internal,
            "definitions": self.model_meta,
            "by_species": self.summary_dict(),
        })

    def to_yaml(self, path, extra: Mapping | None = None) -> Path:
        """Write :meth:`as_dict` (plus provenance and ``extra``) to ``path`` atomically.

        Parameters
        ----------
        path : str or Path
            E.g. ``results/fit/{model}/injection.yaml`` (one file may hold several fits: the
            workflow can merge :meth:`as_dict` outputs by ``fit_name``).
        extra : mapping, optional
            Added at the top level (model name, config hash, ...).
        """
        import yaml

        content = {"provenance": provenance_meta(), **self.as_dict(), **_plain(dict(extra or {}))}
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "w") as handle:
                yaml.safe_dump(content, handle, sort_keys=False)
        return path

    def injection_config(self) -> dict:
        """Best fit in the config's injection format, by species (for the re-propagation stage)."""
        out = {}
        for species, (params, _) in self.split.items():
            nus = sorted((k for k in params if k.startswith("nu")), key=lambda k: int(k[2:]))
            breaks = sorted((k for k in params if k.startswith("R") and k[1:-3].isdigit()),
                            key=lambda k: int(k[1:-3]))
            entry = {"nu": [params[k] for k in nus], "breaks_GV": [params[k] for k in breaks],
                     "cutoff_GV": params["Rc_GV"], "phi_GV": params["Phi_GV"]}
            if "c_eplus" in params:
                entry["c_eplus"] = params["c_eplus"]
            out[species] = _plain(entry)
        return out


def _apply_overrides(params: list[_Param], fixed: Sequence[str], limits: Mapping | None):
    names = {p.name for p in params}
    for name in list(fixed) + list((limits or {}).keys()):
        if name not in names:
            raise KeyError(f"unknown parameter {name!r}; parameters are {sorted(names)}")
    for p in params:
        if p.name in fixed:
            p.fixed = True
        if limits and p.name in limits:
            lo, hi = limits[p.name]
            p.limits = (float(lo), float(hi))
        if p.limits is not None and not p.limits[0] <= p.start <= p.limits[1]:
            raise ValueError(f"start value of {p.name} ({p.start:g}) outside its limits {p.limits}")


def _estimate_norm(objective: ChiSquare, start: dict) -> float:
    """Start value of the normalisation: median data/model ratio of the start shape over all measurements.

    The median of the logarithms is robust against points where the start shape is far off (e.g.
    beyond a misplaced cutoff), unlike a least-squares amplitude.
    """
    values = dict(start)
    values[NORM_PARAM] = 1.0
    predictions = objective.predictions(values)
    log_ratios = []
    for dataset in objective.datasets:
        good = ~dataset.is_upper_limit & (dataset.flux > 0) & (predictions[dataset.name] > 0)
        log_ratios.append(np.log(dataset.flux[good] / predictions[dataset.name][good]))
    log_ratios = np.concatenate(log_ratios)
    return float(np.exp(np.median(log_ratios))) if log_ratios.size else 1.0


def fit(model: NucleusModel, datasets: Sequence[FitDataset], *, fixed: Sequence[str] = (),
        limits: Mapping | None = None, estimate_norm: bool = True, minos: bool = False,
        ncall: int | None = None, stage_one_fixed: Sequence[str] | None = None) -> FitResult:
    """Fit the injection and modulation parameters of ``model`` to ``datasets`` with iminuit.

    MIGRAD (strategy 1, retried after SIMPLEX if invalid), then HESSE; MINOS optionally.

    Parameters
    ----------
    model : NucleusModel or LeptonModel
        Carries the Green's matrix, grid and start values (Tables II/III via the config).
    datasets : sequence of FitDataset
        From :func:`prepare_datasets` (or built directly).
    fixed : sequence of str
        Reported names of parameters held at their start values (e.g. ``["R4_GV"]``, or
        ``["scale_AMS-02"]``).
    limits : mapping, optional
        ``{name: (lo, hi)}`` in reported units, overriding the defaults (indices start - 1.5 .. max(start + 1.5, 4);
        breaks within non-overlapping intervals split at the log-midpoints of their start values,
        which keeps them ordered; cutoffs start / 30 .. start * 30; Phi 0 .. max(2, 2 Phi_start) GV;
        normalisations start * 1e-3 .. start * 1e3; c_e+ start / 10 .. start * 10; nuisance 1 +- 5 sigma).
    estimate_norm : bool
        Start the normalisation from the least-squares amplitude of the start shape (ignored
        when the start values give :data:`NORM_PARAM`).
    minos : bool
        Also run MINOS for asymmetric errors of free parameters.
    ncall : int or None
        Call limit for MIGRAD.
    stage_one_fixed : sequence of str or None
        Parameters held fixed in a first MIGRAD pass before everything is released (default: all
        break rigidities ``R*_GV``, which are the multimodal directions; pass ``()`` for a
        single pass).

    Returns
    -------
    FitResult
    """
    from iminuit import Minuit

    model = copy.copy(model)
    model.params = [copy.copy(p) for p in model.params]
    objective = ChiSquare(model, datasets)
    params = objective.params
    start_values = {p.name: p.start for p in params}
    norm_param = next(p for p in params if p.name == NORM_PARAM)
    if estimate_norm and not model.norm_given and NORM_PARAM not in fixed:
        norm = _estimate_norm(objective, start_values)
        norm_param.start = norm
        norm_param.limits = (norm * 1e-3, norm * 1e3)
    _apply_overrides(params, fixed, limits)
    if stage_one_fixed is None:
        stage_one_fixed = [p.name for p in params if p.name.startswith("R") and p.name[1:2].isdigit()]

    minuit = Minuit(objective, *[p.to_internal(p.start) for p in params], name=objective.internal_names)
    minuit.strategy = 1
    for p in params:
        if p.limits is not None:
            lo = p.to_internal(p.limits[0]) if not (p.log and p.limits[0] <= 0) else None
            minuit.limits[p.internal_name] = (lo, p.to_internal(p.limits[1]))
        minuit.fixed[p.internal_name] = p.fixed
        # steps: 0.02 in the indices and Phi, 0.01 dex in the log-parameters
        minuit.errors[p.internal_name] = 0.01 if p.log else 0.02
    staged = [p for p in params if not p.fixed and p.name in set(stage_one_fixed)]
    if staged:
        # stage 1: hold the break rigidities, let indices, cutoffs, Phi and normalisations adapt
        for p in staged:
            minuit.fixed[p.internal_name] = True
        minuit.migrad(ncall=ncall)
        for p in staged:
            minuit.fixed[p.internal_name] = False
    minuit.migrad(ncall=ncall)
    if not minuit.valid:
        minuit.simplex(ncall=ncall)
        minuit.migrad(ncall=ncall)
    minuit.hesse()
    minos_errors = None
    if minos and minuit.valid:
        minuit.minos()
        minos_errors = {}
        for p in params:
            if p.fixed:
                continue
            entry = minuit.merrors[p.internal_name]
            best = minuit.values[p.internal_name]
            lower = p.to_value(best + entry.lower) - p.to_value(best)
            upper = p.to_value(best + entry.upper) - p.to_value(best)
            minos_errors[p.name] = (float(lower), float(upper))

    internal = list(minuit.values)
    values = objective.values_from_internal(internal)
    at_limit = []
    for p, x in zip(params, internal):
        lo, hi = minuit.limits[p.internal_name]
        tolerance = max(1e-4 * minuit.errors[p.internal_name], 1e-7 * (hi - lo))
        if not p.fixed and (abs(x - lo) < tolerance or abs(x - hi) < tolerance):
            at_limit.append(p.name)
    errors = {}
    for p, x, err in zip(params, internal, minuit.errors):
        if p.fixed:
            errors[p.name] = 0.0
        elif p.log:
            errors[p.name] = float(p.to_value(x) * math.log(10.0) * err)
        else:
            errors[p.name] = float(err)
    chi2_parts = objective.chi2_by_dataset(values)
    n_free = sum(not p.fixed for p in params)
    components = model.components(values)
    scales = {k: v for k, v in values.items() if k.startswith("scale_")}
    model_values = {k: v for k, v in values.items() if not k.startswith("scale_")}
    model_errors = {k: v for k, v in errors.items() if not k.startswith("scale_")}
    data_used = {
        d.name: {
            "experiment": d.experiment,
            "citation": d.citation,
            "species": d.species,
            "ek_min_GeV_per_n": float(d.ek_GeV_per_n.min()),
            "ek_max_GeV_per_n": float(d.ek_GeV_per_n.max()),
            "n_measurements": d.n_measurements,
            "n_upper_limits": int(np.count_nonzero(d.is_upper_limit)),
            "n_dropped_no_error": d.n_dropped,
            "modulated": d.modulated,
            "scale_group": d.scale_group,
            "scale_uncertainty": d.scale_uncertainty,
        }
        for d in datasets
    }
    covariance = None
    if minuit.covariance is not None:
        covariance = np.asarray(minuit.covariance).tolist()
    meta = {
        NORM_PARAM: (f"T_piv^{NORM_WEIGHT_EXPONENT} J_LIS(T_piv), propagated unmodulated intensity at the pivot "
                     f"T_piv = {model.pivot_ek_GeV_per_n:g} GeV/n, in GeV^1.7 cm^-2 s^-1 sr^-1 (per nucleon^1.7)"),
        "q0": "Eq. 3 prefactor implied by the normalisation and G: injection per GV at R = 1 GV (first-segment "
              "continuation, no cutoff); units of Q per (GeV/n) times (GeV/n)/GV",
        "errors": "HESSE; log10-fitted parameters (breaks, cutoffs, normalisation, c_eplus) linearised",
        "chi2": "stat and sys in quadrature, error on the side of the model; upper limits one-sided",
    }
    if isinstance(model, LeptonModel):
        meta["c_eplus"] = ("scale factor of the secondary positrons (from p and He), as in Lin, Yuan & Bi 2015 "
                           "and Yuan et al. 2013; 1 = the propagated secondaries as computed")
        meta[EXTRA_NORM_PARAM] = (f"T^{NORM_WEIGHT_EXPONENT} J_LIS(T) of the extra e+ source at T = "
                                  f"{model.extra_pivot_ek_GeV:g} GeV, GeV^1.7 cm^-2 s^-1 sr^-1"
                                  + ("; the source injects e+ e- pairs" if model.extra_pairs else ""))
        meta["q0_eplus"] = "Eq. 3 prefactor of the extra e+ source (derived), units as q0"
    return FitResult(
        fit_name=model.fit_name,
        params=values,
        errors=errors,
        chi2=float(sum(chi2_parts.values())),
        ndof=int(objective.n_measurements - n_free),
        chi2_by_dataset=chi2_parts,
        n_points_by_dataset={d.name: d.n_measurements for d in datasets},
        data_used=data_used,
        fixed=[p.name for p in params if p.fixed],
        at_limit=at_limit,
        valid=bool(minuit.valid),
        minos_errors=minos_errors,
        derived={"q0": float(components["q0"]), "pivot_ek_GeV_per_n": model.pivot_ek_GeV_per_n,
                 "nuisance_scales": scales, "nfcn": int(minuit.nfcn),
                 **({"q0_eplus": float(components["q0_eplus"])} if "q0_eplus" in components else {})},
        internal_names=objective.internal_names,
        covariance_internal=covariance,
        model_meta=meta,
        split=model.split_for_summary(model_values, model_errors),
    )


# ---------------------------------------------------------------------------------------------
# one model's fits from the propagation products (used by the workflow's fit rule)
# ---------------------------------------------------------------------------------------------
def fixable_parameter_names(species: str, injection_cfg: Mapping) -> list[str]:
    """Names that ``models.<model>.injection.<species>.fixed`` may hold, in the config's naming.

    Parameters
    ----------
    species : {"proton", "helium", "electron", "positron"}
    injection_cfg : mapping
        The species' injection entry (``nu``, ``breaks_GV``, ``cutoff_GV``, ``phi_GV``).

    Returns
    -------
    list of str
        ``nu<i>``, ``R<i>_GV``, ``Rc_GV``, ``Phi_GV``, the normalisation :data:`NORM_PARAM` and, for
        positrons, ``c_eplus`` (indices count from 1 for positrons, from 0 otherwise, as the fits do).
    """
    offset = 1 if species == "positron" else 0
    names = [p.name for p in _nucleus_params("", injection_cfg, index_offset=offset)] + [NORM_PARAM]
    return (["c_eplus"] + names) if species == "positron" else names


def configured_fixed(injection_cfg: Mapping, positron: bool = False) -> list[str]:
    """Fit-parameter names held at their start values, from an injection entry's ``fixed`` list.

    The config names parameters as its species' table does (``R3_GV``, ``nu4``, ``Rc_GV``,
    ``Phi_GV``, ``c_eplus``); in the lepton fit the extra positrons' ones carry ``_eplus``
    (``R1_GV`` -> ``R1_eplus_GV``, ``nu1`` -> ``nu1_eplus``), which ``positron`` adds.
    """
    names = [str(name) for name in {**schema_defaults("models.*.injection.*"), **injection_cfg}["fixed"] or []]
    if not positron:
        return names
    return [name if name == "c_eplus" else name[:-3] + "_eplus_GV" if name.endswith("_GV") else name + "_eplus"
            for name in names]


#: ``models.<model>.injection.mode``: ``fit`` refits Eq. 3 and Phi to the data (start values Tables II-III);
#: ``as_printed`` keeps Tables II-III as given and fits only the per-species normalisation(s)
INJECTION_MODES = ("fit", "as_printed")


def injection_mode(model_cfg: Mapping) -> str:
    """The model's injection mode (:data:`INJECTION_MODES`), the schema's default when not given."""
    mode = {**schema_defaults("models.*.injection"), **(model_cfg.get("injection") or {})}["mode"]
    if mode not in INJECTION_MODES:
        raise ValueError(f"models.<model>.injection.mode: expected one of {INJECTION_MODES}, got {mode!r}")
    return mode


def knee_dataset(model_cfg: Mapping) -> str:
    """The air-shower data set that fixes the model's knee (``models.<model>.knee_dataset``; the
    schema's default when not given)."""
    return str({**schema_defaults("models.*"), **model_cfg}["knee_dataset"])


def injection_species(model_cfg: Mapping) -> dict:
    """``{species: injection entry}`` of a model's ``injection`` section (its ``mode`` key left out)."""
    return {name: entry for name, entry in (model_cfg.get("injection") or {}).items() if name != "mode"}


def as_printed_fixed(model: NucleusModel) -> list[str]:
    """Every spectral and modulation parameter of ``model``: all but its normalisation(s) are held.

    The as-printed mode keeps the paper's Tables II-III (breaks, indices, cutoffs, Phi and c_e+)
    and fits only the amplitudes the paper does not print: :data:`NORM_PARAM` (and, for leptons,
    :data:`EXTRA_NORM_PARAM` of the extra positrons). Nuisance scales of the data (``scale_*``,
    with their priors) stay free: they belong to the data's error model, which is the same as the
    refit's, so the chi2 of both modes is defined alike.
    """
    return [p.name for p in model.params if p.name not in (NORM_PARAM, EXTRA_NORM_PARAM)]


def fit_nucleus_injection(species_name: str, model_cfg: Mapping, greens: tuple, tables: Mapping,
                          selection: Mapping | None = None) -> tuple:
    """Fit the injection of protons or helium of one model with its Green's matrix.

    Parameters
    ----------
    species_name : {"proton", "helium"}
    model_cfg : mapping
        ``models.<model>`` config: ``injection.<species>`` start values (Table II),
        ``injection.mode`` (:func:`injection_mode`; ``as_printed`` fits only the normalisation) and
        ``knee_dataset``.
    greens : tuple
        ``(ek_GeV_per_n, G[E_out, E_in])`` of the species (G in cm sr^-1).
    tables : mapping
        Tidy tables by data-set name (at least those of the selection).
    selection : mapping, optional
        ``{dataset: options}`` for this species; default the species' entry of
        :func:`default_data_selection` of the model's knee data set.

    Returns
    -------
    (FitResult, NucleusModel)
    """
    if species_name not in ("proton", "helium"):
        raise ValueError(f"nucleus fit: species must be 'proton' or 'helium', got {species_name!r}")
    if selection is None:
        selection = default_data_selection(knee_dataset(model_cfg))[species_name]
    ek, green = greens
    injection = model_cfg["injection"][species_name]
    model = NucleusModel(kin.get_species(species_name), ek, green, injection)
    return _fit_in_mode(model, prepare_datasets(tables, selection), configured_fixed(injection), model_cfg), model


def profile_nucleus_fit(species_name: str, model_cfg: Mapping, greens: tuple, tables: Mapping, parameter: str,
                        values: Sequence[float], selection: Mapping | None = None) -> list[dict]:
    """chi2 profile of a refit in one parameter: refit with ``parameter`` held at each of ``values``.

    Every other parameter is free as in :func:`fit_nucleus_injection` (the configured ``fixed`` stay
    held), so the chi2 difference to the best fit measures how strongly the data place it, and the
    per-data-set chi2 says which data do.

    Parameters
    ----------
    species_name, model_cfg, greens, tables, selection
        As for :func:`fit_nucleus_injection`.
    parameter : str
        A reported name, e.g. ``nu4`` or ``Rc_GV``.
    values : sequence of float

    Returns
    -------
    list of dict
        Per value: ``value``, ``chi2``, ``ndof``, ``chi2_by_dataset``, ``params`` (the other best-fit
        values), ``valid``.
    """
    if selection is None:
        selection = default_data_selection(knee_dataset(model_cfg))[species_name]
    ek, green = greens
    injection = injection_species(model_cfg)[species_name]
    base = NucleusModel(kin.get_species(species_name), ek, green, injection)
    if parameter not in {p.name for p in base.params}:
        raise KeyError(f"profile: unknown parameter {parameter!r}; parameters are {[p.name for p in base.params]}")
    datasets = prepare_datasets(tables, selection)
    fixed = sorted(set(configured_fixed(injection)) | {parameter})
    out = []
    for value in values:
        model = copy.copy(base)
        model.params = [copy.copy(p) for p in base.params]
        held = next(p for p in model.params if p.name == parameter)
        held.start = float(value)
        if held.limits is not None and not held.limits[0] <= held.start <= held.limits[1]:
            held.limits = (min(held.limits[0], held.start), max(held.limits[1], held.start))
        result = fit(model, datasets, fixed=fixed)
        out.append({"value": float(value), "chi2": float(result.chi2), "ndof": int(result.ndof),
                    "chi2_by_dataset": _plain(result.chi2_by_dataset), "valid": bool(result.valid),
                    "params": _plain({k: v for k, v in result.params.items() if k != parameter})})
    return out


def _fit_in_mode(model: NucleusModel, datasets: Sequence[FitDataset], fixed: Sequence[str],
                 model_cfg: Mapping) -> FitResult:
    """:func:`fit` with the parameters the model's injection mode holds; the mode is recorded in ``derived``."""
    mode = injection_mode(model_cfg)
    if mode == "as_printed":
        fixed = as_printed_fixed(model)
    result = fit(model, datasets, fixed=fixed)
    result.derived["injection_mode"] = mode
    return result


def fit_lepton_injection(model_cfg: Mapping, greens_electron: tuple, secondary_lis: Mapping, tables: Mapping,
                         selection: Mapping | None = None, separate_leptons: bool = True) -> tuple:
    """Fit primary electrons and extra positrons of one model; secondaries are fixed components.

    Parameters
    ----------
    model_cfg : mapping
        ``models.<model>`` config: ``injection.electron`` and ``injection.positron`` start values
        (Table III) and ``injection.mode`` (``as_printed``: only the e- and extra-e+ normalisations free).
    greens_electron : tuple
        ``(ek_GeV_per_n, G)`` of electrons (also used for the extra positrons: same transport).
    secondary_lis : mapping
        ``{'electron', 'positron'}`` -> secondary interstellar intensity at the Sun on the
        electron Green's grid, from the propagated best-fit p and He.
    tables : mapping
        Tidy tables by data-set name.
    selection : mapping, optional
        ``{dataset: options}``; default the ``leptons`` entry of :func:`default_data_selection`.
    separate_leptons : bool
        Passed to :func:`default_data_selection` when ``selection`` is None.

    Returns
    -------
    (FitResult, LeptonModel)
    """
    injection = model_cfg["injection"]
    if selection is None:
        selection = default_data_selection(knee_dataset(model_cfg), separate_leptons)["leptons"]
    ek, green = greens_electron
    # The propagated secondaries can dip below zero at the ~1e-4 level of their peak where they
    # fall steeply (centred reacceleration flux, iterative tolerance); a flux is >= 0.
    secondary_lis = {name: np.clip(np.asarray(lis, dtype=float), 0.0, None) for name, lis in secondary_lis.items()}
    model = LeptonModel(ek, green, {"electron": injection["electron"], "positron": injection["positron"]},
                        secondary_lis=secondary_lis, c_eplus_start=float(injection["positron"].get("c_eplus", 1.0)))
    fixed = configured_fixed(injection["electron"]) + configured_fixed(injection["positron"], positron=True)
    return _fit_in_mode(model, prepare_datasets(tables, selection), fixed, model_cfg), model


def fit_model_injection(model_cfg: Mapping, greens: Mapping, secondary_lis: Mapping, tables: Mapping,
                        selection: Mapping | None = None, separate_leptons: bool = True) -> dict:
    """Fit protons, helium and leptons of one model with its Green's functions.

    The workflow runs the two steps separately (:func:`fit_nucleus_injection`, then, after the
    best-fit nuclei have been propagated and their secondaries computed,
    :func:`fit_lepton_injection`); this runs both with given secondaries.

    Parameters
    ----------
    model_cfg : mapping
        ``models.<model>`` config: ``injection`` start values (the paper's Tables II-III) and
        ``knee_dataset``.
    greens : mapping
        ``{'proton' | 'helium' | 'electron': (ek_GeV_per_n, G[E_out, E_in])}``.
    secondary_lis : mapping
        ``{'electron', 'positron'}`` -> secondary interstellar intensity at the Sun on the
        electron Green's grid (from the propagated p and He).
    tables : mapping
        Tidy tables by data-set name (at least those of the selection).
    selection : mapping, optional
        ``{fit_name: {dataset: options}}``; default :func:`default_data_selection` of the model's
        knee data set.
    separate_leptons : bool
        Add the AMS-02 e- and e+ spectra to the e+ + e- sum (see :func:`default_data_selection`).

    Returns
    -------
    dict
        ``{'proton': (FitResult, model), 'helium': ..., 'leptons': ...}``.
    """
    selection = selection or default_data_selection(knee_dataset(model_cfg), separate_leptons)
    out = {species: fit_nucleus_injection(species, model_cfg, greens[species], tables, selection[species])
           for species in ("proton", "helium")}
    out["leptons"] = fit_lepton_injection(model_cfg, greens["electron"], secondary_lis, tables, selection["leptons"])
    return out


def fitted_injection(result: FitResult, model: NucleusModel) -> dict:
    """Best-fit injection by species, in the config's format plus the prefactor, for re-propagation.

    Parameters
    ----------
    result : FitResult
    model : NucleusModel or LeptonModel
        The fitted model (its sampling of Q on the grid is recorded).

    Returns
    -------
    dict
        ``{species: {nu, breaks_GV, cutoff_GV, phi_GV, q0_per_cm3_s_GV, sampling}}`` (leptons:
        ``electron`` and ``positron``, the latter with ``c_eplus``). ``q0_per_cm3_s_GV`` is the
        Eq. 3 prefactor of the species' injection at the Sun's position (for positrons that of the
        extra source, ``derived["q0_eplus"]``), so that Q on the grid (:meth:`NucleusModel.injection`,
        reproduced by :func:`galdiff.propagation.run.injection_on_grid`) gives J_LIS = G @ Q:
        propagating it gives the best-fit densities with no further normalisation. ``c_eplus``
        multiplies the secondary positrons (:class:`LeptonModel`;
        :func:`galdiff.propagation.run.propagate_fitted_leptons` applies it).
    """
    if getattr(model, "extra_pairs", False):
        raise ValueError("fitted_injection: an extra source of e+ e- pairs has no re-propagation recipe yet")
    q0 = float(result.derived["q0"])
    out = result.injection_config()
    for species, entry in out.items():
        entry["q0_per_cm3_s_GV"] = float(result.derived["q0_eplus"]) if species == "positron" else q0
        entry["sampling"] = model.sampling
    return out


def fit_file_content(model_name: str, fits: Mapping, model_cfg: Mapping | None = None,
                     inputs: Mapping | None = None) -> dict:
    """Content of ``results/fit/<model>/injection[_<fit>].yaml`` for some fits of one model.

    Parameters
    ----------
    model_name : str
    fits : mapping
        ``{fit_name: (FitResult, model)}``.
    model_cfg : mapping, optional
        The model's config (its hash is recorded).
    inputs : mapping, optional
        ``{name: path}`` of the files the fits read (Green's matrix, tables); their sha256 is recorded.

    Returns
    -------
    dict
        ``model``, provenance, ``fits`` (:meth:`FitResult.as_dict` by fit), ``summary``
        (:meth:`FitResult.summary_dict`, the ``models.<model>.fit`` entry of summary.json) and
        ``injection`` (:func:`fitted_injection` by species).
    """
    provenance = provenance_meta(inputs=dict(inputs) if inputs else None,
                                 config=dict(model_cfg) if model_cfg is not None else None)
    content = {"model": model_name, **provenance, "fits": {}, "summary": {}, "injection": {}}
    for name, (result, model) in fits.items():
        content["fits"][name] = result.as_dict()
        content["summary"].update(result.summary_dict())
        content["injection"].update(fitted_injection(result, model))
    return _plain(content)


def merge_fit_files(contents: Sequence[Mapping], inputs: Mapping | None = None) -> dict:
    """One model's ``injection.yaml`` from its per-fit files (:func:`fit_file_content` outputs).

    ``fits``, ``summary`` and ``injection`` are merged; every part must belong to the same model
    and no fit may appear twice. The provenance of each part is kept under ``parts``; ``inputs``
    (``{name: path}`` of the part files) adds their sha256.
    """
    models = {content["model"] for content in contents}
    if len(models) != 1:
        raise ValueError(f"fit files of different models cannot be merged: {sorted(models)}")
    merged = {"model": models.pop(), **provenance_meta(inputs=dict(inputs) if inputs else None), "fits": {}, "summary": {}, "injection": {}, "parts": {}}
    for content in contents:
        for name in content["fits"]:
            if name in merged["fits"]:
                raise ValueError(f"fit {name!r} appears in more than one file")
        for key in ("fits", "summary", "injection"):
            merged[key].update(content[key])
        merged["parts"][",".join(content["fits"])] = {k: v for k, v in content.items()
                                                      if k not in ("model", "fits", "summary", "injection")}
    return merged


def fit_curves_table(model: NucleusModel, params: Mapping, ek_GeV_per_n):
    """Best-fit spectra at Earth and in interstellar space as an astropy Table (for Figures 1-2).

    Columns ``ek_GeV_per_n`` and, per component of :func:`spectra_at_earth`, ``<name>_lis`` and
    ``<name>_toa`` in cm^-2 s^-1 sr^-1 GeV^-1 (per GeV/n for nuclei; NaN off the grid).
    """
    from astropy import units as u
    from astropy.table import Table

    curves = spectra_at_earth(model, params, ek_GeV_per_n)
    table = Table()
    table["ek_GeV_per_n"] = np.asarray(ek_GeV_per_n, dtype=float) * u.GeV
    flux_unit = u.Unit("cm-2 s-1 sr-1 GeV-1")
    for name, values in curves.items():
        table[f"{name}_lis"] = values["flux_lis"] * flux_unit
        table[f"{name}_toa"] = values["flux_toa"] * flux_unit
    return table
