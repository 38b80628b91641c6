"""The reproduction as a document, end to end on the tiny configuration: the manuscript PDF (with
latexmk), the Snakemake report, the README generator, the CAR cubes and the gammapy example.

The numbers of the tiny run mean nothing (nside 8, 2 energies per decade); these tests check that
every piece is built from the results and has the structure the README and the manuscript expect.
"""

import json
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.workflow

HAVE_LATEX = shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def run_snakemake(project_root, workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(project_root / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def tiny_run(project_root, mirror_dir, tmp_path_factory):
    """`all` (and, with LaTeX installed, paper/ms.pdf) on the tiny configuration, once for this module."""
    root = tmp_path_factory.mktemp("paper")
    config = yaml.safe_load((project_root / "tests" / "config" / "tiny.yaml").read_text())
    config["data"]["mirrors"] = [str(mirror_dir)]
    config_path = root / "tiny.yaml"
    config_path.write_text(yaml.safe_dump(config))
    workdir = root / "work"
    targets = ["all", "readme_numbers"] + (["paper/ms.pdf"] if HAVE_LATEX else [])
    result = run_snakemake(project_root, workdir, *targets, "--configfile", str(config_path))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return {"workdir": workdir, "config": config_path}


@pytest.mark.skipif(not HAVE_LATEX, reason="latexmk/pdflatex not installed (.ci/install_latex.sh installs them)")
def test_manuscript_builds_with_every_figure_and_number(project_root, tiny_run):
    workdir = tiny_run["workdir"]
    pdf = (workdir / "paper" / "ms.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    log = (workdir / "results" / "paper" / "build" / "ms.log").read_text(errors="replace")
    assert "galdiff number undefined" not in log
    assert "There were undefined references" not in log and "Citation" not in log  # bibtex resolved every \cite
    for figure in ("fig1", "fig2", "fig3", "fig4a", "fig4d", "fig5", "fig6", "fig7a", "fig7b", "fig8"):
        assert f"results/{figure}.pdf" in log  # every figure is included from results/
    for table in ("table1", "table2", "table3", "table4"):
        assert f"results/{table}.tex" in log
    if shutil.which("pdfinfo"):
        pages = subprocess.run(["pdfinfo", str(workdir / "paper" / "ms.pdf")], capture_output=True, text=True).stdout
        assert int(next(line.split()[1] for line in pages.splitlines() if line.startswith("Pages:"))) >= 4
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(workdir / "paper" / "ms.pdf"), "-"], capture_output=True,
                              text=True).stdout
        summary = json.loads((workdir / "results" / "summary.json").read_text())
        share = 100.0 * summary["headline"]["ours"]["share_20TeV"]
        assert f"{share:.{max(0, 1 - int(np.floor(np.log10(share))))}f}" in text  # the generated headline number
        assert "??" not in text
    # identical inputs give a byte-identical PDF (fixed SOURCE_DATE_EPOCH)
    result = run_snakemake(project_root, workdir, "paper/ms.pdf", "-R", "paper", "--configfile", str(tiny_run["config"]))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "paper" / "ms.pdf").read_bytes() == pdf


def test_report_is_self_contained_with_every_figure_table_and_headline(project_root, tiny_run):
    workdir = tiny_run["workdir"]
    report = workdir / "report.zip"
    targets = ["all"] + (["paper/ms.pdf"] if HAVE_LATEX else [])
    result = run_snakemake(project_root, workdir, *targets, "--report", str(report),
                           "--configfile", str(tiny_run["config"]))
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    with zipfile.ZipFile(report) as archive:
        names = {name.rsplit("/", 1)[-1] for name in archive.namelist()}
        html = archive.read(next(n for n in archive.namelist() if n.endswith("report.html"))).decode()
    expected = {f"fig{n}.pdf" for n in ("1", "2", "3", "4a", "4b", "4c", "4d", "5", "6", "7a", "7b", "8")}
    expected |= {"table1.md", "table2.md", "table3.md", "table4.md", "headline.json", "summary.json"}
    assert expected <= names, expected - names
    # captions: the paper's, then ours, rendered with this run's configuration
    assert "Figure 4a: gamma-ray spectrum by component" in html and "region lhaaso_outer" in html
    assert "Paper:" in html and "Ours:" in html


def test_readme_generator_output_has_the_structure_of_the_readme_blocks(project_root, tiny_run):
    from galdiff.reporting import extract_generated_block, markdown_table_structure

    generated = (tiny_run["workdir"] / "results" / "readme_numbers.md").read_text()
    readme = (project_root / "README.md").read_text()
    for name in ("fits", "spectra"):
        ours = markdown_table_structure(extract_generated_block(generated, name))
        theirs = markdown_table_structure(extract_generated_block(readme, name))
        assert ours["header"] == theirs["header"]
        assert ours["n_columns"] == theirs["n_columns"] == {len(theirs["header"])}
        # every row of the README is one the generator writes (more models may add rows)
        assert set(theirs["labels"]) <= set(ours["labels"]), set(theirs["labels"]) - set(ours["labels"])
    # the command-line form rewrites a README between its markers and nothing else
    copy = tiny_run["workdir"] / "README.md"
    copy.write_text(readme)
    subprocess.run([sys.executable, str(project_root / "workflow" / "scripts" / "readme_numbers.py"),
                    str(tiny_run["workdir"] / "results" / "summary.json"), "--readme", str(copy),
                    "--configfile", str(project_root / "config.yaml"), str(tiny_run["config"])], check=True)
    rewritten = copy.read_text()
    assert extract_generated_block(rewritten, "fits") == extract_generated_block(generated, "fits")
    assert rewritten.split("<!-- BEGIN GENERATED: fits -->")[0] == readme.split("<!-- BEGIN GENERATED: fits -->")[0]


def test_car_cubes_load_in_gammapy_and_predict_the_counts_of_the_cube(project_root, tiny_run):
    """The worked example's predicted counts equal an independent sum over the CAR cube's pixels."""
    from astropy.io import fits

    cube_path = tiny_run["workdir"] / "results" / "cubes" / "dr_low" / "gamma_total_car.fits"
    for model in ("dr_high", "dr_low"):
        for component in ("gamma_total", "neutrino_total"):
            with fits.open(tiny_run["workdir"] / "results" / "cubes" / model / f"{component}_car.fits") as hdul:
                assert hdul[0].header["CTYPE1"] == "GLON-CAR" and hdul["ENERGIES"].columns["Energy"].unit == "MeV"
                assert hdul[0].data.dtype.itemsize == 4  # float32, as the Fermi files
    # a box on the cube's own pixel edges (2-deg tiny pixels, centres at odd degrees)
    l_min, l_max, b_max, binsz = 24.0, 100.0, 4.0, 2.0
    result = subprocess.run([sys.executable, str(project_root / "docs" / "examples" / "gammapy_template.py"),
                             str(cube_path), "--box", str(l_min), str(l_max), str(b_max), "--binsz", str(binsz)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    total = float(next(line.split()[-1] for line in result.stdout.splitlines() if "total:" in line))

    # independent: sum I(E, pixel) dOmega over the box, integrate E I(E) d ln E (power law per interval)
    # between 25 TeV and 1 PeV, times 1 km^2 x 1 yr
    with fits.open(cube_path) as hdul:
        image = hdul[0].data.astype(float)
        header = hdul[0].header
        energies_GeV = hdul["ENERGIES"].data["Energy"] / 1e3
    n_lon, n_lat = header["NAXIS1"], header["NAXIS2"]
    lon = (np.arange(n_lon) + 1 - header["CRPIX1"]) * header["CDELT1"] + header["CRVAL1"]
    lat = (np.arange(n_lat) + 1 - header["CRPIX2"]) * header["CDELT2"] + header["CRVAL2"]
    lon = np.mod(lon, 360.0)
    assert abs(header["CDELT1"]) == binsz
    width_rad = np.deg2rad(binsz)
    solid_angle = width_rad * (np.sin(np.deg2rad(lat + binsz / 2)) - np.sin(np.deg2rad(lat - binsz / 2)))
    in_box = ((lon > l_min) & (lon < l_max))[None, :] & (np.abs(lat) < b_max)[:, None]
    spectrum = (image * (solid_angle[:, None] * in_box)[None]).sum(axis=(1, 2))  # GeV^-1 cm^-2 s^-1
    log_e = np.log(energies_GeV)
    grid = np.exp(np.linspace(np.log(2.5e4), np.log(1e6), 400))
    interpolated = np.exp(np.interp(np.log(grid), log_e, np.log(spectrum)))
    exposure_cm2_s = 1e10 * 3.15576e7
    expected = np.trapezoid(grid * interpolated, np.log(grid)) * exposure_cm2_s
    # the 0.3-deg PSF moves a little flux across the box edges; energy interpolation differs slightly
    assert total == pytest.approx(expected, rel=0.03)
