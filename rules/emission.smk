# Emission and sky maps: emissivities on the (r, z, E) grid, line-of-sight operators (once per
# geometry, shared by the models), HEALPix map cubes, Figure 6.
# Library: galdiff.emission, galdiff.los_setups, galdiff.skymaps.

MAPS = config["maps"]
MAP_COMPONENTS = list(galdiff_map_components)  # galdiff.conventions.MAP_COMPONENTS


rule emissivity:
    input:
        proton="results/propagation/{model}/proton.h5",
        helium="results/propagation/{model}/helium.h5",
        electron="results/propagation/{model}/electron.h5",
        positron="results/propagation/{model}/positron.h5",
        isrf=raw_file(ISRF_FILE),
    output:
        "results/emission/{model}/emissivity.h5",
    log:
        "logs/emission/{model}.log",
    benchmark:
        "logs/benchmarks/emissivity/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        emission_cfg=config["emission"],
        galaxy_cfg=PROP["galaxy"],
        extra_cfg=lambda wc: config["models"][wc.model]["extra"],
    script:
        "../workflow/scripts/emissivity.py"


rule los_operators:
    output:
        gas="results/los/{key}/gas.npz",
        path="results/los/{key}/path.npz",
        # each operator summed over the distance shells, read by every model's sky_maps job
        gas_total="results/los/{key}/gas_total.npz",
        path_total="results/los/{key}/path_total.npz",
    log:
        "logs/los/{key}.log",
    benchmark:
        "logs/benchmarks/los_operators/{key}.tsv"
    wildcard_constraints:
        key="[0-9a-f]{16}",
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=6000,
        runtime=30,
    params:
        setup=los_setup_of,
    script:
        "../workflow/scripts/los_operators.py"


rule sky_maps:
    input:
        unpack(los_files),
        unpack(los_total_files),
        emissivity="results/emission/{model}/emissivity.h5",
    output:
        **{name: f"results/maps/{{model}}/{name}.fits" for name in MAP_COMPONENTS},
    log:
        "logs/maps/{model}.log",
    benchmark:
        "logs/benchmarks/sky_maps/{model}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=4000,  # 2.4 GiB measured at nside 128 (benchmarks/RESULTS.md)
        runtime=60,
    params:
        maps_cfg=MAPS,
        galaxy_cfg=PROP["galaxy"],
        model_propagation=lambda wc: config["models"][wc.model]["propagation"],
    script:
        "../workflow/scripts/sky_maps.py"


rule fig6:
    input:
        f"results/maps/{MAPS['fig6']['model']}/{MAPS['fig6']['component']}.fits",
    output:
        report(
            "results/fig6.pdf",
            caption="../workflow/report/fig6.rst",
            category="Figures",
            subcategory="Neutrinos",
            labels={"figure": "6"},
        ),
    log:
        "logs/figures/fig6.log",
    benchmark:
        "logs/benchmarks/fig6.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        energy_range_GeV=MAPS["fig6"]["energy_range_GeV"],
    script:
        "../workflow/scripts/fig6.py"
