"""The bench's parent: it starts the workers (workers.py), each in a fresh process, alternates
Theano's with the peers', and takes the medians; the floating-point operations of a training step."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from contextlib import contextmanager

from plumbing.machine import cpu_name
from tools.bench.workers import BATCH, PEERS
from tools.lessons import ROOT

# Multiply-adds per image of each layer's forward product or convolution, from the scripts' shapes.
# The convnet's: 3x3 filters over 30x30 ('full' on 28x28), 13x13 and 5x5 outputs, then 1152 -> 625 -> 10.
LAYER_MACS = {
    "2_logistic_regression": [784 * 10],
    "3_net": [784 * 625, 625 * 10],
    "4_modern_net": [784 * 625, 625 * 625, 625 * 10],
    "5_convolutional_net": [32 * 1 * 9 * 30 * 30, 64 * 32 * 9 * 13 * 13, 128 * 64 * 9 * 5 * 5,
                            1152 * 625, 625 * 10],
}


def train_flops(script, batch=BATCH):
    """Floating-point operations (2 per multiply-add) of one training step's products: each layer
    forward, its weight gradient, and its input gradient for all but the first layer."""
    macs = [batch * m for m in LAYER_MACS[script]]
    return 2 * (3 * sum(macs) - macs[0])


def median_ms(times):
    return 1000 * statistics.median(times)


def run_worker(args, compiledir=None, env=None, python=None):
    """One worker in a fresh process; its JSON line. The parent imports neither Theano nor a peer."""
    full = dict(os.environ, **(env or {}))
    if compiledir:
        full["THEANO_FLAGS"] = ",".join(f for f in (full.get("THEANO_FLAGS", ""), f"compiledir={compiledir}") if f)
    out = subprocess.run([str(python or sys.executable), "-m", "tools.bench.bench", "--worker", *args], env=full,
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"worker {' '.join(args)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextmanager
def busy(hogs=1):
    """CPU-bound processes of the bench's own (one by default) beside what runs inside: a machine in use."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    try:
        yield
    finally:
        for hog in procs:
            hog.kill()
            hog.wait()


def measure(script, steps, rounds, peers, compiledir, env=None, busy_too=True, hogs=1):
    """Alternate fresh Theano and peer processes, Theano then each peer, round after round, then
    (busy_too) Theano again beside busy(hogs); medians over all their timed steps."""
    theano_runs, busy_runs, peer_runs = [], [], {peer: [] for peer in peers}
    for _ in range(rounds):
        theano_runs.append(run_worker(["theano", script, str(steps)], compiledir, env))
        for peer in peers:
            peer_runs[peer].append(run_worker([peer, script, str(steps)], python=PEERS[peer][1]))
        if busy_too:
            with busy(hogs):
                busy_runs.append(run_worker(["theano", script, str(steps)], compiledir, env))
    row = {"script": script, "gflop_per_step": train_flops(script) / 1e9,
           "theano_step_ms": median_ms([t for r in theano_runs for t in r["step_s"]]),
           "theano_worst_process_ms": max(median_ms(r["step_s"]) for r in theano_runs),
           "theano_predict_img_s": 10000 / statistics.median(r["predict_s"] for r in theano_runs),
           "theano_peak_rss_mb": max(r["peak_rss_mb"] for r in theano_runs),
           "compile_warm_s": statistics.median(r["compile_s"] for r in theano_runs),
           "blas": theano_runs[0]["blas"], "flags": theano_runs[0]["flags"], "threads": theano_runs[0]["threads"],
           "isa": theano_runs[0]["isa"], "peers": {}}
    if busy_runs:
        row["theano_busy_step_ms"] = median_ms([t for r in busy_runs for t in r["step_s"]])
        row["busy_threads"] = [r["threads_used"] for r in busy_runs]  # the tuner's choice at the end of each
    for peer, runs in peer_runs.items():
        row["peers"][peer] = {"name": PEERS[peer][0], "version": runs[0]["version"],
                              "step_ms": median_ms([t for r in runs for t in r["step_s"]]),
                              "predict_img_s": 10000 / statistics.median(r["predict_s"] for r in runs),
                              "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                              "first_step_s": statistics.median(r["first_step_s"] for r in runs)}
    if peers:
        fastest = min(row["peers"], key=lambda p: row["peers"][p]["step_ms"])
        row["fastest_peer"] = fastest
        row["ratio"] = row["theano_step_ms"] / row["peers"][fastest]["step_ms"]
    return row


def machine():
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "date": datetime.date.today().isoformat(), "os": platform.platform()}
