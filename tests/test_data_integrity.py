"""Raw files are verified at every read: registry sha256, and row by row (NaN/inf, cut rows, empty files)."""

import shutil
from pathlib import Path

import pytest

from galdiff.data import build_dataset, load_registry, materialise
from galdiff.data.datasets import RawChecksumError
from galdiff.data.readers import RawFileError, read_gp_template_fits, read_lhaaso_km2a_table

KM2A = "LHAASO_KM2A_2023_TableS2_inner.txt"
TEMPLATE_FITS = "icecube_gp2023_template_fits.csv"


@pytest.fixture(scope="module")
def registry(project_root):
    return load_registry(project_root / "data" / "registry.yaml")


@pytest.fixture()
def km2a_copy(registry, mirror_dir, project_root, tmp_path) -> Path:
    """A verified copy of the LHAASO-KM2A inner-region table (whitespace columns, '#' comments)."""
    return materialise(registry[KM2A], tmp_path / KM2A, [mirror_dir], project_root,
                       opener=lambda url, timeout=None: (_ for _ in ()).throw(OSError("no network in tests")))


def _data_line_numbers(path):
    return [n for n, line in enumerate(path.read_text().splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")]


def test_verified_copy_builds(km2a_copy, registry):
    table = build_dataset("lhaaso_km2a_inner", {KM2A: km2a_copy}, registry=registry)
    assert len(table) == len(_data_line_numbers(km2a_copy))


def test_edited_raw_file_is_refused_by_its_registry_sha256(km2a_copy, registry):
    """The issue's fault: a NaN edited into data/raw/ went into results/data/ with exit code 0."""
    lines = km2a_copy.read_text().splitlines(keepends=True)
    row = _data_line_numbers(km2a_copy)[1] - 1
    fields = lines[row].split()
    fields[3] = "nan"
    lines[row] = " ".join(fields) + "\n"
    km2a_copy.write_text("".join(lines))
    with pytest.raises(RawChecksumError, match=rf"lhaaso_km2a_inner.*{KM2A} has sha256 .* the registry expects "
                                               rf"{registry[KM2A].sha256}"):
        build_dataset("lhaaso_km2a_inner", {KM2A: km2a_copy}, registry=registry)
    # without the registry the reader itself names the file and the line
    with pytest.raises(RawFileError, match=rf"{KM2A}:{row + 1}: NaN or infinite value"):
        build_dataset("lhaaso_km2a_inner", {KM2A: km2a_copy})


def test_hand_edited_transcribed_table_is_refused(project_root, registry, tmp_path):
    """A committed transcribed table edited by hand no longer matches its registry sha256."""
    copy = tmp_path / TEMPLATE_FITS
    shutil.copyfile(project_root / registry[TEMPLATE_FITS].path, copy)
    build_dataset("icecube_gp2023_template_fits", {TEMPLATE_FITS: copy}, registry=registry)
    copy.write_text(copy.read_text().replace("2.7", "2.8", 1))
    with pytest.raises(RawChecksumError, match=rf"{TEMPLATE_FITS} has sha256 .*restore the committed file"):
        build_dataset("icecube_gp2023_template_fits", {TEMPLATE_FITS: copy}, registry=registry)


@pytest.mark.parametrize("fault, message", [
    ("cut_mid_row", r"fields, expected 7 like the first data row \(truncated or damaged row\)"),
    ("inf", "NaN or infinite value"),
    ("word", "not a number"),
])
def test_raw_text_faults_name_file_and_line(km2a_copy, fault, message):
    lines = km2a_copy.read_text().splitlines(keepends=True)
    last = _data_line_numbers(km2a_copy)[-1]
    if fault == "cut_mid_row":
        km2a_copy.write_text("".join(lines[: last - 1]) + " ".join(lines[last - 1].split()[:4]))
    else:
        fields = lines[last - 1].split()
        fields[4] = "inf" if fault == "inf" else "n/a"
        lines[last - 1] = " ".join(fields) + "\n"
        km2a_copy.write_text("".join(lines))
    with pytest.raises(RawFileError, match=rf"{KM2A}:{last}: .*{message}"):
        read_lhaaso_km2a_table(km2a_copy)


def test_empty_raw_files_name_the_file(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a header\n\n")
    with pytest.raises(RawFileError, match=r"empty\.txt: no data rows"):
        read_lhaaso_km2a_table(empty)
    csv_file = tmp_path / "empty.csv"
    csv_file.write_text("# comment\ntemplate,best_fit\n")
    with pytest.raises(RawFileError, match=r"empty\.csv: no data rows"):
        read_gp_template_fits(csv_file)


def test_cut_csv_row_names_file_and_line(project_root, registry, tmp_path):
    copy = tmp_path / TEMPLATE_FITS
    text = (project_root / registry[TEMPLATE_FITS].path).read_text()
    lines = text.splitlines(keepends=True)
    copy.write_text("".join(lines[:-1]) + lines[-1].split(",")[0] + ",")
    with pytest.raises(RawFileError, match=rf"{TEMPLATE_FITS}:{len(lines)}: .*truncated or damaged row"):
        read_gp_template_fits(copy)
