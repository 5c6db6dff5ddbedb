"""How a tool's command ends when it fails on something the user can fix: one line naming the file
and the reason, never a traceback. A file that cannot be written (a full disk, a folder that went
away), data that cannot be read, a saved model that does not fit its script:

    error: cannot write results/figures/readout.png (No space left on device)
"""
import sys

from load import DataError
from plumbing.paths import WriteError


def run(main, *expected):
    """main(), its failures of those kinds (and of the `expected` exception classes) as one line and
    exit status 1; what main() returns is the exit status."""
    try:
        return main()
    except (WriteError, DataError, *expected) as error:
        sys.exit(f"error: {error}")
