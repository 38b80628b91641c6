"""The registry of names: map components, neutrino flavours and the intensity unit.

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
    "map_component",
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
    """

    name: str
    messenger: str
    emissivity: str | None
    sums_into: str | None


def _neutrino_flavours():
    return tuple(MapComponent(f"neutrino_{flavour}", "neutrino", None, "neutrino_total") for flavour in FLAVOURS)


#: Every map component, in the order the maps, region spectra and figures use
MAP_COMPONENT_REGISTRY = (
    MapComponent("pi0", "gamma", "per_H", "gamma_total"),
    MapComponent("bremsstrahlung", "gamma", "per_H", "gamma_total"),
    MapComponent("inverse_compton", "gamma", "per_volume", "gamma_total"),
    MapComponent("extra1", "gamma", "per_volume", "gamma_total"),
    MapComponent("extra2", "gamma", "per_volume", "gamma_total"),
    MapComponent("gamma_total", "gamma", None, None),
    # all flavours of one source; the per-flavour cubes below split the same total by flavour
    MapComponent("neutrino_diffuse", "neutrino", "per_H", "neutrino_total"),
    MapComponent("extra1_neutrino", "neutrino", "per_volume", "neutrino_total"),
    MapComponent("extra2_neutrino", "neutrino", "per_volume", "neutrino_total"),
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


def map_component(name: str) -> MapComponent:
    """The registry entry of map component ``name`` (KeyError naming the known ones otherwise)."""
    for component in MAP_COMPONENT_REGISTRY:
        if component.name == name:
            return component
    raise KeyError(f"unknown map component {name!r}; known: {list(MAP_COMPONENTS)}")
