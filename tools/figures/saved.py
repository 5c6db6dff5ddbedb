"""The saved models: each script's own model() on the weights --save wrote, compiled for prediction
without dropout noise; and which saved model stands for each script."""
import inspect

import numpy as np

import plumbing.defaults  # noqa: F401  (Theano's set-up, before theano)
import theano
from theano import tensor as T

from tools.lessons import MNIST_LESSONS, as_input, import_script
from tools.logs import seed_logs

SCRIPTS = list(MNIST_LESSONS)  # 2_logistic_regression ... 5_convolutional_net


class SavedModelError(Exception):
    """A saved model that does not fit its script's model()."""


def saved_model(script, path):
    """(X, outputs): the script's own model() on the weights saved in path, without dropout noise;
    outputs as model() returns them, py_x last."""
    module = import_script(script)
    weights = np.load(path, allow_pickle=False)
    X = T.TensorType(theano.config.floatX, (False,) * (1 + len(MNIST_LESSONS[script].image)))()
    args = []
    for name in list(inspect.signature(module.model).parameters)[1:]:
        if name in weights:
            args.append(theano.shared(weights[name]))
        elif name == "srng":
            args.append(module.RandomStreams(1))
        elif name.startswith("p_drop"):
            args.append(0.)  # no noise for prediction
        else:
            raise SavedModelError(f"{path} holds no {name!r}, which {script}.py's model() takes "
                                  f"(it holds {', '.join(weights.files) or 'nothing'})")
    outputs = module.model(X, *args)
    return X, list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]


def saved_predict(script, path):
    """predict(images shaped for the script) -> labels, from a saved model."""
    X, outputs = saved_model(script, path)
    return theano.function([X], T.argmax(outputs[-1], axis=1), allow_input_downcast=True)


def saved_outputs(script, path):
    """f(images shaped for the script) -> everything model() returns, py_x last, from a saved model."""
    X, outputs = saved_model(script, path)
    return theano.function([X], outputs, allow_input_downcast=True)


def pick_models(results):
    """{script: path of the model saved by its longest run, seed 42 first, else the lowest seed}."""
    picked = {}
    for script in SCRIPTS:
        runs = seed_logs(results / "logs", script)
        saved = [(-len(runs.get(seed, [])), seed != 42, seed) for seed in runs
                 if (results / "models" / f"{script}-seed{seed}.npz").exists()]
        if saved:
            picked[script] = results / "models" / f"{script}-seed{min(saved)[2]}.npz"
    return picked


def probabilities(models, teX):
    """{script: py_x (len(teX), 10)}: each saved model's probabilities for the test images."""
    return {script: saved_outputs(script, path)(as_input(script, teX))[-1] for script, path in models.items()}
