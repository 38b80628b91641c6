"""Raw data: the registry of files, verified download with mirrors, one reader per raw format,
and the tidy data sets (ECSV tables with units) built from them.

The names below are imported on first use (PEP 562), so that a job that only verifies a raw file
(``galdiff.data.download``, ``galdiff.data.registry``) does not import astropy. Importing
:mod:`galdiff.data.readers` (which :mod:`galdiff.data.datasets` and every ECSV read in
:mod:`galdiff.io` do) enables the ``nucleon`` unit (``GeV / nucleon`` axes in ECSV files).
"""

import importlib

_SUBMODULE_OF = {
    "DATASETS": "datasets",
    "DatasetSpec": "datasets",
    "EkPerNucleonSpectrum": "datasets",
    "build_dataset": "datasets",
    "flux_vs_ek_per_n": "datasets",
    "list_datasets": "datasets",
    "read_dataset": "datasets",
    "write_dataset": "datasets",
    "DataIntegrityError": "download",
    "materialise": "download",
    "materialise_all": "download",
    "RegistryEntry": "registry",
    "default_registry_path": "registry",
    "load_registry": "registry",
}

__all__ = sorted(_SUBMODULE_OF)


def __getattr__(name):
    if name not in _SUBMODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_SUBMODULE_OF[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
