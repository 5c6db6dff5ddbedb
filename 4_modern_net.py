"""Slide "A 'modern' net": rectifiers, dropout and RMSprop, two layers of 625; the slide shows 99.0 %."""
import plumbing.defaults  # Theano's set-up: import it before theano
import numpy as np
import theano
from theano import tensor as T
from theano.sandbox.rng_mrg import MRG_RandomStreams as RandomStreams

from load import mnist
from plumbing.cli import dropout_rate, mrg_seed, run  # the command line: a flag for each keyword of main()
from plumbing.graph import show_graph
from plumbing.progress import Progress
from plumbing.saving import save_weights


def floatX(X):
    return np.asarray(X, dtype=theano.config.floatX)


def init_weights(shape):
    return theano.shared(floatX(np.random.randn(*shape) * 0.01))


def rectify(X):
    return T.maximum(X, 0.)


def softmax(X):
    e_x = T.exp(X - X.max(axis=1).dimshuffle(0, 'x'))  # minus the row's max: exp never overflows
    return e_x / e_x.sum(axis=1).dimshuffle(0, 'x')


def RMSprop(cost, params, lr=0.001, rho=0.9, epsilon=1e-6):
    grads = T.grad(cost=cost, wrt=params)
    updates = []
    for p, g in zip(params, grads):
        acc = theano.shared(p.get_value() * 0.)
        acc_new = rho * acc + (1 - rho) * g ** 2
        gradient_scaling = T.sqrt(acc_new + epsilon)
        g = g / gradient_scaling
        updates.append((acc, acc_new))
        updates.append((p, p - lr * g))
    return updates


def dropout(X, srng, p=0.):
    if p > 0:
        retain_prob = 1 - p
        X *= srng.binomial(X.shape, p=retain_prob, dtype=theano.config.floatX)
        X /= retain_prob
    return X


def model(X, w_h, w_h2, w_o, srng, p_drop_input, p_drop_hidden):
    X = dropout(X, srng, p_drop_input)
    h = rectify(T.dot(X, w_h))

    h = dropout(h, srng, p_drop_hidden)
    h2 = rectify(T.dot(h, w_h2))

    h2 = dropout(h2, srng, p_drop_hidden)
    py_x = softmax(T.dot(h2, w_o))
    return h, h2, py_x


def main(epochs=100, batch_size=128, lr=0.001, p_drop_input=0.2, p_drop_hidden=0.5, ntrain=60000, ntest=10000,
         seed=42, data_dir=None, log=None, save=None, graph=False):
    """Train on MNIST and test after each epoch, one line per epoch.

    lr: RMSprop()'s learning rate
    p_drop_input: the fraction of input pixels dropout zeroes in training
    p_drop_hidden: the fraction of each hidden layer's units dropout zeroes in training
    seed: the initial weights (np.random) and the dropout masks (MRG_RandomStreams)
    """
    np.random.seed(seed)
    srng = RandomStreams(seed)
    trX, teX, trY, teY = mnist(ntrain=ntrain, ntest=ntest, onehot=True, data_dir=data_dir)

    X = T.fmatrix()
    Y = T.fmatrix()

    w_h = init_weights((784, 625))
    w_h2 = init_weights((625, 625))
    w_o = init_weights((625, 10))

    noise_h, noise_h2, noise_py_x = model(X, w_h, w_h2, w_o, srng, p_drop_input, p_drop_hidden)  # for training
    h, h2, py_x = model(X, w_h, w_h2, w_o, srng, 0., 0.)  # for prediction: no noise
    y_x = T.argmax(py_x, axis=1)

    cost = T.mean(T.nnet.categorical_crossentropy(noise_py_x, Y))
    params = [w_h, w_h2, w_o]
    updates = RMSprop(cost, params, lr=lr)

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
        save_weights(save, w_h=w_h, w_h2=w_h2, w_o=w_o)
    return accuracy


if __name__ == "__main__":
    run(main, seed=mrg_seed, p_drop_input=dropout_rate, p_drop_hidden=dropout_rate)  # seeds 1 to 2147462578
