/* conv_winograd_tiles.c — the tile transforms of conv_winograd, over a
 * chunk of tile rows (see conv_winograd_impl.h for the layout):
 *   input:  V[xi][c][t] = (BT d_t B)[xi]     d_t the alpha x alpha patch
 *   dout:   E[xi][o][t] = (A dY_t A^T)[xi]   dY_t the m x m dout tile
 *   output: out tile t  = AT M[.][o][t] A + bias[o], cropped to oh x ow
 * (BT, AT, A = AT^T: conv_winograd_matrices.h). The transforms work on SEG
 * tiles at once, vectorised across tiles: SEG tiles along one tile row
 * (row segments), or, on maps with at most SEG/2 tiles a row (and for odd
 * m), SEG consecutive tiles of the chunk (gathered segments: each lane
 * gathering its own patch); at the AVX-512 level, on CPUs with fast
 * gathers (strata_cpu_fast_gather), every map takes gathered segments (see
 * gathered()). At the AVX2 and AVX-512 levels gathered segments run with
 * the loads, transforms and stores fused in registers (the AVX-512 and
 * AVX2 functions below; fused() says which). The tile functions take
 * alpha and m as arguments and are inlined where they are constants
 * (tile_rows, tile_segs), so each algorithm gets loops of constant trip
 * counts and its transform tables folded into the code. */
#include <stdlib.h>
#include <string.h>
#include "common/parallel.h"
#include "conv_winograd_impl.h"
#include "conv_winograd_matrices.h"

/* ---- tiles: helpers ------------------------------------------------------ */

/* Copy row y of plane (h, w) at columns [x0, x0 + len) into dst, 0 outside.
 * Plain loops: libc's memcpy/memset here leave stores that the vector loads
 * right after cannot forward from, and those loads stall. */
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
 * row segments GCC vectorises these across tiles, but not mat_apply's (it
 * reuses the overlapping loads of neighbouring tiles across loop
 * iterations), and they beat the tables with or without a de-interleaving
 * copy first (timings: bench/README.md, "Tuning notes from the kernels"). */
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

STRATA_MULTIVERSION(void, tile_rows, (void *arg, int i0, int i1), (arg, i0, i1))
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
enum { FUSE_GATHERS = 1, FUSE_ROWS = 2 }; /* lane_map.gather: see fused() */
typedef struct lane_map {
    long off[SEG]; /* lane l's patch origin: b*nch*h*w + y0*w + x0 */
    int y0[SEG], x0[SEG];
    int inside[SEG]; /* the whole n x n patch lies in the plane */
    long base;       /* b*nch*h*w of lane 0's image */
    int idx[SEG];    /* off - base: the gather's indices */
    int rows[SEG], cols[SEG]; /* bit i: patch row (column) i lies in the plane */
    int near;        /* all idx fit an int */
    int gather;      /* the fused transforms (if near): FUSE_ROWS, FUSE_GATHERS or 0 */
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
 * Called, not inlined, when strata_isa() is AVX-512. */
#if WINO_SIMD
AVX512_INLINE void gather_transform_v(float *X, size_t xs, const float *base, const lane_map *L,
                                      int w, int nt, int A, int m, int dout)
{
    int n = dout ? m : A;
    matrix T = dout ? at_of(A, m) : bt_of(A);
    __m512i idx = _mm512_loadu_si512(L->idx), rows = _mm512_loadu_si512(L->rows),
            cols = _mm512_loadu_si512(L->cols);
    __mmask16 keep = nt >= SEG ? (__mmask16)0xFFFF : (__mmask16)((1u << nt) - 1);
    v16f r[AMAX][AMAX];
#pragma GCC unroll 8
    for (int i = 0; i < n; i++) {
        __mmask16 rm = _mm512_test_epi32_mask(rows, _mm512_set1_epi32(1 << i));
        __m512i ri = _mm512_add_epi32(idx, _mm512_set1_epi32(i * w));
        v16f d[AMAX];
#pragma GCC unroll 8
        for (int j = 0; j < n; j++) {
            __mmask16 k = rm & _mm512_test_epi32_mask(cols, _mm512_set1_epi32(1 << j));
            d[j] = (v16f)_mm512_mask_i32gather_ps(_mm512_setzero_ps(), k,
                                                 _mm512_add_epi32(ri, _mm512_set1_epi32(j)),
                                                 base, 4);
        }
        vmat_apply(r[i], 1, T, dout, A, n, d, 1);
    }
#pragma GCC unroll 8
    for (int k = 0; k < A; k++) {
        v16f o[AMAX];
        vmat_apply(o, 1, T, dout, A, n, &r[0][k], AMAX);
#pragma GCC unroll 8
        for (int l = 0; l < A; l++)
            _mm512_mask_storeu_ps(X + (l * A + k) * xs, keep, (__m512)o[l]);
    }
}

STRATA_TARGET_AVX512 __attribute__((noinline)) static void
gather_transform_avx512(float *X, size_t xs, const float *base, const lane_map *L, int w, int nt, int A,
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
 * operations in the same order as output_tiles' loops. The transform in
 * registers is what pays: a masked scatter alone, after output_tiles'
 * loops, was no faster than scalar stores. */
AVX512_INLINE void transform_scatter_v(float *base, const lane_map *L, int w, const float *M,
                                       size_t ms, int nt, float bias, int A, int m)
{
    matrix T = at_of(A, m);
    __m512i idx = _mm512_loadu_si512(L->idx), rows = _mm512_loadu_si512(L->rows),
            cols = _mm512_loadu_si512(L->cols);
    __mmask16 keep = nt >= SEG ? (__mmask16)0xFFFF : (__mmask16)((1u << nt) - 1);
    v16f s[AMAX][AMAX], b16 = {0};
    b16 += bias;
#pragma GCC unroll 8
    for (int k = 0; k < A; k++) {
        v16f col[AMAX];
#pragma GCC unroll 8
        for (int l = 0; l < A; l++)
            col[l] = (v16f)_mm512_maskz_loadu_ps(keep, M + (l * A + k) * ms);
        v16f o[AMAX];
        vmat_apply(o, 1, T, 0, m, A, col, 1);
#pragma GCC unroll 8
        for (int a = 0; a < m; a++)
            s[a][k] = o[a];
    }
#pragma GCC unroll 8
    for (int a = 0; a < m; a++) {
        v16f y[AMAX];
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

STRATA_TARGET_AVX512 __attribute__((noinline)) static void
transform_scatter_avx512(float *base, const lane_map *L, int w, const float *M, size_t ms, int nt,
                  float bias, int A, int R)
{
#define CALL(a, r) transform_scatter_v(base, L, w, M, ms, nt, bias, a, a + 1 - r)
    WINO_VARIANTS(CALL, A, R);
#undef CALL
}

/* ---- AVX2: half a segment (8 lanes) a vector ----------------------------- */

/* t[j][l] = r[l][j]: the 8x8 transpose (unpack, shuffle, swap halves). */
AVX2_INLINE void transpose8(v8f t[8], const v8f r[8])
{
    __m256 a[8], b[8];
    for (int p = 0; p < 8; p += 2) {
        a[p] = _mm256_unpacklo_ps((__m256)r[p], (__m256)r[p + 1]);
        a[p + 1] = _mm256_unpackhi_ps((__m256)r[p], (__m256)r[p + 1]);
    }
    for (int q = 0; q < 8; q += 4) { /* columns j, j + 4 of rows q..q+3 */
        b[q] = _mm256_shuffle_ps(a[q], a[q + 2], 0x44);
        b[q + 1] = _mm256_shuffle_ps(a[q], a[q + 2], 0xEE);
        b[q + 2] = _mm256_shuffle_ps(a[q + 1], a[q + 3], 0x44);
        b[q + 3] = _mm256_shuffle_ps(a[q + 1], a[q + 3], 0xEE);
    }
    for (int j = 0; j < 4; j++) {
        t[j] = (v8f)_mm256_permute2f128_ps(b[j], b[j + 4], 0x20);
        t[j + 4] = (v8f)_mm256_permute2f128_ps(b[j], b[j + 4], 0x31);
    }
}

/* The mask of the 8 floats of a patch row: j-th set where bit j of bits. */
AVX2_INLINE __m256i bits_mask8(int bits)
{
    __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(bits), bit), bit);
}

/* Lanes [0, n) of 8 set. */
AVX2_INLINE __m256i lanes_mask8(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* p[0..n) = v[0..n), n <= 5, by at most two plain stores. */
AVX2_INLINE void store_first(float *p, v8f v, int n)
{
    __m128 lo = _mm256_castps256_ps128((__m256)v);
    if (n >= 4) {
        _mm_storeu_ps(p, lo);
        if (n == 5)
            p[4] = v[4];
    } else if (n >= 2) {
        _mm_storel_pi((__m64 *)p, lo);
        if (n == 3)
            p[2] = v[2];
    } else
        p[0] = v[0];
}

/* dst[0..n) = v[0..n): one plain store for all 8, else element by element
 * (AMD's vmaskmovps stores are slow). */
AVX2_INLINE void store_lanes8(float *dst, v8f v, int n)
{
    if (n >= 8)
        *(v8fu *)dst = v;
    else
        for (int l = 0; l < n; l++)
            dst[l] = v[l];
}

/* gather_transform_v on AVX2 for lanes [h0, h0 + 8) of L: row i of each
 * lane's patch by one masked load (columns j < n inside the plane, nothing
 * where row i is outside), transposed to d[j] (lanes), then the same
 * passes as gather_transform_v; X[xi xs + h0 + l] for lanes l < nt - h0. */
AVX2_INLINE void gather_transform8_v(float *X, size_t xs, const float *base, const lane_map *L,
                                     int h0, int w, int nt, int A, int m, int dout)
{
    int n = dout ? m : A, nl = nt - h0;
    matrix T = dout ? at_of(A, m) : bt_of(A);
    v8f r[AMAX][AMAX];
#pragma GCC unroll 8
    for (int i = 0; i < n; i++) {
        v8f row[8], d[8];
        for (int l = 0; l < 8; l++) {
            int q = h0 + l, bits = (L->rows[q] >> i) & 1 ? L->cols[q] & ((1 << n) - 1) : 0;
            row[l] = (v8f)_mm256_maskload_ps(base + L->idx[q] + (long)i * w, bits_mask8(bits));
        }
        transpose8(d, row);
        vmat_apply8(r[i], 1, T, dout, A, n, d, 1);
    }
#pragma GCC unroll 8
    for (int k = 0; k < A; k++) {
        v8f o[AMAX];
        vmat_apply8(o, 1, T, dout, A, n, &r[0][k], AMAX);
#pragma GCC unroll 8
        for (int l = 0; l < A; l++)
            store_lanes8(X + (l * A + k) * xs + h0, o[l], nl);
    }
}

STRATA_TARGET_AVX2 __attribute__((noinline)) static void
gather_transform_avx2(float *X, size_t xs, const float *base, const lane_map *L, int w, int nt,
                      int A, int R, int dout)
{
    for (int h0 = 0; h0 < nt; h0 += 8) {
#define CALL(a, r) gather_transform8_v(X, xs, base, L, h0, w, nt, a, a + 1 - r, 0)
#define CALL_DOUT(a, r) gather_transform8_v(X, xs, base, L, h0, w, nt, a, a + 1 - r, 1)
        if (dout)
            WINO_VARIANTS(CALL_DOUT, A, R);
        else
            WINO_VARIANTS(CALL, A, R);
#undef CALL
#undef CALL_DOUT
    }
}

/* transform_scatter_v on AVX2 for lanes [h0, h0 + 8): the same passes on 8
 * lanes, then each output row a transposed back to one row per lane and
 * stored by a masked store (columns inside the plane, rows inside). */
AVX2_INLINE void transform_scatter8_v(float *base, const lane_map *L, int h0, int w,
                                      const float *M, size_t ms, int nt, float bias, int A, int m)
{
    matrix T = at_of(A, m);
    int nl = nt - h0 < 8 ? nt - h0 : 8;
    __m256i keep = lanes_mask8(nl);
    v8f s[AMAX][AMAX];
#pragma GCC unroll 8
    for (int k = 0; k < A; k++) {
        v8f col[AMAX], o[AMAX];
#pragma GCC unroll 8
        for (int l = 0; l < A; l++) {
            const float *x = M + (l * A + k) * ms + h0;
            col[l] = nl == 8 ? (v8f) * (const v8fu *)x : (v8f)_mm256_maskload_ps(x, keep);
        }
        vmat_apply8(o, 1, T, 0, m, A, col, 1);
#pragma GCC unroll 8
        for (int a = 0; a < m; a++)
            s[a][k] = o[a];
    }
#pragma GCC unroll 8
    for (int a = 0; a < m; a++) {
        v8f y[8] = {0}, t[8];
        vmat_apply8(y, 1, T, 0, m, A, s[a], 1);
#pragma GCC unroll 8
        for (int b = 0; b < m; b++)
            y[b] += bias;
        transpose8(t, y);
        for (int l = 0; l < nl; l++) {
            int q = h0 + l;
            if (!((L->rows[q] >> a) & 1))
                continue;
            float *p = base + L->idx[q] + (long)a * w;
            if (L->cols[q] == (1 << m) - 1) /* plain stores: AMD's vmaskmovps stores are slow */
                store_first(p, t[l], m);
            else
                for (int b = 0; b < m; b++)
                    if ((L->cols[q] >> b) & 1)
                        p[b] = t[l][b];
        }
    }
}

STRATA_TARGET_AVX2 __attribute__((noinline)) static void
transform_scatter_avx2(float *base, const lane_map *L, int w, const float *M, size_t ms, int nt,
                       float bias, int A, int R)
{
    for (int h0 = 0; h0 < nt; h0 += 8) {
#define CALL(a, r) transform_scatter8_v(base, L, h0, w, M, ms, nt, bias, a, a + 1 - r)
        WINO_VARIANTS(CALL, A, R);
#undef CALL
    }
}

/* The fused transforms L->gather asks for: FUSE_GATHERS (AVX-512) or
 * FUSE_ROWS (AVX2, also at the AVX-512 level, see fused()). */
static void gather_transform(float *X, size_t xs, const float *base, const lane_map *L, int w,
                             int nt, int A, int R, int dout)
{
    if (L->gather == FUSE_GATHERS)
        gather_transform_avx512(X, xs, base, L, w, nt, A, R, dout);
    else
        gather_transform_avx2(X, xs, base, L, w, nt, A, R, dout);
}

static void transform_scatter(float *base, const lane_map *L, int w, const float *M, size_t ms,
                              int nt, float bias, int A, int R)
{
    if (L->gather == FUSE_GATHERS)
        transform_scatter_avx512(base, L, w, M, ms, nt, bias, A, R);
    else
        transform_scatter_avx2(base, L, w, M, ms, nt, bias, A, R);
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

/* Which fused transforms a pass of kind `kind` on d's map takes: 0 (the
 * baseline level: the generic loops), FUSE_GATHERS (AVX-512 gathers and
 * scatters, 16 lanes a vector) or FUSE_ROWS (the AVX2 functions: masked
 * row loads, 8x8 transposes and plain stores, 8 lanes a vector). At AVX2,
 * rows. At AVX-512 with fast gathers (Intel), gathers. At AVX-512 where
 * gathers and scatters are microcoded (AMD; Zen 4 runs a 512-bit operation
 * as two 256-bit halves anyway, so 8 lanes a vector cost no arithmetic),
 * rows for the output transform on every map, and for the input and dout
 * transforms on maps of ROWS_MIN_TILES tiles a row or more; narrower maps
 * (13x13 with 5x5 tiles: 3 tiles a row, so a segment's lanes span 5 tile
 * rows) keep gathers for those, which were faster there. Same bits either
 * way (the functions do the same operations in the same order). Transform
 * CPU time on Zen 4, gathers -> rows, one thread, batch 32, 6 passes:
 * AlexNet conv2 (27x27, 5x5, 9 tiles a row) forward input 29-34 -> 21-28
 * ms, output 39-46 -> 30-38, backward-data input 77-92 -> 60-72; conv3-5
 * (13x13) output 17-19 -> 15-16, input 20-21 -> 22-26 (so: gathers);
 * VGG-16 conv3_1 (55x55) and conv4_1 (27x27), batch 4, faster in every
 * transform. */
#define ROWS_MIN_TILES 4
static int fused(const conv_dims *d, int kind)
{
    if (!WINO_SIMD || strata_isa() < STRATA_ISA_AVX2)
        return 0;
    if (strata_isa() == STRATA_ISA_AVX2)
        return FUSE_ROWS;
    if (strata_cpu_fast_gather())
        return FUSE_GATHERS;
    return kind == TILE_OUTPUT || tiles_x(d) >= ROWS_MIN_TILES ? FUSE_ROWS : FUSE_GATHERS;
}

/* Segments of the chunk rather than of tile rows when a row segment would
 * leave half the lanes idle or more (with 14 tiles a row, row segments are
 * still as fast), and always for odd m (alpha 7): GCC leaves the stride-3
 * and stride-5 row reads and writes of row segments scalar. Those run the
 * fused transforms at AVX2 and AVX-512 (AVX-512: gathers and scatters;
 * AVX2: masked row loads, transposes, plain stores). At AVX-512 with fast
 * gathers every map is gathered (faster than row segments on VGG-16's wide
 * maps too); at AVX2, and at AVX-512 where gathers are microcoded (AMD),
 * the wide maps with even m stay on row segments, as fast or faster there.
 * Timings: bench/README.md ("Tuning notes from the kernels"; and the Zen 4
 * measurements of 2026-12-03 for the gather choice). */
static int gathered(const conv_dims *d)
{
    return 2 * tiles_x(d) <= SEG || tile_m(d) % 2 ||
           (WINO_SIMD && strata_isa() == STRATA_ISA_AVX512 && strata_cpu_fast_gather());
}

/* One pass over (channel, segment) pairs of the chunk [g0, g1), in blocks
 * of SEG_BLOCK segments: i = block * SEG_BLOCK * nch + ch * sb + s for
 * segment block * SEG_BLOCK + s (sb: the block's segments), so a block's
 * lane maps serve all its channels, and each channel's writes to X run over
 * sb * SEG consecutive tiles. (Segment-major order, a map shared by all
 * channels, was slower on large chunks: its writes land T floats apart.) */
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
    int nseg = (int)((J->T + SEG - 1) / SEG), have = -1, gather = fused(d, J->kind);
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
                L[q].gather = L[q].near ? gather : 0;
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

STRATA_MULTIVERSION(void, tile_segs, (void *arg, int i0, int i1), (arg, i0, i1))
{
    const tile_job *J = arg;
#define CALL(a, r) tile_segs_m(J, i0, i1, a, a + 1 - r)
    WINO_VARIANTS(CALL, wino_alpha(J->d), J->d->kh);
#undef CALL
}

/* TILE_INPUT: X[xi][c][t] = input patches of src (n, c, h, w) (grid of d);
 * TILE_DOUT: X[xi][o][t] = dout tiles of src (n, k, oh, ow);
 * TILE_OUTPUT: the out (n, k, oh, ow) tiles of rows [g0, g1) from X[xi][o][t]. */
void wino_tiles(float *X, size_t T, int kind, const float *img, const float *bias,
                const conv_dims *d, int g0, int g1, int threads)
{
    tile_job J = {X, T, kind, (float *)img, bias, d, g0, g1};
    int nch = kind == TILE_INPUT ? d->c : d->k;
    if (gathered(d))
        parallel_for(threads, nch * (int)((T + SEG - 1) / SEG), tile_segs, &J);
    else
        parallel_for(threads, nch * (g1 - g0), tile_rows, &J);
}
