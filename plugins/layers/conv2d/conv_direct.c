/* conv_direct.c — see conv_direct.h. Loops ordered so the innermost runs
 * along an output row (contiguous when the stride is 1). */
#include <string.h>
#include "conv_direct.h"

/* out[b][o][y][x] = bias[o] + sum_{c,i,j} weight[o][c][i][j] *
 *                   in[b][c][y*sh - ph + i][x*sw - pw + j]   (0 outside) */
void conv_direct_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out)
{
    size_t isz = (size_t)d->h * d->w, osz = (size_t)d->oh * d->ow;
    for (int b = 0; b < n; b++)
        for (int o = 0; o < d->k; o++) {
            float *y = out + ((size_t)b * d->k + o) * osz;
            for (size_t p = 0; p < osz; p++)
                y[p] = bias ? bias[o] : 0.0f;
            for (int c = 0; c < d->c; c++) {
                const float *x = in + ((size_t)b * d->c + c) * isz;
                const float *wt = weight + ((size_t)o * d->c + c) * d->kh * d->kw;
                for (int i = 0; i < d->kh; i++) {
                    int y0, y1;
                    conv_valid_range(d->oh, d->h, d->sh, d->ph, i, &y0, &y1);
                    for (int j = 0; j < d->kw; j++) {
                        int x0, x1;
                        float w = wt[i * d->kw + j];
                        conv_valid_range(d->ow, d->w, d->sw, d->pw, j, &x0, &x1);
                        for (int oy = y0; oy < y1; oy++) {
                            const float *row = x + (size_t)(oy * d->sh - d->ph + i) * d->w;
                            float *orow = y + (size_t)oy * d->ow;
                            for (int ox = x0; ox < x1; ox++)
                                orow[ox] += w * row[ox * d->sw - d->pw + j];
                        }
                    }
                }
            }
        }
}

/* dweight[o][c][i][j] += sum_{b,y,x} dout[b][o][y][x] * in[b][c][y*sh-ph+i][x*sw-pw+j]
 * din[b][c][y*sh-ph+i][x*sw-pw+j] += weight[o][c][i][j] * dout[b][o][y][x], din = 0 first */
void conv_direct_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *din)
{
    size_t isz = (size_t)d->h * d->w, osz = (size_t)d->oh * d->ow;
    if (din)
        memset(din, 0, sizeof(float) * n * d->c * isz);
    for (int b = 0; b < n; b++)
        for (int o = 0; o < d->k; o++) {
            const float *dy = dout + ((size_t)b * d->k + o) * osz;
            for (int c = 0; c < d->c; c++) {
                const float *x = in + ((size_t)b * d->c + c) * isz;
                float *dx = din ? din + ((size_t)b * d->c + c) * isz : NULL;
                size_t wi = ((size_t)o * d->c + c) * d->kh * d->kw;
                for (int i = 0; i < d->kh; i++) {
                    int y0, y1;
                    conv_valid_range(d->oh, d->h, d->sh, d->ph, i, &y0, &y1);
                    for (int j = 0; j < d->kw; j++) {
                        int x0, x1;
                        float w = weight[wi + i * d->kw + j], g = 0.0f;
                        conv_valid_range(d->ow, d->w, d->sw, d->pw, j, &x0, &x1);
                        for (int oy = y0; oy < y1; oy++) {
                            size_t r = (size_t)(oy * d->sh - d->ph + i) * d->w;
                            const float *dyr = dy + (size_t)oy * d->ow;
                            for (int ox = x0; ox < x1; ox++) {
                                size_t at = r + ox * d->sw - d->pw + j;
                                g += dyr[ox] * x[at];
                                if (dx)
                                    dx[at] += w * dyr[ox];
                            }
                        }
                        dweight[wi + i * d->kw + j] += g;
                    }
                }
            }
        }
}
