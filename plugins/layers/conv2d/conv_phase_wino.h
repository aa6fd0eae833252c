/* conv_phase_wino.h — a strided convolution with few input channels
 * (AlexNet's first layer: 3 -> 48, 11x11, stride 4) as a stride-1
 * Winograd convolution over the input's phase planes.
 *
 * With stride s (both ways) and the padded input split by row phase
 * p = Y % s and column phase q = X % s,
 *   P[c s s + p s + q][y][x] = in[c][y s + p - ph][x s + q - pw]  (0 outside)
 * a tap (i, j) = (a s + p, b s + q) of output (y, x) reads P[c,p,q][y + a][x + b]:
 * the layer is an unpadded stride-1 convolution of the c s^2 phase planes
 * (oh + r - 1 rows, ow + r - 1 columns) with an r x r kernel,
 * r = ceil(kh / s),
 *   w'[o][c s s + p s + q][a][b] = w[o][c][a s + p][b s + q]  (0 past kh, kw).
 * For AlexNet r = 3 on 48 planes: 3 x 3 x 48 = 432 multiply-adds an output
 * against 11 x 11 x 3 = 363 direct, but Winograd F(5x5, 3x3) does the
 * 3x3 ones with 49 / 25 multiplies per 9: about a third of the direct
 * convolution's multiplies, as 49 GEMMs of 48 x 48 by 48 x tiles.
 * Backward-weights is Winograd's on the same planes, folded back (the
 * zero taps' gradients dropped); the input gradient is Winograd's
 * backward-data on the planes, scattered back to the image. */
#ifndef STRATA_CONV_PHASE_WINO_H
#define STRATA_CONV_PHASE_WINO_H
#include <stddef.h>
#include "conv_dims.h"

/* 1 when the layer is square with stride 2 <= s <= 16 both ways and its
 * phase kernel ceil(kh / s) is 3 or 5 (padding any). */
int conv_phase_wino_fits(const conv_dims *d);
/* 1 when it fits and is worth it: c s^2 >= 16 phase planes and k >= 16
 * (Winograd's GEMMs too small otherwise), outputs at least 20x20 (smaller
 * maps were no faster than smallc's direct convolution). */
int conv_phase_wino_auto(const conv_dims *d);
/* Scratch bytes forward and backward need for a batch of n. */
size_t conv_phase_wino_scratch_bytes(const conv_dims *d, int n);
/* "winograd F(mxm,rxr) of N phase planes" into buf (size bytes). */
void conv_phase_wino_describe(const conv_dims *d, char *buf, size_t size);

/* Floats of the planes' transformed input that forward can keep for
 * backward (conv_winograd_saved_floats of the phase convolution), or 0. */
size_t conv_phase_wino_saved_floats(const conv_dims *d, int n);

/* in (n, c, h, w), weight (k, c, kh, kw), bias (k) or NULL -> out (n, k, oh, ow).
 * keep: NULL or conv_phase_wino_saved_floats(d, n) floats. */
void conv_phase_wino_forward(const conv_dims *d, int n, const float *in, const float *weight,
                             const float *bias, float *out, float *scratch, float *keep, int threads);
/* dweight (k, c, kh, kw) += the weight gradient; dbias (k) += the bias
 * gradient unless NULL; din (n, c, h, w) = the input gradient unless NULL.
 * kept: NULL or what forward's keep got from this in. */
void conv_phase_wino_backward(const conv_dims *d, int n, const float *in, const float *dout,
                              const float *weight, float *dweight, float *dbias, float *din,
                              float *scratch, const float *kept, int threads);
#endif
