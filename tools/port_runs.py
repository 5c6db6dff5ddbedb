"""The ports' full schedules: each lesson's port in PyTorch, JAX and PyTensor trained for the slide's
epochs (the convnet's 10) with one seed, its test accuracy beside the lesson's over its seeds.

    python -m tools.port_runs                      # every port, seed 42 (about 3 hours of one core)
    python -m tools.port_runs --frameworks jax --scripts 5_convolutional_net
    python -m tools.port_runs --table              # rebuild results/ports/ports.md from the logs

Each port runs from the shell in its framework's venv (make ports), one thread, with --seed and
--log results/ports/logs/FRAMEWORK/SCRIPT-seedN.csv. With the lesson's seed it starts from the
lesson's exact weights (drawn with NumPy), so lessons 2 and 3, which have no randomness after that,
should end close to the lesson's own run of that seed; lessons 4 and 5 draw their dropout noise
from the framework's own generator, so they are one more seed of the lesson. The table compares
each port's last epoch with the lesson's logs in results/logs at the same epoch (tools.reproduce
makes those). Each command is listed in results/ports/runs.md.
"""
import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tools.bench.workers import PEERS
from tools.lessons import MNIST_LESSONS, ROOT
from tools.logs import read_log, record_run, seed_logs, spread, write
from tools.one_line import run
from tools.reproduce import percent

FRAMEWORKS = {f: PEERS[f][0] for f in ("torch", "jax", "pytensor")}  # the ports' frameworks, by their bench names
EPOCHS = {script: 10 if script == "5_convolutional_net" else 100 for script in MNIST_LESSONS}  # the slides'
SEED = 42  # the lessons' own
# One thread in every framework: two runs share the two cores, and the accuracy does not depend on it.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def python(framework):
    return PEERS[framework][1]  # the Python of the framework's venv (make ports)


def log_path(results, framework, script, seed):
    return Path(results) / "logs" / framework / f"{script}-seed{seed}.csv"


def train(results, framework, script, seed, epochs):
    """One port's run from the shell, its log written as it goes; its exit code."""
    log = log_path(results, framework, script, seed)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [str(python(framework)), str(ROOT / "ports" / framework / f"{script}.py"),
               "--seed", str(seed), "--epochs", str(epochs), "--log", str(log)]
    print(f"== {framework} {script} --seed {seed} --epochs {epochs}", flush=True)
    return subprocess.run(command, env={**os.environ, **ONE_THREAD}).returncode


def table(results, lessons_logs):
    """ports.md: per lesson, the lesson's spread over its seeds at the slide's epochs, its run with
    each port's seed, and each port's accuracy at its last epoch ('-' where no full run is logged)."""
    ported = sorted({int(p.stem.rsplit("seed", 1)[1]) for p in Path(results, "logs").glob("*/*-seed*.csv")}) or [SEED]
    lines = [f"Test accuracy on the 10,000 test images after the slide's schedule, training on all 60,000. "
             f"The lesson's column is its mean ± sample standard deviation over the seeds listed, then its "
             f"range; each port ran once, with seed {', '.join(map(str, ported))}, from the lesson's initial "
             f"weights for that seed. Built by `python -m tools.port_runs` from `results/ports/logs/` and "
             f"`results/logs/`.", "",
             "| model | epochs | lesson (Theano), seeds | range | lesson, seed " + ", ".join(map(str, ported))
             + " | " + " | ".join(FRAMEWORKS.values()) + " |",
             "| --- | ---: | ---: | ---: | ---: |" + " ---: |" * len(FRAMEWORKS)]
    for script, epochs in EPOCHS.items():
        at_epochs = [(chosen, accuracies) for n, chosen, accuracies in spread(lessons_logs, script) if n == epochs]
        if not at_epochs:
            continue
        chosen, accuracies = at_epochs[0]
        lesson = seed_logs(lessons_logs, script)
        own = "; ".join(f"{100 * lesson[s][epochs - 1]:.2f} %" if s in lesson and len(lesson[s]) >= epochs else "-"
                        for s in ported)
        cells = []
        for framework in FRAMEWORKS:
            found = [read_log(log_path(results, framework, script, s)) for s in ported
                     if log_path(results, framework, script, s).exists()]
            cells.append("; ".join(f"{100 * a[epochs - 1]:.2f} %" for a in found if len(a) >= epochs) or "-")
        lines.append(f"| {MNIST_LESSONS[script].model} | {epochs} | {percent(accuracies)} ({len(chosen)} seeds) | "
                     f"{100 * accuracies.min():.2f} – {100 * accuracies.max():.2f} % | {own} | {' | '.join(cells)} |")
    runs_md = Path(results) / "runs.md"
    if runs_md.exists():
        lines += ["", "What was run:", "", runs_md.read_text().strip()]
    return "\n".join(lines) + "\n"


def names(text, known, what):
    chosen = text.split(",")
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what} {unknown[0]!r}; choose from {', '.join(known)}")
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frameworks", type=lambda t: names(t, FRAMEWORKS, "framework"), default=list(FRAMEWORKS),
                        help="comma-separated: torch, jax, pytensor (default: all three)")
    parser.add_argument("--scripts", type=lambda t: names(t, MNIST_LESSONS, "script"), default=list(MNIST_LESSONS),
                        help="comma-separated lessons (default: 2_logistic_regression to 5_convolutional_net)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"the seed of every run (default: {SEED}, the lessons')")
    parser.add_argument("--epochs", type=int, help="epochs of every run instead of the slides' (a trial: the "
                        "table lists only runs of the slides' length)")
    parser.add_argument("--results", default=str(ROOT / "results" / "ports"),
                        help="folder for the logs, runs.md and ports.md (default: results/ports)")
    parser.add_argument("--lessons", default=str(ROOT / "results" / "logs"),
                        help="the lessons' logs to compare with (default: results/logs)")
    parser.add_argument("--table", action="store_true", help="only rebuild ports.md from the logs")
    args = parser.parse_args()
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    missing = [f for f in args.frameworks if not python(f).exists()]
    if missing and not args.table:
        parser.error(f"{python(missing[0]).parent.parent.name} is missing: `make ports` makes the ports' venvs")
    results = Path(args.results)

    started = time.perf_counter()
    try:
        for script in [] if args.table else args.scripts:
            for framework in args.frameworks:
                code = train(results, framework, script, args.seed, args.epochs or EPOCHS[script])
                if code != 0:
                    sys.exit(f"{framework} {script} stopped (exit {code}); ports.md not rewritten")
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        print("interrupted; ports.md not rewritten", file=sys.stderr)
        sys.exit(130)
    if not args.table:
        record_run(results, " ".join(["python -m tools.port_runs", *sys.argv[1:]]), started)
    text = table(results, args.lessons)
    write(results / "ports.md", text)
    print(text)
    print(f"written to {results / 'ports.md'}")


if __name__ == "__main__":
    sys.exit(run(main))
