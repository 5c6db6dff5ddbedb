"""--log, --save and --graph; saved models evaluated again; k-NN; reproduce.py's table checked against
logs of known accuracies. The pictures: test_figures.py; the old net's experiment: test_old_net.py."""
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import (MNIST_LESSONS, ROOT, as_input, epoch_lines, mnist_dir, model_path, png_pixels, run_script,
                      write_log)
from load import mnist
from tools import figures, reproduce

SCRIPTS = list(MNIST_LESSONS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_log_and_saved_model_agree_with_an_evaluation_of_their_own(tiny_results, test_set, script):
    results, printed = tiny_results
    teX, teY = test_set
    lines = (results / "logs" / f"{script}-seed42.csv").read_text().splitlines()
    assert lines[0] == "epoch,cost,accuracy,seconds"
    rows = np.array([line.split(",") for line in lines[1:]], dtype=float)
    assert list(rows[:, 0]) == [1, 2] and np.all(rows[:, 3] > 0) and np.all(np.isfinite(rows[:, 1]))
    assert [round(c, 4) for c in rows[:, 1]] == [c for c, _ in epoch_lines(printed[script])]
    saved = np.load(model_path(results, script), allow_pickle=False)
    assert all(saved[name].dtype == np.float32 for name in saved.files)
    # the saved weights, run through a function compiled apart from training, score what was logged
    predicted = figures.saved_predict(script, model_path(results, script))(as_input(script, teX))
    assert np.mean(predicted == teY) == rows[-1, 2]
    assert list(results.glob("**/.*part")) == []  # nothing half-written left behind


# before and after Theano's optimisations: the dots become Dot22, the logistic regression's SGD update
# a Gemm, and the modern net's dropout masks are drawn by plumbing's ParallelMRGMask. (The convnet's graph
# takes 30 s to draw; test_cacheable.py looks at its compiled ops.)
GRAPHS = {"4_modern_net": (["dot [id", "mrg_uniform"], ["Dot22", "ParallelMRG"], ["Dot22", "ParallelMRGMask"]),
          "2_logistic_regression": (["dot [id", "Softmax [id"], ["Dot22"], ["Dot22", "Gemm{inplace}"])}


@pytest.mark.parametrize("how, script", [("shell", "4_modern_net"), ("python", "2_logistic_regression")])
def test_graph_shows_the_graph_before_and_after_compiling(tmp_path, how, script):
    if how == "shell":
        done = run_script(script, "--graph", "--ntrain", 128, "--ntest", 10, cwd=tmp_path)
    else:  # main(graph=True) from a user's program: the picture is still named after the script
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import plumbing.defaults;"
                "from tools.lessons import import_script;"
                f"import_script('{script}').main(graph=True, ntrain=128, ntest=10)")
        done = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, cwd=tmp_path,
                              env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.split("after Theano's optimisations")
    shown, not_yet, compiled = GRAPHS[script]
    assert all(op in before for op in shown) and not any(op in before for op in not_yet)
    assert all(op in after for op in compiled)
    assert "epoch" not in done.stdout  # --graph shows, it does not train
    assert f"{script}_graph.png" in done.stdout
    if shutil.which("dot"):  # graphviz: .ci/run installs it
        assert [p.name for p in tmp_path.iterdir()] == [f"{script}_graph.png"]
        assert png_pixels(tmp_path / f"{script}_graph.png").std() > 0.05
    else:
        assert "no picture" in done.stdout


def test_knn_blocks_agree_with_brute_force_and_it_learns(real_mnist_dir):
    trX, teX, trY, teY = mnist(ntrain=5000, ntest=500, onehot=False, data_dir=real_mnist_dir)
    blocked = reproduce.knn(trX, trY, teX, k=3, block=64)
    train64 = trX.astype(np.float64)  # brute force, one test image at a time: squared differences
    nearest = np.array([np.argsort(((train64 - x) ** 2).sum(axis=1), kind="stable")[:3] for x in teX])
    agree = np.mean(blocked == np.array([np.bincount(trY[n], minlength=10).argmax()
                                         if np.bincount(trY[n]).max() > 1 else trY[n[0]] for n in nearest]))
    assert agree >= 0.998  # float32 rounding may reorder near-equal neighbours
    assert np.mean(blocked == teY) > 0.88


# --- reproduce.py's table --------------------------------------------------------------------------

def table_row(table, script, epochs):
    """The cells of the table's row for script's runs of that many epochs."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 3 and cells[1] == f"`{script}.py`" and cells[2] == str(epochs):
            return cells
    raise AssertionError(f"no row for {script}, {epochs} epochs in\n{table}")


def test_table_gives_mean_spread_and_range_over_seeds(tmp_path):
    logs = tmp_path / "logs"
    write_log(logs / "4_modern_net-seed1.csv", [0.95, 0.98])
    write_log(logs / "4_modern_net-seed2.csv", [0.96, 0.99])
    write_log(logs / "4_modern_net-seed3.csv", [0.97, 1.00])
    write_log(logs / "4_modern_net-seed42.csv", [0.94, 0.975, 0.99, 0.991])  # its first two epochs count too
    write_log(logs / "4_modern_net-seed7.csv.bak", [0.1])  # not a log
    (tmp_path / "models").mkdir()
    np.savez(tmp_path / "models" / "1_linear_regression-seed42.npz", w=np.float32(2.0031))  # as its --save writes
    (tmp_path / "runs.md").write_text("- a run\n")
    done = subprocess.run([sys.executable, "-m", "tools.reproduce", "--table", "--quick", "--results",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "results.md").read_text()
    two = table_row(table, "4_modern_net", 2)
    at_two = np.array([0.98, 0.99, 1.00, 0.975])
    assert two[3] == "1, 2, 3, 42"
    assert two[4] == f"{100 * at_two.mean():.2f} ± {100 * np.std(at_two, ddof=1):.2f} %" == "98.62 ± 1.11 %"
    assert two[5] == "97.50 – 100.00 %"
    four = table_row(table, "4_modern_net", 4)
    assert four[3] == "42" and four[4] == "99.10 %" and four[5] == "-"
    assert "w = 2.0031 (seed 42)" in table and "- a run" in table
    assert not list(tmp_path.glob("**/.*part"))


def test_reproduce_runs_seeds_and_tabulates_their_logs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.reproduce", "--quick", "--epochs", "1", "--seeds", "1-2",
                           "--scripts", "1_linear_regression,2_logistic_regression", "--results", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "results.md").read_text()
    logged = [float((tmp_path / "logs" / f"2_logistic_regression-seed{s}.csv").read_text().split(",")[-2])
              for s in (1, 2)]
    row = table_row(table, "2_logistic_regression", 1)
    assert row[3] == "1, 2" and row[4] == f"{100 * np.mean(logged):.2f} ± {100 * np.std(logged, ddof=1):.2f} %"
    assert 0.75 < min(logged) and logged[0] != logged[1]  # two seeds, two runs
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "1_linear_regression-seed1.npz", "1_linear_regression-seed2.npz",
        "2_logistic_regression-seed1.npz", "2_logistic_regression-seed2.npz"]
    assert (tmp_path / "logs" / "1_linear_regression-seed1.csv").read_text().count("\n") == 2  # header, one epoch
    assert len(re.findall(r"w = \d\.\d{4} \(seed [12]\)", table)) == 2
    assert "--seeds 1-2" in (tmp_path / "runs.md").read_text()


def test_reproduce_without_data_is_one_clear_error(tmp_path):
    offline = dict(os.environ, MNIST_DIR=str(tmp_path / "nothing"), HTTPS_PROXY="http://127.0.0.1:9",
                   HTTP_PROXY="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-m", "tools.reproduce", "--table", "--results", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, env=offline)
    assert done.returncode == 1 and "\nerror: MNIST files missing" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "results.md").exists()


def test_a_recorded_run_joins_the_list_and_the_note_below_it_stays_below(tmp_path):
    from tools.logs import record_run
    (tmp_path / "runs.md").write_text("- first run\n- second run\n\nAll ran with one thread.\n")
    record_run(tmp_path, "python -m tools.reproduce --seeds 7", time.perf_counter(), "stopped early")
    lines = (tmp_path / "runs.md").read_text().splitlines()
    assert lines[:2] == ["- first run", "- second run"]
    assert lines[2].startswith("- ") and "`python -m tools.reproduce --seeds 7`" in lines[2]
    assert lines[2].endswith("min; stopped early")
    assert lines[3:] == ["", "All ran with one thread."]
    (tmp_path / "new").mkdir()
    record_run(tmp_path / "new", "x", time.perf_counter())  # no runs.md yet: the list starts
    assert (tmp_path / "new" / "runs.md").read_text().startswith("- ")


def test_ports_table_puts_each_ports_last_epoch_beside_the_lessons_seeds(tmp_path):
    """tools.port_runs --table on hand-made logs: the slide's epoch of each port's log (a shorter
    run shows '-'), the lesson's mean over its seeds at that epoch and its own seed 42's."""
    lessons, ports = tmp_path / "lessons", tmp_path / "ports"
    for seed, accuracy in ((1, 0.95), (2, 0.97), (42, 0.96)):
        write_log(lessons / f"3_net-seed{seed}.csv", [0.5] * 99 + [accuracy])
    write_log(ports / "logs" / "torch" / "3_net-seed42.csv", [0.5] * 99 + [0.9612])
    write_log(ports / "logs" / "jax" / "3_net-seed42.csv", [0.5] * 50)  # stopped early: not in the table
    done = subprocess.run([sys.executable, "-m", "tools.port_runs", "--table", "--results", str(ports),
                           "--lessons", str(lessons)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    row = next(line for line in (ports / "ports.md").read_text().splitlines() if line.startswith("| 'old' net"))
    assert [c.strip() for c in row.strip("|").split("|")] == [
        "'old' net: sigmoid hidden layer, SGD", "100", "96.00 ± 1.00 % (3 seeds)", "95.00 – 97.00 %", "96.00 %",
        "96.12 %", "-", "-"]


def test_the_committed_ports_table_is_current(tmp_path):
    """results/ports/ports.md is what tools.port_runs builds from the committed logs today."""
    shutil.copytree(ROOT / "results" / "ports", tmp_path / "ports")
    done = subprocess.run([sys.executable, "-m", "tools.port_runs", "--table", "--results", str(tmp_path / "ports")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ports" / "ports.md").read_text() == (ROOT / "results" / "ports" / "ports.md").read_text()
