/* wrong_backward.c — a test layer whose backward is deliberately wrong, for
 * t/test_gradcheck: y = w * x with one parameter "weight" of shape (C,)
 * (one factor per channel). Option `wrong` says what backward gets wrong:
 *   weight     dw += 0.5 * sum(dout * x)   (half the gradient)
 *   input      din = 1.5 * w * dout
 *   unwritten  din is left as it was
 *   assigns    dw = sum(dout * x)          (= instead of +=)
 *   none       nothing: the correct backward */
#include <stdlib.h>
#include <strata/plugin.h>

enum { WRONG_WEIGHT, WRONG_INPUT, WRONG_UNWRITTEN, WRONG_ASSIGNS, WRONG_NONE };

typedef struct wb {
    int channels, wrong;
    size_t plane;
} wb;

static void *wb_create(const strata_host *host, strata_opts *o, strata_shape in, strata_shape *out)
{
    static const char *const choices[] = {"weight", "input", "unwritten", "assigns", "none", NULL};
    int wrong;
    if (host->opt_choice(o, "wrong", choices, WRONG_WEIGHT, &wrong) < 0)
        return NULL;
    wb *L = malloc(sizeof *L);
    if (!L)
        return NULL;
    *L = (wb){.channels = in.c, .wrong = wrong, .plane = (size_t)in.h * in.w};
    *out = in;
    return L;
}

static void wb_destroy(void *layer) { free(layer); }
static int wb_num_params(const void *layer) { return 1; }

static void wb_param_desc(const void *layer, int i, strata_param_desc *d)
{
    *d = (strata_param_desc){.name = "weight", .ndim = 1, .dims = {((const wb *)layer)->channels},
                             .role = STRATA_INIT_ONES};
}

static void wb_forward(const void *layer, const strata_ctx *ctx, int n, const float *in, float *out,
                       float *const *params, void *saved, void *scratch)
{
    const wb *L = layer;
    for (size_t k = 0; k < (size_t)n * L->channels * L->plane; k++)
        out[k] = params[0][(k / L->plane) % L->channels] * in[k];
}

static void wb_backward(const void *layer, const strata_ctx *ctx, int n, const float *in, const float *out,
                        const float *dout, float *din, float *const *params, float *const *dparams,
                        void *saved, void *scratch)
{
    const wb *L = layer;
    float din_factor = L->wrong == WRONG_INPUT ? 1.5f : 1.0f;
    float dw_factor = L->wrong == WRONG_WEIGHT ? 0.5f : 1.0f;
    if (L->wrong == WRONG_ASSIGNS)
        for (int c = 0; c < L->channels; c++)
            dparams[0][c] = 0.0f;
    for (size_t k = 0; k < (size_t)n * L->channels * L->plane; k++) {
        int c = (int)((k / L->plane) % L->channels);
        dparams[0][c] += dw_factor * dout[k] * in[k];
        if (din && L->wrong != WRONG_UNWRITTEN)
            din[k] = din_factor * params[0][c] * dout[k];
    }
}

STRATA_PLUGIN_DEFINE(LAYER, "wrong_backward", "1.0", "y = w * x with a deliberately wrong backward (test)",
                     .create = wb_create,
                     .destroy = wb_destroy,
                     .num_params = wb_num_params,
                     .param_desc = wb_param_desc,
                     .forward = wb_forward,
                     .backward = wb_backward)
