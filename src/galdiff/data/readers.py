"""One reader per raw-file format: raw file -> astropy Table in the project's units.

Format letters A-H refer to ``shared/data/cosmic_rays/SOURCES.md``; the other formats are named
after their file. Every reader returns columns with astropy units and puts what it read from the
file header in ``table.meta``. Conversions done here (and nowhere else):

* fluxes per m^2 -> per cm^2 (x 1e-4, ``galdiff.units.M2_TO_CM2``);
* MeV/n -> GeV/n (Cummings 2016 table, format D), PeV -> GeV (IceTop file, format F),
  TeV -> GeV (LHAASO, Tibet), MeV -> GeV (Fermi-LAT Fig. 17);
* CRLF line endings (format G) are read through Python's universal newlines.

Cosmic-ray tables (``read_crdb_7col``, ``read_kiss``, ``read_crdb_10col``, ``read_cummings_table``,
``read_kcdc``, ``read_icetop_pev``, ``read_crspectra_sqlite``) share one column layout:
``energy, energy_lo, energy_hi`` (NaN where the file has no bin edges), ``flux``, ``flux_central``,
``stat_lo, stat_hi, sys_lo, sys_hi`` (absolute, positive, flux unit) and ``is_upper_limit``.

Other readers: LHAASO-KM2A Tables S2/S3, Tibet ASgamma (IceCube digitisation, E^2.7-weighted),
Fermi-LAT Ackermann 2012 Fig. 17, IceCube cascades (1-sigma contour -> band, transcribed best fit,
piecewise fit), IceCube GP template fits and pi0 model spectrum, catalogs (1LHAASO, gamma-cat,
HGPS, TeVCat list).

Upper-limit rule (cosmic rays)
------------------------------
A row is an upper limit when its central value is <= 0 (KCDC rows "0 +- err") or when its lower
error equals the central value to within ``UPPER_LIMIT_RTOL`` (1 %; CRDB/KISS truncate the error
bar of an upper limit at zero and print both numbers to 4 digits). Errors larger than the value but
not equal to it (KASCADE above ~20 PeV) are kept as measurements. For an upper-limit row ``flux``
holds the limit ``flux_central + sqrt(stat_hi**2 + sys_hi**2)`` (one-sigma upper end); the
``flux_central`` column keeps the printed central value and the error columns are left as printed.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ..conventions import INTENSITY_UNIT

from ..units import M2_TO_CM2

UPPER_LIMIT_RTOL = 0.01

# GeV per nucleon: a named unit so that ECSV files say what the per-nucleon axis is.
nucleon = u.def_unit("nucleon", doc="one nucleon (for per-nucleon kinetic energies: GeV / nucleon)")
u.add_enabled_units([nucleon])
GEV_PER_N = u.GeV / nucleon
FLUX_PER_GEV = INTENSITY_UNIT
FLUX_PER_GV = u.Unit("GV-1 cm-2 s-1 sr-1")
FLUX_PER_GEV_PER_N = (GEV_PER_N * u.cm**2 * u.s * u.sr) ** -1
E2FLUX = u.Unit("GeV cm-2 s-1 sr-1")

# energy_axis name -> (energy unit, flux unit)
ENERGY_AXES = {
    "rigidity": (u.GV, FLUX_PER_GV),
    "kinetic_energy_per_particle": (u.GeV, FLUX_PER_GEV),
    "total_energy_per_particle": (u.GeV, FLUX_PER_GEV),
    "kinetic_energy_per_nucleon": (GEV_PER_N, FLUX_PER_GEV_PER_N),
}

# CRDB "#EnergyType:" (format A) and KISS "#X Quantity:" (format B) -> energy_axis
_CRDB_ENERGY_TYPES = {
    "R": "rigidity",
    "EK": "kinetic_energy_per_particle",
    "ETOT": "total_energy_per_particle",
    "EKN": "kinetic_energy_per_nucleon",
}
_KISS_X_QUANTITIES = {
    "rigidity": "rigidity",
    "kineticEnergy": "kinetic_energy_per_particle",
    "totalEnergy": "total_energy_per_particle",
    "kineticEnergyPerNucleon": "kinetic_energy_per_nucleon",
}


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _header_fields(path, prefix="#") -> dict[str, str]:
    """``#Key: value`` header lines of a text file as a dict (keys stripped of ``#``)."""
    fields = {}
    with open(path, encoding="utf-8", newline=None) as handle:
        for line in handle:
            if not line.startswith(prefix):
                break
            body = line[len(prefix):].strip()
            if ":" in body:
                key, value = body.split(":", 1)
                fields[key.strip()] = value.strip()
    return fields


class RawFileError(ValueError):
    """A raw file is empty, has a short (cut) row, a non-number or a NaN/inf; the message names file and line."""


def _loadtxt(path, ncols, comments="#", delimiter=None, skiprows=0) -> np.ndarray:
    """Numeric table of a text file as a 2-D float array, every row checked.

    Like ``numpy.loadtxt`` (text after ``comments`` ignored, blank lines skipped, the first
    ``skiprows`` lines skipped, fields split at ``delimiter`` or whitespace), but every data row
    must have as many fields as the first one (at least ``ncols``), every field must be a finite
    number, and the file must have at least one data row. Otherwise one :class:`RawFileError`
    names the file and the line.
    """
    rows, width = [], None
    with open(path, encoding="utf-8", newline=None) as handle:  # universal newlines: CRLF -> LF
        for number, line in enumerate(handle, start=1):
            if number <= skiprows:
                continue
            body = line.split(comments, 1)[0] if comments else line
            if not body.strip():
                continue
            fields = [field.strip() for field in body.split(delimiter)] if delimiter else body.split()
            if width is None:
                width = len(fields)
                if width < ncols:
                    raise RawFileError(f"{path}:{number}: expected at least {ncols} columns, found {width}")
            elif len(fields) != width:
                raise RawFileError(f"{path}:{number}: {len(fields)} fields, expected {width} like the first data "
                                   "row (truncated or damaged row)")
            try:
                values = [float(field) for field in fields]
            except ValueError:
                raise RawFileError(f"{path}:{number}: not a number in {line.strip()!r}") from None
            if not all(np.isfinite(values)):
                raise RawFileError(f"{path}:{number}: NaN or infinite value in {line.strip()!r}")
            rows.append(values)
    if not rows:
        raise RawFileError(f"{path}: no data rows (empty or truncated file)")
    return np.array(rows, dtype=float)


def is_upper_limit_row(flux_central, lower_errors) -> np.ndarray:
    """Apply the module's upper-limit rule; ``lower_errors`` is a sequence of lower-error arrays."""
    flux_central = np.asarray(flux_central, dtype=float)
    flag = flux_central <= 0
    for err in lower_errors:
        err = np.asarray(err, dtype=float)
        flag |= (flux_central > 0) & (np.abs(err - flux_central) <= UPPER_LIMIT_RTOL * flux_central)
    return flag


def cr_table(
    energy,
    energy_lo,
    energy_hi,
    flux_central,
    stat_lo,
    stat_hi,
    sys_lo,
    sys_hi,
    energy_axis: str,
    flux_scale: float = 1.0,
    energy_scale: float = 1.0,
    meta: dict | None = None,
) -> Table:
    """Assemble a cosmic-ray table in the common layout (see the module docstring).

    ``flux_scale`` multiplies flux and errors (e.g. ``1 / M2_TO_CM2`` for per-m^2 files),
    ``energy_scale`` the energies (e.g. 1e-3 for MeV). Edges equal to the energy (CRDB "no bin")
    become NaN.
    """
    energy_unit, flux_unit = ENERGY_AXES[energy_axis]
    as_float = lambda x: np.asarray(x, dtype=float).copy()  # noqa: E731
    energy, energy_lo, energy_hi = (as_float(x) * energy_scale for x in (energy, energy_lo, energy_hi))
    no_bin = (energy_lo == energy_hi)
    energy_lo[no_bin] = np.nan
    energy_hi[no_bin] = np.nan
    central, st_lo, st_hi, sy_lo, sy_hi = (as_float(x) * flux_scale for x in (flux_central, stat_lo, stat_hi, sys_lo, sys_hi))
    upper = is_upper_limit_row(central, [st_lo, sy_lo])
    flux = central.copy()
    flux[upper] = central[upper] + np.hypot(st_hi[upper], sy_hi[upper])
    table = Table(meta=dict(meta or {}))
    table["energy"] = energy * energy_unit
    table["energy_lo"] = energy_lo * energy_unit
    table["energy_hi"] = energy_hi * energy_unit
    table["flux"] = flux * flux_unit
    table["flux_central"] = central * flux_unit
    table["stat_lo"] = st_lo * flux_unit
    table["stat_hi"] = st_hi * flux_unit
    table["sys_lo"] = sy_lo * flux_unit
    table["sys_hi"] = sy_hi * flux_unit
    table["is_upper_limit"] = upper
    table.meta["energy_axis"] = energy_axis
    table.meta["upper_limit_rule"] = (
        "central value <= 0, or lower error equal to the central value within 1 %; "
        "flux = central + sqrt(stat_hi^2 + sys_hi^2) for those rows (flux_central keeps the printed value)"
    )
    return table


def log_bin_edges(centres, width_dex) -> tuple[np.ndarray, np.ndarray]:
    """Edges of logarithmic bins of ``width_dex`` whose centres are ``centres``, snapped to the grid.

    The lower edge is ``10**round(log10(c) - w/2, 1)`` (KCDC/IceTop bins start on 0.1-dex grid
    points); ``width_dex`` may be an array (IceTop changes from 0.1 to 0.2 dex at 1e8 GeV).
    """
    centres = np.asarray(centres, dtype=float)
    width = np.broadcast_to(np.asarray(width_dex, dtype=float), centres.shape)
    log_lo = np.round(np.log10(centres) - width / 2, 1)
    return 10.0**log_lo, 10.0 ** (log_lo + width)


def e2_columns(table: Table, flux_cols=("flux", "flux_lo_err", "flux_hi_err", "flux_stat_lo", "flux_stat_hi", "flux_sys_lo", "flux_sys_hi")) -> None:
    """Add ``e2flux*`` = E^2 x ``flux*`` columns [GeV cm^-2 s^-1 sr^-1] for the given flux columns."""
    e2 = table["energy"].quantity.to(u.GeV) ** 2
    for name in flux_cols:
        if name in table.colnames:
            table["e2" + name] = (e2 * table[name].quantity).to(E2FLUX)


def gamma_table(energy_GeV, lo_GeV, hi_GeV, flux, stat_lo, stat_hi, sys_lo, sys_hi, meta=None) -> Table:
    """Gamma-ray/neutrino flux points: energies [GeV], flux [GeV^-1 cm^-2 s^-1 sr^-1].

    ``flux_lo_err``/``flux_hi_err`` are stat and sys added in quadrature where both are given
    (a NaN systematic, meaning "not given", counts as zero there).
    """
    f = lambda x: np.asarray(x, dtype=float)  # noqa: E731
    table = Table(meta=dict(meta or {}))
    table["energy"] = f(energy_GeV) * u.GeV
    table["energy_lo"] = f(lo_GeV) * u.GeV
    table["energy_hi"] = f(hi_GeV) * u.GeV
    table["flux"] = f(flux) * FLUX_PER_GEV
    table["flux_lo_err"] = np.hypot(f(stat_lo), np.nan_to_num(f(sys_lo))) * FLUX_PER_GEV
    table["flux_hi_err"] = np.hypot(f(stat_hi), np.nan_to_num(f(sys_hi))) * FLUX_PER_GEV
    table["flux_stat_lo"] = f(stat_lo) * FLUX_PER_GEV
    table["flux_stat_hi"] = f(stat_hi) * FLUX_PER_GEV
    table["flux_sys_lo"] = f(sys_lo) * FLUX_PER_GEV
    table["flux_sys_hi"] = f(sys_hi) * FLUX_PER_GEV
    e2_columns(table)
    table["is_upper_limit"] = np.zeros(len(table), dtype=bool)
    return table


# ----------------------------------------------------------------------------------------------
# cosmic-ray formats A-H
# ----------------------------------------------------------------------------------------------


def read_crdb_7col(path) -> Table:
    """Format A: CRDB export ``E_lo E_up y errSta_lo errSta_up errSys_lo errSys_up``.

    The axis comes from ``#EnergyType:`` (R, EK, ETOT, EKN). ``energy`` is the geometric bin centre
    sqrt(E_lo E_up) (the file has edges only); for rows with E_lo == E_up it is that energy and the
    edges are NaN. Flux per m^2 -> per cm^2.
    """
    header = _header_fields(path)
    energy_type = header.get("EnergyType")
    if energy_type not in _CRDB_ENERGY_TYPES:
        raise ValueError(f"{path}: unknown or missing '#EnergyType:' {energy_type!r}")
    data = _loadtxt(path, 7, comments="#")
    lo, hi = data[:, 0], data[:, 1]
    meta = {"quantity": header.get("Quantity"), "crdb_experiment": header.get("Experiment"), "ads": header.get("ads"),
            "energy_definition": "geometric bin centre sqrt(E_lo * E_up)"}
    return cr_table(np.sqrt(lo * hi), lo, hi, data[:, 2], data[:, 3], data[:, 4], data[:, 5], data[:, 6],
                    _CRDB_ENERGY_TYPES[energy_type], flux_scale=1 / M2_TO_CM2, meta=meta)


def read_kiss(path) -> Table:
    """Format B: KISS table ``x y stat_lo stat_up sys_lo sys_up`` (x = one energy per bin, no edges).

    The axis comes from ``#X Quantity:``; "kineticEnergy" is per PARTICLE (whole nucleus).
    """
    header = _header_fields(path)
    x_quantity = header.get("X Quantity")
    if x_quantity not in _KISS_X_QUANTITIES:
        raise ValueError(f"{path}: unknown or missing '#X Quantity:' {x_quantity!r}")
    data = _loadtxt(path, 6, comments="#")
    nan = np.full(len(data), np.nan)
    meta = {"quantity": header.get("Y Quantity"), "kiss_experiment": header.get("Experiment"), "ref": header.get("Ref"),
            "energy_definition": "KISS representative energy of the bin (edges not stored)"}
    return cr_table(data[:, 0], nan, nan, data[:, 1], data[:, 2], data[:, 3], data[:, 4], data[:, 5],
                    _KISS_X_QUANTITIES[x_quantity], flux_scale=1 / M2_TO_CM2, meta=meta)


def read_crdb_10col(path) -> Table:
    """Format C: old CRDB export ``<E> Elo Eup y ystat_lo ystat_up ysyst_lo ysyst_up ...``, GeV/n axis."""
    with open(path, encoding="utf-8") as handle:
        first = handle.readline().lstrip("#").strip()
    data = _loadtxt(path, 8, comments="#")
    meta = {"crdb_label": first, "energy_definition": "CRDB mean bin energy <E>"}
    return cr_table(data[:, 0], data[:, 1], data[:, 2], data[:, 3], data[:, 4], data[:, 5], data[:, 6], data[:, 7],
                    "kinetic_energy_per_nucleon", flux_scale=1 / M2_TO_CM2, meta=meta)


def read_cummings_table(path) -> Table:
    """Format D: Cummings et al. 2016 Table 8 (tab separated, 5 uncommented header lines).

    Energies MeV/n -> GeV/n (x 1e-3); J [(m^2 s sr MeV/n)^-1] -> (cm^2 s sr GeV/n)^-1
    (x 1e3 per GeV/n, x 1e-4 per cm^2). ``sig`` -> stat, ``sys`` -> sys (both symmetric).
    """
    data = _loadtxt(path, 6, skiprows=5)
    scale = 1e3 / M2_TO_CM2
    table = cr_table(data[:, 2], data[:, 0], data[:, 1], data[:, 3], data[:, 4], data[:, 4], data[:, 5], data[:, 5],
                     "kinetic_energy_per_nucleon", flux_scale=scale, energy_scale=1e-3,
                     meta={"energy_definition": "E_plot of the table"})
    if data.shape[1] >= 8:
        table["counts"] = data[:, 6].astype(int)
        table["telescope"] = data[:, 7].astype(int)
    return table


def read_kcdc(path, bin_width_dex: float = 0.1) -> Table:
    """Format E: KCDC export ``E;Flux;UncertLow;UncertHigh``, E = total energy per particle [GeV].

    The KCDC uncertainties are statistical (CRDB lists them so; no systematics are given): they go
    to ``stat_lo/stat_hi`` and ``sys_*`` are 0. Bin edges: the 0.1-dex grid the centres sit on.
    """
    header = _header_fields(path)
    if header.get("InLog10", "0").strip() != "0" or float(header.get("Scaling", "0")) != 0.0:
        raise ValueError(f"{path}: only linear, unscaled KCDC exports are supported (#InLog10: 0, #Scaling: 0)")
    if header.get("InGeV", "1").strip() != "1":
        raise ValueError(f"{path}: KCDC export not in GeV (#InGeV != 1)")
    data = _loadtxt(path, 4, comments="#", delimiter=";")
    lo, hi = log_bin_edges(data[:, 0], bin_width_dex)
    zero = np.zeros(len(data))
    return cr_table(data[:, 0], lo, hi, data[:, 1], data[:, 2], data[:, 3], zero, zero, "total_energy_per_particle",
                    flux_scale=1 / M2_TO_CM2, meta={"kcdc_label": header.get("Label"),
                                                    "energy_definition": "KCDC bin centre (0.1-dex bins)"})


def read_icetop_pev(path) -> Table:
    """Format F: The_CR_Spectrum IceTop file ``E[PeV] flux stat syst`` -> total energy in GeV (x 1e6)."""
    data = _loadtxt(path, 4, comments="#")
    nan = np.full(len(data), np.nan)
    return cr_table(data[:, 0], nan, nan, data[:, 1], data[:, 2], data[:, 2], data[:, 3], data[:, 3],
                    "total_energy_per_particle", flux_scale=1 / M2_TO_CM2, energy_scale=1e6)


def read_dragon2_dampe(path) -> Table:
    """Format G: DRAGON2 DAMPE proton table (tab separated, CRLF, one header line).

    Returns ``energy_lo, energy, energy_hi`` [GeV, kinetic energy] and ``flux_avg``
    [GeV^-1 cm^-2 s^-1 sr^-1]; the other flux columns are undocumented upstream and are not used.
    """
    data = _loadtxt(path, 8, skiprows=1)
    table = Table()
    table["energy_lo"] = data[:, 0] * u.GeV
    table["energy"] = data[:, 1] * u.GeV
    table["energy_hi"] = data[:, 2] * u.GeV
    table["flux_avg"] = data[:, 4] / M2_TO_CM2 * FLUX_PER_GEV
    return table


def read_crspectra_sqlite(path, table_name: str, energy_axis: str = "total_energy_per_particle") -> Table:
    """Format H: one table of the crspectra SQLite database (energy [GeV], flux per m^2, ``is_uplim``).

    The database's own ``is_uplim`` flag decides upper limits here (flux is then the limit as stored).
    """
    with sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        if table_name not in names:
            raise ValueError(f"{path}: no table {table_name!r}; tables are {names}")
        rows = connection.execute(
            f'SELECT energy, flux, stat_low, stat_up, sys_low, sys_up, is_uplim FROM "{table_name}"'
        ).fetchall()
    data = np.array(rows, dtype=float)
    nan = np.full(len(data), np.nan)
    table = cr_table(data[:, 0], nan, nan, data[:, 1], data[:, 2], data[:, 3], data[:, 4], data[:, 5], energy_axis,
                     flux_scale=1 / M2_TO_CM2, meta={"sqlite_table": table_name})
    upper = data[:, 6].astype(bool)
    table["flux"] = table["flux_central"].quantity
    table["is_upper_limit"] = upper
    table.meta["upper_limit_rule"] = "is_uplim column of the database; flux is the stored value"
    return table


# ----------------------------------------------------------------------------------------------
# gamma rays
# ----------------------------------------------------------------------------------------------


def read_lhaaso_km2a_table(path) -> Table:
    """LHAASO-KM2A 2023 Table S2/S3 transcription.

    Columns ``logErec_min logErec_max E_TeV phi stat_lo stat_up sys`` with E in TeV and phi, errors in
    TeV^-1 cm^-2 s^-1 sr^-1 -> energies in GeV (x 1e3), fluxes per GeV (x 1e-3); bin edges
    10**logErec x 1e3 GeV; the symmetric systematic goes to both ``flux_sys_lo/hi``.
    """
    data = _loadtxt(path, 7, comments="#")
    tev = 1e3
    return gamma_table(data[:, 2] * tev, 10 ** data[:, 0] * tev, 10 ** data[:, 1] * tev,
                       data[:, 3] / tev, data[:, 4] / tev, data[:, 5] / tev, data[:, 6] / tev, data[:, 6] / tev,
                       meta={"energy_definition": "representative energy of the reconstructed-energy bin"})


def read_dnncascade_tibet(path) -> Table:
    """Tibet ASgamma points as digitised by IceCube (DNNCascade ``plot*_TibetData.csv``).

    x = E [TeV]; y = E^2.7 dN/dE [GeV^1.7 cm^-2 s^-1 sr^-1] with E in GeV. Reconstructed here:
    dN/dE = y / E_GeV^2.7 at the marker energy (also for the error-bar ends, as IceCube did),
    stat errors = distance to the ``YLower``/``YUpper`` ends, bin edges = ``XLower``/``XUpper`` x.
    Only the Tibet columns are read (the ARGO-YBJ columns of region A are ignored). No systematic
    errors are given (``flux_sys_*`` are NaN).
    """
    raw = Table.read(path, format="ascii.csv")
    energy = np.asarray(raw["TibetBestFit_x"], dtype=float) * 1e3
    ok = np.isfinite(energy)
    energy = energy[ok]
    weight = energy**2.7
    col = lambda name: np.asarray(raw[name], dtype=float)[ok]  # noqa: E731
    flux = col("TibetBestFit_y") / weight
    flux_lo = col("TibetYLower_y") / weight
    flux_hi = col("TibetYUpper_y") / weight
    nan = np.full(len(energy), np.nan)
    table = gamma_table(energy, col("TibetXLower_x") * 1e3, col("TibetXUpper_x") * 1e3, flux,
                        flux - flux_lo, flux_hi - flux, nan, nan,
                        meta={"energy_definition": "digitised marker position; edges = digitised x-error-bar ends"})
    table["e27flux"] = col("TibetBestFit_y") * (u.GeV**1.7 / (u.cm**2 * u.s * u.sr))
    return table


def read_fermi_fig17(path) -> Table:
    """Ackermann et al. 2012 Fig. 17 (digitised): ``E[MeV] E2I_lo E2I E2I_hi`` [MeV cm^-2 s^-1 sr^-1].

    The file header calls the unit "MeV^-1 cm^-2 s^-1 sr^-1"; SOURCES.md and the figure say
    E^2 I is in MeV cm^-2 s^-1 sr^-1, which is what is used. MeV -> GeV for both; the band
    (total uncertainty read off the figure) goes to ``flux_lo_err/flux_hi_err``; stat/sys unknown.
    """
    data = _loadtxt(path, 4, comments="#")
    energy = data[:, 0] * 1e-3
    e2 = data[:, 2] * 1e-3
    flux = e2 / energy**2
    band_lo = (data[:, 2] - data[:, 1]) * 1e-3 / energy**2
    band_hi = (data[:, 3] - data[:, 2]) * 1e-3 / energy**2
    nan = np.full(len(energy), np.nan)
    table = gamma_table(energy, nan, nan, flux, nan, nan, nan, nan,
                        meta={"energy_definition": "digitised point; band = figure's uncertainty band"})
    table["flux_lo_err"] = band_lo * FLUX_PER_GEV
    table["flux_hi_err"] = band_hi * FLUX_PER_GEV
    e2_columns(table, ("flux_lo_err", "flux_hi_err"))
    return table


def read_fermi_lhaaso_region(path) -> Table:
    """Fermi-LAT diffuse spectrum of the LHAASO inner region: ``E[TeV] y y_hi``, no header.

    ``y`` = E^2.7 dN/dE [TeV^1.7 cm^-2 s^-1 sr^-1] with E in TeV, ``y_hi`` the upper end of the
    1-sigma bar (same unit); the error is taken as symmetric, y_hi - y (total; stat/sys split
    unknown, NaN). dN/dE = y / E_TeV^2.7 per TeV -> per GeV (x 1e-3); energies TeV -> GeV.
    """
    data = _loadtxt(path, 3)
    if np.any(data[:, 2] < data[:, 1]):
        raise ValueError(f"{path}: third column must be the upper end of the error bar (>= the value)")
    energy_TeV = data[:, 0]
    per_GeV = 1e-3 / energy_TeV**2.7
    flux = data[:, 1] * per_GeV
    error = (data[:, 2] - data[:, 1]) * per_GeV
    nan = np.full(len(energy_TeV), np.nan)
    table = gamma_table(energy_TeV * 1e3, nan, nan, flux, nan, nan, nan, nan,
                        meta={"energy_definition": "point energy as given; no bin edges"})
    table["flux_lo_err"] = error * FLUX_PER_GEV
    table["flux_hi_err"] = error * FLUX_PER_GEV
    e2_columns(table, ("flux_lo_err", "flux_hi_err"))
    return table


# ----------------------------------------------------------------------------------------------
# neutrinos
# ----------------------------------------------------------------------------------------------


def read_cascade_contour(path) -> Table:
    """IceCube 6-yr cascades 1-sigma contour: ``spectral_index`` and per-flavour normalisation at 100 TeV.

    Returns columns ``spectral_index`` and ``phi0`` [GeV^-1 cm^-2 s^-1 sr^-1] (file unit 1e-18).
    """
    data = _loadtxt(path, 2, skiprows=1)
    table = Table()
    table["spectral_index"] = data[:, 0]
    table["phi0"] = data[:, 1] * 1e-18 * FLUX_PER_GEV
    return table


def _read_commented_csv(path) -> dict[str, list[str]]:
    """A CSV file with ``#`` comment lines -> {column name: list of strings}."""
    with open(path, encoding="utf-8", newline="") as handle:
        numbered = [(number, line) for number, line in enumerate(handle, start=1)
                    if not line.startswith("#") and line.strip()]
    reader = csv.DictReader(line for _, line in numbered)
    rows = []
    for (number, line), row in zip(numbered[1:], reader):
        if None in row or any(value is None for value in row.values()):
            raise RawFileError(f"{path}:{number}: {len(line.split(','))} fields, expected "
                               f"{len(reader.fieldnames)} like the header (truncated or damaged row)")
        rows.append(row)
    if not rows:
        raise RawFileError(f"{path}: no data rows (empty or truncated file)")
    return {key.strip(): [row[key].strip() for row in rows] for key in rows[0]}


def read_cascade_bestfit(path) -> dict[str, float]:
    """Transcribed single-power-law fit: ``{"phi0": GeV^-1 cm^-2 s^-1 sr^-1, "gamma", "E0_GeV", "E_min_GeV", "E_max_GeV"}``."""
    raw = _read_commented_csv(path)
    values = dict(zip(raw["parameter"], map(float, raw["value"])))
    units = dict(zip(raw["parameter"], raw["unit"]))
    phi_key = "phi0_per_flavor_at_100TeV"
    if not units[phi_key].startswith("1e-18 GeV^-1"):
        raise ValueError(f"{path}: unexpected unit {units[phi_key]!r} of {phi_key}")
    for key in ("E0", "E_min_fit", "E_max_fit"):
        if units[key] != "TeV":
            raise ValueError(f"{path}: unexpected unit {units[key]!r} of {key}")
    return {
        "phi0": values[phi_key] * 1e-18,
        "gamma": values["gamma"],
        "E0_GeV": values["E0"] * 1e3,
        "E_min_GeV": values["E_min_fit"] * 1e3,
        "E_max_GeV": values["E_max_fit"] * 1e3,
    }


def cascade_band(bestfit: dict, contour: Table, energy_GeV) -> Table:
    """Best-fit E^2 dN/dE and the 1-sigma band = envelope of the power laws on the contour.

    dN/dE = phi0 (E / E0)^-gamma per flavour (nu + nubar), per sr; the band at each energy is the
    min/max over the contour points (the method of the IceCube GP paper's Fig. 5 notebooks).
    """
    energy = np.asarray(energy_GeV, dtype=float)
    e0 = bestfit["E0_GeV"]
    best = bestfit["phi0"] * (energy / e0) ** (-bestfit["gamma"]) * energy**2
    phi0 = contour["phi0"].quantity.to_value(FLUX_PER_GEV)[:, None]
    index = np.asarray(contour["spectral_index"], dtype=float)[:, None]
    curves = phi0 * (energy[None, :] / e0) ** (-index) * energy[None, :] ** 2
    table = Table()
    table["energy"] = energy * u.GeV
    table["e2flux_best"] = best * E2FLUX
    table["e2flux_lo"] = curves.min(axis=0) * E2FLUX
    table["e2flux_hi"] = curves.max(axis=0) * E2FLUX
    return table


def read_gp_template_fits(path) -> Table:
    """Transcribed IceCube GP 2023 template fits: one row per template.

    The normalisation columns (``best_fit, err_minus, err_plus, one_sigma_lo, one_sigma_hi,
    sensitivity_90CL``) are in the row's ``unit`` (pi0: 1e-12 TeV cm^-2 s^-1, E^2 dN/dE at 100 TeV,
    per flavour, sky-integrated; KRA-gamma: multiple of the model flux), so they are dimensionless
    columns with the unit string beside them. For pi0, ``e2flux_100TeV_allsky`` gives the best fit
    in GeV cm^-2 s^-1 (1e-12 TeV = 1e-9 GeV); NaN for the KRA-gamma rows. Energy ranges in GeV.
    """
    raw = _read_commented_csv(path)
    table = Table()
    table["template"] = [str(x) for x in raw["template"]]
    for name in ("best_fit", "err_minus", "err_plus", "one_sigma_lo", "one_sigma_hi", "sensitivity_90CL"):
        table[name] = np.asarray(raw[name], dtype=float)
    table["normalisation_unit"] = [str(x) for x in raw["unit"]]
    pi0_unit = np.array([unit.startswith("1e-12 TeV cm^-2 s^-1") for unit in table["normalisation_unit"]])
    table["e2flux_100TeV_allsky"] = np.where(pi0_unit, table["best_fit"] * 1e-12 * 1e3, np.nan) * u.Unit("GeV cm-2 s-1")
    table["p_value"] = np.asarray(raw["p_value"], dtype=float)
    table["significance_sigma"] = np.asarray(raw["significance_sigma"], dtype=float)
    for name in ("E90_lo", "E90_hi", "Esens90_lo", "Esens90_hi"):
        table[name] = np.asarray(raw[name + "_GeV"], dtype=float) * u.GeV
    return table


# ----------------------------------------------------------------------------------------------
# catalogs
# ----------------------------------------------------------------------------------------------


def _masked_to_nan(column) -> np.ndarray:
    values = np.ma.asarray(column, dtype=float)
    return values.filled(np.nan)


def read_1lhaaso_catalog(path) -> Table:
    """1LHAASO FITS -> one row per detected component (KM2A and/or WCDA) with Galactic coordinates.

    Rows follow the catalog order, component "a" before "b" of each source.
    Component "a" uses the unsuffixed columns, component "b" those ending in ``_b``; a "b"
    component exists where its RA is not masked. l, b from FK5 (J2000) with astropy. Missing
    numbers are NaN.
    """
    raw = Table.read(path, hdu=1)
    raw.convert_bytestring_to_unicode()
    rows: dict[str, list] = {k: [] for k in ("name", "component", "ra", "dec", "r39", "r39_err", "r39_ul",
                                             "pos_err95", "TS", "TS100", "N0", "N0_err", "gamma", "gamma_err",
                                             "E0", "asso", "source_index", "component_index")}
    for component_index, (suffix, model_col) in enumerate((("", "Model_a"), ("_b", "Model_b"))):
        ra = _masked_to_nan(raw["RAJ2000" + suffix])
        present = np.isfinite(ra)
        get = lambda name: _masked_to_nan(raw[name + suffix])[present]  # noqa: E731
        rows["source_index"] += list(np.flatnonzero(present))
        rows["component_index"] += [component_index] * int(present.sum())
        rows["name"] += [str(x).strip() for x in np.asarray(raw["Source_Name"])[present]]
        rows["component"] += [str(x).strip() for x in np.asarray(raw[model_col])[present]]
        rows["ra"] += list(ra[present])
        rows["dec"] += list(get("DECJ2000"))
        rows["pos_err95"] += list(get("pos_err"))
        for key in ("r39", "r39_err", "r39_ul", "TS", "TS100", "N0", "N0_err", "gamma", "gamma_err", "E0"):
            rows[key] += list(get(key))
        asso = np.ma.asarray(raw["ASSO_Name"])
        rows["asso"] += ["" if np.ma.is_masked(x) else str(x).strip() for x in asso[present]]
    order = np.lexsort((np.array(rows["component_index"]), np.array(rows["source_index"])))  # catalog order, a then b
    table = Table()
    table["name"] = np.array(rows["name"])[order]
    table["component"] = np.array(rows["component"])[order]
    coords = SkyCoord(np.array(rows["ra"])[order] * u.deg, np.array(rows["dec"])[order] * u.deg, frame="fk5", equinox="J2000")
    table["ra"] = np.array(rows["ra"])[order] * u.deg
    table["dec"] = np.array(rows["dec"])[order] * u.deg
    table["glon"] = coords.galactic.l.wrap_at(360 * u.deg).deg * u.deg
    table["glat"] = coords.galactic.b.deg * u.deg
    for key in ("r39", "r39_err", "r39_ul", "pos_err95"):
        table[key] = np.array(rows[key])[order] * u.deg
    for key in ("TS", "TS100", "gamma", "gamma_err"):
        table[key] = np.array(rows[key])[order]
    table["N0"] = np.array(rows["N0"])[order] * u.Unit("TeV-1 cm-2 s-1")
    table["N0_err"] = np.array(rows["N0_err"])[order] * u.Unit("TeV-1 cm-2 s-1")
    table["E0"] = np.array(rows["E0"])[order] * u.TeV
    table["asso"] = np.array(rows["asso"])[order]
    return table


def read_gammacat(path) -> Table:
    """gamma-cat FITS -> positions and morphology (one row per source); missing numbers are NaN."""
    raw = Table.read(path, hdu=1)
    raw.convert_bytestring_to_unicode()
    table = Table()
    table["source_id"] = np.asarray(raw["source_id"], dtype=int)
    for name in ("common_name", "where", "morph_type", "tevcat_name"):
        values = np.ma.asarray(raw[name])
        table[name] = ["" if np.ma.is_masked(x) else str(x).strip() for x in values]
    for name in ("glon", "glat", "morph_sigma", "morph_sigma2", "morph_pa"):
        table[name] = _masked_to_nan(raw[name]) * u.deg
    table = table[["source_id", "common_name", "where", "glon", "glat", "morph_type", "morph_sigma",
                   "morph_sigma2", "morph_pa", "tevcat_name"]]
    return table


def read_hgps_catalog(path) -> Table:
    """H.E.S.S. Galactic Plane Survey (HDU ``HGPS_SOURCES``): name, l, b, spatial model, size, size UL, R70.

    ``size`` is the Gaussian sigma (shell: outer radius) in deg; missing numbers are NaN.
    """
    raw = Table.read(path, hdu="HGPS_SOURCES")
    raw.convert_bytestring_to_unicode()
    table = Table()
    table["name"] = [str(x).strip() for x in raw["Source_Name"]]
    table["glon"] = _masked_to_nan(raw["GLON"]) * u.deg
    table["glat"] = _masked_to_nan(raw["GLAT"]) * u.deg
    table["spatial_model"] = [str(x).strip() for x in raw["Spatial_Model"]]
    table["size"] = _masked_to_nan(raw["Size"]) * u.deg
    table["size_ul"] = _masked_to_nan(raw["Size_UL"]) * u.deg
    table["r70"] = _masked_to_nan(raw["R70"]) * u.deg
    return table


def read_tevcat_list(path) -> Table:
    """Eckner & Calore TeVCat list for 25 < l < 100 deg: ``GLON GLAT extension [tag]`` in deg.

    ``tag`` is ``"LHAASO"`` where the file marks a LHAASO source (extension 0 = point-like; the file
    header notes a common LHAASO point-source resolution of 0.93 deg), else ``""``.
    """
    glon, glat, extension, tag = [], [], [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if not fields or line.startswith("#"):
                continue
            glon.append(float(fields[0]))
            glat.append(float(fields[1]))
            extension.append(float(fields[2]))
            tag.append(" ".join(fields[3:]))
    table = Table()
    table["glon"] = np.array(glon) * u.deg
    table["glat"] = np.array(glat) * u.deg
    table["extension"] = np.array(extension) * u.deg
    table["tag"] = tag
    return table


def read_cascade_piecewise(path) -> Table:
    """IceCube 6-yr cascades segmented fit: E^2 dN/dE constant in each segment, 68 % CL range.

    Energies [GeV] (``energy`` = segment centre, ``energy_lo/hi`` = segment edges); E^2 flux in
    1e-8 GeV cm^-2 s^-1 sr^-1 in the file -> ``e2flux``, ``e2flux_lo``, ``e2flux_hi`` (range ends)
    in GeV cm^-2 s^-1 sr^-1, per flavour (nu + nubar). A segment whose central value is 0 is an
    upper limit: ``is_upper_limit`` and ``e2flux`` = the range's upper end.
    """
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["energy_central"]) + 1
    data = np.loadtxt(lines[start:], ndmin=2)
    scale = 1e-8
    upper = data[:, 3] <= 0
    table = Table()
    table["energy"] = data[:, 0] * u.GeV
    table["energy_lo"] = data[:, 1] * u.GeV
    table["energy_hi"] = data[:, 2] * u.GeV
    table["e2flux"] = np.where(upper, data[:, 5], data[:, 3]) * scale * E2FLUX
    table["e2flux_lo"] = data[:, 4] * scale * E2FLUX
    table["e2flux_hi"] = data[:, 5] * scale * E2FLUX
    table["is_upper_limit"] = upper
    return table


def read_sky_integrated_e2(path) -> Table:
    """Two-column digitised spectrum ``E [GeV]  E^2 F [GeV cm^-2 s^-1]`` (sky-integrated, e.g. IceCube KRA-gamma)."""
    data = _loadtxt(path, 2, comments="#")
    table = Table()
    table["energy"] = data[:, 0] * u.GeV
    table["e2flux_allsky"] = data[:, 1] * u.Unit("GeV cm-2 s-1")
    return table


PI0_GAMMA_TO_NU_PER_FLAVOUR = 0.31  # IceCube GPFluxPlot.ipynb factor converting the pi0 gamma model to nu per flavour


def read_pi0_model_spectrum(energies_npy, e2phi_npy, gamma_to_nu: float = PI0_GAMMA_TO_NU_PER_FLAVOUR) -> Table:
    """IceCube GP 2023 pi0 model spectrum from its two ``.npy`` files.

    ``energies_npy`` holds log10(E/GeV); ``e2phi_npy`` the all-sky average gamma-ray E^2 dN/dE
    [GeV cm^-2 s^-1 sr^-1]. Adds the per-flavour (nu + nubar) sky-integrated neutrino model used by
    IceCube: ``gamma_to_nu * 4 pi * E^2 dN/dE_gamma`` [GeV cm^-2 s^-1].
    """
    log_energy = np.load(energies_npy, allow_pickle=False)
    e2phi = np.load(e2phi_npy, allow_pickle=False)
    if log_energy.shape != e2phi.shape or log_energy.ndim != 1:
        raise ValueError(f"{energies_npy}, {e2phi_npy}: shapes {log_energy.shape} and {e2phi.shape} do not match")
    table = Table()
    table["energy"] = 10.0 ** np.asarray(log_energy, dtype=float) * u.GeV
    table["e2flux_gamma_allsky_avg"] = np.asarray(e2phi, dtype=float) * E2FLUX
    table["e2flux_nu_per_flavour_allsky"] = gamma_to_nu * 4 * np.pi * np.asarray(e2phi, dtype=float) * u.Unit("GeV cm-2 s-1")
    return table
