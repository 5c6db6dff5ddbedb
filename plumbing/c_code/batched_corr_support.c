/* batched_corr_support.c: BatchedCorrMM's support code (plumbing/speedups_corr.py), after Theano's
 * BLAS declarations (sgemm_, dgemm_; openblas_set_num_threads with OpenBLAS). A chunk of G images
 * lowered side by side into one column matrix (K rows of G * P columns), one GEMM per chunk, chunks
 * in parallel with OpenMP:
 *   forward:        top[F, G*P] = W[F, K] . col[K, G*P], then each image's F x P block copied out
 *   gradient of W:  dW_c[F, K]  = top[F, G*P] . col[K, G*P]^T for each chunk c, summed in chunk order
 *   gradient of x:  col[K, G*P] = W[F, K]^T . top[F, G*P], then col2im for each image
 *
 * No placeholders: BatchedCorrMM.c_support_code reads it as it is, through plumbing/c_source.py
 * (this opening comment is left out). C++: bc_im2col, bc_col2im and bc_run are templates over float
 * and double.
 */

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
