/* conv_first_phase.c — see conv_first_phase.h. */
#include <string.h>
#include "conv_first_phase.h"

void conv_phase_taps(const conv_dims *d, int *off)
{
    int Hp = d->h + 2 * d->ph, L = conv_phase_row(d), s = d->sw;
    for (int c = 0; c < d->c; c++)
        for (int i = 0; i < d->kh; i++)
            for (int j = 0; j < d->kw; j++)
                off[(c * d->kh + i) * d->kw + j] = ((c * Hp + i) * s + j % s) * L + j / s;
}

/* Row r of channel c: phase q holds in[c][r-ph][x*s + q - pw] for x in
 * [x0, x1) (the columns inside the image), zeros around. */
CONV_CLONES void conv_phase_fill(float *ph, const float *img, const conv_dims *d)
{
    int Hp = d->h + 2 * d->ph, L = conv_phase_row(d), s = d->sw;
    for (int c = 0; c < d->c; c++)
        for (int r = 0; r < Hp; r++) {
            int iy = r - d->ph;
            float *dst = ph + ((size_t)c * Hp + r) * s * L;
            if (iy < 0 || iy >= d->h) {
                memset(dst, 0, sizeof(float) * s * L);
                continue;
            }
            const float *src = img + ((size_t)c * d->h + iy) * d->w;
            for (int q = 0; q < s; q++, dst += L) {
                /* need 0 <= x*s + q - pw < w */
                int lo = d->pw - q, x0 = lo <= 0 ? 0 : (lo + s - 1) / s;
                int hi = d->w - 1 + d->pw - q, x1 = hi < 0 ? 0 : hi / s + 1;
                x1 = x1 < L ? x1 : L;
                x0 = x0 < x1 ? x0 : x1;
                memset(dst, 0, sizeof(float) * x0);
                if (s == 1)
                    memcpy(dst + x0, src + x0 + q - d->pw, sizeof(float) * (x1 - x0));
                else
                    for (int x = x0; x < x1; x++)
                        dst[x] = src[x * s + q - d->pw];
                memset(dst + x1, 0, sizeof(float) * (L - x1));
            }
        }
}
