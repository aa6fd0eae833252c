/* test_eval.c — `strata eval` and the per-class counts of training's
 * validation (epoch_classes), end to end through the built program.
 *
 * Made once in a temp dir (the current directory): a copy of the shipped
 * photos (data/flowers-mini, five classes) and a 2-epoch run of the tiny
 * conv net of t/fixtures/tiny.yaml over it (run 1, val split of 40 photos).
 * Expected values come from the epochs and run_samples rows training wrote,
 * or are recomputed from eval's own rows (the confusion matrix), never
 * hard-coded. JSON is parsed with SQLite's json functions. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "run_strata.h"
#include "testlib.h"
#include "testlib_db.h"

#define DB "results/strata.db"
#define NUM_CLASSES 5
static const char *const flower_classes[NUM_CLASSES] = {"daisy", "dandelion", "roses", "sunflowers", "tulips"};

static char base[4096];

static void copy_photos(void)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp -R '%s/data/flowers-mini' photos", getenv("STRATA_SRCDIR"));
    ck_assert_int_eq(system(cmd), 0);
}

static void make_run(void)
{
    const char *src = getenv("STRATA_SRCDIR");
    ck_assert_msg(src && getenv("STRATA_BUILDDIR"), "STRATA_SRCDIR/STRATA_BUILDDIR not set (run through make check)");
    make_temp_dir(base, sizeof base, "strata-eval");
    ck_assert_int_eq(chdir(base), 0);
    copy_photos();
    char exp[8192];
    snprintf(exp, sizeof exp, "include: %s/t/fixtures/tiny.yaml\ndata:\n  root: photos\ntrain:\n  epochs: 2\n", src);
    write_text("exp.yaml", exp);
    strata_ok("run exp.yaml", ARGS("run", "exp.yaml"));
}

static void remove_run(void)
{
    if (chdir("/") == 0)
        fx_rm_rf(base);
}

/* ---- helpers ------------------------------------------------------------------ */

static int64_t last_eval_id(sqlite3 *db)
{
    return q_int(db, "SELECT max(id) FROM evals");
}

static double q_doublef(sqlite3 *db, const char *fmt, int64_t id)
{
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, (long long)id);
    return q_double(db, sql);
}

static int64_t q_intf(sqlite3 *db, const char *fmt, int64_t id)
{
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, (long long)id);
    return q_int(db, sql);
}

/* json_extract(json, path) through SQLite (asserting json is valid): its
 * json_type ("" when absent), its text (malloc'd, NULL for null) and value. */
static void json_lookup(const char *json, const char *path, char type[16], char **text, double *num)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
    sqlite3_stmt *st = db_prep(db, "SELECT json_valid(?1), json_type(?1, ?2), json_extract(?1, ?2)");
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_msg(sqlite3_column_int(st, 0) == 1, "not valid JSON:\n%s", json);
    const unsigned char *t = sqlite3_column_text(st, 1), *v = sqlite3_column_text(st, 2);
    snprintf(type, 16, "%s", t ? (const char *)t : "");
    *text = v ? strdup((const char *)v) : NULL;
    *num = sqlite3_column_double(st, 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static char *json_get(const char *json, const char *path)
{
    char type[16], *text;
    double num;
    json_lookup(json, path, type, &text, &num);
    return text;
}

static double json_num(const char *json, const char *path)
{
    char type[16], *text;
    double num;
    json_lookup(json, path, type, &text, &num);
    free(text);
    ck_assert_msg(!strcmp(type, "integer") || !strcmp(type, "real"), "%s is not a number in:\n%s", path, json);
    return num;
}

/* Every identity of one evaluation's rows: the classes sum to n, the
 * confusion matrix sums to n with correct on its diagonal, precision and
 * recall recomputed from it, one prediction row per image agreeing with it. */
static void check_eval_rows(sqlite3 *db, int64_t id)
{
    int64_t n = q_intf(db, "SELECT n FROM evals WHERE id = %lld", id);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(q_intf(db, "SELECT sum(n) FROM eval_classes WHERE eval_id = %lld", id), n);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_classes WHERE eval_id = %lld", id), NUM_CLASSES);
    ck_assert_int_eq(q_intf(db, "SELECT sum(n) FROM eval_confusion WHERE eval_id = %lld", id), n);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_confusion WHERE eval_id = %lld", id),
                     NUM_CLASSES * NUM_CLASSES);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_predictions WHERE eval_id = %lld", id), n);
    double acc = q_doublef(db, "SELECT acc FROM evals WHERE id = %lld", id);
    int64_t correct = q_intf(db, "SELECT sum(correct) FROM eval_classes WHERE eval_id = %lld", id);
    ck_assert_msg(fabs(acc - (double)correct / n) < 1e-12, "acc %g, correct %lld of %lld", acc, (long long)correct,
                  (long long)n);
    /* per class: the diagonal, the row sum, precision and recall */
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_classes c WHERE c.eval_id = %lld AND c.correct IS NOT"
                                " (SELECT m.n FROM eval_confusion m WHERE m.eval_id = c.eval_id AND"
                                " m.true_class = c.class AND m.pred_class = c.class)", id), 0);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_classes c WHERE c.eval_id = %lld AND c.n IS NOT"
                                " (SELECT sum(m.n) FROM eval_confusion m WHERE m.eval_id = c.eval_id AND"
                                " m.true_class = c.class)", id), 0);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_classes c WHERE c.eval_id = %lld AND NOT"
                                " ((c.n = 0 AND c.recall IS NULL) OR abs(c.recall - 1.0 * c.correct / c.n) < 1e-12)",
                            id), 0);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM (SELECT c.precision, c.correct, (SELECT sum(m.n) FROM"
                                " eval_confusion m WHERE m.eval_id = c.eval_id AND m.pred_class = c.class) AS p"
                                " FROM eval_classes c WHERE c.eval_id = %lld) WHERE NOT ((p = 0 AND precision IS"
                                " NULL) OR abs(precision - 1.0 * correct / p) < 1e-12)", id), 0);
    /* the predictions, counted by (true, pred), are the confusion matrix */
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_confusion m WHERE m.eval_id = %lld AND m.n !="
                                " (SELECT count(*) FROM eval_predictions p WHERE p.eval_id = m.eval_id AND"
                                " p.true_class = m.true_class AND p.pred_class = m.pred_class)", id), 0);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_predictions WHERE eval_id = %lld AND NOT"
                                " (prob > 0 AND prob <= 1)", id), 0);
}

/* ---- the val split against the last epoch -------------------------------------------- */

START_TEST(test_split_val_last)
{
    strata_run r = strata(ARGS("eval", "1", "--checkpoint", "last"));
    ck_assert_msg(r.status == 0, "eval: exit %d: %s", r.status, r.err);
    assert_has(r.out, "checkpoint last, epoch 2 (");
    assert_has(r.out, "confusion matrix (rows: true class, columns: predicted)");
    assert_has(r.out, "sunflowers"); /* row labels in full */
    assert_has(r.out, "sunflow.");   /* column headers cut to 8 */
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly(DB);
    int64_t id = last_eval_id(db);
    check_eval_rows(db, id);
    double loss = q_doublef(db, "SELECT loss FROM evals WHERE id = %lld", id);
    double acc = q_doublef(db, "SELECT acc FROM evals WHERE id = %lld", id);
    double val_loss = q_double(db, "SELECT val_loss FROM epochs WHERE run_id = 1 AND epoch = 2");
    double val_acc = q_double(db, "SELECT val_acc FROM epochs WHERE run_id = 1 AND epoch = 2");
    ck_assert_msg(fabs(loss - val_loss) <= 1e-6 * fabs(val_loss), "eval loss %.17g, epoch 2 val_loss %.17g", loss,
                  val_loss);
    ck_assert_msg(fabs(acc - val_acc) < 1e-12, "eval acc %.17g, epoch 2 val_acc %.17g", acc, val_acc);
    ck_assert_int_eq(q_intf(db, "SELECT n FROM evals WHERE id = %lld", id),
                     q_int(db, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND split = 'val'"));
    char *data = q_text(db, "SELECT data || ' ' || checkpoint || ' ' || run_id || ' ' || epoch FROM evals"
                            " ORDER BY id DESC LIMIT 1");
    ck_assert_str_eq(data, "val last 1 2");
    free(data);
    /* the predictions are the recorded val split's files */
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_predictions p WHERE p.eval_id = %lld AND NOT EXISTS"
                                " (SELECT 1 FROM run_samples s WHERE s.run_id = 1 AND s.split = 'val' AND"
                                " s.path = p.path)", id), 0);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_split_train_best)
{
    strata_ok("eval --split train", ARGS("eval", "tiny", "--split", "train"));
    sqlite3 *db = db_open_readonly(DB);
    int64_t id = last_eval_id(db);
    check_eval_rows(db, id);
    char *data = q_text(db, "SELECT data || ' ' || checkpoint FROM evals ORDER BY id DESC LIMIT 1");
    ck_assert_str_eq(data, "train best");
    free(data);
    /* best by val_acc (the default monitor): the first epoch with the highest */
    ck_assert_int_eq(q_intf(db, "SELECT epoch FROM evals WHERE id = %lld", id),
                     q_int(db, "SELECT epoch FROM epochs WHERE run_id = 1 ORDER BY val_acc DESC, epoch LIMIT 1"));
    ck_assert_int_eq(q_intf(db, "SELECT n FROM evals WHERE id = %lld", id),
                     q_int(db, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND split = 'train'"));
    sqlite3_close(db);
}
END_TEST

/* ---- epoch_classes ------------------------------------------------------------------ */

START_TEST(test_epoch_classes)
{
    sqlite3 *db = db_open_readonly(DB);
    int64_t val_n = q_int(db, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND split = 'val'");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epoch_classes WHERE run_id = 1"), 2 * NUM_CLASSES);
    for (int e = 1; e <= 2; e++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT sum(n) FROM epoch_classes WHERE run_id = 1 AND epoch = %d", e);
        ck_assert_int_eq(q_int(db, sql), val_n);
        snprintf(sql, sizeof sql, "SELECT 1.0 * sum(correct) / sum(n) - (SELECT val_acc FROM epochs WHERE"
                                  " run_id = 1 AND epoch = %d) FROM epoch_classes WHERE run_id = 1 AND epoch = %d",
                 e, e);
        ck_assert_msg(fabs(q_double(db, sql)) < 1e-12, "epoch %d: sum(correct)/sum(n) != val_acc", e);
    }
    /* each class's n is its count in the recorded val split */
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epoch_classes c WHERE c.run_id = 1 AND c.n !="
                               " (SELECT count(*) FROM run_samples s JOIN run_classes k ON k.run_id = s.run_id AND"
                               " k.idx = s.label WHERE s.run_id = 1 AND s.split = 'val' AND k.name = c.class)"),
                     0);
    sqlite3_close(db);
}
END_TEST

/* ---- --data DIR ---------------------------------------------------------------------- */

/* DIR with the first 3 photos of daisy and of roses, and an unreadable one. */
static void make_folder(const char *dir)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/daisy %s/roses && for c in daisy roses; do "
                              "ls photos/$c | head -3 | while read f; do cp photos/$c/$f %s/$c/; done; done && "
                              "printf 'not a jpeg' > %s/roses/broken.jpg",
             dir, dir, dir, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_data_dir_json)
{
    make_folder("folder");
    strata_run r = strata(ARGS("eval", "1", "--data", "folder", "--json"));
    ck_assert_msg(r.status == 0, "eval --data: exit %d: %s", r.status, r.err);
    ck_assert_msg(count_substr(r.err, "broken.jpg") == 1, "expected one warning naming broken.jpg:\n%s", r.err);
    ck_assert_double_eq(json_num(r.out, "$.n"), 6);
    ck_assert_double_eq(json_num(r.out, "$.unreadable"), 1);
    char abs[4096];
    ck_assert_ptr_nonnull(realpath("folder", abs));
    char *data = json_get(r.out, "$.data");
    ck_assert_str_eq(data, abs);
    free(data);
    for (int c = 0; c < NUM_CLASSES; c++) {
        char path[64];
        snprintf(path, sizeof path, "$.classes[%d].class", c);
        char *name = json_get(r.out, path);
        ck_assert_str_eq(name, flower_classes[c]);
        free(name);
        snprintf(path, sizeof path, "$.classes[%d].n", c);
        ck_assert_double_eq(json_num(r.out, path), c == 0 || c == 2 ? 3 : 0);
    }
    char *recall = json_get(r.out, "$.classes[1].recall"); /* dandelion: none, so no recall */
    ck_assert_ptr_null(recall);
    /* the JSON says what the database holds */
    sqlite3 *db = db_open_readonly(DB);
    int64_t id = last_eval_id(db);
    ck_assert_double_eq(json_num(r.out, "$.eval_id"), (double)id);
    ck_assert_double_eq(json_num(r.out, "$.acc"), q_doublef(db, "SELECT acc FROM evals WHERE id = %lld", id));
    ck_assert_double_eq(json_num(r.out, "$.loss"), q_doublef(db, "SELECT loss FROM evals WHERE id = %lld", id));
    ck_assert_double_eq(json_num(r.out, "$.epoch"), (double)q_intf(db, "SELECT epoch FROM evals WHERE id = %lld", id));
    double diag = 0;
    for (int c = 0; c < NUM_CLASSES; c++) {
        char path[64];
        snprintf(path, sizeof path, "$.confusion[%d][%d]", c, c);
        diag += json_num(r.out, path);
    }
    ck_assert_double_eq(diag, q_intf(db, "SELECT sum(correct) FROM eval_classes WHERE eval_id = %lld", id));
    check_eval_rows(db, id);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM eval_predictions WHERE eval_id = %lld AND path LIKE"
                                " 'folder/%%'", id), 6);
    sqlite3_close(db);
    run_strata_free(&r);
}
END_TEST

/* A file of the recorded split gone: a warning, the rest evaluated. */
START_TEST(test_split_file_gone)
{
    sqlite3 *db = db_open_readonly(DB);
    char *path = q_text(db, "SELECT path FROM run_samples WHERE run_id = 1 AND split = 'val' ORDER BY rowid LIMIT 1");
    int64_t val_n = q_int(db, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND split = 'val'");
    sqlite3_close(db);
    ck_assert_int_eq(rename(path, "gone.jpg"), 0);
    strata_run r = strata(ARGS("eval", "1"));
    ck_assert_int_eq(rename("gone.jpg", path), 0);
    ck_assert_msg(r.status == 0, "eval: exit %d: %s", r.status, r.err);
    ck_assert_int_eq(count_lines(r.err), 1);
    assert_has(r.err, "warning");
    assert_has(r.err, path);
    run_strata_free(&r);
    db = db_open_readonly(DB);
    ck_assert_int_eq(q_int(db, "SELECT n FROM evals ORDER BY id DESC LIMIT 1"), val_n - 1);
    sqlite3_close(db);
    free(path);
}
END_TEST

/* ---- refusals ---------------------------------------------------------------------------- */

START_TEST(test_refusals)
{
    sqlite3 *db = db_open_readonly(DB);
    int64_t evals = q_int(db, "SELECT count(*) FROM evals");
    sqlite3_close(db);
    strata_refuses(ARGS("eval", "nosuchrun"), 2, "nosuchrun");
    strata_refuses(ARGS("eval", "1", "--checkpoint", "middle"), 2, "middle");
    strata_refuses(ARGS("eval", "1", "--split", "test"), 2, "--split");
    strata_refuses(ARGS("eval", "1", "--data", "photos", "--split", "val"), 2, "not both");
    strata_refuses(ARGS("eval", "1", "--threads", "0"), 2, "--threads");
    strata_refuses(ARGS("eval"), 2, "RUN");
    strata_refuses(ARGS("eval", "1", "--db", "nowhere.db"), 2, "nowhere.db");
    strata_refuses(ARGS("eval", "1", "--data", "no-such-dir"), 2, "no-such-dir");
    /* a class folder the run does not know */
    make_folder("odd");
    ck_assert_int_eq(system("rm odd/roses/broken.jpg && mkdir -p odd/orchids && cp odd/daisy/* odd/orchids/"), 0);
    strata_refuses(ARGS("eval", "1", "--data", "odd"), 2, "orchids");
    /* a missing checkpoint file */
    ck_assert_int_eq(rename("results/checkpoints/1/last.safetensors", "last.away"), 0);
    strata_run r = strata(ARGS("eval", "1", "--checkpoint", "last"));
    ck_assert_int_eq(rename("last.away", "results/checkpoints/1/last.safetensors"), 0);
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "eval --checkpoint last", "last.safetensors");
    run_strata_free(&r);
    db = db_open_readonly(DB);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM evals"), evals); /* nothing recorded */
    sqlite3_close(db);
}
END_TEST

/* Resume falling back to an older checkpoint trains an epoch again: its
 * per-class counts replace the stale ones (still one row per class). */
START_TEST(test_epoch_classes_after_fallback)
{
    strata_ok("run fallback", ARGS("run", "exp.yaml", "--name", "fallback"));
    sqlite3 *db = db_open_readonly(DB);
    int64_t id = q_int(db, "SELECT max(id) FROM runs WHERE name = 'fallback'");
    sqlite3_close(db);
    char path[256], run[32];
    snprintf(path, sizeof path, "results/checkpoints/%lld/last.state.safetensors", (long long)id);
    snprintf(run, sizeof run, "%lld", (long long)id);
    ck_assert_int_eq(unlink(path), 0);
    strata_ok("resume after losing last.state", ARGS("resume", run, "--epochs", "1"));
    db = db_open_readonly(DB);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM epoch_classes WHERE run_id = %lld", id), 3 * NUM_CLASSES);
    ck_assert_int_eq(q_intf(db, "SELECT count(*) FROM epoch_classes c WHERE c.run_id = %lld AND c.n = 0", id), 0);
    for (int e = 1; e <= 3; e++) {
        char sql[512];
        snprintf(sql, sizeof sql, "SELECT abs(1.0 * sum(correct) / sum(n) - (SELECT val_acc FROM epochs WHERE"
                                  " run_id = %lld AND epoch = %d)) FROM epoch_classes WHERE run_id = %lld AND"
                                  " epoch = %d", (long long)id, e, (long long)id, e);
        ck_assert_msg(q_double(db, sql) < 1e-12, "epoch %d: sum(correct)/sum(n) != val_acc", e);
    }
    sqlite3_close(db);
}
END_TEST

START_TEST(test_help)
{
    strata_run r = strata(ARGS("eval", "--help"));
    ck_assert_int_eq(r.status, 0);
    assert_has(r.out, "usage: strata eval RUN");
    run_strata_free(&r);
    r = strata(ARGS("--help"));
    assert_has(r.out, "eval");
    run_strata_free(&r);
}
END_TEST

static Suite *eval_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("eval");
    tcase_add_unchecked_fixture(tc, make_run, remove_run);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_split_val_last);
    tcase_add_test(tc, test_split_train_best);
    tcase_add_test(tc, test_epoch_classes);
    tcase_add_test(tc, test_data_dir_json);
    tcase_add_test(tc, test_split_file_gone);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_epoch_classes_after_fallback);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(eval_suite());
}
