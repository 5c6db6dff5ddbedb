"""Slide "A convolutional net" in JAX: three conv + max-pool layers, a dense layer, RMSprop; the slide shows 99.5 %."""
import sys
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_arrays  # noqa: E402


def floatX(X):
    return np.asarray(X, dtype=np.float32)  # the lessons' theano.config.floatX


def init_weights(shape):
    return jnp.asarray(floatX(np.random.randn(*shape) * 0.01))


def rectify(X):
    return jnp.maximum(X, 0.)


def softmax(X):
    e_x = jnp.exp(X - X.max(axis=1, keepdims=True))  # minus the row's max: exp never overflows
    return e_x / e_x.sum(axis=1, keepdims=True)


def log_softmax(X):  # what Theano's optimizer makes of T.log(softmax(X)): never the log of an underflowed 0
    shifted = X - X.max(axis=1, keepdims=True)
    return shifted - jnp.log(jnp.exp(shifted).sum(axis=1, keepdims=True))


def RMSprop(params, grads, accs, lr=0.001, rho=0.9, epsilon=1e-6):  # the updated params and accumulators
    new_params, new_accs = [], []
    for p, g, acc in zip(params, grads, accs):
        acc_new = rho * acc + (1 - rho) * g ** 2
        gradient_scaling = jnp.sqrt(acc_new + epsilon)
        g = g / gradient_scaling
        new_accs.append(acc_new)
        new_params.append(p - lr * g)
    return new_params, new_accs


def dropout(X, key, p=0.):
    if p > 0:
        retain_prob = 1 - p
        X = X * jax.random.bernoulli(key, retain_prob, X.shape).astype(X.dtype)  # srng.binomial
        X = X / retain_prob
    return X


def conv2d(X, w, border_mode='valid'):  # Theano's conv2d convolves: it flips the filters; lax correlates
    k = w.shape[2] - 1 if border_mode == 'full' else 0  # 'full': every overlap, 28 -> 30
    return jax.lax.conv_general_dilated(X, w[:, :, ::-1, ::-1], (1, 1), [(k, k), (k, k)])  # NCHW, OIHW


def pool_2d(X, ws, ignore_border=False):  # ignore_border=False keeps the odd edge's partial window: 13 -> 7
    rows, cols = X.shape[2], X.shape[3]
    pad = [(0, 0), (0, 0), (0, 0 if ignore_border else -rows % ws[0]), (0, 0 if ignore_border else -cols % ws[1])]
    return jax.lax.reduce_window(X, -jnp.inf, jax.lax.max, (1, 1, *ws), (1, 1, *ws), pad)


def model(X, w, w2, w3, w4, w_o, key, p_drop_conv, p_drop_hidden):
    key_l1, key_l2, key_l3, key_l4 = jax.random.split(key, 4)  # one key per mask: JAX has no hidden random state
    l1a = rectify(conv2d(X, w, border_mode='full'))  # (batch, 32, 30, 30)
    l1 = pool_2d(l1a, (2, 2), ignore_border=False)  # (batch, 32, 15, 15)
    l1 = dropout(l1, key_l1, p_drop_conv)

    l2a = rectify(conv2d(l1, w2))  # (batch, 64, 13, 13)
    l2 = pool_2d(l2a, (2, 2), ignore_border=False)  # (batch, 64, 7, 7): the odd edge is kept
    l2 = dropout(l2, key_l2, p_drop_conv)

    l3a = rectify(conv2d(l2, w3))  # (batch, 128, 5, 5)
    l3b = pool_2d(l3a, (2, 2), ignore_border=False)  # (batch, 128, 3, 3)
    l3 = l3b.reshape(l3b.shape[0], -1)  # (batch, 1152), as T.flatten(l3b, ndim=2)
    l3 = dropout(l3, key_l3, p_drop_conv)

    l4 = rectify(jnp.dot(l3, w4))  # (batch, 625)
    l4 = dropout(l4, key_l4, p_drop_hidden)

    o = jnp.dot(l4, w_o)  # (batch, 10): softmax's input
    py_x = softmax(o)
    return l1, l2, l3, l4, py_x, log_softmax(o)  # the last for the cost


def categorical_crossentropy(log_py_x, Y):  # T.nnet.categorical_crossentropy(py_x, Y) for one-hot Y
    # from log(py_x) as Theano computes it (log_softmax). Written as -sum(Y * log(py_x)), the cost turns NaN once
    # a probability underflows to 0 (0 * log 0): the JAX port did so in epoch 14 of lesson 4's 100
    return -jnp.sum(Y * log_py_x, axis=1)


def cost_of(params, X, Y, key, p_drop_conv, p_drop_hidden):  # the graph from the weights to the cost
    noise_l1, noise_l2, noise_l3, noise_l4, noise_py_x, noise_log_py_x = model(
        X, *params, key, p_drop_conv, p_drop_hidden)
    return jnp.mean(categorical_crossentropy(noise_log_py_x, Y))


@partial(jax.jit, static_argnames=("p_drop_conv", "p_drop_hidden"))  # theano.function with updates
def train(params, accs, X, Y, key, p_drop_conv=0.2, p_drop_hidden=0.5):
    cost, grads = jax.value_and_grad(cost_of)(params, X, Y, key, p_drop_conv, p_drop_hidden)  # T.grad
    params, accs = RMSprop(params, grads, accs, lr=0.001)
    return params, accs, cost


@jax.jit  # theano.function(inputs=[X], outputs=y_x)
def predict(params, X):  # no noise: the key is split but no mask is drawn
    l1, l2, l3, l4, py_x, log_py_x = model(X, *params, jax.random.key(0), 0., 0.)
    return jnp.argmax(py_x, axis=1)


def main(epochs=100, batch_size=128, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    seed: the initial weights (np.random) and the dropout masks (jax.random.key)
    """
    np.random.seed(seed)
    key = jax.random.key(seed)  # MRG_RandomStreams(seed): a new key split off for each step
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)
    trX = trX.reshape(-1, 1, 28, 28)  # (images, channels, rows, columns)
    teX = teX.reshape(-1, 1, 28, 28)

    w = init_weights((32, 1, 3, 3))
    w2 = init_weights((64, 32, 3, 3))
    w3 = init_weights((128, 64, 3, 3))
    w4 = init_weights((128 * 3 * 3, 625))
    w_o = init_weights((625, 10))
    params = [w, w2, w3, w4, w_o]
    accs = [jnp.zeros_like(p) for p in params]  # RMSprop's theano.shared(p.get_value() * 0.)

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            key, step_key = jax.random.split(key)
            params, accs, cost = train(params, accs, trX[start:end], trY[start:end], step_key)
            progress.step(cost)
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(params, teX))
        progress.epoch(i, accuracy)
    if save:
        save_arrays(save, **{name: np.asarray(p) for name, p in zip(["w", "w2", "w3", "w4", "w_o"], params)})
    return accuracy


if __name__ == "__main__":
    run(main)
