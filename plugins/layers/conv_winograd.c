/* conv_winograd.c — see conv_winograd.h.
 *
 * F(m x m, r x r) on alpha x alpha tiles, alpha = m + r - 1, for r = 3, 5:
 *   alpha 6, points 0, 1, -1, 2, -2, inf:       F(4x4, 3x3), F(2x2, 5x5)
 *   alpha 7, points 0, 1, -1, 1/2, -1/2, 2, inf: F(5x5, 3x3), F(3x3, 5x5)
 * The points fix BT (alpha x alpha, shared by both kernels of an alpha);
 * G (alpha x r) and AT (m x alpha) follow (Toom-Cook, Lavin & Gray 2015):
 *   G[x][j] = p_x^j / prod_{q != p_x} (p_x - q),  G[inf] = e_{r-1},
 *   AT[i][x] = p_x^i,  AT[i][inf] = [i == m - 1],
 *   BT = diag(prod_{q != p_x} (p_x - q)) V^-T  (V: rows p_x^j, inf: e_{alpha-1}).
 * For example, alpha 6:
 *   BT = [4  0 -5  0 1 0]   G (r = 3) = [ 1/4     0    0]   AT (m = 4) = [1 1  1 1  1 0]
 *        [0 -4 -4  1 1 0]               [-1/6 -1/6 -1/6]                [0 1 -1 2 -2 0]
 *        [0  4 -4 -1 1 0]               [-1/6  1/6 -1/6]                [0 1  1 4  4 0]
 *        [0 -2 -1  2 1 0]               [1/24 1/12  1/6]                [0 1 -1 8 -8 1]
 *        [0  2 -1 -2 1 0]               [1/24 -1/12 1/6]
 *        [0  4  0 -5 0 1]               [   0     0    1]
 * (the tables below hold all of them). For output tile (ty, tx) of image b
 * (m x m outputs at (m ty, m tx)), with d the alpha x alpha input patch at
 * (m ty - ph, m tx - pw) (0 outside the image), xi = alpha*l + k:
 *   U[xi][o][c] = (G w[o][c] G^T)[xi]
 *   V[xi][c][t] = (BT d[c] B)[xi]              t: tile index in the chunk
 *   M[xi] (K, T) = U[xi] (K, C) @ V[xi] (C, T)     (alpha^2 sgemm calls)
 *   out tile    = AT M[.][o][t] A  (+ bias, cropped to oh x ow)
 * backward-data: the forward algorithm on dout with w'[c][o] = flip(w[o][c])
 *   and padding r - 1 - p (a "full" correlation), giving din (n, c, h, w).
 * bias gradient: row 1 of A is all ones (point 1), so E[alpha + 1] =
 *   (A dY A^T)[1][1] is the sum of the tile; dbias[o] += sum_t E[alpha+1][o][t].
 * backward-weights: Y = AT (U . V) A is linear in U, so
 *   dU[xi] (K, C) = sum over tiles of E[xi] (K, T) @ V[xi]^T,
 *   E = A dY A^T (dY the m x m dout tile, 0 past oh x ow),
 *   dw[o][c] += G^T dU[.][o][c] G.
 * Each pass (forward, backward-data, backward-weights) picks its alpha by
 * GEMM work (wino_alpha). Points and measured float32 error (simulated,
 * 128 channels, U(-1, 1)): alpha 6 F(4,3) 8.2e-6, F(2,5) 6.5e-6; alpha 7
 * F(5,3) 9.8e-6, F(3,5) 7.3e-6 (0, +-1, +-2, 1/2 instead: 1.2e-5, 5.2e-6;
 * alpha 6 with +-1/2 instead of +-2: F(2,5) 6.9e-6 against 2.9e-6 at 48).
 * Tiles are processed a chunk of tile rows at a time (all tile rows of all
 * images, numbered g = b*nty + ty), so V and M stay within d->budget
 * floats (at least one tile row). The transforms work on SEG tiles at once,
 * vectorised across tiles: SEG tiles along one tile row, or, on maps with
 * at most SEG/2 tiles a row (and for odd m), SEG consecutive tiles of the
 * chunk (each lane gathering its own patch). Where the CPU has AVX-512
 * every map takes the latter, with masked gathers and scatters and the
 * transforms in registers (the AVX-512 section); the kernel transforms
 * too. The tile functions take alpha and m as arguments and are inlined
 * where they are constants (tile_rows, tile_segs), so each algorithm gets
 * loops of constant trip counts and its transform tables folded into the
 * code. */
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "parallel.h"
#include "conv_bias.h"
#include "conv_winograd.h"

#define SEG 16  /* tiles transformed together */
#define AMAX 7  /* the largest alpha */

int conv_winograd_fits(const conv_dims *d)
{
    if (d->sh != 1 || d->sw != 1 || d->kh != d->kw || (d->kh != 3 && d->kh != 5))
        return 0;
    return d->ph <= d->kh - 1 && d->pw <= d->kw - 1;
}

/* GEMM work of tile size m on alpha x alpha tiles: tiles x alpha^2. */
static long tile_work(const conv_dims *d, int m, int alpha)
{
    return (long)((d->oh + m - 1) / m) * ((d->ow + m - 1) / m) * alpha * alpha;
}

/* alpha 7 when it saves at least 15% of the GEMM work of alpha 6 (its
 * transforms cost more per output, it always takes gathered segments and
 * its error is higher): AlexNet's 13x13 3x3 layers (441 vs 576 a channel
 * pair), 27x27 5x5 (3969 vs 7056), VGG-16's 55x55 (16% less: conv3_x b16
 * forward 6-12% faster). Measured below the line (wall ms fwd/bwd, b16,
 * alpha 6 vs 7): VGG-16 conv1_2 (224 px, 12% less) 142/312 vs 182/390,
 * conv2_2 (111 px, 8% less) 101/206 vs 123/274. */
static int wino_alpha(const conv_dims *d)
{
    long w6 = tile_work(d, 7 - d->kh, 6), w7 = tile_work(d, 8 - d->kh, 7);
    return 100 * w7 <= 85 * w6 ? 7 : 6;
}

static int tile_m(const conv_dims *d) { return wino_alpha(d) + 1 - d->kh; }
static int tiles_x(const conv_dims *d) { return (d->ow + tile_m(d) - 1) / tile_m(d); }
static int tiles_y(const conv_dims *d) { return (d->oh + tile_m(d) - 1) / tile_m(d); }
/* alpha^2: the transform elements, GEMMs and floats per tile */
static int tile_elems(const conv_dims *d) { return wino_alpha(d) * wino_alpha(d); }
/* xi = alpha*1 + 1: E[xi] = (A dY A^T)[1][1], the tile's sum (A's row 1 is
 * point 1: all ones) */
static int bias_elem(const conv_dims *d) { return wino_alpha(d) + 1; }

/* The backward-data pass as a forward convolution of dout. */
static conv_dims data_pass(const conv_dims *d)
{
    conv_dims e = *d;
    e.c = d->k, e.h = d->oh, e.w = d->ow;
    e.k = d->c, e.oh = d->h, e.ow = d->w;
    e.ph = d->kh - 1 - d->ph, e.pw = d->kw - 1 - d->pw;
    return e;
}

/* Tile rows per chunk for a pass over a batch of n. */
static int chunk_rows(const conv_dims *d, int n)
{
    size_t ntx = (size_t)tiles_x(d), rows = (size_t)n * tiles_y(d);
    size_t r = d->budget / (tile_elems(d) * (size_t)(d->c + d->k) * ntx);
    if (r < 1)
        r = 1;
    return (int)(r < rows ? r : rows);
}

static size_t pass_floats(const conv_dims *d, int n)
{
    return tile_elems(d) * (size_t)(d->c + d->k) * chunk_rows(d, n) * tiles_x(d);
}

/* Floats of the transformed kernel at the start of the scratch: U, dU, or
 * the backward-data U (its alpha may differ: the pass has its own map). */
static size_t u_floats(const conv_dims *d)
{
    conv_dims e = data_pass(d);
    int a = tile_elems(d), b = tile_elems(&e);
    return (size_t)(a > b ? a : b) * d->c * d->k;
}

size_t conv_winograd_scratch_bytes(const conv_dims *d, int n)
{
    conv_dims e = data_pass(d);
    size_t a = pass_floats(d, n), b = pass_floats(&e, n);
    return sizeof(float) * (u_floats(d) + (a > b ? a : b));
}

/* ---- the transform matrices ---------------------------------------------- */

static const float BT_6[AMAX][AMAX] = {
    {4, 0, -5, 0, 1, 0},
    {0, -4, -4, 1, 1, 0},
    {0, 4, -4, -1, 1, 0},
    {0, -2, -1, 2, 1, 0},
    {0, 2, -1, -2, 1, 0},
    {0, 4, 0, -5, 0, 1},
};
static const float BT_7[AMAX][AMAX] = {
    {-1.0f / 2, 1.0f / 4, 5.0f / 2, -5.0f / 4, -2, 1, 0},
    {0, 1.0f / 2, 1.0f / 4, -9.0f / 4, -1, 1, 0},
    {0, -1.0f / 2, 3.0f / 4, 7.0f / 4, -3, 1, 0},
    {0, 1, 3.0f / 2, -2, -3.0f / 2, 1, 0},
    {0, -1, 5.0f / 2, 0, -5.0f / 2, 1, 0},
    {0, 1.0f / 4, 0, -5.0f / 4, 0, 1, 0},
    {0, -1.0f / 2, 1.0f / 4, 5.0f / 2, -5.0f / 4, -2, 1},
};
static const float AT_6_4[AMAX][AMAX] = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1, 1, 4, 4, 0},
    {0, 1, -1, 8, -8, 1},
};
static const float AT_6_2[AMAX][AMAX] = {
    {1, 1, 1, 1, 1, 0},
    {0, 1, -1, 2, -2, 1},
};
static const float AT_7_5[AMAX][AMAX] = {
    {1, 1, 1, 1, 1, 1, 0},
    {0, 1, -1, 1.0f / 2, -1.0f / 2, 2, 0},
    {0, 1, 1, 1.0f / 4, 1.0f / 4, 4, 0},
    {0, 1, -1, 1.0f / 8, -1.0f / 8, 8, 0},
    {0, 1, 1, 1.0f / 16, 1.0f / 16, 16, 1},
};
static const float AT_7_3[AMAX][AMAX] = {
    {1, 1, 1, 1, 1, 1, 0},
    {0, 1, -1, 1.0f / 2, -1.0f / 2, 2, 0},
    {0, 1, 1, 1.0f / 4, 1.0f / 4, 4, 1},
};
static const float G_6_3[AMAX][AMAX] = {
    {1.0f / 4, 0, 0},
    {-1.0f / 6, -1.0f / 6, -1.0f / 6},
    {-1.0f / 6, 1.0f / 6, -1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6},
    {1.0f / 24, -1.0f / 12, 1.0f / 6},
    {0, 0, 1},
};
static const float G_6_5[AMAX][AMAX] = {
    {1.0f / 4, 0, 0, 0, 0},
    {-1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6},
    {-1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3, 2.0f / 3},
    {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3, 2.0f / 3},
    {0, 0, 0, 0, 1},
};
static const float G_7_3[AMAX][AMAX] = {
    {-2, 0, 0},
    {-2.0f / 3, -2.0f / 3, -2.0f / 3},
    {-2.0f / 9, 2.0f / 9, -2.0f / 9},
    {16.0f / 9, 8.0f / 9, 4.0f / 9},
    {16.0f / 15, -8.0f / 15, 4.0f / 15},
    {2.0f / 45, 4.0f / 45, 8.0f / 45},
    {0, 0, 1},
};
static const float G_7_5[AMAX][AMAX] = {
    {-2, 0, 0, 0, 0},
    {-2.0f / 3, -2.0f / 3, -2.0f / 3, -2.0f / 3, -2.0f / 3},
    {-2.0f / 9, 2.0f / 9, -2.0f / 9, 2.0f / 9, -2.0f / 9},
    {16.0f / 9, 8.0f / 9, 4.0f / 9, 2.0f / 9, 1.0f / 9},
    {16.0f / 15, -8.0f / 15, 4.0f / 15, -2.0f / 15, 1.0f / 15},
    {2.0f / 45, 4.0f / 45, 8.0f / 45, 16.0f / 45, 32.0f / 45},
    {0, 0, 0, 0, 1},
};

typedef const float (*matrix)[AMAX];
CONV_INLINE matrix bt_of(int a) { return a == 6 ? BT_6 : BT_7; }
CONV_INLINE matrix at_of(int a, int m)
{
    return a == 6 ? (m == 4 ? AT_6_4 : AT_6_2) : (m == 5 ? AT_7_5 : AT_7_3);
}
CONV_INLINE matrix g_of(int a, int r)
{
    return a == 6 ? (r == 3 ? G_6_3 : G_6_5) : (r == 3 ? G_7_3 : G_7_5);
}

/* o[i * os] = sum_j T[i][j] x[j * xs] (i < rows, j < cols), or with T
 * transposed: sum_j T[j][i] x[j * xs]. Where T, rows and cols are
 * constants (all callers, once inlined) the loops unroll and the zero
 * entries drop out at compile time; the sum starts at -0.0f, which adds
 * exactly nothing, so ones and minus ones cost no multiply either. */
CONV_INLINE void mat_apply(float *o, int os, matrix T, int trans, int rows, int cols,
                           const float *x, int xs)
{
    float in[AMAX], out[AMAX];
#pragma GCC unroll 8
    for (int j = 0; j < cols; j++)
        in[j] = x[j * xs];
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) {
        float s = -0.0f;
#pragma GCC unroll 8
        for (int j = 0; j < cols; j++) {
            float t = trans ? T[j][i] : T[i][j];
            if (t != 0.0f)
                s += t * in[j];
        }
        out[i] = s;
    }
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++)
        o[i * os] = out[i];
}

/* ---- AVX-512 ------------------------------------------------------------- */

/* Where the CPU has AVX-512 (has_gather), the transforms run in functions
 * compiled for it (target attribute), on vectors v16 of SEG lanes, with
 * explicit gathers and scatters; elsewhere the generic loops. Both do the
 * same operations in the same order (vmat_apply mirrors mat_apply): the
 * same bits (t/test_conv_fast compares them under STRATA_ISA=base). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define WINO_AVX512 1
#include <immintrin.h>
typedef float v16 __attribute__((vector_size(64)));
#define AVX512_INLINE static inline __attribute__((always_inline, target("avx512f")))

/* mat_apply on vectors: o[i * os] = sum_j T[i][j] x[j * xs] (or T^T). */
AVX512_INLINE void vmat_apply(v16 *o, int os, matrix T, int trans, int rows, int cols,
                              const v16 *x, int xs)
{
    v16 in[AMAX];
#pragma GCC unroll 8
    for (int j = 0; j < cols; j++)
        in[j] = x[j * xs];
#pragma GCC unroll 8
    for (int i = 0; i < rows; i++) {
        v16 s = {-0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f,
                 -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f, -0.0f};
#pragma GCC unroll 8
        for (int j = 0; j < cols; j++) {
            float t = trans ? T[j][i] : T[i][j];
            if (t != 0.0f)
                s += t * in[j];
        }
        o[i * os] = s;
    }
}

/* The CPU has AVX-512 and STRATA_ISA (base, avx2: the tests compare) does
 * not cap it. */
static int has_gather(void)
{
    static int cpu = -1; /* threads may race to set it: the same value */
    int has = __atomic_load_n(&cpu, __ATOMIC_RELAXED);
    if (has < 0)
        __atomic_store_n(&cpu, has = __builtin_cpu_supports("avx512f"), __ATOMIC_RELAXED);
    const char *cap = getenv("STRATA_ISA");
    return has && !(cap && (!strcmp(cap, "base") || !strcmp(cap, "avx2")));
}
#else
#define WINO_AVX512 0
static int has_gather(void) { return 0; }
#endif

/* ---- weights ------------------------------------------------------------- */

typedef struct weight_job {
    float *U, *dweight;
    const float *weight, *dU;
    int K, C, A, R, flip; /* A: alpha, R: the kernel size r */
} weight_job;

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

/* The (alpha, r) pairs (m = alpha + 1 - r), each compiled with its constants. */
#define WINO_VARIANTS(call, A, R)                                                    \
    do {                                                                             \
        if ((A) == 6 && (R) == 3)                                                    \
            call(6, 3);                                                              \
        else if ((A) == 6)                                                           \
            call(6, 5);                                                              \
        else if ((R) == 3)                                                           \
            call(7, 3);                                                              \
        else                                                                         \
            call(7, 5);                                                              \
    } while (0)

#if WINO_AVX512
/* weight_rows_r on AVX-512, SEG columns q at once: the r x r kernels
 * gathered (stride r^2, or C r^2 when flipped), both passes in registers,
 * U stored a vector at a time. GCC 12 left the generic version's lane loops
 * scalar (VGG-16 conv5_x: 5% of the layer's time). */
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
            v16 g[25], t[AMAX][5], u[AMAX];
#pragma GCC unroll 25
            for (int i = 0; i < RR; i++)
                g[i] = (v16)_mm512_mask_i32gather_ps(
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
 * gather, add, scatter (stride r^2). The generic version had no AVX-512
 * instruction at all. VGG-16 b16 conv5_2 (CPU ms, loaded machine): this
 * pass 7.6 -> 2.6; with weight_rows_v, fwd/bwd 48/107 -> 43/90. */
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
            v16 u[AMAX * AMAX], q[AMAX][5], x[5];
#pragma GCC unroll 49
            for (int xi = 0; xi < A * A; xi++)
                u[xi] = (v16)_mm512_maskz_loadu_ps(keep, du + xi * KC);
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

__attribute__((target("avx512f"), noinline)) static void weight_rows_avx512(const weight_job *J,
                                                                           int r0, int r1)
{
#define CALL(a, r) weight_rows_v(J, r0, r1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

__attribute__((target("avx512f"), noinline)) static void
weight_grad_rows_avx512(const weight_job *J, int o0, int o1)
{
#define CALL(a, r) weight_grad_rows_v(J, o0, o1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}
#endif

CONV_CLONES static void weight_rows(void *arg, int r0, int r1)
{
    const weight_job *J = arg;
#if WINO_AVX512
    if (has_gather()) {
        weight_rows_avx512(J, r0, r1);
        return;
    }
#endif
#define CALL(a, r) weight_rows_r(J, r0, r1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

CONV_CLONES static void weight_grad_rows(void *arg, int o0, int o1)
{
    const weight_job *J = arg;
#if WINO_AVX512
    if (has_gather()) {
        weight_grad_rows_avx512(J, o0, o1);
        return;
    }
#endif
#define CALL(a, r) weight_grad_rows_r(J, o0, o1, a, r)
    WINO_VARIANTS(CALL, J->A, J->R);
#undef CALL
}

static void weight_tiles(float *U, const float *weight, const conv_dims *d, int flip, int threads)
{
    conv_dims e = flip ? data_pass(d) : *d;
    weight_job J = {.U = U, .weight = weight, .K = d->k, .C = d->c, .A = wino_alpha(&e),
                    .R = d->kh, .flip = flip};
    parallel_for(threads, flip ? d->c : d->k, weight_rows, &J);
}

static void weight_grad(float *dweight, const float *dU, const conv_dims *d, int threads)
{
    weight_job J = {.dweight = dweight, .dU = dU, .K = d->k, .C = d->c, .A = wino_alpha(d),
                    .R = d->kh};
    parallel_for(threads, d->k, weight_grad_rows, &J);
}

/* ---- tiles: helpers ------------------------------------------------------ */

/* Copy row y of plane (h, w) at columns [x0, x0 + len) into dst, 0 outside.
 * Plain loops: libc's memcpy/memset here leave stores that the vector loads
 * right after cannot forward from (measured: the load stalled 20% of the
 * transform's time). */
CONV_INLINE void padded_row(float *dst, const float *plane, int h, int w, int y, int x0, int len)
{
    if (y < 0 || y >= h) {
        for (int x = 0; x < len; x++)
            dst[x] = 0.0f;
        return;
    }
    const float *src = plane + (size_t)y * w;
    for (int x = 0; x < len; x++) {
        int ix = x0 + x;
        dst[x] = ix >= 0 && ix < w ? src[ix] : 0.0f;
    }
}

/* The segment functions work on all SEG lanes (tiles) whatever nt is, so
 * every inner loop has a constant trip count and vectorises; lanes past nt
 * hold zeros and are not stored. Strided (stride-m) accesses happen only in
 * the de-/interleaving copies. */

/* dst[0..nt) = src[0..nt): a constant-size copy (one vector move) for full
 * segments; a loop otherwise (a variable-size memcpy becomes `rep movs`,
 * slow this small; -fno-tree-loop-distribute-patterns keeps loops loops). */
CONV_INLINE void copy_lanes(float *dst, const float *src, int nt)
{
    if (nt == SEG)
        memcpy(dst, src, sizeof(float) * SEG);
    else
        for (int t = 0; t < nt; t++)
            dst[t] = src[t];
}

/* ---- row segments: alpha 6 only (odd m is always gathered) ------------- */

/* The same transforms as the tables (BT_6, AT_6_4, AT_6_2) written out: on
 * row segments GCC vectorises these across tiles, but not mat_apply's
 * (it reuses the overlapping loads of neighbouring tiles across loop
 * iterations; measured VGG-16 conv1_2 b8 CPU ms fwd/bwd 141/309 written
 * out, 176/442 with the tables, 163/384 with the tables after a
 * de-interleaving copy). */
/* BT (6x6) applied to a0..a5 */
#define BT6(o, a0, a1, a2, a3, a4, a5)                                               \
    do {                                                                             \
        o[0] = 4 * (a0) - 5 * (a2) + (a4);                                           \
        o[1] = -4 * (a1) - 4 * (a2) + (a3) + (a4);                                   \
        o[2] = 4 * (a1) - 4 * (a2) - (a3) + (a4);                                    \
        o[3] = -2 * (a1) - (a2) + 2 * (a3) + (a4);                                   \
        o[4] = 2 * (a1) - (a2) - 2 * (a3) + (a4);                                    \
        o[5] = 4 * (a1) - 5 * (a3) + (a5);                                           \
    } while (0)

/* AT (m x 6) applied to m0..m5, m = 4 or 2 */
#define AT_M(o, m, m0, m1, m2, m3, m4, m5)                                           \
    do {                                                                             \
        o[0] = (m0) + (m1) + (m2) + (m3) + (m4);                                     \
        if ((m) == 4) {                                                              \
            o[1] = (m1) - (m2) + 2 * (m3) - 2 * (m4);                                \
            o[2] = (m1) + (m2) + 4 * (m3) + 4 * (m4);                                \
            o[3] = (m1) - (m2) + 8 * (m3) - 8 * (m4) + (m5);                         \
        } else                                                                       \
            o[1] = (m1) - (m2) + 2 * (m3) - 2 * (m4) + (m5);                         \
    } while (0)

/* A (6 x m), the adjoint of AT, applied to y[0..m) */
CONV_INLINE void a_m(float o[6], int m, const float *y)
{
    if (m == 4) {
        o[0] = y[0];
        o[1] = y[0] + y[1] + y[2] + y[3];
        o[2] = y[0] - y[1] + y[2] - y[3];
        o[3] = y[0] + 2 * y[1] + 4 * y[2] + 8 * y[3];
        o[4] = y[0] - 2 * y[1] + 4 * y[2] - 8 * y[3];
        o[5] = y[3];
    } else {
        o[0] = y[0];
        o[1] = y[0] + y[1];
        o[2] = y[0] - y[1];
        o[3] = y[0] + 2 * y[1];
        o[4] = y[0] - 2 * y[1];
        o[5] = y[1];
    }
}

/* The horizontal pass of one row for all SEG tiles, reading the row with
 * stride m straight into registers (a de-interleaved copy first was slower:
 * its narrow stores could not be forwarded to the wide loads after). */
CONV_INLINE void bt_row(float r[6][SEG], const float *row, int m)
{
    for (int t = 0; t < SEG; t++) {
        const float *p = row + m * t;
        float v[6];
        BT6(v, p[0], p[1], p[2], p[3], p[4], p[5]);
        for (int k = 0; k < 6; k++)
            r[k][t] = v[k];
    }
}

CONV_INLINE void a_row(float e[6][SEG], const float *row, int m)
{
    for (int t = 0; t < SEG; t++) {
        float v[6];
        a_m(v, m, row + m * t);
        for (int k = 0; k < 6; k++)
            e[k][t] = v[k];
    }
}

/* The vertical pass of the input transform: V[xi * vs + t] = (BT r)[xi]
 * for the row-transformed patches r of SEG tiles, nt of them stored. */
CONV_INLINE void input_columns(float *V, size_t vs, float r[6][6][SEG], int nt)
{
    float o[36][SEG];
    for (int k = 0; k < 6; k++)
        for (int t = 0; t < SEG; t++) {
            float v[6];
            BT6(v, r[0][k][t], r[1][k][t], r[2][k][t], r[3][k][t], r[4][k][t], r[5][k][t]);
            for (int l = 0; l < 6; l++)
                o[l * 6 + k][t] = v[l];
        }
    for (int xi = 0; xi < 36; xi++)
        copy_lanes(V + xi * vs, o[xi], nt);
}

/* The vertical pass of the dout transform: E[xi * es + t] = (A e)[xi] for
 * the row-transformed m x 6 tiles e of SEG tiles, nt of them stored. */
CONV_INLINE void dout_columns(float *E, size_t es, float e[4][6][SEG], int nt, int m)
{
    float o[36][SEG];
    for (int k = 0; k < 6; k++)
        for (int t = 0; t < SEG; t++) {
            float v[6], y[4];
            for (int a = 0; a < m; a++)
                y[a] = e[a][k][t];
            a_m(v, m, y);
            for (int l = 0; l < 6; l++)
                o[l * 6 + k][t] = v[l];
        }
    for (int xi = 0; xi < 36; xi++)
        copy_lanes(E + xi * es, o[xi], nt);
}

/* V[xi * vs + t] = (BT d_t B)[xi], d_t the 6x6 patch of plane (h, w) at
 * (y0, x0 + m t), t < nt. */
CONV_INLINE void input_segment(float *V, size_t vs, const float *plane, int h, int w, int y0,
                               int x0, int nt, int m)
{
    float d[4 * SEG + 4], r[6][6][SEG];
    int inside = x0 >= 0 && x0 + m * SEG + 6 - m <= w; /* the whole window, all lanes */
    for (int i = 0; i < 6; i++) {
        if (inside && y0 + i >= 0 && y0 + i < h) {
            bt_row(r[i], plane + (size_t)(y0 + i) * w + x0, m);
        } else {
            padded_row(d, plane, h, w, y0 + i, x0, m * nt + 6 - m);
            for (int x = m * nt + 6 - m; x < m * SEG + 6 - m; x++)
                d[x] = 0.0f;
            bt_row(r[i], d, m);
        }
    }
    input_columns(V, vs, r, nt);
}

/* The first half of the output transform of nt tiles (lanes past nt are
 * zero): s[a][k][t] = (AT M_t)[a][k], M_t's 36 elements at M + xi*ms + t. */
CONV_INLINE void output_columns6(float s[4][6][SEG], const float *M, size_t ms, int nt, int m)
{
    float mm[36][SEG];
    for (int xi = 0; xi < 36; xi++) {
        copy_lanes(mm[xi], M + xi * ms, nt);
        for (int t = nt; t < SEG; t++)
            mm[xi][t] = 0.0f;
    }
    for (int k = 0; k < 6; k++)
        for (int t = 0; t < SEG; t++) {
            float v[4];
            AT_M(v, m, mm[k][t], mm[6 + k][t], mm[12 + k][t], mm[18 + k][t], mm[24 + k][t],
                 mm[30 + k][t]);
            for (int a = 0; a < m; a++)
                s[a][k][t] = v[a];
        }
}

/* plane (oh, ow) tiles at (y0, x0 + m t) = AT M_t A + bias, cropped. */
CONV_INLINE void output_segment(float *plane, int oh, int ow, int y0, int x0, int nt,
                                const float *M, size_t ms, float bias, int m)
{
    float s[4][6][SEG], yb[4][SEG], y[4 * SEG];
    output_columns6(s, M, ms, nt, m);
    int len = ow - x0 < m * nt ? ow - x0 : m * nt;
    for (int a = 0; a < m && y0 + a < oh; a++) {
        for (int t = 0; t < SEG; t++) {
            float v[4];
            AT_M(v, m, s[a][0][t], s[a][1][t], s[a][2][t], s[a][3][t], s[a][4][t], s[a][5][t]);
            for (int b = 0; b < m; b++)
                yb[b][t] = v[b];
        }
        for (int t = 0; t < SEG; t++)
            for (int b = 0; b < m; b++)
                y[m * t + b] = yb[b][t] + bias;
        float *dst = plane + (size_t)(y0 + a) * ow + x0;
        for (int x = 0; x < len; x++)
            dst[x] = y[x];
    }
}

/* E[xi * es + t] = (A dY_t A^T)[xi], dY_t the m x m tile of plane (oh, ow)
 * at (y0, x0 + m t), 0 outside. */
CONV_INLINE void dout_segment(float *E, size_t es, const float *plane, int oh, int ow, int y0,
                              int x0, int nt, int m)
{
    float d[4 * SEG + 4], e[4][6][SEG];
    int inside = x0 + m * SEG <= ow;
    for (int a = 0; a < m; a++) {
        if (inside && y0 + a < oh) {
            a_row(e[a], plane + (size_t)(y0 + a) * ow + x0, m);
        } else {
            padded_row(d, plane, oh, ow, y0 + a, x0, m * nt);
            for (int x = m * nt; x < m * SEG; x++)
                d[x] = 0.0f;
            a_row(e[a], d, m);
        }
    }
    dout_columns(E, es, e, nt, m);
}

/* ---- passes over a chunk of tile rows [g0, g1) --------------------------- */

enum { TILE_INPUT, TILE_DOUT, TILE_OUTPUT };

/* One pass over (channel, tile row) pairs of the chunk [g0, g1): X holds
 * T columns per (xi, channel). */
typedef struct tile_job {
    float *X;
    size_t T;
    int kind;
    float *img; /* the source (input, dout) or, for TILE_OUTPUT, out */
    const float *bias;
    const conv_dims *d;
    int g0, g1;
} tile_job;

/* Row segments (alpha 6). */
CONV_INLINE void tile_rows_m(const tile_job *J, int i0, int i1, int m)
{
    const conv_dims *d = J->d;
    int nty = tiles_y(d), ntx = tiles_x(d), rows = J->g1 - J->g0;
    int nch = J->kind == TILE_INPUT ? d->c : d->k;
    int h = J->kind == TILE_INPUT ? d->h : d->oh, w = J->kind == TILE_INPUT ? d->w : d->ow;
    int py = J->kind == TILE_INPUT ? d->ph : 0, px = J->kind == TILE_INPUT ? d->pw : 0;
    size_t xs = (size_t)nch * J->T;
    for (int i = i0; i < i1; i++) {
        int ch = i / rows, g = J->g0 + i % rows, b = g / nty, ty = g % nty;
        float *plane = J->img + ((size_t)b * nch + ch) * h * w;
        for (int tx = 0; tx < ntx; tx += SEG) {
            int nt = ntx - tx < SEG ? ntx - tx : SEG;
            float *x = J->X + (size_t)ch * J->T + (size_t)(g - J->g0) * ntx + tx;
            if (J->kind == TILE_INPUT)
                input_segment(x, xs, plane, h, w, m * ty - py, m * tx - px, nt, m);
            else if (J->kind == TILE_DOUT)
                dout_segment(x, xs, plane, h, w, m * ty, m * tx, nt, m);
            else
                output_segment(plane, h, w, m * ty, m * tx, nt, x, xs,
                               J->bias ? J->bias[ch] : 0.0f, m);
        }
    }
}

CONV_CLONES static void tile_rows(void *arg, int i0, int i1)
{
    const tile_job *J = arg;
    if (tile_m(J->d) == 4)
        tile_rows_m(J, i0, i1, 4);
    else
        tile_rows_m(J, i0, i1, 2);
}

/* ---- small maps and alpha 7: segments of SEG consecutive tiles ---------- */

/* With fewer than SEG tiles per tile row (maps under 61 px: 13x13 has 4),
 * a row segment would leave most lanes idle; alpha 7 (odd m) always comes
 * here too (see gathered()). Here a segment is SEG consecutive tiles t of
 * the chunk (t = (g - g0)*ntx + tx, across tile rows and images): each lane
 * gathers (or scatters) its own patch, and the transforms (the tables, by
 * mat_apply) run on all lanes. The tile t of a chunk starting at tile row
 * g0 is image b, tile row ty, column tx: */
typedef struct lane_map {
    long off[SEG]; /* lane l's patch origin: b*nch*h*w + y0*w + x0 */
    int y0[SEG], x0[SEG];
    int inside[SEG]; /* the whole n x n patch lies in the plane */
    long base;       /* b*nch*h*w of lane 0's image */
    int idx[SEG];    /* off - base: the gather's indices */
    int rows[SEG], cols[SEG]; /* bit i: patch row (column) i lies in the plane */
    int near;        /* all idx fit an int */
    int gather;      /* use gather_avx512 (near and the CPU has AVX-512) */
} lane_map;

/* The lanes of the segment of tiles [t0, t0 + nt) of the chunk starting at
 * tile row g0: patch origins (m ty - py, m tx - px) of size n in a plane
 * (h, w) of nch channels. One division per segment, not per lane and
 * channel: the map serves every channel of the segment. Lanes past nt
 * read nothing (rows = 0). */
CONV_INLINE void lane_map_of(lane_map *L, int nch, int h, int w, int py, int px, int n, int nty,
                             int ntx, int g0, int t0, int nt, int m)
{
    int g = g0 + t0 / ntx, tx = t0 % ntx, b = g / nty, ty = g % nty;
    L->near = 1;
    L->base = (long)b * nch * h * w;
    for (int l = 0; l < SEG; l++) {
        L->rows[l] = L->cols[l] = 0;
        L->idx[l] = 0;
        if (l >= nt)
            continue;
        int y0 = m * ty - py, x0 = m * tx - px;
        L->y0[l] = y0, L->x0[l] = x0;
        L->off[l] = (long)b * nch * h * w + (long)y0 * w + x0;
        L->inside[l] = y0 >= 0 && x0 >= 0 && y0 + n <= h && x0 + n <= w;
        long di = L->off[l] - L->base;
        if (di > 1L << 30 || di < -(1L << 30))
            L->near = 0;
        L->idx[l] = (int)di;
        for (int i = 0; i < n; i++) {
            L->rows[l] |= (y0 + i >= 0 && y0 + i < h) << i;
            L->cols[l] |= (x0 + i >= 0 && x0 + i < w) << i;
        }
        if (++tx == ntx) {
            tx = 0;
            if (++ty == nty)
                ty = 0, b++;
        }
    }
}

/* The whole input (or dout) transform of a segment on AVX-512, in
 * registers: row i of lane l's patch, d[j][l] = base[idx[l] + i w + j]
 * where row i and column j lie in the plane, else 0, by a masked gather per
 * (i, j) (GCC 12 does not vectorise the gather as a loop: per-lane scalar
 * loads took half the transforms' time); r[i] = BT d (A d for dout); then
 * each column k of r, X[(l A + k) xs + t] = (BT r[.][k])[l], t < nt. The
 * same operations in the same order as input_gather's loops (mat_apply),
 * so the same bits; without the stack round trips of d, r's copies and o.
 * Called, not inlined, from every clone when the CPU has AVX-512
 * (has_gather). Measured (AlexNet conv2, F(3x3, 5x5), b32, CPU ms, loaded
 * machine): input transforms 9.6 -> 4.9 (gathers alone) -> 3.1
 * (48 channels), dout 15.5 -> 9.4 -> 6.5 (128); forward 31.8 -> 26.6
 * -> 25.5, backward 86 -> 63 -> 53. */
#if WINO_AVX512
AVX512_INLINE void gather_transform_v(float *X, size_t xs, const float *base, const lane_map *L,
                                      int w, int nt, int A, int m, int dout)
{
    int n = dout ? m : A;
    matrix T = dout ? at_of(A, m) : bt_of(A);
    __m512i idx = _mm512_loadu_si512(L->idx), rows = _mm512_loadu_si512(L->rows),
            cols = _mm512_loadu_si512(L->cols);
    __mmask16 keep = nt >= SEG ? (__mmask16)0xFFFF : (__mmask16)((1u << nt) - 1);
    v16 r[AMAX][AMAX];
#pragma GCC unroll 8
    for (int i = 0; i < n; i++) {
        __mmask16 rm = _mm512_test_epi32_mask(rows, _mm512_set1_epi32(1 << i));
        __m512i ri = _mm512_add_epi32(idx, _mm512_set1_epi32(i * w));
        v16 d[AMAX];
#pragma GCC unroll 8
        for (int j = 0; j < n; j++) {
            __mmask16 k = rm & _mm512_test_epi32_mask(cols, _mm512_set1_epi32(1 << j));
            d[j] = (v16)_mm512_mask_i32gather_ps(_mm512_setzero_ps(), k,
                                                 _mm512_add_epi32(ri, _mm512_set1_epi32(j)),
                                                 base, 4);
        }
        vmat_apply(r[i], 1, T, dout, A, n, d, 1);
    }
#pragma GCC unroll 8
    for (int k = 0; k < A; k++) {
        v16 o[AMAX];
        vmat_apply(o, 1, T, dout, A, n, &r[0][k], AMAX);
#pragma GCC unroll 8
        for (int l = 0; l < A; l++)
            _mm512_mask_storeu_ps(X + (l * A + k) * xs, keep, (__m512)o[l]);
    }
}

__attribute__((target("avx512f"), noinline)) static void
gather_transform(float *X, size_t xs, const float *base, const lane_map *L, int w, int nt, int A,
                 int R, int dout)
{
#define CALL(a, r) gather_transform_v(X, xs, base, L, w, nt, a, a + 1 - r, 0)
#define CALL_DOUT(a, r) gather_transform_v(X, xs, base, L, w, nt, a, a + 1 - r, 1)
    if (dout)
        WINO_VARIANTS(CALL_DOUT, A, R);
    else
        WINO_VARIANTS(CALL, A, R);
#undef CALL
#undef CALL_DOUT
}
/* The output transform of a segment on AVX-512, in registers: M_t's
 * alpha^2 elements at M + xi ms + t (t < nt, 0 past), s = AT M_t, y = s A
 * + bias, then y[a][b] of lane l to base[idx[l] + a w + b] where row a and
 * column b lie in the plane, by a masked scatter per (a, b). The same
 * operations in the same order as output_tiles' loops. AlexNet conv2 b32
 * forward output transforms (CPU ms, loaded) 8.9-9.8 -> 6.4-6.7, forward
 * 26.5 -> 24 (a masked scatter alone, after output_tiles' loops, was no
 * faster than scalar stores). */
AVX512_INLINE void transform_scatter_v(float *base, const lane_map *L, int w, const float *M,
                                       size_t ms, int nt, float bias, int A, int m)
{
    matrix T = at_of(A, m);
    __m512i idx = _mm512_loadu_si512(L->idx), rows = _mm512_loadu_si512(L->rows),
            cols = _mm512_loadu_si512(L->cols);
    __mmask16 keep = nt >= SEG ? (__mmask16)0xFFFF : (__mmask16)((1u << nt) - 1);
    v16 s[AMAX][AMAX], b16 = {0};
    b16 += bias;
#pragma GCC unroll 8
    for (int k = 0; k < A; k++) {
        v16 col[AMAX];
#pragma GCC unroll 8
        for (int l = 0; l < A; l++)
            col[l] = (v16)_mm512_maskz_loadu_ps(keep, M + (l * A + k) * ms);
        v16 o[AMAX];
        vmat_apply(o, 1, T, 0, m, A, col, 1);
#pragma GCC unroll 8
        for (int a = 0; a < m; a++)
            s[a][k] = o[a];
    }
#pragma GCC unroll 8
    for (int a = 0; a < m; a++) {
        v16 y[AMAX];
        vmat_apply(y, 1, T, 0, m, A, s[a], 1);
        __mmask16 rm = _mm512_test_epi32_mask(rows, _mm512_set1_epi32(1 << a));
        __m512i ri = _mm512_add_epi32(idx, _mm512_set1_epi32(a * w));
#pragma GCC unroll 8
        for (int b = 0; b < m; b++) {
            __mmask16 k = rm & _mm512_test_epi32_mask(cols, _mm512_set1_epi32(1 << b));
            _mm512_mask_i32scatter_ps(base, k, _mm512_add_epi32(ri, _mm512_set1_epi32(b)),
                                      (__m512)(y[b] + b16), 4);
        }
    }
}

__attribute__((target("avx512f"), noinline)) static void
transform_scatter(float *base, const lane_map *L, int w, const float *M, size_t ms, int nt,
                  float bias, int A, int R)
{
#define CALL(a, r) transform_scatter_v(base, L, w, M, ms, nt, bias, a, a + 1 - r)
    WINO_VARIANTS(CALL, A, R);
#undef CALL
}

#else
static void transform_scatter(float *base, const lane_map *L, int w, const float *M, size_t ms,
                              int nt, float bias, int A, int R)
{
}
static void gather_transform(float *X, size_t xs, const float *base, const lane_map *L, int w,
                             int nt, int A, int R, int dout)
{
}
#endif

/* The vertical pass of the input or dout transform: X[xi * xs + t] =
 * (BT r)[xi] or (A r)[xi] over the n rows of r (alpha or m), for SEG
 * tiles, nt of them stored. */
CONV_INLINE void column_pass(float *X, size_t xs, float r[AMAX][AMAX][SEG], int nt, int A,
                             int m, int dout)
{
    float o[AMAX * AMAX][SEG];
    for (int k = 0; k < A; k++)
        for (int t = 0; t < SEG; t++) {
            if (dout)
                mat_apply(&o[k][t], A * SEG, at_of(A, m), 1, A, m, &r[0][k][t], AMAX * SEG);
            else
                mat_apply(&o[k][t], A * SEG, bt_of(A), 0, A, A, &r[0][k][t], AMAX * SEG);
        }
    for (int xi = 0; xi < A * A; xi++)
        copy_lanes(X + xi * xs, o[xi], nt);
}

/* The first half of the output transform of nt tiles (lanes past nt are
 * zero): s[a][k][t] = (AT M_t)[a][k], M_t's alpha^2 elements at M + xi*ms + t. */
CONV_INLINE void output_columns(float s[AMAX][AMAX][SEG], const float *M, size_t ms, int nt,
                                int A, int m)
{
    float mm[AMAX * AMAX][SEG];
    for (int xi = 0; xi < A * A; xi++) {
        copy_lanes(mm[xi], M + xi * ms, nt);
        for (int t = nt; t < SEG; t++)
            mm[xi][t] = 0.0f;
    }
    for (int k = 0; k < A; k++)
        for (int t = 0; t < SEG; t++)
            mat_apply(&s[0][k][t], AMAX * SEG, at_of(A, m), 0, m, A, &mm[k][t], A * SEG);
}

/* y[a][b][t] = (AT M_t A)[a][b] + bias, a, b < m. */
CONV_INLINE void output_tiles(float y[AMAX][AMAX][SEG], const float *M, size_t ms, int nt,
                              float bias, int A, int m)
{
    float s[AMAX][AMAX][SEG];
    output_columns(s, M, ms, nt, A, m);
    for (int a = 0; a < m; a++)
        for (int t = 0; t < SEG; t++) {
            float v[AMAX];
            mat_apply(v, 1, at_of(A, m), 0, m, A, &s[a][0][t], SEG);
            for (int b = 0; b < m; b++)
                y[a][b][t] = v[b] + bias;
        }
}

/* Input: X[xi * xs + l] = (BT d_l B)[xi], d_l the alpha x alpha patch (0
 * outside) of lane l of L in channel ch of img (n, nch, h, w); dout:
 * (A d_l A^T)[xi], d_l the m x m tile. l < nt. */
CONV_INLINE void input_gather(float *X, size_t xs, const float *img, const lane_map *L, int ch,
                              int h, int w, int nt, int A, int m, int dout)
{
    float d[AMAX][AMAX][SEG], r[AMAX][AMAX][SEG];
    int n = dout ? m : A; /* patch size */
    const float *plane = img + (size_t)ch * h * w;
    if (L->gather) {
        gather_transform(X, xs, plane + L->base, L, w, nt, A, A + 1 - m, dout);
        return;
    }
    for (int l = 0; l < SEG; l++) /* lane by lane; lanes past nt: rows = 0 */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                int ok = (L->rows[l] >> i) & (L->cols[l] >> j) & 1;
                d[i][j][l] = ok ? plane[L->off[l] + (long)i * w + j] : 0.0f;
            }
    for (int i = 0; i < n; i++)
        for (int t = 0; t < SEG; t++) {
            if (dout)
                mat_apply(&r[i][0][t], SEG, at_of(A, m), 1, A, m, &d[i][0][t], SEG);
            else
                mat_apply(&r[i][0][t], SEG, bt_of(A), 0, A, A, &d[i][0][t], SEG);
        }
    column_pass(X, xs, r, nt, A, m, dout);
}

/* The out tiles of the lanes of L (l < nt) in channel ch of img (n, nch,
 * oh, ow) = AT M_l A + bias, cropped to oh x ow. */
CONV_INLINE void output_scatter(float *img, const lane_map *L, int ch, int oh, int ow, int nt,
                                const float *M, size_t ms, float bias, int A, int m)
{
    float y[AMAX][AMAX][SEG];
    float *plane = img + (size_t)ch * oh * ow;
    if (L->gather) {
        transform_scatter(plane + L->base, L, ow, M, ms, nt, bias, A, A + 1 - m);
        return;
    }
    output_tiles(y, M, ms, nt, bias, A, m);
    for (int l = 0; l < nt; l++) {
        float *p = plane + L->off[l];
        if (L->inside[l]) {
            for (int a = 0; a < m; a++)
                for (int b = 0; b < m; b++)
                    p[(size_t)a * ow + b] = y[a][b][l];
            continue;
        }
        int y0 = L->y0[l], x0 = L->x0[l];
        int ny = oh - y0 < m ? oh - y0 : m, nx = ow - x0 < m ? ow - x0 : m;
        for (int a = 0; a < ny; a++)
            for (int b = 0; b < nx; b++)
                p[(size_t)a * ow + b] = y[a][b][l];
    }
}

/* Segments of the chunk rather than of tile rows when a row segment would
 * leave half the lanes idle or more (measured, VGG-16 b16 CPU ms fwd/bwd:
 * 27x27 (7 tiles a row) 167/336 -> 155/318, 13x13 66/136 -> 57/120; but
 * 55x55 (14 a row) 174/350 -> 180/369, so it stays on row segments), and
 * always for odd m (alpha 7): GCC leaves the stride-3 and stride-5 row
 * reads and writes of row segments scalar (AlexNet conv2, F(3x3, 5x5), 9
 * tiles a row, b32 CPU ms fwd/bwd: rows 41/109, gathered 30/75). With
 * AVX-512 (has_gather: fused gathers, transforms and scatters) every map
 * is gathered: VGG-16 b16 CPU ms fwd/bwd, rows vs gathered, conv1_2
 * 279-298/604-656 vs 248-269/533-579, conv3_2 167/348 vs 149/286, conv2_x
 * the same within noise (conv2_1 121-132/249-277 vs 125-127/253-264). */
static int gathered(const conv_dims *d)
{
    return 2 * tiles_x(d) <= SEG || tile_m(d) % 2 || has_gather();
}

/* One pass over (channel, segment) pairs of the chunk [g0, g1), in blocks
 * of SEG_BLOCK segments: i = block * SEG_BLOCK * nch + ch * sb + s for
 * segment block * SEG_BLOCK + s (sb: the block's segments), so a block's
 * lane maps serve all its channels, and each channel's writes to X run over
 * sb * SEG consecutive tiles. (Segment-major order, a map shared by all
 * channels, was 20-30% slower on large chunks: VGG-16 conv2_2 on gathered
 * segments, writes T floats apart.) */
#define SEG_BLOCK 8
CONV_INLINE void tile_segs_m(const tile_job *J, int i0, int i1, int A, int m)
{
    const conv_dims *d = J->d;
    int nty = tiles_y(d), ntx = tiles_x(d);
    int nch = J->kind == TILE_INPUT ? d->c : d->k;
    int h = J->kind == TILE_INPUT ? d->h : d->oh, w = J->kind == TILE_INPUT ? d->w : d->ow;
    int py = J->kind == TILE_INPUT ? d->ph : 0, px = J->kind == TILE_INPUT ? d->pw : 0;
    int n = J->kind == TILE_INPUT ? A : m;
    size_t xs = (size_t)nch * J->T;
    int nseg = (int)((J->T + SEG - 1) / SEG), have = -1, gather = has_gather();
    lane_map L[SEG_BLOCK];
    for (int i = i0; i < i1; i++) {
        int blk = i / (SEG_BLOCK * nch), r = i % (SEG_BLOCK * nch);
        int sb = nseg - blk * SEG_BLOCK < SEG_BLOCK ? nseg - blk * SEG_BLOCK : SEG_BLOCK;
        int ch = r / sb, s = r % sb, t0 = (blk * SEG_BLOCK + s) * SEG;
        int nt = (int)J->T - t0 < SEG ? (int)J->T - t0 : SEG;
        if (blk != have) { /* the block's maps */
            for (int q = 0; q < sb; q++) {
                int tq = (blk * SEG_BLOCK + q) * SEG;
                int nq = (int)J->T - tq < SEG ? (int)J->T - tq : SEG;
                lane_map_of(&L[q], nch, h, w, py, px, n, nty, ntx, J->g0, tq, nq, m);
                L[q].gather = L[q].near && gather;
            }
            have = blk;
        }
        float *x = J->X + (size_t)ch * J->T + t0;
        if (J->kind == TILE_OUTPUT)
            output_scatter(J->img, &L[s], ch, h, w, nt, x, xs, J->bias ? J->bias[ch] : 0.0f, A,
                           m);
        else
            input_gather(x, xs, J->img, &L[s], ch, h, w, nt, A, m, J->kind == TILE_DOUT);
    }
}

CONV_CLONES static void tile_segs(void *arg, int i0, int i1)
{
    const tile_job *J = arg;
#define CALL(a, r) tile_segs_m(J, i0, i1, a, a + 1 - r)
    WINO_VARIANTS(CALL, wino_alpha(J->d), J->d->kh);
#undef CALL
}

/* TILE_INPUT: X[xi][c][t] = input patches of src (n, c, h, w) (grid of d);
 * TILE_DOUT: X[xi][o][t] = dout tiles of src (n, k, oh, ow);
 * TILE_OUTPUT: the out (n, k, oh, ow) tiles of rows [g0, g1) from X[xi][o][t]. */
static void tiles(float *X, size_t T, int kind, const float *img, const float *bias,
                  const conv_dims *d, int g0, int g1, int threads)
{
    tile_job J = {X, T, kind, (float *)img, bias, d, g0, g1};
    int nch = kind == TILE_INPUT ? d->c : d->k;
    if (gathered(d))
        parallel_for(threads, nch * (int)((T + SEG - 1) / SEG), tile_segs, &J);
    else
        parallel_for(threads, nch * (g1 - g0), tile_rows, &J);
}

/* The alpha^2 products of a chunk: C[xi] (m, n) = A[xi] @ op(B[xi]) + beta C[xi],
 * op = transpose when transb (B[xi] then (n, kk)), else B[xi] is (kk, n).
 * Split over `threads` threads by xi, each GEMM on one OpenBLAS thread
 * (openblas_set_num_threads(1) for the duration, then restored): 36 or 49
 * independent GEMMs divide evenly, and no OpenBLAS thread spins or waits
 * on another. STRATA_CONV_BLAS_THREADS=1 in the environment instead lets
 * OpenBLAS thread each GEMM (for comparison). */
typedef struct gemm_job {
    const float *A, *B;
    float *C;
    size_t as, bs, cs; /* strides between xi */
    int m, n, kk, transb;
    float beta;
    int count; /* alpha^2 */
} gemm_job;

static void gemm_range(void *arg, int x0, int x1)
{
    const gemm_job *J = arg;
    int lda = J->kk, ldb = J->transb ? J->kk : J->n, ldc = J->n;
    for (int xi = x0; xi < x1; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, J->transb ? CblasTrans : CblasNoTrans, J->m,
                    J->n, J->kk, 1.0f, J->A + xi * J->as, lda, J->B + xi * J->bs, ldb, J->beta,
                    J->C + xi * J->cs, ldc);
}

static void gemm_all(const gemm_job *J, int threads)
{
    static int blas_threads = -1;
    if (blas_threads < 0) {
        const char *e = getenv("STRATA_CONV_BLAS_THREADS");
        blas_threads = e && *e == '1';
    }
    if (blas_threads || threads <= 1) {
        gemm_range((void *)J, 0, J->count);
        return;
    }
    int keep = openblas_get_num_threads();
    openblas_set_num_threads(1);
    parallel_for(threads, J->count, gemm_range, (void *)J);
    openblas_set_num_threads(keep);
}

/* One chunk [g0, g1) on the calling thread alone: its transforms, its
 * alpha^2 GEMMs (on one OpenBLAS thread: the caller set it) and the output. */
static void chunk_alone(const conv_dims *d, const float *in, const float *U, const float *bias,
                        float *out, float *work, int g0, int g1)
{
    int ntx = tiles_x(d), seg = gathered(d);
    size_t T = (size_t)(g1 - g0) * ntx, KC = (size_t)d->k * d->c;
    int nseg = (int)((T + SEG - 1) / SEG);
    int aa = tile_elems(d);
    float *V = work, *M = work + aa * (size_t)d->c * T;
    tile_job In = {V, T, TILE_INPUT, (float *)in, NULL, d, g0, g1};
    if (seg)
        tile_segs(&In, 0, d->c * nseg);
    else
        tile_rows(&In, 0, d->c * (g1 - g0));
    gemm_job J = {U, V, M, KC, (size_t)d->c * T, (size_t)d->k * T, d->k, (int)T, d->c, 0, 0.0f, aa};
    gemm_range(&J, 0, aa);
    tile_job O = {M, T, TILE_OUTPUT, out, bias, d, g0, g1};
    if (seg)
        tile_segs(&O, 0, d->k * nseg);
    else
        tile_rows(&O, 0, d->k * (g1 - g0));
}

/* Pipelined: the tile rows split into a fixed number of groups (G, not
 * the thread count: results do not depend on threads), each group's rows
 * run in small chunks on one thread alone (chunk_alone), so a chunk's V and
 * M stay in that core's cache between the transforms and the GEMMs, with no
 * fork-join per step. Worker w of `workers` takes groups
 * [G*w/workers, G*(w+1)/workers), with its own work area. */
#define PIPE_GROUPS 8
typedef struct pipe_job {
    const conv_dims *d;
    const float *in, *U, *bias;
    float *out, *work;
    int rows, R, groups, workers;
    size_t per; /* floats of work per worker */
} pipe_job;

/* Tile rows [*r0, *r1) of group g. */
static void group_rows(int rows, int groups, int g, int *r0, int *r1)
{
    *r0 = (int)((long)rows * g / groups);
    *r1 = (int)((long)rows * (g + 1) / groups);
}

static void pipe_part(void *arg, int w0, int w1)
{
    const pipe_job *P = arg;
    for (int w = w0; w < w1; w++)
        for (int g = P->groups * w / P->workers; g < P->groups * (w + 1) / P->workers; g++) {
            int r0, r1;
            group_rows(P->rows, P->groups, g, &r0, &r1);
            for (int g0 = r0; g0 < r1; g0 += P->R)
                chunk_alone(P->d, P->in, P->U, P->bias, P->out, P->work + w * P->per, g0,
                            g0 + P->R < r1 ? g0 + P->R : r1);
        }
}

/* Tile rows per pipelined chunk: V and M within PIPE_BYTES (a core's L2
 * holds them), at least one row and at most the chunk_rows of the scratch;
 * 0: not pipelined. 3x3 kernels only for c + k <= 128: measured (VGG-16
 * b16, wall ms fwd/bwd, back to back, F(4x4, 3x3)) conv1_2 (64 -> 64, 224
 * px) 157/324 -> 141/316, conv2_1 (64 -> 128) no change, conv3_2 (256 ->
 * 256) 80/157 -> 123/206 (36 GEMMs of 256x256x14 tiles are too small);
 * AlexNet's 13x13 conv3-5 (c + k = 320..384) slower too (b32 CPU ms fwd
 * 13-18 -> 16-24). 5x5 kernels for c + k <= 256: V and M hold 9 floats per
 * output with F(2x2, 5x5), 5.4 with F(3x3, 5x5) (2.25 for F(4x4, 3x3)), so
 * staying in L2 pays more: AlexNet conv2 (48 -> 128) b32 CPU ms fwd/bwd,
 * F(2x2, 5x5), 47-56/103-117 -> 42-43/97-100 (1 MiB chunks 51/110, 4 MiB
 * 41/99, 8 MiB 46/101); F(3x3, 5x5) wall ms not pipelined 16/40-47, 1 MiB
 * chunks 17-18/41-44, 2 MiB 15-16/38-41, 4 MiB 14-15/37-40. Not measured
 * above c + k = 176. */
/* Re-measured with the fused AVX-512 transforms (CPU ms fwd/bwd, loaded
 * machine, 2 / 4 / 8 MiB): VGG-16 conv1_2 b16 241-248/520-533,
 * 253-255/539-545, 311-315/614; AlexNet conv2 b32 22.0/51.9, 19.8/48.5,
 * 23.3/51.4, but 4 MiB for 5x5 kernels takes t/test_conv_fast's 24x32x31
 * dweight (double reference) to 1.08e-5, over its 1e-5 bound: kept at 2. */
#define PIPE_BYTES ((size_t)2 << 20)
static int pipe_rows(const conv_dims *d, int n)
{
    if (d->c + d->k > (d->kh == 5 ? 256 : 128))
        return 0;
    size_t row = tile_elems(d) * (size_t)(d->c + d->k) * tiles_x(d);
    size_t r = PIPE_BYTES / (sizeof(float) * row), most = (size_t)chunk_rows(d, n);
    if (r < 1)
        r = 1;
    return (int)(r < most ? r : most);
}

/* Workers that fit: min(threads, groups, areas of `per` floats in `have`). */
static int pipe_workers(int threads, int groups, size_t have, size_t per)
{
    size_t fit = have / per;
    int w = threads < groups ? threads : groups;
    return (size_t)w < fit ? w : (int)fit;
}

static int pipe_groups(int rows) { return rows < PIPE_GROUPS ? rows : PIPE_GROUPS; }

/* out = conv(in, the kernel whose transforms are U[xi] (k, c)) + bias. */
static void wino_conv(const conv_dims *d, int n, const float *in, const float *U,
                      const float *bias, float *out, float *work, int threads)
{
    int ntx = tiles_x(d), rows = n * tiles_y(d), R = chunk_rows(d, n);
    size_t KC = (size_t)d->k * d->c;
    int pr = pipe_rows(d, n), G = pipe_groups(rows);
    if (pr > 0) { /* chunk_rows >= pr: one worker always fits */
        size_t per = tile_elems(d) * (size_t)(d->c + d->k) * pr * ntx;
        pipe_job P = {d, in, U, bias, out, work, rows, pr, G,
                      pipe_workers(threads, G, pass_floats(d, n), per), per};
        int keep = openblas_get_num_threads();
        openblas_set_num_threads(1);
        parallel_for(P.workers, P.workers, pipe_part, &P);
        openblas_set_num_threads(keep);
        return;
    }
    for (int g0 = 0; g0 < rows; g0 += R) {
        int g1 = g0 + R < rows ? g0 + R : rows;
        size_t T = (size_t)(g1 - g0) * ntx;
        float *V = work, *M = work + tile_elems(d) * (size_t)d->c * T;
        tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, threads);
        gemm_job J = {U,    V,     M,    KC,   (size_t)d->c * T, (size_t)d->k * T,
                      d->k, (int)T, d->c, 0,    0.0f,             tile_elems(d)};
        gemm_all(&J, threads);
        tiles(M, T, TILE_OUTPUT, out, bias, d, g0, g1, threads);
    }
}

void conv_winograd_forward(const conv_dims *d, int n, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, int threads)
{
    float *U = scratch, *work = scratch + u_floats(d);
    weight_tiles(U, weight, d, 0, threads);
    wino_conv(d, n, in, U, bias, out, work, threads);
}

/* Backward-weights over tile rows [g0, g1) on the calling thread alone:
 * dU (+)= E V^T (beta 0 when first), dbias (+)= the tiles' sums. */
static void grad_chunk_alone(const conv_dims *d, const float *in, const float *dout, float *dU,
                             float *dbias, float *work, int g0, int g1, int first)
{
    int ntx = tiles_x(d), seg = gathered(d);
    size_t T = (size_t)(g1 - g0) * ntx, KC = (size_t)d->k * d->c;
    int nseg = (int)((T + SEG - 1) / SEG);
    int aa = tile_elems(d);
    float *V = work, *E = work + aa * (size_t)d->c * T;
    tile_job In = {V, T, TILE_INPUT, (float *)in, NULL, d, g0, g1};
    tile_job Dy = {E, T, TILE_DOUT, (float *)dout, NULL, d, g0, g1};
    if (seg) {
        tile_segs(&In, 0, d->c * nseg);
        tile_segs(&Dy, 0, d->k * nseg);
    } else {
        tile_rows(&In, 0, d->c * (g1 - g0));
        tile_rows(&Dy, 0, d->k * (g1 - g0));
    }
    if (dbias)
        conv_bias_backward(dbias, E + bias_elem(d) * (size_t)d->k * T, 1, d->k, T, 1);
    gemm_job J = {E, V, dU, (size_t)d->k * T, (size_t)d->c * T, KC, d->k, d->c, (int)T, 1,
                  first ? 0.0f : 1.0f, aa};
    gemm_range(&J, 0, aa);
}

/* Pipelined backward-weights: group g's tile rows into its own dU (g = 0:
 * the real one; others: extra (alpha^2 k c) buffers after the workers' areas)
 * and its own dbias (k floats), added in group order after: the sums do not
 * depend on the thread count. */
typedef struct grad_pipe {
    const conv_dims *d;
    const float *in, *dout;
    float *dU, *dbias, *work, *extra;
    int rows, R, groups, workers;
    size_t per;
} grad_pipe;

static size_t grad_extra(const conv_dims *d) { return tile_elems(d) * (size_t)d->k * d->c + d->k; }

static void grad_part(void *arg, int w0, int w1)
{
    const grad_pipe *P = arg;
    size_t KC = (size_t)P->d->k * P->d->c;
    for (int w = w0; w < w1; w++)
        for (int g = P->groups * w / P->workers; g < P->groups * (w + 1) / P->workers; g++) {
            int r0, r1;
            group_rows(P->rows, P->groups, g, &r0, &r1);
            float *dU = g ? P->extra + (g - 1) * grad_extra(P->d) : P->dU;
            float *db = dU + tile_elems(P->d) * KC; /* group 0's unused: it adds to dbias */
            if (g)
                memset(db, 0, sizeof(float) * P->d->k);
            if (r0 == r1)
                memset(dU, 0, sizeof(float) * tile_elems(P->d) * KC);
            for (int g0 = r0; g0 < r1; g0 += P->R)
                grad_chunk_alone(P->d, P->in, P->dout, dU,
                                 P->dbias ? (g ? db : P->dbias) : NULL, P->work + w * P->per,
                                 g0, g0 + P->R < r1 ? g0 + P->R : r1, g0 == r0);
        }
}

/* dU (+ dbias) += groups 1..G-1's partial sums, added in group order for
 * every element (the same bits on any thread count), blocks of elements
 * split between threads (single-threaded it took ~1 ms of AlexNet conv2's
 * backward: 7 x 1.2 MB). */
#define SUM_BLOCK 4096
static void group_sum_range(void *arg, int b0, int b1)
{
    const grad_pipe *P = arg;
    size_t aakc = tile_elems(P->d) * (size_t)P->d->k * P->d->c, ex = grad_extra(P->d);
    size_t i0 = (size_t)b0 * SUM_BLOCK, i1 = (size_t)b1 * SUM_BLOCK;
    i1 = i1 < aakc ? i1 : aakc;
    for (int g = 1; g < P->groups; g++) {
        const float *x = P->extra + (g - 1) * ex;
        for (size_t i = i0; i < i1; i++)
            P->dU[i] += x[i];
    }
}

static void group_sum(const grad_pipe *P, int threads)
{
    size_t aakc = tile_elems(P->d) * (size_t)P->d->k * P->d->c;
    parallel_for(threads, (int)((aakc + SUM_BLOCK - 1) / SUM_BLOCK), group_sum_range, (void *)P);
    for (int g = 1; g < P->groups; g++)
        for (int o = 0; P->dbias && o < P->d->k; o++)
            P->dbias[o] += P->extra[(g - 1) * grad_extra(P->d) + aakc + o];
}

void conv_winograd_backward(const conv_dims *d, int n, const float *in, const float *dout,
                            const float *weight, float *dweight, float *dbias, float *din,
                            float *scratch, int threads)
{
    int ntx = tiles_x(d), rows = n * tiles_y(d), R = chunk_rows(d, n);
    size_t KC = (size_t)d->k * d->c;
    size_t aa = tile_elems(d);
    float *dU = scratch, *work = scratch + u_floats(d);
    int pr = pipe_rows(d, n), G = pipe_groups(rows), workers = 0;
    size_t per = aa * (d->c + d->k) * pr * ntx, extra = (G - 1) * grad_extra(d);
    if (pr > 0 && pass_floats(d, n) >= extra + per)
        workers = pipe_workers(threads, G, pass_floats(d, n) - extra, per);
    if (workers > 0) {
        grad_pipe P = {d, in, dout, dU, dbias, work, work + pass_floats(d, n) - extra, rows, pr, G,
                       workers, per};
        int keep = openblas_get_num_threads();
        openblas_set_num_threads(1);
        parallel_for(workers, workers, grad_part, &P);
        openblas_set_num_threads(keep);
        group_sum(&P, threads);
    } else
        for (int g0 = 0; g0 < rows; g0 += R) {
            int g1 = g0 + R < rows ? g0 + R : rows;
            size_t T = (size_t)(g1 - g0) * ntx;
            float *V = work, *E = work + aa * d->c * T;
            tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, threads);
            tiles(E, T, TILE_DOUT, dout, NULL, d, g0, g1, threads);
            if (dbias) /* E[alpha + 1] = (A dY A^T)[1][1]: each tile's sum (0 past the edge) */
                conv_bias_backward(dbias, E + bias_elem(d) * (size_t)d->k * T, 1, d->k, T,
                                   threads);
            gemm_job J = {E, V, dU, (size_t)d->k * T, (size_t)d->c * T, KC, d->k, d->c, (int)T, 1,
                          g0 ? 1.0f : 0.0f, (int)aa};
            gemm_all(&J, threads);
        }
    weight_grad(dweight, dU, d, threads);
    if (!din)
        return;
    conv_dims e = data_pass(d);
    weight_tiles(dU, weight, d, 1, threads);
    wino_conv(&e, n, dout, dU, NULL, din, work, threads);
}
