/* dropout.c — inverted dropout (PyTorch's nn.Dropout).
 *
 * Option: p (0.5, 0 <= p < 1), the probability of zeroing an element.
 * Training: keep each element with probability 1-p and scale it by 1/(1-p);
 * the mask is drawn with strata_rng_uniform seeded with ctx->seed, element by
 * element in memory order, so the same seed gives the same mask. It is kept
 * in `saved` (one byte per element) for backward. Eval: identity.
 */
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>

typedef struct dropout {
    size_t size; /* c*h*w */
    float p;
} dropout;

static void *dropout_create(const strata_host *host, strata_opts *o,
                            strata_shape in, strata_shape *out)
{
    double p;
    if (host->opt_float(o, "p", 0.5, 0.0, 1.0, &p) < 0)
        return NULL;
    if (!(p < 1.0)) {
        host->opt_error(o, "p", "expected 0 <= p < 1 (p = 1 would drop everything), got %g", p);
        return NULL;
    }
    if (in.c < 1 || in.h < 1 || in.w < 1) {
        host->opt_error(o, NULL, "dropout needs an input of positive shape, got (%d, %d, %d)",
                        in.c, in.h, in.w);
        return NULL;
    }
    dropout *L = calloc(1, sizeof *L);
    if (!L) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    L->size = (size_t)in.c * in.h * in.w;
    L->p = (float)p;
    *out = in;
    return L;
}

static void dropout_destroy(void *layer) { free(layer); }
static int dropout_num_params(const void *layer) { return 0; }
static void dropout_param_desc(const void *layer, int i, strata_param_desc *d) {}
static void dropout_geometry(const void *layer, int kernel[2], int stride[2])
{
    kernel[0] = kernel[1] = stride[0] = stride[1] = 1;
}
static int64_t dropout_macs(const void *layer) { return 0; }

/* one byte of mask per element */
static size_t dropout_saved_bytes(const void *layer, int n)
{
    return ((const dropout *)layer)->size * (size_t)n;
}
static size_t dropout_scratch_bytes(const void *layer, int n) { return 0; }

/* in, out (N, C, H, W); mask (N*C*H*W) bytes in saved.
 * training: mask[i] = (u_i >= p), u_i = strata_rng_uniform(seed) in order;
 *           out[i] = mask[i] * in[i] / (1 - p)
 * eval:     out = in */
static void dropout_forward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, float *out, float *const *params,
                            void *saved, void *scratch)
{
    const dropout *L = layer;
    size_t total = L->size * n;
    if (!ctx->training) {
        if (out != in) /* in place: nothing to do */
            memcpy(out, in, sizeof(float) * total);
        return;
    }
    unsigned char *mask = saved;
    float scale = 1.0f / (1.0f - L->p);
    uint64_t state = ctx->seed;
    for (size_t i = 0; i < total; i++) {
        mask[i] = strata_rng_uniform(&state) >= L->p;
        out[i] = mask[i] ? in[i] * scale : 0.0f;
    }
}

/* training: din[i] = mask[i] * dout[i] / (1 - p); eval: din = dout. */
static void dropout_backward(const void *layer, const strata_ctx *ctx, int n,
                             const float *in, const float *out, const float *dout,
                             float *din, float *const *params, float *const *dparams,
                             void *saved, void *scratch)
{
    const dropout *L = layer;
    size_t total = L->size * n;
    if (!din)
        return;
    if (!ctx->training) {
        memcpy(din, dout, sizeof(float) * total);
        return;
    }
    const unsigned char *mask = saved;
    float scale = 1.0f / (1.0f - L->p);
    for (size_t i = 0; i < total; i++)
        din[i] = mask[i] ? dout[i] * scale : 0.0f;
}

static const strata_layer_ops dropout_ops = {
    .create = dropout_create,
    .destroy = dropout_destroy,
    .num_params = dropout_num_params,
    .param_desc = dropout_param_desc,
    .geometry = dropout_geometry,
    .macs = dropout_macs,
    .saved_bytes = dropout_saved_bytes,
    .scratch_bytes = dropout_scratch_bytes,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .flags = STRATA_LAYER_INPLACE | STRATA_LAYER_OUT_UNUSED,
};

static const strata_plugin dropout_plugin = {
    .abi_version = STRATA_ABI_VERSION,
    .kind = STRATA_PLUGIN_LAYER,
    .name = "dropout",
    .version = "1.0",
    .description = "inverted dropout with a seeded mask, PyTorch's nn.Dropout",
    .layer = &dropout_ops,
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    return host_abi_version == STRATA_ABI_VERSION ? &dropout_plugin : NULL;
}
