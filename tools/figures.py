"""The talk's pictures, from the logs and models that reproduce.py (or --log / --save) wrote.

    python -m tools.figures [--results results] [--out RESULTS/figures]

logistic_templates.png  "What it learns": the ten 28x28 weight templates of the logistic regression
first_layer_3_net.png, first_layer_4_modern_net.png: 100 first-layer units of each net, as 28x28 images
conv_filters.png        the convnet's 32 first-layer 3x3 filters
accuracy.png            "Quantifying the difference": test accuracy per epoch, every model; a band
                        (lowest to highest) where several seeds ran
readout.png             "Zero One Two ... Nine": each model's probabilities for the same few test
                        digits, among them the first one each model gets wrong
noise.png               "Noise (or augmentation)": digits as the modern net sees them in training,
                        its input dropout (p = 0.2) applied, under the clean digit
conv_maps.png           "What a convolutional network learns": the feature maps of the convnet's
                        three conv + max-pool blocks for one test digit
misclassified.png       test digits the best saved model gets wrong, with true and predicted labels
understanding_*.png, understanding_rmsprop.gif: the moons lesson's boundaries and costs, from the
                        runs `understanding.py --save RESULTS/models/understanding.npz` wrote
Each script's model is the one saved by its longest run (seed 42 first, else the lowest seed); each
is evaluated again on the test set (no training) and its accuracy printed.
"""
import argparse
import inspect
import sys
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import plumbing.defaults  # noqa: E402  (Theano's set-up, before theano)
import theano  # noqa: E402
from theano import tensor as T  # noqa: E402

from load import DataError, mnist  # noqa: E402
from plumbing.cli import positive_int  # noqa: E402
from plumbing.paths import check_outputs  # noqa: E402
from plumbing.saving import write_atomically  # noqa: E402
from tools.lessons import MNIST_LESSONS, ROOT, as_input, import_script  # noqa: E402
from tools.logs import seed_logs  # noqa: E402

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


NAMES = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"]


def probabilities(models, teX):
    """{script: py_x (len(teX), 10)}: each saved model's probabilities for the test images."""
    return {script: saved_outputs(script, path)(as_input(script, teX))[-1] for script, path in models.items()}


def readout(py_x, teY, first=3):
    """(digits, {script: probabilities (len(digits), 10)}) from each model's py_x on the test set:
    the first test digits, then the first one each model gets wrong."""
    digits = list(range(first))
    for script, probabilities in py_x.items():
        wrong = np.flatnonzero(probabilities.argmax(axis=1) != teY)
        if len(wrong) and wrong[0] not in digits:
            digits.append(int(wrong[0]))
    return digits, {script: probabilities[digits] for script, probabilities in py_x.items()}


def readout_picture(digits, probabilities, teX, teY, path):
    fig, axes = plt.subplots(len(digits), 1 + len(probabilities), squeeze=False,
                             figsize=(1.2 + 3.2 * len(probabilities), 1.25 * len(digits) + 0.8),
                             gridspec_kw={"width_ratios": [0.4] + [1] * len(probabilities)})
    for row, digit in enumerate(digits):
        axes[row, 0].imshow(teX[digit].reshape(28, 28), cmap="gray_r")
        axes[row, 0].set_title(f"test #{digit}: {teY[digit]}", fontsize=8)
        axes[row, 0].axis("off")
        for ax, (script, p) in zip(axes[row, 1:], probabilities.items()):
            colors = ["#3b7dd8" if d == teY[digit] else "#bbbbbb" for d in range(10)]
            if p[row].argmax() != teY[digit]:
                colors[p[row].argmax()] = "#d8453b"  # a wrong answer
            ax.bar(range(10), p[row], color=colors)
            ax.set_ylim(0, 1.25)
            ax.set_yticks([0, 1])
            ax.tick_params(labelsize=9)
            ax.set_xticks(range(10))
            top = int(p[row].argmax())  # the model's answer, with its probability
            ax.text(top, p[row][top] + 0.04, f"{p[row][top]:.2f}", ha="center", fontsize=9)
            if row == 0:
                ax.set_title(script, fontsize=9)
    fig.suptitle("Zero One Two ... Nine: each model's probabilities for digits 0-9\n"
                 "(blue: the true digit, red: a wrong answer; the number: the answer's probability)")
    fig.tight_layout()
    save_figure(fig, path)


P_DROP_INPUT = 0.2  # the input dropout 4_modern_net.py's main() trains with


def noisy_digits(teX, digits, draws=2, seed=1):
    """(clean (n, 784), noisy (draws, n, 784)): the digits through 4_modern_net.py's own dropout()."""
    net = import_script("4_modern_net")
    X = T.fmatrix()
    noisy = theano.function([X], net.dropout(X, net.RandomStreams(seed), P_DROP_INPUT), allow_input_downcast=True)
    clean = teX[digits]
    return clean, np.stack([noisy(clean) for _ in range(draws)])


def noise_picture(clean, noisy, path):
    rows = [clean] + list(noisy)
    fig, axes = plt.subplots(len(rows), len(clean), figsize=(1.1 * len(clean), 1.2 * len(rows) + 0.6), squeeze=False)
    for r, images in enumerate(rows):
        for c, image in enumerate(images):
            axes[r, c].imshow(image.reshape(28, 28), cmap="gray_r", vmin=0, vmax=1 / (1 - P_DROP_INPUT))
            axes[r, c].axis("off")
        axes[r, 0].set_title("clean" if r == 0 else f"dropout, draw {r}", fontsize=8, loc="left")
    fig.suptitle(f"Noise (or augmentation): the modern net's input dropout, p = {P_DROP_INPUT}")
    fig.tight_layout()
    save_figure(fig, path)


def conv_maps(path, image):
    """The convnet's feature maps for one image (784,): its three blocks' outputs as model() returns
    them, (32, 15, 15), (64, 7, 7) and (128, 3, 3)."""
    l1, l2, l3, l4, py_x = saved_outputs("5_convolutional_net", path)(as_input("5_convolutional_net", image))
    return [l1[0], l2[0], l3[0].reshape(128, 3, 3)]


def mosaic(maps, columns):
    """Maps (n, h, w) tiled into one image, one pixel of gap, each map scaled to its own maximum."""
    n, h, w = maps.shape
    rows = int(np.ceil(n / columns))
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for i, m in enumerate(maps):
        r, c = divmod(i, columns)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = m / (m.max() or 1)
    return out


def conv_maps_picture(image, maps, path):
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.4), gridspec_kw={"width_ratios": [0.6, 1, 1.15, 1.6]})
    axes[0].imshow(image.reshape(28, 28), cmap="gray_r")
    axes[0].set_title("the digit", fontsize=9)
    for block, (ax, m, columns) in enumerate(zip(axes[1:], maps, (8, 8, 16)), 1):
        ax.imshow(mosaic(m, columns), cmap="magma")
        ax.set_title(f"block {block}: {len(m)} maps of {m.shape[1]}x{m.shape[2]}", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.suptitle("What a convolutional network learns: what each conv + max-pool block responds to")
    fig.tight_layout()
    save_figure(fig, path)


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
    write_atomically(path, lambda f: fig.savefig(f, format="png", dpi=80))
    plt.close(fig)
    print(f"wrote {path}")


def accuracy_chart(logs, path):
    """Test accuracy per epoch of every script: the mean over its seeds, and a band from the lowest
    to the highest where two or more seeds ran that epoch."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    bands = {}
    for script in SCRIPTS:
        runs = list(seed_logs(logs, script).values())
        if not runs:
            continue
        epochs = np.arange(1, max(len(r) for r in runs) + 1)
        at = [np.array([r[e - 1] for r in runs if len(r) >= e]) for e in epochs]
        mean = np.array([a.mean() for a in at])
        line, = ax.plot(epochs, 100 * mean, label=f"{script} ({len(runs)} seed{'s' * (len(runs) > 1)})",
                        marker="." if len(epochs) < 30 else None)
        several = np.array([len(a) >= 2 for a in at])
        if several.any():
            low, high = np.array([a.min() for a in at]), np.array([a.max() for a in at])
            ax.fill_between(epochs[several], 100 * low[several], 100 * high[several], color=line.get_color(),
                            alpha=0.25, lw=0)
            bands[script] = (epochs[several], low[several], high[several])
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(bottom=max(ax.get_ylim()[0], 80))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Quantifying the difference (bands: lowest to highest over seeds)")
    fig.tight_layout()
    save_figure(fig, path)
    return bands


# --- the 2D moons: understanding.py ----------------------------------------------------------------

def saved_moons(path):
    """(trX, trY, box, grid, results) from the runs understanding.py --save wrote: results as its
    main() returns them, {run name: {"cost", "accuracy", "frames": {step: labels on the grid}}}."""
    saved = np.load(path, allow_pickle=False)
    results = {"logistic regression": float(saved["logistic_accuracy"])}
    i = 0
    while f"run{i}_name" in saved:
        results[str(saved[f"run{i}_name"])] = {
            "cost": saved[f"run{i}_cost"], "accuracy": float(saved[f"run{i}_accuracy"]),
            "frames": dict(zip(saved[f"run{i}_steps"].tolist(), saved[f"run{i}_frames"]))}
        i += 1
    return saved["trX"], saved["trY"], tuple(saved["box"]), tuple(saved["grid"]), results


def draw_boundary(ax, labels_on_grid, trX, trY, title, box, grid):
    ax.contourf(labels_on_grid.reshape(grid[1], grid[0]), extent=box, origin="lower", levels=[-0.5, 0.5, 1.5],
                colors=["#f4c7a1", "#a9cbe8"])
    ax.scatter(trX[:, 0], trX[:, 1], c=trY.argmax(axis=1), cmap="coolwarm_r", s=10, edgecolors="k", linewidths=0.3)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def moons_pictures(out, trX, trY, box, grid, results):
    """understanding_{sgd,units,rmsprop}.png and understanding_rmsprop.gif into out."""
    from matplotlib import animation
    out.mkdir(parents=True, exist_ok=True)
    sgd, sigmoid, rmsprop = (results[k] for k in ("rectifiers, SGD", "sigmoids, SGD", "rectifiers, RMSprop"))
    steps = len(sgd["cost"])

    fig, axes = plt.subplots(1, 5, figsize=(16, 3.2))
    for ax, step in zip(axes, [max(1, steps // 20), max(1, steps // 4), max(1, steps // 2), steps]):
        draw_boundary(ax, sgd["frames"][step], trX, trY, f"after {step:,} SGD steps", box, grid)
    axes[4].plot(sgd["cost"])
    axes[4].set(xlabel="step", ylabel="training cost", title="cost")
    fig.suptitle("Understanding SGD: rectifier net, lr 0.05")
    fig.tight_layout()
    save_figure(fig, out / "understanding_sgd.png")

    for name, (a, b), (label_a, label_b) in [
            ("understanding_units.png", (sigmoid, sgd), ("sigmoid units", "rectifier units")),
            ("understanding_rmsprop.png", (sgd, rmsprop), ("SGD", "RMSprop"))]:
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
        draw_boundary(axes[0], a["frames"][steps], trX, trY, f"{label_a}: training accuracy {a['accuracy']:.2f}", box, grid)
        draw_boundary(axes[1], b["frames"][steps], trX, trY, f"{label_b}: training accuracy {b['accuracy']:.2f}", box, grid)
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
            draw_boundary(ax, run["frames"][step], trX, trY, f"{label}, step {step:,}: cost {run['cost'][step - 1]:.3f}", box, grid)

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
    parser.add_argument("--ntest", type=positive_int, default=10000, help="test images to evaluate on")
    args = parser.parse_args()
    results = Path(args.results)
    out = Path(args.out or results / "figures")
    check_outputs(folders={"--out": out})
    models = pick_models(results)
    moons = results / "models" / "understanding.npz"
    if not models and not moons.exists():
        sys.exit(f"no saved models in {results / 'models'}: run reproduce.py (or make reproduce-quick) first")
    out.mkdir(parents=True, exist_ok=True)
    if moons.exists():
        moons_pictures(out, *saved_moons(moons))
    if not models:
        return
    for script, path in models.items():
        print(f"{script}: {path.name}")

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
    py_x = probabilities(models, teX)
    predictions = {script: p.argmax(axis=1) for script, p in py_x.items()}
    for script, predicted in predictions.items():
        print(f"{script}: test accuracy {np.mean(predicted == teY):.4f} (saved model, evaluated again)")
    readout_picture(*readout(py_x, teY), teX, teY, out / "readout.png")
    noise_picture(*noisy_digits(teX, list(range(8))), out / "noise.png")
    if "5_convolutional_net" in models:
        conv_maps_picture(teX[0], conv_maps(models["5_convolutional_net"], teX[0]), out / "conv_maps.png")
    best = max(predictions, key=lambda s: np.mean(predictions[s] == teY))
    wrong = np.flatnonzero(predictions[best] != teY)[:40]
    image_grid(teX[wrong].reshape(-1, 28, 28), 10, out / "misclassified.png",
               f"Test digits {best} gets wrong ({len(np.flatnonzero(predictions[best] != teY))} "
               f"of {len(teY)}): true -> predicted", cmap="gray_r",
               labels=[f"{t} -> {p}" for t, p in zip(teY[wrong], predictions[best][wrong])])


if __name__ == "__main__":
    try:
        main()
    except (DataError, SavedModelError) as error:
        sys.exit(f"error: {error}")
