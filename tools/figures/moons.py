"""The moons lesson's pictures (understanding.py): decision boundaries and costs of its three runs,
and the SGD-against-RMSprop animation, from what understanding.py --save wrote."""
import numpy as np

from plumbing.paths import WriteError, reason
from tools.figures.drawing import plt, save_figure


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
    try:
        movie.save(part, writer=animation.PillowWriter(fps=6))
        part.replace(gif)
    except OSError as error:  # a full disk: one line naming the picture, no half-written file
        raise WriteError(gif, reason(error)) from None
    finally:
        part.unlink(missing_ok=True)
        plt.close(fig)
    print(f"wrote {gif}")
