/* batched_corr.c: BatchedCorrMM's C code (plumbing/speedups_corr.py): CorrMM (direction 0),
 * CorrMM_gradWeights (1) or CorrMM_gradInputs (2), stride 1, no dilation, one group. It checks the
 * shapes, makes the output and the work space, then calls bc_run (batched_corr_support.c), which
 * lowers chunks of images into one GEMM each.
 *
 * A template: BatchedCorrMM.c_code fills its placeholders through plumbing/c_source.py, as
 * Theano's CorrMM fills its corr_gemm.c (this opening comment is left out):
 *   %(direction)d           0 forward (bottom, weights), 1 weight gradient (bottom, top),
 *                           2 input gradient (weights, top)
 *   %(a)s, %(b)s            the two inputs, in that order
 *   %(out)s                 the output
 *   %(ph_l)d, %(ph_r)d, %(pw_l)d, %(pw_r)d   padding (top, bottom, left, right); -2 'full', -1 'half'
 *   %(sh)s, %(sw)s          the height and width given as the gradient's third and fourth inputs,
 *                           as C expressions, else -1
 *   %(typenum)s, %(dtype)s  the output's NumPy type number and C type (as the first input's)
 *   %(omp)d                 1 where OpenMP is on, else 0
 *   %(target)d              columns per chunk's GEMM (BatchedCorrMM.target_columns)
 *   %(name)s                the node's name: its work space is bc_work_<name>, bc_work_size_<name>
 *   %(get_threads)s, %(set_threads)s   "openblas_get_num_threads()", "openblas_set_num_threads"
 *                           with OpenMP and OpenBLAS, else "0" and empty
 *   %(fail)s                Theano's code for a failure (sub["fail"])
 */
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
