"""tools/bench/startup.py, from the bench's command line: a lesson's start on a cold and a warm cache."""
import json
import os
import subprocess
import sys

from conftest import ROOT, mnist_dir


def test_bench_startup_times_a_cold_and_a_warm_start(tmp_path):
    out = tmp_path / "startup.json"
    done = subprocess.run([sys.executable, "-m", "tools.bench.bench", "--startup", "--scripts", "1_linear_regression",
                           "--rounds", "2", "--json", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=ROOT, env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    row, = report["rows"]
    assert row["script"] == "1_linear_regression" and report["rounds"] == 2
    # cold: an empty cache, Theano compiles its own C helpers and the lesson's ops; warm: nothing
    assert 0 < row["warm_s"] <= row["warm_worst_s"] <= row["warm_exit_s"] + 1 and row["warm_s"] < row["cold_s"]
    assert row["cold_s"] <= row["cold_exit_s"]
    assert report["machine"]["cpu"] and "| 1_linear_regression |" in done.stdout
