# Figures: each rule names the tidy tables it draws; scripts are thin wrappers of galdiff.plotting.

FIG3 = config["figures"]["fig3"]


rule icecube_pi0_band:
    input:
        template=raw_file("icecube_gp2023_Fermi-LAT_pi0_map_equ_nside128.npy"),
        fits="results/data/icecube_gp2023_template_fits.ecsv",
    output:
        "results/data/icecube_gp2023_pi0_band_{region}.ecsv",
    params:
        region=lambda wc: config["regions"][wc.region],
        index=FIG3.get("icecube_pi0_index", 2.7),
    log:
        "logs/data/icecube_gp2023_pi0_band_{region}.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/icecube_pi0_band.py"


rule fig3:
    input:
        gamma=expand("results/data/{dataset}.ecsv", dataset=FIG3["gamma_datasets"]),
        icecube_total="results/data/icecube_cascades_6yr.ecsv",
        icecube_pi0=f"results/data/icecube_gp2023_pi0_band_{FIG3['icecube_pi0_region']}.ecsv",
    output:
        "results/fig3.pdf",
    params:
        energy_range_GeV=FIG3.get("energy_range_GeV", [1.0e2, 1.0e7]),
    log:
        "logs/figures/fig3.log",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/fig3.py"
