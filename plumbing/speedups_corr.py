"""CorrMM and its two gradients with several images to one GEMM; swapped in by plumbing/speedups.py.

Theano's CorrMM (theano/tensor/nnet/c_code/corr_gemm.c) lowers one image at a time (im2col) and
makes one small GEMM per image: 64 x 169 x 288 for the convnet's second layer, 128 x 25 x 576 for
its third, sizes at which OpenBLAS's kernels spend much of their time packing and at the edges.
BatchedCorrMM lowers a chunk of G images side by side into one column matrix (K rows of G * P
columns, P output pixels per image) and makes one GEMM per chunk, chunks in parallel with OpenMP
(OpenBLAS on one thread inside each, as the stock op does):

- forward:         top[F, G*P]     = W[F, K] . col[K, G*P], then each image's F x P block copied out
- gradient of W:   dW_c[F, K]      = top[F, G*P] . col[K, G*P]^T for each chunk c, then summed in chunk order
- gradient of x:   col[K, G*P]     = W[F, K]^T . top[F, G*P], then col2im for each image

Each output of the forward pass and of the input gradient is the same K-term (resp. F-term) dot
product the stock op computes, followed by the stock op's col2im summation order. They come out bit
for bit equal to the stock op's where the BLAS kernel sums a GEMM's entry in the same order whatever
the GEMM's width (OpenBLAS's SkylakeX kernel, on the convnet's shapes); elsewhere (its Haswell
kernel, whose blocking depends on the width) they differ in the last bits, within the float32
rounding bound of a K-term dot product. The weight gradient sums over the batch in another
grouping than the stock op (whose own result depends on its thread count; ours does not), so it is
equal to within the float32 rounding bound of a sum of batch * P products on every kernel.
tests/test_speedups_corr.py asserts the bound everywhere and the bits where the library, asked
directly (tests/blas_order.py), sums in the same order at the op's widths; tests/test_blas_kernels.py
runs those tests under each OpenBLAS kernel the CPU can run. Chunks go to threads dynamically: on a
machine shared with other work a thread that loses its core does not hold the other up.

Handled: 2D, stride 1, no dilation, one group, shared weights, any padding ('valid', 'full',
'half', explicit), float32 and float64. Anything else is left to the stock op.

The C code: plumbing/c_code/batched_corr.c (the op's code: shapes, output, work space) and
batched_corr_support.c (the chunks, their im2col, GEMMs and col2im), read by plumbing/c_source.py.
"""
import numpy as np
import theano
from theano import gof, tensor as T
from theano.tensor import blas_headers
from theano.tensor.blas import ldflags
from theano.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights

from plumbing.c_source import c_source, c_version

FORWARD, GRAD_WEIGHTS, GRAD_INPUTS = "forward", "grad_weights", "grad_inputs"

# Columns per chunk's GEMM (G * P, rounded to whole images): large enough that the GEMM runs near
# OpenBLAS's peak, small enough that a chunk's column matrix stays in the L2 cache and that the
# batch splits into several chunks per thread. Measured: tools/bench/ops.py.
TARGET_COLUMNS = 512


def pads(border_mode):
    """((top, bottom), (left, right)) padding; -2 stands for 'full' (k - 1), -1 for 'half' (k // 2)."""
    if border_mode == "valid":
        return ((0, 0), (0, 0))
    if border_mode == "full":
        return ((-2, -2), (-2, -2))
    if border_mode == "half":
        return ((-1, -1), (-1, -1))
    return tuple((int(a), int(b)) for a, b in border_mode)


class BatchedCorrMM(gof.OpenMPOp):
    """One of CorrMM (direction 'forward'), CorrMM_gradWeights ('grad_weights') or
    CorrMM_gradInputs ('grad_inputs'), stride 1, no dilation, one group: same inputs and outputs,
    with chunks of images lowered into one GEMM."""
    __props__ = ("direction", "pads", "target_columns")

    def __init__(self, direction, pads, target_columns=None, openmp=None):
        super().__init__(openmp=openmp)
        assert direction in (FORWARD, GRAD_WEIGHTS, GRAD_INPUTS)
        self.direction = direction
        self.pads = tuple(tuple(int(v) for v in p) for p in pads)
        self.target_columns = int(target_columns or TARGET_COLUMNS)

    def border_mode(self):
        (a, b), (c, d) = self.pads
        if self.pads == ((-2, -2), (-2, -2)):
            return "full"
        if self.pads == ((-1, -1), (-1, -1)):
            return "half"
        return ((a, b), (c, d))

    def stock(self):
        cls = {FORWARD: CorrMM, GRAD_WEIGHTS: CorrMM_gradWeights, GRAD_INPUTS: CorrMM_gradInputs}[self.direction]
        return cls(self.border_mode())

    def make_node(self, a, b, *shape):
        """Inputs as the stock op's: (a, b) or (a, b, shape), shape a pair or a length-2 vector;
        or (a, b, height, width), as the optimisation passes the stock node's inputs."""
        node = self.stock().make_node(a, b, *([shape if len(shape) == 2 else shape[0]] if shape else []))
        return gof.Apply(self, node.inputs, [o.type() for o in node.outputs])

    def infer_shape(self, node, shapes):
        return self.stock().infer_shape(node, shapes)  # it reads only node.inputs

    def grad(self, inputs, output_grads):
        return self.stock().grad(inputs, output_grads)

    def connection_pattern(self, node):
        if self.direction == FORWARD:
            return [[1], [1]]
        return [[1], [1]] + [[0]] * (len(node.inputs) - 2)

    def perform(self, node, inputs, outputs):  # without a C compiler: the stock op's own Python code
        raise NotImplementedError("BatchedCorrMM needs a C compiler, as CorrMM does")

    # --- C -----------------------------------------------------------------------------------------

    def c_headers(self):
        return ["<string.h>", "<stdlib.h>"] + super().c_headers()

    def c_libraries(self):
        return ldflags()

    def c_compile_args(self):
        return ldflags(libs=False, flags=True) + super().c_compile_args()

    def c_lib_dirs(self):
        return ldflags(libs=False, libs_dir=True)

    def c_header_dirs(self):
        return ldflags(libs=False, include_dir=True)

    def c_code_cache_version(self):
        return (8, self.openmp, blas_headers.blas_header_version(),
                c_version("batched_corr.c", "batched_corr_support.c"))

    def openblas(self):
        return "openblas" in theano.config.blas.ldflags

    def c_support_code(self):
        code = blas_headers.blas_header_text()
        if self.openblas():
            code += blas_headers.openblas_threads_text()
        return code + c_source("batched_corr_support.c")

    def c_support_code_struct(self, node, name):
        return "void *bc_work_%(name)s; size_t bc_work_size_%(name)s;" % dict(name=name)

    def c_init_code_struct(self, node, name, sub):
        return "bc_work_%(name)s = NULL; bc_work_size_%(name)s = 0;" % dict(name=name)

    def c_cleanup_code_struct(self, node, name):
        return "free(bc_work_%(name)s);" % dict(name=name)

    def c_code(self, node, name, inputs, outputs, sub):
        out, = outputs
        fail = sub["fail"]
        dtype = "dtype_" + out
        typenum = "PyArray_TYPE(%s)" % inputs[0]
        (ph_l, ph_r), (pw_l, pw_r) = self.pads
        direction = {FORWARD: 0, GRAD_WEIGHTS: 1, GRAD_INPUTS: 2}[self.direction]
        a, b = inputs[:2]
        shape = inputs[2:]
        hw = ("(int) *(npy_int64*) PyArray_DATA(%s)" % shape[0], "(int) *(npy_int64*) PyArray_DATA(%s)" % shape[1]) \
            if shape else ("-1", "-1")
        omp = int(bool(self.openmp))
        set_threads = "openblas_set_num_threads" if (self.openmp and self.openblas()) else ""
        get_threads = "openblas_get_num_threads()" if (self.openmp and self.openblas()) else "0"
        target = self.target_columns
        return c_source("batched_corr.c", dict(locals(), sh=hw[0], sw=hw[1]), indent=8)


def batched_version(node):
    """The BatchedCorrMM for a CorrMM, CorrMM_gradWeights or CorrMM_gradInputs node, or None."""
    op = node.op
    direction = {CorrMM: FORWARD, CorrMM_gradWeights: GRAD_WEIGHTS, CorrMM_gradInputs: GRAD_INPUTS}.get(type(op))
    if direction is None or op.subsample != (1, 1) or op.filter_dilation != (1, 1) or op.num_groups != 1 \
            or op.unshared or node.outputs[0].dtype not in ("float32", "float64"):
        return None
    if any(v.dtype != node.outputs[0].dtype for v in node.inputs[:2]):
        return None
    new = BatchedCorrMM(direction, pads(op.border_mode), openmp=op.openmp)
    return new(*node.inputs)
