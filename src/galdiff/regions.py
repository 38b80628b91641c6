"""Sky regions in Galactic coordinates and averages of HEALPix maps over them."""

from __future__ import annotations

from dataclasses import dataclass

import healpy as hp
import numpy as np


@dataclass(frozen=True)
class SkyRegion:
    """A longitude-latitude box in Galactic coordinates.

    Attributes
    ----------
    name : str
    l_min_deg, l_max_deg : float
        Longitude edges in degrees. The box runs from ``l_min_deg`` eastwards to
        ``l_max_deg``; a box through l = 0 is written e.g. (-30, 30) or (330, 30).
    b_max_deg : float
        The box is |b| < b_max_deg.
    lhaaso_mask : bool
        Whether the LHAASO source mask applies (PAPER.md, sky regions).
    """

    name: str
    l_min_deg: float
    l_max_deg: float
    b_max_deg: float
    lhaaso_mask: bool = False

    @classmethod
    def from_config(cls, name: str, entry: dict) -> "SkyRegion":
        return cls(
            name=name,
            l_min_deg=float(entry["l_min_deg"]),
            l_max_deg=float(entry["l_max_deg"]),
            b_max_deg=float(entry["b_max_deg"]),
            lhaaso_mask=bool(entry.get("lhaaso_mask", False)),
        )

    @property
    def longitude_width_deg(self) -> float:
        width = (self.l_max_deg - self.l_min_deg) % 360.0
        return 360.0 if width == 0.0 else width

    def contains(self, l_deg, b_deg):
        """Boolean array: which (l, b) directions lie inside the box."""
        l_deg = np.asarray(l_deg, dtype=float)
        b_deg = np.asarray(b_deg, dtype=float)
        offset_deg = (l_deg - self.l_min_deg) % 360.0
        return (offset_deg < self.longitude_width_deg) & (np.abs(b_deg) < self.b_max_deg)

    def solid_angle_sr(self) -> float:
        """Exact solid angle of the box: dl * 2 sin(b_max)."""
        return np.deg2rad(self.longitude_width_deg) * 2.0 * np.sin(np.deg2rad(self.b_max_deg))

    def label(self) -> str:
        l_lo = self.l_min_deg % 360.0
        l_hi = self.l_max_deg % 360.0 or 360.0
        return rf"${l_lo:g}^\circ<l<{l_hi:g}^\circ$, $|b|<{self.b_max_deg:g}^\circ$"


def region_pixel_mask(nside: int, region: SkyRegion, nest: bool = False) -> np.ndarray:
    """Boolean HEALPix map (Galactic) that is True for pixels whose centre lies in ``region``."""
    l_deg, b_deg = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), nest=nest, lonlat=True)
    return region.contains(l_deg, b_deg)


def region_mean(healpix_map_galactic: np.ndarray, region: SkyRegion, extra_mask: np.ndarray | None = None):
    """Mean of a Galactic HEALPix map (or of each row of a (n_energy, n_pix) cube) over a region.

    Equal-area pixels make the plain mean the solid-angle average. ``extra_mask`` (True = keep)
    removes e.g. masked sources.
    """
    values = np.asarray(healpix_map_galactic)
    nside = hp.npix2nside(values.shape[-1])
    keep = region_pixel_mask(nside, region)
    if extra_mask is not None:
        keep &= np.asarray(extra_mask, dtype=bool)
    if not keep.any():
        raise ValueError(f"region {region.name!r} contains no pixel centre at nside {nside}")
    return values[..., keep].mean(axis=-1)


def equatorial_to_galactic_map(healpix_map_equatorial: np.ndarray) -> np.ndarray:
    """Resample a RING-ordered ICRS/equatorial HEALPix map into Galactic coordinates.

    Each Galactic pixel takes the bilinearly interpolated value of the equatorial map in its
    direction (healpy ``Rotator.rotate_map_pixel``); this keeps the map positive, unlike a
    rotation in harmonic space.
    """
    rotator = hp.Rotator(coord=["C", "G"])
    return rotator.rotate_map_pixel(np.asarray(healpix_map_equatorial, dtype=float))
