/* wrongkind.c — a test-only layer plugin built outside the core's plugin
 * directory: the identity layer, named "wrongkind". Tests ask for it as an
 * optimizer (refused: wrong kind) and use it as a layer through
 * --plugin-dir (a third-party module needs nothing but the ABI header). */
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>

typedef struct identity {
    strata_shape shape;
} identity;

static void *wk_create(const strata_host *host, strata_opts *o, strata_shape in, strata_shape *out)
{
    identity *L = malloc(sizeof *L);
    if (!L) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    L->shape = in;
    *out = in;
    return L;
}

static void wk_destroy(void *layer)
{
    free(layer);
}

/* out = in; in, out are (n, c, h, w). */
static void wk_forward(const void *layer, const strata_ctx *ctx, int n, const float *in, float *out,
                       float *const *params, void *saved, void *scratch)
{
    const identity *L = layer;
    memcpy(out, in, (size_t)n * L->shape.c * L->shape.h * L->shape.w * sizeof *out);
}

/* din = dout. */
static void wk_backward(const void *layer, const strata_ctx *ctx, int n, const float *in, const float *out,
                        const float *dout, float *din, float *const *params, float *const *dparams, void *saved,
                        void *scratch)
{
    const identity *L = layer;
    if (din)
        memcpy(din, dout, (size_t)n * L->shape.c * L->shape.h * L->shape.w * sizeof *din);
}

STRATA_PLUGIN_DEFINE(LAYER, "wrongkind", "0.1", "identity layer (test module)",
                     .create = wk_create,
                     .destroy = wk_destroy,
                     .forward = wk_forward,
                     .backward = wk_backward)
