"""The ops plumbing/speedups.py swaps in give the stock ops' results, bit for bit, outputs and gradients."""
import numpy as np
import pytest
import theano
from theano import tensor as T
from theano.sandbox.rng_mrg import MRG_RandomStreams, mrg_uniform
from theano.tensor.signal.pool import MaxPoolGrad, Pool, pool_2d

from plumbing import speedups
from plumbing.speedups_chunked import ChunkedBatch
from conftest import import_script

# BatchedCorrMM ("fast_corr") is in both: its weight gradient is equal to a stated tolerance, not
# bit for bit (tests/test_speedups_corr.py); everything else here is compared bit for bit
STOCK = theano.compile.get_default_mode().excluding("fast_pool", "fast_pool_grad", "fast_mrg", "fast_fuse",
                                                    "fast_relu_pool", "fast_rmsprop", "fast_mask")


def registered_tags(db):
    """The tags of a Theano optimizer database and of the databases inside it."""
    tags = {tag for tag in db.__db__ if isinstance(tag, str)}
    for optimizers in list(db.__db__.values()):
        tags |= {tag for opt in optimizers if isinstance(opt, theano.gof.optdb.DB) and opt is not db
                 for tag in registered_tags(opt)}
    return tags


def test_every_speedup_flag_is_in_the_stock_lists():
    """The flags that turn the swapped ops off, as the docs, the settings' table (tools/bench/levers.py)
    and these tests list them, are every tag plumbing registers (Theano's own fast_run and
    fast_compile aside): a new op cannot be left out of "the stock ops"."""
    from tools.bench.levers import STOCK_OPS
    from conftest import ROOT
    ours = {tag for tag in registered_tags(theano.compile.optdb)
            if tag.startswith("fast_") and not tag.startswith(("fast_run", "fast_compile"))}
    assert STOCK_OPS.startswith("optimizer_excluding=")
    assert set(STOCK_OPS[len("optimizer_excluding="):].split(":")) == ours
    assert set(STOCK.provided_optimizer.exclude) == ours - {"fast_corr"}  # BatchedCorrMM: test_speedups_corr.py
    for page in ("configuration.md", "performance.md"):
        assert STOCK_OPS in (ROOT / "tools" / "book" / "pages" / page).read_text(), page


def all_nodes(f):
    """f's nodes, those inside a ChunkedBatch (prediction in chunks) included."""
    nodes = f.maker.fgraph.toposort()
    return nodes + [n for node in nodes if isinstance(node.op, ChunkedBatch)
                    for n in theano.gof.graph.io_toposort(node.op.inner_inputs, node.op.inner_outputs)]


def op_types(f):
    """The types of f's ops, those inside a ChunkedBatch (prediction in chunks) included."""
    return {type(node.op) for node in all_nodes(f)}


def assert_same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))  # -0.0 and NaN included


@pytest.mark.parametrize("shape, ignore_border", [((3, 4, 30, 30), False), ((3, 4, 13, 13), False),
                                                  ((2, 5, 5, 5), False), ((2, 3, 13, 11), True),
                                                  ((2, 3, 13, 11), False), ((1, 2, 1, 1), False)])
@pytest.mark.parametrize("rectified", [True, False])
def test_pool_gradient_is_the_stock_one(shape, ignore_border, rectified):
    """The pooling's gradient, of maximum(X, 0) (the rectifier then computed inside it) or of X itself."""
    X = T.ftensor4()
    pooled = pool_2d(T.maximum(X, 0.) if rectified else X, (2, 2), ignore_border=ignore_border)  # ReLU: tied zeros
    G = T.ftensor4()
    gx = T.grad(None, X, known_grads={pooled: G})
    fast, stock = theano.function([X, G], gx), theano.function([X, G], gx, mode=STOCK)
    assert speedups.NonOverlappingMaxPoolGrad in op_types(fast) and MaxPoolGrad not in op_types(fast)
    assert MaxPoolGrad in op_types(stock)
    rng = np.random.RandomState(0)
    x = rng.randn(*shape).astype("float32")
    x[0, 0, :4, :4] = 0.5  # a window where all four tie
    if not rectified:
        x.flat[3::13] = np.nan  # a NaN maximum matches nothing: MaxPoolGrad compares with ==
        x.flat[::7] = -0.0
    g = rng.randn(*theano.function([X], pooled)(x).shape).astype("float32")
    g[0, 0, 0, 0] = -0.0
    assert_same_bits(fast(x, g), stock(x, g))
    assert_same_bits(fast(x[:, :, ::-1], g[:, :, ::-1]), stock(x[:, :, ::-1], g[:, :, ::-1]))  # strided inputs


@pytest.mark.parametrize("shape, ws, ignore_border", [((3, 4, 30, 30), (2, 2), False), ((3, 4, 13, 13), (2, 2), False),
                                                      ((2, 5, 5, 5), (2, 2), False), ((2, 3, 13, 11), (2, 2), True),
                                                      ((2, 3, 7, 8), (3, 2), False), ((1, 2, 1, 1), (2, 2), False)])
def test_pool_is_the_stock_one(shape, ws, ignore_border):
    X = T.ftensor4()
    pooled = pool_2d(X, ws, ignore_border=ignore_border)
    fast, stock = theano.function([X], pooled), theano.function([X], pooled, mode=STOCK)
    assert speedups.NonOverlappingMaxPool in op_types(fast) and Pool not in op_types(fast)
    assert Pool in op_types(stock)
    rng = np.random.RandomState(3)
    x = np.maximum(rng.randn(*shape), 0).astype("float32")  # ReLU: many tied zeros
    x.flat[::7] = -0.0
    x.flat[5::11] = np.nan  # Pool keeps a NaN that starts a window and passes over later ones
    x[0, 0, :2, :2] = np.array([[-0.0, 0.0], [0.0, -0.0]])[:x.shape[2], :x.shape[3]]
    assert_same_bits(fast(x), stock(x))
    assert_same_bits(fast(x[:, :, ::-1, :]), stock(x[:, :, ::-1, :]))  # a strided, non-contiguous input


@pytest.mark.parametrize("shape, ws, ignore_border", [((3, 4, 30, 30), (2, 2), False), ((3, 4, 13, 13), (2, 2), False),
                                                      ((2, 3, 13, 11), (2, 2), True), ((2, 3, 7, 8), (3, 2), False)])
def test_rectifier_inside_the_pool_is_the_stock_one(shape, ws, ignore_border):
    """pool(maximum(a, 0)): one NonOverlappingMaxPool(rectify=True), the rectifier computed inside
    it, never stored; the same bits as Theano's Elemwise then Pool, with NaN, inf and -0.0 in a;
    and where the rectifier's output is used elsewhere too, that use still gets it."""
    A = T.ftensor4()
    relu = T.maximum(A, 0.)
    pooled = pool_2d(relu, ws, ignore_border=ignore_border)
    fast, stock = theano.function([A], pooled), theano.function([A], pooled, mode=STOCK)
    nodes = [n for n in all_nodes(fast) if not isinstance(n.op, ChunkedBatch)]
    assert [type(n.op) for n in nodes] == [speedups.NonOverlappingMaxPool] and nodes[0].op.rectify
    rng = np.random.RandomState(6)
    a = rng.randn(*shape).astype("float32")
    a.flat[::9] = 0.0
    a.flat[::13] = -0.0
    a.flat[5::17] = np.nan
    a.flat[2::19] = -np.inf
    assert_same_bits(fast(a), stock(a))
    py = theano.function([A], pooled, mode=theano.compile.Mode(linker="py", optimizer=fast.maker.mode.optimizer))
    assert_same_bits(py(a), stock(a))  # the Python fallback
    both, both_stock = (theano.function([A], [pooled, relu], mode=m) for m in (None, STOCK))
    for x, y in zip(both(a), both_stock(a)):
        assert_same_bits(x, y)


@pytest.mark.parametrize("shape, ignore_border", [((3, 4, 30, 30), False), ((3, 4, 13, 13), False),
                                                  ((1, 2, 5, 7), False), ((2, 3, 13, 11), True)])
def test_rectifier_and_pool_gradient_in_one_pass(shape, ignore_border):
    """eq(x, a) * pool gradient, x = maximum(a, 0): one NonOverlappingMaxPoolGrad(rectified=True,
    from_a=True) that computes x from a, and one NonOverlappingMaxPool(rectify=True); x is never
    stored. The same bits as Theano's Elemwise, Pool, MaxPoolGrad and Elemwise, with NaN, inf and
    -0.0 in a and g."""
    A, G = T.ftensor4(), T.ftensor4()
    pooled = pool_2d(T.maximum(A, 0.), (2, 2), ignore_border=ignore_border)
    ga = T.grad(None, A, known_grads={pooled: G})
    fast, stock = theano.function([A, G], ga), theano.function([A, G], ga, mode=STOCK)
    nodes = fast.maker.fgraph.toposort()
    fused = [n.op for n in nodes if isinstance(n.op, speedups.NonOverlappingMaxPoolGrad)]
    assert len(fused) == 1 and fused[0].rectified and fused[0].from_a
    assert [n.op.rectify for n in nodes if isinstance(n.op, speedups.NonOverlappingMaxPool)] == [True]
    assert not any(isinstance(n.op, theano.tensor.Elemwise) for n in nodes)  # neither maximum nor eq * g
    rng = np.random.RandomState(5)
    a = rng.randn(*shape).astype("float32")
    a.flat[::9] = 0.0
    a.flat[::13] = -0.0
    a.flat[5::17] = np.nan
    g = rng.randn(*theano.function([A], pooled)(a).shape).astype("float32")
    g.flat[::5] = -0.0
    g.flat[1::11] = np.inf
    assert_same_bits(fast(a, g), stock(a, g))
    py = theano.function([A, G], ga, mode=theano.compile.Mode(linker="py", optimizer=fast.maker.mode.optimizer))
    assert_same_bits(py(a, g), stock(a, g))  # the Python fallback


def test_rectifying_pool_has_the_gradient_of_the_rectifier_then_the_pool():
    """NonOverlappingMaxPool(rectify=True) used directly: T.grad through it gives the stock gradient."""
    A, G = T.ftensor4(), T.ftensor4()
    out = speedups.NonOverlappingMaxPool((2, 2), ignore_border=False, rectify=True)(A)
    stock_out = pool_2d(T.maximum(A, 0.), (2, 2), ignore_border=False)
    fast = theano.function([A, G], T.grad(None, A, known_grads={out: G}))
    stock = theano.function([A, G], T.grad(None, A, known_grads={stock_out: G}), mode=STOCK)
    rng = np.random.RandomState(8)
    a = rng.randn(2, 3, 9, 9).astype("float32")
    a.flat[::7] = -0.0
    g = rng.randn(2, 3, 5, 5).astype("float32")
    assert_same_bits(fast(a, g), stock(a, g))


def test_pool_python_fallback_agrees_with_c():
    op = speedups.NonOverlappingMaxPool((2, 2), ignore_border=False)
    X = T.ftensor4()
    c_version = theano.function([X], op(X))
    py_version = theano.function([X], op(X), mode=theano.compile.Mode(linker="py"))
    x = np.random.RandomState(4).randn(2, 3, 7, 9).astype("float32")
    x.flat[::5] = np.nan
    assert_same_bits(c_version(x), py_version(x))


def test_pool_gradient_python_fallback_agrees_with_c():
    op = speedups.NonOverlappingMaxPoolGrad((2, 2))
    X, Z, G = T.ftensor4(), T.ftensor4(), T.ftensor4()
    c_version = theano.function([X, Z, G], op(X, Z, G))
    py_version = theano.function([X, Z, G], op(X, Z, G), mode=theano.compile.Mode(linker="py"))
    rng = np.random.RandomState(1)
    x = rng.randn(2, 3, 7, 7).astype("float32")
    z = theano.function([X], pool_2d(X, (2, 2), ignore_border=False))(x)
    g = rng.randn(*z.shape).astype("float32")
    np.testing.assert_array_equal(c_version(x, z, g), py_version(x, z, g))


def test_an_edited_c_file_is_compiled_again():
    """Theano reuses a compiled module whose op's c_code_cache_version it has seen, whatever the
    code now is: each op's version holds c_version of the C files it compiles, so an edited file is
    compiled again, and every file of plumbing/c_code/ is some op's."""
    from plumbing.c_source import C_CODE, c_version
    from plumbing.speedups_corr import BatchedCorrMM
    ops = {("max_pool.c",): speedups.NonOverlappingMaxPool((2, 2), ignore_border=False),
           ("max_pool_grad.c",): speedups.NonOverlappingMaxPoolGrad((2, 2)),
           ("mrg_uniform.c",): speedups.ParallelMRGUniform(T.TensorType("float32", (False,))),
           ("batched_corr.c", "batched_corr_support.c"): BatchedCorrMM("forward", ((0, 0), (0, 0))),
           ("rmsprop.c",): speedups.RMSpropStep(0.9, 0.1, 0.001, 1e-6)}
    for files, op in ops.items():
        assert c_version(*files) in op.c_code_cache_version(), files
    assert {name for files in ops for name in files} == {path.name for path in C_CODE.glob("*.c")}


# streams in whole and partial blocks of 16 lanes, more streams than numbers, float32 and float64
@pytest.mark.parametrize("size, nstreams, dtype", [((128, 625), None, "float32"), ((7, 32, 15, 15), None, "float32"),
                                                   ((5,), None, "float32"), ((1000,), 37, "float32"),
                                                   ((3, 17), 64, "float32"), ((999,), 40, "float64")])
def test_dropout_numbers_are_the_stock_ones(size, nstreams, dtype):
    def draws(mode):
        srng = MRG_RandomStreams(42)
        u = srng.uniform(size, nstreams=nstreams, dtype=dtype)
        f = theano.function([], u, mode=mode)
        return f, [f(), f(), f()]  # three calls: the stream state moves on identically
    fast, fast_draws = draws(None)
    stock, stock_draws = draws(STOCK)
    # swapped where Theano's OpenMP is on (not with NumPy's BLAS, README: "Theano's configuration")
    assert (speedups.ParallelMRGUniform in op_types(fast)) == bool(theano.config.openmp)
    assert mrg_uniform in op_types(stock)
    for a, b in zip(fast_draws, stock_draws):
        assert_same_bits(a, b)
    assert not np.array_equal(fast_draws[0], fast_draws[1])


# dropout's masks as the lessons draw them, of both retain probabilities, and a threshold in float64
@pytest.mark.parametrize("size, nstreams, dtype", [((128, 625), None, "float32"), ((7, 32, 15, 15), None, "float32"),
                                                   ((1000,), 37, "float32"), ((999,), 40, "float64")])
def test_dropout_masks_are_the_stock_ones(size, nstreams, dtype):
    def masks(mode):
        srng = MRG_RandomStreams(42)
        drawn = [srng.binomial(size, p=p, nstreams=nstreams, dtype=dtype) for p in (0.8, 0.5)]
        drawn.append(T.cast(srng.uniform(size, nstreams=nstreams, dtype=dtype) < T.constant(0.3, dtype="float64"), dtype))
        f = theano.function([], drawn, mode=mode)
        return f, [f(), f()]  # two calls: the streams' states move on identically
    fast, fast_masks = masks(None)
    _, stock_masks = masks(STOCK)
    ops = [node.op for node in fast.maker.fgraph.toposort() if isinstance(node.op, speedups.ParallelMRGMask)]
    if theano.config.openmp and dtype == "float32":  # swapped where ParallelMRGUniform is (binomial's float64
        # masks are cast from float32 numbers: left to Theano)
        assert sorted((op.threshold, op.threshold_dtype) for op in ops) == [
            (0.3, "float64"), (0.5, "float32"), (float(np.float32(0.8)), "float32")]
        assert all(op.inplace for op in ops) and len(fast.maker.fgraph.toposort()) == 3  # no Elemwise left
    for fast_call, stock_call in zip(fast_masks, stock_masks):
        for a, b in zip(fast_call, stock_call):
            assert_same_bits(a, b)
    assert 0.75 < fast_masks[0][0].mean() < 0.85 and 0.45 < fast_masks[0][1].mean() < 0.55


def test_dropout_mask_python_fallback_agrees_with_c():
    """ParallelMRGMask's perform(), which Theano runs without a C compiler, against its C code."""
    srng = MRG_RandomStreams(3)
    mask = srng.binomial((50, 40), p=0.8, dtype="float32")
    c_version = theano.function([], mask)
    assert speedups.ParallelMRGMask in op_types(c_version) or not theano.config.openmp
    srng = MRG_RandomStreams(3)
    py_version = theano.function([], srng.binomial((50, 40), p=0.8, dtype="float32"),
                                 mode=theano.compile.Mode(linker="py"))
    assert_same_bits(c_version(), py_version())


def test_convnet_gradients_are_the_stock_ones():
    conv = import_script("5_convolutional_net")
    np.random.seed(0)
    params = [conv.init_weights(s) for s in [(32, 1, 3, 3), (64, 32, 3, 3), (128, 64, 3, 3), (1152, 625), (625, 10)]]
    X, Y = T.ftensor4(), T.fmatrix()

    def gradients(mode):
        srng = MRG_RandomStreams(7)
        py_x = conv.model(X, *params, srng, 0.2, 0.5)[-1]
        cost = T.mean(T.nnet.categorical_crossentropy(py_x, Y))
        return theano.function([X, Y], [cost] + T.grad(cost, params), mode=mode)

    rng = np.random.RandomState(2)
    x = rng.rand(16, 1, 28, 28).astype("float32")
    y = np.eye(10, dtype="float32")[rng.randint(0, 10, 16)]
    fast, stock = gradients(None), gradients(STOCK)
    assert {speedups.NonOverlappingMaxPool, speedups.NonOverlappingMaxPoolGrad} <= op_types(fast)
    assert (speedups.ParallelMRGMask in op_types(fast)) == bool(theano.config.openmp)
    assert speedups.ParallelMRGUniform not in op_types(fast)  # every mask drawn as a mask
    for a, b in zip(fast(x, y), stock(x, y)):
        np.testing.assert_array_equal(a, b)
