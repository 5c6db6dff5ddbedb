"""Scripts 2-5 as their ports have them (ports/torch, ports/jax, ports/pytensor), for the bench to time
beside Theano's (theano_models.py). Runs in that framework's own venv (.venv-torch, .venv-jax,
.venv-pytensor: make ports).

build(framework, script) gives train(x, y) -> cost and predict(x) -> labels, made of the port's own
public functions: its init_weights, drawn with NumPy from the lesson's seed in the lesson's order
(so the port starts from the lesson's exact weights), and its train function (PyTorch, JAX) or its
model, cross-entropy and sgd / RMSprop compiled as its main() compiles them (PyTensor). The update
is therefore the lesson's: SGD lr 0.05, or RMSprop p - lr * g / sqrt(acc + eps), lr 0.001.
"""
import numpy as np

from tools.lessons import ROOT, import_script

SHAPES = {  # each script's weights, in the order its main() draws them
    "2_logistic_regression": [(784, 10)],
    "3_net": [(784, 625), (625, 10)],
    "4_modern_net": [(784, 625), (625, 625), (625, 10)],
    "5_convolutional_net": [(32, 1, 3, 3), (64, 32, 3, 3), (128, 64, 3, 3), (128 * 3 * 3, 625), (625, 10)],
}
DROPOUT = (0.2, 0.5)  # scripts 4 and 5: the input's (or convolutions') and the hidden layers' rates


def build(framework, script, seed=42, dropout=True, compile=False):
    """(train, predict) of the port's model, its weights drawn with seed; dropout=False turns it off;
    compile=True (PyTorch) passes the port's train function through torch.compile."""
    if script not in SHAPES:
        raise ValueError(f"no port to time for {script}")
    port = import_script(ROOT / "ports" / framework / script)  # builds and trains nothing
    np.random.seed(seed)
    params = [port.init_weights(shape) for shape in SHAPES[script]]
    p_drop = (DROPOUT if dropout else (0., 0.)) if script in ("4_modern_net", "5_convolutional_net") else None
    if framework == "torch":
        return torch_functions(port, script, params, p_drop, seed, compile)
    return {"jax": jax_functions, "pytensor": pytensor_functions}[framework](port, script, params, p_drop, seed)


def torch_functions(port, script, params, p_drop, seed, compile=False):
    """The port's train(...) updates its tensors in place under torch.no_grad() and returns the cost;
    compile: through torch.compile, which compiles on the first calls (graph breaks run eagerly)."""
    import torch
    port_train = torch.compile(port.train) if compile else port.train
    weights = params[0] if script == "2_logistic_regression" else params
    if p_drop is None:
        def step(X, Y):
            return port_train(weights, X, Y)
    else:
        generator = torch.Generator().manual_seed(seed)  # the dropout masks' stream, as the port's main()
        accs = [torch.zeros_like(p) for p in params]  # RMSprop's accumulators

        def step(X, Y):
            return port_train(params, accs, X, Y, generator, *p_drop)

    def train(x, y):
        return step(torch.from_numpy(x), torch.from_numpy(y))

    def predict(x):
        return port.predict(weights, torch.from_numpy(x))

    return train, predict


def jax_functions(port, script, params, p_drop, seed):
    """The port's jitted train(...) returns the new weights (and accumulators) and the cost."""
    import jax
    import jax.numpy as jnp
    state = {"w": params[0] if script == "2_logistic_regression" else params}
    if p_drop is not None:
        state["accs"], state["key"] = [jnp.zeros_like(p) for p in params], jax.random.key(seed)

    def train(x, y):
        if p_drop is None:
            state["w"], cost = port.train(state["w"], x, y)
        else:
            state["key"], step_key = jax.random.split(state["key"])  # as the port's main(): a key per step
            state["w"], state["accs"], cost = port.train(state["w"], state["accs"], x, y, step_key, *p_drop)
        return float(cost)  # waits for the step, as Theano's and PyTorch's steps do

    def predict(x):
        return np.asarray(port.predict(state["w"], x))

    return train, predict


def pytensor_functions(port, script, params, p_drop, seed):
    """The port's model, cross-entropy and update, compiled with pytensor.function as its main() does."""
    import pytensor
    from pytensor import tensor as T
    X = T.ftensor4() if script == "5_convolutional_net" else T.fmatrix()
    Y = T.fmatrix()
    moves = []
    if p_drop is None:
        py_x = noise_py_x = port.model(X, *params)
    else:
        from pytensor.tensor.random import shared_rng
        rng = shared_rng(seed=seed)
        *_, noise_py_x, next_rng = port.model(X, *params, rng, *p_drop)
        *_, py_x, _ = port.model(X, *params, rng, 0., 0.)
        moves = [(rng, next_rng)] if any(p_drop) else []  # the masks' stream moves on
    cost = T.mean(port.categorical_crossentropy(noise_py_x, Y))
    if script == "2_logistic_regression":  # written out in the lesson's main(), as in the port's
        updates = [[params[0], params[0] - T.grad(cost=cost, wrt=params[0]) * 0.05]]
    elif script == "3_net":
        updates = port.sgd(cost, params)
    else:
        updates = port.RMSprop(cost, params, lr=0.001) + moves
    train = pytensor.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)
    predict = pytensor.function(inputs=[X], outputs=T.argmax(py_x, axis=1), allow_input_downcast=True)
    return train, predict
