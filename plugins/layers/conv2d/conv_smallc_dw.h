/* conv_smallc_dw.h — the weight and bias gradients of a conv2d layer with few
 * input channels (c <= 4: the RGB first layer) as a vectorised direct
 * computation over the phase layout (conv_smallc_phase.h): no im2col matrix,
 * no GEMM; one pass over dout per block of 4 output channels and band of
 * rows, the bias sum in the same pass. Any kernel, stride, padding. */
#ifndef STRATA_CONV_FIRST_DW_H
#define STRATA_CONV_FIRST_DW_H
#include <stddef.h>
#include "conv_dims.h"

/* Scratch floats conv_smallc_dw needs for a batch of n (its phase buffers
 * bounded by d->budget, at least one image). */
size_t conv_smallc_dw_scratch_floats(const conv_dims *d, int n);

/* in (n, c, h, w), dout (n, k, oh, ow):
 *   dweight[o][c][i][j] += sum_{b,y,x} dout[b][o][y][x] * in[b][c][y*sh-ph+i][x*sw-pw+j]
 *   dbias[o]            += sum_{b,y,x} dout[b][o][y][x]          (unless NULL)
 * Threads share the output channels: the sums do not depend on their count. */
void conv_smallc_dw(const conv_dims *d, int n, const float *in, const float *dout,
                   float *dweight, float *dbias, float *scratch, int threads);
#endif
