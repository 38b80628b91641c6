"""Per-rule time and memory of a workflow run, from Snakemake's ``benchmark:`` files.

Every rule writes ``logs/benchmarks/<rule>/<wildcards>.tsv`` (or ``logs/benchmarks/<rule>.tsv``
for a rule without wildcards), Snakemake's own record of the job: wall seconds ``s``, ``cpu_time``
(user + system seconds of the job's process and all its children), ``max_rss`` and ``max_pss``
(MiB, summed over the job's processes). This script groups the files by rule and prints one
Markdown table (rule, jobs, wall, CPU, max RSS, max PSS), or writes it into the ``rule_table``
section of benchmarks/RESULTS.md (``--write``).

Snakemake samples a job twice a second for its first ~15 s, then every 30 s, so the memory peak
of a long job can fall between samples and its CPU time misses up to the last 30 s; wall time is
exact. RSS counts pages shared between forked workers once per process, PSS splits them (the
better measure of what a job adds to the machine).

    python benchmarks/rule_table.py                          # table of ./logs/benchmarks
    python benchmarks/rule_table.py --benchmarks /run/logs/benchmarks --write --title "..."
    python benchmarks/rule_table.py --benchmarks after/logs/benchmarks --baseline before/logs/benchmarks
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import dataclass
from pathlib import Path

from results_file import write_section  # benchmarks/results_file.py

SECTION = "rule_table"


@dataclass
class RuleRecord:
    """Benchmarks of all jobs of one rule, summed (times) or maximised (memory)."""

    rule: str
    jobs: int = 0
    wall_s: float = 0.0
    wall_max_s: float = 0.0
    cpu_s: float = 0.0
    max_rss_mib: float = math.nan
    max_pss_mib: float = math.nan

    def add(self, row: dict):
        wall = _number(row.get("s"))
        self.jobs += 1
        self.wall_s += wall
        self.wall_max_s = max(self.wall_max_s, wall)
        self.cpu_s += _number(row.get("cpu_time"), 0.0)
        self.max_rss_mib = _nanmax(self.max_rss_mib, _number(row.get("max_rss")))
        self.max_pss_mib = _nanmax(self.max_pss_mib, _number(row.get("max_pss")))


def _number(text, missing=math.nan) -> float:
    """A benchmark field as a float; Snakemake writes ``NA`` where it collected nothing."""
    if text is None or str(text).strip() in ("", "NA", "-"):
        return missing
    return float(text)


def _nanmax(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) else max(a, b)


def rule_of(path: Path, root: Path) -> str:
    """Rule name of a benchmark file: its folder under ``root``, or its stem for a rule without wildcards."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else path.stem


def read_benchmarks(root: Path) -> dict[str, RuleRecord]:
    """``{rule: RuleRecord}`` of every ``*.tsv`` under ``root`` (each file: header + one row per run)."""
    root = Path(root)
    files = sorted(root.rglob("*.tsv"))
    if not files:
        raise FileNotFoundError(f"{root}: no benchmark files (*.tsv); run the workflow first")
    records: dict[str, RuleRecord] = {}
    for path in files:
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        if not rows or "s" not in rows[0]:
            raise ValueError(f"{path}: not a Snakemake benchmark file (expected a header with column 's')")
        rule = rule_of(path, root)
        record = records.setdefault(rule, RuleRecord(rule))
        for row in rows[-1:]:  # one row per job; with repeat() one per repetition, the last one counts
            record.add(row)
    return records


def _fmt_s(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds:.1f}"


def _fmt_gib(mib: float) -> str:
    return "-" if math.isnan(mib) else f"{mib / 1024:.2f}"


def markdown_table(records: dict[str, RuleRecord]) -> str:
    """Rules by summed wall time, longest first, then a total row."""
    ordered = sorted(records.values(), key=lambda r: -r.wall_s)
    lines = [
        "| rule | jobs | wall, all jobs [s] | wall, longest job [s] | CPU user+sys, all jobs [s] | max RSS of a job [GiB] | max PSS of a job [GiB] |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in ordered:
        lines.append(f"| {r.rule} | {r.jobs} | {_fmt_s(r.wall_s)} | {_fmt_s(r.wall_max_s)} | {_fmt_s(r.cpu_s)} "
                     f"| {_fmt_gib(r.max_rss_mib)} | {_fmt_gib(r.max_pss_mib)} |")
    jobs = sum(r.jobs for r in ordered)
    wall = sum(r.wall_s for r in ordered)
    cpu = sum(r.cpu_s for r in ordered)
    rss = max((r.max_rss_mib for r in ordered if not math.isnan(r.max_rss_mib)), default=math.nan)
    pss = max((r.max_pss_mib for r in ordered if not math.isnan(r.max_pss_mib)), default=math.nan)
    lines.append(f"| **all rules** | {jobs} | {_fmt_s(wall)} | {_fmt_s(max(r.wall_max_s for r in ordered))} "
                 f"| {_fmt_s(cpu)} | {_fmt_gib(rss)} | {_fmt_gib(pss)} |")
    return "\n".join(lines) + "\n"


def comparison_table(before: dict[str, RuleRecord], after: dict[str, RuleRecord]) -> str:
    """Per-rule CPU seconds and largest RSS of two runs (a rule missing from one run shows '-')."""
    rules = sorted(set(before) | set(after), key=lambda r: -max(getattr(before.get(r), "cpu_s", 0.0),
                                                                 getattr(after.get(r), "cpu_s", 0.0)))
    lines = ["| rule | jobs before / after | CPU before [s] | CPU after [s] | max RSS before [GiB] | max RSS after [GiB] |",
             "|---|---|---|---|---|---|"]
    missing = RuleRecord("-", max_rss_mib=math.nan, cpu_s=math.nan)
    for rule in rules:
        b, a = before.get(rule, missing), after.get(rule, missing)
        lines.append(f"| {rule} | {b.jobs} / {a.jobs} | {_fmt_s(b.cpu_s)} | {_fmt_s(a.cpu_s)} "
                     f"| {_fmt_gib(b.max_rss_mib)} | {_fmt_gib(a.max_rss_mib)} |")
    total_b = sum(r.cpu_s for r in before.values())
    total_a = sum(r.cpu_s for r in after.values())
    lines.append(f"| **all rules** | {sum(r.jobs for r in before.values())} / {sum(r.jobs for r in after.values())} "
                 f"| {_fmt_s(total_b)} | {_fmt_s(total_a)} | | |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", default="logs/benchmarks", help="folder of the run's benchmark files")
    parser.add_argument("--baseline", default=None,
                        help="benchmark folder of an earlier run: print CPU and memory per rule before/after instead")
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/RESULTS.md")
    parser.add_argument("--output", default=str(Path(__file__).with_name("RESULTS.md")))
    parser.add_argument("--title", default="Per-rule time and memory of a workflow run",
                        help="heading of the section (say machine, date, configuration)")
    parser.add_argument("--note", default="", help="paragraph under the heading (machine, load, command)")
    args = parser.parse_args(argv)
    records = read_benchmarks(Path(args.benchmarks))
    if args.baseline:
        table = comparison_table(read_benchmarks(Path(args.baseline)), records)
    else:
        table = markdown_table(records)
    if not args.write:
        print(table, end="")
        return
    note = f"{args.note}\n\n" if args.note else ""
    text = (f"## {args.title} (`benchmarks/rule_table.py`)\n\n{note}"
            "Snakemake's `benchmark:` files of every job (`logs/benchmarks/`); times summed over the jobs "
            "of a rule, memory the largest job's (sampled, see the script's docstring).\n\n" + table)
    write_section(Path(args.output), SECTION, text)


if __name__ == "__main__":
    main()
