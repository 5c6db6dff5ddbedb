import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import plumbing.defaults  # noqa: E402,F401  (first: Theano's set-up before any theano import)
from tools.lessons import LESSONS, MNIST_LESSONS, SCRIPTS, as_input, import_script  # noqa: E402,F401


def mnist_dir():
    """Real MNIST: $MNIST_DIR, else the shared read-only copy beside the repo, else load.py's own folder."""
    shared = ROOT.parent / "shared" / "datasets" / "mnist"
    return os.environ.get("MNIST_DIR") or (str(shared) if shared.is_dir() else None)


@pytest.fixture(scope="session")
def real_mnist_dir():
    import load
    return load.data_folder(mnist_dir())


def run_script(name, *args, env=None, timeout=600, **kwargs):
    """Run a script as a subprocess from another folder, as a user would from the shell; a tool
    ('tools/reproduce') with python -m from the lessons' folder, as the Makefile does."""
    full_env = dict(os.environ, **(env or {}))
    if "MNIST_DIR" not in (env or {}) and mnist_dir():
        full_env["MNIST_DIR"] = mnist_dir()
    if name.startswith("tools/"):
        command = ["-m", name.replace("/", ".")]
        kwargs.setdefault("cwd", ROOT)
    else:
        command = [str(ROOT / f"{name}.py")]
    return subprocess.run([sys.executable, *command, *map(str, args)],
                          capture_output=True, text=True, env=full_env, timeout=timeout,
                          cwd=kwargs.pop("cwd", "/"), **kwargs)


# What Theano itself prints on stderr by design in this configuration: with NumPy's BLAS (blas.ldflags
# empty, docs/configuration.md) it warns once that it calls BLAS through NumPy's C API.
NUMPY_BLAS_WARNING = "WARNING (theano.tensor.blas): Using NumPy C-API based implementation for BLAS functions."


def own_stderr(stderr):
    """A process's stderr less the lines printed by design: plumbing's line when Theano starts
    compiling (a cold cache), and Theano's warning under NumPy's BLAS."""
    import theano
    from plumbing.compiling import MESSAGE
    by_design = {MESSAGE} | ({NUMPY_BLAS_WARNING} if not theano.config.blas.ldflags else set())
    return "".join(line for line in stderr.splitlines(keepends=True) if line.strip() not in by_design
                   and not line.startswith("INFO (theano.gof.compilelock)"))


def epoch_lines(stdout):
    """(cost, accuracy) of each epoch line a script printed."""
    rows = []
    for line in stdout.splitlines():
        if line.startswith("epoch"):
            words = line.split()
            accuracy = float(words[words.index("accuracy") + 1]) if "accuracy" in words else None
            rows.append((float(words[words.index("cost") + 1]), accuracy))
    return rows


# --- what the results' and the figures' tests share -------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n"
NTEST = 300


ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # for runs side by side on the cores


@pytest.fixture(scope="session")
def tiny_results(tmp_path_factory):
    """Every MNIST script trained for two tiny epochs with --log and --save, and what it printed."""
    results = tmp_path_factory.mktemp("results")

    def train(script):  # two at a time, a thread each
        return run_script(script, "--epochs", 2, "--ntrain", 1280, "--ntest", NTEST,
                          "--log", results / "logs" / f"{script}-seed42.csv",
                          "--save", results / "models" / f"{script}-seed42.npz",
                          env=ONE_THREAD)
    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(MNIST_LESSONS, pool.map(train, MNIST_LESSONS)))
    for script, run in done.items():
        assert run.returncode == 0, f"{script}: {run.stderr}"
    return results, {script: run.stdout for script, run in done.items()}


@pytest.fixture(scope="session")
def test_set(real_mnist_dir):
    from load import mnist
    trX, teX, trY, teY = mnist(ntrain=1, ntest=NTEST, onehot=False, data_dir=real_mnist_dir)
    return teX, teY


def model_path(results, script):
    return results / "models" / f"{script}-seed42.npz"


def png_pixels(path):
    import matplotlib.image
    assert path.read_bytes()[:8] == PNG
    return matplotlib.image.imread(str(path))


def write_log(path, accuracies):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("epoch,cost,accuracy,seconds\n"
                    + "".join(f"{i + 1},0.5,{a},1.0\n" for i, a in enumerate(accuracies)))


# --- what the book's tests share --------------------------------------------------------------------

BOOK_PAGES = Path(os.environ.get("BOOK_PAGES", ROOT / "tools" / "book" / "pages"))  # another folder: for developing


def book_build(*args):
    return subprocess.run([sys.executable, "-m", "tools.book.build", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def page_sources():
    return sorted(BOOK_PAGES.glob("*.md"))


@pytest.fixture(scope="session")
def fresh(tmp_path_factory):
    """One build into a temporary folder: (out, docs)."""
    tmp = tmp_path_factory.mktemp("book")
    result = book_build("--pages", BOOK_PAGES, "--out", tmp / "book", "--docs", tmp / "docs")
    assert result.returncode == 0, result.stderr
    return tmp / "book", tmp / "docs"


@pytest.fixture(scope="session")
def pages():
    """The build's own model of each page: tools.book.build.read_page."""
    from tools.book import build as book
    problems = book.Problems()
    read = {path.stem: book.read_page(path, problems) for path in page_sources()}
    assert not problems, "\n".join(problems)
    return read


def pytest_report_header(config):
    """The BLAS library and kernel the ops' same-bits tests ran on (tests/blas_order.py)."""
    import blas_order
    return blas_order.describe()
