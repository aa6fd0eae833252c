/* assemble.h — an experiment made runnable: its network of plugin layers,
 * the optimizer (for training) and the trainer with the step's memory plan,
 * parameters initialised from the run's seed. The one way `strata run`,
 * `resume`, `bench` and `predict` (and a sweep's points) build a model.
 *
 *   experiment --assembly_create--> network + optimizer   (every option checked)
 *              --assembly_alloc---> parameters, optimizer state, trainer,
 *                                   initial values from the seed
 *
 * Every random stream of a run is seed_stream(train.seed, SEED_...): one
 * enum names them, so two places never draw from the same stream. */
#ifndef STRATA_ASSEMBLE_H
#define STRATA_ASSEMBLE_H

#include <stdint.h>
#include "config/experiment.h"
#include "model/network.h"
#include "model/plugins.h"
#include "train/optimizer.h"
#include "train/trainer.h"

/* The random streams derived from train.seed. The numbers are part of what
 * makes a run reproducible: never renumber one. */
typedef enum seed_stream {
    SEED_INIT = 1,       /* initial parameters (init_params) */
    SEED_LAYERS = 2,     /* the layers' randomness per step (dropout masks) */
    SEED_TRAIN_DATA = 3, /* the training loader: shuffling and augmentation */
    SEED_VAL_DATA = 4,   /* the validation loader */
    SEED_BENCH_DATA = 5, /* strata bench's synthetic batch */
} seed_stream;

/* The seed of stream s of a run seeded with seed. */
uint64_t seed_stream_of(uint64_t seed, seed_stream s);

typedef struct assembly {
    network net;
    optimizer opt;  /* only when created for training */
    trainer tr;
    int training;
} assembly;

/* What the trainer is sized for. */
typedef struct assembly_cfg {
    int batch;         /* the largest batch a step gets */
    int threads;       /* the layers' threads */
    int init_params;   /* 1: draw the initial parameters (0 when weights are loaded over them at once) */
    trainer_hooks hooks; /* the memory plan's switches for tests (zero: normal) */
} assembly_cfg;

/* Create the network (and, when training, the optimizer) of x: every
 * plugin found and every option checked; nothing large allocated yet. */
int assembly_create(assembly *a, const experiment *x, plugin_registry *reg, int training, strata_err *err);
/* Allocate parameters, gradients, optimizer state and the trainer's
 * memory; then the initial parameters (cfg->init_params). */
int assembly_alloc(assembly *a, const experiment *x, const assembly_cfg *cfg, strata_err *err);
void assembly_free(assembly *a);

#endif
