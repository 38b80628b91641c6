"""The package reads as the data flows: no stage imports a later one, and the names every stage
shares come from one registry (galdiff.conventions)."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "galdiff"
# each stage, and the later stages it must not import (the chain of docs/architecture.md)
LATER = {
    "data": ["propagation", "fitting", "emission", "skymaps", "comparison", "plotting"],
    "galaxy": ["propagation", "fitting", "emission", "skymaps", "comparison", "plotting"],
    "propagation": ["fitting", "emission", "skymaps", "comparison", "plotting"],
    "interactions": ["emission", "skymaps", "comparison", "plotting"],
}


def imported_galdiff_modules(path: Path) -> set[str]:
    """Absolute names of the galdiff modules a file imports (relative imports resolved)."""
    package = ["galdiff", *path.relative_to(SRC).parent.parts]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name.startswith("galdiff")}


@pytest.mark.parametrize("stage", sorted(LATER))
def test_no_stage_imports_a_later_one(stage):
    offending = []
    for path in sorted((SRC / stage).rglob("*.py")):
        for name in imported_galdiff_modules(path):
            parts = name.split(".")
            if len(parts) > 1 and parts[1] in LATER[stage]:
                offending.append(f"{path.relative_to(SRC)} imports {name}")
    assert not offending, offending


def test_map_components_come_from_the_registry():
    """Maps, region spectra and the rules use galdiff.conventions' list (one constant, one place)."""
    from galdiff import conventions
    from galdiff.skymaps import region_spectra

    assert region_spectra.SPECTRUM_COMPONENTS is conventions.MAP_COMPONENTS
    assert conventions.GAMMA_COMPONENTS + conventions.NEUTRINO_COMPONENTS == conventions.MAP_COMPONENTS
    totals = {c.sums_into for c in conventions.MAP_COMPONENT_REGISTRY if c.sums_into}
    assert totals == {"gamma_total", "neutrino_total"} and totals <= set(conventions.MAP_COMPONENTS)
    rules = (SRC.parents[1] / "rules").glob("*.smk")
    assert not [path.name for path in rules if '"neutrino_mu"' in path.read_text()]
