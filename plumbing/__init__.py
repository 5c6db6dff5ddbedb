"""Plumbing shared by the lessons: the list of scripts, the command line, progress, saving.

Not a lesson: the slides' code is in the numbered scripts at the top of the repository. Each script
starts with `import plumbing.defaults` (Theano's defaults, before `import theano`) and ends with
`plumbing.run(main)`. This module itself imports neither Theano nor anything that sets a thread
variable, so tools (bench, reproduce) may import it for the list of scripts.
"""
import sys

if sys.version_info[:2] != (3, 11):
    sys.exit(f"These scripts need Python 3.11 (Theano 1.0.5 does not run on newer ones); "
             f"this is Python {sys.version.split()[0]}. See README.md.")

import argparse
import importlib.util
import inspect
import os
import platform
import signal
import subprocess
import tempfile
import time
import weakref
from collections import namedtuple
from pathlib import Path

import numpy as np

if tuple(int(v) for v in np.__version__.split(".")[:2]) >= (1, 24):
    sys.exit(f"Theano 1.0.5 needs numpy < 1.24 (this is numpy {np.__version__}); "
             f"install the pinned versions: pip install -r requirements.txt")

ROOT = Path(__file__).resolve().parent.parent  # the lessons' folder
if str(ROOT) not in sys.path:  # load.py, and the scripts, for tools run as python -m plumbing.X
    sys.path.insert(0, str(ROOT))

from load import DataError  # noqa: E402


# --- the lessons --------------------------------------------------------------------------------

SCRIPTS = ["0_multiply", "1_linear_regression", "2_logistic_regression", "3_net", "4_modern_net",
           "5_convolutional_net"]
Lesson = namedtuple("Lesson", "model slide image")
MNIST_LESSONS = {  # the scripts that learn MNIST: the slide's model, its test accuracy, one input's shape
    "2_logistic_regression": Lesson("logistic regression", "92.5 %", (784,)),
    "3_net": Lesson("'old' net: sigmoid hidden layer, SGD", "98.4 %", (784,)),
    "4_modern_net": Lesson("'modern' net: rectifiers, dropout, RMSprop", "99.0 %", (784,)),
    "5_convolutional_net": Lesson("convolutional net", "99.5 %", (1, 28, 28)),  # (channels, rows, columns)
}


def as_input(script, images):
    """MNIST images (n, 784) shaped as the script's model takes them: (n, 784) or (n, 1, 28, 28)."""
    return images.reshape(-1, *MNIST_LESSONS[script].image)


def import_script(name):
    """A script as a module, by its path less .py from the lessons' folder ('3_net', 'plumbing/moons')
    or an absolute one: the one way tools and tests import a script (`import` cannot take a name
    that starts with a digit). Builds and trains nothing."""
    spec = importlib.util.spec_from_file_location(Path(name).name, ROOT / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as `import` does: its functions can find their module
    spec.loader.exec_module(module)
    return module


# --- the machine ----------------------------------------------------------------------------------

def cpu_name():
    """The CPU's model name with its family and model numbers (x86 Linux): a generic name such
    as 'AMD EPYC' covers several CPUs."""
    try:
        with open("/proc/cpuinfo") as f:
            fields = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines() if ":" in line)
    except OSError:
        return platform.processor() or platform.machine()
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    name = fields.get("model name", platform.processor() or platform.machine())
    return f"{name} (family {fields['cpu family']}, model {fields['model']})" if "cpu family" in fields else name


def system_openblas_found():
    """Whether the linker finds a system OpenBLAS (e.g. Debian's libopenblas-dev)."""
    try:
        found = subprocess.run(["g++", "-print-file-name=libopenblas.so"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return os.path.isabs(found)


# --- the command line -------------------------------------------------------------------------

MRG_SEEDS = 2147462579  # Theano's MRG_RandomStreams takes seeds 1 to this less one


def seed_int(text):
    """A seed NumPy takes: 0 to 2**32 - 1."""
    value = whole_number(text)
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be from 0 to {2 ** 32 - 1}, got {value}")
    return value


def whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text):
    value = whole_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


FLAGS = {  # main() keyword -> (type, help)
    "epochs": (positive_int, "passes over the training set"),
    "batch_size": (positive_int, "examples per training step"),
    "ntrain": (positive_int, "use the first N training images"),
    "ntest": (positive_int, "use the first N test images"),
    "seed": (seed_int, "seed for the initial weights, the data and the dropout noise"),
    "data_dir": (str, "folder with the MNIST idx files (default: $MNIST_DIR, else data/mnist "
                      "beside load.py; downloaded there if missing)"),
    "steps": (positive_int, "full-batch training steps of each run"),
    "out": (str, "folder for the pictures (default: results/figures in the lessons' folder)"),
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
                            metavar="N" if kind in (positive_int, seed_int) else name.split("_")[-1].upper())
    args = parser.parse_args(argv)
    if "ntrain" in params and args.ntrain < args.batch_size:
        parser.error(f"--ntrain {args.ntrain} is smaller than one minibatch (--batch-size {args.batch_size})")
    uses_mrg = "RandomStreams" in vars(sys.modules[main.__module__])  # the script draws dropout noise
    if "seed" in params and uses_mrg and not 0 < args.seed < MRG_SEEDS:
        parser.error(f"--seed {args.seed}: this script's dropout noise comes from Theano's MRG_RandomStreams, "
                     f"which takes seeds from 1 to {MRG_SEEDS - 1}")
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

    While it runs, Ctrl-C lets the current minibatch (or the epoch's test evaluation) finish, then
    stops with the last result (exit 130); a second Ctrl-C stops at once. After the last of `epochs`
    epochs, or close(), Ctrl-C is back to what it was before, for whatever the program does next.
    """

    def __init__(self, steps, epochs=None, log=None):
        self.steps = steps
        self.epochs = epochs
        self.log = log
        self.history = []
        self.costs = []
        self.last = "no epoch finished yet"
        self.started = time.perf_counter()
        self.interrupted = False
        self.bar = None
        me = weakref.ref(self)  # the handler must not keep this object alive

        def interrupt(signum, frame):
            progress = me()
            if progress is None or progress.interrupted:  # a second Ctrl-C stops at once
                raise KeyboardInterrupt
            progress.interrupted = True

        self.previous_handler = signal.signal(signal.SIGINT, interrupt)
        self.handler = interrupt

    def __del__(self):  # a Progress dropped before its last epoch (an exception in training, say)
        try:
            self.close()
        except Exception:  # at interpreter exit the signal module may already be gone
            pass

    def close(self):
        """Close the bar and give Ctrl-C back its previous handler (if ours is still in place)."""
        self._close_bar()
        if self.handler is not None:
            if signal.getsignal(signal.SIGINT) is self.handler:
                signal.signal(signal.SIGINT, self.previous_handler)
            self.handler = None

    def _stop(self, message, code):
        self.close()
        raise Stop(message, code)

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
            self._stop(f"stopped: the training cost became {cost} at step {len(self.costs)} "
                       f"of this epoch; last result: {self.last}", 1)
        if self.interrupted:
            self._stop(f"interrupted after step {len(self.costs)} of this epoch; "
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
        if self.interrupted:  # Ctrl-C during the test evaluation
            self._stop(f"interrupted; last result: {line}", 130)
        if self.epochs is not None and i + 1 >= self.epochs:
            self.close()
        self.costs = []
        self.started = time.perf_counter()

    def _close_bar(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


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
    script = sys._getframe(1).f_globals.get("__file__") or "graph"  # the script that called, however run
    picture = os.path.splitext(os.path.basename(script))[0] + "_graph.png"
    print("The cost, as the script builds it:")
    theano.printing.debugprint(cost)
    print("\nThe training function, after Theano's optimisations:")
    theano.printing.debugprint(train)
    try:
        theano.printing.pydotprint(train, outfile=picture, var_with_name_simple=True)
        print(f"\na picture of the compiled graph: {picture}")
    except Exception as e:  # pydot or graphviz missing: the printout above is the graph
        print(f"\nno picture {picture} ({e.__class__.__name__}: pip install pydot and install graphviz for one)")
