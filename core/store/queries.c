/* queries.c — reading the results store back: the tables behind `strata
 * runs`, `show` and `compare`, the curves of `strata plot` and the sweep
 * bookkeeping of `strata sweep`. See results.h. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/results_sqlite.h"

/* ---- tables ------------------------------------------------------------- */

void results_table_free(results_table *t)
{
    if (t->names)
        for (int c = 0; c < t->n_cols; c++)
            free(t->names[c]);
    if (t->cells)
        for (size_t i = 0; i < (size_t)t->n_rows * t->n_cols; i++)
            if (t->cells[i].type == RESULTS_TEXT)
                free(t->cells[i].s);
    free(t->names);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static int out_of_memory(results *r, strata_err *err)
{
    return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory reading a query's rows", r->path);
}

/* One column of the current row as a value (text copied). */
static int read_value(sqlite3_stmt *st, int c, results_value *v)
{
    memset(v, 0, sizeof *v);
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL: v->type = RESULTS_NULL; return 0;
    case SQLITE_INTEGER: v->type = RESULTS_INT, v->i = sqlite3_column_int64(st, c); return 0;
    case SQLITE_FLOAT: v->type = RESULTS_REAL, v->d = sqlite3_column_double(st, c); return 0;
    default: {
        const unsigned char *s = sqlite3_column_text(st, c);
        v->type = RESULTS_TEXT;
        v->s = strdup(s ? (const char *)s : "");
        return v->s ? 0 : -1;
    }
    }
}

/* Step st to its end, every row into out; finalizes st. */
static int read_table(results *r, sqlite3_stmt *st, results_table *out, const char *what, strata_err *err)
{
    memset(out, 0, sizeof *out);
    int n = sqlite3_column_count(st), rc, cap = 0;
    out->n_cols = n;
    out->names = calloc(n ? n : 1, sizeof *out->names);
    if (!out->names)
        goto oom;
    for (int c = 0; c < n; c++) {
        const char *name = sqlite3_column_name(st, c);
        if (!name || !(out->names[c] = strdup(name)))
            goto oom;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n_rows == cap) {
            cap = cap ? 2 * cap : 16;
            results_value *cells = realloc(out->cells, (size_t)cap * (n ? n : 1) * sizeof *cells);
            if (!cells)
                goto oom;
            out->cells = cells;
        }
        results_value *row = out->cells + (size_t)out->n_rows * n;
        int bad = 0;
        for (int c = 0; c < n; c++)
            bad |= read_value(st, c, &row[c]);
        out->n_rows++;
        if (bad)
            goto oom;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        results_table_free(out);
        return results_fail(r, err, what);
    }
    return 0;
oom:
    sqlite3_finalize(st);
    results_table_free(out);
    return out_of_memory(r, err);
}

int results_read_table(results *r, sqlite3_stmt *st, results_table *out, const char *what, strata_err *err)
{
    return read_table(r, st, out, what, err);
}

int results_runs_table(results *r, const char *where, const char *sweep, results_table *out, strata_err *err)
{
    memset(out, 0, sizeof *out);
    char *sql = sqlite3_mprintf("SELECT run_id AS id, name, model, status, epochs, best_val_acc, best_epoch,"
                                " round(total_seconds, 1) AS seconds FROM run_summary WHERE (%s)%s ORDER BY run_id",
                                where ? where : "1", sweep ? " AND sweep_id = ?1" : "");
    if (!sql)
        return out_of_memory(r, err);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) /* the user's condition does not parse or names no column */
        return err_set(err, STRATA_ERR_CONFIG, "%s: --where: %s", r->path, sqlite3_errmsg(r->db));
    if (sweep && sqlite3_bind_text(st, 1, sweep, -1, SQLITE_STATIC) != SQLITE_OK) {
        sqlite3_finalize(st);
        return results_fail(r, err, "binding --sweep");
    }
    return read_table(r, st, out, "listing the runs", err);
}

int results_epochs_table(results *r, int64_t run_id, results_table *out, strata_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (results_prepare(r,
                        "SELECT epoch, train_loss, train_acc, val_loss, val_acc, lr, round(seconds, 2) AS seconds,"
                        " round(images_per_sec, 1) AS images_per_sec FROM epochs WHERE run_id = ?1 ORDER BY epoch",
                        &st, err))
        return -1;
    if (sqlite3_bind_int64(st, 1, run_id) != SQLITE_OK) {
        sqlite3_finalize(st);
        return results_fail(r, err, "binding the run id");
    }
    return read_table(r, st, out, "reading the epochs", err);
}

/* Prepare the SQL text built in s (consumed); -1 with err when it fails. */
static int prepare_built(results *r, sqlite3_str *s, sqlite3_stmt **st, strata_err *err)
{
    int code = sqlite3_str_errcode(s);
    char *sql = sqlite3_str_finish(s);
    if (code != SQLITE_OK || !sql) {
        sqlite3_free(sql);
        return out_of_memory(r, err);
    }
    int rc = results_prepare(r, sql, st, err);
    sqlite3_free(sql);
    return rc;
}

/* "id, id, ..." of the runs (integers from the database: safe in SQL). */
static void append_id_list(sqlite3_str *s, const int64_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_str_appendf(s, "%s%lld", i ? ", " : "", (long long)ids[i]);
}

int results_compare_tables(results *r, const int64_t *ids, int n, results_table *epochs, results_table *best,
                           strata_err *err)
{
    memset(epochs, 0, sizeof *epochs);
    memset(best, 0, sizeof *best);
    if (n < 1)
        return err_set(err, STRATA_ERR_CONFIG, "%s: compare: expected at least one run", r->path);
    /* epochs side by side: one column per run */
    sqlite3_str *s = sqlite3_str_new(r->db);
    sqlite3_str_appendall(s, "SELECT e.epoch");
    for (int i = 0; i < n; i++)
        sqlite3_str_appendf(s, ", (SELECT val_acc FROM epochs x WHERE x.run_id = %lld AND x.epoch = e.epoch)"
                               " AS \"run %lld val_acc\"", (long long)ids[i], (long long)ids[i]);
    sqlite3_str_appendall(s, " FROM (SELECT DISTINCT epoch FROM epochs WHERE run_id IN (");
    append_id_list(s, ids, n);
    sqlite3_str_appendall(s, ")) e ORDER BY e.epoch");
    sqlite3_stmt *st;
    if (prepare_built(r, s, &st, err) || read_table(r, st, epochs, "comparing the epochs", err))
        return -1;
    /* each run's best and its difference to the first run's */
    s = sqlite3_str_new(r->db);
    sqlite3_str_appendf(s, "SELECT run_id AS run, name, model, best_val_acc, best_epoch, best_val_acc -"
                           " (SELECT best_val_acc FROM run_summary WHERE run_id = %lld) AS difference"
                           " FROM run_summary WHERE run_id IN (", (long long)ids[0]);
    append_id_list(s, ids, n);
    sqlite3_str_appendall(s, ") ORDER BY run_id");
    if (prepare_built(r, s, &st, err) || read_table(r, st, best, "comparing the best epochs", err)) {
        results_table_free(epochs);
        return -1;
    }
    return 0;
}

/* ---- curves ------------------------------------------------------------- */

const char *const results_metrics[] = {"val_acc", "train_acc", "val_loss", "train_loss",
                                       "lr",      "seconds",   "images_per_sec", NULL};

int results_metric_known(const char *metric)
{
    for (int i = 0; metric && results_metrics[i]; i++)
        if (!strcmp(metric, results_metrics[i]))
            return 1;
    return 0;
}

int results_series(results *r, int64_t run_id, const char *metric, int *n, double **x, double **y,
                   strata_err *err)
{
    *n = 0, *x = NULL, *y = NULL;
    if (!results_metric_known(metric)) /* it becomes part of the SQL: only the known columns */
        return err_set(err, STRATA_ERR_CONFIG, "%s: unknown metric '%s'", r->path, metric ? metric : "(null)");
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT epoch, %s FROM epochs WHERE run_id = ?1 ORDER BY epoch", metric);
    sqlite3_stmt *st;
    if (results_prepare(r, sql, &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, run_id), cap = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            double *nx = realloc(*x, cap * sizeof *nx), *ny = nx ? realloc(*y, cap * sizeof *ny) : NULL;
            if (nx)
                *x = nx;
            if (ny)
                *y = ny;
            if (!nx || !ny) {
                rc = SQLITE_NOMEM;
                break;
            }
        }
        (*x)[*n] = sqlite3_column_int(st, 0);
        (*y)[*n] = sqlite3_column_type(st, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 1);
        (*n)++;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    free(*x), free(*y);
    *n = 0, *x = NULL, *y = NULL;
    if (rc == SQLITE_NOMEM)
        return out_of_memory(r, err);
    return err_set(err, STRATA_ERR_RUNTIME, "%s: reading epochs of run %lld: %s", r->path, (long long)run_id,
                   sqlite3_errmsg(r->db));
}

/* ---- sweeps ------------------------------------------------------------- */

int results_sweep_find(results *r, const char *file, const char *grid, int create, int64_t *id, strata_err *err)
{
    sqlite3_stmt *st;
    *id = 0;
    if (results_prepare(r, "SELECT id FROM sweeps WHERE file = ?1 AND grid = ?2 ORDER BY id DESC LIMIT 1", &st, err))
        return -1;
    int rc = sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 2, grid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return results_fail(r, err, "looking up the sweep");
    if (*id || !create)
        return 0;
    if (results_prepare(r, "INSERT INTO sweeps(file, grid, created_at) VALUES (?1, ?2,"
                           " strftime('%Y-%m-%dT%H:%M:%SZ','now'))", &st, err))
        return -1;
    rc = sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 2, grid, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "cannot record the sweep");
    *id = sqlite3_last_insert_rowid(r->db);
    return 0;
}

int results_sweep_point(results *r, int64_t sweep_id, const char *label, results_point *out, strata_err *err)
{
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    if (results_prepare(r, "SELECT r.id, r.status, (SELECT count(*) FROM epochs e WHERE e.run_id = r.id) FROM runs r"
                           " WHERE r.sweep_id = ?1 AND r.sweep_point = ?2 ORDER BY r.id DESC LIMIT 1", &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, sweep_id) | sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *status = sqlite3_column_text(st, 1);
        out->run_id = sqlite3_column_int64(st, 0);
        snprintf(out->status, sizeof out->status, "%s", status ? (const char *)status : "");
        out->epochs = sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return results_fail(r, err, "looking up a sweep point");
    return 0;
}
