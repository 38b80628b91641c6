# Raw files: from a mirror or their public URL, sha256-verified; then tidy tables.
# download_raw has no params and no inputs: a raw file is keyed by its registry sha256, not by where it
# was found, so moving the project or editing data.mirrors reruns nothing. Its output is flagged
# update(): Snakemake never deletes it before the job (the script keeps an existing verified copy) and
# restores it if the job fails.


rule download_raw:
    output:
        update("data/raw/{folder}/{filename}"),
    log:
        "logs/download/{folder}/{filename}.log",
    benchmark:
        "logs/benchmarks/download_raw/{folder}_{filename}.tsv"
    wildcard_constraints:
        folder="|".join(sorted({e.folder for e in REGISTRY.values() if e.kind != "transcribed"})),
    conda:
        CONDA_ENV
    resources:
        mem_mb=500,
        runtime=10,
    script:
        "../workflow/scripts/download_raw.py"


rule tidy_dataset:
    input:
        unpack(dataset_raw_files),
    output:
        # update(): a run that fails (e.g. a raw file edited by hand) restores the previous table
        update("results/data/{dataset}.ecsv"),
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "logs/benchmarks/tidy_dataset/{dataset}.tsv"
    wildcard_constraints:
        dataset="|".join(sorted(DATASETS)),
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow/scripts/tidy_dataset.py"
