/* conv_bias.h — conv2d's bias gradient: the sum of the output gradient
 * over the batch and the positions, vectorised and split over threads. */
#ifndef STRATA_CONV_BIAS_H
#define STRATA_CONV_BIAS_H
#include <stddef.h>
#include "conv_dims.h"

/* dbias (oc) += sum_{b < n, p < P} dout[b][o][p], dout (n, oc, P). */
void conv_bias_backward(float *dbias, const float *dout, int n, int oc, size_t P, int threads);
#endif
