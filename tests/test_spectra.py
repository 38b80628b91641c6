"""Tests of galdiff.spectra: Eq. 3 injection shape, ECPL, force-field modulation.

Truths: the closed form of docs/paper.md#eq-3-injection-spectrum written out by hand, analytic slopes, and the
force-field check values of docs/conventions.md#force-field-modulation (0.5171, 0.6963).
"""

import numpy as np
import pytest

from galdiff.spectra import (
    broken_power_law_rigidity,
    ecpl,
    force_field_factor,
    force_field_modulate,
    force_field_modulate_tabulated,
    loglog_interp,
)
from galdiff.units import ELECTRON, HELIUM, PROTON

# Table II, protons DR-high, rigidities in GV
P_INDICES = [2.06, 2.43, 2.22, 2.52, 2.18]
P_BREAKS_GV = [13.9, 500.0, 1.5e4, 1e5]
P_CUTOFF_GV = 1.2e7
# Table III, primary electrons
E_INDICES = [2.33, 0.01, 2.88, 2.45]
E_BREAKS_GV = [0.950, 4.19, 55.7]
E_CUTOFF_GV = 6.27e3


@pytest.mark.parametrize("indices,breaks,cutoff", [(P_INDICES, P_BREAKS_GV, P_CUTOFF_GV),
                                                   (E_INDICES, E_BREAKS_GV, E_CUTOFF_GV)])
def test_continuous_at_every_break(indices, breaks, cutoff):
    # docs/conventions.md#injection-spectrum-eq-3: ratio across each break equals 1 to within 5e-12
    for r_break in breaks:
        above = broken_power_law_rigidity(r_break * (1 + 1e-12), indices, breaks, cutoff)
        below = broken_power_law_rigidity(r_break * (1 - 1e-12), indices, breaks, cutoff)
        assert above / below == pytest.approx(1.0, abs=1e-10)


def test_local_slopes_equal_minus_nu_without_cutoff():
    edges = [1.0] + P_BREAKS_GV + [1e7]
    for n in range(len(P_INDICES)):
        r_mid = np.sqrt(edges[n] * edges[n + 1])
        h = 1e-6
        q_hi = broken_power_law_rigidity(r_mid * np.exp(h), P_INDICES, P_BREAKS_GV)
        q_lo = broken_power_law_rigidity(r_mid * np.exp(-h), P_INDICES, P_BREAKS_GV)
        slope = (np.log(q_hi) - np.log(q_lo)) / (2 * h)
        assert slope == pytest.approx(-P_INDICES[n], abs=1e-6)


def test_local_slope_with_cutoff_is_minus_nu_minus_r_over_rc():
    r = 3e6  # last segment, near the cutoff
    h = 1e-6
    q = lambda x: broken_power_law_rigidity(x, P_INDICES, P_BREAKS_GV, P_CUTOFF_GV)
    slope = (np.log(q(r * np.exp(h))) - np.log(q(r * np.exp(-h)))) / (2 * h)
    assert slope == pytest.approx(-P_INDICES[4] - r / P_CUTOFF_GV, abs=1e-6)


def test_matches_eq3_written_out_in_each_segment():
    norm = 3.7
    nu0, nu1, nu2, nu3, nu4 = P_INDICES
    r1, r2, r3, r4 = P_BREAKS_GV
    rc = P_CUTOFF_GV
    cases = {
        5.0: 5.0 ** -nu0,
        100.0: r1 ** (nu1 - nu0) * 100.0 ** -nu1,
        2000.0: r1 ** (nu1 - nu0) * r2 ** (nu2 - nu1) * 2000.0 ** -nu2,
        5e4: r1 ** (nu1 - nu0) * r2 ** (nu2 - nu1) * r3 ** (nu3 - nu2) * 5e4 ** -nu3,
        1e6: r1 ** (nu1 - nu0) * r2 ** (nu2 - nu1) * r3 ** (nu3 - nu2) * r4 ** (nu4 - nu3) * 1e6 ** -nu4,
    }
    rig = np.array(list(cases))
    expected = norm * np.array(list(cases.values())) * np.exp(-rig / rc)
    got = broken_power_law_rigidity(rig, P_INDICES, P_BREAKS_GV, P_CUTOFF_GV, norm=norm)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_no_breaks_is_a_power_law_and_shape_is_kept():
    rig = np.geomspace(1, 1e4, 12).reshape(3, 4)
    got = broken_power_law_rigidity(rig, [2.7], [], None)
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, rig ** -2.7, rtol=1e-13)


def test_bad_inputs_raise():
    with pytest.raises(ValueError):
        broken_power_law_rigidity(10.0, [2.0, 2.5], [10.0, 20.0])
    with pytest.raises(ValueError):
        broken_power_law_rigidity(10.0, [2.0, 2.5, 2.7], [20.0, 10.0])
    with pytest.raises(ValueError):
        broken_power_law_rigidity(-1.0, [2.0], [])


def test_ecpl():
    e = np.array([1e3, 2e4, 2e6])
    got = ecpl(e, norm=2.0, index=2.4, cutoff_GeV=2e4, reference_GeV=1e3)
    np.testing.assert_allclose(got, 2.0 * (e / 1e3) ** -2.4 * np.exp(-e / 2e4), rtol=1e-13)
    assert ecpl(1e3, 5.0, 2.3) == pytest.approx(5.0)


def test_force_field_check_value_proton():
    # docs/conventions.md#force-field-modulation: p at T = 1 GeV, phi = 0.6 GV -> J_TOA/J_LIS(1.6 GeV) = 0.5171
    assert force_field_factor(1.0, 0.6, PROTON) == pytest.approx(0.5171, abs=5e-5)


def test_force_field_check_value_helium():
    # He at T_n = 1 GeV/n, phi = 0.6 GV: Phi_n = 0.3 GeV/n, factor 0.6963
    assert force_field_factor(1.0, 0.6, HELIUM) == pytest.approx(0.6963, abs=5e-5)


def test_force_field_callable_uses_shifted_energy():
    lis = lambda t: 1e4 * t ** -2.7
    got = force_field_modulate(1.0, lis, 0.6, PROTON)
    assert got == pytest.approx(0.5171 * 1e4 * 1.6 ** -2.7, rel=1e-4)


def test_force_field_tabulated_equals_callable_for_power_law():
    # log-log interpolation is exact for a power law
    ek_table = np.geomspace(0.01, 1e5, 50)
    lis = lambda t: 3.0 * t ** -2.7
    t = np.geomspace(0.1, 1e3, 17)
    for species, phi in [(PROTON, 0.7), (HELIUM, 0.7), (ELECTRON, 1.1)]:
        a = force_field_modulate(t, lis, phi, species)
        b = force_field_modulate(t, (ek_table, lis(ek_table)), phi, species)
        np.testing.assert_allclose(b, a, rtol=1e-10)


def test_force_field_zero_potential_is_identity_and_high_energy_limit():
    t = np.geomspace(0.1, 1e4, 9)
    np.testing.assert_allclose(force_field_factor(t, 0.0, PROTON), 1.0)
    # T >> Phi: factor -> 1
    assert force_field_factor(1e5, 0.7, PROTON) == pytest.approx(1.0, abs=2e-5)


def test_electron_modulation_uses_electron_mass():
    # e-: Phi = phi in GeV, m_n = m_e: factor = T(T+2m)/((T+phi)(T+phi+2m))
    m = 0.51099895e-3
    t, phi = 2.0, 1.1
    assert force_field_factor(t, phi, ELECTRON) == pytest.approx(t * (t + 2 * m) / ((t + phi) * (t + phi + 2 * m)))


def test_tabulated_out_of_range():
    ek_table = np.geomspace(1.0, 100.0, 10)
    with pytest.raises(ValueError, match="outside"):
        force_field_modulate_tabulated(np.array([99.9]), ek_table, ek_table ** -2.0, 0.7, PROTON)
    got = force_field_modulate_tabulated(np.array([200.0]), ek_table, ek_table ** -2.0, 0.7, PROTON,
                                         out_of_range="extrapolate")
    assert got[0] == pytest.approx(200.7 ** -2.0 * force_field_factor(200.0, 0.7, PROTON), rel=1e-10)
    assert np.isnan(loglog_interp([1000.0], ek_table, ek_table, out_of_range="nan")[0])
