"""The one figure style every galdiff figure uses: fonts, sizes, experiment markers, saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from ..conventions import model_label as conventions_model_label

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..provenance import atomic_path  # noqa: E402

# Single-column journal width in inches; figures are drawn at print size so fonts read as in the paper.
COLUMN_WIDTH_IN = 3.4
DOUBLE_COLUMN_WIDTH_IN = 7.0

RC_PARAMS = {
    "font.family": "serif",
    "font.size": 8.5,
    "axes.labelsize": 9,
    "axes.titlesize": 9,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "xtick.minor.visible": True,
    "ytick.minor.visible": True,
    "axes.linewidth": 0.7,
    "lines.linewidth": 1.2,
    "errorbar.capsize": 1.5,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,
    "mathtext.fontset": "dejavuserif",
}

# Markers and colours per experiment, shared by every figure (docs/paper.md#figures-and-tables).
EXPERIMENT_STYLE = {
    "Fermi-LAT": dict(color="black", marker="x", ms=4, ls="none"),
    "LHAASO-KM2A": dict(color="tab:blue", marker="^", ms=4, ls="none"),
    "Tibet ASgamma": dict(color="tab:red", marker="P", ms=4.5, ls="none"),
    "AMS-02": dict(color="tab:red", marker="o", ms=2.5, ls="none"),
    "DAMPE": dict(color="goldenrod", marker="x", ms=3.5, ls="none"),
    "IceTop": dict(color="tab:green", marker="s", ms=3, ls="none"),
    "KASCADE": dict(color="tab:purple", marker="D", ms=3, ls="none"),
    "Voyager 1": dict(color="tab:gray", marker="v", ms=3, ls="none"),
}

E2_FLUX_LABEL = r"$E^2\,\mathrm{d}N/\mathrm{d}E$ [GeV cm$^{-2}$ s$^{-1}$ sr$^{-1}$]"
ENERGY_LABEL_GEV = r"$E$ [GeV]"


#: colour of each refit model; its as-printed twin (``models.<m>.refit_model``) is drawn in the same colour
MODEL_COLOURS = {"dr_low": "tab:blue", "dr_high": "tab:red"}
#: line weight of a refit model's curves, and of its as-printed twin's (thin dashed, same colour)
REFIT_LW, AS_PRINTED_LW = 1.2, 0.8


def model_label(model: str, printed_of: dict | None = None) -> str:
    """Legend name of a model: ``DR-high refit`` or, for an as-printed model, ``DR-high as printed``
    (:func:`galdiff.conventions.model_label`, the refit marked where its twin is drawn beside it)."""
    return conventions_model_label(model, printed_of, mark_refit=True)


def model_line_style(model: str, printed_of: dict | None = None) -> dict:
    """Colour, line style and weight of a model's curve: refits solid, as-printed twins thin dashed.

    ``printed_of`` maps each as-printed model to the refit it mirrors (``models.<m>.refit_model``), so
    that one glance at a figure shows both in the same colour.
    """
    refit = (printed_of or {}).get(model)
    if refit is not None:
        return {"color": MODEL_COLOURS.get(refit, "gray"), "ls": "--", "lw": AS_PRINTED_LW}
    return {"color": MODEL_COLOURS.get(model, "black"), "ls": "-", "lw": REFIT_LW}


def apply_style() -> None:
    """Set the shared matplotlib rc parameters."""
    plt.rcParams.update(RC_PARAMS)


def log_log_axes(width_in: float = COLUMN_WIDTH_IN, height_in: float = 2.7):
    """A new figure in the shared style with one log-log axes."""
    apply_style()
    fig, ax = plt.subplots(figsize=(width_in, height_in))
    ax.set_xscale("log")
    ax.set_yscale("log")
    return fig, ax


def e2_flux_axes(width_in: float = COLUMN_WIDTH_IN, height_in: float = 2.7):
    """A new log-log figure with E [GeV] on x and E^2 dN/dE on y."""
    fig, ax = log_log_axes(width_in, height_in)
    ax.set_xlabel(ENERGY_LABEL_GEV)
    ax.set_ylabel(E2_FLUX_LABEL)
    return fig, ax


def save_figure(fig, path: str | Path, provenance: dict | None = None) -> Path:
    """Save atomically; PDF metadata records what made the figure (showyourwork-style traceability).

    The PDF carries no creation date, so identical figures give identical bytes.
    """
    path = Path(path)
    metadata = None
    if path.suffix == ".pdf":
        metadata = {"Creator": "galdiff", "Subject": str(provenance or {}), "CreationDate": None}
    with atomic_path(path) as tmp:
        fig.savefig(tmp, metadata=metadata)
    plt.close(fig)
    return path


#: opacity of the uncertainty bands (galdiff.uncertainty): the first confidence level, the second (lighter);
#: an as-printed model's band is drawn at BAND_AS_PRINTED_FACTOR of these
BAND_ALPHAS = (0.32, 0.14)
BAND_AS_PRINTED_FACTOR = 0.6
#: opacity of the envelope of the systematic variants (a second, lighter band)
SYSTEMATIC_BAND_ALPHA = 0.10


def band_style(model: str, printed_of: dict | None = None, level_index: int = 0, color: str | None = None) -> dict:
    """Fill style of a model's uncertainty band: the model's colour (or a component's ``color``),
    lighter for the wider level.

    Every band of every figure is drawn with this (one style across figures, issue 13).
    """
    colour = color or model_line_style(model, printed_of)["color"]
    alpha = BAND_ALPHAS[min(level_index, len(BAND_ALPHAS) - 1)]
    if (printed_of or {}).get(model) is not None:
        alpha *= BAND_AS_PRINTED_FACTOR
    return {"color": colour, "alpha": alpha, "lw": 0.0}


def draw_band(ax, x, lower, upper, model: str, printed_of: dict | None = None, level_index: int = 0,
              label: str | None = None, color: str | None = None):
    """Shade a model's band between ``lower`` and ``upper`` (NaN and non-positive values left open)."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    good = np.isfinite(lower) & np.isfinite(upper) & (upper > 0)
    return ax.fill_between(np.asarray(x, dtype=float), np.where(good, lower, np.nan), np.where(good, upper, np.nan),
                           where=good, label=label, **band_style(model, printed_of, level_index, color))


def read_model_tables(spectra_path, printed_path=None, band_path=None, printed_band_path=None):
    """A spectra figure's model tables: the model's region spectra, its as-printed twin and both bands.

    Returns ``(spectra, tables, inputs)``: ``tables`` the keyword arguments ``printed_table``,
    ``band_table``, ``printed_band_table`` of the figure functions (None where a path is not given),
    ``inputs`` the ``{"<folder>/<file>": path}`` entries of the figure's provenance.
    """
    from ..data.datasets import read_dataset  # plotting is imported by data-free code too

    paths = {"printed_table": printed_path, "band_table": band_path, "printed_band_table": printed_band_path}
    tables = {key: read_dataset(path) if path else None for key, path in paths.items()}
    inputs = {f"{Path(p).parent.name}/{Path(p).name}": p
              for p in (spectra_path, printed_path, band_path, printed_band_path) if p}
    return read_dataset(spectra_path), tables, inputs


def systematic_band_style(model: str, printed_of: dict | None = None, color: str | None = None) -> dict:
    """Fill style of the envelope of the systematic variants: the statistical band's colour, lighter
    (:data:`SYSTEMATIC_BAND_ALPHA`), hatched-free and under the curves; an as-printed twin's lighter still."""
    style = band_style(model, printed_of, 0, color)
    alpha = SYSTEMATIC_BAND_ALPHA * (BAND_AS_PRINTED_FACTOR if (printed_of or {}).get(model) is not None else 1.0)
    return {**style, "alpha": alpha, "zorder": 0.5}


def draw_systematic_envelopes(ax, envelope_table, styles, weight_of, *, model: str = "", as_printed: bool = False,
                              note: bool = True, skip_prefixes=("extra",)) -> None:
    """Shade each component's envelope over the systematic variants (galdiff.uncertainty.systematics).

    Parameters
    ----------
    envelope_table : astropy.table.Table or None
        ``results/systematics/<model>/envelope_<region>.ecsv`` (``energy``, ``<c>_syst_lo``, ``<c>_syst_hi``);
        None draws nothing.
    styles : mapping
        component -> (label, colour, line style), as for the figure's curves.
    weight_of : callable
        Energy [GeV] -> factor on the intensities.
    as_printed : bool
        The as-printed twin's envelope (lighter).
    note : bool
        Write which variants the light band spans in the axes' lower left corner.
    skip_prefixes : tuple of str
        Components not shaded: by default the EXTRA components, whose norms are refitted on each variant
        (an extra fitted to 0 by one variant would shade down to the axis; their envelope is in the table,
        what they absorb shows in the total's).
    """
    if envelope_table is None:
        return
    energy = envelope_table["energy"].quantity.to_value("GeV")
    weight = weight_of(energy)
    printed_of = {model: model} if as_printed else None
    for component, (_, colour, _) in styles.items():
        if component.startswith(tuple(skip_prefixes)):
            continue
        lo, hi = f"{component}_syst_lo", f"{component}_syst_hi"
        if lo not in envelope_table.colnames or not np.any(np.asarray(envelope_table[component]) > 0):
            continue
        lower, upper = (weight * np.asarray(envelope_table[name], dtype=float) for name in (lo, hi))
        good = np.isfinite(lower) & np.isfinite(upper) & (upper > 0)
        if not np.any(upper[good] > lower[good]):
            continue
        ax.fill_between(energy, np.where(good, lower, np.nan), np.where(good, upper, np.nan), where=good,
                        **systematic_band_style(model, printed_of, colour))
    if note and not as_printed:
        variants = ", ".join(envelope_table.meta.get("variants", []))
        ax.text(0.02, 0.02, f"lightest bands: systematic envelope ({variants})", transform=ax.transAxes,
                fontsize=5, color="0.3", ha="left", va="bottom")


def read_systematics_tables(syst_path=None, printed_syst_path=None):
    """The envelope tables of a figure's model and its as-printed twin (None where a path is not given),
    and their provenance entries."""
    from ..data.datasets import read_dataset

    tables = {key: read_dataset(path) if path else None
              for key, path in (("syst", syst_path), ("printed_syst", printed_syst_path))}
    inputs = {f"{Path(p).parent.name}/{Path(p).name}": p for p in (syst_path, printed_syst_path) if p}
    return tables, inputs
