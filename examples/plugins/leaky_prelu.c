/* leaky_prelu.c — a complete layer plugin: a leaky ReLU whose negative
 * slope is learned, one slope per channel (or one for all):
 *
 *     y = x                              for x > 0
 *     y = (negative_slope + w[c]) * x    for x <= 0
 *
 * w is a parameter "weight" of shape (C,) (or (1,) with per_channel:
 * false), starting at 0, so training starts from a plain leaky ReLU.
 * Options: negative_slope (a number in [0, 1], default 0.01), per_channel
 * (true | false, default true). It shows every part a real layer has:
 * options read and checked through the host, a parameter with its
 * description, forward and backward, scratch memory, and ctx->threads used
 * (channels split between threads; each result is computed by one thread in
 * a fixed order, so it is the same bit for bit at any thread count).
 *
 * Build out of tree (see Makefile here):
 *   cc -std=c11 -O2 -fPIC -shared -fvisibility=hidden -pthread \
 *      $(pkg-config --cflags strata-plugin) -o leaky_prelu.so leaky_prelu.c
 * Use: strata --plugin-dir . run exp.yaml, with a layer
 *   {type: leaky_prelu, negative_slope: 0.05}
 * Check its gradients: strata --plugin-dir . gradcheck --layer leaky_prelu --input 4x6x6
 * doc/writing-plugins.md explains it line by line. */
#include <pthread.h>
#include <stdlib.h>
#include <strata/plugin.h>

#define MAX_THREADS 64

typedef struct leaky_prelu {
    int channels;     /* C of the input */
    size_t plane;     /* H * W */
    int per_channel;  /* weight has C elements (1) or one (0) */
    float slope;      /* negative_slope */
} leaky_prelu;

static void *lp_create(const strata_host *host, strata_opts *o, strata_shape in, strata_shape *out)
{
    double slope;
    int per_channel;
    if (host->opt_float(o, "negative_slope", 0.01, 0.0, 1.0, &slope) < 0 ||
        host->opt_bool(o, "per_channel", 1, &per_channel) < 0)
        return NULL; /* the host has the message: file:line:col, key, what was expected */
    leaky_prelu *L = malloc(sizeof *L);
    if (!L) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    *L = (leaky_prelu){.channels = in.c, .plane = (size_t)in.h * in.w, .per_channel = per_channel,
                       .slope = (float)slope};
    *out = in; /* same shape out */
    return L;
}

static void lp_destroy(void *layer) { free(layer); }

static int lp_num_params(const void *layer) { return 1; }

static void lp_param_desc(const void *layer, int i, strata_param_desc *d)
{
    const leaky_prelu *L = layer;
    *d = (strata_param_desc){.name = "weight", .ndim = 1, .dims = {L->per_channel ? L->channels : 1},
                             .role = STRATA_INIT_ZEROS};
}

static int64_t lp_macs(const void *layer)
{
    const leaky_prelu *L = layer;
    return (int64_t)L->channels * (int64_t)L->plane;
}

/* backward's per-channel sums of the slope gradient, reduced in channel
 * order when the slope is shared. */
static size_t lp_scratch_bytes(const void *layer, int n) { return ((const leaky_prelu *)layer)->channels * sizeof(double); }

/* ---- the work of one thread: channels [c0, c1) of every image ----------- */

typedef struct lp_job {
    const leaky_prelu *L;
    int n, c0, c1;
    const float *in, *dout, *w;
    float *out, *din;
    double *dw_channel; /* per channel: sum over the batch of dout * x where x <= 0 */
} lp_job;

static float slope_of(const lp_job *j, int c) { return j->L->slope + j->w[j->L->per_channel ? c : 0]; }

static void *forward_job(void *arg)
{
    const lp_job *j = arg;
    for (int i = 0; i < j->n; i++)
        for (int c = j->c0; c < j->c1; c++) {
            size_t at = ((size_t)i * j->L->channels + c) * j->L->plane;
            float a = slope_of(j, c);
            for (size_t k = at; k < at + j->L->plane; k++)
                j->out[k] = j->in[k] > 0.0f ? j->in[k] : a * j->in[k];
        }
    return NULL;
}

static void *backward_job(void *arg)
{
    const lp_job *j = arg;
    for (int c = j->c0; c < j->c1; c++) {
        float a = slope_of(j, c);
        double dw = 0.0;
        for (int i = 0; i < j->n; i++) {
            size_t at = ((size_t)i * j->L->channels + c) * j->L->plane;
            for (size_t k = at; k < at + j->L->plane; k++) {
                int positive = j->in[k] > 0.0f;
                if (!positive)
                    dw += (double)j->dout[k] * j->in[k];
                if (j->din) /* NULL for the network's first layer */
                    j->din[k] = positive ? j->dout[k] : a * j->dout[k];
            }
        }
        j->dw_channel[c] = dw;
    }
    return NULL;
}

/* Run fn on up to ctx->threads threads, each on a contiguous range of
 * channels; the calling thread takes the first range. A thread that cannot
 * be started has its range run here. */
static void split_channels(const strata_ctx *ctx, lp_job base, void *(*fn)(void *))
{
    int threads = ctx->threads < base.L->channels ? ctx->threads : base.L->channels;
    threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    lp_job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++) {
        jobs[t] = base;
        jobs[t].c0 = (int)((long)base.L->channels * t / threads);
        jobs[t].c1 = (int)((long)base.L->channels * (t + 1) / threads);
        if (t > 0)
            started[t] = pthread_create(&tid[t], NULL, fn, &jobs[t]) == 0;
    }
    fn(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            fn(&jobs[t]);
    }
}

static void lp_forward(const void *layer, const strata_ctx *ctx, int n, const float *in, float *out,
                       float *const *params, void *saved, void *scratch)
{
    split_channels(ctx, (lp_job){.L = layer, .n = n, .in = in, .out = out, .w = params[0]}, forward_job);
}

static void lp_backward(const void *layer, const strata_ctx *ctx, int n, const float *in, const float *out,
                        const float *dout, float *din, float *const *params, float *const *dparams,
                        void *saved, void *scratch)
{
    const leaky_prelu *L = layer;
    double *dw_channel = scratch;
    split_channels(ctx, (lp_job){.L = L, .n = n, .in = in, .dout = dout, .din = din, .w = params[0],
                                 .dw_channel = dw_channel}, backward_job);
    /* parameter gradients accumulate (+=): the host zeroes them once a step */
    double shared = 0.0;
    for (int c = 0; c < L->channels; c++) {
        if (L->per_channel)
            dparams[0][c] += (float)dw_channel[c];
        else
            shared += dw_channel[c];
    }
    if (!L->per_channel)
        dparams[0][0] += (float)shared;
}

STRATA_PLUGIN_DEFINE(LAYER, "leaky_prelu", "1.0", "leaky ReLU with a learned negative slope per channel (example plugin)",
                     .create = lp_create,
                     .destroy = lp_destroy,
                     .num_params = lp_num_params,
                     .param_desc = lp_param_desc,
                     .macs = lp_macs,
                     .scratch_bytes = lp_scratch_bytes,
                     .forward = lp_forward,
                     .backward = lp_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED)
