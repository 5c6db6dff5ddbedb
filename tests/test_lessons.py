"""The lesson code itself: helpers against numpy references, shapes, noise, and import hygiene."""
import ast
import dis
import os
import subprocess
import sys

import numpy as np
import pytest
import theano
from theano import tensor as T

from conftest import LESSONS, ROOT, SCRIPTS, import_script, own_stderr

pytestmark = pytest.mark.quick  # all of them: the minute's tests for someone editing a lesson

HELPERS = ["floatX", "init_weights", "rectify", "softmax", "dropout", "RMSprop", "sgd"]


def helper_sources(name):
    source = (ROOT / f"{name}.py").read_text()
    return {node.name: ast.get_source_segment(source, node)
            for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name in HELPERS}


def test_every_copy_of_a_helper_is_identical():
    copies = {}
    for name in LESSONS:
        for helper, source in helper_sources(name).items():
            copies.setdefault(helper, {})[name] = source
    assert set(copies) == set(HELPERS)  # each one is taught somewhere
    for helper, by_script in copies.items():
        first = next(iter(by_script.values()))
        assert all(source == first for source in by_script.values()), (helper, list(by_script))
    # the lessons that teach them keep them written out
    assert {"4_modern_net", "5_convolutional_net", "understanding"} <= set(copies["RMSprop"])
    assert {"3_net", "understanding"} <= set(copies["sgd"]) and set(SCRIPTS[2:]) <= set(copies["init_weights"])


@pytest.fixture(scope="module")
def modern():
    return import_script("4_modern_net")


@pytest.fixture(scope="module")
def conv():
    return import_script("5_convolutional_net")


def numpy_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("script", ["4_modern_net", "5_convolutional_net"])
def test_softmax_matches_numpy_and_survives_huge_logits(script):
    softmax = import_script(script).softmax
    X = T.fmatrix()
    f = theano.function([X], softmax(X))
    rng = np.random.RandomState(0)
    logits = rng.randn(16, 10).astype("float32") * 5
    np.testing.assert_allclose(f(logits), numpy_softmax(logits.astype(np.float64)), rtol=1e-5, atol=1e-7)
    huge = np.array([[1000, -1000, 0], [-1000, -1000, -1000], [1000, 1000, -1000]], dtype="float32")
    out = f(huge)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0]], atol=1e-6)


def test_one_rmsprop_step_matches_numpy(modern):
    rng = np.random.RandomState(1)
    w0, x0 = rng.randn(5, 3).astype("float32"), rng.randn(4, 5).astype("float32")
    w = theano.shared(w0.copy())
    X = T.fmatrix()
    cost = T.sum(T.sqr(T.dot(X, w)))
    step = theano.function([X], cost, updates=modern.RMSprop(cost, [w], lr=0.001, rho=0.9, epsilon=1e-6))
    step(x0)
    g = 2 * x0.T.astype(np.float64) @ (x0 @ w0)  # d/dw of sum((Xw)^2)
    acc = 0.9 * 0 + 0.1 * g ** 2
    expected = w0 - 0.001 * g / np.sqrt(acc + 1e-6)
    np.testing.assert_allclose(w.get_value(), expected, rtol=1e-5, atol=1e-6)
    step(x0)  # the second step uses the accumulator of the first
    g2 = 2 * x0.T.astype(np.float64) @ (x0 @ expected)
    acc = 0.9 * acc + 0.1 * g2 ** 2
    expected = expected - 0.001 * g2 / np.sqrt(acc + 1e-6)
    np.testing.assert_allclose(w.get_value(), expected, rtol=1e-4, atol=1e-6)


def test_one_sgd_step_matches_numpy():
    net = import_script("3_net")
    w0 = np.arange(6, dtype="float32").reshape(2, 3) / 10
    w = theano.shared(w0.copy())
    cost = T.sum(T.sqr(w))
    theano.function([], cost, updates=net.sgd(cost, [w]))()
    np.testing.assert_allclose(w.get_value(), w0 - 0.05 * 2 * w0, rtol=1e-6)


def test_convnet_shapes_and_1152_features(conv):
    srng = conv.RandomStreams(1)
    w, w2, w3 = conv.init_weights((32, 1, 3, 3)), conv.init_weights((64, 32, 3, 3)), conv.init_weights((128, 64, 3, 3))
    w4, w_o = conv.init_weights((1152, 625)), conv.init_weights((625, 10))
    X = T.ftensor4()
    layers = conv.model(X, w, w2, w3, w4, w_o, srng, 0., 0.)
    shapes = theano.function([X], [layer.shape for layer in layers])(np.random.rand(2, 1, 28, 28).astype("float32"))
    assert [tuple(s) for s in shapes] == [(2, 32, 15, 15), (2, 64, 7, 7), (2, 1152), (2, 625), (2, 10)]


def test_prediction_is_deterministic_while_training_draws_noise(modern):
    srng = modern.RandomStreams(3)
    w_h, w_h2, w_o = (theano.shared(modern.floatX(np.random.RandomState(s).randn(*shape)))
                      for s, shape in [(0, (784, 625)), (1, (625, 625)), (2, (625, 10))])
    X = T.fmatrix()
    noisy = theano.function([X], modern.model(X, w_h, w_h2, w_o, srng, 0.2, 0.5)[-1])
    clean = theano.function([X], modern.model(X, w_h, w_h2, w_o, srng, 0., 0.)[-1])
    x = np.random.RandomState(4).rand(8, 784).astype("float32")
    np.testing.assert_array_equal(clean(x), clean(x))
    assert not np.allclose(noisy(x), noisy(x))


def test_dropout_keeps_the_expected_value(modern):
    X = T.fmatrix()
    f = theano.function([X], modern.dropout(X, modern.RandomStreams(5), 0.5))
    out = f(np.ones((200, 500), dtype="float32"))
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs(out.mean() - 1) < 0.02


@pytest.mark.parametrize("name", LESSONS[1:])
def test_model_reads_no_global_variables(name):
    """Everything model() uses is an argument, a module or a helper: no weights from outside."""
    code = import_script(name).model.__code__
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    assert names <= {"T", "theano", "np", "conv2d", "pool_2d", *HELPERS}, names


@pytest.mark.parametrize("name", LESSONS)
def test_importing_a_script_prints_and_trains_nothing(name, tmp_path):
    # an empty data folder and no network: any attempt to load or fetch MNIST would fail loudly
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from tools.lessons import import_script;"
            "assert callable(import_script(sys.argv[2]).main)")
    env = dict(os.environ, MNIST_DIR=str(tmp_path), HTTPS_PROXY="http://127.0.0.1:9")
    result = subprocess.run([sys.executable, "-c", code, str(ROOT), name],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and own_stderr(result.stderr) == ""
    assert list(tmp_path.iterdir()) == []
