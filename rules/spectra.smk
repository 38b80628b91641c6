# Spectra stage: the LHAASO source mask, region spectra with the EXTRA normalisation fit, map cubes
# with the fitted norms, IceCube's KRA-gamma bands in regions, the headline numbers and Table IV.
# Library: galdiff.skymaps.masks, galdiff.skymaps.region_spectra, galdiff.fitting.extra, galdiff.comparison.icecube,
# galdiff.comparison.table4.

MASK_CFG = config["masks"]["lhaaso"]
SPECTRA = config["spectra"]
REGIONS = list(config["regions"])
EXTRA_FIT = SPECTRA["extra_fit"]
FITTED_MAPS = SPECTRA["fitted_maps"]
HEADLINE = SPECTRA["headline"]
TABLE4 = config["tables"]["table4"]
KRA_DATASETS = {"kra_gamma_5": "icecube_gp2023_kra_gamma_5", "kra_gamma_50": "icecube_gp2023_kra_gamma_50"}
# input functions of these rules: rules/common.smk (extra_fit_tables, spectra_inputs, neutrino_bands, table4_inputs)


rule lhaaso_mask:
    input:
        lhaaso="results/data/catalog_1lhaaso.ecsv",
        gammacat="results/data/catalog_gammacat.ecsv",
    output:
        "results/masks/lhaaso.fits",
    log:
        "logs/masks/lhaaso.log",
    benchmark:
        "logs/benchmarks/lhaaso_mask.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        settings=MASK_CFG,
        nside=MAPS["nside"],
        regions=config["regions"],
    script:
        "../workflow/scripts/lhaaso_mask.py"


rule region_spectra:
    input:
        unpack(spectra_inputs),
    output:
        spectra=expand("results/spectra/{{model}}/{region}.ecsv", region=REGIONS),
        fit="results/spectra/{model}/extra_fit.yaml",
        points="results/spectra/{model}/extra_fit_points.ecsv",
    log:
        "logs/spectra/{model}.log",
    benchmark:
        "logs/benchmarks/region_spectra/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        regions=config["regions"],
        fit_data=extra_fit_data(),
        energy_range_GeV=EXTRA_FIT.get("energy_range_GeV"),
        dataset_energy_ranges_GeV=extra_fit_dataset_ranges(),
        extra_cfg=lambda wc: config["models"][wc.model]["extra"],
        fine_nside=MASK_CFG["fine_nside"],
    script:
        "../workflow/scripts/region_spectra.py"


# with spectra.fitted_maps: [] nothing is rewritten
if FITTED_MAPS:

    rule fitted_maps:
        input:
            maps=expand(
                "results/maps/{{model}}/{component}.fits",
                component=sorted(set(FITTED_MAPS) | set(EXTRA_COMPONENTS)),
            ),
            fit="results/spectra/{model}/extra_fit.yaml",
            emissivity="results/emission/{model}/emissivity.h5",
        output:
            expand("results/maps_fitted/{{model}}/{component}.fits", component=FITTED_MAPS),
        log:
            "logs/spectra/fitted_maps_{model}.log",
        benchmark:
            "logs/benchmarks/fitted_maps/{model}.tsv"
        wildcard_constraints:
            model="|".join(MODELS),
        conda:
            CONDA_ENV
        resources:
            mem_mb=6000,
            runtime=15,
        script:
            "../workflow/scripts/fitted_maps.py"


rule icecube_kra_band:
    input:
        spectrum=lambda wc: f"results/data/{KRA_DATASETS[wc.template]}.ecsv",
        fits="results/data/icecube_gp2023_template_fits.ecsv",
        template=raw_file("icecube_gp2023_Fermi-LAT_pi0_map_equ_nside128.npy"),
    output:
        "results/data/icecube_gp2023_{template}_band_{region}.ecsv",
    log:
        "logs/data/icecube_gp2023_{template}_band_{region}.log",
    benchmark:
        "logs/benchmarks/icecube_kra_band/{template}_{region}.tsv"
    wildcard_constraints:
        template="|".join(KRA_DATASETS),
        region="|".join(REGIONS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        region=lambda wc: config["regions"][wc.region],
        morphology=config["figures"]["neutrino_bands"]["kra_region_morphology"],
    script:
        "../workflow/scripts/icecube_kra_band.py"


GEV_ANCHOR = SPECTRA["gev_anchor"]


# the GeV anchor without mask: every model against Fermi-LAT's inner Galaxy (galdiff.validation)
if GEV_ANCHOR:

    rule gev_anchor:
        input:
            spectra=expand("results/spectra/{model}/{region}.ecsv", model=REPORT_MODELS, region=GEV_ANCHOR["region"]),
            fermi=f"results/data/{GEV_ANCHOR.get('dataset', 'fermi_lat_ackermann2012_inner_galaxy')}.ecsv",
        output:
            pdf="results/validation/gev_anchor.pdf",
            json="results/validation/gev_anchor.json",
        log:
            "logs/validation/gev_anchor.log",
        benchmark:
            "logs/benchmarks/gev_anchor.tsv"
        conda:
            CONDA_ENV
        resources:
            mem_mb=1000,
            runtime=5,
        params:
            energies_GeV=GEV_ANCHOR["energies_GeV"],
            printed_of=PRINTED_OF,
        script:
            "../workflow/scripts/gev_anchor.py"


rule headline:
    input:
        **printed_spectra(HEADLINE["model"], HEADLINE["region"]),
        spectra=f"results/spectra/{HEADLINE['model']}/{HEADLINE['region']}.ecsv",
        icecube_total="results/data/icecube_cascades_6yr.ecsv",
    output:
        report("results/spectra/headline.json", caption="../workflow/report/headline.rst", category="Headline numbers"),
    log:
        "logs/spectra/headline.log",
    benchmark:
        "logs/benchmarks/headline.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=500,
        runtime=5,
    params:
        energies_GeV=HEADLINE["energies_GeV"],
    script:
        "../workflow/scripts/headline.py"


rule table4:
    input:
        unpack(table4_inputs),
    output:
        tex="results/table4.tex",
        md=report("results/table4.md", caption="../workflow/report/table4.rst", category="Tables"),
        json="results/table4.json",
    log:
        "logs/table4.log",
    benchmark:
        "logs/benchmarks/table4.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        settings=TABLE4,
        galaxy_cfg=PROP["galaxy"],
        printed_of=PRINTED_OF,
    script:
        "../workflow/scripts/table4.py"
