"""ChunkedBatch (plumbing/speedups_chunked.py): predict(teX) a chunk of images at a time gives the
stock function's results, is swapped in exactly where every op treats the images apart, and keeps
the convnet script under 1 GB.

Tolerance. Chunked and whole, the same ops compute every image; only the number of rows of each
GEMM changes (Dot22's rows, BatchedCorrMM's chunks). Where the BLAS kernel sums a GEMM's entry in
the same order whatever that number (OpenBLAS's SkylakeX kernel here), the results are the same
bits; where it does not (its Haswell kernel), each output of a layer is a K-term sum computed in
another order. Each computation is then within gamma_K * |W| |x| of the exact sum
(gamma_K = K u / (1 - K u), u = 2**-24; Higham, Accuracy and Stability of Numerical Algorithms,
section 3.1), the rectifier and max pooling do not enlarge an error, and errors carried from the
layer below are multiplied by |W|. logit_bound() runs that recursion in float64 on |x| and |W|;
two float32 computations differ by at most twice its result. Probabilities: a logit error d moves
log p_i by at most 2 d, and the softmax itself rounds p_i within (|z_i - max z| + 16) u of it
(the exponent's rounding, exp, a 10-term sum, a division), for each of the two computations.
"""
import subprocess
import sys

import numpy as np
import pytest
import theano
from theano import tensor as T
from theano.sandbox.rng_mrg import MRG_RandomStreams
from theano.tensor.nnet import conv2d
from theano.tensor.signal.pool import pool_2d

from conftest import ROOT, import_script, mnist_dir
from plumbing.speedups_chunked import CHUNK_IMAGES, ChunkedBatch, ChunkedBatchOptimizer

STOCK = theano.compile.get_default_mode().excluding("chunked")
U = 2.0 ** -24
lesson = import_script("5_convolutional_net")
SHAPES = [(32, 1, 3, 3), (64, 32, 3, 3), (128, 64, 3, 3), (128 * 3 * 3, 625), (625, 10)]  # the lesson's


def chunked(f):
    return any(isinstance(node.op, ChunkedBatch) for node in f.maker.fgraph.toposort())


def gamma(n):
    return n * U / (1 - n * U)


def abs_layers():
    """The lesson's five layers on non-negative inputs and weights, in float64: each layer's sums of
    |w| |x| (conv2d and dot as the lesson calls them), then the rectifier (a no-op here) and pooling
    (a window's max)."""
    A, w, w2, w3, w4, w_o = T.dtensor4(), T.dtensor4(), T.dtensor4(), T.dtensor4(), T.dmatrix(), T.dmatrix()
    B = T.dmatrix()

    def pool(v):
        return pool_2d(v, (2, 2), ignore_border=False)
    return [theano.function([A, w], conv2d(A, w, border_mode="full"), mode=STOCK),
            theano.function([A, w2], conv2d(pool(A), w2), mode=STOCK),
            theano.function([A, w3], conv2d(pool(A), w3), mode=STOCK),
            theano.function([A, w4], T.dot(T.flatten(pool(A), 2), w4), mode=STOCK),
            theano.function([B, w_o], T.dot(B, w_o), mode=STOCK)]


ABS_LAYERS = None


def logit_bound(x, weights):
    """Per logit, a bound on |computed - exact| of one float32 run of the lesson's model, from the
    layer recursion: D_l = (1 + g_l) |W_l| P(D_{l-1}) + g_l |W_l| P(A_{l-1}), A_l = |W_l| P(A_{l-1}),
    P the pooling of the layer below, g_l = gamma(terms of one of the layer's sums)."""
    global ABS_LAYERS
    if ABS_LAYERS is None:
        ABS_LAYERS = abs_layers()
    terms = [1 * 9, 32 * 9, 64 * 9, 128 * 9, 625]
    a, d = np.abs(x).astype("float64"), np.zeros(x.shape)
    for layer, w, k in zip(ABS_LAYERS, weights, terms):
        w = np.abs(w).astype("float64")
        la, ld = layer(a, w), layer(d, w)
        a, d = la, (1 + gamma(k)) * ld + gamma(k) * la
    return d * (1 + 1e-9)  # float64's own rounding, some 1e-13 relative here


def lesson_functions(weights, mode=None):
    X = T.ftensor4()
    ws = [theano.shared(np.asarray(w, "float32")) for w in weights]
    l1, l2, l3, l4, py_x = lesson.model(X, *ws, MRG_RandomStreams(1), 0., 0.)
    logits = T.dot(l4, ws[4])
    return theano.function([X], [logits, py_x, T.argmax(py_x, axis=1)], mode=mode)


def assert_within_bounds(fast, stock, x, weights):
    """fast and stock: (logits, probabilities, labels) of the same images."""
    (z, p, y), (sz, sp, sy) = fast, stock
    assert z.shape == sz.shape and p.shape == sp.shape and y.dtype == sy.dtype
    d = 2 * logit_bound(x, weights)  # two runs, each within one bound of the exact logits
    assert np.all(np.abs(z.astype("float64") - sz) <= d)
    rows = d.max(axis=1, keepdims=True)
    softmax_rounding = (np.abs(sz - sz.max(axis=1, keepdims=True)) + 16) * U
    bound = np.maximum(p, sp) * (np.expm1(2 * rows) + 2 * softmax_rounding)
    assert np.all(np.abs(p.astype("float64") - sp) <= bound)
    np.testing.assert_array_equal(y, sy)


@pytest.fixture(scope="module")
def images(real_mnist_dir):
    from load import mnist
    _, teX, _, _ = mnist(ntrain=0, ntest=1000, onehot=True, data_dir=real_mnist_dir)
    return teX.reshape(-1, 1, 28, 28)


@pytest.fixture(scope="module")
def weights():
    """The lesson's shapes, scaled so that every layer's values vary (its own 0.01 gives logits near 0)."""
    rng = np.random.RandomState(3)
    return [(rng.randn(*s) * scale).astype("float32") for s, scale in zip(SHAPES, (.3, .1, .05, .03, .05))]


@pytest.mark.parametrize("n", [2 * CHUNK_IMAGES, 2 * CHUNK_IMAGES + 188, 100, 1])
def test_lesson_model_in_chunks(images, weights, n):
    """Whole chunks, a last partial chunk, a batch under one chunk, one image."""
    fast, stock = lesson_functions(weights), lesson_functions(weights, STOCK)
    assert chunked(fast) and not chunked(stock)
    x = images[:n]
    assert_within_bounds(fast(x), stock(x), x, weights)


def test_predict_is_computed_in_chunks(images, weights):
    """Chunks of 256 images: the buffers the function keeps between calls are a chunk's."""
    f = lesson_functions(weights)
    f(images[:2 * CHUNK_IMAGES])
    inner = next(node.op.fn for node in f.maker.fgraph.toposort() if isinstance(node.op, ChunkedBatch))
    kept = [c[0] for c in inner.fn.storage_map.values() if isinstance(c[0], np.ndarray)]
    assert max(v.shape[0] for v in kept if v.ndim == 4) == CHUNK_IMAGES  # conv1's output: 256 x 32 x 30 x 30


def small_chunks(images=4):
    return STOCK.register((ChunkedBatchOptimizer(images=images), 100.5))


GRAPHS = {  # integer values: every sum is exact in float32, in any order
    "dense, bias, softmax, argmax": lambda X, w, b: [T.nnet.softmax(T.dot(X, w) + b),
                                                     T.argmax(T.dot(X, w), axis=1)],
    "rectifier, sum over a row, dimshuffle": lambda X, w, b: [T.maximum(X, 0).sum(axis=1).dimshuffle(0, "x") * 2],
    "flatten, a reshape keeping axis 0": lambda X, w, b: [T.flatten(X.reshape((X.shape[0], 2, 3)), 2) + 1],
    "mean over the other axis": lambda X, w, b: [T.mean(X, axis=1)],
}


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("n", [8, 11, 3, 1, 0])
def test_separable_graphs_in_chunks(name, n):
    """Chunks of 4 rows: whole chunks, a partial one, fewer rows than a chunk, one, none; same bits."""
    X = T.fmatrix()
    rng = np.random.RandomState(0)
    w = theano.shared(rng.randint(-3, 4, (6, 5)).astype("float32"))
    b = theano.shared(rng.randint(-3, 4, 5).astype("float32"))
    outputs = GRAPHS[name](X, w, b)
    fast, stock = theano.function([X], outputs, mode=small_chunks()), theano.function([X], outputs, mode=STOCK)
    assert chunked(fast)
    x = rng.randint(-5, 6, (n, 6)).astype("float32")
    try:
        expected = stock(x)
    except ValueError as error:  # Theano's Dot22 on no rows: "some matrix has no unit stride"
        with pytest.raises(ValueError, match=str(error).splitlines()[0]):
            fast(x)
        return
    for a, s in zip(fast(x), expected):
        assert a.dtype == s.dtype and a.shape == s.shape
        np.testing.assert_array_equal(a.view(np.uint8), s.view(np.uint8))


def test_inputs_of_different_lengths_run_whole():
    X, Y = T.fmatrix(), T.fmatrix()
    fast = theano.function([X, Y], X * 2 + Y, mode=small_chunks())
    assert chunked(fast)
    np.testing.assert_array_equal(fast(np.ones((9, 2), "float32"), np.ones((9, 2), "float32")), 3)
    with pytest.raises(ValueError):  # as the stock function: shapes that do not broadcast
        fast(np.ones((9, 2), "float32"), np.ones((7, 2), "float32"))


def not_separable():
    """Graphs where row i of an output depends on other rows, or on more than the inputs."""
    X, M = T.fmatrix(), T.fmatrix()
    w = theano.shared(np.ones((3, 3), "float32"))
    srng = MRG_RandomStreams(1)
    return {
        "updates": ([X], T.dot(X, w), [(w, w * 0.9)]),
        "batch and non-batch outputs": ([X], [T.dot(X, w), T.sum(X)], []),
        "a sum over the batch": ([X], X - X.mean(axis=0), []),
        "dot with a non-shared matrix": ([X, M], T.dot(X, M), []),
        "a product across images": ([X], T.dot(X, X.T), []),
        "the batch size in arithmetic": ([X], X / X.shape[0], []),
        "a random stream": ([X], X * srng.uniform(X.shape), []),
        "a reshape across images": ([X], X.reshape((-1,)) + 1, []),
    }


@pytest.mark.parametrize("name", list(not_separable()))
def test_left_alone_where_rows_are_not_apart(name):
    inputs, outputs, updates = not_separable()[name]
    f = theano.function(inputs, outputs, updates=updates, mode=small_chunks())
    assert not chunked(f)


def test_lesson_training_step_left_alone(weights):
    """The lesson's train function (RMSprop's updates, dropout's streams) is not rewritten."""
    X, Y = T.ftensor4(), T.fmatrix()
    ws = [theano.shared(w) for w in weights]
    *_, noise_py_x = lesson.model(X, *ws, MRG_RandomStreams(1), 0.2, 0.5)
    cost = T.mean(T.nnet.categorical_crossentropy(noise_py_x, Y))
    train = theano.function([X, Y], cost, updates=lesson.RMSprop(cost, ws, lr=0.001))
    assert not chunked(train)


def peak_rss_kib(command, env):
    """The peak resident memory of command, from a fresh process whose only child it is."""
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    out = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, env=env,
                         timeout=600, cwd="/")
    assert out.returncode == 0, out.stderr[-3000:]
    return int(out.stdout.split()[-1]), out.stdout


def test_script_predicts_10000_images_under_1_gb():
    """The convnet script, 10 training steps then predict(teX) on the 10,000 test images, the
    lesson's code as it is: peak resident memory under 1 GB (2.46 GB without the chunks)."""
    import os
    env = dict(os.environ, MNIST_DIR=mnist_dir() or "")
    kib, stdout = peak_rss_kib([sys.executable, str(ROOT / "5_convolutional_net.py"), "--epochs", "1",
                                "--ntrain", "1280", "--ntest", "10000"], env)
    assert "epoch   1" in stdout
    assert kib * 1024 < 1e9, f"peak resident memory {kib / 1024:.0f} MiB"


def test_same_labels_on_the_real_test_set(real_mnist_dir, weights):
    """The first 3,000 test images (12 chunks; all 10,000 cost the suite a minute and a half for no
    other op): the same labels chunked and whole; the probabilities within the bound (on the first
    1,000: the bound's float64 network is large)."""
    from load import mnist
    _, teX, _, _ = mnist(ntrain=0, ntest=3000, onehot=True, data_dir=real_mnist_dir)
    teX = teX.reshape(-1, 1, 28, 28)
    fast = lesson_functions(weights)(teX)
    stock_f = lesson_functions(weights, STOCK)
    stock = stock_f(teX)  # 0.7 GB, for this comparison only
    del stock_f
    np.testing.assert_array_equal(fast[2], stock[2])
    some = slice(0, 1000)
    assert_within_bounds([v[some] for v in fast], [v[some] for v in stock], teX[some], weights)
