"""Slide "Simple Linear Regression" in JAX: fit y = w * x to y = 2x + noise by SGD; w ends near 2."""
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_arrays  # noqa: E402


def model(X, w):
    return X * w


def cost_of(w, X, Y):  # the graph from w to the cost, as a pure function: jax.grad differentiates it
    y = model(X, w)
    return jnp.mean(jnp.square(y - Y))


@jax.jit  # theano.function: traced once, compiled by XLA; the new w is returned, not updated in place
def train(w, X, Y):
    cost, gradient = jax.value_and_grad(cost_of)(w, X, Y)  # T.grad(cost=cost, wrt=w)
    return w - gradient * 0.01, cost


def main(epochs=100, seed=42, log=None, save=None):
    """Fit w by SGD, one line per epoch; prints w.

    seed: the noise added to the training data (np.random)
    """
    np.random.seed(seed)
    trX = np.linspace(-1, 1, 101)
    trY = 2 * trX + np.random.randn(*trX.shape) * 0.33

    w = jnp.float32(0.)  # theano.shared: JAX's arrays are float32 and immutable
    trX, trY = trX.astype(np.float32), trY.astype(np.float32)  # allow_input_downcast

    progress = Progress(steps=len(trX), epochs=epochs, log=log)
    for i in range(epochs):
        for x_i, y_i in zip(trX, trY):
            w, cost = train(w, x_i, y_i)
            progress.step(cost)
        progress.epoch(i)
    print(f"w = {float(w):.4f}")  # close to 2
    if save:
        save_arrays(save, w=np.asarray(w))
    return float(w)


if __name__ == "__main__":
    run(main)
