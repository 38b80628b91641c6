# Injection fits (Tables II-III, Figures 1-2) from the Green's functions shared between models
# with the same transport. Protons and helium are fitted first; the lepton fit needs the
# secondaries of the best-fit nuclei (rules/propagation.smk). Only with propagation.greens: true.
# Library: galdiff.fitting, galdiff.tables, galdiff.plotting.figure1/2.

FIT_NAMES = ["proton", "helium", "leptons"]


rule fit_injection:
    input:
        unpack(fit_inputs),
    output:
        injection="results/fit/{model}/injection_{fit}.yaml",
        curves="results/fit/{model}/curves_{fit}.ecsv",
    wildcard_constraints:
        model="|".join(MODELS),
        fit="|".join(FIT_NAMES),
    params:
        model_cfg=lambda wc: config["models"][wc.model],
    log:
        "logs/fit/{model}/{fit}.log",
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/fit_injection.py"


rule combine_fits:
    input:
        expand("results/fit/{{model}}/injection_{fit}.yaml", fit=FIT_NAMES),
    output:
        "results/fit/{model}/injection.yaml",
    wildcard_constraints:
        model="|".join(MODELS),
    log:
        "logs/fit/{model}/combine.log",
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/combine_fits.py"


rule tables:
    input:
        fits=expand("results/fit/{model}/injection.yaml", model=REPORT_MODELS),
    output:
        **{f"{table}_{ext}": f"results/{table}.{ext}" for table in ("table1", "table2", "table3") for ext in ("tex", "md")},
    params:
        config=config,
    log:
        "logs/tables.log",
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/tables.py"


rule fig1:
    input:
        curves=expand("results/fit/{model}/curves_{species}.ecsv", model=REPORT_MODELS, species=["proton", "helium"]),
        tables=lambda wc: expand("results/data/{dataset}.ecsv", dataset=sorted(
            {d for m in REPORT_MODELS for d in fit_datasets(m) if d.split("_")[1] in ("proton", "helium")})),
    output:
        "results/fig1.pdf",
    log:
        "logs/figures/fig1.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/fig1.py"


rule fig2:
    input:
        curves=expand("results/fit/{model}/curves_leptons.ecsv", model=REPORT_MODELS),
        tables=["results/data/ams02_electron_positron.ecsv", "results/data/dampe_electron_positron.ecsv"],
    output:
        "results/fig2.pdf",
    log:
        "logs/figures/fig2.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/fig2.py"


rule summary:
    input:
        fits=expand("results/fit/{model}/injection.yaml", model=REPORT_MODELS),
        # spectra stage (rules/spectra.smk): EXTRA fits, masked fractions, headline numbers, Table IV
        extra=expand("results/spectra/{model}/extra_fit.yaml", model=REPORT_MODELS),
        mask="results/masks/lhaaso.fits",
        headline="results/spectra/headline.json",
        table4="results/table4.json",
    output:
        "results/summary.json",
    log:
        "logs/summary.log",
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/summary.py"
