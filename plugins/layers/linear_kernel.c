/* linear_kernel.c — see linear_kernel.h. Register-blocked tiles, written
 * once per ISA as inline functions with constant block sizes and
 * instantiated per size (the compiler keeps the accumulator arrays in
 * registers): AVX-512 tiles of up to 24 accumulators (of 32 zmm), AVX2
 * tiles of 12 accumulators (of 16 ymm, Zen 3's register file).
 *
 *   forward      out^T (OUT, n) = W (OUT, IN) in^T (IN, n): lanes run over
 *                the batch (in^T in scratch, zero-padded to a whole vector),
 *                each W[o][i] broadcast once; OB rows x NV lane vectors.
 *   backward-data din (n, IN) = dout (n, OUT) W: lanes over i, dout[b][o]
 *                broadcast; NB batch rows x a panel of columns of W
 *                (packed), over all o.
 *   backward-weights dW (OUT, IN) += dout^T in: lanes over i, dout[b][o]
 *                broadcast; OB rows of W x a panel of columns of the
 *                input (packed), over the batch.
 * Threads split outputs (forward, dW: rows o; din: columns i). The packing,
 * the transposition and dbias are plain C shared by both ISAs. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include "linear_kernel.h"
#include "common/parallel.h"
#include "common/simd.h"
#if STRATA_X86_DISPATCH
#include <immintrin.h>
#endif

int linear_kernel_available(void)
{
    return STRATA_X86_DISPATCH && strata_isa() >= STRATA_ISA_AVX2;
}

static int round_up(int n, int m) { return (n + m - 1) / m * m; }
STRATA_INLINE int imin(int a, int b) { return a < b ? a : b; }

/* Threads worth starting: one per 2^20 multiply-adds (about 10 us; a
 * thread costs some 20 us to start), at most `threads`. The thread count
 * never changes a result. */
static int threads_for(int n, int nin, int nout, int threads)
{
    long long t = 1 + (long long)n * nin * nout / (1 << 20);
    return t < threads ? (int)t : threads;
}

size_t linear_kernel_forward_scratch(int n, int nin, int nout)
{
    return (size_t)nin * round_up(n, 16);
}

#define DW_COLS 48 /* backward-weights: columns per packed panel of the input */

size_t linear_kernel_backward_scratch(int n, int nin, int nout)
{
    return (size_t)n * round_up(nin, DW_COLS);
}

/* ---- shared parts (plain C) ------------------------------------------------ */

typedef struct fwd_job {
    int n, np, nin, nout; /* np: n rounded up to the lane count */
    const float *in, *w, *bias;
    float *xt, *out;
} fwd_job;

/* xt (nin, np): xt[i][b] = in[b][i] for b < n, 0 for n <= b < np;
 * columns 64 u0 .. 64 u1 - 1. */
static void transpose_part(void *arg, int u0, int u1)
{
    const fwd_job *J = arg;
    int i0 = 64 * u0, i1 = imin(64 * u1, J->nin);
    for (int c0 = i0; c0 < i1; c0 += 64) {
        int c1 = imin(c0 + 64, i1);
        for (int b = 0; b < J->np; b++)
            for (int i = c0; i < c1; i++)
                J->xt[(size_t)i * J->np + b] = b < J->n ? J->in[(size_t)b * J->nin + i] : 0.0f;
    }
}

typedef struct din_job {
    int n, nin, nout;
    const float *dout, *w;
    float *din;
} din_job;

/* wp (oc, cols) = W[o0 .. o0+oc-1][i0 .. i0+cols-1] (0 past i1), and
 * prefetch the next panel of the same rows. Inline with cols a constant,
 * so each ISA's copy is a few vector moves per row. */
STRATA_INLINE void din_pack(const din_job *J, float *wp, const int cols, int o0, int oc, int i0,
                            int i1)
{
    int k = imin(cols, i1 - i0);
    for (int o = 0; o < oc; o++) {
        const float *w = J->w + (size_t)(o0 + o) * J->nin + i0;
        float *dst = wp + (size_t)o * cols;
        if (k == cols)
            for (int c = 0; c < cols; c++)
                dst[c] = w[c];
        else
            for (int c = 0; c < cols; c++)
                dst[c] = c < k ? w[c] : 0.0f;
        if (i0 + cols < i1)
            for (int c = 0; c < cols; c += 16)
                __builtin_prefetch(w + cols + c);
    }
}

typedef struct dw_job {
    int n, nin, nout;
    const float *in, *dout;
    float *xp, *dw, *db;
} dw_job;

/* xp (panels, n, 48): xp[p][b][j] = in[b][48 p + j] (0 past nin);
 * panels p0 .. p1-1 */
static void dw_pack(void *arg, int p0, int p1)
{
    const dw_job *J = arg;
    for (int p = p0; p < p1; p++) {
        int i0 = p * DW_COLS, k = imin(DW_COLS, J->nin - i0);
        for (int b = 0; b < J->n; b++) {
            float *dst = J->xp + ((size_t)p * J->n + b) * DW_COLS;
            memcpy(dst, J->in + (size_t)b * J->nin + i0, sizeof(float) * k);
            memset(dst + k, 0, sizeof(float) * (DW_COLS - k));
        }
    }
}

/* Packed panels per pass of backward-weights over the rows of dW: about
 * 256 KB of the packed input (n * 48 floats a panel), which stays in L2
 * while every row of the thread's part of dW passes over it. */
static int dw_chunk_panels(int n)
{
    int p = 65536 / (DW_COLS * n);
    return p < 1 ? 1 : p;
}

/* db[o] += sum_b dout[b][o] for o in [o0, o1): per o, acc = 0, acc += d
 * in batch order, then db[o] += acc (64 chains side by side) */
static void db_rows(const dw_job *J, int o0, int o1)
{
    for (int o = o0; o < o1; o += 64) {
        int m = imin(64, o1 - o);
        float acc[64] = {0};
        for (int b = 0; b < J->n; b++)
            for (int k = 0; k < m; k++)
                acc[k] += J->dout[(size_t)b * J->nout + o + k];
        for (int k = 0; k < m; k++)
            J->db[o + k] += acc[k];
    }
}

#if STRATA_X86_DISPATCH
#define INLINE static inline __attribute__((always_inline))

/* ==== AVX-512: 16 lanes, 32 registers ===================================== */
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")

/* lanes of the vector starting at column i that lie in [i, end) */
static __mmask16 lanes16(int i, int end)
{
    int k = end - i;
    return k >= 16 ? (__mmask16)0xFFFF : k <= 0 ? (__mmask16)0 : (__mmask16)((1u << k) - 1);
}

/* OB rows o0 .. of out^T (rows past nout repeat row nout-1 and are not
 * stored, so every row has the same chain), batch lanes 16 v0 .. 16 (v0+NV) - 1:
 * acc[r][v] = bias[o0+r] + sum_i w[o0+r][i] * xt[i][16(v0+v) ..] */
INLINE void fwd_tile16(const int OB, const int NV, const fwd_job *J, int o0, int v0)
{
    __m512 acc[24];
    const float *w[24];
#pragma GCC unroll 24
    for (int r = 0; r < OB; r++) {
        int o = imin(o0 + r, J->nout - 1);
        w[r] = J->w + (size_t)o * J->nin;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r * NV + v] = _mm512_set1_ps(J->bias ? J->bias[o] : 0.0f);
    }
    const float *x = J->xt + 16 * v0;
    for (int i = 0; i < J->nin; i++, x += J->np) {
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

#define FWD_UNIT16 24 /* rows per unit of work: a multiple of every block */

/* rows 24 u0 .. 24 u1 - 1; per group of up to 4 lane vectors, blocks of
 * 8, 12, 8 or 6 rows for 1 .. 4 vectors (the last one cut short). One
 * vector (batch <= 16) takes 8 rows, not 24: 24 rows of W streamed at once
 * are more streams than the hardware prefetcher follows. */
static void fwd_part16(void *arg, int u0, int u1)
{
    static const int block[5] = {0, 8, 12, 8, 6};
    const fwd_job *J = arg;
    int o0 = u0 * FWD_UNIT16, o1 = imin(u1 * FWD_UNIT16, J->nout), nvec = J->np / 16;
    for (int v = 0; v < nvec; v += 4) {
        int nv = imin(4, nvec - v);
        for (int o = o0; o < o1; o += block[nv])
            switch (nv) {
            case 1: fwd_tile16(8, 1, J, o, v); break;
            case 2: fwd_tile16(12, 2, J, o, v); break;
            case 3: fwd_tile16(8, 3, J, o, v); break;
            default: fwd_tile16(6, 4, J, o, v); break;
            }
    }
}

#define DIN16_VECS 4 /* a panel: 64 columns of W */
#define DIN16_COLS (16 * DIN16_VECS)
#define DIN16_OC 128 /* rows of W per packed panel (32 KB) */
#define DIN16_NB 6

/* batch rows b0 .. b0+NB-1, columns i0 .. i0+63 of din (lanes past i1
 * off), rows o0 .. o0+oc-1 of W packed in wp (oc, 64):
 * din[b][i] (= 0 when first) += sum_o dout[b][o] * wp[o - o0][i - i0] */
INLINE void din_tile16(const int NB, const din_job *J, const float *wp, int oc, int o0, int b0,
                       int i0, int i1, int first)
{
    __m512 acc[24];
    __mmask16 m[DIN16_VECS];
    float *y = J->din + (size_t)b0 * J->nin + i0;
#pragma GCC unroll 4
    for (int v = 0; v < DIN16_VECS; v++)
        m[v] = lanes16(i0 + 16 * v, i1);
#pragma GCC unroll 6
    for (int r = 0; r < NB; r++)
#pragma GCC unroll 4
        for (int v = 0; v < DIN16_VECS; v++)
            acc[r * DIN16_VECS + v] =
                first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m[v], y + (size_t)r * J->nin + 16 * v);
    const float *d = J->dout + (size_t)b0 * J->nout + o0;
    for (int o = 0; o < oc; o++, wp += DIN16_COLS) {
        __m512 wv[DIN16_VECS];
#pragma GCC unroll 4
        for (int v = 0; v < DIN16_VECS; v++)
            wv[v] = _mm512_load_ps(wp + 16 * v);
#pragma GCC unroll 6
        for (int r = 0; r < NB; r++) {
            __m512 dv = _mm512_set1_ps(d[(size_t)r * J->nout + o]);
#pragma GCC unroll 4
            for (int v = 0; v < DIN16_VECS; v++)
                acc[r * DIN16_VECS + v] = _mm512_fmadd_ps(dv, wv[v], acc[r * DIN16_VECS + v]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < NB; r++)
#pragma GCC unroll 4
        for (int v = 0; v < DIN16_VECS; v++)
            _mm512_mask_storeu_ps(y + (size_t)r * J->nin + 16 * v, m[v], acc[r * DIN16_VECS + v]);
}

/* columns 64 u0 .. 64 u1 - 1 of din */
static void din_part16(void *arg, int u0, int u1)
{
    const din_job *J = arg;
    float wp[DIN16_OC * DIN16_COLS] __attribute__((aligned(64)));
    int i1 = imin(u1 * DIN16_COLS, J->nin);
    for (int o0 = 0; o0 < J->nout; o0 += DIN16_OC) {
        int oc = imin(DIN16_OC, J->nout - o0);
        for (int i = u0 * DIN16_COLS; i < i1; i += DIN16_COLS) {
            din_pack(J, wp, DIN16_COLS, o0, oc, i, i1);
            for (int b = 0; b < J->n; b += DIN16_NB)
                switch (imin(DIN16_NB, J->n - b)) {
                case 1: din_tile16(1, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 2: din_tile16(2, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 3: din_tile16(3, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 4: din_tile16(4, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 5: din_tile16(5, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                default: din_tile16(6, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                }
        }
    }
}

#define DW16_OB 8
#define DW16_VECS 3 /* DW_COLS / 16 */

/* rows o0 .. o0+OB-1, columns 48 p .. 48 p + 47 (lanes past nin off):
 * dw[o][i] += sum_b dout[b][o] * in[b][i] */
INLINE void dw_tile16(const int OB, const dw_job *J, int o0, int p)
{
    __m512 acc[24];
    __mmask16 m[DW16_VECS];
    int i0 = p * DW_COLS;
#pragma GCC unroll 3
    for (int v = 0; v < DW16_VECS; v++)
        m[v] = lanes16(i0 + 16 * v, J->nin);
#pragma GCC unroll 24
    for (int k = 0; k < OB * DW16_VECS; k++)
        acc[k] = _mm512_setzero_ps();
    const float *x = J->xp + (size_t)p * J->n * DW_COLS, *d = J->dout + o0;
    for (int b = 0; b < J->n; b++, x += DW_COLS, d += J->nout) {
        __m512 xv[DW16_VECS];
#pragma GCC unroll 3
        for (int v = 0; v < DW16_VECS; v++)
            xv[v] = _mm512_loadu_ps(x + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < OB; r++) {
            __m512 dv = _mm512_set1_ps(d[r]);
#pragma GCC unroll 3
            for (int v = 0; v < DW16_VECS; v++)
                acc[r * DW16_VECS + v] = _mm512_fmadd_ps(dv, xv[v], acc[r * DW16_VECS + v]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < OB; r++)
#pragma GCC unroll 3
        for (int v = 0; v < DW16_VECS; v++) {
            float *q = J->dw + (size_t)(o0 + r) * J->nin + i0 + 16 * v;
            __m512 old = _mm512_maskz_loadu_ps(m[v], q);
            _mm512_mask_storeu_ps(q, m[v], _mm512_add_ps(old, acc[r * DW16_VECS + v]));
        }
}

/* rows 8 u0 .. 8 u1 - 1 of dW (and of dbias) */
static void dw_part16(void *arg, int u0, int u1)
{
    const dw_job *J = arg;
    int o0 = u0 * DW16_OB, o1 = imin(u1 * DW16_OB, J->nout);
    int panels = (J->nin + DW_COLS - 1) / DW_COLS, chunk = dw_chunk_panels(J->n);
    for (int p0 = 0; p0 < panels; p0 += chunk)
        for (int o = o0; o < o1; o += DW16_OB)
            for (int p = p0; p < imin(p0 + chunk, panels); p++)
                switch (imin(DW16_OB, o1 - o)) {
                case 1: dw_tile16(1, J, o, p); break;
                case 2: dw_tile16(2, J, o, p); break;
                case 3: dw_tile16(3, J, o, p); break;
                case 4: dw_tile16(4, J, o, p); break;
                case 5: dw_tile16(5, J, o, p); break;
                case 6: dw_tile16(6, J, o, p); break;
                case 7: dw_tile16(7, J, o, p); break;
                default: dw_tile16(8, J, o, p); break;
                }
    if (J->db)
        db_rows(J, o0, o1);
}

#pragma GCC pop_options

/* ==== AVX2 + FMA: 8 lanes, 16 registers =================================== */
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")

/* lanes of the vector starting at column i that lie in [i, end), as the
 * sign bits maskload/maskstore take */
static __m256i lanes8(int i, int end)
{
    __m256i k = _mm256_set1_epi32(end - i);
    return _mm256_cmpgt_epi32(k, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* the floats p[0 .. end-i-1] (at most 8; the rest 0) and their store */
INLINE __m256 load_part8(const float *p, int i, int end)
{
    return end - i >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes8(i, end));
}

INLINE void store_part8(float *p, int i, int end, __m256 v)
{
    if (end - i >= 8)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, lanes8(i, end), v);
}

/* fwd_tile16 with 8 lanes: OB rows o0 .., batch lanes 8 v0 .. 8 (v0+NV) - 1:
 * acc[r][v] = bias[o0+r] + sum_i w[o0+r][i] * xt[i][8(v0+v) ..] */
INLINE void fwd_tile8(const int OB, const int NV, const fwd_job *J, int o0, int v0)
{
    __m256 acc[12];
    const float *w[12];
#pragma GCC unroll 12
    for (int r = 0; r < OB; r++) {
        int o = imin(o0 + r, J->nout - 1);
        w[r] = J->w + (size_t)o * J->nin;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r * NV + v] = _mm256_set1_ps(J->bias ? J->bias[o] : 0.0f);
    }
    const float *x = J->xt + 8 * v0;
    for (int i = 0; i < J->nin; i++, x += J->np) {
        __m256 xv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            xv[v] = _mm256_loadu_ps(x + 8 * v);
#pragma GCC unroll 12
        for (int r = 0; r < OB; r++) {
            __m256 wv = _mm256_broadcast_ss(w[r] + i);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[r * NV + v] = _mm256_fmadd_ps(wv, xv[v], acc[r * NV + v]);
        }
    }
    float t[8];
#pragma GCC unroll 12
    for (int r = 0; r < OB; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            if (o0 + r >= J->nout)
                continue;
            _mm256_storeu_ps(t, acc[r * NV + v]);
            for (int l = 0; l < 8 && 8 * (v0 + v) + l < J->n; l++)
                J->out[(size_t)(8 * (v0 + v) + l) * J->nout + o0 + r] = t[l];
        }
}

#define FWD_UNIT8 12 /* rows per unit of work: a multiple of every block */

/* rows 12 u0 .. 12 u1 - 1; per group of up to 4 lane vectors, blocks of
 * 12 / nv rows (12 accumulators) */
static void fwd_part8(void *arg, int u0, int u1)
{
    const fwd_job *J = arg;
    int o0 = u0 * FWD_UNIT8, o1 = imin(u1 * FWD_UNIT8, J->nout), nvec = J->np / 8;
    for (int v = 0; v < nvec; v += 4) {
        int nv = imin(4, nvec - v);
        for (int o = o0; o < o1; o += FWD_UNIT8 / nv)
            switch (nv) {
            case 1: fwd_tile8(12, 1, J, o, v); break;
            case 2: fwd_tile8(6, 2, J, o, v); break;
            case 3: fwd_tile8(4, 3, J, o, v); break;
            default: fwd_tile8(3, 4, J, o, v); break;
            }
    }
}

#define DIN8_VECS 3 /* a panel: 24 columns of W */
#define DIN8_COLS (8 * DIN8_VECS)
#define DIN8_OC 256 /* rows of W per packed panel (24 KB) */
#define DIN8_NB 4

/* din_tile16 with 8 lanes: batch rows b0 .. b0+NB-1, columns i0 .. i0+23
 * of din (lanes past i1 off), rows o0 .. o0+oc-1 of W packed in wp (oc, 24):
 * din[b][i] (= 0 when first) += sum_o dout[b][o] * wp[o - o0][i - i0] */
INLINE void din_tile8(const int NB, const din_job *J, const float *wp, int oc, int o0, int b0,
                      int i0, int i1, int first)
{
    __m256 acc[12];
    float *y = J->din + (size_t)b0 * J->nin + i0;
#pragma GCC unroll 4
    for (int r = 0; r < NB; r++)
#pragma GCC unroll 3
        for (int v = 0; v < DIN8_VECS; v++)
            acc[r * DIN8_VECS + v] =
                first ? _mm256_setzero_ps() : load_part8(y + (size_t)r * J->nin + 8 * v, i0 + 8 * v, i1);
    const float *d = J->dout + (size_t)b0 * J->nout + o0;
    for (int o = 0; o < oc; o++, wp += DIN8_COLS) {
        __m256 wv[DIN8_VECS];
#pragma GCC unroll 3
        for (int v = 0; v < DIN8_VECS; v++)
            wv[v] = _mm256_load_ps(wp + 8 * v);
#pragma GCC unroll 4
        for (int r = 0; r < NB; r++) {
            __m256 dv = _mm256_broadcast_ss(d + (size_t)r * J->nout + o);
#pragma GCC unroll 3
            for (int v = 0; v < DIN8_VECS; v++)
                acc[r * DIN8_VECS + v] = _mm256_fmadd_ps(dv, wv[v], acc[r * DIN8_VECS + v]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < NB; r++)
#pragma GCC unroll 3
        for (int v = 0; v < DIN8_VECS; v++)
            store_part8(y + (size_t)r * J->nin + 8 * v, i0 + 8 * v, i1, acc[r * DIN8_VECS + v]);
}

/* columns 24 u0 .. 24 u1 - 1 of din */
static void din_part8(void *arg, int u0, int u1)
{
    const din_job *J = arg;
    float wp[DIN8_OC * DIN8_COLS] __attribute__((aligned(32)));
    int i1 = imin(u1 * DIN8_COLS, J->nin);
    for (int o0 = 0; o0 < J->nout; o0 += DIN8_OC) {
        int oc = imin(DIN8_OC, J->nout - o0);
        for (int i = u0 * DIN8_COLS; i < i1; i += DIN8_COLS) {
            din_pack(J, wp, DIN8_COLS, o0, oc, i, i1);
            for (int b = 0; b < J->n; b += DIN8_NB)
                switch (imin(DIN8_NB, J->n - b)) {
                case 1: din_tile8(1, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 2: din_tile8(2, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                case 3: din_tile8(3, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                default: din_tile8(4, J, wp, oc, o0, b, i, i1, o0 == 0); break;
                }
        }
    }
}

#define DW8_OB 4
#define DW8_VECS 3 /* half a packed panel: 24 columns */

/* rows o0 .. o0+OB-1, columns 24 q .. 24 q + 23 (lanes past nin off), the
 * half q % 2 of packed panel q / 2:
 * dw[o][i] += sum_b dout[b][o] * in[b][i] */
INLINE void dw_tile8(const int OB, const dw_job *J, int o0, int q)
{
    __m256 acc[12];
    int i0 = q * 8 * DW8_VECS;
#pragma GCC unroll 12
    for (int k = 0; k < OB * DW8_VECS; k++)
        acc[k] = _mm256_setzero_ps();
    const float *x = J->xp + (size_t)(q / 2) * J->n * DW_COLS + (q % 2) * 8 * DW8_VECS;
    const float *d = J->dout + o0;
    for (int b = 0; b < J->n; b++, x += DW_COLS, d += J->nout) {
        __m256 xv[DW8_VECS];
#pragma GCC unroll 3
        for (int v = 0; v < DW8_VECS; v++)
            xv[v] = _mm256_loadu_ps(x + 8 * v);
#pragma GCC unroll 4
        for (int r = 0; r < OB; r++) {
            __m256 dv = _mm256_broadcast_ss(d + r);
#pragma GCC unroll 3
            for (int v = 0; v < DW8_VECS; v++)
                acc[r * DW8_VECS + v] = _mm256_fmadd_ps(dv, xv[v], acc[r * DW8_VECS + v]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < OB; r++)
#pragma GCC unroll 3
        for (int v = 0; v < DW8_VECS; v++) {
            float *p = J->dw + (size_t)(o0 + r) * J->nin + i0 + 8 * v;
            __m256 old = load_part8(p, i0 + 8 * v, J->nin);
            store_part8(p, i0 + 8 * v, J->nin, _mm256_add_ps(old, acc[r * DW8_VECS + v]));
        }
}

/* rows 4 u0 .. 4 u1 - 1 of dW (and of dbias) */
static void dw_part8(void *arg, int u0, int u1)
{
    const dw_job *J = arg;
    int o0 = u0 * DW8_OB, o1 = imin(u1 * DW8_OB, J->nout);
    int blocks = (J->nin + 8 * DW8_VECS - 1) / (8 * DW8_VECS), chunk = 2 * dw_chunk_panels(J->n);
    for (int q0 = 0; q0 < blocks; q0 += chunk)
        for (int o = o0; o < o1; o += DW8_OB)
            for (int q = q0; q < imin(q0 + chunk, blocks); q++)
                switch (imin(DW8_OB, o1 - o)) {
                case 1: dw_tile8(1, J, o, q); break;
                case 2: dw_tile8(2, J, o, q); break;
                case 3: dw_tile8(3, J, o, q); break;
                default: dw_tile8(4, J, o, q); break;
                }
    if (J->db)
        db_rows(J, o0, o1);
}

#pragma GCC pop_options
#endif /* STRATA_X86_DISPATCH */

/* ---- entry points: the tiles of strata_isa()'s level ----------------------- */

void linear_kernel_forward(int n, int nin, int nout, const float *in, const float *weight,
                           const float *bias, float *out, float *scratch, int threads)
{
#if STRATA_X86_DISPATCH
    int wide = strata_isa() == STRATA_ISA_AVX512, lanes = wide ? 16 : 8;
    int unit = wide ? FWD_UNIT16 : FWD_UNIT8;
    fwd_job J = {n, round_up(n, lanes), nin, nout, in, weight, bias, scratch, out};
    threads = threads_for(n, nin, nout, threads);
    parallel_for(threads, (nin + 63) / 64, transpose_part, &J);
    parallel_for(threads, (nout + unit - 1) / unit, wide ? fwd_part16 : fwd_part8, &J);
#endif
}

void linear_kernel_backward_data(int n, int nin, int nout, const float *dout,
                                 const float *weight, float *din, int threads)
{
#if STRATA_X86_DISPATCH
    int wide = strata_isa() == STRATA_ISA_AVX512, cols = wide ? DIN16_COLS : DIN8_COLS;
    din_job J = {n, nin, nout, dout, weight, din};
    threads = threads_for(n, nin, nout, threads);
    parallel_for(threads, (nin + cols - 1) / cols, wide ? din_part16 : din_part8, &J);
#endif
}

void linear_kernel_backward_weights(int n, int nin, int nout, const float *in,
                                    const float *dout, float *dweight, float *dbias,
                                    float *scratch, int threads)
{
#if STRATA_X86_DISPATCH
    int wide = strata_isa() == STRATA_ISA_AVX512, rows = wide ? DW16_OB : DW8_OB;
    dw_job J = {n, nin, nout, in, dout, scratch, dweight, dbias};
    threads = threads_for(n, nin, nout, threads);
    parallel_for(threads, (nin + DW_COLS - 1) / DW_COLS, dw_pack, &J);
    parallel_for(threads, (nout + rows - 1) / rows, wide ? dw_part16 : dw_part8, &J);
#endif
}
