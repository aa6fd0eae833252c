/* installcheck_plugin.c — compiled by `make installcheck` against the
 * installed <strata/plugin.h> only, as an out-of-tree plugin would be:
 * the smallest module STRATA_PLUGIN_DEFINE makes (an identity layer). */
#include <string.h>
#include <strata/plugin.h>

static void *ic_create(const strata_host *host, strata_opts *o, strata_shape in, strata_shape *out)
{
    static int one;
    *out = in;
    return &one; /* no state: any non-NULL pointer */
}

static void ic_forward(const void *layer, const strata_ctx *ctx, int n, const float *in, float *out,
                       float *const *params, void *saved, void *scratch)
{
}

static void ic_backward(const void *layer, const strata_ctx *ctx, int n, const float *in, const float *out,
                        const float *dout, float *din, float *const *params, float *const *dparams,
                        void *saved, void *scratch)
{
}

STRATA_PLUGIN_DEFINE(LAYER, "installcheck_plugin", "0", "a module built from the installed header",
                     .create = ic_create,
                     .forward = ic_forward,
                     .backward = ic_backward)
