/* maxpool.c — 2-D max pooling (PyTorch's nn.MaxPool2d, dilation 1).
 *
 * Options: kernel (required), stride (= kernel), padding (0), ceil_mode
 * (false); see pool_shape.h for the output size. Padding counts as -inf.
 * Forward keeps, per output element, the flat index (h*W + w) of the first
 * maximum of its window in `saved`; backward routes the gradient there.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "parallel.h"
#include "pool_shape.h"

typedef pool_shape maxpool;

static void *maxpool_create(const strata_host *host, strata_opts *o,
                            strata_shape in, strata_shape *out)
{
    pool_shape ps;
    if (pool_shape_parse(host, o, in, "maxpool", &ps) < 0)
        return NULL;
    maxpool *L = malloc(sizeof *L);
    if (!L) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    *L = ps;
    out->c = L->c, out->h = L->oh, out->w = L->ow;
    return L;
}

static void maxpool_destroy(void *layer) { free(layer); }
static int maxpool_num_params(const void *layer) { return 0; }
static void maxpool_param_desc(const void *layer, int i, strata_param_desc *d) {}

static void maxpool_geometry(const void *layer, int kernel[2], int stride[2])
{
    const maxpool *L = layer;
    kernel[0] = L->kh, kernel[1] = L->kw;
    stride[0] = L->sh, stride[1] = L->sw;
}

static int64_t maxpool_macs(const void *layer) { return 0; }

/* one int32 argmax per output element */
static size_t maxpool_saved_bytes(const void *layer, int n)
{
    const maxpool *L = layer;
    return sizeof(int32_t) * (size_t)n * L->c * L->oh * L->ow;
}
static size_t maxpool_scratch_bytes(const void *layer, int n) { return 0; }

/* in (N, C, H, W), out and argmax (N, C, OH, OW):
 * out[n][c][y][x] = max over the window rows y*SH-PH .. +KH-1, columns
 * x*SW-PW .. +KW-1 (clipped to the image) of in[n][c]; argmax is the
 * flat index i*W + j of the first maximum in row-major order (a NaN wins,
 * as in PyTorch). */
/* One plane (h, w) -> (oh, ow): y = the max of each window, am = where it
 * is (the first maximum; NaN wins, PyTorch's rule). */
static void max_plane(const maxpool *L, const float *x, float *y, int32_t *am)
{
    for (int oy = 0; oy < L->oh; oy++) {
        int y0 = oy * L->sh - L->ph, y1 = y0 + L->kh;
        if (y0 < 0) y0 = 0;
        if (y1 > L->h) y1 = L->h;
        for (int ox = 0; ox < L->ow; ox++) {
            int x0 = ox * L->sw - L->pw, x1 = x0 + L->kw;
            if (x0 < 0) x0 = 0;
            if (x1 > L->w) x1 = L->w;
            float best = x[y0 * L->w + x0];
            int at = y0 * L->w + x0;
            for (int i = y0; i < y1; i++) {
                const float *row = x + i * L->w;
                for (int j = x0; j < x1; j++) {
                    float v = row[j];
                    if (v > best || (v != v && best == best)) {
                        best = v;
                        at = i * L->w + j;
                    }
                }
            }
            y[oy * L->ow + ox] = best;
            am[oy * L->ow + ox] = at;
        }
    }
}

typedef struct pool_job {
    const maxpool *L;
    const float *x;
    float *y;
    int32_t *am;
    const float *dy;
    float *dx;
} pool_job;

static void fwd_planes(void *arg, int begin, int end)
{
    const pool_job *j = arg;
    const maxpool *L = j->L;
    size_t in = (size_t)L->h * L->w, out = (size_t)L->oh * L->ow;
    for (int p = begin; p < end; p++)
        max_plane(L, j->x + p * in, j->y + p * out, j->am + p * out);
}

static void bwd_planes(void *arg, int begin, int end)
{
    const pool_job *j = arg;
    const maxpool *L = j->L;
    size_t in = (size_t)L->h * L->w, out = (size_t)L->oh * L->ow;
    for (int p = begin; p < end; p++) {
        float *dx = j->dx + p * in;
        const float *dy = j->dy + p * out;
        const int32_t *am = j->am + p * out;
        for (size_t k = 0; k < in; k++)
            dx[k] = 0.0f;
        for (size_t k = 0; k < out; k++)
            dx[am[k]] += dy[k];
    }
}

/* in (N, C, H, W) -> out (N, C, OH, OW): the maximum of each window; the
 * argmax (index in the plane) of each output is kept for backward. Planes
 * are split between ctx->threads threads. */
static void maxpool_forward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, float *out, float *const *params,
                            void *saved, void *scratch)
{
    const maxpool *L = layer;
    pool_job j = {.L = L, .x = in, .y = out, .am = saved};
    parallel_for(ctx->threads, n * L->c, fwd_planes, &j);
}

/* din = 0, then din[argmax] += dout for each output (windows may overlap). */
static void maxpool_backward(const void *layer, const strata_ctx *ctx, int n,
                             const float *in, const float *out, const float *dout,
                             float *din, float *const *params, float *const *dparams,
                             void *saved, void *scratch)
{
    const maxpool *L = layer;
    if (!din)
        return;
    pool_job j = {.L = L, .am = saved, .dy = dout, .dx = din};
    parallel_for(ctx->threads, n * L->c, bwd_planes, &j);
}

static const strata_layer_ops maxpool_ops = {
    .create = maxpool_create,
    .destroy = maxpool_destroy,
    .num_params = maxpool_num_params,
    .param_desc = maxpool_param_desc,
    .geometry = maxpool_geometry,
    .macs = maxpool_macs,
    .saved_bytes = maxpool_saved_bytes,
    .scratch_bytes = maxpool_scratch_bytes,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .flags = STRATA_LAYER_OUT_UNUSED,
};

static const strata_plugin maxpool_plugin = {
    .abi_version = STRATA_ABI_VERSION,
    .kind = STRATA_PLUGIN_LAYER,
    .name = "maxpool",
    .version = "1.0",
    .description = "2-D max pooling with argmax routing, PyTorch's nn.MaxPool2d",
    .layer = &maxpool_ops,
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    return host_abi_version == STRATA_ABI_VERSION ? &maxpool_plugin : NULL;
}
