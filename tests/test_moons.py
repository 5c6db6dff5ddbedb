"""understanding.py, the moons lesson: what its page says of its pictures, measured on the training runs
themselves; and tools/figures/ drawing them from what the lesson saved."""
import os
import pty
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import ONE_THREAD, ROOT, import_script, run_script

PNG, GIF = b"\x89PNG\r\n\x1a\n", b"GIF89a"


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    results_dir = tmp_path_factory.mktemp("results")
    before = {p: p.stat().st_mtime_ns for p in (ROOT / "results" / "figures").iterdir()}
    results = import_script("understanding").main(steps=20000, seed=42,
                                                  save=str(results_dir / "models" / "understanding.npz"))
    done = run_script("tools/figures", "--results", results_dir)  # no MNIST models: the moons' pictures only
    assert done.returncode == 0, done.stderr
    after = {p: p.stat().st_mtime_ns for p in (ROOT / "results" / "figures").iterdir()}
    assert after == before  # given a results folder, the tool writes there only
    return results, results_dir / "figures"


def test_rmsprop_reaches_a_lower_cost_than_sgd(moons_run):
    results, _ = moons_run
    assert results["rectifiers, RMSprop"]["cost"][-1] < results["rectifiers, SGD"]["cost"][-1]


def test_rectifiers_end_lower_than_sigmoids(moons_run):
    results, _ = moons_run
    assert results["rectifiers, SGD"]["cost"][-1] < 0.5 * results["sigmoids, SGD"]["cost"][-1]


def line_fit(labels_on_grid):
    """How much of a boundary drawn on the grid the best straight line reproduces (1.0: a line)."""
    from sklearn.linear_model import LogisticRegression
    points = import_script("understanding").moons_grid()[:, :2]
    if len(np.unique(labels_on_grid)) == 1:
        return 1.0
    return LogisticRegression(C=1e4, max_iter=5000).fit(points, labels_on_grid).score(points, labels_on_grid)


def test_the_sigmoid_net_stays_a_straight_line_and_the_rectifier_net_bends(moons_run):
    results, _ = moons_run
    assert line_fit(results["sigmoids, SGD"]["frames"][20000]) > 0.995
    assert line_fit(results["rectifiers, SGD"]["frames"][1000]) > 0.995  # straight for thousands of steps
    assert line_fit(results["rectifiers, SGD"]["frames"][20000]) < 0.95
    assert results["sigmoids, SGD"]["accuracy"] <= results["logistic regression"] + 0.02  # no better than a line


def test_sgd_is_ahead_of_rmsprop_for_a_while(moons_run):
    results, _ = moons_run  # its page: between about 4,000 and 7,000 steps SGD's cost is the lower one
    sgd, rmsprop = results["rectifiers, SGD"]["cost"], results["rectifiers, RMSprop"]["cost"]
    ahead = np.flatnonzero(sgd < rmsprop) + 1
    assert ahead.size and 3000 <= ahead.min() <= 5000 and 6000 <= ahead.max() <= 8000


def test_the_trained_nets_bend_around_the_moons(moons_run):
    results, _ = moons_run
    line = results["logistic regression"]
    assert 0.75 < line < 0.95
    assert results["rectifiers, SGD"]["accuracy"] > line + 0.05
    assert results["rectifiers, RMSprop"]["accuracy"] > line + 0.05


def test_every_picture_is_written(moons_run):
    _, out = moons_run
    for name in ("understanding_sgd.png", "understanding_units.png", "understanding_rmsprop.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert (out / "understanding_rmsprop.gif").read_bytes()[:6] == GIF
    assert not list(out.glob(".*"))  # no half-written file left


def test_same_seed_same_costs_from_the_shell(tmp_path):
    with ThreadPoolExecutor(3) as pool:  # side by side
        first, second, usage = pool.map(lambda args: run_script("understanding", *args, env=ONE_THREAD),
                                        [["--steps", 300, "--save", tmp_path / "a.npz"],
                                         ["--steps", 300, "--save", tmp_path / "b.npz"], ["-h"]])
    assert first.returncode == 0, first.stderr
    assert first.stdout.replace(str(tmp_path / "a"), "") == second.stdout.replace(str(tmp_path / "b"), "")
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files)
    assert "cost" in first.stdout and "--steps" in usage.stdout


def test_no_progress_bar_is_left_behind_on_a_terminal(tmp_path):
    main, child = pty.openpty()  # stdout and stderr a terminal: the bar is drawn
    proc = subprocess.Popen([sys.executable, str(ROOT / "understanding.py"), "--steps", "300"],
                            stdout=child, stderr=child, cwd=tmp_path)
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    assert proc.wait(timeout=300) == 0, output.decode(errors="replace")
    summaries = [line for line in output.decode().splitlines() if "training accuracy" in line]
    assert len(summaries) == 4
    for line in summaries:  # what the terminal shows on that line: nothing of a bar before it
        assert line.split("\r")[-1].startswith(("rectifiers", "sigmoids", "logistic")), repr(line)
