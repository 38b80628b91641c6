"""Every number of two summary.json files side by side: are two runs' results the same to the fit tolerances?

    python benchmarks/compare_summaries.py OLD/results/summary.json NEW/results/summary.json [--top 15]

Walks both files' numeric leaves (provenance hashes and the version are skipped) and prints:
- the fitted parameters' changes in units of their own 1-sigma errors (``models/<m>/fit/<species>``), the
  measure of "unchanged to the fit tolerances": a change far below the error is below what the fit resolves;
- every other number's relative change, largest first;
- leaves present in one file only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SKIPPED = ("inputs_sha256", "galdiff_version", "provenance")


def numeric_leaves(tree, prefix: str = "") -> dict:
    """``{path: float}`` of every int/float leaf (booleans excluded) of a JSON tree."""
    out = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key not in SKIPPED:
                out.update(numeric_leaves(value, f"{prefix}/{key}"))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            out.update(numeric_leaves(value, f"{prefix}[{i}]"))
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        out[prefix] = float(tree)
    return out


def fit_shifts_in_sigma(old: dict, new: dict) -> list:
    """``[(model/species/parameter, old, new, |new - old| / error)]`` of every fitted parameter with an error > 0."""
    out = []
    for model, entry in (old.get("models") or {}).items():
        for species, fit in (entry.get("fit") or {}).items():
            new_fit = ((new.get("models") or {}).get(model, {}).get("fit") or {}).get(species)
            if not isinstance(fit, dict) or not new_fit or "params" not in fit:
                continue
            for name, value in fit["params"].items():
                error = float((fit.get("errors") or {}).get(name) or 0.0)
                if error > 0 and name in new_fit.get("params", {}):
                    out.append((f"{model}/{species}/{name}", value, new_fit["params"][name],
                                abs(new_fit["params"][name] - value) / error))
    return sorted(out, key=lambda row: -row[3])


def relative_changes(old: dict, new: dict) -> tuple[list, list]:
    a, b = numeric_leaves(old), numeric_leaves(new)
    rows = []
    for path in sorted(set(a) & set(b)):
        scale = max(abs(a[path]), abs(b[path]))
        rows.append((path, a[path], b[path], 0.0 if scale == 0 else abs(b[path] - a[path]) / scale))
    only = sorted(set(a) ^ set(b))
    return sorted(rows, key=lambda row: -row[3]), only


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    old, new = (json.loads(p.read_text()) for p in (args.old, args.new))
    shifts = fit_shifts_in_sigma(old, new)
    print(f"fitted parameters: {len(shifts)}; largest change {shifts[0][3] if shifts else 0:.2e} sigma")
    for path, a, b, sigma in shifts[:args.top]:
        print(f"  {path}: {a:.10g} -> {b:.10g} ({sigma:.2e} sigma)")
    rows, only = relative_changes(old, new)
    changed = [row for row in rows if row[3] > 0]
    print(f"numbers: {len(rows)} in both, {len(changed)} changed; largest relative change "
          f"{rows[0][3] if rows else 0:.2e}")
    for path, a, b, rel in changed[:args.top]:
        print(f"  {path}: {a:.10g} -> {b:.10g} (relative {rel:.2e})")
    if only:
        print(f"in one file only ({len(only)}): {only[:args.top]}")


if __name__ == "__main__":
    main()
