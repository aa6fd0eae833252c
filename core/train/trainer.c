/* trainer.c — see trainer.h */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include "common/parallel.h"
#include "dist/buckets.h"
#include "model/init.h"
#include "train/loss.h"
#include "train/memplan.h"
#include "train/trainer.h"

/* Zeroed memory on a 64-byte boundary (a cache line, an AVX-512 vector):
 * the layers' vector loads and stores of their buffers then never split
 * a line (VGG's conv1_1 forward: 30 -> 26 ms CPU at batch 16). */
static void *zalloc64(size_t bytes)
{
    size_t size = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, size ? size : 64);
    if (p)
        memset(p, 0, size ? size : 64);
    return p;
}

static void *alloc_bytes(trainer *t, size_t *part, size_t bytes)
{
    t->bytes += bytes;
    *part += bytes;
    return zalloc64(bytes);
}

/* Layer i may overwrite its input when it says it can, has the same size
 * out as in, and the input's producer neither reads its output in backward
 * nor is itself running in place (its backward then needs that buffer as
 * its own input). */
static int can_run_inplace(const trainer *t, int i, const unsigned char *inplace)
{
    const network *net = t->net;
    const net_layer *nl = &net->layers[i];
    if (!(nl->plugin->layer->flags & STRATA_LAYER_INPLACE) || shape_size(nl->in) != shape_size(nl->out))
        return 0;
    if (t->hooks.no_inplace)
        return 0;
    if (i == 0)
        return 1;
    const net_layer *prev = &net->layers[i - 1];
    return (prev->plugin->layer->flags & STRATA_LAYER_OUT_UNUSED) && !inplace[i - 1];
}

/*
 * The step's timeline, for L layers: forward of layer i at time i, the loss
 * at L, backward of layer i at back(i) = 2L - i.
 *   acts[k] (k = 0..L; acts[k+1] is layer k's output, shared with acts[k]
 *   when layer k runs in place) is written at k - 1 and read until back(k)
 *   (as layer k's input), or back(k - 1) when layer k - 1 reads its output.
 *   grads[k] (d loss / d acts[k+1], k = 0..L-1) is written by back(k + 1)
 *   (the loss for k = L - 1) and read by back(k).
 * memplan puts all of them in one arena, so gradients of the bottom layers
 * reuse the memory of activations that are dead by then.
 */
static void plan_blocks(const trainer *t, mem_block *act, mem_block *grad)
{
    const network *net = t->net;
    int L = net->n_layers;
    for (int k = 0; k <= L; k++) {
        size_t elems = k == 0 ? shape_size(net->input) : shape_size(net->layers[k - 1].out);
        int reads_out = k > 0 && !(net->layers[k - 1].plugin->layer->flags & STRATA_LAYER_OUT_UNUSED);
        act[k] = (mem_block){.size = (size_t)t->max_batch * elems * sizeof(float),
                             .first = k - 1,
                             .last = k == L ? L + 1 : 2 * L - k + reads_out};
    }
    int all = t->hooks.no_share; /* for tests: every block live all step long */
    if (all)
        for (int k = 0; k <= L; k++)
            act[k].first = -1, act[k].last = 2 * L + 1;
    /* a layer running in place shares its input's block: merge lifetimes */
    for (int k = L; k >= 1; k--)
        if (t->inplace[k - 1]) {
            act[k - 1].last = act[k].last > act[k - 1].last ? act[k].last : act[k - 1].last;
            act[k].size = 0;
        }
    for (int k = 0; k < L; k++)
        grad[k] = (mem_block){.size = (size_t)t->max_batch * shape_size(net->layers[k].out) * sizeof(float),
                              .first = all ? -1 : k == L - 1 ? L : 2 * L - k - 1,
                              .last = all ? 2 * L + 1 : 2 * L - k};
}

/* Activations and their gradients: views into one planned arena. */
static int plan_arena(trainer *t, strata_err *err)
{
    int L = t->net->n_layers;
    mem_block *blocks = calloc(2 * L + 1, sizeof *blocks);
    plan_blocks(t, blocks, blocks + L + 1);
    size_t naive = 0;
    for (int i = 0; i < 2 * L + 1; i++)
        naive += blocks[i].size;
    size_t size = memplan_place(blocks, 2 * L + 1);
    t->arena = zalloc64(size);
    if (!t->arena) {
        free(blocks);
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory: %zu MiB for a batch of %d", size >> 20,
                       t->max_batch);
    }
    for (int k = 0; k <= L; k++)
        t->acts[k] = k > 0 && t->inplace[k - 1] ? t->acts[k - 1] : (float *)(t->arena + blocks[k].offset);
    for (int k = 0; k < L; k++)
        t->grads[k] = (float *)(t->arena + blocks[L + 1 + k].offset);
    t->bytes += size;
    t->plan.arena = size;
    t->plan.unshared = naive;
    free(blocks);
    return 0;
}

int trainer_init(trainer *t, network *net, int max_batch, int threads, uint64_t seed, const trainer_hooks *hooks,
                 strata_err *err)
{
    memset(t, 0, sizeof *t);
    t->net = net;
    if (hooks)
        t->hooks = *hooks;
    t->max_batch = max_batch;
    t->threads = threads;
    t->seed = seed;
    int L = net->n_layers;
    t->acts = calloc(L + 1, sizeof *t->acts);
    t->grads = calloc(L, sizeof *t->grads);
    t->saved = calloc(L, sizeof *t->saved);
    t->inplace = calloc(L, sizeof *t->inplace);
    size_t scratch = 0;
    for (int i = 0; i < L; i++) {
        const net_layer *nl = &net->layers[i];
        const strata_layer_ops *ops = nl->plugin->layer;
        t->inplace[i] = can_run_inplace(t, i, t->inplace);
        t->saved[i] = alloc_bytes(t, &t->plan.saved, ops->saved_bytes(nl->self, max_batch));
        if (!t->saved[i])
            return err_set(err, STRATA_ERR_RUNTIME, "out of memory planning the batch of %d", max_batch);
        size_t s = ops->scratch_bytes(nl->self, max_batch);
        scratch = s > scratch ? s : scratch;
    }
    t->scratch = alloc_bytes(t, &t->plan.scratch, scratch);
    if (!t->scratch)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory planning the batch of %d", max_batch);
    return plan_arena(t, err);
}

void trainer_free(trainer *t)
{
    if (!t->net)
        return;
    for (int i = 0; i < t->net->n_layers; i++)
        free(t->saved[i]);
    free(t->arena);
    free(t->acts);
    free(t->grads);
    free(t->saved);
    free(t->inplace);
    free(t->scratch);
    memset(t, 0, sizeof *t);
}

static strata_ctx layer_ctx(const trainer *t, int training, int64_t step, int layer)
{
    strata_ctx c = {.training = training, .threads = t->threads, .isa = plugins_host()->isa};
    c.seed = seed_mix(seed_mix(t->seed, (uint64_t)step), (uint64_t)layer);
    c.sample_offset = training ? t->sample_offset : 0;
    return c;
}

static void zero_share(void *arg, int t, int threads)
{
    network *net = arg;
    size_t b, e;
    fork_join_range(net->total, t, threads, &b, &e);
    memset(net->grad_mem + b, 0, (e - b) * sizeof(float));
}

/* Parameter gradients = 0 before backward accumulates into them. */
static void zero_grads(network *net, int threads)
{
    fork_join(fork_join_threads(net->total, threads, 1 << 16), zero_share, net);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Forward through every layer; times->fwd[i] += each layer's seconds. */
static void forward(trainer *t, int n, int training, int64_t step, step_times *times)
{
    for (int i = 0; i < t->net->n_layers; i++) {
        net_layer *nl = &t->net->layers[i];
        strata_ctx c = layer_ctx(t, training, step, i);
        layer_set_blas(nl->plugin->layer, nl->self, 0, n, t->threads);
        double t0 = times ? now() : 0;
        nl->plugin->layer->forward(nl->self, &c, n, t->acts[i], t->acts[i + 1], nl->params, t->saved[i], t->scratch);
        if (times)
            times->fwd[i] += now() - t0;
    }
    layer_set_blas(NULL, NULL, 0, n, t->threads);
}

void trainer_forward(trainer *t, int n, int training, int64_t step)
{
    forward(t, n, training, step, NULL);
}

/* Backward from dlogits (in grads[L-1]) down to the lowest layer with a
 * trained parameter (the layers below it, frozen or without parameters,
 * have nothing to learn: model.freeze of the bottom layers skips their
 * backward); parameter gradients accumulate into the network's grad_mem
 * (zeroed by the caller). */
static void backward(trainer *t, int n, int64_t step, step_times *times)
{
    int lowest = network_first_trained_layer(t->net);
    for (int i = t->net->n_layers - 1; i >= lowest; i--) {
        float *dout = t->grads[i], *din = i > lowest ? t->grads[i - 1] : NULL;
        net_layer *nl = &t->net->layers[i];
        strata_ctx c = layer_ctx(t, 1, step, i);
        layer_set_blas(nl->plugin->layer, nl->self, 1, n, t->threads);
        double t0 = times ? now() : 0;
        nl->plugin->layer->backward(nl->self, &c, n, t->acts[i], t->acts[i + 1], dout, din, nl->params,
                                    nl->grads, t->saved[i], t->scratch);
        if (times)
            times->bwd[i] += now() - t0;
        if (t->sync)
            grad_buckets_layer_done(t->sync, i);
    }
    layer_set_blas(NULL, NULL, 1, n, t->threads);
}

double trainer_train_step_timed(trainer *t, optimizer *opt, const int *labels, int n, double lr, double smoothing,
                                int *correct, step_times *times)
{
    int64_t step = opt->step + 1;
    int k = (int)shape_size(t->net->layers[t->net->n_layers - 1].out);
    double loss = 0, t0;
    *correct = 0;
    if (n > 0) {
        forward(t, n, 1, step, times);
        t0 = times ? now() : 0;
        int n_global = t->n_global > 0 ? t->n_global : n;
        loss = softmax_xent_part(trainer_logits(t), labels, n, n_global, k, smoothing,
                                 t->grads[t->net->n_layers - 1], correct);
        zero_grads(t->net, t->threads);
        if (times)
            times->loss += now() - t0;
        backward(t, n, step, times);
    } else
        zero_grads(t->net, t->threads);
    if (t->sync)
        grad_buckets_finish(t->sync);
    t0 = times ? now() : 0;
    optimizer_step(opt, t->net, lr, t->threads);
    if (times)
        times->optim += now() - t0;
    return loss;
}

double trainer_train_step(trainer *t, optimizer *opt, const int *labels, int n, double lr, double smoothing,
                          int *correct)
{
    return trainer_train_step_timed(t, opt, labels, n, lr, smoothing, correct, NULL);
}

double trainer_eval_step(trainer *t, const int *labels, int n, int *correct)
{
    int k = (int)shape_size(t->net->layers[t->net->n_layers - 1].out);
    trainer_forward(t, n, 0, 0);
    *correct = 0;
    return softmax_xent(trainer_logits(t), labels, n, k, 0.0, NULL, correct);
}

int trainer_predicted(const trainer *t, int i, double *prob)
{
    int k = (int)shape_size(t->net->layers[t->net->n_layers - 1].out), best = 0;
    const float *x = trainer_logits(t) + (size_t)i * k;
    for (int j = 1; j < k; j++)
        if (x[j] > x[best])
            best = j;
    if (prob) {
        double sum = 0;
        for (int j = 0; j < k; j++)
            sum += exp((double)x[j] - x[best]);
        *prob = 1.0 / sum;
    }
    return best;
}
