"""Slide "Logistic Regression": softmax(dot(X, w)) on MNIST by SGD; the slide shows 92.5 %."""
import plumbing.defaults  # Theano's set-up: import it before theano
import numpy as np
import theano
from theano import tensor as T

from load import mnist
from plumbing.cli import run  # the command line: a flag for each keyword of main()
from plumbing.graph import show_graph
from plumbing.progress import Progress
from plumbing.saving import save_weights


def floatX(X):
    return np.asarray(X, dtype=theano.config.floatX)


def init_weights(shape):
    return theano.shared(floatX(np.random.randn(*shape) * 0.01))


def model(X, w):
    return T.nnet.softmax(T.dot(X, w))


def main(epochs=100, batch_size=128, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None, graph=False):
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

    cost = T.mean(T.nnet.categorical_crossentropy(py_x, Y))
    gradient = T.grad(cost=cost, wrt=w)
    updates = [[w, w - gradient * 0.05]]

    train = theano.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)
    predict = theano.function(inputs=[X], outputs=y_x, allow_input_downcast=True)
    if graph:
        return show_graph(cost, train, __file__)

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
