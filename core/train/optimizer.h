/* optimizer.h — the host side of an optimizer plugin: its object, the
 * per-parameter state slots it asked for, the step counter and the
 * learning-rate schedule. The slots hold the trained parameters only
 * (buffers and model.freeze layers have none): one allocation, slot s of
 * parameter i at slot_mem[s * total + slot_offset[i]] (optimizer_slot). */
#ifndef STRATA_OPTIMIZER_H
#define STRATA_OPTIMIZER_H

#include <stdint.h>
#include "config/experiment.h"
#include "model/network.h"
#include "model/plugins.h"
#include "train/schedule.h"

typedef struct optimizer {
    const strata_plugin *plugin;
    void *self;
    int n_slots;
    size_t total;        /* elements per slot: the network's trained elements */
    size_t *slot_offset; /* per network parameter: its offset in a slot (OPTIMIZER_NO_SLOT: not trained) */
    float *slot_mem;
    int64_t step;        /* optimizer steps taken */
    lr_schedule sched;
} optimizer;

/* Create the plugin from the optimizer section and read the schedule;
 * epochs is the default cosine t_max. */
int optimizer_create(optimizer *opt, const optimizer_cfg *cfg, int epochs, plugin_registry *reg, strata_err *err);
#define OPTIMIZER_NO_SLOT ((size_t)-1)

/* Allocate the slots for net's trained parameters (zeroed). */
int optimizer_alloc(optimizer *opt, const network *net, strata_err *err);
/* Slot `slot` of network parameter `param` (its count elements); NULL for
 * a parameter that is not trained. */
float *optimizer_slot(const optimizer *opt, int slot, int param);
/* One step over every trainable parameter with learning rate lr, the
 * elements shared out between `threads` threads. */
void optimizer_step(optimizer *opt, network *net, double lr, int threads);
void optimizer_free(optimizer *opt);

#endif
