#!/usr/bin/env bash
# CI: the TeX install the manuscript needs (README, "Manuscript and report"): latexmk, pdflatex with
# the recommended LaTeX packages and fonts, and revtex4-2 (texlive-publishers); poppler-utils for
# pdfinfo/pdftotext, which the manuscript test uses. ~75 MB download, ~30 s on a Debian 12 runner.
set -euo pipefail
if command -v latexmk >/dev/null && command -v pdflatex >/dev/null && kpsewhich revtex4-2.cls >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    latexmk texlive-latex-recommended texlive-fonts-recommended texlive-publishers poppler-utils >/dev/null
