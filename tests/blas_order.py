"""Does the BLAS that Theano's C code calls sum a GEMM's entries in the same order at any width?

BatchedCorrMM (plumbing/speedups_corr.py) makes one GEMM over a chunk of G images where the stock
CorrMM makes one GEMM per image: the same K-term dot products, in a GEMM G times wider. Whether
they come out bit for bit equal is a property of the BLAS kernel, not of the op. OpenBLAS's
`SkylakeX` kernel sums a dot product in the same order whatever the GEMM's width; its `Haswell`
and `Katmai` kernels do not (their blocking depends on the width). This module asks the library
itself, independently of Theano's ops: it calls sgemm_ through ctypes at the op's widths and
compares each image's block with the GEMM of that block alone.
"""
import ctypes
import ctypes.util
import os
from functools import lru_cache

import numpy as np
import theano
from threadpoolctl import threadpool_info


@lru_cache(maxsize=None)
def library():
    """(path, ctypes library, symbol prefix) of the BLAS named in theano.config.blas.ldflags, or None
    where Theano calls BLAS through NumPy (no ldflags)."""
    flags = theano.config.blas.ldflags.split()
    dirs = [f[2:] for f in flags if f.startswith("-L")]
    for name in (f[2:] for f in flags if f.startswith("-l")):
        candidates = [os.path.join(d, f"lib{name}.so") for d in dirs] + [ctypes.util.find_library(name)]
        for path in filter(None, candidates):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix in ("scipy_", ""):
                if hasattr(lib, f"{prefix}sgemm_"):
                    return os.path.realpath(path) if os.path.exists(path) else path, lib, prefix
    return None


def kernel():
    """The kernel threadpoolctl reports for that library, e.g. 'SkylakeX' or 'Haswell' (OpenBLAS
    chooses it at load time from the CPU, or from OPENBLAS_CORETYPE); None if it reports none."""
    found = library()
    if found is None:
        return None
    for info in threadpool_info():
        if os.path.realpath(info.get("filepath", "")) == found[0]:
            return info.get("architecture")
    return None


def gemm(lib, prefix, transb, a, b, m, n, k, lda):
    """C (m x n, column-major) = A (m x k, column-major, leading dimension lda) . op(B), single-threaded."""
    c = np.zeros((n, m), np.float32)  # C order (n, m) = column-major (m, n)
    args = [ctypes.c_char(b"N"), ctypes.c_char(transb.encode()), ctypes.c_int(m), ctypes.c_int(n), ctypes.c_int(k),
            ctypes.c_float(1.0), a, ctypes.c_int(lda), b, ctypes.c_int(k if transb == "N" else n),
            ctypes.c_float(0.0), c, ctypes.c_int(m)]
    ptrs = [ctypes.byref(v) if isinstance(v, ctypes._SimpleCData) else v.ctypes.data_as(ctypes.c_void_p) for v in args]
    getattr(lib, f"{prefix}sgemm_")(*ptrs)
    return c


@lru_cache(maxsize=None)
def same_order_at_any_width(transb, n, k, P, most_images, seed=0):
    """True if every GEMM C = A . op(B) that is G * P wide (G = 1 .. most_images), A of G images'
    P x k blocks side by side, gives each image's P x n block the same bits as the P-wide GEMM of
    that block alone. The op's two calls: forward ('N', n = filters F, k = K = C kH kW) and input
    gradient ('T', n = K, k = F). Float32, one BLAS thread, as both ops call it."""
    found = library()
    if found is None:
        return False
    _, lib, prefix = found
    threads = getattr(lib, f"{prefix}openblas_get_num_threads", None)
    set_threads = getattr(lib, f"{prefix}openblas_set_num_threads", None)
    saved = threads() if threads else None
    if set_threads:
        set_threads(1)
    try:
        rng = np.random.RandomState(seed)
        b = rng.randn(*((n, k) if transb == "N" else (k, n))).astype(np.float32)  # column-major k x n / n x k
        for G in range(1, most_images + 1):
            a = rng.randn(k, G * P).astype(np.float32)  # column-major (G P) x k
            wide = gemm(lib, prefix, transb, a, b, G * P, n, k, G * P)
            for i in range(G):
                alone = gemm(lib, prefix, transb, np.ascontiguousarray(a[:, i * P:(i + 1) * P]), b, P, n, k, P)
                if not np.array_equal(wide[:, i * P:(i + 1) * P].view(np.uint32), alone.view(np.uint32)):
                    return False
        return True
    finally:
        if set_threads and saved is not None:
            set_threads(saved)


def describe():
    """One line for the test report: the library, its kernel."""
    found = library()
    if found is None:
        return "BLAS: NumPy's (no blas.ldflags): BatchedCorrMM is not used"
    return f"BLAS: {os.path.basename(found[0])}, kernel {kernel() or 'not reported'}"
