"""Materialise one raw file from a mirror or its public URL, sha256-verified (rule download_raw).

Mirrors and registry come from the configuration, not from rule params, so that changing them
reruns nothing; an existing copy with the registry sha256 is kept untouched.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _logging import setup_logging  # noqa: E402

from galdiff.data.download import materialise  # noqa: E402
from galdiff.data.registry import load_registry  # noqa: E402


def main(output_path, registry_path, mirrors, project_root, log_path):
    log = setup_logging(log_path)
    entry = load_registry(registry_path)[Path(output_path).name]
    path = materialise(entry, output_path, mirrors, project_root)
    log.info("%s verified (sha256 %s)", path, entry.sha256)


if __name__ == "__main__":
    PROJECT_ROOT = Path(snakemake.scriptdir).parents[1]  # noqa: F821 - workflow/scripts -> project root
    main(
        snakemake.output[0],  # noqa: F821
        PROJECT_ROOT / snakemake.config["data"]["registry"],  # noqa: F821
        snakemake.config["data"]["mirrors"],  # noqa: F821
        PROJECT_ROOT,
        snakemake.log[0],  # noqa: F821
    )
