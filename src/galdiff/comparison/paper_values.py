"""The paper's published values: ``paper_values.yaml`` beside this module, the one place they are written.

Sections: ``table1`` (propagation, the configuration's names), ``table3`` (electrons and extra
positrons, the fit's names, GV), ``table4`` (origin of the extra components, as printed) and
``headline`` (Galactic neutrino shares of IceCube's total flux); docs/paper.md describes each.
Table II is the configuration's injection start values (:func:`galdiff.tables.paper_values_from_config`).
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

__all__ = ["PAPER_VALUES_PATH", "SECTIONS", "paper_values"]

#: The file of the paper's values (installed with the package).
PAPER_VALUES_PATH = Path(__file__).with_name("paper_values.yaml")
#: Its sections.
SECTIONS = ("table1", "table3", "table4", "headline")


@functools.lru_cache(maxsize=None)
def _read() -> dict:
    content = yaml.safe_load(PAPER_VALUES_PATH.read_text()) or {}
    missing = [name for name in SECTIONS if name not in content]
    if missing:
        raise ValueError(f"{PAPER_VALUES_PATH}: section(s) {missing} missing; expected {list(SECTIONS)}")
    return content


def paper_values(section: str) -> dict:
    """A fresh copy of one section of the paper's values (:data:`SECTIONS`)."""
    if section not in SECTIONS:
        raise KeyError(f"paper values: unknown section {section!r}; sections are {list(SECTIONS)}")
    return copy.deepcopy(_read()[section])
