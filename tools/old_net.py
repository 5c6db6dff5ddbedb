"""Experiment: why the old net's 95.7 % after 100 epochs is not the slide's 98.4 %.

    python -m tools.old_net long        # the posted code, far past 100 epochs (about an hour)
    python -m tools.old_net one-change  # 100 epochs with ONE hyperparameter changed, per run
    python -m tools.old_net report      # results/old_net.md and results/figures/old_net.png

`long` runs 3_net.py unchanged and stops it (as Ctrl-C does, after a minibatch) once it reaches
98.4 %, once it levels off (its best accuracy rose by less than 0.05 points over the last 200 epochs),
or at --max-epochs.
`one-change` runs 3_net.py with one flag changed, its learning rate (--lr, 0.05) or its batch size
(--batch-size, 128), and nothing else. Logs go to results/old_net/. The long run is watched through
its --log file, which gains a row after every epoch.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from plumbing.paths import check_outputs
from plumbing.saving import write_atomically
from tools.lessons import ROOT
from tools.logs import read_log, record_run, run_watched, write
from tools.one_line import run

TARGETS = (0.97, 0.98, 0.984)
CHANGES = {  # run name -> (what changes, extra flags)
    "lr-0.1": ("learning rate 0.05 -> 0.1", ["--lr", "0.1"]),
    "lr-0.2": ("learning rate 0.05 -> 0.2", ["--lr", "0.2"]),
    "lr-0.5": ("learning rate 0.05 -> 0.5", ["--lr", "0.5"]),
    "lr-1": ("learning rate 0.05 -> 1", ["--lr", "1.0"]),
    "batch-64": ("batch size 128 -> 64", ["--batch-size", "64"]),
    "batch-32": ("batch size 128 -> 32", ["--batch-size", "32"]),
    "batch-16": ("batch size 128 -> 16", ["--batch-size", "16"]),
}


def crossings(accuracies):
    """{target: first epoch (from 1) whose test accuracy reaches it, or None}."""
    return {t: (int(np.argmax(accuracies >= t)) + 1 if (accuracies >= t).any() else None) for t in TARGETS}


def levelled_off(accuracies, patience, min_gain):
    """Whether the best test accuracy rose by less than min_gain over the last `patience` epochs."""
    if len(accuracies) <= patience:
        return False
    return max(accuracies) - max(accuracies[:-patience]) < min_gain


def stop_rule(accuracies, patience, min_gain):
    """(epoch, reason) of the first epoch that reached 98.4 % or after which the accuracy levelled
    off, or None."""
    for end in range(1, len(accuracies) + 1):
        if accuracies[end - 1] >= TARGETS[-1]:
            return end, "reached 98.4 %"
        if levelled_off(accuracies[:end], patience, min_gain):
            return end, f"levelled off: the best accuracy rose by less than {100 * min_gain:g} points in {patience} epochs"
    return None


def long_run(out, max_epochs, patience, min_gain, data, poll=0.5):
    """3_net.py far past 100 epochs, watched through its --log; stopped as Ctrl-C stops it (after a
    minibatch) at the first epoch that meets the stop rule."""
    log = out / "long.csv"
    command = [sys.executable, str(ROOT / "3_net.py"), "--epochs", str(max_epochs), "--log", str(log), *data]
    stop, code = run_watched(command, log, lambda accuracies: stop_rule(accuracies, patience, min_gain), poll)
    ended = "interrupted (Ctrl-C) before the stop rule held" if code == 130 else f"--max-epochs {max_epochs}"
    epoch, reason = stop or (len(read_log(log)) if log.exists() else 0, ended)
    write(out / "long.txt", f"stopped at epoch {epoch}: {reason}\n")
    print(f"stopped at epoch {epoch}: {reason}")


def report(out, figure):
    if not list(out.glob("*.csv")):
        print(f"no runs of the old net's experiment in {out}: nothing to report")
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lines = ["| run | epochs | final | best | 97 % at epoch | 98 % at | 98.4 % at |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    runs = [("long", "the posted code (lr 0.05, batch 128)")] + [(k, v[0]) for k, v in CHANGES.items()]
    for name, label in runs:
        if not (out / f"{name}.csv").exists():
            continue
        accuracies = read_log(out / f"{name}.csv")
        cross = crossings(accuracies)
        lines.append(f"| {label} | {len(accuracies)} | {100 * accuracies[-1]:.2f} % | {100 * accuracies.max():.2f} % | "
                     + " | ".join("-" if cross[t] is None else str(cross[t]) for t in TARGETS) + " |")
        ax.plot(np.arange(1, len(accuracies) + 1), 100 * accuracies, label=label,
                lw=2 if name == "long" else 1)
    if (out / "long.txt").exists():
        lines.append(f"\nThe posted code's long run {(out / 'long.txt').read_text().strip()}.")
    if (out / "runs.md").exists():
        lines += ["", "What was run:", "", (out / "runs.md").read_text().strip()]
    ax.axhline(98.4, color="k", ls=":", lw=1)
    ax.axvline(100, color="gray", ls=":", lw=1)
    ax.set(xscale="log", xlabel="epoch", ylabel="test accuracy (%)", ylim=(90, 99),
           title="The old net: the posted code, and one change at a time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(figure, lambda f: fig.savefig(f, format="png", dpi=80))
    plt.close(fig)
    write(out.parent / "old_net.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["long", "one-change", "report"])
    parser.add_argument("--out", default=str(ROOT / "results" / "old_net"), help="folder for the logs")
    parser.add_argument("--max-epochs", type=int, default=2000)
    parser.add_argument("--patience", type=int, default=200, help="`long` stops when the best accuracy rose by less "
                        "than --min-gain over this many epochs")
    parser.add_argument("--min-gain", type=float, default=0.0005, help="(default: 0.0005, 0.05 points)")
    parser.add_argument("--runs", default=",".join(CHANGES), help="comma-separated runs of one-change")
    parser.add_argument("--epochs", type=int, default=100, help="epochs of each one-change run")
    parser.add_argument("--ntrain", type=int, default=60000, help="training images (a smaller test)")
    parser.add_argument("--ntest", type=int, default=10000, help="test images")
    args = parser.parse_args()
    data = ["--ntrain", str(args.ntrain), "--ntest", str(args.ntest)]
    out = Path(args.out)
    check_outputs(folders={"--out": out})
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.what == "long":
        long_run(out, args.max_epochs, args.patience, args.min_gain, data)
    elif args.what == "one-change":
        for name in args.runs.split(","):
            print(f"== {name}: {CHANGES[name][0]}", flush=True)
            done = subprocess.run([sys.executable, str(ROOT / "3_net.py"), *CHANGES[name][1],
                                   "--epochs", str(args.epochs), *data, "--log", str(out / f"{name}.csv")])
            if done.returncode != 0:
                sys.exit(f"{name} stopped (exit {done.returncode})")
    if args.what != "report":
        record_run(out, " ".join(["python -m tools.old_net", *sys.argv[1:]]), started)
    report(out, out.parent / "figures" / "old_net.png")


if __name__ == "__main__":
    sys.exit(run(main))
