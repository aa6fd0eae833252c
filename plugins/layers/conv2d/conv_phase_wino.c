/* conv_phase_wino.c — see conv_phase_wino.h. The phase planes of a chunk
 * of images are built in the scratch (nb images: as many as the layer's
 * budget holds, at least one), then conv_winograd.c runs on them. */
#include <stdio.h>
#include <string.h>
#include "common/parallel.h"
#include "common/simd.h"
#include "conv_phase_wino.h"
#include "conv_winograd.h"

static int phase_r(const conv_dims *d) { return (d->kh + d->sh - 1) / d->sh; }

/* The stride-1 convolution of the phase planes: c s^2 channels of
 * (oh + r - 1) x (ow + r - 1), an r x r kernel, no padding, same k, oh, ow. */
static conv_dims phase_dims(const conv_dims *d)
{
    conv_dims e = *d;
    int r = phase_r(d);
    e.c = d->c * d->sh * d->sw;
    e.kh = e.kw = r;
    e.sh = e.sw = 1;
    e.ph = e.pw = 0;
    e.h = d->oh + r - 1;
    e.w = d->ow + r - 1;
    return e;
}

int conv_phase_wino_fits(const conv_dims *d)
{
    if (d->kh != d->kw || d->sh != d->sw || d->sh < 2 || d->sh > 16)
        return 0;
    conv_dims e = phase_dims(d);
    return conv_winograd_fits(&e);
}

/* Measured against smallc (t/bench_conv, batch 32, 2 threads, AlexNet's
 * 3 -> 48 11x11 stride 4; bench/README.md, "The strided first layer"):
 * 55x55 and 27x27 outputs (224 and 112 px) faster at AVX-512 and AVX2,
 * 15x15 (64 px: 3 tiles a row, gathered segments) not. */
int conv_phase_wino_auto(const conv_dims *d)
{
    return conv_phase_wino_fits(d) && d->c * d->sh * d->sw >= 16 && d->k >= 16 && d->oh >= 20 &&
           d->ow >= 20;
}

void conv_phase_wino_describe(const conv_dims *d, char *buf, size_t size)
{
    conv_dims e = phase_dims(d);
    char w[96];
    conv_winograd_describe(&e, 0, w, sizeof w); /* the forward pass's (it is mostly a first layer) */
    snprintf(buf, size, "%s of %d phase planes", w, e.c);
}

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }
static size_t plane_floats(const conv_dims *e) { return (size_t)e->h * e->w; }
static size_t kernel_floats(const conv_dims *e) { return round16((size_t)e->k * e->c * e->kh * e->kw); }

/* Images per chunk: their planes within the budget, at least one. */
static int chunk_images(const conv_dims *d, int n)
{
    conv_dims e = phase_dims(d);
    size_t nb = d->budget / ((size_t)e.c * plane_floats(&e));
    if (nb < 1)
        nb = 1;
    return (int)(nb < (size_t)n ? nb : (size_t)n);
}

/* Scratch: w', dw' (the phase kernel and its gradient), the planes of nb
 * images, then Winograd's scratch for nb images. */
size_t conv_phase_wino_scratch_bytes(const conv_dims *d, int n)
{
    conv_dims e = phase_dims(d);
    int nb = chunk_images(d, n);
    size_t planes = round16((size_t)nb * e.c * plane_floats(&e));
    return sizeof(float) * (2 * kernel_floats(&e) + planes) + conv_winograd_scratch_bytes(&e, nb);
}

/* w'[o][(c s + p) s + q][a][b] = w[o][c][a s + p][b s + q], 0 past the kernel. */
static void phase_kernel(float *wp, const float *w, const conv_dims *d)
{
    int s = d->sh, r = phase_r(d), C = d->c * s * s;
    for (int o = 0; o < d->k; o++)
        for (int cc = 0; cc < C; cc++)
            for (int a = 0; a < r; a++)
                for (int b = 0; b < r; b++) {
                    int c = cc / (s * s), i = a * s + cc / s % s, j = b * s + cc % s;
                    wp[((size_t)(o * C + cc) * r + a) * r + b] =
                        i < d->kh && j < d->kw ? w[((size_t)(o * d->c + c) * d->kh + i) * d->kw + j]
                                               : 0.0f;
                }
}

/* dw[o][c][i][j] += dw'[o][(c s + i % s) s + j % s][i / s][j / s]: the
 * adjoint of phase_kernel on the taps that exist. */
static void unphase_kernel(float *dw, const float *dwp, const conv_dims *d)
{
    int s = d->sh, r = phase_r(d), C = d->c * s * s;
    for (int o = 0; o < d->k; o++)
        for (int c = 0; c < d->c; c++)
            for (int i = 0; i < d->kh; i++)
                for (int j = 0; j < d->kw; j++) {
                    int cc = (c * s + i % s) * s + j % s;
                    dw[((size_t)(o * d->c + c) * d->kh + i) * d->kw + j] +=
                        dwp[((size_t)(o * C + cc) * r + i / s) * r + j / s];
                }
}

typedef struct phase_job {
    const conv_dims *d, *e;
    const float *src;
    float *dst;
} phase_job;

/* dst[q][x] = row[x s + q] for x in [x0, x1), q < s: one input row into
 * the s column phases' rows (dst[q] = dst0 + q * pitch). Strides 2 and 4
 * with the stride a constant, so the loads of a group are one interleaved
 * access the compiler vectorises with shuffles; others one by one. */
STRATA_MULTIVERSION(void, split_row,
                    (float *dst0, size_t pitch, const float *restrict row, int s, int x0, int x1),
                    (dst0, pitch, row, s, x0, x1))
{
    if (s == 4) {
        float *restrict d0 = dst0, *restrict d1 = dst0 + pitch, *restrict d2 = dst0 + 2 * pitch,
                        *restrict d3 = dst0 + 3 * pitch;
        for (int x = x0; x < x1; x++) {
            d0[x] = row[4 * x];
            d1[x] = row[4 * x + 1];
            d2[x] = row[4 * x + 2];
            d3[x] = row[4 * x + 3];
        }
    } else if (s == 2) {
        float *restrict d0 = dst0, *restrict d1 = dst0 + pitch;
        for (int x = x0; x < x1; x++) {
            d0[x] = row[2 * x];
            d1[x] = row[2 * x + 1];
        }
    } else
        for (int q = 0; q < s; q++)
            for (int x = x0; x < x1; x++)
                dst0[q * pitch + x] = row[x * s + q];
}

/* The columns of the s column phases: phase q's inside the image are
 * [x0[q], x1[q]); [xa, xb) are inside for every phase (empty: xa >= xb). */
typedef struct col_ranges {
    int x0[16], x1[16], xa, xb;
} col_ranges;

static col_ranges phase_columns(const conv_dims *d, const conv_dims *e)
{
    col_ranges c = {.xa = 0, .xb = e->w};
    for (int q = 0; q < d->sw; q++) {
        conv_valid_range(e->w, d->w, d->sw, d->pw, q, &c.x0[q], &c.x1[q]);
        c.xa = c.x0[q] > c.xa ? c.x0[q] : c.xa;
        c.xb = c.x1[q] < c.xb ? c.x1[q] : c.xb;
    }
    return c;
}

/* A plane row of each column phase q (P + q plane) from image row img_row
 * (NULL: outside the image, all 0): P[q][x] = img_row[x s + q - pw], 0
 * outside. The columns every phase has, [xa, xb), go through split_row;
 * each phase's other inside columns one by one. */
static void fill_row(float *P, size_t plane, const conv_dims *d, const conv_dims *e, const col_ranges *c,
                     const float *img_row)
{
    int s = d->sw, common = c->xa < c->xb;
    for (int q = 0; q < s; q++) {
        float *row = P + q * plane;
        if (!img_row) {
            memset(row, 0, sizeof(float) * e->w);
            continue;
        }
        int lo = common ? c->xa : c->x1[q], hi = common ? c->xb : c->x1[q]; /* split_row's part: [lo, hi) */
        for (int x = 0; x < c->x0[q]; x++)
            row[x] = 0.0f;
        for (int x = c->x0[q]; x < lo; x++)
            row[x] = img_row[x * s + q - d->pw];
        for (int x = hi; x < c->x1[q]; x++)
            row[x] = img_row[x * s + q - d->pw];
        for (int x = c->x1[q]; x < e->w; x++)
            row[x] = 0.0f;
    }
    if (img_row && common)
        split_row(P + c->xa, plane, img_row + c->xa * s - d->pw, s, 0, c->xb - c->xa);
}

/* Planes of image b, channel c, row phase p (i = (b c + c) s + p: the s
 * column phases' planes): P[...][y][x] = img[c][y s + p - ph][x s + q - pw],
 * 0 outside. */
static void fill_planes(void *arg, int i0, int i1)
{
    const phase_job *J = arg;
    const conv_dims *d = J->d, *e = J->e;
    int s = d->sh;
    size_t hw = (size_t)d->h * d->w, plane = plane_floats(e);
    col_ranges cols = phase_columns(d, e);
    for (int i = i0; i < i1; i++) {
        int bc = i / s, p = i % s; /* bc = b * c + channel: planes (bc s + p) s + q */
        const float *img = J->src + (size_t)bc * hw;
        float *P = J->dst + (size_t)(bc * s + p) * s * plane;
        for (int y = 0; y < e->h; y++) {
            int iy = y * s + p - d->ph;
            fill_row(P + (size_t)y * e->w, plane, d, e, &cols,
                     iy < 0 || iy >= d->h ? NULL : img + (size_t)iy * d->w);
        }
    }
}

/* Image planes [i0, i1) (i = image * c + channel) of din from the planes'
 * gradient at src: each input pixel is one plane position (or none: rows
 * and columns no tap reaches get 0). */
static void scatter_planes(void *arg, int i0, int i1)
{
    const phase_job *J = arg;
    const conv_dims *d = J->d, *e = J->e;
    int s = d->sh;
    for (int i = i0; i < i1; i++) {
        int b = i / d->c, c = i % d->c;
        float *img = J->dst + (size_t)i * d->h * d->w;
        const float *P = J->src + ((size_t)b * e->c + (size_t)c * s * s) * plane_floats(e);
        for (int iy = 0; iy < d->h; iy++) {
            int Y = iy + d->ph, y = Y / s;
            for (int ix = 0; ix < d->w; ix++) {
                int X = ix + d->pw, x = X / s;
                img[(size_t)iy * d->w + ix] =
                    y < e->h && x < e->w
                        ? P[((size_t)(Y % s) * s + X % s) * plane_floats(e) + (size_t)y * e->w + x]
                        : 0.0f;
            }
        }
    }
}

static void build_planes(float *P, const float *in, const conv_dims *d, const conv_dims *e, int m,
                         int threads)
{
    phase_job J = {d, e, in, P};
    parallel_for(threads, m * d->c * d->sh, fill_planes, &J);
}

size_t conv_phase_wino_saved_floats(const conv_dims *d, int n)
{
    conv_dims e = phase_dims(d);
    return conv_winograd_saved_floats(&e, n);
}

/* The kept V of images [b0, ...) (a pass's V is laid out by tile rows, an
 * image's rows after the previous image's). */
static float *kept_from(const conv_dims *e, const float *keep, int b0)
{
    return keep ? (float *)keep + conv_winograd_saved_floats(e, 1) * b0 : NULL;
}

void conv_phase_wino_forward(const conv_dims *d, int n, const float *in, const float *weight,
                             const float *bias, float *out, float *scratch, float *keep, int threads)
{
    conv_dims e = phase_dims(d);
    int nb = chunk_images(d, n);
    size_t img = (size_t)d->c * d->h * d->w, outs = (size_t)d->k * d->oh * d->ow;
    float *wp = scratch, *P = wp + 2 * kernel_floats(&e);
    float *work = P + round16((size_t)nb * e.c * plane_floats(&e));
    phase_kernel(wp, weight, d);
    for (int b0 = 0; b0 < n; b0 += nb) {
        int m = n - b0 < nb ? n - b0 : nb;
        build_planes(P, in + b0 * img, d, &e, m, threads);
        conv_winograd_forward(&e, m, P, wp, bias, out + b0 * outs, work, kept_from(&e, keep, b0), threads);
    }
}

/* Winograd's backward on the planes; with din, its input gradient is
 * written over the planes themselves (conv_winograd_backward reads its
 * input only before it writes din) and scattered back to din. With the
 * forward pass's V kept (and used), the planes are not built again. */
void conv_phase_wino_backward(const conv_dims *d, int n, const float *in, const float *dout,
                              const float *weight, float *dweight, float *dbias, float *din,
                              float *scratch, const float *kept, int threads)
{
    conv_dims e = phase_dims(d);
    int nb = chunk_images(d, n);
    size_t img = (size_t)d->c * d->h * d->w, outs = (size_t)d->k * d->oh * d->ow;
    float *wp = scratch, *dwp = wp + kernel_floats(&e), *P = dwp + kernel_floats(&e);
    float *work = P + round16((size_t)nb * e.c * plane_floats(&e));
    if (din)
        phase_kernel(wp, weight, d);
    memset(dwp, 0, sizeof(float) * kernel_floats(&e));
    for (int b0 = 0; b0 < n; b0 += nb) {
        int m = n - b0 < nb ? n - b0 : nb;
        const float *k = kept_from(&e, kept, b0);
        if (!k)
            build_planes(P, in + b0 * img, d, &e, m, threads);
        conv_winograd_backward(&e, m, P, dout + b0 * outs, wp, dwp, dbias, din ? P : NULL, work, k,
                               threads);
        if (din) {
            phase_job J = {d, &e, P, din + b0 * img};
            parallel_for(threads, m * d->c, scatter_planes, &J);
        }
    }
    unphase_kernel(dweight, dwp, d);
}
