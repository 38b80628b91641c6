"""Send a script's logging (and uncaught errors) to the rule's log file.

Errors are written once: to the log file only, which Snakemake prints when the job fails
(``show-failed-logs`` in profiles/default). Progress messages below ERROR also go to stderr.
"""

import logging
import sys


class _BelowError(logging.Filter):
    def filter(self, record):
        return record.levelno < logging.ERROR


def setup_logging(log_path):
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
