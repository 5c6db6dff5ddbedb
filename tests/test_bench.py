"""tools/bench/bench.py runs end to end on a tiny schedule and reports what its table claims; with
the ports' venvs absent, it says which to make (tests_ports/test_bench.py times the ports)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, mnist_dir

PEERS = ["torch", "jax", "pytensor"]


def venv_python(peer):
    return ROOT / f".venv-{peer}" / "bin" / "python"


def hogs_running():
    """Whether a CPU-bound process of the bench's busy() is alive (read from /proc: no procps needed)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"while True: pass" in cmdline.read_bytes():
                return True
        except OSError:  # gone meanwhile
            pass
    return False


def test_bench_without_torch_reports_each_process_own_memory(tmp_path):
    out = tmp_path / "bench.json"
    env = dict(os.environ, **({"MNIST_DIR": mnist_dir()} if mnist_dir() else {}))
    done = subprocess.run([sys.executable, "-m", "tools.bench.bench", "--peers", "", "--steps", "3",
                           "--rounds", "2", "--scripts", "3_net", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    row, = report["rows"]
    assert row["script"] == "3_net" and row["theano_step_ms"] > 0 and row["peers"] == {} and "ratio" not in row
    assert row["isa"].startswith("-march=")
    # 128 x 784 x 625 and 128 x 625 x 10 multiply-adds: forward and weight gradient for both,
    # the input gradient for the second only
    assert round(row["gflop_per_step"] * 1e9) == 2 * (2 * 128 * 784 * 625 + 3 * 128 * 625 * 10)
    assert report["sgemm"]["gflops"] > 1
    # VmHWM is each worker's own: loading MNIST alone holds its 212 MB of arrays, not more than 1 GB
    assert 212 < report["load"]["peak_rss_mb"] < 1000
    assert "| 3_net |" in done.stdout and "SGEMM" in done.stdout
    # each round also times the step beside a CPU-bound process of the bench's own, which is gone after
    assert row["theano_busy_step_ms"] > 0 and len(row["busy_threads"]) == 2
    assert "Theano busy ms/step" in done.stdout
    assert not hogs_running()


def test_bench_says_which_venv_is_missing(tmp_path):
    """A peer whose venv is absent stops the bench before any work, naming the venv and make ports."""
    for peer in PEERS:
        if not venv_python(peer).exists():
            break
    else:
        pytest.skip("every port venv is present: none to find missing")
    done = subprocess.run([sys.executable, "-m", "tools.bench.bench", "--peers", peer, "--json",
                           str(tmp_path / "b.json")], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0 and f".venv-{peer}" in done.stderr and "make ports" in done.stderr
    assert not (tmp_path / "b.json").exists()
