/* batchnorm2d.c — batch normalisation over (N, H, W) per channel
 * (PyTorch's nn.BatchNorm2d, track_running_stats = true).
 *
 * Options: eps (1e-5, > 0), momentum (0.1, 0..1), affine (true).
 * Params, in this order: weight (C), bias (C) when affine; then the buffers
 * running_mean (C), running_var (C), num_batches_tracked (scalar, a count).
 * Training uses the batch mean and biased variance, and updates
 *   running_mean = (1-m) running_mean + m mean
 *   running_var  = (1-m) running_var  + m var * M/(M-1)   (unbiased, M = N*H*W)
 *   num_batches_tracked += 1.
 * Eval uses running_mean and running_var. Either way forward keeps the mean
 * and 1/sqrt(var + eps) it used in `saved` (2*C floats) for backward.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "common/layer_new.h"

typedef struct batchnorm2d {
    int c, h, w;
    float eps, momentum;
    int affine;
} batchnorm2d;

static void *bn_create(const strata_host *host, strata_opts *o, strata_shape in,
                       strata_shape *out)
{
    double eps, momentum;
    int affine;
    if (host->opt_float(o, "eps", 1e-5, 0.0, 1.0, &eps) < 0 ||
        host->opt_float(o, "momentum", 0.1, 0.0, 1.0, &momentum) < 0 ||
        host->opt_bool(o, "affine", 1, &affine) < 0)
        return NULL;
    if (!(eps > 0.0)) {
        host->opt_error(o, "eps", "expected eps > 0 (it keeps 1/sqrt(var + eps) finite), got %g", eps);
        return NULL;
    }
    batchnorm2d *L = layer_new(host, o, "batchnorm2d", in, sizeof *L);
    if (!L)
        return NULL;
    L->c = in.c, L->h = in.h, L->w = in.w;
    L->eps = (float)eps, L->momentum = (float)momentum;
    L->affine = affine;
    *out = in;
    return L;
}

static void bn_destroy(void *layer) { free(layer); }

static int bn_num_params(const void *layer)
{
    return ((const batchnorm2d *)layer)->affine ? 5 : 3;
}

static void bn_param_desc(const void *layer, int i, strata_param_desc *d)
{
    const batchnorm2d *L = layer;
    static const char *const names[5] = {"weight", "bias", "running_mean",
                                         "running_var", "num_batches_tracked"};
    static const strata_init_role roles[5] = {STRATA_INIT_ONES, STRATA_INIT_ZEROS,
                                              STRATA_INIT_ZEROS, STRATA_INIT_ONES,
                                              STRATA_INIT_ZEROS};
    static const int flags[5] = {0, 0, STRATA_PARAM_BUFFER, STRATA_PARAM_BUFFER,
                                 STRATA_PARAM_BUFFER | STRATA_PARAM_COUNT};
    int k = L->affine ? i : i + 2;
    memset(d, 0, sizeof *d);
    d->name = names[k];
    d->ndim = k == 4 ? 0 : 1;
    d->dims[0] = k == 4 ? 0 : L->c;
    d->role = roles[k];
    d->flags = flags[k];
    d->fan_in = d->fan_out = L->c; /* torch: a 1-D tensor's fans are its length */
}

/* mean (C) and inv_std (C) */
static size_t bn_saved_bytes(const void *layer, int n)
{
    return sizeof(float) * 2 * (size_t)((const batchnorm2d *)layer)->c;
}
/* Batch mean and biased variance of channel c of in (N, C, P), in double. */
static void channel_stats(const float *in, int n, int C, int P, int c,
                          double *mean, double *var)
{
    double s = 0, ss = 0;
    for (int b = 0; b < n; b++) {
        const float *x = in + ((size_t)b * C + c) * P;
        for (int p = 0; p < P; p++)
            s += x[p];
    }
    double m = s / ((double)n * P);
    for (int b = 0; b < n; b++) {
        const float *x = in + ((size_t)b * C + c) * P;
        for (int p = 0; p < P; p++)
            ss += (x[p] - m) * (x[p] - m);
    }
    *mean = m;
    *var = ss / ((double)n * P);
}

/* in, out (N, C, H, W); weight, bias (C) (1 and 0 without affine):
 * out[n][c][p] = weight[c] * (in[n][c][p] - mean[c]) * inv_std[c] + bias[c],
 * inv_std = 1/sqrt(var + eps); mean, var from the batch (training) or the
 * running buffers (eval). */
static void bn_forward(const void *layer, const strata_ctx *ctx, int n,
                       const float *in, float *out, float *const *params,
                       void *saved, void *scratch)
{
    const batchnorm2d *L = layer;
    int C = L->c, P = L->h * L->w, off = L->affine ? 2 : 0;
    const float *weight = L->affine ? params[0] : NULL, *bias = L->affine ? params[1] : NULL;
    float *running_mean = params[off], *running_var = params[off + 1];
    float *num_batches = params[off + 2];
    float *mean = saved, *inv_std = (float *)saved + C;
    double M = (double)n * P;
    for (int c = 0; c < C; c++) {
        if (ctx->training) {
            double m, v;
            channel_stats(in, n, C, P, c, &m, &v);
            double unbiased = M > 1 ? v * M / (M - 1) : v;
            running_mean[c] = (float)((1 - L->momentum) * running_mean[c] + L->momentum * m);
            running_var[c] = (float)((1 - L->momentum) * running_var[c] + L->momentum * unbiased);
            mean[c] = (float)m;
            inv_std[c] = (float)(1.0 / sqrt(v + L->eps));
        } else {
            mean[c] = running_mean[c];
            inv_std[c] = (float)(1.0 / sqrt((double)running_var[c] + L->eps));
        }
        float g = weight ? weight[c] : 1.0f, be = bias ? bias[c] : 0.0f;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * C + c) * P;
            float *y = out + ((size_t)b * C + c) * P;
            for (int p = 0; p < P; p++)
                y[p] = g * (x[p] - mean[c]) * inv_std[c] + be;
        }
    }
    if (ctx->training)
        num_batches[0] += 1.0f;
}

/* xhat = (in - mean) * inv_std, M = N*H*W, per channel:
 *   dbias   += sum dout;   dweight += sum dout * xhat
 *   training: din = weight * inv_std / M * (M dout - sum dout - xhat sum dout*xhat)
 *   eval:     din = weight * inv_std * dout */
static void bn_backward(const void *layer, const strata_ctx *ctx, int n,
                        const float *in, const float *out, const float *dout,
                        float *din, float *const *params, float *const *dparams,
                        void *saved, void *scratch)
{
    const batchnorm2d *L = layer;
    int C = L->c, P = L->h * L->w;
    const float *weight = L->affine ? params[0] : NULL;
    const float *mean = saved, *inv_std = (const float *)saved + C;
    double M = (double)n * P;
    for (int c = 0; c < C; c++) {
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * C + c) * P;
            const float *dy = dout + ((size_t)b * C + c) * P;
            for (int p = 0; p < P; p++) {
                sum_dy += dy[p];
                sum_dy_xhat += dy[p] * (x[p] - mean[c]) * inv_std[c];
            }
        }
        if (L->affine) {
            dparams[0][c] += (float)sum_dy_xhat;
            dparams[1][c] += (float)sum_dy;
        }
        if (!din)
            continue;
        float g = weight ? weight[c] : 1.0f;
        for (int b = 0; b < n; b++) {
            const float *x = in + ((size_t)b * C + c) * P;
            const float *dy = dout + ((size_t)b * C + c) * P;
            float *dx = din + ((size_t)b * C + c) * P;
            for (int p = 0; p < P; p++) {
                if (!ctx->training) {
                    dx[p] = g * inv_std[c] * dy[p];
                    continue;
                }
                double xhat = (x[p] - mean[c]) * inv_std[c];
                dx[p] = (float)(g * inv_std[c] / M *
                                (M * dy[p] - sum_dy - xhat * sum_dy_xhat));
            }
        }
    }
}

STRATA_PLUGIN_DEFINE(LAYER, "batchnorm2d", "1.0",
                     "batch normalisation per channel with running statistics, PyTorch's nn.BatchNorm2d",
                     .create = bn_create,
                     .destroy = bn_destroy,
                     .num_params = bn_num_params,
                     .param_desc = bn_param_desc,
                     .saved_bytes = bn_saved_bytes,
                     .forward = bn_forward,
                     .backward = bn_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED)
