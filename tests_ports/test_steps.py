"""Lessons 4 and 5 draw dropout masks, which no two frameworks draw alike: their ports are compared
with dropout off, through their public functions (worker.py). From the lesson's initial weights
(NumPy, the same seed) and the same minibatches, the model's outputs, each of K steps' costs and
the weights after K steps of the lesson's RMSprop must agree.

Tolerance, from float32 rounding (machine epsilon 1.2e-7). The sides differ only in the order of
their sums, a few ulps per op: measured, the costs agree to 1 ulp of 2.3 (2.4e-7) and the weights,
about 0.05 at most, to 2 ulps (7e-9). The tests allow OUTPUT_RTOL = COST_RTOL = 1e-5 (40 ulps) and
WEIGHT_ATOL = 1e-6 (250 ulps of the largest weight). The smallest drifts a port can make are far
larger: one RMSprop step moves a weight by up to lr = 1e-3, so a learning rate 1 % off moves it by
1e-5 a step; eps outside the root changes the first step of a weight whose gradient is near 1e-3
by a factor of 3; a filter unflipped changes the convnet's first layer by as much as its values,
and pooling in floor mode makes (batch, 64, 6, 6) of the lesson's (batch, 64, 7, 7), and 512
features where w4 takes 1152.

One real difference is kept out: where a 2x2 pooling window holds two equal maxima, Theano's
MaxPoolGrad gives the gradient to each of them, PyTorch's max_pool2d and lax.reduce_window to one
(PyTensor's max, like Theano, to each). MNIST has many pixels exactly 1.0, so the convnet's first
layer has exact ties: there, one step moves the first filters of a port off the lesson's by up to
1e-5, while the float64 gradient agrees with the port's to 1e-9. The convnet's minibatches get
uniform noise in [0, 1e-3) (JITTER, the same on both sides), which leaves no exact ties.
"""
import numpy as np
import pytest

from conftest import PORTS, work

OUTPUT_RTOL = COST_RTOL = 1e-5
WEIGHT_ATOL = 1e-6
SEED, STEPS, BATCH = 7, 5, 32
JITTER = {"4_modern_net": 0., "5_convolutional_net": 1e-3}
LESSONS = ["4_modern_net", "5_convolutional_net"]


@pytest.fixture(scope="module")
def lesson_steps(tmp_path_factory):
    """The lesson's side, computed once per lesson in Theano's venv."""
    done = {}

    def get(lesson):
        if lesson not in done:
            out = tmp_path_factory.mktemp(f"theano-{lesson}") / "steps.npz"
            done[lesson] = work("theano", "steps", lesson, "--seed", SEED, "--steps", STEPS,
                                "--batch-size", BATCH, "--jitter", JITTER[lesson], "--out", out)
        return done[lesson]
    return get


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("framework", PORTS)
def test_a_port_without_dropout_computes_its_lessons_outputs_costs_and_rmsprop_steps(framework, lesson,
                                                                                     lesson_steps, tmp_path):
    theano = lesson_steps(lesson)
    port = work(framework, "steps", lesson, "--seed", SEED, "--steps", STEPS, "--batch-size", BATCH,
                "--jitter", JITTER[lesson], "--out", tmp_path / "steps.npz")
    assert sorted(port) == sorted(theano)
    outputs = sorted(name for name in theano if name.startswith("output"))
    for name in outputs:  # every layer the model returns, on the first minibatch, at the initial weights
        assert port[name].shape == theano[name].shape, f"{framework} {lesson}: {name}'s shape"
        np.testing.assert_allclose(port[name], theano[name], rtol=OUTPUT_RTOL,
                                   atol=OUTPUT_RTOL * np.abs(theano[name]).max(),
                                   err_msg=f"{framework} {lesson}: the model's {name} (dropout off)")
    np.testing.assert_allclose(port["costs"], theano["costs"], rtol=COST_RTOL,
                               err_msg=f"{framework} {lesson}: the costs of {STEPS} steps")
    assert np.ptp(theano["costs"]) > 0  # the steps did change the weights
    for name in theano:
        if name.startswith("w"):
            np.testing.assert_allclose(port[name], theano[name], rtol=0, atol=WEIGHT_ATOL,
                                       err_msg=f"{framework} {lesson}: {name} after {STEPS} RMSprop steps")


@pytest.mark.parametrize("framework", PORTS)
def test_a_confident_output_layer_gives_the_lessons_finite_cost(framework, tmp_path):
    """w_o times 1e4: some of the softmax's probabilities underflow to 0 in float32 (the test checks
    that they do, on Theano's side). Theano computes log(py_x) in the cost as a log-softmax and stays
    finite; a port that takes the log of py_x gets 0 * log 0 = NaN (the JAX port did, in epoch 14 of
    lesson 4's full schedule). The costs are about 50 to 700; COST_RTOL is still 40 ulps of each."""
    flags = ["--seed", SEED, "--steps", 3, "--batch-size", BATCH, "--scale-last", 1e4]
    theano = work("theano", "steps", "4_modern_net", *flags, "--out", tmp_path / "theano.npz")
    assert (theano["output2"] == 0).any() and np.isfinite(theano["costs"]).all()
    port = work(framework, "steps", "4_modern_net", *flags, "--out", tmp_path / "port.npz")
    # the three costs: the first from the same weights, the next two after the lesson's RMSprop steps
    np.testing.assert_allclose(port["costs"], theano["costs"], rtol=COST_RTOL, err_msg=framework)
    # (the weights themselves are not compared here: gradients this large and this lopsided leave some
    # near eps, where RMSprop's division magnifies rounding; test_a_port_without_dropout... compares them)
    assert all(np.isfinite(port[name]).all() for name in ("w_h", "w_h2", "w_o"))
