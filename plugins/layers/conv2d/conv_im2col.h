/* conv_im2col.h — conv2d as im2col + sgemm, one image at a time, straight
 * into the NCHW output (the bias folded in as a row of ones), the images of
 * a batch shared out between threads that each run their own im2col and
 * single-threaded GEMMs. Any kernel, stride, padding (algo: im2col; auto
 * for what Winograd does not cover). */
#ifndef STRATA_CONV_IM2COL_H
#define STRATA_CONV_IM2COL_H
#include <stddef.h>
#include "conv_dims.h"

/* Image slots (column buffers) in the workspace for a batch of n (>= 1, <= n). */
int conv_im2col_chunk(const conv_dims *d, int n);
/* Scratch bytes forward and backward need for a batch of n. */
size_t conv_im2col_scratch_bytes(const conv_dims *d, int n);

/* in (n, c, h, w), weight (k, c*kh*kw), bias (k) or NULL -> out (n, k, oh, ow). */
void conv_im2col_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out, float *scratch, int threads);
/* dweight (k, c*kh*kw) += dout (x) im2col(in); din (n, c, h, w) =
 * col2im(weight^T @ dout) unless din is NULL. */
void conv_im2col_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *din, float *scratch,
                          int threads);
/* din (n, c, h, w) = col2im(weight^T @ dout) alone (no weight gradient):
 * images shared between threads, each its own single-threaded GEMM and
 * col2im (the result does not depend on the thread count). */
void conv_im2col_backward_data(const conv_dims *d, int n, const float *dout,
                               const float *weight, float *din, float *scratch, int threads);
#endif
