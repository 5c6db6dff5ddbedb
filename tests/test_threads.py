"""plumbing/threads.py: the tuner keeps all the cores on a quiet machine and takes one thread when the
cores are busy, following the load as it changes; it really sets OpenBLAS's and OpenMP's threads in
a process with Theano, and stays out of the way where the user set the threads or Theano is absent.

The choice is tested against a simulated machine: its clock moves by the step time the current
thread count would take under the current load, so the test is exact and fast. The tuner itself
is the real one; a real busy machine is the bench's "busy" column (tools/bench/timing.py)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from plumbing import threads
from plumbing.threads import ThreadTuner

QUIET = {2: 5.5, 1: 8.3}  # ms per step of the modern net on 2 cores (AMD EPYC family 25 model 17)
BUSY = {2: 29.7, 1: 17.0}  # the same with two CPU-bound processes beside it


class Machine:
    """A clock for the tuner: each step takes what its thread count takes under the load now."""

    def __init__(self, load):
        self.now, self.load = 0.0, load

    def clock(self):
        return self.now

    def train(self, tuner, steps):
        used = []
        for _ in range(steps):
            self.now += self.load[tuner.threads] / 1000
            tuner.step()
            used.append(tuner.threads)
        return used


@pytest.fixture
def tuner(monkeypatch):
    """A tuner for 2 cores whose libraries are found as in a lesson (Theano is imported here)."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    return lambda clock: ThreadTuner(clock=clock, most=2)


def test_quiet_machine_keeps_every_core_and_tries_less_and_less(tuner):
    machine = Machine(QUIET)
    t = tuner(clock=machine.clock)
    used = machine.train(t, 3000)
    assert t.threads == 2
    one = used.count(1)
    # trials of 7 steps after 16, 64, 128, 256, 512, 1024, 1024 ... steps: about 8 trials in 3,000 steps
    assert 0 < one <= 8 * (threads.TRIAL + 1)
    cost = sum(machine.load[n] for n in used) / (3000 * machine.load[2]) - 1
    assert cost < 0.02  # under 2 % slower than all cores throughout


def test_busy_machine_takes_one_thread_soon_and_mostly(tuner):
    machine = Machine(BUSY)
    t = tuner(clock=machine.clock)
    used = machine.train(t, 2000)
    first_one = used.index(1)
    assert first_one <= threads.FIRST_TRIAL + threads.TRIAL
    assert used[first_one:first_one + 40].count(1) == 40  # it stays: the trial won
    assert used.count(1) > 0.95 * 2000


def test_load_that_comes_and_goes_is_followed(tuner):
    machine = Machine(QUIET)
    t = tuner(clock=machine.clock)
    machine.train(t, 3000)  # quiet: long between trials by now
    machine.load = BUSY
    used = machine.train(t, 200)
    # the slowdown itself starts a trial: one thread within a few trials' length, not 1,024 steps
    assert used[-100:].count(1) == 100
    machine.load = QUIET
    used = machine.train(t, 400)
    assert used[-200:].count(2) >= 200 - (threads.TRIAL + 1)  # at most one trial of one thread


def test_a_pause_keeps_the_evaluation_out_of_the_steps(tuner):
    machine = Machine(QUIET)
    t = tuner(clock=machine.clock)
    for _ in range(20):
        machine.train(t, 30)
        t.pause()
        machine.now += 0.5  # the test evaluation: 100 steps' time, never counted as a step
    assert t.threads == 2 and t.reference is not None and t.reference < 0.006


def test_the_tuner_sets_openblas_and_openmp_threads_in_a_lesson_process():
    """In a fresh process that runs the convnet's ops (OpenMP loops and OpenBLAS), _use(1) and
    _use(2) change what threadpoolctl reads back from the libraries themselves."""
    code = """
import json, numpy as np
import plumbing.defaults
import theano
from theano import tensor as T
from theano.tensor.signal.pool import pool_2d
from threadpoolctl import threadpool_info
from plumbing.threads import ThreadTuner
x, m = T.ftensor4(), T.fmatrix()
f = theano.function([x, m], [pool_2d(x, (2, 2), ignore_border=False), T.dot(m, m)])  # the convnet's ops
f(np.ones((2, 32, 28, 28), 'float32'), np.ones((8, 8), 'float32'))
t = ThreadTuner()
seen = []
for n in (1, 2):
    t._use(n)
    seen.append({i["internal_api"] + ":" + i["filepath"].rsplit("/", 1)[-1]: i["num_threads"]
                 for i in threadpool_info() if i["user_api"] == "openmp" or i["internal_api"] == "openblas"})
print(json.dumps([t.enabled, seen]))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    enabled, (one, two) = json.loads(done.stdout.strip().splitlines()[-1])
    assert enabled == (len(os.sched_getaffinity(0)) > 1)
    assert any(k.startswith("openblas:libscipy_openblas") for k in one) and any(k.startswith("openmp") for k in one)
    assert set(one.values()) == {1} and set(two.values()) == {2}


@pytest.mark.parametrize("variable", ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"])
def test_threads_you_set_are_left_alone(monkeypatch, variable):
    monkeypatch.setenv(variable, "2")
    t = ThreadTuner(clock=Machine(BUSY).clock, most=2)
    for _ in range(100):
        t.step()
    assert not t.enabled and t.switches == 0


def test_a_port_keeps_its_framework_threads():
    """The ports share plumbing.progress; without Theano in the process the tuner does nothing."""
    code = "import sys; from plumbing.threads import ThreadTuner; print(ThreadTuner().enabled, 'theano' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr
