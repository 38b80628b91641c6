# Propagation: nuclei first (normalised to data), then primary and secondary leptons, then the
# local spectra at the Sun. Library: galdiff.propagation.run.

LEPTON_OUTPUTS = ["electron", "positron", "electron_primary", "electron_secondary", "positron_primary", "positron_secondary"]


rule propagate_nucleus:
    input:
        reference=lambda wc: normalisation_table(wc.species),
    output:
        density="results/propagation/{model}/{species}.h5",
        greens="results/propagation/{model}/greens_{species}.h5" if PROP.get("greens", True) else [],
    wildcard_constraints:
        species="proton|helium",
        model="|".join(MODELS),
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        propagation_cfg=PROP,
    log:
        "logs/propagation/{model}/{species}.log",
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/propagate_nucleus.py"


rule propagate_leptons:
    input:
        proton="results/propagation/{model}/proton.h5",
        helium="results/propagation/{model}/helium.h5",
        isrf=raw_file("MilkyWay_DR0.5_DZ0.1_DPHI10_RMAX20_ZMAX5_galprop_format.fits.gz"),
        electron_reference=normalisation_table("electron"),
        positron_reference=normalisation_table("positron"),
    output:
        **{name: f"results/propagation/{{model}}/{name}.h5" for name in LEPTON_OUTPUTS},
        **({"greens": "results/propagation/{model}/greens_electron.h5"} if PROP.get("greens", True) else {}),
    wildcard_constraints:
        model="|".join(MODELS),
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        propagation_cfg=PROP,
    log:
        "logs/propagation/{model}/leptons.log",
    threads: 2
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/propagate_leptons.py"


rule local_spectra:
    input:
        proton="results/propagation/{model}/proton.h5",
        helium="results/propagation/{model}/helium.h5",
        electron="results/propagation/{model}/electron.h5",
        positron="results/propagation/{model}/positron.h5",
    output:
        "results/propagation/{model}/local_spectra.ecsv",
    wildcard_constraints:
        model="|".join(MODELS),
    params:
        injection=lambda wc: config["models"][wc.model]["injection"],
    log:
        "logs/propagation/{model}/local_spectra.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/local_spectra.py"
