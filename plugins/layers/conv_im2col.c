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
 * `threads` OpenMP threads; the GEMMs (OpenBLAS, its own threads) run
 * outside any parallel region. */
#include <string.h>
#include <cblas.h>
#include "conv_im2col.h"

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

/* img (c, h, w) -> col rows of stride ld, columns [0, oh*ow) of each row. */
static void im2col(float *col, size_t ld, const float *img, const conv_dims *d, int threads)
{
    int KK = d->kh * d->kw;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int r = 0; r < d->c * KK; r++) {
        int c = r / KK, i = r % KK / d->kw, j = r % d->kw;
        const float *x = img + (size_t)c * d->h * d->w;
        float *row = col + r * ld;
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

/* The adjoint: img (c, h, w) = sum of the col entries that read each pixel.
 * Parallel over channels: each channel's rows touch only its own plane. */
static void col2im(float *img, const float *col, size_t ld, const conv_dims *d, int threads)
{
    int KK = d->kh * d->kw;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int c = 0; c < d->c; c++) {
        float *x = img + (size_t)c * d->h * d->w;
        memset(x, 0, sizeof(float) * d->h * d->w);
        for (int ij = 0; ij < KK; ij++) {
            int i = ij / d->kw, j = ij % d->kw, x0, x1;
            const float *row = col + ((size_t)c * KK + ij) * ld;
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
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static)
        for (int b = 0; b < m; b++)
            for (int o = 0; o < d->k; o++) {
                float *y = out + (b0 + b) * osz + (size_t)o * P, bo = bias ? bias[o] : 0.0f;
                const float *s = stage + (size_t)o * T + (size_t)b * P;
                for (int p = 0; p < P; p++)
                    y[p] = s[p] + bo;
            }
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
#pragma omp parallel for collapse(2) num_threads(threads) schedule(static)
        for (int b = 0; b < m; b++)
            for (int o = 0; o < d->k; o++)
                memcpy(stage + (size_t)o * T + (size_t)b * P, dout + (b0 + b) * osz + (size_t)o * P,
                       sizeof(float) * P);
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
