"""BatchedCorrMM (plumbing/speedups_corr.py) gives CorrMM's results, forward and both gradients.

Tolerance. Every output of the three ops is a sum of n float32 products (forward: n = C kH kW;
input gradient: n = F kH kW, the GEMM's F terms then col2im's kH kW; weight gradient: n = batch
oH oW). Summed in any order and grouping, with or without fused multiply-adds, such a sum is within
gamma_n * sum |products| of the exact value, gamma_n = n u / (1 - n u), u = 2**-24 (Higham,
Accuracy and Stability of Numerical Algorithms, 2nd ed., section 3.1). The stock op and ours are
two such summations, so they differ by at most 2 gamma_n * sum |products|: every test asserts that
bound, on every BLAS kernel, with sum |products| computed in float64 by the stock op from |inputs|.

Same bits. The forward pass and the input gradient are the same dot products as the stock op's,
made by one GEMM per chunk of images instead of one per image. They are equal bit for bit where
the BLAS kernel sums a GEMM's entry in the same order whatever the GEMM's width, and only there:
OpenBLAS's SkylakeX kernel does (on these shapes), its Haswell and Katmai kernels do not. The
tests ask the library itself (tests/blas_order.py: sgemm_ through ctypes at the op's widths) and
assert the bits where it answers yes; the report's header and each test's message name the kernel.
test_ops_under_each_blas_kernel runs these tests again under each kernel this CPU loads.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import theano
from theano import tensor as T
from theano.tensor.nnet import conv2d
from theano.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights

import blas_order
from plumbing import speedups
from plumbing.speedups_chunked import ChunkedBatch
from plumbing.speedups_corr import TARGET_COLUMNS, BatchedCorrMM

ROOT = Path(__file__).resolve().parent.parent
FAST_TAGS = ("fast_pool", "fast_pool_grad", "fast_mrg", "fast_corr")
STOCK = theano.compile.get_default_mode().excluding(*FAST_TAGS)
U = 2.0 ** -24


def op_types(f):
    """The types of f's ops, those inside a ChunkedBatch (prediction in chunks) included."""
    nodes = f.maker.fgraph.toposort()
    nodes += [n for node in nodes if isinstance(node.op, ChunkedBatch)
              for n in theano.gof.graph.io_toposort(node.op.inner_inputs, node.op.inner_outputs)]
    return {type(node.op) for node in nodes}


def gamma(n):
    return n * U / (1 - n * U)


def conv_and_grads(x_type, w_type, border_mode, mode):
    X, Wt = x_type(), w_type()
    y = conv2d(X, Wt, border_mode=border_mode)
    G = x_type()
    dx, dw = T.grad(None, [X, Wt], known_grads={y: G})
    return theano.function([X, Wt, G], [y, dx, dw], mode=mode), theano.function([X, Wt], y, mode=mode)


def check(x, w, border_mode, g=None, seed=0):
    """fast and stock forward, input and weight gradients; returns both triples and the bounds."""
    ftype = T.TensorType(str(x.dtype), (False,) * 4)
    fast, fast_y = conv_and_grads(ftype, ftype, border_mode, None)
    stock, stock_y = conv_and_grads(ftype, ftype, border_mode, STOCK)
    assert BatchedCorrMM in op_types(fast) and not {CorrMM, CorrMM_gradWeights, CorrMM_gradInputs} & op_types(fast)
    assert {CorrMM, CorrMM_gradWeights, CorrMM_gradInputs} <= op_types(stock)
    if g is None:
        g = np.random.RandomState(seed).randn(*stock_y(x, w).shape).astype(x.dtype)
    a, b = fast(x, w, g), stock(x, w, g)
    # sum |products| of each output, in float64 by the stock op
    exact, _ = conv_and_grads(T.dtensor4, T.dtensor4, border_mode, STOCK)
    magnitude = exact(*(np.abs(v).astype("float64") for v in (x, w, g)))
    n_batch, c, kh, kw = x.shape[0], w.shape[1], w.shape[2], w.shape[3]
    oh, ow = g.shape[2:]
    terms = [c * kh * kw, w.shape[0] * kh * kw, n_batch * oh * ow]
    u = U if x.dtype == np.float32 else 2.0 ** -53
    for fast_v, stock_v, m, n, what in zip(a, b, magnitude, terms, ("forward", "input gradient", "weight gradient")):
        assert fast_v.shape == stock_v.shape and fast_v.dtype == stock_v.dtype, what
        bound = 2 * (n * u / (1 - n * u)) * m
        excess = np.abs(fast_v.astype("float64") - stock_v) - bound
        assert excess.max() <= 0, f"{what}: {excess.max()} beyond the bound"
    return a, b


CONVNET = [((128, 1, 28, 28), (32, 1, 3, 3), "full"), ((128, 32, 15, 15), (64, 32, 3, 3), "valid"),
           ((128, 64, 7, 7), (128, 64, 3, 3), "valid")]


def output_pixels(xs, ws, border_mode):
    pad = {"full": lambda k: k - 1, "valid": lambda k: 0, "half": lambda k: k // 2}[border_mode]
    return [x + 2 * pad(k) - k + 1 for x, k in zip(xs[2:], ws[2:])]


def same_order(xs, ws, border_mode):
    """(forward, input gradient): does this process's BLAS give BatchedCorrMM's GEMMs on these shapes
    the per-image GEMMs' bits? At every chunk width the op may choose (1 to TARGET_COLUMNS / P images)."""
    oh, ow = output_pixels(xs, ws, border_mode)
    F, K, P = ws[0], ws[1] * ws[2] * ws[3], oh * ow
    most = min(xs[0], -(-TARGET_COLUMNS // P))
    return (blas_order.same_order_at_any_width("N", F, K, P, most),
            blas_order.same_order_at_any_width("T", K, F, P, most))


def case(layer):
    """The test's id: the layer, and whether this BLAS kernel lets its bits be asserted."""
    forward, input_gradient = same_order(*CONVNET[layer])
    bits = {(True, True): "same-bits", (True, False): "forward-same-bits", (False, True): "input-gradient-same-bits",
            (False, False): "bound-only"}[forward, input_gradient]
    return f"layer{layer + 1}-{bits}-{blas_order.kernel()}"


@pytest.mark.parametrize("xs, ws, border_mode", CONVNET, ids=[case(i) for i in range(len(CONVNET))])
def test_convnet_layers_same_bits_where_the_blas_allows(xs, ws, border_mode):
    """The convnet's three layers, within the bound on every kernel; forward and input gradient bit
    for bit where the BLAS sums in the same order at any width."""
    rng = np.random.RandomState(1)
    x = np.maximum(rng.randn(*xs), 0).astype("float32")  # after ReLU: many zeros
    w = (rng.randn(*ws) * 0.01).astype("float32")
    (y, dx, dw), (sy, sdx, sdw) = check(x, w, border_mode)
    forward, input_gradient = same_order(xs, ws, border_mode)
    if forward:
        np.testing.assert_array_equal(y.view(np.uint32), sy.view(np.uint32), err_msg=blas_order.describe())
    if input_gradient:
        np.testing.assert_array_equal(dx.view(np.uint32), sdx.view(np.uint32), err_msg=blas_order.describe())


@pytest.mark.parametrize("xs, ws, border_mode", [
    ((1, 1, 5, 5), (1, 1, 3, 3), "valid"),          # batch 1, one channel, one filter
    ((1, 3, 9, 4), (2, 3, 3, 3), "full"),           # non-square, width under 2 kernels
    ((7, 5, 11, 13), (6, 5, 3, 2), "valid"),        # odd sizes, non-square kernel
    ((3, 2, 9, 6), (5, 2, 3, 3), "half"),
    ((4, 3, 8, 10), (3, 3, 2, 4), ((1, 2), (0, 3))),  # explicit, unequal padding
    ((5, 17, 6, 6), (33, 17, 3, 3), (1, 1)),
    ((2, 4, 3, 3), (2, 4, 3, 3), "valid"),          # a 1x1 output
    ((37, 8, 15, 15), (16, 8, 3, 3), "valid"),      # a batch that does not split into whole chunks
    ((9, 2, 40, 3), (3, 2, 5, 1), "full"),          # tall and thin, a 5x1 kernel
])
def test_odd_shapes(xs, ws, border_mode):
    rng = np.random.RandomState(2)
    x, w = rng.randn(*xs).astype("float32"), rng.randn(*ws).astype("float32")
    check(x, w, border_mode)


def test_non_contiguous_inputs():
    rng = np.random.RandomState(3)
    x = rng.randn(6, 12, 4, 11).astype("float32").transpose(0, 3, 2, 1)[:, ::2, ::-1, :]  # (6, 6, 4, 12), strided
    w = rng.randn(3, 3, 4, 6).astype("float32").transpose(2, 3, 0, 1)[::-1]             # (4, 6, 3, 3), strided
    assert not (x.flags.c_contiguous or w.flags.c_contiguous)
    for mode in ("valid", "full"):
        check(x, w, mode)


def test_float64():
    rng = np.random.RandomState(4)
    check(rng.randn(5, 3, 9, 8), rng.randn(4, 3, 3, 3), "full")


def test_negative_zero_and_zero_batch_channels():
    x = np.zeros((3, 2, 6, 6), "float32")
    x[0, 0] = -0.0
    w = -np.zeros((2, 2, 3, 3), "float32")
    (y, dx, dw), (sy, sdx, sdw) = check(x, w, "full", g=-np.zeros((3, 2, 8, 8), "float32"))
    for a, b in ((y, sy), (dx, sdx), (dw, sdw)):
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


def test_convnet_step_with_and_without_batched_conv():
    """The convnet's cost and gradients, all fast ops against all stock ones. The conv layers'
    gradients within 1e-4 of their largest element (sums of 16 * 900 products and fewer; the op-level
    tests hold them to the exact bound). The cost and the dense layers' gradients depend only on
    the forward pass: bit for bit where the BLAS gives the forward GEMMs the same bits at any width,
    else within the same 1e-4 (the forward's float32 rounding, carried through five layers)."""
    from conftest import import_script
    from theano.sandbox.rng_mrg import MRG_RandomStreams
    conv = import_script("5_convolutional_net")
    np.random.seed(0)
    params = [conv.init_weights(s) for s in [(32, 1, 3, 3), (64, 32, 3, 3), (128, 64, 3, 3), (1152, 625), (625, 10)]]
    X, Y = T.ftensor4(), T.fmatrix()

    def gradients(mode):
        py_x = conv.model(X, *params, MRG_RandomStreams(7), 0.2, 0.5)[-1]
        cost = T.mean(T.nnet.categorical_crossentropy(py_x, Y))
        return theano.function([X, Y], [cost] + T.grad(cost, params), mode=mode)

    rng = np.random.RandomState(2)
    x = rng.rand(16, 1, 28, 28).astype("float32")
    y = np.eye(10, dtype="float32")[rng.randint(0, 10, 16)]
    fast, stock = gradients(None), gradients(STOCK)
    assert BatchedCorrMM in op_types(fast) and CorrMM in op_types(stock)
    a, b = fast(x, y), stock(x, y)
    layers = [((16, 1, 28, 28), (32, 1, 3, 3), "full"), ((16, 32, 15, 15), (64, 32, 3, 3), "valid"),
              ((16, 64, 7, 7), (128, 64, 3, 3), "valid")]
    forward_same_bits = all(same_order(*layer)[0] for layer in layers)
    for i in range(6):
        if i in (0, 4, 5) and forward_same_bits:
            np.testing.assert_array_equal(a[i], b[i], err_msg=blas_order.describe())
        else:
            np.testing.assert_allclose(a[i], b[i], rtol=0, atol=1e-4 * np.abs(b[i]).max(), err_msg=blas_order.describe())


# --- the ops compiled for other instruction sets --------------------------------------------------

ISA_SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = [{root!r}, {tests!r}]
    import plumbing.defaults
    import numpy as np, theano
    from plumbing import speedups
    import test_speedups_corr as t
    import test_speedups as s
    import test_speedups_rmsprop as r
    print("ISA", speedups.compiled_isa(), flush=True)
    for xs, ws, mode in [((16, 32, 15, 15), (64, 32, 3, 3), "valid"), ((4, 1, 28, 28), (8, 1, 3, 3), "full"),
                         ((3, 5, 7, 9), (4, 5, 2, 3), "half")]:
        rng = np.random.RandomState(0)
        t.check(rng.randn(*xs).astype("float32"), rng.randn(*ws).astype("float32"), mode)
    s.test_pool_is_the_stock_one((3, 4, 13, 13), (2, 2), False)
    s.test_pool_gradient_is_the_stock_one((3, 4, 13, 13), False, True)
    s.test_pool_gradient_is_the_stock_one((2, 3, 13, 11), True, False)
    s.test_rectifier_inside_the_pool_is_the_stock_one((3, 4, 30, 30), (2, 2), False)
    s.test_rectifier_and_pool_gradient_in_one_pass((2, 3, 13, 11), True)
    s.test_dropout_numbers_are_the_stock_ones((1000,), 37, "float32")
    s.test_dropout_masks_are_the_stock_ones((7, 32, 15, 15), None, "float32")
    r.test_rmsprop_step_is_the_stock_one(r.SHAPES, False)
    r.test_rmsprop_step_is_the_stock_one([(37, 53), (480, 500)], True)
    print("OK")
""")


@pytest.mark.parametrize("march, present, absent", [("x86-64-v3", ["AVX2", "FMA"], ["AVX512F"]),
                                                    ("x86-64", [], ["AVX512F", "AVX2", "AVX", "FMA"])])
def test_ops_compiled_for_older_instruction_sets(tmp_path, march, present, absent):
    """All of speedups.py's ops, compiled with -march=x86-64-v3 (AVX2, no AVX-512) and with the
    baseline -march=x86-64, each in a compile directory of its own, against the stock ops."""
    script = tmp_path / "isa.py"
    script.write_text(ISA_SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests")))
    # this process's THEANO_FLAGS (plumbing/defaults.py's, BLAS renames included) and -march last
    # a compile cache of its own for each -march, beside Theano's (kept: a later run compiles only what changed)
    compiledir = Path(theano.config.base_compiledir) / f"tests-march-{march}"
    flags = f"gcc.cxxflags={theano.config.gcc.cxxflags} -march={march},compiledir={compiledir}"
    env = dict(os.environ, THEANO_FLAGS=",".join(f for f in (os.environ.get("THEANO_FLAGS", ""), flags) if f))
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    isa = next(line for line in out.stdout.splitlines() if line.startswith("ISA"))
    assert f"-march={march}:" in isa
    for name in present:
        assert name in isa.split(":")[1].split(), isa
    for name in absent:
        assert name not in isa.split(":")[1].split(), isa
    assert out.stdout.strip().endswith("OK")


def test_compiled_isa_names_this_compilation():
    isa = speedups.compiled_isa()
    assert isa.startswith("-march=") and ":" in isa
