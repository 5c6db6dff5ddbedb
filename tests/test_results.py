"""--log, --save and --graph, a saved model evaluated again, the figures, k-NN and reproduce.py."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import reproduce
from conftest import ROOT, epoch_lines, mnist_dir, run_script
from figures import saved_predict
from load import mnist

SCRIPTS = ["2_logistic_regression", "3_net", "4_modern_net", "5_convolutional_net"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    """Every MNIST script trained for two tiny epochs with --log and --save, and what it printed."""
    results = tmp_path_factory.mktemp("results")
    printed = {}
    for script in SCRIPTS:
        done = run_script(script, "--epochs", 2, "--ntrain", 256, "--ntest", 300,
                          "--log", results / "logs" / f"{script}.csv",
                          "--save", results / "models" / f"{script}.npz")
        assert done.returncode == 0, done.stderr
        printed[script] = done.stdout
    return results, printed


@pytest.mark.parametrize("script", SCRIPTS)
def test_log_holds_what_was_printed(tiny_results, script):
    results, printed = tiny_results
    lines = (results / "logs" / f"{script}.csv").read_text().splitlines()
    assert lines[0] == "epoch,cost,accuracy,seconds" and len(lines) == 3
    logged = [(float(cost), float(acc)) for _, cost, acc, _ in (line.split(",") for line in lines[1:])]
    shown = epoch_lines(printed[script])
    assert [round(c, 4) for c, _ in logged] == [c for c, _ in shown]
    assert [round(a, 4) for _, a in logged] == [a for _, a in shown]


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_saved_model_predicts_as_before_saving(tiny_results, script, real_mnist_dir):
    results, printed = tiny_results
    saved = np.load(results / "models" / f"{script}.npz", allow_pickle=False)
    assert all(saved[name].dtype == np.float32 for name in saved.files)
    trX, teX, trY, teY = mnist(ntrain=1, ntest=300, onehot=False, data_dir=real_mnist_dir)
    X = teX.reshape(-1, 1, 28, 28) if script.startswith("5") else teX
    predicted = saved_predict(script, results / "models" / f"{script}.npz")(X)
    logged = float((results / "logs" / f"{script}.csv").read_text().splitlines()[-1].split(",")[2])
    assert np.mean(predicted == teY) == logged
    assert list(results.glob("**/.*part")) == []  # nothing half-written left behind


def test_figures_from_tiny_saved_models(tiny_results, tmp_path):
    results, _ = tiny_results
    done = subprocess.run([sys.executable, str(ROOT / "figures.py"), "--results", str(results),
                           "--out", str(tmp_path), "--ntest", "300"], capture_output=True, text=True,
                          env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    expected = {"logistic_templates.png", "first_layer_3_net.png", "first_layer_4_modern_net.png",
                "conv_filters.png", "accuracy.png", "misclassified.png"}
    assert {p.name for p in tmp_path.iterdir()} == expected
    for name in expected:
        assert (tmp_path / name).read_bytes()[:8] == PNG
    assert done.stdout.count("evaluated again") == 4


def test_graph_shows_the_graph_before_and_after_compiling(tmp_path):
    done = run_script("5_convolutional_net", "--graph", "--ntrain", 128, "--ntest", 10, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.split("after Theano's optimisations")
    assert "AbstractConv2d" in before and "CorrMM" not in before
    assert "CorrMM" in after and "NonOverlappingMaxPoolGrad" in after
    assert "epoch" not in done.stdout  # --graph shows, it does not train
    if shutil.which("dot"):  # graphviz: .ci/run installs it
        assert (tmp_path / "5_convolutional_net_graph.png").read_bytes()[:8] == PNG
    else:
        assert "no picture" in done.stdout


def test_knn_blocks_agree_with_brute_force_and_it_learns(real_mnist_dir):
    trX, teX, trY, teY = mnist(ntrain=5000, ntest=500, onehot=False, data_dir=real_mnist_dir)
    blocked = reproduce.knn(trX, trY, teX, k=3, block=64)
    distances = ((teX[:, None, :] - trX[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :3]
    agree = np.mean(blocked == np.array([np.bincount(trY[n], minlength=10).argmax()
                                         if np.bincount(trY[n]).max() > 1 else trY[n[0]] for n in nearest]))
    assert agree >= 0.998  # float32 rounding may reorder near-equal neighbours
    assert np.mean(blocked == teY) > 0.88


def test_reproduce_quick_writes_the_table(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "reproduce.py"), "--quick", "--epochs", "1",
                           "--scripts", "2_logistic_regression", "--results", str(tmp_path)],
                          capture_output=True, text=True, env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "results.md").read_text()
    assert "| logistic regression | `2_logistic_regression.py` | 1 |" in table and "92.5 %" in table
    assert "k-nearest neighbours" in table and "25,600 images" in table
    accuracy = float(table.split("| logistic regression |")[1].split("|")[3].strip(" %"))
    assert 80 < accuracy < 95
