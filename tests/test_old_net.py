"""tools/old_net.py, the old net's experiment: where it crosses each accuracy, one change at a time,
when a run has levelled off, and the long run stopped and reported."""
import numpy as np

from conftest import epoch_lines, png_pixels, run_script
from tools.old_net import CHANGES, crossings, levelled_off


def test_crossings_are_the_first_epoch_at_or_above_each_target():
    assert crossings(np.array([0.96, 0.975, 0.981, 0.979, 0.985])) == {0.97: 2, 0.98: 3, 0.984: 5}
    assert crossings(np.array([0.95, 0.97])) == {0.97: 2, 0.98: None, 0.984: None}


def test_one_change_changes_the_learning_rate_and_nothing_else():
    args = ["--epochs", 1, "--ntrain", 1280, "--ntest", 500]
    lesson = run_script("3_net", *args)  # --lr 0.05, its default
    faster = run_script("3_net", "--lr", "0.5", *args)  # what one-change runs
    assert lesson.returncode == faster.returncode == 0, lesson.stderr + faster.stderr
    assert "--lr" in CHANGES["lr-0.5"][1] and "0.5" in CHANGES["lr-0.5"][1]
    assert [c for c, _ in epoch_lines(faster.stdout)] != [c for c, _ in epoch_lines(lesson.stdout)]


def test_levelled_off_compares_the_best_now_with_the_best_patience_epochs_ago():
    rising = [0.90, 0.95, 0.96, 0.962, 0.963, 0.958]
    assert not levelled_off(rising[:2], patience=2, min_gain=0.005)  # too short to say
    assert not levelled_off(rising[:4], patience=2, min_gain=0.005)  # 0.962 - 0.95
    assert levelled_off(rising[:5], patience=2, min_gain=0.005)  # 0.963 - 0.96
    assert levelled_off(rising, patience=2, min_gain=0.005)  # 0.963 - 0.962: a drop is no gain
    assert not levelled_off(rising[:5], patience=2, min_gain=0.002)


def test_the_long_run_stops_cleanly_and_is_reported(tmp_path):
    out = tmp_path / "old_net"
    done = run_script("tools/old_net", "long", "--max-epochs", 40, "--patience", 3, "--min-gain", 0.01,
                      "--ntrain", 1280, "--ntest", 500, "--out", out)
    assert done.returncode == 0, done.stderr
    accuracies = np.loadtxt(out / "long.csv", delimiter=",", skiprows=1, ndmin=2)[:, 2]
    stopped = (out / "long.txt").read_text()
    epoch = int(stopped.split()[3].rstrip(":"))
    assert epoch <= len(accuracies) <= 40  # Ctrl-C may land after one more epoch was logged
    if "levelled off" in stopped:
        assert levelled_off(list(accuracies[:epoch]), 3, 0.01) and not levelled_off(list(accuracies[:epoch - 1]), 3, 0.01)
    else:
        assert stopped.endswith("--max-epochs 40\n") and epoch == 40
    table = (tmp_path / "old_net.md").read_text()
    assert f"| {len(accuracies)} | {100 * accuracies[-1]:.2f} % | {100 * accuracies.max():.2f} % |" in table
    assert png_pixels(tmp_path / "figures" / "old_net.png").std() > 0.05
