/* dropout.c — inverted dropout (PyTorch's nn.Dropout).
 *
 * Option: p (0.5, 0 <= p < 1), the probability of zeroing an element.
 * Training: keep each element with probability 1-p and scale it by 1/(1-p);
 * the mask is the sequence strata_rng_uniform draws from ctx->seed, element
 * by element in memory order, so the same seed gives the same mask. That
 * generator (splitmix64) is a counter: draw i is mix(seed + (i+1) * G), so
 * element i's draw is computed from i alone, vectorised and split between
 * threads with the same result. In data-parallel training the batch is
 * rows ctx->sample_offset.. of the global batch, and element i is drawn as
 * element sample_offset * c*h*w + i of the global batch: the same masks
 * whatever the number of ranks. The mask is kept in `saved` (one byte per
 * element) for backward. Eval: identity.
 */
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "common/simd.h"
#include "common/parallel.h"
#include "common/layer_new.h"

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
    dropout *L = layer_new(host, o, "dropout", in, sizeof *L);
    if (!L)
        return NULL;
    L->size = (size_t)in.c * in.h * in.w;
    L->p = (float)p;
    *out = in;
    return L;
}

static void dropout_destroy(void *layer) { free(layer); }
/* one byte of mask per element */
static size_t dropout_saved_bytes(const void *layer, int n)
{
    return ((const dropout *)layer)->size * (size_t)n;
}
#define GOLDEN 0x9E3779B97F4A7C15ull /* splitmix64's increment */
#define CHUNK 16384                   /* elements per parallel task */

typedef struct drop_job {
    const float *x;
    float *y;
    unsigned char *mask;
    size_t total;
    uint64_t seed;
    float p, scale;
} drop_job;

/* Elements [b, e): mask[i] = (u_i >= p), u_i = strata_rng_uniform's i-th
 * draw from seed; y[i] = mask[i] ? x[i] * scale : 0. */
STRATA_MULTIVERSION(void, drop_range, (const drop_job *j, size_t b, size_t e),
                    (j, b, e))
{
    const float *restrict x = j->x;
    float *restrict y = j->y;
    unsigned char *restrict mask = j->mask;
    const uint64_t seed = j->seed; /* locals: mask (bytes) could alias *j */
    const float p = j->p, scale = j->scale;
    for (size_t i = b; i < e; i++) {
        uint64_t z = seed + (uint64_t)(i + 1) * GOLDEN;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        float u = (float)(uint32_t)(z >> 40) * (1.0f / 16777216.0f), v = x[i] * scale;
        mask[i] = u >= p;
        y[i] = u >= p ? v : 0.0f;
    }
}

/* y[i] = mask[i] ? x[i] * scale : 0 (backward) */
STRATA_MULTIVERSION(void, mask_range, (const drop_job *j, size_t b, size_t e),
                    (j, b, e))
{
    const float *restrict x = j->x;
    float *restrict y = j->y;
    const unsigned char *restrict mask = j->mask;
    const float scale = j->scale;
    for (size_t i = b; i < e; i++) {
        float v = x[i] * scale;
        y[i] = mask[i] ? v : 0.0f;
    }
}

static void chunk_bounds(const drop_job *j, int begin, int end, size_t *b, size_t *e)
{
    *b = (size_t)begin * CHUNK;
    *e = (size_t)end * CHUNK < j->total ? (size_t)end * CHUNK : j->total;
}

static void fwd_task(void *arg, int begin, int end)
{
    size_t b, e;
    chunk_bounds(arg, begin, end, &b, &e);
    drop_range(arg, b, e);
}

static void bwd_task(void *arg, int begin, int end)
{
    size_t b, e;
    chunk_bounds(arg, begin, end, &b, &e);
    mask_range(arg, b, e);
}

static int chunks(size_t total) { return (int)((total + CHUNK - 1) / CHUNK); }

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
    /* draw i of the global batch: seed + (offset + i + 1) * GOLDEN */
    uint64_t seed = ctx->seed + (uint64_t)ctx->sample_offset * L->size * GOLDEN;
    drop_job j = {in, out, saved, total, seed, L->p, 1.0f / (1.0f - L->p)};
    parallel_for(ctx->threads, chunks(total), fwd_task, &j);
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
    drop_job j = {dout, din, saved, total, 0, L->p, 1.0f / (1.0f - L->p)};
    parallel_for(ctx->threads, chunks(total), bwd_task, &j);
}

STRATA_PLUGIN_DEFINE(LAYER, "dropout", "1.0",
                     "inverted dropout with a seeded mask, PyTorch's nn.Dropout",
                     .create = dropout_create,
                     .destroy = dropout_destroy,
                     .saved_bytes = dropout_saved_bytes,
                     .forward = dropout_forward,
                     .backward = dropout_backward,
                     .flags = STRATA_LAYER_INPLACE | STRATA_LAYER_OUT_UNUSED)
