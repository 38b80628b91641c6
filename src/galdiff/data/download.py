"""Put a verified copy of a registry file in place: from a mirror folder, else its public URL.

Every copy is checked against the registry sha256 *after* it has been written to a temporary file
beside the destination; only a matching copy is renamed into place, so a failure never leaves a
file (or a temporary file) at the destination.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from ..provenance import sha256_of_file
from .registry import RegistryEntry

DEFAULT_TIMEOUT_S = 20.0
_CHUNK_BYTES = 1 << 20


class DataIntegrityError(RuntimeError):
    """A raw file was not found anywhere, or no copy matched its registry checksum."""


def _resolve_mirror(mirror, project_root) -> Path:
    mirror = Path(mirror).expanduser()
    if not mirror.is_absolute():
        mirror = Path(project_root) / mirror
    return mirror


def _temp_beside(dest_path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{dest_path.name}.", suffix=".part", dir=dest_path.parent)
    os.close(fd)
    return Path(name)


def _copy_verified(source: Path, dest_path: Path, sha256: str) -> str:
    """Copy ``source`` to ``dest_path`` via a temporary file; return the copy's sha256.

    The copy is renamed into place only if its hash equals ``sha256``.
    """
    tmp = _temp_beside(dest_path)
    try:
        shutil.copyfile(source, tmp)
        actual = sha256_of_file(tmp)
        if actual == sha256:
            os.replace(tmp, dest_path)
        return actual
    finally:
        if tmp.exists():
            tmp.unlink()


def _download_verified(url: str, dest_path: Path, sha256: str, opener, timeout_s: float) -> str:
    """Stream ``url`` into a temporary file beside ``dest_path``; rename it into place if it matches."""
    tmp = _temp_beside(dest_path)
    digest = hashlib.sha256()
    try:
        with opener(url, timeout=timeout_s) as response, open(tmp, "wb") as handle:
            for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                digest.update(chunk)
                handle.write(chunk)
        actual = digest.hexdigest()
        if actual == sha256:
            os.replace(tmp, dest_path)
        return actual
    finally:
        if tmp.exists():
            tmp.unlink()


def materialise(
    entry: RegistryEntry,
    dest_path,
    mirrors,
    project_root,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    opener=None,
) -> Path:
    """Place a checksum-verified copy of a registry file at ``dest_path``.

    Places are tried in order: for a transcribed entry its committed ``project_root/entry.path``;
    then ``<mirror>/<entry.folder>/<entry.name>`` for each mirror (relative mirrors are resolved
    against ``project_root``); then, for a verbatim entry, ``entry.url``. The first copy whose sha256
    equals ``entry.sha256`` is written atomically (temporary file in the destination folder, then
    ``os.replace``). A ``dest_path`` that already holds the right bytes is kept as it is.

    Parameters
    ----------
    entry : RegistryEntry
    dest_path : str or os.PathLike
        Final location (parent folders are created).
    mirrors : sequence of str or os.PathLike
        Mirror folders, searched in order.
    project_root : str or os.PathLike
        Folder that relative mirror paths and transcribed ``path`` are relative to.
    timeout_s : float, optional
        Network timeout of the download, in seconds.
    opener : callable, optional
        ``opener(url, timeout=...)`` returning a readable context manager; defaults to
        :func:`urllib.request.urlopen` (tests pass a fake one).

    Returns
    -------
    pathlib.Path
        ``dest_path``.

    Raises
    ------
    DataIntegrityError
        When no place holds a copy with the expected sha256. The single message names the file,
        the expected sha256, every place looked and why each failed (with the actual sha256 of
        every mismatching copy).
    """
    dest_path = Path(dest_path)
    project_root = Path(project_root)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    if opener is None:
        opener = urllib.request.urlopen
    expected = entry.sha256
    looked: list[str] = []

    if dest_path.is_file():
        actual = sha256_of_file(dest_path)
        if actual == expected:
            return dest_path
        looked.append(f"  - {dest_path}: existing copy has sha256 {actual} (mismatch; replaced if a good copy is found)")

    dest_is_source = False
    candidates: list[Path] = []
    if entry.kind == "transcribed" and entry.path:
        candidates.append(project_root / entry.path)
    candidates += [_resolve_mirror(m, project_root) / entry.folder / entry.name for m in mirrors]

    for candidate in candidates:
        if not candidate.is_file():
            looked.append(f"  - {candidate}: not found")
            continue
        try:
            same_file = dest_path.exists() and os.path.samefile(candidate, dest_path)
        except OSError:
            same_file = False
        if same_file:
            dest_is_source = True
            looked.append(f"  - {candidate}: sha256 {sha256_of_file(candidate)} (mismatch)")
            continue
        try:
            actual = _copy_verified(candidate, dest_path, expected)
        except OSError as exc:
            looked.append(f"  - {candidate}: could not be copied ({exc})")
            continue
        if actual == expected:
            return dest_path
        looked.append(f"  - {candidate}: sha256 {actual} (mismatch)")

    if entry.url:
        try:
            actual = _download_verified(entry.url, dest_path, expected, opener, timeout_s)
        except Exception as exc:  # noqa: BLE001 - any network/IO failure is reported, not raised raw
            looked.append(f"  - {entry.url}: download failed ({type(exc).__name__}: {exc})")
        else:
            if actual == expected:
                return dest_path
            looked.append(f"  - {entry.url}: downloaded sha256 {actual} (mismatch)")
    else:
        looked.append(f"  - (no URL: {entry.kind} file, it must be committed at {entry.path or '?'})")

    if dest_path.is_file() and not dest_is_source and sha256_of_file(dest_path) != expected:
        dest_path.unlink()  # never leave a wrong file that looks like the real one (a committed source is kept)
    raise DataIntegrityError(
        f"raw file {entry.name!r}: no copy with the expected sha256 {expected} was found.\n"
        f"Places looked:\n" + "\n".join(looked)
    )


def materialise_all(registry: dict, raw_dir, mirrors, project_root, names=None, **kwargs) -> dict[str, Path]:
    """Materialise registry entries (all, or ``names``) under ``raw_dir/<folder|transcribed>/<name>``."""
    raw_dir = Path(raw_dir)
    selected = registry if names is None else {n: registry[n] for n in names}
    return {
        name: materialise(entry, raw_dir / entry.relative_raw_path, mirrors, project_root, **kwargs)
        for name, entry in selected.items()
    }
