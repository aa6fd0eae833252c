/*
 * adam_update.h — private to the adam and adamw modules: their shared
 * options, slots and update (PyTorch 1.13's single-tensor Adam/AdamW).
 *
 * Options: betas ([0.9, 0.999], each in [0, 1)), eps (1e-8,
 * >= 0), weight_decay (adam 0, adamw 0.01; >= 0), amsgrad (false); lr
 * (ADAM_DEFAULT_LR, > 0) is read and scheduled by the host.
 * Slots: "exp_avg", "exp_avg_sq", and "max_exp_avg_sq" with amsgrad.
 */
#ifndef STRATA_ADAM_UPDATE_H
#define STRATA_ADAM_UPDATE_H

#include <math.h>
#include "common/simd.h"
#include <stdlib.h>
#include <strata/plugin.h>

#define ADAM_DEFAULT_LR 1e-3

typedef struct adam {
    double beta1, beta2, eps, weight_decay;
    int amsgrad;
    int decoupled; /* 1: AdamW's p *= 1 - lr*wd; 0: Adam's g += wd*p */
} adam;

/*
 * One Adam step on a tensor, step t (1 on the first), in float:
 *   p = p * (1 - lr*wd)                       (decoupled: AdamW)
 *   g = grad + wd*p                           (not decoupled: Adam's L2)
 *   m = b1*m + (1 - b1)*g
 *   v = b2*v + (1 - b2)*g*g
 *   vmax = max(vmax, v)                       (amsgrad; then v := vmax below)
 *   step_size = lr / (1 - b1^t)               (double, as torch's python)
 *   denom = sqrt(v) / sqrt(1 - b2^t) + eps
 *   p = p + (-step_size*m) / denom
 * param, grad, m, v, vmax are (n); vmax is NULL without amsgrad.
 */
/* The element loop: one loop for Adam and AdamW without amsgrad, branch-free
 * so it vectorises, compiled for AVX-512, AVX2 and baseline x86-64 and
 * picked by strata_isa(). The options are coefficients: shrink is
 * 1 - lr*wd for AdamW and 1 otherwise, l2 is wd for Adam and 0 otherwise
 * (p * 1 and g + 0 * p are exact for finite p, so each option set gets the
 * bits it would get from a loop of its own). The order of the float
 * operations is the same at every ISA level (no FMA contraction under
 * -std=c11), so results do not depend on the CPU. */
typedef struct adam_coef {
    float neg_step_size, bc2_sqrt, b1, one_minus_b1, b2, one_minus_b2, eps, l2, shrink;
} adam_coef;

STRATA_MULTIVERSION(void, adam_loop, (const adam_coef *c, size_t n, float *restrict param,
                                      const float *restrict grad, float *restrict m, float *restrict v),
                    (c, n, param, grad, m, v))
{
    for (size_t i = 0; i < n; i++) {
        float p = param[i] * c->shrink;
        float g = grad[i] + c->l2 * p;
        m[i] = m[i] * c->b1 + c->one_minus_b1 * g;
        v[i] = v[i] * c->b2 + c->one_minus_b2 * g * g;
        float denom = sqrtf(v[i]) / c->bc2_sqrt + c->eps;
        param[i] = p + c->neg_step_size * m[i] / denom;
    }
}

/* amsgrad: the same steps, the denominator from the running maximum of v. */
static void adam_loop_amsgrad(const adam_coef *c, size_t n, float *param, const float *grad, float *m,
                              float *v, float *vmax)
{
    for (size_t i = 0; i < n; i++) {
        float p = param[i] * c->shrink;
        float g = grad[i] + c->l2 * p;
        m[i] = m[i] * c->b1 + c->one_minus_b1 * g;
        v[i] = v[i] * c->b2 + c->one_minus_b2 * g * g;
        vmax[i] = vmax[i] > v[i] ? vmax[i] : v[i];
        float denom = sqrtf(vmax[i]) / c->bc2_sqrt + c->eps;
        param[i] = p + c->neg_step_size * m[i] / denom;
    }
}

static inline void adam_update_tensor(const adam *a, int64_t t, double lr,
                                      size_t n, float *param, const float *grad,
                                      float *m, float *v, float *vmax)
{
    double bc1 = 1.0 - pow(a->beta1, (double)t);
    double bc2 = 1.0 - pow(a->beta2, (double)t);
    adam_coef c = {
        .neg_step_size = (float)-(lr / bc1),
        .bc2_sqrt = (float)sqrt(bc2),
        .b1 = (float)a->beta1, .one_minus_b1 = (float)(1.0 - a->beta1),
        .b2 = (float)a->beta2, .one_minus_b2 = (float)(1.0 - a->beta2),
        .eps = (float)a->eps,
        .l2 = a->decoupled ? 0.0f : (float)a->weight_decay,
        .shrink = a->decoupled ? (float)(1.0 - lr * a->weight_decay) : 1.0f,
    };
    if (vmax)
        adam_loop_amsgrad(&c, n, param, grad, m, v, vmax);
    else
        adam_loop(&c, n, param, grad, m, v);
}

static inline void adam_update(const void *opt, int64_t step, double lr, size_t n,
                               float *param, const float *grad, float *const *slots)
{
    const adam *a = opt;
    adam_update_tensor(a, step, lr, n, param, grad, slots[0], slots[1],
                       a->amsgrad ? slots[2] : NULL);
}

/* Read a float option, finite; 0 when present or absent, -1 on error. */
static inline int adam_read_float(const strata_host *h, strata_opts *o,
                                  const char *key, double def, double *out)
{
    if (h->opt_float(o, key, def, -HUGE_VAL, HUGE_VAL, out) < 0)
        return -1;
    if (!isfinite(*out))
        return h->opt_error(o, key, "expected a finite number, got %g", *out);
    return 0;
}

/* Parse the options into a new adam (NULL after host->opt_error). */
static inline void *adam_create_common(const strata_host *h, strata_opts *o,
                                       double default_wd, int decoupled)
{
    adam a = {.decoupled = decoupled};
    double betas[2] = {0.9, 0.999};
    int nb = 0, bad = 0;
    int rb = h->opt_float_list(o, "betas", betas, 2, &nb);
    bad |= rb < 0;
    bad |= adam_read_float(h, o, "eps", 1e-8, &a.eps);
    bad |= adam_read_float(h, o, "weight_decay", default_wd, &a.weight_decay);
    bad |= h->opt_bool(o, "amsgrad", 0, &a.amsgrad) < 0;
    if (bad)
        return NULL;
    if (rb == 1) {
        betas[0] = 0.9;
        betas[1] = 0.999;
    } else if (nb != 2) {
        return h->opt_error(o, "betas", "expected a list [beta1, beta2], got %d numbers", nb), NULL;
    }
    for (int i = 0; i < 2; i++)
        if (!(betas[i] >= 0.0 && betas[i] < 1.0))
            return h->opt_error(o, "betas", "expected beta%d in [0, 1), got %g", i + 1,
                                betas[i]), NULL;
    if (a.eps < 0.0)
        return h->opt_error(o, "eps", "expected a number >= 0, got %g", a.eps), NULL;
    if (a.weight_decay < 0.0)
        return h->opt_error(o, "weight_decay", "expected a number >= 0, got %g",
                            a.weight_decay), NULL;
    a.beta1 = betas[0];
    a.beta2 = betas[1];
    adam *p = malloc(sizeof *p);
    if (!p)
        return h->opt_error(o, NULL, "out of memory"), NULL;
    *p = a;
    return p;
}

static inline void adam_destroy(void *opt) { free(opt); }

static inline int adam_num_slots(const void *opt) { return 2 + ((const adam *)opt)->amsgrad; }

static inline const char *adam_slot_name(const void *opt, int i)
{
    static const char *const names[] = {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
    return i >= 0 && i < adam_num_slots(opt) ? names[i] : NULL;
}

/* An Adam module (adam.c, adamw.c): its create, with weight_decay's default
 * and the kind of decay (decoupled 1: AdamW), and its descriptor. */
#define ADAM_PLUGIN(name, description, default_wd, decoupled)                    \
    static void *adam_create(const strata_host *h, strata_opts *o)               \
    {                                                                             \
        return adam_create_common(h, o, default_wd, decoupled);                   \
    }                                                                             \
    STRATA_PLUGIN_DEFINE(OPTIMIZER, name, "1.0", description,                     \
                         .create = adam_create, .destroy = adam_destroy,          \
                         .num_slots = adam_num_slots, .slot_name = adam_slot_name, \
                         .update = adam_update, .default_lr = ADAM_DEFAULT_LR)

#endif
