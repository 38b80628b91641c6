# The reproduction as a document: the manuscript (paper/ms.tex -> paper/ms.pdf, with latexmk), its
# numbers as LaTeX macros, and the README's generated results tables. Not in `all` (LaTeX is an
# extra install): `snakemake --cores 2 paper/ms.pdf`, `snakemake --cores 1 readme_numbers`.
# Library: galdiff.reporting.

PAPER_FIGURES = [
    f"results/fig{name}.pdf"
    for name in [
        "1",
        "2",
        "3",
        *[f"4{panel}" for panel in FIG4["panels"]],
        "5",
        "6",
        *[f"7{panel}" for panel in FIG7["panels"]],
        "8",
    ]
]
PAPER_TABLES = [f"results/table{number}.tex" for number in (1, 2, 3, 4)]


# the manuscript needs the fits (Tables II-III, Figures 1-2, summary.json): only with Green's functions
if FIT:

    rule paper_macros:
        input:
            summary="results/summary.json",
            fits=expand("results/fit/{model}/injection.yaml", model=REPORT_MODELS),
            table4="results/table4.json",
        output:
            "results/paper/numbers.tex",
        log:
            "logs/paper/numbers.log",
        benchmark:
            "logs/benchmarks/paper_macros.tsv"
        conda:
            CONDA_ENV
        resources:
            mem_mb=500,
            runtime=5,
        script:
            "../workflow/scripts/paper_macros.py"

    rule paper:
        input:
            ms=project_file("paper/ms.tex"),
            bib=project_file("paper/refs.bib"),
            numbers="results/paper/numbers.tex",
            figures=PAPER_FIGURES,
            tables=PAPER_TABLES,
        output:
            report("paper/ms.pdf", caption="../workflow/report/paper.rst", category="Manuscript"),
        log:
            "logs/paper/latexmk.log",
        benchmark:
            "logs/benchmarks/paper.tsv"
        conda:
            CONDA_ENV
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            build_dir="results/paper/build",
        script:
            "../workflow/scripts/build_paper.py"

    rule readme_numbers:
        input:
            summary="results/summary.json",
        output:
            "results/readme_numbers.md",
        log:
            "logs/paper/readme_numbers.log",
        benchmark:
            "logs/benchmarks/readme_numbers.tsv"
        conda:
            CONDA_ENV
        resources:
            mem_mb=500,
            runtime=5,
        script:
            "../workflow/scripts/readme_numbers.py"
