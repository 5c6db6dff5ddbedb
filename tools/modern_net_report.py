"""The modern net's experiment, its report: results/modern_net.md (the tables) and
results/figures/modern_net.png, from the --log CSVs that tools/modern_net.py's runs wrote."""
import numpy as np

from plumbing.saving import write_atomically
from tools.logs import read_log, seed_logs, write
from tools.modern_net import CHANGES, summary


def windows(accuracies, window=50):
    """[(first epoch, last epoch, mean accuracy)] of consecutive whole windows of epochs."""
    return [(start + 1, start + window, float(np.mean(accuracies[start:start + window])))
            for start in range(0, len(accuracies) - window + 1, window)]


def pct(value):
    return f"{100 * value:.2f} %"


def summary_cells(s):
    return [str(s["epochs"]), "-" if s["first_99"] is None else str(s["first_99"]),
            "-" if s["first_9895"] is None else str(s["first_9895"]),
            f"{pct(s['best'])} (epoch {s['best_epoch']})", pct(s["last_mean"]), f"{100 * s['last_std']:.3f}"]


def seeds_row(label, summaries):
    """A table row for several seeds' summaries: how many reach 99.0 %, the range of their best
    epochs, the mean ± sd over seeds of their last ten epochs, the mean of their spreads."""
    def reached(key):
        first = [s[key] for s in summaries if s[key] is not None]
        return f"{len(first)} of {len(summaries)}" + (f" (first: {min(first)})" if first else "")
    last = np.array([s["last_mean"] for s in summaries])
    return (f"| {label} | {summaries[0]['epochs']} | {reached('first_99')} | {reached('first_9895')} | "
            f"{100 * min(s['best'] for s in summaries):.2f}-"
            f"{pct(max(s['best'] for s in summaries))} | {100 * last.mean():.2f} ± {100 * last.std(ddof=1):.2f} % | "
            f"{100 * np.mean([s['last_std'] for s in summaries]):.3f} |")


def running_mean(accuracies, n=10):
    """(epochs, the mean accuracy of the n epochs up to each), from the n-th epoch on."""
    n = min(n, len(accuracies))
    return np.arange(n, len(accuracies) + 1), np.convolve(accuracies, np.ones(n) / n, mode="valid")


def report(out, figure, logs, change_seed=1):
    """results/modern_net.md (the tables) and results/figures/modern_net.png, from the runs in out
    and the 100-epoch runs of make reproduce in logs (4_modern_net-seedN.csv); the one-change runs
    (with `change_seed`) against the first epochs of that seed's long run, else of its run in logs."""
    longs = {int(p.stem.removeprefix("long-seed")): read_log(p) for p in sorted(out.glob("long-seed*.csv"))}
    longs = {k: a for k, a in sorted(longs.items()) if a.size}
    changes = {name: read_log(out / f"{name}.csv") for name in CHANGES if (out / f"{name}.csv").exists()}
    changes = {name: a for name, a in changes.items() if a.size}
    hundred = {s: a for s, a in seed_logs(logs, "4_modern_net").items() if len(a) >= 100}
    seed = change_seed
    baseline, baseline_name = (longs[seed], f"the long run of seed {seed}") if seed in longs else \
        (hundred[seed], f"results/logs/4_modern_net-seed{seed}.csv") if seed in hundred else (None, None)
    if not longs and not changes:
        print(f"no runs of the modern net's experiment in {out}: nothing to report")
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    head = ["| run | epochs | 99.0 % first at epoch | 98.95 % first at | best epoch | mean of the last ten | "
            "their sd (points) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines = []
    if longs:
        lines += ["The posted code (learning rate 0.001, batch 128, dropout 0.2 and 0.5), far past 100 epochs:", ""]
        lines += head + [f"| seed {k} | " + " | ".join(summary_cells(summary(a))) + " |" for k, a in longs.items()]
        if len(hundred) > 1:
            lines.append(seeds_row(f"seeds {', '.join(map(str, hundred))}, 100 epochs (results/logs)",
                                   [summary(a[:100]) for a in hundred.values()]))
        for k in longs:
            if (out / f"long-seed{k}.txt").exists():
                lines.append(f"\nSeed {k} {(out / f'long-seed{k}.txt').read_text().strip()}.")
        most = max(len(a) for a in longs.values()) // 50
        lines += ["", "Mean test accuracy over 50 epochs at a time:", "",
                  "| run | " + " | ".join(f"epochs {50 * i + 1}-{50 * (i + 1)}" for i in range(most)) + " |",
                  "| --- |" + " ---: |" * most]
        for k, a in longs.items():
            means = [pct(m) for _, _, m in windows(a)]
            lines.append(f"| seed {k} | " + " | ".join(means + ["-"] * (most - len(means))) + " |")
    if hundred:
        at_100 = np.array([a[99] for a in hundred.values()])
        last = np.array([a[90:100].mean() for a in hundred.values()])
        within = np.array([a[90:100].std(ddof=1) for a in hundred.values()])
        lines += ["", f"How noisy one epoch is, from the 100-epoch runs of `make reproduce` (seeds "
                  f"{', '.join(map(str, hundred))}, results/logs):", "",
                  "| | points |", "| --- | ---: |",
                  "| epoch to epoch within a run: sd of epochs 91-100, mean over the seeds | "
                  f"{100 * within.mean():.3f} |",
                  f"| between seeds: sd of the accuracy at epoch 100 | {100 * at_100.std(ddof=1):.3f} |",
                  f"| between seeds: sd of the mean of epochs 91-100 | {100 * last.std(ddof=1):.3f} |"]
    if changes:
        n = max(len(a) for a in changes.values())
        lines += ["", f"One change at a time, seed {seed}, {n} epochs:", "",
                  head[0].replace("| run |", "| change |"), head[1]]
        if baseline is not None:
            lines.append(f"| none ({baseline_name}, its first {n} epochs) | "
                         + " | ".join(summary_cells(summary(baseline[:n]))) + " |")
        if len(hundred) > 1:
            lines.append(seeds_row(f"none, seeds {', '.join(map(str, hundred))} (results/logs)",
                                   [summary(a[:n]) for a in hundred.values()]))
        lines += [f"| {CHANGES[name][0]} | " + " | ".join(summary_cells(summary(a))) + " |"
                  for name, a in changes.items()]
    if (out / "runs.md").exists():
        lines += ["", "What was run:", "", (out / "runs.md").read_text().strip()]

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for a in hundred.values():
        left.plot(np.arange(1, 101), 100 * a[:100], color="0.75", lw=0.6)
    left.plot([], [], color="0.75", lw=0.6, label=f"{len(hundred)} seeds, 100 epochs (make reproduce)")
    for (k, a), color in zip(longs.items(), ["C0", "C1", "C2", "C4"]):
        left.plot(np.arange(1, len(a) + 1), 100 * a, color=color, lw=0.5, alpha=0.5)
        epochs, means = running_mean(a)
        left.plot(epochs, 100 * means, color=color, lw=2,
                  label=f"seed {k}: each epoch, and the mean of the last ten")
    left.set_title("The posted code, far past 100 epochs")
    if baseline is not None:
        epochs, means = running_mean(baseline[:max([len(a) for a in changes.values()], default=100)])
        right.plot(epochs, 100 * means, color="k", lw=2, label=f"the posted code (seed {seed})")
    for (name, a), color in zip(changes.items(), ["C0", "C1", "C2", "C3", "C4", "C5"]):
        right.plot(np.arange(1, len(a) + 1), 100 * a, color=color, lw=0.5, alpha=0.5)
        epochs, means = running_mean(a)
        right.plot(epochs, 100 * means, color=color, lw=1.5, label=CHANGES[name][0])
    right.set_title("One change at a time (thick: mean of the last ten epochs)")
    for ax in (left, right):
        ax.axhline(99.0, color="k", ls=":", lw=1)
        ax.axvline(100, color="gray", ls=":", lw=1)
        ax.set(xlabel="epoch", ylim=(98.0, 99.2))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    left.set_ylabel("test accuracy (%)")
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(figure, lambda f: fig.savefig(f, format="png", dpi=80))
    plt.close(fig)
    write(out.parent / "modern_net.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
