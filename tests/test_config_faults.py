"""Config mistakes a user makes, each caught by validation (before any job) with the key and the allowed values.

Every case here passed validation before and failed late (or ran with a wrong meaning); see the
workflow-level check in tests/test_reproducibility.py that nothing runs.
"""

import copy

import pytest
import yaml

from galdiff.config import ConfigError, validate_config


def test_tiny_and_reduced_configs_are_valid(project_root, config, schema_path):
    def merged(path):
        out = copy.deepcopy(config)

        def merge(base, extra):
            for key, value in extra.items():
                if isinstance(value, dict) and isinstance(base.get(key), dict):
                    merge(base[key], value)
                else:
                    base[key] = value
        merge(out, yaml.safe_load(path.read_text()))
        return out

    for name in ("tiny.yaml", "reduced.yaml"):
        validate_config(merged(project_root / "tests" / "config" / name), schema_path)


FAULTS = [
    # inverted energy ranges (the emission one failed at run time after deleting emissivity.h5)
    (lambda c: c["emission"]["gamma_energy_GeV"].update(min=1.0e7, max=1.0),
     r"config key 'emission\.gamma_energy_GeV': the range must increase"),
    (lambda c: c["figures"]["fig4"].update(energy_range_GeV=[1.0e7, 1.0]),
     r"config key 'figures\.fig4\.energy_range_GeV': the range must increase"),
    (lambda c: c["spectra"]["extra_fit"].update(energy_range_GeV=[1.0e7, 1.0e3]),
     r"config key 'spectra\.extra_fit\.energy_range_GeV': the range must increase"),
    (lambda c: c["propagation"]["grid"]["species"]["electron"].update(ek_min_GeV=1.0e8),
     r"config key 'propagation\.grid\.species\.electron\.ek_min_GeV/ek_max_GeV': the range must increase"),
    (lambda c: c["maps"]["fig6"].update(energy_range_GeV=[1.0e7, 1.0e5]),
     r"config key 'maps\.fig6\.energy_range_GeV'"),
    # a region with l_min > l_max silently became a 250-degree region through l = 0
    (lambda c: c["regions"]["lhaaso_inner"].update(l_min_deg=125.0, l_max_deg=15.0),
     r"config key 'regions\.lhaaso_inner': l_min_deg \(125\.0\) must be below l_max_deg \(15\.0\); a longitude "
     r"range through l = 0 is written with a negative l_min_deg"),
    # a misspelled fixed parameter was found only after the Green's matrices
    (lambda c: c["models"]["dr_low"]["injection"]["proton"].update(fixed=["R3_GV", "R4GV"]),
     r"config key 'models\.dr_low\.injection\.proton\.fixed': unknown parameter\(s\) \['R4GV'\]; the proton "
     r"parameters are \['nu0', .*'R4_GV'"),
    (lambda c: c["models"]["dr_high"]["injection"]["positron"].update(fixed=["c_e+"]),
     r"injection\.positron\.fixed': unknown parameter\(s\) \['c_e\+'\]; the positron parameters are \['c_eplus'"),
    # unknown data-set, component and region names (MissingInputException without the key before)
    (lambda c: c["data"]["datasets"].append("lhaaso_km2a_innr"),
     r"config key 'data\.datasets\[\d+\]': data set 'lhaaso_km2a_innr' is not defined; known data sets .*"
     r"'lhaaso_km2a_inner'"),
    (lambda c: c["figures"]["fig4"]["panels"]["a"].update(datasets=["lhaaso_inner"]),
     r"config key 'figures\.fig4\.panels\.a\.datasets\[0\]': data set 'lhaaso_inner'"),
    (lambda c: c["figures"]["fig3"].update(gamma_datasets=["tibet_region_a"]),
     r"config key 'figures\.fig3\.gamma_datasets\[0\]'"),
    (lambda c: c["spectra"]["extra_fit"]["data"].update(lhaaso_inner=["lhaaso_km2a"]),
     r"config key 'spectra\.extra_fit\.data\.lhaaso_inner\[0\]'"),
    (lambda c: c["propagation"]["normalisation"]["proton"].update(dataset="ams_proton"),
     r"config key 'propagation\.normalisation\.proton\.dataset'"),
    (lambda c: c["maps"]["fig6"].update(component="neutrinos"),
     r"config key 'maps\.fig6\.component': map component 'neutrinos' is not defined; .*'neutrino_diffuse'"),
    (lambda c: c["maps"]["fig6"].update(model="dr_mid"),
     r"config key 'maps\.fig6\.model': model 'dr_mid' is not defined; defined under 'models': \['dr_high', 'dr_high_paper', 'dr_low', 'dr_low_paper'\]"),
    (lambda c: c["figures"]["fig5"].update(region="tibet"),
     r"config key 'figures\.fig5\.region': region 'tibet' is not defined"),
    # 1e9 in YAML 1.1 is a string
    (lambda c: c["propagation"]["grid"].update(ek_max_GeV=yaml.safe_load("x: 1e9")["x"]),
     r"config key 'propagation\.grid\.ek_max_GeV': '1e9' is not of type 'number' \('1e9' was read as a string, "
     r"not a number: YAML 1\.1 needs a decimal point and a signed exponent, e\.g\. 1\.0e\+9\)"),
]


@pytest.mark.parametrize("mutate, message", FAULTS)
def test_config_fault_names_key_and_allowed_values(config, schema_path, mutate, message):
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        validate_config(config, schema_path)


def test_longitude_range_through_zero_is_written_with_a_negative_lower_edge(config, schema_path):
    config["regions"]["galactic_centre"] = {"l_min_deg": -30.0, "l_max_deg": 30.0, "b_max_deg": 5.0,
                                            "lhaaso_mask": False}
    validate_config(config, schema_path)
