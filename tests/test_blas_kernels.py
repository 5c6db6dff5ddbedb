"""The swapped ops' tests again, under each OpenBLAS kernel this CPU can run.

OpenBLAS picks its kernel from the CPU when it loads (SkylakeX on an AVX-512 machine, Haswell on
an AVX2 one, ...), or from OPENBLAS_CORETYPE. The kernels block a GEMM differently, so a test that
holds on one may fail on the next machine: here each kernel is forced in a fresh process and the
tests of the ops that call BLAS run under it: tests/test_speedups_corr.py (the -march builds aside:
they compile for other instruction sets, not other kernels) and tests/test_speedups_chunked.py (its
whole-script and real-test-set runs aside: they exercise the same ops on more data). The pooling
ops, the fused gradient and the random numbers of tests/test_speedups.py make no BLAS call. The suite's own run covers the kernel this
process loaded; a name that loads a kernel already run here (this build maps Zen to Haswell) is
not run twice, and a kernel whose instructions this CPU lacks is skipped, named.
"""
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

import blas_order

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ("Haswell", "SkylakeX", "Zen", "Prescott")
NEEDS = {"Haswell": {"avx2", "fma"}, "Zen": {"avx2", "fma"}, "Prescott": {"sse3"},
         "SkylakeX": {"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"}}
OPS_TESTS = ["tests/test_speedups_corr.py", "tests/test_speedups_chunked.py"]  # the ops that call BLAS


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return []


def environment(name):
    env = dict(os.environ, OPENBLAS_CORETYPE=name)
    env.pop("OPENBLAS_L2_SIZE", None)  # set on some machines beside a forced kernel: the kernel's own
    return env


@lru_cache(maxsize=None)
def loaded_kernel(name):
    """The kernel OpenBLAS reports in a fresh process with OPENBLAS_CORETYPE=name."""
    code = ("import sys; sys.path[:0] = ['.', 'tests']; import plumbing.defaults, blas_order; "
            "blas_order.same_order_at_any_width('N', 4, 4, 4, 2); print(blas_order.kernel())")
    out = subprocess.run([sys.executable, "-c", code], env=environment(name), cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, f"OPENBLAS_CORETYPE={name}: {out.stderr[-2000:]}"
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("name", KERNELS)
def test_ops_under_each_blas_kernel(name):
    if blas_order.library() is None:
        pytest.skip("Theano calls BLAS through NumPy here (no blas.ldflags): no OpenBLAS kernel to force")
    flags = set(cpu_flags()) | ({"sse3"} if "pni" in cpu_flags() else set())  # /proc/cpuinfo says pni for sse3
    lacking = NEEDS[name] - flags
    if lacking:
        pytest.skip(f"this CPU lacks {', '.join(sorted(lacking))}: the {name} kernel cannot run here")
    kernel = loaded_kernel(name)
    if kernel == blas_order.kernel():
        pytest.skip(f"{name} loads {kernel}, this process's own kernel: the suite's own run covers it")
    earlier = [k for k in KERNELS[:KERNELS.index(name)] if not NEEDS[k] - flags and loaded_kernel(k) == kernel]
    if earlier:
        pytest.skip(f"{name} loads {kernel}, already run as {earlier[0]}")
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *OPS_TESTS,
                          "-k", "not older_instruction_sets and not script and not real_test_set"],
                         env=environment(name), cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"OPENBLAS_CORETYPE={name} (kernel {kernel}):\n{out.stdout[-4000:]}"
    assert f"kernel {kernel}" in out.stdout, out.stdout[:2000]  # the run's header names the kernel it ran on
