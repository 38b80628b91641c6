"""Checks of workflow outputs shared by the end-to-end tests (tiny and reduced configurations)."""

from __future__ import annotations

#: Table II rows: label -> (parameter in summary.json, display scale of the row's unit)
TABLE2_ROWS = {
    "nu0": ("nu0", 1.0), "nu1": ("nu1", 1.0), "nu2": ("nu2", 1.0), "nu3": ("nu3", 1.0), "nu4": ("nu4", 1.0),
    "R1 [GV]": ("R1_GV", 1.0), "R2 [TV]": ("R2_GV", 1e-3), "Rc [PV]": ("Rc_GV", 1e-6), "Phi [GV]": ("Phi_GV", 1.0),
}
#: Table II columns "this work", in order
TABLE2_COLUMNS = (("dr_high", "proton"), ("dr_low", "proton"), ("dr_high", "helium"), ("dr_low", "helium"))


def markdown_rows(text: str) -> dict:
    """``{first cell: [other cells]}`` of a Markdown table."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) > 1 and not set(cells[0]) <= set("-: "):
            rows[cells[0]] = cells[1:]
    return rows


def printed_number(cell: str) -> tuple[float, float]:
    """The value of a ``'2.429 ± 0.002'`` cell and half a unit of its last printed digit."""
    text = cell.split("±")[0].strip()
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10.0**-decimals


def table2_mismatches(table2_md: str, summary: dict) -> list:
    """Cells of Table II's "this work" columns that do not print the fitted value of summary.json.

    The paper's columns sit beside ours, so a table that printed the paper's values (or the
    configured start values) in our columns passes a "contains 2.18" check; this one reads the fit.
    """
    rows = markdown_rows(table2_md)
    bad = []
    for label, (name, scale) in TABLE2_ROWS.items():
        cells = rows[label]
        for index, (model, species) in enumerate(TABLE2_COLUMNS):
            fitted = summary["models"][model]["fit"][species]["params"][name] * scale
            value, half_digit = printed_number(cells[2 * index])
            if abs(value - fitted) > half_digit * (1 + 1e-9) + 1e-12:
                bad.append((label, model, species, cells[2 * index], fitted))
    return bad
