/* conv_smallc.c — see conv_smallc.h.
 *
 * Forward. Per image, the input in the phase layout (conv_first_phase.h),
 * so the input under tap t = (c, i, j) of outputs (y, x .. x+15) is the
 * run ph[off[t] + y*YS + x ..]. The weights are packed by blocks of OB
 * output channels, wp[o/OB][t][o%OB] (0 past k). Then
 *   out[o][y][x] = bias[o] + sum_t wp[o/OB][t][o%OB] * ph[off[t] + y*YS + x]
 * with OB channels x NV vectors of 16 columns (24 accumulators: 6x4, 8x3
 * or 12x2, whichever wastes least on this k and ow) held in registers over
 * all taps and stored once; each tap loads NV input vectors and broadcasts
 * OB weights. A row's last block takes only the vectors it needs.
 * Threads: each takes a contiguous share of the images, with its own phase
 * buffer (slot); with one slot or one thread the images go in turn.
 *
 * Backward: dweight and dbias by conv_first_dw.c (vectorised direct, no
 * GEMM); din, when asked for, by im2col (conv_im2col_backward_data). */
#include <string.h>
#include "conv_first_dw.h"
#include "conv_first_phase.h"
#include "conv_im2col.h"
#include "conv_smallc.h"
#include "parallel.h"

#define ACC 24   /* vector accumulators of a block: OB * NV */
#define OBMAX 12

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));

int conv_smallc_fits(const conv_dims *d) { return d->c <= 4; }

/* Cost of one row of outputs with OB channels a block: per block of nv
 * vectors, max(FMAs, loads) with the input loads counted twice (unaligned:
 * they split cache lines). */
static long row_cost(const conv_dims *d, int ob)
{
    int nvmax = ACC / ob, xv = (d->ow + 15) / 16;
    long c = 0;
    for (int v = 0; v < xv; v += nvmax) {
        int nv = xv - v < nvmax ? xv - v : nvmax, fma = ob * nv, ld = ob + 2 * nv;
        c += fma > ld ? fma : ld;
    }
    return c * ((d->k + ob - 1) / ob);
}

/* Channels per block: 8, 6 or 12 (3, 4 or 2 vectors), the cheapest. */
static int pick_ob(const conv_dims *d)
{
    static const int cand[] = {8, 6, 12};
    int best = cand[0];
    for (int i = 1; i < 3; i++)
        if (row_cost(d, cand[i]) < row_cost(d, best))
            best = cand[i];
    return best;
}

static int kpad(const conv_dims *d, int ob) { return (d->k + ob - 1) / ob * ob; }
static int taps(const conv_dims *d) { return d->c * d->kh * d->kw; }
static size_t off_floats(const conv_dims *d) { return ((size_t)taps(d) + 15) / 16 * 16; }

static int slots(const conv_dims *d, int n)
{
    size_t s = d->budget / conv_phase_floats(d);
    if (s < 1)
        s = 1;
    return s < (size_t)n ? (int)s : (n > 0 ? n : 1);
}

/* Forward scratch: wp (kpad * R), off (R ints), slots * phase_floats. */
static size_t forward_floats(const conv_dims *d, int n)
{
    return 32 + (size_t)kpad(d, pick_ob(d)) * taps(d) + off_floats(d) +
           (size_t)slots(d, n) * conv_phase_floats(d); /* 16: to align to 64 bytes */
}

size_t conv_smallc_scratch_bytes(const conv_dims *d, int n)
{
    size_t f = sizeof(float) * forward_floats(d, n);
    size_t w = sizeof(float) * conv_first_dw_scratch_floats(d, n);
    size_t b = conv_im2col_scratch_bytes(d, n); /* din is im2col's */
    f = f > w ? f : w;
    return f > b ? f : b;
}

/* One block: out[o][y][x .. x+nx) for OB channels (nk < OB of them real)
 * from the run src = ph + y*YS + x, weights wt (R, OB), bias b (OB):
 *   dst[o*plane + x'] = b[o] + sum_t wt[t][o] * src[off[t] + x']. */
CONV_INLINE void fwd_block(const int OB, const int NV, const float *src, const int *off, int R,
                           const float *wt, const float *b, float *dst, size_t plane, int nk,
                           int nx)
{
    v16 acc[OBMAX][4];
    for (int o = 0; o < OB; o++)
        for (int v = 0; v < NV; v++)
            acc[o][v] = (v16){0} + b[o];
    for (int t = 0; t < R; t++, wt += OB) {
        const float *s = src + off[t];
        v16 x[4];
        for (int v = 0; v < NV; v++)
            x[v] = *(const v16u *)(s + 16 * v);
#pragma GCC unroll 12
        for (int o = 0; o < OB; o++) /* scalar * vector: a broadcast load (not 0 + w) */
            for (int v = 0; v < NV; v++)
                acc[o][v] += wt[o] * x[v];
    }
    for (int o = 0; o < nk; o++)
        for (int v = 0; v < NV; v++) {
            float *p = dst + o * plane + 16 * v;
            int m = nx - 16 * v;
            if (m >= 16)
                *(v16u *)p = acc[o][v];
            else {
                float t[16];
                memcpy(t, &acc[o][v], sizeof t);
                for (int x = 0; x < m; x++)
                    p[x] = t[x];
            }
        }
}

/* out (k, oh, ow) of one image from its phases ph, packed weights wp
 * (kpad/OB, R, OB) and tap offsets off (R). */
/* fp-contract: -std=c11 turns contraction off; a*b + c here is meant as one FMA */
__attribute__((optimize("fp-contract=fast"))) CONV_CLONES static void
image_forward(const conv_dims *d, int OB, const float *ph, const float *wp, const int *off,
              const float *bias, float *out)
{
    int R = taps(d), XB = ACC / OB * 16;
    size_t YS = conv_phase_ystride(d), plane = (size_t)d->oh * d->ow;
    for (int ob = 0; ob < kpad(d, OB); ob += OB) {
        const float *wt = wp + (size_t)ob * R;
        float b[OBMAX];
        int nk = d->k - ob < OB ? d->k - ob : OB;
        for (int o = 0; o < OB; o++)
            b[o] = bias && o < nk ? bias[ob + o] : 0.0f;
        for (int y = 0; y < d->oh; y++)
            for (int xb = 0; xb < d->ow; xb += XB) {
                int nx = d->ow - xb < XB ? d->ow - xb : XB, nv = (nx + 15) / 16;
                const float *src = ph + y * YS + xb;
                float *dst = out + ob * plane + (size_t)y * d->ow + xb;
#define FWD(O, V) fwd_block(O, V, src, off, R, wt, b, dst, plane, nk, nx)
                switch (OB * 8 + nv) {
                case 6 * 8 + 1: FWD(6, 1); break;
                case 6 * 8 + 2: FWD(6, 2); break;
                case 6 * 8 + 3: FWD(6, 3); break;
                case 6 * 8 + 4: FWD(6, 4); break;
                case 8 * 8 + 1: FWD(8, 1); break;
                case 8 * 8 + 2: FWD(8, 2); break;
                case 8 * 8 + 3: FWD(8, 3); break;
                case 12 * 8 + 1: FWD(12, 1); break;
                default: FWD(12, 2); break;
                }
#undef FWD
            }
    }
}

typedef struct smallc_job {
    const conv_dims *d;
    int n, parts, ob;
    const float *in, *wp, *bias;
    const int *off;
    float *out, *slots;
} smallc_job;

static void images(const smallc_job *J, int b0, int b1, float *ph)
{
    const conv_dims *d = J->d;
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * d->oh * d->ow;
    for (int b = b0; b < b1; b++) {
        conv_phase_fill(ph, J->in + b * isz, d);
        image_forward(d, J->ob, ph, J->wp, J->off, J->bias, J->out + b * osz);
    }
}

static void part(void *arg, int t0, int t1)
{
    const smallc_job *J = arg;
    for (int t = t0; t < t1; t++)
        images(J, (int)((long)J->n * t / J->parts), (int)((long)J->n * (t + 1) / J->parts),
               J->slots + t * conv_phase_floats(J->d));
}

void conv_smallc_forward(const conv_dims *d, int n, const float *in, const float *weight,
                         const float *bias, float *out, float *scratch, int threads)
{
    int R = taps(d), OB = pick_ob(d), K = kpad(d, OB);
    float *wp = scratch = conv_align64(scratch);
    int *off = (int *)(scratch + (size_t)K * R);
    for (int o = 0; o < K; o++)
        for (int t = 0; t < R; t++)
            wp[((size_t)(o / OB) * R + t) * OB + o % OB] = o < d->k ? weight[(size_t)o * R + t] : 0.0f;
    conv_phase_taps(d, off);
    int p = slots(d, n);
    p = p < threads ? p : threads;
    size_t ph0 = ((size_t)K * R + off_floats(d) + 15) / 16 * 16; /* phases on 64 bytes */
    smallc_job J = {d, n, p, OB, in, wp, bias, off, out, scratch + ph0};
    if (p >= 2)
        parallel_for(p, p, part, &J);
    else
        images(&J, 0, n, J.slots);
}

void conv_smallc_backward(const conv_dims *d, int n, const float *in, const float *dout,
                          const float *weight, float *dweight, float *dbias, float *din,
                          float *scratch, int threads)
{
    conv_first_dw(d, n, in, dout, dweight, dbias, scratch, threads);
    if (din)
        conv_im2col_backward_data(d, n, dout, weight, din, scratch, threads);
}
