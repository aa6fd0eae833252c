/* conv_smallc_phase.c — see conv_smallc_phase.h.
 *
 * The fill goes by input row: the padded row's columns X in [0, sw*L)
 * (in[X - pw], 0 outside the image) split into sw phase rows,
 * phase q taking X = x*sw + q. Strides 1, 2 and 4 do it 16 outputs at a
 * time: 16*sw floats of the padded row (straight from the image inside it,
 * from a zero-padded copy at its edges) de-interleaved by shuffles, the
 * row's last partial vector through a buffer; other strides one by one.
 * The shuffles by ISA level (strata_isa()): AVX-512 on 16-float vectors,
 * AVX2 on 8-float ones (two per 16 outputs: AVX2 has no fast 16-lane
 * two-source permute); the base level copies stride 1 and de-interleaves
 * other strides float by float. Every level writes the same values. */
#include <string.h>
#include "conv_smallc_phase.h"
#include "common/simd.h"

void conv_phase_taps(const conv_dims *d, int *off)
{
    int L = conv_phase_row(d), sh = d->sh, sw = d->sw;
    size_t P = conv_phase_plane(d);
    for (int c = 0; c < d->c; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++)
                off[(c * d->kh + i) * d->kw + j] =
                    (int)(((size_t)(c * sh + i % sh) * sw + j % sw) * P + (size_t)(i / sh) * L + j / sw);
}

/* Unaligned loads and stores of a vector of type VT. */
#define load_vec(VT, p) ({ VT v_; memcpy(&v_, (p), sizeof v_); v_; })
#define store_vec(VT, p, x) do { VT v_ = (x); memcpy((p), &v_, sizeof v_); } while (0)

/* 16 outputs of each of the s = 2, 4 phases from the 16*s padded-row
 * floats at a (unaligned): dst[q][x] = a[x*s + q], AVX-512 shuffles. */
CONV_INLINE void split16(int s, const float *a, float *const *dst)
{
    v16f A = load_vec(v16f, a), B = load_vec(v16f, a + 16);
    if (s == 2) {
        store_vec(v16f, dst[0], __builtin_shuffle(A, B, (v16i){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30}));
        store_vec(v16f, dst[1], __builtin_shuffle(A, B, (v16i){1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}));
        return;
    }
    v16f C = load_vec(v16f, a + 32), D = load_vec(v16f, a + 48);
    const v16i e = {0, 4, 8, 12, 16, 20, 24, 28, 2, 6, 10, 14, 18, 22, 26, 30};
    const v16i o = {1, 5, 9, 13, 17, 21, 25, 29, 3, 7, 11, 15, 19, 23, 27, 31};
    const v16i lo = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    const v16i hi = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    v16f E = __builtin_shuffle(A, B, e), F = __builtin_shuffle(A, B, o); /* q 0|2, 1|3 of x 0..7 */
    v16f G = __builtin_shuffle(C, D, e), H = __builtin_shuffle(C, D, o); /* of x 8..15 */
    store_vec(v16f, dst[0], __builtin_shuffle(E, G, lo));
    store_vec(v16f, dst[1], __builtin_shuffle(F, H, lo));
    store_vec(v16f, dst[2], __builtin_shuffle(E, G, hi));
    store_vec(v16f, dst[3], __builtin_shuffle(F, H, hi));
}

/* The same for 8 outputs of each phase from 8*s floats, AVX2 shuffles:
 * dst[q][x0 + x] = a[x*s + q], x < 8. */
CONV_INLINE void split8(int s, const float *a, float *const *dst, int x0)
{
    v8f A = load_vec(v8f, a), B = load_vec(v8f, a + 8);
    if (s == 2) {
        store_vec(v8f, dst[0] + x0, __builtin_shuffle(A, B, (v8i){0, 2, 4, 6, 8, 10, 12, 14}));
        store_vec(v8f, dst[1] + x0, __builtin_shuffle(A, B, (v8i){1, 3, 5, 7, 9, 11, 13, 15}));
        return;
    }
    v8f C = load_vec(v8f, a + 16), D = load_vec(v8f, a + 24);
    const v8i e = {0, 4, 8, 12, 2, 6, 10, 14}, o = {1, 5, 9, 13, 3, 7, 11, 15};
    const v8i lo = {0, 1, 2, 3, 8, 9, 10, 11}, hi = {4, 5, 6, 7, 12, 13, 14, 15};
    v8f E = __builtin_shuffle(A, B, e), F = __builtin_shuffle(A, B, o); /* q 0|2, 1|3 of x 0..3 */
    v8f G = __builtin_shuffle(C, D, e), H = __builtin_shuffle(C, D, o); /* of x 4..7 */
    store_vec(v8f, dst[0] + x0, __builtin_shuffle(E, G, lo));
    store_vec(v8f, dst[1] + x0, __builtin_shuffle(F, H, lo));
    store_vec(v8f, dst[2] + x0, __builtin_shuffle(E, G, hi));
    store_vec(v8f, dst[3] + x0, __builtin_shuffle(F, H, hi));
}

/* 16 outputs of each of the s phases from the 16*s floats at a, at level
 * isa (a constant where this is inlined). */
CONV_INLINE void split(strata_isa_level isa, int s, const float *a, float *const *dst)
{
    if (s == 1)
        memcpy(dst[0], a, sizeof(float) * 16);
    else if (isa == STRATA_ISA_AVX512)
        split16(s, a, dst);
    else if (isa == STRATA_ISA_AVX2) {
        split8(s, a, dst, 0);
        split8(s, a + 8 * s, dst, 8);
    } else
        for (int x = 0; x < 16; x++)
            for (int q = 0; q < s; q++)
                dst[q][x] = a[x * s + q];
}

/* One padded row: dst + q*P (q < s) gets x in [0, L) of phase q from
 * src (the image row, w floats; X - pw outside [0, w) is 0). Edge chunks
 * go through a zero-padded copy, the last partial one through out. */
CONV_INLINE void split_row(strata_isa_level isa, const float *src, int w, int pw, int s, int L,
                           size_t P, float *dst)
{
    if (s != 1 && s != 2 && s != 4) {
        for (int x = 0; x < L; x++)
            for (int p = 0; p < s; p++) {
                int X = x * s + p - pw;
                dst[p * P + x] = X >= 0 && X < w ? src[X] : 0.0f;
            }
        return;
    }
    float buf[64], out[4][16], *q[4];
    for (int x = 0; x < L; x += 16) {
        int X0 = x * s - pw, n = 16 * s, whole = x + 16 <= L;
        const float *a = buf;
        if (X0 >= 0 && X0 + n <= w)
            a = src + X0;
        else {
            int lo = X0 < 0 ? -X0 : 0, hi = w - X0 < n ? w - X0 : n;
            memset(buf, 0, sizeof buf);
            if (hi > lo)
                memcpy(buf + lo, src + X0 + lo, sizeof(float) * (hi - lo));
        }
        for (int p = 0; p < s; p++)
            q[p] = whole ? dst + p * P + x : out[p];
        split(isa, s, a, q);
        if (!whole)
            for (int p = 0; p < s; p++)
                memcpy(dst + p * P + x, out[p], sizeof(float) * (L - x));
    }
}

/* Plane rows Y of row phase p hold padded row r = Y*sh + p: image row
 * r - ph, or zeros (padding, or past the padded image). */
CONV_INLINE void phase_fill_body(strata_isa_level isa, float *ph, const float *img,
                                 const conv_dims *d)
{
    int Hp = d->h + 2 * d->ph, L = conv_phase_row(d), rows = conv_phase_rows(d);
    int sh = d->sh, sw = d->sw;
    size_t P = conv_phase_plane(d);
    for (int c = 0; c < d->c; c++)
        for (int p = 0; p < sh; p++) {
            float *plane = ph + (size_t)(c * sh + p) * sw * P;
            for (int Y = 0; Y < rows; Y++) {
                int r = Y * sh + p, iy = r - d->ph;
                float *dst = plane + (size_t)Y * L;
                if (r >= Hp || iy < 0 || iy >= d->h) {
                    for (int q = 0; q < sw; q++)
                        memset(dst + q * P, 0, sizeof(float) * L);
                    continue;
                }
                split_row(isa, img + ((size_t)c * d->h + iy) * d->w, d->w, d->pw, sw, L, P, dst);
            }
            size_t used = (size_t)rows * L; /* the planes' tails past the rows */
            for (int q = 0; q < sw; q++)
                memset(plane + q * P + used, 0, sizeof(float) * (P - used));
        }
}

#if STRATA_X86_DISPATCH
STRATA_TARGET_AVX512 __attribute__((noinline)) static void
phase_fill_avx512(float *ph, const float *img, const conv_dims *d)
{
    phase_fill_body(STRATA_ISA_AVX512, ph, img, d);
}
STRATA_TARGET_AVX2 __attribute__((noinline)) static void
phase_fill_avx2(float *ph, const float *img, const conv_dims *d)
{
    phase_fill_body(STRATA_ISA_AVX2, ph, img, d);
}
#endif
__attribute__((noinline)) static void phase_fill_base(float *ph, const float *img,
                                                      const conv_dims *d)
{
    phase_fill_body(STRATA_ISA_BASE, ph, img, d);
}
void conv_phase_fill(float *ph, const float *img, const conv_dims *d)
{
#if STRATA_X86_DISPATCH
    strata_isa_level isa = strata_isa();
    if (isa == STRATA_ISA_AVX512)
        return phase_fill_avx512(ph, img, d);
    if (isa == STRATA_ISA_AVX2)
        return phase_fill_avx2(ph, img, d);
#endif
    phase_fill_base(ph, img, d);
}
