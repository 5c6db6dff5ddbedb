"""Speed and memory of scripts 2-5: Theano against their ports in PyTorch, JAX and PyTensor on the CPU.

    make bench                                  the table (these defaults)
    python -m tools.bench.bench --levers        what each of the project's settings buys
    python -m tools.bench.bench --startup       each lesson's start, command to first step (startup.py)

Every measurement runs in a fresh process of its own. A Theano process builds the script's graph
from the lesson's own functions (theano_models.py beside this file), compiles it (from a warm
cache), warms up, then times `--steps` training steps on real MNIST minibatches of 128; a process
for each peer does the same with the lesson's port (ports/<peer>/, built by port_models.py beside
this file: the port's own init_weights, model and update, from the lesson's weights), in that
framework's venv (.venv-torch, .venv-jax, .venv-pytensor: make ports); PyTorch twice, as written
and with its train function through torch.compile (the time of its first, compiling, step reported
apart). They alternate, Theano, the peers, then Theano again beside a CPU-bound process of the
bench's own (the "busy" column), for `--rounds` rounds, and each figure is the median over all
timed steps. Theano's threads are tuned as in the lessons (plumbing/threads.py). Also measured,
each in its own process: compile time with an empty Theano cache (cold) and a filled one (warm);
prediction on the 10,000 test images; peak resident memory (VmHWM, the process's own); loading all
of MNIST; and this machine's SGEMM rate (2048 x 2048 float32 products through the BLAS Theano
uses, on all cores), beside which each model's rate is shown: the floating-point operations of its
matrix products and convolutions per training step (counted from the layer shapes) divided by the
step time. --hogs sets how many CPU-bound processes make the busy machine (default 1).

Writes the table as JSON into results/bench/ (results.json, or levers.json for --levers).
Needs the peers' venvs (make bench makes them with make ports), or --peers naming fewer.
"""
# The bench by job, each module beside this one:
#   workers.py  what runs in each fresh process: Theano's or a port's steps, SGEMM, loading MNIST
#   theano_models.py, port_models.py  the training step of each lesson and of its ports
#   timing.py   the parent: starts the workers, alternates them, takes the medians; FLOPs per step
#   tables.py   the Markdown tables of results.json and levers.json (the book shows them too)
#   levers.py   --levers: what each of the project's settings buys
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from tools.bench.levers import levers
from tools.bench.tables import table
from tools.bench.timing import machine, measure, run_worker
from tools.bench.workers import BATCH, PEERS, worker
from tools.lessons import MNIST_LESSONS, ROOT
from tools.logs import write
from tools.one_line import run

RESULTS = ROOT / "results" / "bench"

SCRIPTS = list(MNIST_LESSONS)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", default=None, help="comma-separated script names (default: 2-5; "
                                                        "with --levers: 3-5)")
    parser.add_argument("--steps", type=int, default=40, help="training steps timed per process (default: 40)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per framework, alternated (default: 3)")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated yardsticks, of torch, "
                        "torch_compile (the PyTorch port through torch.compile), jax and pytensor (each times "
                        "the lesson's port in its venv), or '' for none (default: all four; make bench makes "
                        "their venvs)")
    parser.add_argument("--levers", action="store_true", help="Theano alone under each setting of LEVERS")
    parser.add_argument("--hogs", type=int, default=1, help="CPU-bound processes beside Theano for the busy "
                        "column (default: 1)")
    parser.add_argument("--startup", action="store_true", help="seconds from the command to each lesson's first "
                        "training step, on a cold and a warm Theano cache (startup.py; default scripts: 0-5)")
    parser.add_argument("--json", default=None, help="where to write the results "
                                                     "(default: results.json, levers.json, startup.json in results/bench)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    if args.steps < 1 or args.rounds < 1 or args.hogs < 1:
        parser.error("--steps, --rounds and --hogs must be at least 1")
    from plumbing.paths import check_outputs  # before any work: the --json file can be written
    default = "startup.json" if args.startup else "levers.json" if args.levers else "results.json"
    check_outputs(files={"--json": args.json or RESULTS / default})
    if args.startup:
        from tools.bench import startup
        report, text = startup.startup(args.scripts.split(",") if args.scripts else None, args.rounds)
        path = Path(args.json or RESULTS / "startup.json")
    elif args.levers:
        report, text = levers(args)
        path = Path(args.json or RESULTS / "levers.json")
    else:
        peers = [p for p in args.peers.split(",") if p]
        unknown = [p for p in peers if p not in PEERS]
        if unknown:
            parser.error(f"unknown peer {unknown[0]!r}: choose from {', '.join(PEERS)}")
        missing = [p for p in peers if not PEERS[p][1].exists()]
        if missing:
            others = ",".join(p for p in peers if p not in missing)
            sys.exit(f"{PEERS[missing[0]][0]}'s venv is missing: {PEERS[missing[0]][1].parent.parent.name}; "
                     f"make ports makes it (make bench does), or --peers '{others}'")
        report = {"machine": machine(), "steps": args.steps, "rounds": args.rounds, "hogs": args.hogs,
                  "batch_size": BATCH,
                  "load": run_worker(["load"]), "sgemm": run_worker(["sgemm"],
                                                                  env={"OPENBLAS_NUM_THREADS": str(os.cpu_count())}),
                  "rows": []}
        print(f"SGEMM {report['sgemm']['gflops']:.0f} GFLOP/s; loading MNIST: peak RSS "
              f"{report['load']['peak_rss_mb']:.0f} MB", flush=True)
        for script in (args.scripts.split(",") if args.scripts else SCRIPTS):
            with tempfile.TemporaryDirectory() as compiledir:
                cold = run_worker(["theano", script, "0"], compiledir)
                row = measure(script, args.steps, args.rounds, peers, compiledir, hogs=args.hogs)
            row["compile_cold_s"] = cold["compile_s"]
            report["rows"].append(row)
            print(f"{script}: Theano {row['theano_step_ms']:.2f} ms/step"
                  + "".join(f", {v['name']} {v['step_ms']:.2f}" for v in row["peers"].values())
                  + (f"; Theano / {row['peers'][row['fastest_peer']]['name']} {row['ratio']:.2f}" if peers else ""),
                  flush=True)
        text = table(report)
        path = Path(args.json or RESULTS / "results.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, json.dumps(report, indent=1) + "\n")
    print()
    print(text)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    sys.exit(run(main))
