"""Slide "Logistic Regression" in PyTensor: softmax(dot(X, w)) on MNIST by SGD; the slide shows 92.5 %."""
import sys
from pathlib import Path

import numpy as np
import pytensor
from pytensor import tensor as T
from pytensor.tensor.special import softmax  # was T.nnet.softmax: tensor.nnet is gone

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_weights  # noqa: E402

pytensor.config.floatX = "float32"  # the lessons' floatX (PyTensor's default is float64)


def floatX(X):
    return np.asarray(X, dtype=pytensor.config.floatX)


def init_weights(shape):
    return pytensor.shared(floatX(np.random.randn(*shape) * 0.01))


def model(X, w):
    return softmax(T.dot(X, w), axis=1)  # along each row; axis=None would take all of the batch at once


def categorical_crossentropy(py_x, Y):  # was T.nnet.categorical_crossentropy, gone with tensor.nnet
    return -T.sum(Y * T.log(py_x), axis=1)


def main(epochs=100, batch_size=128, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    seed: the initial weights (np.random)
    """
    np.random.seed(seed)
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)

    X = T.fmatrix()
    Y = T.fmatrix()

    w = init_weights((784, 10))

    py_x = model(X, w)
    y_x = T.argmax(py_x, axis=1)

    cost = T.mean(categorical_crossentropy(py_x, Y))
    gradient = T.grad(cost=cost, wrt=w)
    updates = [[w, w - gradient * 0.05]]

    train = pytensor.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)
    predict = pytensor.function(inputs=[X], outputs=y_x, allow_input_downcast=True)

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            progress.step(train(trX[start:end], trY[start:end]))
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(teX))
        progress.epoch(i, accuracy)
    if save:
        save_weights(save, w=w)
    return accuracy


if __name__ == "__main__":
    run(main)
