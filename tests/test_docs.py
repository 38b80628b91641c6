"""The docs the code cites are in the repository: every ``docs/<file>.md#<anchor>`` reference in
the code, workflow, tests and README names an existing file and heading, and nothing cites a
document outside the repository (a user who clones the project could not follow it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ["src", "rules", "workflow", "tests", "benchmarks", "Snakefile", "config.yaml", "README.md"]
SUFFIXES = {".py", ".smk", ".yaml", ".yml", ".md", ""}
LINK = re.compile(r"docs/([a-z_]+\.md)((?:#[a-z0-9\-]+(?:, )?)*)")
# the names of the notes that lived outside the repository before docs/ existed (built from parts so
# that this file does not match itself)
OUTSIDE = re.compile("|".join([r"shared/" + "docs", "EMISSION_" + "PHYSICS", "GALAXY_" + "INPUTS",
                               r"\bPAPER" + r"\.md", r"\bARCHITECTURE" + r"\.md", r"\bSTYLE" + r"\.md"]))


def github_slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> list[str]:
    return [github_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*)$", path.read_text(), re.M)]


def scanned_files():
    for entry in SCANNED:
        path = ROOT / entry
        candidates = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        for f in candidates:
            if f.is_file() and f.suffix in SUFFIXES and "__pycache__" not in f.parts:
                yield f


def test_github_slug():
    assert github_slug("Eq. 3: injection spectrum") == "eq-3-injection-spectrum"
    assert github_slug("Green's functions") == "greens-functions"
    assert github_slug("Inverse-Compton and synchrotron losses") == "inverse-compton-and-synchrotron-losses"


@pytest.mark.parametrize("doc", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_headings_unique(doc):
    slugs = anchors(ROOT / "docs" / doc)
    assert len(slugs) == len(set(slugs)), f"docs/{doc}: repeated headings {sorted(s for s in slugs if slugs.count(s) > 1)}"


def test_cited_docs_sections_exist():
    known = {p.name: set(anchors(p)) for p in (ROOT / "docs").glob("*.md")}
    bad = []
    for f in scanned_files():
        for lineno, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            for m in LINK.finditer(line):
                doc = m.group(1)
                if doc not in known:
                    bad.append(f"{f.relative_to(ROOT)}:{lineno}: docs/{doc} does not exist")
                    continue
                for anchor in re.findall(r"#([a-z0-9\-]+)", m.group(2)):
                    if anchor not in known[doc]:
                        bad.append(f"{f.relative_to(ROOT)}:{lineno}: docs/{doc} has no section #{anchor}")
    assert not bad, "\n".join(bad)


def test_docs_internal_links_exist():
    known = {p.name: set(anchors(p)) for p in (ROOT / "docs").glob("*.md")}
    bad = []
    for p in (ROOT / "docs").glob("*.md"):
        for m in re.finditer(r"\]\(([a-z_]+\.md)?(?:#([a-z0-9\-]+))?\)", p.read_text()):
            doc = m.group(1) or p.name
            if doc not in known or (m.group(2) and m.group(2) not in known[doc]):
                bad.append(f"docs/{p.name}: broken link {m.group(0)}")
    assert not bad, "\n".join(bad)


def test_no_reference_to_documents_outside_the_repository():
    bad = [f"{f.relative_to(ROOT)}:{i}: {line.strip()}"
           for f in scanned_files()
           for i, line in enumerate(f.read_text(errors="replace").splitlines(), 1)
           if OUTSIDE.search(line)]
    assert not bad, "\n".join(bad)
