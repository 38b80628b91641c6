"""The registry of names: map components, neutrino flavours, the intensity unit and the models' labels.

One place for the names every stage shares (emission writes the components, sky maps integrate
them, region spectra average them, rules name their files), so that a list is never written
twice. Conventions of units and kinematics: docs/conventions.md#units-and-conventions.
"""

from __future__ import annotations

from dataclasses import dataclass

from astropy import units as u

__all__ = [
    "INTENSITY_UNIT_STRING",
    "INTENSITY_UNIT",
    "FLAVOURS",
    "MapComponent",
    "MAP_COMPONENT_REGISTRY",
    "MAP_COMPONENTS",
    "GAMMA_SOURCES",
    "GAMMA_COMPONENTS",
    "NEUTRINO_COMPONENTS",
    "EXTRA_COMPONENTS",
    "MODEL_NAMES",
    "PAPER_MODEL_NUMBERS",
    "as_printed_of",
    "map_component",
    "model_label",
]

#: Differential intensity of maps, region spectra and tidy flux tables (FITS ``BUNIT``, ECSV units)
INTENSITY_UNIT_STRING = "GeV-1 cm-2 s-1 sr-1"
INTENSITY_UNIT = u.Unit(INTENSITY_UNIT_STRING)

#: Neutrino flavours at Earth, in the order of every per-flavour axis and name (``neutrino_<flavour>``)
FLAVOURS = ("e", "mu", "tau")


@dataclass(frozen=True)
class MapComponent:
    """One map cube the workflow writes per model (``results/maps/<model>/<name>.fits``).

    Attributes
    ----------
    name : str
    messenger : {"gamma", "neutrino"}
    emissivity : {"per_H", "per_volume"} or None
        How its emissivity is given (per target H atom: integrated with the gas-weighted
        line-of-sight operator; per volume: with the path-length one); None for a sum of other
        components.
    sums_into : str or None
        The total this component is a term of (``gamma_total``, ``neutrino_total``); None for a total.
    extra : str or None
        The unresolved-source (EXTRA) component it belongs to (``extra1``, ``extra2``), whose norm the
        spectra stage fits; None for the propagated cosmic rays' emission and the totals.
    """

    name: str
    messenger: str
    emissivity: str | None
    sums_into: str | None
    extra: str | None = None


def _neutrino_flavours():
    return tuple(MapComponent(f"neutrino_{flavour}", "neutrino", None, "neutrino_total") for flavour in FLAVOURS)


#: Every map component, in the order the maps, region spectra and figures use
MAP_COMPONENT_REGISTRY = (
    MapComponent("pi0", "gamma", "per_H", "gamma_total"),
    MapComponent("bremsstrahlung", "gamma", "per_H", "gamma_total"),
    MapComponent("inverse_compton", "gamma", "per_volume", "gamma_total"),
    MapComponent("extra1", "gamma", "per_volume", "gamma_total", extra="extra1"),
    MapComponent("extra2", "gamma", "per_volume", "gamma_total", extra="extra2"),
    MapComponent("gamma_total", "gamma", None, None),
    # all flavours of one source; the per-flavour cubes below split the same total by flavour
    MapComponent("neutrino_diffuse", "neutrino", "per_H", "neutrino_total"),
    MapComponent("extra1_neutrino", "neutrino", "per_volume", "neutrino_total", extra="extra1"),
    MapComponent("extra2_neutrino", "neutrino", "per_volume", "neutrino_total", extra="extra2"),
    *_neutrino_flavours(),
    MapComponent("neutrino_total", "neutrino", None, None),
)
#: Names of every map component (``results/maps/<model>/<component>.fits``), in order
MAP_COMPONENTS = tuple(component.name for component in MAP_COMPONENT_REGISTRY)
#: The gamma-ray components that sum into ``gamma_total`` (each integrated with pair absorption)
GAMMA_SOURCES = tuple(c.name for c in MAP_COMPONENT_REGISTRY if c.messenger == "gamma" and c.sums_into)
#: Gamma-ray map components, the total included
GAMMA_COMPONENTS = tuple(c.name for c in MAP_COMPONENT_REGISTRY if c.messenger == "gamma")
#: Neutrino map components (all flavours per source, per flavour, total)
NEUTRINO_COMPONENTS = tuple(c.name for c in MAP_COMPONENT_REGISTRY if c.messenger == "neutrino")
#: Map components of the unresolved sources (EXTRA1, EXTRA2: gamma rays, then neutrinos), linear in the fitted norms
EXTRA_COMPONENTS = tuple(c.name for c in MAP_COMPONENT_REGISTRY if c.extra)

#: Display names of the paper's two propagation models (docs/paper.md#model-chain: DR-high fitted to
#: IceTop at the knee, DR-low to KASCADE); other models are shown by their configuration name
MODEL_NAMES = {"dr_high": "DR-high", "dr_low": "DR-low"}
#: The paper's numbering of the models with their extra components (Model 1 = DR-high + EXTRA1,
#: Model 2 = DR-low + EXTRA1 + EXTRA2; docs/paper.md#model-chain)
PAPER_MODEL_NUMBERS = {"dr_high": "Model 1", "dr_low": "Model 2"}


def as_printed_of(models_cfg) -> dict:
    """``{as-printed model: the refit it is drawn beside}`` from the configuration's ``models`` (``refit_model``)."""
    return {name: entry["refit_model"] for name, entry in (models_cfg or {}).items() if entry.get("refit_model")}


def model_label(model: str, printed_of: dict | None = None, *, mark_refit: bool = False,
                numbered: bool = False) -> str:
    """The name a model is shown under in every table, figure and text (one rule for all of them).

    Parameters
    ----------
    model : str
        A key of the configuration's ``models``.
    printed_of : dict, optional
        :func:`as_printed_of`: an as-printed model is shown as ``<its refit> as printed``.
    mark_refit : bool
        Add `` refit`` to a model that has an as-printed twin (figure legends, where both are drawn).
    numbered : bool
        The paper's model numbers: ``Model 1 (DR-high)``, ``Model 1 as printed``.

    Returns
    -------
    str
        ``DR-high``, ``DR-high refit``, ``DR-high as printed``, ``Model 2 (DR-low)``, ...; a model
        the paper does not have keeps its configuration name.
    """
    printed_of = printed_of or {}
    refit = printed_of.get(model)
    if refit is not None:
        base = PAPER_MODEL_NUMBERS.get(refit) if numbered else None
        return f"{base or MODEL_NAMES.get(refit, refit)} as printed"
    name = MODEL_NAMES.get(model, model)
    if numbered and model in PAPER_MODEL_NUMBERS:
        return f"{PAPER_MODEL_NUMBERS[model]} ({name})"
    return name + (" refit" if mark_refit and model in printed_of.values() else "")


def map_component(name: str) -> MapComponent:
    """The registry entry of map component ``name`` (KeyError naming the known ones otherwise)."""
    for component in MAP_COMPONENT_REGISTRY:
        if component.name == name:
            return component
    raise KeyError(f"unknown map component {name!r}; known: {list(MAP_COMPONENTS)}")
