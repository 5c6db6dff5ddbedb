"""A line on stderr when Theano starts compiling C code, so that a first run is not a silent wait.

Theano compiles each new op of a graph to C with g++ and keeps the result in its cache
(theano.config.compiledir); a first run of the convnet spends about a minute there on 2 cores,
later runs a few seconds. Theano says when it writes a module's C code, in a debug record of its
logger `theano.gof.cmodule`; a filter on that logger turns the first such record into one line and
lets through only what Theano would print anyway (warnings and worse).
"""
import logging
import sys

MESSAGE = ("Theano is compiling this script's graph to C code: on a first run this takes from "
           "seconds up to about a minute (the convnet, 2 cores); it is cached for later runs.")


class CompilingFilter(logging.Filter):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.said = False

    def filter(self, record):
        if not self.said and record.getMessage().startswith("Writing module C++ code"):
            self.said = True
            print(MESSAGE, file=self.stream, flush=True)
        return record.levelno >= logging.WARNING  # as before: Theano's logger prints warnings only


def announce_compiling(stream=None):
    """From now on, say once when Theano starts compiling (on stream, else stderr)."""
    logger = logging.getLogger("theano.gof.cmodule")
    if not any(isinstance(f, CompilingFilter) for f in logger.filters):
        logger.addFilter(CompilingFilter(stream or sys.stderr))
        logger.setLevel(logging.DEBUG)
