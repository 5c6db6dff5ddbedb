"""Test digits as the models see them: each model's probabilities for a few digits (readout.png),
the modern net's input dropout (noise.png), the convnet's feature maps (conv_maps.png), and the
digits the best model gets wrong (misclassified.png)."""
import numpy as np

import plumbing.defaults  # noqa: F401  (Theano's set-up, before theano)
import theano
from theano import tensor as T

from tools.figures.drawing import image_grid, plt, save_figure
from tools.figures.saved import saved_outputs
from tools.lessons import as_input, import_script


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


def misclassified_picture(teX, teY, predictions, path):
    """Up to 40 test digits the best of the models (predictions: {script: labels}) gets wrong."""
    best = max(predictions, key=lambda s: np.mean(predictions[s] == teY))
    wrong = np.flatnonzero(predictions[best] != teY)[:40]
    image_grid(teX[wrong].reshape(-1, 28, 28), 10, path,
               f"Test digits {best} gets wrong ({len(np.flatnonzero(predictions[best] != teY))} "
               f"of {len(teY)}): true -> predicted", cmap="gray_r",
               labels=[f"{t} -> {p}" for t, p in zip(teY[wrong], predictions[best][wrong])])
