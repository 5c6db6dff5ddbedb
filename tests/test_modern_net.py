"""The modern net's experiment (tools/modern_net.py): its stop rule, a run's summary, the one-change
runs, and a real tiny long run whose --log CSV is read back and tabulated."""
import csv

import numpy as np
import pytest

from conftest import import_script, png_pixels, run_script
from tools import modern_net, modern_net_report
from tools.old_net import levelled_off


def test_the_modern_nets_stop_rule_compares_window_means_not_records():
    rule = modern_net.stop_rule
    rising = [0.97, 0.98, 0.985, 0.986, 0.9862, 0.9864]
    assert rule(rising[:3], window=2, min_gain=0.001) is None  # fewer than two windows: too short to say
    assert rule(rising[:5], window=2, min_gain=0.001) is None  # epochs 3-4 on 1-2: +1.05 points; 4-5 on 2-3: +0.36
    epoch, reason = rule(rising, window=2, min_gain=0.001)  # 0.9863 - 0.9855: levelled off
    assert epoch == 6 and "epochs 5-6" in reason and "epochs 3-4" in reason and "+0.080 points" in reason
    flat_with_records = [0.988, 0.987, 0.989, 0.988, 0.987, 0.990]  # a new best at the end, the same level
    assert not levelled_off(flat_with_records, patience=3, min_gain=0.0005)  # the old net's rule: a record
    assert rule(flat_with_records, window=3, min_gain=0.0005)[0] == 6  # 0.98833 - 0.988: no rise
    falling = [0.99, 0.99, 0.98, 0.98]
    assert rule(falling, window=2, min_gain=0.0)[0] == 4  # a fall is no gain
    assert modern_net.window_gain(falling, 2) == pytest.approx(-0.01)


def test_the_modern_nets_summary_of_a_run():
    a = np.array([0.97, 0.991, 0.985, 0.991, 0.99] + [0.988] * 9 + [0.989])
    s = modern_net.summary(a)
    assert s["epochs"] == 15 and s["first_99"] == 2 and s["best_epoch"] == 2 and s["best"] == 0.991
    assert modern_net.summary([0.98, 0.9894, 0.9895, 0.9899])["first_9895"] == 3  # 98.95 %: 99.0 % to a tenth
    assert s["last_mean"] == pytest.approx(0.9881) and s["last_std"] == pytest.approx(np.std([0.988] * 9 + [0.989], ddof=1))
    assert modern_net.summary(a[:1])["first_99"] is None and modern_net.first_reach(a, 0.9905) == 2
    with pytest.raises(ValueError):
        modern_net.summary([])
    assert modern_net_report.windows(list(range(7)), 3) == [(1, 3, 1.0), (4, 6, 4.0)]  # the last, partial window left out


def test_the_modern_nets_defaults_are_the_talks_and_a_change_is_one_flag():
    import inspect
    keywords = inspect.signature(import_script("4_modern_net").main).parameters
    assert {k: keywords[k].default for k in ("lr", "batch_size", "p_drop_input", "p_drop_hidden")} == \
        {"lr": 0.001, "batch_size": 128, "p_drop_input": 0.2, "p_drop_hidden": 0.5}
    for name, (_, flags) in modern_net.CHANGES.items():
        names = {f for f in flags if f.startswith("--")}
        assert names <= {"--lr", "--batch-size", "--p-drop-input", "--p-drop-hidden"}, name
        assert len(names) == 1 or names == {"--p-drop-input", "--p-drop-hidden"}, name  # one setting: lr, batch or dropout


def test_the_modern_nets_long_run_stops_cleanly_and_its_log_is_read_back(tmp_path):
    out = tmp_path / "modern_net"
    done = run_script("tools/modern_net", "long", "--seeds", "3,4", "--max-epochs", 30, "--window", 2, "--min-gain",
                      0.003, "--ntrain", 1280, "--ntest", 500, "--out", out, "--logs", tmp_path / "no-logs")
    assert done.returncode == 0, done.stderr
    with open(out / "long-seed3.csv") as f:  # the --log the lesson wrote, read here with the csv module
        rows = list(csv.DictReader(f))
    accuracies = np.array([float(row["accuracy"]) for row in rows])
    np.testing.assert_array_equal(modern_net.read_log(out / "long-seed3.csv"), accuracies)
    stopped = (out / "long-seed3.txt").read_text()
    epoch = int(stopped.split()[3].rstrip(":"))
    assert epoch <= len(accuracies) <= 30  # Ctrl-C may land after one more epoch was logged
    if "levelled off" in stopped:
        assert modern_net.stop_rule(accuracies[:epoch], 2, 0.003)[0] == epoch
    else:
        assert stopped.endswith("--max-epochs 30\n") and epoch == 30
    s = modern_net.summary(accuracies)
    table = (tmp_path / "modern_net.md").read_text()
    assert f"| seed 3 | {len(accuracies)} | " in table
    assert f"| {100 * s['best']:.2f} % (epoch {s['best_epoch']}) | {100 * s['last_mean']:.2f} % |" in table
    assert "python -m tools.modern_net long --seeds 3,4" in table  # what was run, with the machine
    assert "interrupted" not in table  # the stop rule's own stop is no Ctrl-C: seed 4 ran after seed 3
    assert (out / "long-seed4.txt").read_text().startswith("stopped at epoch")
    assert png_pixels(tmp_path / "figures" / "modern_net.png").std() > 0.05


def test_the_modern_nets_unknown_run_is_a_usage_error(tmp_path):
    done = run_script("tools/modern_net", "one-change", "--runs", "lr-0.002,lr-9", "--out", tmp_path)
    assert done.returncode == 2 and "unknown runs lr-9" in done.stderr and "lr-0.0005" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing run, nothing written
