/*
 * schedule.h — learning-rate schedules, evaluated per epoch: schedule_lr(s, e)
 * is the learning rate used for the whole of epoch e (0-based).
 *
 *   constant: lr = base
 *   step:     lr = base * gamma^floor(e / step_size)          (torch StepLR)
 *   cosine:   lr = eta_min + (base - eta_min)(1 + cos(pi*min(e, t_max)/t_max))/2
 *                                      (torch CosineAnnealingLR's closed form)
 * times, when warmup_epochs > 0, the linear warm-up factor of torch LinearLR
 * (end_factor 1):
 *   f(e) = start + (1 - start) * min(e, warmup_epochs) / warmup_epochs
 */
#ifndef STRATA_SCHEDULE_H
#define STRATA_SCHEDULE_H

#include "config/error.h"

typedef enum { SCHED_CONSTANT, SCHED_STEP, SCHED_COSINE } sched_kind;

typedef struct lr_schedule {
    sched_kind kind;
    double base_lr;
    int step_size; double gamma;                   /* step */
    int t_max; double eta_min;                     /* cosine */
    int warmup_epochs; double warmup_start_factor; /* linear warm-up; 0 epochs: none */
} lr_schedule;

/* The learning rate of epoch `epoch` (negative epochs count as 0). */
double schedule_lr(const lr_schedule *s, int epoch);

/* Validate the fields the kind uses: base_lr > 0; step: step_size >= 1,
 * gamma > 0; cosine: t_max >= 1, 0 <= eta_min; warmup_epochs >= 0 and, when
 * > 0, 0 < warmup_start_factor <= 1. Returns 0, or -1 with a message naming
 * the field ("schedule.step_size: expected an integer >= 1, got 0"). */
int schedule_check(const lr_schedule *s, strata_err *err);

/* "constant", "step", "cosine" (NULL for a value outside the enum). */
const char *schedule_kind_name(sched_kind k);

/* The kind named `name`: 0, or -1 when the name is unknown. */
int schedule_kind_parse(const char *name, sched_kind *out);

#endif
