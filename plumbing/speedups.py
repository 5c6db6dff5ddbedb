"""Faster equivalents of slow Theano CPU ops, swapped in by a graph optimisation; same results.

Imported by plumbing/defaults.py once Theano's flags are set. Nothing here changes what a script computes:
tests/test_speedups.py compares every output and gradient against the stock ops, bit for bit, but
for BatchedCorrMM: its weight gradient (a sum over the batch in another grouping) everywhere, and its
forward pass and input gradient where the BLAS kernel's summation order depends on the GEMM's width,
which tests/test_speedups_corr.py holds to the float32 rounding bound of such sums. Each optimisation has
a tag of its own, for optimizer_excluding: fast_pool, fast_pool_grad, fast_fuse, fast_relu_pool,
fast_mrg, fast_mask, fast_corr, fast_rmsprop; and `chunked` (speedups_chunked.py) computes a graph
that treats every image apart a chunk of images at a time, to bound the memory of predict(teX).
compiled_isa() names the instruction set the C code is compiled for.

- Pool (max) and MaxPoolGrad, where pooling windows do not overlap, and the rectifier computed
  inside them (speedups_pool.py): each window read straight from memory, without a branch per
  element; the rectifier's output never stored.
- CorrMM, CorrMM_gradWeights and CorrMM_gradInputs, the convnet's convolutions (62 % of its step):
  the stock op makes one small GEMM per image; BatchedCorrMM (speedups_corr.py) one per chunk of
  images lowered side by side.
- mrg_uniform, the generator behind dropout's masks: Theano's C loop runs on one core and reloads
  a stream's state for every number. Here 16 streams at a time step together in SIMD lanes, their
  states in registers, and blocks of 16 run in parallel with OpenMP; stream s still gives elements
  s, s + n_streams, ... in order. Where the numbers only make dropout's mask, cast(u < p), the
  generator writes the mask itself (ParallelMRGMask), and no pass of its own reads the numbers again.
- RMSprop's four Elemwise loops per parameter (speedups_rmsprop.py): one pass, each operation
  rounded as Theano's loops round it.

The ops' C code is in plumbing/c_code/ (mrg_uniform.c here; the pooling ops' max_pool.c and
max_pool_grad.c; BatchedCorrMM's batched_corr.c and batched_corr_support.c; RMSpropStep's
rmsprop.c), read and filled by plumbing/c_source.py as Theano's CorrMM reads and fills its
c_code/corr_gemm.c.
"""
import functools

import numpy as np
import theano
from theano import gof, scalar, tensor as T
from theano.compile import optdb
from theano.sandbox.rng_mrg import mrg_uniform
from theano.tensor.opt import register_specialize, register_specialize_device
from theano.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights

from plumbing.c_source import c_literal, c_source, c_type, c_version
from plumbing.graph_patterns import elemwise_inputs, scalar_constant
from plumbing.speedups_corr import BatchedCorrMM, batched_version  # noqa: F401
from plumbing.speedups_pool import NonOverlappingMaxPool, NonOverlappingMaxPoolGrad  # noqa: F401  (registers them)
from plumbing import speedups_chunked  # noqa: F401,E402  (registers `chunked`: prediction in chunks of images)
from plumbing.speedups_rmsprop import RMSpropStep  # noqa: F401  (registers fast_rmsprop)


class ParallelMRGUniform(mrg_uniform):
    """mrg_uniform with the same numbers: 16 streams at a time in SIMD lanes, blocks of them on every core."""

    def c_compile_args(self):
        # -fwrapv: int32 sums wrap as the stock op's compiled code does; -fopenmp-simd: the lane loop
        return ["-fwrapv", "-fopenmp-simd"] + (["-fopenmp"] if openmp_enabled() else [])

    def c_headers(self):
        return super().c_headers() + (["omp.h"] if openmp_enabled() else [])

    def c_code_cache_version(self):
        return (3, openmp_enabled(), c_version("mrg_uniform.c"), *super().c_code_cache_version())

    def c_support_code(self, kind="uniform", value="u"):
        """mrg_uniform.c for both dtypes; value: what is written for the number u, "{dtype}" its C type."""
        omp = "#pragma omp parallel for schedule(static)" if openmp_enabled() else ""
        return "\n".join(c_source("mrg_uniform.c", dict(dtype=dtype, NORM=NORM, omp=omp, kind=kind,
                                                         value=value.format(dtype=dtype)), indent=8)
                          for dtype, NORM in (("npy_float32", "4.6566126e-10f"),
                                              ("npy_float64", "4.656612873077392578125e-10")))


class ParallelMRGMask(ParallelMRGUniform):
    """ParallelMRGUniform's numbers u compared with a threshold, cast(u < threshold) as Theano
    computes it (the comparison in the threshold's dtype), written in place of the numbers: the
    dropout's mask of MRG_RandomStreams.binomial, without a pass of its own over the mask."""
    __props__ = ("output_type", "inplace", "threshold", "threshold_dtype")

    def __init__(self, output_type, inplace, threshold, threshold_dtype):
        # no defaults: Theano's in-place rewrite of the generators, op.__class__(output_type, inplace=True),
        # would drop the threshold; local_mask_inplace makes this op in place before it
        super().__init__(output_type, inplace=inplace)
        self.threshold, self.threshold_dtype = float(threshold), str(threshold_dtype)

    def __str__(self):
        return f"ParallelMRGMask{{{self.output_type}, p={self.threshold:.6g}{', inplace' if self.inplace else ''}}}"

    def perform(self, node, inputs, outputs, params):
        super().perform(node, inputs, outputs, params)
        u, real = outputs[1][0], np.dtype(self.threshold_dtype).type
        outputs[1][0] = (u.astype(real) < real(self.threshold)).astype(u.dtype)

    def c_code(self, node, name, inputs, outputs, sub):
        return super().c_code(node, name, inputs, outputs, sub).replace("cpu_rng_mrg_uniform_", "cpu_rng_mrg_mask_")

    def c_code_cache_version(self):
        return (1, self.threshold, self.threshold_dtype, *super().c_code_cache_version())

    def c_support_code(self):
        threshold = c_literal(self.threshold, self.threshold_dtype)
        return super().c_support_code("mask", f"({{dtype}}) (({c_type(self.threshold_dtype)}) u < {threshold})")


@functools.lru_cache(maxsize=None)
def compiled_isa():
    """The instruction set Theano's C code (these ops included) is compiled for: the -march Theano
    passes to g++ (gcc.cxxflags's, else what -march=native means here, which Theano spells out) and
    which of the compiler's predefined macros __AVX512F__, __AVX2__, __FMA__, __AVX__, __SSE4_2__
    those flags define, e.g. '-march=x86-64-v3: AVX2 FMA AVX SSE4_2'."""
    import subprocess
    from theano.gof.cmodule import GCC_compiler
    flags = [f for f in GCC_compiler.compile_args() if f.startswith("-m") and not f.startswith("-mtune")]
    march = [f for f in flags if f.startswith("-march=")]
    march = march[-1] if march else "(no -march)"
    try:
        out = subprocess.run([theano.config.cxx, *flags, "-dM", "-E", "-x", "c++", "/dev/null"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return march + ": unknown"
    found = [name for name in ("AVX512F", "AVX2", "FMA", "AVX", "SSE4_2") if f"#define __{name}__ " in out]
    return f"{march}: {' '.join(found) or 'SSE2'}"


@functools.lru_cache(maxsize=None)
def openmp_enabled():
    return bool(theano.config.openmp) and gof.OpenMPOp.test_gxx_support()  # compiles a test program


@register_specialize("fast_mask")
@gof.local_optimizer([T.Elemwise])
def local_mask_in_mrg(node):
    """cast(u < threshold), u ParallelMRGUniform's numbers read by nothing else, threshold a scalar
    constant: MRG_RandomStreams.binomial, dropout's mask -> ParallelMRGMask, the mask written in
    place of the numbers."""
    cast = elemwise_inputs(node.outputs[0], scalar.Cast, 1)
    less = elemwise_inputs(cast[0], scalar.LT, 2) if cast else None
    if less is None or len(cast[0].clients) != 1:
        return None
    u, threshold = less
    mrg = u.owner
    value = scalar_constant(threshold, threshold.dtype) if threshold.dtype in ("float32", "float64") else None
    if not (mrg and type(mrg.op) is ParallelMRGUniform and u is mrg.outputs[1] and len(u.clients) == 1
            and value is not None and node.outputs[0].type == u.type):
        return None
    mask_op = ParallelMRGMask(mrg.op.output_type, mrg.op.inplace, value, threshold.dtype)
    state, mask = mask_op(*mrg.inputs)
    return {node.outputs[0]: mask, mrg.outputs[0]: state}


@gof.local_optimizer([ParallelMRGMask])
def local_mask_inplace(node):
    """ParallelMRGMask -> its in-place version, which writes the generator's state over its input,
    as Theano's own rewrite (random_make_inplace_mrg, 99) does for the generators."""
    op = node.op
    if not isinstance(op, ParallelMRGMask) or op.inplace:
        return None
    return ParallelMRGMask(op.output_type, True, op.threshold, op.threshold_dtype).make_node(*node.inputs).outputs


optdb.register("mrg_mask_inplace", gof.opt.in2out(local_mask_inplace, ignore_newtrees=True), 98.9,
               "fast_run", "inplace", "fast_mask")


@register_specialize("fast_mrg")
@gof.local_optimizer([mrg_uniform])
def local_parallel_mrg_uniform(node):
    """mrg_uniform -> ParallelMRGUniform, on the CPU, where OpenMP is on."""
    if type(node.op) is not mrg_uniform or not openmp_enabled() or node.op.output_type.dtype == "float16":
        return None
    return ParallelMRGUniform(node.op.output_type, inplace=node.op.inplace)(*node.inputs)


# CorrMM's ops come from AbstractConv2d in specialize_device (theano/tensor/nnet/opt.py), after
# specialize, so this one is registered there too; that database runs its optimisations to a fixed point.
@register_specialize_device("fast_corr")
@gof.local_optimizer([CorrMM, CorrMM_gradWeights, CorrMM_gradInputs])
def local_batched_corr(node):
    """CorrMM, CorrMM_gradWeights, CorrMM_gradInputs -> BatchedCorrMM (speedups_corr.py), where
    stride 1, no dilation, one group, shared weights. Only with a BLAS linked into Theano's C code
    (blas.ldflags): it calls sgemm_ itself, which NumPy's BLAS does not export to it."""
    if not theano.config.blas.ldflags:
        return None
    new = batched_version(node)
    return None if new is None else [new]
