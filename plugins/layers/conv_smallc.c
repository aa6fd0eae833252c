/* conv_smallc.c — see conv_smallc.h.
 *
 * Per image, the zero-padded input split into sw phases per padded row,
 *   ph[c][r][q][x] = in[c][r - ph][x*sw + q - pw]   (0 outside),
 * so the input under tap j of outputs x .. x+31 is the contiguous run
 * ph[c][y*sh + i][j % sw][x + j/sw ..]. The weights are packed by blocks
 * of OB output channels, wp[o/OB][(c*kh + i)*kw + j][o%OB] (0 past k). Then
 *   out[o][y][x] = bias[o] + sum_{c,i,j} wp[..][o] * ph[c][y*sh+i][j%sw][x + j/sw]
 * with OB x XB outputs (8 channels x 32 columns: 16 vector accumulators)
 * held in registers over all taps, and stored once.
 * Threads: each takes a contiguous share of the images, with its own phase
 * buffer (slot); with one slot or one thread the images go in turn. */
#include <string.h>
#include "conv_bias.h"
#include "conv_im2col.h"
#include "conv_smallc.h"
#include "parallel.h"

#define OB 8  /* output channels per block */
#define XB 32 /* output columns per block: two vectors of 16 */

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));

int conv_smallc_fits(const conv_dims *d) { return d->c <= 4; }

static int kpad(const conv_dims *d) { return (d->k + OB - 1) / OB * OB; }
static int padded_h(const conv_dims *d) { return d->h + 2 * d->ph; }

/* Floats per phase row: every block of XB columns plus the taps' reach. */
static int row_len(const conv_dims *d)
{
    int owr = (d->ow + XB - 1) / XB * XB;
    return (owr + (d->kw - 1) / d->sw + 16) / 16 * 16;
}

static size_t phase_floats(const conv_dims *d)
{
    return (size_t)d->c * padded_h(d) * d->sw * row_len(d);
}

static int slots(const conv_dims *d, int n)
{
    size_t s = d->budget / phase_floats(d);
    if (s < 1)
        s = 1;
    return s < (size_t)n ? (int)s : (n > 0 ? n : 1);
}

size_t conv_smallc_scratch_bytes(const conv_dims *d, int n)
{
    size_t R = (size_t)d->c * d->kh * d->kw;
    size_t f = sizeof(float) * ((size_t)kpad(d) * R + (size_t)slots(d, n) * phase_floats(d));
    size_t b = conv_im2col_scratch_bytes(d, n); /* backward is im2col's */
    return f > b ? f : b;
}

/* ph (c, Hp, sw, L) from img (c, h, w). */
static void phase_fill(float *ph, const float *img, const conv_dims *d)
{
    int Hp = padded_h(d), L = row_len(d), s = d->sw;
    for (int c = 0; c < d->c; c++)
        for (int r = 0; r < Hp; r++) {
            int iy = r - d->ph;
            const float *src = iy >= 0 && iy < d->h ? img + ((size_t)c * d->h + iy) * d->w : NULL;
            for (int q = 0; q < s; q++) {
                float *dst = ph + (((size_t)c * Hp + r) * s + q) * L;
                for (int x = 0; x < L; x++) {
                    int ix = x * s + q - d->pw;
                    dst[x] = src && ix >= 0 && ix < d->w ? src[ix] : 0.0f;
                }
            }
        }
}

/* out (k, oh, ow) of one image from its phases ph and the packed weights. */
/* fp-contract: -std=c11 turns contraction off; a*b + c here is meant as one FMA */
__attribute__((optimize("fp-contract=fast"))) CONV_CLONES static void image_forward(const conv_dims *d, const float *ph, const float *wp,
                                      const float *bias, float *out)
{
    int Hp = padded_h(d), L = row_len(d), s = d->sw, R = d->c * d->kh * d->kw;
    for (int ob = 0; ob < kpad(d); ob += OB) {
        const float *w = wp + (size_t)ob * R;
        float b[OB];
        for (int oo = 0; oo < OB; oo++)
            b[oo] = bias && ob + oo < d->k ? bias[ob + oo] : 0.0f;
        for (int y = 0; y < d->oh; y++)
            for (int xb = 0; xb < d->ow; xb += XB) {
                v16 acc[OB][2];
                for (int oo = 0; oo < OB; oo++)
                    acc[oo][0] = acc[oo][1] = (v16){0} + b[oo];
                const float *wt = w;
                for (int c = 0; c < d->c; c++)
                    for (int i = 0; i < d->kh; i++) {
                        const float *row = ph + (((size_t)c * Hp + y * d->sh + i) * s) * L + xb;
                        for (int j = 0; j < d->kw; j++, wt += OB) {
                            const float *src = row + (size_t)(j % s) * L + j / s;
                            v16 x0 = *(const v16u *)src, x1 = *(const v16u *)(src + 16);
#pragma GCC unroll 8
                            for (int oo = 0; oo < OB; oo++) {
                                acc[oo][0] += wt[oo] * x0;
                                acc[oo][1] += wt[oo] * x1;
                            }
                        }
                    }
                int nx = d->ow - xb < XB ? d->ow - xb : XB;
                for (int oo = 0; oo < OB && ob + oo < d->k; oo++) {
                    float *dst = out + ((size_t)(ob + oo) * d->oh + y) * d->ow + xb;
                    if (nx == XB) {
                        *(v16u *)dst = acc[oo][0];
                        *(v16u *)(dst + 16) = acc[oo][1];
                    } else {
                        float t[XB];
                        memcpy(t, &acc[oo][0], sizeof(v16));
                        memcpy(t + 16, &acc[oo][1], sizeof(v16));
                        for (int x = 0; x < nx; x++)
                            dst[x] = t[x];
                    }
                }
            }
    }
}

typedef struct smallc_job {
    const conv_dims *d;
    int n, parts;
    const float *in, *wp, *bias;
    float *out, *slots;
} smallc_job;

static void images(const smallc_job *J, int b0, int b1, float *ph)
{
    const conv_dims *d = J->d;
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * d->oh * d->ow;
    for (int b = b0; b < b1; b++) {
        phase_fill(ph, J->in + b * isz, d);
        image_forward(d, ph, J->wp, J->bias, J->out + b * osz);
    }
}

static void part(void *arg, int t0, int t1)
{
    const smallc_job *J = arg;
    for (int t = t0; t < t1; t++)
        images(J, (int)((long)J->n * t / J->parts), (int)((long)J->n * (t + 1) / J->parts),
               J->slots + t * phase_floats(J->d));
}

void conv_smallc_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out, float *scratch, int threads)
{
    int R = d->c * d->kh * d->kw;
    float *wp = scratch;
    for (int o = 0; o < kpad(d); o++)
        for (int t = 0; t < R; t++)
            wp[((size_t)(o / OB) * R + t) * OB + o % OB] = o < d->k ? weight[(size_t)o * R + t] : 0.0f;
    int p = slots(d, n);
    p = p < threads ? p : threads;
    smallc_job J = {d, n, p, in, wp, bias, out, scratch + (size_t)kpad(d) * R};
    if (p >= 2)
        parallel_for(p, p, part, &J);
    else
        images(&J, 0, n, J.slots);
}

/* Backward: the bias sum, then im2col's backward (dweight, din). */
void conv_smallc_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *dbias, float *din,
                          float *scratch, int threads)
{
    if (dbias)
        conv_bias_backward(dbias, dout, n, d->k, (size_t)d->oh * d->ow, threads);
    conv_im2col_backward(d, n, in, dout, weight, dweight, din, scratch, threads);
}
