"""All-sky Mollweide maps in Galactic coordinates (Fig. 6: the 100 TeV - 10 PeV neutrino sky)."""

from __future__ import annotations

import healpy as hp
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize

from .style import DOUBLE_COLUMN_WIDTH_IN, apply_style


def plot_allsky_mollweide(healpix_map, unit_label: str, log: bool = True, *, title: str | None = None,
                          cmap: str = "inferno", vmin: float | None = None, vmax: float | None = None,
                          n_lon: int = 1440, n_lat: int = 720, width_in: float = DOUBLE_COLUMN_WIDTH_IN):
    """Draw a Galactic RING HEALPix map in Mollweide projection, l = 0 at the centre, l increasing to the left.

    The map is sampled at the centres of an (n_lat x n_lon) longitude-latitude raster (nearest
    HEALPix pixel) and drawn with ``pcolormesh`` on a matplotlib Mollweide axis, so the figure is
    vector-friendly and uses the shared style (:func:`galdiff.plotting.style.apply_style`).

    Parameters
    ----------
    healpix_map : ndarray, shape (n_pix,)
        Map values (e.g. integrated intensity in cm^-2 s^-1 sr^-1), RING ordering, Galactic.
    unit_label : str
        Colour-bar label including the unit.
    log : bool
        Logarithmic colour scale (non-positive pixels are shown as the lowest colour).
    title : str, optional
    cmap : str
    vmin, vmax : float, optional
        Colour limits; default: the map's positive range (log) or full range (linear).
    n_lon, n_lat : int
        Raster size used for drawing.
    width_in : float
        Figure width in inches.

    Returns
    -------
    fig, ax : matplotlib Figure and Axes
    """
    values = np.asarray(healpix_map, dtype=float)
    nside = hp.npix2nside(values.size)
    apply_style()
    lon_edges = np.linspace(-np.pi, np.pi, n_lon + 1)
    lat_edges = np.linspace(-np.pi / 2, np.pi / 2, n_lat + 1)
    lon_c = 0.5 * (lon_edges[1:] + lon_edges[:-1])
    lat_c = 0.5 * (lat_edges[1:] + lat_edges[:-1])
    lon_grid, lat_grid = np.meshgrid(lon_c, lat_c)
    # Axis x = -l (astronomical convention: longitude grows to the left).
    galactic_l_deg = np.mod(-np.rad2deg(lon_grid), 360.0)
    pix = hp.ang2pix(nside, galactic_l_deg, np.rad2deg(lat_grid), lonlat=True)
    raster = values[pix]
    if log:
        positive = values[values > 0]
        lo = vmin if vmin is not None else (positive.min() if positive.size else 1e-300)
        hi = vmax if vmax is not None else (positive.max() if positive.size else 1.0)
        norm = LogNorm(vmin=lo, vmax=hi)
        raster = np.where(raster > 0, raster, lo)
    else:
        norm = Normalize(vmin=vmin if vmin is not None else values.min(), vmax=vmax if vmax is not None else values.max())
    fig = plt.figure(figsize=(width_in, 0.55 * width_in))
    ax = fig.add_subplot(111, projection="mollweide")
    mesh = ax.pcolormesh(lon_edges, lat_edges, raster, norm=norm, cmap=cmap, shading="flat", rasterized=True)
    tick_x_deg = np.arange(-150, 151, 30)
    ax.set_xticks(np.deg2rad(tick_x_deg))
    ax.set_xticklabels([f"{int(-x) % 360}°" for x in tick_x_deg], fontsize=6, color="0.85")
    ax.grid(True, lw=0.3, alpha=0.5)
    colorbar = fig.colorbar(mesh, ax=ax, orientation="horizontal", pad=0.06, fraction=0.05, shrink=0.7)
    colorbar.set_label(unit_label)
    if title:
        ax.set_title(title)
    return fig, ax
