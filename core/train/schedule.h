/*
 * schedule.h — learning-rate schedules, evaluated per epoch: schedule_lr(s, e)
 * is the learning rate used for the whole of epoch e (0-based).
 *
 *   constant: lr = base
 *   step:     lr = base * gamma^floor(e / step_size)          (torch StepLR)
 *   cosine:   lr = eta_min + (base - eta_min)(1 + cos(pi*min(e, t_max)/t_max))/2
 *                                      (torch CosineAnnealingLR's closed form)
 *   plateau:  torch ReduceLROnPlateau, stepped once after each epoch with
 *             the monitored value (schedule_plateau_step); lr starts at
 *             base. mode min for val_loss, max for val_acc. Improvement
 *             (threshold_mode rel): min: v < best * (1 - threshold),
 *             max: v > best * (1 + threshold); (abs): v < best - threshold,
 *             v > best + threshold. After `patience` epochs without one
 *             (num_bad_epochs > patience), lr = max(lr * factor, min_lr) when
 *             that changes it by more than eps, then `cooldown` epochs in
 *             which bad epochs are not counted.
 * times, when warmup_epochs > 0, the linear warm-up factor of torch LinearLR
 * (end_factor 1):
 *   f(e) = start + (1 - start) * min(e, warmup_epochs) / warmup_epochs
 */
#ifndef STRATA_SCHEDULE_H
#define STRATA_SCHEDULE_H

#include "config/error.h"

typedef enum { SCHED_CONSTANT, SCHED_STEP, SCHED_COSINE, SCHED_PLATEAU } sched_kind;

/* ReduceLROnPlateau's state (saved in checkpoints, restored on resume). */
typedef struct plateau_state {
    double best;            /* +inf (min) or -inf (max) before the first step */
    double lr;              /* the current learning rate (before warm-up) */
    int num_bad_epochs, cooldown_counter;
} plateau_state;

typedef struct lr_schedule {
    sched_kind kind;
    double base_lr;
    int step_size; double gamma;                   /* step */
    int t_max; double eta_min;                     /* cosine */
    int warmup_epochs; double warmup_start_factor; /* linear warm-up; 0 epochs: none */
    int maximize, threshold_abs, patience, cooldown; /* plateau */
    double factor, threshold, min_lr, eps;
    plateau_state plateau;
} lr_schedule;

/* Set the plateau state to its start (lr = base_lr, best = the worst value). */
void schedule_plateau_reset(lr_schedule *s);
/* plateau: record an epoch's monitored value (torch's scheduler.step(v));
 * other kinds: nothing. Returns 1 when the learning rate was reduced. */
int schedule_plateau_step(lr_schedule *s, double value);

/* The learning rate of epoch `epoch` (negative epochs count as 0). */
double schedule_lr(const lr_schedule *s, int epoch);

/* Validate the fields the kind uses: base_lr > 0; step: step_size >= 1,
 * gamma > 0; cosine: t_max >= 1, 0 <= eta_min; plateau: 0 < factor < 1,
 * patience, cooldown, threshold, min_lr, eps >= 0; warmup_epochs >= 0 and, when
 * > 0, 0 < warmup_start_factor <= 1. Returns 0, or -1 with a message naming
 * the field ("schedule.step_size: expected an integer >= 1, got 0"). */
int schedule_check(const lr_schedule *s, strata_err *err);

/* "constant", "step", "cosine", "plateau" (NULL for a value outside the enum). */
const char *schedule_kind_name(sched_kind k);

/* The kind named `name`: 0, or -1 when the name is unknown. */
int schedule_kind_parse(const char *name, sched_kind *out);

#endif
