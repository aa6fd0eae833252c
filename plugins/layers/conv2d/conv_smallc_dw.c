/* conv_smallc_dw.c — see conv_smallc_dw.h.
 *
 * With the phase layout ph of each image (conv_smallc_phase.h) and tap
 * t = (c, i, j) at offset off[t],
 *   dw[o][t] = sum_{b,y,x} dout[b][o][y][x] * ph_b[off[t] + y*YS + x]
 * is a dot product along x of two contiguous runs. Vectorised along x:
 * per band of Y output rows, a block of OB = 4 output channels and T <= TB
 * taps keeps OB x T vector accumulators over the band, each step loading
 * OB dout vectors and T input vectors for OB*T multiply-adds; the bias sum
 * rides along in the last (narrower) tap block. By ISA level (strata_isa()):
 * AVX-512, TB = 6 taps by all 4 channels (24 of the 32 zmm); AVX2 (vectors
 * of 8), TB = 6 taps by 2 channels at a time (12 accumulators, 2 dout
 * vectors and the input: 15 of the 16 ymm; the bias block's <= 5 taps with
 * 2 bias sums too); base (vectors of 4, no FMA: a product register too),
 * TB = 4 taps by 2 channels (12 of the 16 xmm). The band's accumulators
 * are added into the first W lanes (the ISA's vector width) of 16-lane
 * partial sums in memory (lanes [k][R] and [k] for the bias), reduced
 * across lanes once at the end. The order of the sums is the ISA's (results differ between levels
 * in the last bits), the same at any thread count.
 * dout is read in place when its rows are whole vectors (ow % 16 == 0),
 * else each block's band is copied first with zeros past ow (then TB
 * taps beyond the image's right edge multiply zeros); in a flat layout
 * (conv_smallc_phase.h) the band's rows are copied at pitch L, zeros in
 * the L - ow columns past each row, and run as one row of Y*L outputs.
 * Threads: each takes a share of the output-channel blocks and runs every
 * image; the blocks' sums are computed the same way whoever runs them,
 * so the result does not depend on the thread count. Images go in chunks
 * of `slots` phase buffers (d->budget), filled in parallel first. */
#include <string.h>
#include "conv_smallc_dw.h"
#include "conv_smallc_phase.h"
#include "common/parallel.h"
#include "common/simd.h"

#define OB 4  /* output channels per block */
#define TBMAX 6 /* taps per block, at most (AVX-512's) */
#define DBUF 4096 /* floats of the dout bands one tap block runs over (1 or KG blocks) */

/* Unaligned loads and stores of a vector of type VT (memcpy through a
 * local, so the vectors themselves stay in registers). */
#define load_vec(VT, p) ({ VT v_; memcpy(&v_, (p), sizeof v_); v_; })
#define store_vec(VT, p, x) do { VT v_ = (x); memcpy((p), &v_, sizeof v_); } while (0)

/* Taps per block and channels a band computes at once, at level isa (see
 * the top). TB even: tap_block splits a last whole block in halves. */
static int tap_width(strata_isa_level isa) { return isa == STRATA_ISA_BASE ? 4 : TBMAX; }
static int chan_width(strata_isa_level isa) { return isa == STRATA_ISA_AVX512 ? OB : 2; }

static int kpad(const conv_dims *d) { return (d->k + OB - 1) / OB * OB; }
static int taps(const conv_dims *d) { return d->c * d->kh * d->kw; }
static int copies(const conv_dims *d) { return d->ow % 16 != 0 || conv_phase_flat(d); }
/* Floats a copied dout row takes (its run in a flat layout: pitch L). */
static int row_floats(const conv_dims *d)
{
    return conv_phase_flat(d) ? conv_phase_row(d) : conv_phase_xr(d);
}

#define KG 2 /* channel blocks sharing a tap block's input (many taps) */

/* Many taps: tap blocks outside, channel blocks inside (see dw_part). */
static int taps_outer(const conv_dims *d) { return taps(d) > 8 * TBMAX; }

/* Rows of a band: the dout bands of the channel blocks run over one tap
 * block's input (1 or KG of them) take <= DBUF floats. */
static int band_rows(const conv_dims *d)
{
    int y = DBUF / ((taps_outer(d) ? KG : 1) * OB * row_floats(d));
    y = y < 1 ? 1 : y;
    return y < d->oh ? y : d->oh;
}

static int slots(const conv_dims *d, int n)
{
    size_t s = d->budget / conv_phase_floats(d);
    s = s < 1 ? 1 : s;
    return s < (size_t)n ? (int)s : (n > 0 ? n : 1);
}

/* Scratch: off (R ints, rounded to 16), lanes ((kpad*R + kpad) * 16),
 * copied dout bands (kpad * Y * XR), phases (slots * phase_floats). */
static size_t off_floats(const conv_dims *d) { return ((size_t)taps(d) + 15) / 16 * 16; }
static size_t lane_floats(const conv_dims *d) { return (size_t)kpad(d) * (taps(d) + 1) * 16; }
/* Floats of one channel's copied band of Y rows (flat: one run, whole vectors). */
static size_t band_floats(const conv_dims *d, int Y)
{
    return conv_phase_flat(d) ? conv_round16((size_t)Y * conv_phase_row(d))
                              : (size_t)Y * conv_phase_xr(d);
}
static size_t dbuf_floats(const conv_dims *d)
{
    return (size_t)kpad(d) * band_floats(d, band_rows(d));
}

size_t conv_smallc_dw_scratch_floats(const conv_dims *d, int n)
{
    return 16 + off_floats(d) + lane_floats(d) + dbuf_floats(d) +
           (size_t)slots(d, n) * conv_phase_floats(d); /* 16: to align to 64 bytes */
}

/* One band of Y rows, NV vectors of 16 a row, of OC of a block's channels
 * and taps [t0, t0 + T): for each tap t and channel o < OC
 *   lanes[o*R + t] += sum_{y,v} db[o*dcs + y*dls + 16v ..] * ph[off[t] + y*YS + 16v ..]
 * and (BIAS) blane[o] += sum_{y,v} db[o*dcs + y*dls + 16v ..]. Defined for
 * vectors VT of W = 16, 8 or 4 lanes, stepping through a row W floats at a
 * time; the sums go into lanes 0 .. W-1 of each 16-lane partial sum. */
#define DEFINE_DW_BAND(NAME, VT, PIN)                                                           \
    CONV_INLINE void NAME(const int OC, const int T, const int BIAS, int Y, int NV,            \
                          const float *ph,                                                     \
                          size_t YS, const int *off, const float *db, size_t dls, size_t dcs,  \
                          float *lanes, int R, float *blane)                                   \
    {                                                                                          \
        enum { W = sizeof(VT) / sizeof(float) };                                               \
        VT acc[OB][TBMAX], bacc[OB]; /* the used ones stay in registers */                    \
        for (int o = 0; o < OC; o++) {                                                         \
            bacc[o] = (VT){0};                                                                 \
            for (int t = 0; t < T; t++)                                                        \
                acc[o][t] = (VT){0};                                                           \
        }                                                                                      \
        const float *p[TBMAX];                                                                 \
        for (int t = 0; t < T; t++)                                                            \
            p[t] = ph + off[t];                                                                \
        for (int y = 0; y < Y; y++) {                                                          \
            const float *dr = db + (size_t)y * dls;                                            \
            size_t py = (size_t)y * YS;                                                        \
            for (int u = 0; u < NV * (16 / W); u++) {                                          \
                VT g[OB];                                                                      \
                _Pragma("GCC unroll 4") for (int o = 0; o < OC; o++) {                         \
                    g[o] = load_vec(VT, dr + o * dcs + W * u);                                 \
                    if (BIAS)                                                                  \
                        bacc[o] += g[o];                                                       \
                }                                                                              \
                _Pragma("GCC unroll 6") for (int t = 0; t < T; t++) {                          \
                    VT x = load_vec(VT, p[t] + py + W * u);                                    \
                    if (PIN) /* one load for all OC uses (GCC folds it into each FMA) */       \
                        __asm__("" : "+x"(x));                                                 \
                    _Pragma("GCC unroll 4") for (int o = 0; o < OC; o++)                       \
                        acc[o][t] += g[o] * x;                                                 \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
        for (int o = 0; o < OC; o++) {                                                         \
            for (int t = 0; t < T; t++) {                                                      \
                float *l = lanes + ((size_t)o * R + t) * 16;                                   \
                store_vec(VT, l, load_vec(VT, l) + acc[o][t]);                                 \
            }                                                                                  \
            if (BIAS)                                                                          \
                store_vec(VT, blane + o * 16, load_vec(VT, blane + o * 16) + bacc[o]);         \
        }                                                                                      \
    }

DEFINE_DW_BAND(dw_band16, v16f, 0)
DEFINE_DW_BAND(dw_band8, v8f, 1)
DEFINE_DW_BAND(dw_band4, v4f, 1)

typedef struct dw_job {
    const conv_dims *d;
    const float *in, *dout; /* the chunk's first image */
    int m;                  /* images in the chunk */
    const int *off;
    float *lanes, *dbuf, *phases;
    int bias;
} dw_job;

static void fill_part(void *arg, int b0, int b1)
{
    const dw_job *J = arg;
    const conv_dims *d = J->d;
    size_t isz = (size_t)d->c * d->h * d->w;
    for (int b = b0; b < b1; b++)
        conv_phase_fill(J->phases + b * conv_phase_floats(d), J->in + b * isz, d);
}

/* db for block kb, rows [y0, y0 + Y) of dout plane set dy: in place, or
 * copied into the block's buffer with zeros past ow and past k (flat: the
 * rows at pitch L as one run of whole vectors, zeros past the last). */
static const float *dout_band(const dw_job *J, const float *dy, int kb, int y0, int Y,
                              size_t *dls, size_t *dcs)
{
    const conv_dims *d = J->d;
    size_t P = (size_t)d->oh * d->ow, BF = band_floats(d, Y);
    int o0 = kb * OB, RF = row_floats(d);
    if (!copies(d) && o0 + OB <= d->k) {
        *dls = d->ow, *dcs = P;
        return dy + o0 * P + (size_t)y0 * d->ow;
    }
    float *buf = J->dbuf + (size_t)kb * OB * band_floats(d, band_rows(d));
    *dls = RF, *dcs = BF;
    for (int o = 0; o < OB; o++) {
        float *ch = buf + o * BF;
        for (int y = 0; y < Y; y++) {
            float *row = ch + (size_t)y * RF;
            int nx = o0 + o < d->k ? d->ow : 0;
            if (nx)
                memcpy(row, dy + (o0 + o) * P + (size_t)(y0 + y) * d->ow, sizeof(float) * nx);
            memset(row + nx, 0, sizeof(float) * (RF - nx));
        }
        memset(ch + (size_t)Y * RF, 0, sizeof(float) * (BF - (size_t)Y * RF));
    }
    return buf;
}

/* Taps in blocks of TB; the last block (the bias's) narrower: R % TB, or
 * two of TB/2 when TB divides R. Block b covers taps [*t0, *t0 + *T). */
static int tap_blocks(int R, int TB) { return R / TB + 1; }
static void tap_block(int R, int TB, int b, int *t0, int *T)
{
    int full = R / TB, rest = R % TB;
    if (rest == 0)
        full--, rest = TB;
    if (b < full)
        *t0 = b * TB, *T = TB;
    else if (rest == TB)
        *t0 = full * TB + (b - full) * (TB / 2), *T = TB / 2;
    else
        *t0 = full * TB, *T = rest;
}

/* Every T <= 6 with and without the bias, of band kernel F over OC channels. */
#define BAND(F, T, B) F(OC, T, B, Y, NV, ph, YS, off, db, dls, dcs, l, R, blane)
#define BAND_CASES(F)                                                                         \
    switch (T * 2 + bias) {                                                                   \
    case 2: BAND(F, 1, 0); break;                                                             \
    case 3: BAND(F, 1, 1); break;                                                             \
    case 4: BAND(F, 2, 0); break;                                                             \
    case 5: BAND(F, 2, 1); break;                                                             \
    case 6: BAND(F, 3, 0); break;                                                             \
    case 7: BAND(F, 3, 1); break;                                                             \
    case 8: BAND(F, 4, 0); break;                                                             \
    case 9: BAND(F, 4, 1); break;                                                             \
    case 10: BAND(F, 5, 0); break;                                                            \
    case 11: BAND(F, 5, 1); break;                                                            \
    default: BAND(F, 6, 0); break;                                                            \
    }

/* One band's tap block of T taps (bias: with the bias sums) for the OB
 * channels of a block, OC at a time, at level isa (a constant where this
 * is inlined). */
CONV_INLINE void dw_band(strata_isa_level isa, int T, int bias, int Y, int NV, const float *ph,
                         size_t YS, const int *off, const float *db0, size_t dls, size_t dcs,
                         float *l0, int R, float *blane0)
{
    const int OC = chan_width(isa);
    for (int c = 0; c < OB; c += OC) {
        const float *db = db0 + c * dcs;
        float *l = l0 + (size_t)c * R * 16, *blane = blane0 + c * 16;
        if (isa == STRATA_ISA_AVX512)
            BAND_CASES(dw_band16)
        else if (isa == STRATA_ISA_AVX2)
            BAND_CASES(dw_band8)
        else
            BAND_CASES(dw_band4)
    }
}
#undef BAND_CASES
#undef BAND

/* Tap blocks [b0, b1) of channel block kb over one band. */
CONV_INLINE void block_band_body(strata_isa_level isa, const dw_job *J, int kb, int b0, int b1,
                                 const float *ph, const float *db, size_t dls, size_t dcs, int Y)
{
    const conv_dims *d = J->d;
    int R = taps(d), NV = conv_phase_xr(d) / 16, TB = tap_width(isa), nb = tap_blocks(R, TB);
    if (conv_phase_flat(d)) /* the band's rows as one run */
        NV = (int)(band_floats(d, Y) / 16), Y = 1;
    size_t YS = conv_phase_ystride(d);
    float *lanes = J->lanes + (size_t)kb * OB * R * 16;
    float *blane = J->lanes + ((size_t)kpad(d) * R + (size_t)kb * OB) * 16;
    for (int b = b0; b < b1; b++) {
        int t0, T, bias = J->bias && b == nb - 1;
        tap_block(R, TB, b, &t0, &T);
        dw_band(isa, T, bias, Y, NV, ph, YS, J->off + t0, db, dls, dcs, lanes + (size_t)t0 * 16,
                R, blane);
    }
}

/* The body compiled per ISA level, with FMA contraction (conv_dims.h). */
CONV_BY_ISA(block_band,
            (const dw_job *J, int kb, int b0, int b1, const float *ph, const float *db, size_t dls,
             size_t dcs, int Y),
            (J, kb, b0, b1, ph, db, dls, dcs, Y), block_band_body)

/* Channel blocks [k0, k1) over every image of the chunk, band by band.
 * Few taps (VGG's 27): each block's band of dout stays in L1 while all
 * tap blocks run over it. Many taps (AlexNet's 363): the input a tap
 * block reads stays in L1 while up to KG channel blocks run over it. */
static void dw_part(void *arg, int k0, int k1)
{
    const dw_job *J = arg;
    const conv_dims *d = J->d;
    size_t osz = (size_t)d->k * d->oh * d->ow, YS = conv_phase_ystride(d);
    int Yb = band_rows(d), nb = tap_blocks(taps(d), tap_width(strata_isa())), outer = taps_outer(d);
    for (int b = 0; b < J->m; b++) {
        const float *ph = J->phases + b * conv_phase_floats(d), *dy = J->dout + b * osz;
        for (int y0 = 0; y0 < d->oh; y0 += Yb) {
            int Y = d->oh - y0 < Yb ? d->oh - y0 : Yb;
            const float *p0 = ph + y0 * YS;
            for (int g = k0; g < k1; g += KG) {
                int g1 = k1 - g < KG ? k1 : g + KG;
                const float *db[KG];
                size_t dls[KG], dcs[KG];
                for (int kb = g; kb < g1; kb++)
                    db[kb - g] = dout_band(J, dy, kb, y0, Y, &dls[kb - g], &dcs[kb - g]);
                if (outer)
                    for (int t = 0; t < nb; t++)
                        for (int kb = g; kb < g1; kb++)
                            block_band(J, kb, t, t + 1, p0, db[kb - g], dls[kb - g], dcs[kb - g], Y);
                else
                    for (int kb = g; kb < g1; kb++)
                        block_band(J, kb, 0, nb, p0, db[kb - g], dls[kb - g], dcs[kb - g], Y);
            }
        }
    }
}

static float hsum(const float *v)
{
    float s = 0.0f;
    for (int l = 0; l < 16; l++)
        s += v[l];
    return s;
}

void conv_smallc_dw(const conv_dims *d, int n, const float *in, const float *dout,
                   float *dweight, float *dbias, float *scratch, int threads)
{
    int R = taps(d), S = slots(d, n), K = kpad(d);
    size_t isz = (size_t)d->c * d->h * d->w, osz = (size_t)d->k * d->oh * d->ow;
    scratch = conv_align64(scratch);
    int *off = (int *)scratch;
    float *lanes = scratch + off_floats(d);
    dw_job J = {d, in, dout, 0, off, lanes, lanes + lane_floats(d),
                lanes + lane_floats(d) + dbuf_floats(d), dbias != NULL};
    conv_phase_taps(d, off);
    memset(lanes, 0, sizeof(float) * lane_floats(d));
    for (int b0 = 0; b0 < n; b0 += S) {
        J.m = n - b0 < S ? n - b0 : S;
        J.in = in + b0 * isz, J.dout = dout + b0 * osz;
        parallel_for(threads, J.m, fill_part, &J);
        parallel_for(threads, K / OB, dw_part, &J);
    }
    for (int o = 0; o < d->k; o++) {
        for (int t = 0; t < R; t++)
            dweight[(size_t)o * R + t] += hsum(lanes + ((size_t)o * R + t) * 16);
        if (dbias)
            dbias[o] += hsum(lanes + ((size_t)K * R + o) * 16);
    }
}
