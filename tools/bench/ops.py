"""Micro-benchmark of speedups.py's convolution ops against Theano's CorrMM, on the convnet's shapes.

    .venv/bin/python tools/bench/ops.py [--repeats 30] [--columns 256,512,1024]

For each layer and direction (forward, weight gradient, input gradient) it times the stock op and
BatchedCorrMM (one per --columns value), alternating them call by call, and prints medians in ms
and GFLOP/s. Run it in a few fresh processes: the machine's other load shows in single runs.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import plumbing.defaults  # noqa: E402,F401
import numpy as np  # noqa: E402
import theano  # noqa: E402
from theano import tensor as T  # noqa: E402
from theano.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights  # noqa: E402

from plumbing import speedups  # noqa: E402
from plumbing.speedups_corr import BatchedCorrMM, pads  # noqa: E402

LAYERS = [("conv1 full 1->32 28x28", (128, 1, 28, 28), (32, 1, 3, 3), "full"),
          ("conv2 valid 32->64 15x15", (128, 32, 15, 15), (64, 32, 3, 3), "valid"),
          ("conv3 valid 64->128 7x7", (128, 64, 7, 7), (128, 64, 3, 3), "valid")]


def functions(xs, ws, mode, columns):
    X, Wt, G = T.ftensor4(), T.ftensor4(), T.ftensor4()
    stock = {"forward": CorrMM(mode)(X, Wt), "grad_weights": CorrMM_gradWeights(mode)(X, G, Wt.shape[-2:]),
             "grad_inputs": CorrMM_gradInputs(mode)(Wt, G, X.shape[-2:])}
    plain = theano.compile.get_default_mode().excluding("fast_corr")
    out = {}
    for direction, y in stock.items():
        fs = {"stock": theano.function([X, Wt, G], y, mode=plain, on_unused_input="ignore")}
        for c in columns:
            op = BatchedCorrMM(direction, pads(mode), target_columns=c, openmp=theano.config.openmp)
            args = {"forward": (X, Wt), "grad_weights": (X, G, Wt.shape[-2:]), "grad_inputs": (Wt, G, X.shape[-2:])}[direction]
            fs[f"batched/{c}"] = theano.function([X, Wt, G], op(*args), mode=plain, on_unused_input="ignore")
        out[direction] = fs
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--columns", default="512")
    a = p.parse_args()
    columns = [int(c) for c in a.columns.split(",")]
    print(f"isa: {speedups.compiled_isa()}; threads: OMP {os.environ.get('OMP_NUM_THREADS', 'all')}")
    rng = np.random.RandomState(0)
    for name, xs, ws, mode in LAYERS:
        x, w = rng.randn(*xs).astype("float32"), rng.randn(*ws).astype("float32")
        top = theano.function([], CorrMM(mode)(x, w))()
        g = rng.randn(*top.shape).astype("float32")
        flops = 2 * top.size * np.prod(ws[1:])
        for direction, fs in functions(xs, ws, mode, columns).items():
            times = {k: [] for k in fs}
            for k, f in fs.items():
                f(x, w, g)
            for _ in range(a.repeats):
                for k, f in fs.items():
                    t = time.perf_counter()
                    f(x, w, g)
                    times[k].append(time.perf_counter() - t)
            cells = []
            for k, ts in times.items():
                ms = 1000 * statistics.median(ts)
                cells.append(f"{k} {ms:.2f} ms ({flops / ms / 1e6:.0f} GFLOP/s)")
            print(f"{name:26s} {direction:12s} " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
