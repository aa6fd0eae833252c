/* conv_winograd_impl.h — private to conv_winograd*.c: what the driver
 * (conv_winograd.c), the kernel transforms (conv_winograd_weights.c) and
 * the tile transforms (conv_winograd_tiles.c) share: the geometry of a
 * pass and the two halves' entry points.
 *
 * Geometry: a pass (forward, backward-data, backward-weights) runs
 * F(m x m, r x r) on alpha x alpha tiles, alpha = m + r - 1, alpha 6 or 7
 * chosen by GEMM work (wino_alpha); the output (oh, ow) is covered by
 * tiles_y x tiles_x tiles of m x m outputs, tile (ty, tx) reading the
 * alpha x alpha input patch at (m ty - ph, m tx - pw). The backward-data
 * pass is the forward algorithm on dout with the flipped, transposed kernel
 * and padding r - 1 - p (data_pass). The transformed tiles of a chunk of
 * tile rows are laid out X[xi][channel][t], xi = alpha*l + k < alpha^2, t
 * the tile's index in the chunk. */
#ifndef STRATA_CONV_WINOGRAD_IMPL_H
#define STRATA_CONV_WINOGRAD_IMPL_H
#include <stddef.h>
#include "conv_dims.h"

#define SEG 16  /* tiles (or kernel columns) transformed together */
#define AMAX 7  /* the largest alpha */

/* GEMM work of tile size m on alpha x alpha tiles: tiles x alpha^2. */
static inline long tile_work(const conv_dims *d, int m, int alpha)
{
    return (long)((d->oh + m - 1) / m) * ((d->ow + m - 1) / m) * alpha * alpha;
}

/* alpha 7 when it saves at least 15% of the GEMM work of alpha 6 (its
 * transforms cost more per output, it always takes gathered segments and
 * its error is higher): AlexNet's 13x13 3x3 layers (441 vs 576 a channel
 * pair), 27x27 5x5 (3969 vs 7056), VGG-16's 55x55 (16% less). Below the
 * line alpha 7 was slower (VGG-16 conv1_2, 12% less work; conv2_2, 8%;
 * timings: bench/README.md, "Tuning notes from the kernels"). */
static inline int wino_alpha(const conv_dims *d)
{
    long w6 = tile_work(d, 7 - d->kh, 6), w7 = tile_work(d, 8 - d->kh, 7);
    return 100 * w7 <= 85 * w6 ? 7 : 6;
}

static inline int tile_m(const conv_dims *d) { return wino_alpha(d) + 1 - d->kh; }
static inline int tiles_x(const conv_dims *d) { return (d->ow + tile_m(d) - 1) / tile_m(d); }
static inline int tiles_y(const conv_dims *d) { return (d->oh + tile_m(d) - 1) / tile_m(d); }
/* alpha^2: the transform elements, GEMMs and floats per tile */
static inline int tile_elems(const conv_dims *d) { return wino_alpha(d) * wino_alpha(d); }
/* xi = alpha*1 + 1: E[xi] = (A dY A^T)[1][1], the tile's sum (A's row 1 is
 * point 1: all ones) */
static inline int bias_elem(const conv_dims *d) { return wino_alpha(d) + 1; }

/* The backward-data pass as a forward convolution of dout. */
static inline conv_dims data_pass(const conv_dims *d)
{
    conv_dims e = *d;
    e.c = d->k, e.h = d->oh, e.w = d->ow;
    e.k = d->c, e.oh = d->h, e.ow = d->w;
    e.ph = d->kh - 1 - d->ph, e.pw = d->kw - 1 - d->pw;
    return e;
}

/* ---- the kernel transforms (conv_winograd_weights.c) --------------------- */

/* flip 0: U[xi] (k, c) = (G w[o][c] G^T)[xi] for weight (k, c, r, r), at
 * the alpha of d's forward pass;
 * flip 1: U[xi] (c, k) = (G rot180(w[o][c]) G^T)[xi], the backward-data
 * kernel, at the alpha of data_pass(d). U holds alpha^2 k c floats. */
void wino_weight_tiles(float *U, const float *weight, const conv_dims *d, int flip, int threads);
/* dweight (k, c, r, r) += G^T dU[.][o][c] G, dU[xi] (k, c) at d's alpha. */
void wino_weight_grad(float *dweight, const float *dU, const conv_dims *d, int threads);

/* ---- the tile transforms (conv_winograd_tiles.c) ------------------------- */

enum { TILE_INPUT, TILE_DOUT, TILE_OUTPUT };

/* Over the chunk of tile rows [g0, g1) (g = b*tiles_y + ty, all images),
 * T = (g1 - g0) * tiles_x tiles, X holding T columns per (xi, channel):
 * TILE_INPUT: X[xi][c][t] = (BT d_t B)[xi], d_t the input patch of tile t
 *   of img = in (n, c, h, w), 0 outside;
 * TILE_DOUT: X[xi][o][t] = (A dY_t A^T)[xi], dY_t the m x m tile of
 *   img = dout (n, k, oh, ow), 0 past oh x ow;
 * TILE_OUTPUT: the out tiles of img = out (n, k, oh, ow) = AT M_t A +
 *   bias[o] (bias may be NULL), cropped, M_t = X[.][o][t].
 * On up to `threads` threads (1: the calling thread alone). */
void wino_tiles(float *X, size_t T, int kind, const float *img, const float *bias,
                const conv_dims *d, int g0, int g1, int threads);
#endif
