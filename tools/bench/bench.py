"""Speed and memory of scripts 2-5: Theano against the same models in PyTorch on the CPU.

    make bench                                  the table (these defaults)
    python -m tools.bench.bench --levers        what each of the project's settings buys
    python -m tools.bench.bench --startup       each lesson's start, command to first step (startup.py)

Every measurement runs in a fresh process of its own. A Theano process builds the script's graph
from the lesson's own functions (theano_models.py beside this file), compiles it (from a warm
cache), warms up, then times `--steps` training steps on real MNIST minibatches of 128; a PyTorch
process does the same with torch_models.py beside this file. The two alternate, T P T P ..., for
`--rounds` rounds, and each figure is the median over all timed steps. Also measured, each in its
own process: compile time with an empty Theano cache (cold) and a filled one (warm); prediction on
the 10,000 test images; peak resident memory (VmHWM, the process's own); loading all of MNIST; and
this machine's SGEMM rate (2048 x 2048 float32 products through the BLAS Theano uses, on all cores),
beside which each model's rate is shown: the floating-point operations of its matrix products and
convolutions per training step (counted from the layer shapes) divided by the step time.

Writes the table as JSON into results/bench/ (results.json, or levers.json for --levers).
Needs requirements.txt beside this file for PyTorch (make bench installs it).
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plumbing.machine import cpu_name, system_openblas_found
from tools.lessons import MNIST_LESSONS, ROOT, as_input

RESULTS = ROOT / "results" / "bench"

SCRIPTS = list(MNIST_LESSONS)
BATCH = 128

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


def peak_rss_mb():
    """This process's peak resident memory, VmHWM: unlike ru_maxrss it starts anew at exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def median_ms(times):
    return 1000 * statistics.median(times)


def median_seconds(call, repeats):
    """The median wall time of `repeats` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def blas_in_use(ldflags):
    """The BLAS library Theano's ops call, its version, the kernel it picked for this CPU
    (openblas_get_corename: 'Prescott' is OpenBLAS's generic one) and its threads."""
    from threadpoolctl import threadpool_info
    libraries = [i for i in threadpool_info() if i["user_api"] == "blas"]
    if "scipy_openblas" in ldflags:
        used = [i for i in libraries if "scipy_openblas" in i["filepath"]]
    elif ldflags:
        used = [i for i in libraries if ".libs" not in i["filepath"]]  # not numpy's or scipy's own
    else:
        used = [i for i in libraries if "numpy" in i["filepath"]]  # Theano calls NumPy's BLAS
    if not used:
        return "unknown"
    i = used[0]
    return (f"{i['internal_api']} {i['version']} ({os.path.basename(i['filepath'])}, kernel "
            f"{i.get('architecture', '?')}, {i['num_threads']} thread{'s' * (i['num_threads'] > 1)})")


# --- the workers: each runs in a fresh process and prints one JSON line ----------------------------

def compiled(script):
    """The script's training and prediction functions, and the seconds it took to build and compile them."""
    from tools.bench.theano_models import build
    started = time.perf_counter()
    train, predict = build(script)
    return train, predict, time.perf_counter() - started


def minibatches(script, steps):
    from load import mnist
    trX, teX, trY, teY = mnist(ntrain=BATCH * steps, ntest=10000, data_dir=os.environ.get("MNIST_DIR"))
    trX, teX = as_input(script, trX), as_input(script, teX)
    return [(trX[i:i + BATCH], trY[i:i + BATCH]) for i in range(0, BATCH * steps, BATCH)], teX


def timed(train, predict, batches, teX):
    """Warm up, then the seconds of each training step and the median seconds of a prediction."""
    for x, y in batches:  # first calls allocate
        train(x, y)
    steps = []
    for x, y in batches:
        started = time.perf_counter()
        train(x, y)
        steps.append(time.perf_counter() - started)
    return steps, median_seconds(lambda: predict(teX), 3)


def thread_settings():
    return {k: os.environ.get(k, "") for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY",
                                               "GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT")}


def theano_worker(script, steps):
    import plumbing.defaults  # noqa: F401  (Theano's flags, as the scripts have them)
    import theano
    from plumbing.speedups import compiled_isa
    train, predict, compile_s = compiled(script)
    result = {"compile_s": compile_s, "blas": blas_in_use(theano.config.blas.ldflags),
              "flags": {"openmp": theano.config.openmp, "allow_gc": theano.config.allow_gc},
              "threads": thread_settings(), "isa": compiled_isa()}
    if steps:
        batches, teX = minibatches(script, steps)
        result["step_s"], result["predict_s"] = timed(train, predict, batches, teX)
        result["peak_rss_mb"] = peak_rss_mb()
    return result


def peer_worker(peer, script, steps):
    """A peer framework's model of the script (torch_models.py, jax_models.py), timed as Theano's."""
    if peer == "torch":
        import torch
        from tools.bench.torch_models import build
        torch.manual_seed(0)
        version = torch.__version__
    else:
        import jax
        from tools.bench.jax_models import build
        version = jax.__version__
    train, predict = build(script)
    batches, teX = minibatches(script, steps)
    step_s, predict_s = timed(train, predict, batches, teX)
    return {"step_s": step_s, "predict_s": predict_s, "peak_rss_mb": peak_rss_mb(), "version": version,
            "env": thread_settings()}


def sgemm_worker(n=2048):
    """This machine's SGEMM rate: an n x n float32 product through Theano's BLAS on every core."""
    import numpy as np
    import plumbing.defaults  # noqa: F401
    import theano
    from theano import tensor as T
    x, y = T.fmatrix(), T.fmatrix()
    f = theano.function([x, y], T.dot(x, y))
    a = np.random.RandomState(0).rand(n, n).astype("float32")
    f(a, a)
    return {"gflops": 2 * n ** 3 / median_seconds(lambda: f(a, a), 10) / 1e9, "n": n,
            "blas": blas_in_use(theano.config.blas.ldflags)}


def load_worker():
    from load import mnist
    trX, teX, trY, teY = mnist(data_dir=os.environ.get("MNIST_DIR"))
    return {"peak_rss_mb": peak_rss_mb(), "arrays_mb": sum(a.nbytes for a in (trX, teX, trY, teY)) / 2 ** 20}


def worker(kind, *args):
    if kind == "theano":
        return theano_worker(args[0], int(args[1]))
    if kind in PEERS:
        return peer_worker(kind, args[0], int(args[1]))
    if kind == "sgemm":
        return sgemm_worker()
    return load_worker()


# --- the parent: starts the workers, alternates them, writes the table ---------------------------

# The yardsticks: each peer framework and the Python it runs in (JAX needs numpy 2: a venv of its own)
PEERS = {"torch": ("PyTorch", Path(sys.executable)), "jax": ("JAX", ROOT / ".venv-jax" / "bin" / "python")}


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


def measure(script, steps, rounds, peers, compiledir, env=None):
    """Alternate fresh Theano and peer processes, T P J T P J ...; medians over all their timed steps."""
    theano_runs, peer_runs = [], {peer: [] for peer in peers}
    for _ in range(rounds):
        theano_runs.append(run_worker(["theano", script, str(steps)], compiledir, env))
        for peer in peers:
            peer_runs[peer].append(run_worker([peer, script, str(steps)], python=PEERS[peer][1]))
    row = {"script": script, "gflop_per_step": train_flops(script) / 1e9,
           "theano_step_ms": median_ms([t for r in theano_runs for t in r["step_s"]]),
           "theano_predict_img_s": 10000 / statistics.median(r["predict_s"] for r in theano_runs),
           "theano_peak_rss_mb": max(r["peak_rss_mb"] for r in theano_runs),
           "compile_warm_s": statistics.median(r["compile_s"] for r in theano_runs),
           "blas": theano_runs[0]["blas"], "flags": theano_runs[0]["flags"], "threads": theano_runs[0]["threads"],
           "isa": theano_runs[0]["isa"], "peers": {}}
    for peer, runs in peer_runs.items():
        row["peers"][peer] = {"name": PEERS[peer][0], "version": runs[0]["version"],
                              "step_ms": median_ms([t for r in runs for t in r["step_s"]]),
                              "predict_img_s": 10000 / statistics.median(r["predict_s"] for r in runs),
                              "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
    if peers:
        fastest = min(row["peers"], key=lambda p: row["peers"][p]["step_ms"])
        row["fastest_peer"] = fastest
        row["ratio"] = row["theano_step_ms"] / row["peers"][fastest]["step_ms"]
    return row


def machine():
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "date": datetime.date.today().isoformat(), "os": platform.platform()}


# What each of the project's settings buys (docs/performance.md), set as a user would, so that
# plumbing/theano_flags.py leaves them as they are. From the third row on, each adds one thing to the row
# before it, but the fifth, which is the fourth's alternative.
STOCK_OPS = "optimizer_excluding=fast_pool:fast_pool_grad:fast_mrg:fast_corr:fast_fuse"
SPINNING = {"OPENBLAS_THREAD_TIMEOUT": "28", "GOMP_SPINCOUNT": "300000"}  # the libraries' own waits
LEVERS = [
    ("NumPy's BLAS (blas.ldflags=; OpenMP then off), the project's other settings",
     {"THEANO_FLAGS": "blas.ldflags="}),
    ("the system's OpenBLAS (blas.ldflags=-lopenblas), the project's other settings",
     {"THEANO_FLAGS": "blas.ldflags=-lopenblas"}),
    ("Theano's own defaults with PyPI's OpenBLAS: no OpenMP, allow_gc, stock ops, OpenBLAS's own waits",
     dict(SPINNING, THEANO_FLAGS=f"openmp=False,allow_gc=True,{STOCK_OPS}")),
    ("+ openmp=True: both thread pools, each spinning after its work",
     dict(SPINNING, THEANO_FLAGS=f"openmp=True,allow_gc=True,{STOCK_OPS}")),
    ("  (instead of the next row: OpenBLAS held to one thread)",
     dict(SPINNING, THEANO_FLAGS=f"openmp=True,allow_gc=True,{STOCK_OPS}", OPENBLAS_NUM_THREADS="1")),
    ("+ neither pool spins (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_THREAD_TIMEOUT=4)",
     {"THEANO_FLAGS": f"openmp=True,allow_gc=True,{STOCK_OPS}"}),
    ("+ allow_gc=False", {"THEANO_FLAGS": f"openmp=True,allow_gc=False,{STOCK_OPS}"}),
    ("+ the pooling ops and MRG of speedups.py (not yet BatchedCorrMM, nor the fused gradients)",
     {"THEANO_FLAGS": "optimizer_excluding=fast_corr:fast_fuse"}),
    ("+ BatchedCorrMM (fast_corr): several images lowered into one GEMM",
     {"THEANO_FLAGS": "optimizer_excluding=fast_fuse"}),
    ("+ the rectifier's gradient fused into the pooling gradient (fast_fuse): the project's defaults", {}),
]


def levers(args):
    scripts = args.scripts.split(",") if args.scripts else ["3_net", "4_modern_net", "5_convolutional_net"]
    compiledir = tempfile.mkdtemp(prefix="bench-levers-")
    rows = []
    for name, env in LEVERS:
        if "-lopenblas" in env.get("THEANO_FLAGS", "") and not system_openblas_found():
            continue  # no system OpenBLAS here
        row = {"lever": name, "env": env}
        for script in scripts:
            measured = measure(script, args.steps, args.rounds, [], compiledir, env)
            row[script], row["blas"] = measured["theano_step_ms"], measured["blas"]
        rows.append(row)
        print(f"{name}: " + ", ".join(f"{s} {row[s]:.2f} ms" for s in scripts) + f"; BLAS {row['blas']}",
              flush=True)
    m = machine()
    lines = [f"{m['date']}, {m['cpu']}, {m['cores']} cores; Theano ms per training step of {BATCH}, "
             f"median of {args.rounds} fresh processes x {args.steps} steps",
             "", "| setting | " + " | ".join(scripts) + " |", "| --- |" + " ---: |" * len(scripts)]
    lines += [f"| {r['lever']} | " + " | ".join(f"{r[s]:.2f}" for s in scripts) + " |" for r in rows]
    lines += ["", "BLAS of each row: " + "; ".join(f"{i + 1}. {r['blas']}" for i, r in enumerate(rows))]
    return {"machine": m, "steps": args.steps, "rounds": args.rounds, "rows": rows}, "\n".join(lines)


def table(report):
    m, sgemm = report["machine"], report["sgemm"]
    first = report["rows"][0]
    peers = list(first.get("peers", {}))
    versions = "; ".join(f"{first['peers'][p]['name']} {first['peers'][p]['version']}" for p in peers)
    lines = [f"{m['date']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}; BLAS: {first['blas']}; "
             f"Theano's C code compiled for {first['isa']}; "
             f"openmp={first['flags']['openmp']}, allow_gc={first['flags']['allow_gc']}; "
             + (f"{versions}; " if peers else "")
             + f"median of {report['rounds']} fresh processes x {report['steps']} steps of {BATCH}; "
             f"this machine's SGEMM: {sgemm['gflops']:.0f} GFLOP/s ({sgemm['n']}², every core)",
             "",
             "| script | Theano ms/step | " + "".join(f"{first['peers'][p]['name']} ms/step | " for p in peers)
             + "Theano / fastest peer | GFLOP/step | GFLOP/s Theano (% of SGEMM) | compile cold / warm (s) "
             "| predict img/s Theano / fastest peer | peak RSS MB Theano / fastest peer |",
             "| --- | ---: | " + "---: | " * len(peers) + "---: | ---: | ---: | ---: | ---: | ---: |"]

    def rate(row, ms):
        gflops = row["gflop_per_step"] / (ms / 1000)
        return f"{gflops:.1f} ({100 * gflops / sgemm['gflops']:.0f} %)"

    for r in report["rows"]:
        fastest = r["peers"][r["fastest_peer"]] if peers else {"name": "-", "predict_img_s": "-", "peak_rss_mb": "-"}
        ratio = f"{r['ratio']:.2f} ({fastest['name']})" if peers else "-"
        predict, rss = (f"{fastest['predict_img_s']:,.0f}", f"{fastest['peak_rss_mb']:.0f}") if peers else ("-", "-")
        lines.append(f"| {r['script']} | {r['theano_step_ms']:.2f} | "
                     + "".join(f"{r['peers'][p]['step_ms']:.2f} | " for p in peers)
                     + f"{ratio} | {r['gflop_per_step']:.3f} | {rate(r, r['theano_step_ms'])} "
                     f"| {r['compile_cold_s']:.1f} / {r['compile_warm_s']:.1f} "
                     f"| {r['theano_predict_img_s']:,.0f} / {predict} | {r['theano_peak_rss_mb']:.0f} / {rss} |")
    load = report["load"]
    lines.append(f"\nLoading all of MNIST: peak RSS {load['peak_rss_mb']:.0f} MB ({load['arrays_mb']:.0f} MB of arrays).")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", default=None, help="comma-separated script names (default: 2-5; "
                                                        "with --levers: 3-5)")
    parser.add_argument("--steps", type=int, default=40, help="training steps timed per process (default: 40)")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per framework, alternated (default: 3)")
    parser.add_argument("--peers", default="torch,jax", help="comma-separated yardsticks, of torch and jax, "
                        "or '' for none (default: torch,jax; make bench installs both)")
    parser.add_argument("--levers", action="store_true", help="Theano alone under each setting of LEVERS")
    parser.add_argument("--startup", action="store_true", help="seconds from the command to each lesson's first "
                        "training step, on a cold and a warm Theano cache (startup.py; default scripts: 0-5)")
    parser.add_argument("--json", default=None, help="where to write the results "
                                                     "(default: results.json, levers.json, startup.json in results/bench)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    if args.steps < 1 or args.rounds < 1:
        parser.error("--steps and --rounds must be at least 1")
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
        if "torch" in peers and importlib.util.find_spec("torch") is None:
            sys.exit("PyTorch is missing: .venv/bin/pip install -r tools/bench/requirements.txt (or --peers jax)")
        if "jax" in peers and not PEERS["jax"][1].exists():
            sys.exit(f"JAX's venv is missing: python3 -m venv .venv-jax && .venv-jax/bin/pip install -r "
                     f"tools/bench/requirements-jax.txt (make bench does it), or --peers torch")
        report = {"machine": machine(), "steps": args.steps, "rounds": args.rounds, "batch_size": BATCH,
                  "load": run_worker(["load"]), "sgemm": run_worker(["sgemm"],
                                                                  env={"OPENBLAS_NUM_THREADS": str(os.cpu_count())}),
                  "rows": []}
        print(f"SGEMM {report['sgemm']['gflops']:.0f} GFLOP/s; loading MNIST: peak RSS "
              f"{report['load']['peak_rss_mb']:.0f} MB", flush=True)
        for script in (args.scripts.split(",") if args.scripts else SCRIPTS):
            with tempfile.TemporaryDirectory() as compiledir:
                cold = run_worker(["theano", script, "0"], compiledir)
                row = measure(script, args.steps, args.rounds, peers, compiledir)
            row["compile_cold_s"] = cold["compile_s"]
            report["rows"].append(row)
            print(f"{script}: Theano {row['theano_step_ms']:.2f} ms/step"
                  + "".join(f", {v['name']} {v['step_ms']:.2f}" for v in row["peers"].values())
                  + (f"; Theano / {row['peers'][row['fastest_peer']]['name']} {row['ratio']:.2f}" if peers else ""),
                  flush=True)
        text = table(report)
        path = Path(args.json or RESULTS / "results.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    print()
    print(text)
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
