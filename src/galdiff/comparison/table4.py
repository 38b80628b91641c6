"""Leptonic or hadronic extra sources? Table IV and the headline neutrino numbers, from computed files.

docs/paper.md (Table IV, Sec. 5): for each origin of the extra (unresolved-source) components the paper
says whether it is consistent with the cosmic-ray protons, with IceCube's Galactic-plane neutrino
fits (pi0, KRA-gamma-5, KRA-gamma-50 templates) and with the gamma-ray data. Every entry here is
derived from numbers the workflow computes:

* gamma rays (:func:`gamma_check`): the EXTRA normalisation fit (``results/spectra/<model>/
  extra_fit.yaml``); the gamma-ray spectra do not depend on the origin, so both rows share it. A
  fit with p-value >= ``gamma_p_value_min`` describes the data.
* neutrinos (:func:`neutrino_check`): the model's per-flavour neutrino intensity in the comparison
  window (default all sky, where all three IceCube templates are exact, see
  :func:`galdiff.comparison.icecube.kra_band_table`) for a leptonic origin (no neutrinos from the
  extras: ``neutrino_diffuse``) and a hadronic one (``neutrino_total``, the extras' neutrinos from
  their parent protons, emission stage), against each template's best fit:
  :func:`galdiff.comparison.icecube.band_consistency` over the template's 90 % energy range.
* protons (:func:`parent_proton_check`): a hadronic extra needs protons. If they filled the Galaxy
  like the CR sea and made the extra's local emissivity K on the local gas n_H, the local proton
  intensity would gain J_p(T) = (K / n_H) x the parent-proton spectrum of the ECPL
  (:func:`galdiff.emission.fit_parent_proton_ecpl`). Its largest ratio to the propagated best-fit
  proton LIS (the fit to AMS-02/DAMPE/air-shower data), between 10 GeV and 1 PeV where the proton
  data constrain it (``proton_energy_range_GeV``), is the number; above
  ``proton_fraction_max`` the measured protons leave no room for them, so the sources must keep
  their protons (the paper's "hadron-less": inject few high-energy protons into the ISM). A
  leptonic extra adds no protons.

Headline numbers (:func:`galactic_neutrino_share`): the model's per-flavour all-sky neutrino
intensity over IceCube's total astrophysical per-flavour flux (6-yr cascades, docs/paper.md#eq-1-icecube-reference-flux) at
given energies, for the extras as configured and with EXTRA2 (or all extras) leptonic.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u

from ..config import schema_defaults
from ..conventions import INTENSITY_UNIT, model_label
from .icecube import band_consistency, isotropic_flux_e2, template_energy_range_GeV
from .paper_values import paper_values
from ..skymaps.region_spectra import spectrum_columns
from ..spectra import loglog_interp

__all__ = [
    "PAPER_HEADLINE",
    "PAPER_TABLE4",
    "TEMPLATE_LABELS",
    "galactic_neutrino_share",
    "neutrino_scenarios",
    "neutrino_check",
    "parent_proton_check",
    "gamma_check",
    "build_table4",
    "render_table4_markdown",
    "render_table4_latex",
]

#: docs/paper.md#headline-results: Galactic share of IceCube's total astrophysical flux (Model 2);
#: from paper_values.yaml (:mod:`.paper_values`).
PAPER_HEADLINE = paper_values("headline")

#: docs/paper.md#table-iv-origin-of-the-extra-components as printed (the paper's entries, shown beside ours);
#: from paper_values.yaml.
PAPER_TABLE4 = paper_values("table4")

#: band table key -> (IceCube template name, label)
TEMPLATE_LABELS = {
    "icecube_pi0": ("pi0", "pi0"),
    "kra_gamma_5": ("KRA_gamma_5PeV", "KRA-gamma-5"),
    "kra_gamma_50": ("KRA_gamma_50PeV", "KRA-gamma-50"),
}


def neutrino_scenarios(spectra_table) -> dict:
    """Per-flavour neutrino intensities [GeV^-1 cm^-2 s^-1 sr^-1] of a region for each extra origin.

    ``hadronic``: as in the maps (extras with ``origin: hadronic`` emit neutrinos);
    ``leptonic``: no neutrinos from any extra; ``extra2_leptonic``: EXTRA2 without neutrinos. The
    per-flavour intensity is the all-flavour sum over 3 (IceCube's per-flavour convention for
    equal flavour ratios). ``hadronic`` is None when the maps have no extra neutrinos (all
    extras leptonic in the configuration), since then it cannot be made from them.
    """
    cols = spectrum_columns(spectra_table)
    total = cols["neutrino_total"]
    extras = {name: cols.get(f"{name}_neutrino", np.zeros_like(total)) for name in ("extra1", "extra2")}
    has_extra_neutrinos = any(np.any(values > 0) for values in extras.values())
    return {
        "energy_GeV": cols["energy_GeV"],
        "hadronic": total / 3.0 if has_extra_neutrinos else None,
        "leptonic": (total - extras["extra1"] - extras["extra2"]) / 3.0,
        "extra2_leptonic": (total - extras["extra2"]) / 3.0,
    }


def galactic_neutrino_share(spectra_table, cascades, energies_GeV) -> dict:
    """Model per-flavour intensity over IceCube's total astrophysical per-flavour flux.

    Parameters
    ----------
    spectra_table : astropy.table.Table
        Region spectra (``results/spectra/<model>/<region>.ecsv``), normally all sky.
    cascades : astropy.table.Table
        Tidy ``icecube_cascades_6yr`` (best-fit E^2 flux per flavour, per sr).
    energies_GeV : sequence of float

    Returns
    -------
    dict
        Per energy: IceCube's flux, and per scenario the model flux and the share.
    """
    scenarios = neutrino_scenarios(spectra_table)
    energy = scenarios["energy_GeV"]
    out = {}
    for energy_GeV in energies_GeV:
        icecube = float(isotropic_flux_e2(cascades, energy_GeV)) / energy_GeV**2
        entry = {"icecube_total_per_flavour_per_GeV_cm2_s_sr": icecube}
        for scenario in ("hadronic", "extra2_leptonic", "leptonic"):
            values = scenarios[scenario]
            if values is None:
                entry[scenario] = None
                continue
            model = float(loglog_interp(energy_GeV, energy, np.clip(values, 0, None)))
            entry[scenario] = {"model_per_flavour_per_GeV_cm2_s_sr": model, "share": model / icecube}
        out[f"{energy_GeV:g}"] = entry
    return out


def headline_numbers(spectra_table, cascades, energies_GeV) -> dict:
    """The docs/paper.md#headline-results shares (20 TeV with the extras as configured, 1 PeV with EXTRA2
    hadronic and leptonic) beside the paper's, plus the full :func:`galactic_neutrino_share`."""
    shares = galactic_neutrino_share(spectra_table, cascades, energies_GeV)

    def share(energy, scenario):
        entry = shares.get(f"{energy:g}", {}).get(scenario)
        return None if entry is None else entry["share"]

    ours = {
        "share_20TeV": share(2.0e4, "hadronic") if share(2.0e4, "hadronic") is not None else share(2.0e4, "leptonic"),
        "share_1PeV_extra2_hadronic": share(1.0e6, "hadronic"),
        "share_1PeV_extra2_leptonic": share(1.0e6, "extra2_leptonic"),
    }
    return {
        "model": spectra_table.meta.get("model"),
        "region": spectra_table.meta.get("region"),
        "definition": "model per-flavour (all flavours / 3) mean intensity in the region over IceCube's total "
                      "astrophysical per-flavour flux (6-yr cascades best-fit power law, docs/paper.md#eq-1-icecube-reference-flux)",
        "ours": ours,
        "paper": dict(PAPER_HEADLINE),
        "by_energy": shares,
    }


def neutrino_check(spectra_table, bands: dict, template_fits, n_sigma: float = 1.0) -> dict:
    """Which IceCube templates the model's neutrinos agree with, per origin scenario.

    Parameters
    ----------
    spectra_table : astropy.table.Table
        Region spectra of the comparison window.
    bands : dict
        ``{"icecube_pi0": Table, "kra_gamma_5": Table, "kra_gamma_50": Table}`` in the same window.
    template_fits : astropy.table.Table
        Tidy ``icecube_gp2023_template_fits`` (90 % energy ranges).
    n_sigma : float
    """
    scenarios = neutrino_scenarios(spectra_table)
    energy = scenarios["energy_GeV"]
    out = {}
    for scenario in ("leptonic", "hadronic"):
        values = scenarios[scenario]
        if values is None:
            out[scenario] = None
            continue
        results = {}
        for key, band in bands.items():
            template, label = TEMPLATE_LABELS[key]
            result = band_consistency(energy, energy**2 * values, band, n_sigma,
                                      template_energy_range_GeV(template_fits, template))
            result["label"] = label
            result["region_specific"] = bool(band.meta.get("region_specific", True))
            results[key] = result
        out[scenario] = {"templates": results,
                         "consistent": [results[key]["label"] for key in bands if results[key]["consistent"]]}
    return out


def local_hydrogen_density_cm3(r_kpc: float, galaxy_cfg: dict | None = None) -> float:
    """n_H = n_HI + 2 n_H2 + n_HII at (r, z = 0) [cm^-3], the gas models of the propagation stage."""
    from ..galaxy.gas import GasModel

    n_h = GasModel.from_config(galaxy_cfg).hydrogen_atoms_cm3(np.array([float(r_kpc)]), np.array([0.0]))
    return float(n_h[0])


def parent_proton_check(extra_components: dict, local_spectra, galaxy_cfg: dict | None = None,
                        fraction_max: float = 0.1, energy_range_GeV=(10.0, 1.0e6)) -> dict:
    """Parent protons a hadronic origin of the fitted extras needs, against the local proton LIS.

    Parameters
    ----------
    extra_components : dict
        ``components`` of an EXTRA-fit summary: per extra ``norm_per_GeV_cm3_s_sr`` (fitted),
        ``index``, ``cutoff_GeV``, ``reference_GeV``, ``r_sun_kpc`` (where the norm is defined).
    local_spectra : astropy.table.Table
        ``results/propagation/<model>/local_spectra.ecsv`` (``Ek_GeV_per_n``, ``proton_lis``).
    galaxy_cfg : dict, optional
        ``propagation.galaxy`` (gas settings).
    fraction_max : float
        Largest allowed ratio to the measured (best-fit) protons.
    energy_range_GeV : (float, float)
        Proton kinetic energies where the comparison is made: where the measured protons constrain
        the LIS (default 10 GeV - 1 PeV; above the knee the air-shower proton spectra differ by
        factors, docs/paper.md DR-high vs DR-low, and the paper notes that no CR measurement constrains
        EXTRA2).

    Returns
    -------
    dict
        Per extra and for their sum: ``max_ratio`` (parent protons / LIS), ``energy_GeV`` at the
        maximum, ``n_H_cm3``; ``needs_hadron_less`` (max ratio of the sum > fraction_max).
    """
    from ..emission import fit_parent_proton_ecpl

    ek_lis = local_spectra["Ek_GeV_per_n"].quantity.to_value(u.GeV)
    lis = local_spectra["proton_lis"].quantity.to_value(INTENSITY_UNIT)
    positive = lis > 0
    out, total = {}, None
    grid = None
    for name, entry in extra_components.items():
        norm = float(entry.get("norm_per_GeV_cm3_s_sr", 0.0))
        if norm <= 0:
            continue
        r_sun = float(entry.get("r_sun_kpc", 8.5))
        n_h = local_hydrogen_density_cm3(r_sun, galaxy_cfg)
        fit = fit_parent_proton_ecpl(float(entry["index"]), float(entry["cutoff_GeV"]), np.array([1e3, 1e4]),
                                     float(entry.get("reference_GeV", 1000.0)))
        grid = fit.proton_ek_GeV if grid is None else grid
        needed = norm / n_h * fit.proton_intensity_per_unit_norm
        inside = ((grid >= max(ek_lis[positive].min(), energy_range_GeV[0]))
                  & (grid <= min(ek_lis[positive].max(), energy_range_GeV[1])))
        ratio = np.zeros_like(grid)
        ratio[inside] = needed[inside] / loglog_interp(grid[inside], ek_lis[positive], lis[positive])
        best = int(np.argmax(ratio))
        out[name] = {"max_ratio": float(ratio[best]), "energy_GeV": float(grid[best]), "n_H_cm3": n_h,
                     "proton_index": fit.proton_index, "proton_cutoff_GeV": fit.proton_cutoff_GeV}
        total = ratio if total is None else total + ratio
    if total is None:
        return {"components": out, "max_ratio": 0.0, "energy_GeV": None, "needs_hadron_less": False,
                "fraction_max": fraction_max, "energy_range_GeV": list(energy_range_GeV)}
    best = int(np.argmax(total))
    return {"components": out, "max_ratio": float(total[best]), "energy_GeV": float(grid[best]),
            "needs_hadron_less": bool(total[best] > fraction_max), "fraction_max": fraction_max,
            "energy_range_GeV": list(energy_range_GeV)}


def gamma_check(extra_fit: dict, p_value_min: float = 0.01) -> dict:
    """The EXTRA fit's quality: chi2, ndof, p-value and whether it describes the gamma-ray data."""
    if "chi2" not in extra_fit:
        return {"fitted": False, "ok": None}
    p_value = extra_fit.get("p_value")
    return {"fitted": True, "chi2": extra_fit["chi2"], "ndof": extra_fit["ndof"], "p_value": p_value,
            "ok": bool(p_value is not None and p_value >= p_value_min), "p_value_min": p_value_min}


def build_table4(models: dict, settings: dict | None = None, printed_of: dict | None = None) -> dict:
    """Table IV from each model's computed checks.

    Parameters
    ----------
    models : dict
        ``{model: {"spectra": window Table, "extra_fit": dict, "local_spectra": Table}}``.
    settings : dict, optional
        ``tables.table4`` (n_sigma, proton_fraction_max, gamma_p_value_min, window) plus
        ``bands`` (window band tables), ``template_fits``, ``galaxy_cfg`` and, optional,
        ``ratio_errors``: ``{model: {scenario: {template: {"error": float or None, ...}}}}``, the
        flux ratios' errors over the fits' band draws (``results/bands/table4.json``, rule
        band_table4), printed as ``ratio +- error`` beside each ratio.
    printed_of : dict, optional
        ``{as-printed model: its refit}`` (:func:`galdiff.conventions.as_printed_of`), for the labels.

    Returns
    -------
    dict
        ``{"models": {model: {"gamma", "neutrino", "protons"}}, "rows": {origin: {column:
        {"ours": str, "paper": str}}}, "settings"}``.
    """
    cfg = {**schema_defaults("tables.table4"), **(settings or {})}
    n_sigma = float(cfg["n_sigma"])
    per_model = {}
    for model, inputs in models.items():
        per_model[model] = {
            "gamma": gamma_check(inputs["extra_fit"], float(cfg["gamma_p_value_min"])),
            "neutrino": neutrino_check(inputs["spectra"], cfg["bands"], cfg["template_fits"], n_sigma),
            "protons": parent_proton_check(inputs["extra_fit"].get("components", {}), inputs["local_spectra"],
                                           cfg.get("galaxy_cfg"), float(cfg["proton_fraction_max"]),
                                           tuple(cfg["proton_energy_range_GeV"])),
        }
    rows = {}
    for origin in ("leptonic", "hadronic"):
        p_parts, nu_parts, gamma_parts = [], [], []
        for model, checks in per_model.items():
            label = model_label(model, printed_of, numbered=True)
            if origin == "leptonic":
                p_parts.append(f"{label}: yes (no protons)")
            else:
                protons = checks["protons"]
                verdict = "hadron-less" if protons["needs_hadron_less"] else "yes"
                where = f" at {protons['energy_GeV'] / 1e3:.3g} TeV" if protons["energy_GeV"] else ""
                p_parts.append(f"{label}: {verdict} (p_extra/p_measured = {protons['max_ratio']:.2g}{where})")
            neutrino = checks["neutrino"][origin]
            if neutrino is None:
                nu_parts.append(f"{label}: n/a (extras leptonic in the maps)")
            else:
                errors = ((cfg.get("ratio_errors") or {}).get(model) or {}).get(origin) or {}
                ratios = ", ".join(f"{r['label']} {_ratio_text(r['ratio'], errors.get(key))}"
                                   for key, r in neutrino["templates"].items())
                nu_parts.append(f"{label}: {', '.join(neutrino['consistent']) or 'none'} (model/fit: {ratios})")
            gamma = checks["gamma"]
            if gamma["fitted"]:
                verdict = "yes" if gamma["ok"] else "no"
                gamma_parts.append(f"{label}: {verdict} (chi2/ndof = {gamma['chi2']:.1f}/{gamma['ndof']})")
            else:
                gamma_parts.append(f"{label}: not fitted")
        rows[origin] = {
            "p": {"ours": "; ".join(p_parts), "paper": PAPER_TABLE4[origin]["p"]},
            "nu": {"ours": "; ".join(nu_parts), "paper": PAPER_TABLE4[origin]["nu"]},
            "gamma": {"ours": "; ".join(gamma_parts), "paper": PAPER_TABLE4[origin]["gamma"]},
        }
    public = {key: value for key, value in cfg.items() if key not in ("bands", "template_fits", "ratio_errors")}
    public["ratio_errors"] = bool(cfg.get("ratio_errors"))
    return {"models": per_model, "rows": rows, "settings": public}


def _ratio_text(ratio: float, error_entry: dict | None) -> str:
    """``0.93`` or, with an error from the band draws, ``0.93 +- 0.05`` (the error to the ratio's two
    decimals; one significant digit below 0.005, e.g. ``0.64 +- 0.002``, where only normalisations are free)."""
    error = (error_entry or {}).get("error")
    if error is None:
        return f"{ratio:.2f}"
    return f"{ratio:.2f} +- {error:.2f}" if error >= 0.005 else f"{ratio:.2f} +- {error:.1g}"


_COLUMNS = (("p", "p (CR protons)"), ("nu", "nu (IceCube template)"), ("gamma", "gamma (LHAASO fit)"))


def render_table4_markdown(table4: dict) -> str:
    """Markdown Table IV: ours beside the paper's, per origin and column."""
    window = table4["settings"].get("window", "all_sky")
    lines = [
        "# Table IV: origin of the extra sources vs cosmic-ray, neutrino and gamma-ray data",
        "",
        f"Neutrino window: {window}; a template is consistent when the model's flux in its 90 % energy range "
        f"is within {table4['settings'].get('n_sigma', 1.0):g} sigma of IceCube's fit. "
        f"Protons: hadron-less when the extras' parent protons would exceed "
        f"{table4['settings'].get('proton_fraction_max', 0.1):g} of the measured local protons between "
        f"{_energy_text(table4['settings'].get('proton_energy_range_GeV', (10.0, 1.0e6)))}."
        + (" Flux ratios model/fit +- half the 68 % interval over the fits' parameter draws (the model's error; "
           "IceCube's is in the consistency test)." if table4["settings"].get("ratio_errors") else ""),
        "",
        "| origin | column | ours | paper |",
        "|---|---|---|---|",
    ]
    for origin, row in table4["rows"].items():
        for key, title in _COLUMNS:
            lines.append(f"| {origin} | {title} | {row[key]['ours']} | {row[key]['paper']} |")
    return "\n".join(lines) + "\n"


def _energy_text(range_GeV) -> str:
    low, high = (float(value) for value in range_GeV)
    return f"{low:g} GeV and {high / 1e3:g} TeV"


def _tex(text: str) -> str:
    return (text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")
            .replace("#", r"\#").replace("+-", r"$\pm$").replace("pi0", r"$\pi^0$").replace("chi2", r"$\chi^2$").replace("gamma", r"$\gamma$"))


def render_table4_latex(table4: dict) -> str:
    """LaTeX Table IV (tabular; ours beside the paper's)."""
    lines = [
        r"\begin{table*}",
        r"\caption{Origin of the extra sources and the cosmic-ray (p), neutrino ($\nu$) and gamma-ray ($\gamma$) data: "
        r"this work beside the paper's Table IV.}",
        r"\label{tab:origins}",
        r"\begin{tabular}{llp{0.55\textwidth}l}",
        r"\hline",
        r"origin & data & this work & paper \\",
        r"\hline",
    ]
    for origin, row in table4["rows"].items():
        for key, title in (("p", "p"), ("nu", r"$\nu$"), ("gamma", r"$\gamma$")):
            lines.append(f"{origin} & {title} & {_tex(row[key]['ours'])} & {_tex(row[key]['paper'])} \\\\")
        lines.append(r"\hline")
    lines += [r"\end{tabular}", r"\end{table*}"]
    return "\n".join(lines) + "\n"
