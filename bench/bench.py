"""Speed and memory of scripts 2-5, Theano against the same models in PyTorch on the CPU.

    .venv/bin/python bench/bench.py [--scripts 4_modern_net,...] [--steps 50] [--rounds 5]

Each script's own graph is measured: the script's main() runs for one tiny epoch in a fresh process
while the functions it compiles are kept, then its `train` is timed on real MNIST minibatches of 128,
alternating with the PyTorch model (A B A B) so that both see the same machine at the same moment.
Compile time is measured twice: with an empty Theano cache (cold) and again with it filled (warm).
Also measured: peak resident memory of loading all of MNIST (load.mnist). Prints a table and writes
it as JSON (bench/results.json unless --json says otherwise). Needs requirements-bench.txt for PyTorch.
"""
import argparse
import contextlib
import datetime
import functools
import importlib.util
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from reproduce import SLIDES, cpu_name  # noqa: E402

SCRIPTS = list(SLIDES)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def capture_compiled(script):
    """Run the script's main() for one tiny epoch; return its compiled functions and compile seconds."""
    import theano
    compiled, real_function = [], theano.function

    def function(*args, **kwargs):
        started = time.perf_counter()
        f = real_function(*args, **kwargs)
        if sys._getframe(1).f_code.co_filename == str(ROOT / f"{script}.py"):  # not Theano's own
            compiled.append((f, time.perf_counter() - started))
        return f

    spec = importlib.util.spec_from_file_location(script, ROOT / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theano.function = function
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            module.main(epochs=1, ntrain=256, ntest=128)
    finally:
        theano.function = real_function
    (train, train_s), (predict, predict_s) = compiled
    return train, predict, train_s + predict_s


def median_ms(times):
    times = sorted(times)
    return 1000 * times[len(times) // 2]


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


def worker(script, steps, rounds, yardstick):
    """One script, in this process: compile, then time Theano (and PyTorch, alternating)."""
    import tutorial  # noqa: F401  (Theano's flags, as the scripts have them)
    import theano
    from load import mnist
    train, predict, compile_s = capture_compiled(script)
    flags = ("floatX", "blas.ldflags", "openmp", "allow_gc", "linker", "gcc.cxxflags")
    result = {"script": script, "compile_s": compile_s, "blas": blas_in_use(theano.config.blas.ldflags),
              "flags": {k: str(functools.reduce(getattr, k.split("."), theano.config)) for k in flags}}
    if steps == 0:
        print(json.dumps(result))
        return
    trX, teX, trY, teY = mnist(ntrain=128 * steps, ntest=10000, data_dir=os.environ.get("MNIST_DIR"))
    if script.startswith("5"):
        trX, teX = trX.reshape(-1, 1, 28, 28), teX.reshape(-1, 1, 28, 28)
    batches = [(trX[i:i + 128], trY[i:i + 128]) for i in range(0, 128 * steps, 128)]

    def timed_steps(step):
        times = []
        for x, y in batches:
            started = time.perf_counter()
            step(x, y)
            times.append(time.perf_counter() - started)
        return times

    def predict_seconds(fn):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            fn(teX)
            times.append(time.perf_counter() - started)
        return sorted(times)[1]

    timed_steps(train)  # warm-up: first calls allocate
    result["theano_predict_img_s"] = len(teX) / predict_seconds(predict)
    result["theano_peak_rss_mb"] = peak_rss_mb()
    theano_times, torch_times = [], []
    if yardstick:
        import torch
        from torch_models import build
        torch.manual_seed(0)
        torch_train, torch_predict = build(script)
        timed_steps(torch_train)
        result["torch_predict_img_s"] = len(teX) / predict_seconds(torch_predict)
        result["torch_threads"] = torch.get_num_threads()
    for _ in range(rounds):  # A B A B
        theano_times += timed_steps(train)
        if yardstick:
            torch_times += timed_steps(torch_train)
    result["theano_step_ms"] = median_ms(theano_times)
    if yardstick:
        result["torch_step_ms"] = median_ms(torch_times)
        result["ratio"] = result["theano_step_ms"] / result["torch_step_ms"]
    print(json.dumps(result))


def load_worker():
    before = peak_rss_mb()
    from load import mnist
    trX, teX, trY, teY = mnist(data_dir=os.environ.get("MNIST_DIR"))
    print(json.dumps({"load_peak_rss_mb": peak_rss_mb(), "before_mb": before,
                      "arrays_mb": sum(a.nbytes for a in (trX, teX, trY, teY)) / 2 ** 20}))


def run_worker(args, compiledir):
    env = dict(os.environ, THEANO_FLAGS=",".join(
        f for f in (os.environ.get("THEANO_FLAGS", ""), f"compiledir={compiledir}") if f))
    out = subprocess.run([sys.executable, __file__, "--worker", *args], env=env, capture_output=True,
                         text=True, cwd=ROOT / "bench")
    if out.returncode != 0:
        sys.exit(f"worker {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine():
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "date": datetime.date.today().isoformat(), "os": platform.platform()}
    try:
        import threadpoolctl
        info["blas_pools"] = [{k: p[k] for k in ("internal_api", "num_threads", "filepath") if k in p}
                              for p in threadpoolctl.threadpool_info()]
    except ImportError:
        pass
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", default=",".join(SCRIPTS), help="comma-separated script names")
    parser.add_argument("--steps", type=int, default=40, help="training steps timed per round")
    parser.add_argument("--rounds", type=int, default=5, help="A B rounds (Theano, then PyTorch)")
    parser.add_argument("--no-torch", action="store_true", help="leave out the PyTorch yardstick")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker[0] == "load":
            return load_worker()
        script, steps, rounds, yardstick = args.worker
        return worker(script, int(steps), int(rounds), yardstick == "1")

    yardstick = not args.no_torch
    if yardstick:
        try:
            import torch  # noqa: F401
        except ImportError:
            sys.exit("PyTorch is missing: .venv/bin/pip install -r requirements-bench.txt (or --no-torch)")
    rows = []
    load_row = run_worker(["load"], tempfile.mkdtemp())
    print(f"loading all of MNIST: peak RSS {load_row['load_peak_rss_mb']:.0f} MB "
          f"({load_row['arrays_mb']:.0f} MB of arrays)", flush=True)
    for script in args.scripts.split(","):
        with tempfile.TemporaryDirectory() as compiledir:
            cold = run_worker([script, "0", "0", "0"], compiledir)
            row = run_worker([script, str(args.steps), str(args.rounds), "1" if yardstick else "0"], compiledir)
        row["compile_cold_s"], row["compile_warm_s"] = cold["compile_s"], row.pop("compile_s")
        rows.append(row)
        print(format_row(row), flush=True)
    report = {"machine": machine(), "steps": args.steps, "rounds": args.rounds, "batch_size": 128,
              "load": load_row, "rows": rows}
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print()
    print(table(report))
    print(f"\nwritten to {args.json}")


def format_row(row):
    ratio = f"{row['ratio']:.2f}" if "ratio" in row else "-"
    torch_ms = f"{row['torch_step_ms']:.2f}" if "torch_step_ms" in row else "-"
    return (f"{row['script']}: theano {row['theano_step_ms']:.2f} ms/step, torch {torch_ms}, ratio {ratio}, "
            f"compile {row['compile_cold_s']:.1f}s cold / {row['compile_warm_s']:.1f}s warm")


def table(report):
    m = report["machine"]
    lines = [f"{m['date']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}; "
             f"BLAS: {report['rows'][0]['blas']}, "
             f"openmp={report['rows'][0]['flags']['openmp']}, allow_gc={report['rows'][0]['flags']['allow_gc']}; "
             f"median of {report['steps'] * report['rounds']} steps of 128",
             "",
             "| script | Theano ms/step | PyTorch ms/step | Theano / PyTorch | compile cold / warm (s) "
             "| predict img/s Theano / PyTorch | peak RSS MB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in report["rows"]:
        torch_ms = f"{r['torch_step_ms']:.2f}" if "torch_step_ms" in r else "-"
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else "-"
        torch_pred = f"{r['torch_predict_img_s']:,.0f}" if "torch_predict_img_s" in r else "-"
        lines.append(f"| {r['script']} | {r['theano_step_ms']:.2f} | {torch_ms} | {ratio} | "
                     f"{r['compile_cold_s']:.1f} / {r['compile_warm_s']:.1f} | "
                     f"{r['theano_predict_img_s']:,.0f} / {torch_pred} | {r['theano_peak_rss_mb']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
