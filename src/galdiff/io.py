"""Writing and reading the workflow's intermediate files so that a cut or altered file is an error.

One writer and one reader per format; every intermediate the workflow writes goes through them:

* ECSV tables: :func:`write_ecsv` / :func:`read_ecsv`. The writer records the row count in the
  table's metadata (``galdiff_n_rows``); the reader checks it, so a table truncated at a line
  boundary is an error, never a shorter table.
* HDF5: :func:`writing_h5` / :func:`reading_h5`. The writer records the shape and the sha256 of
  every dataset's bytes in the root attribute ``galdiff_datasets`` (no object timestamps); the reader checks both before handing out the file.
* FITS: :func:`write_fits` / :func:`reading_fits`. The writer removes ``DATE`` cards, records the
  HDU count in the primary header (``GDNHDU``) and adds FITS ``CHECKSUM``/``DATASUM`` cards with a
  fixed comment (astropy's default comment holds the time); the reader checks all three.

All writes are atomic (:func:`galdiff.provenance.atomic_path`) and byte-reproducible: identical
content gives identical files. Every error is an :class:`IntegrityError` whose message starts
with the file's path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

from .provenance import atomic_path

N_ROWS_KEY = "galdiff_n_rows"
H5_RECORD_ATTR = "galdiff_datasets"
FITS_NHDU_KEY = "GDNHDU"
_CHECKSUM_COMMENT = "galdiff"  # astropy writes the current time here by default
_DATE_KEYWORDS = ("DATE", "DATE-OBS", "DATE-END", "DATE-MAP")


class IntegrityError(ValueError):
    """A file is unreadable, truncated or differs from what its writer recorded; the message names it.

    (A missing file is a ``FileNotFoundError`` naming it.)
    """


# ----------------------------------------------------------------------------------------------
# ECSV
# ----------------------------------------------------------------------------------------------
def write_ecsv(table, path) -> Path:
    """Write an astropy ``table`` as ECSV at ``path`` atomically, recording its row count.

    Parameters
    ----------
    table : astropy.table.Table
        Written as it is, plus ``meta['galdiff_n_rows']`` (the row count its reader checks).
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    table = table.copy(copy_data=False)
    table.meta[N_ROWS_KEY] = len(table)
    with atomic_path(path) as tmp:
        table.write(tmp, format="ascii.ecsv", overwrite=True)
    return path


def read_ecsv(path):
    """Read an ECSV table, checking the row count its writer recorded.

    Raises
    ------
    IntegrityError
        The file is missing, empty, not ECSV, cut mid-row, or has fewer or more rows than
        recorded in ``galdiff_n_rows``. Tables without the record (not written by
        :func:`write_ecsv`) are read without the count check.
    """
    from astropy.table import Table

    from .data import readers  # noqa: F401 - enables the 'nucleon' unit of per-nucleon axes

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise IntegrityError(f"{path}: empty file (expected an ECSV table)")
    try:
        table = Table.read(path, format="ascii.ecsv")
    except Exception as exc:  # noqa: BLE001 - any parser failure becomes one message naming the file
        raise IntegrityError(f"{path}: not a readable ECSV table ({type(exc).__name__}: {exc})") from None
    expected = table.meta.pop(N_ROWS_KEY, None)
    if expected is not None and expected != len(table):
        raise IntegrityError(f"{path}: {len(table)} rows read, the writer recorded {expected} "
                             "(truncated or edited file: rebuild it)")
    return table


# ----------------------------------------------------------------------------------------------
# HDF5
# ----------------------------------------------------------------------------------------------
def _dataset_sha256(data: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()


def _dataset_records(handle) -> dict:
    """``{name: [shape, sha256]}`` of every dataset below ``handle``, names sorted."""
    import h5py

    records = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            data = obj[()]
            records[name] = [list(np.shape(data)), _dataset_sha256(np.asarray(data))]

    handle.visititems(visit)
    return dict(sorted(records.items()))


@contextlib.contextmanager
def writing_h5(path):
    """Yield an ``h5py.File`` open for writing at a temporary path; on success record and rename.

    Before the file is closed its datasets' shapes and sha256 are stored in the root attribute
    ``galdiff_datasets`` (checked by :func:`reading_h5`). h5py stores no object timestamps unless
    asked (``track_times=False`` is its default: leave it so), so identical content gives identical
    bytes.
    """
    import h5py

    path = Path(path)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as handle:
            yield handle
            handle.attrs[H5_RECORD_ATTR] = json.dumps(_dataset_records(handle))


@contextlib.contextmanager
def reading_h5(path, verify: bool = True):
    """Yield an ``h5py.File`` open for reading, after checking what its writer recorded.

    Parameters
    ----------
    path : str or os.PathLike
    verify : bool
        Check every dataset's shape and sha256 against ``galdiff_datasets`` (files without the
        record are opened unchecked).

    Raises
    ------
    IntegrityError
        Missing, truncated or not HDF5; a dataset missing, added or changed since it was written.
        Errors while the caller reads the file (a missing dataset, say) are re-raised as
        IntegrityError with the file named.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        handle = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001
        raise IntegrityError(f"{path}: not a readable HDF5 file, truncated or corrupted "
                             f"({type(exc).__name__}: {exc})") from None
    with handle:
        try:
            if verify and H5_RECORD_ATTR in handle.attrs:
                _check_h5_records(path, handle)
        except IntegrityError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise IntegrityError(f"{path}: HDF5 file could not be read, truncated or corrupted "
                                 f"({type(exc).__name__}: {exc})") from None
        try:
            yield handle
        except IntegrityError:
            raise
        except (KeyError, OSError, ValueError) as exc:
            if str(path) in str(exc):
                raise
            raise IntegrityError(f"{path}: {type(exc).__name__}: {exc}") from exc


def _check_h5_records(path: Path, handle) -> None:
    recorded = json.loads(handle.attrs[H5_RECORD_ATTR])
    actual = _dataset_records(handle)
    missing = sorted(set(recorded) - set(actual))
    extra = sorted(set(actual) - set(recorded))
    if missing or extra:
        raise IntegrityError(f"{path}: datasets differ from what the writer recorded "
                             f"(missing {missing}, unexpected {extra}): rebuild the file")
    changed = [name for name in recorded if recorded[name] != actual[name]]
    if changed:
        raise IntegrityError(f"{path}: dataset(s) {changed} differ from the shape/sha256 the writer "
                             "recorded (truncated or altered file): rebuild it")


# ----------------------------------------------------------------------------------------------
# FITS
# ----------------------------------------------------------------------------------------------
def write_fits(hdul, path) -> Path:
    """Write an ``astropy.io.fits.HDUList`` atomically and reproducibly, with integrity records.

    ``DATE*`` cards are removed, the primary header gets ``GDNHDU`` (the HDU count) and every HDU
    gets ``CHECKSUM``/``DATASUM`` with a fixed comment.
    """
    path = Path(path)
    primary = hdul[0].header
    primary[FITS_NHDU_KEY] = (len(hdul), "number of HDUs written by galdiff")
    for hdu in hdul:
        for key in _DATE_KEYWORDS:
            while key in hdu.header:
                del hdu.header[key]
        hdu.add_checksum(when=_CHECKSUM_COMMENT)
    with atomic_path(path) as tmp:
        hdul.writeto(tmp, checksum=False)
    return path


@contextlib.contextmanager
def reading_fits(path, **open_kwargs):
    """Yield an open ``astropy.io.fits.HDUList`` after checking its HDU count and checksums.

    Raises
    ------
    IntegrityError
        Missing, truncated or not FITS; fewer HDUs than ``GDNHDU``; a ``CHECKSUM``/``DATASUM``
        that does not match. Files without the records (not written by :func:`write_fits`) are
        checked only for readability. Errors while the caller reads (a missing HDU or column)
        are re-raised with the file named.
    """
    from astropy.io import fits

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # astropy only warns on truncated data and bad checksums
            hdul = fits.open(path, memmap=False, checksum=True, **open_kwargs)
            hdul.readall()
            for hdu in hdul:
                hdu.data  # noqa: B018 - touch the data: a cut file fails here, not in the caller
    except Exception as exc:  # noqa: BLE001
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise IntegrityError(f"{path}: not a readable FITS file, truncated or corrupted "
                             f"({type(exc).__name__}: {first_line})") from None
    with hdul:
        expected = hdul[0].header.get(FITS_NHDU_KEY)
        if expected is not None and expected != len(hdul):
            raise IntegrityError(f"{path}: {len(hdul)} HDUs read, the writer recorded {expected} "
                                 "(truncated file: rebuild it)")
        try:
            yield hdul
        except IntegrityError:
            raise
        except (KeyError, IndexError, OSError, ValueError) as exc:
            if str(path) in str(exc):
                raise
            raise IntegrityError(f"{path}: {type(exc).__name__}: {exc}") from exc
