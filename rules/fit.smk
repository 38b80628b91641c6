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
    log:
        "logs/fit/{model}/{fit}.log",
    benchmark:
        "logs/benchmarks/fit_injection/{model}_{fit}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
        fit="|".join(FIT_NAMES),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        selection=lambda wc: fit_selection(wc.model)[wc.fit],
    script:
        "../workflow/scripts/fit_injection.py"


KNEE_PROFILE = config["tables"]["knee_profile"]
REFIT_MODELS = [m for m in REPORT_MODELS if m not in PRINTED_OF]


rule knee_profile:
    input:
        unpack(fit_inputs),
    output:
        "results/fit/{model}/profile_{parameter}_{fit}.yaml",
    log:
        "logs/fit/{model}/profile_{parameter}_{fit}.log",
    benchmark:
        "logs/benchmarks/knee_profile/{model}_{parameter}_{fit}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
        fit="proton|helium",
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        selection=lambda wc: fit_selection(wc.model)[wc.fit],
        values=KNEE_PROFILE["values"],
    script:
        "../workflow/scripts/knee_profile.py"


rule combine_fits:
    input:
        expand("results/fit/{{model}}/injection_{fit}.yaml", fit=FIT_NAMES),
    output:
        "results/fit/{model}/injection.yaml",
    log:
        "logs/fit/{model}/combine.log",
    benchmark:
        "logs/benchmarks/combine_fits/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../workflow/scripts/combine_fits.py"


rule tables:
    input:
        fits=expand("results/fit/{model}/injection.yaml", model=REPORT_MODELS),
    output:
        **{
            f"{table}_{ext}": (
                report(f"results/{table}.{ext}", caption=f"../workflow/report/{table}.rst", category="Tables")
                if ext == "md"
                else f"results/{table}.{ext}"
            )
            for table in ("table1", "table2", "table3")
            for ext in ("tex", "md")
        },
    log:
        "logs/tables.log",
    benchmark:
        "logs/benchmarks/tables.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=500,
        runtime=5,
    params:
        # only what the tables show (data.mirrors and other paths must not trigger a rerun)
        config={"models": config["models"]},
    script:
        "../workflow/scripts/tables.py"


rule fig1:
    input:
        curves=expand("results/fit/{model}/curves_{species}.ecsv", model=REPORT_MODELS, species=["proton", "helium"]),
        # the fits' bands (rules/bands.smk)
        bands=expand("results/bands/{model}/local_{species}.ecsv", model=REPORT_MODELS, species=["proton", "helium"]),
        tables=lambda wc: expand(
            "results/data/{dataset}.ecsv",
            dataset=sorted(
                {d for m in REPORT_MODELS for d in fit_datasets(m) if d.split("_")[1] in ("proton", "helium")}
            ),
        ),
    output:
        report(
            "results/fig1.pdf",
            caption="../workflow/report/fig1.rst",
            category="Figures",
            subcategory="Cosmic rays",
            labels={"figure": "1"},
        ),
    log:
        "logs/figures/fig1.log",
    benchmark:
        "logs/benchmarks/fig1.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        printed_of=PRINTED_OF,
    script:
        "../workflow/scripts/fig1.py"


rule fig2:
    input:
        curves=expand("results/fit/{model}/curves_leptons.ecsv", model=REPORT_MODELS),
        bands=expand("results/bands/{model}/local_leptons.ecsv", model=REPORT_MODELS),
        tables=["results/data/ams02_electron_positron.ecsv", "results/data/dampe_electron_positron.ecsv"],
    output:
        report(
            "results/fig2.pdf",
            caption="../workflow/report/fig2.rst",
            category="Figures",
            subcategory="Cosmic rays",
            labels={"figure": "2"},
        ),
    log:
        "logs/figures/fig2.log",
    benchmark:
        "logs/benchmarks/fig2.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        printed_of=PRINTED_OF,
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
        gev_anchor="results/validation/gev_anchor.json" if GEV_ANCHOR else [],
        # uncertainty bands (rules/bands.smk): errors of the headline shares, widths of the local bands
        band_headline="results/bands/headline.json",
        band_table4="results/bands/table4.json",
        local_bands=expand("results/bands/{model}/local_{fit}.ecsv", model=REPORT_MODELS, fit=FIT_NAMES),
        # systematic variants (rules/systematics.smk): their envelope of the same numbers
        systematics="results/systematics/numbers.json" if SYST_VARIANTS else [],
    output:
        report("results/summary.json", caption="../workflow/report/summary.rst", category="Headline numbers"),
    log:
        "logs/summary.log",
    benchmark:
        "logs/benchmarks/summary.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../workflow/scripts/summary.py"
