"""End-to-end on a real SLURM cluster: `snakemake --profile profiles/slurm` on the tiny configuration.

CI starts a one-node cluster (slurmctld, slurmd, slurmdbd with MariaDB, munge) with
``.ci/slurm/setup.sh``. The sub-DAG is a two-point injection scan of DR-high through the fits
(downloads, tidy tables, the three Green's matrices, 2 x (p, He and lepton fits, best-fit
propagations, secondaries), the scan's table and figure: 45 jobs); the spectra stage is left
out to keep CI short. The test proves that

* every job of the DAG went through ``sbatch`` (``sacct`` has one completed job per DAG job),
* the profile's per-rule resources reached SLURM (``sacct``'s requested memory, time limit, CPUs),
* the outputs equal those of a local run byte for byte,
* a job killed with ``scancel`` is retried, as the profile's ``retries: 1`` says, and the run
  still completes.

Outside CI the test skips when ``sbatch`` is absent; in CI (``CI=true``) a missing cluster fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from workflow_helpers import job_counts

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

ACCOUNT = os.environ.get("GALDIFF_SLURM_ACCOUNT", "galdiff-ci")  # made by .ci/slurm/setup.sh
PARTITION = os.environ.get("GALDIFF_SLURM_PARTITION", "debug")
SCAN = {"knee": {"base": "dr_high", "through": "fit",
                 "grid": {"injection.proton.cutoff_GV": [3.0e6, 5.0e7]}}}
TARGETS = ["results/scans/knee.ecsv", "results/scans/knee.pdf"]


def _unavailable(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI runs the SLURM test, but {reason}; .ci/slurm/setup.sh must start the cluster first")
    pytest.skip(f"{reason} (bash .ci/slurm/setup.sh starts a one-node cluster)")


@pytest.fixture(scope="module")
def slurm_cluster():
    """An idle SLURM node and working accounting (sacct), or skip / fail (CI)."""
    if shutil.which("sbatch") is None:
        _unavailable("sbatch is not installed")
    info = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    states = info.stdout.split()
    if info.returncode != 0 or not {"idle", "mixed", "allocated"} & set(states):
        _unavailable(f"no SLURM node is up (sinfo: {(info.stdout + info.stderr).strip()!r})")
    if subprocess.run(["sacct", "-n", "-X", "-S", "now"], capture_output=True).returncode != 0:
        _unavailable("sacct does not answer (accounting is off)")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        _unavailable("the SLURM executor plugin is not installed (pip install -e '.[slurm]')")


def _snakemake(project_root, workdir, configfiles, *args):
    return [sys.executable, "-m", "snakemake", "--snakefile", str(project_root / "Snakefile"),
            "--directory", str(workdir), "--configfile", *map(str, configfiles), *args]


def _site_profile(project_root, tmp_path) -> Path:
    """profiles/slurm with the two values a user sets (account, partition) filled in."""
    profile = yaml.safe_load((project_root / "profiles" / "slurm" / "config.yaml").read_text())
    profile["default-resources"].update(slurm_account=ACCOUNT, slurm_partition=PARTITION)
    folder = tmp_path / "profile"
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _data_outputs(workdir):
    """sha256 of every data output (tables, fits, Green's matrices, propagated densities, the scan)."""
    results = Path(workdir) / "results"
    return {str(path.relative_to(results)): _sha256(path) for path in sorted(results.rglob("*"))
            if path.is_file() and path.suffix in (".ecsv", ".yaml", ".h5")}


def _sacct_jobs(workdir, start):
    """This run's SLURM jobs (its working directory): id, comment (rule and wildcards), resources, state."""
    fields = "JobID,Comment,ReqMem,Timelimit,ReqCPUS,State,Account,Partition,WorkDir"
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-S", start, "-o", fields],
                         capture_output=True, text=True, check=True).stdout
    jobs = [dict(zip(fields.split(","), line.split("|"))) for line in out.splitlines() if line.strip()]
    return [job for job in jobs if job["WorkDir"].rstrip("/") == str(workdir).rstrip("/")]


def _rule_of(comment):
    """Rule name from the executor's job comment ``rule_<name>_wildcards_<...>``."""
    body = comment[len("rule_"):]
    return body.split("_wildcards_")[0]



def _cancel_first_running(rule, process, running_s=3.0, deadline_s=900):
    """scancel the first job of ``rule`` once it has run for ``running_s`` while ``process`` runs.

    Returns its job id and comment (rule and wildcards, as squeue shows it), or None.
    """
    start, first_seen = time.monotonic(), {}
    while process.poll() is None and time.monotonic() - start < deadline_s:
        out = subprocess.run(["squeue", "-h", "-o", "%i|%k|%T"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            job_id, comment, state = line.split("|")
            if state == "RUNNING" and comment.startswith(f"rule_{rule}_"):
                seen = first_seen.setdefault(job_id, time.monotonic())
                if time.monotonic() - seen >= running_s:
                    subprocess.run(["scancel", job_id], check=True)
                    return job_id, comment
        time.sleep(0.5)
    return None


def test_slurm_profile_runs_the_tiny_scan_end_to_end(slurm_cluster, project_root, mirror_dir, tmp_path):
    tiny = yaml.safe_load((project_root / "tests" / "config" / "tiny.yaml").read_text())
    tiny["data"]["mirrors"] = [str(mirror_dir)]
    configs = [tmp_path / "tiny.yaml", tmp_path / "scan.yaml"]
    configs[0].write_text(yaml.safe_dump(tiny))
    configs[1].write_text(yaml.safe_dump({"scans": SCAN}))
    local, cluster = tmp_path / "local", tmp_path / "cluster"

    dry = subprocess.run(_snakemake(project_root, cluster, configs, "--cores", "1", "-n", *TARGETS),
                         capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stderr[-3000:]
    expected = job_counts(dry.stdout + dry.stderr)
    assert expected.get("greens") == 3 and expected.get("fit_injection") == 6

    result = subprocess.run(_snakemake(project_root, local, configs, "--cores", "2", *TARGETS),
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]

    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 5))
    log_path = tmp_path / "cluster.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            _snakemake(project_root, cluster, configs, "--profile", str(_site_profile(project_root, tmp_path)),
                       "--slurm-init-seconds-before-status-checks", "2", *TARGETS),
            stdout=log, stderr=subprocess.STDOUT, text=True)
        cancelled = _cancel_first_running("greens", process)
        try:
            returncode = process.wait(timeout=1200)
        except subprocess.TimeoutExpired:
            process.terminate()
            raise
    output = log_path.read_text()
    assert returncode == 0, output[-4000:]
    assert cancelled is not None, "no greens job was seen running to cancel"
    cancelled_id, cancelled_comment = cancelled

    # every job of the DAG went through sbatch and completed; the cancelled one was retried
    jobs = _sacct_jobs(cluster, start)
    completed = [job for job in jobs if job["State"] == "COMPLETED"]
    counts = {}
    for job in completed:
        counts[_rule_of(job["Comment"])] = counts.get(_rule_of(job["Comment"]), 0) + 1
    assert counts == {rule: n for rule, n in expected.items() if rule != "scans"}, (counts, expected)
    (killed,) = [job for job in jobs if job["JobID"] == cancelled_id]
    assert killed["State"].startswith("CANCELLED")
    assert [job for job in completed if job["Comment"] == cancelled_comment], "the cancelled job was not retried"
    assert f"SLURM-job '{cancelled_id}' failed" in output or cancelled_id in output

    # the profile's per-rule resources reached SLURM: requested memory, time limit and CPUs
    profile = yaml.safe_load((project_root / "profiles" / "slurm" / "config.yaml").read_text())
    for job in jobs:
        assert job["Account"] == ACCOUNT and job["Partition"] == PARTITION
        wanted = profile["set-resources"][_rule_of(job["Comment"])]
        assert job["ReqMem"] == f"{wanted['mem_mb']}M", job
        hours, minutes = divmod(int(wanted["runtime"]), 60)
        assert job["Timelimit"] == f"{hours:02d}:{minutes:02d}:00", job
        assert int(job["ReqCPUS"]) == int(wanted.get("cpus_per_task", 1)), job

    # the cluster's outputs equal the local run's, byte for byte
    local_outputs, cluster_outputs = _data_outputs(local), _data_outputs(cluster)
    assert "scans/knee.ecsv" in local_outputs and len(local_outputs) > 30
    assert cluster_outputs == local_outputs
