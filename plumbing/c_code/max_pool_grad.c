/* max_pool_grad.c: NonOverlappingMaxPoolGrad's C code (plumbing/speedups_pool.py), the gradient
 * of 2D max pooling over the last two axes of a 4D tensor whose windows do not overlap
 * (ws == stride, no padding). Rectified, the rectifier's gradient eq(x, a) * g is computed in the
 * same pass; from_a, x = maximum(a, 0) is not an input but computed here from a, as Theano's
 * Elemwise computes it.
 *
 * One image plane at a time, each thread with buffers of one plane: the window's maximum and its
 * gradient are first copied to every element the window covers (NaN and 0 where no window covers
 * it, so that nothing matches there), and then one loop over the whole plane compares and selects,
 * without a branch, which g++ vectorizes when compiled with -fno-trapping-math (it may then
 * compute both sides of a select). With a branch per element, as this op first had, it took
 * 7 ns an element on one core on data of random signs, where no branch predictor can guess.
 *
 * A template: NonOverlappingMaxPoolGrad.c_code fills its placeholders through plumbing/c_source.py,
 * as Theano's CorrMM fills its corr_gemm.c (this opening comment is left out):
 *   %(x)s, %(z)s, %(gz)s    the inputs: the pooled tensor x (from_a: the rectifier's input a), the
 *                           pooled maxima z, their gradient gz
 *   %(a)s                   the rectifier's input a where rectified, else x again
 *   %(gx)s                  the output, the gradient with respect to x (rectified: to a)
 *   %(kh)d, %(kw)d          the window's height and width
 *   %(rect)d, %(from_a)d    1 where rectified, where x is computed from a; else 0
 *   %(relu)s                maximum(xs[k], 0) with the bits of Theano's scalar Maximum
 *                           (speedups_pool.rectified_element)
 *   %(omp_parallel)s, %(omp_for)s  "#pragma omp parallel" and "#pragma omp for schedule(static)"
 *                           where OpenMP is on, else empty
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
int no_memory = 0;
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
    const npy_intp HW = H * W;
    /* windows wholly inside a row: the others are a last, partial one (ignore_border=False) or
       columns no window covers (ignore_border=True) */
    const npy_intp whole = W / %(kw)d < W2 ? W / %(kw)d : W2;
    const dtype_%(z)s none = (dtype_%(z)s) nan("");  /* equal to nothing: no window here */
    %(omp_parallel)s
    {
        /* this thread's plane of maxima, of their gradients and (from_a) of x */
        dtype_%(z)s *zu = (dtype_%(z)s*) malloc((HW ? HW : 1) * sizeof(dtype_%(z)s));
        dtype_%(gx)s *gu = (dtype_%(gx)s*) malloc((HW ? HW : 1) * sizeof(dtype_%(gx)s));
        dtype_%(x)s *xb = %(from_a)d ? (dtype_%(x)s*) malloc((HW ? HW : 1) * sizeof(dtype_%(x)s)) : NULL;
        %(omp_for)s
        for (npy_intp t = 0; t < planes; t++) {
            if (!zu || !gu || (%(from_a)d && !xb)) {
                no_memory = 1;
                continue;
            }
            const dtype_%(x)s *xs = X + t * HW, *as = A + t * HW;
            if (%(from_a)d) {
                for (npy_intp k = 0; k < HW; k++)
                    xb[k] = %(relu)s;
                xs = xb;
            }
            for (npy_intp i = 0; i < H; i++) {
                const npy_intp zi = i / %(kh)d;
                dtype_%(z)s *zrow = zu + i * W;
                dtype_%(gx)s *grow = gu + i * W;
                npy_intp j = 0;
                if (zi < H2) {
                    const dtype_%(z)s *zr = Z + (t * H2 + zi) * W2;
                    const dtype_%(gz)s *gr = G + (t * H2 + zi) * W2;
                    for (npy_intp zj = 0; zj < whole; zj++)
                        for (npy_intp c = 0; c < %(kw)d; c++) {
                            zrow[zj * %(kw)d + c] = zr[zj];
                            /* 0 + g, as MaxPoolGrad adds into zeros: the same bits, -0.0 included */
                            grow[zj * %(kw)d + c] = (dtype_%(gx)s) 0 + gr[zj];
                        }
                    for (j = whole * %(kw)d; j < W && j / %(kw)d < W2; j++) {
                        zrow[j] = zr[j / %(kw)d];
                        grow[j] = (dtype_%(gx)s) 0 + gr[j / %(kw)d];
                    }
                }
                for (; j < W; j++) {
                    zrow[j] = none;
                    grow[j] = 0;
                }
            }
            dtype_%(gx)s *out = GX + t * HW;
            for (npy_intp k = 0; k < HW; k++) {
                const dtype_%(x)s xv = xs[k];
                dtype_%(gx)s v = xv == zu[k] ? gu[k] : (dtype_%(gx)s) 0;
                /* rectified: eq(x, a) * v, as the rectifier's gradient multiplies (-0.0, NaN kept) */
                if (%(rect)d) v = (dtype_%(gx)s) (xv == as[k]) * v;
                out[k] = v;
            }
        }
        free(zu); free(gu); free(xb);
    }
    if (no_memory) {
        PyErr_SetString(PyExc_MemoryError, "NonOverlappingMaxPoolGrad: no memory for a plane's buffers");
        bad = 1;
    }
}
Py_DECREF(xc); Py_DECREF(zc); Py_DECREF(gc); Py_DECREF(ac);
if (bad) {
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "NonOverlappingMaxPoolGrad: shapes do not match");
    %(fail)s
}
}
