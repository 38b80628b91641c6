"""Each benchmark owns one marked section of benchmarks/RESULTS.md and rewrites only that."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, name: str, text: str):
    """Replace (or append) the section ``name`` of a shared RESULTS.md, atomically.

    The section is delimited by ``<!-- name: start -->`` and ``<!-- name: end -->``; the rest of
    the file (other benchmarks' sections, hand-written notes) is kept as it is.
    """
    from galdiff.provenance import atomic_path

    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{start}\n{text}{end}\n"
    if start in old and end in old:
        head, rest = old.split(start, 1)
        new = head + block + "\n" + rest.split(end, 1)[1].lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + block
    with atomic_path(path) as tmp:
        tmp.write_text(new)
