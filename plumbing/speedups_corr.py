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
"""
import numpy as np
import theano
from theano import gof, tensor as T
from theano.tensor import blas_headers
from theano.tensor.blas import ldflags
from theano.tensor.nnet.corr import CorrMM, CorrMM_gradInputs, CorrMM_gradWeights

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
        return (8, self.openmp, blas_headers.blas_header_version())

    def openblas(self):
        return "openblas" in theano.config.blas.ldflags

    def c_support_code(self):
        code = blas_headers.blas_header_text()
        if self.openblas():
            code += blas_headers.openblas_threads_text()
        return code + SUPPORT_CODE

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
        return """
        {
        int direction = %(direction)d;
        PyArrayObject *A = PyArray_GETCONTIGUOUS(%(a)s), *B = PyArray_GETCONTIGUOUS(%(b)s);
        int err = 0;
        /* bottom (N, C, H, W), weights (F, C, kH, kW), top (N, F, oH, oW) */
        npy_intp N, C, H, W, F, kH, kW, oH, oW;
        int ph_l = %(ph_l)d, ph_r = %(ph_r)d, pw_l = %(pw_l)d, pw_r = %(pw_r)d;
        int sh = %(sh)s, sw = %(sw)s;
        const npy_intp *da = PyArray_DIMS(A), *db = PyArray_DIMS(B);
        if (PyArray_NDIM(A) != 4 || PyArray_NDIM(B) != 4) err = 1;
        else if (direction == 0) {          /* (bottom, weights) */
            N = da[0]; C = da[1]; H = da[2]; W = da[3]; F = db[0]; kH = db[2]; kW = db[3];
            if (db[1] != C) err = 1;
        } else if (direction == 1) {        /* (bottom, top) */
            N = da[0]; C = da[1]; H = da[2]; W = da[3]; F = db[1]; oH = db[2]; oW = db[3];
            if (db[0] != N) err = 1;
            /* kernel size: given, or from oH = H + pads - kH + 1 ('full': kH = oH - H + 1) */
            if (ph_l == -2) kH = oH - H + 1;
            else if (ph_l == -1) kH = sh;
            else kH = H + ph_l + ph_r - oH + 1;
            if (pw_l == -2) kW = oW - W + 1;
            else if (pw_l == -1) kW = sw;
            else kW = W + pw_l + pw_r - oW + 1;
            if (sh >= 0 && ph_l != -1 && sh != kH) err = 1;
            if (sw >= 0 && pw_l != -1 && sw != kW) err = 1;
        } else {                            /* (weights, top) */
            F = da[0]; C = da[1]; kH = da[2]; kW = da[3]; N = db[0]; oH = db[2]; oW = db[3];
            if (db[1] != F) err = 1;
            if (ph_l == -2) H = oH - kH + 1;
            else if (ph_l == -1) H = sh;
            else H = oH + kH - 1 - ph_l - ph_r;
            if (pw_l == -2) W = oW - kW + 1;
            else if (pw_l == -1) W = sw;
            else W = oW + kW - 1 - pw_l - pw_r;
            if (sh >= 0 && ph_l != -1 && sh != H) err = 1;
            if (sw >= 0 && pw_l != -1 && sw != W) err = 1;
        }
        if (!err) {
            if (ph_l == -2) { ph_l = ph_r = kH - 1; } else if (ph_l == -1) { ph_l = ph_r = kH / 2; }
            if (pw_l == -2) { pw_l = pw_r = kW - 1; } else if (pw_l == -1) { pw_l = pw_r = kW / 2; }
            npy_intp eH = H + ph_l + ph_r - kH + 1, eW = W + pw_l + pw_r - kW + 1;
            if (direction == 0) { oH = eH; oW = eW; }
            if (oH != eH || oW != eW || oH <= 0 || oW <= 0 || kH <= 0 || kW <= 0 || H <= 0 || W <= 0) err = 1;
        }
        if (err) {
            PyErr_SetString(PyExc_ValueError, "BatchedCorrMM: shapes do not match");
        } else {
            npy_intp dims[4];
            if (direction == 0) { dims[0] = N; dims[1] = F; dims[2] = oH; dims[3] = oW; }
            else if (direction == 1) { dims[0] = F; dims[1] = C; dims[2] = kH; dims[3] = kW; }
            else { dims[0] = N; dims[1] = C; dims[2] = H; dims[3] = W; }
            if (!(%(out)s && PyArray_IS_C_CONTIGUOUS(%(out)s) && PyArray_NDIM(%(out)s) == 4
                  && PyArray_CompareLists(PyArray_DIMS(%(out)s), dims, 4)
                  && PyArray_TYPE(%(out)s) == %(typenum)s)) {
                Py_XDECREF(%(out)s);
                %(out)s = (PyArrayObject*) PyArray_EMPTY(4, dims, %(typenum)s, 0);
                if (!%(out)s) err = 1;
            }
        }
        if (!err) {
            const %(dtype)s *bottom = NULL, *weights = NULL, *top = NULL;
            %(dtype)s *result = (%(dtype)s*) PyArray_DATA(%(out)s);
            if (direction == 0) { bottom = (%(dtype)s*) PyArray_DATA(A); weights = (%(dtype)s*) PyArray_DATA(B); }
            else if (direction == 1) { bottom = (%(dtype)s*) PyArray_DATA(A); top = (%(dtype)s*) PyArray_DATA(B); }
            else { weights = (%(dtype)s*) PyArray_DATA(A); top = (%(dtype)s*) PyArray_DATA(B); }
            bc_geometry g = {(int) N, (int) C, (int) H, (int) W, (int) F, (int) kH, (int) kW, (int) oH, (int) oW,
                             ph_l, pw_l, 0, 0, 0};
            int threads = %(omp)d ? bc_max_threads() : 1;
            bc_plan(&g, threads, %(target)d);
            if (N == 0 || C == 0 || F == 0) {
                memset(result, 0, PyArray_NBYTES(%(out)s));
            } else {
                size_t need = bc_work_floats(&g, direction, threads) * sizeof(%(dtype)s);
                if (need > bc_work_size_%(name)s) {
                    free(bc_work_%(name)s);
                    bc_work_size_%(name)s = 0;
                    if (posix_memalign(&bc_work_%(name)s, 64, need)) bc_work_%(name)s = NULL;
                    else bc_work_size_%(name)s = need;
                }
                if (!bc_work_%(name)s) {
                    PyErr_NoMemory();
                    err = 1;
                } else {
                    int blas_threads = %(get_threads)s;
                    %(set_threads)s(1);
                    bc_run(&g, direction, threads, bottom, weights, top, result, (%(dtype)s*) bc_work_%(name)s);
                    %(set_threads)s(blas_threads);
                }
            }
        }
        Py_DECREF(A); Py_DECREF(B);
        if (err) {
            %(fail)s
        }
        }
        """ % dict(locals(), sh=hw[0], sw=hw[1])


SUPPORT_CODE = r"""
#ifdef _OPENMP
#include <omp.h>
static int bc_max_threads(void) { return omp_get_max_threads(); }
#else
static int bc_max_threads(void) { return 1; }
#endif

typedef struct {
    int N, C, H, W, F, kH, kW, oH, oW, ph, pw;
    int G;          /* images per chunk */
    int chunks;     /* ceil(N / G) */
    int K;          /* C * kH * kW */
} bc_geometry;

/* G: whole images to about `target` columns, and at least 2 chunks per thread where the batch allows */
static void bc_plan(bc_geometry *g, int threads, int target) {
    const int P = g->oH * g->oW;
    int G = (target + P - 1) / P;
    int most = (g->N + 2 * threads - 1) / (2 * threads);
    if (G > most) G = most;
    if (G < 1) G = 1;
    g->G = G;
    g->chunks = (g->N + G - 1) / G;
    g->K = g->C * g->kH * g->kW;
}

/* per thread: a K x G*P column matrix and an F x G*P block of top; for the weight gradient, an
   F x K sum per chunk after them */
static size_t bc_per_thread(const bc_geometry *g) {
    const size_t GP = (size_t) g->G * g->oH * g->oW;
    return ((size_t) g->K * GP + (size_t) g->F * GP + 16) & ~(size_t) 15;
}

static size_t bc_work_floats(const bc_geometry *g, int direction, int threads) {
    return bc_per_thread(g) * threads + (direction == 1 ? (size_t) g->chunks * g->F * g->K : 0);
}

/* output columns x with 0 <= x - pw + kx < W: [x0, x1) */
static inline void bc_range(int kx, int pw, int W, int oW, int *x0, int *x1) {
    int a = pw - kx, b = W + pw - kx;
    if (a < 0) a = 0;
    if (a > oW) a = oW;
    if (b > oW) b = oW;
    if (b < a) b = a;
    *x0 = a; *x1 = b;
}

/* image (C, H, W) -> columns (K rows of stride ld), Theano's im2col layout */
template <typename T>
static void bc_im2col(const bc_geometry *g, const T *im, T *col, npy_intp ld) {
    const int H = g->H, W = g->W, oH = g->oH, oW = g->oW;
    for (int c = 0; c < g->C; ++c)
        for (int ky = 0; ky < g->kH; ++ky)
            for (int kx = 0; kx < g->kW; ++kx) {
                T *row = col + (npy_intp) ((c * g->kH + ky) * g->kW + kx) * ld;
                const T *src = im + (npy_intp) c * H * W;
                int x0, x1;
                bc_range(kx, g->pw, W, oW, &x0, &x1);
                for (int y = 0; y < oH; ++y) {
                    const int iy = y - g->ph + ky;
                    T *dst = row + (npy_intp) y * oW;
                    if (iy < 0 || iy >= H) {
                        for (int x = 0; x < oW; ++x) dst[x] = 0;
                        continue;
                    }
                    for (int x = 0; x < x0; ++x) dst[x] = 0;
                    memcpy(dst + x0, src + (npy_intp) iy * W + (x0 + kx - g->pw), (size_t) (x1 - x0) * sizeof(T));
                    for (int x = x1; x < oW; ++x) dst[x] = 0;
                }
            }
}

/* columns -> image (C, H, W), zeroed first; sums in Theano's col2im order (row by row of col) */
template <typename T>
static void bc_col2im(const bc_geometry *g, const T *col, npy_intp ld, T *__restrict__ im) {
    const int H = g->H, W = g->W, oH = g->oH, oW = g->oW;
    memset(im, 0, (size_t) g->C * H * W * sizeof(T));
    for (int c = 0; c < g->C; ++c)
        for (int ky = 0; ky < g->kH; ++ky)
            for (int kx = 0; kx < g->kW; ++kx) {
                const T *row = col + (npy_intp) ((c * g->kH + ky) * g->kW + kx) * ld;
                T *dst = im + (npy_intp) c * H * W;
                int x0, x1;
                bc_range(kx, g->pw, W, oW, &x0, &x1);
                for (int y = 0; y < oH; ++y) {
                    const int iy = y - g->ph + ky;
                    if (iy < 0 || iy >= H) continue;
                    T *__restrict__ d = dst + (npy_intp) iy * W + (x0 + kx - g->pw);
                    const T *__restrict__ s = row + (npy_intp) y * oW + x0;
                    for (int x = 0; x < x1 - x0; ++x) d[x] += s[x];
                }
            }
}

static inline void bc_gemm(char ta, char tb, int m, int n, int k, const float *a, int lda,
                           const float *b, int ldb, float beta, float *c, int ldc) {
    const float one = 1;
    sgemm_(&ta, &tb, &m, &n, &k, &one, a, &lda, b, &ldb, &beta, c, &ldc);
}

static inline void bc_gemm(char ta, char tb, int m, int n, int k, const double *a, int lda,
                           const double *b, int ldb, double beta, double *c, int ldc) {
    const double one = 1;
    dgemm_(&ta, &tb, &m, &n, &k, &one, a, &lda, b, &ldb, &beta, c, &ldc);
}

template <typename T>
static void bc_run(const bc_geometry *g, int direction, int threads, const T *bottom, const T *weights,
                   const T *top, T *result, T *work) {
    const int P = g->oH * g->oW, K = g->K, F = g->F;
    const npy_intp img = (npy_intp) g->C * g->H * g->W, out = (npy_intp) F * P;
    const size_t GPmax = (size_t) g->G * P, per = bc_per_thread(g);
    T *sums = work + per * threads;   /* direction 1: one F x K sum per chunk */
    int used = threads < g->chunks ? threads : g->chunks;
    #pragma omp parallel num_threads(used) if(used > 1)
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        T *col = work + per * tid;
        T *blk = col + (size_t) K * GPmax;
        /* dynamic: a thread slowed by another process's load does not hold the others up; every
           chunk's result is the same whichever thread computes it */
        #pragma omp for schedule(dynamic, 1)
        for (int ch = 0; ch < g->chunks; ++ch) {
            const int n0 = ch * g->G;
            const int G = g->N - n0 < g->G ? g->N - n0 : g->G;
            const int GP = G * P;
            if (direction != 2)
                for (int i = 0; i < G; ++i)
                    bc_im2col(g, bottom + (n0 + i) * img, col + (npy_intp) i * P, GP);
            if (direction != 0)   /* top's F x P blocks side by side: F x GP */
                for (int f = 0; f < F; ++f)
                    for (int i = 0; i < G; ++i)
                        memcpy(blk + (npy_intp) f * GP + (npy_intp) i * P, top + (n0 + i) * out + (npy_intp) f * P,
                               (size_t) P * sizeof(T));
            if (direction == 0) {
                /* column-major: blk (GP x F) = col (GP x K) . weights (K x F) */
                bc_gemm('N', 'N', GP, F, K, col, GP, weights, K, (T) 0, blk, GP);
                for (int i = 0; i < G; ++i)
                    for (int f = 0; f < F; ++f)
                        memcpy(result + (n0 + i) * out + (npy_intp) f * P, blk + (npy_intp) f * GP + (npy_intp) i * P,
                               (size_t) P * sizeof(T));
            } else if (direction == 1) {
                /* column-major: this chunk's sum (K x F) = col^T (K x GP) . blk (GP x F) */
                bc_gemm('T', 'N', K, F, GP, col, GP, blk, GP, (T) 0, sums + (size_t) ch * F * K, K);
            } else {
                /* column-major: col (GP x K) = blk (GP x F) . weights^T (F x K) */
                bc_gemm('N', 'T', GP, K, F, blk, GP, weights, K, (T) 0, col, GP);
                for (int i = 0; i < G; ++i)
                    bc_col2im(g, col + (npy_intp) i * P, GP, result + (n0 + i) * img);
            }
        }
    }
    if (direction == 1) {   /* the chunks' sums, in chunk order: the same bits on any number of threads */
        const npy_intp n = (npy_intp) F * K;
        const int chunks = g->chunks;
        #pragma omp parallel for schedule(static) num_threads(used) if(used > 1 && n > 4096)
        for (npy_intp j = 0; j < n; ++j) {
            T s = 0;
            for (int c = 0; c < chunks; ++c)
                s += sums[(size_t) c * n + j];
            result[j] = s;
        }
    }
}
"""


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
