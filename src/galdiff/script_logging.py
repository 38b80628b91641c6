"""Send a script's logging (and uncaught errors) to the rule's log file.

Errors are written once: to the log file only, which Snakemake prints when the job fails
(``show-failed-logs`` in profiles/default). Progress messages below ERROR also go to stderr.
"""

import logging
import sys

from threadpoolctl import threadpool_limits


class _BelowError(logging.Filter):
    def filter(self, record):
        return record.levelno < logging.ERROR


def pin_blas_to_one_thread():
    """Run BLAS/LAPACK single-threaded for the rest of the process.

    A multithreaded BLAS splits matrix products differently for different thread counts, so a
    job's floating-point results would depend on the ``threads`` Snakemake grants it (capped by
    ``--cores``): measured, the tiny proton Green's matrix differs in its last bits between 1 and 2
    BLAS threads. One thread makes every output independent of ``--cores``; the jobs that want both
    cores get them from forked workers (Green's rows) or Numba ``prange`` loops over independent
    pixels and rows, whose results do not depend on the thread count.
    """
    threadpool_limits(limits=1, user_api="blas")


def setup_logging(log_path):
    """Logging of a workflow script to ``log_path``; every script calls it first, so it also pins BLAS
    to one thread (:func:`pin_blas_to_one_thread`)."""
    pin_blas_to_one_thread()
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(_BelowError())
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        handlers=[logging.FileHandler(log_path), console],
        force=True,
    )
    logger = logging.getLogger("galdiff")

    def log_uncaught(exc_type, exc, tb):
        logger.error("uncaught exception (traceback, then the error)", exc_info=(exc_type, exc, tb))

    sys.excepthook = log_uncaught
    return logger
