"""Build the manuscript with latexmk (rule paper): paper/ms.pdf from paper/ms.tex and results/.

The manuscript reads its figures, tables and numbers from results/ relative to the working
directory, and its bibliography from the folder of ms.tex. Auxiliary files stay in
results/paper/build; the PDF is moved into place only when latexmk succeeds. Timestamps are fixed
(SOURCE_DATE_EPOCH) so that identical inputs give an identical PDF.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from galdiff.script_logging import setup_logging

#: The Debian packages of the manuscript's TeX install (README, "Manuscript").
LATEX_PACKAGES = "latexmk texlive-latex-recommended texlive-fonts-recommended texlive-publishers"
UNDEFINED_NUMBER = re.compile(r"galdiff number undefined: (\S+)")


def main(ms_path, output_pdf, build_dir, log_path):
    log = setup_logging(log_path)
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        message = (f"latexmk/pdflatex not found: the manuscript needs a TeX install; on Debian/Ubuntu run "
                   f"'sudo apt-get install --no-install-recommends {LATEX_PACKAGES}' (README, Manuscript)")
        log.error(message)
        sys.exit(message)
    ms_path = Path(ms_path).resolve()
    build_dir = Path(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1", max_print_line="100000",
               BIBINPUTS=f"{ms_path.parent}{os.pathsep}", TEXINPUTS=f"{ms_path.parent}{os.pathsep}")
    command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
               f"-outdir={build_dir}", str(ms_path)]
    log.info("running %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    with open(log_path, "a") as handle:
        handle.write(result.stdout[-20000:] + result.stderr[-5000:])
    if result.returncode != 0:
        sys.exit(f"latexmk failed (exit {result.returncode}); see {log_path} and {build_dir / ms_path.stem}.log")
    tex_log = (build_dir / f"{ms_path.stem}.log").read_text(errors="replace")
    missing = sorted(set(UNDEFINED_NUMBER.findall(tex_log)))
    if missing:
        sys.exit(f"the manuscript uses numbers the results do not hold: {', '.join(missing)} "
                 f"(keys of results/paper/numbers.tex)")
    output_pdf = Path(output_pdf)
    output_pdf.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_pdf.with_name(output_pdf.name + ".tmp")
    shutil.copyfile(build_dir / f"{ms_path.stem}.pdf", tmp)
    os.replace(tmp, output_pdf)
    log.info("wrote %s", output_pdf)


if __name__ == "__main__":
    main(snakemake.input.ms, snakemake.output[0], snakemake.params.build_dir, snakemake.log[0])
