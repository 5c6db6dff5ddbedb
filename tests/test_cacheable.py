"""plumbing/cacheable.py: on a warm cache no lesson compiles anything or takes Theano's compile
lock, and the cacheable twins give the stock ops' results bit for bit."""
import csv
import json
import os
import subprocess
import sys

import numpy as np

from conftest import LESSONS, ROOT, mnist_dir, run_script
from plumbing import cacheable
from plumbing.compiling import MESSAGE

# Runs each lesson's main() on a short schedule, in this order, in one fresh process, and prints
# what Theano's module cache counted: the C modules it compiled for each lesson (ModuleCache.stats[2],
# which only a compilation increments), and whether the process ever took the compile lock
# (compilelock.get_lock counts its holders in n_lock from its first call on).
PROBE = """
import contextlib, io, json, os, sys
sys.path.insert(0, sys.argv[1])
import plumbing.defaults
from theano.gof import compilelock
from theano.gof.cc import get_module_cache
from tools.lessons import import_script
SHORT = {"0_multiply": {}, "1_linear_regression": {"epochs": 1}, "understanding": {"steps": 2}}
MNIST = {"epochs": 1, "ntrain": 128, "ntest": 16, "data_dir": os.environ.get("MNIST_DIR")}
compiled = {}
for name in sys.argv[2:]:
    before = get_module_cache().stats[2]
    with contextlib.redirect_stdout(io.StringIO()):  # the lessons' epoch lines
        import_script(name).main(**SHORT.get(name, MNIST))
    compiled[name] = get_module_cache().stats[2] - before
print(json.dumps({"compiled": compiled, "lock": hasattr(compilelock.get_lock, "n_lock")}))
"""


def probe(env=None):
    """A fresh process running every lesson, started, not waited for."""
    full = dict(os.environ, **({"MNIST_DIR": mnist_dir()} if mnist_dir() else {}), **(env or {}))
    return subprocess.Popen([sys.executable, "-c", PROBE, str(ROOT), *LESSONS], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=full, cwd="/")


def report(process):
    out, err = process.communicate(timeout=900)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


def test_on_a_warm_cache_no_lesson_compiles_or_waits_for_the_lock():
    report(probe())  # fills Theano's cache (the suite's, compiledir) where it lacks anything
    together = [probe(), probe()]  # two processes started together, as a notebook and a terminal
    for result, stderr in map(report, together):
        assert result["compiled"] == {name: 0 for name in LESSONS}
        assert result["lock"] is False
        assert "Waiting for existing lock" not in stderr


def test_a_warm_lesson_says_nothing_of_compiling():
    args = ["--epochs", 1, "--ntrain", 128, "--ntest", 16]
    first = run_script("2_logistic_regression", *args)  # Dot22, Softmax, LogSoftmax, DimShuffle
    assert first.returncode == 0, first.stderr
    warm = run_script("2_logistic_regression", *args)
    assert warm.returncode == 0 and MESSAGE not in warm.stderr, warm.stderr


def test_the_convnet_runs_the_twins_printed_as_the_stock_ops():
    from tools.bench.theano_models import build
    ops = [node.op for f in build("5_convolutional_net") for node in f.maker.fgraph.toposort()]
    assert not [op for op in ops if type(op) in cacheable.TWINS]
    twins = [op for op in ops if type(op) in cacheable.TWINS.values()]
    # DotModulo runs in MRG_RandomStreams's own function; ScalarFromTensor only in constant folding
    assert {type(op) for op in twins} == set(cacheable.TWINS.values()) - {cacheable.DotModulo,
                                                                          cacheable.ScalarFromTensor}
    for op in twins:  # e.g. Dot22, InplaceDimShuffle{1,0}, in --graph's printout
        stock = type(op).__bases__[0](**{k: v for k, v in op._props_dict().items() if k != "cacheable"})
        assert str(op) == str(stock) and op != stock


def test_the_twins_give_the_stock_ops_bits(tmp_path):
    """The convnet, which has all seven ops, trained with and without the twins: the same weights."""
    runs = {}
    for name, flags in (("twins", ""), ("stock", "optimizer_excluding=cacheable")):
        env = {"THEANO_FLAGS": flags, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        done = run_script("5_convolutional_net", "--epochs", 1, "--ntrain", 256, "--ntest", 64,
                          "--save", tmp_path / f"{name}.npz", "--log", tmp_path / f"{name}.csv", env=env)
        assert done.returncode == 0, done.stderr
        runs[name] = np.load(tmp_path / f"{name}.npz")
    assert sorted(runs["twins"]) == ["w", "w2", "w3", "w4", "w_o"]
    for key in runs["twins"]:
        np.testing.assert_array_equal(runs["twins"][key].view(np.uint8), runs["stock"][key].view(np.uint8))
    logs = [list(csv.DictReader(open(tmp_path / f"{name}.csv"))) for name in runs]
    assert [(r["cost"], r["accuracy"]) for r in logs[0]] == [(r["cost"], r["accuracy"]) for r in logs[1]]
