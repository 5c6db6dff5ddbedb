"""Lessons 1-3 have no randomness after their initial weights, and neither has lesson 4 with its
dropout off (--p-drop-input 0 --p-drop-hidden 0): a port run from the shell with the lesson's seed
and flags must log the lesson's costs and accuracies and save the lesson's weights. This runs each
port's main() as a user does, its learning rate and the rest of its schedule included (test_steps.py
compares lessons 4 and 5 through their functions, with the tests' own learning rate).

Tolerance, from float32 rounding. Both sides compute in float32 (machine epsilon 1.2e-7) from the
same initial weights, drawn by NumPy from the same seed. They differ only in the order of their
sums (BLAS blocking, fused or separate ops) and in how softmax and its log are formed: a few ulps
per op, a relative 1e-6 on a step's cost at most. Each step's weights inherit that; over the few
dozen steps run here the difference grows by at most the number of steps (SGD on these convex or
nearly convex costs damps it rather than growing it), so to well under 1e-4 relative. Lesson 4's
RMSprop divides by a running root mean square, which can grow a difference too; over its 40 steps
here the four frameworks' logs agreed to within 1 in the sixth decimal (AMD EPYC family 25 model 17,
2026-12-03), and a learning rate 1 % off moved the first epoch's cost by 9e-3 relative. The tests
allow COST_RTOL = 1e-4 on each epoch's mean cost (the log keeps 6 decimals: 1e-6 absolute is added
for that) and WEIGHT_ATOL = 1e-5 on each weight (initial weights are about 0.01, and 1e-5 is the
size of a change of the learning rate by 1 % in one step of lesson 2). A test prediction changes
only when its two best classes are within rounding of each other: at most 2 of the test images.
A real difference between port and lesson (a learning rate, a softmax over the wrong axis, another
initialisation) moves the costs by 1e-3 or more in the first epoch.
"""
import numpy as np
import pytest

from conftest import EPOCH_LINE, PORTS, epoch_lines, read_log, run, script

COST_RTOL, COST_ATOL = 1e-4, 1e-6
WEIGHT_ATOL = 1e-5
FLIPPED_PREDICTIONS = 2
SEED = 7  # not a default: the port must take the seed from the command line

FLAGS = {  # small schedules: seconds each
    "1_linear_regression": ["--epochs", 5],
    "2_logistic_regression": ["--epochs", 3, "--ntrain", 3000, "--ntest", 1000, "--batch-size", 100],
    "3_net": ["--epochs", 3, "--ntrain", 3000, "--ntest", 1000, "--batch-size", 100],
    "4_modern_net": ["--epochs", 2, "--ntrain", 2560, "--ntest", 1000, "--batch-size", 128,
                     "--p-drop-input", 0, "--p-drop-hidden", 0],  # dropout off: nothing random
}


@pytest.fixture(scope="module")
def lesson_runs(tmp_path_factory):
    """Each lesson run once in Theano's venv: {lesson: (stdout, log path, saved weights)}."""
    runs = {}

    def get(lesson):
        if lesson not in runs:
            folder = tmp_path_factory.mktemp(f"theano-{lesson}")
            log, save = folder / "log.csv", folder / "weights.npz"
            stdout = run("theano", script("theano", lesson), *FLAGS[lesson], "--seed", SEED,
                         "--log", log, "--save", save)
            with np.load(save) as saved:
                runs[lesson] = stdout, log, dict(saved)
        return runs[lesson]
    return get


@pytest.mark.parametrize("lesson", list(FLAGS))
@pytest.mark.parametrize("framework", PORTS)
def test_a_port_run_from_the_shell_logs_its_lessons_costs_and_accuracies(framework, lesson, lesson_runs,
                                                                          tmp_path):
    theano_stdout, theano_log, theano_weights = lesson_runs(lesson)
    log, save = tmp_path / "log.csv", tmp_path / "weights.npz"
    stdout = run(framework, script(framework, lesson), *FLAGS[lesson], "--seed", SEED,
                 "--log", log, "--save", save)

    lines = epoch_lines(stdout)  # the lesson's epoch line, one per epoch
    assert len(lines) == len(epoch_lines(theano_stdout)) == FLAGS[lesson][1]
    assert all(EPOCH_LINE.match(line) for line in lines), lines

    costs, accuracies = read_log(log)
    theano_costs, theano_accuracies = read_log(theano_log)
    np.testing.assert_allclose(costs, theano_costs, rtol=COST_RTOL, atol=COST_ATOL,
                               err_msg=f"{framework} {lesson}: epoch costs")
    if lesson != "1_linear_regression":
        ntest = FLAGS[lesson][FLAGS[lesson].index("--ntest") + 1]
        np.testing.assert_allclose(accuracies, theano_accuracies, rtol=0, atol=FLIPPED_PREDICTIONS / ntest,
                                   err_msg=f"{framework} {lesson}: test accuracies")

    with np.load(save) as weights:
        assert sorted(weights) == sorted(theano_weights)
        for name in weights:
            assert weights[name].dtype == np.float32
            np.testing.assert_allclose(weights[name], theano_weights[name], rtol=1e-5, atol=WEIGHT_ATOL,
                                       err_msg=f"{framework} {lesson}: {name} after training")


@pytest.mark.parametrize("framework", PORTS)
def test_a_port_of_the_multiply_prints_what_the_lesson_prints(framework):
    assert run(framework, script(framework, "0_multiply")) == run("theano", script("theano", "0_multiply")) == "2.0\n9.0\n"


DROPOUT_RUNS = [(framework, "4_modern_net") for framework in PORTS] + \
    [("torch", "5_convolutional_net"), ("jax", "5_convolutional_net")]  # PyTensor's convnet: test_steps.py
WEIGHT_NAMES = {"4_modern_net": ["w_h", "w_h2", "w_o"], "5_convolutional_net": ["w", "w2", "w3", "w4", "w_o"]}


@pytest.mark.parametrize("framework, lesson", DROPOUT_RUNS)
def test_a_port_with_dropout_runs_from_the_shell_with_the_lessons_flags_and_epoch_line(framework, lesson, tmp_path):
    """Its numbers are compared with dropout off in test_steps.py; here: the command line, the epoch
    line, the log and the saved weights' names and shapes, two epochs of two steps each."""
    log, save = tmp_path / "log.csv", tmp_path / "weights.npz"
    stdout = run(framework, script(framework, lesson), "--epochs", 2, "--ntrain", 256, "--ntest", 100,
                 "--batch-size", 128, "--seed", 3, "--log", log, "--save", save)
    lines = epoch_lines(stdout)
    assert len(lines) == 2 and all(EPOCH_LINE.match(line) for line in lines), stdout
    costs, accuracies = read_log(log)
    assert np.all(np.abs(costs - np.log(10)) < 0.1), costs  # four steps from near-uniform predictions
    assert np.all((accuracies >= 0) & (accuracies <= 1))
    with np.load(save) as weights:
        assert list(weights) == WEIGHT_NAMES[lesson]
        assert weights[WEIGHT_NAMES[lesson][-1]].shape == (625, 10)
