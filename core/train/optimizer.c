/* optimizer.c — see optimizer.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/fork_join.h"
#include "config/opts.h"
#include "train/optimizer.h"

static int read_schedule(const optimizer_cfg *cfg, double base_lr, int epochs, lr_schedule *s, strata_err *err)
{
    static const char *const kinds[] = {"constant", "step", "cosine", NULL};
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
    if (o.failed || opts_check_unused(&o, "optimizer.schedule"))
        return -1;
    return schedule_check(s, err);
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
    strata_opts o;
    opts_init(&o, cfg->opts, "optimizer", err);
    opt->self = opt->plugin->optimizer->create(&strata_host_table, &o);
    if (!opt->self) {
        if (!o.failed)
            opts_error(&o, NULL, "the %s optimizer refused its options", cfg->name);
        return -1;
    }
    char what[96];
    snprintf(what, sizeof what, "the %s optimizer", cfg->name);
    if (opts_check_unused(&o, what))
        return -1;
    opt->n_slots = opt->plugin->optimizer->num_slots ? opt->plugin->optimizer->num_slots(opt->self) : 0;
    return read_schedule(cfg, opt->plugin->optimizer->base_lr(opt->self), epochs, &opt->sched, err);
}

int optimizer_alloc(optimizer *opt, const network *net, strata_err *err)
{
    opt->total = net->total;
    if (opt->n_slots == 0)
        return 0;
    opt->slot_mem = calloc((size_t)opt->n_slots * net->total, sizeof(float));
    if (!opt->slot_mem)
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for the optimizer state (%d x %zu floats)",
                       opt->n_slots, net->total);
    return 0;
}

typedef struct step_job {
    optimizer *opt;
    network *net;
    double lr;
} step_job;

/* Share t of the network's flat parameter memory, tensor by tensor
 * (buffers skipped). */
static void step_share(void *arg, int t, int threads)
{
    const step_job *j = arg;
    optimizer *opt = j->opt;
    size_t begin, end;
    fork_join_range(j->net->total, t, threads, &begin, &end);
    float *slots[8];
    for (int i = 0; i < j->net->n_params; i++) {
        const net_param *p = &j->net->params[i];
        size_t b = p->offset > begin ? p->offset : begin;
        size_t e = p->offset + p->count < end ? p->offset + p->count : end;
        if ((p->desc.flags & STRATA_PARAM_BUFFER) || b >= e)
            continue;
        for (int k = 0; k < opt->n_slots && k < 8; k++)
            slots[k] = opt->slot_mem + (size_t)k * opt->total + b;
        opt->plugin->optimizer->update(opt->self, opt->step, j->lr, e - b, j->net->param_mem + b,
                                       j->net->grad_mem + b, slots);
    }
}

/* The update is element-wise (the ABI's contract), so the flat parameter
 * memory is cut into equal ranges, one per thread; the result does not
 * depend on the cut. */
void optimizer_step(optimizer *opt, network *net, double lr, int threads)
{
    opt->step++;
    step_job j = {opt, net, lr};
    fork_join(fork_join_threads(net->total, threads, 1 << 16), step_share, &j);
}

void optimizer_free(optimizer *opt)
{
    if (opt->self && opt->plugin->optimizer->destroy)
        opt->plugin->optimizer->destroy(opt->self);
    free(opt->slot_mem);
    memset(opt, 0, sizeof *opt);
}
