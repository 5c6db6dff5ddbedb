"""Slide "Simple Linear Regression" in PyTensor: fit y = w * x to y = 2x + noise by SGD; w ends near 2."""
import sys
from pathlib import Path

import numpy as np
import pytensor
from pytensor import tensor as T

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_weights  # noqa: E402

pytensor.config.floatX = "float32"  # the lessons' floatX (PyTensor's default is float64)


def model(X, w):
    return X * w


def main(epochs=100, seed=42, log=None, save=None):
    """Fit w by SGD, one line per epoch; prints w.

    seed: the noise added to the training data (np.random)
    """
    np.random.seed(seed)
    trX = np.linspace(-1, 1, 101)
    trY = 2 * trX + np.random.randn(*trX.shape) * 0.33

    X = T.scalar()
    Y = T.scalar()

    w = pytensor.shared(np.asarray(0., dtype=pytensor.config.floatX))
    y = model(X, w)

    cost = T.mean(T.sqr(y - Y))
    gradient = T.grad(cost=cost, wrt=w)
    updates = [[w, w - gradient * 0.01]]

    train = pytensor.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)

    progress = Progress(steps=len(trX), epochs=epochs, log=log)
    for i in range(epochs):
        for x_i, y_i in zip(trX, trY):
            progress.step(train(x_i, y_i))
        progress.epoch(i)
    print(f"w = {w.get_value():.4f}")  # close to 2
    if save:
        save_weights(save, w=w)
    return w.get_value()


if __name__ == "__main__":
    run(main)
