"""Slide "Simple Linear Regression" in PyTorch: fit y = w * x to y = 2x + noise by SGD; w ends near 2."""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_arrays  # noqa: E402


def model(X, w):
    return X * w


def train(w, x, y):  # theano.function(inputs=[X, Y], outputs=cost, updates=updates); w is updated in place
    X = torch.tensor(x, dtype=torch.float32)  # allow_input_downcast: NumPy's float64 as float32
    Y = torch.tensor(y, dtype=torch.float32)
    y = model(X, w)

    cost = torch.mean(torch.square(y - Y))
    gradient, = torch.autograd.grad(cost, w)  # T.grad(cost=cost, wrt=w)
    with torch.no_grad():  # the update: no graph is recorded for it
        w -= gradient * 0.01
    return cost.item()


def main(epochs=100, seed=42, log=None, save=None):
    """Fit w by SGD, one line per epoch; prints w.

    seed: the noise added to the training data (np.random)
    """
    np.random.seed(seed)
    trX = np.linspace(-1, 1, 101)
    trY = 2 * trX + np.random.randn(*trX.shape) * 0.33

    w = torch.tensor(0., requires_grad=True)  # theano.shared: float32, and autograd follows it

    progress = Progress(steps=len(trX), epochs=epochs, log=log)
    for i in range(epochs):
        for x_i, y_i in zip(trX, trY):
            progress.step(train(w, x_i, y_i))
        progress.epoch(i)
    print(f"w = {w.item():.4f}")  # close to 2
    if save:
        save_arrays(save, w=w.detach().numpy())
    return w.item()


if __name__ == "__main__":
    run(main)
