# galdiff: the Galactic diffuse gamma-ray and neutrino sky, rebuilt from raw data in one DAG.
#   snakemake --cores 8 all            every output that exists so far
#   snakemake --cores 2 results/fig3.pdf       (or any single output, e.g. results/fig7a.pdf)
#   snakemake --profile profiles/slurm all
import os

from snakemake.utils import min_version

min_version("8.0")


# The project defaults; a --configfile given on the command line is merged on top.
configfile: os.path.join(workflow.basedir, "config.yaml")


# `snakemake --report report.zip`: every figure, table and headline file with the paper's caption and ours
report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/propagation.smk"
include: "rules/emission.smk"
include: "rules/spectra.smk"
# uncertainty bands (before the figures, whose inputs name the band files)
include: "rules/bands.smk"
# systematic variants (after the bands: the envelopes are the figures' second, lighter band)
include: "rules/systematics_inputs.smk"
include: "rules/systematics.smk"
include: "rules/fit.smk"
include: "rules/figures.smk"
include: "rules/products.smk"
include: "rules/paper.smk"
include: "rules/scans.smk"


rule all:
    default_target: True
    input:
        expand("results/data/{dataset}.ecsv", dataset=config["data"]["datasets"]),
        "results/fig3.pdf",
        expand("results/propagation/{model}/local_spectra.ecsv", model=REPORT_MODELS),
        expand("results/maps/{model}/{component}.fits", model=REPORT_MODELS, component=MAP_COMPONENTS),
        "results/fig6.pdf",
        # spectra stage: mask, region spectra with the EXTRA fit, fitted maps, Figures 4-5 and 7-8, Table IV
        "results/masks/lhaaso.fits",
        expand("results/spectra/{model}/{region}.ecsv", model=REPORT_MODELS, region=REGIONS),
        expand("results/maps_fitted/{model}/{component}.fits", model=REPORT_MODELS, component=FITTED_MAPS),
        "results/spectra/headline.json",
        ["results/validation/gev_anchor.pdf", "results/validation/gev_anchor.json"] if GEV_ANCHOR else [],
        expand("results/fig4{panel}.pdf", panel=FIG4["panels"]),
        "results/fig5.pdf",
        expand("results/fig7{panel}.pdf", panel=FIG7["panels"]),
        "results/fig8.pdf",
        expand("results/table4.{ext}", ext=["tex", "md", "json"]),
        # Fermi-style CAR cubes of the totals (rules/products.smk), for gammapy and the Fermi tools
        expand("results/cubes/{model}/{component}_car.fits", model=REPORT_MODELS, component=CAR_COMPONENTS),
        # the fits need Green's functions (propagation.greens)
        "results/fig1.pdf" if FIT else [],
        "results/fig2.pdf" if FIT else [],
        expand("results/{table}.{ext}", table=["table1", "table2", "table3"], ext=["tex", "md"]) if FIT else [],
        "results/summary.json" if FIT else [],
        expand(
            "results/fit/{model}/profile_{parameter}_{fit}.yaml",
            model=REFIT_MODELS,
            parameter=KNEE_PROFILE["parameter"],
            fit=KNEE_PROFILE["species"],
        )
        if FIT
        else [],
        # systematic variants (config `systematics`): envelopes per model and region, headline and Table IV numbers
        SYST_OUTPUTS,
        # parameter scans (config `scans`): one table and one figure each
        expand("results/scans/{scan}.{ext}", scan=SCAN_POINTS, ext=["ecsv", "pdf"]),
