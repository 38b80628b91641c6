"""Readers of every raw format and the tidy data sets built from them.

Expected numbers are typed from the raw files (quoted in comments) and converted by hand.
"""

from __future__ import annotations

import csv
import math
import sqlite3
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table
from numpy.testing import assert_allclose

from galdiff.data import (
    DATASETS,
    build_dataset,
    flux_vs_ek_per_n,
    list_datasets,
    load_registry,
    materialise_all,
    read_dataset,
    write_dataset,
)
from galdiff.data import readers
from galdiff.data.readers import FLUX_PER_GEV, FLUX_PER_GEV_PER_N, FLUX_PER_GV, GEV_PER_N

M_P = 0.938272
M_HE4 = 3.727379
PER_GEV = u.Unit("GeV-1 cm-2 s-1 sr-1")
E2_UNIT = u.Unit("GeV cm-2 s-1 sr-1")


def _oracle_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@pytest.fixture(scope="module")
def cr(mirror_dir) -> Path:
    return mirror_dir / "cosmic_rays"


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory, project_root, mirror_dir) -> Path:
    """Every file the data sets need, materialised (hash-checked) from the mirror."""
    registry = load_registry(project_root / "data" / "registry.yaml")
    names = sorted({Path(f).name for spec in DATASETS.values() for f in spec.raw_files})
    raw = tmp_path_factory.mktemp("raw")

    def no_network(url, timeout=None):
        raise OSError("network disabled in tests")

    materialise_all(registry, raw, [mirror_dir], project_root, names=names, opener=no_network)
    return raw


@pytest.fixture(scope="module")
def built(raw_dir) -> dict[str, Table]:
    return {name: build_dataset(name, raw_dir) for name in list_datasets()}


# ---------------------------------------------------------------------------------------------
# cosmic-ray formats
# ---------------------------------------------------------------------------------------------


def test_format_a_ams02_proton_first_point_in_cm2(cr):
    table = readers.read_crdb_7col(cr / "ams02_proton_rigidity_physrep2021_crdb.txt")
    # "1.00000e+00 1.16000e+00 8.24700e+02 4.00000e-01 4.00000e-01 1.25000e+01 1.25000e+01" per m^2
    row = table[0]
    assert table.meta["energy_axis"] == "rigidity"
    assert table["energy"].unit == u.GV and table["flux"].unit == FLUX_PER_GV
    assert_allclose(row["energy_lo"], 1.0)
    assert_allclose(row["energy_hi"], 1.16)
    assert_allclose(row["energy"], math.sqrt(1.16), rtol=1e-12)
    assert_allclose(row["flux"], 8.247e-2, rtol=1e-12)  # 824.7 m^-2 = 0.08247 cm^-2
    assert_allclose([row["stat_lo"], row["stat_hi"]], [4.0e-5, 4.0e-5], rtol=1e-12)
    assert_allclose([row["sys_lo"], row["sys_hi"]], [1.25e-3, 1.25e-3], rtol=1e-12)
    assert len(table) == 72 and not table["is_upper_limit"].any()
    # last row "1.13000e+03 1.80000e+03 3.26000e-05 ..." -> 3.26e-9 per cm^2
    assert_allclose(table["flux"][-1], 3.26e-9, rtol=1e-12)


def test_format_a_dampe_electrons_total_energy_axis(cr):
    table = readers.read_crdb_7col(cr / "dampe_electron_plus_positron_2017_crdb.txt")
    # "2.40000e+01 2.75000e+01 1.16000e-02 0.00000e+00 0.00000e+00 3.00000e-04 3.00000e-04"
    assert table.meta["energy_axis"] == "total_energy_per_particle"
    assert table["energy"].unit == u.GeV and table["flux"].unit == FLUX_PER_GEV
    assert_allclose(table["flux"][0], 1.16e-6)
    assert table["stat_lo"][0] == 0.0  # zero errors kept as zero
    assert_allclose(table["sys_hi"][0], 3.0e-8)


def test_format_b_dampe_helium_per_particle_and_per_nucleon(cr):
    table = readers.read_kiss(cr / "dampe_helium_ekin_2021_kiss.txt")
    # "7.930e+01 5.261e-02 2.500e-04 2.500e-04 7.450e-03 7.450e-03": T = 79.3 GeV for the whole nucleus
    assert table.meta["energy_axis"] == "kinetic_energy_per_particle"
    assert_allclose(table["energy"][0], 79.3)
    assert_allclose(table["flux"][0], 5.261e-6)
    assert_allclose(table["stat_lo"][0], 2.5e-8)
    assert_allclose(table["sys_hi"][0], 7.45e-7)
    assert np.isnan(table["energy_lo"][0])
    table.meta["species"] = "helium"
    spectrum = flux_vs_ek_per_n(table)
    assert_allclose(spectrum.ek_GeV_per_n[0], 79.3 / 4)  # 19.825 GeV/n
    assert_allclose(spectrum.flux_per_GeV_per_n[0], 4 * 5.261e-6)  # dT/dT_n = A = 4
    assert_allclose(spectrum.sys_lo[0], 4 * 7.45e-7)


def test_format_b_icetop_upper_limits(cr):
    proton = readers.read_kiss(cr / "icetop_icecube_2019_sibyll21_proton_etot_kiss.txt")
    # last row "7.943e+08 1.600e-23 1.600e-23 2.319e-21 0.000e+00 2.115e-21": lower error = value -> limit
    assert proton["is_upper_limit"].tolist() == [False] * 19 + [True]
    limit = 1.6e-23 + math.sqrt(2.319e-21**2 + 2.115e-21**2)
    assert_allclose(proton["flux"][-1], limit * 1e-4, rtol=1e-12)
    assert_allclose(proton["flux_central"][-1], 1.6e-27, rtol=1e-12)
    assert_allclose(proton["flux"][0], 2.791e-18)  # "3.548e+06 2.791e-14 ..." measured point unchanged
    helium = readers.read_kiss(cr / "icetop_icecube_2019_sibyll21_helium_etot_kiss.txt")
    # rows at 4.467e7 (1.182e-19 vs 1.180e-19), 8.913e7, 1.259e8, 3.162e8, 5.012e8, 7.943e8
    flagged = np.asarray(helium["energy"])[helium["is_upper_limit"]]
    assert_allclose(flagged, [4.467e7, 8.913e7, 1.259e8, 3.162e8, 5.012e8, 7.943e8])


def test_format_c_voyager_proton_no_bin_edges(cr):
    table = readers.read_crdb_10col(cr / "voyager1_proton_2012_stone2013_crdb.txt")
    # "3.710000e-03 3.710000e-03 3.710000e-03 2.006000e+04 3.040000e+02 3.080000e+02 0 0 ..."
    assert table.meta["energy_axis"] == "kinetic_energy_per_nucleon"
    assert table["energy"].unit == GEV_PER_N and table["flux"].unit == FLUX_PER_GEV_PER_N
    assert_allclose(table["energy"][0], 3.71e-3)
    assert np.isnan(table["energy_lo"]).all() and np.isnan(table["energy_hi"]).all()
    assert_allclose([table["flux"][0], table["stat_lo"][0], table["stat_hi"][0]], [2.006, 0.0304, 0.0308])
    assert len(table) == 19


def test_format_d_voyager_helium_from_mev_per_nucleon(cr):
    table = readers.read_cummings_table(cr / "voyager1_helium_cummings2016_table8.txt")
    # "3.0  4.6  3.8  1.530e+00  7.964e-02  7.650e-02  4780  1" in MeV/n and (m^2 s sr MeV/n)^-1
    assert table["energy"].unit == GEV_PER_N
    assert_allclose(table["energy"][0], 3.8e-3)
    assert_allclose([table["energy_lo"][0], table["energy_hi"][0]], [3.0e-3, 4.6e-3])
    # 1.530 per MeV/n per m^2 = 1530 per GeV/n per m^2 = 0.1530 per GeV/n per cm^2
    assert_allclose(table["flux"][0], 0.1530)
    assert_allclose(table["stat_lo"][0], 7.964e-3)
    assert_allclose(table["sys_hi"][0], 7.650e-3)
    # last row "480.5 661.4 571.0 4.235e-01 ..."
    assert_allclose([table["energy"][-1], table["flux"][-1]], [0.571, 0.04235])
    assert table["counts"][0] == 4780 and len(table) == 16


def test_format_e_kascade_proton_point_in_gev(cr):
    table = readers.read_kcdc(cr / "kascade_2011_qgsjetII02_proton_etot_kcdc.txt")
    # "1.114810e+06;3.316440e-13;7.648840e-15;7.648840e-15"
    assert table.meta["energy_axis"] == "total_energy_per_particle"
    assert table["energy"].unit == u.GeV
    assert_allclose(table["energy"][0], 1.11481e6)
    assert_allclose(table["flux"][0], 3.31644e-17)
    assert_allclose([table["stat_lo"][0], table["stat_hi"][0]], [7.64884e-19] * 2)
    assert table["sys_lo"][0] == 0 and table["sys_hi"][0] == 0
    assert_allclose([table["energy_lo"][0], table["energy_hi"][0]], [1.0e6, 10**6.1])
    assert_allclose([table["energy_lo"][-1], table["energy_hi"][-1]], [10**7.9, 1.0e8])
    # errors larger than the value (e.g. "3.548130e+07;1.015310e-18;1.285220e-18") stay measurements
    assert not table["is_upper_limit"].any()


def test_format_e_kascade_helium_zero_rows_are_limits(cr):
    table = readers.read_kcdc(cr / "kascade_2005_qgsjet01_helium_etot_kcdc.txt")
    # "7.079460e+07;0.000000e+00;8.086760e-19;8.086760e-19" and "8.912510e+07;0.000000e+00;1.063120e-18;..."
    assert table["is_upper_limit"].tolist() == [False] * 18 + [True, True]
    assert_allclose(table["flux"][-2:], [8.08676e-23, 1.06312e-22])
    assert (np.asarray(table["flux_central"][-2:]) == 0).all()


def test_format_f_icetop26_from_pev(cr):
    table = readers.read_icetop_pev(cr / "icetop26_2013_allparticle.txt")
    # " 1.94   5.612e-13    0.018e-13   1.2e-13": E in PeV
    assert_allclose(table["energy"][0], 1.94e6)
    assert_allclose(table["flux"][0], 5.612e-17)
    assert_allclose([table["stat_lo"][0], table["sys_hi"][0]], [1.8e-19, 1.2e-17])
    # last line has no newline: "97.01   4.7e-18      1.0e-18     1.4e-18"
    assert len(table) == 18
    assert_allclose([table["energy"][-1], table["flux"][-1]], [97.01e6, 4.7e-22])


def test_format_g_dragon2_crlf_bin_edges(cr):
    raw = (cr / "dampe_proton_ekin_2019_dragon2.txt").read_bytes()
    assert b"\r\n" in raw  # the quirk this reader must survive
    table = readers.read_dragon2_dampe(cr / "dampe_proton_ekin_2019_dragon2.txt")
    # "39.8  49.8  63.1  0.263  0.297 ..." and last "63096  78946  100000 ..."
    assert len(table) == 17
    assert_allclose([table["energy_lo"][0], table["energy"][0], table["energy_hi"][0]], [39.8, 49.8, 63.1])
    assert_allclose(table["flux_avg"][0], 2.97e-5)
    assert_allclose(table["energy_hi"][-1], 1.0e5)


def test_format_h_sqlite(cr):
    path = cr / "crspectra_surface_detectors.sqlite3"
    table = readers.read_crspectra_sqlite(path, "IceTop-73")
    with sqlite3.connect(path) as connection:
        first = connection.execute('SELECT energy, flux, stat_low, sys_up FROM "IceTop-73"').fetchone()
    assert len(table) == 44
    assert_allclose(table["energy"][0], first[0])
    assert_allclose([table["flux"][0], table["stat_lo"][0], table["sys_hi"][0]], np.array(first[1:]) * 1e-4)
    with pytest.raises(ValueError, match="no table"):
        readers.read_crspectra_sqlite(path, "Nope")


def test_upper_limit_rule_synthetic():
    central = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    lower = np.array([0.5, 0.995, 1.2, 0.5, 1.0])
    assert readers.is_upper_limit_row(central, [lower]).tolist() == [True, True, False, False, True]


# ---------------------------------------------------------------------------------------------
# gamma rays and neutrinos
# ---------------------------------------------------------------------------------------------


def test_lhaaso_table_s2_first_row(mirror_dir):
    table = readers.read_lhaaso_km2a_table(mirror_dir / "gamma" / "LHAASO_KM2A_2023_TableS2_inner.txt")
    # "1.0 1.2 12.6 6.61e-13 0.64e-13 0.64e-13 0.77e-13" (TeV, TeV^-1 cm^-2 s^-1 sr^-1)
    assert table["energy"].unit == u.GeV and table["flux"].unit == PER_GEV
    assert_allclose(table["energy"][0], 12600.0)
    assert_allclose([table["energy_lo"][0], table["energy_hi"][0]], [1.0e4, 10**1.2 * 1e3])
    assert_allclose(table["flux"][0], 6.61e-16)
    assert_allclose([table["flux_stat_lo"][0], table["flux_sys_hi"][0]], [6.4e-17, 7.7e-17])
    assert_allclose(table["flux_lo_err"][0], math.hypot(6.4e-17, 7.7e-17))
    assert table["e2flux"].unit == E2_UNIT
    assert_allclose(table["e2flux"][0], 12600.0**2 * 6.61e-16)  # 1.049e-7 GeV cm^-2 s^-1 sr^-1
    assert len(table) == 10


@pytest.mark.parametrize("region", ["a", "b"])
def test_tibet_reconstruction_matches_derived_file(mirror_dir, region):
    table = readers.read_dnncascade_tibet(mirror_dir / "gamma" / f"raw_icecube_dnncascade_plot{region}_TibetData.csv")
    oracle = _oracle_csv(mirror_dir / "gamma" / f"tibet_asg2021_diffuse_region{region.upper()}_digitized.csv")
    assert len(table) == len(oracle) == 3
    col = lambda key: np.array([float(row[key]) for row in oracle])
    assert_allclose(table["energy"].quantity.to_value(u.TeV), col("E_TeV"), rtol=2e-3)
    assert_allclose(table["energy_lo"].quantity.to_value(u.TeV), col("E_lo_TeV"), rtol=2e-3)
    assert_allclose(table["energy_hi"].quantity.to_value(u.TeV), col("E_hi_TeV"), rtol=2e-3)
    per_tev = u.Unit("TeV-1 cm-2 s-1 sr-1")
    flux = table["flux"].quantity
    assert_allclose(flux.to_value(per_tev), col("dNdE"), rtol=1e-4)
    assert_allclose((flux - table["flux_stat_lo"].quantity).to_value(per_tev), col("dNdE_lo"), rtol=1e-4)
    assert_allclose((flux + table["flux_stat_hi"].quantity).to_value(per_tev), col("dNdE_hi"), rtol=1e-4)
    assert_allclose(table["e2flux"].quantity.to_value(u.Unit("TeV cm-2 s-1 sr-1")), col("E2dNdE"), rtol=1e-4)
    assert (table["flux_stat_lo"] > 0).all() and (table["flux_stat_hi"] > 0).all()
    assert np.isnan(table["flux_sys_lo"]).all()


def test_tibet_first_point_by_hand(mirror_dir):
    table = readers.read_dnncascade_tibet(mirror_dir / "gamma" / "raw_icecube_dnncascade_plota_TibetData.csv")
    # "121.0348180041,0.0001663962,...": E^2.7 dN/dE in GeV^1.7 with E = 121034.818 GeV
    assert_allclose(table["flux"][0], 1.663962e-4 / 121034.8180041**2.7, rtol=1e-10)


def test_fermi_fig17_from_mev(mirror_dir):
    table = readers.read_fermi_fig17(mirror_dir / "gamma" / "Ackermann2012_diffuse_Fig17.txt")
    # "2.38109e+2    2.95505e-2 3.18865e-2 3.44071e-2" (MeV; E^2 I in MeV cm^-2 s^-1 sr^-1)
    assert_allclose(table["energy"][0], 0.238109)
    assert_allclose(table["e2flux"][0], 3.18865e-5)
    assert_allclose(table["flux"][0], 3.18865e-5 / 0.238109**2)
    assert_allclose([table["e2flux_lo_err"][0], table["e2flux_hi_err"][0]],
                    [(3.18865 - 2.95505) * 1e-5, (3.44071 - 3.18865) * 1e-5], rtol=1e-9)
    assert len(table) == 14


def test_fermi_lhaaso_region_from_tev_units(mirror_dir):
    table = readers.read_fermi_lhaaso_region(mirror_dir / "gamma" / "fermi_data_lhaaso_region.txt")
    # last row "0.3988471118935224 5.889995222594295e-10 6.9696703448459e-10": E [TeV], E^2.7 dN/dE in
    # TeV^1.7 cm^-2 s^-1 sr^-1 and the upper end of its error bar
    e_tev, y, y_hi = 0.3988471118935224, 5.889995222594295e-10, 6.9696703448459e-10
    assert len(table) == 15 and table["energy"].unit == u.GeV
    assert_allclose(table["energy"][-1], e_tev * 1e3)
    assert_allclose(table["flux"][-1], y / e_tev**2.7 * 1e-3, rtol=1e-12)  # per TeV -> per GeV
    # the same point E^2.7-weighted in GeV units: y x (1e3)^1.7
    assert_allclose(table["energy"][-1] ** 2.7 * table["flux"][-1], y * 1e3**1.7, rtol=1e-12)
    assert_allclose([table["flux_lo_err"][-1], table["flux_hi_err"][-1]], [(y_hi - y) / e_tev**2.7 * 1e-3] * 2)
    assert 1.2 < table["energy"].min() < table["energy"].max() < 400.0


def test_fermi_lhaaso_region_dataset_carries_its_caveat(mirror_dir):
    from galdiff.data.datasets import build_dataset

    table = build_dataset("fermi_lat_lhaaso_inner", mirror_dir)
    assert "not verified" in table.meta["caveat"].lower() and "mask" in table.meta["caveat"]
    assert "unverified" in table.meta["plot_label"]
    assert table.meta["region"]["l_min_deg"] == 15.0 and table.meta["region"]["b_max_deg"] == 5.0
    # it joins LHAASO-KM2A inner: E^2.7 dN/dE at 0.4 TeV within 20 % of KM2A's at 12.6 TeV
    km2a = build_dataset("lhaaso_km2a_inner", mirror_dir)
    fermi_end = table["energy"][-1] ** 2.7 * table["flux"][-1]
    km2a_start = km2a["energy"][0] ** 2.7 * km2a["flux"][0]
    assert 0.8 < float(fermi_end / km2a_start) < 1.2


def test_cascade_band_matches_derived_file(built, mirror_dir):
    table = built["icecube_cascades_6yr"]
    oracle = _oracle_csv(mirror_dir / "neutrino" / "icecube_cascades6yr_spl_band.csv")
    col = lambda key: np.array([float(row[key]) for row in oracle])
    assert table.colnames == ["energy", "e2flux_best", "e2flux_lo", "e2flux_hi"]
    assert table["energy"].unit == u.GeV and table["e2flux_lo"].unit == E2_UNIT
    assert_allclose(table["energy"], col("E_GeV"), rtol=1e-5)
    for mine, theirs in (("e2flux_best", "E2Phi_best"), ("e2flux_lo", "E2Phi_lo"), ("e2flux_hi", "E2Phi_hi")):
        assert_allclose(table[mine], col(theirs), rtol=0.02)
    # by hand: 1.66e-18 (16/100)^-2.53 16000^2 = 4.3845e-8 GeV cm^-2 s^-1 sr^-1
    assert_allclose(table["e2flux_best"][0], 1.66e-18 * 0.16**-2.53 * 16000.0**2, rtol=1e-10)
    assert (table["e2flux_lo"] < table["e2flux_best"]).all() and (table["e2flux_best"] < table["e2flux_hi"]).all()


def test_gp_template_fits(built):
    table = built["icecube_gp2023_template_fits"]
    assert list(table["template"]) == ["pi0", "KRA_gamma_5PeV", "KRA_gamma_50PeV"]
    assert_allclose(table["best_fit"], [21.8, 0.55, 0.37])
    assert_allclose(table["one_sigma_lo"], [16.9, 0.398, 0.260])
    # 21.8e-12 TeV cm^-2 s^-1 = 2.18e-8 GeV cm^-2 s^-1
    assert table["e2flux_100TeV_allsky"].unit == u.Unit("GeV cm-2 s-1")
    assert_allclose(table["e2flux_100TeV_allsky"][0], 2.18e-8)
    assert np.isnan(table["e2flux_100TeV_allsky"][1:]).all()
    assert table["E90_lo"].unit == u.GeV and table["E90_lo"][0] == 796.0


# ---------------------------------------------------------------------------------------------
# catalogs
# ---------------------------------------------------------------------------------------------


def test_1lhaaso_components_match_derived_file(built, mirror_dir):
    table = built["catalog_1lhaaso"]
    oracle = _oracle_csv(mirror_dir / "catalogs" / "1LHAASO_components_galactic.csv")
    assert len(table) == len(oracle) == 144
    assert [(r["name"], r["component"]) for r in oracle] == list(zip(table["name"], table["component"]))
    col = lambda key: np.array([float(r[key]) if r[key] else np.nan for r in oracle])
    dlon = (np.asarray(table["glon"]) - col("glon_deg") + 180) % 360 - 180
    assert np.abs(dlon).max() < 1e-3
    assert_allclose(table["glat"], col("glat_deg"), atol=1e-3)
    for mine, theirs in (("r39", "r39_deg"), ("r39_ul", "r39_ul_deg"), ("N0", "N0"), ("E0", "E0_TeV"),
                         ("TS", "TS"), ("TS100", "TS100")):
        assert_allclose(table[mine], col(theirs), rtol=1e-3, equal_nan=True)
    assert table["glon"].unit == u.deg and table["N0"].unit == u.Unit("TeV-1 cm-2 s-1")


def test_gammacat_matches_derived_file(built, mirror_dir):
    table = built["catalog_gammacat"]
    oracle = _oracle_csv(mirror_dir / "catalogs" / "gammacat_positions_extensions.csv")
    assert len(table) == len(oracle) == 162
    assert list(table["common_name"]) == [r["common_name"] for r in oracle]
    assert list(table["morph_type"]) == [r["morph_type"] for r in oracle]
    col = lambda key: np.array([float(r[key]) if r[key] else np.nan for r in oracle])
    assert_allclose(table["glon"], col("glon_deg"), rtol=5e-4, atol=0.01)  # oracle has 4 digits
    assert_allclose(table["morph_sigma"], col("morph_sigma_deg"), rtol=5e-4, atol=0.01, equal_nan=True)
    assert table["glat"].unit == u.deg


# ---------------------------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------------------------

CR_AXES = {
    "ams02_proton": "rigidity", "ams02_helium": "rigidity",
    "ams02_electron_positron": "total_energy_per_particle", "ams02_electron": "total_energy_per_particle",
    "ams02_positron": "total_energy_per_particle", "dampe_proton": "kinetic_energy_per_particle",
    "dampe_helium": "kinetic_energy_per_particle", "dampe_electron_positron": "total_energy_per_particle",
    "icetop_proton": "total_energy_per_particle", "icetop_helium": "total_energy_per_particle",
    "kascade_proton": "total_energy_per_particle", "kascade_helium": "total_energy_per_particle",
    "voyager_proton": "kinetic_energy_per_nucleon", "voyager_helium": "kinetic_energy_per_nucleon",
}
GAMMA = ["lhaaso_km2a_inner", "lhaaso_km2a_outer", "tibet_asg_region_a", "tibet_asg_region_b",
         "fermi_lat_ackermann2012_inner_galaxy", "fermi_lat_lhaaso_inner"]


def test_dataset_names_are_exactly_the_agreed_ones():
    assert set(list_datasets()) == set(CR_AXES) | set(GAMMA) | {
        "icecube_cascades_6yr", "icecube_gp2023_template_fits", "catalog_1lhaaso", "catalog_gammacat",
        "icecube_gp2023_kra_gamma_5", "icecube_gp2023_kra_gamma_50"}


def test_every_dataset_builds_with_meta(built, raw_dir):
    for name, table in built.items():
        assert len(table) > 0, name
        for key in ("dataset", "experiment", "citation", "source_files", "source_sha256", "notes"):
            assert table.meta.get(key), (name, key)
        assert table.meta["dataset"] == name
        assert set(table.meta["source_sha256"]) == set(table.meta["source_files"])


@pytest.mark.parametrize("name", sorted(CR_AXES))
def test_cosmic_ray_columns_and_units(built, name):
    table = built[name]
    axis = CR_AXES[name]
    energy_unit = {"rigidity": u.GV, "kinetic_energy_per_nucleon": GEV_PER_N}.get(axis, u.GeV)
    flux_unit = {"rigidity": FLUX_PER_GV, "kinetic_energy_per_nucleon": FLUX_PER_GEV_PER_N}.get(axis, FLUX_PER_GEV)
    assert table.meta["energy_axis"] == axis and table.meta["species"]
    for column in ("energy", "energy_lo", "energy_hi"):
        assert table[column].unit == energy_unit, (name, column)
    for column in ("flux", "stat_lo", "stat_hi", "sys_lo", "sys_hi"):
        assert table[column].unit == flux_unit, (name, column)
        assert (np.asarray(table[column]) >= 0).all(), (name, column)
    assert table["is_upper_limit"].dtype == bool
    assert (np.asarray(table["flux"]) > 0).all()
    spectrum = flux_vs_ek_per_n(table)
    assert np.all(spectrum.ek_GeV_per_n > 0) and np.all(np.diff(spectrum.ek_GeV_per_n) > 0), name
    assert np.all(spectrum.flux_per_GeV_per_n > 0)


def test_ams02_proton_to_ek_per_nucleon_by_hand(built):
    spectrum = flux_vs_ek_per_n(built["ams02_proton"])
    rigidity = math.sqrt(1.16)  # geometric centre of 1.00-1.16 GV; proton: p = R
    total = math.sqrt(rigidity**2 + M_P**2)
    assert_allclose(spectrum.ek_GeV_per_n[0], total - M_P, rtol=1e-9)
    assert_allclose(spectrum.flux_per_GeV_per_n[0], 8.247e-2 * total / rigidity, rtol=1e-9)  # dR/dT = E/p
    assert_allclose(spectrum.ek_lo_GeV_per_n[0], math.sqrt(1 + M_P**2) - M_P, rtol=1e-9)


def test_ams02_helium_rigidity_to_ek_per_nucleon_by_hand(built):
    table = built["ams02_helium"]
    # "2.031e+00 6.947e+01 ...": He-4, A/Z = 2 -> p per nucleon = 2.031/2 GeV
    spectrum = flux_vs_ek_per_n(table)
    p_n, m_n = 2.031 / 2, M_HE4 / 4
    e_n = math.sqrt(p_n**2 + m_n**2)
    assert_allclose(spectrum.ek_GeV_per_n[0], e_n - m_n, rtol=1e-9)
    assert_allclose(spectrum.flux_per_GeV_per_n[0], 6.947e-3 * 2 * e_n / p_n, rtol=1e-9)


def test_kascade_helium_total_energy_to_ek_per_nucleon(built):
    spectrum = flux_vs_ek_per_n(built["kascade_helium"])
    # "1.122020e+06;1.258700e-12;..." E_tot per nucleus -> T_n = (E - M_He)/4, flux x 4
    assert_allclose(spectrum.ek_GeV_per_n[0], (1.12202e6 - M_HE4) / 4)
    assert_allclose(spectrum.flux_per_GeV_per_n[0], 4 * 1.2587e-16)
    assert "QGSJET-II" in DATASETS["kascade_helium"].notes and "QGSJET 01" in DATASETS["kascade_helium"].notes


def test_leptons_energy_axis(built):
    table = built["ams02_electron"]
    # "5.00000e-01 6.50000e-01 1.73100e+01 ..." GeV, per m^2
    assert_allclose([table["energy_lo"][0], table["energy_hi"][0], table["flux"][0]], [0.5, 0.65, 1.731e-3])
    spectrum = flux_vs_ek_per_n(table)
    assert_allclose(spectrum.ek_GeV_per_n[0], math.sqrt(0.5 * 0.65) - 0.51099895e-3)
    assert_allclose(spectrum.flux_per_GeV_per_n[0], 1.731e-3)


def test_dampe_proton_has_dragon2_edges(built):
    table = built["dampe_proton"]
    # KISS "4.981e+01 2.970e-01 0.000e+00 0.000e+00 2.441e-02 2.441e-02", DRAGON2 edges 39.8 - 63.1 GeV
    assert_allclose([table["energy_lo"][0], table["energy"][0], table["energy_hi"][0]], [39.8, 49.81, 63.1])
    assert_allclose([table["flux"][0], table["sys_lo"][0]], [2.97e-5, 2.441e-6])
    assert table["stat_lo"][0] == 0.0


def test_icetop_dataset_bin_edges(built):
    table = built["icetop_proton"]
    assert_allclose([table["energy_lo"][0], table["energy_hi"][0]], [10**6.5, 10**6.6], rtol=1e-12)
    i = int(np.argmin(np.abs(np.asarray(table["energy"]) - 1.259e8)))  # first 0.2-dex bin
    assert_allclose([table["energy_lo"][i], table["energy_hi"][i]], [1e8, 10**8.2], rtol=1e-12)
    assert_allclose(table["energy_hi"][-1], 1e9, rtol=1e-12)


@pytest.mark.parametrize("name", GAMMA)
def test_gamma_columns_and_region(built, name):
    table = built[name]
    assert table.meta["messenger"] == "gamma"
    region = table.meta["region"]
    assert {"l_min_deg", "l_max_deg", "b_max_deg", "mask"} <= set(region)
    assert table["energy"].unit == u.GeV and table["energy_lo"].unit == u.GeV
    for column in ("flux", "flux_lo_err", "flux_hi_err"):
        assert table[column].unit == PER_GEV
        assert table["e2" + column].unit == E2_UNIT
    assert_allclose(table["e2flux"], np.asarray(table["energy"]) ** 2 * np.asarray(table["flux"]), rtol=1e-12)
    assert (np.asarray(table["flux_lo_err"]) > 0).all()
    assert table["is_upper_limit"].dtype == bool


def test_regions(built):
    inner = built["lhaaso_km2a_inner"].meta["region"]
    assert (inner["l_min_deg"], inner["l_max_deg"], inner["b_max_deg"]) == (15.0, 125.0, 5.0)
    tibet = built["tibet_asg_region_a"].meta["region"]
    assert (tibet["l_min_deg"], tibet["l_max_deg"]) == (25.0, 100.0)
    assert built["icecube_cascades_6yr"].meta["per_flavour"] is True


def test_ecsv_round_trip_keeps_units_and_meta(built, tmp_path):
    for name in ("voyager_helium", "icetop_helium", "lhaaso_km2a_inner", "icecube_cascades_6yr", "catalog_1lhaaso"):
        table = built[name]
        path = write_dataset(table, tmp_path / f"{name}.ecsv")
        back = read_dataset(path)
        assert back.colnames == table.colnames
        for column in table.colnames:
            assert back[column].unit == table[column].unit, (name, column)
        assert back.meta["source_sha256"] == table.meta["source_sha256"]
        if "is_upper_limit" in table.colnames:
            assert back["is_upper_limit"].tolist() == table["is_upper_limit"].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.ecsv" for n in ("voyager_helium", "icetop_helium", "lhaaso_km2a_inner", "icecube_cascades_6yr",
                              "catalog_1lhaaso"))


def test_write_dataset_is_atomic(built, tmp_path, monkeypatch):
    def broken_write(self, *args, **kwargs):
        Path(args[0]).write_text("half a file")
        raise OSError("disk full")

    monkeypatch.setattr(Table, "write", broken_write)
    with pytest.raises(OSError):
        write_dataset(built["ams02_proton"], tmp_path / "ams02_proton.ecsv")
    assert list(tmp_path.iterdir()) == []


def test_build_dataset_errors(raw_dir, tmp_path):
    with pytest.raises(KeyError, match="unknown data set"):
        build_dataset("no_such_set", raw_dir)
    with pytest.raises(FileNotFoundError, match="ams02_proton_rigidity_physrep2021_crdb.txt"):
        build_dataset("ams02_proton", tmp_path)


# ---------------------------------------------------------------------------------------------
# further readers (no data set of their own)
# ---------------------------------------------------------------------------------------------


def test_pi0_model_spectrum_matches_derived_file(mirror_dir):
    neutrino = mirror_dir / "neutrino"
    table = readers.read_pi0_model_spectrum(neutrino / "icecube_gp2023_pi0_model_energies_log10GeV.npy",
                                            neutrino / "icecube_gp2023_pi0_model_allsky_avg_E2Phi_gamma.npy")
    oracle = _oracle_csv(neutrino / "icecube_gp2023_pi0_model_spectrum.csv")
    col = lambda key: np.array([float(r[key]) for r in oracle])
    assert len(table) == len(oracle) == 135
    assert_allclose(table["energy"], col("E_GeV"), rtol=1e-6)
    assert_allclose(table["e2flux_gamma_allsky_avg"], col("E2Phi_gamma_allsky_avg"), rtol=1e-6)
    assert_allclose(table["e2flux_nu_per_flavour_allsky"], col("E2Phi_nu_perflavor_allsky_int"), rtol=1e-6)
    # SOURCES.md: 4.53e-12 TeV cm^-2 s^-1 = 4.53e-9 GeV cm^-2 s^-1 at 100 TeV
    at_100tev = np.interp(5.0, np.log10(table["energy"]), np.log10(table["e2flux_nu_per_flavour_allsky"]))
    assert_allclose(10**at_100tev, 4.53e-9, rtol=0.01)


def test_cascade_piecewise(mirror_dir):
    table = readers.read_cascade_piecewise(mirror_dir / "neutrino" / "icecube_cascades6yr_piecewise_fitresult.txt")
    # "6813 4642 10000 3.18e+00 1.05e+00 5.43e+00" and "316228 215443 464159 0.00e+00 0.00e+00 1.73e-01"
    assert len(table) == 13
    assert_allclose([table["energy_lo"][0], table["energy_hi"][0]], [4642, 10000])
    assert_allclose([table["e2flux"][0], table["e2flux_lo"][0], table["e2flux_hi"][0]], [3.18e-8, 1.05e-8, 5.43e-8])
    assert table["is_upper_limit"].tolist()[5] and not table["is_upper_limit"][6]
    assert_allclose(table["e2flux"][5], 1.73e-9)
    assert table["is_upper_limit"].sum() == 6


def test_kra_digitised_spectrum(mirror_dir):
    table = readers.read_sky_integrated_e2(mirror_dir / "neutrino" / "IceCube2023_nus_gp_kra5.txt")
    # "1.01717e+3  1.39602e-7" ... "9.83119e+4  1.60057e-8": 16 points (SOURCES.md says 17; the 17th line is blank)
    assert len(table) == 16
    assert_allclose([table["energy"][0], table["e2flux_allsky"][0]], [1017.17, 1.39602e-7])
    assert_allclose([table["energy"][-1], table["e2flux_allsky"][-1]], [98311.9, 1.60057e-8])
    assert table["e2flux_allsky"].unit == u.Unit("GeV cm-2 s-1")


def test_tevcat_list(mirror_dir):
    table = readers.read_tevcat_list(mirror_dir / "catalogs" / "tevcat_sources_lon_lat_ext_GLON_25_100deg_subPeVALPs.txt")
    # first "24.8526 -0.2057 0.0", last "106.34621 2.7116571 0.27", "26.4901 -0.0424 0.0  LHAASO"
    assert_allclose([table["glon"][0], table["glat"][0], table["extension"][0]], [24.8526, -0.2057, 0.0])
    assert_allclose([table["glon"][-1], table["extension"][-1]], [106.34621, 0.27])
    assert table["tag"][5] == "LHAASO" and table["tag"][0] == ""
    assert len(table) == 55 and table["glon"].unit == u.deg


def test_hgps_catalog(mirror_dir):
    table = readers.read_hgps_catalog(mirror_dir / "catalogs" / "hgps_catalog_v1.fits.gz")
    assert len(table) == 78
    assert table["name"][0] == "HESS J0835-455" and table["spatial_model"][1] == "Shell"
    assert table["glon"].unit == u.deg and np.isnan(table["size"][2]) and table["size_ul"][2] > 0
