/* conv_first_phase.h — the layout the few-channel paths (conv_smallc.c,
 * conv_first_dw.c) read their input in: one zero-padded image split into
 * sw column phases per padded row,
 *   ph[c][r][q][x] = in[c][r - ph][x*sw + q - pw]     (0 outside the image)
 * for r < h + 2*ph, q < sw, x < L. The input under tap (c, i, j) of the
 * outputs (y, x .. x+15) is then the contiguous run
 *   ph + conv_phase_tap(c, i, j) + y * conv_phase_ystride() + x,
 * one unaligned vector load, whatever the stride. */
#ifndef STRATA_CONV_FIRST_PHASE_H
#define STRATA_CONV_FIRST_PHASE_H
#include <stddef.h>
#include "conv_dims.h"

/* Output columns rounded up to whole vectors of 16. */
static inline int conv_phase_xr(const conv_dims *d) { return (d->ow + 15) / 16 * 16; }
/* Floats per phase row L: conv_phase_xr plus the taps' reach (kw-1)/sw,
 * rounded to 16, so every vector a path loads lies inside the row. */
static inline int conv_phase_row(const conv_dims *d)
{
    return (conv_phase_xr(d) + (d->kw - 1) / d->sw + 15) / 16 * 16;
}
/* Floats of one image's phases: c * (h + 2*ph) * sw * L. */
static inline size_t conv_phase_floats(const conv_dims *d)
{
    return (size_t)d->c * (d->h + 2 * d->ph) * d->sw * conv_phase_row(d);
}
/* Floats between the runs of output rows y and y + 1: sh * sw * L. */
static inline size_t conv_phase_ystride(const conv_dims *d)
{
    return (size_t)d->sh * d->sw * conv_phase_row(d);
}

/* p rounded up to a multiple of 64 bytes (<= 15 floats further): vector
 * loads of whole rows then never split cache lines. */
static inline float *conv_align64(float *p)
{
    return (float *)(((size_t)p + 63) & ~(size_t)63);
}

/* off (R = c*kh*kw): off[(c*kh + i)*kw + j] = where tap (c, i, j) of output
 * (0, 0) reads: ((c*Hp + i)*sw + j % sw)*L + j / sw. */
void conv_phase_taps(const conv_dims *d, int *off);
/* ph (c, h + 2*ph, sw, L) from img (c, h, w). */
void conv_phase_fill(float *ph, const float *img, const conv_dims *d);
#endif
