/* max_pool_grad.c: NonOverlappingMaxPoolGrad's C code (plumbing/speedups.py), the gradient of 2D
 * max pooling over the last two axes of a 4D tensor whose windows do not overlap (ws == stride, no
 * padding): each input element looks up its one window directly. Rectified, the rectifier's
 * gradient eq(x, a) * g is computed in the same pass.
 *
 * A template: NonOverlappingMaxPoolGrad.c_code fills its placeholders through plumbing/c_source.py,
 * as Theano's CorrMM fills its corr_gemm.c (this opening comment is left out):
 *   %(x)s, %(z)s, %(gz)s    the inputs: the pooled tensor x, the pooled maxima z, their gradient gz
 *   %(a)s                   the rectifier's input a where rectified, else x again
 *   %(gx)s                  the output, the gradient with respect to x (rectified: to a)
 *   %(kh)d, %(kw)d          the window's height and width
 *   %(rect)d                1 where rectified, else 0
 *   %(omp)s                 "#pragma omp parallel for schedule(static)" where OpenMP is on, else empty
 *   %(fail)s                Theano's code for a failure (sub["fail"])
 * dtype_<variable> is the C type Theano declares for each variable.
 */
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
