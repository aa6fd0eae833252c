/* optimizer.c — see optimizer.h */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/parallel.h"
#include "config/opts.h"
#include "train/optimizer.h"

/* The plateau schedule's keys (torch ReduceLROnPlateau's defaults). */
static int read_plateau(strata_opts *o, lr_schedule *s)
{
    static const char *const modes[] = {"rel", "abs", NULL};
    int monitor;
    long v;
    opts_choice(o, "monitor", monitor_names, MONITOR_VAL_LOSS, &monitor);
    s->maximize = monitor == MONITOR_VAL_ACC;
    opts_float(o, "factor", 0.1, 1e-12, 0.999999, &s->factor);
    opts_int(o, "patience", 10, 0, 1000000, &v);
    s->patience = (int)v;
    opts_float(o, "threshold", 1e-4, 0.0, 1e6, &s->threshold);
    opts_choice(o, "threshold_mode", modes, 0, &s->threshold_abs);
    opts_int(o, "cooldown", 0, 0, 1000000, &v);
    s->cooldown = (int)v;
    opts_float(o, "min_lr", 0.0, 0.0, 1e6, &s->min_lr);
    opts_float(o, "eps", 1e-8, 0.0, 1.0, &s->eps);
    schedule_plateau_reset(s);
    return o->failed ? -1 : 0;
}

static int read_schedule(const optimizer_cfg *cfg, double base_lr, int epochs, lr_schedule *s, strata_err *err)
{
    static const char *const kinds[] = {"constant", "step", "cosine", "plateau", NULL};
    strata_opts o;
    long v;
    int kind;
    memset(s, 0, sizeof *s);
    s->base_lr = base_lr;
    opts_init(&o, cfg->schedule, "optimizer.schedule", err);
    opts_choice(&o, "name", kinds, 0, &kind);
    schedule_kind_parse(kinds[kind], &s->kind);
    opts_int(&o, "step_size", 10, 1, 1000000, &v);
    s->step_size = (int)v;
    opts_float(&o, "gamma", 0.1, 1e-12, 1e6, &s->gamma);
    opts_int(&o, "t_max", epochs, 1, 1000000, &v);
    s->t_max = (int)v;
    opts_float(&o, "eta_min", 0.0, 0.0, 1e6, &s->eta_min);
    opts_int(&o, "warmup_epochs", 0, 0, 1000000, &v);
    s->warmup_epochs = (int)v;
    opts_float(&o, "warmup_start_factor", 1.0 / 3.0, 1e-12, 1.0, &s->warmup_start_factor);
    if (read_plateau(&o, s))
        return -1;
    if (o.failed || opts_check_unused(&o, "optimizer.schedule"))
        return -1;
    return schedule_check(s, err);
}

/* The learning rate: the host's, read before the plugin sees the section
 * (the plugin never reads it; it gets the scheduled value in update). */
static int read_lr(strata_opts *o, double def, double *lr)
{
    int r = opts_float(o, "lr", def, -HUGE_VAL, HUGE_VAL, lr);
    if (r < 0)
        return -1;
    if (r == 1 && def <= 0.0)
        return opts_error(o, "lr", "required: expected a number > 0");
    if (!(*lr > 0.0) || !isfinite(*lr))
        return opts_error(o, "lr", "expected a finite number > 0, got %g", *lr);
    return 0;
}

/* The slots the plugin declared: at most STRATA_MAX_SLOTS, each named,
 * the names distinct (they are checkpoint keys). */
static int check_slots(const optimizer *opt, const char *name, strata_err *err)
{
    const strata_optimizer_ops *ops = opt->plugin->optimizer;
    if (opt->n_slots < 0 || opt->n_slots > STRATA_MAX_SLOTS)
        return err_set(err, STRATA_ERR_CONFIG, "optimizer %s: declares %d state slots; strata allows 0 to %d "
                       "(STRATA_MAX_SLOTS)", name, opt->n_slots, STRATA_MAX_SLOTS);
    for (int i = 0; i < opt->n_slots; i++) {
        const char *s = ops->slot_name(opt->self, i);
        if (!s || !s[0])
            return err_set(err, STRATA_ERR_CONFIG, "optimizer %s: slot %d has no name", name, i);
        for (int j = 0; j < i; j++)
            if (strcmp(s, ops->slot_name(opt->self, j)) == 0)
                return err_set(err, STRATA_ERR_CONFIG, "optimizer %s: slots %d and %d are both called '%s'", name,
                               j, i, s);
    }
    return 0;
}

int optimizer_create(optimizer *opt, const optimizer_cfg *cfg, int epochs, plugin_registry *reg, strata_err *err)
{
    memset(opt, 0, sizeof *opt);
    opt->plugin = plugins_find(reg, STRATA_PLUGIN_OPTIMIZER, cfg->name, err);
    if (!opt->plugin) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        return err_set(err, STRATA_ERR_CONFIG, "optimizer.name: %s", m);
    }
    const strata_optimizer_ops *ops = opt->plugin->optimizer;
    strata_opts o;
    double lr;
    opts_init(&o, cfg->opts, "optimizer", err);
    if (read_lr(&o, ops->default_lr, &lr))
        return -1;
    opt->self = ops->create(plugins_host(), &o);
    if (!opt->self) {
        if (!o.failed)
            opts_error(&o, NULL, "the %s optimizer refused its options", cfg->name);
        return -1;
    }
    char what[96];
    snprintf(what, sizeof what, "the %s optimizer", cfg->name);
    if (opts_check_unused(&o, what))
        return -1;
    opt->n_slots = ops->num_slots(opt->self);
    if (check_slots(opt, cfg->name, err))
        return -1;
    return read_schedule(cfg, lr, epochs, &opt->sched, err);
}

int optimizer_alloc(optimizer *opt, const network *net, strata_err *err)
{
    opt->slot_offset = malloc((net->n_params ? net->n_params : 1) * sizeof *opt->slot_offset);
    if (!opt->slot_offset)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for the optimizer state");
    opt->total = 0;
    for (int i = 0; i < net->n_params; i++) {
        const net_param *p = &net->params[i];
        opt->slot_offset[i] = (p->desc.flags & STRATA_PARAM_BUFFER) ? OPTIMIZER_NO_SLOT : opt->total;
        if (opt->slot_offset[i] != OPTIMIZER_NO_SLOT)
            opt->total += p->count;
    }
    if (opt->n_slots == 0)
        return 0;
    opt->slot_mem = calloc((size_t)opt->n_slots * (opt->total ? opt->total : 1), sizeof(float));
    if (!opt->slot_mem)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for the optimizer state (%d x %zu floats)",
                       opt->n_slots, opt->total);
    return 0;
}

float *optimizer_slot(const optimizer *opt, int slot, int param)
{
    size_t o = opt->slot_offset[param];
    return o == OPTIMIZER_NO_SLOT ? NULL : opt->slot_mem + (size_t)slot * opt->total + o;
}

typedef struct step_job {
    optimizer *opt;
    network *net;
    double lr;
} step_job;

/* Share t of the trained elements (laid out as in the slots), tensor by
 * tensor. */
static void step_share(void *arg, int t, int threads)
{
    const step_job *j = arg;
    optimizer *opt = j->opt;
    size_t begin, end;
    fork_join_range(opt->total, t, threads, &begin, &end);
    float *slots[STRATA_MAX_SLOTS];
    for (int i = 0; i < j->net->n_params; i++) {
        const net_param *p = &j->net->params[i];
        size_t o = opt->slot_offset[i];
        if (o == OPTIMIZER_NO_SLOT)
            continue;
        size_t b = o > begin ? o : begin, e = o + p->count < end ? o + p->count : end;
        if (b >= e)
            continue;
        for (int k = 0; k < opt->n_slots; k++) /* <= STRATA_MAX_SLOTS: checked at create */
            slots[k] = opt->slot_mem + (size_t)k * opt->total + b;
        size_t at = p->offset + (b - o); /* into the network's parameters and gradients */
        opt->plugin->optimizer->update(opt->self, opt->step, j->lr, e - b, j->net->param_mem + at,
                                       j->net->grad_mem + at, slots);
    }
}

/* The update is element-wise (the ABI's contract), so the trained elements
 * are cut into equal ranges, one per thread; the result does not depend on
 * the cut. */
void optimizer_step(optimizer *opt, network *net, double lr, int threads)
{
    opt->step++;
    step_job j = {opt, net, lr};
    fork_join(fork_join_threads(opt->total, threads, 1 << 16), step_share, &j);
}

void optimizer_free(optimizer *opt)
{
    if (opt->self)
        opt->plugin->optimizer->destroy(opt->self);
    free(opt->slot_mem);
    free(opt->slot_offset);
    memset(opt, 0, sizeof *opt);
}
