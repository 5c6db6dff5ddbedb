"""Slide "A 'modern' net" in PyTensor: rectifiers, dropout and RMSprop, two layers of 625; the slide shows 99.0 %."""
import sys
from pathlib import Path

import numpy as np
import pytensor
from pytensor import tensor as T
from pytensor.tensor.random import shared_rng  # MRG_RandomStreams is gone, RandomStream deprecated

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import dropout_rate, run  # noqa: E402  (the command line: a flag per keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_weights  # noqa: E402

pytensor.config.floatX = "float32"  # the lessons' floatX (PyTensor's default is float64)


def floatX(X):
    return np.asarray(X, dtype=pytensor.config.floatX)


def init_weights(shape):
    return pytensor.shared(floatX(np.random.randn(*shape) * 0.01))


def rectify(X):
    return T.maximum(X, 0.)


def softmax(X):
    e_x = T.exp(X - X.max(axis=1).dimshuffle(0, 'x'))  # minus the row's max: exp never overflows
    return e_x / e_x.sum(axis=1).dimshuffle(0, 'x')


def RMSprop(cost, params, lr=0.001, rho=0.9, epsilon=1e-6):
    grads = T.grad(cost=cost, wrt=params)
    updates = []
    for p, g in zip(params, grads):
        acc = pytensor.shared(p.get_value() * 0.)
        acc_new = rho * acc + (1 - rho) * g ** 2
        gradient_scaling = T.sqrt(acc_new + epsilon)
        g = g / gradient_scaling
        updates.append((acc, acc_new))
        updates.append((p, p - lr * g))
    return updates


def dropout(X, rng, p=0.):  # also returns the generator's next state: the caller updates rng with it
    if p > 0:
        retain_prob = 1 - p
        rng, mask = rng.binomial(1, retain_prob, size=X.shape)  # int64: cast, or X becomes float64
        X *= T.cast(mask, pytensor.config.floatX)
        X /= retain_prob
    return X, rng


def model(X, w_h, w_h2, w_o, rng, p_drop_input, p_drop_hidden):
    X, rng = dropout(X, rng, p_drop_input)
    h = rectify(T.dot(X, w_h))

    h, rng = dropout(h, rng, p_drop_hidden)
    h2 = rectify(T.dot(h, w_h2))

    h2, rng = dropout(h2, rng, p_drop_hidden)
    py_x = softmax(T.dot(h2, w_o))
    return h, h2, py_x, rng


def categorical_crossentropy(py_x, Y):  # was T.nnet.categorical_crossentropy, gone with tensor.nnet
    return -T.sum(Y * T.log(py_x), axis=1)


def main(epochs=100, batch_size=128, lr=0.001, p_drop_input=0.2, p_drop_hidden=0.5, ntrain=60000, ntest=10000,
         seed=42, data_dir=None, log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    lr: RMSprop()'s learning rate
    p_drop_input: the fraction of input pixels dropout zeroes in training
    p_drop_hidden: the fraction of each hidden layer's units dropout zeroes in training
    seed: the initial weights (np.random) and the dropout masks (shared_rng)
    """
    np.random.seed(seed)
    rng = shared_rng(seed=seed)  # a shared NumPy Generator: each call of train advances it
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)

    X = T.fmatrix()
    Y = T.fmatrix()

    w_h = init_weights((784, 625))
    w_h2 = init_weights((625, 625))
    w_o = init_weights((625, 10))

    noise_h, noise_h2, noise_py_x, next_rng = model(X, w_h, w_h2, w_o, rng, p_drop_input, p_drop_hidden)  # training
    h, h2, py_x, _ = model(X, w_h, w_h2, w_o, rng, 0., 0.)  # for prediction: no noise
    y_x = T.argmax(py_x, axis=1)

    cost = T.mean(categorical_crossentropy(noise_py_x, Y))
    params = [w_h, w_h2, w_o]
    updates = RMSprop(cost, params, lr=lr) + [(rng, next_rng)]  # the masks' stream moves on

    train = pytensor.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)
    predict = pytensor.function(inputs=[X], outputs=y_x, allow_input_downcast=True)

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            progress.step(train(trX[start:end], trY[start:end]))
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(teX))
        progress.epoch(i, accuracy)
    if save:
        save_weights(save, w_h=w_h, w_h2=w_h2, w_o=w_o)
    return accuracy


if __name__ == "__main__":
    run(main, p_drop_input=dropout_rate, p_drop_hidden=dropout_rate)
