"""galdiff.io: a cut, altered or empty intermediate is an error naming the file; writes are byte-reproducible."""

import time

import h5py
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from galdiff.io import IntegrityError, read_ecsv, reading_fits, reading_h5, write_ecsv, write_fits, writing_h5


def _table(n_rows=15):
    table = Table({"energy": np.geomspace(1e3, 1e6, n_rows), "flux": np.linspace(1.0, 2.0, n_rows)})
    table["energy"].unit = "GeV"
    table.meta["dataset"] = "test"
    return table


# ---------------------------------------------------------------------------------------------- ECSV
def test_ecsv_round_trip_keeps_rows_and_units(tmp_path):
    path = write_ecsv(_table(), tmp_path / "t.ecsv")
    back = read_ecsv(path)
    assert len(back) == 15 and back["energy"].unit == "GeV" and back.meta["dataset"] == "test"
    assert "galdiff_n_rows" not in back.meta  # the record is checked, not handed on


def test_ecsv_cut_at_a_line_boundary_is_an_error_naming_the_file(tmp_path):
    """The issue's fault: a table cut at a line boundary was read as a shorter table (12 of 15 points)."""
    path = write_ecsv(_table(), tmp_path / "extra_fit_points.ecsv")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-3]))
    with pytest.raises(IntegrityError, match=r"extra_fit_points\.ecsv: 12 rows read, the writer recorded 15"):
        read_ecsv(path)


def test_ecsv_cut_mid_line_and_empty_name_the_file(tmp_path):
    path = write_ecsv(_table(), tmp_path / "cut.ecsv")
    text = path.read_text()
    path.write_text(text[: len(text) - 12])  # inside the last row
    with pytest.raises(IntegrityError, match=r"cut\.ecsv"):
        read_ecsv(path)
    empty = tmp_path / "empty.ecsv"
    empty.write_text("")
    with pytest.raises(IntegrityError, match=r"empty\.ecsv: empty file"):
        read_ecsv(empty)
    with pytest.raises(FileNotFoundError, match=r"missing\.ecsv"):
        read_ecsv(tmp_path / "missing.ecsv")


def test_ecsv_is_byte_reproducible(tmp_path):
    first = write_ecsv(_table(), tmp_path / "a.ecsv").read_bytes()
    assert write_ecsv(_table(), tmp_path / "b.ecsv").read_bytes() == first


# ---------------------------------------------------------------------------------------------- HDF5
def _write_h5(path):
    with writing_h5(path) as handle:
        handle.create_dataset("psi", data=np.arange(4000.0).reshape(40, 100), compression="gzip")
        handle.create_group("axes").create_dataset("r_kpc", data=np.linspace(0, 20, 40))
        handle.attrs["species"] = "proton"
    return path


def test_h5_round_trip_and_reproducible_bytes(tmp_path):
    first = _write_h5(tmp_path / "a.h5")
    time.sleep(1.1)  # a timestamp in the file would differ now
    second = _write_h5(tmp_path / "b.h5")
    assert first.read_bytes() == second.read_bytes()
    with reading_h5(first) as handle:
        np.testing.assert_array_equal(handle["psi"][()], np.arange(4000.0).reshape(40, 100))
        assert handle.attrs["species"] == "proton"


def test_h5_truncated_or_altered_names_the_file(tmp_path):
    path = _write_h5(tmp_path / "density.h5")
    content = path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(content[: len(content) // 2])
    with pytest.raises(IntegrityError, match=r"cut\.h5: not a readable HDF5 file"):
        with reading_h5(tmp_path / "cut.h5"):
            pass
    with h5py.File(path, "r+") as handle:  # a dataset changed behind the writer's back
        handle["psi"][0, 0] = -1.0
    with pytest.raises(IntegrityError, match=r"density\.h5: dataset\(s\) \['psi'\] differ"):
        with reading_h5(path):
            pass


def test_h5_read_error_inside_names_the_file(tmp_path):
    path = _write_h5(tmp_path / "greens.h5")
    with pytest.raises(IntegrityError, match=r"greens\.h5: KeyError"):
        with reading_h5(path) as handle:
            handle["no_such_dataset"]


# ---------------------------------------------------------------------------------------------- FITS
def _hdul():
    primary = fits.PrimaryHDU()
    primary.header["DATE"] = "2026-01-01T00:00:00"
    first = fits.BinTableHDU.from_columns([fits.Column(name="A", format="D", array=np.arange(3000.0))], name="MASK")
    second = fits.BinTableHDU.from_columns([fits.Column(name="B", format="D", array=np.ones(500))], name="REGIONS")
    return fits.HDUList([primary, first, second])


def test_fits_reproducible_without_dates(tmp_path):
    first = write_fits(_hdul(), tmp_path / "a.fits")
    time.sleep(1.1)
    second = write_fits(_hdul(), tmp_path / "b.fits")
    assert first.read_bytes() == second.read_bytes()
    with reading_fits(first) as hdul:
        assert "DATE" not in hdul[0].header and hdul[0].header["GDNHDU"] == 3
        assert hdul[1].verify_checksum() == 1 and hdul[1].verify_datasum() == 1
        np.testing.assert_array_equal(hdul["MASK"].data["A"], np.arange(3000.0))


def test_fits_truncated_or_altered_names_the_file(tmp_path):
    path = write_fits(_hdul(), tmp_path / "lhaaso.fits")
    content = path.read_bytes()
    # cut at a FITS block boundary after the first two HDUs: astropy alone reads a shorter file
    without_last_hdu = len(content) - 2880 * 3  # REGIONS: one header block, two data blocks
    for size, message in ((without_last_hdu, "2 HDUs read, the writer recorded 3"), (len(content) - 100, "truncated")):
        (tmp_path / "cut.fits").write_bytes(content[:size])
        with pytest.raises(IntegrityError, match=rf"cut\.fits.*{message}"):
            with reading_fits(tmp_path / "cut.fits"):
                pass
    altered = bytearray(content)
    altered[2880 * 3 + 10] ^= 0xFF  # a data byte of HDU 1
    (tmp_path / "altered.fits").write_bytes(bytes(altered))
    with pytest.raises(IntegrityError, match=r"altered\.fits.*[Cc]hecksum"):
        with reading_fits(tmp_path / "altered.fits"):
            pass
    with pytest.raises(IntegrityError, match=r"lhaaso\.fits: KeyError"):
        with reading_fits(path) as hdul:
            hdul["NO_SUCH_HDU"]
