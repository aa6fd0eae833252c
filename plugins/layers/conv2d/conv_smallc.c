/* conv_smallc.c — see conv_smallc.h.
 *
 * Forward. Per image, the input in the phase layout (conv_smallc_phase.h),
 * so the input under tap t = (c, i, j) of outputs (y, x .. x+15) is the
 * run ph[off[t] + y*L + x ..]. The weights are packed by blocks of OB
 * output channels, wp[o/OB][t][o%OB] (0 past k). Then
 *   out[o][y][x] = bias[o] + sum_t wp[o/OB][t][o%OB] * ph[off[t] + y*L + x]
 * with OB channels x NV vectors of 16 outputs (24 accumulators: 6x4, 8x3
 * or 12x2, whichever wastes least on this k and ow) held in registers over
 * all taps and stored once; each tap loads NV input vectors and broadcasts
 * OB weights. The NV vectors of a block are consecutive in the list of a
 * channel's output vectors: rows padded to whole vectors (several rows a
 * block when a row is one vector: 15 px outputs), or in a flat layout the
 * run of oh * L outputs at pitch L into a buffer, then copied to pitch ow.
 * Each output sums bias then taps in order, whatever the blocking.
 * Threads: each takes a contiguous share of the images, with its own phase
 * buffer (slot); with one slot or one thread the images go in turn. While
 * one image computes, the next one's input is prefetched into L2 (a share
 * per block), which the fill would otherwise wait for.
 *
 * Backward: dweight and dbias by conv_smallc_dw.c (vectorised direct, no
 * GEMM); din, when asked for, by im2col (conv_im2col_backward_data). */
#include <string.h>
#include "conv_smallc_dw.h"
#include "conv_smallc_phase.h"
#include "conv_im2col.h"
#include "conv_smallc.h"
#include "common/parallel.h"

#define ACC 24   /* vector accumulators of a block: OB * NV */
#define OBMAX 12

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));

int conv_smallc_fits(const conv_dims *d) { return d->c <= 4; }

/* The output vectors of one channel: G of them, vector g covering 16
 * outputs (fewer at a row's end). Rows padded to whole vectors: row
 * y = g / xv, columns 16*(g % xv) ..; flat (conv_phase_flat): the run
 * m = 16g .. of the oh * L outputs at pitch L, into a buffer. */
static int vec_per_row(const conv_dims *d) { return (d->ow + 15) / 16; }
static int vectors(const conv_dims *d)
{
    if (conv_phase_flat(d))
        return (int)(conv_round16((size_t)d->oh * conv_phase_row(d)) / 16);
    return d->oh * vec_per_row(d);
}

/* Cost of one channel's vectors with OB channels a block: per block of nv
 * vectors, max(FMAs, loads) with the input loads counted twice (unaligned:
 * they split cache lines). */
static long block_cost(int ob, int nv)
{
    int fma = ob * nv, ld = ob + 2 * nv;
    return fma > ld ? fma : ld;
}
static long vec_cost(const conv_dims *d, int ob)
{
    int nvmax = ACC / ob, G = vectors(d);
    long c = (long)(G / nvmax) * block_cost(ob, nvmax) + (G % nvmax ? block_cost(ob, G % nvmax) : 0);
    return c * ((d->k + ob - 1) / ob);
}

/* Channels per block: 8, 6 or 12 (3, 4 or 2 vectors), the cheapest. */
static int pick_ob(const conv_dims *d)
{
    static const int cand[] = {8, 6, 12};
    int best = cand[0];
    for (int i = 1; i < 3; i++)
        if (vec_cost(d, cand[i]) < vec_cost(d, best))
            best = cand[i];
    return best;
}

static int kpad(const conv_dims *d, int ob) { return (d->k + ob - 1) / ob * ob; }
static int taps(const conv_dims *d) { return d->c * d->kh * d->kw; }
static size_t off_floats(const conv_dims *d) { return conv_round16((size_t)taps(d)); }

/* A slot: one image's phases, then (flat) OBMAX channels of outputs at
 * pitch L before they are compacted to pitch ow. */
static size_t flat_floats(const conv_dims *d)
{
    return conv_phase_flat(d) ? (size_t)OBMAX * vectors(d) * 16 : 0;
}
static size_t slot_floats(const conv_dims *d)
{
    return conv_round16(conv_phase_floats(d)) + flat_floats(d);
}

static int slots(const conv_dims *d, int n)
{
    size_t s = d->budget / slot_floats(d);
    if (s < 1)
        s = 1;
    return s < (size_t)n ? (int)s : (n > 0 ? n : 1);
}

/* Forward scratch: wp (kpad * R), off (R ints), slots * slot_floats. */
static size_t forward_floats(const conv_dims *d, int n)
{
    return 32 + (size_t)kpad(d, pick_ob(d)) * taps(d) + off_floats(d) +
           (size_t)slots(d, n) * slot_floats(d); /* 16: to align to 64 bytes */
}

size_t conv_smallc_scratch_bytes(const conv_dims *d, int n)
{
    size_t f = sizeof(float) * forward_floats(d, n);
    size_t w = sizeof(float) * conv_smallc_dw_scratch_floats(d, n);
    size_t b = conv_im2col_scratch_bytes(d, n); /* din is im2col's */
    f = f > w ? f : w;
    return f > b ? f : b;
}

/* One block of NV vectors for OB channels (nk < OB of them real): vector
 * v reads the runs src + so[v] and writes n[v] <= 16 outputs at dst + dof[v]
 * from weights wt (R, OB), bias b (OB):
 *   dst[o*plane + dof[v] + x] = b[o] + sum_t wt[t][o] * src[off[t] + so[v] + x]. */
CONV_INLINE void fwd_block(const int OB, const int NV, const float *src, const int *so,
                           const int *off, int R, const float *wt, const float *b, float *dst,
                           const int *dof, const int *n, size_t plane, int nk)
{
    v16 acc[OBMAX][4];
    int sv[4];
    for (int v = 0; v < NV; v++)
        sv[v] = so[v];
    for (int o = 0; o < OB; o++)
        for (int v = 0; v < NV; v++)
            acc[o][v] = (v16){0} + b[o];
    for (int t = 0; t < R; t++, wt += OB) {
        const float *s = src + off[t];
        v16 x[4];
        for (int v = 0; v < NV; v++)
            x[v] = *(const v16u *)(s + sv[v]);
#pragma GCC unroll 12
        for (int o = 0; o < OB; o++) /* scalar * vector: a broadcast load (not 0 + w) */
            for (int v = 0; v < NV; v++)
                acc[o][v] += wt[o] * x[v];
    }
    for (int o = 0; o < nk; o++)
        for (int v = 0; v < NV; v++) {
            float *p = dst + o * plane + dof[v];
            if (n[v] >= 16)
                *(v16u *)p = acc[o][v];
            else {
                float t[16];
                memcpy(t, &acc[o][v], sizeof t);
                for (int x = 0; x < n[v]; x++)
                    p[x] = t[x];
            }
        }
}

/* Where output vector g reads (so), writes (dof) and how many (n). */
static void vec_place(const conv_dims *d, int g, int *so, int *dof, int *n)
{
    if (conv_phase_flat(d)) {
        *so = *dof = 16 * g, *n = 16;
        return;
    }
    int xv = vec_per_row(d), y = g / xv, x = 16 * (g % xv);
    *so = y * (int)conv_phase_ystride(d) + x;
    *dof = y * d->ow + x;
    *n = d->ow - x < 16 ? d->ow - x : 16;
}

/* out (k, oh, ow) of one image from its phases ph, packed weights wp
 * (kpad/OB, R, OB) and tap offsets off (R); flat: through buf. */
/* fp-contract: -std=c11 turns contraction off; a*b + c here is meant as one FMA */
__attribute__((optimize("fp-contract=fast"))) CONV_CLONES static void
image_forward(const conv_dims *d, int OB, const float *ph, const float *wp, const int *off,
              const float *bias, float *out, float *buf, const float *next)
{
    int R = taps(d), NVM = ACC / OB, G = vectors(d), flat = conv_phase_flat(d);
    int L = conv_phase_row(d);
    /* the next image's lines, prefetched into L2 a share per block */
    size_t lines = next ? (size_t)d->c * d->h * d->w / 16 : 0, done = 0, blk = 0;
    size_t nblk = (size_t)(kpad(d, OB) / OB) * ((G + NVM - 1) / NVM);
    size_t plane = (size_t)d->oh * d->ow, bplane = (size_t)G * 16;
    for (int ob = 0; ob < kpad(d, OB); ob += OB) {
        const float *wt = wp + (size_t)ob * R;
        float b[OBMAX];
        int nk = d->k - ob < OB ? d->k - ob : OB;
        for (int o = 0; o < OB; o++)
            b[o] = bias && o < nk ? bias[ob + o] : 0.0f;
        float *dst = flat ? buf : out + ob * plane;
        size_t dpl = flat ? bplane : plane;
        for (int g = 0; g < G; g += NVM) {
            int nv = G - g < NVM ? G - g : NVM, so[4], dof[4], n[4];
            for (int v = 0; v < nv; v++)
                vec_place(d, g + v, &so[v], &dof[v], &n[v]);
            for (size_t e = lines * ++blk / nblk; done < e; done++)
                __builtin_prefetch(next + 16 * done, 0, 2);
#define FWD(O, V) fwd_block(O, V, ph, so, off, R, wt, b, dst, dof, n, dpl, flat ? OB : nk)
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
        if (flat) /* rows at pitch L -> pitch ow */
            for (int o = 0; o < nk; o++)
                for (int y = 0; y < d->oh; y++)
                    memcpy(out + (ob + o) * plane + (size_t)y * d->ow, buf + o * bplane + (size_t)y * L,
                           sizeof(float) * d->ow);
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
        image_forward(d, J->ob, ph, J->wp, J->off, J->bias, J->out + b * osz,
                      ph + conv_round16(conv_phase_floats(d)), b + 1 < b1 ? J->in + (b + 1) * isz : NULL);
    }
}

static void part(void *arg, int t0, int t1)
{
    const smallc_job *J = arg;
    for (int t = t0; t < t1; t++)
        images(J, (int)((long)J->n * t / J->parts), (int)((long)J->n * (t + 1) / J->parts),
               J->slots + t * slot_floats(J->d));
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
    conv_smallc_dw(d, n, in, dout, dweight, dbias, scratch, threads);
    if (din)
        conv_im2col_backward_data(d, n, dout, weight, din, scratch, threads);
}
