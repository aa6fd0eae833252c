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
 * and vmat_apply8 (AVX2) to a column of vectors of lanes, with the same
 * operations in the same order; WINO_VARIANTS compiles a function once per (alpha, r), so each
 * gets its tables folded into the code. */
#ifndef STRATA_CONV_WINOGRAD_MATRICES_H
#define STRATA_CONV_WINOGRAD_MATRICES_H
#include <stdlib.h>
#include <string.h>
#include "common/simd.h"
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

/* ---- vectors of lanes ---------------------------------------------------- */

/* The fused transforms run in functions written for AVX-512 (SEG lanes a
 * vector, masked gathers and scatters) and for AVX2 (SEG/2 lanes a vector,
 * masked row loads and stores with 8x8 transposes: AVX2 gathers are slow
 * on Zen 3), chosen by strata_isa(); the baseline runs the generic loops.
 * All do the same operations in the same order (vmat_apply mirrors
 * mat_apply; -ffp-contract=off keeps FMA out): the same bits on every level
 * (t/test_conv_isa compares them). */
#if STRATA_X86_DISPATCH
#define WINO_SIMD 1
#include <immintrin.h>
#define AVX512_INLINE STRATA_INLINE STRATA_TARGET_AVX512
#define AVX2_INLINE STRATA_INLINE STRATA_TARGET_AVX2

/* mat_apply on vectors: o[i * os] = sum_j T[i][j] x[j * xs] (or T^T);
 * one per vector type, each compiled at its level. */
#define WINO_VMAT_APPLY(name, vec, attr)                                             \
    attr void name(vec *o, int os, matrix T, int trans, int rows, int cols,        \
                   const vec *x, int xs)                                            \
    {                                                                               \
        vec in[AMAX];                                                               \
        _Pragma("GCC unroll 8") for (int j = 0; j < cols; j++) in[j] = x[j * xs];   \
        _Pragma("GCC unroll 8") for (int i = 0; i < rows; i++)                      \
        {                                                                           \
            vec s = -(vec){0}; /* -0.0f in every lane, as mat_apply */            \
            _Pragma("GCC unroll 8") for (int j = 0; j < cols; j++)                  \
            {                                                                       \
                float t = trans ? T[j][i] : T[i][j];                                \
                if (t != 0.0f)                                                      \
                    s += t * in[j];                                                 \
            }                                                                       \
            o[i * os] = s;                                                          \
        }                                                                           \
    }
WINO_VMAT_APPLY(vmat_apply, v16f, AVX512_INLINE)
WINO_VMAT_APPLY(vmat_apply8, v8f, AVX2_INLINE)
#else
#define WINO_SIMD 0
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
