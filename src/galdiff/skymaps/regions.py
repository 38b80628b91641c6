"""Sky regions in Galactic coordinates and averages of HEALPix maps over them."""

from __future__ import annotations

from dataclasses import dataclass

import healpy as hp
import numpy as np

from ..config import schema_defaults


@dataclass(frozen=True)
class SkyRegion:
    """A longitude-latitude box in Galactic coordinates.

    Attributes
    ----------
    name : str
    l_min_deg, l_max_deg : float
        Longitude edges in degrees. The box runs from ``l_min_deg`` eastwards to
        ``l_max_deg``; a box through l = 0 is written e.g. (-30, 30) or (330, 30). The
        configuration accepts only the first form (l_min_deg < l_max_deg, :func:`galdiff.config.check_region`).
    b_max_deg : float
        The box is |b| < b_max_deg.
    lhaaso_mask : bool
        Whether the LHAASO source mask applies (docs/paper.md#sky-regions).
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
            lhaaso_mask=bool({**schema_defaults("regions.*"), **entry}["lhaaso_mask"]),
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

    @property
    def is_all_sky(self) -> bool:
        return self.b_max_deg >= 90.0 and self.longitude_width_deg >= 360.0

    def label(self) -> str:
        if self.is_all_sky:
            return "all sky"
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


def fine_nside_for(nside: int, fine_nside: int | None) -> int:
    """The sub-pixel resolution used for area fractions: a power-of-two multiple of ``nside``.

    ``fine_nside`` (None: ``nside`` itself) is raised to the next ``nside * 2**k``.
    """
    if fine_nside is None or fine_nside <= nside:
        return int(nside)
    order = int(np.ceil(np.log2(fine_nside / nside) - 1e-12))
    return int(nside * 2**order)


def region_pixel_weights(nside: int, region: SkyRegion, keep_fine: np.ndarray | None = None,
                         fine_nside: int | None = None) -> np.ndarray:
    """Fraction of each pixel's area that lies in ``region`` (and is not masked), RING ordering.

    Each HEALPix pixel at ``nside`` is split into its (fine_nside / nside)^2 NESTED sub-pixels;
    a sub-pixel counts when its centre lies in the region and, with a mask, where ``keep_fine``
    is True. The weight is the counted fraction, so a weighted pixel sum is the solid-angle
    integral over the region's unmasked part to the accuracy of the sub-pixel grid (pixels are
    equal-area). With ``fine_nside == nside`` the weights are the 0/1 centre-in-region test of
    :func:`region_pixel_mask`.

    Parameters
    ----------
    nside : int
        Resolution of the maps the weights apply to.
    region : SkyRegion
        |b| >= 90 deg with a 360-deg-wide box is the whole sky.
    keep_fine : ndarray of bool, shape (12 fine_nside^2,), optional
        Mask at the sub-pixel resolution, RING ordering, True = keep (e.g.
        :attr:`galdiff.skymaps.masks.SourceMask.keep_fine`); its size sets ``fine_nside``.
    fine_nside : int, optional
        Sub-pixel resolution without a mask (default: ``nside``, no sub-pixels).

    Returns
    -------
    ndarray, shape (12 nside^2,)
        Weights in [0, 1].
    """
    if keep_fine is not None:
        keep_fine = np.asarray(keep_fine, dtype=bool)
        fine = hp.npix2nside(keep_fine.size)
        if fine < nside or fine % nside:
            raise ValueError(f"mask resolution nside {fine} is not a multiple of the map nside {nside}")
    else:
        fine = fine_nside_for(nside, fine_nside)
    order = int(round(np.log2(fine // nside)))
    if region.is_all_sky:
        fine_nested = np.arange(hp.nside2npix(fine))
    else:
        # only the sub-pixels of the latitude strip can lie in the box (Galactic maps: colatitude = 90 - b)
        theta_lo = np.deg2rad(90.0 - region.b_max_deg)
        theta_hi = np.deg2rad(90.0 + region.b_max_deg)
        fine_nested = hp.query_strip(fine, theta_lo, theta_hi, inclusive=True, nest=True)
    l_deg, b_deg = hp.pix2ang(fine, fine_nested, nest=True, lonlat=True)
    inside = region.contains(l_deg, b_deg)
    if keep_fine is not None:
        inside &= keep_fine[hp.nest2ring(fine, fine_nested)]
    coarse_nested = fine_nested[inside] >> (2 * order)
    npix = hp.nside2npix(nside)
    fraction_nested = np.bincount(coarse_nested, minlength=npix) / float(4**order)
    weights = np.empty(npix)
    weights[hp.nest2ring(nside, np.arange(npix))] = fraction_nested
    return weights


def weighted_region_average(cube: np.ndarray, weights: np.ndarray, name: str = "region") -> np.ndarray:
    """Solid-angle average of a Galactic RING map or (n_E, n_pix) cube with pixel weights.

    ``sum_p w_p I_p / sum_p w_p``: equal-area pixels make the weights (area fractions from
    :func:`region_pixel_weights`) the only factor.
    """
    values = np.asarray(cube, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if values.shape[-1] != weights.size:
        raise ValueError(f"{name}: map has {values.shape[-1]} pixels, weights {weights.size}")
    total = weights.sum()
    if not total > 0:
        raise ValueError(f"{name}: no unmasked area in the region at this resolution")
    return values @ weights / total


def equatorial_to_galactic_map(healpix_map_equatorial: np.ndarray) -> np.ndarray:
    """Resample a RING-ordered ICRS/equatorial HEALPix map into Galactic coordinates.

    Each Galactic pixel takes the bilinearly interpolated value of the equatorial map in its
    direction (healpy ``Rotator.rotate_map_pixel``); this keeps the map positive, unlike a
    rotation in harmonic space.
    """
    rotator = hp.Rotator(coord=["C", "G"])
    return rotator.rotate_map_pixel(np.asarray(healpix_map_equatorial, dtype=float))
