"""The versions Theano 1.0.5 runs on: Python 3.11 and numpy < 1.24, with Theano installed: the
project's .venv. In any other Python, one line that says to use that one, and exit 1."""
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the lessons' folder


def wrong_python(why):
    """Exit with one line: why this Python cannot run the lessons, and the Python that can."""
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0].endswith(".py") else "0_multiply.py"
    sys.exit(f"{why}. Use the project's own Python: `make run` in {ROOT} sets up its .venv (then runs every "
             f"lesson), and `.venv/bin/python {script}` runs a script with it.")


this = f"{sys.executable} (Python {sys.version.split()[0]})"
if sys.version_info[:2] != (3, 11):
    wrong_python(f"These scripts need Python 3.11 (Theano 1.0.5 does not run on newer ones); this is {this}")
if importlib.util.find_spec("numpy") is None:
    wrong_python(f"These scripts need Theano 1.0.5 and numpy < 1.24; {this} has no numpy")

import numpy as np  # noqa: E402

if tuple(int(v) for v in np.__version__.split(".")[:2]) >= (1, 24):
    wrong_python(f"Theano 1.0.5 needs numpy < 1.24; {this} has numpy {np.__version__}")
if importlib.util.find_spec("theano") is None:
    wrong_python(f"These scripts need Theano 1.0.5; {this} does not have it")
