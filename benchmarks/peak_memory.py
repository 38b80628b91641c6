"""Peak memory and CPU time of one command, sampled finely (Linux).

Snakemake's ``benchmark:`` samples a job every 30 s after its first ~15 s (benchmarks/rule_table.py),
so the memory peak of a short phase can fall between samples. This wrapper runs a command, sums
the PSS and RSS of its whole process tree from ``/proc/<pid>/smaps_rollup`` every ``--interval``
seconds and prints the peaks with the tree's CPU time (user + system of every waited-for process,
from ``wait4``):

    python benchmarks/peak_memory.py -- snakemake results/maps/dr_high/pi0.fits --cores 1 --allowed-rules sky_maps

PSS counts a page shared by n processes as 1/n (file pages of a memory-mapped operator shared by
parallel jobs included), the measure of what the job adds to the machine; RSS counts it fully.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def _rollup_kib(pid: int) -> tuple[int, int]:
    """(Pss, Rss) of one process in KiB; (0, 0) if it is gone."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def measure(command: list[str], interval_s: float = 0.05) -> dict:
    """Run ``command``; return its exit code, wall and CPU seconds and the peak PSS/RSS of its tree (GiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak_pss = peak_rss = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        samples = [_rollup_kib(p) for p in _tree(process.pid)]
        peak_pss = max(peak_pss, sum(s[0] for s in samples))
        peak_rss = max(peak_rss, sum(s[1] for s in samples))
        time.sleep(interval_s)
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "wall_s": round(time.perf_counter() - start, 2),
        "cpu_user_sys_s": round(usage.ru_utime + usage.ru_stime, 2),
        "max_pss_GiB": round(peak_pss / 2**20, 3),
        "max_rss_GiB": round(peak_rss / 2**20, 3),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=0.05, help="sampling interval, s")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command (after --)")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    result = measure(command, args.interval)
    print(json.dumps(result), file=sys.stderr)
    return result["returncode"]


if __name__ == "__main__":
    sys.exit(main())
