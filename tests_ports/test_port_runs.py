"""tools/port_runs.py (make port-runs): it trains each port from the shell in its venv, with the
lesson's seed, and logs what the port itself printed; the committed table of the full runs
(tests/test_results.py checks it against its logs) is built from such logs."""
import subprocess

import numpy as np

from conftest import PORTS, ROOT, mnist_env, python, read_log

LESSON_LOG = ROOT / "results" / "logs" / "2_logistic_regression-seed42.csv"


def test_one_epoch_of_each_port_starts_where_the_lesson_does(tmp_path):
    """One epoch of the logistic regression (no randomness after its weights), every port: each
    logs the lesson's first epoch to 2 of 10,000 test images (tests_ports/test_shell.py says why),
    and a run shorter than the slide's is listed as run but kept out of the table."""
    done = subprocess.run([python("theano"), "-m", "tools.port_runs", "--scripts", "2_logistic_regression",
                           "--epochs", "1", "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=mnist_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lesson_cost, lesson_accuracy = read_log(LESSON_LOG)
    for port in PORTS:
        cost, accuracy = read_log(tmp_path / "logs" / port / "2_logistic_regression-seed42.csv")
        assert len(cost) == 1
        np.testing.assert_allclose(cost[0], lesson_cost[0], rtol=1e-4)
        assert abs(accuracy[0] - lesson_accuracy[0]) <= 2 / 10000
        assert f"== {port} 2_logistic_regression --seed 42 --epochs 1" in done.stdout
    table = (tmp_path / "ports.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| logistic regression"))
    assert row.endswith("| - | - | - |")  # 1 epoch is not the slide's 100
    assert "`python -m tools.port_runs --scripts 2_logistic_regression --epochs 1" in table  # runs.md


def test_an_unknown_framework_stops_before_any_run(tmp_path):
    done = subprocess.run([python("theano"), "-m", "tools.port_runs", "--frameworks", "torch,nonesuch",
                           "--results", str(tmp_path)], capture_output=True, text=True, timeout=60,
                          env=mnist_env(), cwd=ROOT)
    assert done.returncode == 2 and "unknown framework 'nonesuch'" in done.stderr
    assert not any(tmp_path.iterdir())
