/* init.c — see init.h */
#include <math.h>
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif
#include "model/init.h"

uint64_t seed_mix(uint64_t a, uint64_t b)
{
    uint64_t s = a ^ (b * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
    return strata_rng_next(&s);
}

/* Uniform in (0, 1), 53 bits. */
static double uniform01(uint64_t *s)
{
    return ((double)(strata_rng_next(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static void fill_normal(float *x, size_t n, double std, uint64_t *s)
{
    for (size_t i = 0; i < n; i += 2) {
        double u1 = uniform01(s), u2 = uniform01(s);
        double r = sqrt(-2.0 * log(u1)), t = 2.0 * M_PI * u2;
        x[i] = (float)(std * r * cos(t));
        if (i + 1 < n)
            x[i + 1] = (float)(std * r * sin(t));
    }
}

static void fill_uniform(float *x, size_t n, double bound, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((2.0 * uniform01(s) - 1.0) * bound);
}

static void fill_const(float *x, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        x[i] = v;
}

static void init_one(float *x, const net_param *p, init_scheme scheme, uint64_t *s)
{
    const strata_param_desc *d = &p->desc;
    double fan_in = d->fan_in > 0 ? (double)d->fan_in : 1.0, fan_out = d->fan_out > 0 ? (double)d->fan_out : 1.0;
    switch (d->role) {
    case STRATA_INIT_CONV_WEIGHT:
        if (scheme == INIT_TORCHVISION)
            fill_normal(x, p->count, sqrt(2.0 / fan_out), s);
        else
            fill_uniform(x, p->count, 1.0 / sqrt(fan_in), s);
        break;
    case STRATA_INIT_LINEAR_WEIGHT:
        if (scheme == INIT_TORCHVISION)
            fill_normal(x, p->count, 0.01, s);
        else
            fill_uniform(x, p->count, 1.0 / sqrt(fan_in), s);
        break;
    case STRATA_INIT_BIAS:
        if (scheme == INIT_TORCHVISION)
            fill_const(x, p->count, 0.0f);
        else
            fill_uniform(x, p->count, 1.0 / sqrt(fan_in), s);
        break;
    case STRATA_INIT_ONES:
        fill_const(x, p->count, 1.0f);
        break;
    case STRATA_INIT_ZEROS:
    default:
        fill_const(x, p->count, 0.0f);
        break;
    }
}

void init_params(network *net, init_scheme scheme, uint64_t seed)
{
    for (int i = 0; i < net->n_params; i++) {
        uint64_t s = seed_mix(seed, (uint64_t)i + 1);
        init_one(net->param_mem + net->params[i].offset, &net->params[i], scheme, &s);
    }
}
