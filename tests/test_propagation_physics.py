"""Physics cross-check with the paper's own numbers (issue 3).

With Table I, Table II (DR-high) and Phi = 0.7 GV the modulated proton and helium fluxes must
follow AMS-02 and DAMPE from 10 GeV/n to 50 TeV/n. The paper fitted these parameters with
GALPROP, so a large deviation means a physics or unit error in the propagation. Only the overall
scale of each species is set (by AMS-02 in 20-200 GeV/n, run.normalise_to_data); everything else
is the paper's. A coarse grid keeps the test fast; the default grid gives the same residuals to
about 1 % (recorded in the issue note).
"""

import numpy as np
import pytest
import yaml

from galdiff.data.datasets import build_dataset, flux_vs_ek_per_n
from galdiff.propagation import run

COARSE_GRID = {"dr_kpc": 0.5, "dz_kpc": 0.2, "ek_min_GeV": 0.1, "ek_max_GeV": 1.0e8, "bins_per_decade": 8}


@pytest.fixture(scope="module")
def dr_high(project_root):
    with open(project_root / "config.yaml") as handle:
        return yaml.safe_load(handle)["models"]["dr_high"]


def ratios_to_data(result, species, dataset, mirror_dir, window=(10.0, 5.0e4), with_errors=False):
    """Model/data at the data energies in the window (and the data's relative total error)."""
    spectrum = flux_vs_ek_per_n(build_dataset(dataset, mirror_dir))
    keep = (spectrum.ek_GeV_per_n >= window[0]) & (spectrum.ek_GeV_per_n <= window[1])
    model = run.model_at_data(result, species, 0.7, spectrum.ek_GeV_per_n[keep])
    ratio = model / spectrum.flux_per_GeV_per_n[keep]
    if not with_errors:
        return ratio
    error = np.hypot(np.maximum(spectrum.stat_lo, spectrum.stat_hi), np.maximum(spectrum.sys_lo, spectrum.sys_hi))
    return ratio, error[keep] / spectrum.flux_per_GeV_per_n[keep]


@pytest.fixture(scope="module")
def propagated(dr_high, mirror_dir):
    out = {}
    for species in ("proton", "helium"):
        result = run.propagate_primary(dr_high, {"grid": COARSE_GRID}, species, with_greens=False)
        reference = build_dataset(f"ams02_{species}", mirror_dir)
        out[species] = run.normalise_to_data(result, species, 0.7, reference, (20.0, 200.0))
    return out


@pytest.mark.parametrize("species, dataset", [("proton", "ams02_proton"), ("proton", "dampe_proton"),
                                              ("helium", "ams02_helium")])
def test_paper_parameters_follow_direct_data_within_10_percent(propagated, mirror_dir, species, dataset):
    # within 10 %, or within 2 sigma where a point's own error exceeds 5 % (highest AMS-02 bins)
    ratio, relative_error = ratios_to_data(propagated[species], species, dataset, mirror_dir, with_errors=True)
    assert ratio.size >= 5
    assert np.all(np.abs(ratio - 1.0) < np.maximum(0.10, 2.0 * relative_error)), ratio


def test_dampe_helium_within_its_offset_from_ams02(propagated, mirror_dir):
    # DAMPE helium lies ~5 % below AMS-02 where both measure (20-60 GeV/n), so a model scaled to
    # AMS-02 sits above DAMPE by that offset plus the spectral residual (at most ~15 % at 2 TeV/n).
    ratio = ratios_to_data(propagated["helium"], "helium", "dampe_helium", mirror_dir)
    assert np.all((ratio > 0.95) & (ratio < 1.20)), ratio


def test_knee_follows_icetop_for_dr_high(propagated, mirror_dir):
    # DR-high is the IceTop model (Table II): 3-20 PeV protons within IceTop's composition
    # systematics (tens of per cent); a units or Jacobian error would be off by orders of magnitude.
    ratio = ratios_to_data(propagated["proton"], "proton", "icetop_proton", mirror_dir, window=(3e6, 2e7))
    assert ratio.size >= 5
    assert np.all((ratio > 0.7) & (ratio < 1.5)), ratio
