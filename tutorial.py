"""Plumbing shared by the tutorial scripts: Theano's defaults, the command line, progress.

Import it before `theano`. It checks the interpreter and sets defaults in THEANO_FLAGS
(floatX=float32, PyPI's OpenBLAS or another BLAS this machine has, OpenMP, allow_gc=False) and
how idle threads wait; a key or variable you set yourself, in THEANO_FLAGS, ~/.theanorc or the
environment, keeps your value. Then it imports speedups.py.
"""
import sys

if sys.version_info[:2] != (3, 11):
    sys.exit(f"These scripts need Python 3.11 (Theano 1.0.5 does not run on newer ones); "
             f"this is Python {sys.version.split()[0]}. See README.md.")

import argparse
import configparser
import inspect
import os
import signal
import subprocess
import tempfile
import time

import numpy as np

from load import DataError

if tuple(int(v) for v in np.__version__.split(".")[:2]) >= (1, 24):
    sys.exit(f"Theano 1.0.5 needs numpy < 1.24 (this is numpy {np.__version__}); "
             f"install the pinned versions: pip install -r requirements.txt")


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
    try:
        found = subprocess.run(["g++", "-print-file-name=libopenblas.so"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return "-lopenblas" if os.path.isabs(found) else None


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
    """The flags this project sets unless the user set them (README: "Theano's configuration")."""
    return {
        "floatX": "float32",  # the talk assumes it
        "blas.ldflags": ldflags,  # Theano's own detection crashes on numpy 1.23
        # pooling, CorrMM and large elementwise ops on every core; not with NumPy's BLAS, which
        # CorrMM would then call from OpenMP threads without the GIL (a crash)
        "openmp": str(bool(ldflags)),
        "allow_gc": "False",  # keep intermediate buffers between calls instead of reallocating
    }


def configure_theano():
    # Threads: Theano's OpenMP loops and OpenBLAS's threads both use every core, one after the
    # other, so neither may spin waiting for work once its part is done, or it takes the core from
    # the other (README, "Theano's configuration"). Both are read when the libraries load, so
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


if "theano" not in sys.modules:
    configure_theano()

import speedups  # noqa: E402,F401  (imports theano with the flags above; registers faster ops)


# --- the command line -------------------------------------------------------------------------

def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


FLAGS = {  # main() keyword -> (type, help)
    "epochs": (positive_int, "passes over the training set"),
    "batch_size": (positive_int, "examples per training step"),
    "ntrain": (positive_int, "use the first N training images"),
    "ntest": (positive_int, "use the first N test images"),
    "seed": (positive_int, "seed for the initial weights, the data and the dropout noise"),
    "data_dir": (str, "folder with the MNIST idx files (default: $MNIST_DIR, else data/mnist "
                      "beside load.py; downloaded there if missing)"),
    "steps": (positive_int, "full-batch training steps of each run"),
    "out": (str, "folder for the pictures (default: results/figures beside this file)"),
    "log": (str, "write epoch, cost, test accuracy and seconds of every epoch to this CSV file"),
    "save": (str, "save the trained weights to this .npz file (figures.py reads it)"),
    "graph": (bool, "print the graph of the cost and what theano.function compiled it to, then stop"),
}


def parse_args(main, argv=None):
    """Command-line flags for the keyword arguments of `main`, with its defaults."""
    doc = sys.modules[main.__module__].__doc__ or ""
    parser = argparse.ArgumentParser(description=doc.strip())
    params = inspect.signature(main).parameters
    for name, param in params.items():
        kind, text = FLAGS[name]
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            parser.add_argument(flag, action="store_true", help=text)
            continue
        if param.default is not None:
            text += f" (default: {param.default})"
        parser.add_argument(flag, type=kind, default=param.default, help=text,
                            metavar="N" if kind is positive_int else name.split("_")[-1].upper())
    args = parser.parse_args(argv)
    if "ntrain" in params and args.ntrain < args.batch_size:
        parser.error(f"--ntrain {args.ntrain} is smaller than one minibatch (--batch-size {args.batch_size})")
    return vars(args)


class Stop(Exception):
    """Training stopped early; the message says why."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


def run(main, argv=None):
    """Run a script's main() from the shell: flags, clean Ctrl-C (exit 130), clear errors."""
    kwargs = parse_args(main, argv)
    try:
        main(**kwargs)
    except Stop as stop:
        print(stop, file=sys.stderr)
        sys.exit(stop.code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except (DataError, OSError) as error:  # bad data; a --log or --save path that cannot be written
        sys.exit(f"error: {error}")


# --- progress -----------------------------------------------------------------------------------

class Progress:
    """One line per epoch; a bar inside epochs on a terminal; stops on a NaN cost or Ctrl-C.

    Ctrl-C lets the current minibatch finish, then stops with the last result (exit 130).
    """

    def __init__(self, steps, log=None):
        self.steps = steps
        self.log = log
        self.history = []
        self.costs = []
        self.last = "no epoch finished yet"
        self.started = time.perf_counter()
        self.interrupted = False
        self.bar = None
        signal.signal(signal.SIGINT, self._interrupt)

    def _interrupt(self, signum, frame):
        if self.interrupted:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.interrupted = True

    def step(self, cost):
        """Record one training step's cost."""
        cost = float(cost)
        if self.bar is None and sys.stderr.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=self.steps, leave=False, unit="step", file=sys.stderr)
        if self.bar is not None:
            self.bar.update()
        self.costs.append(cost)
        if not np.isfinite(cost):
            self._close_bar()
            raise Stop(f"stopped: the training cost became {cost} at step {len(self.costs)} "
                       f"of this epoch; last result: {self.last}", 1)
        if self.interrupted:
            self._close_bar()
            raise Stop(f"interrupted after step {len(self.costs)} of this epoch; "
                       f"last result: {self.last}", 130)

    def epoch(self, i, accuracy=None):
        """Print the line for epoch i (counted from 0) and start the next one."""
        self._close_bar()
        cost = np.mean(self.costs)
        line = f"epoch {i + 1:3d}  cost {cost:.4f}"
        if accuracy is not None:
            line += f"  test accuracy {accuracy:.4f}"
        seconds = time.perf_counter() - self.started
        line += f"  {seconds:6.1f}s"
        print(line, flush=True)
        self.last = line
        if self.log:
            self.history.append(f"{i + 1},{cost:.6f},{'' if accuracy is None else accuracy},"
                                f"{seconds:.3f}\n")
            write_atomically(self.log, lambda f: f.write(("epoch,cost,accuracy,seconds\n"
                                                          + "".join(self.history)).encode()))
        self.costs = []
        self.started = time.perf_counter()

    def _close_bar(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def import_script(name):
    """Import a numbered script (its name starts with a digit) as a module: builds and trains nothing."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as `import` does: its functions can find their module
    spec.loader.exec_module(module)
    return module


# --- saving, and showing the graph --------------------------------------------------------------

def write_atomically(path, write):
    """write(f) into a temporary file beside path, then rename: never a half-written file."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, part = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(part, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        os.replace(part, path)
    except BaseException:
        os.remove(part)
        raise


def save(path, **params):
    """The values of shared variables, by name, into an .npz file (read it with allow_pickle=False)."""
    write_atomically(path, lambda f: np.savez(f, **{name: p.get_value() for name, p in params.items()}))
    print(f"saved {', '.join(params)} to {path}")


def show_graph(cost, train):
    """Print the cost's graph as built, and the training function as Theano compiled it."""
    import theano
    picture = os.path.splitext(os.path.basename(sys.argv[0]))[0] + "_graph.png"
    print("The cost, as the script builds it:")
    theano.printing.debugprint(cost)
    print("\nThe training function, after Theano's optimisations:")
    theano.printing.debugprint(train)
    try:
        theano.printing.pydotprint(train, outfile=picture, var_with_name_simple=True)
        print(f"\na picture of the compiled graph: {picture}")
    except Exception as e:  # pydot or graphviz missing: the printout above is the graph
        print(f"\nno picture ({e.__class__.__name__}: pip install pydot and install graphviz for one)")
