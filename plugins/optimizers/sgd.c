/*
 * sgd.c — stochastic gradient descent with momentum, dampening, Nesterov
 * momentum and L2 weight decay; PyTorch 1.13's torch.optim.SGD exactly.
 *
 * YAML options: momentum (0, >= 0), dampening (0, in [0, 1]), nesterov
 * (false; needs momentum > 0 and dampening == 0), weight_decay (0, >= 0);
 * lr (required, > 0) is read and scheduled by the host. One slot,
 * "momentum_buffer", when momentum > 0.
 */
#include <math.h>
#include <stdlib.h>
#include <strata/plugin.h>

typedef struct sgd {
    double momentum, dampening, weight_decay;
    int nesterov;
} sgd;

/*
 * The update of one tensor, step t (1 on the first), in float:
 *   g = grad + wd*p
 *   if momentum: buf = g                                  (t == 1)
 *                buf = momentum*buf + (1 - dampening)*g   (t > 1)
 *                g = nesterov ? g + momentum*buf : buf
 *   p = p - lr*g
 * param, grad, buf are (n); buf is NULL when momentum == 0.
 */
static void sgd_update_tensor(float *param, const float *grad, float *buf,
                              size_t n, int64_t t, float lr, float wd,
                              float momentum, float one_minus_damp, int nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float g = grad[i];
        if (wd != 0.0f)
            g = g + wd * param[i];
        if (buf) {
            if (t == 1)
                buf[i] = g;
            else
                buf[i] = buf[i] * momentum + one_minus_damp * g;
            g = nesterov ? g + momentum * buf[i] : buf[i];
        }
        param[i] = param[i] + (-lr) * g;
    }
}

static void sgd_update(const void *opt, int64_t step, double lr, size_t n,
                       float *param, const float *grad, float *const *slots)
{
    const sgd *s = opt;
    float *buf = s->momentum != 0.0 ? slots[0] : NULL;
    sgd_update_tensor(param, grad, buf, n, step, (float)lr, (float)s->weight_decay,
                      (float)s->momentum, (float)(1.0 - s->dampening), s->nesterov);
}

/* Read a float option; 0 when present or absent and valid, -1 on error. */
static int read_float(const strata_host *h, strata_opts *o, const char *key,
                      double def, double *out)
{
    int r = h->opt_float(o, key, def, -HUGE_VAL, HUGE_VAL, out);
    if (r < 0)
        return -1;
    if (!isfinite(*out))
        return h->opt_error(o, key, "expected a finite number, got %g", *out);
    return 0;
}

static void *sgd_create(const strata_host *h, strata_opts *o)
{
    sgd s = {0};
    int bad = 0;
    bad |= read_float(h, o, "momentum", 0.0, &s.momentum);
    bad |= read_float(h, o, "dampening", 0.0, &s.dampening);
    bad |= h->opt_bool(o, "nesterov", 0, &s.nesterov) < 0;
    bad |= read_float(h, o, "weight_decay", 0.0, &s.weight_decay);
    if (bad)
        return NULL;
    if (s.momentum < 0.0)
        return h->opt_error(o, "momentum", "expected a number >= 0, got %g", s.momentum), NULL;
    if (s.dampening < 0.0 || s.dampening > 1.0)
        return h->opt_error(o, "dampening", "expected a number from 0 to 1, got %g",
                            s.dampening), NULL;
    if (s.weight_decay < 0.0)
        return h->opt_error(o, "weight_decay", "expected a number >= 0, got %g",
                            s.weight_decay), NULL;
    if (s.nesterov && (s.momentum <= 0.0 || s.dampening != 0.0))
        return h->opt_error(o, "nesterov",
                            "requires momentum > 0 and dampening = 0, got momentum %g, dampening %g",
                            s.momentum, s.dampening), NULL;
    sgd *p = malloc(sizeof *p);
    if (!p)
        return h->opt_error(o, NULL, "out of memory"), NULL;
    *p = s;
    return p;
}

static void sgd_destroy(void *opt) { free(opt); }

static int sgd_num_slots(const void *opt) { return ((const sgd *)opt)->momentum != 0.0; }

static const char *sgd_slot_name(const void *opt, int i)
{
    return i == 0 && sgd_num_slots(opt) ? "momentum_buffer" : NULL;
}

STRATA_PLUGIN_DEFINE(OPTIMIZER, "sgd", "1.0",
                     "SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)",
                     .create = sgd_create,
                     .destroy = sgd_destroy,
                     .num_slots = sgd_num_slots,
                     .slot_name = sgd_slot_name,
                     .update = sgd_update)
