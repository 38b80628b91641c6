"""HEALPix map cubes on disk (gammapy GADF layout) and energy-integrated maps.

File layout (written with astropy alone, identical to what ``gammapy.maps.HpxNDMap.write`` produces
for a map with one energy axis, so that ``gammapy.maps.Map.read(path)`` returns an ``HpxNDMap``
with an ``energy_true`` axis usable by ``TemplateSpatialModel``; ``healpy.read_map(path,
field=None)`` returns the (n_E, n_pix) array):

* HDU 0: empty primary.
* HDU 1 ``SKYMAP``: binary table, one float64 column ``CHANNEL<i>`` (i = 1..n_E) per energy, one
  row per pixel; header PIXTYPE='HEALPIX', ORDERING='RING', COORDSYS='G' (Galactic),
  INDXSCHM='IMPLICIT', NSIDE, ORDER, FIRSTPIX, LASTPIX, HPX_CONV='GADF', BANDSHDU='SKYMAP_BANDS',
  BUNIT (e.g. 'GeV-1 cm-2 s-1 sr-1'), META='{}' (gammapy's own metadata slot; gammapy parses
  its values as quantities, which mangles hex hashes, so provenance does not go there), GDPROV
  (JSON provenance: package version, config hash, input checksums) and the keywords GDVERSN,
  CFGHASH.
* HDU 2 ``SKYMAP_BANDS``: CHANNEL, ENERGY_TRUE (node energies, GeV), ENERGY_TRUE_MIN/MAX
  (geometric mid-points, for information), AXCOLS1='ENERGY_TRUE', INTERP1='log'.

The cube holds intensities at the node energies (differential, per GeV), not bin integrals.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import healpy as hp
import numpy as np
from astropy import units as u
from astropy.io import fits

from ..conventions import INTENSITY_UNIT_STRING
from ..io import reading_fits, write_fits

INTENSITY_UNIT = INTENSITY_UNIT_STRING
SKYMAP_HDU = "SKYMAP"
BANDS_HDU = "SKYMAP_BANDS"


@dataclass
class HealpixCube:
    """A HEALPix map cube read from disk.

    Attributes
    ----------
    data : ndarray, shape (n_E, n_pix)
        Values per energy and pixel, RING ordering, Galactic frame.
    energies_GeV : ndarray, shape (n_E,)
        Node energies in GeV.
    unit : astropy.units.Unit
        Unit of ``data`` (BUNIT).
    nside : int
    meta : dict
        Provenance (the GDPROV JSON keyword).
    header : astropy.io.fits.Header
        Header of the SKYMAP HDU.
    """

    data: np.ndarray
    energies_GeV: np.ndarray
    unit: u.UnitBase
    nside: int
    meta: dict
    header: fits.Header


def _energy_bin_edges_GeV(energies_GeV: np.ndarray) -> np.ndarray:
    """Geometric mid-points between node energies, extrapolated at both ends (n_E + 1 edges)."""
    log_e = np.log(energies_GeV)
    if log_e.size == 1:
        return energies_GeV[0] * np.array([10**-0.05, 10**0.05])
    mids = 0.5 * (log_e[1:] + log_e[:-1])
    edges = np.concatenate([[log_e[0] - (mids[0] - log_e[0])], mids, [log_e[-1] + (log_e[-1] - mids[-1])]])
    return np.exp(edges)


def write_healpix_cube(path, cube, energies_GeV, *, unit: str = INTENSITY_UNIT, provenance: dict | None = None,
                       header_cards: dict | None = None, overwrite: bool = True):
    """Write a Galactic RING HEALPix cube (n_E, n_pix) in the gammapy GADF layout (module docstring).

    Parameters
    ----------
    path : str or Path
        Output FITS file; written atomically and reproducibly (:func:`galdiff.io.write_fits`).
    cube : ndarray, shape (n_E, n_pix) or (n_pix,)
        Map values at the node energies, RING ordering, Galactic coordinates.
    energies_GeV : ndarray, shape (n_E,)
        Node energies in GeV, strictly increasing and > 0.
    unit : str
        FITS/astropy unit string of the values (BUNIT), default 'GeV-1 cm-2 s-1 sr-1'.
    provenance : dict, optional
        E.g. :func:`galdiff.provenance.provenance_meta` output; stored as JSON in GDPROV, and
        ``galdiff_version`` / ``config_hash`` also as GDVERSN / CFGHASH keywords.
    header_cards : dict, optional
        Extra SKYMAP header keywords (keys <= 8 characters; e.g. model name, component).
    overwrite : bool
        Refuse to replace an existing file when False.

    Returns
    -------
    pathlib.Path
    """
    from pathlib import Path

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False")
    data = np.atleast_2d(np.asarray(cube, dtype=float))
    energies = np.atleast_1d(np.asarray(energies_GeV, dtype=float))
    if data.ndim != 2 or data.shape[0] != energies.size:
        raise ValueError(f"cube has shape {np.shape(cube)}; expected (n_E, n_pix) with n_E = {energies.size}")
    if np.any(energies <= 0) or np.any(np.diff(energies) <= 0):
        raise ValueError("energies_GeV must be > 0 and strictly increasing")
    nside = hp.npix2nside(data.shape[1])  # raises for a pixel count that is not 12 nside^2
    u.Unit(unit)  # fail early on an invalid unit string
    if data.shape[0] > 999:
        raise ValueError("a FITS binary table holds at most 999 energy columns")

    columns = [fits.Column(name=f"CHANNEL{i + 1}", format="D", array=data[i]) for i in range(data.shape[0])]
    skymap = fits.BinTableHDU.from_columns(columns, name=SKYMAP_HDU)
    header = skymap.header
    header["PIXTYPE"] = ("HEALPIX", "HEALPix pixelisation")
    header["ORDERING"] = ("RING", "pixel ordering scheme")
    header["COORDSYS"] = ("G", "Galactic coordinates")
    header["INDXSCHM"] = ("IMPLICIT", "all pixels, row index = pixel index")
    header["ORDER"] = (int(round(math.log2(nside))), "log2(NSIDE)")
    header["NSIDE"] = (int(nside), "HEALPix resolution parameter")
    header["FIRSTPIX"] = 0
    header["LASTPIX"] = data.shape[1] - 1
    header["HPX_CONV"] = ("GADF", "gammapy HEALPix convention")
    header["BANDSHDU"] = (BANDS_HDU, "HDU with the energy axis")
    header["BUNIT"] = (str(unit), "unit of the map values")
    provenance = dict(provenance or {})
    header["META"] = "{}"
    header["GDPROV"] = json.dumps(provenance, sort_keys=True, default=str)  # long-string CONTINUE cards
    if "galdiff_version" in provenance:
        header["GDVERSN"] = (str(provenance["galdiff_version"]), "galdiff version")
    if "config_hash" in provenance:
        header["CFGHASH"] = (str(provenance["config_hash"]), "hash of the configuration")
    for key, value in (header_cards or {}).items():
        header[key] = value

    edges = _energy_bin_edges_GeV(energies)
    bands = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="CHANNEL", format="K", array=np.arange(energies.size)),
            fits.Column(name="ENERGY_TRUE", format="D", unit="GeV", array=energies),
            fits.Column(name="ENERGY_TRUE_MIN", format="D", unit="GeV", array=edges[:-1]),
            fits.Column(name="ENERGY_TRUE_MAX", format="D", unit="GeV", array=edges[1:]),
        ],
        name=BANDS_HDU,
    )
    bands.header["AXCOLS1"] = "ENERGY_TRUE"
    bands.header["INTERP1"] = "log"

    write_fits(fits.HDUList([fits.PrimaryHDU(), skymap, bands]), path)
    return path


def read_healpix_cube(path) -> HealpixCube:
    """Read a cube written by :func:`write_healpix_cube` (or gammapy, GADF, one energy axis).

    NESTED files are reordered to RING; a Galactic frame is required.

    Returns
    -------
    HealpixCube
    """
    with reading_fits(path) as hdul:
        if SKYMAP_HDU not in hdul:
            raise ValueError(f"{path}: no {SKYMAP_HDU!r} HDU; not a GADF HEALPix cube")
        hdu = hdul[SKYMAP_HDU]
        header = hdu.header.copy()
        if header.get("COORDSYS", "").upper() not in ("G", "GAL"):
            raise ValueError(f"{path}: COORDSYS={header.get('COORDSYS')!r}; expected Galactic ('G')")
        names = [n for n in hdu.columns.names if n.startswith("CHANNEL")]
        names.sort(key=lambda n: int(n[len("CHANNEL"):]))
        data = np.vstack([np.asarray(hdu.data[n], dtype=float) for n in names])
        bands_name = header.get("BANDSHDU", BANDS_HDU)
        bands = hdul[bands_name]
        column = bands.header.get("AXCOLS1", "ENERGY_TRUE").split(",")[0]
        energy_unit = u.Unit(bands.columns[column].unit or "GeV")
        energies = (np.asarray(bands.data[column], dtype=float) * energy_unit).to_value(u.GeV)
    nside = int(header["NSIDE"])
    if header["ORDERING"].upper().startswith("NEST"):
        data = hp.reorder(data, n2r=True)
    meta = json.loads(header.get("GDPROV", "{}") or "{}")
    return HealpixCube(data=data, energies_GeV=energies, unit=u.Unit(header.get("BUNIT", "")),
                       nside=nside, meta=meta, header=header)


def integrate_over_energy(energies_GeV, cube, e_min_GeV: float, e_max_GeV: float) -> np.ndarray:
    """Energy-integrated map: integral of I(E) dE from e_min_GeV to e_max_GeV.

    Trapezoid rule in ln E applied to E I(E) on the node energies inside the range plus the two
    end points, where I is interpolated log-log (linearly where a neighbour is <= 0). E.g. the
    Fig. 6 neutrino map: 1e5 to 1e7 GeV.

    Parameters
    ----------
    energies_GeV : ndarray, shape (n_E,)
        Node energies in GeV, increasing.
    cube : ndarray, shape (n_E, n_pix) or (n_E,)
        Differential intensity in GeV^-1 cm^-2 s^-1 sr^-1.
    e_min_GeV, e_max_GeV : float
        Integration limits in GeV, inside the node range.

    Returns
    -------
    ndarray, shape (n_pix,) (or scalar array for a 1D input)
        Integrated intensity in cm^-2 s^-1 sr^-1.
    """
    energies = np.asarray(energies_GeV, dtype=float)
    values = np.asarray(cube, dtype=float)
    if values.shape[0] != energies.size:
        raise ValueError(f"cube has {values.shape[0]} energies, energies_GeV has {energies.size}")
    if not (energies[0] <= e_min_GeV < e_max_GeV <= energies[-1]):
        raise ValueError(
            f"integration range [{e_min_GeV}, {e_max_GeV}] GeV must lie inside the energy grid "
            f"[{energies[0]}, {energies[-1]}] GeV"
        )

    def at(e_GeV):
        i = int(np.clip(np.searchsorted(energies, e_GeV) - 1, 0, energies.size - 2))
        e0, e1 = energies[i], energies[i + 1]
        v0, v1 = values[i], values[i + 1]
        t = math.log(e_GeV / e0) / math.log(e1 / e0)
        positive = (v0 > 0) & (v1 > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            loglog = np.exp(np.log(np.where(positive, v0, 1.0)) * (1 - t) + np.log(np.where(positive, v1, 1.0)) * t)
        return np.where(positive, loglog, v0 * (1 - t) + v1 * t)

    inside = (energies > e_min_GeV) & (energies < e_max_GeV)
    e_nodes = np.concatenate([[e_min_GeV], energies[inside], [e_max_GeV]])
    v_nodes = np.concatenate([at(e_min_GeV)[None], values[inside], at(e_max_GeV)[None]], axis=0)
    integrand = e_nodes.reshape((-1,) + (1,) * (values.ndim - 1)) * v_nodes
    return np.trapezoid(integrand, np.log(e_nodes), axis=0)


def healpix_cube_to_car(cube, *, binsz_deg: float = 0.125, lon_width_deg: float = 360.0,
                        lat_width_deg: float = 180.0):
    """Resample a Galactic HEALPix cube onto a Fermi ``gll_iem``-style CAR grid.

    Bilinear HEALPix interpolation (``healpy.get_interp_val``) at the CAR pixel centres; longitude
    runs from +lon_width/2 at the left to -lon_width/2 (CDELT1 < 0), latitude from -lat_width/2 up.

    Parameters
    ----------
    cube : ndarray, shape (n_E, n_pix)
        RING Galactic HEALPix cube.
    binsz_deg : float
        Pixel size in degrees.
    lon_width_deg, lat_width_deg : float
        Image size in degrees, centred on (l, b) = (0, 0).

    Returns
    -------
    image : ndarray, shape (n_E, n_lat, n_lon)
    wcs_header : astropy.io.fits.Header
        CAR WCS keywords (GLON-CAR / GLAT-CAR) of the image.
    """
    cube = np.atleast_2d(np.asarray(cube, dtype=float))
    n_lon = int(round(lon_width_deg / binsz_deg))
    n_lat = int(round(lat_width_deg / binsz_deg))
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"] = "GLON-CAR", "GLAT-CAR"
    header["CUNIT1"], header["CUNIT2"] = "deg", "deg"
    header["CRPIX1"], header["CRPIX2"] = (n_lon + 1) / 2.0, (n_lat + 1) / 2.0
    header["CRVAL1"], header["CRVAL2"] = 0.0, 0.0
    header["CDELT1"], header["CDELT2"] = -binsz_deg, binsz_deg
    lon_deg = -(np.arange(n_lon) + 1 - header["CRPIX1"]) * binsz_deg
    lat_deg = (np.arange(n_lat) + 1 - header["CRPIX2"]) * binsz_deg
    lon_grid, lat_grid = np.meshgrid(lon_deg, lat_deg)
    theta = np.deg2rad(90.0 - lat_grid.ravel())
    phi = np.deg2rad(np.mod(lon_grid.ravel(), 360.0))
    image = np.stack([hp.get_interp_val(m, theta, phi).reshape(n_lat, n_lon) for m in cube])
    return image, header


def write_car_cube(path, cube, energies_GeV, *, unit: str = INTENSITY_UNIT, binsz_deg: float = 0.125,
                   provenance: dict | None = None, dtype=np.float32):
    """Write a Fermi ``gll_iem``-style CAR cube: primary image (E, lat, lon) + ENERGIES table.

    As in the Fermi files (and as gammapy's ``fgst-template`` reader assumes), the ENERGIES column
    ``Energy`` is in MeV; the map values keep ``unit`` (BUNIT).

    Parameters
    ----------
    path : str or Path
        Output FITS file (atomic write).
    cube : ndarray, shape (n_E, n_pix)
        Galactic RING HEALPix cube (resampled by :func:`healpix_cube_to_car`).
    energies_GeV : ndarray, shape (n_E,)
    unit : str
        BUNIT of the values.
    binsz_deg : float
        CAR pixel size in degrees.
    provenance : dict, optional
        Stored as JSON in the GDPROV keyword.
    dtype : numpy dtype
        Pixel type; float32 (BITPIX = -32) as in the Fermi files, which keeps a full-sky cube small.
    """
    image, wcs_header = healpix_cube_to_car(cube, binsz_deg=binsz_deg)
    primary = fits.PrimaryHDU(image.astype(dtype))
    primary.header.update(wcs_header)
    energies_MeV = 1e3 * np.asarray(energies_GeV, dtype=float)
    primary.header["CTYPE3"], primary.header["CUNIT3"] = "Energy", "MeV"
    primary.header["CRPIX3"], primary.header["CRVAL3"], primary.header["CDELT3"] = 1.0, float(energies_MeV[0]), 1.0
    primary.header["BUNIT"] = str(u.Unit(unit).to_string("fits"))
    primary.header["GDPROV"] = json.dumps(dict(provenance or {}), sort_keys=True, default=str)
    energies_hdu = fits.BinTableHDU.from_columns(
        [fits.Column(name="Energy", format="D", unit="MeV", array=energies_MeV)],
        name="ENERGIES",
    )
    write_fits(fits.HDUList([primary, energies_hdu]), path)
    return path
