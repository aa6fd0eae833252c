/* maxpool.c — 2-D max pooling (PyTorch's nn.MaxPool2d, dilation 1).
 *
 * Options: kernel (required), stride (= kernel), padding (0), ceil_mode
 * (false); see pool_shape.h for the output size. Padding counts as -inf.
 * Forward keeps, per output element, the flat index (h*W + w) of the first
 * maximum of its window in `saved`; backward routes the gradient there.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "common/simd.h"
#include "common/parallel.h"
#include "common/pool_shape.h"
#include "common/layer_new.h"

typedef pool_shape maxpool;

static void *maxpool_create(const strata_host *host, strata_opts *o,
                            strata_shape in, strata_shape *out)
{
    pool_shape ps;
    if (pool_shape_parse(host, o, in, "maxpool", &ps) < 0)
        return NULL;
    if (ps.kh * ps.kw > 256) {
        host->opt_error(o, "kernel", "a maxpool window of at most 256 elements (16x16), got %dx%d", ps.kh, ps.kw);
        return NULL;
    }
    maxpool *L = layer_alloc(host, o, sizeof *L);
    if (!L)
        return NULL;
    *L = ps;
    out->c = L->c, out->h = L->oh, out->w = L->ow;
    return L;
}

static void maxpool_destroy(void *layer) { free(layer); }
static void maxpool_geometry(const void *layer, int kernel[2], int stride[2])
{
    const maxpool *L = layer;
    kernel[0] = L->kh, kernel[1] = L->kw;
    stride[0] = L->sh, stride[1] = L->sw;
}

/* one byte per output element: where in its window the maximum is */
static size_t maxpool_saved_bytes(const void *layer, int n)
{
    const maxpool *L = layer;
    return (size_t)n * L->c * L->oh * L->ow;
}
/* in (N, C, H, W), out and argmax (N, C, OH, OW):
 * out[n][c][y][x] = max over the window rows y*SH-PH .. +KH-1, columns
 * x*SW-PW .. +KW-1 (clipped to the image) of in[n][c]; argmax is the
 * offset (i - y*SH + PH)*KW + (j - x*SW + PW) in the window of the first
 * maximum in row-major order (a NaN wins, as in PyTorch), one byte. */
/* One plane (h, w) -> (oh, ow): y = the max of each window, am = where it
 * is (the first maximum; NaN wins, PyTorch's rule). */
static void max_plane(const maxpool *L, const float *x, float *y, uint8_t *am)
{
    for (int oy = 0; oy < L->oh; oy++) {
        int wy = oy * L->sh - L->ph, y0 = wy, y1 = wy + L->kh;
        if (y0 < 0) y0 = 0;
        if (y1 > L->h) y1 = L->h;
        for (int ox = 0; ox < L->ow; ox++) {
            int wx = ox * L->sw - L->pw, x0 = wx, x1 = wx + L->kw;
            if (x0 < 0) x0 = 0;
            if (x1 > L->w) x1 = L->w;
            float best = x[y0 * L->w + x0];
            int at = (y0 - wy) * L->kw + (x0 - wx);
            for (int i = y0; i < y1; i++) {
                const float *row = x + i * L->w;
                for (int j = x0; j < x1; j++) {
                    float v = row[j];
                    if (v > best || (v != v && best == best)) {
                        best = v;
                        at = (i - wy) * L->kw + (j - wx);
                    }
                }
            }
            y[oy * L->ow + ox] = best;
            am[oy * L->ow + ox] = at;
        }
    }
}

/* Square K x K windows, stride S, no padding, every window inside the
 * plane (the pools of AlexNet): one output row from K input rows, the
 * taps unrolled (K, S constants after inlining) and the compare-and-select
 * written without branches so that the compiler vectorises across the
 * row. Same result and argmax (first maximum, NaN wins) as max_plane. */
static inline void max_row_interior(const float *restrict top, int W, int ow, float *restrict y,
                                    uint8_t *restrict am, const int K, const int S)
{
    for (int ox = 0; ox < ow; ox++) {
        const float *win = top + ox * S;
        float best = win[0];
        int at = 0;
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++) {
                float v = win[i * W + j];
                int take = (v > best) | ((v != v) & (best == best));
                best = take ? v : best;
                at = take ? i * K + j : at;
            }
        y[ox] = best;
        am[ox] = (uint8_t)at;
    }
}

/* K x K windows (K = 2, 3), stride 2, no padding, inside the plane (the
 * pools of VGG and AlexNet). Output x's window in input row r is
 * r[2x .. 2x+K-1]: each of the K rows is split into its even and odd
 * columns e, o first, so tap j of outputs x, x+1, ... is the contiguous
 * (j odd ? o : e)[x + j/2 ..], taken a vector at a time. The taps are
 * visited in max_plane's order with its rule (first maximum in row-major
 * order; a NaN wins), so the result and argmax are the same. Rows of at
 * most MAX_SPLIT outputs (else the scalar loops). */
#define MAX_SPLIT 256
#define SPLIT_LEN (MAX_SPLIT + 32) /* floats per split row: 16 lanes of slack */

/* take lanes of v (tap k) where v > best, or v is NaN and best is not:
 * !(v <= best) and best not NaN */
#define TAKE(VF, VI, ptr, k)                                                                       \
    do {                                                                                           \
        VF v_;                                                                                     \
        memcpy(&v_, (ptr), sizeof v_);                                                             \
        VI t_ = ~(v_ <= best) & (best == best);                                                    \
        best = (VF)(((VI)v_ & t_) | ((VI)best & ~t_));                                             \
        at = ((k) & t_) | (at & ~t_);                                                              \
    } while (0)

/* NAME(e, o, ow, y, am): e, o (K split rows each, SPLIT_LEN apart) -> y (ow),
 * am (ow), N outputs at a time in vectors VF (floats) and VI (int32 masks
 * and argmax) of N lanes (common/simd.h's types). Defined per K and target
 * by this macro: AVX-512 (16 lanes) and AVX2 (8) by a target attribute,
 * picked by strata_isa(), and the baseline (4). Not by STRATA_MULTIVERSION
 * (one inlined body for every level): GCC 12 lowers these vector compares
 * to scalar code when their width is not the target's. */
#define DEFINE_SPLIT(NAME, ATTR, K, VF, VI, N)                                                     \
    ATTR static void NAME(const float *restrict e, const float *restrict o, int ow,                 \
                          float *restrict y, uint8_t *restrict am)                                 \
    {                                                                                              \
        for (int x = 0; x < ow; x += (N)) {                                                        \
            VF best;                                                                               \
            VI at = {0};                                                                           \
            memcpy(&best, e + x, sizeof best);                                                     \
            for (int i = 0; i < (K); i++)                                                          \
                for (int j = i == 0; j < (K); j++)                                                 \
                    TAKE(VF, VI, (j & 1 ? o : e) + i * SPLIT_LEN + x + j / 2, i * (K) + j);        \
            int m = ow - x < (N) ? ow - x : (N);                                                   \
            for (int l = 0; l < m; l++)                                                            \
                y[x + l] = best[l], am[x + l] = (uint8_t)at[l];                                    \
        }                                                                                          \
    }

typedef void split_fn(const float *e, const float *o, int ow, float *y, uint8_t *am);
DEFINE_SPLIT(split2_base, , 2, v4f, v4i, 4)
DEFINE_SPLIT(split3_base, , 3, v4f, v4i, 4)
#if STRATA_X86_DISPATCH
DEFINE_SPLIT(split2_avx2, STRATA_TARGET_AVX2, 2, v8f, v8i, 8)
DEFINE_SPLIT(split3_avx2, STRATA_TARGET_AVX2, 3, v8f, v8i, 8)
DEFINE_SPLIT(split2_avx512, STRATA_TARGET_AVX512, 2, v16f, v16i, 16)
DEFINE_SPLIT(split3_avx512, STRATA_TARGET_AVX512, 3, v16f, v16i, 16)
#endif

/* The kernel of strata_isa()'s level (STRATA_ISA=avx2 or =base caps it:
 * make check runs every variant that way). */
static split_fn *split_kernel(int K)
{
#if STRATA_X86_DISPATCH
    if (strata_isa() == STRATA_ISA_AVX512)
        return K == 2 ? split2_avx512 : split3_avx512;
    if (strata_isa() == STRATA_ISA_AVX2)
        return K == 2 ? split2_avx2 : split3_avx2;
#endif
    return K == 2 ? split2_base : split3_base;
}

/* e_i[c] = r_i[2c] for c < ow + (K-1)/2, o_i[c] = r_i[2c+1] for c < ow +
 * (K-2)/2: all inside the row, as the last window ends at 2(ow-1)+K-1. */
static void max_rows_split(const maxpool *L, const float *x, float *y, uint8_t *am, split_fn *kernel)
{
    const int K = L->kh, W = L->w, ow = L->ow, ne = ow + (K - 1) / 2, no = ow + (K - 2) / 2;
    float e[3 * SPLIT_LEN] = {0}, o[3 * SPLIT_LEN] = {0};
    for (int oy = 0; oy < L->oh; oy++) {
        const float *top = x + oy * 2 * W;
        for (int i = 0; i < K; i++) {
            const float *r = top + i * W;
            float *ei = e + i * SPLIT_LEN, *oi = o + i * SPLIT_LEN;
            for (int c = 0; c < ne; c++)
                ei[c] = r[2 * c];
            for (int c = 0; c < no; c++)
                oi[c] = r[2 * c + 1];
        }
        kernel(e, o, ow, y + oy * ow, am + oy * ow);
    }
}

static void max_plane_interior(const maxpool *L, const float *x, float *y, uint8_t *am, const int K)
{
    for (int oy = 0; oy < L->oh; oy++)
        max_row_interior(x + oy * L->sh * L->w, L->w, L->ow, y + oy * L->ow, am + oy * L->ow, K, L->sw);
}

/* Every window inside the plane, square, unpadded. */
static int interior(const maxpool *L)
{
    return L->ph == 0 && L->pw == 0 && L->kh == L->kw && L->sh == L->sw &&
           (L->oh - 1) * L->sh + L->kh <= L->h && (L->ow - 1) * L->sw + L->kw <= L->w;
}

/* The vectorised kernel for the layer's planes, or NULL when its windows
 * are not 2x2 / 3x3 stride 2 inside rows of at most MAX_SPLIT outputs. */
static split_fn *plane_kernel(const maxpool *L)
{
    if (interior(L) && L->sh == 2 && (L->kh == 2 || L->kh == 3) && L->ow <= MAX_SPLIT)
        return split_kernel(L->kh);
    return NULL;
}

/* One plane, without the vectorised kernel: the fastest scalar loop that fits. */
static void pool_plane(const maxpool *L, const float *x, float *y, uint8_t *am)
{
    if (interior(L) && L->kh == 2)
        max_plane_interior(L, x, y, am, 2);
    else if (interior(L) && L->kh == 3)
        max_plane_interior(L, x, y, am, 3);
    else
        max_plane(L, x, y, am);
}

typedef struct pool_job {
    const maxpool *L;
    const float *x;
    float *y;
    uint8_t *am;
    const float *dy;
    float *dx;
    split_fn *split; /* forward: plane_kernel(L), chosen once */
} pool_job;

static void fwd_planes(void *arg, int begin, int end)
{
    const pool_job *j = arg;
    const maxpool *L = j->L;
    size_t in = (size_t)L->h * L->w, out = (size_t)L->oh * L->ow;
    for (int p = begin; p < end; p++) {
        if (j->split)
            max_rows_split(L, j->x + p * in, j->y + p * out, j->am + p * out, j->split);
        else
            pool_plane(L, j->x + p * in, j->y + p * out, j->am + p * out);
    }
}

static void bwd_planes(void *arg, int begin, int end)
{
    const pool_job *j = arg;
    const maxpool *L = j->L;
    size_t in = (size_t)L->h * L->w, out = (size_t)L->oh * L->ow;
    for (int p = begin; p < end; p++) {
        float *dx = j->dx + p * in;
        const float *dy = j->dy + p * out;
        const uint8_t *am = j->am + p * out;
        for (size_t k = 0; k < in; k++)
            dx[k] = 0.0f;
        for (int oy = 0; oy < L->oh; oy++)
            for (int ox = 0; ox < L->ow; ox++) {
                int k = oy * L->ow + ox, a = am[k];
                int i = oy * L->sh - L->ph + a / L->kw, jj = ox * L->sw - L->pw + a % L->kw;
                dx[i * L->w + jj] += dy[k];
            }
    }
}

/* in (N, C, H, W) -> out (N, C, OH, OW): the maximum of each window; the
 * argmax (index in the plane) of each output is kept for backward. Planes
 * are split between ctx->threads threads. */
static void maxpool_forward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, float *out, float *const *params,
                            void *saved, void *scratch)
{
    const maxpool *L = layer;
    pool_job j = {.L = L, .x = in, .y = out, .am = saved, .split = plane_kernel(L)};
    parallel_for(ctx->threads, n * L->c, fwd_planes, &j);
}

/* din = 0, then din[argmax] += dout for each output (windows may overlap). */
static void maxpool_backward(const void *layer, const strata_ctx *ctx, int n,
                             const float *in, const float *out, const float *dout,
                             float *din, float *const *params, float *const *dparams,
                             void *saved, void *scratch)
{
    const maxpool *L = layer;
    if (!din)
        return;
    pool_job j = {.L = L, .am = saved, .dy = dout, .dx = din};
    parallel_for(ctx->threads, n * L->c, bwd_planes, &j);
}

STRATA_PLUGIN_DEFINE(LAYER, "maxpool", "1.0",
                     "2-D max pooling with argmax routing, PyTorch's nn.MaxPool2d",
                     .create = maxpool_create,
                     .destroy = maxpool_destroy,
                     .geometry = maxpool_geometry,
                     .saved_bytes = maxpool_saved_bytes,
                     .forward = maxpool_forward,
                     .backward = maxpool_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED)
