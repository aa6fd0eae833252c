/* results.c — the SQLite results store; see results.h. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "store/params.h"
#include "store/results_sqlite.h"

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

/* ---- schema and migrations ---------------------------------------------- */

/*
 * migrations[v] takes a database from user_version v to v + 1: first
 * `prepare` (may be NULL) fixes up what an older database has, then `sql`
 * runs; both in one transaction with the new user_version. Later versions
 * append here; never edit a step that has shipped.
 */
typedef struct migration {
    int (*prepare)(results *r, strata_err *err);
    const char *sql;
    int (*finish)(results *r, strata_err *err); /* after sql (may be NULL) */
} migration;

/* A column that an older (version 0) table may lack. `required` columns
 * cannot be added by ALTER TABLE (keys): a table without them is refused. */
typedef struct column_spec {
    const char *table, *name, *decl;
    int required;
} column_spec;

static const column_spec v1_columns[] = {
    {"runs", "id", "INTEGER PRIMARY KEY", 1},
    {"runs", "name", "TEXT", 0},
    {"runs", "experiment", "TEXT", 0},
    {"runs", "config", "TEXT", 0},
    {"runs", "model", "TEXT", 0},
    {"runs", "status", "TEXT CHECK(status IN "
                       "('running','finished','failed','interrupted'))", 0},
    {"runs", "created_at", "TEXT", 0},
    {"runs", "finished_at", "TEXT", 0},
    {"runs", "seed", "INTEGER", 0},
    {"runs", "params", "INTEGER", 0},
    {"runs", "parent_id", "INTEGER REFERENCES runs(id)", 0},
    {"runs", "sweep_id", "INTEGER", 0},
    {"runs", "host", "TEXT", 0},
    {"runs", "pid", "INTEGER", 0},
    {"epochs", "run_id", "INTEGER", 1},
    {"epochs", "epoch", "INTEGER", 1},
    {"epochs", "train_loss", "REAL", 0},
    {"epochs", "train_acc", "REAL", 0},
    {"epochs", "val_loss", "REAL", 0},
    {"epochs", "val_acc", "REAL", 0},
    {"epochs", "lr", "REAL", 0},
    {"epochs", "seconds", "REAL", 0},
    {"epochs", "images_per_sec", "REAL", 0},
};

static const char v1_sql[] =
    "CREATE TABLE IF NOT EXISTS runs("
    " id INTEGER PRIMARY KEY, name TEXT, experiment TEXT, config TEXT,"
    " model TEXT, status TEXT CHECK(status IN"
    " ('running','finished','failed','interrupted')),"
    " created_at TEXT, finished_at TEXT, seed INTEGER, params INTEGER,"
    " parent_id INTEGER REFERENCES runs(id), sweep_id INTEGER, host TEXT,"
    " pid INTEGER);"
    "CREATE TABLE IF NOT EXISTS epochs("
    " run_id INTEGER REFERENCES runs(id), epoch INTEGER, train_loss REAL,"
    " train_acc REAL, val_loss REAL, val_acc REAL, lr REAL, seconds REAL,"
    " images_per_sec REAL, PRIMARY KEY(run_id, epoch));"
    "CREATE TABLE IF NOT EXISTS run_classes("
    " run_id INTEGER REFERENCES runs(id), idx INTEGER, name TEXT,"
    " PRIMARY KEY(run_id, idx));"
    "CREATE TABLE IF NOT EXISTS run_samples("
    " run_id INTEGER REFERENCES runs(id),"
    " split TEXT CHECK(split IN ('train','val')), path TEXT, label INTEGER);"
    "CREATE TABLE IF NOT EXISTS run_skipped("
    " run_id INTEGER REFERENCES runs(id), path TEXT, reason TEXT);"
    "CREATE TABLE IF NOT EXISTS sweeps("
    " id INTEGER PRIMARY KEY, file TEXT, grid TEXT, created_at TEXT);"
    "CREATE INDEX IF NOT EXISTS runs_by_name ON runs(name, id);"
    "CREATE INDEX IF NOT EXISTS run_samples_by_run ON run_samples(run_id, split);"
    "CREATE INDEX IF NOT EXISTS run_skipped_by_run ON run_skipped(run_id);";

/* 1 if table.column exists, 0 if not, -1 on error; *table_exists set. */
static int has_column(results *r, const char *table, const char *column,
                      int *table_exists, strata_err *err)
{
    *table_exists = 0;
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: %s", r->path,
                       sqlite3_errmsg(r->db));
    int found = 0, rc;
    *table_exists = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *table_exists = 1;
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (name && strcmp(name, column) == 0)
            found = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: %s", r->path,
                       sqlite3_errmsg(r->db));
    return found;
}

/* Version 0 may hold runs/epochs tables from before the schema had all its
 * columns: add the missing ones (CREATE TABLE IF NOT EXISTS keeps the old). */
static int v1_add_missing_columns(results *r, strata_err *err)
{
    int n = (int)(sizeof v1_columns / sizeof v1_columns[0]);
    for (int i = 0; i < n; i++) {
        const column_spec *c = &v1_columns[i];
        int exists;
        int has = has_column(r, c->table, c->name, &exists, err);
        if (has < 0)
            return -1;
        if (!exists || has)
            continue;
        if (c->required)
            return err_set(err, STRATA_ERR_RUNTIME,
                           "%s: table %s has no column %s; cannot migrate it "
                           "to schema version 1 (move the file aside)",
                           r->path, c->table, c->name);
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", c->table,
                 c->name, c->decl);
        if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return err_set(err, STRATA_ERR_RUNTIME, "%s: adding %s.%s: %s",
                           r->path, c->table, c->name, sqlite3_errmsg(r->db));
    }
    return 0;
}

/* run_summary's columns as version 2 made them (version 4 adds more). */
#define RUN_SUMMARY_V2_COLUMNS \
    " r.id AS run_id, r.name, r.model, r.status, r.sweep_id, r.sweep_point, r.params," \
    " (SELECT count(*) FROM epochs e WHERE e.run_id = r.id) AS epochs," \
    " (SELECT max(e.val_acc) FROM epochs e WHERE e.run_id = r.id) AS best_val_acc," \
    " (SELECT e.epoch FROM epochs e WHERE e.run_id = r.id ORDER BY e.val_acc DESC, e.epoch LIMIT 1) AS best_epoch," \
    " (SELECT max(e.epoch) FROM epochs e WHERE e.run_id = r.id) AS last_epoch," \
    " (SELECT e.val_acc FROM epochs e WHERE e.run_id = r.id ORDER BY e.epoch DESC LIMIT 1) AS last_val_acc," \
    " (SELECT sum(e.seconds) FROM epochs e WHERE e.run_id = r.id) AS total_seconds," \
    " (SELECT avg(e.images_per_sec) FROM epochs e WHERE e.run_id = r.id) AS images_per_sec," \
    " r.created_at, r.finished_at"

/* Version 2: the sweep point a run stands for, and the summary views. */
static const char v2_sql[] =
    "ALTER TABLE runs ADD COLUMN sweep_point TEXT;"
    "CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs(sweep_id, sweep_point);"
    "CREATE VIEW IF NOT EXISTS run_summary AS SELECT"
    RUN_SUMMARY_V2_COLUMNS " FROM runs r;"
    "CREATE VIEW IF NOT EXISTS sweep_summary AS SELECT"
    " s.id AS sweep_id, s.file, rs.sweep_point AS point, rs.run_id, rs.name, rs.model, rs.status,"
    " rs.epochs, rs.best_val_acc, rs.best_epoch, rs.last_val_acc, rs.total_seconds"
    " FROM sweeps s JOIN run_summary rs ON rs.sweep_id = s.id;";

/* Version 3: runs.heartbeat_at, refreshed by the process training the run
 * (results_heartbeat), so that a run of another host whose process is gone
 * can be told from one that is training. Added only when missing. */
static int add_missing_columns(results *r, const column_spec *cols, int n, strata_err *err);
static int v3_add_heartbeat(results *r, strata_err *err)
{
    static const column_spec col = {"runs", "heartbeat_at", "TEXT", 0};
    return add_missing_columns(r, &col, 1, err);
}

/* Version 4: evaluations (strata eval), per-class counts of each epoch's
 * validation, the resolved configuration as JSON and as flat key/value rows,
 * tags and notes, why a run stopped, and the command-line overrides that are
 * part of a sweep's identity. run_summary is rebuilt with the common
 * hyper-parameters as columns (max_epochs is train.epochs; epochs stays the
 * number of epochs recorded). */
static const char v4_sql[] =
    "CREATE TABLE IF NOT EXISTS run_params("
    " run_id INTEGER REFERENCES runs(id), key TEXT, value,"
    " PRIMARY KEY(run_id, key));"
    "CREATE INDEX IF NOT EXISTS run_params_by_key ON run_params(key, value);"
    "CREATE TABLE IF NOT EXISTS run_tags("
    " run_id INTEGER REFERENCES runs(id), key TEXT, value TEXT,"
    " created_at TEXT, PRIMARY KEY(run_id, key));"
    "CREATE TABLE IF NOT EXISTS epoch_classes("
    " run_id INTEGER REFERENCES runs(id), epoch INTEGER, class TEXT,"
    " n INTEGER, correct INTEGER, PRIMARY KEY(run_id, epoch, class));"
    "CREATE TABLE IF NOT EXISTS evals("
    " id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id),"
    " checkpoint TEXT, data TEXT, created_at TEXT, loss REAL, acc REAL,"
    " n INTEGER);"
    "CREATE INDEX IF NOT EXISTS evals_by_run ON evals(run_id);"
    "CREATE TABLE IF NOT EXISTS eval_classes("
    " eval_id INTEGER REFERENCES evals(id), class TEXT, n INTEGER,"
    " correct INTEGER, precision REAL, recall REAL,"
    " PRIMARY KEY(eval_id, class));"
    "CREATE TABLE IF NOT EXISTS eval_confusion("
    " eval_id INTEGER REFERENCES evals(id), true_class TEXT,"
    " pred_class TEXT, n INTEGER, PRIMARY KEY(eval_id, true_class, pred_class));"
    "CREATE TABLE IF NOT EXISTS eval_predictions("
    " eval_id INTEGER REFERENCES evals(id), path TEXT, true_class TEXT,"
    " pred_class TEXT, prob REAL);"
    "CREATE INDEX IF NOT EXISTS eval_predictions_by_eval ON eval_predictions(eval_id);"
    "DROP VIEW IF EXISTS sweep_summary;"
    "DROP VIEW IF EXISTS run_summary;"
    "CREATE VIEW run_summary AS SELECT"
    RUN_SUMMARY_V2_COLUMNS ","
    " (SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = 'model.input_size') AS input_size,"
    " (SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = 'train.batch_size') AS batch_size,"
    " (SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = 'optimizer.lr') AS lr,"
    " (SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = 'optimizer.name') AS optimizer,"
    " (SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = 'train.epochs') AS max_epochs,"
    " r.stop_reason FROM runs r;"
    "CREATE VIEW sweep_summary AS SELECT"
    " s.id AS sweep_id, s.file, rs.sweep_point AS point, rs.run_id, rs.name, rs.model, rs.status,"
    " rs.epochs, rs.best_val_acc, rs.best_epoch, rs.last_val_acc, rs.total_seconds"
    " FROM sweeps s JOIN run_summary rs ON rs.sweep_id = s.id;";

/* Add the columns of cols[0..n) that an existing table lacks (a table that
 * does not exist yet gets them from its CREATE TABLE). */
static int add_missing_columns(results *r, const column_spec *cols, int n, strata_err *err)
{
    for (int i = 0; i < n; i++) {
        int exists, has = has_column(r, cols[i].table, cols[i].name, &exists, err);
        if (has < 0)
            return -1;
        if (has || !exists)
            continue;
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", cols[i].table, cols[i].name,
                 cols[i].decl);
        if (sqlite3_exec(r->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            return err_set(err, STRATA_ERR_RUNTIME, "%s: adding %s.%s: %s", r->path, cols[i].table,
                           cols[i].name, sqlite3_errmsg(r->db));
    }
    return 0;
}

/* Version 4's new columns. */
static int v4_add_columns(results *r, strata_err *err)
{
    static const column_spec cols[] = {
        {"runs", "config_json", "TEXT", 0},
        {"runs", "stop_reason", "TEXT", 0},
        {"sweeps", "overrides", "TEXT NOT NULL DEFAULT ''", 0},
    };
    return add_missing_columns(r, cols, (int)(sizeof cols / sizeof cols[0]), err);
}

/* Version 5: how many MPI processes trained a run (ranks), and their host
 * names, comma-separated (hosts). */
static int v5_add_columns(results *r, strata_err *err)
{
    static const column_spec cols[] = {
        {"runs", "ranks", "INTEGER NOT NULL DEFAULT 1", 0},
        {"runs", "hosts", "TEXT", 0},
    };
    return add_missing_columns(r, cols, (int)(sizeof cols / sizeof cols[0]), err);
}

/* Version 5's table: where `strata resume` continued a run (epoch = the
 * last epoch kept; the resume trains epoch + 1 on). */
static const char v5_sql[] =
    "CREATE TABLE IF NOT EXISTS run_resumes("
    " run_id INTEGER REFERENCES runs(id), epoch INTEGER, created_at TEXT,"
    " PRIMARY KEY(run_id, epoch));";

/* Version 6: evals.epoch, the epoch the evaluated checkpoint is from ("best"
 * follows train.checkpoint_monitor and moves as a run goes on; NULL for
 * evaluations recorded before). */
static int v6_add_columns(results *r, strata_err *err)
{
    static const column_spec col = {"evals", "epoch", "INTEGER", 0};
    return add_missing_columns(r, &col, 1, err);
}

static const migration migrations[] = {
    {v1_add_missing_columns, v1_sql, NULL}, /* 0 -> 1 */
    {NULL, v2_sql, NULL},                   /* 1 -> 2 */
    {v3_add_heartbeat, "", NULL},           /* 2 -> 3 */
    {v4_add_columns, v4_sql, results_params_backfill}, /* 3 -> 4 (params.c) */
    {v5_add_columns, v5_sql, NULL},                      /* 4 -> 5 */
    {v6_add_columns, "", NULL},                          /* 5 -> 6 */
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(sizeof migrations / sizeof migrations[0] ==
                   RESULTS_SCHEMA_VERSION,
               "one migration per schema version");

/* ---- small helpers ------------------------------------------------------- */

int results_fail(results *r, strata_err *err, const char *what)
{
    return err_set(err, STRATA_ERR_RUNTIME, "%s: %s: %s", r->path, what,
                   sqlite3_errmsg(r->db));
}

static int exec(results *r, const char *sql, strata_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    err_set(err, STRATA_ERR_RUNTIME, "%s: %s", r->path,
            msg ? msg : sqlite3_errmsg(r->db));
    sqlite3_free(msg);
    return -1;
}

int results_prepare(results *r, const char *sql, sqlite3_stmt **st,
                    strata_err *err)
{
    if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    *st = NULL;
    return results_fail(r, err, "preparing a query");
}

static int user_version(results *r, int *v, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "PRAGMA user_version", &st, err))
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return results_fail(r, err, "reading the schema version");
    return 0;
}

static int run_exists(results *r, int64_t run_id, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "SELECT 1 FROM runs WHERE id = ?", &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "looking up a run");
    return err_set(err, STRATA_ERR_CONFIG, "%s: no run with id %lld", r->path,
                   (long long)run_id);
}

/* ---- open ---------------------------------------------------------------- */

/* Create the parent directory of path if it is missing (one level). */
static int make_parent(const char *path, strata_err *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    size_t n = (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory", path);
    memcpy(dir, path, n);
    dir[n] = 0;
    struct stat sb;
    int rc = 0;
    if (stat(dir, &sb) != 0) {
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            rc = err_set(err, STRATA_ERR_RUNTIME,
                         "%s: cannot create directory %s: %s", path, dir,
                         strerror(errno));
    } else if (!S_ISDIR(sb.st_mode)) {
        rc = err_set(err, STRATA_ERR_RUNTIME, "%s: %s is not a directory",
                     path, dir);
    }
    free(dir);
    return rc;
}

/* How long to wait for a database another process keeps locked: env
 * STRATA_DB_TIMEOUT seconds (0 .. 86400), default RESULTS_BUSY_TIMEOUT. */
static int busy_timeout_ms(void)
{
    const char *v = getenv("STRATA_DB_TIMEOUT");
    char *end;
    double sec = v && *v ? strtod(v, &end) : RESULTS_BUSY_TIMEOUT;
    static int warned;
    if (v && *v && (*end || !(sec >= 0 && sec <= 86400))) {
        if (!warned++)
            fprintf(stderr, "strata: warning: STRATA_DB_TIMEOUT='%s' is not a number of seconds in 0..86400; "
                        "using %d\n", v, RESULTS_BUSY_TIMEOUT);
        sec = RESULTS_BUSY_TIMEOUT;
    }
    return (int)(sec * 1000);
}

static int set_pragmas(results *r, strata_err *err)
{
    if (sqlite3_busy_timeout(r->db, busy_timeout_ms()) != SQLITE_OK)
        return results_fail(r, err, "setting the busy timeout");
    if (exec(r, "PRAGMA foreign_keys = ON", err))
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "PRAGMA journal_mode = WAL", -1, &st,
                           NULL) != SQLITE_OK)
        return results_fail(r, err, "cannot open database");
    int rc = sqlite3_step(st);
    const char *mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    int wal = mode && strcmp(mode, "wal") == 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return results_fail(r, err, "cannot open database");
    if (!wal)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: cannot switch to WAL journal mode", r->path);
    return 0;
}

/* Apply migration v (v -> v+1) unless another process did it already. */
static int migrate_one(results *r, int v, strata_err *err)
{
    if (exec(r, "BEGIN IMMEDIATE", err))
        return -1;
    int now = -1;
    if (user_version(r, &now, err))
        goto fail;
    if (now != v) { /* someone else migrated meanwhile */
        exec(r, "ROLLBACK", NULL);
        return 0;
    }
    if (migrations[v].prepare && migrations[v].prepare(r, err))
        goto fail;
    if (exec(r, migrations[v].sql, err))
        goto fail;
    if (migrations[v].finish && migrations[v].finish(r, err))
        goto fail;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
    if (exec(r, sql, err) || exec(r, "COMMIT", err))
        goto fail;
    return 0;
fail:
    exec(r, "ROLLBACK", NULL);
    return -1;
}

static int migrate(results *r, strata_err *err)
{
    for (;;) {
        int v = 0;
        if (user_version(r, &v, err))
            return -1;
        if (v > N_MIGRATIONS)
            return err_set(err, STRATA_ERR_RUNTIME,
                           "%s: schema version %d was written by a newer "
                           "strata (this one knows up to %d); upgrade strata",
                           r->path, v, N_MIGRATIONS);
        if (v < 0)
            return err_set(err, STRATA_ERR_RUNTIME,
                           "%s: invalid schema version %d", r->path, v);
        if (v == N_MIGRATIONS)
            return 0;
        if (migrate_one(r, v, err))
            return -1;
    }
}

/* Is the process pid of this host gone? (kill(pid, 0): ESRCH.) */
static int pid_gone(int64_t pid)
{
    return pid <= 0 || pid > 0x7fffffff || (kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}

/* Runs left 'running' by a process that is gone (SIGKILL, power loss)
 * become 'interrupted': those of this host whose pid is no longer alive,
 * and those of other hosts without a heartbeat for RESULTS_STALE_SECONDS
 * (a run recorded before heartbeats, heartbeat_at NULL, is left as it is). */
static int interrupt_dead_runs(results *r, strata_err *err)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        return 0;
    sqlite3_stmt *st;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT id, pid, host IS ?1 FROM runs WHERE status = 'running' AND (host IS ?1 OR"
             " heartbeat_at < strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now', '-%d seconds'))",
             RESULTS_STALE_SECONDS);
    if (results_prepare(r, sql, &st, err))
        return -1;
    int64_t dead[64][2];
    int n = 0, rc = sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 1);
        int here = sqlite3_column_int(st, 2);
        if (n < 64 && (!here || (pid != (int64_t)getpid() && pid_gone(pid)))) {
            dead[n][0] = sqlite3_column_int64(st, 0);
            dead[n++][1] = pid;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return results_fail(r, err, "looking for runs whose process is gone");
    /* Best effort, without waiting: a database another process keeps locked
     * or that we may only read shows these runs as recorded this time. */
    sqlite3_busy_timeout(r->db, 0);
    int failed = 0;
    for (int i = 0; i < n && !failed; i++) { /* only if still running under that pid */
        if (results_prepare(r, "UPDATE runs SET status = 'interrupted', finished_at = " NOW_SQL
                               " WHERE id = ?1 AND status = 'running' AND pid = ?2", &st, err)) {
            failed = -1;
            break;
        }
        rc = sqlite3_bind_int64(st, 1, dead[i][0]) | sqlite3_bind_int64(st, 2, dead[i][1]);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if ((rc & 0xff) == SQLITE_READONLY || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
            break;
        if (rc != SQLITE_DONE)
            failed = results_fail(r, err, "marking a run whose process is gone as interrupted");
    }
    sqlite3_busy_timeout(r->db, busy_timeout_ms());
    return failed;
}

int results_open(const char *path, results **out, strata_err *err)
{
    *out = NULL;
    if (!path || !*path)
        return err_set(err, STRATA_ERR_CONFIG,
                       "results database: empty path (expected a file name)");
    if (make_parent(path, err))
        return -1;
    results *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return err_set(err, STRATA_ERR_RUNTIME, "%s: out of memory", path);
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &r->db, flags, NULL) != SQLITE_OK) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot open database: %s", path,
                r->db ? sqlite3_errmsg(r->db) : "out of memory");
        results_close(r);
        return -1;
    }
    if (sqlite3_extended_result_codes(r->db, 1) != SQLITE_OK) {
        results_fail(r, err, "cannot open database");
        results_close(r);
        return -1;
    }
    if (set_pragmas(r, err) || migrate(r, err) || interrupt_dead_runs(r, err)) {
        results_close(r);
        return -1;
    }
    *out = r;
    return 0;
}

int results_open_existing(const char *path, results **out, strata_err *err)
{
    *out = NULL;
    if (path && *path && access(path, F_OK) != 0)
        return err_set(err, STRATA_ERR_CONFIG, "%s: no results database here (use --db PATH)", path);
    return results_open(path, out, err);
}

void results_close(results *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    free(r->path);
    free(r);
}

sqlite3 *results_db(results *r) { return r->db; }
const char *results_path(const results *r) { return r->path; }

/* ---- runs ---------------------------------------------------------------- */

/* The binders return sqlite's code (SQLITE_OK = 0), so a statement's binds
 * can be or-ed together and checked once. */
static int bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static int bind_id_or_null(sqlite3_stmt *st, int i, int64_t id)
{
    return id ? sqlite3_bind_int64(st, i, id) : sqlite3_bind_null(st, i);
}

int results_run_begin(results *r, const run_info *info, int64_t *run_id,
                      strata_err *err)
{
    if (info->parent_id && run_exists(r, info->parent_id, err))
        return -1;
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = 0;
    sqlite3_stmt *st;
    if (results_prepare(r,
                "INSERT INTO runs(name, experiment, config, model, status,"
                " created_at, seed, params, parent_id, sweep_id, host, pid,"
                " sweep_point, heartbeat_at, ranks, hosts)"
                " VALUES (?1, ?2, ?3, ?4, 'running', " NOW_SQL ","
                " ?5, ?6, ?7, ?8, ?9, ?10, ?11, " NOW_SQL ", ?12, ?13)",
                &st, err))
        return -1;
    int rc = bind_text_or_null(st, 1, info->name) | bind_text_or_null(st, 2, info->experiment) |
             bind_text_or_null(st, 3, info->config) | bind_text_or_null(st, 4, info->model) |
             sqlite3_bind_int64(st, 5, info->seed) | sqlite3_bind_int64(st, 6, info->params) |
             bind_id_or_null(st, 7, info->parent_id) | bind_id_or_null(st, 8, info->sweep_id) |
             bind_text_or_null(st, 11, info->sweep_point) | bind_text_or_null(st, 9, host) |
             sqlite3_bind_int64(st, 10, (int64_t)getpid()) |
             sqlite3_bind_int(st, 12, info->ranks > 0 ? info->ranks : 1) | bind_text_or_null(st, 13, info->hosts);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "recording a new run");
    *run_id = sqlite3_last_insert_rowid(r->db);
    return 0;
}

/* Insert n rows (bound by `bind`) with one statement, in one transaction. */
typedef int (*bind_row_fn)(sqlite3_stmt *st, int i, const void *ctx);

static int insert_rows(results *r, const char *sql, int n, bind_row_fn bind,
                       const void *ctx, const char *what, strata_err *err)
{
    sqlite3_stmt *st;
    if (exec(r, "BEGIN IMMEDIATE", err))
        return -1;
    if (results_prepare(r, sql, &st, err)) {
        exec(r, "ROLLBACK", NULL);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (bind(st, i, ctx) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
            results_fail(r, err, what);
            sqlite3_finalize(st);
            exec(r, "ROLLBACK", NULL);
            return -1;
        }
        if (sqlite3_reset(st) != SQLITE_OK) {
            results_fail(r, err, what);
            sqlite3_finalize(st);
            exec(r, "ROLLBACK", NULL);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (exec(r, "COMMIT", err)) {
        exec(r, "ROLLBACK", NULL);
        return -1;
    }
    return 0;
}

typedef struct rows_ctx {
    int64_t run_id;
    const char *split;
    char *const *a, *const *b;
    const int *labels;
} rows_ctx;

static int bind_class(sqlite3_stmt *st, int i, const void *p)
{
    const rows_ctx *c = p;
    return sqlite3_bind_int64(st, 1, c->run_id) | sqlite3_bind_int(st, 2, i) |
           sqlite3_bind_text(st, 3, c->a[i], -1, SQLITE_STATIC);
}

int results_run_classes(results *r, int64_t run_id, int n, char *const *names,
                        strata_err *err)
{
    if (run_exists(r, run_id, err))
        return -1;
    rows_ctx c = {.run_id = run_id, .a = names};
    return insert_rows(r,
                       "INSERT INTO run_classes(run_id, idx, name)"
                       " VALUES (?, ?, ?)",
                       n, bind_class, &c, "recording the classes", err);
}

static int bind_sample(sqlite3_stmt *st, int i, const void *p)
{
    const rows_ctx *c = p;
    return sqlite3_bind_int64(st, 1, c->run_id) | sqlite3_bind_text(st, 2, c->split, -1, SQLITE_STATIC) |
           sqlite3_bind_text(st, 3, c->a[i], -1, SQLITE_STATIC) | sqlite3_bind_int(st, 4, c->labels[i]);
}

int results_run_samples(results *r, int64_t run_id, const char *split, int n,
                        char *const *paths, const int *labels,
                        strata_err *err)
{
    if (!split || (strcmp(split, "train") != 0 && strcmp(split, "val") != 0))
        return err_set(err, STRATA_ERR_CONFIG,
                       "%s: unknown split '%s' (expected train or val)",
                       r->path, split ? split : "(null)");
    if (run_exists(r, run_id, err))
        return -1;
    rows_ctx c = {.run_id = run_id, .split = split, .a = paths,
                  .labels = labels};
    return insert_rows(r,
                       "INSERT INTO run_samples(run_id, split, path, label)"
                       " VALUES (?, ?, ?, ?)",
                       n, bind_sample, &c, "recording the samples", err);
}

static int bind_skipped(sqlite3_stmt *st, int i, const void *p)
{
    const rows_ctx *c = p;
    return sqlite3_bind_int64(st, 1, c->run_id) | sqlite3_bind_text(st, 2, c->a[i], -1, SQLITE_STATIC) |
           sqlite3_bind_text(st, 3, c->b[i], -1, SQLITE_STATIC);
}

int results_run_skipped(results *r, int64_t run_id, int n, char *const *paths,
                        char *const *reasons, strata_err *err)
{
    if (run_exists(r, run_id, err))
        return -1;
    rows_ctx c = {.run_id = run_id, .a = paths, .b = reasons};
    return insert_rows(r,
                       "INSERT INTO run_skipped(run_id, path, reason)"
                       " VALUES (?, ?, ?)",
                       n, bind_skipped, &c, "recording the skipped files",
                       err);
}

int results_run_data_clear(results *r, int64_t run_id, strata_err *err)
{
    static const char *const sql[] = {"DELETE FROM run_classes WHERE run_id = ?1",
                                      "DELETE FROM run_samples WHERE run_id = ?1",
                                      "DELETE FROM run_skipped WHERE run_id = ?1"};
    if (exec(r, "BEGIN IMMEDIATE", err))
        return -1;
    for (int i = 0; i < 3; i++) {
        sqlite3_stmt *st;
        if (results_prepare(r, sql[i], &st, err)) {
            exec(r, "ROLLBACK", NULL);
            return -1;
        }
        int rc = sqlite3_bind_int64(st, 1, run_id);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            results_fail(r, err, "forgetting a run's classes and samples");
            exec(r, "ROLLBACK", NULL);
            return -1;
        }
    }
    if (exec(r, "COMMIT", err)) {
        exec(r, "ROLLBACK", NULL);
        return -1;
    }
    return 0;
}

/* ---- epochs -------------------------------------------------------------- */

int results_epoch(results *r, int64_t run_id, const epoch_row *row,
                  strata_err *err)
{
    if (run_exists(r, run_id, err))
        return -1;
    sqlite3_stmt *st;
    if (results_prepare(r,
                "INSERT INTO epochs(run_id, epoch, train_loss, train_acc,"
                " val_loss, val_acc, lr, seconds, images_per_sec)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, run_id) | sqlite3_bind_int(st, 2, row->epoch);
    const double v[7] = {row->train_loss, row->train_acc, row->val_loss,
                         row->val_acc,    row->lr,        row->seconds,
                         row->images_per_sec};
    for (int i = 0; i < 7; i++)
        rc |= sqlite3_bind_double(st, 3 + i, v[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return err_set(err, STRATA_ERR_RUNTIME,
                       "%s: run %lld already has epoch %d recorded", r->path,
                       (long long)run_id, row->epoch);
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "recording an epoch");
    return 0;
}

/* Run sql, a statement over (?1 run_id, ?2 epoch); what names it in an error. */
static int run_epoch_statement(results *r, const char *sql, int64_t run_id, int epoch, const char *what,
                               strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, sql, &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, run_id) | sqlite3_bind_int(st, 2, epoch);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return results_fail(r, err, what);
    return 0;
}

/* Delete run_id's rows after `epoch` (sql: ?1 run, ?2 epoch). */
static int forget_after(results *r, const char *sql, int64_t run_id, int epoch, strata_err *err)
{
    return run_epoch_statement(r, sql, run_id, epoch, "forgetting epochs", err);
}

int results_run_resumed(results *r, int64_t run_id, int epoch, strata_err *err)
{
    return run_epoch_statement(r,
                               "INSERT OR REPLACE INTO run_resumes(run_id, epoch, created_at)"
                               " VALUES (?1, ?2, " NOW_SQL ")",
                               run_id, epoch, "recording a resume", err);
}

int results_epochs_truncate(results *r, int64_t run_id, int epoch,
                            strata_err *err)
{
    if (exec(r, "BEGIN IMMEDIATE", err))
        return -1;
    if (forget_after(r, "DELETE FROM run_resumes WHERE run_id = ?1 AND epoch > ?2", run_id, epoch, err) ||
        forget_after(r, "DELETE FROM epoch_classes WHERE run_id = ?1 AND epoch > ?2", run_id, epoch, err) ||
        forget_after(r, "DELETE FROM epochs WHERE run_id = ?1 AND epoch > ?2", run_id, epoch, err) ||
        exec(r, "COMMIT", err)) {
        exec(r, "ROLLBACK", NULL);
        return -1;
    }
    return 0;
}

/* ---- updates ------------------------------------------------------------- */

/* Run an UPDATE of one run bound to (?1 = value, ?2 = run_id). */
static int update_run(results *r, const char *sql, const char *value,
                      int64_t run_id, const char *what, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, sql, &st, err))
        return -1;
    int rc = bind_text_or_null(st, 1, value) | sqlite3_bind_int64(st, 2, run_id);
    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 4) {
        char host[256] = "";
        if (gethostname(host, sizeof host - 1) != 0)
            host[0] = 0;
        rc = sqlite3_bind_text(st, 3, host, -1, SQLITE_TRANSIENT) | sqlite3_bind_int64(st, 4, (int64_t)getpid());
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return results_fail(r, err, what);
    if (sqlite3_changes(r->db) == 0)
        return err_set(err, STRATA_ERR_CONFIG, "%s: no run with id %lld",
                       r->path, (long long)run_id);
    return 0;
}

int results_run_status(results *r, int64_t run_id, const char *status,
                       strata_err *err)
{
    static const char *const ok[] = {"running", "finished", "failed",
                                     "interrupted"};
    int known = 0;
    for (int i = 0; i < 4 && status; i++)
        known |= strcmp(status, ok[i]) == 0;
    if (!known)
        return err_set(err, STRATA_ERR_CONFIG,
                       "%s: unknown run status '%s' (expected running, "
                       "finished, failed or interrupted)",
                       r->path, status ? status : "(null)");
    if (strcmp(status, "running") == 0) /* resumed: this process runs it now */
        return update_run(r,
                          "UPDATE runs SET status = ?1, finished_at = NULL, host = ?3, pid = ?4,"
                          " heartbeat_at = " NOW_SQL " WHERE id = ?2",
                          status, run_id, "setting the run status", err);
    return update_run(r,
                      "UPDATE runs SET status = ?1, finished_at = " NOW_SQL
                      " WHERE id = ?2",
                      status, run_id, "setting the run status", err);
}

int results_heartbeat(results *r, int64_t run_id, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "UPDATE runs SET heartbeat_at = " NOW_SQL " WHERE id = ?1", &st, err))
        return -1;
    sqlite3_busy_timeout(r->db, 0); /* never wait: the next beat will do */
    int rc = sqlite3_bind_int64(st, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    sqlite3_busy_timeout(r->db, busy_timeout_ms());
    if (rc == SQLITE_DONE || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return 0;
    return results_fail(r, err, "recording the run's heartbeat");
}

int results_run_ranks(results *r, int64_t run_id, int ranks, const char *hosts, strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "UPDATE runs SET ranks = ?1, hosts = ?2 WHERE id = ?3", &st, err))
        return -1;
    int rc = sqlite3_bind_int(st, 1, ranks > 0 ? ranks : 1) | bind_text_or_null(st, 2, hosts) |
             sqlite3_bind_int64(st, 3, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : results_fail(r, err, "recording the run's ranks");
}

int results_run_config(results *r, int64_t run_id, const char *config,
                       strata_err *err)
{
    return update_run(r, "UPDATE runs SET config = ?1 WHERE id = ?2", config,
                      run_id, "replacing the run config", err);
}

/* ---- reading back -------------------------------------------------------- */

static char *column_strdup(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? strdup((const char *)s) : NULL;
}

int results_get_run(results *r, int64_t run_id, run_record *out,
                    strata_err *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (results_prepare(r,
                "SELECT id, seed, params, parent_id, sweep_id, pid, name,"
                " experiment, config, model, status, created_at,"
                " finished_at, host, ranks, hosts FROM runs WHERE id = ?",
                &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t *ints[] = {&out->id,       &out->seed,     &out->params,
                           &out->parent_id, &out->sweep_id, &out->pid};
        for (int i = 0; i < 6; i++)
            *ints[i] = sqlite3_column_int64(st, i);
        char **strs[] = {&out->name,       &out->experiment, &out->config,
                         &out->model,      &out->status,     &out->created_at,
                         &out->finished_at, &out->host};
        for (int i = 0; i < 8; i++)
            *strs[i] = column_strdup(st, 6 + i);
        out->ranks = sqlite3_column_int64(st, 14);
        out->hosts = column_strdup(st, 15);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "reading a run");
    return err_set(err, STRATA_ERR_CONFIG, "%s: no run with id %lld", r->path,
                   (long long)run_id);
}

void run_record_free(run_record *rec)
{
    char *strs[] = {rec->name,   rec->experiment, rec->config,
                    rec->model,  rec->status,     rec->created_at,
                    rec->finished_at, rec->host};
    for (int i = 0; i < 8; i++)
        free(strs[i]);
    free(rec->hosts);
    memset(rec, 0, sizeof *rec);
}

int results_last_epoch(results *r, int64_t run_id, int *epoch,
                       strata_err *err)
{
    sqlite3_stmt *st;
    if (results_prepare(r, "SELECT MAX(epoch) FROM epochs WHERE run_id = ?", &st, err))
        return -1;
    int rc = sqlite3_bind_int64(st, 1, run_id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *epoch = sqlite3_column_int(st, 0); /* NULL reads as 0 */
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return results_fail(r, err, "reading the last epoch");
    return 0;
}

static int is_number(const char *s)
{
    if (!*s || strlen(s) > 18)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int results_find_run(results *r, const char *name_or_id, int64_t *run_id,
                     strata_err *err)
{
    if (!name_or_id || !*name_or_id)
        return err_set(err, STRATA_ERR_CONFIG,
                       "%s: empty run name (expected a run id or name)",
                       r->path);
    sqlite3_stmt *st;
    if (results_prepare(r,
                "SELECT id FROM runs WHERE id = ?1"
                " UNION ALL SELECT * FROM (SELECT id FROM runs WHERE name = ?2"
                " ORDER BY id DESC LIMIT 1)",
                &st, err))
        return -1;
    int rc = is_number(name_or_id) ? sqlite3_bind_int64(st, 1, strtoll(name_or_id, NULL, 10))
                                   : sqlite3_bind_null(st, 1);
    rc |= sqlite3_bind_text(st, 2, name_or_id, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *run_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return results_fail(r, err, "looking up a run");
    return err_set(err, STRATA_ERR_CONFIG,
                   "%s: no run with id or name '%s'", r->path, name_or_id);
}
