"""A lesson's start: seconds from the command to its first training step, on a cold and a warm Theano cache.

    python -m tools.bench.startup                          lessons 0-5, one cold run and 3 warm runs each
    python -m tools.bench.startup --scripts 3_net --rounds 5
    python -m tools.bench.bench --startup                  the same, from the bench

Each lesson runs from the shell in a fresh process, as a learner starts it, with a Theano cache of
its own (compiledir): empty for the cold run, then the one that run filled for the warm runs. The
lesson's --log CSV is rewritten when an epoch ends; its modification time less the epoch's seconds,
both written by the lesson, is when the epoch's first training step started. One epoch of one
minibatch (128 test images), so that data and training weigh little; 0_multiply trains nothing and
its figure is its whole run, command to exit. The run's whole wall time, to exit, is kept too.

Writes the table as JSON into results/bench/startup.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plumbing.paths import check_outputs
from tools.bench.timing import machine
from tools.lessons import ROOT, SCRIPTS
from tools.logs import read_log, write
from tools.one_line import run

RESULTS = ROOT / "results" / "bench"
BATCH = 128
LESSON_ARGS = {"0_multiply": [], "1_linear_regression": ["--epochs", "1"]}  # the others: one minibatch
MNIST_ARGS = ["--epochs", "1", "--ntrain", str(BATCH), "--ntest", "128"]


def start_run(script, compiledir, env=None):
    """One run of the lesson from the shell on the Theano cache compiledir: {'first_step_s': seconds
    from the command to its first training step (0_multiply: to exit), 'exit_s': to exit}."""
    with tempfile.TemporaryDirectory(prefix="startup-") as folder:
        log = Path(folder) / "log.csv"
        args = [] if script == "0_multiply" else LESSON_ARGS.get(script, MNIST_ARGS) + ["--log", str(log)]
        full = dict(os.environ, **(env or {}))
        full["THEANO_FLAGS"] = ",".join(f for f in (full.get("THEANO_FLAGS", ""), f"compiledir={compiledir}") if f)
        started = time.time()
        # its epoch line is not needed (the log has it); its stderr, errors included, goes to the terminal
        done = subprocess.run([sys.executable, str(ROOT / f"{script}.py"), *args], stdout=subprocess.DEVNULL,
                              env=full, cwd=folder)
        exit_s = time.time() - started
        if done.returncode != 0:
            sys.exit(f"{script} failed (exit {done.returncode}): its error is above")
        if script == "0_multiply":
            return {"first_step_s": exit_s, "exit_s": exit_s}
        epoch_s = float(read_log(log, "seconds")[0])
        return {"first_step_s": log.stat().st_mtime - epoch_s - started, "exit_s": exit_s}


def measure(script, rounds, env=None):
    """A cold run on an empty cache, then `rounds` warm runs on what it left; medians of the warm ones."""
    with tempfile.TemporaryDirectory(prefix="startup-cache-") as compiledir:
        cold = start_run(script, compiledir, env)
        warm = [start_run(script, compiledir, env) for _ in range(rounds)]
    return {"script": script, "cold_s": cold["first_step_s"], "cold_exit_s": cold["exit_s"],
            "warm_s": statistics.median(r["first_step_s"] for r in warm),
            "warm_worst_s": max(r["first_step_s"] for r in warm),
            "warm_exit_s": statistics.median(r["exit_s"] for r in warm)}


def table(report):
    m = report["machine"]
    lines = [f"{m['date']}, {m['cpu']}, {m['cores']} cores, load average {m['load']:.1f} at the start; "
             f"seconds from the command to the first training step (0_multiply: to exit), "
             f"cold: an empty Theano cache; warm: median (worst) of {report['rounds']} runs on the cache "
             f"the cold run filled",
             "", "| script | cold (s) | warm (s) | warm, to exit (s) |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {r['script']} | {r['cold_s']:.1f} | {r['warm_s']:.1f} ({r['warm_worst_s']:.1f}) "
              f"| {r['warm_exit_s']:.1f} |" for r in report["rows"]]
    return "\n".join(lines)


def startup(scripts=None, rounds=3, env=None):
    """(report, table) for the scripts (default: lessons 0-5)."""
    report = {"machine": dict(machine(), load=os.getloadavg()[0]), "rounds": rounds, "rows": []}
    for script in scripts or SCRIPTS:
        row = measure(script, rounds, env)
        report["rows"].append(row)
        print(f"{script}: cold {row['cold_s']:.1f} s, warm {row['warm_s']:.1f} s", flush=True)
    return report, table(report)


def save(report, text, path=None):
    path = Path(path or RESULTS / "startup.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, json.dumps(report, indent=1) + "\n")
    print(f"\n{text}\n\nwritten to {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", default=None, help="comma-separated script names (default: 0-5)")
    parser.add_argument("--rounds", type=int, default=3, help="warm runs per script (default: 3)")
    parser.add_argument("--json", default=None, help="where to write the results (default: "
                                                     "results/bench/startup.json)")
    args = parser.parse_args()
    scripts = args.scripts.split(",") if args.scripts else None
    unknown = [s for s in scripts or [] if s not in SCRIPTS]
    if unknown:
        parser.error(f"unknown script {unknown[0]!r}: choose from {', '.join(SCRIPTS)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    check_outputs(files={"--json": args.json or RESULTS / "startup.json"})  # before the runs
    save(*startup(scripts, args.rounds), args.json)


if __name__ == "__main__":
    sys.exit(run(main))
