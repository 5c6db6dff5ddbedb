/* mrg_uniform.c: ParallelMRGUniform's and ParallelMRGMask's support code (plumbing/speedups.py),
 * the generator behind dropout's masks: the stock mrg_uniform's MRG31k3p recurrence, 16 streams at
 * a time in SIMD lanes (their states in registers) and blocks of 16 streams in parallel with
 * OpenMP. Stream s still gives elements s, s + n_streams, ... in order: the stock op's numbers,
 * bit for bit. ParallelMRGMask writes each number's comparison with the dropout's threshold
 * instead, dropout's mask, as Theano's cast(u < p) would from those numbers.
 *
 * A template, filled once per dtype (float32, float64) by the ops' c_support_code through
 * plumbing/c_source.py, as Theano's CorrMM fills its corr_gemm.c (this opening comment is left out):
 *   %(dtype)s               npy_float32 or npy_float64
 *   %(NORM)s                the stock op's normalising factor, about 1 / (2^31 - 1), in that type:
 *                           4.6566126e-10f or 4.656612873077392578125e-10
 *   %(omp)s                 "#pragma omp parallel for schedule(static)" where OpenMP is on, else empty
 *   %(kind)s                uniform or mask: the function's name
 *   %(value)s               what is written for the number u: u, or the mask's
 *                           (dtype) ((threshold's C type) u < threshold)
 * The function it defines, cpu_rng_mrg_<kind>_<dtype>, is the one the op's c_code calls (the stock
 * op's, which calls cpu_rng_mrg_uniform_<dtype>).
 */
#define MRG_LANES 16
void cpu_rng_mrg_%(kind)s_%(dtype)s(PyArrayObject* o_sample, PyArrayObject* o_rstate,
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
                const %(dtype)s u = (y1 - y2 + (M1 & -(npy_int32) (y1 <= y2))) * %(NORM)s;
                out[l] = %(value)s;
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
