/* gradcheck.c — see gradcheck.h */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/gradcheck.h"
#include "model/network.h"
#include "model/plugins.h"

#define MAX_PARAMS (GRADCHECK_MAX_TENSORS - 1)

/* One layer with its memory: a batch of input, output and upstream
 * gradient, parameters and their gradients, saved and scratch. */
typedef struct gc_layer {
    const strata_layer_ops *ops;
    void *self;
    strata_ctx ctx;
    int n, np;
    size_t nin, nout;
    strata_param_desc desc[MAX_PARAMS];
    size_t psize[MAX_PARAMS];
    float *params[MAX_PARAMS], *dparams[MAX_PARAMS];
    float *x, *y, *g, *dx;
    void *saved, *scratch;
    double loss0; /* L at the unperturbed point */
} gc_layer;

static float uniform(uint64_t *rng, float lo, float hi) { return lo + (hi - lo) * strata_rng_uniform(rng); }

static void fill(float *v, size_t n, float lo, float hi, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++)
        v[i] = uniform(rng, lo, hi);
}

/* Parameters random in [-1, 1]; ONES-initialised buffers (a running
 * variance) in [0.5, 1.5], counters 0. */
static void fill_param(float *v, size_t n, const strata_param_desc *d, uint64_t *rng)
{
    if (d->flags & STRATA_PARAM_COUNT)
        memset(v, 0, n * sizeof *v);
    else if ((d->flags & STRATA_PARAM_BUFFER) && d->role == STRATA_INIT_ONES)
        fill(v, n, 0.5f, 1.5f, rng);
    else
        fill(v, n, -1.0f, 1.0f, rng);
}

static size_t elements(strata_shape s) { return (size_t)s.c * s.h * s.w; }

static void gc_free(gc_layer *L)
{
    for (int i = 0; i < L->np; i++) {
        free(L->params[i]);
        free(L->dparams[i]);
    }
    free(L->x), free(L->y), free(L->g), free(L->dx);
    free(L->saved), free(L->scratch);
}

static int gc_alloc(gc_layer *L, strata_shape in, strata_shape out, uint64_t *rng, strata_err *err)
{
    L->nin = elements(in) * L->n;
    L->nout = elements(out) * L->n;
    L->np = L->ops->num_params(L->self);
    if (L->np < 0 || L->np > MAX_PARAMS)
        return err_set(err, STRATA_ERR_RUNTIME, "the layer declares %d parameters (gradcheck handles 0 to %d)",
                       L->np, MAX_PARAMS);
    int ok = 1;
    for (int i = 0; i < L->np; i++) {
        L->ops->param_desc(L->self, i, &L->desc[i]);
        L->psize[i] = 1;
        for (int k = 0; k < L->desc[i].ndim && k < 4; k++)
            L->psize[i] *= (size_t)L->desc[i].dims[k];
        L->params[i] = malloc(L->psize[i] * sizeof(float) + 1);
        L->dparams[i] = malloc(L->psize[i] * sizeof(float) + 1);
        ok = ok && L->params[i] && L->dparams[i];
        if (ok)
            fill_param(L->params[i], L->psize[i], &L->desc[i], rng);
    }
    L->x = malloc(L->nin * sizeof(float) + 1);
    L->dx = malloc(L->nin * sizeof(float) + 1);
    L->y = malloc(L->nout * sizeof(float) + 1);
    L->g = malloc(L->nout * sizeof(float) + 1);
    L->saved = malloc(L->ops->saved_bytes(L->self, L->n) + 1);
    L->scratch = malloc(L->ops->scratch_bytes(L->self, L->n) + 1);
    if (!ok || !L->x || !L->dx || !L->y || !L->g || !L->saved || !L->scratch)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for a batch of %d", L->n);
    fill(L->x, L->nin, -1.0f, 1.0f, rng);
    fill(L->g, L->nout, -1.0f, 1.0f, rng);
    return 0;
}

/* L = sum_i out_i * g_i after a forward pass. */
static double loss(gc_layer *L)
{
    layer_set_blas(L->ops, L->self, 0, L->n, L->ctx.threads);
    L->ops->forward(L->self, &L->ctx, L->n, L->x, L->y, L->params, L->saved, L->scratch);
    double sum = 0.0;
    for (size_t i = 0; i < L->nout; i++)
        sum += (double)L->y[i] * L->g[i];
    return sum;
}

/* forward, then backward(dout = g): din into dx (NaN first), parameter
 * gradients added to dparams (0.25 first). */
static void analytic(gc_layer *L)
{
    for (size_t i = 0; i < L->nin; i++)
        L->dx[i] = NAN;
    for (int p = 0; p < L->np; p++)
        for (size_t i = 0; i < L->psize[p]; i++)
            L->dparams[p][i] = 0.25f;
    L->loss0 = loss(L);
    layer_set_blas(L->ops, L->self, 1, L->n, L->ctx.threads);
    L->ops->backward(L->self, &L->ctx, L->n, L->x, L->y, L->g, L->dx, L->params, L->dparams, L->saved,
                     L->scratch);
}

static double rel_error(double a, double b)
{
    return fabs(a - b) / fmax(fmax(fabs(a), fabs(b)), GRADCHECK_FLOOR);
}

/* The central difference of L in v[i]; 0 when every step tried is at a
 * kink (*kinked set). */
static double numeric(gc_layer *L, float *v, size_t i, const gradcheck_opts *o, int *kinked)
{
    float keep = v[i];
    double h = o->step * fmax(1.0, fabs(keep));
    for (int k = 0; k < 3; k++, h /= 10) {
        v[i] = (float)(keep + h);
        double hp = (double)v[i] - keep, lp = loss(L);
        v[i] = (float)(keep - h);
        double hm = keep - (double)v[i], lm = loss(L);
        v[i] = keep;
        double plus = (lp - L->loss0) / hp, minus = (L->loss0 - lm) / hm;
        if (rel_error(plus, minus) <= o->tol) {
            *kinked = 0;
            return (lp - lm) / (hp + hm);
        }
    }
    *kinked = 1;
    return 0.0;
}

/* Compare the analytic gradient (ana[i] - offset) with numeric ones for
 * o->samples elements of v spread at random (all when fewer). */
static void check_tensor(gc_layer *L, float *v, size_t size, const float *ana, double offset,
                         const gradcheck_opts *o, uint64_t *rng, gradcheck_tensor *t)
{
    t->size = size;
    size_t stride = (o->samples == 0 || size <= o->samples) ? 1 : size / o->samples;
    size_t start = stride > 1 ? strata_rng_next(rng) % stride : 0;
    for (size_t i = start; i < size && (o->samples == 0 || t->checked < o->samples); i += stride) {
        int kinked;
        double num = numeric(L, v, i, o, &kinked);
        if (kinked) {
            t->skipped++;
            continue;
        }
        double a = (double)ana[i] - offset, e = rel_error(num, a);
        if (t->checked++ == 0 || e > t->worst) {
            t->worst = e;
            t->worst_at = i;
            t->numeric = num;
            t->analytic = a;
        }
    }
}

static void check_all(gc_layer *L, const gradcheck_opts *o, uint64_t *rng, gradcheck_result *r)
{
    analytic(L);
    gradcheck_tensor *t = &r->t[r->n++];
    snprintf(t->name, sizeof t->name, "input");
    for (size_t i = 0; i < L->nin; i++)
        t->unwritten += isnan(L->dx[i]) != 0;
    check_tensor(L, L->x, L->nin, L->dx, 0.0, o, rng, t);
    for (int p = 0; p < L->np; p++) {
        if (L->desc[p].flags & STRATA_PARAM_BUFFER)
            continue;
        t = &r->t[r->n++];
        snprintf(t->name, sizeof t->name, "%s", L->desc[p].name ? L->desc[p].name : "?");
        check_tensor(L, L->params[p], L->psize[p], L->dparams[p], 0.25, o, rng, t);
    }
}

int gradcheck_layer(const strata_layer_ops *ops, void *layer, strata_shape in, strata_shape out,
                    const gradcheck_opts *o, gradcheck_result *r, strata_err *err)
{
    memset(r, 0, sizeof *r);
    r->out = out;
    gc_layer L = {.ops = ops, .self = layer, .n = o->batch};
    L.ctx = (strata_ctx){.training = o->training, .threads = o->threads, .seed = o->seed ^ 0x5eedull,
                         .isa = plugins_host()->isa};
    uint64_t rng = o->seed;
    int rc = gc_alloc(&L, in, out, &rng, err);
    if (rc == 0)
        check_all(&L, o, &rng, r);
    gc_free(&L);
    return rc;
}

int gradcheck_passed(const gradcheck_result *r, double tol)
{
    for (int i = 0; i < r->n; i++) {
        const gradcheck_tensor *t = &r->t[i];
        if (t->unwritten || t->worst > tol || (t->checked == 0 && t->size > 0))
            return 0;
    }
    return 1;
}
