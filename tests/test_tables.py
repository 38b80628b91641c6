"""Tables I-III: the rendered numbers, parsed back, are the inputs in the paper's units."""

from __future__ import annotations

import re

import pytest

from galdiff import tables

# fit results in the summary.json format (GV everywhere), made-up numbers with known rounding
FITS = {
    "dr_high": {
        "proton": {"params": {"nu0": 2.0612, "nu1": 2.4287, "nu2": 2.2213, "nu3": 2.5204, "nu4": 2.1799,
                              "R1_GV": 13.87, "R2_GV": 512.3, "R3_GV": 15234.0, "R4_GV": 1.0e5, "Rc_GV": 1.234e7,
                              "Phi_GV": 0.7012, "norm_E2p7_GeV1p7_per_cm2_s_sr": 1.12},
                   "errors": {"nu0": 0.0123, "nu1": 0.0049, "nu2": 0.0081, "nu3": 0.031, "nu4": 0.052,
                              "R1_GV": 0.66, "R2_GV": 31.7, "R3_GV": 1890.0, "R4_GV": 0.0, "Rc_GV": 2.1e6,
                              "Phi_GV": 0.0152, "norm_E2p7_GeV1p7_per_cm2_s_sr": 0.002},
                   "chi2": 123.45, "ndof": 110},
    },
    "dr_low": {
        "helium": {"params": {"nu0": 1.46, "nu1": 2.36, "nu2": 2.12, "nu3": 2.42, "nu4": 2.28, "R1_GV": 1.99,
                              "R2_GV": 650.0, "R3_GV": 1.5e4, "R4_GV": 1e5, "Rc_GV": 4e6, "Phi_GV": 0.7},
                   "errors": {"nu0": 0.05, "nu1": 0.01, "nu2": 0.02, "nu3": 0.03, "nu4": 0.04, "R1_GV": 0.1,
                              "R2_GV": 50.0, "R3_GV": 2e3, "R4_GV": 1e4, "Rc_GV": 1e6, "Phi_GV": 0.02},
                   "chi2": 80.0, "ndof": 90},
    },
}
CONFIG = {"models": {
    "dr_high": {"propagation": {"D0_1e28_cm2_per_s": 7.69, "delta": 0.362, "zh_kpc": 6.3, "vA_km_per_s": 33.76,
                                "eta": -0.05},
                "injection": {"proton": {"nu": [2.06, 2.43, 2.22, 2.52, 2.18], "breaks_GV": [13.9, 500.0, 15000.0, 1e5],
                                         "cutoff_GV": 1.2e7, "phi_GV": 0.7}}},
    "dr_low": {"propagation": {"D0_1e28_cm2_per_s": 7.69, "delta": 0.362, "zh_kpc": 6.3, "vA_km_per_s": 33.76,
                               "eta": -0.05},
               "injection": {"helium": {"nu": [1.46, 2.36, 2.12, 2.42, 2.28], "breaks_GV": [1.99, 650.0, 15000.0, 1e5],
                                        "cutoff_GV": 4.0e6, "phi_GV": 0.7}}},
}}


def parse_markdown(text):
    """Markdown table -> (header, {first cell: list of cells})."""
    lines = [line for line in text.strip().splitlines() if line.startswith("|")]
    split = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, rows = split[0], split[2:]
    return header, {row[0]: row[1:] for row in rows}


def number_and_error(cell):
    match = re.fullmatch(r"(-?[\d.]+)(?: ± ([\d.]+))?", cell)
    assert match, cell
    return float(match.group(1)), None if match.group(2) is None else float(match.group(2))


@pytest.mark.parametrize("value, error, scale, expected", [
    (2.4287, 0.0049, 1.0, "2.429 ± 0.005"),
    (2.0612, 0.0123, 1.0, "2.061 ± 0.012"),   # leading 1: two digits
    (512.3, 31.7, 1e-3, "0.51 ± 0.03"),       # GV -> TV
    (1.234e7, 2.1e6, 1e-6, "12 ± 2"),         # GV -> PV
    (13.87, 0.66, 1.0, "13.9 ± 0.7"),
    (1e5, 0.0, 1e-3, "100"),                  # fixed: no error, up to 4 significant digits
    (0.95, None, 1.0, "0.95"),
    (33.76, None, 1.0, "33.76"),
])
def test_format_value_error(value, error, scale, expected):
    assert tables.format_value_error(value, error, scale) == expected


def test_format_latex_and_missing():
    assert tables.format_value_error(2.4287, 0.0049, latex=True) == r"$2.429 \pm 0.005$"
    assert tables.format_value_error(None) == "--"


def test_table2_numbers_parse_back():
    paper = tables.paper_values_from_config(CONFIG)
    rendered = tables.table2(FITS, paper)
    header, rows = parse_markdown(rendered.markdown)
    column = {name: i for i, name in enumerate(header[1:])}
    p_high = column["p DR-high (IceTop) this work"]
    assert number_and_error(rows["R2 [TV]"][p_high]) == (0.51, 0.03)
    assert number_and_error(rows["Rc [PV]"][p_high]) == (12.0, 2.0)
    assert number_and_error(rows["nu1"][p_high]) == (2.429, 0.005)
    assert rows["R4 [TV]"][p_high] == "100"  # fixed in the fit: error 0 -> printed without
    assert rows["chi2/ndof"][p_high] == "123.5/110"
    # the paper's values, beside ours, in the paper's units
    assert float(rows["R2 [TV]"][column["p DR-high paper"]]) == pytest.approx(0.5)
    assert float(rows["Rc [PV]"][column["p DR-high paper"]]) == pytest.approx(12.0)
    assert float(rows["nu4"][column["He DR-low paper"]]) == pytest.approx(2.28)
    assert float(rows["Rc [PV]"][column["He DR-low paper"]]) == pytest.approx(4.0)
    he_low = column["He DR-low (KASCADE) this work"]
    assert number_and_error(rows["R1 [GV]"][he_low]) == (1.99, 0.10)
    # absent fits print as missing
    assert rows["nu0"][column["He DR-high (IceTop) this work"]] == "--"
    # every row of the paper's Table II is present
    assert set(rows) == {"nu0", "nu1", "nu2", "nu3", "nu4", "R1 [GV]", "R2 [TV]", "R3 [TV]", "R4 [TV]", "Rc [PV]",
                         "Phi [GV]", "chi2/ndof"}


def test_table2_latex_is_booktabs():
    latex = tables.table2(FITS, tables.paper_values_from_config(CONFIG)).latex
    for token in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}{l" + "c" * 8 + "}"):
        assert token in latex
    assert r"$0.51 \pm 0.03$" in latex
    body = latex.split(r"\midrule")[1].split(r"\bottomrule")[0].strip().splitlines()
    assert len(body) == 12 and all(line.count("&") == 8 for line in body)


def test_table3_paper_values_and_fits():
    fits = {"dr_low": {"electron": {"params": {"nu0": 2.3, "Rc_GV": 6270.0}, "errors": {"nu0": 0.1, "Rc_GV": 500.0},
                                    "chi2": 50.0, "ndof": 60},
                       "positron": {"params": {"c_eplus": 0.9, "nu1": 3.0}, "errors": {"c_eplus": 0.2, "nu1": 0.1}}}}
    header, rows = parse_markdown(tables.table3(fits).markdown)
    assert header == ["Parameter", "DR-high this work", "DR-low this work", "paper"]
    # Table III of the paper (docs/paper.md)
    expected_paper = {"nu0-": 2.33, "nu1-": 0.01, "nu2-": 2.88, "nu3-": 2.45, "R1- [GV]": 0.95, "R2- [GV]": 4.19,
                      "R3- [GV]": 55.7, "Rc- [TV]": 6.27, "Phi- [GV]": 1.1, "c_e+": 1.0, "nu1+": 3.04, "nu2+": 2.08,
                      "R1+ [GV]": 31.2, "Rc+ [TV]": 3.42, "Phi+ [GV]": 1.1}
    for label, value in expected_paper.items():
        assert float(rows[label][2]) == pytest.approx(value), label
    assert number_and_error(rows["Rc- [TV]"][1]) == (6.3, 0.5)
    assert number_and_error(rows["c_e+"][1]) == (0.9, 0.2)
    assert rows["nu2+"][1] == "--" and rows["nu0-"][0] == "--"
    assert rows["chi2/ndof"][1] == "50.0/60"


def test_table1_rows_and_write(tmp_path):
    propagation = {m: CONFIG["models"][m]["propagation"] for m in CONFIG["models"]}
    paper = {"D0_1e28_cm2_per_s": 7.69, "delta": 0.362, "zh_kpc": 6.3, "vA_km_per_s": 33.76, "eta": -0.05}
    rendered = tables.table1(propagation, paper)
    header, rows = parse_markdown(rendered.markdown)
    assert header[1:] == ["D0 [1e28 cm^2/s]", "delta", "zh [kpc]", "vA [km/s]", "eta"]
    assert set(rows) == {"DR-high", "DR-low", "paper"}
    assert [float(c) for c in rows["DR-low"]] == pytest.approx([7.69, 0.362, 6.3, 33.76, -0.05])
    tex, md = tables.write_table(rendered, tmp_path / "out" / "table1")
    assert tex.read_text() == rendered.latex and md.read_text() == rendered.markdown
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["table1.md", "table1.tex"]


def test_chi2_of_the_printed_parameters_stands_beside_the_refit():
    refit = {"dr_high": {"proton": {"params": {"nu0": 2.07}, "errors": {"nu0": 0.01}, "chi2": 197.0, "ndof": 117,
                                    "chi2_by_dataset": {"ams02_proton": 40.0, "icetop_proton": 5.5}}}}
    printed = {"dr_high": {"proton": {"params": {"nu0": 2.06}, "errors": {"nu0": 0.0}, "chi2": 900.0, "ndof": 126,
                                      "chi2_by_dataset": {"ams02_proton": 700.0, "icetop_proton": 31.25}}}}
    header, rows = parse_markdown(tables.table2(refit, models=("dr_high",), species=("proton",),
                                                printed_fits=printed).markdown)
    this_work, paper = header[1:].index("p DR-high (IceTop) this work"), header[1:].index("p DR-high paper")
    assert rows["chi2/ndof"][this_work] == "197.0/117" and rows["chi2/ndof"][paper] == "900.0/126"
    assert rows["chi2 icetop_proton"][this_work] == "5.5" and rows["chi2 icetop_proton"][paper] == "31.2"
    assert rows["chi2 ams02_proton"][paper] == "700.0"
    leptons = {"electron": {"params": {"nu0": 2.3}, "errors": {"nu0": 0.1}, "chi2": 218.0, "ndof": 200,
                            "chi2_by_dataset": {"dampe_electron_positron": 20.0}}}
    printed_leptons = {"electron": {"params": {"nu0": 2.33}, "errors": {"nu0": 0.0}, "chi2": 600.0, "ndof": 205,
                                    "chi2_by_dataset": {"dampe_electron_positron": 80.0}}}
    header, rows = parse_markdown(tables.table3({"dr_high": leptons}, models=("dr_high",),
                                                printed_fits={"dr_high": printed_leptons}).markdown)
    assert header == ["Parameter", "DR-high this work", "DR-high as printed", "paper"]
    assert rows["nu0-"][1] == "2.33" and rows["chi2/ndof"][:2] == ["218.0/200", "600.0/205"]
    assert rows["chi2 dampe_electron_positron"][:2] == ["20.0", "80.0"]
