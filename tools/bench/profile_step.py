"""Theano's op profile of one script's training step, on real MNIST minibatches of 128.

    python -m tools.bench.profile_step 5_convolutional_net [--steps 20] [--stock]

--stock leaves out speedups.py's swapped ops (levers.py's STOCK_OPS). Prints ms/step (median)
and Theano's per-Op-class summary of the timed steps.
"""
import argparse
import os
import statistics
import sys
import time

from tools.bench.levers import STOCK_OPS
from tools.bench.workers import compiled, minibatches


def main():
    p = argparse.ArgumentParser()
    p.add_argument("script")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--stock", action="store_true")
    p.add_argument("--no-profile", action="store_true")
    a = p.parse_args()
    flags = [] if a.no_profile else ["profile=True", "profile_optimizer=False"]
    if a.stock:
        flags.append(STOCK_OPS)
    os.environ["THEANO_FLAGS"] = ",".join(f for f in [os.environ.get("THEANO_FLAGS", "")] + flags if f)
    import plumbing.defaults  # noqa: F401
    from plumbing import speedups
    train, predict, _ = compiled(a.script)
    batches, _ = minibatches(a.script, a.steps)
    for x, y in batches:
        train(x, y)
    if train.profile is not None:
        train.profile.reinit() if hasattr(train.profile, "reinit") else None
    times = []
    for x, y in batches:
        t = time.perf_counter()
        train(x, y)
        times.append(time.perf_counter() - t)
    print(f"{a.script}: {1000 * statistics.median(times):.2f} ms/step (median of {len(times)}), "
          f"isa={speedups.compiled_isa()}")
    if train.profile is not None:
        train.profile.summary(file=sys.stdout, n_ops_to_print=25, n_apply_to_print=25)


if __name__ == "__main__":
    main()
