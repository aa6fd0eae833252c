/* conv_winograd.h — stride-1 convolution by Winograd's minimal filtering
 * (Lavin & Gray 2015) on 6x6 transform tiles: F(4x4, 3x3) for 3x3 kernels
 * (each 4x4 output tile costs 36 multiplies per (input, output) channel
 * pair instead of 144) and F(2x2, 5x5) for 5x5 kernels (36 instead of 100
 * per 2x2 tile); either way the products of all tiles are 36 sgemm calls,
 * one per transform element. Forward, backward-data (the same algorithm
 * on dout with the flipped, transposed kernel, padding r - 1 - p) and
 * backward-weights (transformed input and dout tiles, 36 sgemm calls
 * accumulating over the batch). */
#ifndef STRATA_CONV_WINOGRAD_H
#define STRATA_CONV_WINOGRAD_H
#include <stddef.h>
#include "conv_dims.h"

/* 1 when the layer is 3x3 or 5x5 (r x r), stride 1, padding at most r - 1
 * (so the backward-data padding r - 1 - p >= 0). */
int conv_winograd_fits(const conv_dims *d);
/* Scratch bytes forward and backward need for a batch of n. */
size_t conv_winograd_scratch_bytes(const conv_dims *d, int n);

/* in (n, c, h, w), weight (k, c, r, r), bias (k) or NULL -> out (n, k, oh, ow). */
void conv_winograd_forward(const conv_dims *d, int n, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, int threads);
/* dweight (k, c, r, r) += the weight gradient; dbias (k) += the bias
 * gradient unless dbias is NULL; din (n, c, h, w) = the input gradient
 * unless din is NULL. */
void conv_winograd_backward(const conv_dims *d, int n, const float *in, const float *dout,
                            const float *weight, float *dweight, float *dbias, float *din,
                            float *scratch, int threads);
#endif
