/* flatten.c — (c, h, w) -> (c*h*w, 1, 1) (PyTorch's nn.Flatten on NCHW).
 * NCHW is already contiguous in that order, so forward and backward copy. */
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "common/layer_new.h"

typedef struct flatten {
    size_t size; /* c*h*w */
} flatten;

static void *flatten_create(const strata_host *host, strata_opts *o,
                            strata_shape in, strata_shape *out)
{
    if (layer_shape_check(host, o, "flatten", in) < 0)
        return NULL;
    size_t size = (size_t)in.c * in.h * in.w;
    if (size > 0x7fffffff) {
        host->opt_error(o, NULL, "input (%d, %d, %d) has more than 2^31-1 features",
                        in.c, in.h, in.w);
        return NULL;
    }
    flatten *L = layer_alloc(host, o, sizeof *L);
    if (!L)
        return NULL;
    L->size = size;
    out->c = (int)size, out->h = 1, out->w = 1;
    return L;
}

static void flatten_destroy(void *layer) { free(layer); }
/* in (N, C, H, W), out (N, C*H*W): out = in. */
static void flatten_forward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, float *out, float *const *params,
                            void *saved, void *scratch)
{
    memcpy(out, in, sizeof(float) * ((const flatten *)layer)->size * n);
}

/* din = dout. */
static void flatten_backward(const void *layer, const strata_ctx *ctx, int n,
                             const float *in, const float *out, const float *dout,
                             float *din, float *const *params, float *const *dparams,
                             void *saved, void *scratch)
{
    if (din)
        memcpy(din, dout, sizeof(float) * ((const flatten *)layer)->size * n);
}

STRATA_PLUGIN_DEFINE(LAYER, "flatten", "1.0",
                     "reshape (c, h, w) to (c*h*w, 1, 1), PyTorch's nn.Flatten",
                     .create = flatten_create,
                     .destroy = flatten_destroy,
                     .forward = flatten_forward,
                     .backward = flatten_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED)
