"""Reproduce the talk's table: train every model over one or more seeds, add the k-NN baseline,
write results/results.md.

    python -m tools.reproduce            # the slides' full schedules, seed 42 (about an hour on 2 cores)
    python -m tools.reproduce --seeds 1-5 --scripts 2_logistic_regression,3_net
    python -m tools.reproduce --epochs 10 --seeds 1-3 --scripts 5_convolutional_net
    python -m tools.reproduce --table    # rebuild results.md from the logs, no training
    python -m tools.reproduce --quick    # minutes: 3 epochs on 25,600 images, into results/quick

Each script runs as from the shell with --seed, --log and --save: results/logs/SCRIPT-seedN.csv and
results/models/SCRIPT-seedN.npz feed tools/figures/ (and 1_linear_regression's saved w the table). The table is built from every log in results/logs,
so runs made by different commands add up: for each script and each length of run, the test
accuracy at that epoch of every log that long or longer (a run's first 10 epochs are a 10-epoch
run), as mean, sample standard deviation and range over seeds. Each command is listed in
results/runs.md. Ctrl-C stops cleanly; the table is rewritten only after every run has finished.
"""
import argparse
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from load import DataError, mnist
from plumbing.paths import check_outputs
from tools.lessons import MNIST_LESSONS, ROOT
from tools.logs import record_run, spread, write
from tools.one_line import run

LINEAR = "1_linear_regression"


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


def seeds(text):
    """'42', '1-5' or '1,2,7' -> a list of seeds."""
    found = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match or (match[2] and int(match[2]) < int(match[1])):
            raise argparse.ArgumentTypeError(f"{text!r}: give seeds as 42, 1-5 or 1,2,7")
        found += range(int(match[1]), int(match[2] or match[1]) + 1)
    return sorted(set(found))


def percent(values):
    """'98.80 %' for one value, '98.77 ± 0.05 %' (sample standard deviation) for several."""
    if len(values) == 1:
        return f"{100 * values[0]:.2f} %"
    return f"{100 * values.mean():.2f} ± {100 * values.std(ddof=1):.2f} %"


def seed_list(chosen):
    return ", ".join(map(str, chosen))


def linear_w(results):
    """{seed: w} from the weights 1_linear_regression.py saved into results/models."""
    found = {}
    for path in Path(results, "models").glob(f"{LINEAR}-seed*.npz"):
        match = re.fullmatch(rf"{LINEAR}-seed(\d+)\.npz", path.name)
        if match:
            found[int(match[1])] = float(np.load(path, allow_pickle=False)["w"])
    return dict(sorted(found.items()))


def table(results, ntrain, ntest, knn_accuracy):
    """results.md: the spread over seeds of every script's logs, then the k-NN baseline and the runs."""
    logs = results / "logs"
    lines = [f"Test accuracy on {ntest:,} test images after training on {ntrain:,}; over several seeds, "
             f"mean ± sample standard deviation and range. Built by `python -m tools.reproduce` from `{logs.name}/`; "
             f"what was run is listed below.", "",
             "| model | code | epochs | seeds | test accuracy here | range | slide |",
             "| --- | --- | ---: | --- | ---: | ---: | ---: |"]
    for script, (name, slide, _) in MNIST_LESSONS.items():
        for epochs, chosen, accuracies in spread(logs, script):
            low_high = "-" if len(chosen) == 1 else \
                f"{100 * accuracies.min():.2f} – {100 * accuracies.max():.2f} %"
            lines.append(f"| {name} | `{script}.py` | {epochs} | {seed_list(chosen)} | {percent(accuracies)} "
                         f"| {low_high} | {slide} |")
    if knn_accuracy is not None:
        lines.append(f"| k-nearest neighbours, k=3, raw pixels | `tools/reproduce.py` | - | - | {100 * knn_accuracy:.2f} % "
                     f"| - | about 95 % |")
    ws = linear_w(results)
    if ws:
        lines += ["", f"`{LINEAR}.py` (slide \"Simple Linear Regression\", y = 2x + noise): "
                      + "; ".join(f"w = {w:.4f} (seed {s})" for s, w in ws.items()) + "."]
    runs = results / "runs.md"
    if runs.exists():
        lines += ["", "What was run:", "", runs.read_text().strip()]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, help="epochs for every script (default: each slide's 100)")
    parser.add_argument("--seeds", type=seeds, default=[42], help="seeds to run each script with: 42, 1-5 "
                        "or 1,2,7 (default: 42, the scripts' own)")
    parser.add_argument("--quick", action="store_true", help="3 epochs on 25,600 training and 2,000 test "
                        "images, into results/quick unless --results is given")
    parser.add_argument("--table", action="store_true", help="only rebuild results.md from the logs")
    parser.add_argument("--results", help="folder for logs, models and the table (default: results/ in "
                        "the lessons' folder)")
    parser.add_argument("--scripts", default=",".join([LINEAR, *MNIST_LESSONS]), help="comma-separated scripts to "
                        "run (default: all of 1 to 5)")
    args = parser.parse_args()
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    scripts = args.scripts.split(",")
    unknown = [s for s in scripts if s not in MNIST_LESSONS and s != LINEAR]
    if unknown:
        parser.error(f"unknown script {unknown[0]!r}; choose from {', '.join([LINEAR, *MNIST_LESSONS])}")
    results = Path(args.results or ROOT / "results" / ("quick" if args.quick else ""))
    check_outputs(folders={"--results": results})
    (results / "logs").mkdir(parents=True, exist_ok=True)
    (results / "models").mkdir(parents=True, exist_ok=True)
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    ntrain, ntest = (25600, 2000) if args.quick else (60000, 10000)
    if args.quick:
        extra = ["--epochs", str(args.epochs or 3), "--ntrain", str(ntrain), "--ntest", str(ntest)]

    started = time.perf_counter()
    try:
        for script in [] if args.table else scripts:
            for seed in args.seeds:
                name = f"{script}-seed{seed}"
                flags = (["--epochs", str(args.epochs)] if args.epochs else []) if script == LINEAR else extra
                print(f"== {script} --seed {seed} {' '.join(flags)}", flush=True)
                done = subprocess.run([sys.executable, str(ROOT / f"{script}.py"), "--seed", str(seed), *flags,
                                       "--log", str(results / "logs" / f"{name}.csv"),
                                       "--save", str(results / "models" / f"{name}.npz")])
                if done.returncode != 0:
                    sys.exit(f"{script} --seed {seed} stopped (exit {done.returncode}); table not rewritten")

        print("== k-nearest neighbours (k=3, Euclidean, raw pixels)", flush=True)
        trX, teX, trY, teY = mnist(ntrain, ntest, onehot=False)
        knn_accuracy = np.mean(knn(trX, trY, teX) == teY)
        print(f"k-NN test accuracy {knn_accuracy:.4f}")
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        print("interrupted; table not rewritten", file=sys.stderr)
        sys.exit(130)
    except DataError as error:
        sys.exit(f"error: {error}")

    if not args.table:
        record_run(results, " ".join(["python -m tools.reproduce", *sys.argv[1:]]), started)
    text = table(results, ntrain, ntest, knn_accuracy)
    write(results / "results.md", text)
    print(text)
    print(f"written to {results / 'results.md'}")


if __name__ == "__main__":
    sys.exit(run(main))
