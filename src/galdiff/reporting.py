"""Numbers for the documents: LaTeX macros for the manuscript and Markdown blocks for the README.

Every number the manuscript (``paper/ms.tex``) or the README prints is generated here from the
workflow's results (``results/summary.json``, the fit files, ``results/table4.json``) and the
configuration, never typed: the idea of showyourwork (Luger et al. 2021), where a document's
numbers are variables written by the pipeline.

* :func:`paper_numbers` flattens the results into ``{key: LaTeX text}``; :func:`render_macros`
  writes them as ``\\newcommand`` definitions read by ``\\gd{key}`` in the manuscript. Keys are
  dotted paths (``fit.dr_low.proton.nu0``, ``extra.dr_high.extra1.norm.pm``,
  ``headline.ours.share_20TeV.percent``); every model, species, region and component found in the
  results gets its keys, so extra models need no code change.
* :func:`readme_blocks` renders the README's results tables; :func:`replace_generated_blocks`
  puts them between the ``<!-- BEGIN GENERATED: name -->`` / ``<!-- END GENERATED: name -->``
  markers of README.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from . import tables
from .conventions import as_printed_of, model_label
from .comparison.table4 import _tex as _table4_tex

__all__ = [
    "MACRO_PREFIX",
    "format_scientific_latex",
    "paper_numbers",
    "render_macros",
    "readme_blocks",
    "extract_generated_block",
    "replace_generated_blocks",
    "markdown_table_structure",
]

#: csname prefix of the generated macros (``\gd@<key>``); ``\gd{<key>}`` in the manuscript reads them.
MACRO_PREFIX = "gd@"

# Parameter rows (name, unit factor from GV, unit label) per fitted species, as in Tables II-III.
_ROWS = {
    "proton": tables._TABLE2_ROWS,
    "helium": tables._TABLE2_ROWS,
    "electron": tables._ELECTRON_ROWS,
    "positron": tables._POSITRON_ROWS,
}
_NUCLEI = ("proton", "helium")
_LEPTONS = ("electron", "positron")
# README labels: parameter names without units, and the unit of the paper's tables
_README_UNIT = {"R1_GV": "GV", "R2_GV": "TV", "R3_GV": "TV", "R4_GV": "TV", "Rc_GV": "PV", "Phi_GV": "GV"}
_README_LEPTON_UNIT = {"R1_GV": "GV", "R2_GV": "GV", "R3_GV": "GV", "Rc_GV": "TV", "Phi_GV": "GV"}
#: The README's tolerance for "within the paper's value": indices (nu*) 0.05 absolute, the rest 20 %.
README_INDEX_TOLERANCE = 0.05
README_RELATIVE_TOLERANCE = 0.20


# ---------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------


def _general(value: float, digits: int = 3) -> str:
    """``digits`` significant digits without an exponent for 1e-3 <= |value| < 1e5, else LaTeX powers."""
    value = float(value)
    if value == 0.0 or not math.isfinite(value):
        return "0" if value == 0.0 else "--"
    if 1e-3 <= abs(value) < 1e5:
        text = f"{value:.{digits}g}"
        return text if "e" not in text else f"{value:.0f}"
    return format_scientific_latex(value, digits=digits)


def format_scientific_latex(value: float, error: float | None = None, digits: int = 3) -> str:
    r"""``2.22\times 10^{-35}`` or ``(2.22 \pm 0.32)\times 10^{-35}`` (math-mode LaTeX).

    The exponent is the value's; with an error the mantissas are rounded at the error's leading
    digits (the rule of :func:`galdiff.tables.format_value_error`).
    """
    value = float(value)
    if value == 0.0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    scale = 10.0**-exponent
    if error is None or not math.isfinite(float(error)) or float(error) == 0.0:
        mantissa = f"{value * scale:.{digits}g}"
        if exponent == 0:
            return mantissa
        return rf"10^{{{exponent}}}" if mantissa == "1" else rf"{mantissa}\times 10^{{{exponent}}}"
    text = tables.format_value_error(value, error, scale, latex=True).strip("$")
    return f"({text})" if exponent == 0 else rf"({text})\times 10^{{{exponent}}}"


def _value_error(value, error, factor: float) -> tuple[str, str]:
    """(value alone, ``value \\pm error``), both rounded at the error as in Tables II-III."""
    with_error = tables.format_value_error(value, error, factor, latex=True).strip("$")
    return with_error.split(r" \pm ")[0], with_error


def _paper_percent(fraction: float) -> str:
    """A printed fraction as the paper prints it (9 %, 0.4 %): no digits added."""
    return f"{100.0 * float(fraction):.3g}"


def _percent(fraction: float) -> str:
    """A fraction as a percentage with 2 significant digits (at least one decimal below 1 %)."""
    percent = 100.0 * float(fraction)
    if percent == 0.0:
        return "0"
    decimals = max(0, 1 - math.floor(math.log10(abs(percent))))
    return f"{percent:.{decimals}f}"


# ---------------------------------------------------------------------------------------------
# manuscript macros
# ---------------------------------------------------------------------------------------------


def _flatten_numbers(tree, prefix: str, out: dict) -> None:
    """Every numeric leaf of ``tree`` as ``prefix.path`` -> general format; list items by index."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            _flatten_numbers(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(tree, (list, tuple)):
        for index, value in enumerate(tree):
            _flatten_numbers(value, f"{prefix}.{index}", out)
    elif isinstance(tree, bool):
        out[prefix] = "yes" if tree else "no"
    elif isinstance(tree, (int, float)):
        out[prefix] = str(tree) if isinstance(tree, int) else _general(tree)


def _fit_numbers(model: str, fits: Mapping, paper: Mapping, out: dict) -> None:
    """Fit parameters in the paper's units (value, value +- error, paper value), chi2 per data set."""
    for species, entry in fits.items():
        base = f"fit.{model}.{species}"
        rows = _ROWS.get(species, [])
        for name, _latex, _md, factor in rows:
            if name in entry.get("params", {}):
                value, with_error = _value_error(entry["params"][name], entry.get("errors", {}).get(name), factor)
                key = name.removesuffix("_GV")
                out[f"{base}.{key}"], out[f"{base}.{key}.pm"] = value, with_error
            paper_value = (paper.get(species) or {}).get(name)
            if paper_value is not None:
                out[f"paper.{model}.{species}.{name.removesuffix('_GV')}"] = tables.format_value_error(
                    paper_value, None, factor)
        if "chi2" in entry:
            out[f"{base}.chi2"] = f"{entry['chi2']:.0f}"
            out[f"{base}.ndof"] = str(int(entry["ndof"]))
            out[f"{base}.chi2ndof"] = f"{entry['chi2'] / max(int(entry['ndof']), 1):.2f}"


def _fit_file_numbers(model: str, fit_file: Mapping, out: dict) -> None:
    """chi2 and number of points of every data set in each fit (results/fit/<model>/injection.yaml)."""
    for name, fit in (fit_file.get("fits") or {}).items():
        for dataset, chi2 in (fit.get("chi2_by_dataset") or {}).items():
            out[f"fitdata.{model}.{name}.{dataset}.chi2"] = f"{chi2:.0f}"
        for dataset, n_points in (fit.get("n_points_by_dataset") or {}).items():
            out[f"fitdata.{model}.{name}.{dataset}.npoints"] = str(int(n_points))


def _extra_numbers(model: str, extra: Mapping, out: dict) -> None:
    """EXTRA fit: norms with errors, scales, shapes, chi2, p-value."""
    for component, entry in (extra.get("components") or {}).items():
        base = f"extra.{model}.{component}"
        norm = entry.get("norm_per_GeV_cm3_s_sr")
        if norm is not None:
            out[f"{base}.norm.pm"] = format_scientific_latex(norm, entry.get("norm_error_per_GeV_cm3_s_sr"))
            out[f"{base}.norm"] = format_scientific_latex(norm)
        if entry.get("scale") is not None:
            out[f"{base}.scale.pm"] = tables.format_value_error(entry["scale"], entry.get("scale_error"), latex=True).strip("$")
        for key in ("index",):
            if key in entry:
                out[f"{base}.{key}"] = _general(entry[key])
        if "cutoff_GeV" in entry:
            out[f"{base}.cutoff_TeV"] = _general(entry["cutoff_GeV"] / 1e3)
        if "reference_GeV" in entry:
            out[f"{base}.reference_TeV"] = _general(entry["reference_GeV"] / 1e3)
        if "origin" in entry:
            out[f"{base}.origin"] = str(entry["origin"])
    base = f"extra.{model}"
    for key in ("chi2", "prefit_chi2"):
        if key in extra:
            out[f"{base}.{key.replace('_', '')}"] = f"{extra[key]:.1f}"
    for key in ("ndof", "n_points", "n_upper_limits"):
        if key in extra:
            out[f"{base}.{key.replace('_', '')}"] = str(int(extra[key]))
    if "p_value" in extra:
        out[f"{base}.pvalue"] = _general(extra["p_value"], digits=2)


def paper_numbers(summary: Mapping, config: Mapping | None = None, fit_files: Mapping | None = None,
                  table4: Mapping | None = None) -> dict:
    """Every number the manuscript may print, as ``{dotted key: LaTeX text}``.

    Parameters
    ----------
    summary : mapping
        ``results/summary.json``.
    config : mapping, optional
        The workflow configuration; numeric leaves become ``cfg.<path>`` (grid, nside, regions,
        model parameters, figure weightings) and the paper's Table II values ``paper.<model>...``.
    fit_files : mapping, optional
        ``{model: results/fit/<model>/injection.yaml content}`` for chi2 per data set.
    table4 : mapping, optional
        ``results/table4.json``: the numbers behind Table IV (``table4.<model>...``) and its text.

    Returns
    -------
    dict
        Keys: ``fit.<model>.<species>.<param>[.pm]``, ``paper.<model>.<species>.<param>``,
        ``fit.<model>.<species>.{chi2,ndof,chi2ndof}``, ``fitdata...``, ``extra.<model>...``,
        ``mask.<region>.percent``, ``headline.{ours,paper}.<share>.percent``,
        ``table4.<origin>.<column>.{ours,paper}``, ``table4.<model>...`` (ratios),
        ``models.count``, ``version``, ``cfg...`` (every number of the configuration).
    """
    config = config or {}
    out: dict[str, str] = {}
    paper_values = tables.paper_values_from_config(config)
    models = summary.get("models") or {}
    for model, content in models.items():
        paper = {**paper_values.get(model, {}), **tables.PAPER_TABLE3}
        if "fit" in content:
            _fit_numbers(model, content["fit"], paper, out)
        if "extra" in content:
            _extra_numbers(model, content["extra"], out)
    for model, fit_file in (fit_files or {}).items():
        _fit_file_numbers(model, fit_file, out)
    for region, entry in ((summary.get("masks") or {}).get("lhaaso") or {}).items():
        out[f"mask.{region}.percent"] = _percent(entry["masked_fraction"])
    headline = summary.get("headline") or {}
    for side in ("ours", "paper"):
        for key, value in (headline.get(side) or {}).items():
            out[f"headline.{side}.{key}.percent"] = (_percent if side == "ours" else _paper_percent)(value)
    for key, error in _headline_errors(summary).items():  # uncertainty bands (galdiff.uncertainty)
        out[f"headline.ours.{key}.pm.percent"] = _percent(error)
    for model, content in ((summary.get("table4_errors") or {}).get("models") or {}).items():
        # Table IV's flux ratios over the band draws: table4err.<model>.<scenario>.<template>.{value,error,...}
        _flatten_numbers(content, f"table4err.{model}", out)
    rows = (table4 or {}).get("rows") or summary.get("table4") or {}
    for origin, row in rows.items():
        for column, entry in row.items():
            for side in ("ours", "paper"):
                out[f"table4.{origin}.{column}.{side}"] = _table4_tex(entry[side])
    for model, content in ((table4 or {}).get("models") or {}).items():
        _flatten_numbers(content, f"table4.{model}", out)
    out["models.count"] = str(len(models))
    out["version"] = str(summary.get("galdiff_version", "unknown"))
    _flatten_numbers(config, "cfg", out)
    # derived configuration numbers the text quotes in its own units
    for model, spec in (config.get("models") or {}).items():
        for extra, entry in (spec.get("extra") or {}).items():
            if "cutoff_GeV" in entry:
                out[f"cfg.models.{model}.extra.{extra}.cutoff_TeV"] = _general(entry["cutoff_GeV"] / 1e3)
    grid = (config.get("propagation") or {}).get("grid") or {}
    for key in ("ek_min_GeV", "ek_max_GeV"):
        if key in grid:
            out[f"cfg.propagation.grid.{key}.latex"] = format_scientific_latex(grid[key])
    for index, energy in enumerate(((config.get("spectra") or {}).get("headline") or {}).get("energies_GeV", [])):
        out[f"cfg.spectra.headline.energies_TeV.{index}"] = _general(float(energy) / 1e3)
    return out


def _macro_text(text: str) -> str:
    """A value safe inside ``\\newcommand{...}{...}``: balanced braces, no bare %, # or newline."""
    text = str(text).replace("%", r"\%").replace("#", r"\#").replace("\n", " ")
    if text.count("{") != text.count("}"):
        raise ValueError(f"unbalanced braces in generated number {text!r}")
    return text


def render_macros(numbers: Mapping[str, str], source: str = "results/summary.json") -> str:
    """LaTeX file defining ``\\gd@<key>`` for every number (read with ``\\gd{<key>}``).

    Keys may hold any characters but braces, backslashes and ``%``; they are sorted so that equal
    inputs give byte-identical files.
    """
    lines = [
        f"% Generated by workflow/scripts/paper_macros.py from {source}: do not edit.",
        r"% \gd{key} prints a number; a key not defined here prints ?? and a 'galdiff number undefined' warning.",
    ]
    for key in sorted(numbers):
        if re.search(r"[{}\\%]", key):
            raise ValueError(f"number key {key!r} holds a brace, backslash or %")
        lines.append(rf"\expandafter\newcommand\csname {MACRO_PREFIX}{key}\endcsname{{{_macro_text(numbers[key])}}}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# README blocks
# ---------------------------------------------------------------------------------------------


def _label(model: str, config: Mapping | None = None, numbered: bool = False) -> str:
    """``DR-high`` for a refit model, ``DR-high as printed`` for its as-printed twin (config ``refit_model``)."""
    return model_label(model, as_printed_of((config or {}).get("models")), numbered=numbered)


def _readme_value(species: str, name: str, value: float) -> str:
    factor = dict((row[0], row[3]) for row in _ROWS[species]).get(name, 1.0)
    return _general(value * factor)


def _parameter_comparison(species: str, entry: Mapping, paper: Mapping) -> tuple[list[str], list[str]]:
    """Free parameters within / off the paper's tolerance, as ``name ours/paper [unit]``."""
    within, off = [], []
    fixed = set(entry.get("fixed") or [])
    units = _README_LEPTON_UNIT if species in _LEPTONS else _README_UNIT
    suffix = "-" if species == "electron" else "+" if species == "positron" else ""
    for name, _latex, _md, _factor in _ROWS[species]:
        if name not in entry.get("params", {}) or name not in paper or name in fixed:
            continue
        if (entry.get("errors") or {}).get(name, 1.0) == 0.0:  # held fixed
            continue
        ours, theirs = float(entry["params"][name]), float(paper[name])
        if name.startswith("nu"):
            close = abs(ours - theirs) <= README_INDEX_TOLERANCE
        else:
            close = theirs != 0 and abs(ours / theirs - 1.0) <= README_RELATIVE_TOLERANCE
        label = name.removesuffix("_GV").replace("c_eplus", "c_e")
        unit = f" {units[name]}" if name in units else ""
        ours_text = f"{ours:.3f}" if name.startswith("nu") else _readme_value(species, name, ours)
        text = f"{label}{suffix} {ours_text}/{_readme_value(species, name, theirs)}{unit}"
        (within if close else off).append(text)
    return within, off


def _fits_block(summary: Mapping, config: Mapping | None) -> str:
    paper_values = tables.paper_values_from_config(config or {})
    lines = [
        "| | chi2/ndof | within the paper's tolerance (indices 0.05, breaks 20 %) | off |",
        "|---|---|---|---|",
    ]
    models = summary.get("models") or {}
    # rows in the paper's order: protons of every model, then helium, then the lepton fits
    for species in (*_NUCLEI, "leptons"):
        for model, content in models.items():
            fit = content.get("fit") or {}
            paper = {**paper_values.get(model, {}), **tables.PAPER_TABLE3}
            if species == "leptons":
                if not all(lepton in fit for lepton in _LEPTONS):
                    continue
                # one fit gives both: chi2 and ndof of the lepton fit are stored with each species
                entry, within, off = fit["electron"], [], []
                for lepton in _LEPTONS:
                    w, o = _parameter_comparison(lepton, fit[lepton], paper.get(lepton) or {})
                    within, off = within + w, off + o
                label = "e+ + e-"
            elif species in fit:
                entry = fit[species]
                within, off = _parameter_comparison(species, entry, paper.get(species) or {})
                label = {"proton": "p", "helium": "He"}[species]
            else:
                continue
            if not within and not off:  # as printed: the parameters are the paper's, only norms fitted
                within, off = ["Table II-III values as printed (only the normalisations fitted)"], []
            lines.append(f"| {label} {_label(model, config)} | {entry['chi2']:.0f}/{entry['ndof']} = "
                         f"{entry['chi2'] / entry['ndof']:.2f} | {', '.join(within) or '--'} | {', '.join(off) or '--'} |")
    return "\n".join(lines) + "\n"


def _norm_text(entry: Mapping) -> str:
    norm, error = entry.get("norm_per_GeV_cm3_s_sr"), entry.get("norm_error_per_GeV_cm3_s_sr")
    if norm is None or norm == 0.0:
        return "0"
    exponent = math.floor(math.log10(abs(norm)))
    text = tables.format_value_error(norm, error, 10.0**-exponent).replace("±", "+-")
    return f"({text})e{exponent}"


def _spectra_block(summary: Mapping, config: Mapping | None = None) -> str:
    lines = ["| | ours | paper |", "|---|---|---|"]
    masks = (summary.get("masks") or {}).get("lhaaso") or {}
    applied = [region for region, entry in masks.items() if entry.get("applied")]
    if applied:
        lines.append(f"| LHAASO mask, masked fraction ({' / '.join(applied)}) | "
                     f"{' / '.join(_percent(masks[r]['masked_fraction']) + ' %' for r in applied)} | unknown |")
    for model, content in (summary.get("models") or {}).items():
        extra = content.get("extra")
        if not extra:
            continue
        components = extra.get("components") or {}
        names = ", ".join(name.upper() for name in components)
        norms = ", ".join(_norm_text(entry) for entry in components.values())
        lines.append(f"| {_label(model, config)} {names} norms [GeV^-1 cm^-3 s^-1 sr^-1 at 1 TeV] | {norms}, "
                     f"chi2/ndof = {extra['chi2']:.1f}/{extra['ndof']} (p = {extra['p_value']:.2g}) | "
                     f"fit the data |")
    headline = summary.get("headline") or {}
    ours, paper = headline.get("ours") or {}, headline.get("paper") or {}
    errors = _headline_errors(summary)

    def share(key):
        if key not in errors or ours[key] is None:
            return _percent(ours[key])
        return _percent_pm(ours[key], errors[key])

    if "share_20TeV" in ours:
        lines.append(f"| Galactic share of IceCube's flux, {_label(headline.get('model', ''), config, numbered=True)}, 20 TeV | "
                     f"{share('share_20TeV')} % | {_paper_percent(paper['share_20TeV'])} % |")
    pev = ("share_1PeV_extra2_hadronic", "share_1PeV_extra2_leptonic")
    if all(key in ours for key in pev):
        lines.append("| ... at 1 PeV, EXTRA2 hadronic / leptonic | "
                     f"{share(pev[0])} % / {share(pev[1])} % | "
                     f"{_paper_percent(paper[pev[0]])} % / {_paper_percent(paper[pev[1]])} % |")
    printed = headline.get("as_printed") or {}
    if "share_20TeV" in (printed.get("ours") or {}) and all(key in printed["ours"] for key in pev):
        theirs = printed["ours"]
        lines.append(f"| ... the same, {_label(printed.get('model', ''), config, numbered=True)}: 20 TeV; 1 PeV hadronic / leptonic | "
                     f"{_percent(theirs['share_20TeV'])} %; {_percent(theirs[pev[0]])} % / "
                     f"{_percent(theirs[pev[1]])} % | {_paper_percent(paper['share_20TeV'])} %; "
                     f"{_paper_percent(paper[pev[0]])} % / {_paper_percent(paper[pev[1]])} % |")
    for origin, row in (summary.get("table4") or {}).items():
        columns = [column for column in ("p", "nu", "gamma") if column in row]
        per_model = [_table4_entries_by_model(row[c]["ours"]) for c in columns]
        for model in per_model[0]:
            lines.append(f"| Table IV, {origin}, {model}: {' / '.join(columns)} | "
                         f"{' / '.join(entries.get(model, '--') for entries in per_model)} | "
                         f"{' / '.join(row[c]['paper'] for c in columns)} |")
    return "\n".join(lines) + "\n"


def _table4_entries_by_model(text: str) -> dict:
    """Split a Table IV cell ``"Model 1 (DR-high): yes (...); Model 2 ...: ..."`` into one entry per model."""
    entries = {}
    for part in re.split(r"; (?=Model )", text):
        model, _, value = part.partition(": ")
        entries[model] = value
    return entries


def _percent_pm(fraction: float, error: float) -> str:
    """``value +- error`` in per cent, the error with as many decimals as the value (:func:`_percent`)."""
    text = _percent(fraction)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{text} +- {100.0 * float(error):.{decimals}f}"


def _headline_errors(summary: Mapping) -> dict:
    """``{share: error}`` of the headline shares (``summary["headline_errors"]``, rules/bands.smk; half the
    68 % interval of the draws); empty without bands."""
    shares = (summary.get("headline_errors") or {}).get("shares") or {}
    return {key: entry["error"] for key, entry in shares.items() if entry and entry.get("error") is not None}


def readme_blocks(summary: Mapping, config: Mapping | None = None) -> dict:
    """The README's generated blocks: ``{"fits": Markdown table, "spectra": Markdown table}``."""
    return {"fits": _fits_block(summary, config), "spectra": _spectra_block(summary, config)}


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN GENERATED: {name} -->", f"<!-- END GENERATED: {name} -->"


def extract_generated_block(text: str, name: str) -> str:
    """The text between the ``name`` markers of a README (without the marker lines)."""
    begin, end = _markers(name)
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start:
        raise ValueError(f"README has no '{begin}' ... '{end}' block")
    return text[text.index("\n", start) + 1:stop]


def replace_generated_blocks(text: str, blocks: Mapping[str, str]) -> str:
    """``text`` with every named block replaced; each name must have its two markers in ``text``."""
    for name, block in blocks.items():
        begin, end = _markers(name)
        old = extract_generated_block(text, name)
        start = text.index(begin)
        head = text[:text.index("\n", start) + 1]
        text = head + block + text[len(head) + len(old):]
        assert text[len(head) + len(block):].startswith(end)
    return text


def markdown_table_structure(block: str) -> dict:
    """Header, column count and row labels (first cells) of the Markdown table in ``block``."""
    rows = [line for line in block.splitlines() if line.startswith("|")]
    if len(rows) < 2:
        raise ValueError("no Markdown table in block")
    cells = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    return {"header": cells[0], "n_columns": {len(row) for row in cells}, "labels": [row[0] for row in cells[2:]]}
