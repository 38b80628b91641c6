"""LHAASO-style source masks: disc radii, which pixels a source masks, masked fractions, the file."""

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galdiff.skymaps.masks import (
    UNIFORM_DISC_R39_PER_RADIUS,
    build_source_mask,
    discs_from_gammacat,
    keep_map,
    mask_radius_deg,
    masked_fraction,
    read_mask_fits,
    read_mask_fractions,
    write_mask_fits,
)
from galdiff.skymaps.regions import SkyRegion


def lhaaso_catalog(rows):
    """A tidy-1LHAASO-like table from (name, component, l, b, r39) rows (r39 NaN = point-like)."""
    names, components, glon, glat, r39 = zip(*rows)
    return Table({"name": list(names), "component": list(components), "glon": np.array(glon) * u.deg,
                  "glat": np.array(glat) * u.deg, "r39": np.array(r39, dtype=float) * u.deg,
                  "r39_ul": np.full(len(rows), 0.2) * u.deg})


def angular_distance_deg(l1, b1, l2, b2):
    return np.rad2deg(hp.rotator.angdist([l1, b1], [l2, b2], lonlat=True))


def test_radius_is_five_extensions_with_a_point_like_floor():
    assert mask_radius_deg([0.4, 0.1, np.nan], 5.0, 0.3) == pytest.approx([2.0, 1.5, 1.5])
    assert mask_radius_deg(1.0, 3.0, 0.3) == pytest.approx(3.0)


def test_source_masks_the_pixels_within_its_radius():
    # an extended KM2A component at (l, b) = (50, 1) with r39 = 0.4 deg -> a 2-deg disc
    catalog = lhaaso_catalog([("J1", "KM2A", 50.0, 1.0, 0.4), ("J2", "WCDA", 80.0, 0.0, 0.5)])
    mask = build_source_mask({"1lhaaso": catalog}, {"catalogs": ["1lhaaso"], "lhaaso_components": ["KM2A"],
                                                    "fine_nside": 256})
    assert len(mask.discs) == 1 and mask.discs["radius"][0] == pytest.approx(2.0)
    l_deg, b_deg = hp.pix2ang(256, np.arange(hp.nside2npix(256)), lonlat=True)
    distance = angular_distance_deg(l_deg, b_deg, 50.0, 1.0)
    assert not mask.keep_fine[distance < 1.95].any()
    assert mask.keep_fine[distance > 2.05].all()
    # the WCDA component is not used: nothing masked around l = 80
    assert mask.keep_fine[angular_distance_deg(l_deg, b_deg, 80.0, 0.0) < 2.0].all()


def test_masked_fraction_of_a_disc_inside_a_region():
    region = SkyRegion("box", 30.0, 70.0, 5.0)
    radius_deg = 2.0
    keep = keep_map(512, [50.0], [0.0], [radius_deg])
    disc_sr = 2 * np.pi * (1 - np.cos(np.deg2rad(radius_deg)))
    assert masked_fraction(region, keep) == pytest.approx(disc_sr / region.solid_angle_sr(), rel=0.02)
    # a disc half outside the box's latitude edge masks half its area in the box
    keep = keep_map(512, [50.0], [5.0], [radius_deg])
    assert masked_fraction(region, keep) == pytest.approx(0.5 * disc_sr / region.solid_angle_sr(), rel=0.03)


def test_gammacat_extensions():
    table = Table({
        "common_name": ["gauss", "elongated", "shell", "point", "extragalactic"],
        "where": ["gal", "gal", "gal", "unid", "egal"],
        "glon": [10.0, 20.0, 30.0, 40.0, 50.0] * u.deg, "glat": [0.0, 0.0, 0.0, 0.0, 60.0] * u.deg,
        "morph_type": ["gauss", "gauss", "shell", "point", "point"],
        "morph_sigma": [0.2, 0.1, 0.5, np.nan, np.nan] * u.deg,
        "morph_sigma2": [np.nan, 0.3, np.nan, np.nan, np.nan] * u.deg,
    })
    discs = discs_from_gammacat(table, classes=("gal", "unid"))
    assert list(discs["name"]) == ["gauss", "elongated", "shell", "point"]
    extension = discs["extension"].quantity.to_value(u.deg)
    assert extension[:3] == pytest.approx([0.2, 0.3, UNIFORM_DISC_R39_PER_RADIUS * 0.5])
    assert np.isnan(extension[3]) and list(discs["extension_kind"]) == ["gauss_sigma", "gauss_sigma", "shell_r39", "point"]


def test_keep_fraction_and_file_round_trip(tmp_path):
    catalog = lhaaso_catalog([("J1", "KM2A", 90.0, 0.0, 2.0)])  # a 10-deg disc
    mask = build_source_mask({"1lhaaso": catalog}, {"catalogs": ["1lhaaso"], "fine_nside": 128}, map_nside=16)
    fraction = mask.keep_fraction(16)
    assert fraction.min() == 0.0 and fraction.max() == 1.0
    centre = hp.ang2pix(16, 90.0, 0.0, lonlat=True)
    assert fraction[centre] == 0.0
    assert fraction[hp.ang2pix(16, 200.0, 30.0, lonlat=True)] == 1.0
    # the kept area equals the fine mask's
    assert fraction.mean() == pytest.approx(mask.keep_fine.mean(), rel=1e-12)
    regions = [SkyRegion("box", 60.0, 120.0, 5.0, lhaaso_mask=True)]
    path = tmp_path / "mask.fits"
    fractions = write_mask_fits(path, mask, 16, regions, provenance={"config_hash": "abc"})
    assert fractions["box"] == pytest.approx(masked_fraction(regions[0], mask.keep_fine))
    back = read_mask_fits(path)
    np.testing.assert_array_equal(back.keep_fine, mask.keep_fine)
    assert back.settings["radius_in_extensions"] == 5.0 and len(back.discs) == 1
    np.testing.assert_allclose(hp.read_map(path), fraction)  # healpy reads the map-resolution fraction
    assert read_mask_fractions(path) == {"box": {"masked_fraction": pytest.approx(fractions["box"]), "applied": True}}


def test_real_catalogs_mask_more_of_the_inner_than_the_outer_region(mirror_dir):
    from galdiff.data.datasets import build_dataset

    catalogs = {"1lhaaso": build_dataset("catalog_1lhaaso", mirror_dir),
                "gammacat": build_dataset("catalog_gammacat", mirror_dir)}
    mask = build_source_mask(catalogs, {"fine_nside": 256})
    inner = masked_fraction(SkyRegion("inner", 15.0, 125.0, 5.0), mask.keep_fine)
    outer = masked_fraction(SkyRegion("outer", 125.0, 235.0, 5.0), mask.keep_fine)
    # default recipe (KM2A components + gamma-cat, 5 x max(r39, 0.3 deg)): ~42 % and ~20 % at nside 1024
    assert 0.3 < inner < 0.55 and 0.1 < outer < 0.3
