"""Slides "Understanding SGD / Sigmoid Units / rectifier units / RMSprop": a small net on the 2D moons.

Choices: 200 points, noise 0.2, 100 hidden units, the talk's init (randn * 0.01) and optimisers
(SGD lr 0.05; RMSprop lr 0.001, rho 0.9, eps 1e-6), 20,000 full-batch steps. Each point gets a
constant third coordinate 1: the talk's nets have no biases, and without one every hidden unit's
line passes through the origin, so the boundary cannot wrap around a moon.
"""
import plumbing.defaults  # Theano's set-up: import it before theano
import numpy as np
import theano
from theano import tensor as T

from plumbing.cli import run  # the command line: a flag for each keyword of main()
from plumbing.progress import Progress
from plumbing.saving import save_arrays


def floatX(X):
    return np.asarray(X, dtype=theano.config.floatX)


def init_weights(shape):
    return theano.shared(floatX(np.random.randn(*shape) * 0.01))


def rectify(X):
    return T.maximum(X, 0.)


def sgd(cost, params, lr=0.05):
    grads = T.grad(cost=cost, wrt=params)
    updates = []
    for p, g in zip(params, grads):
        updates.append([p, p - g * lr])
    return updates


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


def model(X, w_h, w_o, activation):
    h = activation(T.dot(X, w_h))
    py_x = T.nnet.softmax(T.dot(h, w_o))
    return py_x


def moons(n=200, noise=0.2, seed=42):
    """Points (n, 3) with a constant 1 appended, one-hot labels (n, 2)."""
    from sklearn.datasets import make_moons
    points, labels = make_moons(n, noise=noise, random_state=seed)
    return floatX(np.hstack([points, np.ones((n, 1))])), floatX(np.eye(2)[labels])


BOX = (-1.6, 2.6, -1.1, 1.6)  # the plane around the moons: x from, x to, y from, y to
GRID = (140, 90)  # points across, points up


def moons_grid():
    """Points (140 * 90, 3) covering BOX, with the constant 1: where a boundary is drawn."""
    xs, ys = np.meshgrid(np.linspace(*BOX[:2], GRID[0]), np.linspace(*BOX[2:], GRID[1]))
    return np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)], axis=1).astype("float32")


def snapshot_steps(steps):
    """Steps after which the boundary is recorded: four for the SGD slide, 40 frames for the animation."""
    frames = np.unique(np.geomspace(min(50, steps), steps, 40).astype(int))
    return set(frames) | {max(1, steps // 20), max(1, steps // 4), max(1, steps // 2), steps}


def logistic_accuracy(trX, trY):
    """Training accuracy of a logistic regression on the same points (scikit-learn): the line to beat."""
    from sklearn.linear_model import LogisticRegression
    labels = trY.argmax(axis=1)
    return LogisticRegression().fit(trX[:, :2], labels).score(trX[:, :2], labels)


RUNS = {  # name -> (hidden units' activation, optimiser); the same data and initial weights for all
    "rectifiers, SGD": (rectify, sgd),
    "sigmoids, SGD": (T.nnet.sigmoid, sgd),
    "rectifiers, RMSprop": (rectify, RMSprop),
}


def main(steps=20000, seed=42, save=None):
    """Train the three nets of RUNS on the moons, each from the same initial weights.

    seed: the moons' noise (scikit-learn) and the initial weights (np.random)
    save: write each run's costs and boundaries to this .npz file (python -m tools.figures draws them)
    """
    trX, trY = moons(seed=seed)
    grid = moons_grid()  # (12600, 3)
    snapshots = snapshot_steps(steps)

    X = T.fmatrix()
    Y = T.fmatrix()

    results = {"logistic regression": logistic_accuracy(trX, trY)}
    for name, (activation, optimiser) in RUNS.items():
        np.random.seed(seed)
        w_h = init_weights((3, 100))
        w_o = init_weights((100, 2))

        py_x = model(X, w_h, w_o, activation)
        y_x = T.argmax(py_x, axis=1)
        cost = T.mean(T.nnet.categorical_crossentropy(py_x, Y))
        updates = optimiser(cost, [w_h, w_o])

        train = theano.function(inputs=[X, Y], outputs=cost, updates=updates, allow_input_downcast=True)
        predict = theano.function(inputs=[X], outputs=y_x, allow_input_downcast=True)

        progress = Progress(steps=steps)
        costs, frames = [], {}
        for i in range(steps):
            costs.append(train(trX, trY))
            progress.step(costs[-1])
            if i + 1 in snapshots:
                frames[i + 1] = predict(grid)
        progress.close()
        accuracy = np.mean(predict(trX) == np.argmax(trY, axis=1))
        results[name] = {"cost": np.array(costs), "accuracy": accuracy, "frames": frames}
        print(f"{name:20s}  cost {costs[-1]:.4f}  training accuracy {accuracy:.3f}")
    print(f"{'logistic regression':20s}  training accuracy {results['logistic regression']:.3f}")
    if save:
        save_arrays(save, **saved_runs(trX, trY, results))
        print(f"saved the runs to {save}")
    return results


def saved_runs(trX, trY, results):
    """The moons, and each run's costs and boundaries, as arrays named for np.savez."""
    arrays = {"trX": trX, "trY": trY, "box": np.array(BOX), "grid": np.array(GRID),
              "logistic_accuracy": np.array(results["logistic regression"])}
    for i, name in enumerate(RUNS):
        run_ = results[name]
        arrays.update({f"run{i}_name": np.array(name), f"run{i}_cost": run_["cost"],
                       f"run{i}_accuracy": np.array(run_["accuracy"]),
                       f"run{i}_steps": np.array(sorted(run_["frames"])),
                       f"run{i}_frames": np.array([run_["frames"][k] for k in sorted(run_["frames"])],
                                                    dtype=np.uint8)})  # labels 0 or 1: a byte each
    return arrays


if __name__ == "__main__":
    run(main)
