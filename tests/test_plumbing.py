"""plumbing/ as a newcomer meets it: the command line made from main(), the line when Theano
compiles, --graph without graphviz, and a plain `import theano` in the project's .venv."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SCRIPTS, epoch_lines, run_script

LESSON = '''"""A lesson of one's own: every kind of keyword."""
import plumbing.defaults
from plumbing.cli import run


def main(lr=0.05, steps=3, name="x", data_dir=None, flag=False, seed=42):
    """Print what it got.

    lr: the learning rate of this lesson
    """
    print(repr(lr), repr(steps), repr(name), repr(data_dir), repr(flag), repr(seed))


if __name__ == "__main__":
    run(main)
'''


@pytest.fixture(scope="module")
def own_lesson(tmp_path_factory):
    path = tmp_path_factory.mktemp("lesson") / "6_own.py"
    path.write_text(LESSON)
    return path


def run_own(path, *args):
    return subprocess.run([sys.executable, str(path), *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd="/")


@pytest.mark.quick
def test_any_keyword_of_main_is_a_flag_typed_by_its_default(own_lesson):
    done = run_own(own_lesson, "--lr", "0.5", "--steps", 7, "--name", "y", "--data-dir", "/d", "--flag", "--seed", 0)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.5", "7", "'y'", "'/d'", "True", "0"]
    assert run_own(own_lesson).stdout.split() == ["0.05", "3", "'x'", "None", "False", "42"]
    bad = run_own(own_lesson, "--lr", "fast")
    assert bad.returncode == 2 and "'fast' is not a number" in bad.stderr
    assert run_own(own_lesson, "--steps", 0).returncode == 2  # a shared keyword keeps its limit


@pytest.mark.quick
def test_help_comes_from_the_lesson(own_lesson):
    text = " ".join(run_own(own_lesson, "-h").stdout.split())
    assert "A lesson of one's own" in text
    assert "--lr X the learning rate of this lesson (default: 0.05)" in text


@pytest.mark.quick
@pytest.mark.parametrize("script", SCRIPTS[1:])
def test_seed_help_says_what_the_seed_seeds(script):
    text = " ".join(run_script(script, "-h").stdout.split())
    text = text[text.index("options:"):]
    seed = text[text.index("--seed N"):text.index("(default: 42)", text.index("--seed N"))]
    assert ("dropout" in seed) == ("RandomStreams(" in (ROOT / f"{script}.py").read_text())
    assert ("data" in seed) == (script == "1_linear_regression")
    assert "weights" in seed or script == "1_linear_regression"


def test_a_cold_compile_is_announced_before_the_wait(tmp_path):
    env = {"THEANO_FLAGS": f"compiledir={tmp_path / 'cache'}"}
    cold = run_script("1_linear_regression", "--epochs", 1, env=env)
    assert cold.returncode == 0, cold.stderr
    assert "Theano is compiling this script's graph to C code" in cold.stderr
    assert cold.stderr.count("compiling") == 1  # once, not once per module
    warm = run_script("1_linear_regression", "--epochs", 1, env=env)
    assert "compiling" not in warm.stderr and epoch_lines(warm.stdout) == epoch_lines(cold.stdout)


def test_graph_without_graphviz_names_only_graphviz(tmp_path):
    bin_dir = tmp_path / "bin"  # everything on PATH but graphviz's dot
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name != "dot" and not (bin_dir / name).exists():
                    (bin_dir / name).symlink_to(os.path.join(folder, name))
    # Theano's compiler is the one it finds on PATH, a path that keys its compiled modules: named as
    # on the usual PATH, the warm cache serves (a link in bin_dir would recompile them all, 10 s)
    flags = ",".join(filter(None, [os.environ.get("THEANO_FLAGS"), f"cxx={shutil.which('g++')}"]))
    done = run_script("2_logistic_regression", "--graph", "--ntrain", 128, "--ntest", 10,
                      env={"PATH": str(bin_dir), "THEANO_FLAGS": flags}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("no picture 2_logistic_regression_graph.png") and "graphviz" in line
    assert "pydot" not in line  # it is installed
    assert not list(tmp_path.glob("*.png"))


def test_plain_import_theano_in_the_venv_gets_the_projects_flags(tmp_path):
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        pytest.skip("no .venv: the tests run from another environment")
    code = ("import theano, numpy as np, theano.tensor as T\n"
            "x = T.fmatrix(); f = theano.function([x], T.dot(x, x))\n"
            "print(theano.config.floatX, 'scipy_openblas' in theano.config.blas.ldflags,"
            " float(f(np.eye(2, dtype='float32'))[0, 0]))\n"
            "import load, plumbing; print(load.__file__)")
    env = {k: v for k, v in os.environ.items() if k not in ("THEANO_FLAGS", "PYTHONPATH")}
    done = subprocess.run([str(venv_python), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["float32 True 1.0", str(ROOT / "load.py")]
