/* conv_winograd_matrices.h — private to conv_winograd*.c: the transform
 * matrices of the four algorithms and the loops that apply them.
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
 * (the tables below hold all of them). The kernel transform is G g G^T, the
 * input transform BT d B, the output transform AT M A, and the dout
 * transform of backward-weights A dY A^T.
 * mat_apply applies one of them to a column of floats, vmat_apply (AVX-512)
 * to a column of vectors of SEG lanes, with the same operations in the same
 * order; WINO_VARIANTS compiles a function once per (alpha, r), so each
 * gets its tables folded into the code. */
#ifndef STRATA_CONV_WINOGRAD_MATRICES_H
#define STRATA_CONV_WINOGRAD_MATRICES_H
#include <stdlib.h>
#include <string.h>
#include "conv_winograd_impl.h"

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
static inline int has_gather(void)
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
static inline int has_gather(void) { return 0; }
#endif

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
#endif
