"""tools/bench/bench.py runs end to end on a tiny schedule and reports what its table claims; with
the ports' venvs present (make ports), it times each port, and a port's step is the lesson's."""
import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, mnist_dir

PEERS = {"torch": "PyTorch", "jax": "JAX", "pytensor": "PyTensor"}
# As tests_ports/test_steps.py: float32 costs of about 2.3 that differ only by the order of sums
# agree to about 2 ulps; 1e-5 is 40. RMSprop with eps outside the square root (torch.optim.RMSprop)
# moves a weight whose gradient is 1e-4 about 30 times as far on the first step: the second cost
# is then off by far more than that.
COST_RTOL = 1e-5


def venv_python(peer):
    return ROOT / f".venv-{peer}" / "bin" / "python"


def bench_env():
    return dict(os.environ, **({"MNIST_DIR": mnist_dir()} if mnist_dir() else {}))


@functools.cache  # Theano's once per script for the three peers
def first_costs(python, framework, script, steps):
    """The bench's costs worker: the first steps' costs with dropout off, from the lesson's weights."""
    done = subprocess.run([str(python), "-m", "tools.bench.bench", "--worker", "costs", framework, script,
                           str(steps)], capture_output=True, text=True, timeout=300, env=bench_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return tuple(json.loads(done.stdout.strip().splitlines()[-1])["costs"])


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


@pytest.mark.parametrize("script", ["3_net", "4_modern_net"])  # the lessons' SGD and RMSprop
@pytest.mark.parametrize("peer", list(PEERS))
def test_bench_steps_each_port_with_the_lessons_update(peer, script):
    if not venv_python(peer).exists():
        pytest.skip(f"{venv_python(peer).parent.parent.name} is missing: make ports makes it")
    theano = first_costs(sys.executable, "theano", script, 3)
    port = first_costs(venv_python(peer), peer, script, 3)
    # the first cost: the same weights and minibatch; the next two: after the lesson's update
    np.testing.assert_allclose(port, theano, rtol=COST_RTOL)
    assert theano[2] < theano[0]


def test_bench_times_each_port_in_its_venv(tmp_path):
    peers = [p for p in PEERS if venv_python(p).exists()]
    if not peers:
        pytest.skip("no port venv (.venv-torch, .venv-jax, .venv-pytensor): make ports makes them")
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "tools.bench.bench", "--peers", ",".join(peers), "--steps", "2",
                           "--rounds", "1", "--scripts", "4_modern_net", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, env=bench_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    row, = json.loads(out.read_text())["rows"]
    assert list(row["peers"]) == peers
    for peer in peers:
        assert row["peers"][peer]["name"] == PEERS[peer] and row["peers"][peer]["step_ms"] > 0
        assert row["peers"][peer]["version"][0].isdigit()
    fastest = min(peers, key=lambda p: row["peers"][p]["step_ms"])
    assert row["fastest_peer"] == fastest
    assert row["ratio"] == pytest.approx(row["theano_step_ms"] / row["peers"][fastest]["step_ms"])
    assert f"({PEERS[fastest]})" in done.stdout  # the table's row names its fastest peer


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
