"""Slide "A 'modern' net" in JAX: rectifiers, dropout and RMSprop, two layers of 625; the slide shows 99.0 %."""
import sys
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import dropout_rate, run  # noqa: E402  (the command line: a flag per keyword of main())
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


def model(X, w_h, w_h2, w_o, key, p_drop_input, p_drop_hidden):
    key_X, key_h, key_h2 = jax.random.split(key, 3)  # one key per mask: JAX has no hidden random state
    X = dropout(X, key_X, p_drop_input)
    h = rectify(jnp.dot(X, w_h))

    h = dropout(h, key_h, p_drop_hidden)
    h2 = rectify(jnp.dot(h, w_h2))

    h2 = dropout(h2, key_h2, p_drop_hidden)
    o = jnp.dot(h2, w_o)  # (batch, 10): softmax's input
    py_x = softmax(o)
    return h, h2, py_x, log_softmax(o)  # the last for the cost


def categorical_crossentropy(log_py_x, Y):  # T.nnet.categorical_crossentropy(py_x, Y) for one-hot Y
    # from log(py_x) as Theano computes it (log_softmax). Written as -sum(Y * log(py_x)), the cost turns NaN once
    # a probability underflows to 0 (0 * log 0): the JAX port did so in epoch 14 of lesson 4's 100
    return -jnp.sum(Y * log_py_x, axis=1)


def cost_of(params, X, Y, key, p_drop_input, p_drop_hidden):  # the graph from the weights to the cost
    noise_h, noise_h2, noise_py_x, noise_log_py_x = model(X, *params, key, p_drop_input, p_drop_hidden)
    return jnp.mean(categorical_crossentropy(noise_log_py_x, Y))


@partial(jax.jit, static_argnames=("p_drop_input", "p_drop_hidden"))  # theano.function with updates
def train(params, accs, X, Y, key, p_drop_input=0.2, p_drop_hidden=0.5, lr=0.001):
    cost, grads = jax.value_and_grad(cost_of)(params, X, Y, key, p_drop_input, p_drop_hidden)  # T.grad
    params, accs = RMSprop(params, grads, accs, lr=lr)
    return params, accs, cost


@jax.jit  # theano.function(inputs=[X], outputs=y_x)
def predict(params, X):  # no noise: the key is split but no mask is drawn
    h, h2, py_x, log_py_x = model(X, *params, jax.random.key(0), 0., 0.)
    return jnp.argmax(py_x, axis=1)


def main(epochs=100, batch_size=128, lr=0.001, p_drop_input=0.2, p_drop_hidden=0.5, ntrain=60000, ntest=10000,
         seed=42, data_dir=None, log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    lr: RMSprop()'s learning rate
    p_drop_input: the fraction of input pixels dropout zeroes in training
    p_drop_hidden: the fraction of each hidden layer's units dropout zeroes in training
    seed: the initial weights (np.random) and the dropout masks (jax.random.key)
    """
    np.random.seed(seed)
    key = jax.random.key(seed)  # MRG_RandomStreams(seed): a new key split off for each step
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)

    w_h = init_weights((784, 625))
    w_h2 = init_weights((625, 625))
    w_o = init_weights((625, 10))
    params = [w_h, w_h2, w_o]
    accs = [jnp.zeros_like(p) for p in params]  # RMSprop's theano.shared(p.get_value() * 0.)

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            key, step_key = jax.random.split(key)
            params, accs, cost = train(params, accs, trX[start:end], trY[start:end], step_key,
                                       p_drop_input, p_drop_hidden, lr)
            progress.step(cost)
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(params, teX))
        progress.epoch(i, accuracy)
    w_h, w_h2, w_o = params
    if save:
        save_arrays(save, w_h=np.asarray(w_h), w_h2=np.asarray(w_h2), w_o=np.asarray(w_o))
    return accuracy


if __name__ == "__main__":
    run(main, p_drop_input=dropout_rate, p_drop_hidden=dropout_rate)
