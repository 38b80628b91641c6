# Helpers shared by all rules: config validation, registry look-ups, library import path.
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(workflow.basedir)
# Scripts (also in conda environments) import the library from the source tree.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(PROJECT_ROOT / "src"), os.environ.get("PYTHONPATH", "")]
).rstrip(os.pathsep)
sys.path.insert(0, str(PROJECT_ROOT / "src"))

from galdiff.config import validate_config
from galdiff.data.registry import load_registry
from galdiff.data.datasets import DATASETS
from galdiff.fitting import default_data_selection

validate_config(config, PROJECT_ROOT / "workflow" / "schemas" / "config.schema.yaml")

REGISTRY = load_registry(PROJECT_ROOT / config["data"]["registry"])
CONDA_ENV = str(PROJECT_ROOT / "envs" / "galdiff.yaml")
PROP = config["propagation"]
MODELS = list(config["models"])


def project_path(path):
    """A config path made absolute against the project root."""
    path = Path(path)
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


def raw_file(name):
    """Where the workflow keeps raw file `name`: downloaded files under data/raw/, transcribed ones in the repo."""
    entry = REGISTRY[name]
    if entry.kind == "transcribed":
        return project_path(entry.path)
    return f"data/raw/{entry.folder}/{name}"


def dataset_raw_files(wildcards):
    spec = DATASETS[wildcards.dataset]
    names = [Path(relative).name for relative in spec.raw_files]
    return {name: raw_file(name) for name in names}


def normalisation_table(species):
    """Tidy table that fixes the overall scale of a propagated species."""
    return f"results/data/{PROP['normalisation'][species]['dataset']}.ecsv"


def fit_datasets(model):
    """Every tidy table the injection fits of ``model`` use (knee data set per model)."""
    selection = default_data_selection(config["models"][model].get("knee_dataset", "icetop"), True)
    return sorted({name for fit in selection.values() for name in fit})
