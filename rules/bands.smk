# Uncertainty bands from the fits' covariances (issue 13; config `bands`, library galdiff.uncertainty):
#   band_local: per model and fit, draws of the fit's parameters propagated through its Green's
#   matrix (J = G Q) and modulated -> results/bands/<model>/local_<fit>.ecsv (Figures 1, 2).
#   band_regions: per model, the region spectra's band from the EXTRA normalisations' covariance
#   (linear and exact) -> results/bands/<model>/regions.ecsv (Figures 4, 5, 7, 8, headline numbers).

BANDS = {"n_samples": 400, "seed": 13, "levels": [0.68, 0.95], **config.get("bands", {})}


def band_local_inputs(wildcards):
    """The fit, its curves (the band's energies), its Green's matrix and (leptons) the secondaries."""
    model, name = wildcards.model, wildcards.fit
    inputs = {
        "fit": f"results/fit/{model}/injection_{name}.yaml",
        "curves": f"results/fit/{model}/curves_{name}.ecsv",
        "greens": greens_file(model, "electron" if name == "leptons" else name),
    }
    if name == "leptons":
        inputs.update({lepton: f"results/propagation/{model}/{lepton}.h5"
                       for lepton in ("electron_secondary", "positron_secondary")})
    return inputs


rule band_local:
    input:
        unpack(band_local_inputs),
    output:
        "results/bands/{model}/local_{fit}.ecsv",
    wildcard_constraints:
        model="|".join(MODELS),
        fit="proton|helium|leptons",
    params:
        model_cfg=lambda wc: config["models"][wc.model],
        bands=BANDS,
    log:
        "logs/bands/{model}/local_{fit}.log",
    benchmark:
        "logs/benchmarks/band_local/{model}_{fit}.tsv",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/band_local.py"
