/* conv_winograd.c — see conv_winograd.h.
 *
 * Both algorithms use the 6x6 transform (alpha = m + r - 1 = 6) with the
 * interpolation points 0, 1, -1, 2, -2, inf, so the input transform BT is
 * the same matrix for both; only G (6 x r) and AT (m x 6) differ.
 * F(4x4, 3x3), m = 4, r = 3:
 *   BT = [4  0 -5  0 1 0]   G = [ 1/4     0    0]   AT = [1 1  1 1  1 0]
 *        [0 -4 -4  1 1 0]       [-1/6 -1/6 -1/6]        [0 1 -1 2 -2 0]
 *        [0  4 -4 -1 1 0]       [-1/6  1/6 -1/6]        [0 1  1 4  4 0]
 *        [0 -2 -1  2 1 0]       [1/24 1/12  1/6]        [0 1 -1 8 -8 1]
 *        [0  2 -1 -2 1 0]       [1/24 -1/12 1/6]
 *        [0  4  0 -5 0 1]       [   0     0    1]
 * F(2x2, 5x5), m = 2, r = 5 (row xi of G is p^j / prod_{q != p} (p - q)
 * for point p, e_{r-1} for inf; AT[i][xi] = p^i, AT[m-1][inf] = 1):
 *   G = [ 1/4     0    0     0    0]   AT = [1 1  1 1  1 0]
 *       [-1/6 -1/6 -1/6  -1/6 -1/6]        [0 1 -1 2 -2 1]
 *       [-1/6  1/6 -1/6   1/6 -1/6]
 *       [1/24 1/12  1/6   1/3  2/3]
 *       [1/24 -1/12 1/6  -1/3  2/3]
 *       [   0     0    0    0    1]
 *   (points 0, +-1, +-1/2, inf would need another BT and, simulated in
 *   float32 over 48 channels, give 6.9e-6 relative error against 2.9e-6.)
 * For output tile (ty, tx) of image b (m x m outputs at (m ty, m tx)), with
 * d the 6x6 input patch at (m ty - ph, m tx - pw) (0 outside the image):
 *   U[xi][o][c] = (G w[o][c] G^T)[xi]          xi = 6*l + k, 36 of them
 *   V[xi][c][t] = (BT d[c] B)[xi]              t: tile index in the chunk
 *   M[xi] (K, T) = U[xi] (K, C) @ V[xi] (C, T)     (36 sgemm calls)
 *   out tile    = AT M[.][o][t] A  (+ bias, cropped to oh x ow)
 * backward-data: the forward algorithm on dout with w'[c][o] = flip(w[o][c])
 *   and padding r - 1 - p (a "full" correlation), giving din (n, c, h, w).
 * bias gradient: row 1 of A is all ones (point 1), so E[7] = (A dY A^T)[1][1]
 *   is the sum of the tile; dbias[o] += sum_t E[7][o][t] (1/16 of dout's
 *   size for m = 4, 1/9 for m = 2).
 * backward-weights: Y = AT (U . V) A is linear in U, so
 *   dU[xi] (K, C) = sum over tiles of E[xi] (K, T) @ V[xi]^T,
 *   E = A dY A^T (dY the m x m dout tile, 0 past oh x ow),
 *   dw[o][c] += G^T dU[.][o][c] G.
 * Tiles are processed a chunk of tile rows at a time (all tile rows of all
 * images, numbered g = b*nty + ty), so V and M stay within d->budget
 * floats (at least one tile row). The transforms work on SEG tiles at once,
 * vectorised across tiles: SEG tiles along one tile row, or, on maps with
 * at most SEG/2 tiles a row, SEG consecutive tiles of the chunk (each lane
 * gathering its own patch). The tile functions take m as an argument and
 * are inlined where m is a constant (tile_rows, tile_segs), so each
 * algorithm gets loops of constant trip counts. */
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "parallel.h"
#include "conv_bias.h"
#include "conv_winograd.h"

#define SEG 16                         /* tiles transformed together along x */

int conv_winograd_fits(const conv_dims *d)
{
    if (d->sh != 1 || d->sw != 1 || d->kh != d->kw || (d->kh != 3 && d->kh != 5))
        return 0;
    return d->ph <= d->kh - 1 && d->pw <= d->kw - 1;
}

/* The output tile size m: 4 for 3x3 kernels, 2 for 5x5 (m + r - 1 = 6). */
static int tile_m(const conv_dims *d) { return 7 - d->kh; }
static int tiles_x(const conv_dims *d) { return (d->ow + tile_m(d) - 1) / tile_m(d); }
static int tiles_y(const conv_dims *d) { return (d->oh + tile_m(d) - 1) / tile_m(d); }

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
    size_t r = d->budget / (36 * (size_t)(d->c + d->k) * ntx);
    if (r < 1)
        r = 1;
    return (int)(r < rows ? r : rows);
}

static size_t pass_floats(const conv_dims *d, int n)
{
    return 36 * (size_t)(d->c + d->k) * chunk_rows(d, n) * tiles_x(d);
}

size_t conv_winograd_scratch_bytes(const conv_dims *d, int n)
{
    conv_dims e = data_pass(d);
    size_t a = pass_floats(d, n), b = pass_floats(&e, n);
    return sizeof(float) * (36 * (size_t)d->c * d->k + (a > b ? a : b));
}

/* ---- the 1-D transforms -------------------------------------------------- */

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

/* G (6 x r) applied to g[0], g[s], .. g[(r-1)s], r = 3 or 5 (multiplies by
 * rounded reciprocals: divisions by 6 and 24 cost more than the rest of the
 * weight transform) */
static const float R3 = 1.0f / 3, R4 = 1.0f / 4, R6 = 1.0f / 6, R12 = 1.0f / 12,
                   R24 = 1.0f / 24;

CONV_INLINE void g_r(float o[6], int r, const float *g, int s)
{
    float g0 = g[0], g1 = g[s], g2 = g[2 * s], a, b, c, e;
    if (r == 3) {
        a = (g0 + g2) * R6, b = g1 * R6, c = g0 * R24 + g2 * R6, e = g1 * R12;
    } else {
        float g3 = g[3 * s], g4 = g[4 * s];
        a = (g0 + g2 + g4) * R6, b = (g1 + g3) * R6;
        c = g0 * R24 + g2 * R6 + g4 * (2 * R3), e = g1 * R12 + g3 * R3;
    }
    o[0] = g0 * R4;
    o[1] = -a - b;
    o[2] = -a + b;
    o[3] = c + e;
    o[4] = c - e;
    o[5] = g[(r - 1) * s];
}

/* G^T (r x 6) applied to u[0..5] (stride s) */
CONV_INLINE void gt_r(float *o, int r, const float *u, int s)
{
    float u0 = u[0], u1 = u[s], u2 = u[2 * s], u3 = u[3 * s], u4 = u[4 * s], u5 = u[5 * s];
    float odd = (u2 - u1) * R6, even = (u1 + u2) * R6;
    o[0] = u0 * R4 - even + (u3 + u4) * R24;
    o[1] = odd + (u3 - u4) * R12;
    if (r == 3) {
        o[2] = (u3 + u4) * R6 - even + u5;
        return;
    }
    o[2] = (u3 + u4) * R6 - even;
    o[3] = odd + (u3 - u4) * R3;
    o[4] = (u3 + u4) * (2 * R3) - even + u5;
}

/* ---- weights ------------------------------------------------------------- */

typedef struct weight_job {
    float *U, *dweight;
    const float *weight, *dU;
    int K, C, R, flip; /* R: the kernel size r */
} weight_job;

/* U[xi] (rows, cols): row r in [r0, r1), column q: G g G^T with
 *   g = w[r][q] (K, C) when not flipped (rows = K, cols = C),
 *   g = rot180(w[q][r]) when flipped (rows = C, cols = K: the
 *   backward-data kernel). Writes run along a row of each U[xi]. */
CONV_INLINE void weight_rows_r(const weight_job *J, int r0, int r1, int R)
{
    size_t KC = (size_t)J->K * J->C;
    int cols = J->flip ? J->K : J->C, RR = R * R;
    for (int r = r0; r < r1; r++)
        for (int q0 = 0; q0 < cols; q0 += SEG) {
            int nq = cols - q0 < SEG ? cols - q0 : SEG;
            float g[25][SEG], t[6][5][SEG];
            for (int q = 0; q < nq; q++) {
                int o = J->flip ? q0 + q : r, c = J->flip ? r : q0 + q;
                const float *w = J->weight + ((size_t)o * J->C + c) * RR;
                for (int i = 0; i < RR; i++)
                    g[i][q] = J->flip ? w[RR - 1 - i] : w[i];
            }
            for (int j = 0; j < R; j++)
                for (int q = 0; q < nq; q++) {
                    float u[6];
                    g_r(u, R, &g[j][q], R * SEG);
                    for (int l = 0; l < 6; l++)
                        t[l][j][q] = u[l];
                }
            float *U = J->U + (size_t)r * cols + q0;
            for (int l = 0; l < 6; l++)
                for (int q = 0; q < nq; q++) {
                    float u[6];
                    g_r(u, R, &t[l][0][q], SEG);
                    for (int k = 0; k < 6; k++)
                        U[(l * 6 + k) * KC + q] = u[k];
                }
        }
}

CONV_CLONES static void weight_rows(void *arg, int r0, int r1)
{
    const weight_job *J = arg;
    if (J->R == 3)
        weight_rows_r(J, r0, r1, 3);
    else
        weight_rows_r(J, r0, r1, 5);
}

/* dweight (K, C, r, r) += G^T dU[.][o][c] G, o in [o0, o1). */
CONV_INLINE void weight_grad_rows_r(const weight_job *J, int o0, int o1, int R)
{
    size_t KC = (size_t)J->K * J->C;
    for (int o = o0; o < o1; o++)
        for (int c = 0; c < J->C; c++) {
            const float *u = J->dU + (size_t)o * J->C + c;
            float q[6][5], x[5];
            for (int l = 0; l < 6; l++)
                gt_r(q[l], R, u + l * 6 * KC, (int)KC);
            float *dw = J->dweight + ((size_t)o * J->C + c) * R * R;
            for (int j = 0; j < R; j++) {
                gt_r(x, R, &q[0][j], 5);
                for (int i = 0; i < R; i++)
                    dw[i * R + j] += x[i];
            }
        }
}

CONV_CLONES static void weight_grad_rows(void *arg, int o0, int o1)
{
    const weight_job *J = arg;
    if (J->R == 3)
        weight_grad_rows_r(J, o0, o1, 3);
    else
        weight_grad_rows_r(J, o0, o1, 5);
}

static void weight_tiles(float *U, const float *weight, const conv_dims *d, int flip, int threads)
{
    weight_job J = {.U = U, .weight = weight, .K = d->k, .C = d->c, .R = d->kh, .flip = flip};
    parallel_for(threads, flip ? d->c : d->k, weight_rows, &J);
}

static void weight_grad(float *dweight, const float *dU, const conv_dims *d, int threads)
{
    weight_job J = {.dweight = dweight, .dU = dU, .K = d->k, .C = d->c, .R = d->kh};
    parallel_for(threads, d->k, weight_grad_rows, &J);
}

/* ---- tiles: one segment of nt <= SEG tiles of one tile row --------------- */

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
CONV_INLINE void output_columns(float s[4][6][SEG], const float *M, size_t ms, int nt, int m)
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
    output_columns(s, M, ms, nt, m);
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

/* ---- small maps: segments of SEG consecutive tiles of the chunk --------- */

/* With fewer than SEG tiles per tile row (maps under 61 px: 13x13 has 4),
 * a row segment would leave most lanes idle. Here a segment is SEG
 * consecutive tiles t of the chunk (t = (g - g0)*ntx + tx, across tile rows
 * and images): each lane gathers (or scatters) its own patch, and the
 * transforms run on all lanes. The tile t of a chunk starting at tile row
 * g0 is image b, tile row ty, column tx: */
CONV_INLINE const float *tile_plane(const float *img, int nch, int ch, int h, int w, int nty,
                                    int ntx, int g0, int t, int *ty, int *tx)
{
    int g = g0 + t / ntx, b = g / nty;
    *ty = g % nty, *tx = t % ntx;
    return img + ((size_t)b * nch + ch) * h * w;
}

/* V[xi * vs + l] = (BT d_l B)[xi], d_l the 6x6 patch (0 outside) of tile
 * t0 + l at (m ty - py, m tx - px), l < nt. */
CONV_INLINE void input_gather(float *V, size_t vs, const float *img, int nch, int ch, int h,
                              int w, int py, int px, int nty, int ntx, int g0, int t0, int nt,
                              int m)
{
    float d[6][6][SEG], r[6][6][SEG];
    for (int l = 0; l < SEG; l++) {
        if (l >= nt) {
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++)
                    d[i][j][l] = 0.0f;
            continue;
        }
        int ty, tx;
        const float *plane = tile_plane(img, nch, ch, h, w, nty, ntx, g0, t0 + l, &ty, &tx);
        int y0 = m * ty - py, x0 = m * tx - px;
        for (int i = 0; i < 6; i++) {
            int y = y0 + i, in_y = y >= 0 && y < h;
            for (int j = 0; j < 6; j++) {
                int x = x0 + j;
                d[i][j][l] = in_y && x >= 0 && x < w ? plane[(size_t)y * w + x] : 0.0f;
            }
        }
    }
    for (int i = 0; i < 6; i++)
        for (int t = 0; t < SEG; t++) {
            float v[6];
            BT6(v, d[i][0][t], d[i][1][t], d[i][2][t], d[i][3][t], d[i][4][t], d[i][5][t]);
            for (int k = 0; k < 6; k++)
                r[i][k][t] = v[k];
        }
    input_columns(V, vs, r, nt);
}

/* E[xi * es + l] = (A dY_l A^T)[xi], dY_l the m x m dout tile (0 past the
 * edge) of tile t0 + l. */
CONV_INLINE void dout_gather(float *E, size_t es, const float *img, int nch, int ch, int oh,
                             int ow, int nty, int ntx, int g0, int t0, int nt, int m)
{
    float d[4][4][SEG], e[4][6][SEG];
    for (int l = 0; l < SEG; l++) {
        if (l >= nt) {
            for (int a = 0; a < m; a++)
                for (int j = 0; j < m; j++)
                    d[a][j][l] = 0.0f;
            continue;
        }
        int ty, tx;
        const float *plane = tile_plane(img, nch, ch, oh, ow, nty, ntx, g0, t0 + l, &ty, &tx);
        int y0 = m * ty, x0 = m * tx;
        for (int a = 0; a < m; a++)
            for (int j = 0; j < m; j++)
                d[a][j][l] = y0 + a < oh && x0 + j < ow ? plane[(size_t)(y0 + a) * ow + x0 + j]
                                                        : 0.0f;
    }
    for (int a = 0; a < m; a++)
        for (int t = 0; t < SEG; t++) {
            float v[6], y[4];
            for (int j = 0; j < m; j++)
                y[j] = d[a][j][t];
            a_m(v, m, y);
            for (int k = 0; k < 6; k++)
                e[a][k][t] = v[k];
        }
    dout_columns(E, es, e, nt, m);
}

/* The out tiles t0 + l (l < nt) = AT M_l A + bias, cropped to oh x ow. */
CONV_INLINE void output_scatter(float *img, int nch, int ch, int oh, int ow, int nty, int ntx,
                                int g0, int t0, int nt, const float *M, size_t ms, float bias,
                                int m)
{
    float s[4][6][SEG], y[4][4][SEG];
    output_columns(s, M, ms, nt, m);
    for (int a = 0; a < m; a++)
        for (int t = 0; t < SEG; t++) {
            float v[4];
            AT_M(v, m, s[a][0][t], s[a][1][t], s[a][2][t], s[a][3][t], s[a][4][t], s[a][5][t]);
            for (int b = 0; b < m; b++)
                y[a][b][t] = v[b] + bias;
        }
    for (int l = 0; l < nt; l++) {
        int ty, tx;
        float *plane = (float *)tile_plane(img, nch, ch, oh, ow, nty, ntx, g0, t0 + l, &ty, &tx);
        int y0 = m * ty, x0 = m * tx;
        int ny = oh - y0 < m ? oh - y0 : m, nx = ow - x0 < m ? ow - x0 : m;
        for (int a = 0; a < ny; a++)
            for (int b = 0; b < nx; b++)
                plane[(size_t)(y0 + a) * ow + x0 + b] = y[a][b][l];
    }
}

/* Segments of the chunk rather than of tile rows when a row segment would
 * leave half the lanes idle or more (measured, VGG-16 b16 CPU ms fwd/bwd:
 * 27x27 (7 tiles a row) 167/336 -> 155/318, 13x13 66/136 -> 57/120; but
 * 55x55 (14 a row) 174/350 -> 180/369, so it stays on row segments). */
static int gathered(const conv_dims *d) { return 2 * tiles_x(d) <= SEG; }

/* One pass over (channel, segment) pairs of the chunk [g0, g1). */
CONV_INLINE void tile_segs_m(const tile_job *J, int i0, int i1, int m)
{
    const conv_dims *d = J->d;
    int nty = tiles_y(d), ntx = tiles_x(d), nseg = (int)((J->T + SEG - 1) / SEG);
    int nch = J->kind == TILE_INPUT ? d->c : d->k;
    size_t xs = (size_t)nch * J->T;
    for (int i = i0; i < i1; i++) {
        int ch = i / nseg, t0 = i % nseg * SEG, nt = (int)J->T - t0 < SEG ? (int)J->T - t0 : SEG;
        float *x = J->X + (size_t)ch * J->T + t0;
        if (J->kind == TILE_INPUT)
            input_gather(x, xs, J->img, nch, ch, d->h, d->w, d->ph, d->pw, nty, ntx, J->g0, t0, nt,
                         m);
        else if (J->kind == TILE_DOUT)
            dout_gather(x, xs, J->img, nch, ch, d->oh, d->ow, nty, ntx, J->g0, t0, nt, m);
        else
            output_scatter(J->img, nch, ch, d->oh, d->ow, nty, ntx, J->g0, t0, nt, x, xs,
                           J->bias ? J->bias[ch] : 0.0f, m);
    }
}

CONV_CLONES static void tile_segs(void *arg, int i0, int i1)
{
    const tile_job *J = arg;
    if (tile_m(J->d) == 4)
        tile_segs_m(J, i0, i1, 4);
    else
        tile_segs_m(J, i0, i1, 2);
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


/* The 36 products of a chunk: C[xi] (m, n) = A[xi] @ op(B[xi]) + beta C[xi],
 * op = transpose when transb (B[xi] then (n, kk)), else B[xi] is (kk, n).
 * Split over `threads` threads by xi, each GEMM on one OpenBLAS thread
 * (openblas_set_num_threads(1) for the duration, then restored): 36
 * independent GEMMs divide evenly, and no OpenBLAS thread spins or waits
 * on another. STRATA_CONV_BLAS_THREADS=1 in the environment instead lets
 * OpenBLAS thread each GEMM (for comparison). */
typedef struct gemm_job {
    const float *A, *B;
    float *C;
    size_t as, bs, cs; /* strides between xi */
    int m, n, kk, transb;
    float beta;
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

static void gemm36(const gemm_job *J, int threads)
{
    static int blas_threads = -1;
    if (blas_threads < 0) {
        const char *e = getenv("STRATA_CONV_BLAS_THREADS");
        blas_threads = e && *e == '1';
    }
    if (blas_threads || threads <= 1) {
        gemm_range((void *)J, 0, 36);
        return;
    }
    int keep = openblas_get_num_threads();
    openblas_set_num_threads(1);
    parallel_for(threads, 36, gemm_range, (void *)J);
    openblas_set_num_threads(keep);
}

/* One chunk [g0, g1) on the calling thread alone: its transforms, its 36
 * GEMMs (on one OpenBLAS thread: the caller set it) and the output. */
static void chunk_alone(const conv_dims *d, const float *in, const float *U, const float *bias,
                        float *out, float *work, int g0, int g1)
{
    int ntx = tiles_x(d), seg = gathered(d);
    size_t T = (size_t)(g1 - g0) * ntx, KC = (size_t)d->k * d->c;
    int nseg = (int)((T + SEG - 1) / SEG);
    float *V = work, *M = work + 36 * (size_t)d->c * T;
    tile_job In = {V, T, TILE_INPUT, (float *)in, NULL, d, g0, g1};
    if (seg)
        tile_segs(&In, 0, d->c * nseg);
    else
        tile_rows(&In, 0, d->c * (g1 - g0));
    gemm_job J = {U, V, M, KC, (size_t)d->c * T, (size_t)d->k * T, d->k, (int)T, d->c, 0, 0.0f};
    gemm_range(&J, 0, 36);
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
 * 0: not pipelined. F(4x4, 3x3) only for c + k <= 128: measured (VGG-16
 * b16, wall ms fwd/bwd, back to back) conv1_2 (64 -> 64, 224 px) 157/324
 * -> 141/316, conv2_1 (64 -> 128) no change, conv3_2 (256 -> 256) 80/157
 * -> 123/206 (36 GEMMs of 256x256x14 tiles are too small); AlexNet's 13x13
 * conv3-5 (c + k = 320..384) slower too (b32 CPU ms fwd 13-18 -> 16-24).
 * F(2x2, 5x5) for c + k <= 256: its V and M are 9 floats per output (2.25
 * for F(4x4, 3x3)), so staying in L2 pays more: AlexNet conv2 (48 -> 128)
 * b32 CPU ms fwd/bwd 47-56/103-117 -> 42-43/97-100 (1 MiB chunks 51/110,
 * 4 MiB 41/99, 8 MiB 46/101). Not measured above c + k = 176. */
#define PIPE_BYTES ((size_t)2 << 20)
static int pipe_rows(const conv_dims *d, int n)
{
    if (d->c + d->k > (tile_m(d) == 2 ? 256 : 128))
        return 0;
    size_t row = 36 * (size_t)(d->c + d->k) * tiles_x(d);
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
        size_t per = 36 * (size_t)(d->c + d->k) * pr * ntx;
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
        float *V = work, *M = work + 36 * (size_t)d->c * T;
        tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, threads);
        gemm_job J = {U, V, M, KC, (size_t)d->c * T, (size_t)d->k * T, d->k, (int)T, d->c, 0, 0.0f};
        gemm36(&J, threads);
        tiles(M, T, TILE_OUTPUT, out, bias, d, g0, g1, threads);
    }
}

void conv_winograd_forward(const conv_dims *d, int n, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, int threads)
{
    float *U = scratch, *work = scratch + 36 * (size_t)d->k * d->c;
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
    float *V = work, *E = work + 36 * (size_t)d->c * T;
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
        conv_bias_backward(dbias, E + 7 * (size_t)d->k * T, 1, d->k, T, 1);
    gemm_job J = {E, V, dU, (size_t)d->k * T, (size_t)d->c * T, KC, d->k, d->c, (int)T, 1,
                  first ? 0.0f : 1.0f};
    gemm_range(&J, 0, 36);
}

/* Pipelined backward-weights: group g's tile rows into its own dU (g = 0:
 * the real one; others: extra (36 k c) buffers after the workers' areas)
 * and its own dbias (k floats), added in group order after: the sums do not
 * depend on the thread count. */
typedef struct grad_pipe {
    const conv_dims *d;
    const float *in, *dout;
    float *dU, *dbias, *work, *extra;
    int rows, R, groups, workers;
    size_t per;
} grad_pipe;

static size_t grad_extra(const conv_dims *d) { return 36 * (size_t)d->k * d->c + d->k; }

static void grad_part(void *arg, int w0, int w1)
{
    const grad_pipe *P = arg;
    size_t KC = (size_t)P->d->k * P->d->c;
    for (int w = w0; w < w1; w++)
        for (int g = P->groups * w / P->workers; g < P->groups * (w + 1) / P->workers; g++) {
            int r0, r1;
            group_rows(P->rows, P->groups, g, &r0, &r1);
            float *dU = g ? P->extra + (g - 1) * grad_extra(P->d) : P->dU;
            float *db = dU + 36 * KC; /* group 0's is unused: it adds to dbias directly */
            if (g)
                memset(db, 0, sizeof(float) * P->d->k);
            if (r0 == r1)
                memset(dU, 0, sizeof(float) * 36 * KC);
            for (int g0 = r0; g0 < r1; g0 += P->R)
                grad_chunk_alone(P->d, P->in, P->dout, dU,
                                 P->dbias ? (g ? db : P->dbias) : NULL, P->work + w * P->per,
                                 g0, g0 + P->R < r1 ? g0 + P->R : r1, g0 == r0);
        }
}

void conv_winograd_backward(const conv_dims *d, int n, const float *in, const float *dout,
                            const float *weight, float *dweight, float *dbias, float *din,
                            float *scratch, int threads)
{
    int ntx = tiles_x(d), rows = n * tiles_y(d), R = chunk_rows(d, n);
    size_t KC = (size_t)d->k * d->c;
    float *dU = scratch, *work = scratch + 36 * KC;
    int pr = pipe_rows(d, n), G = pipe_groups(rows), workers = 0;
    size_t per = 36 * (size_t)(d->c + d->k) * pr * ntx, extra = (G - 1) * grad_extra(d);
    if (pr > 0 && pass_floats(d, n) >= extra + per)
        workers = pipe_workers(threads, G, pass_floats(d, n) - extra, per);
    if (workers > 0) {
        grad_pipe P = {d, in, dout, dU, dbias, work, work + pass_floats(d, n) - extra, rows, pr, G,
                       workers, per};
        int keep = openblas_get_num_threads();
        openblas_set_num_threads(1);
        parallel_for(workers, workers, grad_part, &P);
        openblas_set_num_threads(keep);
        for (int g = 1; g < G; g++) {
            const float *x = P.extra + (g - 1) * grad_extra(d);
            for (size_t i = 0; i < 36 * KC; i++)
                dU[i] += x[i];
            for (int o = 0; dbias && o < d->k; o++)
                dbias[o] += x[36 * KC + o];
        }
    } else
        for (int g0 = 0; g0 < rows; g0 += R) {
            int g1 = g0 + R < rows ? g0 + R : rows;
            size_t T = (size_t)(g1 - g0) * ntx;
            float *V = work, *E = work + 36 * (size_t)d->c * T;
            tiles(V, T, TILE_INPUT, in, NULL, d, g0, g1, threads);
            tiles(E, T, TILE_DOUT, dout, NULL, d, g0, g1, threads);
            if (dbias) /* E[7] = (A dY A^T)[1][1]: each tile's sum (0 past the edge) */
                conv_bias_backward(dbias, E + 7 * (size_t)d->k * T, 1, d->k, T, threads);
            gemm_job J = {E, V, dU, (size_t)d->k * T, (size_t)d->c * T, KC, d->k, d->c, (int)T, 1,
                          g0 ? 1.0f : 0.0f};
            gemm36(&J, threads);
        }
    weight_grad(dweight, dU, d, threads);
    if (!din)
        return;
    conv_dims e = data_pass(d);
    weight_tiles(dU, weight, d, 1, threads);
    wino_conv(&e, n, dout, dU, NULL, din, work, threads);
}
