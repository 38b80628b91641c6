"""Tables I-III of the paper as LaTeX (booktabs) and Markdown, with the paper's values beside ours.

* Table I: propagation parameters (docs/paper.md#table-i-propagation; D(R) = beta^eta D0 (R / 4 GV)^delta), one row
  per model from the configuration (``models.<model>.propagation``), optionally a row of paper values.
* Table II: proton and helium injection (Eq. 3) and modulation parameters, DR-high and DR-low,
  fitted (``results/summary.json`` -> ``models.<model>.fit.<species>``, i.e.
  :meth:`galdiff.fitting.FitResult.summary_dict`), each column followed by the paper's value.
* Table III: primary electrons and the extra primary positron component, one column per model
  and one with the paper's values.

Units follow the paper's tables: R2..R4 in TV and Rc in PV for nuclei, Rc- and Rc+ in TV for
leptons, the rest in GV; the fit results carry GV (names ``*_GV``) and are converted here.

The paper's values are passed in (``paper_values``). Table II's are the configuration's start
values (:func:`paper_values_from_config`); Tables I and III as printed are
:data:`PAPER_TABLE1` and :data:`PAPER_TABLE3`, read from the file of the paper's values
(:mod:`galdiff.comparison.paper_values`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .comparison.paper_values import paper_values
from .conventions import MODEL_NAMES
from .provenance import atomic_path

__all__ = [
    "PAPER_TABLE1",
    "PAPER_TABLE3",
    "MODEL_LABELS",
    "RenderedTable",
    "format_value_error",
    "paper_values_from_config",
    "table1",
    "table2",
    "table3",
    "write_table",
]

#: The paper's Table I (docs/paper.md), in the configuration's names (models.<model>.propagation);
#: from galdiff/comparison/paper_values.yaml.
PAPER_TABLE1 = paper_values("table1")

#: The paper's Table III (docs/paper.md), in the names of galdiff.fitting.FitResult.summary_dict and GV;
#: from galdiff/comparison/paper_values.yaml.
PAPER_TABLE3 = paper_values("table3")

#: Column labels of the models (docs/paper.md: DR-high fitted to IceTop, DR-low to KASCADE): the registry's
#: names (galdiff.conventions.MODEL_NAMES)
MODEL_LABELS = MODEL_NAMES
_KNEE_LABELS = {"dr_high": "IceTop", "dr_low": "KASCADE"}
_SPECIES_LABELS = {"proton": "p", "helium": "He"}

# (parameter name in the fit results, LaTeX label, Markdown label, factor from the stored GV unit)
_TABLE2_ROWS = [
    ("nu0", r"$\nu_0$", "nu0", 1.0),
    ("nu1", r"$\nu_1$", "nu1", 1.0),
    ("nu2", r"$\nu_2$", "nu2", 1.0),
    ("nu3", r"$\nu_3$", "nu3", 1.0),
    ("nu4", r"$\nu_4$", "nu4", 1.0),
    ("R1_GV", r"$R_1$ [GV]", "R1 [GV]", 1.0),
    ("R2_GV", r"$R_2$ [TV]", "R2 [TV]", 1e-3),
    ("R3_GV", r"$R_3$ [TV]", "R3 [TV]", 1e-3),
    ("R4_GV", r"$R_4$ [TV]", "R4 [TV]", 1e-3),
    ("Rc_GV", r"$R_c$ [PV]", "Rc [PV]", 1e-6),
    ("Phi_GV", r"$\Phi$ [GV]", "Phi [GV]", 1.0),
]
_ELECTRON_ROWS = [
    ("nu0", r"$\nu_0^-$", "nu0-", 1.0),
    ("nu1", r"$\nu_1^-$", "nu1-", 1.0),
    ("nu2", r"$\nu_2^-$", "nu2-", 1.0),
    ("nu3", r"$\nu_3^-$", "nu3-", 1.0),
    ("R1_GV", r"$R_1^-$ [GV]", "R1- [GV]", 1.0),
    ("R2_GV", r"$R_2^-$ [GV]", "R2- [GV]", 1.0),
    ("R3_GV", r"$R_3^-$ [GV]", "R3- [GV]", 1.0),
    ("Rc_GV", r"$R_c^-$ [TV]", "Rc- [TV]", 1e-3),
    ("Phi_GV", r"$\Phi^-$ [GV]", "Phi- [GV]", 1.0),
]
_POSITRON_ROWS = [
    ("c_eplus", r"$c_{e^+}$", "c_e+", 1.0),
    ("nu1", r"$\nu_1^+$", "nu1+", 1.0),
    ("nu2", r"$\nu_2^+$", "nu2+", 1.0),
    ("R1_GV", r"$R_1^+$ [GV]", "R1+ [GV]", 1.0),
    ("Rc_GV", r"$R_c^+$ [TV]", "Rc+ [TV]", 1e-3),
    ("Phi_GV", r"$\Phi^+$ [GV]", "Phi+ [GV]", 1.0),
]
_TABLE1_COLUMNS = [
    ("D0_1e28_cm2_per_s", r"$D_0$ [$10^{28}$ cm$^2$ s$^{-1}$]", "D0 [1e28 cm^2/s]"),
    ("delta", r"$\delta$", "delta"),
    ("zh_kpc", r"$z_h$ [kpc]", "zh [kpc]"),
    ("vA_km_per_s", r"$v_A$ [km s$^{-1}$]", "vA [km/s]"),
    ("eta", r"$\eta$", "eta"),
]
MISSING = "--"


@dataclass(frozen=True)
class RenderedTable:
    """One table in two formats: a complete booktabs ``table`` environment and a Markdown table."""

    latex: str
    markdown: str


# ---------------------------------------------------------------------------------------------
# number formatting
# ---------------------------------------------------------------------------------------------


def _decimals_for(error: float) -> int:
    """Decimal places that show ``error`` with 2 significant digits if it starts with 1, else 1."""
    exponent = math.floor(math.log10(abs(error)))
    leading = abs(error) / 10.0**exponent
    digits = 2 if leading < 2.0 else 1
    return max(0, -(exponent - digits + 1))


def _format_number(value: float, decimals: int | None = None) -> str:
    """Fixed decimals, or (no error known) up to 4 significant digits without an exponent."""
    if decimals is not None:
        return f"{value:.{decimals}f}"
    if value != 0 and abs(value) >= 1e4:
        return f"{value:.0f}"
    return f"{value:.4g}"


def format_value_error(value, error=None, scale: float = 1.0, latex: bool = False) -> str:
    """``value ± error`` (times ``scale``), rounded at the error's leading digits.

    The error keeps 2 significant digits if they start with 1, otherwise 1; the value is given to the
    same decimal place. Without an error (None, 0 or NaN: a fixed or a paper value) the value is
    printed with up to 4 significant digits. NaN or None values print as ``--``.

    Parameters
    ----------
    value, error : float or None
    scale : float
        Unit conversion applied to both (e.g. 1e-3 for GV -> TV).
    latex : bool
        ``$v \\pm e$`` instead of ``v ± e``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    value = float(value) * scale
    if error is None or not math.isfinite(float(error)) or float(error) == 0.0:
        text = _format_number(value)
        return f"${text}$" if latex else text
    error = abs(float(error) * scale)
    decimals = _decimals_for(error)
    value_text, error_text = _format_number(value, decimals), _format_number(error, decimals)
    return f"${value_text} \\pm {error_text}$" if latex else f"{value_text} ± {error_text}"


# ---------------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------------


def _latex_escape(text: str) -> str:
    return text.replace("&", r"\&").replace("%", r"\%").replace("_", r"\_")


def _render(header_latex: Sequence[str], header_md: Sequence[str], rows_latex, rows_md, caption: str,
            label: str) -> RenderedTable:
    n_columns = len(header_latex)
    lines = [
        r"\begin{table*}",
        r"\centering",
        rf"\caption{{{caption}}}",
        rf"\label{{{label}}}",
        r"\begin{tabular}{l" + "c" * (n_columns - 1) + "}",
        r"\toprule",
        " & ".join(header_latex) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(row) + r" \\" for row in rows_latex]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table*}", ""]
    md = ["| " + " | ".join(header_md) + " |", "|" + "---|" * len(header_md)]
    md += ["| " + " | ".join(row) + " |" for row in rows_md]
    md.append("")
    return RenderedTable("\n".join(lines), "\n".join(md))


def _cell(entry: Mapping | None, name: str, scale: float, latex: bool, with_error: bool = True) -> str:
    if entry is None or name not in entry.get("params", {}):
        return MISSING
    error = entry.get("errors", {}).get(name) if with_error else None
    return format_value_error(entry["params"][name], error, scale, latex)


def _paper_cell(params: Mapping | None, name: str, scale: float, latex: bool) -> str:
    if params is None or name not in params:
        return MISSING
    return format_value_error(params[name], None, scale, latex)


def _chi2_cell(entry: Mapping | None, latex: bool) -> str:
    if entry is None or "chi2" not in entry:
        return MISSING
    text = f"{entry['chi2']:.1f}/{int(entry['ndof'])}"
    return f"${text}$" if latex else text


def _dataset_chi2_cell(entry: Mapping | None, dataset: str, latex: bool) -> str:
    parts = (entry or {}).get("chi2_by_dataset") or {}
    if dataset not in parts:
        return MISSING
    text = f"{parts[dataset]:.1f}"
    return f"${text}$" if latex else text


def _chi2_rows(columns, entry_of, printed_of) -> tuple[list, list]:
    """chi2/ndof and chi2 per data set: the refit's in "this work" columns, the printed parameters' in "paper".

    ``columns`` are the table's column keys, ``entry_of(key)`` and ``printed_of(key)`` their summary
    entries (:meth:`galdiff.fitting.FitResult.summary_dict`) of the refit and of the as-printed model.
    """
    rows_latex = [[r"$\chi^2/N_\mathrm{dof}$"]]
    rows_md = [["chi2/ndof"]]
    for key in columns:
        for latex, row in ((True, rows_latex[0]), (False, rows_md[0])):
            row += [_chi2_cell(entry_of(key), latex), _chi2_cell(printed_of(key), latex)]
    datasets = []
    for key in columns:
        for entry in (entry_of(key), printed_of(key)):
            datasets += [d for d in ((entry or {}).get("chi2_by_dataset") or {}) if d not in datasets]
    for dataset in datasets:
        row_latex = [rf"$\chi^2$ {_latex_escape(dataset)}"]
        row_md = [f"chi2 {dataset}"]
        for key in columns:
            row_latex += [_dataset_chi2_cell(entry_of(key), dataset, True), _dataset_chi2_cell(printed_of(key), dataset, True)]
            row_md += [_dataset_chi2_cell(entry_of(key), dataset, False), _dataset_chi2_cell(printed_of(key), dataset, False)]
        rows_latex.append(row_latex)
        rows_md.append(row_md)
    return rows_latex, rows_md


def paper_values_from_config(config: Mapping) -> dict:
    """The paper's Table II values as held by the configuration's injection start values.

    ``config["models"][model]["injection"][species]`` (``nu``, ``breaks_GV``, ``cutoff_GV``,
    ``phi_GV``; docs/paper.md#tables-ii-and-iii-injection) -> ``{model: {species: {nu0, ..., R1_GV, ..., Rc_GV, Phi_GV}}}``.
    Species without an ``injection`` entry are skipped.
    """
    out: dict = {}
    for model, spec in config.get("models", {}).items():
        for species, injection in (spec.get("injection") or {}).items():
            if species == "mode":
                continue
            params = {f"nu{i}": float(v) for i, v in enumerate(injection["nu"])}
            params.update({f"R{i + 1}_GV": float(v) for i, v in enumerate(injection["breaks_GV"])})
            params.update(Rc_GV=float(injection["cutoff_GV"]), Phi_GV=float(injection["phi_GV"]))
            if "c_eplus" in injection:
                params["c_eplus"] = float(injection["c_eplus"])
            out.setdefault(model, {})[species] = params
    return out


def table1(propagation_by_model: Mapping, paper_values: Mapping | None = None) -> RenderedTable:
    """Table I: propagation parameters, one row per model (and one for the paper if given).

    Parameters
    ----------
    propagation_by_model : mapping
        ``{model: config["models"][model]["propagation"]}`` with keys ``D0_1e28_cm2_per_s``,
        ``delta``, ``zh_kpc``, ``vA_km_per_s``, ``eta``.
    paper_values : mapping, optional
        The same keys, printed in a last row "paper".
    """
    header_latex = ["Model"] + [c[1] for c in _TABLE1_COLUMNS]
    header_md = ["Model"] + [c[2] for c in _TABLE1_COLUMNS]
    rows_latex, rows_md = [], []
    sources = [(MODEL_LABELS.get(m, m), values) for m, values in propagation_by_model.items()]
    if paper_values is not None:
        sources.append(("paper", paper_values))
    for label, values in sources:
        cells = [values.get(key) for key, _, _ in _TABLE1_COLUMNS]
        rows_latex.append([_latex_escape(label)] + [format_value_error(v, None, latex=True) for v in cells])
        rows_md.append([label] + [format_value_error(v) for v in cells])
    caption = (r"Propagation parameters (diffusion with reacceleration); "
               r"$D(R) = \beta^\eta D_0 (R/4\,\mathrm{GV})^\delta$.")
    return _render(header_latex, header_md, rows_latex, rows_md, caption, "tab:propagation")


def table2(fits: Mapping, paper_values: Mapping | None = None,
           models: Sequence[str] = ("dr_high", "dr_low"), species: Sequence[str] = ("proton", "helium"),
           printed_fits: Mapping | None = None) -> RenderedTable:
    """Table II: fitted p and He injection and modulation parameters, each beside the paper's value.

    Parameters
    ----------
    fits : mapping
        ``{model: {species: {"params", "errors", "chi2", "ndof"}}}`` (``results/summary.json`` ->
        ``models.<model>.fit``; :meth:`galdiff.fitting.FitResult.summary_dict`). Names in GV.
    paper_values : mapping, optional
        ``{model: {species: {name: value_in_GV}}}``, e.g. :func:`paper_values_from_config`.
    models, species : sequence of str
        Column order.
    printed_fits : mapping, optional
        ``{model: {species: summary entry}}`` of each model's as-printed twin (the paper's
        parameters, only the normalisation fitted to the same data): its chi2 goes in the "paper"
        column of the chi2 rows.

    Returns
    -------
    RenderedTable
        Rows nu0..nu4, R1 [GV], R2..R4 [TV], Rc [PV], Phi [GV], chi2/ndof and chi2 per data set; for
        each (species, model) a "this work" column (value ± HESSE error; the refit's chi2) and a
        "paper" column (the printed value; the printed parameters' chi2 on our data).
    """
    paper_values = paper_values or {}
    columns = [(s, m) for s in species for m in models]
    header_latex, header_md = ["Parameter"], ["Parameter"]
    for s, m in columns:
        label = f"{_SPECIES_LABELS.get(s, s)} {MODEL_LABELS.get(m, m)}"
        knee = f" ({_KNEE_LABELS[m]})" if m in _KNEE_LABELS else ""
        header_latex += [f"{label}{knee}", "paper"]
        header_md += [f"{label}{knee} this work", f"{label} paper"]
    rows_latex, rows_md = [], []
    for name, label_latex, label_md, scale in _TABLE2_ROWS:
        row_latex, row_md = [label_latex], [label_md]
        for s, m in columns:
            entry = fits.get(m, {}).get(s)
            paper = paper_values.get(m, {}).get(s)
            row_latex += [_cell(entry, name, scale, True), _paper_cell(paper, name, scale, True)]
            row_md += [_cell(entry, name, scale, False), _paper_cell(paper, name, scale, False)]
        rows_latex.append(row_latex)
        rows_md.append(row_md)
    printed_fits = printed_fits or {}
    chi2_latex, chi2_md = _chi2_rows(columns, lambda key: fits.get(key[1], {}).get(key[0]),
                                     lambda key: printed_fits.get(key[1], {}).get(key[0]))
    rows_latex += chi2_latex
    rows_md += chi2_md
    caption = (r"Injection (Eq.~3) and solar-modulation parameters of protons and helium: this work "
               r"(best fit $\pm$ HESSE error) beside the paper's values. $\chi^2$ rows: the refit's in "
               r"the columns of this work, the paper's parameters as printed (normalisation fitted to the same "
               r"data through the same Green's matrix) in the paper's columns.")
    return _render(header_latex, header_md, rows_latex, rows_md, caption, "tab:injection_nuclei")


def table3(fits: Mapping, paper_values: Mapping | None = None,
           models: Sequence[str] = ("dr_high", "dr_low"), printed_fits: Mapping | None = None) -> RenderedTable:
    """Table III: primary electron and extra primary positron parameters, per model and the paper's.

    Parameters
    ----------
    fits : mapping
        ``{model: {"electron": {...}, "positron": {...}}}`` in the summary format (positron names
        without the ``_eplus`` tag: ``c_eplus``, ``nu1``, ``nu2``, ``R1_GV``, ``Rc_GV``, ``Phi_GV``).
    paper_values : mapping, optional
        ``{"electron": {...}, "positron": {...}}`` in GV; default :data:`PAPER_TABLE3`.
    models : sequence of str
    printed_fits : mapping, optional
        ``{model: {"electron": summary entry, ...}}`` of each model's as-printed twin: with it, every
        model gets an "as printed" column in the chi2 rows (the paper's Table III on our data, the
        e- and extra-e+ normalisations fitted).

    Returns
    -------
    RenderedTable
        Rows nu0-..nu3-, R1-..R3- [GV], Rc- [TV], Phi- [GV], c_e+, nu1+, nu2+, R1+ [GV], Rc+ [TV],
        Phi+ [GV], chi2/ndof and chi2 per data set; columns one per model ("this work"; then, with
        ``printed_fits``, one per model "as printed") and "paper".
    """
    paper_values = PAPER_TABLE3 if paper_values is None else paper_values
    printed = [m for m in models if m in (printed_fits or {})]
    header_latex = (["Parameter"] + [MODEL_LABELS.get(m, m) for m in models]
                    + [f"{MODEL_LABELS.get(m, m)} as printed" for m in printed] + ["paper"])
    header_md = (["Parameter"] + [f"{MODEL_LABELS.get(m, m)} this work" for m in models]
                 + [f"{MODEL_LABELS.get(m, m)} as printed" for m in printed] + ["paper"])
    rows_latex, rows_md = [], []
    for species, rows in (("electron", _ELECTRON_ROWS), ("positron", _POSITRON_ROWS)):
        for name, label_latex, label_md, scale in rows:
            entries = [fits.get(m, {}).get(species) for m in models]
            printed_entries = [printed_fits[m].get(species) for m in printed]
            paper = paper_values.get(species)
            rows_latex.append([label_latex] + [_cell(e, name, scale, True) for e in entries]
                              + [_cell(e, name, scale, True, with_error=False) for e in printed_entries]
                              + [_paper_cell(paper, name, scale, True)])
            rows_md.append([label_md] + [_cell(e, name, scale, False) for e in entries]
                           + [_cell(e, name, scale, False, with_error=False) for e in printed_entries]
                           + [_paper_cell(paper, name, scale, False)])
    entries = [fits.get(m, {}).get("electron") for m in models] + [printed_fits[m].get("electron") for m in printed]
    rows_latex.append([r"$\chi^2/N_\mathrm{dof}$"] + [_chi2_cell(e, True) for e in entries] + [MISSING])
    rows_md.append(["chi2/ndof"] + [_chi2_cell(e, False) for e in entries] + [MISSING])
    datasets = []
    for entry in entries:
        datasets += [d for d in ((entry or {}).get("chi2_by_dataset") or {}) if d not in datasets]
    for dataset in datasets:
        rows_latex.append([rf"$\chi^2$ {_latex_escape(dataset)}"] + [_dataset_chi2_cell(e, dataset, True) for e in entries]
                          + [MISSING])
        rows_md.append([f"chi2 {dataset}"] + [_dataset_chi2_cell(e, dataset, False) for e in entries] + [MISSING])
    caption = (r"Injection and modulation parameters of primary electrons (three breaks) and of the extra "
               r"primary positron component; $c_{e^+}$ scales the secondary positrons from p and He "
               r"(our reading, the convention of Lin, Yuan \& Bi 2015; the paper does not define it). "
               r"As printed: the paper's values on our data, only the e$^-$ and extra e$^+$ normalisations fitted.")
    return _render(header_latex, header_md, rows_latex, rows_md, caption, "tab:injection_leptons")


def write_table(table: RenderedTable, stem) -> tuple[Path, Path]:
    """Write ``<stem>.tex`` and ``<stem>.md`` atomically; returns both paths.

    Parameters
    ----------
    table : RenderedTable
    stem : str or Path
        Output path without suffix, e.g. ``results/table2``.
    """
    stem = Path(stem)
    paths = (stem.with_suffix(".tex"), stem.with_suffix(".md"))
    for path, text in zip(paths, (table.latex, table.markdown)):
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    return paths
