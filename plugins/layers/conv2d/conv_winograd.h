/* conv_winograd.h — stride-1 3x3 and 5x5 convolution by Winograd's
 * minimal filtering (Lavin & Gray 2015): F(m x m, r x r) computes each
 * m x m output tile from an alpha x alpha input patch, alpha = m + r - 1,
 * with alpha^2 multiplies per (input, output) channel pair; the products of
 * all tiles are alpha^2 sgemm calls, one per transform element. Four
 * algorithms, each pass taking the alpha with less GEMM work for its map
 * (alpha 7 when it saves >= 15%):
 *   alpha 6: F(4x4, 3x3) (36 multiplies for 16 outputs, direct 144),
 *            F(2x2, 5x5) (36 for 4, direct 100)
 *   alpha 7: F(5x5, 3x3) (49 for 25, direct 225; 13x13 and 55x55 maps),
 *            F(3x3, 5x5) (49 for 9, direct 225; all but the smallest maps)
 * Forward, backward-data (the same algorithm on dout with the flipped,
 * transposed kernel, padding r - 1 - p) and backward-weights (transformed
 * input and dout tiles, alpha^2 sgemm calls accumulating over the batch). */
#ifndef STRATA_CONV_WINOGRAD_H
#define STRATA_CONV_WINOGRAD_H
#include <stddef.h>
#include "conv_dims.h"

/* 1 when the layer is 3x3 or 5x5 (r x r), stride 1, padding at most r - 1
 * (so the backward-data padding r - 1 - p >= 0). */
int conv_winograd_fits(const conv_dims *d);
/* Scratch bytes forward and backward need for a batch of n. */
size_t conv_winograd_scratch_bytes(const conv_dims *d, int n);
/* "winograd F(mxm,rxr)" of the forward (and backward-weights) pass, and
 * with with_data the backward-data pass's where it differs, into buf (size
 * bytes). */
void conv_winograd_describe(const conv_dims *d, int with_data, char *buf, size_t size);

/* Floats of the transformed input V of a batch of n that forward can keep
 * for backward-weights (which then skips that transform), or 0 when the
 * layer does not keep it: kept by layers that are not pipelined when 32
 * images' V fits the workspace budget (AlexNet's conv3-5; VGG-16's 14x14
 * layers), so it is n times a constant. */
size_t conv_winograd_saved_floats(const conv_dims *d, int n);

/* in (n, c, h, w), weight (k, c, r, r), bias (k) or NULL -> out (n, k, oh, ow).
 * keep: NULL, or conv_winograd_saved_floats(d, n) floats that get V. */
void conv_winograd_forward(const conv_dims *d, int n, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, float *keep, int threads);
/* dweight (k, c, r, r) += the weight gradient; dbias (k) += the bias
 * gradient unless dbias is NULL; din (n, c, h, w) = the input gradient
 * unless din is NULL. kept: NULL, or what forward's keep got from this in
 * (the same bits as without it). */
void conv_winograd_backward(const conv_dims *d, int n, const float *in, const float *dout,
                            const float *weight, float *dweight, float *dbias, float *din,
                            float *scratch, const float *kept, int threads);
#endif
