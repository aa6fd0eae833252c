/* test_results.c — the SQLite results store (core/store/results.c). Every check
 * reads the database back with plain sqlite3 queries, as users would. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store/evals.h"
#include "store/results_sqlite.h" /* results_db: the schema checked with plain SQL */
#include "run_strata.h"
#include "testlib_db.h"
#include "testlib.h"

static char tmpdir[256];

static void setup(void)
{
    make_temp_dir(tmpdir, sizeof tmpdir, "strata-test-results");
}

static void teardown(void)
{
    fx_rm_rf(tmpdir);
}

/* tmpdir/name (see join_path). */
static const char *tmp_path(const char *name)
{
    return join_path(tmpdir, name);
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
}

static int has_col(sqlite3 *db, const char *table, const char *col)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'",
             table, col);
    return (int)q_int(db, sql);
}

static results *open_ok(const char *path)
{
    results *r = NULL;
    strata_err e = {0};
    int rc = results_open(path, &r, &e);
    ck_assert_msg(rc == 0, "results_open: %s", e.msg);
    ck_assert_ptr_nonnull(r);
    return r;
}

static int64_t begin_ok(results *r, const char *name, int64_t parent)
{
    run_info info = {.name = name, .experiment = "exp/a.yaml",
                     .config = "model: vgg\n", .model = "vgg D", .seed = 42,
                     .params = 138357544, .parent_id = parent};
    int64_t id = 0;
    strata_err e = {0};
    ck_assert_msg(results_run_begin(r, &info, &id, &e) == 0, "%s", e.msg);
    ck_assert_int_gt(id, 0);
    return id;
}

static int iso_utc(const char *s)
{
    /* YYYY-MM-DDTHH:MM:SSZ */
    const char *pat = "dddd-dd-ddTdd:dd:ddZ";
    if (!s || strlen(s) != strlen(pat))
        return 0;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return 0;
    return 1;
}

static const char *all_tables[] = {"runs",        "epochs",      "run_classes",
                                   "run_samples", "run_skipped", "sweeps"};

START_TEST(test_open_creates_schema)
{
    const char *path = tmp_path("results/strata.db");
    results *r = open_ok(path);
    struct stat sb;
    ck_assert_int_eq(stat(tmp_path("results"), &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    ck_assert_str_eq(results_path(r), path);

    sqlite3 *db = results_db(r);
    for (int i = 0; i < 6; i++) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                 "name='%s'", all_tables[i]);
        ck_assert_msg(q_int(db, sql) == 1, "table %s missing", all_tables[i]);
    }
    const char *runs_cols[] = {"id", "name", "experiment", "config", "model",
                               "status", "created_at", "finished_at", "seed",
                               "params", "parent_id", "sweep_id", "host",
                               "pid"};
    for (int i = 0; i < 14; i++)
        ck_assert_msg(has_col(db, "runs", runs_cols[i]), "runs.%s",
                      runs_cols[i]);
    const char *epoch_cols[] = {"run_id", "epoch", "train_loss", "train_acc",
                                "val_loss", "val_acc", "lr", "seconds",
                                "images_per_sec"};
    for (int i = 0; i < 9; i++)
        ck_assert_msg(has_col(db, "epochs", epoch_cols[i]), "epochs.%s",
                      epoch_cols[i]);
    ck_assert(has_col(db, "run_classes", "idx"));
    ck_assert(has_col(db, "run_samples", "label"));
    ck_assert(has_col(db, "run_skipped", "reason"));
    ck_assert(has_col(db, "sweeps", "grid"));
    ck_assert_int_eq(q_int(db, "PRAGMA user_version"), RESULTS_SCHEMA_VERSION);
    ck_assert_int_eq(q_int(db, "PRAGMA foreign_keys"), 1);
    ck_assert_int_ge(q_int(db, "PRAGMA busy_timeout"), 1000);
    char *mode = q_text(db, "PRAGMA journal_mode");
    ck_assert_str_eq(mode, "wal");
    free(mode);
    results_close(r);

    /* WAL is persistent: a plain connection sees it too; reopening is a
     * no-op for the schema. */
    sqlite3 *raw = raw_open(path);
    mode = q_text(raw, "PRAGMA journal_mode");
    ck_assert_str_eq(mode, "wal");
    free(mode);
    sqlite3_close(raw);
    r = open_ok(path);
    ck_assert_int_eq(q_int(results_db(r), "PRAGMA user_version"), RESULTS_SCHEMA_VERSION);
    results_close(r);
}
END_TEST

START_TEST(test_run_roundtrip)
{
    results *r = open_ok(tmp_path("r.db"));
    strata_err e = {0};
    int64_t id = begin_ok(r, "vgg-small", 0);

    run_record rec;
    ck_assert_int_eq(results_get_run(r, id, &rec, &e), 0);
    ck_assert_int_eq(rec.id, id);
    ck_assert_str_eq(rec.name, "vgg-small");
    ck_assert_str_eq(rec.experiment, "exp/a.yaml");
    ck_assert_str_eq(rec.config, "model: vgg\n");
    ck_assert_str_eq(rec.model, "vgg D");
    ck_assert_str_eq(rec.status, "running");
    ck_assert_int_eq(rec.seed, 42);
    ck_assert_int_eq(rec.params, 138357544);
    ck_assert_int_eq(rec.parent_id, 0);
    ck_assert_int_eq(rec.sweep_id, 0);
    ck_assert_int_eq(rec.pid, getpid());
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    ck_assert_str_eq(rec.host, host);
    ck_assert_msg(iso_utc(rec.created_at), "created_at '%s'", rec.created_at);
    ck_assert_ptr_null(rec.finished_at);
    run_record_free(&rec);
    ck_assert_ptr_null(rec.name);

    /* parent_id and sweep_id 0 are stored as NULL. */
    ck_assert_int_eq(q_int(results_db(r), "SELECT count(*) FROM runs WHERE "
                                          "parent_id IS NULL AND sweep_id IS "
                                          "NULL"), 1);

    int last = -1;
    ck_assert_int_eq(results_last_epoch(r, id, &last, &e), 0);
    ck_assert_int_eq(last, 0);
    for (int ep = 1; ep <= 3; ep++) {
        epoch_row row = {ep, 2.0 / ep, 0.25 * ep, 2.5 / ep, 0.2 * ep,
                         0.01 / ep, 10.0 + ep, 100.0 * ep};
        ck_assert_msg(results_epoch(r, id, &row, &e) == 0, "%s", e.msg);
    }
    ck_assert_int_eq(results_last_epoch(r, id, &last, &e), 0);
    ck_assert_int_eq(last, 3);

    sqlite3 *db = results_db(r);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs"), 3);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT train_loss, train_acc, val_loss,"
                                        " val_acc, lr, seconds, images_per_sec"
                                        " FROM epochs WHERE run_id = ? AND"
                                        " epoch = 2", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const double want[7] = {1.0, 0.5, 1.25, 0.4, 0.005, 12.0, 200.0};
    for (int i = 0; i < 7; i++)
        ck_assert_double_eq_tol(sqlite3_column_double(st, i), want[i], 1e-12);
    sqlite3_finalize(st);

    ck_assert_int_eq(results_run_config(r, id, "model: vgg\nepochs: 9\n", &e),
                     0);
    ck_assert_int_eq(results_run_status(r, id, "finished", &e), 0);
    ck_assert_int_eq(results_get_run(r, id, &rec, &e), 0);
    ck_assert_str_eq(rec.status, "finished");
    ck_assert_str_eq(rec.config, "model: vgg\nepochs: 9\n");
    ck_assert_msg(iso_utc(rec.finished_at), "finished_at '%s'",
                  rec.finished_at);
    ck_assert(strcmp(rec.finished_at, rec.created_at) >= 0);
    run_record_free(&rec);

    /* Resuming sets it running again and clears finished_at. */
    ck_assert_int_eq(results_run_status(r, id, "running", &e), 0);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = "
                               "'running' AND finished_at IS NULL"), 1);
    ck_assert_int_eq(results_run_status(r, id, "interrupted", &e), 0);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = "
                               "'interrupted' AND finished_at IS NOT NULL"),
                     1);
    results_close(r);
}
END_TEST

START_TEST(test_find_run_and_parent)
{
    results *r = open_ok(tmp_path("r.db"));
    strata_err e = {0};
    int64_t a = begin_ok(r, "alex", 0);
    int64_t b = begin_ok(r, "vgg", 0);
    int64_t c = begin_ok(r, "alex", a); /* a resumed child */
    int64_t got = 0;
    ck_assert_int_eq(results_find_run(r, "alex", &got, &e), 0);
    ck_assert_int_eq(got, c); /* the newest with that name */
    ck_assert_int_eq(results_find_run(r, "vgg", &got, &e), 0);
    ck_assert_int_eq(got, b);
    char idstr[32];
    snprintf(idstr, sizeof idstr, "%lld", (long long)a);
    ck_assert_int_eq(results_find_run(r, idstr, &got, &e), 0);
    ck_assert_int_eq(got, a);

    run_record rec;
    ck_assert_int_eq(results_get_run(r, c, &rec, &e), 0);
    ck_assert_int_eq(rec.parent_id, a);
    run_record_free(&rec);

    ck_assert_int_eq(results_find_run(r, "nosuch", &got, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "'nosuch'"));
    ck_assert_int_eq(results_find_run(r, "999", &got, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "'999'"));
    ck_assert_int_eq(results_find_run(r, "", &got, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);

    /* A parent that does not exist is refused. */
    run_info info = {.name = "orphan", .parent_id = 777};
    ck_assert_int_eq(results_run_begin(r, &info, &got, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "777"));
    results_close(r);
}
END_TEST

START_TEST(test_duplicate_epoch)
{
    results *r = open_ok(tmp_path("r.db"));
    strata_err e = {0};
    int64_t id = begin_ok(r, "x", 0);
    epoch_row row = {.epoch = 2, .train_loss = 1.5};
    ck_assert_int_eq(results_epoch(r, id, &row, &e), 0);
    row.train_loss = 9.0;
    ck_assert_int_eq(results_epoch(r, id, &row, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(e.msg, "epoch 2"));
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    /* The first row is kept. */
    sqlite3 *db = results_db(r);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs"), 1);
    ck_assert_int_eq(q_int(db, "SELECT train_loss * 10 FROM epochs"), 15);
    /* Another run may use the same epoch number. */
    int64_t id2 = begin_ok(r, "y", 0);
    ck_assert_int_eq(results_epoch(r, id2, &row, &e), 0);
    results_close(r);
}
END_TEST

START_TEST(test_epochs_truncate)
{
    results *r = open_ok(tmp_path("r.db"));
    strata_err e = {0};
    int64_t id = begin_ok(r, "x", 0), other = begin_ok(r, "y", 0);
    char *classes[2] = {"a", "b"};
    long n[2] = {3, 4}, correct[2] = {1, 2};
    class_tally t = {.k = 2, .classes = classes, .n = n, .correct = correct};
    for (int ep = 1; ep <= 5; ep++) {
        epoch_row row = {.epoch = ep};
        ck_assert_int_eq(results_epoch_with_classes(r, id, &row, &t, &e), 0);
        ck_assert_int_eq(results_epoch_with_classes(r, other, &row, &t, &e), 0);
    }
    ck_assert_int_eq(results_epochs_truncate(r, id, 3, &e), 0);
    int last;
    ck_assert_int_eq(results_last_epoch(r, id, &last, &e), 0);
    ck_assert_int_eq(last, 3);
    /* the per-class rows after epoch 3 went with their epochs; the other run's stayed */
    sqlite3 *db = results_db(r);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) * 10 + max(epoch) FROM epoch_classes WHERE run_id = %lld", (long long)id);
    ck_assert_int_eq(q_int(db, sql), 3 * 2 * 10 + 3);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM epoch_classes WHERE run_id = %lld", (long long)other);
    ck_assert_int_eq(q_int(db, sql), 5 * 2);
    epoch_row row = {.epoch = 4, .lr = 0.5};
    ck_assert_int_eq(results_epoch(r, id, &row, &e), 0);
    results_close(r);
}
END_TEST

START_TEST(test_second_connection)
{
    const char *path = tmp_path("r.db");
    results *r = open_ok(path);
    strata_err e = {0};
    int64_t id = begin_ok(r, "live", 0);
    sqlite3 *other = raw_open(path);
    for (int ep = 1; ep <= 2; ep++) {
        epoch_row row = {.epoch = ep, .val_acc = 0.5 * ep};
        ck_assert_int_eq(results_epoch(r, id, &row, &e), 0);
        /* Each epoch is committed at once: visible to another reader. */
        ck_assert_int_eq(q_int(other, "SELECT count(*) FROM epochs"), ep);
    }
    /* The other connection may write while the first is open ... */
    raw_exec(other, "INSERT INTO runs(name, status) VALUES ('shell', "
                    "'failed')");
    int64_t got;
    ck_assert_int_eq(results_find_run(r, "shell", &got, &e), 0);
    ck_assert_int_gt(got, id);
    /* ... and a second results handle works alongside. */
    results *r2 = open_ok(path);
    epoch_row row = {.epoch = 3};
    ck_assert_int_eq(results_epoch(r2, id, &row, &e), 0);
    int last;
    ck_assert_int_eq(results_last_epoch(r, id, &last, &e), 0);
    ck_assert_int_eq(last, 3);
    results_close(r2);
    sqlite3_close(other);
    results_close(r);
}
END_TEST

START_TEST(test_classes_samples_skipped)
{
    results *r = open_ok(tmp_path("r.db"));
    strata_err e = {0};
    int64_t id = begin_ok(r, "x", 0);
    char *classes[] = {"cat", "dog", "it's \"quoted\""};
    ck_assert_int_eq(results_run_classes(r, id, 3, classes, &e), 0);
    char *paths[] = {"a/1.png", "b/2.jpg", "a/3.png"};
    int labels[] = {0, 1, 0};
    ck_assert_int_eq(results_run_samples(r, id, "train", 2, paths, labels, &e),
                     0);
    ck_assert_int_eq(
        results_run_samples(r, id, "val", 1, paths + 2, labels + 2, &e), 0);
    char *bad[] = {"c/broken.png"};
    char *why[] = {"not a PNG file"};
    ck_assert_int_eq(results_run_skipped(r, id, 1, bad, why, &e), 0);

    sqlite3 *db = results_db(r);
    char *s = q_text(db, "SELECT name FROM run_classes WHERE idx = 2");
    ck_assert_str_eq(s, "it's \"quoted\"");
    free(s);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_classes"), 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_samples WHERE "
                               "split = 'train'"), 2);
    ck_assert_int_eq(q_int(db, "SELECT label FROM run_samples WHERE path = "
                               "'b/2.jpg'"), 1);
    s = q_text(db, "SELECT split FROM run_samples WHERE path = 'a/3.png'");
    ck_assert_str_eq(s, "val");
    free(s);
    s = q_text(db, "SELECT reason FROM run_skipped WHERE path = "
                   "'c/broken.png'");
    ck_assert_str_eq(s, "not a PNG file");
    free(s);

    /* Errors: bad split, unknown run, duplicate class index (rolled back). */
    ck_assert_int_eq(results_run_samples(r, id, "test", 1, paths, labels, &e),
                     -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "'test'"));
    ck_assert_ptr_nonnull(strstr(e.msg, "train or val"));
    ck_assert_int_eq(results_run_classes(r, 555, 3, classes, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no run with id 555"));
    ck_assert_int_eq(results_run_samples(r, 555, "val", 1, paths, labels, &e),
                     -1);
    ck_assert_int_eq(results_run_skipped(r, 555, 1, bad, why, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "555"));
    ck_assert_int_eq(results_run_classes(r, id, 3, classes, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_classes"), 3);
    results_close(r);
}
END_TEST

START_TEST(test_bad_status_and_unknown_run)
{
    results *r = open_ok(tmp_path("r.db"));
    strata_err e = {0};
    int64_t id = begin_ok(r, "x", 0);
    ck_assert_int_eq(results_run_status(r, id, "done", &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(e.msg, "'done'"));
    ck_assert_ptr_nonnull(strstr(e.msg, "finished"));
    ck_assert_int_eq(results_run_status(r, id + 100, "failed", &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no run with id"));
    ck_assert_int_eq(results_run_config(r, id + 100, "x", &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no run with id"));
    run_record rec;
    ck_assert_int_eq(results_get_run(r, id + 100, &rec, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no run with id"));
    ck_assert_ptr_null(rec.name);
    epoch_row row = {.epoch = 1};
    ck_assert_int_eq(results_epoch(r, id + 100, &row, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no run with id"));
    /* The status is still the one set at the start. */
    char *s = q_text(results_db(r), "SELECT status FROM runs");
    ck_assert_str_eq(s, "running");
    free(s);
    results_close(r);
}
END_TEST

START_TEST(test_migrate_empty_v0)
{
    const char *path = tmp_path("v0.db");
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "PRAGMA user_version = 0; VACUUM;");
    sqlite3_close(raw);
    results *r = open_ok(path);
    ck_assert_int_eq(q_int(results_db(r), "PRAGMA user_version"), RESULTS_SCHEMA_VERSION);
    ck_assert_int_eq(q_int(results_db(r), "SELECT count(*) FROM sqlite_master "
                                          "WHERE name = 'sweeps'"), 1);
    results_close(r);
}
END_TEST

START_TEST(test_migrate_old_runs_table)
{
    const char *path = tmp_path("old.db");
    sqlite3 *raw = raw_open(path);
    raw_exec(raw,
             "CREATE TABLE runs(id INTEGER PRIMARY KEY, name TEXT, config TEXT,"
             " status TEXT, created_at TEXT);"
             "INSERT INTO runs VALUES (7, 'old', 'lr: 1', 'finished',"
             " '2020-01-01T00:00:00Z');"
             "CREATE TABLE epochs(run_id INTEGER, epoch INTEGER,"
             " train_loss REAL, PRIMARY KEY(run_id, epoch));"
             "INSERT INTO epochs VALUES (7, 1, 0.5);");
    sqlite3_close(raw);

    results *r = open_ok(path);
    sqlite3 *db = results_db(r);
    ck_assert_int_eq(q_int(db, "PRAGMA user_version"), RESULTS_SCHEMA_VERSION);
    ck_assert(has_col(db, "runs", "model"));
    ck_assert(has_col(db, "runs", "parent_id"));
    ck_assert(has_col(db, "runs", "pid"));
    ck_assert(has_col(db, "epochs", "images_per_sec"));
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_classes"), 0);

    strata_err e = {0};
    run_record rec;
    ck_assert_int_eq(results_get_run(r, 7, &rec, &e), 0);
    ck_assert_str_eq(rec.name, "old");
    ck_assert_str_eq(rec.config, "lr: 1");
    ck_assert_ptr_null(rec.model);
    run_record_free(&rec);
    int last;
    ck_assert_int_eq(results_last_epoch(r, 7, &last, &e), 0);
    ck_assert_int_eq(last, 1);

    int64_t id = begin_ok(r, "new", 7);
    ck_assert_int_gt(id, 7);
    epoch_row row = {.epoch = 1, .val_acc = 0.75};
    ck_assert_int_eq(results_epoch(r, id, &row, &e), 0);
    ck_assert_int_eq(q_int(db, "SELECT val_acc * 100 FROM epochs WHERE "
                               "run_id > 7"), 75);
    results_close(r);
}
END_TEST

START_TEST(test_migrate_refuses_runs_without_id)
{
    const char *path = tmp_path("noid.db");
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "CREATE TABLE runs(name TEXT, status TEXT);");
    sqlite3_close(raw);
    results *r = (results *)1;
    strata_err e = {0};
    ck_assert_int_eq(results_open(path, &r, &e), -1);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ck_assert_ptr_nonnull(strstr(e.msg, "runs has no column id"));
    /* The failed migration was rolled back. */
    raw = raw_open(path);
    ck_assert_int_eq(q_int(raw, "PRAGMA user_version"), 0);
    ck_assert_int_eq(q_int(raw, "SELECT count(*) FROM sqlite_master WHERE "
                                "name = 'epochs'"), 0);
    sqlite3_close(raw);
}
END_TEST

START_TEST(test_refuses_newer_db)
{
    const char *path = tmp_path("new.db");
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "CREATE TABLE runs(id INTEGER PRIMARY KEY, future TEXT);"
                  "PRAGMA user_version = 99;");
    sqlite3_close(raw);
    results *r = NULL;
    strata_err e = {0};
    ck_assert_int_eq(results_open(path, &r, &e), -1);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ck_assert_ptr_nonnull(strstr(e.msg, "newer strata"));
    ck_assert_ptr_nonnull(strstr(e.msg, "99"));
    /* Untouched. */
    raw = raw_open(path);
    ck_assert_int_eq(q_int(raw, "PRAGMA user_version"), 99);
    ck_assert_int_eq(has_col(raw, "runs", "name"), 0);
    sqlite3_close(raw);
}
END_TEST

START_TEST(test_unwritable_paths)
{
    /* A regular file where a directory is expected (we run as root, so
     * permissions would not stop us). */
    const char *file = tmp_path("plain");
    FILE *fp = fopen(file, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("x", fp);
    fclose(fp);
    const char *bad[] = {tmp_path("plain/r.db"), tmp_path("plain/sub/r.db"),
                         tmp_path("missing/deeper/r.db")};
    for (int i = 0; i < 3; i++) {
        results *r = (results *)1;
        strata_err e = {0};
        ck_assert_int_eq(results_open(bad[i], &r, &e), -1);
        ck_assert_ptr_null(r);
        ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
        ck_assert_msg(strstr(e.msg, bad[i]) != NULL, "'%s' lacks the path",
                      e.msg);
        ck_assert_ptr_null(strchr(e.msg, '\n'));
    }
    /* The database path is a directory. */
    results *r = NULL;
    strata_err e = {0};
    ck_assert_int_eq(results_open(tmpdir, &r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, tmpdir));
    /* Empty path. */
    ck_assert_int_eq(results_open("", &r, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
}
END_TEST

START_TEST(test_not_a_database)
{
    const char *path = tmp_path("junk.db");
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database. ", fp);
    fclose(fp);
    results *r = NULL;
    strata_err e = {0};
    ck_assert_int_eq(results_open(path, &r, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
}
END_TEST


/* Schema 2: run_summary / sweep_summary views over runs and epochs, and a
 * version-1 database (no views, no runs.sweep_point) migrated to them. */
START_TEST(test_views_and_v1_migration)
{
    const char *path = tmp_path("v1.db");
    strata_err e = {0};
    results *r = open_ok(path);
    int64_t a = begin_ok(r, "a", 0), b = begin_ok(r, "b", 0);
    const double acc[3] = {0.5, 0.75, 0.625};
    for (int i = 0; i < 3; i++) {
        epoch_row row = {.epoch = i + 1, .val_acc = acc[i], .seconds = 2.0, .images_per_sec = 10.0 * (i + 1)};
        ck_assert_msg(results_epoch(r, a, &row, &e) == 0, "%s", e.msg);
    }
    sqlite3 *db = results_db(r);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT epochs * 1000 + best_epoch * 100 + last_epoch FROM run_summary WHERE run_id = %lld",
             (long long)a);
    ck_assert_int_eq(q_int(db, sql), 3000 + 200 + 3);
    snprintf(sql, sizeof sql, "SELECT best_val_acc * 1000 FROM run_summary WHERE run_id = %lld", (long long)a);
    ck_assert_int_eq(q_int(db, sql), 750);
    snprintf(sql, sizeof sql, "SELECT total_seconds FROM run_summary WHERE run_id = %lld", (long long)a);
    ck_assert_int_eq(q_int(db, sql), 6);
    snprintf(sql, sizeof sql, "SELECT epochs FROM run_summary WHERE run_id = %lld AND best_val_acc IS NULL",
             (long long)b);
    ck_assert_int_eq(q_int(db, sql), 0);
    raw_exec(db, "INSERT INTO sweeps(id, file, grid) VALUES (7, 'f.yaml', 'g')");
    snprintf(sql, sizeof sql, "UPDATE runs SET sweep_id = 7, sweep_point = 'x=1' WHERE id = %lld", (long long)a);
    raw_exec(db, sql);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweep_summary WHERE sweep_id = 7 AND point = 'x=1'"), 1);
    results_close(r);

    /* Back to what version 1 had, then reopen: the migration brings the views. */
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "DROP VIEW sweep_summary; DROP VIEW run_summary; DROP INDEX runs_by_sweep;"
                  "ALTER TABLE runs DROP COLUMN sweep_point; PRAGMA user_version = 1;");
    ck_assert(!has_col(raw, "runs", "sweep_point"));
    sqlite3_close(raw);
    r = open_ok(path);
    db = results_db(r);
    ck_assert_int_eq(q_int(db, "PRAGMA user_version"), RESULTS_SCHEMA_VERSION);
    ck_assert(has_col(db, "runs", "sweep_point"));
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_summary"), 2);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweep_summary WHERE point IS NULL"), 1);
    results_close(r);
}
END_TEST

/* Runs whose process is gone show as interrupted once a strata opens the
 * database: this host's by pid (a child that exited), another host's by a
 * heartbeat older than RESULTS_STALE_SECONDS. A live pid, a fresh heartbeat
 * and a run without heartbeat (older strata) stay running. */
START_TEST(test_dead_runs_interrupted)
{
    const char *path = tmp_path("dead.db");
    results *r = open_ok(path);
    int64_t alive = begin_ok(r, "alive", 0), dead = begin_ok(r, "dead", 0), far = begin_ok(r, "far", 0),
            far_old = begin_ok(r, "far-old", 0), far_legacy = begin_ok(r, "far-legacy", 0);
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(child, NULL, 0), child);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "UPDATE runs SET pid = %lld WHERE id = %lld; UPDATE runs SET pid = %lld WHERE id = %lld;"
             "UPDATE runs SET host = 'elsewhere.invalid' WHERE id IN (%lld, %lld, %lld);"
             "UPDATE runs SET heartbeat_at = '2000-01-01T00:00:00Z' WHERE id = %lld;"
             "UPDATE runs SET heartbeat_at = NULL WHERE id = %lld;",
             (long long)getppid(), (long long)alive, (long long)child, (long long)dead, (long long)far,
             (long long)far_old, (long long)far_legacy, (long long)far_old, (long long)far_legacy);
    raw_exec(results_db(r), sql);
    results_close(r);

    r = open_ok(path);
    sqlite3 *db = results_db(r);
    const int64_t ids[] = {alive, dead, far, far_old, far_legacy};
    const char *const want[] = {"running", "interrupted", "running", "interrupted", "running"};
    for (int i = 0; i < 5; i++) {
        snprintf(sql, sizeof sql, "SELECT status || '/' || (finished_at IS NULL) FROM runs WHERE id = %lld",
                 (long long)ids[i]);
        char *got = q_text(db, sql), expect[64];
        snprintf(expect, sizeof expect, "%s/%d", want[i], !strcmp(want[i], "running"));
        ck_assert_msg(!strcmp(got, expect), "run %lld: %s, expected %s", (long long)ids[i], got, expect);
        free(got);
    }
    strata_err e = {0};
    ck_assert_int_eq(results_heartbeat(r, far_legacy, &e), 0);
    snprintf(sql, sizeof sql, "SELECT heartbeat_at > '2020' FROM runs WHERE id = %lld", (long long)far_legacy);
    ck_assert_int_eq(q_int(db, sql), 1);
    results_close(r);
}
END_TEST

/* ---- databases written by strata at schema version 3 ------------------------------ */

/* t/fixtures/schema-v3.db (see t/fixtures/schema-v3.txt) copied to tmpdir. */
static const char *copy_v3_fixture(void)
{
    char src[4096];
    snprintf(src, sizeof src, "%s/t/fixtures/schema-v3.db", getenv("STRATA_SRCDIR"));
    uint8_t *data;
    size_t n;
    ck_assert_msg(fx_read(src, &data, &n) == 0, "cannot read %s", src);
    const char *path = tmp_path("v3.db");
    ck_assert_int_eq(fx_write(path, data, n), 0);
    free(data);
    return path;
}

/* What every migrated copy of the fixture holds: runs 1 (lr 0.000125),
 * 2 and 3 (a sweep over lr 1e-4, 3e-4), their params back-filled. */
static void check_migrated_v3(const char *path, int with_run3_params)
{
    sqlite3 *db = raw_open(path);
    ck_assert_int_eq(q_int(db, "PRAGMA user_version"), RESULTS_SCHEMA_VERSION);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = 'finished'"), 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs"), 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweep_summary"), 2);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweeps WHERE overrides = ''"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE ranks = 1 AND hosts IS NULL"), 3); /* v5 */
    ck_assert(has_col(db, "evals", "epoch"));                                                          /* v6 */
    ck_assert(q_double(db, "SELECT json_extract(config_json, '$.optimizer.lr') FROM runs WHERE id = 1") == 0.000125);
    ck_assert(q_double(db, "SELECT lr FROM run_summary WHERE run_id = 1") == 0.000125);
    ck_assert(q_double(db, "SELECT lr FROM run_summary WHERE run_id = 2") == 1e-4);
    ck_assert_int_eq(q_int(db, "SELECT batch_size FROM run_summary WHERE run_id = 2"), 16);
    ck_assert_int_eq(q_int(db, "SELECT max_epochs FROM run_summary WHERE run_id = 2"), 1);
    ck_assert_int_eq(q_int(db, "SELECT input_size FROM run_summary WHERE run_id = 1"), 16);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_params WHERE run_id = 3") > 20, with_run3_params);
    ck_assert_int_eq(q_int(db, "SELECT typeof(value) = 'text' FROM run_params WHERE run_id = 1 AND key = 'model.arch'"),
                     1);
    sqlite3_close(db);
}

/* Version 5 -> 6: evals gains epoch; an evaluation recorded before keeps
 * its row, its epoch NULL (unknown). */
START_TEST(test_migrate_v5_evals)
{
    const char *path = copy_v3_fixture();
    strata_ok("runs (migrate to the current version)", ARGS("runs", "--db", path));
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "ALTER TABLE evals DROP COLUMN epoch;"
                  "INSERT INTO evals(id, run_id, checkpoint, data, loss, acc, n) VALUES (1, 1, 'best', 'val', 0.5, 0.75, 4);"
                  "PRAGMA user_version = 5;");
    ck_assert(!has_col(raw, "evals", "epoch"));
    sqlite3_close(raw);
    strata_ok("runs (migrate 5 -> 6)", ARGS("runs", "--db", path));
    raw = raw_open(path);
    ck_assert_int_eq(q_int(raw, "PRAGMA user_version"), 6);
    ck_assert(has_col(raw, "evals", "epoch"));
    ck_assert_int_eq(q_int(raw, "SELECT count(*) FROM evals WHERE id = 1 AND epoch IS NULL AND acc = 0.75"), 1);
    sqlite3_close(raw);
}
END_TEST

START_TEST(test_migrate_v3_fixture)
{
    const char *path = copy_v3_fixture();
    sqlite3 *raw = raw_open(path);
    ck_assert_int_eq(q_int(raw, "PRAGMA user_version"), 3);
    ck_assert_int_eq(has_col(raw, "runs", "config_json"), 0);
    sqlite3_close(raw);

    strata_run r = strata(ARGS("runs", "--db", path));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 4 && strstr(r.out, "tiny-v3"), "runs:\n%s%s", r.out, r.err);
    run_strata_free(&r);
    check_migrated_v3(path, 1);
    r = strata(ARGS("runs", "--db", path, "--where", "lr < 2e-4"));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 3 && !strstr(r.out, "3.0e-4"), "--where lr:\n%s%s", r.out,
                  r.err);
    run_strata_free(&r);
    r = strata(ARGS("show", "1", "--db", path, "--json"));
    ck_assert_msg(r.status == 0 && strstr(r.out, "\"lr\": 0.000125,") && strstr(r.out, "\"config_json\": {"),
                  "show:\n%s%s", r.out, r.err);
    run_strata_free(&r);
    r = strata(ARGS("compare", "2", "3", "--db", path));
    ck_assert_msg(r.status == 0 && strstr(r.out, "optimizer.lr") && strstr(r.out, "0.0001 ") && strstr(r.out, "0.0003"),
                  "compare:\n%s%s", r.out, r.err);
    run_strata_free(&r);
}
END_TEST

/* Version 2: the same file without runs.heartbeat_at; run 3's config made
 * unreadable (it keeps no run_params, with a warning; the rest migrates). */
START_TEST(test_migrate_v2_fixture)
{
    const char *path = copy_v3_fixture();
    sqlite3 *raw = raw_open(path);
    raw_exec(raw, "ALTER TABLE runs DROP COLUMN heartbeat_at; UPDATE runs SET config = 'a: [' WHERE id = 3;"
                  "PRAGMA user_version = 2;");
    sqlite3_close(raw);
    results_close(open_ok(path));
    raw = raw_open(path);
    ck_assert_int_eq(has_col(raw, "runs", "heartbeat_at"), 1);
    ck_assert_int_eq(q_int(raw, "SELECT count(*) FROM runs WHERE config_json IS NULL"), 1);
    sqlite3_close(raw);
    check_migrated_v3(path, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("results");
    TCase *tc = tcase_create("results");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_open_creates_schema);
    tcase_add_test(tc, test_run_roundtrip);
    tcase_add_test(tc, test_find_run_and_parent);
    tcase_add_test(tc, test_duplicate_epoch);
    tcase_add_test(tc, test_epochs_truncate);
    tcase_add_test(tc, test_second_connection);
    tcase_add_test(tc, test_classes_samples_skipped);
    tcase_add_test(tc, test_bad_status_and_unknown_run);
    tcase_add_test(tc, test_migrate_empty_v0);
    tcase_add_test(tc, test_migrate_old_runs_table);
    tcase_add_test(tc, test_migrate_refuses_runs_without_id);
    tcase_add_test(tc, test_refuses_newer_db);
    tcase_add_test(tc, test_unwritable_paths);
    tcase_add_test(tc, test_not_a_database);
    tcase_add_test(tc, test_views_and_v1_migration);
    tcase_add_test(tc, test_dead_runs_interrupted);
    tcase_add_test(tc, test_migrate_v3_fixture);
    tcase_add_test(tc, test_migrate_v2_fixture);
    tcase_add_test(tc, test_migrate_v5_evals);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
