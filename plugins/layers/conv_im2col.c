/* conv_im2col.c — see conv_im2col.h.
 *
 * With P = oh*ow, R = c*kh*kw and a chunk of nb images (T = nb*P columns):
 *   col   (R, T):  col[(c*kh + i)*kw + j][b*P + y*ow + x] = in[b][c][y*sh-ph+i][x*sw-pw+j]
 *   stage (k, T):  the chunk's outputs (or output gradients) channel-major
 *   forward:   stage = weight (k, R) @ col;  out[b][o][p] = stage[o][b*P+p] + bias[o]
 *   backward:  stage[o][b*P+p] = dout[b][o][p]
 *              dweight (k, R) += stage @ col^T
 *              col = weight^T (R, k) @ stage;  din[b] = col2im(col[:, b*P:(b+1)*P])
 * Scratch: col and stage, (R + k) * T floats. The loops over channels run on
 * `threads` threads (parallel_for); the GEMMs (OpenBLAS, its own threads)
 * run between them, never inside. */
#include <string.h>
#include <cblas.h>
#include "conv_im2col.h"
#include "parallel.h"

int conv_im2col_chunk(const conv_dims *d, int n)
{
    size_t per = ((size_t)d->c * d->kh * d->kw + d->k) * d->oh * d->ow;
    size_t nb = d->budget / (per ? per : 1); /* one image may exceed it */
    if (nb < 1)
        nb = 1;
    return nb < (size_t)n ? (int)nb : (n > 0 ? n : 1);
}

size_t conv_im2col_scratch_bytes(const conv_dims *d, int n)
{
    size_t per = ((size_t)d->c * d->kh * d->kw + d->k) * d->oh * d->ow;
    return sizeof(float) * per * conv_im2col_chunk(d, n);
}

typedef struct cols_job {
    float *col;
    const float *img;
    size_t ld;
    const conv_dims *d;
} cols_job;

/* img (c, h, w) -> col rows [r0, r1) of stride ld, columns [0, oh*ow). */
CONV_CLONES static void im2col_rows(void *arg, int r0, int r1)
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
CONV_CLONES static void col2im_channels(void *arg, int c0, int c1)
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

/* Between NCHW images and the channel-major stage (k, T = m*P):
 * to_stage: stage[o][b*P + p] = img[b][o][p]; else img[b][o][p] = stage[o][b*P + p] + bias[o]. */
typedef struct stage_job {
    float *img, *stage;
    const float *bias;
    int k, P, to_stage;
    size_t T;
} stage_job;

CONV_CLONES static void stage_copy(void *arg, int i0, int i1)
{
    const stage_job *J = arg;
    for (int i = i0; i < i1; i++) {
        int b = i / J->k, o = i % J->k;
        float *y = J->img + ((size_t)b * J->k + o) * J->P;
        float *s = J->stage + (size_t)o * J->T + (size_t)b * J->P;
        if (J->to_stage) {
            memcpy(s, y, sizeof(float) * J->P);
            continue;
        }
        float bo = J->bias ? J->bias[o] : 0.0f;
        for (int p = 0; p < J->P; p++)
            y[p] = s[p] + bo;
    }
}

void conv_im2col_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out, float *scratch, int threads)
{
    int R = d->c * d->kh * d->kw, P = d->oh * d->ow, nb = conv_im2col_chunk(d, n);
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * P;
    for (int b0 = 0; b0 < n; b0 += nb) {
        int m = n - b0 < nb ? n - b0 : nb;
        size_t T = (size_t)m * P;
        float *col = scratch, *stage = scratch + (size_t)R * T;
        for (int b = 0; b < m; b++)
            im2col(col + (size_t)b * P, T, in + (b0 + b) * isz, d, threads);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->k, (int)T, R, 1.0f, weight,
                    R, col, (int)T, 0.0f, stage, (int)T);
        stage_job J = {out + b0 * osz, stage, bias, d->k, P, 0, T};
        parallel_for(threads, m * d->k, stage_copy, &J);
    }
}

void conv_im2col_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *din, float *scratch,
                          int threads)
{
    int R = d->c * d->kh * d->kw, P = d->oh * d->ow, nb = conv_im2col_chunk(d, n);
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * P;
    for (int b0 = 0; b0 < n; b0 += nb) {
        int m = n - b0 < nb ? n - b0 : nb;
        size_t T = (size_t)m * P;
        float *col = scratch, *stage = scratch + (size_t)R * T;
        for (int b = 0; b < m; b++)
            im2col(col + (size_t)b * P, T, in + (b0 + b) * isz, d, threads);
        stage_job J = {(float *)dout + b0 * osz, stage, NULL, d->k, P, 1, T};
        parallel_for(threads, m * d->k, stage_copy, &J);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->k, R, (int)T, 1.0f, stage,
                    (int)T, col, (int)T, 1.0f, dweight, R);
        if (!din)
            continue;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, R, (int)T, d->k, 1.0f, weight, R,
                    stage, (int)T, 0.0f, col, (int)T);
        for (int b = 0; b < m; b++)
            col2im(din + (b0 + b) * isz, col + (size_t)b * P, T, d, threads);
    }
}
