"""Checks of workflow outputs shared by the end-to-end tests (tiny and reduced configurations)."""

from __future__ import annotations

# chi2/ndof bounds of the injection fits. With AMS-02's 1-3 % (systematics-dominated) errors and
# DAMPE's, a model that follows the data has chi2/ndof ~ 1. What Eq. 3 cannot follow is documented
# with its reason (README, Fits): protons carry Voyager 1's shape residual, 96 for its 19 points,
# so (96 + ~100 for the other ~98 dof) / 117 = 1.7; helium's Voyager + AMS-02 shape needs a fifth
# break (24/106 with it), leaving ~2.35 with four; the e+ + e- sum, e- and e+ are smooth above
# 10 GeV and have no such residual (~1.1). Each bound is that expectation plus 0.5 for the
# reduced grid's coarseness. A dropped loss term, a units error in a data reader or the tiny grid's
# lepton fit (7403/200) are far above them.
CHI2_PER_NDOF_MAX = {"proton": 1.7 + 0.5, "helium": 2.35 + 0.5, "electron": 1.1 + 0.5}


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
