/* linear_avx512.c — see linear_avx512.h. Register-blocked AVX-512 kernels,
 * one tile of up to 24 accumulators (zmm) each; the tiles are written once
 * as inline functions with constant block sizes and instantiated per size
 * (the compiler keeps the accumulator arrays in registers).
 *
 *   forward      out^T (OUT, n) = W (OUT, IN) in^T (IN, n): lanes run over
 *                the batch (in^T in scratch, zero-padded to n16), each
 *                W[o][i] broadcast once; OB rows x NV lane vectors.
 *   backward-data din (n, IN) = dout (n, OUT) W: lanes over i, dout[b][o]
 *                broadcast; NB batch rows x 4 vectors of i, over all o.
 *   backward-weights dW (OUT, IN) += dout^T in: lanes over i, dout[b][o]
 *                broadcast; 4 rows of W x 6 vectors of i, over the batch.
 * Threads split outputs (forward, dW: rows o; din: columns i). */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "linear_avx512.h"
#include "common/parallel.h"

int linear_avx512_supported(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const char *cap = getenv("STRATA_ISA"); /* base, avx2: as if the CPU had no AVX-512 */
    if (cap && (!strcmp(cap, "base") || !strcmp(cap, "avx2")))
        return 0;
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static int n16_of(int n) { return (n + 15) / 16 * 16; }

/* Threads worth starting: one per 2^20 multiply-adds (about 10 us; a
 * thread costs some 20 us to start), at most `threads`. The thread count
 * never changes a result. */
static int threads_for(int n, int nin, int nout, int threads)
{
    long long t = 1 + (long long)n * nin * nout / (1 << 20);
    return t < threads ? (int)t : threads;
}

size_t linear_avx512_forward_scratch(int n, int nin, int nout)
{
    return (size_t)nin * n16_of(n);
}

#define DW_COLS 48 /* backward-weights: columns per packed panel of the input */

size_t linear_avx512_backward_scratch(int n, int nin, int nout)
{
    return (size_t)n * ((nin + DW_COLS - 1) / DW_COLS) * DW_COLS;
}

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx512f")
#define INLINE static inline __attribute__((always_inline))

/* lanes of the vector starting at column i that lie in [i, end) */
static __mmask16 lanes(int i, int end)
{
    int k = end - i;
    return k >= 16 ? (__mmask16)0xFFFF : k <= 0 ? (__mmask16)0 : (__mmask16)((1u << k) - 1);
}

/* ---- forward ------------------------------------------------------------ */

typedef struct fwd_job {
    int n, n16, nin, nout;
    const float *in, *w, *bias;
    float *xt, *out;
} fwd_job;

/* xt (nin, n16): xt[i][b] = in[b][i] for b < n, 0 for n <= b < n16;
 * columns 64 u0 .. 64 u1 - 1. */
static void transpose_part(void *arg, int u0, int u1)
{
    const fwd_job *J = arg;
    int i0 = 64 * u0, i1 = 64 * u1 < J->nin ? 64 * u1 : J->nin;
    for (int c0 = i0; c0 < i1; c0 += 64) {
        int c1 = c0 + 64 < i1 ? c0 + 64 : i1;
        for (int b = 0; b < J->n16; b++)
            for (int i = c0; i < c1; i++)
                J->xt[(size_t)i * J->n16 + b] = b < J->n ? J->in[(size_t)b * J->nin + i] : 0.0f;
    }
}

/* OB rows o0 .. of out^T (rows past nout repeat row nout-1 and are not
 * stored, so every row has the same chain), batch lanes 16 v0 .. 16 (v0+NV) - 1:
 * acc[r][v] = bias[o0+r] + sum_i w[o0+r][i] * xt[i][16(v0+v) ..] */
INLINE void fwd_tile(const int OB, const int NV, const fwd_job *J, int o0, int v0)
{
    __m512 acc[24];
    const float *w[24];
#pragma GCC unroll 24
    for (int r = 0; r < OB; r++) {
        int o = o0 + r < J->nout ? o0 + r : J->nout - 1;
        w[r] = J->w + (size_t)o * J->nin;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r * NV + v] = _mm512_set1_ps(J->bias ? J->bias[o] : 0.0f);
    }
    const float *x = J->xt + 16 * v0;
    for (int i = 0; i < J->nin; i++, x += J->n16) {
        __m512 xv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            xv[v] = _mm512_loadu_ps(x + 16 * v);
#pragma GCC unroll 24
        for (int r = 0; r < OB; r++) {
            __m512 wv = _mm512_set1_ps(w[r][i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[r * NV + v] = _mm512_fmadd_ps(wv, xv[v], acc[r * NV + v]);
        }
    }
    float t[16];
#pragma GCC unroll 24
    for (int r = 0; r < OB; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            if (o0 + r >= J->nout)
                continue;
            _mm512_storeu_ps(t, acc[r * NV + v]);
            for (int l = 0; l < 16 && 16 * (v0 + v) + l < J->n; l++)
                J->out[(size_t)(16 * (v0 + v) + l) * J->nout + o0 + r] = t[l];
        }
}

/* rows o0 .. o1-1, lane vectors v0 .. v0+nv-1 (nv <= 4), in blocks of
 * 24 / nv rows (the last one cut short) */
static void fwd_rows(const fwd_job *J, int o0, int o1, int v0, int nv)
{
    static const int block[5] = {0, 24, 12, 8, 6};
    for (int o = o0; o < o1; o += block[nv])
        switch (nv) {
        case 1: fwd_tile(24, 1, J, o, v0); break;
        case 2: fwd_tile(12, 2, J, o, v0); break;
        case 3: fwd_tile(8, 3, J, o, v0); break;
        default: fwd_tile(6, 4, J, o, v0); break;
        }
}

#define FWD_UNIT 24 /* rows per unit of work: a multiple of every block */

static void fwd_part(void *arg, int u0, int u1)
{
    const fwd_job *J = arg;
    int o0 = u0 * FWD_UNIT, o1 = u1 * FWD_UNIT < J->nout ? u1 * FWD_UNIT : J->nout;
    int nvec = J->n16 / 16;
    for (int v = 0; v < nvec; v += 4)
        fwd_rows(J, o0, o1, v, nvec - v < 4 ? nvec - v : 4);
}

void linear_avx512_forward(int n, int nin, int nout, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, int threads)
{
    fwd_job J = {n, n16_of(n), nin, nout, in, weight, bias, scratch, out};
    threads = threads_for(n, nin, nout, threads);
    parallel_for(threads, (nin + 63) / 64, transpose_part, &J);
    parallel_for(threads, (nout + FWD_UNIT - 1) / FWD_UNIT, fwd_part, &J);
}

/* ---- backward-data ------------------------------------------------------ */

typedef struct din_job {
    int n, nin, nout;
    const float *dout, *w;
    float *din;
} din_job;

#define DIN_VECS 4               /* a panel: 64 columns of W */
#define DIN_COLS (16 * DIN_VECS)
#define DIN_OC 128               /* rows of W per packed panel (32 KB) */
#define DIN_NB 6

/* batch rows b0 .. b0+NB-1, columns i0 .. i0+63 of din (lanes past i1
 * off), rows o0 .. o0+oc-1 of W packed in wp (oc, 64):
 * din[b][i] (= 0 when first) += sum_o dout[b][o] * wp[o - o0][i - i0] */
INLINE void din_tile(const int NB, const din_job *J, const float *wp, int oc, int o0, int b0,
                     int i0, int i1, int first)
{
    __m512 acc[24];
    __mmask16 m[DIN_VECS];
    float *y = J->din + (size_t)b0 * J->nin + i0;
#pragma GCC unroll 4
    for (int v = 0; v < DIN_VECS; v++)
        m[v] = lanes(i0 + 16 * v, i1);
#pragma GCC unroll 6
    for (int r = 0; r < NB; r++)
#pragma GCC unroll 4
        for (int v = 0; v < DIN_VECS; v++)
            acc[r * DIN_VECS + v] = first ? _mm512_setzero_ps()
                                          : _mm512_maskz_loadu_ps(m[v], y + (size_t)r * J->nin + 16 * v);
    const float *d = J->dout + (size_t)b0 * J->nout + o0;
    for (int o = 0; o < oc; o++, wp += DIN_COLS) {
        __m512 wv[DIN_VECS];
#pragma GCC unroll 4
        for (int v = 0; v < DIN_VECS; v++)
            wv[v] = _mm512_load_ps(wp + 16 * v);
#pragma GCC unroll 6
        for (int r = 0; r < NB; r++) {
            __m512 dv = _mm512_set1_ps(d[(size_t)r * J->nout + o]);
#pragma GCC unroll 4
            for (int v = 0; v < DIN_VECS; v++)
                acc[r * DIN_VECS + v] = _mm512_fmadd_ps(dv, wv[v], acc[r * DIN_VECS + v]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < NB; r++)
#pragma GCC unroll 4
        for (int v = 0; v < DIN_VECS; v++)
            _mm512_mask_storeu_ps(y + (size_t)r * J->nin + 16 * v, m[v], acc[r * DIN_VECS + v]);
}

/* wp (oc, 64) = W[o0 .. o0+oc-1][i0 .. i0+63] (0 past i1), and prefetch
 * the next panel of the same rows */
static void din_pack(const din_job *J, float *wp, int o0, int oc, int i0, int i1)
{
    __mmask16 m[DIN_VECS];
    for (int v = 0; v < DIN_VECS; v++)
        m[v] = lanes(i0 + 16 * v, i1);
    for (int o = 0; o < oc; o++) {
        const float *w = J->w + (size_t)(o0 + o) * J->nin + i0;
        for (int v = 0; v < DIN_VECS; v++)
            _mm512_store_ps(wp + o * DIN_COLS + 16 * v, _mm512_maskz_loadu_ps(m[v], w + 16 * v));
        if (i0 + DIN_COLS < i1)
            for (int v = 0; v < DIN_VECS; v++)
                _mm_prefetch((const char *)(w + DIN_COLS + 16 * v), _MM_HINT_T0);
    }
}

static void din_part(void *arg, int u0, int u1)
{
    const din_job *J = arg;
    float wp[DIN_OC * DIN_COLS] __attribute__((aligned(64)));
    int i1 = u1 * DIN_COLS < J->nin ? u1 * DIN_COLS : J->nin;
    for (int o0 = 0; o0 < J->nout; o0 += DIN_OC) {
        int oc = J->nout - o0 < DIN_OC ? J->nout - o0 : DIN_OC;
        for (int i = u0 * DIN_COLS; i < i1; i += DIN_COLS) {
            din_pack(J, wp, o0, oc, i, i1);
            for (int b = 0; b < J->n; b += DIN_NB)
                switch (J->n - b < DIN_NB ? J->n - b : DIN_NB) {
                case 1: din_tile(1, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 2: din_tile(2, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 3: din_tile(3, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 4: din_tile(4, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 5: din_tile(5, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                default: din_tile(6, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                }
        }
    }
}

void linear_avx512_backward_data(int n, int nin, int nout, const float *dout,
                                 const float *weight, float *din, int threads)
{
    din_job J = {n, nin, nout, dout, weight, din};
    threads = threads_for(n, nin, nout, threads);
    parallel_for(threads, (nin + DIN_COLS - 1) / DIN_COLS, din_part, &J);
}

/* ---- backward-weights --------------------------------------------------- */

typedef struct dw_job {
    int n, nin, nout;
    const float *in, *dout;
    float *xp, *dw, *db;
} dw_job;

#define DW_OB 8
#define DW_VECS 3 /* DW_COLS / 16 */

/* xp (panels, n, 48): xp[p][b][j] = in[b][48 p + j] (0 past nin);
 * panels p0 .. p1-1 */
static void dw_pack(void *arg, int p0, int p1)
{
    const dw_job *J = arg;
    for (int p = p0; p < p1; p++) {
        int i0 = p * DW_COLS;
        for (int b = 0; b < J->n; b++) {
            float *dst = J->xp + ((size_t)p * J->n + b) * DW_COLS;
            const float *src = J->in + (size_t)b * J->nin + i0;
            for (int v = 0; v < DW_VECS; v++)
                _mm512_storeu_ps(dst + 16 * v, _mm512_maskz_loadu_ps(lanes(i0 + 16 * v, J->nin), src + 16 * v));
        }
    }
}

/* rows o0 .. o0+OB-1, columns 48 p .. 48 p + 47 (lanes past nin off):
 * dw[o][i] += sum_b dout[b][o] * in[b][i] */
INLINE void dw_tile(const int OB, const dw_job *J, int o0, int p)
{
    __m512 acc[24];
    __mmask16 m[DW_VECS];
    int i0 = p * DW_COLS;
#pragma GCC unroll 6
    for (int v = 0; v < DW_VECS; v++)
        m[v] = lanes(i0 + 16 * v, J->nin);
#pragma GCC unroll 24
    for (int k = 0; k < OB * DW_VECS; k++)
        acc[k] = _mm512_setzero_ps();
    const float *x = J->xp + (size_t)p * J->n * DW_COLS, *d = J->dout + o0;
    for (int b = 0; b < J->n; b++, x += DW_COLS, d += J->nout) {
        __m512 xv[DW_VECS];
#pragma GCC unroll 6
        for (int v = 0; v < DW_VECS; v++)
            xv[v] = _mm512_loadu_ps(x + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < OB; r++) {
            __m512 dv = _mm512_set1_ps(d[r]);
#pragma GCC unroll 6
            for (int v = 0; v < DW_VECS; v++)
                acc[r * DW_VECS + v] = _mm512_fmadd_ps(dv, xv[v], acc[r * DW_VECS + v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < OB; r++)
#pragma GCC unroll 6
        for (int v = 0; v < DW_VECS; v++) {
            float *q = J->dw + (size_t)(o0 + r) * J->nin + i0 + 16 * v;
            __m512 old = _mm512_maskz_loadu_ps(m[v], q);
            _mm512_mask_storeu_ps(q, m[v], _mm512_add_ps(old, acc[r * DW_VECS + v]));
        }
}

/* db[o] += sum_b dout[b][o] for o in [o0, o1), 16 o at a time */
static void db_rows(const dw_job *J, int o0, int o1)
{
    for (int o = o0; o < o1; o += 16) {
        __mmask16 m = lanes(o, o1);
        __m512 acc = _mm512_setzero_ps();
        for (int b = 0; b < J->n; b++)
            acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, J->dout + (size_t)b * J->nout + o));
        _mm512_mask_storeu_ps(J->db + o, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, J->db + o), acc));
    }
}

static void dw_part(void *arg, int u0, int u1)
{
    const dw_job *J = arg;
    int o0 = u0 * DW_OB, o1 = u1 * DW_OB < J->nout ? u1 * DW_OB : J->nout;
    int panels = (J->nin + DW_COLS - 1) / DW_COLS;
    for (int o = o0; o < o1; o += DW_OB)
        for (int p = 0; p < panels; p++)
            switch (o1 - o < DW_OB ? o1 - o : DW_OB) {
            case 1: dw_tile(1, J, o, p); break;
            case 2: dw_tile(2, J, o, p); break;
            case 3: dw_tile(3, J, o, p); break;
            case 4: dw_tile(4, J, o, p); break;
            case 5: dw_tile(5, J, o, p); break;
            case 6: dw_tile(6, J, o, p); break;
            case 7: dw_tile(7, J, o, p); break;
            default: dw_tile(8, J, o, p); break;
            }
    if (J->db)
        db_rows(J, o0, o1);
}

void linear_avx512_backward_weights(int n, int nin, int nout, const float *in,
                                    const float *dout, float *dweight, float *dbias,
                                    float *scratch, int threads)
{
    dw_job J = {n, nin, nout, in, dout, scratch, dweight, dbias};
    threads = threads_for(n, nin, nout, threads);
    parallel_for(threads, (nin + DW_COLS - 1) / DW_COLS, dw_pack, &J);
    parallel_for(threads, (nout + DW_OB - 1) / DW_OB, dw_part, &J);
}

#pragma GCC pop_options
#else
/* not x86-64 GCC: never called (linear_avx512_supported() is 0) */
void linear_avx512_forward(int n, int nin, int nout, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, int threads) {}
void linear_avx512_backward_data(int n, int nin, int nout, const float *dout,
                                 const float *weight, float *din, int threads) {}
void linear_avx512_backward_weights(int n, int nin, int nout, const float *in,
                                    const float *dout, float *dweight, float *dbias,
                                    float *scratch, int threads) {}
#endif
