"""Slide "A 'old' net" in JAX: one sigmoid hidden layer of 625 units, SGD; the slide shows 98.4 %."""
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


def sgd(params, grads, lr=0.05):  # the updated params (Theano's sgd returns the updates to make)
    return [p - g * lr for p, g in zip(params, grads)]


def model(X, w_h, w_o):
    h = jax.nn.sigmoid(jnp.dot(X, w_h))
    py_x = jax.nn.softmax(jnp.dot(h, w_o), axis=1)  # T.nnet.softmax: each row sums to 1
    return py_x


def categorical_crossentropy(py_x, Y):  # T.nnet.categorical_crossentropy for one-hot Y
    return -jnp.sum(Y * jnp.log(py_x), axis=1)


def cost_of(params, X, Y):  # the graph from the weights to the cost, as a pure function
    py_x = model(X, *params)
    return jnp.mean(categorical_crossentropy(py_x, Y))


@partial(jax.jit, static_argnames="lr")  # theano.function with updates: the new params are returned
def train(params, X, Y, lr=0.05):
    cost, grads = jax.value_and_grad(cost_of)(params, X, Y)  # T.grad(cost=cost, wrt=params)
    return sgd(params, grads, lr=lr), cost


@jax.jit  # theano.function(inputs=[X], outputs=y_x)
def predict(params, X):
    py_x = model(X, *params)
    return jnp.argmax(py_x, axis=1)


def main(epochs=100, batch_size=128, lr=0.05, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    lr: sgd()'s learning rate
    seed: the initial weights (np.random)
    """
    np.random.seed(seed)
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)

    w_h = init_weights((784, 625))
    w_o = init_weights((625, 10))
    params = [w_h, w_o]

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            params, cost = train(params, trX[start:end], trY[start:end], lr=lr)
            progress.step(cost)
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(params, teX))
        progress.epoch(i, accuracy)
    w_h, w_o = params
    if save:
        save_arrays(save, w_h=np.asarray(w_h), w_o=np.asarray(w_o))
    return accuracy


if __name__ == "__main__":
    run(main)
