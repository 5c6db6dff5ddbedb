"""The ports' tests (make test-ports): each port beside its lesson, each side in its own interpreter.

Theano's side runs in .venv (numpy 1.23.5), each port in its framework's venv (numpy 2): .venv-torch,
.venv-jax, .venv-pytensor, made by `make ports`. The two sides meet only through files: the --log
CSV and --save .npz a script writes from the shell, or the .npz worker.py writes.
"""
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "worker.py"
VENVS = {"theano": ".venv", "torch": ".venv-torch", "jax": ".venv-jax", "pytensor": ".venv-pytensor"}
PORTS = ["torch", "jax", "pytensor"]


def python(framework):
    """The interpreter of a framework's venv; a failure that says how to make it when it is missing."""
    path = ROOT / VENVS[framework] / "bin" / "python"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make ports` makes the ports' venvs")
    return str(path)


def script(framework, lesson):
    """The lesson's file (theano) or its port's."""
    return str(ROOT / (f"{lesson}.py" if framework == "theano" else f"ports/{framework}/{lesson}.py"))


def mnist_env():
    shared = ROOT.parent / "shared" / "datasets" / "mnist"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if "MNIST_DIR" not in env and shared.is_dir():
        env["MNIST_DIR"] = str(shared)
    return env


def run(framework, program, *args, timeout=600):
    """Run program (a script's path) with args in the framework's venv from another folder, as a user
    would from the shell; its stdout. Fails with its stderr if it fails."""
    done = subprocess.run([python(framework), program, *map(str, args)], capture_output=True, text=True,
                          env=mnist_env(), cwd="/", timeout=timeout)
    assert done.returncode == 0, f"{framework}: {program} {' '.join(map(str, args))} failed:\n{done.stderr}"
    return done.stdout


def work(framework, *args, timeout=600):
    """worker.py in the framework's venv; the arrays it saved (its last argument is --out FILE.npz)."""
    run(framework, str(WORKER), framework, *args, timeout=timeout)
    with np.load(args[-1], allow_pickle=False) as saved:
        return dict(saved)


def read_log(path):
    """(costs, accuracies) of a --log CSV file, one per epoch (tools.logs.read_log); accuracies are
    NaN without a test set."""
    from tools.logs import read_log as column
    return column(path, "cost"), column(path, "accuracy")


EPOCH_LINE = re.compile(r"^epoch +\d+  cost \d+\.\d{4}(  test accuracy \d\.\d{4})? +\d+\.\ds$")


def epoch_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith("epoch")]
