"""tools/figures/: the pictures' numbers from tiny saved models, checked against NumPy versions of
the models; a saved model missing a weight; the accuracy chart's bands. (test_committed_pictures.py
draws every picture from the committed models.)"""
import os
import shutil
import subprocess
import sys

import numpy as np

from conftest import MNIST_LESSONS, NTEST, ROOT, as_input, mnist_dir, model_path, png_pixels, write_log
from tools import figures

SCRIPTS = list(MNIST_LESSONS)


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
    from conftest import import_script
    teX, _ = test_set
    main = next(node for node in ast.parse((ROOT / "4_modern_net.py").read_text()).body
                if isinstance(node, ast.FunctionDef) and node.name == "main")
    training_noise = [ast.unparse(call.args[-2]) for call in ast.walk(main) if isinstance(call, ast.Call)
                      and getattr(call.func, "id", "") == "model" and ast.unparse(call.args[-2]) != "0.0"]
    assert training_noise == ["p_drop_input"]  # training's model() takes main()'s keyword ...
    default = inspect.signature(import_script("4_modern_net").main).parameters["p_drop_input"].default
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
