/* conv_direct.h — the textbook convolution loops: the reference path of
 * conv2d (algo: direct), slow but plainly correct. */
#ifndef STRATA_CONV_DIRECT_H
#define STRATA_CONV_DIRECT_H
#include "conv_dims.h"

/* in (n, c, h, w), weight (k, c, kh, kw), bias (k) or NULL, out (n, k, oh, ow):
 * out = bias + weight * in (cross-correlation). */
void conv_direct_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out);
/* dweight (k, c, kh, kw) += sum over the batch of dout (x) in;
 * din (n, c, h, w) = weight^T * dout (skipped when din is NULL). */
void conv_direct_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *din);
#endif
