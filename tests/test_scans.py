"""Parameter scans: expansion of a config section into models, Green's-matrix sharing, the scan table.

The end-to-end test runs the injection-only scan of tests/config/scan_tiny.yaml (the DR-high proton
knee cutoff held fixed at three values) on the tiny configuration and checks what must hold for any
correct profile scan: the helium fit does not see the proton cutoff (its chi2 equals DR-high's at
every point), a fit with one parameter held cannot beat the free fit, and the table's sums and
per-data-set chi2 agree with the fit files they come from.
"""

import copy
import subprocess
import sys

import numpy as np
import pytest
import yaml

from galdiff.config import ConfigError, load_schema, validate_config
from galdiff.scans import fixed_name, parse_parameter, scan_models, scan_points
from workflow_helpers import job_counts


def test_parameter_paths_and_fit_names():
    assert parse_parameter("injection.proton.nu[4]") == ["injection", "proton", "nu", 4]
    assert parse_parameter("propagation.delta") == ["propagation", "delta"]
    assert fixed_name("injection.proton.nu[4]") == "nu4"
    assert fixed_name("injection.helium.breaks_GV[2]") == "R3_GV"
    assert fixed_name("injection.proton.cutoff_GV") == "Rc_GV"
    assert fixed_name("injection.electron.phi_GV") == "Phi_GV"
    assert fixed_name("injection.positron.nu[0]") == "nu1"  # Table III's extra positrons start at nu1+
    assert fixed_name("propagation.delta") is None and fixed_name("extra.extra1.index") is None


def test_grid_expands_into_models_with_the_values_set_and_held(config, schema_path):
    config["scans"] = {"dd": {"base": "dr_high", "grid": {"propagation.D0_1e28_cm2_per_s": [5.0, 7.69, 9.0],
                                                          "injection.proton.nu[4]": [2.2, 2.5]}}}
    validate_config(config, schema_path)
    base = copy.deepcopy(config["models"]["dr_high"])
    models = scan_models(config, load_schema(schema_path))
    assert list(models) == [f"dd_{i:03d}" for i in range(6)]
    points = scan_points(config)["dd"]
    assert [p.parameters for p in points][:3] == [
        {"propagation.D0_1e28_cm2_per_s": 5.0, "injection.proton.nu[4]": 2.2},
        {"propagation.D0_1e28_cm2_per_s": 5.0, "injection.proton.nu[4]": 2.5},
        {"propagation.D0_1e28_cm2_per_s": 7.69, "injection.proton.nu[4]": 2.2},
    ]
    last = models["dd_005"]
    assert last["propagation"]["D0_1e28_cm2_per_s"] == 9.0 and last["injection"]["proton"]["nu"][4] == 2.5
    assert last["injection"]["proton"]["fixed"] == ["R3_GV", "R4_GV", "nu4"]
    # everything else is the base model's, and the base model is untouched
    assert last["injection"]["helium"] == base["injection"]["helium"] and last["extra"] == base["extra"]
    assert config["models"]["dr_high"] == base


def test_points_list(config):
    config["scans"] = {"extra": {"base": "dr_low", "points": [{"extra.extra2.origin": "leptonic"},
                                                             {"extra.extra2.index": 2.1, "extra.extra2.cutoff_GeV": 1e6}]}}
    models = scan_models(config)
    assert models["extra_000"]["extra"]["extra2"]["origin"] == "leptonic"
    assert models["extra_001"]["extra"]["extra2"]["index"] == 2.1
    assert models["extra_001"]["extra"]["extra1"] == config["models"]["dr_low"]["extra"]["extra1"]


@pytest.mark.parametrize(
    "scan, message",
    [
        ({"base": "nope", "grid": {"propagation.delta": [0.3]}}, "scans.s.base"),
        ({"base": "dr_high", "grid": {"injection.proton.nu[9]": [2.0]}}, "scans.s.grid.injection.proton.nu[9]"),
        ({"base": "dr_high", "grid": {"extra.extra2.index": [2.0]}}, "scans.s.grid.extra.extra2.index"),
        ({"base": "dr_high", "grid": {"propagation.delta": [0.3, 1.5]}}, "point 1"),
    ],
)
def test_bad_scans_name_the_scan(config, schema_path, scan, message):
    config["scans"] = {"s": scan}
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        scan_models(config, load_schema(schema_path))


@pytest.mark.parametrize(
    "scan, key",
    [
        ({"base": "dr_high", "grid": {"propagation.D0": [1.0]}}, "scans.s.grid"),
        ({"base": "dr_high"}, "scans.s"),
        ({"base": "dr_high", "grid": {"propagation.delta": []}}, "scans.s.grid.propagation.delta"),
        ({"base": "dr_high", "through": "maps", "grid": {"propagation.delta": [0.3]}}, "scans.s.through"),
    ],
)
def test_schema_rejects_malformed_scans(config, schema_path, scan, key):
    config["scans"] = {"s": scan}
    with pytest.raises(ConfigError, match=f"config key '{key}'"):
        validate_config(config, schema_path)


def test_scan_model_name_must_be_free(config):
    config["models"]["s_000"] = copy.deepcopy(config["models"]["dr_high"])
    config["scans"] = {"s": {"base": "dr_high", "grid": {"propagation.delta": [0.3]}}}
    with pytest.raises(ConfigError, match="s_000"):
        scan_models(config)


# ------------------------------------------------------------------------------------------------
# workflow
# ------------------------------------------------------------------------------------------------
def run_snakemake(project_root, workdir, configfiles, *args, timeout=900):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(project_root / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", *args, "--configfile", *map(str, configfiles)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)



@pytest.fixture()
def tiny_configs(project_root, mirror_dir, tmp_path):
    tiny = yaml.safe_load((project_root / "tests" / "config" / "tiny.yaml").read_text())
    tiny["data"]["mirrors"] = [str(mirror_dir)]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny))
    return [path, project_root / "tests" / "config" / "scan_tiny.yaml"]


@pytest.mark.workflow
def test_scans_share_greens_by_transport_and_stay_out_of_the_paper_outputs(project_root, tiny_configs, tmp_path):
    work = tmp_path / "work"
    # injection only: the base model's three Green's matrices serve every point
    counts = job_counts(run_snakemake(project_root, work, tiny_configs, "-n", "results/scans/knee.ecsv").stdout)
    assert counts["greens"] == 3 and counts["fit_injection"] == 3 * 3 and counts["region_spectra"] == 3
    # 2 x 2 transport points, one of them DR-high's own: 4 set-ups x 3 species, fits only
    counts = job_counts(run_snakemake(project_root, work, tiny_configs, "-n", "results/scans/transport.ecsv").stdout)
    assert counts["greens"] == 4 * 3 and counts["fit_injection"] == 4 * 3 and "region_spectra" not in counts
    counts = job_counts(run_snakemake(project_root, work, tiny_configs, "-n", "results/scans/transport.ecsv",
                                      "results/fit/dr_high/injection.yaml").stdout)
    assert counts["greens"] == 4 * 3
    # Tables II-III are the configured models' only (the refits and their as-printed twins)
    with open(project_root / "config.yaml") as handle:
        configured = yaml.safe_load(handle)["models"]
    counts = job_counts(run_snakemake(project_root, work, tiny_configs, "-n", "results/table2.md").stdout)
    assert counts["fit_injection"] == len(configured) * 3


@pytest.mark.workflow
def test_knee_scan_table_and_figure(project_root, tiny_configs, tmp_path):
    from astropy.table import Table

    work = tmp_path / "work"
    result = run_snakemake(project_root, work, tiny_configs, "results/scans/knee.ecsv", "results/scans/knee.pdf",
                           "results/fit/dr_high/injection.yaml")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    table = Table.read(work / "results" / "scans" / "knee.ecsv", format="ascii.ecsv")
    assert list(table["injection.proton.cutoff_GV"]) == [3.0e6, 1.2e7, 5.0e7]
    assert table.meta["paper_point"] == {"injection.proton.cutoff_GV": 1.2e7}
    assert len(set(table["greens_key"])) == 1
    free = yaml.safe_load((work / "results" / "fit" / "dr_high" / "injection.yaml").read_text())["fits"]
    # helium does not see the proton knee: the same fit as DR-high's at every point
    np.testing.assert_array_equal(table["chi2_helium"], free["helium"]["chi2"])
    # holding Rc fixed cannot beat the free fit (up to MIGRAD's tolerance, EDM ~ 1e-3)
    assert np.all(table["chi2_proton"] >= free["proton"]["chi2"] - 2e-3)
    # the sums and the per-data-set chi2 agree with the fits they come from
    for fit in ("proton", "helium", "leptons"):
        per_dataset = [name for name in table.colnames if name.startswith(f"chi2_{fit}_")]
        assert per_dataset
        np.testing.assert_allclose(sum(table[name] for name in per_dataset), table[f"chi2_{fit}"], rtol=1e-10)
    np.testing.assert_allclose(table["chi2_cr"], table["chi2_proton"] + table["chi2_helium"] + table["chi2_leptons"])
    extra_datasets = [name for name in table.colnames if name.startswith("chi2_extra_")]
    assert extra_datasets
    np.testing.assert_allclose(sum(table[name] for name in extra_datasets), table["chi2_extra"], rtol=1e-10)
    for model, chi2 in zip(table["model"], table["chi2_extra"]):
        extra = yaml.safe_load((work / "results" / "spectra" / model / "extra_fit.yaml").read_text())
        assert extra["chi2"] == chi2
    assert np.all(table["share_20TeV"] > 0) and np.all(np.isfinite(table["p_value_extra"]))
    pdf = (work / "results" / "scans" / "knee.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
