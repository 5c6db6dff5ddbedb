"""Slide "A convolutional net" in PyTensor: three conv + max-pool layers, a dense layer, RMSprop; the slide shows 99.5 %."""
import sys
from pathlib import Path

import numpy as np
import pytensor
from pytensor import tensor as T
from pytensor.tensor.random import shared_rng  # MRG_RandomStreams is gone, RandomStream deprecated

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_weights  # noqa: E402

pytensor.config.floatX = "float32"  # the lessons' floatX (PyTensor's default is float64)
pytensor.config.linker = "cvm"  # C, as Theano: Numba, PyTensor 3's default, compiles this graph for over 5 minutes


def floatX(X):
    return np.asarray(X, dtype=pytensor.config.floatX)


def init_weights(shape):
    return pytensor.shared(floatX(np.random.randn(*shape) * 0.01), shape=shape)  # a static shape: conv2d reads it


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


def conv2d(X, w, border_mode='valid'):  # was T.nnet.conv2d: gone; written out, a true convolution as it was
    rows, cols = w.type.shape[2:]  # the filters' 3 x 3, static: init_weights gives its shape to shared()
    if border_mode == 'full':  # every overlap: 28 -> 30
        X = T.pad(X, [(0, 0), (0, 0), (rows - 1, rows - 1), (cols - 1, cols - 1)])
    out_rows, out_cols = X.shape[2] - rows + 1, X.shape[3] - cols + 1
    w = w[:, :, ::-1, ::-1]  # Theano's conv2d flips the filters; the sum below slides them unflipped
    return sum(T.tensordot(X[:, :, i:i + out_rows, j:j + out_cols], w[:, :, i, j], axes=[[1], [1]])
               for i in range(rows) for j in range(cols)).dimshuffle(0, 3, 1, 2)  # (batch, filters, rows, cols)


def pool_2d(X, ws, ignore_border=False):  # was T.signal.pool.pool_2d: gone; max over each 2x2 window
    assert not ignore_border and ws == (2, 2)  # the lesson's one use: the odd edge's partial window is kept
    rows, cols = (X.shape[2] + 1) // 2 * 2, (X.shape[3] + 1) // 2 * 2  # 13 -> 14: a row of -inf added
    padded = T.set_subtensor(T.full((X.shape[0], X.shape[1], rows, cols), -np.inf, dtype=X.dtype)[:, :, :X.shape[2], :X.shape[3]], X)
    return padded.reshape((X.shape[0], X.shape[1], rows // 2, 2, cols // 2, 2)).max(axis=(3, 5))


def model(X, w, w2, w3, w4, w_o, rng, p_drop_conv, p_drop_hidden):
    l1a = rectify(conv2d(X, w, border_mode='full'))  # (batch, 32, 30, 30)
    l1 = pool_2d(l1a, (2, 2), ignore_border=False)  # (batch, 32, 15, 15)
    l1, rng = dropout(l1, rng, p_drop_conv)

    l2a = rectify(conv2d(l1, w2))  # (batch, 64, 13, 13)
    l2 = pool_2d(l2a, (2, 2), ignore_border=False)  # (batch, 64, 7, 7): the odd edge is kept
    l2, rng = dropout(l2, rng, p_drop_conv)

    l3a = rectify(conv2d(l2, w3))  # (batch, 128, 5, 5)
    l3b = pool_2d(l3a, (2, 2), ignore_border=False)  # (batch, 128, 3, 3)
    l3 = T.flatten(l3b, ndim=2)  # (batch, 1152)
    l3, rng = dropout(l3, rng, p_drop_conv)

    l4 = rectify(T.dot(l3, w4))  # (batch, 625)
    l4, rng = dropout(l4, rng, p_drop_hidden)

    py_x = softmax(T.dot(l4, w_o))  # (batch, 10)
    return l1, l2, l3, l4, py_x, rng


def categorical_crossentropy(py_x, Y):  # was T.nnet.categorical_crossentropy, gone with tensor.nnet
    return -T.sum(Y * T.log(py_x), axis=1)


def main(epochs=100, batch_size=128, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    seed: the initial weights (np.random) and the dropout masks (shared_rng)
    """
    np.random.seed(seed)
    rng = shared_rng(seed=seed)  # a shared NumPy Generator: each call of train advances it
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)
    trX = trX.reshape(-1, 1, 28, 28)  # (images, channels, rows, columns)
    teX = teX.reshape(-1, 1, 28, 28)

    X = T.ftensor4()
    Y = T.fmatrix()

    w = init_weights((32, 1, 3, 3))
    w2 = init_weights((64, 32, 3, 3))
    w3 = init_weights((128, 64, 3, 3))
    w4 = init_weights((128 * 3 * 3, 625))
    w_o = init_weights((625, 10))

    noise_l1, noise_l2, noise_l3, noise_l4, noise_py_x, next_rng = model(X, w, w2, w3, w4, w_o, rng, 0.2, 0.5)
    l1, l2, l3, l4, py_x, _ = model(X, w, w2, w3, w4, w_o, rng, 0., 0.)
    y_x = T.argmax(py_x, axis=1)

    cost = T.mean(categorical_crossentropy(noise_py_x, Y))
    params = [w, w2, w3, w4, w_o]
    updates = RMSprop(cost, params, lr=0.001) + [(rng, next_rng)]  # the masks' stream moves on

    train = pytensor.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)
    predict = pytensor.function(inputs=[X], outputs=y_x, allow_input_downcast=True)

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            progress.step(train(trX[start:end], trY[start:end]))
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(teX))
        progress.epoch(i, accuracy)
    if save:
        save_weights(save, w=w, w2=w2, w3=w3, w4=w4, w_o=w_o)
    return accuracy


if __name__ == "__main__":
    run(main)
