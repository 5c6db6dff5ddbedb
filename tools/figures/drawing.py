"""What every picture shares: matplotlib without a display, a grid of images, and writing a PNG
whole or not at all."""
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from plumbing.saving import write_atomically  # noqa: E402


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
