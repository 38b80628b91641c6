"""Shared fixtures: where the raw-data mirror lives, and the project root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def default_mirror_dir() -> Path:
    """The local data mirror: $GALDIFF_MIRROR, else ../shared/data beside the project."""
    return Path(os.environ.get("GALDIFF_MIRROR", PROJECT_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def mirror_dir() -> Path:
    """Folder holding the raw measurement files; tests that need it skip cleanly without it."""
    path = default_mirror_dir()
    if not path.is_dir():
        pytest.skip(f"raw-data mirror not found at {path} (set GALDIFF_MIRROR)")
    return path
