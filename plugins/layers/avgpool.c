/* avgpool.c — 2-D average pooling (PyTorch's nn.AvgPool2d).
 *
 * Options: kernel (required), stride (= kernel), padding (0), ceil_mode
 * (false), count_include_pad (true); see pool_shape.h for the output size.
 * Divisor, as PyTorch: the window clipped to the padded input
 * [-PH, H+PH) x [-PW, W+PW) when count_include_pad, else the window clipped
 * to the image itself.
 */
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "common/pool_shape.h"
#include "common/layer_new.h"

typedef struct avgpool {
    pool_shape s;
    int count_include_pad;
} avgpool;

static void *avgpool_create(const strata_host *host, strata_opts *o,
                            strata_shape in, strata_shape *out)
{
    pool_shape ps;
    int cip;
    if (pool_shape_parse(host, o, in, "avgpool", &ps) < 0 ||
        host->opt_bool(o, "count_include_pad", 1, &cip) < 0)
        return NULL;
    avgpool *L = layer_alloc(host, o, sizeof *L);
    if (!L)
        return NULL;
    L->s = ps;
    L->count_include_pad = cip;
    out->c = ps.c, out->h = ps.oh, out->w = ps.ow;
    return L;
}

static void avgpool_destroy(void *layer) { free(layer); }
static void avgpool_geometry(const void *layer, int kernel[2], int stride[2])
{
    const pool_shape *s = &((const avgpool *)layer)->s;
    kernel[0] = s->kh, kernel[1] = s->kw;
    stride[0] = s->sh, stride[1] = s->sw;
}

/* The window of output (oy, ox): rows [*y0, *y1), columns [*x0, *x1) of the
 * image, and the divisor PyTorch uses for it. */
static int window(const avgpool *L, int oy, int ox, int *y0, int *y1, int *x0, int *x1)
{
    const pool_shape *s = &L->s;
    int a = oy * s->sh - s->ph, b = a + s->kh;
    int c = ox * s->sw - s->pw, d = c + s->kw;
    if (b > s->h + s->ph) b = s->h + s->ph;
    if (d > s->w + s->pw) d = s->w + s->pw;
    int padded = (b - a) * (d - c);
    *y0 = a < 0 ? 0 : a, *y1 = b > s->h ? s->h : b;
    *x0 = c < 0 ? 0 : c, *x1 = d > s->w ? s->w : d;
    return L->count_include_pad ? padded : (*y1 - *y0) * (*x1 - *x0);
}

/* in (N, C, H, W), out (N, C, OH, OW):
 * out[n][c][y][x] = (sum of in[n][c] over the window clipped to the image)
 *                   / divisor(y, x). */
static void avgpool_forward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, float *out, float *const *params,
                            void *saved, void *scratch)
{
    const avgpool *L = layer;
    const pool_shape *s = &L->s;
    for (size_t plane = 0; plane < (size_t)n * s->c; plane++) {
        const float *x = in + plane * s->h * s->w;
        float *y = out + plane * s->oh * s->ow;
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++) {
                int y0, y1, x0, x1;
                int div = window(L, oy, ox, &y0, &y1, &x0, &x1);
                float sum = 0.0f;
                for (int i = y0; i < y1; i++)
                    for (int j = x0; j < x1; j++)
                        sum += x[i * s->w + j];
                y[oy * s->ow + ox] = sum / (float)div;
            }
    }
}

/* din = 0, then din[n][c][i][j] += dout[n][c][y][x] / divisor(y, x) for every
 * (i, j) in the clipped window of (y, x). */
static void avgpool_backward(const void *layer, const strata_ctx *ctx, int n,
                             const float *in, const float *out, const float *dout,
                             float *din, float *const *params, float *const *dparams,
                             void *saved, void *scratch)
{
    const avgpool *L = layer;
    const pool_shape *s = &L->s;
    if (!din)
        return;
    memset(din, 0, sizeof(float) * (size_t)n * s->c * s->h * s->w);
    for (size_t plane = 0; plane < (size_t)n * s->c; plane++) {
        float *dx = din + plane * s->h * s->w;
        const float *dy = dout + plane * s->oh * s->ow;
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++) {
                int y0, y1, x0, x1;
                int div = window(L, oy, ox, &y0, &y1, &x0, &x1);
                float g = dy[oy * s->ow + ox] / (float)div;
                for (int i = y0; i < y1; i++)
                    for (int j = x0; j < x1; j++)
                        dx[i * s->w + j] += g;
            }
    }
}

STRATA_PLUGIN_DEFINE(LAYER, "avgpool", "1.0",
                     "2-D average pooling, PyTorch's nn.AvgPool2d",
                     .create = avgpool_create,
                     .destroy = avgpool_destroy,
                     .geometry = avgpool_geometry,
                     .forward = avgpool_forward,
                     .backward = avgpool_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED)
