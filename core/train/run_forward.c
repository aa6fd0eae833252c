/* run_forward.c — see run_forward.h. A message is a sequence of fields:
 * int64 and double in the host's byte order (every rank of a job runs the
 * same build), strings as an int64 length (-1: NULL) and their bytes with
 * the NUL. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "dist/dist.h"
#include "store/params.h"
#include "train/run_forward.h"

/* ---- packing -------------------------------------------------------------- */

typedef struct pack {
    char *p;
    size_t n, cap;
    int oom;
} pack;

static void put(pack *k, const void *v, size_t n)
{
    if (k->oom)
        return;
    if (k->n + n > k->cap) {
        size_t cap = (k->cap ? k->cap : 256) * 2 + n;
        char *p = realloc(k->p, cap);
        if (!p) {
            k->oom = 1;
            return;
        }
        k->p = p;
        k->cap = cap;
    }
    memcpy(k->p + k->n, v, n);
    k->n += n;
}

static void put_i64(pack *k, int64_t v) { put(k, &v, sizeof v); }
static void put_f64(pack *k, double v) { put(k, &v, sizeof v); }

static void put_str(pack *k, const char *s)
{
    put_i64(k, s ? (int64_t)strlen(s) + 1 : -1);
    if (s)
        put(k, s, strlen(s) + 1);
}

static void put_strs(pack *k, int n, char *const *s)
{
    put_i64(k, n);
    for (int i = 0; i < n; i++)
        put_str(k, s[i]);
}

typedef struct unpack {
    const char *p;
    size_t n, at;
    int bad;
} unpack;

static void get(unpack *u, void *v, size_t n)
{
    if (u->bad || u->n - u->at < n) {
        u->bad = 1;
        memset(v, 0, n);
        return;
    }
    memcpy(v, u->p + u->at, n);
    u->at += n;
}

static int64_t get_i64(unpack *u)
{
    int64_t v;
    get(u, &v, sizeof v);
    return v;
}

static double get_f64(unpack *u)
{
    double v;
    get(u, &v, sizeof v);
    return v;
}

/* A string inside the message (NULL for a NULL string or a bad message). */
static const char *get_str(unpack *u)
{
    int64_t len = get_i64(u);
    if (u->bad || len < 0)
        return NULL;
    if ((uint64_t)len > u->n - u->at || len == 0 || u->p[u->at + len - 1]) {
        u->bad = 1;
        return NULL;
    }
    const char *s = u->p + u->at;
    u->at += (size_t)len;
    return s;
}

/* n strings into a malloc'd array (pointing into the message). */
static char **get_strs(unpack *u, int *n)
{
    int64_t count = get_i64(u);
    if (u->bad || count < 0 || (uint64_t)count > u->n) {
        u->bad = 1;
        return NULL;
    }
    char **s = calloc(count ? (size_t)count : 1, sizeof *s);
    if (!s) {
        u->bad = 1;
        return NULL;
    }
    for (int64_t i = 0; i < count; i++)
        s[i] = (char *)get_str(u);
    *n = (int)count;
    return s;
}

/* ---- the worker ----------------------------------------------------------- */

/* Send the write and wait for the writer's answer (its run id into *id). */
static int call(int writer, int tag, pack *k, int64_t *id, strata_err *err)
{
    if (k->oom) {
        free(k->p);
        return err_set(err, STRATA_ERR_RUNTIME, "out of memory for a message to rank %d", writer);
    }
    dist_send(writer, tag, k->p, k->n);
    free(k->p);
    int rtag, from;
    size_t n;
    char *reply = dist_recv(writer, &rtag, &from, &n);
    unpack u = {reply, n, 0, rtag != RUN_FORWARD_REPLY};
    int status = (int)get_i64(&u);
    const char *msg = get_str(&u);
    int64_t run_id = get_i64(&u);
    int rc = 0;
    if (u.bad)
        rc = err_set(err, STRATA_ERR_RUNTIME, "rank %d sent a malformed answer (tag %d)", writer, rtag);
    else if (status)
        rc = err_set(err, status, "%s", msg ? msg : "rank 0 failed");
    else if (id)
        *id = run_id;
    free(reply);
    return rc;
}

int run_forward_begin(int writer, const run_info *info, int64_t *run_id, strata_err *err)
{
    pack k = {0};
    put_str(&k, info->name);
    put_str(&k, info->experiment);
    put_str(&k, info->config);
    put_str(&k, info->model);
    put_i64(&k, info->seed);
    put_i64(&k, info->params);
    put_i64(&k, info->parent_id);
    put_i64(&k, info->sweep_id);
    put_str(&k, info->sweep_point);
    put_i64(&k, info->ranks);
    put_str(&k, info->hosts);
    return call(writer, RUN_FORWARD_BEGIN, &k, run_id, err);
}

int run_forward_classes(int writer, int64_t run_id, int n, char *const *names, strata_err *err)
{
    pack k = {0};
    put_i64(&k, run_id);
    put_strs(&k, n, names);
    return call(writer, RUN_FORWARD_CLASSES, &k, NULL, err);
}

int run_forward_samples(int writer, int64_t run_id, const char *split, int n, char *const *paths, const int *labels,
                        strata_err *err)
{
    pack k = {0};
    put_i64(&k, run_id);
    put_str(&k, split);
    put_strs(&k, n, paths);
    for (int i = 0; i < n; i++)
        put_i64(&k, labels[i]);
    return call(writer, RUN_FORWARD_SAMPLES, &k, NULL, err);
}

int run_forward_skipped(int writer, int64_t run_id, int n, char *const *paths, char *const *reasons, strata_err *err)
{
    pack k = {0};
    put_i64(&k, run_id);
    put_strs(&k, n, paths);
    put_strs(&k, n, reasons);
    return call(writer, RUN_FORWARD_SKIPPED, &k, NULL, err);
}

int run_forward_epoch(int writer, int64_t run_id, const epoch_row *row, const class_tally *t, strata_err *err)
{
    pack k = {0};
    put_i64(&k, run_id);
    put_i64(&k, row->epoch);
    const double v[] = {row->train_loss, row->train_acc, row->val_loss, row->val_acc, row->lr, row->seconds,
                        row->images_per_sec};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        put_f64(&k, v[i]);
    put_strs(&k, t->k, t->classes);
    for (int i = 0; i < t->k; i++) {
        put_i64(&k, t->n[i]);
        put_i64(&k, t->correct[i]);
    }
    return call(writer, RUN_FORWARD_EPOCH, &k, NULL, err);
}

static int forward_text(int writer, int tag, int64_t run_id, const char *text, strata_err *err)
{
    pack k = {0};
    put_i64(&k, run_id);
    put_str(&k, text);
    return call(writer, tag, &k, NULL, err);
}

int run_forward_status(int writer, int64_t run_id, const char *status, strata_err *err)
{
    return forward_text(writer, RUN_FORWARD_STATUS, run_id, status, err);
}

int run_forward_stop_reason(int writer, int64_t run_id, const char *reason, strata_err *err)
{
    return forward_text(writer, RUN_FORWARD_STOP_REASON, run_id, reason, err);
}

int run_forward_heartbeat(int writer, int64_t run_id, strata_err *err)
{
    return forward_text(writer, RUN_FORWARD_HEARTBEAT, run_id, NULL, err);
}

int run_forward_reopen(int writer, const run_reopen *r, strata_err *err)
{
    pack k = {0};
    put_i64(&k, r->run_id);
    put_i64(&k, r->from_scratch);
    put_i64(&k, r->epoch);
    put_i64(&k, r->ranks);
    put_str(&k, r->config);
    put_str(&k, r->hosts);
    return call(writer, RUN_FORWARD_REOPEN, &k, NULL, err);
}

/* ---- the writer ----------------------------------------------------------- */

int run_reopen_apply(results *db, const run_reopen *r, strata_err *err)
{
    int64_t id = r->run_id;
    if (r->from_scratch ? results_run_data_clear(db, id, err)
                        : results_epochs_truncate(db, id, r->epoch, err) ||
                              results_run_resumed(db, id, r->epoch, err) ||
                              results_run_stop_reason(db, id, NULL, err))
        return -1;
    return results_run_config(db, id, r->config, err) || results_run_params_yaml(db, id, r->config, err) ||
                   results_run_ranks(db, id, r->ranks, r->hosts, err) || results_run_status(db, id, "running", err)
               ? -1
               : 0;
}

static int apply_reopen(results *db, unpack *u, strata_err *err)
{
    run_reopen r = {.run_id = get_i64(u)};
    r.from_scratch = (int)get_i64(u);
    r.epoch = (int)get_i64(u);
    r.ranks = (int)get_i64(u);
    r.config = get_str(u);
    r.hosts = get_str(u);
    if (u->bad || !r.config)
        return -1;
    return run_reopen_apply(db, &r, err) ? 1 : 0;
}

static int apply_begin(results *db, unpack *u, int64_t *id, run_forward_begun begun, void *ctx, strata_err *err)
{
    run_info info = {0};
    info.name = get_str(u);
    info.experiment = get_str(u);
    info.config = get_str(u);
    info.model = get_str(u);
    info.seed = get_i64(u);
    info.params = get_i64(u);
    info.parent_id = get_i64(u);
    info.sweep_id = get_i64(u);
    info.sweep_point = get_str(u);
    info.ranks = (int)get_i64(u);
    info.hosts = get_str(u);
    if (u->bad)
        return -1;
    if (results_run_begin(db, &info, id, err) || (info.config && results_run_params_yaml(db, *id, info.config, err)) ||
        (begun && begun(db, *id, ctx, err)))
        return 1;
    return 0;
}

static int apply_samples(results *db, unpack *u, strata_err *err)
{
    int64_t run_id = get_i64(u);
    const char *split = get_str(u);
    int n = 0;
    char **paths = get_strs(u, &n);
    int *labels = calloc(n ? (size_t)n : 1, sizeof *labels);
    for (int i = 0; labels && i < n; i++)
        labels[i] = (int)get_i64(u);
    int rc = u->bad || !labels || !split ? -1 : results_run_samples(db, run_id, split, n, paths, labels, err) ? 1 : 0;
    free(paths);
    free(labels);
    return rc;
}

static int apply_skipped(results *db, unpack *u, strata_err *err)
{
    int64_t run_id = get_i64(u);
    int n = 0, n_reasons = 0;
    char **paths = get_strs(u, &n), **reasons = get_strs(u, &n_reasons);
    int rc = u->bad || n != n_reasons ? -1 : results_run_skipped(db, run_id, n, paths, reasons, err) ? 1 : 0;
    free(paths);
    free(reasons);
    return rc;
}

static int apply_epoch(results *db, unpack *u, strata_err *err)
{
    int64_t run_id = get_i64(u);
    epoch_row row = {.epoch = (int)get_i64(u)};
    double *v[] = {&row.train_loss, &row.train_acc, &row.val_loss, &row.val_acc, &row.lr, &row.seconds,
                   &row.images_per_sec};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        *v[i] = get_f64(u);
    int k = 0;
    char **classes = get_strs(u, &k);
    long *counts = calloc(2 * (size_t)k + 1, sizeof *counts);
    for (int i = 0; counts && i < k; i++) {
        counts[i] = (long)get_i64(u);
        counts[k + i] = (long)get_i64(u);
    }
    class_tally t = {.k = k, .classes = classes, .n = counts, .correct = counts ? counts + k : NULL};
    int rc = u->bad || !counts ? -1 : results_epoch_with_classes(db, run_id, &row, &t, err) ? 1 : 0;
    free(classes);
    free(counts);
    return rc;
}

/* 0 applied, 1 the database failed (err), -1 malformed. */
static int apply(results *db, int tag, unpack *u, int64_t *id, run_forward_begun begun, void *ctx, strata_err *err)
{
    if (tag == RUN_FORWARD_BEGIN)
        return apply_begin(db, u, id, begun, ctx, err);
    if (tag == RUN_FORWARD_SAMPLES)
        return apply_samples(db, u, err);
    if (tag == RUN_FORWARD_SKIPPED)
        return apply_skipped(db, u, err);
    if (tag == RUN_FORWARD_EPOCH)
        return apply_epoch(db, u, err);
    if (tag == RUN_FORWARD_REOPEN)
        return apply_reopen(db, u, err);
    int64_t run_id = get_i64(u);
    if (tag == RUN_FORWARD_CLASSES) {
        int n = 0;
        char **names = get_strs(u, &n);
        int rc = u->bad ? -1 : results_run_classes(db, run_id, n, names, err) ? 1 : 0;
        free(names);
        return rc;
    }
    const char *text = get_str(u);
    if (u->bad || (tag == RUN_FORWARD_STATUS && !text))
        return -1;
    if (tag == RUN_FORWARD_STATUS)
        return results_run_status(db, run_id, text, err) ? 1 : 0;
    if (tag == RUN_FORWARD_STOP_REASON)
        return results_run_stop_reason(db, run_id, text, err) ? 1 : 0;
    if (tag == RUN_FORWARD_HEARTBEAT)
        return results_heartbeat(db, run_id, err) ? 1 : 0;
    return -1;
}

int run_forward_apply(results *db, int from, int tag, const char *msg, size_t n, run_forward_begun begun, void *ctx,
                      strata_err *err)
{
    strata_err e = {0};
    int64_t id = 0;
    unpack u = {msg, n, 0, 0};
    int rc = apply(db, tag, &u, &id, begun, ctx, &e);
    if (rc < 0)
        err_set(&e, STRATA_ERR_RUNTIME, "rank %d sent a malformed message (tag %d, %zu bytes)", from, tag, n);
    pack k = {0};
    put_i64(&k, rc ? (e.status ? e.status : STRATA_ERR_RUNTIME) : 0);
    put_str(&k, rc ? e.msg : NULL);
    put_i64(&k, id);
    if (k.oom) /* the worker waits for an answer: end the job */
        dist_abort(1);
    dist_send(from, RUN_FORWARD_REPLY, k.p, k.n);
    free(k.p);
    if (rc < 0)
        *err = e;
    return rc < 0 ? -1 : 0;
}
