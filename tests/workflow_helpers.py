"""Helpers shared by the tests that run Snakemake."""


def job_counts(output: str) -> dict[str, int]:
    """``{rule: count}`` from the job-stats table of a Snakemake (dry) run's output."""
    counts, inside = {}, False
    for line in output.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            inside = True
        elif inside and parts and parts[0] == "total":
            break
        elif inside and len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts
