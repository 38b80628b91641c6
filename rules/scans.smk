# Parameter scans (config `scans`, galdiff.scans): every point is a model <scan>_<index> merged into
# config["models"] by rules/common.smk, so it runs through the ordinary rules (Green's matrices shared by
# points with the same transport); here its results are gathered into one table and one figure per scan.
#   snakemake scans                     every scan's table and figure (and only what they need)
# Library: galdiff.scans, galdiff.plotting.scans.

SCANS = config.get("scans") or {}
if SCANS and not FIT:
    raise ValueError("config key 'scans': scans need the injection fits (propagation.greens: true)")


# input functions of these rules: rules/common.smk (scan_inputs, scan_params)


rule scan_table:
    input:
        unpack(scan_inputs),
    output:
        "results/scans/{scan}.ecsv",
    log:
        "logs/scans/{scan}_table.log",
    benchmark:
        "logs/benchmarks/scan_table/{scan}.tsv"
    wildcard_constraints:
        scan="|".join(SCANS) or "no_scan_configured",
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        scan=scan_params,
    script:
        "../workflow/scripts/scan_table.py"


rule scan_figure:
    input:
        "results/scans/{scan}.ecsv",
    output:
        "results/scans/{scan}.pdf",
    log:
        "logs/scans/{scan}_figure.log",
    benchmark:
        "logs/benchmarks/scan_figure/{scan}.tsv"
    wildcard_constraints:
        scan="|".join(SCANS) or "no_scan_configured",
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow/scripts/scan_figure.py"


rule scans:
    input:
        expand("results/scans/{scan}.{ext}", scan=SCANS, ext=["ecsv", "pdf"]),
