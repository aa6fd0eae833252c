/* adaptive_avgpool.c — adaptive average pooling (PyTorch's
 * nn.AdaptiveAvgPool2d): output (required, int or [h, w]) fixes the output
 * size; output row i averages input rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1,
 * and likewise for columns. */
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "common/layer_new.h"

typedef struct adaptive_avgpool {
    int c, h, w, oh, ow;
} adaptive_avgpool;

static void *adaptive_avgpool_create(const strata_host *host, strata_opts *o,
                                     strata_shape in, strata_shape *out)
{
    long size[2];
    int r = host->opt_int_pair(o, "output", 0, 1, 1 << 16, size);
    if (r < 0)
        return NULL;
    if (r == 1) {
        host->opt_error(o, "output", "required: the output size (an integer >= 1 or [h, w])");
        return NULL;
    }
    adaptive_avgpool *L = layer_new(host, o, "adaptive_avgpool", in, sizeof *L);
    if (!L)
        return NULL;
    L->c = in.c, L->h = in.h, L->w = in.w;
    L->oh = (int)size[0], L->ow = (int)size[1];
    out->c = L->c, out->h = L->oh, out->w = L->ow;
    return L;
}

static void adaptive_avgpool_destroy(void *layer) { free(layer); }
/* An approximation for the receptive-field report only:
 * kernel = ceil(in/out), stride = floor(in/out) (at least 1). */
static void adaptive_avgpool_geometry(const void *layer, int kernel[2], int stride[2])
{
    const adaptive_avgpool *L = layer;
    kernel[0] = (L->h + L->oh - 1) / L->oh, kernel[1] = (L->w + L->ow - 1) / L->ow;
    stride[0] = L->h / L->oh, stride[1] = L->w / L->ow;
    if (stride[0] < 1) stride[0] = 1;
    if (stride[1] < 1) stride[1] = 1;
}

/* [start, end) of output index i when `in` positions pool to `out`. */
static int win_start(int i, int in, int out) { return (int)((int64_t)i * in / out); }
static int win_end(int i, int in, int out)
{
    return (int)(((int64_t)(i + 1) * in + out - 1) / out);
}

/* in (N, C, H, W), out (N, C, OH, OW):
 * out[n][c][y][x] = mean of in[n][c][ys..ye)[xs..xe),
 * ys = floor(y*H/OH), ye = ceil((y+1)*H/OH), same for x with W, OW. */
static void adaptive_avgpool_forward(const void *layer, const strata_ctx *ctx, int n,
                                     const float *in, float *out, float *const *params,
                                     void *saved, void *scratch)
{
    const adaptive_avgpool *L = layer;
    for (size_t plane = 0; plane < (size_t)n * L->c; plane++) {
        const float *x = in + plane * L->h * L->w;
        float *y = out + plane * L->oh * L->ow;
        for (int oy = 0; oy < L->oh; oy++) {
            int y0 = win_start(oy, L->h, L->oh), y1 = win_end(oy, L->h, L->oh);
            for (int ox = 0; ox < L->ow; ox++) {
                int x0 = win_start(ox, L->w, L->ow), x1 = win_end(ox, L->w, L->ow);
                float sum = 0.0f;
                for (int i = y0; i < y1; i++)
                    for (int j = x0; j < x1; j++)
                        sum += x[i * L->w + j];
                y[oy * L->ow + ox] = sum / (float)((y1 - y0) * (x1 - x0));
            }
        }
    }
}

/* din = 0, then din over the window of (y, x) += dout[y][x] / window area. */
static void adaptive_avgpool_backward(const void *layer, const strata_ctx *ctx, int n,
                                      const float *in, const float *out, const float *dout,
                                      float *din, float *const *params,
                                      float *const *dparams, void *saved, void *scratch)
{
    const adaptive_avgpool *L = layer;
    if (!din)
        return;
    memset(din, 0, sizeof(float) * (size_t)n * L->c * L->h * L->w);
    for (size_t plane = 0; plane < (size_t)n * L->c; plane++) {
        float *dx = din + plane * L->h * L->w;
        const float *dy = dout + plane * L->oh * L->ow;
        for (int oy = 0; oy < L->oh; oy++) {
            int y0 = win_start(oy, L->h, L->oh), y1 = win_end(oy, L->h, L->oh);
            for (int ox = 0; ox < L->ow; ox++) {
                int x0 = win_start(ox, L->w, L->ow), x1 = win_end(ox, L->w, L->ow);
                float g = dy[oy * L->ow + ox] / (float)((y1 - y0) * (x1 - x0));
                for (int i = y0; i < y1; i++)
                    for (int j = x0; j < x1; j++)
                        dx[i * L->w + j] += g;
            }
        }
    }
}

STRATA_PLUGIN_DEFINE(LAYER, "adaptive_avgpool", "1.0",
                     "adaptive average pooling to a fixed output size, PyTorch's nn.AdaptiveAvgPool2d",
                     .create = adaptive_avgpool_create,
                     .destroy = adaptive_avgpool_destroy,
                     .geometry = adaptive_avgpool_geometry,
                     .forward = adaptive_avgpool_forward,
                     .backward = adaptive_avgpool_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED)
