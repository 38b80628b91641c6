"""Raw data: the registry of files, verified download with mirrors, one reader per raw format,
and the tidy data sets (ECSV tables with units) built from them.

Importing this package enables the ``nucleon`` unit (``GeV / nucleon`` axes in ECSV files).
"""

from .datasets import (
    DATASETS,
    DatasetSpec,
    EkPerNucleonSpectrum,
    build_dataset,
    flux_vs_ek_per_n,
    list_datasets,
    read_dataset,
    write_dataset,
)
from .download import DataIntegrityError, materialise, materialise_all
from .registry import RegistryEntry, default_registry_path, load_registry

__all__ = [
    "DATASETS",
    "DataIntegrityError",
    "DatasetSpec",
    "EkPerNucleonSpectrum",
    "RegistryEntry",
    "build_dataset",
    "default_registry_path",
    "flux_vs_ek_per_n",
    "list_datasets",
    "load_registry",
    "materialise",
    "materialise_all",
    "read_dataset",
    "write_dataset",
]
