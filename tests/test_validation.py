"""The GeV anchor (galdiff.validation): model / Fermi-LAT ratios in |l|<80, |b|<8 and its figure."""

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table

from galdiff.validation import gev_anchor_ratios

INTENSITY = u.Unit("GeV-1 cm-2 s-1 sr-1")


def power_law(energy, norm, index=2.7):
    return norm * energy**-index


@pytest.fixture()
def tables(mirror_dir):
    from galdiff.data.datasets import build_dataset

    fermi = build_dataset("fermi_lat_ackermann2012_inner_galaxy", mirror_dir)
    energy = np.geomspace(0.1, 1e4, 161)
    # a model that is half the measured intensity: the digitised spectrum interpolated log-log
    e_data = fermi["energy"].quantity.to_value(u.GeV)
    flux = fermi["flux"].quantity.to_value(INTENSITY)
    inside = np.interp(np.log(energy), np.log(e_data), np.log(flux))
    slope = np.diff(np.log(flux[-2:])) / np.diff(np.log(e_data[-2:]))
    beyond = np.log(flux[-1]) + slope[0] * (np.log(energy) - np.log(e_data[-1]))
    half = 0.5 * np.exp(np.where(energy > e_data[-1], beyond, inside))
    spectra = Table({"energy": energy * u.GeV, "gamma_total": half * INTENSITY, "pi0": 0.3 * half * INTENSITY,
                     "extra1": np.zeros(energy.size) * INTENSITY}, meta={"model": "toy", "region": "fermi_inner_galaxy"})
    return spectra, fermi


def test_ratios_of_a_model_at_half_the_data(tables):
    spectra, fermi = tables
    out = gev_anchor_ratios(spectra, fermi, (1.0, 10.0, 100.0, 1000.0))
    # the model's grid nodes are not the data's, so log-log interpolation of the two curves differs slightly
    for label in ("1GeV", "10GeV", "100GeV"):
        assert out["ratio_total"][label] == pytest.approx(0.5, rel=0.03)
        assert out["ratio_by_component"]["pi0"][label] == pytest.approx(0.15, rel=0.03)
        assert out["ratio_by_component"]["extra1"][label] == 0.0
    assert np.isnan(out["ratio_total"]["1000GeV"])  # a decade beyond the last point: no ratio
    assert out["fermi_energy_range_GeV"][1] == pytest.approx(93.6004)
    assert out["model"] == "toy" and "isotropic" in out["definition"]


def test_gev_anchor_figure_has_spectrum_and_ratio_panels(tables):
    from galdiff.plotting.gev_anchor import plot_gev_anchor

    spectra, fermi = tables
    fig = plot_gev_anchor({"dr_low": spectra, "dr_low_paper": spectra}, fermi, printed_of={"dr_low_paper": "dr_low"})
    spectrum, ratio = fig.axes[:2]
    ratios = [line.get_ydata() for line in ratio.get_lines() if len(line.get_ydata()) > 2]
    assert len(ratios) == 2 and all(np.allclose(r, 0.5, rtol=0.03) for r in ratios)
    styles = {line.get_label(): (line.get_color(), line.get_linestyle()) for line in spectrum.get_lines()}
    assert styles["DR-low refit total"][0] == styles["DR-low as printed total"][0]
    assert styles["DR-low refit total"][1] == "-" and styles["DR-low as printed total"][1] == "--"
