"""One side of a port test, run in that side's own interpreter; what it computed goes to an .npz file.

    python worker.py FRAMEWORK steps LESSON --seed S --steps K --batch-size B [--jitter J] [--scale-last F] --out FILE.npz
    python worker.py FRAMEWORK dropout LESSON --seed S --out FILE.npz

FRAMEWORK is theano (the lesson itself, in .venv) or torch, jax, pytensor (its port, in that venv).
`steps` draws the lesson's initial weights with NumPy from the seed (the lesson's init_weights, in
the lesson's order), saves the model's outputs on the first minibatch with dropout off, then makes K
steps of the lesson's optimiser on the first K minibatches, dropout off, and saves each step's cost
and the weights after. `dropout` saves two draws of dropout(ones) at each rate the lessons use, and
what p=0 gives back. --scale-last multiplies the last weight matrix (w_o) by F before the steps: a
confident output layer, whose softmax underflows to 0 for some digits. Everything is called through
the lesson's or port's public functions.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.lessons import import_script  # noqa: E402

WEIGHTS = {  # the lessons' weights, in the order their main() draws them
    "4_modern_net": {"w_h": (784, 625), "w_h2": (625, 625), "w_o": (625, 10)},
    "5_convolutional_net": {"w": (32, 1, 3, 3), "w2": (64, 32, 3, 3), "w3": (128, 64, 3, 3),
                            "w4": (128 * 3 * 3, 625), "w_o": (625, 10)},
}
IMAGE = {"4_modern_net": (784,), "5_convolutional_net": (1, 28, 28)}
LR = 0.001  # the lessons' RMSprop(cost, params, lr=0.001), for the symbolic sides' updates
DROPOUT_SHAPE = (1000, 625)


def load_module(framework, lesson):
    if framework == "theano":
        import plumbing.defaults  # noqa: F401  (Theano's set-up, before theano)
        return import_script(lesson)
    return import_script(ROOT / "ports" / framework / lesson)


def minibatches(lesson, steps, batch_size, jitter=0.):
    """The first `steps` minibatches of MNIST, plus uniform noise in [0, jitter) from a fixed seed (the
    same on both sides), which breaks the exact ties of saturated pixels (see test_steps.py)."""
    from load import mnist
    trX, _, trY, _ = mnist(ntrain=steps * batch_size, ntest=1, onehot=True)
    trX += np.random.RandomState(0).uniform(0, jitter, trX.shape).astype(np.float32)
    trX = trX.reshape(-1, *IMAGE[lesson])
    return [(trX[i:i + batch_size], trY[i:i + batch_size]) for i in range(0, len(trX), batch_size)]


def symbolic_steps(framework, m, lesson, params, batches):
    """Theano's lesson or the PyTensor port: compile the model with dropout off and the RMSprop updates."""
    if framework == "theano":
        import theano as lib
        from theano.sandbox.rng_mrg import MRG_RandomStreams
        from theano.tensor.nnet import categorical_crossentropy
        random = MRG_RandomStreams(1)
    else:
        import pytensor as lib
        from pytensor.tensor.random import shared_rng
        categorical_crossentropy = m.categorical_crossentropy
        random = shared_rng(seed=1)
    T = lib.tensor
    X = T.fmatrix() if len(IMAGE[lesson]) == 1 else T.ftensor4()
    Y = T.fmatrix()
    outputs = list(m.model(X, *params, random, 0., 0.))
    if framework == "pytensor":
        outputs = outputs[:-1]  # the port's model also returns the generator's next state
    cost = T.mean(categorical_crossentropy(outputs[-1], Y))
    # log(py_x), which Theano's optimizer computes as a log-softmax: the PyTorch and JAX ports' model
    # returns it last, for their cost
    forward = lib.function([X], outputs + [T.log(outputs[-1])])
    train = lib.function([X, Y], cost, updates=m.RMSprop(cost, params, lr=LR))
    first = forward(batches[0][0])
    costs = [train(x, y) for x, y in batches]
    return first, costs, [p.get_value() for p in params]


def torch_steps(m, params, batches):
    import torch
    accs = [torch.zeros_like(p) for p in params]
    with torch.no_grad():
        first = [o.numpy() for o in m.model(torch.from_numpy(batches[0][0]), *params, None, 0., 0.)]
    costs = [m.train(params, accs, torch.from_numpy(x), torch.from_numpy(y), None, 0., 0.)  # dropout off
             for x, y in batches]
    return first, costs, [p.detach().numpy() for p in params]


def jax_steps(m, params, batches):
    import jax
    import jax.numpy as jnp
    key = jax.random.key(1)  # dropout is off: no mask is drawn from it
    accs = [jnp.zeros_like(p) for p in params]
    first = [np.asarray(o) for o in m.model(batches[0][0], *params, key, 0., 0.)]
    costs = []
    for x, y in batches:
        params, accs, cost = m.train(params, accs, x, y, key, 0., 0.)  # dropout off
        costs.append(float(cost))
    return first, costs, [np.asarray(p) for p in params]


def scaled(framework, w, scale):
    """w (a shared variable, tensor or array) times scale, as the framework holds it."""
    if framework in ("theano", "pytensor"):
        w.set_value(w.get_value() * np.float32(scale))
        return w
    if framework == "torch":
        import torch
        with torch.no_grad():
            return w.mul_(scale)
    return w * np.float32(scale)


def steps(framework, m, lesson, seed, k, batch_size, jitter, scale_last=1.):
    np.random.seed(seed)
    params = [m.init_weights(shape) for shape in WEIGHTS[lesson].values()]
    params[-1] = scaled(framework, params[-1], scale_last)
    batches = minibatches(lesson, k, batch_size, jitter)
    if framework in ("theano", "pytensor"):
        first, costs, weights = symbolic_steps(framework, m, lesson, params, batches)
    elif framework == "torch":
        first, costs, weights = torch_steps(m, params, batches)
    else:
        first, costs, weights = jax_steps(m, params, batches)
    arrays = {f"output{i}": np.asarray(o) for i, o in enumerate(first)}
    arrays.update({name: np.asarray(w) for name, w in zip(WEIGHTS[lesson], weights)})
    return dict(arrays, costs=np.asarray(costs, dtype=np.float64))


def dropout_draws(framework, m, seed):
    """{f"p{p}_{draw}": dropout(ones, p)} for two draws at p = 0.2 and 0.5, and f"p0": dropout(ones, 0)."""
    ones = np.ones(DROPOUT_SHAPE, dtype=np.float32)
    out = {}
    if framework == "torch":
        import torch
        generator = torch.Generator().manual_seed(seed)
        for p in (0.2, 0.5):
            for draw in (1, 2):
                out[f"p{p}_{draw}"] = m.dropout(torch.from_numpy(ones), generator, p).numpy()
        out["p0"] = m.dropout(torch.from_numpy(ones), generator, 0.).numpy()
    elif framework == "jax":
        import jax
        keys = jax.random.split(jax.random.key(seed), 2)
        for p in (0.2, 0.5):
            for draw, key in zip((1, 2), keys):
                out[f"p{p}_{draw}"] = np.asarray(m.dropout(ones, key, p))
        out["p0"] = np.asarray(m.dropout(ones, keys[0], 0.))
    else:  # pytensor: dropout returns the generator's next state; the function's update moves it on
        import pytensor
        from pytensor.tensor.random import shared_rng
        rng = shared_rng(seed=seed)
        X = pytensor.tensor.fmatrix()
        for p in (0.2, 0.5):
            noisy, next_rng = m.dropout(X, rng, p)
            draw_once = pytensor.function([X], noisy, updates=[(rng, next_rng)])
            for draw in (1, 2):
                out[f"p{p}_{draw}"] = draw_once(ones)
        same, _ = m.dropout(X, rng, 0.)
        out["p0"] = pytensor.function([X], same)(ones)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=["theano", "torch", "jax", "pytensor"])
    parser.add_argument("job", choices=["steps", "dropout"])
    parser.add_argument("lesson", choices=list(WEIGHTS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--jitter", type=float, default=0.)
    parser.add_argument("--scale-last", type=float, default=1.)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    m = load_module(args.framework, args.lesson)
    if args.job == "steps":
        arrays = steps(args.framework, m, args.lesson, args.seed, args.steps, args.batch_size, args.jitter,
                       args.scale_last)
    else:
        arrays = dropout_draws(args.framework, m, args.seed)
    np.savez(args.out, **arrays)


if __name__ == "__main__":
    main()
