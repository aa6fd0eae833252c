/* conv_smallc_phase.c — see conv_smallc_phase.h.
 *
 * The fill goes by input row: the padded row's columns X in [0, sw*L)
 * (in[X - pw], 0 outside the image) split into sw phase rows,
 * phase q taking X = x*sw + q. Strides 1, 2 and 4 do it 16 outputs at a
 * time: sw vectors of the padded row (straight from the image inside it,
 * from a zero-padded copy at its edges) de-interleaved by shuffles, the
 * row's last partial vector through a buffer; other strides one by one. */
#include <string.h>
#include "conv_smallc_phase.h"

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef int v16i __attribute__((vector_size(64)));

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

/* 16 outputs of each of the s = 1, 2, 4 phases from the 16*s padded-row
 * floats at a (unaligned): dst[q][x] = a[x*s + q]. */
CONV_INLINE void split16(int s, const float *a, float *const *dst)
{
    v16 A = *(const v16u *)a;
    if (s == 1) {
        *(v16u *)dst[0] = A;
        return;
    }
    v16 B = *(const v16u *)(a + 16);
    if (s == 2) {
        *(v16u *)dst[0] = __builtin_shuffle(A, B, (v16i){0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30});
        *(v16u *)dst[1] = __builtin_shuffle(A, B, (v16i){1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31});
        return;
    }
    v16 C = *(const v16u *)(a + 32), D = *(const v16u *)(a + 48);
    const v16i e = {0, 4, 8, 12, 16, 20, 24, 28, 2, 6, 10, 14, 18, 22, 26, 30};
    const v16i o = {1, 5, 9, 13, 17, 21, 25, 29, 3, 7, 11, 15, 19, 23, 27, 31};
    const v16i lo = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    const v16i hi = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    v16 E = __builtin_shuffle(A, B, e), F = __builtin_shuffle(A, B, o); /* q 0|2, 1|3 of x 0..7 */
    v16 G = __builtin_shuffle(C, D, e), H = __builtin_shuffle(C, D, o); /* of x 8..15 */
    *(v16u *)dst[0] = __builtin_shuffle(E, G, lo);
    *(v16u *)dst[1] = __builtin_shuffle(F, H, lo);
    *(v16u *)dst[2] = __builtin_shuffle(E, G, hi);
    *(v16u *)dst[3] = __builtin_shuffle(F, H, hi);
}

/* One padded row: dst + q*P (q < s) gets x in [0, L) of phase q from
 * src (the image row, w floats; X - pw outside [0, w) is 0). Edge chunks
 * go through a zero-padded copy, the last partial one through out. */
CONV_INLINE void split_row(const float *src, int w, int pw, int s, int L, size_t P, float *dst)
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
        split16(s, a, q);
        if (!whole)
            for (int p = 0; p < s; p++)
                memcpy(dst + p * P + x, out[p], sizeof(float) * (L - x));
    }
}

/* Plane rows Y of row phase p hold padded row r = Y*sh + p: image row
 * r - ph, or zeros (padding, or past the padded image). */
CONV_CLONES void conv_phase_fill(float *ph, const float *img, const conv_dims *d)
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
                split_row(img + ((size_t)c * d->h + iy) * d->w, d->w, d->pw, sw, L, P, dst);
            }
            size_t used = (size_t)rows * L; /* the planes' tails past the rows */
            for (int q = 0; q < sw; q++)
                memset(plane + q * P + used, 0, sizeof(float) * (P - used));
        }
}
