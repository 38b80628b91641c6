"""End to end on the tiny configuration: byte-identical outputs, relocatable projects, faults as a user makes them.

A sub-DAG that writes every intermediate format (raw downloads, ECSV tidy tables and bands, the
FITS source mask, an HDF5 propagation result, a PDF figure) is built in two fresh copies of the
project; every file must have the same sha256. The finished project, moved with its metadata
(``cp -a``) and given a mirror list that points nowhere, must have nothing to rerun. Each fault of
issue 10 is then made by hand in a copy of the finished project: it must end with one message
naming the file or key and leave the previous good results in place.
"""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.workflow

# ECSV (tidy tables, pi0 band), FITS (mask), HDF5 (propagation without Green's functions), PDF
TARGETS = ["results/fig3.pdf", "results/masks/lhaaso.fits", "results/propagation/dr_high/proton.h5"]
KM2A_RAW = "data/raw/gamma/LHAASO_KM2A_2023_TableS2_inner.txt"
GENERATED = {".git", ".snakemake", "results", "logs", "__pycache__", ".pytest_cache", "benchmarks"}


def copy_source_tree(project_root: Path, dest: Path) -> Path:
    """The project as a clone has it: sources, committed data, no outputs or downloaded raw files."""
    def ignore(folder, names):
        folder = Path(folder)
        skipped = {name for name in names if name in GENERATED or name.endswith(".egg-info")}
        if folder == project_root / "data" / "raw":
            skipped |= {name for name in names if name != "transcribed"}
        return skipped

    shutil.copytree(project_root, dest, ignore=ignore)
    return dest


def snakemake(project: Path, config: Path, *args):
    # --configfile takes several values: the options after it end its list
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(project / "Snakefile"), "--directory", str(project),
           "--configfile", str(config), "--cores", "2", "--show-failed-logs", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    result.output = result.stdout + result.stderr
    return result


def file_hashes(project: Path) -> dict:
    """``{relative path: sha256}`` of every file the workflow wrote (results/ and data/raw downloads)."""
    files = [p for folder in ("results", "data/raw") for p in (project / folder).rglob("*") if p.is_file()]
    return {str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(files)
            if "transcribed" not in p.parts}


def write_config(path: Path, project_root: Path, mirrors, **overrides) -> Path:
    config = yaml.safe_load((project_root / "tests" / "config" / "tiny.yaml").read_text())
    config["data"]["mirrors"] = [str(m) for m in mirrors]
    config["propagation"]["greens"] = False  # HDF5 from propagate_nucleus in seconds
    for dotted, value in overrides.items():
        node = config
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def finished(project_root, mirror_dir, tmp_path_factory):
    """A copy of the project with the sub-DAG built: (project folder, config file, file hashes)."""
    base = tmp_path_factory.mktemp("first")
    project = copy_source_tree(project_root, base / "galdiff")
    config = write_config(base / "tiny.yaml", project_root, [mirror_dir])
    result = snakemake(project, config, *TARGETS)
    assert result.returncode == 0, result.output[-4000:]
    return project, config, file_hashes(project)


def fault_copy(finished, tmp_path) -> Path:
    """A copy of the finished project (metadata and times kept, as ``cp -a``) to break by hand."""
    return shutil.copytree(finished[0], tmp_path / "copy" / "galdiff", symlinks=True)


def test_two_clean_runs_are_byte_identical(finished, project_root, mirror_dir, tmp_path):
    first = finished[2]
    suffixes = {Path(name).suffix for name in first}
    assert {".ecsv", ".fits", ".h5", ".pdf"} <= suffixes
    # a second clean copy elsewhere (another depth and name: no absolute path may leak into a file)
    project = copy_source_tree(project_root, tmp_path / "second" / "deeper" / "other_name")
    config = write_config(tmp_path / "tiny.yaml", project_root, [mirror_dir])
    result = snakemake(project, config, *TARGETS)
    assert result.returncode == 0, result.output[-4000:]
    second = file_hashes(project)
    assert sorted(second) == sorted(first)
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []


def test_moved_and_re_mirrored_project_reruns_nothing(finished, project_root, tmp_path):
    """cp -a of a finished project and a mirror list that points nowhere: nothing to be done, nothing lost."""
    moved = shutil.copytree(finished[0], tmp_path / "moved" / "to" / "galdiff", symlinks=True)
    config = write_config(tmp_path / "nowhere.yaml", project_root, [tmp_path / "no_such_mirror", "../also_missing"])
    result = snakemake(moved, config, "-n", *TARGETS)
    assert result.returncode == 0, result.output[-4000:]
    assert "Nothing to be done" in result.output, result.output[-4000:]
    result = snakemake(moved, config, *TARGETS)
    assert result.returncode == 0 and file_hashes(moved) == finished[2]


def test_download_without_a_verified_copy_keeps_the_verified_file(finished, project_root, tmp_path):
    project = fault_copy(finished, tmp_path)
    config = write_config(tmp_path / "nowhere.yaml", project_root, [tmp_path / "no_such_mirror"])
    # forced rerun with no mirror (and no network): the verified copy is kept, not deleted first
    result = snakemake(project, config, KM2A_RAW, "--forcerun", KM2A_RAW)  # (--forcerun takes several values)
    assert result.returncode == 0, result.output[-4000:]
    assert file_hashes(project) == finished[2]
    # a file found nowhere: one message with every place looked; nothing else touched
    (project / KM2A_RAW).unlink()
    result = snakemake(project, config, KM2A_RAW)
    assert result.returncode != 0
    assert result.output.count("no copy with the expected sha256") == 1, result.output[-4000:]
    assert str(tmp_path / "no_such_mirror") in result.output
    expected = {name: sha for name, sha in finished[2].items() if name != KM2A_RAW}
    assert file_hashes(project) == expected


def test_edited_raw_file_stops_with_one_message_and_keeps_the_table(finished, tmp_path):
    project = fault_copy(finished, tmp_path)
    raw = project / KM2A_RAW
    lines = raw.read_text().splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
    fields = lines[row].split()
    fields[3] = "nan"
    lines[row] = " ".join(fields) + "\n"
    raw.write_text("".join(lines))
    result = snakemake(project, finished[1], *TARGETS)
    assert result.returncode != 0
    assert result.output.count("the registry expects") == 1, result.output[-4000:]
    assert f"raw file {KM2A_RAW} has sha256" in result.output
    after = file_hashes(project)
    for name in ("results/data/lhaaso_km2a_inner.ecsv", "results/fig3.pdf"):
        assert after[name] == finished[2][name], name  # the previous good results stay


def test_cut_tidy_table_stops_its_reader_naming_the_file(finished, tmp_path):
    """An ECSV table cut at a line boundary was read as a shorter table (the EXTRA fit used 12 of 15 points)."""
    project = fault_copy(finished, tmp_path)
    table = project / "results" / "data" / "lhaaso_km2a_inner.ecsv"
    lines = table.read_text().splitlines(keepends=True)
    table.write_text("".join(lines[:-3]))
    result = snakemake(project, finished[1], "results/fig3.pdf")
    assert result.returncode != 0
    message = "results/data/lhaaso_km2a_inner.ecsv: "
    assert result.output.count(message) == 1, result.output[-4000:]
    assert "rows read, the writer recorded" in result.output


@pytest.mark.parametrize("overrides, key", [
    ({"emission.gamma_energy_GeV": {"min": 1.0e7, "max": 1.0, "per_decade": 2}}, "emission.gamma_energy_GeV"),
    ({"figures.fig3.gamma_datasets": ["lhaaso_km2a_innr"]}, "figures.fig3.gamma_datasets[0]"),
    ({"regions.lhaaso_inner": {"l_min_deg": 125.0, "l_max_deg": 15.0, "b_max_deg": 5.0, "lhaaso_mask": True}},
     "regions.lhaaso_inner"),
])
def test_config_fault_stops_before_any_job(finished, project_root, mirror_dir, tmp_path, overrides, key):
    project = fault_copy(finished, tmp_path)
    config = write_config(tmp_path / "bad.yaml", project_root, [mirror_dir], **overrides)
    result = snakemake(project, config, *TARGETS)
    assert result.returncode != 0
    assert result.output.count(f"config key '{key}'") == 1, result.output[-4000:]
    assert "jobid" not in result.output  # no job started
    assert file_hashes(project) == finished[2]
