"""Every script from the shell: short schedules with accuracy floors, flags, Ctrl-C, seeds."""
import glob
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, epoch_lines, mnist_dir, own_stderr, run_script


def test_multiply_prints_2_and_9():
    result = run_script("0_multiply")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2.0", "9.0"]


def test_linear_regression_finds_w_near_2():
    result = run_script("1_linear_regression")
    assert result.returncode == 0, result.stderr
    assert len(epoch_lines(result.stdout)) == 100
    w = float(result.stdout.split("w = ")[1])
    assert 1.8 <= w <= 2.2


@pytest.mark.parametrize("name, epochs, ntrain, floor", [
    ("2_logistic_regression", 2, 12800, 0.80),   # 200 steps
    ("3_net", 3, 60000, 0.70),                   # 1404 steps: sigmoids and SGD start slowly
    ("4_modern_net", 2, 12800, 0.80),            # 200 steps
    ("5_convolutional_net", 5, 12800, 0.50),     # 500 steps: near chance for the first ~300
])
def test_short_schedule_learns(name, epochs, ntrain, floor):
    result = run_script(name, "--epochs", epochs, "--ntrain", ntrain, "--ntest", 1000)
    assert result.returncode == 0, result.stderr
    rows = epoch_lines(result.stdout)
    assert len(rows) == epochs
    (first_cost, _), (last_cost, accuracy) = rows[0], rows[-1]
    assert last_cost < first_cost
    assert accuracy >= floor, result.stdout  # chance is 0.10


@pytest.mark.parametrize("bad", [["--epochs", "0"], ["--epochs", "-3"], ["--epochs", "many"],
                                 ["--batch-size", "0"], ["--ntrain", "2.5"], ["--seed", "-1"],
                                 ["--ntrain", "100"]])
def test_bad_flag_is_a_usage_error(bad):
    result = run_script("2_logistic_regression", *bad)
    assert result.returncode == 2
    assert "usage:" in result.stderr and "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_flags():
    result = run_script("4_modern_net", "-h")
    assert result.returncode == 0
    for flag in ["--epochs", "--batch-size", "--ntrain", "--ntest", "--seed", "--data-dir"]:
        assert flag in result.stdout
    assert "99.0 %" in result.stdout  # the docstring names the slide's number


def test_same_seed_same_accuracies():
    args = ["--epochs", 2, "--ntrain", 2560, "--ntest", 1000]
    first, second = run_script("4_modern_net", *args), run_script("4_modern_net", *args)
    other = run_script("4_modern_net", *args, "--seed", 7)
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


def test_unsupported_python_is_one_line():
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python3"))
                   + glob.glob("/usr/bin/python3.1[2-9]"))
    if not found:
        pytest.skip("no Python 3.12 or newer on this machine to try")
    result = subprocess.run([found[0], str(ROOT / "0_multiply.py")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Python 3.11" in result.stderr


def test_unwritable_log_is_one_clear_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = run_script("2_logistic_regression", "--epochs", 1, "--ntrain", 256, "--ntest", 100,
                        "--log", tmp_path / "a-file" / "log.csv")
    assert result.returncode == 1
    assert own_stderr(result.stderr).startswith("error:") and "Traceback" not in result.stderr


def test_nan_cost_stops_with_the_last_result():
    import tutorial
    try:
        progress = tutorial.Progress(steps=3)
        progress.step(0.5)
        progress.epoch(0, 0.25)
        progress.step(0.4)
        with pytest.raises(tutorial.Stop) as stop:
            progress.step(float("nan"))
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert stop.value.code == 1
    assert "nan at step 2" in str(stop.value) and "last result: epoch   1  cost 0.5000  test accuracy 0.2500" in str(stop.value)
