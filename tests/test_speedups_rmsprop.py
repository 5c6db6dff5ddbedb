"""RMSpropStep (plumbing/speedups_rmsprop.py), the lessons' RMSprop update in one pass: the same
parameters and accumulators as Theano's own four loops, bit for bit, step after step."""
import numpy as np
import pytest
import theano
from theano import tensor as T

from plumbing.speedups_rmsprop import RMSpropStep
from conftest import import_script
from test_speedups import assert_same_bits, op_types

WITHOUT = theano.compile.get_default_mode().excluding("fast_rmsprop")  # every other speed-up kept


def special_gradients(shape, seed, finite=False):
    """Gradients of both signs and many sizes, with the values where rounding and IEEE rules bite:
    zeros of both signs, squares that overflow (inf) or vanish (0), and unless finite inf and NaN."""
    rng = np.random.RandomState(seed)
    g = (rng.randn(*shape) * 10.0 ** rng.randint(-8, 4, size=shape)).astype("float32")
    flat = g.reshape(-1)
    flat[::11], flat[5::13], flat[7::17], flat[3::19] = 0.0, -0.0, 3e20, 1e-30  # 3e20 ** 2 overflows, 1e-30 ** 2 vanishes
    if not finite:
        flat[9::23], flat[2::29] = np.inf, np.nan
    return g


def rmsprop_runs(shapes, mode, steps=3, lr=0.001, through_dot=False):
    """The modern net's RMSprop(cost, params) where cost = sum(p * G), so that each gradient is G, the
    test's values; through_dot: cost = sum(dot(X, p) * G), X the identity, the gradient dot(X.T, G)
    (Theano then writes the update as the lessons' graphs have it, lr * (g / r), not (lr * g) / r).
    The function and, after each step, every parameter's and accumulator's value."""
    lesson = import_script("4_modern_net")
    params = [theano.shared(np.random.RandomState(i).randn(*s).astype("float32")) for i, s in enumerate(shapes)]
    gradients = [T.TensorType("float32", (False,) * len(s))() for s in shapes]
    identities = [T.fmatrix() for s in shapes] if through_dot else []
    cost = sum(T.sum((T.dot(identities[i], p) if through_dot else p) * G)
               for i, (p, G) in enumerate(zip(params, gradients)))
    updates = lesson.RMSprop(cost, params, lr=lr)
    f = theano.function(identities + gradients, [], updates=updates, mode=mode)
    values = []
    for step in range(steps):
        eyes = [np.eye(s[0], dtype="float32") for s in shapes] if through_dot else []
        f(*eyes, *[special_gradients(s, 10 * step + i, through_dot) for i, s in enumerate(shapes)])
        values.append([shared.get_value() for shared, _ in updates])
    return f, values


# odd sizes (vector loops' leftovers), 4D, and one over Theano's OpenMP threshold of 200,000 elements
SHAPES = [(37, 53), (3, 5, 7, 9), (11,), (480, 500)]


@pytest.mark.parametrize("shapes, through_dot", [(SHAPES, False), ([(37, 53), (480, 500), (1, 3)], True)])
def test_rmsprop_step_is_the_stock_one(shapes, through_dot):
    """Both forms of the update: lr * (g / r) (the lessons') and (lr * g) / r, inf and NaN in the latter."""
    fast, fast_values = rmsprop_runs(shapes, None, through_dot=through_dot)
    stock, stock_values = rmsprop_runs(shapes, WITHOUT, through_dot=through_dot)
    steps = [node.op for node in fast.maker.fgraph.toposort() if isinstance(node.op, RMSpropStep)]
    assert len(steps) == len(shapes) and all(op.inplace for op in steps)  # written over p and acc, as Theano's loops
    assert all(op.lr_first == (not through_dot) for op in steps)
    assert RMSpropStep not in op_types(stock)
    for fast_step, stock_step in zip(fast_values, stock_values):
        for a, b in zip(fast_step, stock_step):
            assert_same_bits(a, b)
    assert np.isnan(fast_values[-1][0]).any() != through_dot and np.isfinite(fast_values[-1][0]).any()


@pytest.mark.parametrize("through_dot", [False, True])
def test_python_fallback_is_the_stock_one(through_dot):
    """Without a C compiler Theano runs perform(): RMSpropStep's against the stock ops' own."""
    py = theano.compile.Mode(linker="py")
    fast, fast_values = rmsprop_runs([(37, 53), (11, 3)], py, through_dot=through_dot)
    assert RMSpropStep in op_types(fast)
    _, stock_values = rmsprop_runs([(37, 53), (11, 3)], py.excluding("fast_rmsprop"), through_dot=through_dot)
    for fast_step, stock_step in zip(fast_values, stock_values):
        for a, b in zip(fast_step, stock_step):
            assert_same_bits(a, b)


def test_a_learning_rate_that_is_not_a_constant_is_left_to_theano():
    lr = theano.shared(np.float32(0.001))
    f, values = rmsprop_runs([(37, 53)], None, lr=lr)
    assert RMSpropStep not in op_types(f)
    _, stock_values = rmsprop_runs([(37, 53)], WITHOUT, lr=lr)
    for a, b in zip(values[-1], stock_values[-1]):
        assert_same_bits(a, b)


@pytest.mark.parametrize("script", ["4_modern_net", "5_convolutional_net"])
def test_lesson_training_steps_are_the_stock_ones(script):
    """Three of the lesson's training steps, its model, cost and RMSprop: every weight and accumulator."""
    lesson = import_script(script)
    conv = script == "5_convolutional_net"
    shapes = ([(32, 1, 3, 3), (64, 32, 3, 3), (128, 64, 3, 3), (1152, 625), (625, 10)] if conv
              else [(784, 625), (625, 625), (625, 10)])
    rng = np.random.RandomState(3)
    x = rng.rand(16, *((1, 28, 28) if conv else (784,))).astype("float32")
    y = np.eye(10, dtype="float32")[rng.randint(0, 10, 16)]

    def train(mode):
        np.random.seed(0)
        params = [lesson.init_weights(s) for s in shapes]
        X, Y = (T.ftensor4() if conv else T.fmatrix()), T.fmatrix()
        py_x = lesson.model(X, *params, lesson.RandomStreams(5), 0.2, 0.5)[-1]
        cost = T.mean(T.nnet.categorical_crossentropy(py_x, Y))
        updates = lesson.RMSprop(cost, params, lr=0.001)
        f = theano.function([X, Y], cost, updates=updates, mode=mode)
        costs = [f(x, y) for _ in range(3)]
        return f, costs, [shared.get_value() for shared, _ in updates]

    fast, fast_costs, fast_values = train(None)
    _, stock_costs, stock_values = train(WITHOUT)
    assert sum(isinstance(node.op, RMSpropStep) for node in fast.maker.fgraph.toposort()) == len(shapes)
    assert fast_costs == stock_costs
    for a, b in zip(fast_values, stock_values):
        assert_same_bits(a, b)


def test_shapes_that_differ_are_an_error():
    P, A, G = T.fmatrix(), T.fmatrix(), T.fmatrix()
    f = theano.function([P, A, G], RMSpropStep(0.9, 0.1, 0.001, 1e-6)(P, A, G))
    ones = np.ones((3, 4), dtype="float32")
    assert [v.shape for v in f(ones, ones, ones)] == [(3, 4), (3, 4)]
    with pytest.raises(ValueError, match="differ in shape"):
        f(ones, ones, np.ones((4, 3), dtype="float32"))
