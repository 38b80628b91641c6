# Outputs users load in their own tools: Fermi-style CAR cubes (the gll_iem layout: primary image
# (E, lat, lon) in GLON-CAR/GLAT-CAR + an ENERGIES table in MeV) of the total gamma-ray and
# neutrino maps, which gammapy reads as a TemplateSpatialModel (docs/examples/gammapy_template.py).
# The cubes carry the fitted EXTRA norms where the spectra stage rewrote the map (spectra.fitted_maps).
# Library: galdiff.skymaps.cube.

CUBES = config["cubes"]
CAR_COMPONENTS = CUBES["components"]

# input function: car_cube_source (rules/common.smk)


rule car_cube:
    input:
        car_cube_source,
    output:
        "results/cubes/{model}/{component}_car.fits",
    log:
        "logs/cubes/{model}_{component}.log",
    benchmark:
        "logs/benchmarks/car_cube/{model}_{component}.tsv"
    wildcard_constraints:
        model="|".join(MODELS),
        component="|".join(MAP_COMPONENTS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        binsz_deg=CUBES["binsz_deg"],
    script:
        "../workflow/scripts/car_cube.py"
