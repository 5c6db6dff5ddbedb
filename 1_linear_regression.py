"""Slide "Simple Linear Regression": fit y = w * x to y = 2x + noise by SGD; w ends near 2."""
import plumbing.defaults  # Theano's set-up: import it before theano
import numpy as np
import theano
from theano import tensor as T

from plumbing.cli import run  # the command line: a flag for each keyword of main()
from plumbing.progress import Progress
from plumbing.saving import save_weights


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

    w = theano.shared(np.asarray(0., dtype=theano.config.floatX))
    y = model(X, w)

    cost = T.mean(T.sqr(y - Y))
    gradient = T.grad(cost=cost, wrt=w)
    updates = [[w, w - gradient * 0.01]]

    train = theano.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)

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
