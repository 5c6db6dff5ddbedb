"""The flags Theano reads when it is imported: THEANO_FLAGS, and how idle threads wait.

It sets floatX=float32, PyPI's OpenBLAS or another BLAS this machine has, OpenMP and
allow_gc=False; a key or variable you set yourself, in THEANO_FLAGS, ~/.theanorc or the
environment, keeps your value. plumbing/defaults.py calls configure_once() before it imports
theano, and so does .venv's hook (venv_hook.py) for a plain `import theano`.
"""
import configparser
import os
import sys

from plumbing.machine import system_openblas_found

# The BLAS routines (and OpenBLAS's thread calls) that Theano's C code makes; PyPI's OpenBLAS
# exports them with a scipy_ prefix, so each is renamed by a compiler define.
BLAS_SYMBOLS = ["sgemm_", "dgemm_", "sgemv_", "dgemv_", "sger_", "dger_", "sdot_", "ddot_",
                "saxpy_", "daxpy_", "sscal_", "dscal_", "scopy_", "dcopy_",
                "openblas_set_num_threads", "openblas_get_num_threads", "goto_set_num_threads"]


def pypi_openblas():
    """(ldflags, cxxflags) for the scipy-openblas32 wheel of requirements.txt, or None where it
    is not installed or its library does not load on this machine."""
    import ctypes
    import importlib.util
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        return None
    lib_dir = os.path.join(spec.submodule_search_locations[0], "lib")
    try:
        ctypes.CDLL(os.path.join(lib_dir, "libscipy_openblas.so")).scipy_sgemm_
    except (OSError, AttributeError):
        return None
    # Theano adds -Wl,-rpath for each -L folder itself
    return f"-L{lib_dir} -lscipy_openblas", " ".join(f"-D{name}=scipy_{name}" for name in BLAS_SYMBOLS)


def system_openblas():
    """'-lopenblas' when the linker finds a system OpenBLAS (e.g. Debian's libopenblas-dev), else None."""
    return "-lopenblas" if system_openblas_found() else None


def blas_flags(user):
    """(blas.ldflags, extra gcc.cxxflags): the user's choice, else PyPI's OpenBLAS, else the
    system's, else '' (Theano calls BLAS through NumPy)."""
    if "blas.ldflags" in user:
        return user["blas.ldflags"], ""
    return pypi_openblas() or (system_openblas() or "", "")


def user_theano_settings():
    """What the user set in a Theano config file or THEANO_FLAGS (which wins), keys lower case."""
    settings = {}
    files = [os.path.expanduser(f) for f in os.environ.get("THEANORC", "~/.theanorc").split(os.pathsep)]
    parser = configparser.RawConfigParser()
    try:
        parser.read(files)
    except configparser.Error:
        pass  # Theano itself will report a broken config file
    for section in parser.sections():
        for option, value in parser.items(section):
            settings[option.lower() if section == "global" else f"{section}.{option}".lower()] = value
    for pair in os.environ.get("THEANO_FLAGS", "").split(","):
        if "=" in pair:
            key, value = pair.split("=", 1)
            settings[key.strip().lower()] = value
    return settings


def theano_defaults(ldflags):
    """The flags this project sets unless the user set them (docs/configuration.md)."""
    return {
        "floatX": "float32",  # the talk assumes it
        "blas.ldflags": ldflags,  # Theano's own detection crashes on numpy 1.23
        # pooling, CorrMM and large elementwise ops on every core; not with NumPy's BLAS, which
        # CorrMM would then call from OpenMP threads without the GIL (a crash)
        "openmp": str(bool(ldflags)),
        "allow_gc": "False",  # keep intermediate buffers between calls instead of reallocating
    }


def configure_theano():
    """Set the environment Theano reads at import: THEANO_FLAGS and the thread waits."""
    # Threads: Theano's OpenMP loops and OpenBLAS's threads both use every core, one after the
    # other, so neither may spin waiting for work once its part is done, or it takes the core from
    # the other (docs/configuration.md). Both are read when the libraries load, so
    # before blas_flags() tries OpenBLAS; yours win.
    if not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ):
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # OpenMP threads sleep after each loop
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # OpenBLAS's after 2**4 cycles, not 2**28
    user = user_theano_settings()
    ldflags, cxxflags = blas_flags(user)
    ours = {k: v for k, v in theano_defaults(ldflags).items() if k.lower() not in user}
    flags = ",".join(f"{k}={v}" for k, v in ours.items())
    user_flags = os.environ.get("THEANO_FLAGS", "")
    if cxxflags:  # after the user's flags, keeping any gcc.cxxflags of theirs
        user_flags += f",gcc.cxxflags={cxxflags} {user.get('gcc.cxxflags', '')}".rstrip()
    os.environ["THEANO_FLAGS"] = ",".join(part for part in (flags, user_flags.strip(",")) if part)


configured = False


def configure_once():
    """configure_theano(), once in a process and only before Theano is imported."""
    global configured
    if not configured and "theano" not in sys.modules:
        configure_theano()
    configured = True
