"""The configuration schema and cross-key rules reject bad input with a message naming the key."""

import copy

import pytest
import yaml

from galdiff.config import ConfigError, validate_config


@pytest.fixture(scope="module")
def schema_path(project_root):
    return project_root / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture()
def config(project_root):
    with open(project_root / "config.yaml") as handle:
        return copy.deepcopy(yaml.safe_load(handle))


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
    config["models"]["dr_low"]["propagation"] = dict(config["models"]["dr_low"]["propagation"])
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
