"""Slide "Logistic Regression" in JAX: softmax(dot(X, w)) on MNIST by SGD; the slide shows 92.5 %."""
import sys
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


def model(X, w):
    return jax.nn.softmax(jnp.dot(X, w), axis=1)  # T.nnet.softmax: each row sums to 1


def categorical_crossentropy(py_x, Y):  # T.nnet.categorical_crossentropy for one-hot Y
    return -jnp.sum(Y * jnp.log(py_x), axis=1)


def cost_of(w, X, Y):  # the graph from w to the cost, as a pure function: jax.grad differentiates it
    py_x = model(X, w)
    return jnp.mean(categorical_crossentropy(py_x, Y))


@jax.jit  # theano.function with updates: the new w is returned, not updated in place
def train(w, X, Y):
    cost, gradient = jax.value_and_grad(cost_of)(w, X, Y)  # T.grad(cost=cost, wrt=w)
    return w - gradient * 0.05, cost


@jax.jit  # theano.function(inputs=[X], outputs=y_x)
def predict(w, X):
    py_x = model(X, w)
    return jnp.argmax(py_x, axis=1)


def main(epochs=100, batch_size=128, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    seed: the initial weights (np.random)
    """
    np.random.seed(seed)
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)

    w = init_weights((784, 10))

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            w, cost = train(w, trX[start:end], trY[start:end])
            progress.step(cost)
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(w, teX))
        progress.epoch(i, accuracy)
    if save:
        save_arrays(save, w=np.asarray(w))
    return accuracy


if __name__ == "__main__":
    run(main)
