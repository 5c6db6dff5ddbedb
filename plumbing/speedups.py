"""Faster equivalents of slow Theano CPU ops, swapped in by a graph optimisation; same results.

Imported by plumbing/defaults.py once Theano's flags are set. Nothing here changes what a script computes:
tests/test_speedups.py compares every output and gradient against the stock ops, bit for bit, but
for BatchedCorrMM: its weight gradient (a sum over the batch in another grouping) everywhere, and its
forward pass and input gradient where the BLAS kernel's summation order depends on the GEMM's width,
which tests/test_speedups_corr.py holds to the float32 rounding bound of such sums. Each optimisation has
a tag of its own, for optimizer_excluding: fast_pool, fast_pool_grad, fast_fuse, fast_mrg, fast_corr;
and `chunked` (speedups_chunked.py) computes a graph that treats every image apart a chunk of images
at a time, to bound the memory of predict(teX).
compiled_isa() names the instruction set the C code is compiled for.

- Pool (max), for pooling windows that do not overlap (ws == stride, no padding): Theano's C code
  addresses every element through PyArray_GETPTR4. Here each window is read straight from memory.
- MaxPoolGrad, for pooling windows that do not overlap (ws == stride, no padding, as in the
  convnet's 2x2 pooling): Theano's C code addresses every element through PyArray_GETPTR4 and was
  39 % of a convnet training step. Here each input element looks up its one window directly;
  where the pooled values are rectified, maximum(a, 0), the rectifier's gradient eq(x, a) * g is
  computed in the same pass (fast_fuse) instead of by an Elemwise reading and writing it all again.
- CorrMM, CorrMM_gradWeights and CorrMM_gradInputs, the convnet's convolutions (62 % of its step):
  the stock op makes one small GEMM per image; BatchedCorrMM (speedups_corr.py) one per chunk of
  images lowered side by side.
- mrg_uniform, the generator behind dropout's masks: Theano's C loop runs on one core and reloads
  a stream's state for every number. Here 16 streams at a time step together in SIMD lanes, their
  states in registers, and blocks of 16 run in parallel with OpenMP; stream s still gives elements
  s, s + n_streams, ... in order.
"""
import functools

import numpy as np
import theano
from theano import gof, tensor as T
from theano.sandbox.rng_mrg import mrg_uniform
from theano.tensor.opt import register_specialize, register_specialize_device
from theano.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights
from theano.tensor.signal.pool import MaxPoolGrad, Pool

from plumbing.speedups_corr import BatchedCorrMM, batched_version  # noqa: F401
from plumbing import speedups_chunked  # noqa: F401,E402  (registers `chunked`: prediction in chunks of images)


class NonOverlappingMaxPoolGrad(gof.OpenMPOp):
    """Gradient of 2D max pooling over the last two axes of a 4D tensor, windows ws == stride.

    gx[i, j] = gz[window of (i, j)] where x[i, j] equals that window's max, else 0: what
    MaxPoolGrad gives when every element lies in at most one window (ties all get the gradient).
    rectified: x = maximum(a, 0) and a fourth input a, the output then being the gradient with
    respect to a, eq(x, a) * gx, the rectifier's gradient as Theano writes it (Maximum.grad), in
    the same pass (local_fused_rectify_pool_grad).
    """
    __props__ = ("ws", "rectified")

    def __init__(self, ws, openmp=None, rectified=False):
        super().__init__(openmp=openmp)
        self.ws = tuple(int(k) for k in ws)
        self.rectified = bool(rectified)

    def __setstate__(self, d):
        self.__dict__.update(d)
        self.__dict__.setdefault("rectified", False)

    def make_node(self, x, z, gz, *a):
        inputs = [T.as_tensor_variable(v) for v in (x, z, gz, *a)]
        assert len(inputs) == 3 + self.rectified
        assert all(v.ndim == 4 and v.dtype == inputs[0].dtype for v in inputs)
        return gof.Apply(self, inputs, [inputs[0].type()])

    def infer_shape(self, node, shapes):
        return [shapes[0]]

    def perform(self, node, inputs, outputs):
        x, z, gz = inputs[:3]
        kh, kw = self.ws
        h, w = x.shape[2:]
        rows = np.minimum(np.arange(h) // kh, z.shape[2] - 1)
        cols = np.minimum(np.arange(w) // kw, z.shape[3] - 1)
        inside = (np.arange(h) // kh < z.shape[2])[:, None] & (np.arange(w) // kw < z.shape[3])[None, :]
        z_up, gz_up = (a[:, :, rows][:, :, :, cols] for a in (z, gz))
        gx = np.zeros_like(x)
        np.add(gx, gz_up, out=gx, where=(x == z_up) & inside)
        if self.rectified:
            gx = (x == inputs[3]).astype(x.dtype) * gx
        outputs[0][0] = gx

    def c_code_cache_version(self):
        return (2, self.openmp, self.rectified)

    def c_code(self, node, name, inputs, outputs, sub):
        x, z, gz = inputs[:3]
        gx, = outputs
        kh, kw = self.ws
        fail = sub["fail"]
        a = inputs[3] if self.rectified else x
        rect = int(self.rectified)
        omp = "#pragma omp parallel for schedule(static)" if self.openmp else ""
        return """
        {
        PyArrayObject *xc = PyArray_GETCONTIGUOUS(%(x)s);
        PyArrayObject *zc = PyArray_GETCONTIGUOUS(%(z)s);
        PyArrayObject *gc = PyArray_GETCONTIGUOUS(%(gz)s);
        PyArrayObject *ac = PyArray_GETCONTIGUOUS(%(a)s);
        npy_intp *d = PyArray_DIMS(xc), *dz = PyArray_DIMS(zc);
        const npy_intp planes = d[0] * d[1], H = d[2], W = d[3], H2 = dz[2], W2 = dz[3];
        int bad = dz[0] != d[0] || dz[1] != d[1] || !PyArray_SAMESHAPE(zc, gc) || !PyArray_SAMESHAPE(xc, ac);
        if (!bad && !(%(gx)s && PyArray_IS_C_CONTIGUOUS(%(gx)s) && PyArray_SAMESHAPE(%(gx)s, xc))) {
            Py_XDECREF(%(gx)s);
            %(gx)s = (PyArrayObject*) PyArray_EMPTY(4, d, PyArray_TYPE(xc), 0);
            bad = !%(gx)s;
        }
        if (!bad) {
            const dtype_%(x)s *X = (dtype_%(x)s*) PyArray_DATA(xc);
            const dtype_%(z)s *Z = (dtype_%(z)s*) PyArray_DATA(zc);
            const dtype_%(gz)s *G = (dtype_%(gz)s*) PyArray_DATA(gc);
            const dtype_%(x)s *A = (const dtype_%(x)s*) PyArray_DATA(ac);
            dtype_%(gx)s *GX = (dtype_%(gx)s*) PyArray_DATA(%(gx)s);
            %(omp)s
            for (npy_intp t = 0; t < planes; t++) {
                const dtype_%(x)s *xs = X + t * H * W;
                const dtype_%(z)s *zs = Z + t * H2 * W2;
                const dtype_%(gz)s *gs = G + t * H2 * W2;
                const dtype_%(x)s *as = A + t * H * W;
                dtype_%(gx)s *out = GX + t * H * W;
                for (npy_intp i = 0; i < H; i++) {
                    const npy_intp zi = i / %(kh)d;
                    for (npy_intp j = 0; j < W; j++) {
                        const npy_intp zj = j / %(kw)d;
                        /* 0 + g, as MaxPoolGrad adds into zeros: the same bits, -0.0 included */
                        dtype_%(gx)s v = (zi < H2 && zj < W2 && xs[i * W + j] == zs[zi * W2 + zj])
                            ? (dtype_%(gx)s) 0 + gs[zi * W2 + zj] : (dtype_%(gx)s) 0;
                        /* rectified: eq(x, a) * v, as the rectifier's gradient multiplies (-0.0, NaN kept) */
                        if (%(rect)d) v = (dtype_%(gx)s) (xs[i * W + j] == as[i * W + j]) * v;
                        out[i * W + j] = v;
                    }
                }
            }
        }
        Py_DECREF(xc); Py_DECREF(zc); Py_DECREF(gc); Py_DECREF(ac);
        if (bad) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "NonOverlappingMaxPoolGrad: shapes do not match");
            %(fail)s
        }
        }
        """ % locals()


class NonOverlappingMaxPool(gof.OpenMPOp):
    """2D max pooling over the last two axes of a 4D tensor, windows ws == stride, no padding.

    Each output is the first element of its window, replaced by any later one that is greater,
    row by row: Pool's own rule, so NaNs and ties give the same bits.
    """
    __props__ = ("ws", "ignore_border")

    def __init__(self, ws, ignore_border, openmp=None):
        super().__init__(openmp=openmp)
        self.ws = tuple(int(k) for k in ws)
        self.ignore_border = bool(ignore_border)

    def out_size(self, n, k):
        return n // k if self.ignore_border else (n + k - 1) // k

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        assert x.ndim == 4
        return gof.Apply(self, [x], [x.type()])

    def infer_shape(self, node, shapes):
        (b, c, h, w), (kh, kw) = shapes[0], self.ws
        return [(b, c, self.out_size(h, kh), self.out_size(w, kw))]

    def grad(self, inputs, output_grads):
        x, = inputs
        return [MaxPoolGrad(ignore_border=self.ignore_border, ndim=2)(
            x, self(x), output_grads[0], self.ws, self.ws, (0, 0))]

    def perform(self, node, inputs, outputs):
        x, = inputs
        (kh, kw), (h, w) = self.ws, x.shape[2:]
        h2, w2 = self.out_size(h, kh), self.out_size(w, kw)
        z = np.empty(x.shape[:2] + (h2, w2), dtype=x.dtype)
        for i in range(h2):
            for j in range(w2):
                window = x[:, :, i * kh:min(i * kh + kh, h), j * kw:min(j * kw + kw, w)]
                best = window[:, :, 0, 0].copy()
                for r in range(window.shape[2]):
                    for c in range(window.shape[3]):
                        np.copyto(best, window[:, :, r, c], where=window[:, :, r, c] > best)
                z[:, :, i, j] = best
        outputs[0][0] = z

    def c_code_cache_version(self):
        return (2, self.openmp)

    def c_code(self, node, name, inputs, outputs, sub):
        x, = inputs
        z, = outputs
        kh, kw = self.ws
        fail = sub["fail"]
        omp = "#pragma omp parallel for schedule(static)" if self.openmp else ""
        h2 = "H / %d" % kh if self.ignore_border else "(H + %d) / %d" % (kh - 1, kh)
        w2 = "W / %d" % kw if self.ignore_border else "(W + %d) / %d" % (kw - 1, kw)
        return """
        {
        PyArrayObject *xc = PyArray_GETCONTIGUOUS(%(x)s);
        npy_intp *d = PyArray_DIMS(xc);
        const npy_intp planes = d[0] * d[1], H = d[2], W = d[3], H2 = %(h2)s, W2 = %(w2)s;
        npy_intp dz[4] = {d[0], d[1], H2, W2};
        int bad = 0;
        if (!(%(z)s && PyArray_IS_C_CONTIGUOUS(%(z)s) && PyArray_NDIM(%(z)s) == 4
              && PyArray_CompareLists(PyArray_DIMS(%(z)s), dz, 4))) {
            Py_XDECREF(%(z)s);
            %(z)s = (PyArrayObject*) PyArray_EMPTY(4, dz, PyArray_TYPE(xc), 0);
            bad = !%(z)s;
        }
        if (!bad) {
            const dtype_%(x)s *X = (const dtype_%(x)s*) PyArray_DATA(xc);
            dtype_%(z)s *Z = (dtype_%(z)s*) PyArray_DATA(%(z)s);
            %(omp)s
            for (npy_intp t = 0; t < planes; t++) {
                const dtype_%(x)s *xs = X + t * H * W;
                dtype_%(z)s *out = Z + t * H2 * W2;
                for (npy_intp i = 0; i < H2; i++) {
                    const npy_intp r0 = i * %(kh)d, r1 = r0 + %(kh)d < H ? r0 + %(kh)d : H;
                    for (npy_intp j = 0; j < W2; j++) {
                        const npy_intp c0 = j * %(kw)d, c1 = c0 + %(kw)d < W ? c0 + %(kw)d : W;
                        dtype_%(x)s collector = xs[r0 * W + c0];
                        for (npy_intp r = r0; r < r1; r++)
                            for (npy_intp c = c0; c < c1; c++) {
                                const dtype_%(x)s a = xs[r * W + c];
                                collector = (a > collector) ? a : collector;
                            }
                        out[i * W2 + j] = collector;
                    }
                }
            }
        }
        Py_DECREF(xc);
        if (bad) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_MemoryError, "NonOverlappingMaxPool: no memory for the output");
            %(fail)s
        }
        }
        """ % locals()


def constant_tuple(v):
    return tuple(int(i) for i in v.data) if isinstance(v, T.TensorConstant) else None


@register_specialize("fast_pool_grad")
@gof.local_optimizer([MaxPoolGrad])
def local_nonoverlapping_max_pool_grad(node):
    """MaxPoolGrad -> NonOverlappingMaxPoolGrad where windows neither overlap nor are padded."""
    if not isinstance(node.op, MaxPoolGrad) or node.op.mode != "max" or node.op.ndim != 2:
        return None
    x, z, gz, ws, stride, pad = node.inputs
    ws, stride, pad = constant_tuple(ws), constant_tuple(stride), constant_tuple(pad)
    if x.ndim != 4 or ws is None or ws != stride or pad != (0, 0) or not x.dtype == z.dtype == gz.dtype:
        return None
    return [NonOverlappingMaxPoolGrad(ws, openmp=node.op.openmp)(x, z, gz)]


class ParallelMRGUniform(mrg_uniform):
    """mrg_uniform with the same numbers: 16 streams at a time in SIMD lanes, blocks of them on every core."""

    def c_compile_args(self):
        # -fwrapv: int32 sums wrap as the stock op's compiled code does; -fopenmp-simd: the lane loop
        return ["-fwrapv", "-fopenmp-simd"] + (["-fopenmp"] if openmp_enabled() else [])

    def c_headers(self):
        return super().c_headers() + (["omp.h"] if openmp_enabled() else [])

    def c_code_cache_version(self):
        return (3, openmp_enabled(), *super().c_code_cache_version())

    def c_support_code(self):
        omp = "#pragma omp parallel for schedule(static)" if openmp_enabled() else ""
        return "\n".join("""
        #define MRG_LANES 16
        void cpu_rng_mrg_uniform_%(dtype)s(PyArrayObject* o_sample, PyArrayObject* o_rstate,
                                           npy_int64 n_elements, int n_streams) {
            const npy_int32 M1 = 2147483647;      // 2^31 - 1
            const npy_int32 M2 = 2147462579;      // 2^31 - 21069
            const npy_int32 MASK12 = 511;         // 2^9 - 1
            const npy_int32 MASK13 = 16777215;    // 2^24 - 1
            const npy_int32 MASK2 = 65535;        // 2^16 - 1
            const npy_int32 MULT2 = 21069;
            %(dtype)s* sample_data = (%(dtype)s *) PyArray_DATA(o_sample);
            npy_int32* state_data = (npy_int32 *) PyArray_DATA(o_rstate);
            const int n_blocks = (n_streams + MRG_LANES - 1) / MRG_LANES;
            %(omp)s
            for (int b = 0; b < n_blocks; ++b) {
                /* streams first .. first + lanes - 1; stream s gives elements s, s + n_streams, ... */
                const int first = b * MRG_LANES;
                const int lanes = n_streams - first < MRG_LANES ? n_streams - first : MRG_LANES;
                npy_int32 x11[MRG_LANES], x12[MRG_LANES], x13[MRG_LANES];
                npy_int32 x21[MRG_LANES], x22[MRG_LANES], x23[MRG_LANES];
                for (int l = 0; l < MRG_LANES; ++l) {  /* spare lanes repeat stream `first` */
                    const npy_int32 *state = state_data + 6 * (first + (l < lanes ? l : 0));
                    x11[l] = state[0]; x12[l] = state[1]; x13[l] = state[2];
                    x21[l] = state[3]; x22[l] = state[4]; x23[l] = state[5];
                }
                for (npy_int64 base = first; base < n_elements; base += n_streams) {
                    const int valid = n_elements - base < lanes ? (int) (n_elements - base) : lanes;
                    %(dtype)s out[MRG_LANES];
                    /* branch-free, so that the compiler vectorizes it: (npy_uint32) y >= M is
                       y < 0 || y >= M, the stock op's test; masks stand for its ifs */
                    #pragma omp simd
                    for (int l = 0; l < MRG_LANES; ++l) {
                        npy_int32 y1, y2, z;
                        y1 = ((x12[l] & MASK12) << 22) + (x12[l] >> 9) + ((x13[l] & MASK13) << 7) + (x13[l] >> 24);
                        y1 -= M1 & -(npy_int32) ((npy_uint32) y1 >= (npy_uint32) M1);
                        y1 += x13[l];
                        y1 -= M1 & -(npy_int32) ((npy_uint32) y1 >= (npy_uint32) M1);
                        z = ((x21[l] & MASK2) << 15) + (MULT2 * (x21[l] >> 16));
                        z -= M2 & -(npy_int32) ((npy_uint32) z >= (npy_uint32) M2);
                        y2 = ((x23[l] & MASK2) << 15) + (MULT2 * (x23[l] >> 16));
                        y2 -= M2 & -(npy_int32) ((npy_uint32) y2 >= (npy_uint32) M2);
                        y2 += x23[l];
                        y2 -= M2 & -(npy_int32) ((npy_uint32) y2 >= (npy_uint32) M2);
                        y2 += z;
                        y2 -= M2 & -(npy_int32) ((npy_uint32) y2 >= (npy_uint32) M2);
                        out[l] = (y1 - y2 + (M1 & -(npy_int32) (y1 <= y2))) * %(NORM)s;
                        /* a stream past its last element stays put */
                        const npy_int32 on = -(npy_int32) (l < valid), off = ~on;
                        x13[l] = (x12[l] & on) | (x13[l] & off); x12[l] = (x11[l] & on) | (x12[l] & off);
                        x11[l] = (y1 & on) | (x11[l] & off);
                        x23[l] = (x22[l] & on) | (x23[l] & off); x22[l] = (x21[l] & on) | (x22[l] & off);
                        x21[l] = (y2 & on) | (x21[l] & off);
                    }
                    for (int l = 0; l < valid; ++l)
                        sample_data[base + l] = out[l];
                }
                for (int l = 0; l < lanes; ++l) {
                    npy_int32 *state = state_data + 6 * (first + l);
                    state[0] = x11[l]; state[1] = x12[l]; state[2] = x13[l];
                    state[3] = x21[l]; state[4] = x22[l]; state[5] = x23[l];
                }
            }
        }
        """ % dict(dtype=dtype, NORM=NORM, omp=omp) for dtype, NORM in (
            ("npy_float32", "4.6566126e-10f"), ("npy_float64", "4.656612873077392578125e-10")))


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


@register_specialize("fast_mrg")
@gof.local_optimizer([mrg_uniform])
def local_parallel_mrg_uniform(node):
    """mrg_uniform -> ParallelMRGUniform, on the CPU, where OpenMP is on."""
    if type(node.op) is not mrg_uniform or not openmp_enabled() or node.op.output_type.dtype == "float16":
        return None
    return ParallelMRGUniform(node.op.output_type, inplace=node.op.inplace)(*node.inputs)


@register_specialize("fast_pool")
@gof.local_optimizer([Pool])
def local_nonoverlapping_max_pool(node):
    """Pool -> NonOverlappingMaxPool where windows neither overlap nor are padded."""
    if not isinstance(node.op, Pool) or node.op.mode != "max" or node.op.ndim != 2:
        return None
    x, ws, stride, pad = node.inputs
    ws, stride, pad = constant_tuple(ws), constant_tuple(stride), constant_tuple(pad)
    if x.ndim != 4 or ws is None or ws != stride or pad != (0, 0):
        return None
    return [NonOverlappingMaxPool(ws, node.op.ignore_border, openmp=node.op.openmp)(x)]


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


@register_specialize("fast_fuse")
@gof.local_optimizer([T.Elemwise])
def local_fused_rectify_pool_grad(node):
    """eq(x, a) * NonOverlappingMaxPoolGrad(x, z, gz), x = maximum(a, 0) pooled: the rectifier's
    gradient after the pooling's, as T.grad writes them (Maximum.grad), -> one pass,
    NonOverlappingMaxPoolGrad(rectified=True)(x, z, gz, a). The pooling gradient's output must
    have no other use."""
    if not (isinstance(node.op, T.Elemwise) and isinstance(node.op.scalar_op, theano.scalar.Mul)
            and len(node.inputs) == 2):
        return None
    for eq, pg in (node.inputs, node.inputs[::-1]):
        if not (eq.owner and pg.owner and isinstance(eq.owner.op, T.Elemwise)
                and isinstance(eq.owner.op.scalar_op, theano.scalar.EQ)
                and isinstance(pg.owner.op, NonOverlappingMaxPoolGrad) and not pg.owner.op.rectified):
            continue
        x, z, gz = pg.owner.inputs
        first, second = eq.owner.inputs
        a = second if first is x else first if second is x else None
        if a is None or a.type != x.type or node.outputs[0].type != x.type:
            continue
        if len(pg.clients) != 1:
            continue
        return [NonOverlappingMaxPoolGrad(pg.owner.op.ws, openmp=pg.owner.op.openmp, rectified=True)(x, z, gz, a)]
    return None
