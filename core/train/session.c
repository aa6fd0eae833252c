/* session.c — see session.h */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "data/augment_config.h"
#include "store/checkpoint.h"
#include "train/blas_select.h"
#include "train/early_stop.h"
#include "train/session.h"
#include "store/params.h"

static volatile sig_atomic_t stop_requested, stop_signal;

static void on_signal(int sig)
{
    stop_requested = 1;
    stop_signal = sig;
}

const char *session_stop_signal(void)
{
    return stop_signal == SIGINT ? "SIGINT" : stop_signal == SIGTERM ? "SIGTERM" : NULL;
}

void session_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int session_stopping(void)
{
    return stop_requested != 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The data sets: one root split by val_fraction, or two folders. */
static int load_data(session *s, strata_err *err)
{
    const data_cfg *d = &s->x.data;
    if (!d->root && !d->train)
        return err_set(err, STRATA_ERR_CONFIG, "%s: data: expected root (one folder of class folders) or train and "
                       "val folders", s->x.path);
    if (d->root) {
        if (dataset_scan_max(d->root, d->max_pixels, &s->all, err))
            return -1;
        return dataset_split(&s->all, d->val_fraction, d->split_seed, &s->train, &s->val, err);
    }
    if (dataset_scan_max(d->train, d->max_pixels, &s->train, err) || dataset_scan_max(d->val, d->max_pixels, &s->val, err))
        return -1;
    if (s->train.num_classes != s->val.num_classes)
        return err_set(err, STRATA_ERR_CONFIG, "data: %s has %d classes but %s has %d", d->train,
                       s->train.num_classes, d->val, s->val.num_classes);
    for (int i = 0; i < s->train.num_classes; i++)
        if (strcmp(s->train.classes[i], s->val.classes[i]))
            return err_set(err, STRATA_ERR_CONFIG, "data: class %d is '%s' in %s but '%s' in %s", i,
                           s->train.classes[i], d->train, s->val.classes[i], d->val);
    return 0;
}

/* model.weights: initialise from a safetensors file (fine-tuning). */
static int load_initial_weights(session *s, strata_err *err)
{
    const model_spec *m = &s->x.model;
    if (!m->weights[0])
        return 0;
    int skipped;
    if (checkpoint_load_weights(m->weights, &s->m.net, m->weights_strict, &skipped, err))
        return -1;
    if (skipped)
        fprintf(stderr, "strata: %s: %d tensors missing or of another shape were left as initialised "
                        "(model.strict: false)\n", m->weights, skipped);
    return 0;
}

static int check_classes(session *s, strata_err *err)
{
    const net_layer *last = &s->m.net.layers[s->m.net.n_layers - 1];
    size_t outputs = shape_size(last->out);
    if (outputs != (size_t)s->train.num_classes)
        return err_set(err, STRATA_ERR_CONFIG, "%s: model gives %zu outputs but the data has %d classes "
                       "(set model.num_classes: %d)", s->x.path, outputs, s->train.num_classes,
                       s->train.num_classes);
    if (s->val.n == 0)
        return err_set(err, STRATA_ERR_CONFIG, "%s: the validation split is empty (data.val_fraction too small?)",
                       s->x.path);
    return 0;
}

/* The network, optimizer and augmentation of s->x: every option checked. */
static int build_parts(session *s, strata_err *err)
{
    const model_spec *m = &s->x.model;
    return assembly_create(&s->m, &s->x, &s->reg, 1, err) ||
                   augment_config(s->x.augment_train, "augment.train", m->in_h, m->in_w, &s->aug_train, err) ||
                   augment_config(s->x.augment_val, "augment.val", m->in_h, m->in_w, &s->aug_val, err)
               ? -1
               : 0;
}

int session_check_tree(ynode *root, const char *path, const char *plugin_dir, strata_err *err)
{
    session s;
    memset(&s, 0, sizeof s);
    plugins_init(&s.reg, plugin_dir);
    int rc = experiment_from_tree(root, path, &s.x, err) || build_parts(&s, err) ? -1 : 0;
    session_free(&s);
    return rc;
}

/* Everything after the experiment is loaded. */
static int session_setup(session *s, strata_err *err)
{
    const model_spec *m = &s->x.model;
    const train_cfg *t = &s->x.train;
    const char *path = s->x.path;
    if (build_parts(s, err))
        return -1;
    if (m->in_c != 3)
        return err_set(err, STRATA_ERR_CONFIG, "%s: model.in_channels is %d, images have 3 (RGB)", path, m->in_c);
    if (load_data(s, err) || check_classes(s, err))
        return -1;
    blas_set_threads(t->threads);
    assembly_cfg cfg = {.batch = t->batch_size, .threads = t->threads, .init_params = 1};
    if (assembly_alloc(&s->m, &s->x, &cfg, err))
        return -1;
    if (load_initial_weights(s, err))
        return -1;
    int workers = s->x.data.workers ? s->x.data.workers : t->threads;
    s->labels = calloc(t->batch_size, sizeof *s->labels);
    if (loader_open(&s->train_loader, &s->train, &s->aug_train, t->batch_size, 1, seed_stream_of(t->seed, SEED_TRAIN_DATA), workers,
                    m->in_h, m->in_w, err) ||
        loader_open(&s->val_loader, &s->val, &s->aug_val, t->batch_size, 0, seed_stream_of(t->seed, SEED_VAL_DATA), workers, m->in_h,
                    m->in_w, err))
        return -1;
    s->progress_bar = isatty(STDERR_FILENO);
    s->state.seed = t->seed;
    s->state.best_monitor = t->checkpoint_monitor;
    s->state.counts = &s->val_counts; /* saved with each checkpoint's row */
    return 0;
}

int session_prepare(session *s, const char *path, char *const *sets, int n_sets, const char *plugin_dir,
                    strata_err *err)
{
    memset(s, 0, sizeof *s);
    plugins_init(&s->reg, plugin_dir);
    if (experiment_load(path, sets, n_sets, &s->x, err))
        return -1;
    return session_setup(s, err);
}

int session_prepare_tree(session *s, ynode *root, const char *path, const char *plugin_dir, strata_err *err)
{
    memset(s, 0, sizeof *s);
    plugins_init(&s->reg, plugin_dir);
    if (experiment_from_tree(root, path, &s->x, err))
        return -1;
    return session_setup(s, err);
}

int session_record_data(session *s, strata_err *err)
{
    char **reasons = calloc(s->all.num_skipped + 1, sizeof *reasons);
    for (int i = 0; i < s->all.num_skipped; i++)
        reasons[i] = "not a readable image";
    int rc = results_run_classes(s->db, s->run_id, s->train.num_classes, s->train.classes, err) ||
             results_run_samples(s->db, s->run_id, "train", s->train.n, s->train.paths, s->train.labels, err) ||
             results_run_samples(s->db, s->run_id, "val", s->val.n, s->val.paths, s->val.labels, err) ||
             results_run_skipped(s->db, s->run_id, s->all.num_skipped, s->all.skipped, reasons, err);
    free(reasons);
    return rc ? -1 : 0;
}

const char *session_config(session *s)
{
    if (!s->config)
        s->config = ynode_emit(s->x.root);
    return s->config;
}

int session_begin_run(session *s, const char *name, strata_err *err)
{
    if (results_open(s->x.results.db_path, &s->db, err))
        return -1;
    const char *config = session_config(s);
    run_info info = {.name = name ? name : s->x.name,
                     .sweep_id = s->sweep_id,
                     .sweep_point = s->sweep_point,
                     .experiment = s->x.path,
                     .config = config,
                     .model = s->x.model.desc,
                     .seed = (int64_t)s->x.train.seed,
                     .params = network_trainable(&s->m.net)};
    int rc = results_run_begin(s->db, &info, &s->run_id, err);
    if (rc || results_run_params(s->db, s->run_id, s->x.root, err) || session_record_data(s, err))
        return -1;
    return 0;
}

static void show_progress(const session *s, int epoch, int last, int batch, int nb, double loss, double ips,
                          double eta)
{
    if (!s->progress_bar)
        return;
    fprintf(stderr, "\r\033[Kepoch %d/%d  batch %d/%d  loss %.4f  %.1f img/s  ETA %dm%02ds", epoch, last, batch, nb,
            loss, ips, (int)eta / 60, (int)eta % 60);
    fflush(stderr);
}

/* Every RESULTS_HEARTBEAT_SECONDS: the run's heartbeat_at (so other hosts
 * can tell a live run from a dead one). A failure is warned about once;
 * training goes on (the epoch's row meets a lasting database error). */
static void heartbeat(session *s)
{
    double t = now();
    if (!s->db || t - s->last_beat < RESULTS_HEARTBEAT_SECONDS)
        return;
    s->last_beat = t;
    strata_err e = {0};
    if (results_heartbeat(s->db, s->run_id, &e) && !s->beat_warned++)
        fprintf(stderr, "strata: warning: %s (training goes on)\n", e.msg);
}

/* One pass over the training set. */
static int train_epoch(session *s, int epoch, int last, double lr, epoch_row *row, strata_err *err)
{
    double t0 = now(), loss_sum = 0;
    long seen = 0, correct = 0;
    int nb = loader_num_batches(s->train_loader), b = 0, n;
    if (loader_start_epoch(s->train_loader, epoch - 1, err))
        return -1;
    while ((n = loader_next(s->train_loader, trainer_input(&s->m.tr), s->labels, err)) > 0) {
        int ok;
        double loss = trainer_train_step(&s->m.tr, &s->m.opt, s->labels, n, lr, s->x.train.label_smoothing, &ok);
        if (!isfinite(loss))
            return err_set(err, STRATA_ERR_RUNTIME, "epoch %d batch %d: the loss is %g (diverged; lower the "
                           "learning rate?)", epoch, b + 1, loss);
        loss_sum += loss * n;
        seen += n;
        correct += ok;
        b++;
        double dt = now() - t0;
        show_progress(s, epoch, last, b, nb, loss_sum / seen, seen / dt, dt / b * (nb - b));
        heartbeat(s);
        if (stop_requested)
            return 1;
    }
    if (n < 0)
        return -1;
    row->train_loss = loss_sum / seen;
    row->train_acc = (double)correct / seen;
    row->images_per_sec = seen / (now() - t0);
    return 0;
}

static int eval_epoch(session *s, epoch_row *row, strata_err *err)
{
    double loss_sum = 0;
    long seen = 0, correct = 0;
    int n;
    if (loader_start_epoch(s->val_loader, 0, err) || class_counts_reset(&s->val_counts, s->train.num_classes, err))
        return -1;
    while ((n = loader_next(s->val_loader, trainer_input(&s->m.tr), s->labels, err)) > 0) {
        int ok;
        loss_sum += trainer_eval_step(&s->m.tr, s->labels, n, &ok) * n;
        class_counts_add(&s->val_counts, &s->m.tr, s->labels, n);
        seen += n;
        correct += ok;
        heartbeat(s);
        if (stop_requested)
            return 1;
    }
    if (n < 0)
        return -1;
    row->val_loss = loss_sum / seen;
    row->val_acc = (double)correct / seen;
    return 0;
}

/* Epoch e's checkpoint, before its row: best.safetensors when
 * train.checkpoint_monitor improved (or on the run's first epoch), then the weights + optimizer state pair (checkpoint_save_pair,
 * carrying the row). A crash before the pair is complete leaves the previous
 * pair (the epoch is trained again, to the same bits); a crash after it
 * leaves a pair one epoch ahead of the database, whose row resume records. */
static int save_checkpoints(session *s, const epoch_row *row, char *dir, size_t size, strata_err *err)
{
    char path[4200];
    int e = row->epoch;
    s->state.epoch = e;
    s->state.step = s->m.opt.step;
    s->state.val_acc = row->val_acc;
    s->state.row = *row;
    s->state.has_row = 1;
    monitor_kind m = s->state.best_monitor;
    double v = monitor_value(m, row);
    int improved = s->state.best_epoch == 0 || monitor_improves(m, v, s->state.best_value, 0.0);
    if (improved) {
        s->state.best_value = v;
        s->state.best_epoch = e;
    }
    if (checkpoint_dir(s->x.results.dir, s->run_id, dir, size, err))
        return -1;
    const char *yaml = session_config(s);
    const char *const *classes = (const char *const *)s->train.classes;
    s->state.id[0] = 0;
    snprintf(path, sizeof path, "%s/best.safetensors", dir);
    if (improved && checkpoint_save_weights(path, &s->m.net, classes, s->train.num_classes, yaml, &s->state, err))
        return -1;
    checkpoint_crash_point("best");
    return checkpoint_save_pair(dir, &s->m.net, &s->m.opt, classes, s->train.num_classes, yaml, &s->state, err);
}

/* The epoch's row, after its checkpoint. When the database refuses it (kept
 * locked past the busy timeout, disk full), the checkpoint stays and says
 * so: `strata resume` records the row from it. */
static int commit_epoch(session *s, const epoch_row *row, strata_err *err)
{
    char dir[4096];
    if (save_checkpoints(s, row, dir, sizeof dir, err))
        return -1;
    strata_err dbe = {0};
    class_tally per_class = class_counts_tally(&s->val_counts, s->train.classes);
    if (results_epoch_with_classes(s->db, s->run_id, row, &per_class, &dbe))
        return err_set(err, dbe.status, "%s; epoch %d's checkpoint is saved in %s and `strata resume %lld "
                       "--epochs N` records the epoch from it", dbe.msg, row->epoch, dir, (long long)s->run_id);
    checkpoint_crash_point("row");
    return 0;
}

/* Photos of ds that loader l could not decode and *seen (ds->n flags) does
 * not have yet: recorded in run_skipped (the loader warned already). */
static int record_failed(session *s, loader *l, const dataset *ds, char **seen, strata_err *err)
{
    if (!*seen && !(*seen = calloc(ds->n ? ds->n : 1, 1)))
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    char **paths = calloc(ds->n ? ds->n : 1, sizeof *paths), **reasons = calloc(ds->n ? ds->n : 1, sizeof *reasons);
    int n = 0, rc = 0;
    for (int i = 0; i < ds->n && paths && reasons; i++)
        if (!(*seen)[i] && loader_failed_at(l, i)) {
            (*seen)[i] = 1;
            paths[n] = ds->paths[i];
            reasons[n++] = "failed to decode during training (skipped)";
        }
    if (!paths || !reasons)
        rc = err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    else if (n)
        rc = results_run_skipped(s->db, s->run_id, n, paths, reasons, err);
    free(paths);
    free(reasons);
    return rc;
}

static int record_failed_photos(session *s, strata_err *err)
{
    int n = loader_num_failed(s->train_loader) + loader_num_failed(s->val_loader);
    if (n <= s->failed_recorded)
        return 0;
    s->failed_recorded = n;
    return record_failed(s, s->train_loader, &s->train, &s->train_failed, err) ||
                   record_failed(s, s->val_loader, &s->val, &s->val_failed, err)
               ? -1
               : 0;
}

/* After epoch e's evaluation: the plateau schedule's step and early
 * stopping's count (both saved with the epoch's checkpoint). 1: stop. */
static int judge_epoch(session *s, const epoch_row *row)
{
    const early_stop_cfg *es = &s->x.train.early_stopping;
    lr_schedule *sched = &s->m.opt.sched;
    schedule_plateau_step(sched, monitor_value(sched->maximize ? MONITOR_VAL_ACC : MONITOR_VAL_LOSS, row));
    if (!early_stop_update(es, &s->state.es, row->epoch, monitor_value(es->monitor, row)))
        return 0;
    early_stop_reason(es, &s->state.es, s->stop_reason, sizeof s->stop_reason);
    return 1;
}

int session_train(session *s, int first, int last, strata_err *err)
{
    snprintf(s->stop_reason, sizeof s->stop_reason, "reached train.epochs (%d)", last);
    for (int e = first; e <= last; e++) {
        s->stop_epoch = e;
        if (stop_requested)
            return 1;
        epoch_row row = {.epoch = e};
        double t0 = now();
        row.lr = schedule_lr(&s->m.opt.sched, e - 1);
        int rc = train_epoch(s, e, last, row.lr, &row, err);
        if (rc == 0)
            rc = eval_epoch(s, &row, err);
        if (s->progress_bar)
            fprintf(stderr, "\r\033[K");
        if (rc)
            return rc;
        row.seconds = now() - t0;
        int stop = judge_epoch(s, &row);
        if (commit_epoch(s, &row, err) || record_failed_photos(s, err))
            return -1;
        printf("epoch %3d/%d  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  lr %.3g  %.1fs  "
               "%.1f img/s\n", e, last, row.train_loss, row.train_acc, row.val_loss, row.val_acc, row.lr,
               row.seconds, row.images_per_sec);
        if (stop) {
            printf("stopped after epoch %d of %d: %s\n", e, last, s->stop_reason);
            fflush(stdout);
            return 0;
        }
        fflush(stdout);
    }
    return 0;
}

/* The command that continues an interrupted run, pasteable: the db given
 * when it is not the default one (single-quoted when it needs it). */
static void resume_command(const session *s, int more, char *buf, size_t size)
{
    const char *db = s->x.results.db_path;
    int n = snprintf(buf, size, "strata resume %lld --epochs %d", (long long)s->run_id, more);
    if (n < 0 || (size_t)n >= size || !strcmp(db, RESULTS_DEFAULT_DB))
        return;
    int plain = strspn(db, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+,=") == strlen(db);
    if (plain || strchr(db, '\''))
        snprintf(buf + n, size - n, " --db %s", db);
    else
        snprintf(buf + n, size - n, " --db '%s'", db);
}

int session_run_epochs(session *s, int first, int last, strata_err *err)
{
    int rc = session_train(s, first, last, err);
    strata_err e2 = {0};
    const char *status = rc == 0 ? "finished" : rc == 1 ? "interrupted" : "failed";
    const char *sig = session_stop_signal();
    if (rc == 1)
        snprintf(s->stop_reason, sizeof s->stop_reason, "interrupted by %s at epoch %d", sig ? sig : "a signal",
                 s->stop_epoch);
    else if (rc < 0)
        snprintf(s->stop_reason, sizeof s->stop_reason, "failed at epoch %d: %.200s", s->stop_epoch, err->msg);
    if ((results_run_status(s->db, s->run_id, status, &e2) ||
         results_run_stop_reason(s->db, s->run_id, s->stop_reason, &e2)) && rc == 0) {
        *err = e2;
        rc = -1;
    }
    if (rc == 1) {
        char cmd[4400];
        resume_command(s, last - s->stop_epoch + 1, cmd, sizeof cmd);
        err_set(err, STRATA_ERR_RUNTIME, "run %lld interrupted at epoch %d; continue with: %s",
                (long long)s->run_id, s->stop_epoch, cmd);
    }
    return rc;
}

void session_free(session *s)
{
    if (s->train_loader)
        loader_close(s->train_loader);
    if (s->val_loader)
        loader_close(s->val_loader);
    if (s->db)
        results_close(s->db);
    assembly_free(&s->m);
    dataset_free(&s->train);
    dataset_free(&s->val);
    dataset_free(&s->all);
    experiment_free(&s->x);
    plugins_free(&s->reg);
    free(s->labels);
    free(s->config);
    free(s->train_failed);
    free(s->val_failed);
    class_counts_free(&s->val_counts);
    memset(s, 0, sizeof *s);
}
