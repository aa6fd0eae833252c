/* schedule.c — see schedule.h */
#include <math.h>
#include <string.h>
#include "train/schedule.h"

static const char *const kind_names[] = {"constant", "step", "cosine", "plateau"};
enum { NUM_KINDS = sizeof kind_names / sizeof kind_names[0] };
static const double PI = 3.14159265358979323846;

/* Linear warm-up factor, torch LinearLR with end_factor 1:
 *   f(e) = start + (1 - start) * min(e, w) / w,  1 when w == 0 */
static double warmup_factor(int warmup_epochs, double start, int e)
{
    if (warmup_epochs <= 0)
        return 1.0;
    int k = e < warmup_epochs ? e : warmup_epochs;
    return start + (1.0 - start) * (double)k / (double)warmup_epochs;
}

/* lr = base * gamma^floor(e / step_size) */
static double step_lr(double base, int step_size, double gamma, int e)
{
    return base * pow(gamma, (double)(e / step_size));
}

/* lr = eta_min + (base - eta_min)(1 + cos(pi * min(e, t_max) / t_max)) / 2 */
static double cosine_lr(double base, int t_max, double eta_min, int e)
{
    int k = e < t_max ? e : t_max;
    return eta_min + (base - eta_min) * (1.0 + cos(PI * (double)k / (double)t_max)) / 2.0;
}

double schedule_lr(const lr_schedule *s, int epoch)
{
    int e = epoch < 0 ? 0 : epoch;
    double lr = s->base_lr;
    if (s->kind == SCHED_STEP)
        lr = step_lr(s->base_lr, s->step_size, s->gamma, e);
    else if (s->kind == SCHED_COSINE)
        lr = cosine_lr(s->base_lr, s->t_max, s->eta_min, e);
    else if (s->kind == SCHED_PLATEAU)
        lr = s->plateau.lr;
    return lr * warmup_factor(s->warmup_epochs, s->warmup_start_factor, e);
}

void schedule_plateau_reset(lr_schedule *s)
{
    s->plateau.best = s->maximize ? -INFINITY : INFINITY;
    s->plateau.lr = s->base_lr;
    s->plateau.num_bad_epochs = 0;
    s->plateau.cooldown_counter = 0;
}

/* torch's _is_better for (mode, threshold_mode). */
static int plateau_better(const lr_schedule *s, double v, double best)
{
    if (s->maximize)
        return s->threshold_abs ? v > best + s->threshold : v > best * (1.0 + s->threshold);
    return s->threshold_abs ? v < best - s->threshold : v < best * (1.0 - s->threshold);
}

int schedule_plateau_step(lr_schedule *s, double value)
{
    plateau_state *p = &s->plateau;
    if (s->kind != SCHED_PLATEAU)
        return 0;
    if (plateau_better(s, value, p->best)) {
        p->best = value;
        p->num_bad_epochs = 0;
    } else
        p->num_bad_epochs++;
    if (p->cooldown_counter > 0) {
        p->cooldown_counter--;
        p->num_bad_epochs = 0;
    }
    if (p->num_bad_epochs <= s->patience)
        return 0;
    double old = p->lr, lr = fmax(old * s->factor, s->min_lr);
    p->cooldown_counter = s->cooldown;
    p->num_bad_epochs = 0;
    if (old - lr <= s->eps)
        return 0;
    p->lr = lr;
    return 1;
}

static int plateau_check(const lr_schedule *s, strata_err *err)
{
    const int C = STRATA_ERR_CONFIG;
    if (!(s->factor > 0.0 && s->factor < 1.0))
        return err_set(err, C, "schedule.factor: expected a number in (0, 1), got %g", s->factor);
    if (s->patience < 0 || s->cooldown < 0)
        return err_set(err, C, "schedule.%s: expected an integer >= 0, got %d",
                       s->patience < 0 ? "patience" : "cooldown", s->patience < 0 ? s->patience : s->cooldown);
    if (!(s->threshold >= 0.0) || !(s->min_lr >= 0.0) || !(s->eps >= 0.0))
        return err_set(err, C, "schedule.threshold, min_lr, eps: expected numbers >= 0, got %g, %g, %g",
                       s->threshold, s->min_lr, s->eps);
    return 0;
}

int schedule_check(const lr_schedule *s, strata_err *err)
{
    const int C = STRATA_ERR_CONFIG;
    if (!schedule_kind_name(s->kind))
        return err_set(err, C, "schedule.kind: expected constant, step, cosine or plateau, got %d",
                       (int)s->kind);
    if (!(s->base_lr > 0.0) || !isfinite(s->base_lr))
        return err_set(err, C, "schedule.base_lr: expected a number > 0, got %g", s->base_lr);
    if (s->kind == SCHED_STEP) {
        if (s->step_size < 1)
            return err_set(err, C, "schedule.step_size: expected an integer >= 1, got %d",
                           s->step_size);
        if (!(s->gamma > 0.0) || !isfinite(s->gamma))
            return err_set(err, C, "schedule.gamma: expected a number > 0, got %g", s->gamma);
    }
    if (s->kind == SCHED_COSINE) {
        if (s->t_max < 1)
            return err_set(err, C, "schedule.t_max: expected an integer >= 1, got %d", s->t_max);
        if (!(s->eta_min >= 0.0) || !isfinite(s->eta_min))
            return err_set(err, C, "schedule.eta_min: expected a number >= 0, got %g",
                           s->eta_min);
    }
    if (s->kind == SCHED_PLATEAU && plateau_check(s, err))
        return -1;
    if (s->warmup_epochs < 0)
        return err_set(err, C, "schedule.warmup_epochs: expected an integer >= 0, got %d",
                       s->warmup_epochs);
    if (s->warmup_epochs > 0 &&
        !(s->warmup_start_factor > 0.0 && s->warmup_start_factor <= 1.0))
        return err_set(err, C,
                       "schedule.warmup_start_factor: expected a number in (0, 1], got %g",
                       s->warmup_start_factor);
    return 0;
}

const char *schedule_kind_name(sched_kind k)
{
    return (int)k >= 0 && (int)k < NUM_KINDS ? kind_names[k] : NULL;
}

int schedule_kind_parse(const char *name, sched_kind *out)
{
    for (int i = 0; name && i < NUM_KINDS; i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (sched_kind)i;
            return 0;
        }
    return -1;
}
