/* buckets.c — see buckets.h */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dist/buckets.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Layer i's gradients: grad_mem[*b .. *e) (its parameters are contiguous,
 * in layer order); 0 when it has none. */
static int layer_range(const network *net, int i, size_t *b, size_t *e)
{
    const net_layer *nl = &net->layers[i];
    if (nl->n_params == 0)
        return 0;
    const net_param *first = &net->params[nl->first_param], *last = &net->params[nl->first_param + nl->n_params - 1];
    *b = first->offset;
    *e = last->offset + last->count;
    return *e > *b;
}

int grad_buckets_init(grad_buckets *g, network *net, double bucket_mb, strata_err *err)
{
    memset(g, 0, sizeof *g);
    g->net = net;
    int L = net->n_layers;
    g->begin = calloc(L + 1, sizeof *g->begin);
    g->end = calloc(L + 1, sizeof *g->end);
    g->low_layer = calloc(L + 1, sizeof *g->low_layer);
    g->req = calloc(L + 1, sizeof *g->req);
    if (!g->begin || !g->end || !g->low_layer || !g->req)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for the gradient buckets");
    size_t cap = (size_t)(bucket_mb * 1e6 / sizeof(float));
    cap = cap ? cap : 1;
    int open = 0;
    for (int i = L - 1; i >= 0; i--) {
        size_t b, e;
        if (!layer_range(net, i, &b, &e))
            continue;
        if (!open) {
            g->end[g->n] = e;
            open = 1;
        }
        g->begin[g->n] = b;
        g->low_layer[g->n] = i;
        if (g->end[g->n] - b >= cap) {
            g->n++;
            open = 0;
        }
    }
    g->n += open;
    g->lowest = network_first_trained_layer(net);
    grad_buckets_overlap_reset(g);
    return 0;
}

void grad_buckets_layer_done(grad_buckets *g, int layer)
{
    if (layer >= 0 && g->early < 0)
        g->early = 0; /* this step's backward is under way */
    while (g->started < g->n && g->low_layer[g->started] >= layer) {
        int b = g->started++;
        g->req[b] = dist_allreduce_sum_async(g->net->grad_mem + g->begin[b], g->end[b] - g->begin[b]);
    }
    if (layer > g->lowest)
        g->early = g->started;
    for (int b = 0; b < g->started; b++)
        dist_test(g->req[b]);
}

void grad_buckets_finish(grad_buckets *g)
{
    grad_buckets_layer_done(g, -1);
    double t0 = now();
    for (int b = 0; b < g->n; b++) {
        dist_wait(g->req[b]);
        g->req[b] = NULL;
    }
    g->wait_seconds += now() - t0;
    g->steps++;
    g->started = 0;
    if (g->early >= 0) { /* not a step without rows on this rank */
        g->early_min = g->early < g->early_min ? g->early : g->early_min;
        g->early_max = g->early > g->early_max ? g->early : g->early_max;
    }
    g->early = -1;
}

void grad_buckets_overlap_reset(grad_buckets *g)
{
    g->early = -1;
    g->early_min = g->n;
    g->early_max = 0;
}

void grad_buckets_free(grad_buckets *g)
{
    for (int b = 0; g->req && b < g->n; b++)
        dist_wait(g->req[b]);
    free(g->begin);
    free(g->end);
    free(g->low_layer);
    free(g->req);
    memset(g, 0, sizeof *g);
}
