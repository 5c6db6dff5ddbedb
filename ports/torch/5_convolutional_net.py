"""Slide "A convolutional net" in PyTorch: three conv + max-pool layers, a dense layer, RMSprop; the slide shows 99.5 %."""
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import run  # noqa: E402  (the command line: a flag for each keyword of main())
from plumbing.progress import Progress  # noqa: E402
from plumbing.saving import save_arrays  # noqa: E402


def floatX(X):
    return np.asarray(X, dtype=np.float32)  # the lessons' theano.config.floatX


def init_weights(shape):
    return torch.tensor(floatX(np.random.randn(*shape) * 0.01), requires_grad=True)


def rectify(X):
    return torch.clamp(X, min=0.)  # T.maximum(X, 0.)


def softmax(X):
    e_x = torch.exp(X - X.max(dim=1, keepdim=True).values)  # minus the row's max: exp never overflows
    return e_x / e_x.sum(dim=1, keepdim=True)


def log_softmax(X):  # what Theano's optimizer makes of T.log(softmax(X)): never the log of an underflowed 0
    shifted = X - X.max(dim=1, keepdim=True).values
    return shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))


def RMSprop(cost, params, accs, lr=0.001, rho=0.9, epsilon=1e-6):  # applies the updates at once
    grads = torch.autograd.grad(cost, params)  # T.grad(cost=cost, wrt=params)
    with torch.no_grad():  # the update: no graph is recorded for it
        for p, g, acc in zip(params, grads, accs):
            acc_new = rho * acc + (1 - rho) * g ** 2
            gradient_scaling = torch.sqrt(acc_new + epsilon)  # eps inside the root (torch.optim.RMSprop: outside)
            g = g / gradient_scaling
            acc.copy_(acc_new)
            p -= lr * g


def dropout(X, generator, p=0.):
    if p > 0:
        retain_prob = 1 - p
        X = X * torch.bernoulli(torch.full_like(X, retain_prob), generator=generator)  # srng.binomial
        X = X / retain_prob
    return X


def conv2d(X, w, border_mode='valid'):  # Theano's conv2d convolves: it flips the filters; F.conv2d does not
    padding = w.shape[2] - 1 if border_mode == 'full' else 0  # 'full': every overlap, 28 -> 30
    return F.conv2d(X, torch.flip(w, dims=(2, 3)), padding=padding)


def pool_2d(X, ws, ignore_border=False):  # ignore_border=False keeps the odd edge's partial window: 13 -> 7
    return F.max_pool2d(X, ws, ceil_mode=not ignore_border)


def model(X, w, w2, w3, w4, w_o, generator, p_drop_conv, p_drop_hidden):
    l1a = rectify(conv2d(X, w, border_mode='full'))  # (batch, 32, 30, 30)
    l1 = pool_2d(l1a, (2, 2), ignore_border=False)  # (batch, 32, 15, 15)
    l1 = dropout(l1, generator, p_drop_conv)

    l2a = rectify(conv2d(l1, w2))  # (batch, 64, 13, 13)
    l2 = pool_2d(l2a, (2, 2), ignore_border=False)  # (batch, 64, 7, 7): the odd edge is kept
    l2 = dropout(l2, generator, p_drop_conv)

    l3a = rectify(conv2d(l2, w3))  # (batch, 128, 5, 5)
    l3b = pool_2d(l3a, (2, 2), ignore_border=False)  # (batch, 128, 3, 3)
    l3 = torch.flatten(l3b, start_dim=1)  # (batch, 1152)
    l3 = dropout(l3, generator, p_drop_conv)

    l4 = rectify(l3 @ w4)  # (batch, 625)
    l4 = dropout(l4, generator, p_drop_hidden)

    o = l4 @ w_o  # (batch, 10): softmax's input
    py_x = softmax(o)
    return l1, l2, l3, l4, py_x, log_softmax(o)  # the last for the cost


def categorical_crossentropy(log_py_x, Y):  # T.nnet.categorical_crossentropy(py_x, Y) for one-hot Y
    # from log(py_x) as Theano computes it (log_softmax). Written as -sum(Y * log(py_x)), the cost turns NaN once
    # a probability underflows to 0 (0 * log 0): the JAX port did so in epoch 14 of lesson 4's 100
    return -torch.sum(Y * log_py_x, dim=1)


def train(params, accs, X, Y, generator, p_drop_conv=0.2, p_drop_hidden=0.5):  # theano.function(..., updates)
    noise_l1, noise_l2, noise_l3, noise_l4, noise_py_x, noise_log_py_x = model(
        X, *params, generator, p_drop_conv, p_drop_hidden)
    cost = torch.mean(categorical_crossentropy(noise_log_py_x, Y))
    RMSprop(cost, params, accs, lr=0.001)
    return cost.item()


@torch.no_grad()
def predict(params, X):  # theano.function(inputs=[X], outputs=y_x): no noise
    l1, l2, l3, l4, py_x, log_py_x = model(X, *params, None, 0., 0.)
    return torch.argmax(py_x, dim=1).numpy()


def main(epochs=100, batch_size=128, ntrain=60000, ntest=10000, seed=42, data_dir=None,
         log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    seed: the initial weights (np.random) and the dropout masks (a torch.Generator)
    """
    np.random.seed(seed)
    generator = torch.Generator().manual_seed(seed)  # MRG_RandomStreams(seed): dropout's own stream
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)
    trX = trX.reshape(-1, 1, 28, 28)  # (images, channels, rows, columns)
    teX = teX.reshape(-1, 1, 28, 28)
    trX, teX, trY = torch.from_numpy(trX), torch.from_numpy(teX), torch.from_numpy(trY)  # float32

    w = init_weights((32, 1, 3, 3))
    w2 = init_weights((64, 32, 3, 3))
    w3 = init_weights((128, 64, 3, 3))
    w4 = init_weights((128 * 3 * 3, 625))
    w_o = init_weights((625, 10))
    params = [w, w2, w3, w4, w_o]
    accs = [torch.zeros_like(p) for p in params]  # RMSprop's theano.shared(p.get_value() * 0.)

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            progress.step(train(params, accs, trX[start:end], trY[start:end], generator))
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(params, teX))
        progress.epoch(i, accuracy)
    if save:
        save_arrays(save, **{name: p.detach().numpy() for name, p in zip(["w", "w2", "w3", "w4", "w_o"], params)})
    return accuracy


if __name__ == "__main__":
    run(main)
