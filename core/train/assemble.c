/* assemble.c — see assemble.h */
#include <string.h>
#include "model/init.h"
#include "train/assemble.h"

uint64_t seed_stream_of(uint64_t seed, seed_stream s)
{
    return seed_mix(seed, (uint64_t)s);
}

int assembly_create(assembly *a, const experiment *x, plugin_registry *reg, int training, strata_err *err)
{
    memset(a, 0, sizeof *a);
    a->training = training;
    if (network_create(&a->net, &x->model, reg, err))
        return -1;
    if (training && optimizer_create(&a->opt, &x->optimizer, x->train.epochs, reg, err))
        return -1;
    return 0;
}

int assembly_alloc(assembly *a, const experiment *x, const assembly_cfg *cfg, strata_err *err)
{
    uint64_t seed = x->train.seed;
    if (network_alloc(&a->net, err) || (a->training && optimizer_alloc(&a->opt, &a->net, err)) ||
        trainer_init(&a->tr, &a->net, cfg->batch, cfg->threads, seed_stream_of(seed, SEED_LAYERS), &cfg->hooks, err))
        return -1;
    if (cfg->init_params)
        init_params(&a->net, x->model.init, seed_stream_of(seed, SEED_INIT));
    return 0;
}

void assembly_free(assembly *a)
{
    trainer_free(&a->tr);
    optimizer_free(&a->opt);
    network_free(&a->net);
    memset(a, 0, sizeof *a);
}
