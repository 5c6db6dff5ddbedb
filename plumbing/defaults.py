"""Theano's set-up for the lessons: import it before `theano` (`import plumbing.defaults`).

It checks the Python and numpy versions (versions.py), sets Theano's flags and the threads' waits
(theano_flags.py; yours win), then imports speedups.py, which imports theano and registers the
faster ops, and cacheable.py, which registers the twins of the ops Theano's cache would not keep.
"""
import plumbing.versions  # noqa: F401  (first: one line and exit on a Python or numpy Theano cannot use)
from plumbing.theano_flags import configure_once

configure_once()

from plumbing import speedups  # noqa: E402,F401  (imports theano with the flags above; registers faster ops)
from plumbing import cacheable  # noqa: E402,F401  (ops Theano would compile again in every process)
