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


def test_extra_components_and_model_labels_come_from_the_registry():
    """The extras' cubes and the models' display names are written once (galdiff.conventions)."""
    from galdiff import conventions, tables
    from galdiff.comparison import table4

    assert conventions.EXTRA_COMPONENTS == ("extra1", "extra2", "extra1_neutrino", "extra2_neutrino")
    assert {conventions.map_component(name).extra for name in conventions.EXTRA_COMPONENTS} == {"extra1", "extra2"}
    # every extra cube is a term of its messenger's total, linear in its norm
    assert all(conventions.map_component(name).sums_into for name in conventions.EXTRA_COMPONENTS)
    rules = "\n".join(path.read_text() for path in (SRC.parents[1] / "rules").glob("*.smk"))
    assert '"extra1_neutrino"' not in rules
    # the paper's names (docs/paper.md#model-chain): DR-high = Model 1, DR-low = Model 2, and their printed twins
    printed_of = {"dr_high_paper": "dr_high", "dr_low_paper": "dr_low"}
    label = conventions.model_label
    assert [label(m, printed_of) for m in ("dr_high", "dr_low", "dr_high_paper")] == [
        "DR-high", "DR-low", "DR-high as printed"]
    assert label("dr_low", printed_of, mark_refit=True) == "DR-low refit"
    assert label("dr_low", {}, mark_refit=True) == "DR-low"  # no twin drawn beside it
    assert [label(m, printed_of, numbered=True) for m in ("dr_high", "dr_low_paper", "scan_000")] == [
        "Model 1 (DR-high)", "Model 2 as printed", "scan_000"]
    assert conventions.as_printed_of({"dr_high": {}, "dr_high_paper": {"refit_model": "dr_high"}}) == {
        "dr_high_paper": "dr_high"}
    assert tables.MODEL_LABELS is conventions.MODEL_NAMES
    # no module spells a model's display name itself
    names = set(conventions.MODEL_NAMES.values()) | set(conventions.PAPER_MODEL_NUMBERS.values())
    spelled = [str(path.relative_to(SRC)) for path in SRC.rglob("*.py") if path.name != "conventions.py"
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and isinstance(node.value, str)
               and (node.value in names or node.value.startswith(tuple(f"{n} (" for n in names)))]
    assert not spelled, spelled
    assert table4.model_label is conventions.model_label
