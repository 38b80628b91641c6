# Propagation. With Green's functions (propagation.greens: true, the default):
#   greens (once per transport set-up and species, shared by models with the same Table I)
#   -> fit_injection proton/helium (rules/fit.smk) -> propagate_nucleus (the fitted injection)
#   -> secondary_leptons -> fit_injection leptons -> propagate_leptons (fitted primaries + totals)
#   -> local_spectra, emissivity.
# Without them nothing is fitted: propagate_nucleus and propagate_leptons scale the configured
# (Tables II-III) injections to the reference data sets of propagation.normalisation.
# Library: galdiff.propagation.run, galdiff.propagation.setups.

LEPTON_OUTPUTS = ["electron", "positron", "electron_primary", "positron_primary"]


rule greens:
    input:
        unpack(greens_inputs),
    output:
        "results/greens/{key}/greens_{species}.h5",
    log:
        "logs/greens/{key}/{species}.log",
    benchmark:
        "logs/benchmarks/greens/{key}_{species}.tsv"
    wildcard_constraints:
        key="[0-9a-f]{16}",
        species="|".join(GREENS_SPECIES),
    conda:
        CONDA_ENV
    threads: 2
    resources:
        # measured peak of the job, parent and both workers (benchmarks/RESULTS.md): p 2.6 GiB at
        # the default grid (He has the same grid, e- a smaller one)
        mem_mb=3200,
        runtime=60,
    params:
        setup=greens_setup,
    script:
        "../workflow/scripts/greens.py"


rule propagate_nucleus:
    input:
        unpack(nucleus_inputs),
    output:
        density="results/propagation/{model}/{species}.h5",
    log:
        "logs/propagation/{model}/{species}.log",
    benchmark:
        "logs/benchmarks/propagate_nucleus/{model}_{species}.tsv"
    wildcard_constraints:
        species="proton|helium",
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        propagation_cfg=PROP,
    script:
        "../workflow/scripts/propagate_nucleus.py"


rule secondary_leptons:
    input:
        proton="results/propagation/{model}/proton.h5",
        helium="results/propagation/{model}/helium.h5",
        isrf=raw_file(ISRF_FILE),
    output:
        electron_secondary="results/propagation/{model}/electron_secondary.h5",
        positron_secondary="results/propagation/{model}/positron_secondary.h5",
    log:
        "logs/propagation/{model}/secondary_leptons.log",
    benchmark:
        "logs/benchmarks/secondary_leptons/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=6000,
        runtime=20,
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        propagation_cfg=PROP,
    script:
        "../workflow/scripts/secondary_leptons.py"


rule propagate_leptons:
    input:
        unpack(lepton_inputs),
    output:
        **{name: f"results/propagation/{{model}}/{name}.h5" for name in LEPTON_OUTPUTS},
    log:
        "logs/propagation/{model}/leptons.log",
    benchmark:
        "logs/benchmarks/propagate_leptons/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=6000,
        runtime=20,
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        propagation_cfg=PROP,
    script:
        "../workflow/scripts/propagate_leptons.py"


rule local_spectra:
    input:
        **({"fit": "results/fit/{model}/injection.yaml"} if FIT else {}),
        proton="results/propagation/{model}/proton.h5",
        helium="results/propagation/{model}/helium.h5",
        electron="results/propagation/{model}/electron.h5",
        positron="results/propagation/{model}/positron.h5",
    output:
        "results/propagation/{model}/local_spectra.ecsv",
    log:
        "logs/propagation/{model}/local_spectra.log",
    benchmark:
        "logs/benchmarks/local_spectra/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        injection=lambda wc: config["models"][wc.model]["injection"],
    script:
        "../workflow/scripts/local_spectra.py"
