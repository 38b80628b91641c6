"""benchmarks/rule_table.py: Snakemake benchmark files -> per-rule table."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import rule_table  # noqa: E402

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _write(path, wall, rss, pss, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{wall}\t0:00:00\t{rss}\t1\t1\t{pss}\t0\t0\t1\t{cpu}\n")


def test_jobs_are_grouped_by_rule_times_summed_and_memory_maximised(tmp_path):
    _write(tmp_path / "greens" / "abc_proton.tsv", 200.0, 3000.0, 2500.0, 390.0)
    _write(tmp_path / "greens" / "abc_helium.tsv", 100.0, 4000.0, 2000.0, 190.0)
    _write(tmp_path / "fig3.tsv", 5.0, 100.0, 80.0, 2.0)
    (tmp_path / "fig6.tsv").write_text(HEADER + "1.5\t0:00:01\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\n")  # too fast to sample
    records = rule_table.read_benchmarks(tmp_path)
    assert set(records) == {"greens", "fig3", "fig6"}
    greens = records["greens"]
    assert (greens.jobs, greens.wall_s, greens.wall_max_s, greens.cpu_s) == (2, 300.0, 200.0, 580.0)
    assert (greens.max_rss_mib, greens.max_pss_mib) == (4000.0, 2500.0)
    table = rule_table.markdown_table(records)
    lines = table.splitlines()
    assert lines[2].startswith("| greens | 2 | 300.0 | 200.0 | 580.0 | 3.91 | 2.44 |")  # longest rule first
    assert "| fig6 | 1 | 1.5 | 1.5 | 0.0 | - | - |" in table
    assert lines[-1].startswith("| **all rules** | 4 | 306.5 | 200.0 | 582.0 | 3.91 |")


def test_an_empty_folder_or_a_foreign_file_fails_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="no benchmark files"):
        rule_table.read_benchmarks(tmp_path)
    (tmp_path / "x.tsv").write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match=r"x\.tsv.*not a Snakemake benchmark"):
        rule_table.read_benchmarks(tmp_path)
