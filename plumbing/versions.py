"""The versions Theano 1.0.5 runs on: Python 3.11 and numpy < 1.24. One line and exit 1 otherwise."""
import sys

if sys.version_info[:2] != (3, 11):
    sys.exit(f"These scripts need Python 3.11 (Theano 1.0.5 does not run on newer ones); "
             f"this is Python {sys.version.split()[0]}. See README.md.")

import numpy as np  # noqa: E402

if tuple(int(v) for v in np.__version__.split(".")[:2]) >= (1, 24):
    sys.exit(f"Theano 1.0.5 needs numpy < 1.24 (this is numpy {np.__version__}); "
             f"install the pinned versions: pip install -r requirements.txt")
