/* trainer.c — see trainer.h */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include "init.h"
#include "loss.h"
#include "trainer.h"

static void *alloc_bytes(trainer *t, size_t bytes)
{
    t->bytes += bytes;
    return calloc(1, bytes ? bytes : 1);
}

/* Layer i may overwrite its input when it says it can, has the same size
 * out as in, and the input's producer neither reads its output in backward
 * nor is itself running in place (its backward then needs that buffer as
 * its own input). */
static int can_run_inplace(const network *net, int i, const unsigned char *inplace)
{
    const net_layer *nl = &net->layers[i];
    if (!(nl->plugin->layer->flags & STRATA_LAYER_INPLACE) || shape_size(nl->in) != shape_size(nl->out))
        return 0;
    if (getenv("STRATA_NO_INPLACE"))
        return 0;
    if (i == 0)
        return 1;
    const net_layer *prev = &net->layers[i - 1];
    return (prev->plugin->layer->flags & STRATA_LAYER_OUT_UNUSED) && !inplace[i - 1];
}

int trainer_init(trainer *t, network *net, int max_batch, int threads, uint64_t seed, strata_err *err)
{
    memset(t, 0, sizeof *t);
    t->net = net;
    t->max_batch = max_batch;
    t->threads = threads;
    t->seed = seed;
    int L = net->n_layers;
    t->acts = calloc(L + 1, sizeof *t->acts);
    t->saved = calloc(L, sizeof *t->saved);
    size_t biggest = shape_size(net->input), scratch = 0;
    t->acts[0] = alloc_bytes(t, (size_t)max_batch * shape_size(net->input) * sizeof(float));
    t->inplace = calloc(L, sizeof *t->inplace);
    for (int i = 0; i < L; i++) {
        const net_layer *nl = &net->layers[i];
        const strata_layer_ops *ops = nl->plugin->layer;
        size_t out = shape_size(nl->out);
        biggest = out > biggest ? out : biggest;
        t->inplace[i] = can_run_inplace(net, i, t->inplace);
        if (t->inplace[i])
            t->acts[i + 1] = t->acts[i];
        else
            t->acts[i + 1] = alloc_bytes(t, (size_t)max_batch * out * sizeof(float));
        t->saved[i] = alloc_bytes(t, ops->saved_bytes ? ops->saved_bytes(nl->self, max_batch) : 0);
        size_t s = ops->scratch_bytes ? ops->scratch_bytes(nl->self, max_batch) : 0;
        scratch = s > scratch ? s : scratch;
    }
    t->grad_a = alloc_bytes(t, (size_t)max_batch * biggest * sizeof(float));
    t->grad_b = alloc_bytes(t, (size_t)max_batch * biggest * sizeof(float));
    t->scratch = alloc_bytes(t, scratch);
    for (int i = 0; i <= L; i++)
        if (!t->acts[i] || (i < L && !t->saved[i]))
            return err_set(err, STRATA_ERR_RUNTIME, "out of memory planning the batch of %d", max_batch);
    if (!t->grad_a || !t->grad_b || !t->scratch)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory planning the batch of %d", max_batch);
    return 0;
}

void trainer_free(trainer *t)
{
    if (!t->net)
        return;
    for (int i = 0; i <= t->net->n_layers; i++)
        if (i == 0 || !t->inplace[i - 1])
            free(t->acts[i]);
    free(t->inplace);
    for (int i = 0; i < t->net->n_layers; i++)
        free(t->saved[i]);
    free(t->acts);
    free(t->saved);
    free(t->grad_a);
    free(t->grad_b);
    free(t->scratch);
    memset(t, 0, sizeof *t);
}

static strata_ctx layer_ctx(const trainer *t, int training, int64_t step, int layer)
{
    strata_ctx c = {.training = training, .threads = t->threads};
    c.seed = seed_mix(seed_mix(t->seed, (uint64_t)step), (uint64_t)layer);
    return c;
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
        double t0 = times ? now() : 0;
        nl->plugin->layer->forward(nl->self, &c, n, t->acts[i], t->acts[i + 1], nl->params, t->saved[i], t->scratch);
        if (times)
            times->fwd[i] += now() - t0;
    }
}

void trainer_forward(trainer *t, int n, int training, int64_t step)
{
    forward(t, n, training, step, NULL);
}

/* Backward from dlogits (in grad_a) to the first layer; parameter gradients
 * accumulate into the network's grad_mem (zeroed by the caller). */
static void backward(trainer *t, int n, int64_t step, step_times *times)
{
    float *dout = t->grad_a, *din = t->grad_b;
    for (int i = t->net->n_layers - 1; i >= 0; i--) {
        net_layer *nl = &t->net->layers[i];
        strata_ctx c = layer_ctx(t, 1, step, i);
        double t0 = times ? now() : 0;
        nl->plugin->layer->backward(nl->self, &c, n, t->acts[i], t->acts[i + 1], dout, i ? din : NULL, nl->params,
                                    nl->grads, t->saved[i], t->scratch);
        if (times)
            times->bwd[i] += now() - t0;
        float *tmp = dout;
        dout = din;
        din = tmp;
    }
}

double trainer_train_step_timed(trainer *t, optimizer *opt, const int *labels, int n, double lr, double smoothing,
                                int *correct, step_times *times)
{
    int64_t step = opt->step + 1;
    int k = (int)shape_size(t->net->layers[t->net->n_layers - 1].out);
    forward(t, n, 1, step, times);
    double t0 = times ? now() : 0;
    *correct = 0;
    double loss = softmax_xent(trainer_logits(t), labels, n, k, smoothing, t->grad_a, correct);
    memset(t->net->grad_mem, 0, t->net->total * sizeof(float));
    if (times)
        times->loss += now() - t0;
    backward(t, n, step, times);
    t0 = times ? now() : 0;
    optimizer_step(opt, t->net, lr);
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
