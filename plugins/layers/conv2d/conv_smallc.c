/* conv_smallc.c — see conv_smallc.h.
 *
 * Forward. Per image, the input in the phase layout (conv_smallc_phase.h),
 * so the input under tap t = (c, i, j) of outputs (y, x .. x+15) is the
 * run ph[off[t] + y*L + x ..]. The weights are packed by blocks of OB
 * output channels, wp[o/OB][t][o%OB] (0 past k). Then
 *   out[o][y][x] = bias[o] + sum_t wp[o/OB][t][o%OB] * ph[off[t] + y*L + x]
 * with OB channels x NV vectors of 16 outputs held in registers over all
 * taps and stored once (the blocking by ISA level: see blocking_of); each
 * tap loads NV input vectors and broadcasts OB weights. The NV vectors of
 * a block are consecutive in the list of a channel's output vectors: rows
 * padded to whole vectors (several rows a block when a row is one vector:
 * 15 px outputs), or in a flat layout the run of oh * L outputs at pitch L
 * into a buffer, then copied to pitch ow.
 * Each output sums bias then taps in order, whatever the blocking: the
 * AVX-512 and AVX2 kernels give the same bits (one FMA a tap), the base
 * level (a product then a sum) may differ from them in the last bits.
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
#include "common/simd.h"

#define OBMAX 12 /* channels of a block, at most */

int conv_smallc_fits(const conv_dims *d) { return d->c <= 4; }

/* Register blocking by ISA level (strata_isa()), in vectors of 16 outputs:
 * acc 16-output accumulators a block holds, of ob channels by acc / ob
 * vectors, ob one of the candidates. AVX-512 (32 zmm): 24 = 6x4, 8x3 or
 * 12x2. AVX2 (16 ymm): a 16-output vector is two ymm, so 6 channels x 1
 * vector = 12 ymm accumulators, 2 input ymm and 1 broadcast weight. Base
 * (16 xmm, no FMA): a vector is four xmm; 2 channels x 1 vector = 8 xmm,
 * 4 inputs, the weight and a product. */
typedef struct blocking {
    int acc, ncand, cand[3];
} blocking;
static blocking blocking_of(strata_isa_level isa)
{
    if (isa == STRATA_ISA_AVX512)
        return (blocking){24, 3, {8, 6, 12}};
    if (isa == STRATA_ISA_AVX2)
        return (blocking){6, 1, {6}};
    return (blocking){2, 1, {2}};
}

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
static long vec_cost(const conv_dims *d, int acc, int ob)
{
    int nvmax = acc / ob, G = vectors(d);
    long c = (long)(G / nvmax) * block_cost(ob, nvmax) + (G % nvmax ? block_cost(ob, G % nvmax) : 0);
    return c * ((d->k + ob - 1) / ob);
}

/* Channels per block: the cheapest candidate of this ISA's blocking. */
static int pick_ob(const conv_dims *d)
{
    blocking B = blocking_of(strata_isa());
    int best = B.cand[0];
    for (int i = 1; i < B.ncand; i++)
        if (vec_cost(d, B.acc, B.cand[i]) < vec_cost(d, B.acc, best))
            best = B.cand[i];
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
 *   dst[o*plane + dof[v] + x] = b[o] + sum_t wt[t][o] * src[off[t] + so[v] + x].
 * Defined for vectors VT of W = 16, 8 or 4 lanes: a 16-output vector is
 * S = 16 / W of them (sub-vector u of vector u / S). Every output sums the
 * bias then the taps in order with one multiply-add each (an FMA where the
 * ISA has it: AVX-512 and AVX2 give the same bits, the base level rounds
 * the products apart). */
#define DEFINE_FWD_BLOCK(NAME, VT)                                                            \
    CONV_INLINE void NAME(const int OB, const int NV, const float *src, const int *so,        \
                          const int *off, int R, const float *wt, const float *b, float *dst, \
                          const int *dof, const int *n, size_t plane, int nk)                 \
    {                                                                                          \
        enum { W = sizeof(VT) / sizeof(float), S = 16 / W };                                   \
        VT acc[OBMAX][4 * S];                                                                  \
        int su[4 * S];                                                                         \
        for (int u = 0; u < NV * S; u++)                                                       \
            su[u] = so[u / S] + W * (u % S);                                                   \
        for (int o = 0; o < OB; o++)                                                           \
            for (int u = 0; u < NV * S; u++)                                                   \
                acc[o][u] = (VT){0} + b[o];                                                    \
        for (int t = 0; t < R; t++, wt += OB) {                                                \
            const float *s = src + off[t];                                                     \
            VT x[4 * S];                                                                       \
            for (int u = 0; u < NV * S; u++) { /* unaligned loads */                           \
                VT v;                                                                          \
                memcpy(&v, s + su[u], sizeof v);                                               \
                x[u] = v;                                                                      \
            }                                                                                  \
            _Pragma("GCC unroll 12") for (int o = 0; o < OB; o++)                              \
                for (int u = 0; u < NV * S; u++) /* scalar * vector: a broadcast */           \
                    acc[o][u] += wt[o] * x[u];                                                 \
        }                                                                                      \
        for (int o = 0; o < nk; o++)                                                           \
            for (int u = 0; u < NV * S; u++) {                                                 \
                int m = n[u / S] - W * (u % S); /* outputs of this sub-vector */              \
                float *p = dst + o * plane + dof[u / S] + W * (u % S);                         \
                VT a = acc[o][u]; /* a copy: acc stays in registers */                         \
                if (m >= W)                                                                    \
                    memcpy(p, &a, sizeof a);                                                   \
                else                                                                           \
                    for (int x = 0; x < m; x++)                                                \
                        p[x] = a[x];                                                           \
            }                                                                                  \
    }
DEFINE_FWD_BLOCK(fwd_block16, v16f)
DEFINE_FWD_BLOCK(fwd_block8, v8f)
DEFINE_FWD_BLOCK(fwd_block4, v4f)

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

/* One block at ISA level isa (a constant where this is inlined). */
CONV_INLINE void fwd_block(strata_isa_level isa, int OB, int nv, const float *ph, const int *so,
                           const int *off, int R, const float *wt, const float *b, float *dst,
                           const int *dof, const int *n, size_t dpl, int nk)
{
#define FWD(F, O, V) F(O, V, ph, so, off, R, wt, b, dst, dof, n, dpl, nk)
    if (isa == STRATA_ISA_AVX2) {
        FWD(fwd_block8, 6, 1);
        return;
    }
    if (isa == STRATA_ISA_BASE) {
        FWD(fwd_block4, 2, 1);
        return;
    }
    switch (OB * 8 + nv) {
    case 6 * 8 + 1: FWD(fwd_block16, 6, 1); break;
    case 6 * 8 + 2: FWD(fwd_block16, 6, 2); break;
    case 6 * 8 + 3: FWD(fwd_block16, 6, 3); break;
    case 6 * 8 + 4: FWD(fwd_block16, 6, 4); break;
    case 8 * 8 + 1: FWD(fwd_block16, 8, 1); break;
    case 8 * 8 + 2: FWD(fwd_block16, 8, 2); break;
    case 8 * 8 + 3: FWD(fwd_block16, 8, 3); break;
    case 12 * 8 + 1: FWD(fwd_block16, 12, 1); break;
    default: FWD(fwd_block16, 12, 2); break;
    }
#undef FWD
}

/* out (k, oh, ow) of one image from its phases ph, packed weights wp
 * (kpad/OB, R, OB) and tap offsets off (R); flat: through buf. */
CONV_INLINE void image_forward_body(strata_isa_level isa, const conv_dims *d, int OB,
                                    const float *ph, const float *wp, const int *off,
                                    const float *bias, float *out, float *buf, const float *next)
{
    int R = taps(d), NVM = blocking_of(isa).acc / OB, G = vectors(d), flat = conv_phase_flat(d);
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
            fwd_block(isa, OB, nv, ph, so, off, R, wt, b, dst, dof, n, dpl, flat ? OB : nk);
        }
        if (flat) /* rows at pitch L -> pitch ow */
            for (int o = 0; o < nk; o++)
                for (int y = 0; y < d->oh; y++)
                    memcpy(out + (ob + o) * plane + (size_t)y * d->ow, buf + o * bplane + (size_t)y * L,
                           sizeof(float) * d->ow);
    }
}

/* The body compiled per ISA level, with FMA contraction (conv_dims.h). */
CONV_BY_ISA(image_forward,
            (const conv_dims *d, int OB, const float *ph, const float *wp, const int *off,
             const float *bias, float *out, float *buf, const float *next),
            (d, OB, ph, wp, off, bias, out, buf, next), image_forward_body)

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
