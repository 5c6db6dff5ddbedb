/* max_pool.c: NonOverlappingMaxPool's C code (plumbing/speedups.py), 2D max pooling over the last
 * two axes of a 4D tensor with windows that do not overlap (ws == stride, no padding): each window
 * is read straight from memory. Each output is the window's first element, replaced by any later
 * one that is greater, row by row: Pool's own rule, so NaNs and ties give the same bits.
 *
 * A template: NonOverlappingMaxPool.c_code fills its placeholders through plumbing/c_source.py,
 * as Theano's CorrMM fills its corr_gemm.c (this opening comment is left out):
 *   %(x)s, %(z)s            the input and the output
 *   %(kh)d, %(kw)d          the window's height and width
 *   %(h2)s, %(w2)s          the output's height and width as C expressions of H and W, e.g. "H / 2"
 *                           (ignore_border) or "(H + 1) / 2"
 *   %(omp)s                 "#pragma omp parallel for schedule(static)" where OpenMP is on, else empty
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
