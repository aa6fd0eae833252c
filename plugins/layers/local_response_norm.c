/* local_response_norm.c — local response normalisation across channels
 * (PyTorch's nn.LocalResponseNorm, as in AlexNet).
 *
 * Options: size (5, >= 1), alpha (1e-4, >= 0), beta (0.75, >= 0), k (1.0, > 0).
 *   b_c = a_c / D_c^beta,  D_c = k + alpha/size * sum_{c' in W(c)} a_{c'}^2,
 *   W(c) = channels c - size/2 .. c + (size-1)/2 clipped to [0, C).
 * PyTorch zero-pads the channels and averages with count_include_pad, so
 * the divisor is always `size`, even at the edges. D is kept in `saved`.
 */
#include <math.h>
#include <stdlib.h>
#include <strata/plugin.h>
#include "common/layer_new.h"

typedef struct lrn {
    int c, h, w;
    int size;
    float alpha, beta, k;
} lrn;

static void *lrn_create(const strata_host *host, strata_opts *o, strata_shape in,
                        strata_shape *out)
{
    long size;
    double alpha, beta, k;
    if (host->opt_int(o, "size", 5, 1, 1 << 20, &size) < 0 ||
        host->opt_float(o, "alpha", 1e-4, 0.0, 1e30, &alpha) < 0 ||
        host->opt_float(o, "beta", 0.75, 0.0, 1e30, &beta) < 0 ||
        host->opt_float(o, "k", 1.0, 0.0, 1e30, &k) < 0)
        return NULL;
    if (!(k > 0.0)) {
        host->opt_error(o, "k", "expected k > 0 (the denominator's offset), got %g", k);
        return NULL;
    }
    lrn *L = layer_new(host, o, "local_response_norm", in, sizeof *L);
    if (!L)
        return NULL;
    L->c = in.c, L->h = in.h, L->w = in.w;
    L->size = (int)size;
    L->alpha = (float)alpha, L->beta = (float)beta, L->k = (float)k;
    *out = in;
    return L;
}

static void lrn_destroy(void *layer) { free(layer); }
/* D, one float per element */
static size_t lrn_saved_bytes(const void *layer, int n)
{
    const lrn *L = layer;
    return sizeof(float) * (size_t)n * L->c * L->h * L->w;
}
/* in, out, D (N, C, H, W):
 * D[n][c][p] = k + alpha/size * sum_{c' = c-size/2}^{c+(size-1)/2} in[n][c'][p]^2
 * out[n][c][p] = in[n][c][p] * D[n][c][p]^-beta */
static void lrn_forward(const void *layer, const strata_ctx *ctx, int n,
                        const float *in, float *out, float *const *params,
                        void *saved, void *scratch)
{
    const lrn *L = layer;
    int P = L->h * L->w, lo = L->size / 2, hi = (L->size - 1) / 2;
    float *D = saved;
    for (int b = 0; b < n; b++) {
        size_t base = (size_t)b * L->c * P;
        for (int c = 0; c < L->c; c++) {
            int c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi >= L->c ? L->c - 1 : c + hi;
            for (int p = 0; p < P; p++) {
                float sum = 0.0f;
                for (int q = c0; q <= c1; q++) {
                    float a = in[base + (size_t)q * P + p];
                    sum += a * a;
                }
                size_t at = base + (size_t)c * P + p;
                D[at] = L->k + L->alpha / (float)L->size * sum;
                out[at] = in[at] * powf(D[at], -L->beta);
            }
        }
    }
}

/* With out_c = a_c D_c^-beta and j in W(c) <=> c in [j - (size-1)/2, j + size/2]:
 * din_j = dout_j D_j^-beta
 *         - (2 alpha beta / size) a_j * sum_{c: j in W(c)} dout_c out_c / D_c */
static void lrn_backward(const void *layer, const strata_ctx *ctx, int n,
                         const float *in, const float *out, const float *dout,
                         float *din, float *const *params, float *const *dparams,
                         void *saved, void *scratch)
{
    const lrn *L = layer;
    if (!din)
        return;
    int P = L->h * L->w, lo = L->size / 2, hi = (L->size - 1) / 2;
    const float *D = saved;
    float f = 2.0f * L->alpha * L->beta / (float)L->size;
    for (int b = 0; b < n; b++) {
        size_t base = (size_t)b * L->c * P;
        for (int j = 0; j < L->c; j++) {
            int c0 = j - hi < 0 ? 0 : j - hi, c1 = j + lo >= L->c ? L->c - 1 : j + lo;
            for (int p = 0; p < P; p++) {
                float sum = 0.0f;
                for (int c = c0; c <= c1; c++) {
                    size_t at = base + (size_t)c * P + p;
                    sum += dout[at] * out[at] / D[at];
                }
                size_t at = base + (size_t)j * P + p;
                din[at] = dout[at] * powf(D[at], -L->beta) - f * in[at] * sum;
            }
        }
    }
}

STRATA_PLUGIN_DEFINE(LAYER, "local_response_norm", "1.0",
                     "local response normalisation across channels, PyTorch's nn.LocalResponseNorm",
                     .create = lrn_create,
                     .destroy = lrn_destroy,
                     .saved_bytes = lrn_saved_bytes,
                     .forward = lrn_forward,
                     .backward = lrn_backward)
