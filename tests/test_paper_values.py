"""The paper's published values (galdiff/comparison/paper_values.yaml) agree with the paper as
docs/paper.md transcribes it, and every module reads them from that one file."""

import re
from pathlib import Path

import pytest

from galdiff import tables
from galdiff.comparison import paper_values as pv
from galdiff.comparison import table4

PAPER_MD = (Path(__file__).resolve().parents[1] / "docs" / "paper.md").read_text()


def section(title: str) -> str:
    start = PAPER_MD.index(title)
    return PAPER_MD[start:PAPER_MD.index("\n#", start + 1)]


def test_table1_is_the_row_of_docs_paper_md():
    row = [line for line in section("### Table I").splitlines() if line.startswith("| 7")][0]
    values = [float(cell) for cell in row.strip("|").split("|")]
    assert list(pv.paper_values("table1").values()) == values


def test_table3_numbers_are_those_of_docs_paper_md():
    text = section("### Tables II and III")
    table3 = pv.paper_values("table3")
    electron, positron = table3["electron"], table3["positron"]
    quoted = {  # docs/paper.md's names -> ours; Rc in TV there
        r"nu0- = ([\d.]+)": electron["nu0"], r"nu1- = ([\d.]+)": electron["nu1"], r"nu2- = ([\d.]+)": electron["nu2"],
        r"nu3- = ([\d.]+)": electron["nu3"], r"R1- = ([\d.]+) GV": electron["R1_GV"],
        r"R2- = ([\d.]+) GV": electron["R2_GV"], r"R3- = ([\d.]+) GV": electron["R3_GV"],
        r"Rc- = ([\d.]+) TV": electron["Rc_GV"] / 1e3, r"Phi- = ([\d.]+) GV": electron["Phi_GV"],
        r"c_e\+ = ([\d.]+)": positron["c_eplus"], r"nu1\+ = ([\d.]+)": positron["nu1"],
        r"nu2\+ = ([\d.]+)": positron["nu2"], r"R1\+ = ([\d.]+) GV": positron["R1_GV"],
        r"Rc\+ = ([\d.]+) TV": positron["Rc_GV"] / 1e3, r"Phi\+ = ([\d.]+) GV": positron["Phi_GV"],
    }
    for pattern, value in quoted.items():
        assert float(re.search(pattern, text).group(1)) == pytest.approx(value, rel=1e-12), pattern


def test_headline_and_table4_are_those_of_docs_paper_md():
    text = section("## Headline results")
    headline = pv.paper_values("headline")
    assert f"about {100 * headline['share_20TeV']:g} % of IceCube's total astrophysical flux at 20 TeV" in text
    assert f"about {100 * headline['share_1PeV_extra2_hadronic']:g} % if EXTRA2 is hadronic" in text
    assert f"about {100 * headline['share_1PeV_extra2_leptonic']:g} % otherwise" in text
    text = section("### Table IV")
    rows = pv.paper_values("table4")
    assert rows["leptonic"]["nu"] in text and rows["hadronic"]["p"] in text and "pi0 template" in text
    assert {row["gamma"] for row in rows.values()} == {"yes"}  # both consistent with the gamma-ray data


def test_modules_read_the_one_file():
    assert tables.PAPER_TABLE1 == pv.paper_values("table1") and tables.PAPER_TABLE3 == pv.paper_values("table3")
    assert table4.PAPER_HEADLINE == pv.paper_values("headline") and table4.PAPER_TABLE4 == pv.paper_values("table4")
    # each call is a copy: a caller cannot change the paper
    pv.paper_values("headline")["share_20TeV"] = 1.0
    assert pv.paper_values("headline")["share_20TeV"] == 0.09
    with pytest.raises(KeyError, match="sections are"):
        pv.paper_values("table9")
