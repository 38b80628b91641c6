"""Cost of the band stage (issue 13, rules/bands.smk) in a finished run, from its ``benchmark:`` files.

The band rules are ``band_local`` (one job per model and fit), ``band_response`` (one per model: two
chain runs per free p/He parameter), ``band_regions`` (one per model) and ``band_headline``. This
script sums their CPU seconds (user + system, Snakemake's record of each job and its children) and
takes the largest RSS of a job, per model and in all, and writes the ``bands`` section of
benchmarks/RESULTS.md. Target (issue 13): under 2 minutes on 2 cores on top of ``all``, under 2 GiB.

    python benchmarks/bench_bands.py --benchmarks /run/logs/benchmarks --title "reduced, 2026-12-07" --write
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from results_file import write_section  # benchmarks/results_file.py
from rule_table import _number  # benchmarks/rule_table.py: one reader of Snakemake's fields

SECTION = "bands"
BAND_RULES = ("band_local", "band_response", "band_regions", "band_headline", "band_table4")


def band_jobs(root: Path) -> list[dict]:
    """One entry per band job: rule, wildcards (the file stem), wall s, CPU s, max RSS MiB."""
    jobs = []
    for rule in BAND_RULES:
        paths = sorted((root / rule).glob("*.tsv")) + ([root / f"{rule}.tsv"] if (root / f"{rule}.tsv").exists() else [])
        for path in paths:
            with open(path, newline="") as handle:
                row = list(csv.DictReader(handle, delimiter="\t"))[-1]
            jobs.append({"rule": rule, "job": path.stem, "wall_s": _number(row.get("s")),
                         "cpu_s": _number(row.get("cpu_time"), 0.0), "rss_mib": _number(row.get("max_rss"))})
    if not jobs:
        raise FileNotFoundError(f"{root}: no band-stage benchmark files; run the workflow first")
    return jobs


def table(jobs: list[dict]) -> str:
    lines = ["| rule | jobs | CPU user+sys, all jobs [s] | wall, all jobs [s] | max RSS of a job [GiB] |",
             "|---|---|---|---|---|"]
    for rule in BAND_RULES:
        mine = [j for j in jobs if j["rule"] == rule]
        if not mine:
            continue
        rss = max((j["rss_mib"] for j in mine if not math.isnan(j["rss_mib"])), default=math.nan)
        lines.append(f"| {rule} | {len(mine)} | {sum(j['cpu_s'] for j in mine):.1f} | {sum(j['wall_s'] for j in mine):.1f} "
                     f"| {rss / 1024:.2f} |")
    rss = max((j["rss_mib"] for j in jobs if not math.isnan(j["rss_mib"])), default=math.nan)
    cpu = sum(j["cpu_s"] for j in jobs)
    lines.append(f"| **band stage** | {len(jobs)} | {cpu:.1f} | {sum(j['wall_s'] for j in jobs):.1f} | {rss / 1024:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=Path, default=Path("logs/benchmarks"))
    parser.add_argument("--title", default="")
    parser.add_argument("--note", default="")
    parser.add_argument("--write", action="store_true", help="write the section of benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    text = table(band_jobs(args.benchmarks))
    print(text)
    if args.write:
        body = (f"## Band stage (issue 13, `benchmarks/bench_bands.py`){': ' + args.title if args.title else ''}\n\n"
                + (args.note + "\n\n" if args.note else "") + text)
        write_section(Path(__file__).with_name("RESULTS.md"), SECTION, body)


if __name__ == "__main__":
    main()
