"""How an output was made, and writing it so that a killed run leaves nothing half-written."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from . import __version__


def sha256_of_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def config_hash(config: dict) -> str:
    """Short stable hash of a (JSON-serialisable) configuration mapping."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def provenance_meta(inputs: dict[str, str | os.PathLike] | None = None, config: dict | None = None) -> dict:
    """Metadata recorded in every output: package version, config hash, input checksums."""
    meta = {"galdiff_version": __version__}
    if config is not None:
        meta["config_hash"] = config_hash(config)
    if inputs:
        meta["inputs_sha256"] = {name: sha256_of_file(path) for name, path in inputs.items()}
    return meta


@contextlib.contextmanager
def atomic_path(final_path: str | os.PathLike):
    """Yield a temporary path beside ``final_path``; rename it into place only on success.

    The temporary file keeps the final suffix so that writers which infer the format from
    the name (astropy, matplotlib, h5py) still work.
    """
    final_path = Path(final_path)
    final_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{final_path.stem}.", suffix=f".part{final_path.suffix}", dir=final_path.parent
    )
    os.close(fd)
    os.unlink(tmp_name)  # writers that refuse to overwrite get a fresh name
    try:
        yield Path(tmp_name)
        os.replace(tmp_name, final_path)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
