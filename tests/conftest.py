"""Shared fixtures: where the raw-data mirror lives, the project root, and the no-skip switch.

``GALDIFF_REQUIRE_DATA=1`` (set by ``.ci/run``) turns every skip into a failure: a missing data
mirror, a missing mirror file, or an optional test dependency that does not import (gammapy,
naima) must not leave a green run with part of the suite unrun. On a developer's machine without
the mirror the data tests still skip cleanly.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REQUIRE_DATA_ENV = "GALDIFF_REQUIRE_DATA"


def data_required() -> bool:
    """Whether skips are forbidden (CI): ``GALDIFF_REQUIRE_DATA`` set to anything but '', '0', 'false'."""
    return os.environ.get(REQUIRE_DATA_ENV, "").strip().lower() not in ("", "0", "false", "no")


def default_mirror_dir() -> Path:
    """The local data mirror: $GALDIFF_MIRROR, else ../shared/data beside the project."""
    return Path(os.environ.get("GALDIFF_MIRROR", PROJECT_ROOT.parent / "shared" / "data"))


def skip_or_fail(reason: str):
    """Skip the test, or fail it when ``GALDIFF_REQUIRE_DATA`` is set."""
    if data_required():
        pytest.fail(f"{reason} ({REQUIRE_DATA_ENV} is set: nothing may be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """Folder holding the raw measurement files; without it tests skip (fail under GALDIFF_REQUIRE_DATA)."""
    path = default_mirror_dir()
    if not path.is_dir():
        skip_or_fail(f"raw-data mirror not found at {path} (set GALDIFF_MIRROR)")
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under GALDIFF_REQUIRE_DATA a skip from anywhere (importorskip, a skip inside a test) is a failure."""
    outcome = yield
    report = outcome.get_result()
    if data_required() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under {REQUIRE_DATA_ENV}=1, which forbids skips: {reason}"


REDUCED_RESULTS_ENV = "GALDIFF_REDUCED_RESULTS"


@pytest.fixture(scope="session")
def reduced_results(project_root, mirror_dir, tmp_path_factory) -> Path:
    """``results/`` of the reduced configuration (tests/config/reduced.yaml), built once per session.

    ``GALDIFF_REDUCED_RESULTS=/path`` reuses an existing run (its ``results/`` folder or the work
    directory holding it) instead of building one: ``snakemake --cores 2 all --configfile
    tests/config/reduced.yaml`` takes 3-9 min on 2 cores.
    """
    import subprocess
    import sys

    import yaml

    given = os.environ.get(REDUCED_RESULTS_ENV)
    if given:
        path = Path(given)
        path = path / "results" if (path / "results").is_dir() else path
        if not (path / "summary.json").is_file():
            pytest.fail(f"{REDUCED_RESULTS_ENV}={given}: no summary.json in {path} (not a finished reduced run)",
                        pytrace=False)
        return path
    with open(project_root / "tests" / "config" / "reduced.yaml") as handle:
        config = yaml.safe_load(handle)
    config.setdefault("data", {})["mirrors"] = [str(mirror_dir)]
    base = tmp_path_factory.mktemp("reduced")
    config_path = base / "reduced.yaml"
    config_path.write_text(yaml.safe_dump(config))
    workdir = base / "work"
    cores = os.environ.get("GALDIFF_TEST_CORES", "2")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(project_root / "Snakefile"), "--directory",
           str(workdir), "--cores", cores, "all", "--configfile", str(config_path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        pytest.fail(f"reduced workflow failed (rc {result.returncode}):\n{(result.stdout + result.stderr)[-4000:]}",
                    pytrace=False)
    return workdir / "results"


@pytest.fixture(scope="session")
def schema_path(project_root) -> Path:
    """The JSON schema of config.yaml."""
    return project_root / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture()
def config(project_root) -> dict:
    """A fresh copy of the project's default configuration (tests may edit it)."""
    with open(project_root / "config.yaml") as handle:
        return copy.deepcopy(yaml.safe_load(handle))
