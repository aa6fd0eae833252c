/* checkpoint.c — see checkpoint.h */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store/checkpoint.h"
#include "store/safetensors.h"
#include "train/class_counts.h"

#define WEIGHTS_FORMAT "strata-weights-1"
#define STATE_FORMAT "strata-state-1"

/* ---- building an st_file -------------------------------------------------- */

static void add_meta(st_file *f, const char *key, const char *val)
{
    f->meta_keys = realloc(f->meta_keys, (f->n_meta + 1) * sizeof *f->meta_keys);
    f->meta_vals = realloc(f->meta_vals, (f->n_meta + 1) * sizeof *f->meta_vals);
    f->meta_keys[f->n_meta] = strdup(key);
    f->meta_vals[f->n_meta] = strdup(val ? val : "");
    f->n_meta++;
}

static void add_meta_num(st_file *f, const char *key, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    add_meta(f, key, buf);
}

/* A tensor copied from floats (as F32, or I64 for counters). */
static void add_tensor(st_file *f, const char *name, const strata_param_desc *d, const float *x, size_t count)
{
    f->t = realloc(f->t, (f->n + 1) * sizeof *f->t);
    st_tensor *t = &f->t[f->n++];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->ndim = d->ndim;
    for (int i = 0; i < d->ndim; i++)
        t->shape[i] = d->dims[i];
    if (d->flags & STRATA_PARAM_COUNT) {
        t->dtype = ST_I64;
        t->nbytes = count * sizeof(int64_t);
        int64_t *v = malloc(t->nbytes ? t->nbytes : 1);
        for (size_t i = 0; i < count; i++)
            v[i] = (int64_t)x[i];
        t->data = v;
    } else {
        t->dtype = ST_F32;
        t->nbytes = count * sizeof(float);
        t->data = malloc(t->nbytes ? t->nbytes : 1);
        memcpy(t->data, x, t->nbytes);
    }
}

/* ---- matching a tensor to a parameter ------------------------------------- */

static int same_shape(const st_tensor *t, const strata_param_desc *d)
{
    if (t->ndim != d->ndim)
        return 0;
    for (int i = 0; i < d->ndim; i++)
        if (t->shape[i] != d->dims[i])
            return 0;
    return 1;
}

/* "[5, 128]" */
static void shape_text(int ndim, const int64_t *dims, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%" PRId64, i ? ", " : "", dims[i]);
    if (len < size)
        snprintf(buf + len, size - len, "]");
}

static int copy_tensor(const char *path, const st_tensor *t, const strata_param_desc *d, float *x, size_t count,
                       strata_err *err)
{
    int want = (d->flags & STRATA_PARAM_COUNT) ? ST_I64 : ST_F32;
    if (t->dtype == ST_I64 && want == ST_I64) {
        for (size_t i = 0; i < count; i++)
            x[i] = (float)((const int64_t *)t->data)[i];
        return 0;
    }
    if (t->dtype != ST_F32)
        return err_set(err, STRATA_ERR_CONFIG, "%s: tensor %s is %s, expected F32", path, t->name,
                       st_dtype_name(t->dtype));
    memcpy(x, t->data, count * sizeof(float));
    return 0;
}

/* ---- weights -------------------------------------------------------------- */

int checkpoint_save_weights(const char *path, const network *net, const char *const *classes, int n_classes,
                            const char *experiment_yaml, const train_state *st, strata_err *err)
{
    st_file f = {0};
    for (int i = 0; i < net->n_params; i++) {
        const net_param *p = &net->params[i];
        add_tensor(&f, p->name, &p->desc, net->param_mem + p->offset, p->count);
    }
    size_t len = 1;
    for (int i = 0; i < n_classes; i++)
        len += strlen(classes[i]) + 1;
    char *cls = calloc(1, len);
    for (int i = 0; i < n_classes; i++) {
        strcat(cls, classes[i]);
        if (i + 1 < n_classes)
            strcat(cls, "\n");
    }
    add_meta(&f, "format", WEIGHTS_FORMAT);
    add_meta(&f, "model", net->spec->desc);
    add_meta(&f, "classes", cls);
    add_meta(&f, "experiment", experiment_yaml);
    add_meta_num(&f, "epoch", st->epoch);
    add_meta_num(&f, "val_acc", st->val_acc);
    add_meta_num(&f, "step", (double)st->step);
    if (st->id[0])
        add_meta(&f, "checkpoint_id", st->id);
    free(cls);
    int rc = st_write(path, &f, err);
    st_free(&f);
    return rc;
}

int checkpoint_load_weights(const char *path, network *net, int strict, int *skipped, strata_err *err)
{
    st_file f;
    char shape[128];
    if (st_read(path, &f, err))
        return -1;
    int rc = 0, used = 0;
    *skipped = 0;
    for (int i = 0; i < net->n_params && !rc; i++) {
        net_param *p = &net->params[i];
        const st_tensor *t = st_find(&f, p->name);
        if (t)
            used++;
        if (t && same_shape(t, &p->desc)) {
            rc = copy_tensor(path, t, &p->desc, net->param_mem + p->offset, p->count, err);
            continue;
        }
        if (!strict) {
            (*skipped)++;
            continue;
        }
        if (!t)
            rc = err_set(err, STRATA_ERR_CONFIG, "%s: no tensor %s (a checkpoint of another model? model is %s)",
                         path, p->name, net->spec->desc);
        else {
            char want[128];
            shape_text(t->ndim, t->shape, shape, sizeof shape);
            shape_text(p->desc.ndim, p->desc.dims, want, sizeof want);
            rc = err_set(err, STRATA_ERR_CONFIG, "%s: tensor %s has shape %s, the model's is %s (another model "
                         "or num_classes?)", path, p->name, shape, want);
        }
    }
    if (!rc && strict && used != f.n)
        rc = err_set(err, STRATA_ERR_CONFIG, "%s: %d tensors are not parameters of this %s model", path, f.n - used,
                     net->spec->desc);
    st_free(&f);
    return rc;
}

char *checkpoint_classes(const char *path, strata_err *err)
{
    st_file f;
    if (st_read_meta(path, &f, err))
        return NULL;
    const char *c = st_meta(&f, "classes");
    char *out = c ? strdup(c) : NULL;
    if (!out)
        err_set(err, STRATA_ERR_CONFIG, "%s: no class names in the metadata", path);
    st_free(&f);
    return out;
}

/* ---- training state ------------------------------------------------------- */

/* The epoch's results row as metadata "row.train_loss" ... (%.17g: exact). */
static const char *const row_keys[] = {"row.train_loss", "row.train_acc", "row.val_loss",     "row.val_acc",
                                       "row.lr",         "row.seconds",   "row.images_per_sec"};
enum { N_ROW_KEYS = sizeof row_keys / sizeof row_keys[0] };

static double *row_field(epoch_row *r, int i)
{
    double *f[N_ROW_KEYS] = {&r->train_loss, &r->train_acc, &r->val_loss,      &r->val_acc,
                             &r->lr,         &r->seconds,   &r->images_per_sec};
    return f[i];
}

/* k counts as "8,8,8" (NULL when out of memory). */
static char *counts_text(const long *v, int k)
{
    char *t = malloc((size_t)k * 21 + 1), *p = t;
    for (int i = 0; t && i < k; i++)
        p += sprintf(p, "%s%ld", i ? "," : "", v[i]);
    if (t)
        *p = 0;
    return t;
}

static void add_class_meta(st_file *f, const class_counts *c)
{
    char *n = counts_text(c->n, c->k), *correct = counts_text(c->correct, c->k);
    if (n && correct) {
        add_meta(f, "row.class_n", n);
        add_meta(f, "row.class_correct", correct);
    }
    free(n);
    free(correct);
}

static void add_row_meta(st_file *f, const train_state *st)
{
    epoch_row r = st->row;
    for (int i = 0; i < N_ROW_KEYS; i++)
        add_meta_num(f, row_keys[i], *row_field(&r, i));
    if (st->counts && st->counts->k > 0)
        add_class_meta(f, st->counts);
}

/* The number of comma-separated counts in text (-1 when not such a list). */
static int count_list_len(const char *text)
{
    int k = 0;
    for (const char *p = text; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        char *end;
        if (*p < '0' || *p > '9' || strtol(p, &end, 10) < 0 || (*end && *end != ','))
            return -1;
        k++;
    }
    return k;
}

static void parse_counts(const char *text, long *v)
{
    char *end;
    for (int i = 0; *text; i++, text = *end ? end + 1 : end)
        v[i] = strtol(text, &end, 10);
}

/* The row's counts per class into st->counts: k = 0 when the file has none
 * (an older strata) or they do not read as two lists of one length. */
static int read_class_meta(const st_file *f, train_state *st, strata_err *err)
{
    const char *n = st_meta(f, "row.class_n"), *correct = st_meta(f, "row.class_correct");
    int k = n && correct ? count_list_len(n) : -1;
    if (k <= 0 || count_list_len(correct) != k) {
        class_counts_free(st->counts);
        return 0;
    }
    if (class_counts_reset(st->counts, k, err))
        return -1;
    parse_counts(n, st->counts->n);
    parse_counts(correct, st->counts->correct);
    return 0;
}

/* The row, when every key is there and a number; else has_row = 0. */
static void read_row_meta(const st_file *f, train_state *st)
{
    st->has_row = 0;
    for (int i = 0; i < N_ROW_KEYS; i++) {
        const char *v = st_meta(f, row_keys[i]);
        char *end;
        if (!v)
            return;
        *row_field(&st->row, i) = strtod(v, &end);
        if (end == v || *end)
            return;
    }
    st->row.epoch = st->epoch;
    st->has_row = 1;
}

static void read_id_meta(const st_file *f, train_state *st)
{
    const char *id = st_meta(f, "checkpoint_id");
    snprintf(st->id, sizeof st->id, "%s", id ? id : "");
}

/* The counters of early stopping and of the plateau schedule (%.17g: exact;
 * +-inf as "inf"). */
static void add_progress_meta(st_file *f, const train_state *st, const lr_schedule *sched)
{
    add_meta_num(f, "early_stop.best", st->es.best);
    add_meta_num(f, "early_stop.best_epoch", st->es.best_epoch);
    add_meta_num(f, "early_stop.bad_epochs", st->es.bad_epochs);
    if (sched->kind != SCHED_PLATEAU)
        return;
    add_meta_num(f, "plateau.base_lr", sched->base_lr);
    add_meta_num(f, "plateau.best", sched->plateau.best);
    add_meta_num(f, "plateau.lr", sched->plateau.lr);
    add_meta_num(f, "plateau.num_bad_epochs", sched->plateau.num_bad_epochs);
    add_meta_num(f, "plateau.cooldown_counter", sched->plateau.cooldown_counter);
}

/* A number that may be missing (*out unchanged, 0) or present (1); -1 when
 * not a number. */
static int meta_optional(const st_file *f, const char *path, const char *key, double *out, strata_err *err);

/* Read them back. A state file without them (an older strata, or a
 * schedule switched to plateau with -s on resume) leaves the counters at
 * their start; a plateau run resumed with another optimizer.lr (-s) goes
 * on from that lr, its counters kept. */
static int read_progress_meta(const st_file *f, const char *path, train_state *st, lr_schedule *sched,
                              strata_err *err)
{
    enum { N = 8 };
    double v[N] = {0};
    static const char *const keys[N] = {"early_stop.best", "early_stop.best_epoch", "early_stop.bad_epochs",
                                        "plateau.best", "plateau.lr", "plateau.num_bad_epochs",
                                        "plateau.cooldown_counter", "plateau.base_lr"};
    int have[N];
    for (int i = 0; i < N; i++)
        if ((have[i] = meta_optional(f, path, keys[i], &v[i], err)) < 0)
            return -1;
    if (have[0] && have[1] && have[2])
        st->es = (early_stop_state){.best = v[0], .best_epoch = (int)v[1], .bad_epochs = (int)v[2]};
    if (sched->kind != SCHED_PLATEAU || !(have[3] && have[4] && have[5] && have[6]))
        return 0;
    int same_lr = have[7] && v[7] == sched->base_lr;
    sched->plateau = (plateau_state){.best = v[3], .lr = same_lr ? v[4] : sched->base_lr,
                                     .num_bad_epochs = (int)v[5], .cooldown_counter = (int)v[6]};
    return 0;
}

int checkpoint_save_state(const char *path, const network *net, const optimizer *opt, const train_state *st,
                          strata_err *err)
{
    st_file f = {0};
    char name[256];
    for (int i = 0; i < net->n_params; i++) {
        const net_param *p = &net->params[i];
        if (p->desc.flags & STRATA_PARAM_BUFFER)
            continue;
        for (int s = 0; s < opt->n_slots; s++) {
            snprintf(name, sizeof name, "%s.%s", p->name, opt->plugin->optimizer->slot_name(opt->self, s));
            add_tensor(&f, name, &p->desc, optimizer_slot(opt, s, i), p->count);
        }
    }
    add_meta(&f, "format", STATE_FORMAT);
    add_meta(&f, "optimizer", opt->plugin->name);
    add_meta_num(&f, "epoch", st->epoch);
    add_meta_num(&f, "step", (double)st->step);
    add_meta(&f, "best_monitor", monitor_names[st->best_monitor]);
    add_meta_num(&f, "best_value", st->best_value);
    add_meta_num(&f, "best_epoch", st->best_epoch);
    add_progress_meta(&f, st, &opt->sched);
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, st->seed);
    add_meta(&f, "seed", seed);
    if (st->id[0])
        add_meta(&f, "checkpoint_id", st->id);
    if (st->has_row)
        add_row_meta(&f, st);
    int rc = st_write(path, &f, err);
    st_free(&f);
    return rc;
}

/* Has f no optimizer slot at all for parameter p (frozen when f was saved)? */
static int slots_absent(const st_file *f, const net_param *p, const optimizer *opt)
{
    char name[256];
    for (int s = 0; s < opt->n_slots; s++) {
        snprintf(name, sizeof name, "%s.%s", p->name, opt->plugin->optimizer->slot_name(opt->self, s));
        if (st_find(f, name))
            return 0;
    }
    return 1;
}

/* Parameter i's slots from f. A parameter with none of them (its layer was
 * in model.freeze when f was saved) keeps zeroed slots and is counted in
 * st->n_unsaved; one slot missing or of another shape is an error. */
static int load_slots(const st_file *f, const char *path, const network *net, optimizer *opt, int i, train_state *st,
                      strata_err *err)
{
    const net_param *p = &net->params[i];
    char name[256];
    if (opt->n_slots > 0 && slots_absent(f, p, opt)) {
        if (!st->n_unsaved++)
            snprintf(st->first_unsaved, sizeof st->first_unsaved, "%s", p->name);
        return 0;
    }
    for (int s = 0; s < opt->n_slots; s++) {
        snprintf(name, sizeof name, "%s.%s", p->name, opt->plugin->optimizer->slot_name(opt->self, s));
        const st_tensor *t = st_find(f, name);
        if (!t || !same_shape(t, &p->desc))
            return err_set(err, STRATA_ERR_CONFIG, "%s: optimizer state %s missing or of another shape", path, name);
        if (copy_tensor(path, t, &p->desc, optimizer_slot(opt, s, i), p->count, err))
            return -1;
    }
    return 0;
}

static int meta_number(const st_file *f, const char *path, const char *key, double *out, strata_err *err)
{
    const char *v = st_meta(f, key);
    char *end;
    if (!v)
        return err_set(err, STRATA_ERR_CONFIG, "%s: metadata '%s' missing (not a strata state file?)", path, key);
    *out = strtod(v, &end);
    if (end == v || *end)
        return err_set(err, STRATA_ERR_CONFIG, "%s: metadata '%s' is '%s', expected a number", path, key, v);
    return 0;
}

static int meta_optional(const st_file *f, const char *path, const char *key, double *out, strata_err *err)
{
    if (!st_meta(f, key))
        return 0;
    return meta_number(f, path, key, out, err) ? -1 : 1;
}

int checkpoint_epoch(const char *path, int *epoch, strata_err *err)
{
    st_file f;
    double v = 0;
    if (st_read_meta(path, &f, err))
        return -1;
    int rc = meta_optional(&f, path, "epoch", &v, err);
    st_free(&f);
    if (rc < 0)
        return -1;
    if (v < 0 || v > 1e9 || v != (int)v)
        return err_set(err, STRATA_ERR_CONFIG, "%s: metadata 'epoch' is %g, expected a whole number >= 0", path, v);
    *epoch = (int)v;
    return 0;
}

/* The best value: best_value (with best_monitor), or best_val_acc from a
 * strata before train.checkpoint_monitor. */
static int read_best_meta(const st_file *f, const char *path, train_state *st, strata_err *err)
{
    const char *m = st_meta(f, "best_monitor");
    st->best_monitor = m && !strcmp(m, monitor_names[MONITOR_VAL_LOSS]) ? MONITOR_VAL_LOSS : MONITOR_VAL_ACC;
    return meta_number(f, path, st_meta(f, "best_value") ? "best_value" : "best_val_acc", &st->best_value, err);
}

int checkpoint_load_state(const char *path, const network *net, optimizer *opt, train_state *st, strata_err *err)
{
    st_file f;
    if (st_read(path, &f, err))
        return -1;
    double epoch = 0, step = 0, best_epoch = 0;
    const char *fmt = st_meta(&f, "format"), *oname = st_meta(&f, "optimizer"), *seed = st_meta(&f, "seed");
    int rc = 0;
    if (!fmt || strcmp(fmt, STATE_FORMAT))
        rc = err_set(err, STRATA_ERR_CONFIG, "%s: not a strata state file (format %s)", path, fmt ? fmt : "missing");
    else if (!oname || strcmp(oname, opt->plugin->name))
        rc = err_set(err, STRATA_ERR_CONFIG, "%s: state of optimizer %s, the run uses %s", path,
                     oname ? oname : "?", opt->plugin->name);
    else if (meta_number(&f, path, "epoch", &epoch, err) || meta_number(&f, path, "step", &step, err) ||
             read_best_meta(&f, path, st, err) || meta_number(&f, path, "best_epoch", &best_epoch, err) ||
             read_progress_meta(&f, path, st, &opt->sched, err))
        rc = -1;
    st->n_unsaved = 0;
    if (!rc && opt->n_slots > 0 && f.n == 0)
        rc = err_set(err, STRATA_ERR_CONFIG, "%s: no optimizer state tensors (expected the %s optimizer's)", path,
                     opt->plugin->name);
    for (int i = 0; i < net->n_params && !rc; i++)
        if (!(net->params[i].desc.flags & STRATA_PARAM_BUFFER))
            rc = load_slots(&f, path, net, opt, i, st, err);
    if (!rc) {
        st->epoch = (int)epoch;
        st->step = (int64_t)step;
        st->best_epoch = (int)best_epoch;
        st->seed = seed ? strtoull(seed, NULL, 10) : 0;
        read_id_meta(&f, st);
        read_row_meta(&f, st);
        opt->step = st->step;
        if (st->counts)
            rc = read_class_meta(&f, st, err);
    }
    st_free(&f);
    return rc;
}

static int make_dir(const char *d, strata_err *err)
{
    if (mkdir(d, 0777) && errno != EEXIST)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot create the directory: %s", d, strerror(errno));
    return 0;
}

int checkpoint_dir(const char *results_dir, int64_t run_id, char *dir, size_t size, strata_err *err)
{
    char base[4096];
    snprintf(base, sizeof base, "%s/checkpoints", results_dir);
    snprintf(dir, size, "%s/%" PRId64, base, run_id);
    if (make_dir(results_dir, err) || make_dir(base, err) || make_dir(dir, err))
        return -1;
    return 0;
}

/* ---- the crash-test hook ---------------------------------------------------- */

/* Does env var `var` (NAME[:K]) name this point for the K-th time? */
static int hook_hit(const char *var, const char *name, int *calls)
{
    const char *want = getenv(var);
    size_t n = strlen(name);
    if (!want || strncmp(want, name, n) || (want[n] && want[n] != ':'))
        return 0;
    int k = want[n] == ':' ? atoi(want + n + 1) : 1;
    return ++*calls == k;
}

void checkpoint_crash_point(const char *name)
{
    static int kills, stops;
    if (hook_hit("STRATA_CRASH_AT", name, &kills))
        raise(SIGKILL);
    if (hook_hit("STRATA_STOP_AT", name, &stops))
        raise(SIGSTOP);
}

/* ---- a checkpoint as one unit ------------------------------------------------ */

/* A new id: the epoch, the step and 64 bits from the clock and the pid (two
 * saves of one epoch, e.g. a resumed epoch, get different ids). */
static void new_id(train_state *st)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 40);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    snprintf(st->id, sizeof st->id, "e%d-s%" PRId64 "-%016" PRIx64, st->epoch, st->step, x);
}

static int sync_dir(const char *dir, strata_err *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int rc = fd < 0 ? -1 : fsync(fd);
    if (fd >= 0)
        close(fd);
    if (rc)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot sync the directory: %s", dir, strerror(errno));
    return 0;
}

/* rename dir/from over dir/to; a missing `from` is fine when may_miss. */
static int rename_in(const char *dir, const char *from, const char *to, int may_miss, strata_err *err)
{
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/%s", dir, from);
    snprintf(b, sizeof b, "%s/%s", dir, to);
    if (rename(a, b) == 0 || (may_miss && errno == ENOENT))
        return 0;
    return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot rename it to %s: %s", a, to, strerror(errno));
}

int checkpoint_save_pair(const char *dir, const network *net, const optimizer *opt, const char *const *classes,
                         int n_classes, const char *experiment_yaml, train_state *st, strata_err *err)
{
    char path[4200];
    new_id(st);
    snprintf(path, sizeof path, "%s/next.safetensors", dir);
    if (checkpoint_save_weights(path, net, classes, n_classes, experiment_yaml, st, err))
        return -1;
    checkpoint_crash_point("next-weights");
    snprintf(path, sizeof path, "%s/next.state.safetensors", dir);
    if (checkpoint_save_state(path, net, opt, st, err))
        return -1;
    checkpoint_crash_point("next-state");
    if (rename_in(dir, "last.safetensors", "prev.safetensors", 1, err) ||
        rename_in(dir, "last.state.safetensors", "prev.state.safetensors", 1, err))
        return -1;
    checkpoint_crash_point("rotated");
    if (rename_in(dir, "next.safetensors", "last.safetensors", 0, err))
        return -1;
    checkpoint_crash_point("last-weights");
    if (rename_in(dir, "next.state.safetensors", "last.state.safetensors", 0, err) || sync_dir(dir, err))
        return -1;
    checkpoint_crash_point("checkpoint");
    return 0;
}

/* What a checkpoint file says about itself. */
typedef struct ckpt_file {
    const char *name;
    int present, is_state;
    train_state st;
} ckpt_file;

static int read_ckpt_meta(const char *dir, ckpt_file *c, strata_err *err)
{
    char path[4200];
    st_file f;
    double v = 0;
    snprintf(path, sizeof path, "%s/%s", dir, c->name);
    if (access(path, F_OK))
        return 0;
    if (st_read_meta(path, &f, err))
        return -1;
    c->present = 1;
    memset(&c->st, 0, sizeof c->st);
    int rc = meta_number(&f, path, "epoch", &v, err);
    c->st.epoch = (int)v;
    if (!rc && st_meta(&f, "step")) {
        rc = meta_number(&f, path, "step", &v, err);
        c->st.step = (int64_t)v;
    } else
        c->st.step = -1; /* weights written before strata recorded the step */
    read_id_meta(&f, &c->st);
    if (c->is_state) {
        read_row_meta(&f, &c->st);
        if (!rc && read_best_meta(&f, path, &c->st, err))
            rc = -1;
    }
    st_free(&f);
    return rc;
}

/* Weights w and state s form a pair: same id (or both without one, from an
 * older strata: same epoch), same epoch and step. */
static int is_pair(const ckpt_file *w, const ckpt_file *s)
{
    if (!w->present || !s->present || w->st.epoch != s->st.epoch)
        return 0;
    if (w->st.step >= 0 && w->st.step != s->st.step)
        return 0;
    return !strcmp(w->st.id, s->st.id);
}

int checkpoint_find_pair(const char *dir, char *weights, char *state, size_t size, train_state *st, int *n_newer,
                         strata_err *err)
{
    static const char *const names[3] = {"next", "last", "prev"};
    char wname[3][32], sname[3][32];
    ckpt_file w[3], s[3];
    for (int i = 0; i < 3; i++) {
        snprintf(wname[i], sizeof wname[i], "%s.safetensors", names[i]);
        snprintf(sname[i], sizeof sname[i], "%s.state.safetensors", names[i]);
        w[i] = (ckpt_file){.name = wname[i]};
        s[i] = (ckpt_file){.name = sname[i], .is_state = 1};
    }
    int any = 0, bw = -1, bs = -1;
    for (int i = 0; i < 3; i++) {
        if (read_ckpt_meta(dir, &w[i], err) || read_ckpt_meta(dir, &s[i], err))
            return -1;
        any |= w[i].present | s[i].present;
    }
    if (!any)
        return err_set(err, STRATA_ERR_RUNTIME, "%s/last.safetensors: no checkpoint to resume from", dir), 1;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (is_pair(&w[i], &s[j]) && (bw < 0 || w[i].st.epoch > w[bw].st.epoch))
                bw = i, bs = j;
    if (bw < 0) /* e.g. killed while writing the first checkpoint */
        return err_set(err, STRATA_ERR_RUNTIME, "%s: no weights and optimizer state of one checkpoint (same id, "
                       "epoch and step) in last.safetensors, last.state.safetensors or their prev./next. copies; "
                       "refusing to mix them", dir), 1;
    *n_newer = 0;
    for (int i = 0; i < 3; i++)
        *n_newer += (w[i].present && w[i].st.epoch > w[bw].st.epoch) + (s[i].present && s[i].st.epoch > s[bs].st.epoch);
    snprintf(weights, size, "%s/%s", dir, w[bw].name);
    snprintf(state, size, "%s/%s", dir, s[bs].name);
    *st = s[bs].st;
    return 0;
}

/* Move one file of the chosen pair to its last.* name without overwriting
 * the other file of that pair: from next.* (last.* moves to prev.* first)
 * or from prev.* (over a last.* that is not part of it). */
static int adopt_one(const char *dir, const char *chosen, const char *kind, strata_err *err)
{
    char last[64], prev[64], next[64];
    const char *base = strrchr(chosen, '/') ? strrchr(chosen, '/') + 1 : chosen;
    snprintf(last, sizeof last, "last%s", kind);
    snprintf(prev, sizeof prev, "prev%s", kind);
    snprintf(next, sizeof next, "next%s", kind);
    if (!strcmp(base, last))
        return 0;
    if (!strcmp(base, next))
        return rename_in(dir, last, prev, 1, err) || rename_in(dir, next, last, 0, err) ? -1 : 0;
    return rename_in(dir, base, last, 0, err);
}

int checkpoint_adopt_pair(const char *dir, const char *weights, const char *state, strata_err *err)
{
    if (adopt_one(dir, weights, ".safetensors", err) || adopt_one(dir, state, ".state.safetensors", err))
        return -1;
    return sync_dir(dir, err);
}
