/* manage.c — tags, notes and deleting runs; see manage.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "store/manage.h"
#include "store/results_sqlite.h"

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* Prepare sql, bind ?1 = id (and ?2, ?3 = texts when given), step once. */
static int run_statement(results *r, const char *sql, int64_t id, const char *a, const char *b, const char *what,
                         strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, sql, &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (a)
        rc |= sqlite3_bind_text(st, 2, a, -1, SQLITE_STATIC);
    if (b)
        rc |= sqlite3_bind_text(st, 3, b, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : results_fail(r, err, what);
}

int results_tag_set(results *r, int64_t run_id, const char *key, const char *value, strata_err *err)
{
    if (!key || !*key)
        return err_set(err, STRATA_ERR_CONFIG, "%s: empty tag key (expected KEY=VALUE)", r->path);
    run_record rec;
    if (results_get_run(r, run_id, &rec, err)) /* names a missing run */
        return -1;
    run_record_free(&rec);
    if (!value || !*value)
        return run_statement(r, "DELETE FROM run_tags WHERE run_id = ?1 AND key = ?2", run_id, key, NULL,
                             "deleting a tag", err);
    return run_statement(r,
                         "INSERT OR REPLACE INTO run_tags(run_id, key, value, created_at)"
                         " VALUES (?1, ?2, ?3, " NOW_SQL ")",
                         run_id, key, value, "recording a tag", err);
}

int results_tags_set_args(results *r, int64_t run_id, char *const *args, int n, strata_err *err)
{
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(args[i], '=');
        if (!eq || eq == args[i])
            return err_set(err, STRATA_ERR_CONFIG, "--tag: expected KEY=VALUE, got '%s'", args[i]);
        char *key = strndup(args[i], (size_t)(eq - args[i]));
        if (!key)
            return err_set(err, STRATA_ERR_RUNTIME, "out of memory");
        int rc = results_tag_set(r, run_id, key, eq + 1, err);
        free(key);
        if (rc)
            return -1;
    }
    return 0;
}

int results_tags_table(results *r, int64_t run_id, results_table *out, strata_err *err)
{
    return results_run_rows(r, "SELECT key, value, created_at FROM run_tags WHERE run_id = ?1 ORDER BY key", run_id,
                            out, "reading the run's tags", err);
}

/* Every row that belongs to a run, children before parents. */
static const char *const delete_sql[] = {
    "DELETE FROM eval_predictions WHERE eval_id IN (SELECT id FROM evals WHERE run_id = ?1)",
    "DELETE FROM eval_confusion WHERE eval_id IN (SELECT id FROM evals WHERE run_id = ?1)",
    "DELETE FROM eval_classes WHERE eval_id IN (SELECT id FROM evals WHERE run_id = ?1)",
    "DELETE FROM evals WHERE run_id = ?1",
    "DELETE FROM epoch_classes WHERE run_id = ?1",
    "DELETE FROM epochs WHERE run_id = ?1",
    "DELETE FROM run_classes WHERE run_id = ?1",
    "DELETE FROM run_samples WHERE run_id = ?1",
    "DELETE FROM run_skipped WHERE run_id = ?1",
    "DELETE FROM run_params WHERE run_id = ?1",
    "DELETE FROM run_tags WHERE run_id = ?1",
    "DELETE FROM run_resumes WHERE run_id = ?1",
    "UPDATE runs SET parent_id = NULL WHERE parent_id = ?1",
    "DELETE FROM runs WHERE id = ?1",
};

static int delete_rows(results *r, int64_t run_id, strata_err *err)
{
    for (size_t i = 0; i < sizeof delete_sql / sizeof delete_sql[0]; i++)
        if (run_statement(r, delete_sql[i], run_id, NULL, NULL, "deleting a run", err))
            return -1;
    return 0;
}

int results_run_delete(results *r, int64_t run_id, strata_err *err)
{
    if (sqlite3_exec(r->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return results_fail(r, err, "deleting a run");
    run_record rec;
    int rc = results_get_run(r, run_id, &rec, err);
    if (rc == 0 && rec.status && !strcmp(rec.status, "running"))
        rc = err_set(err, STRATA_ERR_CONFIG,
                     "%s: run %lld (%s) is running (pid %lld on %s); stop it first", r->path, (long long)run_id,
                     rec.name ? rec.name : "", (long long)rec.pid, rec.host ? rec.host : "?");
    run_record_free(&rec); /* zeroed by results_get_run even when it fails */
    if (rc == 0)
        rc = delete_rows(r, run_id, err);
    if (rc == 0 && sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    if (rc == 0)
        rc = results_fail(r, err, "deleting a run");
    sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
