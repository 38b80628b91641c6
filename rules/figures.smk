# Figures: each rule names the tidy tables it draws; scripts are thin wrappers of galdiff.plotting.

FIG3 = config["figures"]["fig3"]


rule icecube_pi0_band:
    input:
        template=raw_file("icecube_gp2023_Fermi-LAT_pi0_map_equ_nside128.npy"),
        fits="results/data/icecube_gp2023_template_fits.ecsv",
    output:
        "results/data/icecube_gp2023_pi0_band_{region}.ecsv",
    log:
        "logs/data/icecube_gp2023_pi0_band_{region}.log",
    benchmark:
        "logs/benchmarks/icecube_pi0_band/{region}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        region=lambda wc: config["regions"][wc.region],
        index=FIG3["icecube_pi0_index"],
    script:
        "../workflow/scripts/icecube_pi0_band.py"


rule fig3:
    input:
        gamma=expand("results/data/{dataset}.ecsv", dataset=FIG3["gamma_datasets"]),
        icecube_total="results/data/icecube_cascades_6yr.ecsv",
        icecube_pi0=f"results/data/icecube_gp2023_pi0_band_{FIG3['icecube_pi0_region']}.ecsv",
    output:
        report(
            "results/fig3.pdf",
            caption="../workflow/report/fig3.rst",
            category="Figures",
            subcategory="Data",
            labels={"figure": "3"},
        ),
    log:
        "logs/figures/fig3.log",
    benchmark:
        "logs/benchmarks/fig3.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        energy_range_GeV=FIG3["energy_range_GeV"],
    script:
        "../workflow/scripts/fig3.py"


# Figures 4a-d, 5, 7a-b and 8 from the region spectra of the spectra stage (rules/spectra.smk).
FIG4 = config["figures"]["fig4"]
FIG5 = config["figures"]["fig5"]
FIG7 = config["figures"]["fig7"]
FIG8 = config["figures"]["fig8"]


rule fig4:
    input:
        unpack(lambda wc: printed_spectra(FIG4["panels"][wc.panel]["model"], FIG4["panels"][wc.panel]["region"])),
        unpack(lambda wc: region_bands(FIG4["panels"][wc.panel]["model"], FIG4["panels"][wc.panel]["region"])),
        unpack(lambda wc: region_systematics(FIG4["panels"][wc.panel]["model"], FIG4["panels"][wc.panel]["region"])),
        spectra=lambda wc: "results/spectra/{model}/{region}.ecsv".format(**FIG4["panels"][wc.panel]),
        data=lambda wc: expand("results/data/{dataset}.ecsv", dataset=FIG4["panels"][wc.panel]["datasets"]),
    output:
        report(
            "results/fig4{panel}.pdf",
            caption="../workflow/report/fig4.rst",
            category="Figures",
            subcategory="Gamma-ray spectra",
            labels={"figure": "4{panel}"},
        ),
    log:
        "logs/figures/fig4{panel}.log",
    benchmark:
        "logs/benchmarks/fig4/{panel}.tsv"
    wildcard_constraints:
        panel="|".join(FIG4["panels"]),
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        panel=lambda wc: wc.panel,
        note=lambda wc: FIG4["panels"][wc.panel].get("note", ""),
        weight_exponent=FIG4["weight_exponent"],
        energy_range_GeV=FIG4["energy_range_GeV"],
    script:
        "../workflow/scripts/fig4.py"


rule fig5:
    input:
        **printed_spectra(FIG5["model"], FIG5["region"]),
        **region_bands(FIG5["model"], FIG5["region"]),
        **region_systematics(FIG5["model"], FIG5["region"]),
        spectra=f"results/spectra/{FIG5['model']}/{FIG5['region']}.ecsv",
        data=expand("results/data/{dataset}.ecsv", dataset=FIG5["datasets"]),
    output:
        report(
            "results/fig5.pdf",
            caption="../workflow/report/fig5.rst",
            category="Figures",
            subcategory="Gamma-ray spectra",
            labels={"figure": "5"},
        ),
    log:
        "logs/figures/fig5.log",
    benchmark:
        "logs/benchmarks/fig5.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        weight_exponent=FIG5["weight_exponent"],
        energy_range_GeV=FIG5["energy_range_GeV"],
    script:
        "../workflow/scripts/fig5.py"


rule fig7:
    input:
        unpack(lambda wc: neutrino_bands(FIG7["panels"][wc.panel])),
        unpack(lambda wc: printed_spectra(FIG7["model"], FIG7["panels"][wc.panel])),
        unpack(lambda wc: region_bands(FIG7["model"], FIG7["panels"][wc.panel])),
        unpack(lambda wc: region_systematics(FIG7["model"], FIG7["panels"][wc.panel])),
        spectra=lambda wc: f"results/spectra/{FIG7['model']}/{FIG7['panels'][wc.panel]}.ecsv",
    output:
        report(
            "results/fig7{panel}.pdf",
            caption="../workflow/report/fig7.rst",
            category="Figures",
            subcategory="Neutrinos",
            labels={"figure": "7{panel}"},
        ),
    log:
        "logs/figures/fig7{panel}.log",
    benchmark:
        "logs/benchmarks/fig7/{panel}.tsv"
    wildcard_constraints:
        panel="|".join(FIG7["panels"]),
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        panel=lambda wc: wc.panel,
        energy_range_GeV=FIG7["energy_range_GeV"],
    script:
        "../workflow/scripts/fig7.py"


rule fig8:
    input:
        **neutrino_bands(FIG8["region"]),
        **printed_spectra(FIG8["model"], FIG8["region"]),
        **region_bands(FIG8["model"], FIG8["region"]),
        **region_systematics(FIG8["model"], FIG8["region"]),
        spectra=f"results/spectra/{FIG8['model']}/{FIG8['region']}.ecsv",
    output:
        report(
            "results/fig8.pdf",
            caption="../workflow/report/fig8.rst",
            category="Figures",
            subcategory="Neutrinos",
            labels={"figure": "8"},
        ),
    log:
        "logs/figures/fig8.log",
    benchmark:
        "logs/benchmarks/fig8.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        energy_range_GeV=FIG8["energy_range_GeV"],
    script:
        "../workflow/scripts/fig8.py"
