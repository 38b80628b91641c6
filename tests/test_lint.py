"""Lint in CI: `snakemake --lint` on the workflow, `snakefmt --check` on the Snakefile and rules, and
`ruff check` with the project's rules (pyproject.toml). Each skips with the reason only where its tool is
not installed (the test extras install all three: `pip install -e ".[test]"`)."""

import shutil
import subprocess
import sys

import pytest


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]' installs it)")
    return path


def test_snakemake_lint_finds_nothing(project_root, tmp_path):
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--snakefile", str(project_root / "Snakefile"),
                             "--directory", str(tmp_path)], capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Lints for" not in output, output[-4000:]


def test_snakefmt_leaves_the_workflow_unchanged(project_root):
    files = [str(project_root / "Snakefile"), str(project_root / "rules")]
    result = subprocess.run([tool("snakefmt"), "--check", *files], capture_output=True, text=True, timeout=300,
                            cwd=project_root)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:] + "\n(run `snakefmt Snakefile rules/`)"


def test_ruff_finds_nothing(project_root):
    result = subprocess.run([tool("ruff"), "check", "."], capture_output=True, text=True, timeout=300,
                            cwd=project_root)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
