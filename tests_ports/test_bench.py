"""The bench times the ports (tools/bench/port_models.py), each in its framework's venv, and the
PyTorch port through torch.compile: on a tiny schedule, each is timed and its row names the fastest
peer; and a port's step as the bench builds it is the lesson's, update included."""
import functools
import json
import subprocess

import numpy as np
import pytest

from conftest import PORTS, ROOT, mnist_env, python

NAMES = {"torch": "PyTorch", "torch_compile": "PyTorch compiled", "jax": "JAX", "pytensor": "PyTensor"}
PEERS = [*PORTS, "torch_compile"]  # the bench's yardsticks: each port, and PyTorch's through torch.compile
# As test_steps.py: float32 costs of about 2.3 that differ only by the order of sums agree to about
# 2 ulps; 1e-5 is 40. RMSprop with eps outside the square root (torch.optim.RMSprop) moves a weight
# whose gradient is 1e-4 about 30 times as far on the first step: the next cost is off by 6 %.
COST_RTOL = 1e-5


@functools.cache  # Theano's once per lesson for the three ports
def first_costs(framework, lesson, steps=3):
    """The bench's costs worker: the first steps' costs with dropout off, from the lesson's weights
    (seed 42), on the minibatches the bench times."""
    venv = "torch" if framework == "torch_compile" else framework
    done = subprocess.run([python(venv), "-m", "tools.bench.bench", "--worker", "costs", framework, lesson,
                           str(steps)], capture_output=True, text=True, timeout=300, env=mnist_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])["costs"]


@pytest.mark.parametrize("lesson", ["3_net", "4_modern_net"])  # the lessons' SGD and RMSprop
@pytest.mark.parametrize("port", PEERS)
def test_bench_steps_each_port_with_the_lessons_update(port, lesson):
    theano = first_costs("theano", lesson)
    # the first cost: the same weights and minibatch; the next two: after the lesson's update
    np.testing.assert_allclose(first_costs(port, lesson), theano, rtol=COST_RTOL)
    assert theano[2] < theano[0]


def test_bench_times_each_port_in_its_venv(tmp_path):
    for port in PORTS:
        python(port)  # each venv there, or a failure naming it
    out = tmp_path / "bench.json"
    done = subprocess.run([python("theano"), "-m", "tools.bench.bench", "--peers", ",".join(PEERS), "--steps", "2",
                           "--rounds", "1", "--scripts", "2_logistic_regression", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, env=mnist_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    row, = json.loads(out.read_text())["rows"]
    assert list(row["peers"]) == PEERS
    for port in PEERS:
        assert row["peers"][port]["name"] == NAMES[port] and row["peers"][port]["step_ms"] > 0
        assert row["peers"][port]["version"][0].isdigit()
    compiled = row["peers"]["torch_compile"]  # its first step compiles: reported apart, not a step
    assert compiled["first_step_s"] > 10 * compiled["step_ms"] / 1000
    assert "PyTorch compiled, its first step" in done.stdout
    assert row["theano_busy_step_ms"] > 0 and len(row["busy_threads"]) == 1
    fastest = min(PEERS, key=lambda p: row["peers"][p]["step_ms"])
    assert row["fastest_peer"] == fastest
    assert row["ratio"] == pytest.approx(row["theano_step_ms"] / row["peers"][fastest]["step_ms"])
    # the table's row names its fastest peer, and the ratio of Theano's slowest process (one round: its only)
    worst = row["theano_worst_process_ms"] / row["peers"][fastest]["step_ms"]
    assert f"({NAMES[fastest]}; slowest process {worst:.2f})" in done.stdout
