/* conv_smallc_phase.h — the layout the few-channel paths (conv_smallc.c,
 * conv_smallc_dw.c) read their input in: one zero-padded image split by row
 * phase p = r % sh and column phase q = X % sw into planes of rows Y = r / sh
 * at pitch L,
 *   ph[c][p][q][Y][x] = in[c][Y*sh + p - ph][x*sw + q - pw]   (0 outside)
 * for Y < conv_phase_rows, x < L (planes conv_phase_plane floats apart).
 * The input under tap (c, i, j) of the outputs (y, x .. x+15) is then the
 * contiguous run
 *   ph + conv_phase_tap(c, i, j) + y * L + x,      L = conv_phase_row(),
 * one unaligned vector load, whatever the stride. Output rows are L apart
 * in every plane, so when the layout is flat (conv_phase_flat: L is the
 * output width plus the taps' reach, not rounded to 16) a run of
 * m = y*L + x over several rows is still one run: the paths then compute
 * oh * L outputs as one long row (the L - ow columns past ow of each row
 * are garbage, dropped or multiplied by zeros). */
#ifndef STRATA_CONV_FIRST_PHASE_H
#define STRATA_CONV_FIRST_PHASE_H
#include <stddef.h>
#include "conv_dims.h"

static inline size_t conv_round16(size_t n) { return (n + 15) / 16 * 16; }
/* Output columns rounded up to whole vectors of 16. */
static inline int conv_phase_xr(const conv_dims *d) { return (d->ow + 15) / 16 * 16; }
/* Columns a tap reaches past its output column within a phase row. */
static inline int conv_phase_reach(const conv_dims *d) { return (d->kw - 1) / d->sw; }
/* 1 when flat rows (pitch ow + reach) cost at least 5% fewer vectors than
 * rows padded to whole vectors: AlexNet's 55 px (57 vs 64 columns). */
static inline int conv_phase_flat(const conv_dims *d)
{
    size_t flat = conv_round16((size_t)d->oh * (d->ow + conv_phase_reach(d)));
    return flat * 20 <= (size_t)d->oh * conv_phase_xr(d) * 19;
}
/* Floats per row L: flat, ow + reach; else conv_phase_xr plus the reach
 * rounded to 16, so every vector a row of outputs loads lies in the row. */
static inline int conv_phase_row(const conv_dims *d)
{
    if (conv_phase_flat(d))
        return d->ow + conv_phase_reach(d);
    return (int)conv_round16((size_t)conv_phase_xr(d) + conv_phase_reach(d));
}
/* Rows Y a plane holds: those the taps read ((kh-1)/sh past the last
 * output row), and in a flat layout enough beyond for the last vector. */
static inline int conv_phase_rows(const conv_dims *d)
{
    int L = conv_phase_row(d), rows = d->oh + (d->kh - 1) / d->sh;
    if (conv_phase_flat(d))
        rows = (int)(((size_t)rows * L + 16 + conv_phase_reach(d) + L - 1) / L);
    return rows;
}
/* Floats between planes: rows * L rounded to 16 (64-byte aligned planes). */
static inline size_t conv_phase_plane(const conv_dims *d)
{
    return conv_round16((size_t)conv_phase_rows(d) * conv_phase_row(d));
}
/* Floats of one image's phases: c * sh * sw planes. */
static inline size_t conv_phase_floats(const conv_dims *d)
{
    return (size_t)d->c * d->sh * d->sw * conv_phase_plane(d);
}
/* Floats between the runs of output rows y and y + 1: L. */
static inline size_t conv_phase_ystride(const conv_dims *d)
{
    return (size_t)conv_phase_row(d);
}

/* p rounded up to a multiple of 64 bytes (<= 15 floats further): vector
 * loads of whole rows then never split cache lines. */
static inline float *conv_align64(float *p)
{
    return (float *)(((size_t)p + 63) & ~(size_t)63);
}

/* off (R = c*kh*kw): off[(c*kh + i)*kw + j] = where tap (c, i, j) of output
 * (0, 0) reads: ((c*sh + i % sh)*sw + j % sw)*plane + (i / sh)*L + j / sw. */
void conv_phase_taps(const conv_dims *d, int *off);
/* ph (c, sh, sw, plane) from img (c, h, w). */
void conv_phase_fill(float *ph, const float *img, const conv_dims *d);
#endif
