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
#include "dist/dist.h"
#include "dist/net_sync.h"
#include "train/run_forward.h"

static volatile sig_atomic_t stop_requested, stop_signal;

/* Under mpirun, rank 0's line for a SIGTERM: mpirun sends it to every rank
 * when one of them dies (or the job is cancelled), and may SIGKILL a rank
 * blocked in an allreduce with the dead one right after, so the line is
 * written from the handler (write(2) is async-signal-safe). Armed at each
 * epoch by arm_stop_note; empty when not under mpirun. */
static char stop_note[4600];
static volatile sig_atomic_t stop_note_len;

static void on_signal(int sig)
{
    stop_requested = 1;
    stop_signal = sig;
    if (sig == SIGTERM && stop_note_len > 0) {
        ssize_t n = write(STDERR_FILENO, stop_note, (size_t)stop_note_len);
        (void)n;
    }
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

/* More than one rank: each loads its share of every batch, and the
 * gradients are summed in buckets during backward (nothing collective
 * here: a rank may fail before it; session_begin_run gives every rank
 * rank 0's weights). */
static int setup_ranks(session *s, strata_err *err)
{
    if (loader_set_shard(s->train_loader, dist_rank(), dist_size(), err) ||
        loader_set_shard(s->val_loader, dist_rank(), dist_size(), err) ||
        grad_buckets_init(&s->buckets, &s->m.net, s->x.train.bucket_mb, err))
        return -1;
    s->m.tr.sync = &s->buckets;
    return 0;
}

int session_agree(session *s, int rc, strata_err *err)
{
    if (dist_size() < 2)
        return rc;
    int rank0_failed = dist_rank() == 0 && rc != 0;
    int status = dist_max(rc == 0 ? 0 : err->status ? err->status : STRATA_ERR_CONFIG); /* every rank exits with it */
    if (!status)
        return 0;
    dist_bcast(&rank0_failed, sizeof rank0_failed);
    if (rc == 0) {
        s->peer_failed = 1;
        err_set(err, status, "another rank failed (see its message)");
    } else if (dist_rank() != 0 && rank0_failed)
        s->peer_failed = 1; /* the same failure on every rank: rank 0 says it */
    err->status = status;
    return -1;
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
    if (dist_size() > 1 && setup_ranks(s, err))
        return -1;
    s->progress_bar = isatty(STDERR_FILENO) && dist_rank() == 0;
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

/* ---- the run's writes: to s->db, or to world rank 0 (s->forward) --------- */

enum { WRITER = 0 }; /* the world rank that writes a forwarded run's rows */

static int writes(const session *s)
{
    return s->db || s->forward;
}

static int write_classes(session *s, strata_err *err)
{
    int n = s->train.num_classes;
    return s->forward ? run_forward_classes(WRITER, s->run_id, n, s->train.classes, err)
                      : results_run_classes(s->db, s->run_id, n, s->train.classes, err);
}

static int write_samples(session *s, const char *split, const dataset *d, strata_err *err)
{
    return s->forward ? run_forward_samples(WRITER, s->run_id, split, d->n, d->paths, d->labels, err)
                      : results_run_samples(s->db, s->run_id, split, d->n, d->paths, d->labels, err);
}

static int write_skipped(session *s, int n, char *const *paths, char *const *reasons, strata_err *err)
{
    return s->forward ? run_forward_skipped(WRITER, s->run_id, n, paths, reasons, err)
                      : results_run_skipped(s->db, s->run_id, n, paths, reasons, err);
}

static int write_epoch(session *s, const epoch_row *row, const class_tally *t, strata_err *err)
{
    return s->forward ? run_forward_epoch(WRITER, s->run_id, row, t, err)
                      : results_epoch_with_classes(s->db, s->run_id, row, t, err);
}

static int write_end(session *s, const char *status, strata_err *err)
{
    if (s->forward)
        return run_forward_status(WRITER, s->run_id, status, err) ||
               run_forward_stop_reason(WRITER, s->run_id, s->stop_reason, err);
    return results_run_status(s->db, s->run_id, status, err) ||
           results_run_stop_reason(s->db, s->run_id, s->stop_reason, err);
}

int session_record_end(session *s, const char *status, strata_err *err)
{
    return write_end(s, status, err);
}

int session_record_reopen(session *s, const run_reopen *r, strata_err *err)
{
    return s->forward ? run_forward_reopen(WRITER, r, err) : run_reopen_apply(s->db, r, err);
}

int session_record_checkpointed_epoch(session *s, strata_err *err)
{
    class_tally none = {0}, per_class = none;
    if (s->val_counts.k != s->train.num_classes)
        fprintf(stderr, "strata: warning: run %lld: epoch %d's checkpoint has no per-class counts for its %d classes "
                        "(an older strata); epoch_classes gets no rows for it\n",
                (long long)s->run_id, s->state.epoch, s->train.num_classes);
    else
        per_class = class_counts_tally(&s->val_counts, s->train.classes);
    return write_epoch(s, &s->state.row, &per_class, err);
}

int session_record_data(session *s, strata_err *err)
{
    char **reasons = calloc(s->all.num_skipped + 1, sizeof *reasons);
    for (int i = 0; i < s->all.num_skipped; i++)
        reasons[i] = "not a readable image";
    int rc = write_classes(s, err) || write_samples(s, "train", &s->train, err) ||
             write_samples(s, "val", &s->val, err) || write_skipped(s, s->all.num_skipped, s->all.skipped, reasons, err);
    free(reasons);
    return rc ? -1 : 0;
}

const char *session_config(session *s)
{
    if (!s->config)
        s->config = ynode_emit(s->x.root);
    return s->config;
}

static int begin_run_rank0(session *s, const char *name, const char *hosts, strata_err *err)
{
    if (!s->forward && results_open(s->x.results.db_path, &s->db, err))
        return -1;
    const char *config = session_config(s);
    run_info info = {.name = name ? name : s->x.name,
                     .sweep_id = s->sweep_id,
                     .sweep_point = s->sweep_point,
                     .experiment = s->x.path,
                     .config = config,
                     .model = s->x.model.desc,
                     .seed = (int64_t)s->x.train.seed,
                     .params = network_trainable(&s->m.net),
                     .ranks = dist_size(),
                     .hosts = dist_size() > 1 ? hosts : NULL};
    if (s->forward) /* the writer records run_params from info.config */
        return run_forward_begin(WRITER, &info, &s->run_id, err) || session_record_data(s, err) ? -1 : 0;
    int rc = results_run_begin(s->db, &info, &s->run_id, err);
    if (rc || results_run_params(s->db, s->run_id, s->x.root, err) || session_record_data(s, err))
        return -1;
    return 0;
}

int session_begin_run(session *s, const char *name, strata_err *err)
{
    char hosts[4096];
    net_sync_from_rank0(&s->m.net); /* model.weights read on rank 0 wins too */
    dist_hosts(hosts, sizeof hosts);
    int rc = dist_rank() == 0 ? begin_run_rank0(s, name, hosts, err) : 0;
    if (session_agree(s, rc, err))
        return -1;
    dist_bcast(&s->run_id, sizeof s->run_id);
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
    if (!writes(s) || t - s->last_beat < RESULTS_HEARTBEAT_SECONDS)
        return;
    s->last_beat = t;
    strata_err e = {0};
    int rc = s->forward ? run_forward_heartbeat(WRITER, s->run_id, &e) : results_heartbeat(s->db, s->run_id, &e);
    if (rc && !s->beat_warned++)
        fprintf(stderr, "strata: warning: %s (training goes on)\n", e.msg);
}

/* The next batch of l for this rank: 1 with *n its rows (trainer_input,
 * s->labels), *n_global the whole batch's (0: every share is empty, pass
 * over it) and *offset the row of the whole batch where this rank's rows
 * start (the rows of the ranks below it: a photo that failed to decode
 * leaves the batch as it does with one process, so dropout's masks, keyed
 * by that row, do not depend on the rank count); 0 at the end of the
 * epoch, -1 when a rank failed, 2 when a rank was asked to stop. More than
 * one rank: every rank gets the same answer (and stops at the same batch). */
static int next_batch(session *s, loader *l, int *n, int *n_global, int64_t *offset, strata_err *err)
{
    int rc = loader_next_batch(l, trainer_input(&s->m.tr), s->labels, n, err);
    *n_global = *n;
    *offset = 0;
    if (dist_size() < 2)
        return rc;
    enum { K = 3 };
    int64_t mine[K] = {rc > 0 ? *n : 0, rc < 0, stop_requested != 0}, v[K] = {0, 0, 0};
    int64_t *every = malloc(sizeof *every * K * dist_size());
    if (!every) {
        fprintf(stderr, "strata: rank %d: out of memory\n", dist_rank());
        dist_abort(1);
    }
    dist_allgather_int64(mine, K, every);
    for (int r = 0; r < dist_size(); r++) {
        if (r == dist_rank())
            *offset = v[0];
        for (int j = 0; j < K; j++)
            v[j] += every[r * K + j];
    }
    free(every);
    if (v[1])
        return session_agree(s, rc < 0 ? -1 : 0, err);
    *n_global = (int)v[0];
    return rc > 0 && v[2] ? 2 : rc;
}

/* One pass over the training set. */
static int train_epoch(session *s, int epoch, int last, double lr, epoch_row *row, strata_err *err)
{
    double t0 = now(), loss_sum = 0;
    long seen = 0, correct = 0;
    int nb = loader_num_batches(s->train_loader), b = 0, n, n_global, rc;
    int64_t offset;
    if (loader_start_epoch(s->train_loader, epoch - 1, err))
        return -1;
    while ((rc = next_batch(s, s->train_loader, &n, &n_global, &offset, err)) == 1) {
        if (n_global == 0)
            continue;
        int ok;
        s->m.tr.n_global = n_global;
        s->m.tr.sample_offset = offset;
        double loss = trainer_train_step(&s->m.tr, &s->m.opt, s->labels, n, lr, s->x.train.label_smoothing, &ok);
        double sums[2] = {loss * n, ok}; /* over the ranks: the global batch's */
        dist_sum_doubles(sums, 2);
        if (!isfinite(sums[0]) && dist_rank() != 0)
            s->peer_failed = 1; /* every rank sees it: rank 0 says it */
        if (!isfinite(sums[0]))
            return err_set(err, STRATA_ERR_RUNTIME, "epoch %d batch %d: the loss is %g (diverged; lower the "
                           "learning rate?)", epoch, b + 1, sums[0] / n_global);
        loss_sum += sums[0];
        seen += n_global;
        correct += (long)sums[1];
        b++;
        double dt = now() - t0;
        show_progress(s, epoch, last, b, nb, loss_sum / seen, seen / dt, dt / b * (nb - b));
        heartbeat(s);
        if (stop_requested && dist_size() < 2)
            return 1;
    }
    if (rc != 0)
        return rc == 2 ? 1 : -1;
    row->train_loss = loss_sum / seen;
    row->train_acc = (double)correct / seen;
    row->images_per_sec = seen / (now() - t0);
    return 0;
}

/* Validation, each rank over its share of every batch; the sums of loss,
 * correct rows and per-class counts over the ranks. */
static int eval_epoch(session *s, epoch_row *row, strata_err *err)
{
    double sums[3] = {0, 0, 0}; /* loss, rows, correct */
    int n, n_global, rc;
    int64_t offset;
    if (loader_start_epoch(s->val_loader, 0, err) || class_counts_reset(&s->val_counts, s->train.num_classes, err))
        return -1;
    while ((rc = next_batch(s, s->val_loader, &n, &n_global, &offset, err)) == 1) {
        int ok = 0;
        if (n > 0) {
            sums[0] += trainer_eval_step(&s->m.tr, s->labels, n, &ok) * n;
            class_counts_add(&s->val_counts, &s->m.tr, s->labels, n);
        }
        sums[1] += n;
        sums[2] += ok;
        heartbeat(s);
        if (stop_requested && dist_size() < 2)
            return 1;
    }
    if (rc != 0)
        return rc == 2 ? 1 : -1;
    dist_sum_doubles(sums, 3);
    dist_sum_longs(s->val_counts.n, s->val_counts.k);
    dist_sum_longs(s->val_counts.correct, s->val_counts.k);
    row->val_loss = sums[0] / sums[1];
    row->val_acc = sums[2] / sums[1];
    return 0;
}

/* STRATA_DIST_DUMP, more than one rank: the overlap of the epoch's steps,
 * counted (grad_buckets.early): how many buckets had started their
 * allreduce before the backward of the lowest trained layer began. */
static void dump_overlap(session *s, int epoch)
{
    grad_buckets *g = &s->buckets;
    if (dist_size() > 1 && g->early_min <= g->early_max)
        fprintf(stderr, "strata: rank %d of %d: epoch %d: %d gradient buckets, %d to %d started per step before "
                        "the lowest layer's backward\n", dist_rank(), dist_size(), epoch, g->n, g->early_min,
                g->early_max);
    grad_buckets_overlap_reset(g);
}

/* After an epoch on more than one rank: batch norm's running statistics
 * from rank 0 (each rank's are its own shares'), then the trained weights
 * checked to be the same on every rank. STRATA_DIST_DUMP=1 prints each
 * rank's checksum and overlap (dump_overlap) on stderr;
 * STRATA_DIST_CORRUPT_RANK=R (tests) changes one weight of rank R first. */
static int check_weights(session *s, int epoch, strata_err *err)
{
    const char *corrupt = getenv("STRATA_DIST_CORRUPT_RANK"), *dump = getenv("STRATA_DIST_DUMP");
    if (dist_size() > 1)
        net_sync_buffers(&s->m.net);
    if (corrupt && atoi(corrupt) == dist_rank() && s->m.net.total)
        s->m.net.param_mem[0] += 1.0f;
    uint64_t sum = net_weights_checksum(&s->m.net), other = 0;
    if (dump && *dump && strcmp(dump, "0")) {
        fprintf(stderr, "strata: rank %d of %d: epoch %d weights checksum %016llx\n", dist_rank(), dist_size(), epoch,
                (unsigned long long)sum);
        dump_overlap(s, epoch);
    }
    int which = 0;
    if (dist_size() < 2 || dist_agree_u64(sum, &which, &other))
        return 0;
    if (dist_rank() != 0)
        s->peer_failed = 1;
    return err_set(err, STRATA_ERR_RUNTIME, "epoch %d: the ranks' weights differ (checksum %016llx on rank %d, "
                   "%016llx on rank 0); the run stops", epoch, (unsigned long long)other, which,
                   (unsigned long long)(dist_rank() == 0 ? sum : 0));
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
    if (write_epoch(s, row, &per_class, &dbe))
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
        rc = write_skipped(s, n, paths, reasons, err);
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

/* The photos of ds that failed to decode on any rank, marked failed in
 * every rank's loader l (collective). */
static void share_failed(loader *l, const dataset *ds)
{
    long *failed = calloc(ds->n ? ds->n : 1, sizeof *failed);
    if (!failed) {
        fprintf(stderr, "strata: rank %d: out of memory\n", dist_rank());
        dist_abort(1);
    }
    for (int i = 0; i < ds->n; i++)
        failed[i] = loader_failed_at(l, i);
    dist_sum_longs(failed, ds->n);
    for (int i = 0; i < ds->n; i++)
        if (failed[i])
            loader_mark_failed(l, i);
    free(failed);
}

/* More than one rank, at the end of an epoch (collective): the photos that
 * failed to decode on any rank become known to rank 0, which records them
 * (record_failed_photos), so run_skipped does not depend on the rank count. */
static void share_failed_photos(session *s)
{
    if (dist_size() < 2)
        return;
    int n = loader_num_failed(s->train_loader) + loader_num_failed(s->val_loader);
    if (!dist_any(n > s->failed_shared))
        return;
    share_failed(s->train_loader, &s->train);
    share_failed(s->val_loader, &s->val);
    s->failed_shared = loader_num_failed(s->train_loader) + loader_num_failed(s->val_loader);
}

/* The epoch's line; with more than one rank, the mean time per step spent
 * waiting for the gradient sums after backward (communication that the
 * overlap with backward did not hide). */
static void print_epoch(session *s, const epoch_row *row, int last)
{
    printf("epoch %3d/%d  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  lr %.3g  %.1fs  "
           "%.1f img/s", row->epoch, last, row->train_loss, row->train_acc, row->val_loss, row->val_acc, row->lr,
           row->seconds, row->images_per_sec);
    grad_buckets *g = &s->buckets;
    if (dist_size() > 1 && g->steps)
        printf("  allreduce wait %.2f ms/step", 1e3 * g->wait_seconds / g->steps);
    g->wait_seconds = 0;
    g->steps = 0;
    printf("\n");
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

static void resume_command(const session *s, int epochs, char *out, size_t size);

/* Rank 0 of several: the SIGTERM line for epoch e of `last` (see on_signal). */
static void arm_stop_note(const session *s, int e, int last)
{
    if (dist_size() < 2 || dist_rank() != 0)
        return;
    char cmd[4400];
    resume_command(s, last - e + 1, cmd, sizeof cmd);
    stop_note_len = 0;
    int n = snprintf(stop_note, sizeof stop_note,
                     "strata: rank 0: SIGTERM from mpirun (a rank died, or the job was stopped) during epoch %d; "
                     "run %lld keeps its recorded epochs and shows as interrupted; continue with: %s\n",
                     e, (long long)s->run_id, cmd);
    stop_note_len = n > 0 && n < (int)sizeof stop_note ? n : 0;
}

int session_train(session *s, int first, int last, strata_err *err)
{
    snprintf(s->stop_reason, sizeof s->stop_reason, "reached train.epochs (%d)", last);
    for (int e = first; e <= last; e++) {
        s->stop_epoch = e;
        if (dist_any(stop_requested != 0)) /* every rank stops here together */
            return 1;
        arm_stop_note(s, e, last);
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
        if (check_weights(s, e, err))
            return -1;
        row.seconds = now() - t0;
        int stop = judge_epoch(s, &row);
        share_failed_photos(s);
        if (session_agree(s, dist_rank() == 0 && (commit_epoch(s, &row, err) || record_failed_photos(s, err)) ? -1 : 0,
                          err))
            return -1;
        if (dist_rank() == 0)
            print_epoch(s, &row, last);
        if (stop && dist_rank() == 0)
            printf("stopped after epoch %d of %d: %s\n", e, last, s->stop_reason);
        if (stop) {
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
    stop_note_len = 0; /* from here on a SIGTERM is handled as the run ends */
    if (rc == 1 && dist_rank() != 0)
        s->peer_failed = 1; /* rank 0 prints the resume command */
    strata_err e2 = {0};
    const char *status = rc == 0 ? "finished" : rc == 1 ? "interrupted" : "failed";
    const char *sig = session_stop_signal();
    if (rc == 1)
        snprintf(s->stop_reason, sizeof s->stop_reason, "interrupted by %s at epoch %d", sig ? sig : "a signal",
                 s->stop_epoch);
    else if (rc < 0)
        snprintf(s->stop_reason, sizeof s->stop_reason, "failed at epoch %d: %.200s", s->stop_epoch, err->msg);
    if (writes(s) && write_end(s, status, &e2) && rc == 0) {
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
    grad_buckets_free(&s->buckets);
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
