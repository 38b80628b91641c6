"""The emissivity file ``results/emission/{model}/emissivity.h5``: write and read an
:class:`~galdiff.emission.grid.EmissivityResult` through the verified HDF5 layer (galdiff.io)."""

from __future__ import annotations

import json
from pathlib import Path

from galdiff.io import reading_h5, writing_h5
from galdiff.provenance import provenance_meta

from .grid import EmissivityResult

#: Version of the emissivity file's layout
FILE_FORMAT_VERSION = "1"


# ------------------------------------------------------------------------------------------------
# file format
# ------------------------------------------------------------------------------------------------
_CONVENTION_TEXT = (
    "Emissivities per steradian. per_H: photons/neutrinos GeV-1 s-1 sr-1 per target H atom (multiply by "
    "n_H = n_HI + 2 n_H2 + n_HII along the line of sight; He/H of the ISM folded in). per_volume: "
    "GeV-1 cm-3 s-1 sr-1. Intensity I = int ds (n_H q + j), no 1/(4 pi) (docs/conventions.md#flux-density-and-emissivity, docs/emission.md#line-of-sight). "
    "Neutrinos per flavour (nu + anti-nu) after averaged oscillations. Arrays are (n_r, n_z, n_E), C order."
)


def write_emissivity_h5(path, result: EmissivityResult, inputs=None, config=None):
    """Write an :class:`EmissivityResult` to HDF5 atomically (``results/emission/{model}/emissivity.h5``).

    Layout: ``/axes/{r_kpc, z_kpc, gamma_energy_GeV, neutrino_energy_GeV}``; ``/components/<name>``
    (n_r, n_z, n_E) with attrs convention, units, energy_axis, messenger, absorbed, description;
    ``/absorption/kappa_per_kpc`` (n_r, n_z, n_gamma); ``/gas/{HI, H2, HII}_cm3``; root attrs
    ``convention``, ``axis_order``, ``format_version``, ``settings`` (JSON) and ``provenance`` (JSON:
    package version, config hash, input sha256, :func:`galdiff.provenance.provenance_meta`).

    Parameters
    ----------
    path : str or Path
    result : EmissivityResult
    inputs : dict, optional
        Name -> input file path whose sha256 is recorded (e.g. cr.h5, the ISRF file).
    config : dict, optional
        Configuration whose hash is recorded.
    """
    meta = provenance_meta(inputs=inputs, config=config)
    with writing_h5(path) as handle:
        handle.attrs["convention"] = _CONVENTION_TEXT
        handle.attrs["axis_order"] = "r, z, energy"
        handle.attrs["format_version"] = FILE_FORMAT_VERSION
        handle.attrs["component_names"] = json.dumps(list(result.components))
        handle.attrs["settings"] = json.dumps(result.attrs, default=str)
        handle.attrs["provenance"] = json.dumps(meta, default=str)
        axes = handle.create_group("axes")
        axes.create_dataset("r_kpc", data=result.r_kpc).attrs["units"] = "kpc"
        axes.create_dataset("z_kpc", data=result.z_kpc).attrs["units"] = "kpc"
        for name, values in result.energies.items():
            axes.create_dataset(name, data=values).attrs["units"] = "GeV"
        comps = handle.create_group("components")
        for name, values in result.components.items():
            dset = comps.create_dataset(name, data=values, compression="gzip", compression_opts=4, shuffle=True)
            for key, value in result.component_meta[name].items():
                dset.attrs[key] = value
        if result.kappa_per_kpc is not None:
            dset = handle.create_group("absorption").create_dataset(
                "kappa_per_kpc", data=result.kappa_per_kpc, compression="gzip", compression_opts=4)
            dset.attrs["units"] = "kpc-1"
            dset.attrs["energy_axis"] = "gamma_energy_GeV"
            dset.attrs["description"] = "pair-absorption coefficient 1/lambda on the isotropic ISRF + CMB"
        gas = handle.create_group("gas")
        for key, values in result.gas_cm3.items():
            dset = gas.create_dataset(f"{key}_cm3", data=values)
            dset.attrs["units"] = "cm-3 (H2: molecules)" if key == "H2" else "cm-3"
    return Path(path)


def read_emissivity_h5(path) -> EmissivityResult:
    """Read a file written by :func:`write_emissivity_h5`; ``attrs`` gains 'provenance' and 'convention'."""
    path = Path(path)
    with reading_h5(path) as handle:
        if handle.attrs.get("format_version") != FILE_FORMAT_VERSION:
            raise ValueError(f"{path}: unknown emissivity file format {handle.attrs.get('format_version')!r}")
        axes = handle["axes"]
        energies = {name: axes[name][()] for name in axes if name.endswith("_GeV")}
        names = json.loads(handle.attrs["component_names"])
        components = {name: handle["components"][name][()] for name in names}
        component_meta = {}
        for name in names:
            meta = {}
            for key, value in handle["components"][name].attrs.items():
                meta[key] = bool(value) if key == "absorbed" else (value.decode() if isinstance(value, bytes) else value)
            component_meta[name] = meta
        kappa = handle["absorption"]["kappa_per_kpc"][()] if "absorption" in handle else None
        gas = {key[: -len("_cm3")]: handle["gas"][key][()] for key in handle["gas"]}
        attrs = json.loads(handle.attrs["settings"])
        attrs["provenance"] = json.loads(handle.attrs["provenance"])
        attrs["convention"] = handle.attrs["convention"]
        return EmissivityResult(r_kpc=axes["r_kpc"][()], z_kpc=axes["z_kpc"][()], energies=energies, components=components,
                                component_meta=component_meta, kappa_per_kpc=kappa, gas_cm3=gas, attrs=attrs)
