/* relu.c — rectified linear unit (PyTorch's nn.ReLU). No options; the output
 * has the input's shape; no parameters. */
#include <stdlib.h>
#include <strata/plugin.h>
#include "common/simd.h"
#include "common/parallel.h"
#include "common/layer_new.h"

typedef struct relu {
    size_t size; /* c*h*w */
} relu;

static void *relu_create(const strata_host *host, strata_opts *o,
                         strata_shape in, strata_shape *out)
{
    relu *L = layer_new(host, o, "relu", in, sizeof *L);
    if (!L)
        return NULL;
    L->size = (size_t)in.c * in.h * in.w;
    *out = in;
    return L;
}

static void relu_destroy(void *layer) { free(layer); }

/* Chunks of this many elements are handed to the threads (64 KiB). */
#define RELU_CHUNK 16384

typedef struct relu_job {
    const float *in, *dout;
    float *out;
    size_t total;
} relu_job;

STRATA_MULTIVERSION(void, relu_fwd_range, (const float *restrict in, float *out, size_t n),
                    (in, out, n))
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

STRATA_MULTIVERSION(void, relu_bwd_range, (const float *in, const float *restrict dout, float *din, size_t n),
                    (in, dout, din, n))
{
    for (size_t i = 0; i < n; i++)
        din[i] = in[i] > 0.0f ? dout[i] : 0.0f;
}

static size_t chunk_end(const relu_job *j, int c)
{
    size_t e = (size_t)c * RELU_CHUNK;
    return e < j->total ? e : j->total;
}

static void fwd_task(void *arg, int begin, int end)
{
    const relu_job *j = arg;
    size_t b = (size_t)begin * RELU_CHUNK;
    relu_fwd_range(j->in + b, j->out + b, chunk_end(j, end) - b);
}

static void bwd_task(void *arg, int begin, int end)
{
    const relu_job *j = arg;
    size_t b = (size_t)begin * RELU_CHUNK;
    relu_bwd_range(j->in + b, j->dout + b, j->out + b, chunk_end(j, end) - b);
}

static int chunks(size_t total)
{
    return (int)((total + RELU_CHUNK - 1) / RELU_CHUNK);
}

/* in, out (N, C, H, W): out = max(in, 0). out may be in (in place). */
static void relu_forward(const void *layer, const strata_ctx *ctx, int n,
                         const float *in, float *out, float *const *params,
                         void *saved, void *scratch)
{
    relu_job j = {.in = in, .out = out, .total = ((const relu *)layer)->size * n};
    parallel_for(ctx->threads, chunks(j.total), fwd_task, &j);
}

/* din = dout where in > 0, else 0 (PyTorch's choice of 0 at in == 0). In
 * place, `in` holds the output, which is > 0 exactly where the input was. */
static void relu_backward(const void *layer, const strata_ctx *ctx, int n,
                          const float *in, const float *out, const float *dout,
                          float *din, float *const *params, float *const *dparams,
                          void *saved, void *scratch)
{
    if (!din)
        return;
    relu_job j = {.in = in, .dout = dout, .out = din, .total = ((const relu *)layer)->size * n};
    parallel_for(ctx->threads, chunks(j.total), bwd_task, &j);
}

STRATA_PLUGIN_DEFINE(LAYER, "relu", "1.0",
                     "rectified linear unit max(x, 0), PyTorch's nn.ReLU",
                     .create = relu_create,
                     .destroy = relu_destroy,
                     .forward = relu_forward,
                     .backward = relu_backward,
                     .flags = STRATA_LAYER_INPLACE | STRATA_LAYER_OUT_UNUSED)
