"""--log, --save and --graph; saved models evaluated again; the figures checked against NumPy; k-NN;
reproduce.py's table checked against logs of known accuracies."""
import csv
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import MNIST_LESSONS, ROOT, as_input, epoch_lines, mnist_dir, run_script
from load import mnist
from tools import figures, reproduce
from tools import modern_net
from tools.old_net import CHANGES, crossings, levelled_off

SCRIPTS = list(MNIST_LESSONS)
PNG = b"\x89PNG\r\n\x1a\n"
NTEST = 300


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory):
    """Every MNIST script trained for two tiny epochs with --log and --save, and what it printed."""
    results = tmp_path_factory.mktemp("results")
    printed = {}
    for script in SCRIPTS:
        done = run_script(script, "--epochs", 2, "--ntrain", 1280, "--ntest", NTEST,
                          "--log", results / "logs" / f"{script}-seed42.csv",
                          "--save", results / "models" / f"{script}-seed42.npz")
        assert done.returncode == 0, done.stderr
        printed[script] = done.stdout
    return results, printed


@pytest.fixture(scope="module")
def test_set(real_mnist_dir):
    trX, teX, trY, teY = mnist(ntrain=1, ntest=NTEST, onehot=False, data_dir=real_mnist_dir)
    return teX, teY


def model_path(results, script):
    return results / "models" / f"{script}-seed42.npz"


@pytest.mark.parametrize("script", SCRIPTS)
def test_log_and_saved_model_agree_with_an_evaluation_of_their_own(tiny_results, test_set, script):
    results, printed = tiny_results
    teX, teY = test_set
    lines = (results / "logs" / f"{script}-seed42.csv").read_text().splitlines()
    assert lines[0] == "epoch,cost,accuracy,seconds"
    rows = np.array([line.split(",") for line in lines[1:]], dtype=float)
    assert list(rows[:, 0]) == [1, 2] and np.all(rows[:, 3] > 0) and np.all(np.isfinite(rows[:, 1]))
    assert [round(c, 4) for c in rows[:, 1]] == [c for c, _ in epoch_lines(printed[script])]
    saved = np.load(model_path(results, script), allow_pickle=False)
    assert all(saved[name].dtype == np.float32 for name in saved.files)
    # the saved weights, run through a function compiled apart from training, score what was logged
    predicted = figures.saved_predict(script, model_path(results, script))(as_input(script, teX))
    assert np.mean(predicted == teY) == rows[-1, 2]
    assert list(results.glob("**/.*part")) == []  # nothing half-written left behind


def png_pixels(path):
    import matplotlib.image
    assert path.read_bytes()[:8] == PNG
    return matplotlib.image.imread(str(path))


def test_figures_from_tiny_saved_models(tiny_results, tmp_path):
    results, _ = tiny_results
    done = subprocess.run([sys.executable, "-m", "tools.figures", "--results", str(results),
                           "--out", str(tmp_path), "--ntest", str(NTEST)], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    expected = {"logistic_templates.png", "first_layer_3_net.png", "first_layer_4_modern_net.png",
                "conv_filters.png", "accuracy.png", "misclassified.png", "readout.png", "noise.png",
                "conv_maps.png"}
    assert {p.name for p in tmp_path.iterdir()} == expected
    for name in expected:
        pixels = png_pixels(tmp_path / name)
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100 and pixels.std() > 0.05, name  # drawn on
    for script in SCRIPTS:  # each model evaluated again gets the accuracy its log holds
        logged = float((results / "logs" / f"{script}-seed42.csv").read_text().splitlines()[-1].split(",")[2])
        assert f"{script}: test accuracy {logged:.4f} (saved model, evaluated again)" in done.stdout


def test_a_model_missing_a_weight_is_one_clear_error(tiny_results, tmp_path):
    results, _ = tiny_results
    (tmp_path / "logs").mkdir()
    (tmp_path / "models").mkdir()
    script = "3_net"
    shutil.copy(results / "logs" / f"{script}-seed42.csv", tmp_path / "logs")
    saved = np.load(model_path(results, script), allow_pickle=False)
    np.savez(tmp_path / "models" / f"{script}-seed42.npz", w_h=saved["w_h"])  # no w_o
    done = subprocess.run([sys.executable, "-m", "tools.figures", "--results", str(tmp_path),
                           "--out", str(tmp_path / "out"), "--ntest", "50"], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 1
    assert "holds no 'w_o'" in done.stderr and "Traceback" not in done.stderr


# NumPy versions of the models: an implementation apart from Theano's to check the pictures' numbers

def np_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_py_x(script, weights, X):
    X = X.astype(np.float64)
    if script == "2_logistic_regression":
        return np_softmax(X @ weights["w"])
    if script == "3_net":
        return np_softmax(1 / (1 + np.exp(-(X @ weights["w_h"]))) @ weights["w_o"])
    if script == "4_modern_net":
        return np_softmax(np.maximum(np.maximum(X @ weights["w_h"], 0) @ weights["w_h2"], 0) @ weights["w_o"])
    return None


def test_readout_shows_each_models_probabilities(tiny_results, test_set):
    results, _ = tiny_results
    teX, teY = test_set
    models = {script: model_path(results, script) for script in SCRIPTS}
    digits, probabilities = figures.readout(figures.probabilities(models, teX), teY)
    assert digits[:3] == [0, 1, 2] and len(set(digits)) == len(digits)
    for script, p in probabilities.items():
        assert p.shape == (len(digits), 10)
        np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)
        predicted = figures.saved_predict(script, models[script])(as_input(script, teX))
        assert list(p.argmax(axis=1)) == list(predicted[digits])
        wrong = np.flatnonzero(predicted != teY)
        if len(wrong):  # among the digits shown: the first one this model gets wrong
            assert wrong[0] in digits
        reference = np_py_x(script, np.load(models[script]), teX[digits])
        if reference is not None:
            np.testing.assert_allclose(p, reference, atol=2e-5)


def test_noise_is_the_modern_nets_input_dropout(test_set):
    import ast
    import inspect
    teX, _ = test_set
    main = next(node for node in ast.parse((ROOT / "4_modern_net.py").read_text()).body
                if isinstance(node, ast.FunctionDef) and node.name == "main")
    training_noise = [ast.unparse(call.args[-2]) for call in ast.walk(main) if isinstance(call, ast.Call)
                      and getattr(call.func, "id", "") == "model" and ast.unparse(call.args[-2]) != "0.0"]
    assert training_noise == ["p_drop_input"]  # training's model() takes main()'s keyword ...
    default = inspect.signature(figures.import_script("4_modern_net").main).parameters["p_drop_input"].default
    assert default == figures.P_DROP_INPUT  # ... whose default is the p the picture says
    clean, noisy = figures.noisy_digits(teX, list(range(20)), draws=3)
    assert noisy.shape == (3, 20, 784)
    kept = noisy != 0
    np.testing.assert_allclose(noisy[kept], np.broadcast_to(clean / (1 - figures.P_DROP_INPUT), noisy.shape)[kept],
                               rtol=1e-6)
    inked = np.broadcast_to(clean > 0, noisy.shape)
    dropped = np.mean(~kept[inked])
    assert abs(dropped - figures.P_DROP_INPUT) < 0.03, dropped  # about 3,000 inked pixels: sd about 0.007
    assert not np.array_equal(noisy[0], noisy[1])


def np_full_conv_rectify_pool(image, w):
    """Block 1 of the convnet in NumPy: a 'full' convolution (flipped filters, as conv2d), rectify,
    then 2x2 max-pooling that keeps the odd edge."""
    filters = w[:, 0, ::-1, ::-1].astype(np.float64)
    k = filters.shape[1]
    padded = np.pad(image.astype(np.float64), k - 1)
    size = padded.shape[0] - k + 1  # 30
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k))  # (30, 30, 3, 3)
    maps = np.maximum(np.einsum("ijab,fab->fij", windows, filters), 0)
    pooled = np.full((len(filters), (size + 1) // 2, (size + 1) // 2), -np.inf)
    for di in (0, 1):
        for dj in (0, 1):
            part = maps[:, di::2, dj::2]
            pooled[:, :part.shape[1], :part.shape[2]] = np.maximum(pooled[:, :part.shape[1], :part.shape[2]], part)
    return pooled


def test_conv_maps_are_the_convnets_blocks(tiny_results, test_set):
    results, _ = tiny_results
    teX, _ = test_set
    path = model_path(results, "5_convolutional_net")
    maps = figures.conv_maps(path, teX[0])
    assert [m.shape for m in maps] == [(32, 15, 15), (64, 7, 7), (128, 3, 3)]
    assert all((m >= 0).all() for m in maps)  # rectified
    w = np.load(path)["w"]
    np.testing.assert_allclose(maps[0], np_full_conv_rectify_pool(teX[0].reshape(28, 28), w), atol=1e-5)


def test_accuracy_chart_bands_span_the_seeds(tmp_path):
    logs = tmp_path / "logs"
    write_log(logs / "3_net-seed1.csv", [0.90, 0.92, 0.93])
    write_log(logs / "3_net-seed2.csv", [0.88, 0.95])
    write_log(logs / "3_net-seed42.csv", [0.91, 0.94, 0.96, 0.97])
    bands = figures.accuracy_chart(logs, tmp_path / "accuracy.png")
    epochs, low, high = bands["3_net"]
    assert list(epochs) == [1, 2, 3]  # epoch 4: one seed, no band
    np.testing.assert_allclose(low, [0.88, 0.92, 0.93])
    np.testing.assert_allclose(high, [0.91, 0.95, 0.96])
    assert png_pixels(tmp_path / "accuracy.png").std() > 0.05


@pytest.mark.parametrize("how", ["shell", "python"])
def test_graph_shows_the_graph_before_and_after_compiling(tmp_path, how):
    if how == "shell":
        done = run_script("5_convolutional_net", "--graph", "--ntrain", 128, "--ntest", 10, cwd=tmp_path)
    else:  # main(graph=True) from a user's program: the picture is still named after the script
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import plumbing.defaults;"
                "from tools.lessons import import_script;"
                "import_script('5_convolutional_net').main(graph=True, ntrain=128, ntest=10)")
        done = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, cwd=tmp_path,
                              env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    before, after = done.stdout.split("after Theano's optimisations")
    assert "AbstractConv2d" in before and "CorrMM" not in before
    assert "CorrMM" in after and "NonOverlappingMaxPoolGrad" in after
    assert "epoch" not in done.stdout  # --graph shows, it does not train
    assert "5_convolutional_net_graph.png" in done.stdout
    if shutil.which("dot"):  # graphviz: .ci/run installs it
        assert [p.name for p in tmp_path.iterdir()] == ["5_convolutional_net_graph.png"]
        assert png_pixels(tmp_path / "5_convolutional_net_graph.png").std() > 0.05
    else:
        assert "no picture" in done.stdout


def test_knn_blocks_agree_with_brute_force_and_it_learns(real_mnist_dir):
    trX, teX, trY, teY = mnist(ntrain=5000, ntest=500, onehot=False, data_dir=real_mnist_dir)
    blocked = reproduce.knn(trX, trY, teX, k=3, block=64)
    distances = ((teX[:, None, :] - trX[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :3]
    agree = np.mean(blocked == np.array([np.bincount(trY[n], minlength=10).argmax()
                                         if np.bincount(trY[n]).max() > 1 else trY[n[0]] for n in nearest]))
    assert agree >= 0.998  # float32 rounding may reorder near-equal neighbours
    assert np.mean(blocked == teY) > 0.88


# --- reproduce.py's table --------------------------------------------------------------------------

def write_log(path, accuracies):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("epoch,cost,accuracy,seconds\n"
                    + "".join(f"{i + 1},0.5,{a},1.0\n" for i, a in enumerate(accuracies)))


def table_row(table, script, epochs):
    """The cells of the table's row for script's runs of that many epochs."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 3 and cells[1] == f"`{script}.py`" and cells[2] == str(epochs):
            return cells
    raise AssertionError(f"no row for {script}, {epochs} epochs in\n{table}")


def test_table_gives_mean_spread_and_range_over_seeds(tmp_path):
    logs = tmp_path / "logs"
    write_log(logs / "4_modern_net-seed1.csv", [0.95, 0.98])
    write_log(logs / "4_modern_net-seed2.csv", [0.96, 0.99])
    write_log(logs / "4_modern_net-seed3.csv", [0.97, 1.00])
    write_log(logs / "4_modern_net-seed42.csv", [0.94, 0.975, 0.99, 0.991])  # its first two epochs count too
    write_log(logs / "4_modern_net-seed7.csv.bak", [0.1])  # not a log
    (tmp_path / "models").mkdir()
    np.savez(tmp_path / "models" / "1_linear_regression-seed42.npz", w=np.float32(2.0031))  # as its --save writes
    (tmp_path / "runs.md").write_text("- a run\n")
    done = subprocess.run([sys.executable, "-m", "tools.reproduce", "--table", "--quick", "--results",
                           str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "results.md").read_text()
    two = table_row(table, "4_modern_net", 2)
    at_two = np.array([0.98, 0.99, 1.00, 0.975])
    assert two[3] == "1, 2, 3, 42"
    assert two[4] == f"{100 * at_two.mean():.2f} ± {100 * np.std(at_two, ddof=1):.2f} %" == "98.62 ± 1.11 %"
    assert two[5] == "97.50 – 100.00 %"
    four = table_row(table, "4_modern_net", 4)
    assert four[3] == "42" and four[4] == "99.10 %" and four[5] == "-"
    assert "w = 2.0031 (seed 42)" in table and "- a run" in table
    assert not list(tmp_path.glob("**/.*part"))


def test_reproduce_runs_seeds_and_tabulates_their_logs(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.reproduce", "--quick", "--epochs", "1", "--seeds", "1-2",
                           "--scripts", "1_linear_regression,2_logistic_regression", "--results", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, MNIST_DIR=mnist_dir() or ""))
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "results.md").read_text()
    logged = [float((tmp_path / "logs" / f"2_logistic_regression-seed{s}.csv").read_text().split(",")[-2])
              for s in (1, 2)]
    row = table_row(table, "2_logistic_regression", 1)
    assert row[3] == "1, 2" and row[4] == f"{100 * np.mean(logged):.2f} ± {100 * np.std(logged, ddof=1):.2f} %"
    assert 0.75 < min(logged) and logged[0] != logged[1]  # two seeds, two runs
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [
        "1_linear_regression-seed1.npz", "1_linear_regression-seed2.npz",
        "2_logistic_regression-seed1.npz", "2_logistic_regression-seed2.npz"]
    assert (tmp_path / "logs" / "1_linear_regression-seed1.csv").read_text().count("\n") == 2  # header, one epoch
    assert len(re.findall(r"w = \d\.\d{4} \(seed [12]\)", table)) == 2
    assert "--seeds 1-2" in (tmp_path / "runs.md").read_text()


# --- the old net's experiment ----------------------------------------------------------------------

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


# --- the modern net's experiment -------------------------------------------------------------------

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
    assert modern_net.windows(list(range(7)), 3) == [(1, 3, 1.0), (4, 6, 4.0)]  # the last, partial window left out


def test_the_modern_nets_defaults_are_the_talks_and_a_change_is_one_flag():
    import inspect
    keywords = inspect.signature(figures.import_script("4_modern_net").main).parameters
    assert {k: keywords[k].default for k in ("lr", "batch_size", "p_drop_input", "p_drop_hidden")} == \
        {"lr": 0.001, "batch_size": 128, "p_drop_input": 0.2, "p_drop_hidden": 0.5}
    for name, (_, flags) in modern_net.CHANGES.items():
        names = {f for f in flags if f.startswith("--")}
        assert names <= {"--lr", "--batch-size", "--p-drop-input", "--p-drop-hidden"}, name
        assert len(names) == 1 or names == {"--p-drop-input", "--p-drop-hidden"}, name  # one setting: lr, batch or dropout


def test_the_modern_nets_long_run_stops_cleanly_and_its_log_is_read_back(tmp_path):
    out = tmp_path / "modern_net"
    done = run_script("tools/modern_net", "long", "--seeds", 3, "--max-epochs", 30, "--window", 2, "--min-gain",
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
    assert "python -m tools.modern_net long --seeds 3" in table  # what was run, with the machine
    assert png_pixels(tmp_path / "figures" / "modern_net.png").std() > 0.05


def test_the_modern_nets_unknown_run_is_a_usage_error(tmp_path):
    done = run_script("tools/modern_net", "one-change", "--runs", "lr-0.002,lr-9", "--out", tmp_path)
    assert done.returncode == 2 and "unknown runs lr-9" in done.stderr and "lr-0.0005" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing run, nothing written


def test_reproduce_without_data_is_one_clear_error(tmp_path):
    offline = dict(os.environ, MNIST_DIR=str(tmp_path / "nothing"), HTTPS_PROXY="http://127.0.0.1:9",
                   HTTP_PROXY="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-m", "tools.reproduce", "--table", "--results", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT, env=offline)
    assert done.returncode == 1 and "\nerror: MNIST files missing" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "results.md").exists()
