"""The bench's workers: each runs in a fresh process (python -m tools.bench.bench --worker KIND ...),
measures one thing and prints one JSON line for the parent (timing.py) to read."""
import os
import statistics
import time

from tools.lessons import ROOT, as_input

BATCH = 128

# The yardsticks: each peer, its name, and the Python of its framework's venv (make ports), where its
# worker runs the lesson's port (ports/<framework>/, built by port_models.py). torch_compile is the
# PyTorch port with its train function passed through torch.compile (Inductor, the default back end).
PEERS = {peer: (name, ROOT / f".venv-{venv}" / "bin" / "python")
         for peer, name, venv in (("torch", "PyTorch", "torch"), ("torch_compile", "PyTorch compiled", "torch"),
                                  ("jax", "JAX", "jax"), ("pytensor", "PyTensor", "pytensor"))}


def peak_rss_mb():
    """This process's peak resident memory, VmHWM: unlike ru_maxrss it starts anew at exec."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


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


def compiled(script, dropout=True):
    """The script's training and prediction functions, and the seconds it took to build and compile them."""
    from tools.bench.theano_models import build
    started = time.perf_counter()
    train, predict = build(script, dropout=dropout)
    return train, predict, time.perf_counter() - started


def minibatches(script, steps):
    from load import mnist
    trX, teX, trY, teY = mnist(ntrain=BATCH * steps, ntest=10000, data_dir=os.environ.get("MNIST_DIR"))
    trX, teX = as_input(script, trX), as_input(script, teX)
    return [(trX[i:i + BATCH], trY[i:i + BATCH]) for i in range(0, BATCH * steps, BATCH)], teX


class Untuned:
    """The peers' tuner: none; a peer's framework keeps its own threads."""

    def step(self):
        pass

    pause = step


def timed(train, predict, batches, teX, tuner=Untuned()):
    """Warm up, then the seconds of each training step and the median seconds of a prediction. A
    tuner (Theano's: plumbing/threads.py, as the lessons' Progress has it) hears of every step."""
    started = time.perf_counter()
    for i, (x, y) in enumerate(batches):  # first calls allocate (and jax.jit, torch.compile compile)
        train(x, y)
        tuner.step()
        if i == 0:
            first = time.perf_counter() - started
    steps = []
    for x, y in batches:
        started = time.perf_counter()
        train(x, y)
        steps.append(time.perf_counter() - started)
        tuner.step()
    tuner.pause()
    return steps, median_seconds(lambda: predict(teX), 3), first


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
        from plumbing.threads import ThreadTuner
        tuner = ThreadTuner()
        result["step_s"], result["predict_s"], _ = timed(train, predict, batches, teX, tuner)
        result["threads_used"], result["thread_switches"] = tuner.threads, tuner.switches
        result["peak_rss_mb"] = peak_rss_mb()
    return result


def peer_worker(peer, script, steps):
    """The script's port in a peer framework (port_models.py), timed as Theano's."""
    from tools.bench.port_models import build
    framework = "torch" if peer == "torch_compile" else peer
    version = __import__(framework).__version__
    train, predict = build(framework, script, compile=peer == "torch_compile")
    batches, teX = minibatches(script, steps)
    step_s, predict_s, first_s = timed(train, predict, batches, teX)
    return {"step_s": step_s, "predict_s": predict_s, "first_step_s": first_s, "peak_rss_mb": peak_rss_mb(),
            "version": version, "env": thread_settings()}


def costs_worker(framework, script, steps):
    """The costs of the first `steps` training steps with dropout off, from the lesson's weights
    (seed 42) on the timed minibatches: Theano's lesson, or a port as the bench builds it (torch_compile:
    the PyTorch port through torch.compile)."""
    if framework == "theano":
        import plumbing.defaults  # noqa: F401
        train = compiled(script, dropout=False)[0]
    else:
        from tools.bench.port_models import build
        train = build("torch" if framework == "torch_compile" else framework, script, dropout=False,
                      compile=framework == "torch_compile")[0]
    return {"costs": [float(train(x, y)) for x, y in minibatches(script, steps)[0]]}


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
    if kind == "costs":
        return costs_worker(args[0], args[1], int(args[2]))
    if kind == "sgemm":
        return sgemm_worker()
    return load_worker()
