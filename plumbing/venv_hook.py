"""The .venv's hook (bootstrap.py runs it from `tutorial.pth` in site-packages, by its path): the lessons'
folder on sys.path, so that `import load` and `import plumbing` work from any folder, and the
project's Theano flags for a plain `import theano` (plumbing/theano_flags.py), which otherwise
fails in Theano's own BLAS detection on numpy 1.23.

Python runs the .pth at every start, so this only registers a finder: nothing happens until
`theano` is first imported, and then the flags are set once, just before it loads.
"""
import sys


class TheanoFlagsFinder:
    """A meta-path finder that never finds anything: it sets the flags when `theano` is looked up."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "theano":
            sys.meta_path.remove(cls)
            try:
                from plumbing.theano_flags import configure_once
            except ImportError:  # a `plumbing` other than this project's comes first on sys.path
                return None
            configure_once()
        return None  # the ordinary finders load it


def install():
    if TheanoFlagsFinder not in sys.meta_path:
        sys.meta_path.insert(0, TheanoFlagsFinder)


install()
