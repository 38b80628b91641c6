"""The configuration schema and cross-key rules reject bad input with a message naming the key."""

import copy

import pytest

from galdiff.config import ConfigError, validate_config


def test_default_config_is_valid(config, schema_path):
    validate_config(config, schema_path)


def test_default_config_holds_paper_table1(config):
    table1 = config["models"]["dr_high"]["propagation"]
    assert table1 == {
        "D0_1e28_cm2_per_s": 7.69, "delta": 0.362, "zh_kpc": 6.3, "vA_km_per_s": 33.76, "eta": -0.05, "r_max_kpc": 20.0
    }
    # Table II: DR-low differs from DR-high only in nu4 and Rc
    assert config["models"]["dr_low"]["injection"]["proton"]["nu"][4] == 2.32
    assert config["models"]["dr_high"]["injection"]["proton"]["cutoff_GV"] == pytest.approx(12.0e6)


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c["models"]["dr_low"]["propagation"].__setitem__("delta", 1.7), "models.dr_low.propagation.delta"),
        (lambda c: c["models"]["dr_high"]["propagation"].__setitem__("zh_kpc", "six"), "models.dr_high.propagation.zh_kpc"),
        (lambda c: c["regions"]["lhaaso_inner"].__setitem__("b_max_deg", -1), "regions.lhaaso_inner.b_max_deg"),
        (lambda c: c["data"].__setitem__("mirrors", "../shared/data"), "data.mirrors"),
        (lambda c: c["data"].__setitem__("unknown_key", 1), "data"),
    ],
)
def test_schema_rejects_bad_values_naming_the_key(config, schema_path, mutate, key):
    # break the YAML anchor shared between models before mutating one of them
    for model in config["models"].values():
        model["propagation"] = dict(model["propagation"])
    mutate(config)
    with pytest.raises(ConfigError, match=f"config key '{key}'"):
        validate_config(config, schema_path)


def test_index_count_must_match_breaks(config, schema_path):
    config["models"]["dr_high"]["injection"]["proton"]["nu"] = [2.0, 2.4]
    with pytest.raises(ConfigError, match=r"models\.dr_high\.injection\.proton\.nu.*expected 5 indices"):
        validate_config(config, schema_path)


def test_breaks_must_increase(config, schema_path):
    config["models"]["dr_high"]["injection"]["helium"]["breaks_GV"] = [1.99, 650.0, 100.0, 1e5]
    with pytest.raises(ConfigError, match="must increase"):
        validate_config(config, schema_path)


def test_fig3_region_must_exist(config, schema_path):
    config["figures"]["fig3"]["icecube_pi0_region"] = "galactic_centre"
    with pytest.raises(ConfigError, match="figures.fig3.icecube_pi0_region"):
        validate_config(config, schema_path)


# The paper's Tables II and III as printed (Shao, Lin & Yang), in the config's units (GV)
PRINTED_TABLE2 = {
    ("dr_high_paper", "proton"): ([2.06, 2.43, 2.22, 2.52, 2.18], [13.9, 500.0, 15e3, 100e3], 12.0e6),
    ("dr_low_paper", "proton"): ([2.06, 2.43, 2.22, 2.52, 2.32], [13.9, 500.0, 15e3, 100e3], 4.0e6),
    ("dr_high_paper", "helium"): ([1.46, 2.36, 2.12, 2.42, 2.08], [1.99, 650.0, 15e3, 100e3], 6.0e6),
    ("dr_low_paper", "helium"): ([1.46, 2.36, 2.12, 2.42, 2.28], [1.99, 650.0, 15e3, 100e3], 4.0e6),
}


def test_as_printed_models_hold_tables_2_and_3_and_share_their_refits_transport(config, schema_path):
    from galdiff.fitting import injection_mode
    from galdiff.tables import PAPER_TABLE3

    models = config["models"]
    for (model, species), (nu, breaks, cutoff) in PRINTED_TABLE2.items():
        entry = models[model]["injection"][species]
        assert (entry["nu"], entry["breaks_GV"], entry["cutoff_GV"], entry["phi_GV"]) == (nu, breaks, cutoff, 0.7)
    for model in ("dr_high_paper", "dr_low_paper"):
        assert injection_mode(models[model]) == "as_printed"
        refit = models[model]["refit_model"]
        assert injection_mode(models[refit]) == "fit"
        assert models[model]["propagation"] == models[refit]["propagation"]
        electron, positron = (models[model]["injection"][s] for s in ("electron", "positron"))
        printed = PAPER_TABLE3["electron"]
        assert electron["nu"] == [printed[f"nu{i}"] for i in range(4)]
        assert electron["breaks_GV"] == [printed[f"R{i}_GV"] for i in (1, 2, 3)]
        assert (electron["cutoff_GV"], electron["phi_GV"]) == (printed["Rc_GV"], printed["Phi_GV"])
        printed = PAPER_TABLE3["positron"]
        assert positron["nu"] == [printed["nu1"], printed["nu2"]] and positron["breaks_GV"] == [printed["R1_GV"]]
        assert (positron["cutoff_GV"], positron["phi_GV"]) == (printed["Rc_GV"], printed["Phi_GV"])
        assert positron.get("c_eplus", 1.0) == printed["c_eplus"]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda m: m["dr_high_paper"]["injection"].__setitem__("mode", "printed"), "models.dr_high_paper.injection.mode"),
        (lambda m: m["dr_high_paper"].__setitem__("refit_model", "dr_nowhere"), "models.dr_high_paper.refit_model"),
        (lambda m: m["dr_high_paper"].__setitem__("refit_model", "dr_low_paper"), "must have injection.mode 'fit'"),
        (lambda m: m["dr_high_paper"].__setitem__("knee_dataset", "kascade"), "models.dr_high_paper.knee_dataset"),
        (lambda m: m["dr_high"].__setitem__("refit_model", "dr_low"), "models.dr_high.refit_model"),
    ],
)
def test_as_printed_model_checks_name_the_key(config, schema_path, mutate, message):
    config["models"] = copy.deepcopy(config["models"])
    config["models"]["dr_high_paper"]["injection"] = dict(config["models"]["dr_high_paper"]["injection"])
    mutate(config["models"])
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate_config(config, schema_path)
