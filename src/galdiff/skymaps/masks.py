"""LHAASO-style source masks: discs around catalogued TeV sources on a HEALPix grid.

docs/paper.md (Sec. 2.2): LHAASO-KM2A (Cao et al. 2023, PRL 131, 151001) measured the diffuse emission
after "masking sources included in the TeVCAT with a radius of five times the Gaussian extension
widths"; the same mask is applied to models and data before region spectra are compared. The exact
recipe of the LHAASO analysis (which catalogue entries, which radius for point-like sources) is not
available here (``../shared/data/README.md``, known gaps), so the mask is rebuilt from the catalogues
we have, with every choice a config key (``masks.lhaaso``):

* sources: the KM2A components of 1LHAASO (Cao et al. 2024, ApJS 271, 25: the sources and sizes
  KM2A sees above 25 TeV, the energies of the diffuse measurement) and every gamma-cat source (an
  open TeVCat-like list; Deil et al. 2017). Adding the WCDA components (1-25 TeV sizes, often larger)
  raises the masked fraction of the inner region from ~42 % to ~64 % (nside 1024, floor 0.3 deg);
* extension: the 39 % containment radius r39, which for a 2D Gaussian is its width sigma
  (1LHAASO ``r39``; gamma-cat ``morph_sigma`` for Gaussians, the larger axis for elongated ones);
  a gamma-cat shell or disc of outer radius R has r39 = sqrt(0.39) R (uniform disc);
* radius = ``radius_in_extensions`` (5) x max(extension, ``point_like_floor_deg``): a point-like
  source (no measured extension) is as wide as the KM2A point-spread function, whose Gaussian
  width is ~0.3 deg at the 25-100 TeV energies that dominate the diffuse measurement (the 1LHAASO
  fits model point-like components with the PSF; their 95 % upper limits on r39, 0.06-0.44 deg,
  median ~0.2 deg, lie at or below it), so the default floor is 0.3 deg: 1.5-deg discs.

The mask is computed on a fine HEALPix grid (``fine_nside``, default 1024: 0.057-deg pixels, a
disc of 1.5 deg is resolved to < 1 % in area) and kept there, because region averages need the
area fraction of each map pixel that is unmasked *and* in the region (:func:`galdiff.skymaps.regions.
region_pixel_weights`); the map-resolution product is the fraction of each pixel that is kept.

File (``results/masks/lhaaso.fits``, written by :func:`write_mask_fits`):

* HDU 1 ``MASK``: one float64 column ``KEEP_FRACTION`` (1 = unmasked, 0 = fully masked) at the
  maps' nside, Galactic, RING (``healpy.read_map(path)`` reads it);
* HDU 2 ``MASK_FINE``: uint8 column ``KEEP`` at ``fine_nside``, Galactic, RING;
* HDU 3 ``SOURCES``: the discs (catalogue, name, l, b, extension, radius);
* HDU 4 ``REGIONS``: masked fraction of each configured region;
* provenance (package version, config hash, catalogue checksums) in the ``GDPROV`` keyword.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import healpy as hp
import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from ..io import reading_fits, write_fits
from .regions import SkyRegion, region_pixel_weights

__all__ = [
    "DEFAULT_MASK_CONFIG",
    "UNIFORM_DISC_R39_PER_RADIUS",
    "SourceMask",
    "build_source_mask",
    "discs_from_1lhaaso",
    "discs_from_gammacat",
    "keep_map",
    "mask_radius_deg",
    "masked_fraction",
    "read_mask_fits",
    "read_mask_fractions",
    "write_mask_fits",
]

#: r39 / R of a uniform disc of radius R: the 39 % containment radius is sqrt(0.39) R.
UNIFORM_DISC_R39_PER_RADIUS = float(np.sqrt(0.39))

DEFAULT_MASK_CONFIG = {
    "catalogs": ["1lhaaso", "gammacat"],
    "lhaaso_components": ["KM2A"],
    "gammacat_classes": ["gal", "unid", "egal"],
    "radius_in_extensions": 5.0,
    "point_like_floor_deg": 0.3,
    "fine_nside": 1024,
}

_DISC_COLUMNS = ("catalog", "name", "glon", "glat", "extension", "extension_kind", "radius")


def mask_radius_deg(extension_deg, radius_in_extensions: float = 5.0, point_like_floor_deg: float = 0.3):
    """Mask radius n x max(extension, floor) in degrees; a missing (NaN) extension is point-like.

    Parameters
    ----------
    extension_deg : array_like
        Gaussian-equivalent extension (39 % containment radius) in degrees, NaN if unknown.
    radius_in_extensions : float
        n (docs/paper.md: five times the Gaussian extension).
    point_like_floor_deg : float
        Smallest extension used (the instrument's PSF width for point-like sources).
    """
    extension = np.asarray(extension_deg, dtype=float)
    width = np.fmax(np.nan_to_num(extension, nan=0.0), point_like_floor_deg)
    return radius_in_extensions * width


def _disc_table(catalog, names, glon, glat, extension, kind) -> Table:
    table = Table()
    table["catalog"] = np.array([catalog] * len(names), dtype=str) if len(names) else np.array([], dtype=str)
    table["name"] = np.array(names, dtype=str)
    table["glon"] = np.asarray(glon, dtype=float) * u.deg
    table["glat"] = np.asarray(glat, dtype=float) * u.deg
    table["extension"] = np.asarray(extension, dtype=float) * u.deg
    table["extension_kind"] = np.array(kind, dtype=str)
    return table


def _deg(column) -> np.ndarray:
    return np.asarray(column.quantity.to_value(u.deg) if hasattr(column, "quantity") and column.unit else column,
                      dtype=float)


def discs_from_1lhaaso(catalog: Table, components=("KM2A", "WCDA")) -> Table:
    """Mask discs of the 1LHAASO components (tidy table ``catalog_1lhaaso``).

    Extended components use ``r39`` (the Gaussian sigma); point-like ones (r39 missing; the
    catalogue gives only a 95 % upper limit ``r39_ul``) get NaN, i.e. the point-like floor.
    """
    keep = np.isin(np.asarray(catalog["component"], dtype=str), list(components))
    rows = catalog[keep]
    r39 = _deg(rows["r39"])
    kind = np.where(np.isfinite(r39), "r39", "point")
    names = [f"{name} ({component})" for name, component in zip(rows["name"], rows["component"])]
    return _disc_table("1LHAASO", names, _deg(rows["glon"]), _deg(rows["glat"]), r39, kind)


def discs_from_gammacat(catalog: Table, classes=("gal", "unid", "egal")) -> Table:
    """Mask discs of gamma-cat sources (tidy table ``catalog_gammacat``).

    ``gauss``: extension = the larger of ``morph_sigma`` and ``morph_sigma2``; ``shell`` (outer
    radius R in ``morph_sigma``): r39 of a uniform disc, sqrt(0.39) R; ``point``, ``none`` or no
    size: point-like (NaN).
    """
    keep = np.isin(np.asarray(catalog["where"], dtype=str), list(classes))
    rows = catalog[keep]
    morph = np.asarray(rows["morph_type"], dtype=str)
    sigma = _deg(rows["morph_sigma"])
    sigma2 = _deg(rows["morph_sigma2"])
    extension = np.full(len(rows), np.nan)
    kind = np.full(len(rows), "point", dtype=object)
    gauss = (morph == "gauss") & np.isfinite(sigma)
    extension[gauss] = np.fmax(sigma[gauss], np.nan_to_num(sigma2[gauss], nan=0.0))
    kind[gauss] = "gauss_sigma"
    shell = (morph == "shell") & np.isfinite(sigma)
    extension[shell] = UNIFORM_DISC_R39_PER_RADIUS * sigma[shell]
    kind[shell] = "shell_r39"
    names = [str(name) for name in rows["common_name"]]
    return _disc_table("gamma-cat", names, _deg(rows["glon"]), _deg(rows["glat"]), extension, kind.astype(str))


def keep_map(nside: int, glon_deg, glat_deg, radius_deg) -> np.ndarray:
    """Boolean Galactic RING map at ``nside``: False for pixels whose centre lies inside any disc."""
    keep = np.ones(hp.nside2npix(nside), dtype=bool)
    vectors = hp.ang2vec(np.asarray(glon_deg, dtype=float), np.asarray(glat_deg, dtype=float), lonlat=True)
    for vector, radius in zip(np.atleast_2d(vectors), np.atleast_1d(np.asarray(radius_deg, dtype=float))):
        keep[hp.query_disc(nside, vector, np.deg2rad(radius), inclusive=False)] = False
    return keep


@dataclass
class SourceMask:
    """A source mask on a fine HEALPix grid and the discs it was made of.

    Attributes
    ----------
    keep_fine : ndarray of bool, shape (12 fine_nside^2,)
        True = unmasked; Galactic, RING.
    discs : astropy.table.Table
        ``catalog, name, glon, glat, extension, extension_kind, radius`` (deg).
    settings : dict
        The ``masks.lhaaso`` configuration used.
    """

    keep_fine: np.ndarray
    discs: Table
    settings: dict = field(default_factory=dict)

    @property
    def fine_nside(self) -> int:
        return hp.npix2nside(self.keep_fine.size)

    def keep_fraction(self, nside: int) -> np.ndarray:
        """Unmasked area fraction of each pixel at ``nside`` (RING), from the fine mask."""
        return region_pixel_weights(nside, SkyRegion("all_sky", 0.0, 360.0, 90.0), keep_fine=self.keep_fine)


def build_source_mask(catalogs: dict[str, Table], settings: dict | None = None, map_nside: int | None = None) -> SourceMask:
    """Build the mask from tidy catalogue tables.

    Parameters
    ----------
    catalogs : dict
        ``{"1lhaaso": Table, "gammacat": Table}`` (tidy tables ``catalog_1lhaaso``,
        ``catalog_gammacat``); only those named in ``settings["catalogs"]`` are used.
    settings : dict, optional
        ``masks.lhaaso`` configuration (defaults: :data:`DEFAULT_MASK_CONFIG`).
    map_nside : int, optional
        The maps' nside; the fine grid is raised to a multiple of it.
    """
    cfg = {**DEFAULT_MASK_CONFIG, **(settings or {})}
    parts = []
    for name in cfg["catalogs"]:
        if name not in catalogs:
            raise KeyError(f"masks.lhaaso.catalogs names {name!r}, but no such catalogue was given "
                           f"(given: {sorted(catalogs)})")
        if name == "1lhaaso":
            parts.append(discs_from_1lhaaso(catalogs[name], cfg["lhaaso_components"]))
        elif name == "gammacat":
            parts.append(discs_from_gammacat(catalogs[name], cfg["gammacat_classes"]))
        else:
            raise ValueError(f"masks.lhaaso.catalogs: unknown catalogue {name!r} (known: 1lhaaso, gammacat)")
    from astropy.table import vstack

    discs = vstack(parts) if parts else _disc_table("", [], [], [], [], [])
    discs["radius"] = mask_radius_deg(_deg(discs["extension"]), cfg["radius_in_extensions"],
                                      cfg["point_like_floor_deg"]) * u.deg
    fine = int(cfg["fine_nside"])
    if map_nside is not None:
        fine = max(fine, int(map_nside))
        fine = int(map_nside) * 2 ** int(np.ceil(np.log2(fine / int(map_nside)) - 1e-12))
    keep = keep_map(fine, _deg(discs["glon"]), _deg(discs["glat"]), _deg(discs["radius"]))
    return SourceMask(keep_fine=keep, discs=discs, settings=cfg)


def masked_fraction(region: SkyRegion, keep_fine: np.ndarray) -> float:
    """Fraction of the region's area that the mask removes (at the mask's fine resolution)."""
    fine = hp.npix2nside(np.asarray(keep_fine).size)
    in_region = region_pixel_weights(fine, region).sum()
    kept = region_pixel_weights(fine, region, keep_fine=keep_fine).sum()
    if not in_region > 0:
        raise ValueError(f"region {region.name!r} contains no pixel at nside {fine}")
    return float(1.0 - kept / in_region)


def _healpix_header(header, nside: int, ordering: str = "RING") -> None:
    header["PIXTYPE"] = ("HEALPIX", "HEALPix pixelisation")
    header["ORDERING"] = (ordering, "pixel ordering scheme")
    header["COORDSYS"] = ("G", "Galactic coordinates")
    header["INDXSCHM"] = ("IMPLICIT", "all pixels, row index = pixel index")
    header["NSIDE"] = (int(nside), "HEALPix resolution parameter")
    header["FIRSTPIX"] = 0
    header["LASTPIX"] = hp.nside2npix(nside) - 1


def write_mask_fits(path, mask: SourceMask, nside: int, regions: list[SkyRegion] | None = None,
                    provenance: dict | None = None):
    """Write the mask file (module docstring); returns ``{region: masked fraction}``."""
    keep_fraction = mask.keep_fraction(nside)
    primary = fits.PrimaryHDU()
    coarse = fits.BinTableHDU.from_columns([fits.Column(name="KEEP_FRACTION", format="D", array=keep_fraction)],
                                           name="MASK")
    _healpix_header(coarse.header, nside)
    coarse.header["BUNIT"] = ("", "unmasked area fraction of the pixel")
    fine = fits.BinTableHDU.from_columns([fits.Column(name="KEEP", format="B", array=mask.keep_fine.astype(np.uint8))],
                                         name="MASK_FINE")
    _healpix_header(fine.header, mask.fine_nside)
    discs = fits.BinTableHDU(mask.discs, name="SOURCES")
    fractions = {region.name: masked_fraction(region, mask.keep_fine) for region in (regions or [])}
    region_table = Table({"region": np.array(list(fractions), dtype=str),
                          "masked_fraction": np.array(list(fractions.values()), dtype=float),
                          "applied": np.array([bool(region.lhaaso_mask) for region in (regions or [])], dtype=bool)})
    regions_hdu = fits.BinTableHDU(region_table, name="REGIONS")
    settings = json.dumps(mask.settings, sort_keys=True)
    for hdu in (coarse, fine):
        hdu.header["GDPROV"] = json.dumps(dict(provenance or {}), sort_keys=True, default=str)
        hdu.header["GDMASK"] = settings
        hdu.header["NDISCS"] = (len(mask.discs), "number of masked discs")
    write_fits(fits.HDUList([primary, coarse, fine, discs, regions_hdu]), path)
    return fractions


def read_mask_fits(path) -> SourceMask:
    """Read a mask file written by :func:`write_mask_fits` (the fine mask and the discs)."""
    with reading_fits(path) as hdul:
        fine = hdul["MASK_FINE"]
        keep = np.asarray(fine.data["KEEP"], dtype=bool)
        if fine.header["ORDERING"].upper().startswith("NEST"):
            keep = hp.reorder(keep.astype(np.uint8), n2r=True).astype(bool)
        settings = json.loads(fine.header.get("GDMASK", "{}"))
        discs = Table(hdul["SOURCES"].data)
    return SourceMask(keep_fine=keep, discs=discs, settings=settings)


def read_mask_fractions(path) -> dict:
    """``{region: {"masked_fraction": f, "applied": bool}}`` from a mask file's REGIONS HDU.

    ``applied`` says whether the region uses the mask (``lhaaso_mask``); for the others the
    fraction is what the mask would remove.
    """
    with reading_fits(path) as hdul:
        data = hdul["REGIONS"].data
        applied = data["applied"] if "applied" in data.columns.names else np.ones(len(data), dtype=bool)
        return {str(name).strip(): {"masked_fraction": float(value), "applied": bool(flag)}
                for name, value, flag in zip(data["region"], data["masked_fraction"], applied)}
