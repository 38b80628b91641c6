"""The registry of raw files (``data/registry.yaml``): what to fetch, from where, and its checksum.

Each entry is keyed by the file's name. Two kinds exist (see ``shared/data/README.md``):

``verbatim``
    A byte-for-byte copy of a public file: looked for in mirror folders as
    ``<mirror>/<folder>/<name>``, else downloaded from ``url``.
``transcribed``
    A small hand-typed table committed to this repository at ``path`` (relative to the project
    root); it has no URL.

Both carry a ``sha256`` that every copy is checked against (:func:`galdiff.data.download.materialise`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

FOLDERS = ("cosmic_rays", "gamma", "neutrino", "catalogs", "galaxy")
KINDS = ("verbatim", "transcribed")
_REQUIRED = ("folder", "format", "sha256", "citation", "licence")
_OPTIONAL = ("kind", "url", "path")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RegistryEntry:
    """One raw file of the workflow.

    Attributes
    ----------
    name : str
        File name (the registry key); also the name it gets under ``data/raw/<folder>/``.
    folder : str
        Mirror sub-folder (one of :data:`FOLDERS`).
    format : str
        Format letter of the folder's ``SOURCES.md`` (A-H) or a short format name.
    sha256 : str
        Lower-case hex sha256 of the file's bytes.
    citation, licence : str
        Paper to cite and licence of the source.
    kind : str
        ``"verbatim"`` or ``"transcribed"``.
    url : str or None
        Public download address (verbatim files only).
    path : str or None
        Location inside the project (transcribed files only), e.g. ``data/raw/transcribed/x.csv``.
    """

    name: str
    folder: str
    format: str
    sha256: str
    citation: str
    licence: str
    kind: str = "verbatim"
    url: str | None = None
    path: str | None = None

    @property
    def relative_raw_path(self) -> Path:
        """Where the file lives under a raw-data folder: ``<folder>/<name>`` or ``transcribed/<name>``."""
        if self.kind == "transcribed":
            return Path("transcribed") / self.name
        return Path(self.folder) / self.name


def _fail(path, key, message) -> None:
    raise ValueError(f"registry {path}: entry {key!r}: {message}")


def _validate(path, key, fields) -> RegistryEntry:
    if not isinstance(key, str) or not key or "/" in key or key != key.strip():
        _fail(path, key, "the key must be a plain file name")
    if not isinstance(fields, dict):
        _fail(path, key, f"expected a mapping of fields, got {type(fields).__name__}")
    unknown = sorted(set(fields) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        _fail(path, key, f"unknown field(s) {unknown}; allowed: {sorted(_REQUIRED + _OPTIONAL)}")
    missing = [name for name in _REQUIRED if name not in fields]
    if missing:
        _fail(path, key, f"missing field(s) {missing}")
    for name in _REQUIRED + _OPTIONAL:
        value = fields.get(name)
        if name in fields and value is not None and (not isinstance(value, str) or not value.strip()):
            _fail(path, key, f"field {name!r} must be a non-empty string, got {value!r}")
    kind = fields.get("kind", "verbatim")
    if kind not in KINDS:
        _fail(path, key, f"kind {kind!r} is not one of {list(KINDS)}")
    if fields["folder"] not in FOLDERS:
        _fail(path, key, f"folder {fields['folder']!r} is not one of {list(FOLDERS)}")
    if not _SHA256.match(fields["sha256"]):
        _fail(path, key, f"sha256 {fields['sha256']!r} is not 64 lower-case hex digits")
    url, rel_path = fields.get("url"), fields.get("path")
    if kind == "verbatim":
        if not url or not re.match(r"^https?://", url):
            _fail(path, key, f"a verbatim entry needs an http(s) 'url', got {url!r}")
        if rel_path:
            _fail(path, key, "a verbatim entry must not have a 'path' (it is downloaded, not committed)")
    else:
        if url:
            _fail(path, key, "a transcribed entry must not have a 'url'")
        if not rel_path or Path(rel_path).is_absolute() or Path(rel_path).name != key:
            _fail(path, key, f"a transcribed entry needs a relative 'path' ending in {key!r}, got {rel_path!r}")
    return RegistryEntry(
        name=key,
        folder=fields["folder"],
        format=fields["format"],
        sha256=fields["sha256"],
        citation=fields["citation"],
        licence=fields["licence"],
        kind=kind,
        url=url,
        path=rel_path,
    )


def load_registry(path) -> dict[str, RegistryEntry]:
    """Read and validate a registry YAML file.

    Parameters
    ----------
    path : str or os.PathLike
        The registry file (``data/registry.yaml``).

    Returns
    -------
    dict of str to RegistryEntry
        Keyed by file name, in file order.

    Raises
    ------
    ValueError
        On unreadable YAML or any bad entry; the message names the registry file and the key.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"registry {path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"registry {path}: expected a non-empty mapping of file name -> fields")
    return {key: _validate(path, key, fields) for key, fields in raw.items()}


def default_registry_path() -> Path:
    """``data/registry.yaml`` of the project this package was installed from (editable install)."""
    return Path(__file__).resolve().parents[3] / "data" / "registry.yaml"
