"""Registry of raw files and the verified, atomic materialisation from mirrors or a URL."""

from __future__ import annotations

import hashlib
import io
import shutil
import urllib.error
from pathlib import Path

import pytest
import yaml

from galdiff.data import DATASETS, DataIntegrityError, load_registry, materialise
from galdiff.data.registry import RegistryEntry, default_registry_path


@pytest.fixture(scope="module")
def registry(project_root):
    return load_registry(project_root / "data" / "registry.yaml")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _no_network(url, timeout=None):  # stands in for urllib.request.urlopen
    raise urllib.error.URLError("network disabled in tests")


def _entry(name="x.txt", data=b"hello\n", **kwargs) -> RegistryEntry:
    fields = dict(name=name, folder="gamma", format="test", sha256=_sha(data), citation="c", licence="l",
                  kind="verbatim", url=f"https://example.org/{name}")
    fields.update(kwargs)
    return RegistryEntry(**fields)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------------------------------------
# the registry file itself
# ---------------------------------------------------------------------------------------------


def test_default_registry_path_is_the_project_file(project_root):
    assert default_registry_path() == project_root / "data" / "registry.yaml"


def test_every_verbatim_entry_resolves_in_mirror_with_matching_hash(registry, mirror_dir):
    verbatim = [e for e in registry.values() if e.kind == "verbatim"]
    assert len(verbatim) >= 30
    for entry in verbatim:
        path = mirror_dir / entry.folder / entry.name
        assert path.is_file(), f"{entry.name} not in mirror at {path}"
        assert _sha(path.read_bytes()) == entry.sha256, entry.name
        assert entry.url.startswith("https://raw.githubusercontent.com/"), entry.name


def test_transcribed_entries_are_committed_and_match_mirror(registry, project_root, mirror_dir):
    transcribed = {e.name: e for e in registry.values() if e.kind == "transcribed"}
    assert set(transcribed) == {"lhaaso_diffuse_summary_transcribed.csv", "icecube_gp2023_template_fits.csv",
                                "icecube_cascades6yr_spl_bestfit.csv"}
    readme = (project_root / "data" / "raw" / "transcribed" / "README.md").read_text()
    for entry in transcribed.values():
        assert entry.url is None and entry.path == f"data/raw/transcribed/{entry.name}"
        committed = (project_root / entry.path).read_bytes()
        assert _sha(committed) == entry.sha256
        assert committed == (mirror_dir / entry.folder / entry.name).read_bytes()
        assert entry.name in readme


def test_required_extras_and_no_derived_files_in_registry(registry):
    for name in ("MilkyWay_DR0.5_DZ0.1_DPHI10_RMAX20_ZMAX5_galprop_format.fits.gz", "1LHAASO_catalog.fits",
                 "gammacat.fits.gz", "hgps_catalog_v1.fits.gz", "icecube_gp2023_Fermi-LAT_pi0_map_equ_nside128.npy",
                 "tevcat_sources_lon_lat_ext_GLON_25_100deg_subPeVALPs.txt"):
        assert name in registry
    for derived in ("tibet_asg2021_diffuse_regionA_digitized.csv", "icecube_cascades6yr_spl_band.csv",
                    "1LHAASO_components_galactic.csv", "gammacat_positions_extensions.csv",
                    "icecube_gp2023_pi0_model_spectrum.csv"):
        assert derived not in registry


def test_every_dataset_file_is_a_registry_entry_in_the_right_folder(registry):
    for spec in DATASETS.values():
        for relative in spec.raw_files:
            name = Path(relative).name
            assert name in registry, f"{spec.name}: {name} missing from registry"
            assert Path(relative) == registry[name].relative_raw_path, (spec.name, relative)


# ---------------------------------------------------------------------------------------------
# load_registry validation
# ---------------------------------------------------------------------------------------------

GOOD = {"folder": "gamma", "format": "A", "sha256": "a" * 64, "citation": "c", "licence": "l",
        "url": "https://example.org/f.txt"}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"sha256": "abc"}, "sha256"),
        ({"sha256": "A" * 64}, "sha256"),
        ({"folder": "elsewhere"}, "folder"),
        ({"url": None}, "url"),
        ({"url": "ftp://x"}, "url"),
        ({"kind": "derived"}, "kind"),
        ({"colour": "red"}, "unknown field"),
        ({"kind": "transcribed"}, "url"),  # a transcribed entry with a url
        ({"kind": "transcribed", "url": None, "path": "data/raw/transcribed/other.csv"}, "path"),
        ({"citation": ""}, "citation"),
    ],
)
def test_load_registry_rejects_bad_entry_naming_file_and_key(tmp_path, change, fragment):
    bad = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"good.txt": GOOD, "bad_file.txt": bad}))
    with pytest.raises(ValueError) as info:
        load_registry(path)
    message = str(info.value)
    assert str(path) in message and "'bad_file.txt'" in message and fragment in message


def test_load_registry_rejects_missing_field(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"f.txt": {k: v for k, v in GOOD.items() if k != "licence"}}))
    with pytest.raises(ValueError, match=r"'f.txt'.*missing field.*licence"):
        load_registry(path)


def test_load_registry_rejects_non_mapping(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="registry.yaml"):
        load_registry(path)


# ---------------------------------------------------------------------------------------------
# materialise
# ---------------------------------------------------------------------------------------------


def test_materialise_copies_verified_file_from_mirror(registry, mirror_dir, tmp_path):
    entry = registry["LHAASO_KM2A_2023_TableS2_inner.txt"]
    dest = tmp_path / "raw" / entry.folder / entry.name
    out = materialise(entry, dest, [tmp_path / "empty_mirror", mirror_dir], tmp_path, opener=_no_network)
    assert out == dest and _sha(dest.read_bytes()) == entry.sha256
    assert _leftovers(dest.parent) == [entry.name]  # no temporary file left beside it


def test_relative_mirror_resolved_against_project_root(tmp_path):
    data = b"relative mirror\n"
    entry = _entry(data=data)
    (tmp_path / "proj" / "mirrors" / "m1" / "gamma").mkdir(parents=True)
    (tmp_path / "proj" / "mirrors" / "m1" / "gamma" / entry.name).write_bytes(data)
    dest = tmp_path / "out" / entry.name
    materialise(entry, dest, ["mirrors/m1"], tmp_path / "proj", opener=_no_network)
    assert dest.read_bytes() == data


def test_corrupted_mirror_copy_rejected_and_nothing_left_at_dest(registry, mirror_dir, tmp_path):
    entry = registry["LHAASO_KM2A_2023_TableS3_outer.txt"]
    bad_mirror = tmp_path / "bad_mirror"
    (bad_mirror / entry.folder).mkdir(parents=True)
    corrupted = bytearray((mirror_dir / entry.folder / entry.name).read_bytes())
    corrupted[-5] ^= 0x01  # one flipped bit
    (bad_mirror / entry.folder / entry.name).write_bytes(bytes(corrupted))
    dest_dir = tmp_path / "raw" / entry.folder
    dest = dest_dir / entry.name
    with pytest.raises(DataIntegrityError) as info:
        materialise(entry, dest, [bad_mirror], tmp_path, opener=_no_network)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert entry.name in message
    assert entry.sha256 in message
    assert _sha(bytes(corrupted)) in message  # actual hash of the bad copy
    assert str(bad_mirror / entry.folder / entry.name) in message
    assert entry.url in message and "network disabled" in message
    assert not dest.exists()
    assert _leftovers(dest_dir) == []  # no temporary file either


def test_corrupted_first_mirror_falls_back_to_good_second(registry, mirror_dir, tmp_path):
    entry = registry["Ackermann2012_diffuse_Fig17.txt"]
    bad_mirror = tmp_path / "bad"
    (bad_mirror / entry.folder).mkdir(parents=True)
    (bad_mirror / entry.folder / entry.name).write_text("garbage\n")
    dest = tmp_path / "raw" / entry.name
    materialise(entry, dest, [bad_mirror, mirror_dir], tmp_path, opener=_no_network)
    assert _sha(dest.read_bytes()) == entry.sha256


def test_file_found_nowhere_lists_every_place(tmp_path):
    entry = _entry(name="nowhere.txt")
    calls = []

    def opener(url, timeout=None):
        calls.append((url, timeout))
        raise urllib.error.URLError("Name or service not known")

    mirrors = [tmp_path / "m1", "relative/m2"]
    dest = tmp_path / "raw" / "gamma" / entry.name
    with pytest.raises(DataIntegrityError) as info:
        materialise(entry, dest, mirrors, tmp_path, opener=opener, timeout_s=3.0)
    message = str(info.value)
    assert message.count("\n") >= 3  # one line per place
    assert "nowhere.txt" in message and entry.sha256 in message
    assert str(tmp_path / "m1" / "gamma" / "nowhere.txt") in message
    assert str(tmp_path / "relative" / "m2" / "gamma" / "nowhere.txt") in message
    assert "not found" in message
    assert entry.url in message and "Name or service not known" in message
    assert calls == [(entry.url, 3.0)]
    assert not dest.exists() and _leftovers(dest.parent) == []


def test_download_used_when_no_mirror_has_file(tmp_path):
    data = b"downloaded bytes\n" * 1000
    entry = _entry(name="dl.txt", data=data)
    dest = tmp_path / "raw" / "dl.txt"
    materialise(entry, dest, [tmp_path / "m"], tmp_path, opener=lambda url, timeout=None: io.BytesIO(data))
    assert dest.read_bytes() == data and _leftovers(dest.parent) == ["dl.txt"]


def test_download_with_wrong_hash_rejected(tmp_path):
    entry = _entry(name="dl.txt", data=b"expected")
    served = b"something else"
    dest = tmp_path / "raw" / "dl.txt"
    with pytest.raises(DataIntegrityError) as info:
        materialise(entry, dest, [], tmp_path, opener=lambda url, timeout=None: io.BytesIO(served))
    assert _sha(served) in str(info.value) and entry.url in str(info.value)
    assert _leftovers(dest.parent) == []


def test_wrong_existing_dest_replaced_or_removed(tmp_path):
    data = b"good\n"
    entry = _entry(data=data)
    dest = tmp_path / "raw" / entry.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"stale\n")
    with pytest.raises(DataIntegrityError) as info:
        materialise(entry, dest, [], tmp_path, opener=_no_network)
    assert _sha(b"stale\n") in str(info.value)
    assert not dest.exists()
    mirror = tmp_path / "m" / "gamma"
    mirror.mkdir(parents=True)
    (mirror / entry.name).write_bytes(data)
    dest.write_bytes(b"stale\n")
    materialise(entry, dest, [tmp_path / "m"], tmp_path, opener=_no_network)
    assert dest.read_bytes() == data


def test_transcribed_entry_from_project_then_mirror(registry, project_root, mirror_dir, tmp_path):
    entry = registry["icecube_gp2023_template_fits.csv"]
    dest = tmp_path / "raw" / "transcribed" / entry.name
    materialise(entry, dest, [], project_root, opener=_no_network)
    assert _sha(dest.read_bytes()) == entry.sha256
    # a project without the committed copy still finds it in a mirror (never via a URL)
    dest2 = tmp_path / "raw2" / "transcribed" / entry.name
    materialise(entry, dest2, [mirror_dir], tmp_path / "empty_project", opener=_no_network)
    assert _sha(dest2.read_bytes()) == entry.sha256
    with pytest.raises(DataIntegrityError, match="no URL"):
        materialise(entry, tmp_path / "raw3" / entry.name, [], tmp_path / "empty_project", opener=_no_network)


def test_transcribed_source_in_place_is_kept(registry, project_root, tmp_path):
    entry = registry["icecube_cascades6yr_spl_bestfit.csv"]
    project = tmp_path / "proj"
    committed = project / entry.path
    committed.parent.mkdir(parents=True)
    shutil.copyfile(project_root / entry.path, committed)
    assert materialise(entry, committed, [], project, opener=_no_network) == committed
    committed.write_text("edited by hand\n")
    with pytest.raises(DataIntegrityError):
        materialise(entry, committed, [], project, opener=_no_network)
    assert committed.read_text() == "edited by hand\n"  # a committed source is never deleted
