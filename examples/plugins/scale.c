/* scale.c — a minimal layer plugin: y = a * x with one learned scalar a
 * (PyTorch: a 0-d parameter "weight", initialised to 1).
 *
 * Build out of tree (see Makefile here):
 *   cc -std=c11 -O2 -fPIC -shared -fvisibility=hidden \
 *      $(pkg-config --cflags strata-plugin) -o scale.so scale.c
 * Use: strata --plugin-dir . run exp.yaml, with a layer {type: scale}.
 *
 * Only create, forward and backward are required; everything else in
 * strata_layer_ops is optional (plugin.h gives each default). */
#include <stdlib.h>
#include <strata/plugin.h>

typedef struct scale {
    size_t size; /* elements of one image: c*h*w */
} scale;

static void *scale_create(const strata_host *host, strata_opts *o, strata_shape in, strata_shape *out)
{
    scale *L = malloc(sizeof *L);
    if (!L) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    L->size = (size_t)in.c * in.h * in.w;
    *out = in;
    return L;
}

static void scale_destroy(void *layer) { free(layer); }

static int scale_num_params(const void *layer) { return 1; }

static void scale_param_desc(const void *layer, int i, strata_param_desc *d)
{
    *d = (strata_param_desc){.name = "weight", .ndim = 0, .role = STRATA_INIT_ONES};
}

static int64_t scale_macs(const void *layer) { return (int64_t)((const scale *)layer)->size; }

/* out[i] = a * in[i] over the batch (n * size elements). */
static void scale_forward(const void *layer, const strata_ctx *ctx, int n, const float *in, float *out,
                          float *const *params, void *saved, void *scratch)
{
    size_t total = (size_t)n * ((const scale *)layer)->size;
    float a = params[0][0];
    for (size_t i = 0; i < total; i++)
        out[i] = a * in[i];
}

/* din[i] = a * dout[i];  da += sum_i dout[i] * in[i]. */
static void scale_backward(const void *layer, const strata_ctx *ctx, int n, const float *in, const float *out,
                           const float *dout, float *din, float *const *params, float *const *dparams,
                           void *saved, void *scratch)
{
    size_t total = (size_t)n * ((const scale *)layer)->size;
    float a = params[0][0];
    double da = 0.0;
    for (size_t i = 0; i < total; i++) {
        da += (double)dout[i] * in[i];
        if (din)
            din[i] = a * dout[i];
    }
    dparams[0][0] += (float)da;
}

STRATA_PLUGIN_DEFINE(LAYER, "scale", "1.0", "y = a * x, one learned scalar a (example plugin)",
                     .create = scale_create,
                     .destroy = scale_destroy,
                     .num_params = scale_num_params,
                     .param_desc = scale_param_desc,
                     .macs = scale_macs,
                     .forward = scale_forward,
                     .backward = scale_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED)
