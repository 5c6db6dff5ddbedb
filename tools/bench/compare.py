"""ms per training step of Theano variants, PyTorch and JAX, alternated in fresh processes; medians.

    MNIST_DIR=... .venv/bin/python tools/bench/compare.py 5_convolutional_net --rounds 3 --steps 30 \
        --variant fast= --variant stock=THEANO_FLAGS=optimizer_excluding=fast_corr --torch --jax

A variant is NAME=ENV[;ENV...] (environment settings for its Theano process). Each round runs every
variant, then PyTorch (.venv-torch) and JAX (.venv-jax), each in a fresh process that warms up and
times --steps steps on real MNIST minibatches of 128 (plumbing/bench/bench.py's Theano worker, the
PyTorch and JAX workers below). Prints each process's median and the median over all steps.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENVS = {"torch": ROOT / ".venv-torch" / "bin" / "python", "jax": ROOT / ".venv-jax" / "bin" / "python"}


def peer_worker(framework, script, steps):
    """Time a PyTorch (plumbing/bench/torch_models.py) or JAX (jax_models.py) model as bench.py does."""
    sys.path[:0] = [str(ROOT), str(ROOT / "plumbing" / "bench"), str(HERE)]
    from load import mnist
    if framework == "torch":
        import torch
        torch.manual_seed(0)
        from torch_models import build
    else:
        from jax_models import build
    image = (1, 28, 28) if script == "5_convolutional_net" else (784,)
    trX, teX, trY, teY = mnist(ntrain=128 * steps, ntest=10000, data_dir=os.environ.get("MNIST_DIR"))
    batches = [(trX[i:i + 128].reshape(-1, *image), trY[i:i + 128]) for i in range(0, 128 * steps, 128)]
    train, predict = build(script)
    for x, y in batches:
        train(x, y)
    times = []
    for x, y in batches:
        t = time.perf_counter()
        train(x, y)
        times.append(time.perf_counter() - t)
    return {"step_s": times}


def run(command, env=None):
    out = subprocess.run(command, env=dict(os.environ, **(env or {})), capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("script", nargs="?")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--variant", action="append", default=[])
    p.add_argument("--torch", action="store_true")
    p.add_argument("--jax", action="store_true")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(peer_worker(a.worker[0], a.worker[1], int(a.worker[2]))))
        return
    variants = []
    for v in a.variant or ["fast="]:
        name, _, envs = v.partition("=")
        env = dict(e.split("=", 1) for e in envs.split(";") if e)
        variants.append((name, [sys.executable, str(ROOT / "plumbing" / "bench" / "bench.py"), "--worker", "theano",
                                a.script, str(a.steps)], env))
    for framework in ("torch", "jax"):
        if getattr(a, framework):
            variants.append((framework, [str(VENVS[framework]), __file__, "--worker", framework, a.script, str(a.steps)],
                             {}))
    steps = {name: [] for name, _, _ in variants}
    for r in range(a.rounds):
        for name, command, env in variants:
            s = run(command, env)["step_s"]
            steps[name] += s
            print(f"round {r + 1} {name}: {1000 * statistics.median(s):.2f} ms", flush=True)
    print(f"{a.script}: median ms/step over {a.rounds} processes x {a.steps} steps")
    for name, s in steps.items():
        print(f"  {name}: {1000 * statistics.median(s):.2f}")


if __name__ == "__main__":
    main()
