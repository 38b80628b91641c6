# Parameter scans (config `scans`, galdiff.scans): every point is a model <scan>_<index> merged into
# config["models"] by rules/common.smk, so it runs through the ordinary rules (Green's matrices shared by
# points with the same transport); here its results are gathered into one table and one figure per scan.
#   snakemake scans                     every scan's table and figure (and only what they need)
# Library: galdiff.scans, galdiff.plotting.scans.

SCANS = config.get("scans") or {}
if SCANS and not FIT:
    raise ValueError("config key 'scans': scans need the injection fits (propagation.greens: true)")


def scan_inputs(wildcards):
    """Each point's merged injection fits; with `through: spectra` also its EXTRA fit, points and the
    spectra of the headline region, and IceCube's total flux (the headline numbers)."""
    models = [point.model for point in SCAN_POINTS[wildcards.scan]]
    inputs = {"fits": expand("results/fit/{model}/injection.yaml", model=models)}
    if SCANS[wildcards.scan].get("through", "spectra") == "spectra":
        inputs["extra_fits"] = expand("results/spectra/{model}/extra_fit.yaml", model=models)
        inputs["extra_points"] = expand("results/spectra/{model}/extra_fit_points.ecsv", model=models)
        inputs["spectra"] = expand("results/spectra/{model}/{region}.ecsv", model=models, region=HEADLINE["region"])
        inputs["icecube_total"] = "results/data/icecube_cascades_6yr.ecsv"
    return inputs


def scan_params(wildcards):
    """The scan's points, section and reference point (the base model's values), and Green's keys."""
    from galdiff.scans import base_values

    spec = SCANS[wildcards.scan]
    points = SCAN_POINTS[wildcards.scan]
    parameters = list(dict.fromkeys(name for point in points for name in point.parameters))
    return {
        "spec": spec,
        "points": [{"index": p.index, "model": p.model, "parameters": p.parameters} for p in points],
        "paper_point": base_values(config["models"][spec["base"]], parameters),
        "greens_keys": [GREENS_KEYS[(p.model, "proton")] for p in points],
        "energies_GeV": HEADLINE.get("energies_GeV", [2.0e4, 1.0e6]),
    }


rule scan_table:
    input:
        unpack(scan_inputs),
    output:
        "results/scans/{scan}.ecsv",
    wildcard_constraints:
        scan="|".join(SCANS) or "no_scan_configured",
    params:
        scan=scan_params,
    log:
        "logs/scans/{scan}_table.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/scan_table.py"


rule scan_figure:
    input:
        "results/scans/{scan}.ecsv",
    output:
        "results/scans/{scan}.pdf",
    wildcard_constraints:
        scan="|".join(SCANS) or "no_scan_configured",
    log:
        "logs/scans/{scan}_figure.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/scan_figure.py"


rule scans:
    input:
        expand("results/scans/{scan}.{ext}", scan=SCANS, ext=["ecsv", "pdf"]),
