/* test_queries.c — the README's ready SQL queries, run as written, and the
 * commands that read the results database (`strata runs`, `show`,
 * `compare`), against one database made here.
 *
 * The database (results/strata.db in a temp dir, made once):
 *   runs 1, 2   a real `strata sweep` of the tiny conv net of
 *               t/fixtures/tiny.yaml on the shipped photos, grid
 *               model.layers.0.out_channels: [4, 8], 1 epoch
 *   runs 3..    inserted through the results API (core/store/results.h) with the
 *               model names the builders give ('alexnet tutorial', 'vgg D',
 *               'vgg D bn', 'vgg A') and chosen val_acc / images_per_sec;
 *               then a sweep over two VGG columns (A, D); last a resumed
 *               run: 30 epochs, interrupted, then epochs 31..40, finished.
 * Expected values are worked out from what was inserted, not read back
 * through the views under test. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fixtures/imgwrite.h"
#include "store/params.h"
#include "store/results_sqlite.h" /* results_db: the schema checked with plain SQL */
#include "run_strata.h"
#include "testlib.h"
#include "testlib_db.h"

/* ---- the runs inserted through the results API ------------------------------------ */

enum { MAX_EPOCHS = 40 };

typedef struct fake_run {
    const char *name, *model;
    int n;                           /* epochs */
    double val_acc[4], ips[4];       /* per epoch (n <= 4) */
    const char *sweep_point;         /* of the column sweep, or NULL */
    int64_t id;                      /* filled in */
} fake_run;

static fake_run fakes[] = {
    {"alexnet-a", "alexnet tutorial", 3, {0.40, 0.61, 0.55}, {100, 110, 121}, NULL, 0},
    {"alexnet-b", "alexnet tutorial", 2, {0.50, 0.72}, {130, 140}, NULL, 0},
    {"vgg16", "vgg D", 3, {0.30, 0.83, 0.83}, {20, 22, 25}, NULL, 0},
    {"vgg16bn", "vgg D bn", 1, {0.45}, {18}, NULL, 0},
    {"vgg11", "vgg A", 1, {0.90}, {40}, NULL, 0},
    /* the column sweep (D first, so that "order by model" has work to do) */
    {"columns[D]", "vgg D", 2, {0.60, 0.66}, {21, 23}, "model.column=D", 0},
    {"columns[A]", "vgg A", 2, {0.58, 0.52}, {41, 44}, "model.column=A", 0},
};
enum { NFAKES = sizeof fakes / sizeof fakes[0] };
/* Their optimizer.lr and train.batch_size (run_params). */
static const char *const fake_lr[NFAKES] = {"0.001", "3.0e-4", "1.0e-4", "0.000125", "0.0003", "0.01", "0.01"};
static const int fake_batch[NFAKES] = {64, 64, 32, 16, 32, 32, 32};

/* epoch_classes and evals as `strata run` and `strata eval` record them,
 * inserted with chosen counts so that the queries' answers can be worked out
 * here (t/test_eval checks that real runs and evals write these rows, and the
 * real sweep runs 1, 2 above carry their own). Per-class counts of the best VGG-16 (vgg16) and the
 * best AlexNet (alexnet-b), and a decoy (alexnet-a); two evals of vgg16,
 * the latest with confusion counts confusion_n(t, p). */
static const char *const flower_classes[5] = {"daisy", "dandelion", "roses", "sunflowers", "tulips"};
static int vgg_correct(int epoch, int c) { return 3 + epoch + c; }
static int alexnet_correct(int epoch, int c) { return 2 + 2 * epoch + c; }
static int confusion_n(int t, int p) { return t == p ? 5 : t + p; }

static void insert_class_rows(results *db)
{
    sqlite3 *s = results_db(db);
    char sql[256];
    for (int c = 0; c < 2; c++) {
        for (int e = 1; e <= fakes[2].n; e++) {
            snprintf(sql, sizeof sql, "INSERT INTO epoch_classes VALUES (%lld, %d, '%s', 10, %d)",
                     (long long)fakes[2].id, e, flower_classes[c], vgg_correct(e, c));
            ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
        }
        for (int e = 1; e <= fakes[1].n; e++) {
            snprintf(sql, sizeof sql, "INSERT INTO epoch_classes VALUES (%lld, %d, '%s', 10, %d)",
                     (long long)fakes[1].id, e, flower_classes[c], alexnet_correct(e, c));
            ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
            snprintf(sql, sizeof sql, "INSERT INTO epoch_classes VALUES (%lld, %d, '%s', 10, 1)",
                     (long long)fakes[0].id, e, flower_classes[c]);
            ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
        }
    }
    for (int k = 0; k < 2; k++) {
        snprintf(sql, sizeof sql, "INSERT INTO evals(run_id, checkpoint, data, loss, acc, n) VALUES (%lld, 'best', 'val',"
                 " 1, 0.5, 100)", (long long)fakes[2].id);
        ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
        int64_t eval_id = sqlite3_last_insert_rowid(s);
        for (int t = 0; t < 5; t++)
            for (int p = 0; p < 5; p++) {
                snprintf(sql, sizeof sql, "INSERT INTO eval_confusion VALUES (%lld, '%s', '%s', %d)",
                         (long long)eval_id, flower_classes[t], flower_classes[p], k ? confusion_n(t, p) : 1);
                ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
            }
    }
}

/* The resumed run: val_acc and images/s of epoch e. */
static double long_val_acc(int e) { return 0.3 + 0.01 * e; }
static double long_ips(int e) { return 19 + (e % 3); }
static int64_t long_id;
static int64_t strata_sweep_id, column_sweep_id;

static void add_epochs(results *db, int64_t id, int first, int last, const double *acc, const double *ips)
{
    strata_err err = {0};
    for (int e = first; e <= last; e++) {
        epoch_row row = {.epoch = e,
                         .train_loss = 1.0 / e,
                         .train_acc = acc[e - first] * 0.9,
                         .val_loss = 2.0 / e,
                         .val_acc = acc[e - first],
                         .lr = 0.01,
                         .seconds = 1.5,
                         .images_per_sec = ips[e - first]};
        ck_assert_msg(results_epoch(db, id, &row, &err) == 0, "results_epoch: %s", err.msg);
    }
}

static int64_t add_run(results *db, const char *name, const char *model, int64_t sweep_id, const char *point)
{
    strata_err err = {0};
    run_info info = {.name = name, .model = model, .experiment = "inserted", .config = "inserted: true\n",
                     .seed = 1, .params = 1000, .sweep_id = sweep_id, .sweep_point = point};
    int64_t id;
    ck_assert_msg(results_run_begin(db, &info, &id, &err) == 0, "results_run_begin: %s", err.msg);
    return id;
}

static void set_status(results *db, int64_t id, const char *status)
{
    strata_err err = {0};
    ck_assert_msg(results_run_status(db, id, status, &err) == 0, "results_run_status: %s", err.msg);
}

static void insert_runs(void)
{
    results *db;
    strata_err err = {0};
    ck_assert_msg(results_open("results/strata.db", &db, &err) == 0, "results_open: %s", err.msg);
    ck_assert_int_eq(sqlite3_exec(results_db(db), "INSERT INTO sweeps(file, grid, created_at) VALUES "
                                  "('columns.yaml', '{grid: {model.column: [D, A]}}', '2024-01-01T00:00:00Z')",
                                  NULL, NULL, NULL), SQLITE_OK);
    column_sweep_id = sqlite3_last_insert_rowid(results_db(db));
    for (int i = 0; i < NFAKES; i++) {
        fake_run *f = &fakes[i];
        f->id = add_run(db, f->name, f->model, f->sweep_point ? column_sweep_id : 0, f->sweep_point);
        char yaml[128];
        snprintf(yaml, sizeof yaml, "optimizer: {name: adam, lr: %s}\ntrain: {batch_size: %d}\n", fake_lr[i],
                 fake_batch[i]);
        ck_assert_msg(results_run_params_yaml(db, f->id, yaml, &err) == 0, "params: %s", err.msg);
        add_epochs(db, f->id, 1, f->n, f->val_acc, f->ips);
        set_status(db, f->id, "finished");
    }
    /* the resumed run: 30 epochs, interrupted, then 31..40 */
    double acc[MAX_EPOCHS], ips[MAX_EPOCHS];
    for (int e = 1; e <= MAX_EPOCHS; e++) {
        acc[e - 1] = long_val_acc(e);
        ips[e - 1] = long_ips(e);
    }
    insert_class_rows(db);
    long_id = add_run(db, "long", "vgg D", 0, NULL);
    add_epochs(db, long_id, 1, 30, acc, ips);
    set_status(db, long_id, "interrupted");
    set_status(db, long_id, "running");
    add_epochs(db, long_id, 31, 40, acc + 30, ips + 30);
    set_status(db, long_id, "finished");
    results_close(db);
}

/* ---- the database, made once ---------------------------------------------------- */

static char base[4096];

static void make_db(void)
{
    const char *t = getenv("TMPDIR"), *src = getenv("STRATA_SRCDIR");
    ck_assert_msg(src && getenv("STRATA_BUILDDIR"), "STRATA_SRCDIR/STRATA_BUILDDIR not set (run through make check)");
    snprintf(base, sizeof base, "%s/strata-queries-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(base));
    ck_assert_int_eq(chdir(base), 0);
    char *text = tiny_experiment("sweep:\n  grid: {model.layers.0.out_channels: [4, 8]}\n");
    ck_assert_int_eq(fx_write("exp.yaml", text, strlen(text)), 0);
    free(text);
    strata_run r;
    ck_assert_int_eq(run_strata(ARGS("sweep", "exp.yaml"), &r), 0);
    ck_assert_msg(r.status == 0, "strata sweep: exit %d:\n%s", r.status, r.err);
    run_strata_free(&r);
    strata_sweep_id = 1;
    insert_runs();
}

static void remove_db(void)
{
    if (chdir("/") == 0)
        fx_rm_rf(base);
}

/* ---- sqlite helpers ------------------------------------------------------------------ */

/* The column of st named `name` (the README's queries name their columns). */
static int col(sqlite3_stmt *st, const char *name)
{
    for (int i = 0; i < sqlite3_column_count(st); i++)
        if (!strcmp(sqlite3_column_name(st, i), name))
            return i;
    ck_abort_msg("the query has no column '%s'", name);
    return -1;
}

static const char *col_text(sqlite3_stmt *st, const char *name)
{
    const unsigned char *t = sqlite3_column_text(st, col(st, name));
    return t ? (const char *)t : "";
}

static double col_double(sqlite3_stmt *st, const char *name)
{
    return sqlite3_column_double(st, col(st, name));
}

/* ---- the README's queries ---------------------------------------------------------------- */

enum { NQUERIES = 7 };

/* The SQL of each `sqlite3 [-options] DB "SQL"` line of the fenced block in
 * the README's "Results in SQLite" section (malloc'd); returns the count. */
static int readme_queries(char **sql, int max)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/README.md", getenv("STRATA_SRCDIR"));
    uint8_t *data;
    size_t n;
    ck_assert_msg(fx_read(path, &data, &n) == 0, "cannot read %s", path);
    char *text = realloc(data, n + 1);
    text[n] = '\0';
    char *sec = strstr(text, "\n## Results in SQLite");
    ck_assert_msg(sec != NULL, "README.md has no section 'Results in SQLite'");
    char *next = strstr(sec + 1, "\n## ");
    char *fence = strstr(sec, "\n```");
    ck_assert_msg(fence && (!next || fence < next), "no fenced block in 'Results in SQLite'");
    char *body = strchr(fence + 1, '\n');
    char *end = body ? strstr(body, "\n```") : NULL;
    ck_assert_msg(body && end, "the fenced block is not closed");
    *end = '\0';
    int count = 0;
    for (char *line = body + 1; line && *line; ) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!strncmp(line, "sqlite3 ", 8)) {
            /* options, then the database path, then the quoted SQL */
            char *p = line + 8;
            while (*p == ' ' || *p == '-') {
                while (*p == ' ')
                    p++;
                if (*p == '-')
                    while (*p && *p != ' ')
                        p++;
            }
            ck_assert_msg(!strncmp(p, "results/strata.db ", 18), "query on another database: %s", line);
            char *q = strchr(p, '"'), *qe = q ? strchr(q + 1, '"') : NULL;
            ck_assert_msg(q && qe, "no double-quoted SQL in: %s", line);
            ck_assert_int_lt(count, max);
            sql[count++] = strndup(q + 1, (size_t)(qe - q - 1));
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return count;
}

/* "alexnet tutorial" etc.: the best val_acc of each model the query picks. */
static double best_of_model(const char *model)
{
    double best = -1;
    for (int i = 0; i < NFAKES; i++)
        for (int e = 0; e < fakes[i].n; e++)
            if (!strcmp(fakes[i].model, model) && fakes[i].val_acc[e] > best)
                best = fakes[i].val_acc[e];
    if (!strcmp(model, "vgg D"))
        for (int e = 1; e <= MAX_EPOCHS; e++)
            best = long_val_acc(e) > best ? long_val_acc(e) : best;
    return best;
}

/* 1. AlexNet against VGG-16: one row per model named alexnet... or vgg D... */
static void check_best_per_model(sqlite3 *db, const char *sql)
{
    static const char *const want[] = {"alexnet tutorial", "vgg D", "vgg D bn"};
    int seen[3] = {0}, rows = 0;
    sqlite3_stmt *st = db_prep(db, sql);
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        const char *model = col_text(st, "model");
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (!strcmp(model, want[i]))
                k = i;
        ck_assert_msg(k >= 0, "query 1 gave model '%s'", model);
        seen[k]++;
        double got = col_double(st, "best_val_acc"), exp = best_of_model(model);
        ck_assert_msg(got == exp, "query 1: %s best %.17g, inserted best %.17g", model, got, exp);
    }
    sqlite3_finalize(st);
    ck_assert_int_eq(rows, 3);
    ck_assert(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
}

/* 2. the newest sweep (the column sweep): its two points, ordered by model. */
static void check_newest_sweep(sqlite3 *db, const char *sql)
{
    const fake_run *order[2] = {&fakes[6], &fakes[5]}; /* vgg A, vgg D */
    sqlite3_stmt *st = db_prep(db, sql);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "query 2: %d rows, expected 2", i);
        const fake_run *f = order[i];
        ck_assert_str_eq(col_text(st, "point"), f->sweep_point);
        ck_assert_str_eq(col_text(st, "model"), f->model);
        int best = 0;
        for (int e = 1; e < f->n; e++)
            if (f->val_acc[e] > f->val_acc[best])
                best = e;
        ck_assert_msg(col_double(st, "best_val_acc") == f->val_acc[best], "query 2: %s best %.17g", f->sweep_point,
                      col_double(st, "best_val_acc"));
        ck_assert_int_eq(sqlite3_column_int(st, col(st, "best_epoch")), best + 1);
    }
    ck_assert_msg(sqlite3_step(st) == SQLITE_DONE, "query 2: more than 2 rows (not only the newest sweep?)");
    sqlite3_finalize(st);
}

/* 3. the resumed run (the newest): epochs 30 and 40. */
static void check_resumed(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = db_prep(db, sql);
    int rows = 0, seen30 = 0, seen40 = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        ck_assert_int_eq(sqlite3_column_int64(st, col(st, "run_id")), long_id);
        int e = sqlite3_column_int(st, col(st, "epoch"));
        ck_assert_msg(e == 30 || e == 40, "query 3 gave epoch %d", e);
        seen30 += e == 30;
        seen40 += e == 40;
        ck_assert(col_double(st, "val_acc") == long_val_acc(e));
    }
    sqlite3_finalize(st);
    ck_assert(rows == 2 && seen30 == 1 && seen40 == 1);
}

/* 4. throughput per model: the mean of the epochs' images/s, to 0.1. */
static void check_throughput(sqlite3 *db, const char *sql)
{
    static const char *const models[] = {"alexnet tutorial", "vgg D", "vgg D bn", "vgg A", "layers"};
    int seen[5] = {0}, rows = 0;
    sqlite3_stmt *st = db_prep(db, sql);
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows++;
        const char *model = col_text(st, "model");
        double sum = 0;
        int n = 0, k = -1;
        for (int i = 0; i < 5; i++)
            if (!strcmp(model, models[i]))
                k = i;
        ck_assert_msg(k >= 0, "query 4 gave model '%s'", model);
        seen[k]++;
        for (int i = 0; i < NFAKES; i++)
            for (int e = 0; e < fakes[i].n && !strcmp(fakes[i].model, model); e++, n++)
                sum += fakes[i].ips[e];
        if (!strcmp(model, "vgg D"))
            for (int e = 1; e <= MAX_EPOCHS; e++, n++)
                sum += long_ips(e);
        if (!strcmp(model, "layers")) { /* the real runs: their recorded epochs */
            sum = q_double(db, "SELECT sum(e.images_per_sec) FROM epochs e JOIN runs r ON r.id = e.run_id "
                               "WHERE r.model = 'layers'");
            n = (int)q_int(db, "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id "
                               "WHERE r.model = 'layers'");
        }
        ck_assert_int_gt(n, 0);
        double want = round(sum / n * 10) / 10, got = col_double(st, "images_per_sec");
        ck_assert_msg(fabs(got - want) < 1e-9, "query 4: %s %.17g images/s, expected %.17g", model, got, want);
    }
    sqlite3_finalize(st);
    ck_assert_int_eq(rows, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(seen[i] == 1, "query 4: model %s %d times", models[i], seen[i]);
}

/* 5. per-class accuracy of vgg16 against alexnet-b, epochs 1..2, classes
 * daisy and dandelion. */
static void check_per_class(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = db_prep(db, sql);
    for (int e = 1; e <= 2; e++)
        for (int c = 0; c < 2; c++) {
            ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "query 5: too few rows");
            ck_assert_int_eq(sqlite3_column_int(st, col(st, "epoch")), e);
            ck_assert_str_eq(col_text(st, "class"), flower_classes[c]);
            ck_assert_msg(fabs(col_double(st, "vgg16_acc") - vgg_correct(e, c) / 10.0) < 1e-12, "query 5: vgg16_acc");
            ck_assert_msg(fabs(col_double(st, "alexnet_acc") - alexnet_correct(e, c) / 10.0) < 1e-12,
                          "query 5: alexnet_acc");
        }
    ck_assert_msg(sqlite3_step(st) == SQLITE_DONE, "query 5: more than 4 rows");
    sqlite3_finalize(st);
}

/* 6. runs with lr < 3e-4 among the VGGs: vgg16 (1e-4), vgg16bn (1.25e-4),
 * best first. */
static void check_by_lr(sqlite3 *db, const char *sql)
{
    const fake_run *want[2] = {&fakes[2], &fakes[3]};
    sqlite3_stmt *st = db_prep(db, sql);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "query 6: %d rows, expected 2", i);
        ck_assert_int_eq(sqlite3_column_int64(st, col(st, "run_id")), want[i]->id);
        ck_assert(col_double(st, "lr") == strtod(fake_lr[want[i] - fakes], NULL));
        ck_assert_int_eq(sqlite3_column_int(st, col(st, "batch_size")), fake_batch[want[i] - fakes]);
    }
    ck_assert_msg(sqlite3_step(st) == SQLITE_DONE, "query 6: more than 2 rows");
    sqlite3_finalize(st);
}

/* 7. the confusion matrix of vgg16's latest eval: one row per true class,
 * one column per predicted class. */
static void check_confusion(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = db_prep(db, sql);
    for (int t = 0; t < 5; t++) {
        ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "query 7: %d rows, expected 5", t);
        ck_assert_str_eq(col_text(st, "true_class"), flower_classes[t]);
        for (int p = 0; p < 5; p++)
            ck_assert_int_eq(sqlite3_column_int(st, col(st, flower_classes[p])), confusion_n(t, p));
    }
    ck_assert_msg(sqlite3_step(st) == SQLITE_DONE, "query 7: more than 5 rows");
    sqlite3_finalize(st);
}

START_TEST(test_readme_queries)
{
    char *sql[8];
    int n = readme_queries(sql, 8);
    ck_assert_msg(n == NQUERIES, "README.md 'Results in SQLite' has %d sqlite3 queries, expected %d", n, NQUERIES);
    void (*const check[NQUERIES])(sqlite3 *, const char *) = {check_best_per_model, check_newest_sweep,
                                                              check_resumed,        check_throughput,
                                                              check_per_class,      check_by_lr,
                                                              check_confusion};
    sqlite3 *db = db_open_readonly("results/strata.db");
    for (int i = 0; i < n; i++) {
        check[i](db, sql[i]);
        free(sql[i]);
    }
    sqlite3_close(db);
}
END_TEST

/* ---- strata runs / show / compare --------------------------------------------------------- */

/* `"id": N` is in the JSON (followed by a non-digit). */
static int json_has_id(const char *json, const char *key, int64_t id)
{
    char pat[64];
    int len = snprintf(pat, sizeof pat, "\"%s\": %lld", key, (long long)id);
    for (const char *s = json; (s = strstr(s, pat)); s++)
        if (s[len] < '0' || s[len] > '9')
            return 1;
    return 0;
}

/* A table line of `strata runs` begins with the id. */
static int table_has_id(const char *out, int64_t id)
{
    char pat[32];
    int len = snprintf(pat, sizeof pat, "%lld ", (long long)id);
    for (const char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, pat, (size_t)len))
            return 1;
    return 0;
}

static void assert_refused(const strata_run *r, const char *what, const char *needle)
{
    ck_assert_msg(r->status == 2, "%s: exit %d, expected 2; stderr:\n%s", what, r->status, r->err);
    ck_assert_msg(count_lines(r->err) == 1 && !strncmp(r->err, "strata", 6), "%s: stderr:\n%s", what, r->err);
    ck_assert_msg(strstr(r->err, needle), "%s: stderr does not name '%s': %s", what, needle, r->err);
}

START_TEST(test_runs)
{
    sqlite3 *db = db_open_readonly("results/strata.db");
    int64_t n_runs = q_int(db, "SELECT count(*) FROM runs"), max_id = q_int(db, "SELECT max(id) FROM runs");
    ck_assert_int_eq(n_runs, 2 + NFAKES + 1);

    strata_run r = strata(ARGS("runs"));
    ck_assert_msg(r.status == 0, "runs: exit %d:\n%s", r.status, r.err);
    ck_assert_int_eq(count_lines(r.out), 1 + n_runs);
    for (int64_t id = 1; id <= max_id; id++)
        ck_assert_msg(table_has_id(r.out, id), "run %lld not listed:\n%s", (long long)id, r.out);
    ck_assert_msg(strstr(r.out, "alexnet tutorial") && strstr(r.out, "vgg D bn"), "models not listed:\n%s", r.out);
    /* alexnet-a: 3 epochs of 1.5 s, best val_acc 0.61: times to 0.1, accuracies to 4 decimals */
    ck_assert_msg(strstr(r.out, " 4.5 ") && !strstr(r.out, "4.5000") && strstr(r.out, "0.6100"),
                  "seconds or accuracies not as documented:\n%s", r.out);
    run_strata_free(&r);

    r = strata(ARGS("runs", "--json"));
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(r.out[0] == '[', "runs --json:\n%s", r.out);
    ck_assert_int_eq(count_substr(r.out, "\"id\": "), n_runs);
    for (int64_t id = 1; id <= max_id; id++)
        ck_assert(json_has_id(r.out, "id", id));
    run_strata_free(&r);

    /* --where: exactly the runs whose best epoch is above 0.5 */
    r = strata(ARGS("runs", "--where", "best_val_acc > 0.5", "--json"));
    ck_assert_msg(r.status == 0, "--where: exit %d:\n%s", r.status, r.err);
    sqlite3_stmt *st = db_prep(db, "SELECT id, (SELECT max(val_acc) FROM epochs WHERE run_id = runs.id) FROM runs");
    int above = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int want = sqlite3_column_double(st, 1) > 0.5;
        above += want;
        ck_assert_msg(json_has_id(r.out, "id", id) == want, "--where: run %lld %s:\n%s", (long long)id,
                      want ? "missing" : "listed", r.out);
    }
    sqlite3_finalize(st);
    ck_assert_int_ge(above, NFAKES - 1);
    ck_assert_int_eq(count_substr(r.out, "\"id\": "), above);
    run_strata_free(&r);

    r = strata(ARGS("runs", "--where", "model like 'vgg%'"));
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(!strstr(r.out, "alexnet") && strstr(r.out, "vgg A"), "--where model:\n%s", r.out);
    run_strata_free(&r);

    /* --sweep: the strata sweep's two runs, then the column sweep's */
    r = strata(ARGS("runs", "--sweep", "1", "--json"));
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(count_substr(r.out, "\"id\": "), 2);
    ck_assert(json_has_id(r.out, "id", 1) && json_has_id(r.out, "id", 2));
    run_strata_free(&r);
    char sweep[32];
    snprintf(sweep, sizeof sweep, "%lld", (long long)column_sweep_id);
    r = strata(ARGS("runs", "--sweep", sweep));
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(count_lines(r.out), 1 + 2);
    ck_assert(table_has_id(r.out, fakes[5].id) && table_has_id(r.out, fakes[6].id));
    run_strata_free(&r);

    /* hyper-parameters: numbers compared as numbers */
    r = strata(ARGS("runs", "--where", "lr < 3e-4 and model like 'vgg%'"));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 3 && table_has_id(r.out, fakes[2].id) &&
                      table_has_id(r.out, fakes[3].id),
                  "--where lr:\n%s%s", r.out, r.err);
    run_strata_free(&r);
    r = strata(ARGS("runs", "--where", "batch_size = 64 and optimizer = 'adam'"));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 3 && table_has_id(r.out, fakes[0].id) &&
                      table_has_id(r.out, fakes[1].id),
                  "--where batch_size:\n%s%s", r.out, r.err);
    run_strata_free(&r);
    r = strata(ARGS("runs", "--where", "lr < 3e-4 and"));
    assert_refused(&r, "--where syntax error", "--where");
    run_strata_free(&r);

    r = strata(ARGS("runs", "--where", "no_such_column > 1"));
    assert_refused(&r, "bad --where", "no_such_column");
    run_strata_free(&r);
    r = strata(ARGS("runs", "--where", "best_val_acc >"));
    assert_refused(&r, "incomplete --where", "--where");
    run_strata_free(&r);
    /* an error raised while stepping through the rows (not when preparing):
     * exit 1, one line, nothing on stdout (not an empty table) */
    r = strata(ARGS("runs", "--where", "abs(run_id - 9223372036854775807 - 2) > 0"));
    ck_assert_msg(r.status == 1, "step error: exit %d, expected 1; stdout:\n%s", r.status, r.out);
    ck_assert_msg(count_lines(r.err) == 1 && strstr(r.err, "integer overflow"), "step error: stderr:\n%s", r.err);
    ck_assert_msg(r.out[0] == 0, "step error: a table was printed:\n%s", r.out);
    run_strata_free(&r);
    r = strata(ARGS("runs", "--db", "nothere.db"));
    assert_refused(&r, "missing db", "nothere.db");
    run_strata_free(&r);
    sqlite3_close(db);
}
END_TEST

START_TEST(test_show)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)fakes[2].id); /* vgg16: 3 epochs */
    strata_run r = strata(ARGS("show", id));
    ck_assert_msg(r.status == 0, "show: exit %d:\n%s", r.status, r.err);
    char head[64];
    snprintf(head, sizeof head, "run %s: vgg16", id);
    ck_assert_msg(strstr(r.out, head) && strstr(r.out, "vgg D") && strstr(r.out, "finished"), "show:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "0.8300") && strstr(r.out, "0.3000"), "the epochs' val_acc are not shown:\n%s", r.out);
    run_strata_free(&r);

    r = strata(ARGS("show", id, "--json"));
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(r.out[0] == '{' && json_has_id(r.out, "id", fakes[2].id), "show --json:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "\"status\": \"finished\"") && strstr(r.out, "\"model\": \"vgg D\""), "%s", r.out);
    ck_assert_int_eq(count_substr(r.out, "\"epoch\": "), fakes[2].n);
    run_strata_free(&r);

    /* by name: the newest run called "long" */
    r = strata(ARGS("show", "long", "--json"));
    ck_assert_int_eq(r.status, 0);
    ck_assert(json_has_id(r.out, "id", long_id));
    ck_assert_int_eq(count_substr(r.out, "\"epoch\": "), MAX_EPOCHS);
    run_strata_free(&r);

    /* a real run: its config is the resolved YAML */
    r = strata(ARGS("show", "1"));
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "layers") && strstr(r.out, "out_channels"), "show 1:\n%s", r.out);
    run_strata_free(&r);

    r = strata(ARGS("show", "999"));
    assert_refused(&r, "show 999", "999");
    run_strata_free(&r);
    r = strata(ARGS("show", "nosuchrun"));
    assert_refused(&r, "show nosuchrun", "nosuchrun");
    run_strata_free(&r);
    r = strata(ARGS("show"));
    assert_refused(&r, "show without a run", "RUN");
    run_strata_free(&r);
}
END_TEST

START_TEST(test_compare)
{
    const fake_run *a = &fakes[1], *b = &fakes[2]; /* alexnet-b (best 0.72), vgg16 (best 0.83) */
    char ia[32], ib[32];
    snprintf(ia, sizeof ia, "%lld", (long long)a->id);
    snprintf(ib, sizeof ib, "%lld", (long long)b->id);
    strata_run r = strata(ARGS("compare", ia, ib));
    ck_assert_msg(r.status == 0, "compare: exit %d:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "alexnet-b") && strstr(r.out, "vgg16"), "compare:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "0.7200") && strstr(r.out, "0.8300") && strstr(r.out, "0.1100"),
                  "compare: bests 0.72, 0.83 and their difference 0.11 not shown:\n%s", r.out);
    run_strata_free(&r);

    r = strata(ARGS("compare", ia, ib, "--json"));
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(r.out[0] == '{' && strstr(r.out, "\"metric\": \"val_acc\"") && strstr(r.out, "\"best\": 0.72,") &&
                      strstr(r.out, "\"best\": 0.83,") && strstr(r.out, "\"difference\": 0,"),
                  "%s", r.out);
    ck_assert(json_has_id(r.out, "id", a->id) && json_has_id(r.out, "id", b->id));
    ck_assert_msg(!strstr(r.out, "run ") && strstr(r.out, "{\"epoch\": 2, \"val_acc\": 0.72}"), "%s", r.out);
    ck_assert_int_eq(count_substr(r.out, "\"epoch\": "), a->n + b->n); /* each run's epochs */
    ck_assert_msg(json_has_id(r.out, "best_epoch", 2), "compare --json: no best_epoch 2:\n%s", r.out);
    ck_assert_msg(strstr(r.out, "\"differing_params\": {\n  \"optimizer.lr\": [0.0003, 0.0001],\n"
                                "  \"train.batch_size\": [64, 32]}"),
                  "compare --json: the differing parameters (lr 3.0e-4 against 1.0e-4, batch 64 against 32):\n%s",
                  r.out);
    run_strata_free(&r);

    /* --metric: the lowest val_loss (2/e: at the last epoch) */
    r = strata(ARGS("compare", ia, ib, "--metric", "val_loss"));
    ck_assert_msg(r.status == 0 && strstr(r.out, "run ") && strstr(r.out, " val_loss") && strstr(r.out, "best_val_loss"),
                  "compare --metric val_loss:\n%s%s", r.out, r.err);
    ck_assert_msg(strstr(r.out, "0.6667") && strstr(r.out, "1.0000"), "best val_loss 2/3 and 2/2 not shown:\n%s", r.out);
    run_strata_free(&r);
    r = strata(ARGS("compare", ia, ib, "--metric", "accuracy"));
    assert_refused(&r, "compare --metric accuracy", "--metric");
    run_strata_free(&r);

    /* the two real runs of the sweep differ in one parameter */
    r = strata(ARGS("compare", "1", "2"));
    ck_assert_msg(r.status == 0 && strstr(r.out, "model.layers.0.out_channels 4") && strstr(r.out, " 8"),
                  "compare 1 2: the differing parameter:\n%s", r.out);
    ck_assert_msg(!strstr(r.out, "optimizer.lr"), "compare 1 2: an equal parameter listed:\n%s", r.out);
    run_strata_free(&r);
    r = strata(ARGS("compare", "1", "2", "--json"));
    ck_assert_msg(strstr(r.out, "\"differing_params\": {\n  \"model.layers\": [") &&
                      strstr(r.out, "\"model.layers.0.out_channels\": [4, 8]}"),
                  "compare 1 2 --json:\n%s", r.out);
    run_strata_free(&r);

    r = strata(ARGS("compare", ia, "999"));
    assert_refused(&r, "compare with an unknown run", "999");
    run_strata_free(&r);
    r = strata(ARGS("compare"));
    assert_refused(&r, "compare without runs", "RUN");
    run_strata_free(&r);
}
END_TEST

/* compare takes any number of runs: 100 side by side (one column each),
 * in a database of their own. */
START_TEST(test_compare_many)
{
    enum { MANY = 100 };
    results *db;
    strata_err err = {0};
    ck_assert_msg(results_open("many/strata.db", &db, &err) == 0, "results_open: %s", err.msg);
    static const char *args[MANY + 6];
    static char ids[MANY][24];
    int n = 0;
    args[n++] = "compare";
    for (int i = 0; i < MANY; i++) {
        double acc[2] = {0.001 * i, 0.002 * i}, ips[2] = {10, 11};
        int64_t id = add_run(db, "many", "layers", 0, NULL);
        add_epochs(db, id, 1, 2, acc, ips);
        snprintf(ids[i], sizeof ids[i], "%lld", (long long)id);
        args[n++] = ids[i];
    }
    results_close(db);
    args[n++] = "--db";
    args[n++] = "many/strata.db";
    args[n] = NULL;
    strata_run r = strata(args);
    ck_assert_msg(r.status == 0, "compare of %d runs: exit %d:\n%s", MANY, r.status, r.err);
    char last[64];
    snprintf(last, sizeof last, "run %s val_acc", ids[MANY - 1]);
    ck_assert_msg(strstr(r.out, last), "compare of %d runs: no column '%s'", MANY, last);
    /* header + 2 epochs, a blank line, header + one best row per run */
    ck_assert_int_eq(count_lines(r.out), 3 + 1 + 1 + MANY);
    run_strata_free(&r);
    args[n++] = "--json";
    args[n] = NULL;
    r = strata(args);
    ck_assert_msg(r.status == 0, "compare --json of %d runs: exit %d:\n%s", MANY, r.status, r.err);
    ck_assert_int_eq(count_substr(r.out, "\"id\": "), MANY);
    ck_assert_int_eq(count_substr(r.out, "\"epoch\": "), 2 * MANY);
    ck_assert_int_eq(count_substr(r.out, "\"val_acc\": "), 2 * MANY);
    run_strata_free(&r);
}
END_TEST

static Suite *queries_suite(void)
{
    Suite *s = suite_create("queries");
    TCase *tc = tcase_create("queries");
    tcase_add_unchecked_fixture(tc, make_db, remove_db);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_readme_queries);
    tcase_add_test(tc, test_runs);
    tcase_add_test(tc, test_show);
    tcase_add_test(tc, test_compare);
    tcase_add_test(tc, test_compare_many);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(queries_suite());
}
