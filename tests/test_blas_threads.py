"""Outputs do not depend on the number of threads a job is granted (``--cores``).

A multithreaded BLAS rounds matrix products differently for different thread counts; every
workflow script pins BLAS to one thread (``galdiff.script_logging.pin_blas_to_one_thread``). This
computes the tiny proton Green's matrix in fresh processes with 1 and 2 BLAS threads in the
environment (as Snakemake sets them from a rule's ``threads``) and requires identical bits.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

GREENS_DIGEST = """
import hashlib, sys
from galdiff.config import load_config
from galdiff.propagation import run
from galdiff.propagation.setups import transport_setup
from galdiff.script_logging import pin_blas_to_one_thread
if sys.argv[1] == "pinned":
    pin_blas_to_one_thread()
cfg = load_config([sys.argv[2]])
setup = transport_setup(cfg["models"]["dr_high"], cfg["propagation"], "proton")
_, greens = run.greens_matrix(setup, n_workers=1)
print(hashlib.sha256(greens.tobytes()).hexdigest())
"""


def greens_digest(mode: str, blas_threads: int) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **{name: str(blas_threads) for name in
           ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    done = subprocess.run([sys.executable, "-c", GREENS_DIGEST, mode, str(ROOT / "tests/config/tiny.yaml")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()[-1]


@pytest.mark.slow
def test_greens_matrix_bits_do_not_depend_on_the_blas_thread_count():
    assert greens_digest("pinned", 1) == greens_digest("pinned", 2)
