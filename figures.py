"""The talk's pictures, from the logs and models that reproduce.py (or --log / --save) wrote.

    .venv/bin/python figures.py [--results results] [--out results/figures]

logistic_templates.png  "What it learns": the ten 28x28 weight templates of the logistic regression
first_layer_3_net.png, first_layer_4_modern_net.png: 100 first-layer units of each net, as 28x28 images
conv_filters.png        the convnet's 32 first-layer 3x3 filters
accuracy.png            "Quantifying the difference": test accuracy per epoch, every model
misclassified.png       test digits the best saved model gets wrong, with true and predicted labels
Each saved model is evaluated again on the test set (no training) and its accuracy printed.
"""
import argparse
import inspect
import sys
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import tutorial  # noqa: E402  (Theano's defaults, before theano)
import theano  # noqa: E402
from theano import tensor as T  # noqa: E402

from load import DataError, mnist  # noqa: E402
from reproduce import SLIDES  # noqa: E402

ROOT = Path(__file__).resolve().parent
SCRIPTS = list(SLIDES)  # 2_logistic_regression ... 5_convolutional_net


def saved_predict(script, path):
    """predict(X) -> labels, from the script's own model() and the weights saved in path."""
    module = tutorial.import_script(script)
    weights = np.load(path, allow_pickle=False)
    X = T.ftensor4() if script.startswith("5") else T.fmatrix()
    args = []
    for name in list(inspect.signature(module.model).parameters)[1:]:
        if name in weights:
            args.append(theano.shared(weights[name]))
        elif name == "srng":
            args.append(module.RandomStreams(1))
        else:
            args.append(0.)  # a dropout probability: no noise for prediction
    py_x = module.model(X, *args)
    py_x = py_x[-1] if isinstance(py_x, (tuple, list)) else py_x
    return theano.function([X], T.argmax(py_x, axis=1), allow_input_downcast=True)


def image_grid(images, columns, path, title, cmap="gray", size=1.0, labels=None):
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            limit = np.abs(images[i]).max() or 1
            ax.imshow(images[i], cmap=cmap, **({} if cmap == "gray_r" else {"vmin": -limit, "vmax": limit}))
            if labels is not None:
                ax.set_title(labels[i], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig, path):
    tutorial.write_atomically(path, lambda f: fig.savefig(f, format="png", dpi=80))
    plt.close(fig)
    print(f"wrote {path}")


def accuracy_chart(logs, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for script in SCRIPTS:
        log = logs / f"{script}.csv"
        if log.exists():
            data = np.loadtxt(log, delimiter=",", skiprows=1, ndmin=2)
            ax.plot(data[:, 0], 100 * data[:, 2], label=script, marker="." if len(data) < 30 else None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(bottom=max(ax.get_ylim()[0], 80))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Quantifying the difference")
    fig.tight_layout()
    save_figure(fig, path)


# --- the 2D moons: moons.py -----------------------------------------------------------------------

MOONS_BOX = (-1.6, 2.6, -1.1, 1.6)  # x from, x to, y from, y to


def moons_grid(size=(140, 90)):
    """Points (size[0] * size[1], 3) covering the moons, with the constant 1 moons.py appends."""
    xs, ys = np.meshgrid(np.linspace(*MOONS_BOX[:2], size[0]), np.linspace(*MOONS_BOX[2:], size[1]))
    return np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)], axis=1).astype("float32")


def snapshot_steps(steps):
    """Steps after which the boundary is drawn: four for the SGD slide, 40 frames for the animation."""
    frames = np.unique(np.geomspace(min(50, steps), steps, 40).astype(int))
    return set(frames) | {max(1, steps // 20), max(1, steps // 4), max(1, steps // 2), steps}


def logistic_accuracy(trX, trY):
    """Training accuracy of a logistic regression on the same points (scikit-learn): the line to beat."""
    from sklearn.linear_model import LogisticRegression
    labels = trY.argmax(axis=1)
    return LogisticRegression().fit(trX[:, :2], labels).score(trX[:, :2], labels)


def draw_boundary(ax, labels_on_grid, trX, trY, title):
    shape = (90, 140)
    ax.contourf(labels_on_grid.reshape(shape), extent=MOONS_BOX, origin="lower", levels=[-0.5, 0.5, 1.5],
                colors=["#f4c7a1", "#a9cbe8"])
    ax.scatter(trX[:, 0], trX[:, 1], c=trY.argmax(axis=1), cmap="coolwarm_r", s=10, edgecolors="k", linewidths=0.3)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def moons_pictures(out, trX, trY, results):
    """understanding_{sgd,units,rmsprop}.png and understanding_rmsprop.gif into out."""
    from matplotlib import animation
    out = Path(out or ROOT / "results" / "figures")
    out.mkdir(parents=True, exist_ok=True)
    sgd, sigmoid, rmsprop = (results[k] for k in ("rectifiers, SGD", "sigmoids, SGD", "rectifiers, RMSprop"))
    steps = len(sgd["cost"])

    fig, axes = plt.subplots(1, 5, figsize=(16, 3.2))
    for ax, step in zip(axes, [max(1, steps // 20), max(1, steps // 4), max(1, steps // 2), steps]):
        draw_boundary(ax, sgd["frames"][step], trX, trY, f"after {step:,} SGD steps")
    axes[4].plot(sgd["cost"])
    axes[4].set(xlabel="step", ylabel="training cost", title="cost")
    fig.suptitle("Understanding SGD: rectifier net, lr 0.05")
    fig.tight_layout()
    save_figure(fig, out / "understanding_sgd.png")

    for name, (a, b), (label_a, label_b) in [
            ("understanding_units.png", (sigmoid, sgd), ("sigmoid units", "rectifier units")),
            ("understanding_rmsprop.png", (sgd, rmsprop), ("SGD", "RMSprop"))]:
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
        draw_boundary(axes[0], a["frames"][steps], trX, trY, f"{label_a}: training accuracy {a['accuracy']:.2f}")
        draw_boundary(axes[1], b["frames"][steps], trX, trY, f"{label_b}: training accuracy {b['accuracy']:.2f}")
        axes[2].plot(a["cost"], label=label_a)
        axes[2].plot(b["cost"], label=label_b)
        axes[2].set(xlabel="step", ylabel="training cost", title=f"after {steps:,} full-batch steps")
        axes[2].legend()
        fig.suptitle(f"Understanding {'sigmoid and rectifier units (SGD)' if 'units' in name else 'RMSprop (rectifiers)'}"
                     f"; logistic regression: {results['logistic regression']:.2f}")
        fig.tight_layout()
        save_figure(fig, out / name)

    frames = sorted(set(sgd["frames"]) & set(rmsprop["frames"]))
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))

    def draw(step):
        for ax, run, label in ((axes[0], sgd, "SGD"), (axes[1], rmsprop, "RMSprop")):
            ax.clear()
            draw_boundary(ax, run["frames"][step], trX, trY, f"{label}, step {step:,}: cost {run['cost'][step - 1]:.3f}")

    movie = animation.FuncAnimation(fig, draw, frames=frames)
    gif = out / "understanding_rmsprop.gif"
    part = out / ".understanding_rmsprop.part.gif"  # Pillow picks the format by suffix
    movie.save(part, writer=animation.PillowWriter(fps=6))
    part.replace(gif)
    plt.close(fig)
    print(f"wrote {gif}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default=str(ROOT / "results"), help="folder with logs/ and models/")
    parser.add_argument("--out", help="folder for the pictures (default: RESULTS/figures)")
    parser.add_argument("--ntest", type=tutorial.positive_int, default=10000, help="test images to evaluate on")
    args = parser.parse_args()
    results = Path(args.results)
    out = Path(args.out or results / "figures")
    models = {s: results / "models" / f"{s}.npz" for s in SCRIPTS if (results / "models" / f"{s}.npz").exists()}
    if not models:
        sys.exit(f"no saved models in {results / 'models'}: run reproduce.py (or make reproduce-quick) first")
    out.mkdir(parents=True, exist_ok=True)

    if "2_logistic_regression" in models:
        w = np.load(models["2_logistic_regression"], allow_pickle=False)["w"]  # (784, 10)
        image_grid(w.T.reshape(10, 28, 28), 10, out / "logistic_templates.png",
                   "What it learns: the logistic regression's weights, digits 0-9", cmap="RdBu_r", size=1.2,
                   labels=[str(d) for d in range(10)])
    for script in ("3_net", "4_modern_net"):
        if script in models:
            w_h = np.load(models[script], allow_pickle=False)["w_h"]  # (784, 625)
            image_grid(w_h.T[:100].reshape(100, 28, 28), 10, out / f"first_layer_{script}.png",
                       f"{script}: weights of 100 of the 625 first-layer units", cmap="RdBu_r", size=0.8)
    if "5_convolutional_net" in models:
        w = np.load(models["5_convolutional_net"], allow_pickle=False)["w"]  # (32, 1, 3, 3)
        image_grid(w[:, 0], 8, out / "conv_filters.png", "The convnet's 32 first-layer 3x3 filters",
                   cmap="RdBu_r", size=0.8)
    accuracy_chart(results / "logs", out / "accuracy.png")

    trX, teX, trY, teY = mnist(ntrain=1, ntest=args.ntest, onehot=False)
    predictions = {}
    for script, path in models.items():
        X = teX.reshape(-1, 1, 28, 28) if script.startswith("5") else teX
        predictions[script] = saved_predict(script, path)(X)
        print(f"{script}: test accuracy {np.mean(predictions[script] == teY):.4f} (saved model, evaluated again)")
    best = max(predictions, key=lambda s: np.mean(predictions[s] == teY))
    wrong = np.flatnonzero(predictions[best] != teY)[:40]
    image_grid(teX[wrong].reshape(-1, 28, 28), 10, out / "misclassified.png",
               f"Test digits {best} gets wrong ({len(np.flatnonzero(predictions[best] != teY))} "
               f"of {len(teY)}): true -> predicted", cmap="gray_r",
               labels=[f"{t} -> {p}" for t, p in zip(teY[wrong], predictions[best][wrong])])


if __name__ == "__main__":
    try:
        main()
    except DataError as error:
        sys.exit(f"error: {error}")
