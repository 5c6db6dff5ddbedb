"""The speed-ups' C code, read from plumbing/c_code/*.c as Theano's CorrMM reads its corr_gemm.c.

theano/tensor/nnet/corr.py opens c_code/corr_gemm.c beside the op and fills its %(name)s
placeholders with %; c_source does the same for the ops of speedups.py and speedups_*.py. Each .c
file opens with a /* ... */ comment saying what it is and what fills its placeholders; that
comment is left out of what Theano compiles. Theano's other way, COp with #section markers, wraps
the code in macros of its own, and the compiled source (so the compile cache's keys) would differ.
"""
import functools
import hashlib
import textwrap
from pathlib import Path

C_CODE = Path(__file__).resolve().parent / "c_code"


def c_source(filename, fill=None, indent=0):
    """plumbing/c_code/<filename>, its opening comment left out, filled with % from the dict `fill`.

    indent: each line indented by that many spaces, with a newline before and that many spaces
    after: the exact bytes the ops hand Theano, on which its compile cache's keys depend."""
    text = (C_CODE / filename).read_text()
    if not text.startswith("/*"):
        raise ValueError(f"{C_CODE / filename}: does not open with a /* ... */ comment")
    code = text[text.index("*/\n") + 3:]
    if indent:
        code = "\n" + textwrap.indent(code, " " * indent) + " " * indent
    return code if fill is None else code % fill


@functools.lru_cache(maxsize=None)
def c_version(*filenames):
    """A number that changes with the code of these plumbing/c_code files (opening comments aside).

    Theano reuses a compiled module whose op's c_code_cache_version it has seen, whatever the code
    now is; each op puts this number in its version, so that an edited file is compiled again."""
    digest = hashlib.sha256("\0".join(c_source(name) for name in filenames).encode()).hexdigest()
    return int(digest[:15], 16)


def c_type(dtype):
    """The C type Theano declares for a float32 or float64 value: npy_float32 or npy_float64."""
    return {"float32": "npy_float32", "float64": "npy_float64"}[dtype]


def c_literal(value, dtype):
    """The exact C literal of a float32 or float64 value: hexadecimal, so no decimal rounding."""
    return f"(({c_type(dtype)}) {float(value).hex()})"
