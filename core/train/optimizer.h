/* optimizer.h — the host side of an optimizer plugin: its object, the
 * per-parameter state slots it asked for (one allocation: slot s of the
 * parameter at offset o is slot_mem[s * total + o]), the step counter and
 * the learning-rate schedule. */
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
    size_t total;        /* elements per slot (the network's parameter total) */
    float *slot_mem;
    int64_t step;        /* optimizer steps taken */
    lr_schedule sched;
} optimizer;

/* Create the plugin from the optimizer section and read the schedule;
 * epochs is the default cosine t_max. */
int optimizer_create(optimizer *opt, const optimizer_cfg *cfg, int epochs, plugin_registry *reg, strata_err *err);
/* Allocate the slots for net (zeroed). */
int optimizer_alloc(optimizer *opt, const network *net, strata_err *err);
/* One step over every trainable parameter with learning rate lr, the
 * elements shared out between `threads` threads. */
void optimizer_step(optimizer *opt, network *net, double lr, int threads);
void optimizer_free(optimizer *opt);

#endif
