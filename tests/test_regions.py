"""Sky regions, region averages and the equatorial -> Galactic template rotation."""

import healpy as hp
import numpy as np
import pytest

from galdiff.comparison.icecube import pi0_template_intensity_e2
from galdiff.skymaps.regions import SkyRegion, equatorial_to_galactic_map, region_mean, region_pixel_mask


def test_box_solid_angle_matches_pixel_count():
    region = SkyRegion("inner", 15.0, 125.0, 5.0)
    nside = 256
    n_pix = region_pixel_mask(nside, region).sum()
    # exact: (110 deg in rad) * 2 sin 5 deg = 0.3347 sr
    assert region.solid_angle_sr() == pytest.approx(np.deg2rad(110) * 2 * np.sin(np.deg2rad(5)))
    assert n_pix * hp.nside2pixarea(nside) == pytest.approx(region.solid_angle_sr(), rel=0.02)


def test_box_through_longitude_zero():
    region = SkyRegion("gc", -30.0, 30.0, 2.0)
    assert region.contains(350.0, 0.0) and region.contains(10.0, -1.9)
    assert not region.contains(40.0, 0.0) and not region.contains(0.0, 2.5)
    assert region.longitude_width_deg == pytest.approx(60.0)


def test_region_mean_of_latitude_profile():
    # a map equal to |b| averages to the area-weighted mean of |b| over |b| < 5 deg: ~2.5 deg
    nside = 128
    l_deg, b_deg = hp.pix2ang(nside, np.arange(hp.nside2npix(nside)), lonlat=True)
    region = SkyRegion("band", 0.0, 360.0, 5.0)
    expected = 2.5  # cos b ~ 1 within 5 deg: uniform in b
    assert region_mean(np.abs(b_deg), region) == pytest.approx(expected, rel=0.02)


def test_rotation_moves_galactic_centre_from_equatorial_coordinates():
    nside = 64
    # a narrow spot at the Galactic centre's ICRS position (RA 266.405, Dec -28.936)
    vec = hp.ang2vec(266.405, -28.936, lonlat=True)
    equatorial = np.zeros(hp.nside2npix(nside))
    equatorial[hp.query_disc(nside, vec, np.deg2rad(3.0))] = 1.0
    galactic = equatorial_to_galactic_map(equatorial)
    centroid = (hp.pix2vec(nside, np.arange(galactic.size)) * galactic).sum(axis=1)
    l_deg, b_deg = hp.vec2ang(centroid, lonlat=True)
    assert min(l_deg[0], 360 - l_deg[0]) < 0.5 and abs(b_deg[0]) < 0.5
    # pixel resampling conserves the integral to the resolution of the map
    assert galactic.sum() == pytest.approx(equatorial.sum(), rel=0.05)


def test_pi0_template_intensity_at_pivot_and_slope():
    # 21.8e-12 TeV cm^-2 s^-1 sky-integrated = 2.18e-8 GeV cm^-2 s^-1; times 0.5 sr^-1
    e2 = pi0_template_intensity_e2([1e5, 1e6], 21.8, 0.5, index=2.7)
    assert e2[0] == pytest.approx(1.09e-8)
    assert e2[1] / e2[0] == pytest.approx(10 ** -0.7)
