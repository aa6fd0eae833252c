/* conv_im2col.c — see conv_im2col.h.
 *
 * With P = oh*ow, R = c*kh*kw, one image at a time:
 *   col (R+1, P):  col[(c*kh + i)*kw + j][y*ow + x] = in[c][y*sh-ph+i][x*sw-pw+j],
 *                  col[R][.] = 1 (the bias row)
 *   wb  (k, R+1):  [weight | bias]
 *   forward:   out[b] (k, P) = wb @ col           (bias folded into the GEMM:
 *              no pass over the output after it)
 *   backward:  dweight (k, R) += dout[b] (k, P) @ col[:R]^T
 *              col[:R] = weight^T (R, k) @ dout[b];  din[b] = col2im(col[:R])
 * Outputs and output gradients are used in place (NCHW planes are the (k, P)
 * matrices), so nothing is copied around the GEMMs.
 * Threads: with two or more image slots in the workspace, each thread takes
 * a contiguous share of the batch and runs its im2col, GEMMs (on one
 * OpenBLAS thread) and col2im alone: no fork-join between the steps and no
 * OpenBLAS synchronisation inside the (often narrow, K = 27 .. 1200) GEMMs.
 * Backward-weights accumulates per group of images (a fixed split of the
 * batch, at most 8 groups, whatever the thread count: the same sums with 1
 * or 2 threads), group 0 into dweight, the others into their slot's (k, R)
 * buffer, added in order at the end. With one slot (a workspace smaller
 * than two images) or one thread, images go one after the other:
 * im2col/col2im on parallel_for, the GEMMs on OpenBLAS's threads.
 * Scratch: wb, then per slot col (R+1, P) and a (k, R) gradient buffer. */
#include <string.h>
#include <cblas.h>
#include "conv_im2col.h"
#include "common/parallel.h"
#include "common/simd.h"

typedef struct cols_job {
    float *col;
    const float *img;
    size_t ld;
    const conv_dims *d;
} cols_job;

/* img (c, h, w) -> col rows [r0, r1) of stride ld, columns [0, oh*ow). */
STRATA_MULTIVERSION(void, im2col_rows, (void *arg, int r0, int r1), (arg, r0, r1))
{
    const cols_job *J = arg;
    const conv_dims *d = J->d;
    int KK = d->kh * d->kw;
    for (int r = r0; r < r1; r++) {
        int c = r / KK, i = r % KK / d->kw, j = r % d->kw;
        const float *x = J->img + (size_t)c * d->h * d->w;
        float *row = J->col + r * J->ld;
        int x0, x1;
        conv_valid_range(d->ow, d->w, d->sw, d->pw, j, &x0, &x1);
        for (int y = 0; y < d->oh; y++) {
            int iy = y * d->sh - d->ph + i;
            float *o = row + (size_t)y * d->ow;
            if (iy < 0 || iy >= d->h) {
                memset(o, 0, sizeof(float) * d->ow);
                continue;
            }
            const float *src = x + (size_t)iy * d->w - d->pw + j;
            for (int ox = 0; ox < x0; ox++)
                o[ox] = 0.0f;
            if (d->sw == 1)
                memcpy(o + x0, src + x0, sizeof(float) * (x1 - x0));
            else
                for (int ox = x0; ox < x1; ox++)
                    o[ox] = src[ox * d->sw];
            for (int ox = x1; ox < d->ow; ox++)
                o[ox] = 0.0f;
        }
    }
}

/* The adjoint, channels [c0, c1): img (c, h, w) = sum of the col entries
 * that read each pixel (each channel's rows touch only its own plane). */
STRATA_MULTIVERSION(void, col2im_channels, (void *arg, int c0, int c1), (arg, c0, c1))
{
    const cols_job *J = arg;
    const conv_dims *d = J->d;
    int KK = d->kh * d->kw;
    for (int c = c0; c < c1; c++) {
        float *x = (float *)J->img + (size_t)c * d->h * d->w;
        memset(x, 0, sizeof(float) * d->h * d->w);
        for (int ij = 0; ij < KK; ij++) {
            int i = ij / d->kw, j = ij % d->kw, x0, x1;
            const float *row = J->col + ((size_t)c * KK + ij) * J->ld;
            conv_valid_range(d->ow, d->w, d->sw, d->pw, j, &x0, &x1);
            for (int y = 0; y < d->oh; y++) {
                int iy = y * d->sh - d->ph + i;
                if (iy < 0 || iy >= d->h)
                    continue;
                float *dst = x + (size_t)iy * d->w - d->pw + j;
                const float *s = row + (size_t)y * d->ow;
                if (d->sw == 1)
                    for (int ox = x0; ox < x1; ox++)
                        dst[ox] += s[ox];
                else
                    for (int ox = x0; ox < x1; ox++)
                        dst[ox * d->sw] += s[ox];
            }
        }
    }
}

static void im2col(float *col, size_t ld, const float *img, const conv_dims *d, int threads)
{
    cols_job J = {col, img, ld, d};
    parallel_for(threads, d->c * d->kh * d->kw, im2col_rows, &J);
}

static void col2im(float *img, const float *col, size_t ld, const conv_dims *d, int threads)
{
    cols_job J = {(float *)col, img, ld, d};
    parallel_for(threads, d->c, col2im_channels, &J);
}

static size_t slot_floats(const conv_dims *d)
{
    size_t R = (size_t)d->c * d->kh * d->kw, P = (size_t)d->oh * d->ow;
    return (R + 1) * P + (size_t)d->k * R;
}

int conv_im2col_chunk(const conv_dims *d, int n)
{
    size_t nb = d->budget / slot_floats(d); /* one image may exceed it */
    if (nb < 1)
        nb = 1;
    return nb < (size_t)n ? (int)nb : (n > 0 ? n : 1);
}

size_t conv_im2col_scratch_bytes(const conv_dims *d, int n)
{
    size_t R = (size_t)d->c * d->kh * d->kw;
    return sizeof(float) * ((size_t)d->k * (R + 1) + slot_floats(d) * conv_im2col_chunk(d, n));
}

/* The work of one call: images [0, n), `parts` threads (1: one after the
 * other, with `threads` for the copies and OpenBLAS's for the GEMMs). */
typedef struct img_job {
    const conv_dims *d;
    int n, parts, threads, bias;
    const float *in, *wb, *weight, *dout;
    float *out, *din, *dweight, *slots;
} img_job;

/* out[b] (k, P) = wb @ [im2col(in[b]); 1] for b in [b0, b1), in slot s. */
static void forward_images(const img_job *J, int b0, int b1, int s, int threads)
{
    const conv_dims *d = J->d;
    int R = d->c * d->kh * d->kw, P = d->oh * d->ow, K = R + (J->bias ? 1 : 0);
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * P;
    float *col = J->slots + s * slot_floats(d);
    if (J->bias)
        for (int p = 0; p < P; p++)
            col[(size_t)R * P + p] = 1.0f;
    for (int b = b0; b < b1; b++) {
        im2col(col, P, J->in + b * isz, d, threads);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->k, P, K, 1.0f, J->wb, R + 1,
                    col, P, 0.0f, J->out + b * osz, P);
    }
}

/* din[b] = col2im(weight^T (R, k) @ dout[b] (k, P)), through col (R, P). */
static void backward_data_image(const img_job *J, int b, float *col, int threads)
{
    const conv_dims *d = J->d;
    int R = d->c * d->kh * d->kw, P = d->oh * d->ow;
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * P;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, R, P, d->k, 1.0f, J->weight, R,
                J->dout + b * osz, P, 0.0f, col, P);
    col2im(J->din + b * isz, col, P, d, threads);
}

/* dw (k, R) += dout[b] @ im2col(in[b])^T; din[b] = col2im(weight^T @ dout[b]). */
static void backward_images(const img_job *J, int b0, int b1, int s, float *dw, int threads)
{
    const conv_dims *d = J->d;
    int R = d->c * d->kh * d->kw, P = d->oh * d->ow;
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * P;
    float *col = J->slots + s * slot_floats(d);
    for (int b = b0; b < b1; b++) {
        const float *dy = J->dout + b * osz;
        im2col(col, P, J->in + b * isz, d, threads);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->k, R, P, 1.0f, dy, P, col, P,
                    1.0f, dw, R);
        if (J->din)
            backward_data_image(J, b, col, threads);
    }
}

/* din only, images [b0, b1) in slot s. */
static void backward_data_images(const img_job *J, int b0, int b1, int s, int threads)
{
    for (int b = b0; b < b1; b++)
        backward_data_image(J, b, J->slots + s * slot_floats(J->d), threads);
}

static void data_part(void *arg, int t0, int t1)
{
    const img_job *J = arg;
    for (int t = t0; t < t1; t++)
        backward_data_images(J, (int)((long)J->n * t / J->parts),
                             (int)((long)J->n * (t + 1) / J->parts), t, 1);
}

static void forward_part(void *arg, int t0, int t1)
{
    const img_job *J = arg;
    for (int t = t0; t < t1; t++)
        forward_images(J, (int)((long)J->n * t / J->parts), (int)((long)J->n * (t + 1) / J->parts),
                       t, 1);
}

/* Backward splits the batch into a fixed number of groups (slots, at most
 * GRAD_GROUPS: not the thread count, so the sums do not depend on it), each
 * summing its images' weight gradient in turn into its own buffer (group 0:
 * dweight itself), added in group order after. Worker w of J->parts takes
 * groups [G*w/parts, G*(w+1)/parts), each group its slot's col buffer. */
#define GRAD_GROUPS 8
typedef struct grad_job {
    const img_job *J;
    int groups;
} grad_job;

static float *group_dw(const img_job *J, int g)
{
    const conv_dims *d = J->d;
    size_t kr = (size_t)d->k * d->c * d->kh * d->kw;
    return g ? J->slots + (g + 1) * slot_floats(d) - kr : J->dweight;
}

static void backward_group(const img_job *J, int G, int g, int threads)
{
    const conv_dims *d = J->d;
    size_t kr = (size_t)d->k * d->c * d->kh * d->kw;
    float *dw = group_dw(J, g);
    if (g)
        memset(dw, 0, sizeof(float) * kr);
    backward_images(J, (int)((long)J->n * g / G), (int)((long)J->n * (g + 1) / G), g, dw, threads);
}

static void backward_part(void *arg, int w0, int w1)
{
    const grad_job *B = arg;
    for (int w = w0; w < w1; w++)
        for (int g = B->groups * w / B->J->parts; g < B->groups * (w + 1) / B->J->parts; g++)
            backward_group(B->J, B->groups, g, 1);
}

/* Runs fn over J->parts threads, each GEMM on one OpenBLAS thread (the
 * host sets one for the layer, asked by conv2d's blas_threads). */
static void run_parts(img_job *J, parallel_task fn)
{
    parallel_for(J->parts, J->parts, fn, J);
}

static int parts_for(const conv_dims *d, int n, int threads)
{
    int slots = conv_im2col_chunk(d, n), p = threads < slots ? threads : slots;
    return p < n ? p : n;
}

void conv_im2col_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out, float *scratch, int threads)
{
    int R = d->c * d->kh * d->kw;
    float *wb = scratch;
    for (int o = 0; o < d->k; o++) {
        memcpy(wb + (size_t)o * (R + 1), weight + (size_t)o * R, sizeof(float) * R);
        wb[(size_t)o * (R + 1) + R] = bias ? bias[o] : 0.0f;
    }
    img_job J = {d, n, parts_for(d, n, threads), threads, bias != NULL, in, wb, weight, NULL,
                 out, NULL, NULL, scratch + (size_t)d->k * (R + 1)};
    if (J.parts >= 2)
        run_parts(&J, forward_part);
    else
        forward_images(&J, 0, n, 0, threads);
}

void conv_im2col_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *din, float *scratch,
                          int threads)
{
    int R = d->c * d->kh * d->kw, G = conv_im2col_chunk(d, n);
    size_t kr = (size_t)d->k * R;
    G = G < GRAD_GROUPS ? G : GRAD_GROUPS;
    img_job J = {d, n, threads < G ? threads : G, threads, 0, in, NULL, weight, dout,
                 NULL, din, dweight, scratch + (size_t)d->k * (R + 1)};
    grad_job B = {&J, G};
    if (J.parts >= 2) {
        parallel_for(J.parts, J.parts, backward_part, &B);
    } else
        for (int g = 0; g < G; g++)
            backward_group(&J, G, g, threads);
    for (int g = 1; g < G; g++) {
        const float *dw = group_dw(&J, g);
        for (size_t i = 0; i < kr; i++)
            dweight[i] += dw[i];
    }
}

void conv_im2col_backward_data(const conv_dims *d, int n, const float *dout,
                               const float *weight, float *din, float *scratch, int threads)
{
    int R = d->c * d->kh * d->kw;
    img_job J = {d, n, parts_for(d, n, threads), threads, 0, NULL, NULL, weight, dout,
                 NULL, din, NULL, scratch + (size_t)d->k * (R + 1)};
    run_parts(&J, data_part); /* single-threaded GEMMs even for one part: the
                                 same sums whatever the thread count */
}
