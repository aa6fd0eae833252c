/* flatten.c — (c, h, w) -> (c*h*w, 1, 1) (PyTorch's nn.Flatten on NCHW).
 * NCHW is already contiguous in that order, so forward and backward copy. */
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>

typedef struct flatten {
    size_t size; /* c*h*w */
} flatten;

static void *flatten_create(const strata_host *host, strata_opts *o,
                            strata_shape in, strata_shape *out)
{
    if (in.c < 1 || in.h < 1 || in.w < 1) {
        host->opt_error(o, NULL, "flatten needs an input of positive shape, got (%d, %d, %d)",
                        in.c, in.h, in.w);
        return NULL;
    }
    size_t size = (size_t)in.c * in.h * in.w;
    if (size > 0x7fffffff) {
        host->opt_error(o, NULL, "input (%d, %d, %d) has more than 2^31-1 features",
                        in.c, in.h, in.w);
        return NULL;
    }
    flatten *L = calloc(1, sizeof *L);
    if (!L) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    L->size = size;
    out->c = (int)size, out->h = 1, out->w = 1;
    return L;
}

static void flatten_destroy(void *layer) { free(layer); }
static int flatten_num_params(const void *layer) { return 0; }
static void flatten_param_desc(const void *layer, int i, strata_param_desc *d) {}
static void flatten_geometry(const void *layer, int kernel[2], int stride[2])
{
    kernel[0] = kernel[1] = stride[0] = stride[1] = 1;
}
static int64_t flatten_macs(const void *layer) { return 0; }
static size_t flatten_saved_bytes(const void *layer, int n) { return 0; }
static size_t flatten_scratch_bytes(const void *layer, int n) { return 0; }

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

static const strata_layer_ops flatten_ops = {
    .create = flatten_create,
    .destroy = flatten_destroy,
    .num_params = flatten_num_params,
    .param_desc = flatten_param_desc,
    .geometry = flatten_geometry,
    .macs = flatten_macs,
    .saved_bytes = flatten_saved_bytes,
    .scratch_bytes = flatten_scratch_bytes,
    .forward = flatten_forward,
    .backward = flatten_backward,
    .flags = STRATA_LAYER_OUT_UNUSED,
};

static const strata_plugin flatten_plugin = {
    .abi_version = STRATA_ABI_VERSION,
    .kind = STRATA_PLUGIN_LAYER,
    .name = "flatten",
    .version = "1.0",
    .description = "reshape (c, h, w) to (c*h*w, 1, 1), PyTorch's nn.Flatten",
    .layer = &flatten_ops,
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    return host_abi_version == STRATA_ABI_VERSION ? &flatten_plugin : NULL;
}
