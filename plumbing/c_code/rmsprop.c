/* rmsprop.c: RMSpropStep's C code (plumbing/speedups_rmsprop.py), the lessons' RMSprop update of
 * one parameter in one pass over memory:
 *     a = rho * acc;  b = c * (g * g);  acc_new = a + b;
 *     p_new = p - lr * (g / sqrt(eps + a + b))   (the sum in the graph's order)
 * or, where Theano's canonical form of the graph is so, p_new = p - (lr * g) / sqrt(eps + a + b).
 * Theano computes the same in four loops, each reading and writing whole tensors. Each line here
 * is rounded as Theano's own loop rounds it: compiled with -ffp-contract=off, g++ fuses no
 * multiply into an add, except the one Theano's compiled update fuses where the CPU has FMA:
 * p - lr * q, q = g / sqrt(...), as one fused multiply-subtract, written out here as fma(-lr, q, p).
 *
 * A template: RMSpropStep.c_code fills its placeholders through plumbing/c_source.py, as Theano's
 * CorrMM fills its corr_gemm.c (this opening comment is left out):
 *   %(p)s, %(acc)s, %(g)s   the inputs: the parameter, its running mean of squares, its gradient
 *   %(p_new)s, %(acc_new)s  the outputs
 *   %(inplace)d             1: the outputs are the inputs p and acc, written over; 0: new arrays
 *   %(rho)s, %(c)s, %(lr)s, %(eps)s   the constants, exact C literals of the dtype
 *   %(sum)s                 eps + a + b as a C expression of EPS, a and b, in the graph's order
 *   %(lr_first)d            1: p - (lr * g) / sqrt(...); 0: p - lr * (g / sqrt(...))
 *   %(fma)s                 the C function fma or fmaf, for the dtype
 *   %(omp)s                 "#pragma omp parallel for schedule(static) if (n >= <Theano's
 *                           openmp_elemwise_minsize>)" where OpenMP is on, else empty
 *   %(fail)s                Theano's code for a failure (sub["fail"])
 * dtype_<variable> is the C type Theano declares for each variable.
 */
{
typedef dtype_%(p)s real;
if (!(PyArray_SAMESHAPE(%(p)s, %(acc)s) && PyArray_SAMESHAPE(%(p)s, %(g)s))) {
    PyErr_SetString(PyExc_ValueError, "RMSpropStep: the parameter, its accumulator and its gradient differ in shape");
    %(fail)s
}
Py_XDECREF(%(p_new)s);
Py_XDECREF(%(acc_new)s);
if (%(inplace)d && PyArray_IS_C_CONTIGUOUS(%(p)s) && PyArray_IS_C_CONTIGUOUS(%(acc)s)) {
    %(p_new)s = %(p)s; Py_INCREF(%(p_new)s);
    %(acc_new)s = %(acc)s; Py_INCREF(%(acc_new)s);
} else {  /* new C-ordered copies, updated below */
    %(p_new)s = (PyArrayObject*) PyArray_NewCopy(%(p)s, NPY_CORDER);
    %(acc_new)s = (PyArrayObject*) PyArray_NewCopy(%(acc)s, NPY_CORDER);
    if (!%(p_new)s || !%(acc_new)s) {
        %(fail)s
    }
}
{
PyArrayObject *gc = PyArray_GETCONTIGUOUS(%(g)s);
if (!gc) {
    %(fail)s
}
const real RHO = %(rho)s, C = %(c)s, LR = %(lr)s, EPS = %(eps)s;
const real *G = (const real*) PyArray_DATA(gc);
real *P = (real*) PyArray_DATA(%(p_new)s), *A = (real*) PyArray_DATA(%(acc_new)s);
const npy_intp n = PyArray_SIZE(%(p_new)s);
%(omp)s
for (npy_intp i = 0; i < n; ++i) {
    const real g = G[i];
    const real a = RHO * A[i];                 /* Theano: mul(rho, acc) */
    const real g2 = g * g;                     /* sqr(g) */
    const real b = C * g2;                     /* mul(c, sqr(g)) */
    const real s = %(sum)s;                    /* add(eps, a, b) */
    const real r = (real) sqrt(s);             /* sqrt(add(...)) */
#if %(lr_first)d
    P[i] = P[i] - (LR * g) / r;                /* sub(p, true_div(mul(lr, g), r)) */
#elif defined(__FMA__)
    P[i] = %(fma)s(-LR, g / r, P[i]);          /* sub(p, mul(lr, true_div(g, r))), contracted as g++ contracts Theano's loop */
#else
    P[i] = P[i] - LR * (g / r);
#endif
    A[i] = a + b;                              /* add(a, b) */
}
Py_DECREF(gc);
}
}
