"""Spectral shapes and solar modulation.

* :func:`broken_power_law_rigidity`: the injection spectrum of the paper, Eq. 3 (docs/paper.md;
  docs/conventions.md#injection-spectrum-eq-3), a multiply broken power law in rigidity with a global
  exponential cutoff, continuous at every break; :func:`injection_per_ek_per_n` the same per unit
  kinetic energy per nucleon and :func:`injection_cell_average` its average over grid cells (what
  the propagation solves for and the fits use): the one place Eq. 3 is written.
* :func:`ecpl`: exponential-cutoff power law (docs/conventions.md#exponential-cutoff-power-law), the spectrum of
  the EXTRA1/EXTRA2 unresolved-source components.
* :func:`force_field_modulate` and friends: force-field solar modulation (Gleeson & Axford 1968,
  ApJ 154, 1011; docs/conventions.md#force-field-modulation).

Units: rigidities in GV, kinetic energies per nucleon in GeV/n, modulation potentials in GV.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import units as kin
from .units import Species

__all__ = [
    "injection_per_ek_per_n",
    "cell_edges_GeV_per_n",
    "injection_cell_average",
    "broken_power_law_rigidity",
    "ecpl",
    "force_field_factor",
    "force_field_shift_GeV_per_n",
    "force_field_modulate",
    "force_field_modulate_callable",
    "force_field_modulate_tabulated",
    "loglog_interp",
]


def broken_power_law_rigidity(rigidity_GV, indices, breaks_GV, cutoff_GV=None, norm=1.0):
    """Multiply broken power law in rigidity with an exponential cutoff (paper Eq. 3).

    ``q(R) = q0 * [prod_{i=1..n} R_i^(nu_i - nu_{i-1})] * R^(-nu_n) * exp(-R/R_c)`` for
    ``R_n <= R < R_{n+1}`` (``R_0 = 0``, ``R_{N+1} = inf``), as in docs/paper.md#eq-3-injection-spectrum and
    docs/conventions.md#injection-spectrum-eq-3. The products make q continuous at every break; the
    exponential is global. Any number of breaks (including none) is accepted.

    Parameters
    ----------
    rigidity_GV : array_like
        Rigidity R in GV (> 0).
    indices : sequence of float
        Spectral indices nu_0 ... nu_N (one more than the number of breaks); q ~ R^-nu_n.
    breaks_GV : sequence of float
        Break rigidities R_1 < ... < R_N in GV (convert TV/PV values of Table II first).
    cutoff_GV : float or None
        Exponential cutoff rigidity R_c in GV; None or inf means no cutoff.
    norm : float
        Normalisation q0 (the value of the continuation of the first segment at R = 1 GV,
        without the cutoff); units are those of q, e.g. per GV.

    Returns
    -------
    numpy.ndarray
        q(R), same shape as ``rigidity_GV``, in the units of ``norm``.
    """
    rig = np.asarray(rigidity_GV, dtype=float)
    nu = np.asarray(indices, dtype=float).ravel()
    brk = np.asarray(breaks_GV, dtype=float).ravel()
    if nu.size != brk.size + 1:
        raise ValueError(f"need len(indices) == len(breaks_GV) + 1, got {nu.size} and {brk.size}")
    if brk.size and (np.any(brk <= 0) or np.any(np.diff(brk) <= 0)):
        raise ValueError(f"breaks_GV must be positive and strictly increasing, got {brk}")
    if np.any(rig <= 0):
        raise ValueError("rigidity_GV must be > 0")
    # offsets[n] = sum_{i=1..n} (nu_i - nu_{i-1}) ln R_i, offsets[0] = 0
    offsets = np.concatenate(([0.0], np.cumsum(np.diff(nu) * np.log(brk))))
    segment = np.searchsorted(brk, rig, side="right")
    log_q = offsets[segment] - nu[segment] * np.log(rig)
    if cutoff_GV is not None and np.isfinite(cutoff_GV):
        if cutoff_GV <= 0:
            raise ValueError(f"cutoff_GV must be > 0, got {cutoff_GV}")
        log_q = log_q - rig / cutoff_GV
    return norm * np.exp(log_q)


def ecpl(energy_GeV, norm, index, cutoff_GeV=None, reference_GeV=1000.0):
    """Exponential-cutoff power law ``K (E/E0)^-Gamma exp(-E/E_c)``.

    docs/conventions.md#exponential-cutoff-power-law; the paper's EXTRA1 (Gamma = 2.4, E_c = 20 TeV) and EXTRA2
    (Gamma = 2.3, E_c = 2 PeV) gamma-ray components (docs/paper.md#model-chain item 5).

    Parameters
    ----------
    energy_GeV : array_like
        Energy E in GeV.
    norm : float
        K, the flux at E = E0 without the cutoff (e.g. GeV^-1 cm^-2 s^-1 sr^-1).
    index : float
        Gamma.
    cutoff_GeV : float or None
        E_c in GeV; None or inf for a pure power law.
    reference_GeV : float
        E0 in GeV (default 1 TeV, so that K is not degenerate with Gamma).

    Returns
    -------
    numpy.ndarray
        The spectrum in the units of ``norm``.
    """
    energy = np.asarray(energy_GeV, dtype=float)
    out = norm * (energy / reference_GeV) ** (-index)
    if cutoff_GeV is not None and np.isfinite(cutoff_GeV):
        out = out * np.exp(-energy / cutoff_GeV)
    return out


def force_field_shift_GeV_per_n(phi_GV, species: Species) -> float:
    """Energy shift per nucleon Phi_n = (|Z|/A) phi in GeV/n (docs/conventions.md#force-field-modulation)."""
    return abs(species.charge) / species.mass_number * float(phi_GV)


def force_field_factor(ek_GeV_per_n, phi_GV, species: Species):
    """Force-field ratio J_TOA(T_n) / J_LIS(T_n + Phi_n).

    ``T_n (T_n + 2 m_n) / [(T_n + Phi_n)(T_n + Phi_n + 2 m_n)]`` (Gleeson & Axford 1968;
    docs/conventions.md#force-field-modulation), i.e. J/p^2 is conserved along the energy shift.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        Top-of-atmosphere kinetic energy per nucleon T_n in GeV/n (per particle for e+-).
    phi_GV : float
        Modulation potential in GV.
    species : Species
        Sets |Z|/A and the mass per nucleon m_n (m_e for leptons).

    Returns
    -------
    numpy.ndarray
        Dimensionless factor in (0, 1].
    """
    t = np.asarray(ek_GeV_per_n, dtype=float)
    m_n = species.mass_per_nucleon_GeV
    shifted = t + force_field_shift_GeV_per_n(phi_GV, species)
    return t * (t + 2.0 * m_n) / (shifted * (shifted + 2.0 * m_n))


def force_field_modulate_callable(ek_GeV_per_n, flux_lis: Callable, phi_GV, species: Species):
    """Modulated (TOA) flux from a LIS given as a function of T_n.

    J_TOA(T_n) = J_LIS(T_n + Phi_n) * force_field_factor (docs/conventions.md#force-field-modulation).

    Parameters
    ----------
    ek_GeV_per_n : array_like
        TOA kinetic energy per nucleon in GeV/n.
    flux_lis : callable
        ``flux_lis(ek_GeV_per_n) -> J_LIS`` per unit kinetic energy per nucleon
        (e.g. GeV^-1 cm^-2 s^-1 sr^-1 per nucleon).
    phi_GV : float
        Modulation potential in GV.
    species : Species

    Returns
    -------
    numpy.ndarray
        J_TOA in the units of ``flux_lis``.
    """
    t = np.asarray(ek_GeV_per_n, dtype=float)
    shifted = t + force_field_shift_GeV_per_n(phi_GV, species)
    return np.asarray(flux_lis(shifted), dtype=float) * force_field_factor(t, phi_GV, species)


def loglog_interp(x, x_table, y_table, out_of_range: str = "raise"):
    """Interpolate y(x) linearly in (ln x, ln y); zeros in y stay zero between zero nodes.

    Parameters
    ----------
    x : array_like
        Abscissae (> 0).
    x_table, y_table : array_like
        Strictly increasing positive nodes and non-negative values.
    out_of_range : {"raise", "nan", "extrapolate"}
        What to do for x outside [x_table[0], x_table[-1]]: raise ValueError, return NaN,
        or extend the first/last log-log segment as a power law.
    """
    x = np.asarray(x, dtype=float)
    xt = np.asarray(x_table, dtype=float)
    yt = np.asarray(y_table, dtype=float)
    if xt.ndim != 1 or xt.shape != yt.shape or xt.size < 2:
        raise ValueError("x_table and y_table must be 1D arrays of equal length >= 2")
    if np.any(xt <= 0) or np.any(np.diff(xt) <= 0):
        raise ValueError("x_table must be positive and strictly increasing")
    if np.any(yt < 0):
        raise ValueError("y_table must be non-negative for log-log interpolation")
    lx, lxt = np.log(x), np.log(xt)
    with np.errstate(divide="ignore"):
        lyt = np.log(yt)
    lyt = np.where(np.isfinite(lyt), lyt, -745.0)  # exp(-745) underflows to 0
    outside = (x < xt[0]) | (x > xt[-1])
    if out_of_range == "raise" and np.any(outside):
        raise ValueError(
            f"x outside the table range [{xt[0]:g}, {xt[-1]:g}]: min {x.min():g}, max {x.max():g}"
        )
    ly = np.interp(lx, lxt, lyt)
    if out_of_range == "extrapolate":
        lo_slope = (lyt[1] - lyt[0]) / (lxt[1] - lxt[0])
        hi_slope = (lyt[-1] - lyt[-2]) / (lxt[-1] - lxt[-2])
        ly = np.where(lx < lxt[0], lyt[0] + lo_slope * (lx - lxt[0]), ly)
        ly = np.where(lx > lxt[-1], lyt[-1] + hi_slope * (lx - lxt[-1]), ly)
    y = np.exp(ly)
    y = np.where(y < 1e-300, 0.0, y)
    if out_of_range == "nan":
        y = np.where(outside, np.nan, y)
    elif out_of_range not in ("raise", "extrapolate"):
        raise ValueError(f"out_of_range must be 'raise', 'nan' or 'extrapolate', got {out_of_range!r}")
    return y


def force_field_modulate_tabulated(
    ek_GeV_per_n, ek_lis_GeV_per_n, flux_lis, phi_GV, species: Species, out_of_range: str = "raise"
):
    """Modulated (TOA) flux from a tabulated LIS, interpolated log-log.

    Same physics as :func:`force_field_modulate_callable` (docs/conventions.md#force-field-modulation);
    J_LIS(T_n + Phi_n) is read from the table by :func:`loglog_interp`.

    Parameters
    ----------
    ek_GeV_per_n : array_like
        TOA kinetic energy per nucleon in GeV/n.
    ek_lis_GeV_per_n, flux_lis : array_like
        LIS table: kinetic energy per nucleon (GeV/n, increasing) and flux per unit T_n.
    phi_GV : float
    species : Species
    out_of_range : str
        Passed to :func:`loglog_interp` for shifted energies T_n + Phi_n outside the table.
    """
    t = np.asarray(ek_GeV_per_n, dtype=float)
    shifted = t + force_field_shift_GeV_per_n(phi_GV, species)
    lis = loglog_interp(shifted, ek_lis_GeV_per_n, flux_lis, out_of_range=out_of_range)
    return lis * force_field_factor(t, phi_GV, species)


def force_field_modulate(ek_GeV_per_n, flux_lis, phi_GV, species: Species, out_of_range: str = "raise"):
    """Force-field modulation of a LIS given as a callable or as ``(ek_GeV_per_n, flux)`` arrays.

    Dispatches to :func:`force_field_modulate_callable` or
    :func:`force_field_modulate_tabulated` (docs/conventions.md#force-field-modulation, Gleeson & Axford 1968).

    Parameters
    ----------
    ek_GeV_per_n : array_like
        TOA kinetic energy per nucleon in GeV/n.
    flux_lis : callable or tuple of two arrays
        The LIS as ``f(T_n)`` or as the table ``(T_n nodes in GeV/n, J_LIS)``.
    phi_GV : float
        Modulation potential in GV (Table II: 0.7 GV for p/He; Table III: 1.1 GV for e+-).
    species : Species
    out_of_range : str
        Only for tables, see :func:`loglog_interp`.

    Returns
    -------
    numpy.ndarray
        J_TOA per unit kinetic energy per nucleon, in the units of the LIS.
    """
    if callable(flux_lis):
        return force_field_modulate_callable(ek_GeV_per_n, flux_lis, phi_GV, species)
    try:
        ek_table, flux_table = flux_lis
    except (TypeError, ValueError):
        raise TypeError("flux_lis must be a callable or a pair (ek_GeV_per_n, flux) of arrays") from None
    return force_field_modulate_tabulated(
        ek_GeV_per_n, ek_table, flux_table, phi_GV, species, out_of_range=out_of_range
    )


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
