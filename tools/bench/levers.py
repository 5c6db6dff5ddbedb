"""What each of the project's settings buys (docs/performance.md): Theano alone, one row per
setting, each measured by timing.py; python -m tools.bench.bench --levers."""
import tempfile

from plumbing.machine import system_openblas_found
from plumbing.threads import cores
from tools.bench.tables import levers_table
from tools.bench.timing import machine, measure

ADDED_IN_TURN = ["fast_corr", "fast_fuse", "fast_relu_pool", "fast_rmsprop", "fast_mask"]  # a row each, in this order
STOCK_OPS = "optimizer_excluding=" + ":".join(["fast_pool", "fast_pool_grad", "fast_mrg"] + ADDED_IN_TURN)
SPINNING = {"OPENBLAS_THREAD_TIMEOUT": "28", "GOMP_SPINCOUNT": "300000"}  # the libraries' own waits


def not_yet(op):
    """The flags of a row that has the swapped ops up to, not including, `op` of ADDED_IN_TURN."""
    return {"THEANO_FLAGS": "optimizer_excluding=" + ":".join(ADDED_IN_TURN[ADDED_IN_TURN.index(op):])}


# What each of the project's settings buys (docs/performance.md), set as a user would, so that
# plumbing/theano_flags.py leaves them as they are. From the third row on, each adds one thing to the row
# before it, but the fifth, which is the fourth's alternative.
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
    ("+ the pooling ops and MRG of speedups.py (not yet BatchedCorrMM, nor the fused rectifier)",
     not_yet("fast_corr")),
    ("+ BatchedCorrMM (fast_corr): several images lowered into one GEMM",
     not_yet("fast_fuse")),
    ("+ the rectifier's gradient fused into the pooling gradient (fast_fuse)",
     not_yet("fast_relu_pool")),
    ("+ the rectifier computed inside the pooling and its gradient, never stored (fast_relu_pool)",
     not_yet("fast_rmsprop")),
    ("+ RMSprop's update of each parameter in one pass (fast_rmsprop)",
     not_yet("fast_mask")),
    ("+ dropout's mask written by the generator, not by a pass of its own (fast_mask); threads fixed at all cores",
     {"OMP_NUM_THREADS": str(cores()), "OPENBLAS_NUM_THREADS": str(cores())}),
    ("  (instead of the next row: one thread, OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)",
     {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}),
    ("+ the thread tuner (plumbing/threads.py): all cores or one, whichever is faster now; the project's defaults", {}),
]
BUSY_ROWS = 3  # the last rows, the thread settings, are measured on a busy machine too


def levers(args):
    scripts = args.scripts.split(",") if args.scripts else ["3_net", "4_modern_net", "5_convolutional_net"]
    compiledir = tempfile.mkdtemp(prefix="bench-levers-")
    rows = []
    for i, (name, env) in enumerate(LEVERS):
        if "-lopenblas" in env.get("THEANO_FLAGS", "") and not system_openblas_found():
            continue  # no system OpenBLAS here
        row = {"lever": name, "env": env, "ms": {}, "busy_ms": {}}
        for script in scripts:
            measured = measure(script, args.steps, args.rounds, [], compiledir, env,
                               busy_too=i >= len(LEVERS) - BUSY_ROWS, hogs=args.hogs)
            row["ms"][script], row["blas"] = measured["theano_step_ms"], measured["blas"]
            if "theano_busy_step_ms" in measured:
                row["busy_ms"][script] = measured["theano_busy_step_ms"]
        rows.append(row)
        print(f"{name}: " + ", ".join(f"{s} {row['ms'][s]:.2f} ms" for s in scripts)
              + "".join(f", busy {s} {ms:.2f} ms" for s, ms in row["busy_ms"].items()) + f"; BLAS {row['blas']}",
              flush=True)
    report = {"machine": machine(), "steps": args.steps, "rounds": args.rounds, "hogs": args.hogs, "scripts": scripts,
              "rows": rows}
    return report, levers_table(report)
