/* test_sweep.c — `strata sweep` end to end through the built program.
 *
 * Each test works in a fresh temp dir (the current directory) holding
 * exp.yaml: a tiny conv net at 16 px on the shipped photos
 * ($STRATA_SRCDIR/data/flowers-mini), 1 epoch, with a 2x2 grid over conv1's
 * width and the learning rate. Checks read results/strata.db with sqlite3.
 *
 *   grid        4 runs, one sweep_id, 4 distinct points, each point's
 *               overrides in its run; sweep_summary; run again: nothing new
 *   killed      a sweep killed (SIGINT / SIGKILL to its process group) while
 *               its second point trains, run again: all 4 points finished
 *   --jobs 2    the same epochs rows as --jobs 1 (but seconds, images/s)
 *   concurrent  --jobs 4 while `strata runs` loops and a reader holds a
 *               transaction for 10 s: no lock error, no lost row
 *   --dry-run   lists the points, runs nothing
 *   refusals    unknown key, empty list, > 1000 points without --yes, no
 *               sweep section, points not mappings, a point's bad layer or
 *               optimizer option: exit 2, one line, no run */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fixtures/imgwrite.h"
#include "run_strata.h"
#include "testlib.h"
#include "testlib_db.h"

/* exp.yaml: the shared t/fixtures/tiny.yaml (1 epoch) and a sweep section. */
static const char grid_2x2[] = "sweep:\n"
                               "  grid:\n"
                               "    model.layers.0.out_channels: [4, 8]\n"
                               "    optimizer.lr: [0.01, 0.02]\n";

/* The points of grid_2x2, in order (the last key varies fastest), as their
 * labels ("key=value;key=value") and values. */
enum { NPOINTS = 4 };
static const char *const point_labels[NPOINTS] = {
    "model.layers.0.out_channels=4;optimizer.lr=0.01", "model.layers.0.out_channels=4;optimizer.lr=0.02",
    "model.layers.0.out_channels=8;optimizer.lr=0.01", "model.layers.0.out_channels=8;optimizer.lr=0.02"};
static const int point_width[NPOINTS] = {4, 4, 8, 8};
static const double point_lr[NPOINTS] = {0.01, 0.02, 0.01, 0.02};

/* Trainable parameters of the net with conv1 of width c: conv k*k*in*out +
 * out, batch norm 2c, conv2 9*c*16 + 16, linear 16*5 + 5. */
static long params_for_width(long c)
{
    return (27 * c + c) + 2 * c + (9 * c * 16 + 16) + (16 * 5 + 5);
}

/* ---- the temp dirs ------------------------------------------------------------ */

/* exp.yaml with the given sweep section (appended as is). */
static void write_experiment(const char *sweep)
{
    char *text = tiny_experiment(sweep);
    write_text("exp.yaml", text);
    free(text);
}

static void setup(void)
{
    e2e_enter(grid_2x2);
}

/* ---- running strata ------------------------------------------------------------ */

/* ---- the database -------------------------------------------------------------- */

/* No runs were recorded in results/strata.db (or it does not exist). */
static void assert_no_runs(const char *what)
{
    sqlite3 *db = db_open_if_exists("results/strata.db");
    if (!db)
        return;
    int64_t n = q_int_try(db, "SELECT count(*) FROM runs");
    sqlite3_close(db);
    ck_assert_msg(n <= 0, "%s: %lld runs were recorded", what, (long long)n);
}

/* The newest run of a point: its id, status and epochs (count, min, max). */
typedef struct point_run {
    int64_t id;
    char status[32];
    int n_epochs, first, last;
    long params;
} point_run;

static int find_point(sqlite3 *db, const char *label, point_run *p)
{
    sqlite3_stmt *st = db_prep(db, "SELECT r.id, r.status, count(e.epoch), ifnull(min(e.epoch), 0), "
                                "ifnull(max(e.epoch), 0), r.params FROM runs r LEFT JOIN epochs e ON e.run_id = r.id "
                                "WHERE r.sweep_point = ?1 GROUP BY r.id ORDER BY r.id DESC LIMIT 1");
    sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    memset(p, 0, sizeof *p);
    if (found) {
        p->id = sqlite3_column_int64(st, 0);
        snprintf(p->status, sizeof p->status, "%s", (const char *)sqlite3_column_text(st, 1));
        p->n_epochs = sqlite3_column_int(st, 2);
        p->first = sqlite3_column_int(st, 3);
        p->last = sqlite3_column_int(st, 4);
        p->params = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    return found;
}

/* Every point of grid_2x2 has a finished run with epochs 1..epochs, the
 * point's width (its parameter count) and its lr in every epoch row. */
static void assert_points_finished(sqlite3 *db, int epochs)
{
    for (int i = 0; i < NPOINTS; i++) {
        point_run p;
        ck_assert_msg(find_point(db, point_labels[i], &p), "no run for point %s", point_labels[i]);
        ck_assert_msg(!strcmp(p.status, "finished"), "point %s: run %lld is %s", point_labels[i], (long long)p.id,
                      p.status);
        ck_assert_msg(p.n_epochs == epochs && p.first == 1 && p.last == epochs,
                      "point %s: run %lld has %d epochs (%d..%d), expected 1..%d", point_labels[i], (long long)p.id,
                      p.n_epochs, p.first, p.last, epochs);
        ck_assert_int_eq(p.params, params_for_width(point_width[i]));
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM epochs WHERE run_id = %lld AND abs(lr - %.17g) < 1e-12",
                 (long long)p.id, point_lr[i]);
        ck_assert_msg(q_int(db, sql) == epochs, "point %s: the epochs' lr is not %g", point_labels[i], point_lr[i]);
    }
}

/* ---- 1. a 2x2 grid ------------------------------------------------------------- */

START_TEST(test_sweep_grid)
{
    strata_run r = strata(ARGS("sweep", "exp.yaml", "--tag", "study=widths", "--tag", "who=a=b"));
    ck_assert_msg(r.status == 0, "sweep: exit %d, stderr:\n%s", r.status, r.err);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE sweep_id IS NULL"), 0);
    ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT sweep_id) FROM runs"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT sweep_point) FROM runs"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweeps"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE sweep_id = (SELECT id FROM sweeps)"), NPOINTS);
    assert_points_finished(db, 1);
    /* --tag: every point's run has both tags (the value split at the first '=') */
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_tags t JOIN runs r ON r.id = t.run_id WHERE "
                               "(t.key = 'study' AND t.value = 'widths') OR (t.key = 'who' AND t.value = 'a=b')"),
                     2 * NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_tags"), 2 * NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweep_summary WHERE sweep_id = (SELECT id FROM sweeps)"),
                     NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT point) FROM sweep_summary"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweep_summary s JOIN epochs e ON e.run_id = s.run_id "
                               "WHERE s.best_val_acc = e.val_acc AND s.epochs = 1 AND s.status = 'finished'"),
                     NPOINTS);
    sqlite3_close(db);

    /* again (tags are not part of the sweep's identity): every point is
     * finished, nothing runs, the finished runs keep their tags */
    r = strata(ARGS("sweep", "exp.yaml", "--tag", "other=1"));
    ck_assert_msg(r.status == 0, "sweep again: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(!strncmp(r.out, "continuing sweep 1 ", 19), "%s", r.out);
    ck_assert_msg(count_substr(r.out, "skipped") == NPOINTS, "expected %d points skipped:\n%s", NPOINTS, r.out);
    ck_assert_msg(!strstr(r.out, "epoch   1/"), "an epoch ran:\n%s", r.out);
    run_strata_free(&r);
    db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweeps"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_tags"), 2 * NPOINTS);
    sqlite3_close(db);
}
END_TEST

/* ---- 1b. a sweep's identity includes its -s overrides ----------------------------- */

/* Every point of sweep `id` has its row in r's closing table (run, status,
 * best val_acc, best epoch, point, as sweep_summary has them). */
static void assert_sweep_table(sqlite3 *db, const char *out, int id)
{
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sweep_summary WHERE sweep_id = %d", id);
    int n = (int)q_int(db, sql);
    ck_assert_int_eq(n, NPOINTS);
    for (int i = 0; i < n; i++) {
        snprintf(sql, sizeof sql, "SELECT printf('%%7d  %%-11s %%12.4f %%10d  %%s', run_id, status, best_val_acc, "
                 "best_epoch, point) FROM sweep_summary WHERE sweep_id = %d ORDER BY run_id LIMIT 1 OFFSET %d", id, i);
        char *line = q_text(db, sql);
        ck_assert_msg(strstr(out, line), "the table lacks '%s':\n%s", line, out);
        free(line);
    }
    snprintf(sql, sizeof sql, "\nsweep %d:\n    run  status      best_val_acc best_epoch  point\n", id);
    ck_assert_msg(strstr(out, sql), "no table header for sweep %d:\n%s", id, out);
}

START_TEST(test_sweep_overrides)
{
    strata_run r = strata(ARGS("sweep", "exp.yaml"));
    ck_assert_msg(r.status == 0, "sweep: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(!strncmp(r.out, "new sweep 1\n", 12), "%s", r.out);
    sqlite3 *db = db_open_readonly("results/strata.db");
    assert_sweep_table(db, r.out, 1);
    sqlite3_close(db);
    run_strata_free(&r);

    /* the reported bug: other -s values used to find sweep 1 and skip every point */
    r = strata(ARGS("sweep", "exp.yaml", "-s", "train.epochs=2"));
    ck_assert_msg(r.status == 0, "sweep -s: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(!strncmp(r.out, "new sweep 2 (overrides differ from sweep 1)\n", 44), "%s", r.out);
    ck_assert_msg(!strstr(r.out, "skipped"), "%s", r.out);
    run_strata_free(&r);
    db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE sweep_id = 2"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.sweep_id = 2"),
                     2 * NPOINTS);
    char *ov = q_text(db, "SELECT overrides FROM sweeps WHERE id = 2");
    ck_assert_str_eq(ov, "-s train.epochs=2");
    free(ov);
    sqlite3_close(db);

    /* the same overrides again: continued, nothing trains */
    r = strata(ARGS("sweep", "exp.yaml", "-s", "train.epochs=2"));
    ck_assert_msg(r.status == 0, "sweep -s again: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(!strncmp(r.out, "continuing sweep 2 (same file, grid and overrides)\n", 51), "%s", r.out);
    ck_assert_int_eq(count_substr(r.out, "skipped"), NPOINTS);
    ck_assert_msg(!strstr(r.out, "epoch   1/"), "an epoch ran:\n%s", r.out);
    db = db_open_readonly("results/strata.db");
    assert_sweep_table(db, r.out, 2);
    sqlite3_close(db);
    run_strata_free(&r);

    /* --new: a new sweep with the same file, grid and overrides */
    r = strata(ARGS("sweep", "exp.yaml", "--new"));
    ck_assert_msg(r.status == 0, "sweep --new: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(!strncmp(r.out, "new sweep 3 (--new; sweep 1 has the same file and grid)\n", 56), "%s", r.out);
    run_strata_free(&r);
    db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE sweep_id = 3"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM sweeps"), 3);
    sqlite3_close(db);
}
END_TEST

/* A point that early stopping ended, killed after its last row but before
 * its status: the next sweep marks it finished with the reason and trains
 * nothing more (as the uninterrupted point would have). On this fixture
 * early stopping ends the run after epoch 3 (t/test_resume). */
START_TEST(test_sweep_early_stopped_point)
{
    write_experiment("train:\n  epochs: 4\n  early_stopping: {monitor: val_acc, patience: 1}\n"
                     "optimizer:\n  schedule: {name: plateau, patience: 0, factor: 0.5}\n"
                     "sweep:\n  points:\n    - {train.seed: 1}\n");
    setenv("STRATA_CRASH_AT", "row:3", 1);
    strata_run r = strata(ARGS("sweep", "exp.yaml"));
    unsetenv("STRATA_CRASH_AT");
    ck_assert_msg(r.status == 1, "sweep: exit %d, stderr:\n%s", r.status, r.err);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = 'finished'"), 0);
    sqlite3_close(db);

    r = strata(ARGS("sweep", "exp.yaml"));
    ck_assert_msg(r.status == 0, "sweep again: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "run 1: ended by early stopping after epoch 3 (killed before its status was "
                                "recorded); marked finished\n"), "%s", r.out);
    ck_assert_msg(!strstr(r.out, "epoch   4/"), "an epoch ran:\n%s", r.out);
    run_strata_free(&r);
    db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE id = 1 AND status = 'finished' AND stop_reason LIKE "
                               "'early stopping: val_acc did not improve by 0 for 1 epochs (best %'"), 1);
    sqlite3_close(db);
}
END_TEST

/* ---- 2. killed half way ------------------------------------------------------------ */


/* The id of a run past the first point that is training with a complete
 * checkpoint while all the runs before it finished (so killing now
 * interrupts it half way); 0 while there is none. */
static int64_t point_half_way(void)
{
    sqlite3 *db = db_open_if_exists("results/strata.db");
    if (!db)
        return 0;
    int64_t id = q_int_try(db, "SELECT id FROM runs r WHERE status = 'running' AND id >= 2 AND NOT EXISTS "
                               "(SELECT 1 FROM runs p WHERE p.id < r.id AND p.status != 'finished')");
    sqlite3_close(db);
    char path[128];
    snprintf(path, sizeof path, "results/checkpoints/%lld/last.state.safetensors", (long long)id);
    return id > 0 && access(path, F_OK) == 0 ? id : 0;
}

static const int kill_signals[] = {SIGKILL, SIGINT};

START_TEST(test_sweep_killed)
{
    int sig = kill_signals[_i];
    const int epochs = 3;
    /* orphans of the killed sweep (its point's process) come to us */
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    pid_t pid = run_strata_bg(ARGS("sweep", "exp.yaml", "-s", "train.epochs=3", "--jobs", "1"), 1);
    int waited = 0;
    int64_t cut; /* the run killed half way */
    while (!(cut = point_half_way()) && waited < 60000) {
        ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "the sweep ended before it was killed");
        sleep_ms(10);
        waited += 10;
    }
    ck_assert_msg(waited < 60000, "the second point did not start within 60 s");
    ck_assert_int_eq(kill(-pid, sig), 0);
    /* reap the sweep and its point's process */
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    ck_assert_int_eq(errno, ECHILD);

    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = 'finished'"), cut - 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), cut);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM epochs WHERE run_id = %lld", (long long)cut);
    int cut_epochs = (int)q_int(db, sql);
    /* (0 when killed between the first checkpoint and its row; == epochs
     * when killed between the last epoch's row and the status) */
    ck_assert_msg(cut_epochs >= 0 && cut_epochs <= epochs, "the interrupted point has %d epochs", cut_epochs);
    sqlite3_close(db);

    strata_run r = strata(ARGS("sweep", "exp.yaml", "-s", "train.epochs=3", "--jobs", "1", "--tag", "again=yes"));
    ck_assert_msg(r.status == 0, "sweep again: exit %d, stderr:\n%s\nstdout:\n%s", r.status, r.err, r.out);
    ck_assert_msg(count_substr(r.out, "skipped") == cut - 1, "expected %lld points skipped:\n%s", (long long)cut - 1,
                  r.out);
    run_strata_free(&r);

    db = db_open_readonly("results/strata.db");
    assert_points_finished(db, epochs);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = 'finished'"), NPOINTS);
    ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT sweep_id) FROM runs"), 1);
    /* the interrupted point went on under its run id (it had a checkpoint),
     * or, had it all its epochs, started over as a new run */
    int64_t n_runs = q_int(db, "SELECT count(*) FROM runs");
    ck_assert_msg(n_runs == NPOINTS || (n_runs == NPOINTS + 1 && cut_epochs == epochs), "%lld runs for %d points",
                  (long long)n_runs, NPOINTS);
    if (n_runs == NPOINTS)
        ck_assert_int_eq(q_int(db, sql), epochs);
    /* --tag of the second sweep: on the runs it continued (the cut one) or
     * started (the points after it), not on the finished points it skipped */
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_tags WHERE key = 'again' AND value = 'yes'"),
                     n_runs - (cut - 1));
    snprintf(sql, sizeof sql, "SELECT min(run_id) FROM run_tags WHERE key = 'again'");
    ck_assert_int_eq(q_int(db, sql), cut);
    sqlite3_close(db);
}
END_TEST

/* ---- 3. --jobs 2 == --jobs 1 ---------------------------------------------------------- */

/* The epochs rows of each point in db a and db b, matched by sweep_point,
 * are the same bit for bit apart from seconds and images_per_sec. */
static void assert_same_points(const char *path_a, const char *path_b, int epochs)
{
    sqlite3 *db = db_open_readonly(path_a);
    char sql[512];
    snprintf(sql, sizeof sql, "ATTACH DATABASE '%s' AS b", path_b);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM main.epochs"), NPOINTS * epochs);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM b.epochs"), NPOINTS * epochs);
    sqlite3_stmt *st = db_prep(db, "SELECT ra.sweep_point, ea.epoch, ea.train_loss, eb.train_loss, ea.train_acc, "
                                "eb.train_acc, ea.val_loss, eb.val_loss, ea.val_acc, eb.val_acc, ea.lr, eb.lr "
                                "FROM main.runs ra JOIN main.epochs ea ON ea.run_id = ra.id "
                                "JOIN b.runs rb ON rb.sweep_point = ra.sweep_point "
                                "JOIN b.epochs eb ON eb.run_id = rb.id AND eb.epoch = ea.epoch ORDER BY 1, 2");
    static const char *const col[] = {"train_loss", "train_acc", "val_loss", "val_acc", "lr"};
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        for (int c = 0; c < 5; c++) {
            double x = sqlite3_column_double(st, 2 + 2 * c), y = sqlite3_column_double(st, 3 + 2 * c);
            ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "point %s epoch %d %s: %.17g with --jobs 1, %.17g with "
                          "--jobs 2", sqlite3_column_text(st, 0), sqlite3_column_int(st, 1), col[c], x, y);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert_int_eq(rows, NPOINTS * epochs);
}

START_TEST(test_sweep_jobs)
{
    strata_ok("--jobs 1", ARGS("sweep", "exp.yaml", "-s", "results.dir=r1", "-s", "train.threads=2", "-s", "train.epochs=2",
                               "--jobs", "1"));
    strata_ok("--jobs 2", ARGS("sweep", "exp.yaml", "-s", "results.dir=r2", "-s", "train.threads=2", "-s", "train.epochs=2",
                               "--jobs", "2"));
    static const char *const dbs[] = {"r1/strata.db", "r2/strata.db"};
    for (int i = 0; i < 2; i++) {
        sqlite3 *db = db_open_readonly(dbs[i]);
        assert_points_finished(db, 2);
        ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), NPOINTS);
        /* train.threads 2 / --jobs N threads per point */
        ck_assert_int_eq(q_int(db, i ? "SELECT count(*) FROM runs WHERE config LIKE '%threads: 1%'"
                                     : "SELECT count(*) FROM runs WHERE config LIKE '%threads: 2%'"),
                         NPOINTS);
        sqlite3_close(db);
    }
    assert_same_points(dbs[0], dbs[1], 2);
}
END_TEST

/* ---- 3b. concurrency ------------------------------------------------------------------ */

/* `strata sweep --jobs 4` (8 points, 3 epochs) on one database while a
 * second process runs `strata runs` in a loop and this one holds a read
 * transaction for 10 s: no lock error anywhere, no lost row. */
START_TEST(test_sweep_concurrent)
{
    write_experiment("sweep:\n  grid:\n    model.layers.0.out_channels: [4, 8]\n"
                     "    optimizer.lr: [0.01, 0.02, 0.03, 0.04]\ntrain:\n  epochs: 3\n");
    pid_t sweep = run_strata_bg(ARGS("sweep", "exp.yaml", "--jobs", "4"), 1);
    /* the database and its schema exist once the first run is recorded */
    sqlite3 *reader = NULL;
    for (int waited = 0; !reader && waited < 60000; waited += 10) {
        sqlite3 *db = db_open_if_exists("results/strata.db");
        if (db && q_int_try(db, "SELECT count(*) FROM runs") > 0)
            reader = db;
        else {
            if (db)
                sqlite3_close(db);
            sleep_ms(10);
        }
    }
    ck_assert_msg(reader != NULL, "the sweep recorded no run within 60 s");
    fflush(NULL);
    pid_t looper = fork();
    ck_assert_int_ge(looper, 0);
    if (looper == 0) { /* `strata runs` until told to stop; exit 1 at the first failure */
        int n = 0;
        while (access("stop", F_OK) != 0) {
            strata_run r = strata(ARGS("runs"));
            if (r.status != 0) {
                fprintf(stderr, "strata runs (pass %d): exit %d: %s\n", n, r.status, r.err);
                _exit(1);
            }
            run_strata_free(&r);
            n++;
        }
        _exit(n > 0 ? 0 : 2);
    }
    /* a read transaction held for 10 s while the sweep writes */
    ck_assert_int_eq(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    int64_t seen = q_int(reader, "SELECT count(*) FROM epochs");
    sleep_ms(10000);
    ck_assert_int_eq(q_int(reader, "SELECT count(*) FROM epochs"), seen); /* still its snapshot */
    ck_assert_int_eq(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(reader);
    int status;
    ck_assert_int_eq(waitpid(sweep, &status, 0), sweep);
    write_text("stop", "");
    int lstatus;
    ck_assert_int_eq(waitpid(looper, &lstatus, 0), looper);
    char *err = NULL;
    size_t n_err = 0;
    fx_read("bg.err", (uint8_t **)&err, &n_err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sweep: status %d, stderr:\n%.*s", status,
                  (int)n_err, err ? err : "");
    ck_assert_msg(!err || (!memmem(err, n_err, "locked", 6) && !memmem(err, n_err, "busy", 4)),
                  "sweep stderr:\n%.*s", (int)n_err, err);
    free(err);
    ck_assert_msg(WIFEXITED(lstatus) && WEXITSTATUS(lstatus) == 0, "the strata runs loop failed (status %d)", lstatus);
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = 'finished'"), 8);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), 8);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs"), 8 * 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM (SELECT run_id FROM epochs GROUP BY run_id "
                               "HAVING min(epoch) = 1 AND max(epoch) = 3 AND count(*) = 3)"), 8);
    char *ic = q_text(db, "PRAGMA integrity_check");
    ck_assert_str_eq(ic, "ok");
    free(ic);
    sqlite3_close(db);
}
END_TEST

/* ---- 4. --dry-run -------------------------------------------------------------------- */

START_TEST(test_sweep_dry_run)
{
    strata_run r = strata(ARGS("sweep", "exp.yaml", "--dry-run"));
    ck_assert_msg(r.status == 0, "--dry-run: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_int_eq(count_lines(r.out), NPOINTS + 1); /* a header, one line per point */
    for (int i = 0; i < NPOINTS; i++)
        ck_assert_msg(strstr(r.out, point_labels[i]), "point %s not listed:\n%s", point_labels[i], r.out);
    ck_assert_msg(count_substr(r.out, "new") == NPOINTS, "every point should be new:\n%s", r.out);
    run_strata_free(&r);
    assert_no_runs("--dry-run");
    ck_assert_msg(access("results/checkpoints", F_OK) != 0, "--dry-run made checkpoints");

    /* after the sweep, --dry-run shows the points finished */
    strata_ok("sweep", ARGS("sweep", "exp.yaml"));
    r = strata(ARGS("sweep", "exp.yaml", "--dry-run"));
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(count_substr(r.out, "finished") == NPOINTS, "every point should be finished:\n%s", r.out);
    run_strata_free(&r);
}
END_TEST

/* ---- 5. refusals --------------------------------------------------------------------- */

/* A grid of 40 x 50 = 2000 points (malloc'd). */
static char *big_grid(void)
{
    size_t cap = 8192, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "sweep:\n  grid:\n    optimizer.lr: [");
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%g", i ? ", " : "", 0.001 * (i + 1));
    len += (size_t)snprintf(s + len, cap - len, "]\n    train.seed: [");
    for (int i = 0; i < 50; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%d", i ? ", " : "", i + 1);
    snprintf(s + len, cap - len, "]\n");
    return s;
}

typedef struct bad_sweep {
    const char *what, *sweep; /* sweep NULL: the 2000-point grid */
    const char *needles;      /* ';'-separated, all in the message */
} bad_sweep;

static const bad_sweep bad_sweeps[] = {
    {"unknown key", "sweep:\n  grid:\n    model.colum: [A, B]\n", "colum"},
    {"empty list", "sweep:\n  grid:\n    optimizer.lr: []\n", "optimizer.lr;exp.yaml"},
    {"2000 points without --yes", NULL, "exp.yaml;2000;--yes"},
    {"no sweep section", "", "exp.yaml;sweep"},
    {"points not mappings", "sweep:\n  points: [1, 2]\n", "exp.yaml;points"},
    {"points not a list", "sweep:\n  points: {optimizer.lr: 0.01}\n", "exp.yaml;points"},
    {"grid not a mapping", "sweep:\n  grid: [1, 2]\n", "exp.yaml;grid"},
    /* options checked by the plugins (every point is checked before any runs) */
    {"unknown layer option", "sweep:\n  grid:\n    model.layers.0.kernal: [3]\n", "model.layers.0.kernal"},
    {"unknown optimizer option in a point",
     "sweep:\n  points:\n    - {optimizer.lr: 0.01}\n    - {optimizer.momentun: 0.9}\n", "optimizer.momentun"},
    {"a bad value in the grid", "sweep:\n  grid:\n    optimizer.lr: [0.01, -1]\n", "optimizer.lr"},
};
enum { NUM_BAD = sizeof bad_sweeps / sizeof bad_sweeps[0] };


static void check_refused(const bad_sweep *c)
{
    char *big = c->sweep ? NULL : big_grid();
    write_experiment(c->sweep ? c->sweep : big);
    free(big);
    strata_run r = strata(ARGS("sweep", "exp.yaml"));
    ck_assert_msg(r.status == 2, "%s: exit %d, expected 2; stderr:\n%s", c->what, r.status, r.err);
    ck_assert_msg(count_lines(r.err) == 1, "%s: expected one line on stderr:\n%s", c->what, r.err);
    ck_assert_msg(strncmp(r.err, "strata: ", 8) == 0, "%s: stderr: %s", c->what, r.err);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", c->needles);
    for (char *save, *n = strtok_r(buf, ";", &save); n; n = strtok_r(NULL, ";", &save))
        ck_assert_msg(strstr(r.err, n), "%s: stderr does not name '%s': %s", c->what, n, r.err);
    ck_assert_msg(!strstr(r.out, "epoch "), "%s: an epoch ran:\n%s", c->what, r.out);
    run_strata_free(&r);
    assert_no_runs(c->what);
}

START_TEST(test_sweep_refused)
{
    check_refused(&bad_sweeps[_i]);
}
END_TEST


/* With --yes (and --dry-run) the 2000-point grid is accepted and listed. */
START_TEST(test_sweep_big_with_yes)
{
    char *big = big_grid();
    write_experiment(big);
    free(big);
    strata_run r = strata(ARGS("sweep", "exp.yaml", "--yes", "--dry-run"));
    ck_assert_msg(r.status == 0, "--yes --dry-run: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_int_eq(count_lines(r.out), 2000 + 1);
    ck_assert_msg(strstr(r.out, "optimizer.lr=0.04;train.seed=50"), "the last point is not listed");
    run_strata_free(&r);
    assert_no_runs("--yes --dry-run");
}
END_TEST

START_TEST(test_sweep_usage)
{
    static const char *const bad[][5] = {
        {"sweep", "exp.yaml", "--jobs", "0"},
        {"sweep", "exp.yaml", "--jobs", "x"},
        {"sweep", "--dry-run", NULL, NULL},
        {"sweep", "missing.yaml", NULL, NULL},
        {"sweep", "exp.yaml", "--tag", "novalue"},
        {"sweep", "exp.yaml", "--tag", "=v"},
    };
    for (int i = 0; i < 6; i++) {
        strata_run r = strata(bad[i]);
        ck_assert_msg(r.status == 2, "case %d: exit %d, expected 2; stderr:\n%s", i, r.status, r.err);
        ck_assert_msg(count_lines(r.err) == 1 && strncmp(r.err, "strata", 6) == 0, "case %d: stderr:\n%s", i, r.err);
        run_strata_free(&r);
    }
    assert_no_runs("usage errors");
}
END_TEST

static Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("sweep");
    tcase_add_unchecked_fixture(tc, e2e_make_base, e2e_remove_base);
    tcase_add_checked_fixture(tc, setup, e2e_leave);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sweep_grid);
    tcase_add_test(tc, test_sweep_overrides);
    tcase_add_test(tc, test_sweep_early_stopped_point);
    tcase_add_loop_test(tc, test_sweep_killed, 0, 2);
    tcase_add_test(tc, test_sweep_jobs);
    tcase_add_test(tc, test_sweep_concurrent);
    tcase_add_test(tc, test_sweep_dry_run);
    tcase_add_loop_test(tc, test_sweep_refused, 0, NUM_BAD);
    tcase_add_test(tc, test_sweep_big_with_yes);
    tcase_add_test(tc, test_sweep_usage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(sweep_suite());
}
