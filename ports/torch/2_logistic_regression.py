"""Slide "Logistic Regression" in PyTorch: softmax(dot(X, w)) on MNIST by SGD; the slide shows 92.5 %."""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_arrays  # noqa: E402


def floatX(X):
    return np.asarray(X, dtype=np.float32)  # the lessons' theano.config.floatX


def init_weights(shape):
    return torch.tensor(floatX(np.random.randn(*shape) * 0.01), requires_grad=True)


def model(X, w):
    return torch.softmax(X @ w, dim=1)  # T.nnet.softmax: each row sums to 1


def categorical_crossentropy(py_x, Y):  # T.nnet.categorical_crossentropy for one-hot Y
    return -torch.sum(Y * torch.log(py_x), dim=1)  # (PyTorch's own F.cross_entropy takes X @ w, not py_x)


def train(w, X, Y):  # theano.function(inputs=[X, Y], outputs=cost, updates=updates); w is updated in place
    py_x = model(X, w)
    cost = torch.mean(categorical_crossentropy(py_x, Y))
    gradient, = torch.autograd.grad(cost, w)  # T.grad(cost=cost, wrt=w)
    with torch.no_grad():  # the update: no graph is recorded for it
        w -= gradient * 0.05
    return cost.item()


@torch.no_grad()
def predict(w, X):  # theano.function(inputs=[X], outputs=y_x)
    py_x = model(X, w)
    return torch.argmax(py_x, dim=1).numpy()


def main(epochs=100, batch_size=128, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    seed: the initial weights (np.random)
    """
    np.random.seed(seed)
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)
    trX, teX, trY = torch.from_numpy(trX), torch.from_numpy(teX), torch.from_numpy(trY)  # float32

    w = init_weights((784, 10))
    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            progress.step(train(w, trX[start:end], trY[start:end]))
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(w, teX))
        progress.epoch(i, accuracy)
    if save:
        save_arrays(save, w=w.detach().numpy())
    return accuracy


if __name__ == "__main__":
    run(main)
