"""Reproduce the talk's table: train every model, add the k-NN baseline, write results/results.md.

    .venv/bin/python reproduce.py              # the slides' full schedules (about an hour on 2 cores)
    .venv/bin/python reproduce.py --epochs 20  # a shorter schedule for every script
    .venv/bin/python reproduce.py --quick      # minutes: 3 epochs on 25,600 training images

Each script runs as from the shell with --log and --save, so results/logs/ and results/models/ feed
figures.py. Ctrl-C stops cleanly; the table is written only when every model has finished.
"""
import argparse
import datetime
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
SLIDES = {  # script -> (model, the slide's test accuracy)
    "2_logistic_regression": ("logistic regression", "92.5 %"),
    "3_net": ("'old' net: sigmoid hidden layer, SGD", "98.4 %"),
    "4_modern_net": ("'modern' net: rectifiers, dropout, RMSprop", "99.0 %"),
    "5_convolutional_net": ("convolutional net", "99.5 %"),
}


def knn(trX, trY, teX, k=3, block=500):
    """Labels for teX: majority vote of the k nearest training images (Euclidean), block by block."""
    squares = (trX ** 2).sum(axis=1)
    labels = np.empty(len(teX), dtype=np.int64)
    for start in range(0, len(teX), block):
        part = teX[start:start + block]
        distances = squares[None, :] - 2 * part @ trX.T  # |x - t|^2 less |t|^2, the same for a row
        nearest = np.argpartition(distances, k, axis=1)[:, :k]
        order = np.take_along_axis(distances, nearest, axis=1).argsort(axis=1)
        nearest = np.take_along_axis(nearest, order, axis=1)  # nearest first
        votes = np.zeros((len(part), 10))
        for rank in range(k):  # one vote each, a tie goes to the nearer neighbour
            votes[np.arange(len(part)), trY[nearest[:, rank]]] += 1 + (k - rank) * 1e-3
        labels[start:start + block] = votes.argmax(axis=1)
    return labels


def last_accuracy(log):
    rows = Path(log).read_text().splitlines()[1:]
    return float(rows[-1].split(",")[2]), len(rows)


def cpu_name():
    """The CPU's model name with its family and model numbers (x86 Linux): a generic name such
    as 'AMD EPYC' covers several CPUs."""
    try:
        with open("/proc/cpuinfo") as f:
            fields = dict(line.split(":", 1) for line in f.read().split("\n\n")[0].splitlines() if ":" in line)
    except OSError:
        return platform.processor() or platform.machine()
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    name = fields.get("model name", platform.processor() or platform.machine())
    return f"{name} (family {fields['cpu family']}, model {fields['model']})" if "cpu family" in fields else name


def machine():
    return f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()}, Python {platform.python_version()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, help="epochs for every script (default: each slide's 100)")
    parser.add_argument("--quick", action="store_true", help="3 epochs on 25,600 training and 2,000 test images")
    parser.add_argument("--results", default=str(ROOT / "results"), help="folder for logs, models and the table")
    parser.add_argument("--scripts", default=",".join(SLIDES), help="comma-separated scripts to run")
    args = parser.parse_args()
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    results = Path(args.results)
    (results / "logs").mkdir(parents=True, exist_ok=True)
    (results / "models").mkdir(parents=True, exist_ok=True)
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    ntrain, ntest = (25600, 2000) if args.quick else (60000, 10000)
    if args.quick:
        extra = ["--epochs", str(args.epochs or 3), "--ntrain", str(ntrain), "--ntest", str(ntest)]

    rows = []
    try:
        for script in args.scripts.split(","):
            log, model = results / "logs" / f"{script}.csv", results / "models" / f"{script}.npz"
            print(f"== {script} {' '.join(extra)}", flush=True)
            started = time.perf_counter()
            done = subprocess.run([sys.executable, str(ROOT / f"{script}.py"), *extra,
                                   "--log", str(log), "--save", str(model)])
            if done.returncode != 0:
                sys.exit(f"{script} stopped (exit {done.returncode}); no table written")
            accuracy, epochs = last_accuracy(log)
            rows.append((SLIDES[script][0], f"`{script}.py`", epochs, accuracy, SLIDES[script][1],
                         time.perf_counter() - started))

        print("== k-nearest neighbours (k=3, Euclidean, raw pixels)", flush=True)
        sys.path.insert(0, str(ROOT))
        from load import mnist
        started = time.perf_counter()
        trX, teX, trY, teY = mnist(ntrain, ntest, onehot=False)
        accuracy = np.mean(knn(trX, trY, teX) == teY)
        rows.append(("k-nearest neighbours, k=3, raw pixels", "`reproduce.py`", "-", accuracy, "about 95 %",
                     time.perf_counter() - started))
        print(f"k-NN test accuracy {accuracy:.4f}")
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        print("interrupted; no table written", file=sys.stderr)
        sys.exit(130)

    command = "reproduce.py " + " ".join(sys.argv[1:])
    table = [f"Measured {datetime.date.today().isoformat()} on {machine()}, by `{command.strip()}`, "
             f"training on {ntrain:,} images, testing on {ntest:,}.", "",
             "| model | code | epochs | test accuracy here | slide | wall time |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for name, code, epochs, accuracy, slide, seconds in rows:
        table.append(f"| {name} | {code} | {epochs} | {100 * accuracy:.2f} % | {slide} | {seconds / 60:.1f} min |")
    (results / ".results.md.part").write_text("\n".join(table) + "\n")
    os.replace(results / ".results.md.part", results / "results.md")
    print("\n".join(table))
    print(f"\nwritten to {results / 'results.md'}")


if __name__ == "__main__":
    main()
