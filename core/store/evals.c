/* evals.c — see evals.h */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "store/evals.h"
#include "store/results_sqlite.h"

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* A statement without parameters or rows (BEGIN, COMMIT, ROLLBACK). */
static int run_sql(results *r, const char *sql, strata_err *err)
{
    if (sqlite3_exec(results_db(r), sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    return results_fail(r, err, sql);
}

/* Step a bound statement to its end, then reset it for the next row. */
static int step_reset(results *r, sqlite3_stmt *st, int bind_rc, const char *what, strata_err *err)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
    if (rc != SQLITE_DONE) {
        results_fail(r, err, what);
        return -1;
    }
    if (sqlite3_reset(st) != SQLITE_OK || sqlite3_clear_bindings(st) != SQLITE_OK)
        return results_fail(r, err, what);
    return 0;
}

/* A double, or NULL where it is NaN (precision of a class never predicted). */
static int bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

/* ---- epoch_classes ------------------------------------------------------- */

static int insert_epoch_classes(results *r, int64_t run_id, int epoch, const class_tally *t, strata_err *err)
{
    sqlite3_stmt *st; /* rows past a resume's checkpoint went with results_epochs_truncate */
    if (results_prepare(r, "INSERT INTO epoch_classes(run_id, epoch, class, n, correct) VALUES (?, ?, ?, ?, ?)",
                        &st, err))
        return -1;
    int rc = 0;
    for (int c = 0; c < t->k && !rc; c++)
        rc = step_reset(r, st,
                        sqlite3_bind_int64(st, 1, run_id) | sqlite3_bind_int(st, 2, epoch) |
                            sqlite3_bind_text(st, 3, t->classes[c], -1, SQLITE_STATIC) |
                            sqlite3_bind_int64(st, 4, t->n[c]) | sqlite3_bind_int64(st, 5, t->correct[c]),
                        "recording the epoch's per-class counts", err);
    sqlite3_finalize(st);
    return rc;
}

int results_epoch_with_classes(results *r, int64_t run_id, const epoch_row *row, const class_tally *t,
                               strata_err *err)
{
    if (run_sql(r, "BEGIN IMMEDIATE", err))
        return -1;
    if (results_epoch(r, run_id, row, err) || insert_epoch_classes(r, run_id, row->epoch, t, err) ||
        run_sql(r, "COMMIT", err)) {
        sqlite3_exec(results_db(r), "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* ---- evals --------------------------------------------------------------- */

static int insert_eval_row(results *r, const eval_record *e, int64_t *eval_id, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "INSERT INTO evals(run_id, checkpoint, data, created_at, loss, acc, n, epoch)"
                           " VALUES (?, ?, ?, " NOW_SQL ", ?, ?, ?, ?)", &st, err))
        return -1;
    int rc = step_reset(r, st,
                        sqlite3_bind_int64(st, 1, e->run_id) |
                            sqlite3_bind_text(st, 2, e->checkpoint, -1, SQLITE_STATIC) |
                            sqlite3_bind_text(st, 3, e->data, -1, SQLITE_STATIC) | bind_real_or_null(st, 4, e->loss) |
                            bind_real_or_null(st, 5, e->acc) | sqlite3_bind_int64(st, 6, e->n) |
                            (e->epoch > 0 ? sqlite3_bind_int(st, 7, e->epoch) : sqlite3_bind_null(st, 7)),
                        "recording the evaluation", err);
    sqlite3_finalize(st);
    *eval_id = sqlite3_last_insert_rowid(results_db(r));
    return rc;
}

static int insert_eval_classes(results *r, const eval_record *e, int64_t id, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "INSERT INTO eval_classes(eval_id, class, n, correct, precision, recall)"
                           " VALUES (?, ?, ?, ?, ?, ?)", &st, err))
        return -1;
    int rc = 0;
    for (int c = 0; c < e->k && !rc; c++)
        rc = step_reset(r, st,
                        sqlite3_bind_int64(st, 1, id) | sqlite3_bind_text(st, 2, e->classes[c], -1, SQLITE_STATIC) |
                            sqlite3_bind_int64(st, 3, e->class_n[c]) | sqlite3_bind_int64(st, 4, e->class_correct[c]) |
                            bind_real_or_null(st, 5, e->precision[c]) | bind_real_or_null(st, 6, e->recall[c]),
                        "recording the per-class results", err);
    sqlite3_finalize(st);
    return rc;
}

static int insert_eval_confusion(results *r, const eval_record *e, int64_t id, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "INSERT INTO eval_confusion(eval_id, true_class, pred_class, n) VALUES (?, ?, ?, ?)",
                        &st, err))
        return -1;
    int rc = 0;
    for (int t = 0; t < e->k && !rc; t++)
        for (int p = 0; p < e->k && !rc; p++)
            rc = step_reset(r, st,
                            sqlite3_bind_int64(st, 1, id) |
                                sqlite3_bind_text(st, 2, e->classes[t], -1, SQLITE_STATIC) |
                                sqlite3_bind_text(st, 3, e->classes[p], -1, SQLITE_STATIC) |
                                sqlite3_bind_int64(st, 4, e->confusion[(size_t)t * e->k + p]),
                            "recording the confusion matrix", err);
    sqlite3_finalize(st);
    return rc;
}

static int insert_eval_predictions(results *r, const eval_record *e, int64_t id, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "INSERT INTO eval_predictions(eval_id, path, true_class, pred_class, prob)"
                           " VALUES (?, ?, ?, ?, ?)", &st, err))
        return -1;
    int rc = 0;
    for (long i = 0; i < e->n && !rc; i++)
        rc = step_reset(r, st,
                        sqlite3_bind_int64(st, 1, id) | sqlite3_bind_text(st, 2, e->paths[i], -1, SQLITE_STATIC) |
                            sqlite3_bind_text(st, 3, e->classes[e->truth[i]], -1, SQLITE_STATIC) |
                            sqlite3_bind_text(st, 4, e->classes[e->pred[i]], -1, SQLITE_STATIC) |
                            bind_real_or_null(st, 5, e->prob[i]),
                        "recording the predictions", err);
    sqlite3_finalize(st);
    return rc;
}

int results_eval(results *r, const eval_record *e, int64_t *eval_id, strata_err *err)
{
    if (run_sql(r, "BEGIN IMMEDIATE", err))
        return -1;
    if (insert_eval_row(r, e, eval_id, err) || insert_eval_classes(r, e, *eval_id, err) ||
        insert_eval_confusion(r, e, *eval_id, err) || insert_eval_predictions(r, e, *eval_id, err) ||
        run_sql(r, "COMMIT", err)) {
        sqlite3_exec(results_db(r), "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* ---- a run's split ------------------------------------------------------- */

static int out_of_memory(results *r, strata_err *err)
{
    return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory reading a run's split", results_path(r));
}

/* Append (path, label) to the growing arrays (capacity *cap). */
static int append_sample(char ***paths, int **labels, int *n, int *cap, const char *path, int label)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 64;
        char **p = realloc(*paths, c * sizeof *p);
        if (p)
            *paths = p;
        int *l = p ? realloc(*labels, c * sizeof *l) : NULL;
        if (!l)
            return -1;
        *labels = l;
        *cap = c;
    }
    if (!((*paths)[*n] = strdup(path)))
        return -1;
    (*labels)[(*n)++] = label;
    return 0;
}

int results_run_split(results *r, int64_t run_id, const char *split, int *n, char ***paths, int **labels,
                      strata_err *err)
{
    sqlite3_stmt *st;
    *n = 0;
    *paths = NULL;
    *labels = NULL;
    if (results_prepare(r, "SELECT path, label FROM run_samples WHERE run_id = ? AND split = ? ORDER BY rowid", &st,
                        err))
        return -1;
    int cap = 0, rc = sqlite3_bind_int64(st, 1, run_id) | sqlite3_bind_text(st, 2, split, -1, SQLITE_STATIC);
    int oom = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        if (append_sample(paths, labels, n, &cap, path ? path : "", sqlite3_column_int(st, 1))) {
            oom = 1;
            break;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (oom || (rc != SQLITE_DONE && rc != SQLITE_OK)) {
        if (oom)
            out_of_memory(r, err);
        else
            results_fail(r, err, "reading a run's split");
        for (int i = 0; i < *n; i++)
            free((*paths)[i]);
        free(*paths);
        free(*labels);
        *paths = NULL, *labels = NULL, *n = 0;
        return -1;
    }
    return 0;
}
