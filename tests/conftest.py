"""Shared fixtures: where the raw-data mirror lives, the project root, and the no-skip switch.

``GALDIFF_REQUIRE_DATA=1`` (set by ``.ci/run``) turns every skip into a failure: a missing data
mirror, a missing mirror file, or an optional test dependency that does not import (gammapy,
naima) must not leave a green run with part of the suite unrun. On a developer's machine without
the mirror the data tests still skip cleanly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
