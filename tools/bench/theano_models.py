"""Scripts 2-5's training and prediction functions, built from each lesson's own public functions
(init_weights, model, sgd or RMSprop, ...) exactly as its main() builds them, for the bench to time.
tests/test_bench.py checks that the costs of these functions equal those the lesson logs itself.
"""
import numpy as np
import theano
from theano import tensor as T

from tools.lessons import import_script


def build(script, seed=42, dropout=True):
    """(train(x, y) -> cost, predict(x) -> labels) of the script's model, its weights drawn with seed;
    dropout=False turns the dropout of scripts 4 and 5 off."""
    lesson = import_script(script)
    p_drop = (0.2, 0.5) if dropout else (0., 0.)
    np.random.seed(seed)
    X = T.ftensor4() if script == "5_convolutional_net" else T.fmatrix()
    Y = T.fmatrix()
    if script == "2_logistic_regression":
        w = lesson.init_weights((784, 10))
        params = [w]
        py_x = noise_py_x = lesson.model(X, w)
    elif script == "3_net":
        params = [lesson.init_weights((784, 625)), lesson.init_weights((625, 10))]
        py_x = noise_py_x = lesson.model(X, *params)
    elif script == "4_modern_net":
        srng = lesson.RandomStreams(seed)
        params = [lesson.init_weights((784, 625)), lesson.init_weights((625, 625)), lesson.init_weights((625, 10))]
        noise_py_x = lesson.model(X, *params, srng, *p_drop)[-1]
        py_x = lesson.model(X, *params, srng, 0., 0.)[-1]
    elif script == "5_convolutional_net":
        srng = lesson.RandomStreams(seed)
        params = [lesson.init_weights((32, 1, 3, 3)), lesson.init_weights((64, 32, 3, 3)),
                  lesson.init_weights((128, 64, 3, 3)), lesson.init_weights((128 * 3 * 3, 625)),
                  lesson.init_weights((625, 10))]
        noise_py_x = lesson.model(X, *params, srng, *p_drop)[-1]
        py_x = lesson.model(X, *params, srng, 0., 0.)[-1]
    else:
        raise ValueError(f"no bench model for {script}")
    cost = T.mean(T.nnet.categorical_crossentropy(noise_py_x, Y))
    if script == "2_logistic_regression":
        updates = [[w, w - T.grad(cost=cost, wrt=w) * 0.05]]
    elif script == "3_net":
        updates = lesson.sgd(cost, params)
    else:
        updates = lesson.RMSprop(cost, params, lr=0.001)
    train = theano.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)
    predict = theano.function(inputs=[X], outputs=T.argmax(py_x, axis=1), allow_input_downcast=True)
    return train, predict
