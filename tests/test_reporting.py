"""Generated numbers: manuscript macros and README blocks (galdiff.reporting), the latexmk guard."""

import importlib.util
import re

import pytest

from galdiff import reporting, tables


def _fit(params, errors=None, chi2=100.0, ndof=50, fixed=()):
    return {"params": params, "errors": errors or {}, "chi2": chi2, "ndof": ndof, "fixed": list(fixed)}


def _summary(models=("dr_high", "dr_low")):
    proton = _fit({"nu0": 2.0612, "nu4": 2.49, "R1_GV": 12.7, "R2_GV": 450.0, "R3_GV": 15000.0, "Rc_GV": 2.26e8,
                   "Phi_GV": 0.53},
                  {"nu0": 0.0041, "nu4": 0.05, "R1_GV": 0.25, "R2_GV": 67.0, "R3_GV": 0.0, "Rc_GV": 1.5e8,
                   "Phi_GV": 0.0046}, chi2=197.0, ndof=117)
    lepton = {"params": {"nu1": 1.71, "Rc_GV": 5.6e4}, "errors": {"nu1": 0.08, "Rc_GV": 7e4}, "chi2": 218.0, "ndof": 200}
    positron = {"params": {"c_eplus": 3.1, "nu2": 1.32}, "errors": {"c_eplus": 0.19, "nu2": 0.15}, "chi2": 218.0,
                "ndof": 200}
    extra = {"components": {"extra1": {"index": 2.4, "cutoff_GeV": 2.0e4, "reference_GeV": 1e3,
                                       "norm_per_GeV_cm3_s_sr": 2.22e-35, "norm_error_per_GeV_cm3_s_sr": 3.2e-36,
                                       "scale": 2.22, "scale_error": 0.32}},
             "chi2": 36.5, "ndof": 14, "p_value": 9.1e-4, "n_points": 15}
    return {
        "galdiff_version": "0.1.0",
        "models": {m: {"fit": {"proton": proton, "electron": lepton, "positron": positron}, "extra": extra}
                   for m in models},
        "masks": {"lhaaso": {"lhaaso_inner": {"masked_fraction": 0.4233, "applied": True},
                             "all_sky": {"masked_fraction": 0.042, "applied": False}}},
        "headline": {"model": "dr_low", "ours": {"share_20TeV": 0.0887, "share_1PeV_extra2_hadronic": 0.0131,
                                                 "share_1PeV_extra2_leptonic": 0.00381},
                     "paper": {"share_20TeV": 0.09, "share_1PeV_extra2_hadronic": 0.01,
                               "share_1PeV_extra2_leptonic": 0.004}},
        "table4": {"leptonic": {c: {"ours": "yes (chi2/ndof = 11/13)", "paper": "yes"} for c in ("p", "nu", "gamma")},
                   "hadronic": {c: {"ours": "pi0 0.90", "paper": "pi0"} for c in ("p", "nu", "gamma")}},
    }


def test_numbers_are_in_the_papers_units_and_rounded_at_the_error():
    numbers = reporting.paper_numbers(_summary())
    assert numbers["fit.dr_high.proton.nu0.pm"] == r"2.061 \pm 0.004"
    assert numbers["fit.dr_high.proton.nu0"] == "2.061"
    assert numbers["fit.dr_high.proton.R2.pm"] == r"0.45 \pm 0.07"  # GV -> TV as in Table II
    assert numbers["fit.dr_high.proton.Rc.pm"] == r"226 \pm 150"  # GV -> PV
    assert numbers["fit.dr_high.proton.R3"] == "15"  # held fixed: no error
    assert numbers["fit.dr_high.electron.Rc"] == "56"  # leptons: Rc in TV
    assert numbers["fit.dr_high.proton.chi2ndof"] == "1.68"
    assert numbers["paper.dr_high.electron.nu1"] == "0.01" and numbers["paper.dr_high.positron.c_eplus"] == "1"
    # rounded at the error like Tables II-III: 0.32 keeps one digit
    assert numbers["extra.dr_high.extra1.norm.pm"] == r"(2.2 \pm 0.3)\times 10^{-35}"
    assert numbers["extra.dr_high.extra1.cutoff_TeV"] == "20"
    assert numbers["extra.dr_high.pvalue"] == r"9.1\times 10^{-4}"
    assert numbers["mask.lhaaso_inner.percent"] == "42"
    assert numbers["headline.ours.share_20TeV.percent"] == "8.9"
    assert numbers["headline.ours.share_1PeV_extra2_leptonic.percent"] == "0.38"
    assert numbers["headline.paper.share_20TeV.percent"] == "9"  # the paper's value, no digits added
    assert numbers["table4.leptonic.gamma.ours"] == r"yes ($\chi^2$/ndof = 11/13)"


def test_every_model_in_the_results_gets_its_numbers():
    numbers = reporting.paper_numbers(_summary(models=("dr_high", "dr_low", "dr_low_paper")))
    assert numbers["models.count"] == "3"
    assert numbers["fit.dr_low_paper.proton.nu4.pm"] == r"2.49 \pm 0.05"
    assert "extra.dr_low_paper.extra1.norm.pm" in numbers


def test_configuration_numbers_and_paper_table2_from_the_config():
    config = {"models": {"dr_high": {"injection": {"proton": {"nu": [2.06, 2.43, 2.22, 2.52, 2.18],
                                                               "breaks_GV": [13.9, 500.0, 1.5e4, 1e5],
                                                               "cutoff_GV": 1.2e7, "phi_GV": 0.7}},
                                     "extra": {"extra1": {"index": 2.4, "cutoff_GeV": 2.0e4}}}},
              "regions": {"lhaaso_inner": {"l_min_deg": 15.0}}, "propagation": {"grid": {"ek_min_GeV": 1e-3}}}
    numbers = reporting.paper_numbers(_summary(("dr_high",)), config=config)
    assert numbers["paper.dr_high.proton.Rc"] == "12" and numbers["paper.dr_high.proton.R2"] == "0.5"
    assert numbers["cfg.regions.lhaaso_inner.l_min_deg"] == "15"
    assert numbers["cfg.models.dr_high.extra.extra1.cutoff_TeV"] == "20"
    assert numbers["cfg.propagation.grid.ek_min_GeV.latex"] == "10^{-3}"


def test_macro_file_defines_each_key_once_and_rejects_bad_keys():
    numbers = reporting.paper_numbers(_summary())
    text = reporting.render_macros(numbers)
    definitions = re.findall(r"\\csname gd@(\S+)\\endcsname\{(.*)\}$", text, flags=re.MULTILINE)
    assert len(definitions) == len(numbers) == len({key for key, _ in definitions})
    assert dict(definitions)["fit.dr_high.proton.nu0.pm"] == r"2.061 \pm 0.004"
    assert text == reporting.render_macros(dict(reversed(list(numbers.items()))))  # sorted: reproducible
    with pytest.raises(ValueError, match="brace"):
        reporting.render_macros({"bad{key": "1"})
    assert reporting.render_macros({"share": "9%"}).rstrip().endswith(r"{9\%}")


def test_readme_blocks_compare_with_the_papers_tolerance():
    config = {"models": {"dr_high": {"injection": {"proton": {"nu": [2.06, 2.43, 2.22, 2.52, 2.18],
                                                               "breaks_GV": [13.9, 500.0, 1.5e4, 1e5],
                                                               "cutoff_GV": 1.2e7, "phi_GV": 0.7}}}}}
    blocks = reporting.readme_blocks(_summary(("dr_high",)), config)
    row = next(line for line in blocks["fits"].splitlines() if line.startswith("| p DR-high"))
    _, _, chi2, within, off, _ = row.split("|")
    assert chi2.strip() == "197/117 = 1.68"
    # nu0 within 0.05, R1 within 20 %, R2 (0.45 vs 0.5 TV) within 20 %; nu4, Rc and Phi off; R3 fixed
    assert "nu0 2.061/2.06" in within and "R1 12.7/13.9 GV" in within and "R2 0.45/0.5 TV" in within
    assert "nu4 2.490/2.18" in off and "Rc 226/12 PV" in off and "Phi 0.53/0.7 GV" in off
    assert "R3" not in within + off
    assert "\\" not in blocks["fits"] + blocks["spectra"]  # Markdown, no LaTeX
    assert "chi2/ndof = 36.5/14 (p = 0.00091)" in blocks["spectra"]
    spectra = reporting.markdown_table_structure(blocks["spectra"])
    assert spectra["header"] == ["", "ours", "paper"] and spectra["n_columns"] == {3}
    assert "Galactic share of IceCube's flux, Model 2 (DR-low), 20 TeV" in spectra["labels"]


def test_generated_blocks_replace_only_the_text_between_their_markers():
    text = ("intro\n<!-- BEGIN GENERATED: fits -->\nold table\n<!-- END GENERATED: fits -->\nkeep\n"
            "<!-- BEGIN GENERATED: spectra -->\n<!-- END GENERATED: spectra -->\n")
    new = reporting.replace_generated_blocks(text, {"fits": "| a |\n|---|\n", "spectra": "x\n"})
    assert new == ("intro\n<!-- BEGIN GENERATED: fits -->\n| a |\n|---|\n<!-- END GENERATED: fits -->\nkeep\n"
                   "<!-- BEGIN GENERATED: spectra -->\nx\n<!-- END GENERATED: spectra -->\n")
    assert reporting.replace_generated_blocks(new, {"fits": "| a |\n|---|\n", "spectra": "x\n"}) == new
    with pytest.raises(ValueError, match="no '<!-- BEGIN GENERATED: other -->'"):
        reporting.replace_generated_blocks(text, {"other": ""})


def test_readme_has_the_generated_blocks(project_root):
    readme = (project_root / "README.md").read_text()
    for name in ("fits", "spectra"):
        structure = reporting.markdown_table_structure(reporting.extract_generated_block(readme, name))
        assert structure["labels"]


def test_paper_table1_is_the_papers_table():
    assert tables.PAPER_TABLE1 == {"D0_1e28_cm2_per_s": 7.69, "delta": 0.362, "zh_kpc": 6.3, "vA_km_per_s": 33.76,
                                   "eta": -0.05}


def test_paper_rule_without_latexmk_stops_with_one_message_naming_the_install(project_root, tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("build_paper", project_root / "workflow" / "scripts" / "build_paper.py")
    build_paper = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_paper)
    monkeypatch.setattr(build_paper.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as stop:
        build_paper.main(project_root / "paper" / "ms.tex", tmp_path / "ms.pdf", tmp_path / "build", tmp_path / "log")
    assert "apt-get install" in str(stop.value) and "latexmk" in str(stop.value)
    assert "texlive-publishers" in str(stop.value)  # revtex4-2, the manuscript's class
    assert not (tmp_path / "ms.pdf").exists()


def test_readme_blocks_label_the_as_printed_twin_and_give_table4_one_row_per_model():
    summary = _summary(("dr_high", "dr_high_paper"))
    summary["table4"] = {"hadronic": {
        "p": {"ours": "Model 1 (DR-high): hadron-less (3.3); Model 1 as printed: hadron-less (2.7)", "paper": "hadron-less"},
        "nu": {"ours": "Model 1 (DR-high): none (pi0 0.76); Model 1 as printed: pi0 (pi0 0.89)", "paper": "pi0"},
    }}
    config = {"models": {"dr_high": {}, "dr_high_paper": {"refit_model": "dr_high"}}}
    blocks = reporting.readme_blocks(summary, config)
    assert any(line.startswith("| p DR-high as printed |") for line in blocks["fits"].splitlines())
    assert any(line.startswith("| DR-high as printed EXTRA1 norms") for line in blocks["spectra"].splitlines())
    rows = [line for line in blocks["spectra"].splitlines() if line.startswith("| Table IV")]
    # each model's own entries side by side, never another model's
    assert rows == ["| Table IV, hadronic, Model 1 (DR-high): p / nu | hadron-less (3.3) / none (pi0 0.76) | hadron-less / pi0 |",
                    "| Table IV, hadronic, Model 1 as printed: p / nu | hadron-less (2.7) / pi0 (pi0 0.89) | hadron-less / pi0 |"]
