"""Slide "A 'modern' net" in PyTorch: rectifiers, dropout and RMSprop, two layers of 625; the slide shows 99.0 %."""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the lessons' folder: load.py and plumbing/
from load import mnist  # noqa: E402
from plumbing.cli import dropout_rate, run  # noqa: E402  (the command line: a flag per keyword of main())
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


def model(X, w_h, w_h2, w_o, generator, p_drop_input, p_drop_hidden):
    X = dropout(X, generator, p_drop_input)
    h = rectify(X @ w_h)

    h = dropout(h, generator, p_drop_hidden)
    h2 = rectify(h @ w_h2)

    h2 = dropout(h2, generator, p_drop_hidden)
    o = h2 @ w_o  # (batch, 10): softmax's input
    py_x = softmax(o)
    return h, h2, py_x, log_softmax(o)  # the last for the cost


def categorical_crossentropy(log_py_x, Y):  # T.nnet.categorical_crossentropy(py_x, Y) for one-hot Y
    # from log(py_x) as Theano computes it (log_softmax). Written as -sum(Y * log(py_x)), the cost turns NaN once
    # a probability underflows to 0 (0 * log 0): the JAX port did so in epoch 14 of lesson 4's 100
    return -torch.sum(Y * log_py_x, dim=1)


def train(params, accs, X, Y, generator, p_drop_input=0.2, p_drop_hidden=0.5, lr=0.001):  # theano.function(updates=)
    noise_h, noise_h2, noise_py_x, noise_log_py_x = model(X, *params, generator, p_drop_input, p_drop_hidden)
    cost = torch.mean(categorical_crossentropy(noise_log_py_x, Y))
    RMSprop(cost, params, accs, lr=lr)
    return cost.item()


@torch.no_grad()
def predict(params, X):  # theano.function(inputs=[X], outputs=y_x): no noise
    h, h2, py_x, log_py_x = model(X, *params, None, 0., 0.)
    return torch.argmax(py_x, dim=1).numpy()


def main(epochs=100, batch_size=128, lr=0.001, p_drop_input=0.2, p_drop_hidden=0.5, ntrain=60000, ntest=10000,
         seed=42, data_dir=None, log=None, save=None):
    """Train on MNIST and test after each epoch, one line per epoch.

    lr: RMSprop()'s learning rate
    p_drop_input: the fraction of input pixels dropout zeroes in training
    p_drop_hidden: the fraction of each hidden layer's units dropout zeroes in training
    seed: the initial weights (np.random) and the dropout masks (a torch.Generator)
    """
    np.random.seed(seed)
    generator = torch.Generator().manual_seed(seed)  # MRG_RandomStreams(seed): dropout's own stream
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)
    trX, teX, trY = torch.from_numpy(trX), torch.from_numpy(teX), torch.from_numpy(trY)  # float32

    w_h = init_weights((784, 625))
    w_h2 = init_weights((625, 625))
    w_o = init_weights((625, 10))
    params = [w_h, w_h2, w_o]
    accs = [torch.zeros_like(p) for p in params]  # RMSprop's theano.shared(p.get_value() * 0.)

    progress = Progress(steps=len(trX) // batch_size, epochs=epochs, log=log)
    for i in range(epochs):
        for start, end in zip(range(0, len(trX), batch_size), range(batch_size, len(trX) + 1, batch_size)):
            cost = train(params, accs, trX[start:end], trY[start:end], generator, p_drop_input, p_drop_hidden, lr)
            progress.step(cost)
        accuracy = np.mean(np.argmax(teY, axis=1) == predict(params, teX))
        progress.epoch(i, accuracy)
    if save:
        save_arrays(save, w_h=w_h.detach().numpy(), w_h2=w_h2.detach().numpy(), w_o=w_o.detach().numpy())
    return accuracy


if __name__ == "__main__":
    run(main, p_drop_input=dropout_rate, p_drop_hidden=dropout_rate)
