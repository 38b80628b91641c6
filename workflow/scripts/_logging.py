"""Send a script's logging (and uncaught errors) to the rule's log file."""

import logging
import sys


def setup_logging(log_path):
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        handlers=[logging.FileHandler(log_path), logging.StreamHandler(sys.stderr)],
        force=True,
    )
    return logging.getLogger("galdiff")
