/* max_pool.c: NonOverlappingMaxPool's C code (plumbing/speedups_pool.py), 2D max pooling over
 * the last two axes of a 4D tensor with windows that do not overlap (ws == stride, no padding):
 * each window is read straight from memory. Each output is the window's first element, replaced by any later
 * one that is greater, row by row: Pool's own rule, so NaNs and ties give the same bits. rectify:
 * the input is a and the pooled tensor maximum(a, 0), each element computed as Theano's Elemwise
 * computes it, so the rectifier's output is never written out.
 *
 * One image plane at a time; with rectify, each thread first writes the plane's maximum(a, 0) into
 * a buffer of its own, in one loop over the plane that g++ vectorizes without a branch (compiled
 * with -fno-trapping-math, it may compute both sides of a select; computed in the pooling loop,
 * the scalar leftovers of each row branched on the sign, 2.5 times slower). Windows wholly
 * inside the image run with the window's size known to the compiler, which then vectorizes along
 * a row of windows; windows cut by the border (ignore_border=False) run apart.
 *
 * A template: NonOverlappingMaxPool.c_code fills its placeholders through plumbing/c_source.py,
 * as Theano's CorrMM fills its corr_gemm.c (this opening comment is left out):
 *   %(x)s, %(z)s            the input and the output
 *   %(kh)d, %(kw)d          the window's height and width
 *   %(h2)s, %(w2)s          the output's height and width as C expressions of H and W, e.g. "H / 2"
 *                           (ignore_border) or "(H + 1) / 2"
 *   %(rectify)d             1 where the input is a and maximum(a, 0) is pooled, else 0
 *   %(relu)s                maximum(X[t * HW + k], 0) with the bits of Theano's scalar Maximum
 *                           (speedups_pool.rectified_element)
 *   %(omp_parallel)s, %(omp_for)s  "#pragma omp parallel" and "#pragma omp for schedule(static)"
 *                           where OpenMP is on, else empty
 *   %(fail)s                Theano's code for a failure (sub["fail"])
 * dtype_<variable> is the C type Theano declares for each variable.
 */
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
    const npy_intp HW = H * W;
    const npy_intp whole = W / %(kw)d < W2 ? W / %(kw)d : W2;  /* windows wholly inside a row */
    int no_memory = 0;
    %(omp_parallel)s
    {
        /* rectify: this thread's plane of maximum(a, 0) */
        dtype_%(x)s *xb = %(rectify)d ? (dtype_%(x)s*) malloc((HW ? HW : 1) * sizeof(dtype_%(x)s)) : NULL;
        %(omp_for)s
        for (npy_intp t = 0; t < planes; t++) {
            const dtype_%(x)s *xs = X + t * HW;
            if (%(rectify)d) {
                if (!xb) {
                    no_memory = 1;
                    continue;
                }
                for (npy_intp k = 0; k < HW; k++)
                    xb[k] = %(relu)s;
                xs = xb;
            }
            dtype_%(z)s *out = Z + t * H2 * W2;
            for (npy_intp i = 0; i < H2; i++) {
                const npy_intp r0 = i * %(kh)d, r1 = r0 + %(kh)d < H ? r0 + %(kh)d : H;
                npy_intp j = 0;
                if (r1 - r0 == %(kh)d) {
                    const dtype_%(x)s *rows[%(kh)d];  /* a pointer per row: g++ vectorizes this, not p[r * W + c] */
                    for (npy_intp r = 0; r < %(kh)d; r++) rows[r] = xs + (r0 + r) * W;
                    for (; j < whole; j++) {
                        dtype_%(x)s collector = rows[0][j * %(kw)d];
                        for (npy_intp r = 0; r < %(kh)d; r++)
                            for (npy_intp c = 0; c < %(kw)d; c++) {
                                const dtype_%(x)s a = rows[r][j * %(kw)d + c];
                                collector = (a > collector) ? a : collector;
                            }
                        out[i * W2 + j] = collector;
                    }
                }
                for (; j < W2; j++) {  /* windows cut by the border */
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
        free(xb);
    }
    if (no_memory) {
        PyErr_SetString(PyExc_MemoryError, "NonOverlappingMaxPool: no memory for a plane's buffer");
        bad = 1;
    }
}
Py_DECREF(xc);
if (bad) {
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_MemoryError, "NonOverlappingMaxPool: no memory for the output");
    %(fail)s
}
}
