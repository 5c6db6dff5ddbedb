"""Scripts 2-5's models in JAX on the CPU (jax.jit), as tools/bench/torch_models.py has them in PyTorch.

Same interface: build(script) -> (train, predict); train(x, y) does one step on numpy arrays (x as
the script's model takes it, y one-hot) and returns the cost; predict(x) the predicted classes.
Same shapes, initialisation (normal * 0.01), pooling (2x2, ceil mode: pool_2d(ignore_border=False)),
dropout (0.2 input or conv / 0.5 hidden; kept units scaled by 1 / retain, as the scripts do) and
optimisers: SGD lr 0.05 (scripts 2, 3), RMSprop as the scripts write it (p - lr * g / sqrt(acc + eps),
lr 0.001, rho 0.9, eps 1e-6; scripts 4, 5). The cost is the mean cross-entropy of the softmax,
computed from log_softmax. Convolutions are correlations, as PyTorch's (Theano's conv2d flips the
kernel: the same model up to the weights' orientation), on NHWC images with HWIO filters, the
layout XLA's CPU convolutions are fastest in (the flattened 1152 features are then ordered
(row, column, channel): the same model up to a permutation of w4's rows).

JAX needs numpy 2, so it has a virtualenv of its own (tools/bench/requirements-jax.txt), which
`make bench` makes; bench.py runs its JAX worker there (`--peers jax`).
"""
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

LR_SGD, LR_RMS, RHO, EPS = 0.05, 0.001, 0.9, 1e-6


def weights(rng, *shape):
    return jnp.asarray((rng.randn(*shape) * 0.01).astype("float32"))


def dropout(key, x, p):
    retain = 1.0 - p
    return x * jax.random.bernoulli(key, retain, x.shape).astype(x.dtype) / retain


def pool(x):
    """2x2 max pooling of NHWC images, stride 2, a partial window kept at an odd edge (ceil mode)."""
    h, w = x.shape[1:3]
    pad = ((0, 0), (0, h % 2), (0, w % 2), (0, 0))
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), pad)


def conv(x, w, padding):
    """NHWC images, HWIO filters: measured 23-25 ms against 30-37 ms for NCHW, the convnet's second layer."""
    return jax.lax.conv_general_dilated(x, w, (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC"))


def logistic(p, x, key, train):
    return x @ p["w"]


def old_net(p, x, key, train):
    return jax.nn.sigmoid(x @ p["w_h"]) @ p["w_o"]


def modern_net(p, x, key, train):
    k1, k2, k3 = jax.random.split(key, 3)
    if train:
        x = dropout(k1, x, 0.2)
    h = jax.nn.relu(x @ p["w_h"])
    if train:
        h = dropout(k2, h, 0.5)
    h2 = jax.nn.relu(h @ p["w_h2"])
    if train:
        h2 = dropout(k3, h2, 0.5)
    return h2 @ p["w_o"]


def conv_net(p, x, key, train):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    x = jnp.transpose(x, (0, 2, 3, 1))  # the script's (batch, 1, 28, 28) as NHWC
    l1 = pool(jax.nn.relu(conv(x, p["w"], ((2, 2), (2, 2)))))        # 'full': (batch, 15, 15, 32)
    if train:
        l1 = dropout(k1, l1, 0.2)
    l2 = pool(jax.nn.relu(conv(l1, p["w2"], ((0, 0), (0, 0)))))      # (batch, 7, 7, 64)
    if train:
        l2 = dropout(k2, l2, 0.2)
    l3 = pool(jax.nn.relu(conv(l2, p["w3"], ((0, 0), (0, 0))))).reshape(x.shape[0], -1)  # (batch, 1152)
    if train:
        l3 = dropout(k3, l3, 0.2)
    l4 = jax.nn.relu(l3 @ p["w4"])
    if train:
        l4 = dropout(k4, l4, 0.5)
    return l4 @ p["w_o"]


MODELS = {  # script -> (forward, parameter shapes, optimiser)
    "2_logistic_regression": (logistic, {"w": (784, 10)}, "sgd"),
    "3_net": (old_net, {"w_h": (784, 625), "w_o": (625, 10)}, "sgd"),
    "4_modern_net": (modern_net, {"w_h": (784, 625), "w_h2": (625, 625), "w_o": (625, 10)}, "rmsprop"),
    "5_convolutional_net": (conv_net, {"w": (3, 3, 1, 32), "w2": (3, 3, 32, 64), "w3": (3, 3, 64, 128),
                                       "w4": (1152, 625), "w_o": (625, 10)}, "rmsprop"),
}


def build(script, seed=0):
    """(train, predict) for a script's model: train(x, y) does one step on numpy arrays."""
    forward, shapes, optimiser = MODELS[script]
    rng = np.random.RandomState(seed)
    params = {name: weights(rng, *shape) for name, shape in shapes.items()}
    acc = {name: jnp.zeros_like(v) for name, v in params.items()}

    def cost(p, x, y, key):
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(forward(p, x, key, True)), axis=1))

    @partial(jax.jit, donate_argnums=(0, 1))
    def step(p, a, x, y, key):
        key, sub = jax.random.split(key)
        c, g = jax.value_and_grad(cost)(p, x, y, sub)
        if optimiser == "sgd":
            p = jax.tree_util.tree_map(lambda v, d: v - LR_SGD * d, p, g)
        else:
            a = jax.tree_util.tree_map(lambda s, d: RHO * s + (1 - RHO) * d * d, a, g)
            p = jax.tree_util.tree_map(lambda v, d, s: v - LR_RMS * d / jnp.sqrt(s + EPS), p, g, a)
        return p, a, key, c

    @jax.jit
    def classes(p, x):
        return jnp.argmax(forward(p, x, jax.random.PRNGKey(0), False), axis=1)

    state = {"p": params, "a": acc, "key": jax.random.PRNGKey(seed)}

    def train(x, y):
        state["p"], state["a"], state["key"], c = step(state["p"], state["a"], x, y, state["key"])
        return float(c)  # waits for the step, as the PyTorch and Theano steps do

    def predict(x):
        return np.asarray(classes(state["p"], x))

    return train, predict

