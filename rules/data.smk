# Raw files: from a mirror or their public URL, sha256-verified; then tidy tables.


rule download_raw:
    output:
        "data/raw/{folder}/{filename}",
    wildcard_constraints:
        folder="|".join(sorted({e.folder for e in REGISTRY.values() if e.kind != "transcribed"})),
    params:
        mirrors=[project_path(m) for m in config["data"]["mirrors"]],
        registry=project_path(config["data"]["registry"]),
        project_root=str(PROJECT_ROOT),
    log:
        "logs/download/{folder}/{filename}.log",
    benchmark:
        "logs/benchmarks/download_raw/{folder}_{filename}.tsv",
    resources:
        mem_mb=500,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/download_raw.py"


rule tidy_dataset:
    input:
        unpack(dataset_raw_files),
    output:
        "results/data/{dataset}.ecsv",
    wildcard_constraints:
        dataset="|".join(sorted(DATASETS)),
    log:
        "logs/data/{dataset}.log",
    benchmark:
        "logs/benchmarks/tidy_dataset/{dataset}.tsv",
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../workflow/scripts/tidy_dataset.py"
