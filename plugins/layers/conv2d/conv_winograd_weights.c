/* conv_winograd_weights.c — the kernel transforms of conv_winograd (see
 * conv_winograd_matrices.h for G), for one pass at its alpha:
 *   forward:         U[xi][o][c] = (G w[o][c] G^T)[xi]         U[xi] (k, c)
 *   backward-data:   U[xi][c][o] = (G rot180(w[o][c]) G^T)[xi] U[xi] (c, k)
 *   backward-weights: Y = AT (U . V) A is linear in U, so with dU[xi] (k, c)
 *                    the GEMMs' sum over tiles of E[xi] @ V[xi]^T,
 *                    dw[o][c] += G^T dU[.][o][c] G.
 * Split over rows of U (o, or c when flipped) and over o for dw. At
 * strata_isa() AVX-512, SEG columns of U (SEG input channels of dw) run at
 * once in registers, with gathers and scatters; at AVX2, 8 at once with
 * plain loads and stores; at base the generic loops (mat_apply). All with
 * the same operations in the same order: the same bits. */
#include "common/parallel.h"
#include "conv_winograd_impl.h"
#include "conv_winograd_matrices.h"

typedef struct weight_job weight_job;
struct weight_job {
    float *U, *dweight;
    const float *weight, *dU;
    int K, C, A, R, flip; /* A: alpha, R: the kernel size r */
    void (*rows)(const weight_job *J, int r0, int r1); /* the pass, at strata_isa()'s level */
};

/* U[xi] (rows, cols): row r in [r0, r1), column q: G g G^T with
 *   g = w[r][q] (K, C) when not flipped (rows = K, cols = C),
 *   g = rot180(w[q][r]) when flipped (rows = C, cols = K: the
 *   backward-data kernel). Writes run along a row of each U[xi]. */
CONV_INLINE void weight_rows_r(const weight_job *J, int r0, int r1, int A, int R)
{
    size_t KC = (size_t)J->K * J->C;
    int cols = J->flip ? J->K : J->C, RR = R * R;
    matrix G = g_of(A, R);
    for (int r = r0; r < r1; r++)
        for (int q0 = 0; q0 < cols; q0 += SEG) {
            int nq = cols - q0 < SEG ? cols - q0 : SEG;
            float g[25][SEG], t[AMAX][5][SEG];
            for (int q = 0; q < nq; q++) {
                int o = J->flip ? q0 + q : r, c = J->flip ? r : q0 + q;
                const float *w = J->weight + ((size_t)o * J->C + c) * RR;
                for (int i = 0; i < RR; i++)
                    g[i][q] = J->flip ? w[RR - 1 - i] : w[i];
            }
            for (int j = 0; j < R; j++)
                for (int q = 0; q < nq; q++)
                    mat_apply(&t[0][j][q], 5 * SEG, G, 0, A, R, &g[j][q], R * SEG);
            float *U = J->U + (size_t)r * cols + q0;
            for (int l = 0; l < A; l++)
                for (int q = 0; q < nq; q++) {
                    float u[AMAX];
                    mat_apply(u, 1, G, 0, A, R, &t[l][0][q], SEG);
                    for (int k = 0; k < A; k++)
                        U[(l * A + k) * KC + q] = u[k];
                }
        }
}

/* dweight (K, C, r, r) += G^T dU[.][o][c] G, o in [o0, o1). */
CONV_INLINE void weight_grad_rows_r(const weight_job *J, int o0, int o1, int A, int R)
{
    size_t KC = (size_t)J->K * J->C;
    matrix G = g_of(A, R);
    for (int o = o0; o < o1; o++)
        for (int c = 0; c < J->C; c++) {
            const float *u = J->dU + (size_t)o * J->C + c;
            float q[AMAX][5], x[5];
            for (int l = 0; l < A; l++)
                mat_apply(q[l], 1, G, 1, R, A, u + l * A * KC, (int)KC);
            float *dw = J->dweight + ((size_t)o * J->C + c) * R * R;
            for (int j = 0; j < R; j++) {
                mat_apply(x, 1, G, 1, R, A, &q[0][j], 5);
                for (int i = 0; i < R; i++)
                    dw[i * R + j] += x[i];
            }
        }
}

#if WINO_SIMD
/* weight_rows_r on AVX-512, SEG columns q at once: the r x r kernels
 * gathered (stride r^2, or C r^2 when flipped), both passes in registers,
 * U stored a vector at a time. GCC 12 leaves the generic version's lane
 * loops scalar. */
AVX512_INLINE void weight_rows_v(const weight_job *J, int r0, int r1, int A, int R)
{
    size_t KC = (size_t)J->K * J->C;
    int cols = J->flip ? J->K : J->C, RR = R * R;
    matrix G = g_of(A, R);
    /* lane q's kernel: weight + (o C + c) RR, o, c = (q0 + q, r) flipped, else (r, q0 + q) */
    int step = J->flip ? J->C * RR : RR;
    __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                                        4, 3, 2, 1, 0),
                                       _mm512_set1_epi32(step));
    for (int r = r0; r < r1; r++)
        for (int q0 = 0; q0 < cols; q0 += SEG) {
            int nq = cols - q0 < SEG ? cols - q0 : SEG;
            __mmask16 keep = nq >= SEG ? (__mmask16)0xFFFF : (__mmask16)((1u << nq) - 1);
            int o = J->flip ? q0 : r, c = J->flip ? r : q0;
            const float *w = J->weight + ((size_t)o * J->C + c) * RR;
            v16f g[25], t[AMAX][5], u[AMAX];
#pragma GCC unroll 25
            for (int i = 0; i < RR; i++)
                g[i] = (v16f)_mm512_mask_i32gather_ps(
                    _mm512_setzero_ps(), keep,
                    _mm512_add_epi32(lanes, _mm512_set1_epi32(J->flip ? RR - 1 - i : i)), w, 4);
#pragma GCC unroll 5
            for (int j = 0; j < R; j++)
                vmat_apply(&t[0][j], 5, G, 0, A, R, &g[j], R);
            float *U = J->U + (size_t)r * cols + q0;
#pragma GCC unroll 7
            for (int l = 0; l < A; l++) {
                vmat_apply(u, 1, G, 0, A, R, t[l], 1);
#pragma GCC unroll 7
                for (int k = 0; k < A; k++)
                    _mm512_mask_storeu_ps(U + (l * A + k) * KC, keep, (__m512)u[k]);
            }
        }
}

/* weight_grad_rows_r on AVX-512, SEG input channels c at once: dU[xi][o][c]
 * loaded a vector at a time, both passes in registers, dweight updated by
 * gather, add, scatter (stride r^2). GCC 12 compiles the generic version
 * without a single AVX-512 instruction. */
AVX512_INLINE void weight_grad_rows_v(const weight_job *J, int o0, int o1, int A, int R)
{
    size_t KC = (size_t)J->K * J->C;
    int RR = R * R;
    matrix G = g_of(A, R);
    __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
                                                        4, 3, 2, 1, 0),
                                       _mm512_set1_epi32(RR));
    for (int o = o0; o < o1; o++)
        for (int c0 = 0; c0 < J->C; c0 += SEG) {
            int nc = J->C - c0 < SEG ? J->C - c0 : SEG;
            __mmask16 keep = nc >= SEG ? (__mmask16)0xFFFF : (__mmask16)((1u << nc) - 1);
            const float *du = J->dU + (size_t)o * J->C + c0;
            v16f u[AMAX * AMAX], q[AMAX][5], x[5];
#pragma GCC unroll 49
            for (int xi = 0; xi < A * A; xi++)
                u[xi] = (v16f)_mm512_maskz_loadu_ps(keep, du + xi * KC);
#pragma GCC unroll 7
            for (int l = 0; l < A; l++)
                vmat_apply(q[l], 1, G, 1, R, A, &u[l * A], 1);
            float *dw = J->dweight + ((size_t)o * J->C + c0) * RR;
#pragma GCC unroll 5
            for (int j = 0; j < R; j++) {
                vmat_apply(x, 1, G, 1, R, A, &q[0][j], 5);
#pragma GCC unroll 5
                for (int i = 0; i < R; i++) {
                    __m512i at = _mm512_add_epi32(lanes, _mm512_set1_epi32(i * R + j));
                    __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), keep, at, dw, 4);
                    _mm512_mask_i32scatter_ps(dw, keep, at, _mm512_add_ps(v, (__m512)x[i]), 4);
                }
            }
        }
}

/* weight_rows_v on AVX2, 8 columns q at once: each tap of the 8 kernels
 * loaded by plain loads into one vector (AVX2 gathers are slow on Zen 3),
 * both passes in registers, U stored 8 floats at a time. */
AVX2_INLINE void weight_rows_v8(const weight_job *J, int r0, int r1, int A, int R)
{
    size_t KC = (size_t)J->K * J->C;
    int cols = J->flip ? J->K : J->C, RR = R * R;
    matrix G = g_of(A, R);
    size_t step = J->flip ? (size_t)J->C * RR : (size_t)RR; /* between lanes' kernels */
    for (int r = r0; r < r1; r++)
        for (int q0 = 0; q0 < cols; q0 += 8) {
            int nq = cols - q0 < 8 ? cols - q0 : 8;
            int o = J->flip ? q0 : r, c = J->flip ? r : q0;
            const float *w = J->weight + ((size_t)o * J->C + c) * RR;
            v8f g[25], t[AMAX][5], u[AMAX];
#pragma GCC unroll 25
            for (int i = 0; i < RR; i++) {
                int tap = J->flip ? RR - 1 - i : i;
                v8f v = {0};
                for (int q = 0; q < nq; q++)
                    v[q] = w[q * step + tap];
                g[i] = v;
            }
#pragma GCC unroll 5
            for (int j = 0; j < R; j++)
                vmat_apply8(&t[0][j], 5, G, 0, A, R, &g[j], R);
            float *U = J->U + (size_t)r * cols + q0;
#pragma GCC unroll 7
            for (int l = 0; l < A; l++) {
                vmat_apply8(u, 1, G, 0, A, R, t[l], 1);
#pragma GCC unroll 7
                for (int k = 0; k < A; k++) {
                    float *dst = U + (l * A + k) * KC;
                    if (nq == 8)
                        *(v8fu *)dst = u[k];
                    else
                        for (int q = 0; q < nq; q++)
                            dst[q] = u[k][q];
                }
            }
        }
}

/* weight_grad_rows_v on AVX2, 8 input channels c at once: dU loaded 8
 * floats at a time, both passes in registers, dweight updated lane by
 * lane (stride r^2). */
AVX2_INLINE void weight_grad_rows_v8(const weight_job *J, int o0, int o1, int A, int R)
{
    size_t KC = (size_t)J->K * J->C;
    int RR = R * R;
    matrix G = g_of(A, R);
    for (int o = o0; o < o1; o++)
        for (int c0 = 0; c0 < J->C; c0 += 8) {
            int nc = J->C - c0 < 8 ? J->C - c0 : 8;
            const float *du = J->dU + (size_t)o * J->C + c0;
            v8f u[AMAX * AMAX], q[AMAX][5], x[5];
#pragma GCC unroll 49
            for (int xi = 0; xi < A * A; xi++) {
                v8f v = {0};
                if (nc == 8)
                    v = *(const v8fu *)(du + xi * KC);
                else
                    for (int l = 0; l < nc; l++)
                        v[l] = du[xi * KC + l];
                u[xi] = v;
            }
#pragma GCC unroll 7
            for (int l = 0; l < A; l++)
                vmat_apply8(q[l], 1, G, 1, R, A, &u[l * A], 1);
            float *dw = J->dweight + ((size_t)o * J->C + c0) * RR;
#pragma GCC unroll 5
            for (int j = 0; j < R; j++) {
                vmat_apply8(x, 1, G, 1, R, A, &q[0][j], 5);
#pragma GCC unroll 5
                for (int i = 0; i < R; i++)
                    for (int l = 0; l < nc; l++)
                        dw[l * RR + i * R + j] += x[i][l];
            }
        }
}

STRATA_TARGET_AVX2 __attribute__((noinline)) static void
weight_rows_avx2(const weight_job *J, int r0, int r1)
{
#define CALL(a, r) weight_rows_v8(J, r0, r1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

STRATA_TARGET_AVX2 __attribute__((noinline)) static void
weight_grad_rows_avx2(const weight_job *J, int o0, int o1)
{
#define CALL(a, r) weight_grad_rows_v8(J, o0, o1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

STRATA_TARGET_AVX512 __attribute__((noinline)) static void
weight_rows_avx512(const weight_job *J, int r0, int r1)
{
#define CALL(a, r) weight_rows_v(J, r0, r1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

STRATA_TARGET_AVX512 __attribute__((noinline)) static void
weight_grad_rows_avx512(const weight_job *J, int o0, int o1)
{
#define CALL(a, r) weight_grad_rows_v(J, o0, o1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}
#endif

STRATA_MULTIVERSION(void, weight_rows_generic, (const weight_job *J, int r0, int r1), (J, r0, r1))
{
#define CALL(a, r) weight_rows_r(J, r0, r1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

STRATA_MULTIVERSION(void, weight_grad_rows_generic, (const weight_job *J, int o0, int o1),
                    (J, o0, o1))
{
#define CALL(a, r) weight_grad_rows_r(J, o0, o1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

/* NAME_avx512, NAME_avx2 (the fused versions above) or NAME_generic, by
 * strata_isa(). */
#if WINO_SIMD
#define BY_ISA(name)                                                                 \
    (strata_isa() == STRATA_ISA_AVX512 ? name##_avx512                               \
     : strata_isa() == STRATA_ISA_AVX2 ? name##_avx2                                 \
                                       : name##_generic)
#else
#define BY_ISA(name) name##_generic
#endif

/* Rows [r0, r1) of the job's pass (a parallel_for body). */
static void run_rows(void *arg, int r0, int r1)
{
    const weight_job *J = arg;
    J->rows(J, r0, r1);
}

void wino_weight_tiles(float *U, const float *weight, const conv_dims *d, int flip, int threads)
{
    conv_dims e = flip ? data_pass(d) : *d;
    weight_job J = {.U = U, .weight = weight, .K = d->k, .C = d->c, .A = wino_alpha(&e),
                    .R = d->kh, .flip = flip, .rows = BY_ISA(weight_rows)};
    parallel_for(threads, flip ? d->c : d->k, run_rows, &J);
}

void wino_weight_grad(float *dweight, const float *dU, const conv_dims *d, int threads)
{
    weight_job J = {.dweight = dweight, .dU = dU, .K = d->k, .C = d->c, .A = wino_alpha(d),
                    .R = d->kh, .rows = BY_ISA(weight_grad_rows)};
    parallel_for(threads, d->k, run_rows, &J);
}
