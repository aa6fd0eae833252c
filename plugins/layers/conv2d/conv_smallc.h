/* conv_smallc.h — conv2d for layers with few input channels (the RGB first
 * layer: VGG's 3x3, AlexNet's 11x11 stride 4) as vectorised direct
 * convolutions: im2col's GEMMs have K = c*kh*kw = 27 there (forward) or
 * M = k, N = 27 (weights) and are bound by passes over memory; these write
 * each output once and read dout once per band. Forward here; dweight and
 * dbias in conv_smallc_dw.c; din (a layer that is not the first) by im2col.
 * Any kernel, stride, padding (algo: smallc; auto for c <= 4). Results do
 * not depend on the thread count. */
#ifndef STRATA_CONV_SMALLC_H
#define STRATA_CONV_SMALLC_H
#include <stddef.h>
#include "conv_dims.h"

/* 1 when c <= 4. */
int conv_smallc_fits(const conv_dims *d);
/* Scratch bytes forward and backward need for a batch of n. */
size_t conv_smallc_scratch_bytes(const conv_dims *d, int n);

/* in (n, c, h, w), weight (k, c, kh, kw), bias (k) or NULL -> out (n, k, oh, ow). */
void conv_smallc_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out, float *scratch, int threads);
/* dweight (k, c, kh, kw) += sum over the batch of dout (x) in's windows;
 * dbias (k) += sum of dout over batch and positions (unless NULL);
 * din = the adjoint of forward applied to dout (unless NULL). */
void conv_smallc_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *dbias, float *din,
                          float *scratch, int threads);
#endif
