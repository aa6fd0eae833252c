/* params.c — a run's configuration as JSON (runs.config_json) and as flat
 * typed rows (run_params); the back-fill of runs recorded before schema
 * version 4. See params.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/json.h"
#include "store/params.h"
#include "store/results_sqlite.h"

/* ---- one scalar's type ----------------------------------------------------- */

typedef enum { PV_NULL, PV_INT, PV_REAL, PV_BOOL, PV_TEXT } param_kind;

typedef struct param_value {
    param_kind kind;
    long i;   /* PV_INT, PV_BOOL (0 or 1) */
    double d; /* PV_REAL */
} param_value;

static param_value scalar_value(const ynode *n)
{
    param_value v = {PV_TEXT, 0, 0};
    int b;
    if (ynode_is_null(n))
        v.kind = PV_NULL;
    else if (ynode_bool(n, &b) == 0)
        v.kind = PV_BOOL, v.i = b;
    else if (ynode_long(n, &v.i) == 0)
        v.kind = PV_INT;
    else if (ynode_double(n, &v.d) == 0)
        v.kind = PV_REAL;
    return v;
}

/* ---- JSON --------------------------------------------------------------------- */

static void json_of(sbuf *b, const ynode *n)
{
    if (n->kind == YNODE_SCALAR) {
        param_value v = scalar_value(n);
        char num[32];
        switch (v.kind) {
        case PV_NULL: sb_puts(b, "null"); break;
        case PV_BOOL: sb_puts(b, v.i ? "true" : "false"); break;
        case PV_INT: snprintf(num, sizeof num, "%ld", v.i), sb_puts(b, num); break;
        case PV_REAL: sb_json_double(b, v.d); break;
        default: sb_json_string(b, n->str ? n->str : "");
        }
        return;
    }
    int map = n->kind == YNODE_MAP;
    sb_puts(b, map ? "{" : "[");
    for (int i = 0; i < n->n; i++) {
        if (i)
            sb_puts(b, ",");
        if (map) {
            sb_json_string(b, n->keys[i]);
            sb_puts(b, ":");
        }
        json_of(b, n->items[i]);
    }
    sb_puts(b, map ? "}" : "]");
}

char *params_config_json(const ynode *root)
{
    sbuf b = {0};
    json_of(&b, root);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- rows ------------------------------------------------------------------------ */

typedef struct flattener {
    results *r;
    sqlite3_stmt *insert; /* ?1 run_id (bound once), ?2 key, ?3 value */
    sbuf key;
} flattener;

static int bind_scalar(sqlite3_stmt *st, const ynode *n)
{
    param_value v = scalar_value(n);
    switch (v.kind) {
    case PV_NULL: return sqlite3_bind_null(st, 3);
    case PV_BOOL:
    case PV_INT: return sqlite3_bind_int64(st, 3, v.i);
    case PV_REAL: return sqlite3_bind_double(st, 3, v.d);
    default: return sqlite3_bind_text(st, 3, n->str ? n->str : "", -1, SQLITE_STATIC);
    }
}

/* One row: the current key and n's value (a list: its JSON text). */
static int insert_row(flattener *f, const ynode *n)
{
    char *json = NULL;
    int rc = sqlite3_bind_text(f->insert, 2, f->key.p, -1, SQLITE_STATIC);
    if (n->kind == YNODE_SCALAR)
        rc |= bind_scalar(f->insert, n);
    else if (!(json = params_config_json(n)))
        rc = SQLITE_NOMEM;
    else
        rc |= sqlite3_bind_text(f->insert, 3, json, -1, free);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(f->insert);
    sqlite3_reset(f->insert);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Rows for n under the current key (empty at the root), recursively. */
static int flatten(flattener *f, const ynode *n)
{
    if (f->key.len && n->kind != YNODE_MAP && insert_row(f, n))
        return -1;
    if (n->kind == YNODE_SCALAR)
        return 0;
    size_t len = f->key.len;
    for (int i = 0; i < n->n; i++) {
        char index[24];
        snprintf(index, sizeof index, "%d", i);
        if (len)
            sb_puts(&f->key, ".");
        sb_puts(&f->key, n->kind == YNODE_MAP ? n->keys[i] : index);
        int rc = f->key.failed ? -1 : flatten(f, n->items[i]);
        f->key.len = len;
        if (f->key.p)
            f->key.p[len] = 0;
        if (rc)
            return -1;
    }
    return 0;
}

static int exec_sql(results *r, const char *sql, strata_err *err)
{
    return sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : results_fail(r, err, "recording the run's parameters");
}

/* Inside the savepoint: config_json, then the rows. */
static int write_params(results *r, int64_t run_id, const ynode *root, strata_err *err)
{
    char *json = params_config_json(root);
    if (!json)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory writing the run's configuration", r->path);
    sqlite3_stmt *st;
    if (results_prepare(r, "UPDATE runs SET config_json = ?1 WHERE id = ?2", &st, err)) {
        free(json);
        return -1;
    }
    int rc = sqlite3_bind_text(st, 1, json, -1, free) | sqlite3_bind_int64(st, 2, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "recording the run's configuration as JSON");
    if (results_prepare(r, "DELETE FROM run_params WHERE run_id = ?1", &st, err))
        return -1;
    rc = sqlite3_bind_int64(st, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "replacing the run's parameters");
    flattener f = {.r = r};
    if (results_prepare(r, "INSERT OR REPLACE INTO run_params(run_id, key, value) VALUES (?1, ?2, ?3)", &f.insert,
                        err))
        return -1;
    rc = sqlite3_bind_int64(f.insert, 1, run_id) == SQLITE_OK ? flatten(&f, root) : -1;
    sqlite3_finalize(f.insert);
    free(f.key.p);
    return rc ? results_fail(r, err, "recording the run's parameters") : 0;
}

int results_run_params(results *r, int64_t run_id, const ynode *root, strata_err *err)
{
    if (exec_sql(r, "SAVEPOINT run_params", err))
        return -1;
    if (write_params(r, run_id, root, err)) {
        sqlite3_exec(r->db, "ROLLBACK TO run_params; RELEASE run_params", NULL, NULL, NULL);
        return -1;
    }
    return exec_sql(r, "RELEASE run_params", err);
}

int results_run_params_yaml(results *r, int64_t run_id, const char *yaml, strata_err *err)
{
    char name[64];
    snprintf(name, sizeof name, "runs.config of run %lld", (long long)run_id);
    ynode *root = yaml_load_string(yaml ? yaml : "", name, err);
    if (!root)
        return -1;
    int rc = results_run_params(r, run_id, root, err);
    ynode_free(root);
    return rc;
}

/* ---- the version 4 back-fill ----------------------------------------------------- */

typedef struct old_run {
    int64_t id;
    char *config;
} old_run;

/* The runs without config_json (read in full before writing). */
static int runs_to_fill(results *r, old_run **out, int *n, strata_err *err)
{
    sqlite3_stmt *st;
    *out = NULL, *n = 0;
    if (results_prepare(r, "SELECT id, config FROM runs WHERE config_json IS NULL AND config IS NOT NULL ORDER BY id",
                        &st, err))
        return -1;
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            old_run *grown = realloc(*out, cap * sizeof *grown);
            if (!grown)
                break;
            *out = grown;
        }
        const unsigned char *text = sqlite3_column_text(st, 1);
        (*out)[*n].id = sqlite3_column_int64(st, 0);
        if (!((*out)[*n].config = strdup(text ? (const char *)text : "")))
            break;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    for (int i = 0; i < *n; i++)
        free((*out)[i].config);
    free(*out);
    *out = NULL, *n = 0;
    return rc == SQLITE_ROW ? err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory reading the runs' configurations",
                                      r->path)
                            : results_fail(r, err, "reading the runs' configurations");
}

int results_params_backfill(results *r, strata_err *err)
{
    old_run *runs;
    int n, rc = 0;
    if (runs_to_fill(r, &runs, &n, err))
        return -1;
    for (int i = 0; i < n && !rc; i++) {
        strata_err bad = {0};
        char name[64];
        snprintf(name, sizeof name, "runs.config of run %lld", (long long)runs[i].id);
        ynode *root = yaml_load_string(runs[i].config, name, &bad);
        if (!root)
            fprintf(stderr, "strata: warning: %s: run %lld keeps no run_params: %s\n", r->path,
                    (long long)runs[i].id, bad.msg);
        else if (root->kind == YNODE_MAP)
            rc = results_run_params(r, runs[i].id, root, err);
        ynode_free(root);
    }
    for (int i = 0; i < n; i++)
        free(runs[i].config);
    free(runs);
    return rc;
}

/* ---- reading back ------------------------------------------------------------------ */

int results_params_table(results *r, int64_t run_id, results_table *out, strata_err *err)
{
    return results_run_rows(r, "SELECT key, value FROM run_params WHERE run_id = ?1 ORDER BY key", run_id, out,
                            "reading the run's parameters", err);
}

int results_config_json(results *r, int64_t run_id, char **out, strata_err *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    if (results_prepare(r, "SELECT config_json FROM runs WHERE id = ?1", &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    const unsigned char *text = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (text && !(*out = strdup((const char *)text)))
        rc = SQLITE_NOMEM;
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return 0;
    return results_fail(r, err, "reading the run's configuration as JSON");
}
