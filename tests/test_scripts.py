"""Every script from the shell: short schedules with accuracy floors, flags, Ctrl-C, seeds."""
import glob
import math
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ONE_THREAD, ROOT, SCRIPTS, epoch_lines, import_script, mnist_dir, own_stderr, run_script
from plumbing.cli import parse_args


@pytest.mark.quick
def test_multiply_prints_2_and_9():
    result = run_script("0_multiply")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2.0", "9.0"]


@pytest.mark.parametrize("seed", [42, 3])
def test_linear_regression_finds_the_least_squares_w(seed):
    import numpy as np
    result = run_script("1_linear_regression", "--seed", seed)
    assert result.returncode == 0, result.stderr
    assert len(epoch_lines(result.stdout)) == 100
    w = float(result.stdout.split("w = ")[1])
    np.random.seed(seed)  # the same data, fitted in closed form: w = sum(xy) / sum(xx)
    x = np.linspace(-1, 1, 101)
    y = 2 * x + np.random.randn(*x.shape) * 0.33
    assert abs(w - (x * y).sum() / (x * x).sum()) < 0.02  # SGD with a constant step ends near it (seen: 0.007)


@pytest.mark.quick
@pytest.mark.parametrize("name", SCRIPTS[1:])
def test_one_tiny_epoch_runs_and_logs_what_it_prints(name, tmp_path):
    tiny = [] if name == "1_linear_regression" else ["--ntrain", 256, "--ntest", 100]
    result = run_script(name, "--epochs", 1, *tiny, "--log", tmp_path / "log.csv")
    assert result.returncode == 0, result.stderr
    (cost, accuracy), = epoch_lines(result.stdout)
    header, row = (tmp_path / "log.csv").read_text().splitlines()
    epoch, logged_cost, logged_accuracy, seconds = row.split(",")
    assert header == "epoch,cost,accuracy,seconds" and epoch == "1" and float(seconds) > 0
    assert f"{float(logged_cost):.4f}" == f"{cost:.4f}"
    assert (logged_accuracy == "") == (accuracy is None)
    if accuracy is not None:
        assert f"{float(logged_accuracy):.4f}" == f"{accuracy:.4f}"


def notebook_schedule(script):
    """The short schedule of a lesson's notebook, from its page's front matter (`notebook: epochs=2
    ntrain=12800 ntest=1000`), the rest main()'s defaults: (epochs, training images, test images)."""
    import inspect
    import re
    text = (ROOT / "tools" / "book" / "pages" / f"{script}.md").read_text()
    values = dict(word.split("=") for word in re.search(r"^notebook: (.*)$", text, re.M)[1].split())
    defaults = {k: p.default for k, p in inspect.signature(import_script(script).main).parameters.items()}
    return tuple(int(values.get(k, defaults[k])) for k in ("epochs", "ntrain", "ntest"))


# script -> accuracy floor of its notebook's schedule (the page's `notebook:` line; the page says
# what to expect). Calibrated by tests/calibrate.py (seeds 1-5): the test accuracy of each schedule
# as the lesson is, and with its learning rate divided by 3, a lesson that learns markedly worse;
# each floor sits between the two ranges.
#   logistic regression  2 x 12,800  lesson 0.830-0.837  lr / 3 0.782-0.792  floor 0.81  (2026-11-30)
#   old net              3 x 60,000  lesson 0.844-0.850  lr / 3 0.682-0.687  floor 0.77  (2026-11-30)
#   modern net           2 x 12,800  lesson 0.888-0.899  lr / 3 0.831-0.839  floor 0.86  (2026-11-30)
#   convnet              1 x 60,000  lesson 0.882-0.913  lr / 3 0.139-0.290  floor 0.59  (2026-12-03)
FLOORS = {
    "2_logistic_regression": 0.81,
    "3_net": 0.77,
    "4_modern_net": 0.86,
    "5_convolutional_net": 0.59,
}
SCHEDULES = {script: (*notebook_schedule(script), floor) for script, floor in FLOORS.items()}


@pytest.mark.parametrize("name", SCHEDULES)
def test_short_schedule_learns(name):
    epochs, ntrain, ntest, floor = SCHEDULES[name]
    result = run_script(name, "--epochs", epochs, "--ntrain", ntrain, "--ntest", ntest)
    assert result.returncode == 0, result.stderr
    rows = epoch_lines(result.stdout)
    assert len(rows) == epochs
    (first_cost, _), (last_cost, accuracy) = rows[0], rows[-1]
    assert last_cost < (first_cost if epochs > 1 else math.log(10))  # one epoch: below chance's cost, ln 10
    assert accuracy >= floor, result.stdout  # chance is 0.10


def test_bad_flag_from_the_shell_is_a_usage_error():
    result = run_script("2_logistic_regression", "--epochs", "0")
    assert result.returncode == 2
    assert "usage:" in result.stderr and "error: argument --epochs" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("bad", [["--epochs", "-3"], ["--epochs", "many"], ["--batch-size", "0"],
                                 ["--ntrain", "2.5"], ["--seed", "-1"], ["--seed", str(2 ** 32)],
                                 ["--ntrain", "100"]])
def test_bad_flag_is_a_usage_error(bad, capsys):
    """The flags' own checks (plumbing.cli.parse_args, the first thing run() does), in this process;
    the shell's way to them is the test above."""
    with pytest.raises(SystemExit) as stop:
        parse_args(import_script("2_logistic_regression").main, bad, {})
    assert stop.value.code == 2
    stderr = capsys.readouterr().err
    assert "usage:" in stderr and "error:" in stderr and bad[0] in stderr


@pytest.mark.parametrize("name", SCRIPTS[1:])
def test_help_lists_every_flag_of_main_with_its_default(name):
    import inspect
    result = run_script(name, "-h")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for flag, param in inspect.signature(import_script(name).main).parameters.items():
        assert f"--{flag.replace('_', '-')}" in text
        if param.default not in (None, False):
            assert f"(default: {param.default})" in text, flag


def test_same_seed_same_accuracies():
    args = ["--epochs", 2, "--ntrain", 2560, "--ntest", 1000]
    with ThreadPoolExecutor(3) as pool:  # the three side by side
        first, second, other = pool.map(lambda extra: run_script("4_modern_net", *args, *extra, env=ONE_THREAD),
                                        [[], [], ["--seed", 7]])
    assert epoch_lines(first.stdout) == epoch_lines(second.stdout)
    assert len(epoch_lines(first.stdout)) == 2
    assert epoch_lines(other.stdout) != epoch_lines(first.stdout)


def test_ctrl_c_stops_after_the_minibatch_with_the_last_result():
    env = dict(os.environ, **({"MNIST_DIR": mnist_dir()} if mnist_dir() else {}))
    proc = subprocess.Popen([sys.executable, str(ROOT / "3_net.py"), "--epochs", "1000", "--ntest", "500"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = proc.stdout.readline()
    assert first.startswith("epoch   1"), first + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "interrupted" in stderr and "last result: epoch" in stderr
    assert "Traceback" not in stderr


def test_missing_data_offline_is_one_clear_error(tmp_path):
    # no network, for real: every request goes to a proxy port on loopback where nothing listens
    offline = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    result = run_script("2_logistic_regression", "--data-dir", tmp_path / "nothing", env=offline)
    assert result.returncode == 1
    assert "MNIST files missing" in result.stderr and "MNIST_DIR" in result.stderr
    assert "Traceback" not in result.stderr


def other_pythons():
    """Interpreters on this machine that are Python 3 but not 3.11: on PATH, pyenv's, uv's."""
    import shutil
    found = [shutil.which(f"python3.{minor}") for minor in range(6, 20) if minor != 11]
    found += [shutil.which("python3")]
    found += glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3"))
    found += glob.glob(os.path.expanduser("~/.local/share/uv/python/cpython-3.*/bin/python3"))
    others = []
    for path in filter(None, found):
        version = subprocess.run([path, "-c", "import sys; print(sys.version_info[:2] >= (3, 6), sys.version_info[:2])"],
                                 capture_output=True, text=True).stdout
        if version.startswith("True") and "(3, 11)" not in version:
            others.append(path)
    return others


def test_unsupported_python_is_one_line():
    found = other_pythons()
    if not found:
        pytest.skip("no Python 3 other than 3.11 on this machine (PATH, pyenv, uv) to try")
    result = subprocess.run([found[0], str(ROOT / "0_multiply.py")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Python 3.11" in result.stderr


def pythons_without_the_pins():
    """The Pythons on this machine a newcomer might type instead of .venv/bin/python: on PATH and
    /usr/bin, less the .venv's (the tests' own) and any that does have numpy < 1.24 and Theano."""
    import shutil
    probe = ("import importlib.util as u; n = u.find_spec('numpy') and __import__('numpy').__version__;"
             "print(bool(n) and tuple(map(int, n.split('.')[:2])) < (1, 24) and bool(u.find_spec('theano')))")
    found = {}
    for path in filter(None, [shutil.which("python3"), "/usr/bin/python3", shutil.which("python")]):
        if os.path.exists(path) and os.path.realpath(path) != os.path.realpath(sys.executable):
            done = subprocess.run([path, "-c", probe], capture_output=True, text=True)
            if done.returncode == 0 and done.stdout.strip() == "False":
                found.setdefault(os.path.realpath(path), path)
    return list(found.values())


def test_a_python_without_the_pins_points_to_make_run_and_the_venv():
    found = pythons_without_the_pins()
    if not found:
        pytest.skip("every Python on this machine has Theano and numpy < 1.24: none to try")
    for python in found:  # e.g. a system Python 3.11 with no numpy, or with numpy 2
        result = subprocess.run([python, str(ROOT / "0_multiply.py")], capture_output=True, text=True, cwd="/")
        assert result.returncode == 1 and result.stdout == ""
        line = result.stderr.strip()
        assert "\n" not in line and "Traceback" not in line, line
        assert "`make run`" in line and "`.venv/bin/python 0_multiply.py`" in line and str(ROOT) in line
        assert "pip install" not in line and "requirements" not in line  # no pins into the user's own Python


def test_nan_cost_stops_with_the_last_result():
    from plumbing.progress import Progress, Stop
    try:
        progress = Progress(steps=3)
        progress.step(0.5)
        progress.epoch(0, 0.25)
        progress.step(0.4)
        with pytest.raises(Stop) as stop:
            progress.step(float("nan"))
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert stop.value.code == 1
    assert "nan at step 2" in str(stop.value) and "last result: epoch   1  cost 0.5000  test accuracy 0.2500" in str(stop.value)


def test_seed_0_is_a_seed():
    args = ["--epochs", 1, "--ntrain", 1280, "--ntest", 500]
    zero, one = run_script("2_logistic_regression", *args, "--seed", 0), run_script("2_logistic_regression", *args)
    assert zero.returncode == 0, zero.stderr
    assert epoch_lines(zero.stdout) != epoch_lines(one.stdout)


def test_a_seed_theanos_dropout_noise_cannot_take_says_why():
    result = run_script("4_modern_net", "--seed", 0)
    assert result.returncode == 2 and "MRG_RandomStreams" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("bad", [["--p-drop-input", "1"], ["--p-drop-hidden", "-0.1"], ["--p-drop-hidden", "half"]])
def test_a_dropout_rate_dropout_cannot_use_is_a_usage_error(bad):
    result = run_script("4_modern_net", *bad)
    assert result.returncode == 2 and bad[0] in result.stderr and "Traceback" not in result.stderr


# --- Ctrl-C: while training it stops after the minibatch or evaluation; afterwards it is the program's

def send_ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread between bytecodes


def test_ctrl_c_during_the_last_evaluation_stops_with_its_result():
    from plumbing.progress import Progress, Stop
    before = signal.getsignal(signal.SIGINT)
    progress = Progress(steps=1, epochs=1)
    progress.step(0.5)
    send_ctrl_c()  # while the test set is being evaluated
    with pytest.raises(Stop) as stop:
        progress.epoch(0, 0.75)
    assert stop.value.code == 130 and "last result: epoch   1  cost 0.5000  test accuracy 0.7500" in str(stop.value)
    assert signal.getsignal(signal.SIGINT) is before


def test_after_the_last_epoch_ctrl_c_is_the_programs_again(tmp_path):
    from plumbing.progress import Progress
    from plumbing.saving import write_atomically
    before = signal.getsignal(signal.SIGINT)
    progress = Progress(steps=1, epochs=2)
    for epoch in range(2):
        assert signal.getsignal(signal.SIGINT) is not before
        progress.step(0.5)
        progress.epoch(epoch, 0.5)
    assert signal.getsignal(signal.SIGINT) is before

    def write(f):  # Ctrl-C while --save writes its file
        f.write(b"half")
        send_ctrl_c()
        f.write(b"rest")

    with pytest.raises(KeyboardInterrupt):
        write_atomically(tmp_path / "model.npz", write)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_reaches_a_users_program_after_main_returns():
    code = ("import os, signal, sys, time; sys.path.insert(0, sys.argv[1]);"
            "import plumbing.defaults; from tools.lessons import import_script;"
            "import_script('2_logistic_regression').main(epochs=1, ntrain=256, ntest=100)\n"
            "try:\n os.kill(os.getpid(), signal.SIGINT); time.sleep(2); print('Ctrl-C was swallowed')\n"
            "except KeyboardInterrupt:\n print('Ctrl-C reached the program')")
    env = dict(os.environ, **({"MNIST_DIR": mnist_dir()} if mnist_dir() else {}))
    done = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Ctrl-C reached the program"
