"""Quantifying the difference: every script's test accuracy per epoch, from the --log files."""
import numpy as np

from tools.figures.drawing import plt, save_figure
from tools.lessons import MNIST_LESSONS
from tools.logs import seed_logs


def accuracy_chart(logs, path):
    """Test accuracy per epoch of every script: the mean over its seeds, and a band from the lowest
    to the highest where two or more seeds ran that epoch."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    bands = {}
    for script in MNIST_LESSONS:  # 2_logistic_regression ... 5_convolutional_net
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
