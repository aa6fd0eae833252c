/* test_manage.c — run management and the numbers of the commands that read
 * runs: `strata tag`, `note`, `rm`, `run --tag`, `runs --tag`, STRATA_DB,
 * `show --json`'s stop_reason,
 * and hyper-parameters printed in full (shortest round-trip form).
 *
 * The database (results/strata.db in a temp dir, made once) holds runs
 * inserted through the results API (core/store/results.h, params.h) with
 * configurations of our own; run 1 also has a real checkpoint folder of
 * files made here. Expected values come from what was inserted. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixtures/imgwrite.h"
#include "store/params.h"
#include "store/results_sqlite.h"
#include "run_strata.h"
#include "testlib.h"
#include "testlib_db.h"

static char base[4096];

/* Run `name` with config yaml, one epoch (val_acc, lr), status finished. */
static int64_t add_run(results *db, const char *name, const char *yaml, double val_acc, double lr)
{
    strata_err err = {0};
    run_info info = {.name = name, .model = "vgg D", .experiment = "inserted", .config = yaml, .seed = 1, .params = 10};
    int64_t id;
    ck_assert_msg(results_run_begin(db, &info, &id, &err) == 0, "results_run_begin: %s", err.msg);
    ck_assert_msg(results_run_params_yaml(db, id, yaml, &err) == 0, "results_run_params_yaml: %s", err.msg);
    epoch_row row = {.epoch = 1, .val_acc = val_acc, .lr = lr, .train_acc = 0.5, .seconds = 1, .images_per_sec = 9};
    ck_assert_msg(results_epoch(db, id, &row, &err) == 0, "results_epoch: %s", err.msg);
    ck_assert_msg(results_run_status(db, id, "finished", &err) == 0, "status: %s", err.msg);
    return id;
}

static void exec_sql(results *db, const char *sql)
{
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(results_db(db), sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql, msg);
}

/* Runs 1..3 as above; run 4 'running' under this test's pid; rows of every
 * table for run 1 (evals, eval_*, epoch_classes: inserted here until helper
 * A's strata eval writes them), run 3 names run 1 as its parent. */
static void make_db(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(base, sizeof base, "%s/strata-manage-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(base));
    ck_assert_int_eq(chdir(base), 0);
    results *db;
    strata_err err = {0};
    ck_assert_msg(results_open("results/strata.db", &db, &err) == 0, "results_open: %s", err.msg);
    add_run(db, "first", "results: {dir: out}\noptimizer: {name: adam, lr: 0.000125}\ntrain: {batch_size: 32}\n", 0.2,
            0.000125);
    add_run(db, "second", "results: {dir: out}\noptimizer: {name: sgd, lr: 0.2}\ntrain: {batch_size: 32}\n", 0.4, 0.2);
    add_run(db, "third", "optimizer: {name: sgd, lr: 0.1}\n", 0.3, 0.1);
    ck_assert_msg(results_run_stop_reason(db, 2, "early stopping: val_loss did not improve (\"by\" 0.001)", &err) == 0,
                  "stop_reason: %s", err.msg);
    add_run(db, "busy", "optimizer: {name: sgd, lr: 0.1}\n", 0.3, 0.1);
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE runs SET status = 'running', pid = %lld WHERE id = 4", (long long)getpid());
    exec_sql(db, sql);
    exec_sql(db, "UPDATE runs SET parent_id = 1 WHERE id = 3;"
                 "INSERT INTO run_classes VALUES (1, 0, 'daisy');"
                 "INSERT INTO run_samples VALUES (1, 'val', 'a.jpg', 0);"
                 "INSERT INTO run_skipped VALUES (1, 'b.jpg', 'unreadable');"
                 "INSERT INTO run_tags VALUES (1, 'team', 'a', '2026-01-01T00:00:00Z');"
                 "INSERT INTO epoch_classes VALUES (1, 1, 'daisy', 10, 4);"
                 "INSERT INTO evals(id, run_id, checkpoint, data, loss, acc, n) VALUES (7, 1, 'best', 'x', 1, 0.5, 2);"
                 "INSERT INTO eval_classes VALUES (7, 'daisy', 2, 1, 0.5, 0.5);"
                 "INSERT INTO eval_confusion VALUES (7, 'daisy', 'daisy', 1);"
                 "INSERT INTO eval_predictions VALUES (7, 'a.jpg', 'daisy', 'daisy', 0.9);");
    results_close(db);
    ck_assert_int_eq(fx_mkdir("out"), 0);
    ck_assert_int_eq(fx_mkdir("out/checkpoints"), 0);
    ck_assert_int_eq(fx_mkdir("out/checkpoints/1"), 0);
    ck_assert_int_eq(fx_write("out/checkpoints/1/last.safetensors", "x", 1), 0);
    ck_assert_int_eq(fx_mkdir("out/checkpoints/2"), 0);
}

static void remove_db(void)
{
    if (chdir("/") == 0)
        fx_rm_rf(base);
}

/* ---- numbers printed in full --------------------------------------------------------- */

START_TEST(test_numbers)
{
    strata_run r = strata(ARGS("show", "first"));
    ck_assert_msg(r.status == 0, "show: %s", r.err);
    ck_assert_msg(strstr(r.out, "0.000125 ") && !strstr(r.out, "0.0001 "), "lr rounded in the epochs table:\n%s",
                  r.out);
    run_strata_free(&r);
    r = strata(ARGS("show", "first", "--json"));
    ck_assert_msg(r.status == 0, "show --json: %s", r.err);
    ck_assert_msg(strstr(r.out, "\"lr\": 0.000125,") && strstr(r.out, "\"val_acc\": 0.2,"), "show --json:\n%s", r.out);
    ck_assert_msg(!strstr(r.out, "0000000"), "a number not in its shortest form:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "\"config_json\": {\"results\":{\"dir\":\"out\"},\"optimizer\":{\"name\":\"adam\","
                                "\"lr\":0.000125},\"train\":{\"batch_size\":32}}"),
                  "config_json:\n%s", r.out);
    run_strata_free(&r);
    /* the stored JSON is what sqlite's json functions read */
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert(q_double(db, "SELECT json_extract(config_json, '$.optimizer.lr') FROM runs WHERE id = 1") == 0.000125);
    ck_assert_int_eq(q_int(db, "SELECT typeof(value) = 'real' FROM run_params WHERE run_id = 2 AND key = 'optimizer.lr'"),
                     1);
    sqlite3_close(db);
}
END_TEST

/* ---- stop_reason in show --json ----------------------------------------------------------- */

START_TEST(test_show_stop_reason)
{
    strata_run r = strata(ARGS("show", "second", "--json"));
    ck_assert_msg(r.status == 0, "show --json: %s", r.err);
    ck_assert_msg(strstr(r.out, ", \"stop_reason\": \"early stopping: val_loss did not improve (\\\"by\\\" 0.001)\", "),
                  "show --json lacks the stop_reason (escaped):\n%s", r.out);
    run_strata_free(&r);
    r = strata(ARGS("show", "second"));
    ck_assert_msg(strstr(r.out, "stopped: early stopping: val_loss did not improve (\"by\" 0.001)\n"), "show:\n%s", r.out);
    run_strata_free(&r);
    /* a run without one: null */
    r = strata(ARGS("show", "first", "--json"));
    ck_assert_msg(r.status == 0 && strstr(r.out, ", \"stop_reason\": null, "), "show --json:\n%s", r.out);
    run_strata_free(&r);
}
END_TEST

/* ---- tags and notes ---------------------------------------------------------------------- */

START_TEST(test_tags)
{
    strata_ok("tag", ARGS("tag", "second", "team=b", "stage=final"));
    strata_ok("note", ARGS("note", "2", "lr too high: diverged at epoch 3"));
    strata_run r = strata(ARGS("show", "2"));
    ck_assert_msg(strstr(r.out, "tag team=b") && strstr(r.out, "tag stage=final") &&
                      strstr(r.out, "note (") && strstr(r.out, "lr too high: diverged at epoch 3"),
                  "show:\n%s", r.out);
    run_strata_free(&r);
    r = strata(ARGS("show", "2", "--json"));
    ck_assert_msg(strstr(r.out, "\"tags\": {\"note\": \"lr too high: diverged at epoch 3\", \"stage\": \"final\", "
                                "\"team\": \"b\"}"),
                  "show --json:\n%s", r.out);
    run_strata_free(&r);
    /* runs --tag: by key and value, by key alone */
    r = strata(ARGS("runs", "--tag", "team=b"));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 2 && strstr(r.out, "second"), "runs --tag:\n%s", r.out);
    run_strata_free(&r);
    r = strata(ARGS("runs", "--tag", "team"));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 3, "runs --tag team:\n%s", r.out);
    run_strata_free(&r);
    /* an empty value deletes */
    strata_ok("tag delete", ARGS("tag", "2", "stage="));
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_tags WHERE run_id = 2"), 2);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_tags WHERE run_id = 2 AND key = 'team' AND value = 'b'"), 1);
    sqlite3_close(db);

    strata_refuses(ARGS("tag", "2", "team"), 2, "KEY=VALUE");
    strata_refuses(ARGS("tag", "2", "=b"), 2, "'=b'");
    strata_refuses(ARGS("tag", "2"), 2, "KEY=VALUE");
    strata_refuses(ARGS("tag", "nosuchrun", "a=b"), 2, "nosuchrun");
    strata_refuses(ARGS("note", "2"), 2, "TEXT");
    strata_refuses(ARGS("note", "2", "a", "b"), 2, "TEXT");
    strata_refuses(ARGS("runs", "--tag", "=x"), 2, "--tag");
}
END_TEST

/* ---- STRATA_DB ------------------------------------------------------------------------ */

START_TEST(test_strata_db)
{
    ck_assert_int_eq(fx_mkdir("elsewhere"), 0);
    ck_assert_int_eq(chdir("elsewhere"), 0); /* no results/strata.db here */
    strata_refuses(ARGS("runs"), 2, "results/strata.db");
    char path[4200];
    snprintf(path, sizeof path, "%s/results/strata.db", base);
    setenv("STRATA_DB", path, 1);
    strata_run r = strata(ARGS("runs"));
    ck_assert_msg(r.status == 0 && strstr(r.out, "first") && strstr(r.out, "third"), "STRATA_DB: %s%s", r.out, r.err);
    run_strata_free(&r);
    strata_ok("show with STRATA_DB", ARGS("show", "first"));
    strata_ok("compare with STRATA_DB", ARGS("compare", "1", "2"));
    strata_refuses(ARGS("runs", "--db", "nothere.db"), 2, "--db"); /* --db wins */
    setenv("STRATA_DB", base, 1);                                  /* a folder */
    strata_refuses(ARGS("runs"), 2, "STRATA_DB");
    setenv("STRATA_DB", "missing.db", 1);
    strata_refuses(ARGS("show", "1"), 2, "STRATA_DB");
    unsetenv("STRATA_DB");
    ck_assert_int_eq(chdir(base), 0);
}
END_TEST

/* ---- rm ----------------------------------------------------------------------------------- */

static int64_t rows_of_run(sqlite3 *db, int64_t id)
{
    static const char *const tables[] = {"epochs", "run_classes", "run_samples", "run_skipped", "run_params",
                                         "run_tags", "epoch_classes", "evals"};
    char sql[256];
    int64_t n = 0;
    for (int i = 0; i < 8; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE run_id = %lld", tables[i], (long long)id);
        n += q_int(db, sql);
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE id = %lld", (long long)id);
    return n + q_int(db, sql);
}

START_TEST(test_rm)
{
    ck_assert_ptr_nonnull(freopen("/dev/null", "r", stdin)); /* not a terminal: --yes required */
    strata_refuses(ARGS("rm", "1"), 2, "--yes");
    strata_refuses(ARGS("rm", "--yes", "nosuchrun"), 2, "nosuchrun");
    strata_refuses(ARGS("rm", "--yes", "1", "busy"), 2, "busy"); /* running: nothing deleted */
    strata_refuses(ARGS("rm"), 2, "RUN");
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_gt(rows_of_run(db, 1), 8);
    sqlite3_close(db);
    struct stat sb;
    ck_assert_int_eq(stat("out/checkpoints/1/last.safetensors", &sb), 0);

    strata_run r = strata(ARGS("rm", "--yes", "first", "2"));
    ck_assert_msg(r.status == 0, "rm: exit %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "deleted run 1 (first) and out/checkpoints/1"), "rm:\n%s", r.out);
    run_strata_free(&r);
    db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(rows_of_run(db, 1), 0);
    ck_assert_int_eq(rows_of_run(db, 2), 0);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM eval_classes") + q_int(db, "SELECT count(*) FROM eval_confusion") +
                         q_int(db, "SELECT count(*) FROM eval_predictions"),
                     0);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE id = 3 AND parent_id IS NULL"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_params WHERE run_id = 3"), 2);
    sqlite3_close(db);
    ck_assert_int_ne(stat("out/checkpoints/1", &sb), 0);
    ck_assert_int_ne(stat("out/checkpoints/2", &sb), 0);
    ck_assert_int_eq(stat("out/checkpoints", &sb), 0);
}
END_TEST

/* `strata rm RUN` on a terminal (a pseudo-terminal here), answering
 * `answer`; returns the exit status. */
static int rm_on_terminal(const char *run, const char *answer)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(master, 0);
    ck_assert(grantpt(master) == 0 && unlockpt(master) == 0);
    char prog[4096];
    snprintf(prog, sizeof prog, "%s/core/strata", getenv("STRATA_BUILDDIR"));
    const char *slave = ptsname(master);
    ck_assert_ptr_nonnull(slave);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(slave, O_RDWR);
        int out = open("rm.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (setsid() < 0 || fd < 0 || out < 0 || dup2(fd, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(127);
        execl(prog, prog, "rm", run, (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(write(master, answer, strlen(answer)), (ssize_t)strlen(answer));
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    close(master);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

START_TEST(test_rm_asks)
{
    ck_assert_int_eq(rm_on_terminal("third", "n\n"), 1); /* not confirmed: nothing deleted */
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE name = 'third'"), 1);
    sqlite3_close(db);
    uint8_t *text;
    size_t n;
    ck_assert_int_eq(fx_read("rm.out", &text, &n), 0);
    text = realloc(text, n + 1);
    text[n] = 0;
    ck_assert_msg(strstr((char *)text, "delete this run? [y/N]") && strstr((char *)text, "nothing deleted"),
                  "rm on a terminal:\n%s", (char *)text);
    free(text);
    ck_assert_int_eq(rm_on_terminal("third", "y\n"), 0);
    db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE name = 'third'"), 0);
    sqlite3_close(db);
}
END_TEST

/* ---- run --tag ------------------------------------------------------------------------- */

START_TEST(test_run_tag)
{
    char *text = tiny_experiment("");
    ck_assert_int_eq(fx_write("exp.yaml", text, strlen(text)), 0);
    free(text);
    strata_refuses(ARGS("run", "exp.yaml", "--tag", "novalue"), 2, "--tag");
    strata_ok("run --tag", ARGS("run", "exp.yaml", "--tag", "purpose=smoke", "--tag", "owner=me", "-s",
                                "optimizer.lr=0.000125", "-s", "results.dir=tagged"));
    sqlite3 *db = db_open_readonly("tagged/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_tags WHERE run_id = 1 AND key IN ('purpose', 'owner')"), 2);
    char *v = q_text(db, "SELECT value FROM run_tags WHERE key = 'purpose'");
    ck_assert_str_eq(v, "smoke");
    free(v);
    /* a real run's parameters, typed, and the summary columns */
    ck_assert(q_double(db, "SELECT lr FROM run_summary WHERE run_id = 1") == 0.000125);
    ck_assert_int_eq(q_int(db, "SELECT batch_size FROM run_summary WHERE run_id = 1"), 16);
    ck_assert_int_eq(q_int(db, "SELECT input_size FROM run_summary WHERE run_id = 1"), 16);
    ck_assert_int_eq(q_int(db, "SELECT max_epochs FROM run_summary WHERE run_id = 1"), 1);
    v = q_text(db, "SELECT optimizer FROM run_summary WHERE run_id = 1");
    ck_assert_str_eq(v, "adam");
    free(v);
    v = q_text(db, "SELECT value FROM run_params WHERE run_id = 1 AND key = 'model.layers.0.type'");
    ck_assert_str_eq(v, "conv2d");
    free(v);
    ck_assert_int_eq(q_int(db, "SELECT json_extract(config_json, '$.model.layers[9].out_features') FROM runs"), 5);
    sqlite3_close(db);
    /* resume with an override: the parameters follow the new configuration */
    strata_ok("resume", ARGS("resume", "1", "--epochs", "1", "-s", "optimizer.lr=0.0002", "--db", "tagged/strata.db"));
    db = db_open_readonly("tagged/strata.db");
    ck_assert(q_double(db, "SELECT lr FROM run_summary WHERE run_id = 1") == 0.0002);
    ck_assert_int_eq(q_int(db, "SELECT max_epochs FROM run_summary WHERE run_id = 1"), 2);
    ck_assert(q_double(db, "SELECT json_extract(config_json, '$.optimizer.lr') FROM runs WHERE id = 1") == 0.0002);
    sqlite3_close(db);
}
END_TEST

static Suite *manage_suite(void)
{
    Suite *s = suite_create("manage");
    TCase *tc = tcase_create("manage");
    tcase_add_unchecked_fixture(tc, make_db, remove_db);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_numbers);
    tcase_add_test(tc, test_show_stop_reason);
    tcase_add_test(tc, test_tags);
    tcase_add_test(tc, test_strata_db);
    tcase_add_test(tc, test_rm);
    tcase_add_test(tc, test_rm_asks);
    tcase_add_test(tc, test_run_tag);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(manage_suite());
}
