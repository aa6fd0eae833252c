/* test_train.c — `strata run` end to end: the built program trains a small
 * conv net on a synthetic image folder written here, and every check reads
 * the results database back with plain sqlite3 queries, as users would.
 *
 * Each test makes a fresh temp dir holding data/CLASS/NNN.png (or .jpg) and
 * exp.yaml, runs `$STRATA_BUILDDIR/core/strata run exp.yaml [-s k=v]...` with
 * that dir as the current directory (so results/strata.db lands there), and
 * removes the dir at the end.
 *
 * The data: 3 classes of 16x16 images, 30 each, with per-pixel noise —
 * "red" (red-dominant PNGs), "green" (green-dominant PNGs) and "stripes"
 * (grey vertical stripes, JPEGs). Written in the order red, green, stripes so
 * that the sorted class list (green, red, stripes) differs from it. */
#define _POSIX_C_SOURCE 200809L
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
#include <sys/stat.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>
#include "fixtures/imgwrite.h"
#include "run_strata.h"
#include "testlib.h"
#include "testlib_db.h"

enum { IMG = 16, PER_CLASS = 30, NUM_CLASSES = 3 };
static const char *const class_written[NUM_CLASSES] = {"red", "green", "stripes"};
static const char *const class_sorted[NUM_CLASSES] = {"green", "red", "stripes"};
#define VAL_FRACTION 0.2

/* ---- the synthetic data set ---------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* An integer in [-a, a]. */
static int noise(uint64_t *s, int a)
{
    return (int)(rng_next(s) % (uint64_t)(2 * a + 1)) - a;
}

static uint8_t clamp8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* rgb is (IMG, IMG, 3). Class 0 red-dominant, 1 green-dominant, 2 grey
 * vertical stripes of width 2 with a random phase; all with noise. */
static void draw(uint8_t *rgb, int cls, uint64_t *s)
{
    int phase = (int)(rng_next(s) % 4), shade = noise(s, 30);
    for (int y = 0; y < IMG; y++)
        for (int x = 0; x < IMG; x++) {
            uint8_t *p = rgb + (y * IMG + x) * 3;
            int base[3] = {110 + shade, 110 + shade, 110 + shade};
            if (cls == 0)
                base[0] = 200 + shade, base[1] = base[2] = 50;
            else if (cls == 1)
                base[1] = 200 + shade, base[0] = base[2] = 50;
            else
                base[0] = base[1] = base[2] = ((x + phase) / 2) % 2 ? 220 : 35;
            for (int c = 0; c < 3; c++)
                p[c] = clamp8(base[c] + noise(s, 40));
        }
}

static int write_class(const char *data, int cls)
{
    char *dir = fx_path(data, class_written[cls]), name[64];
    int rc = fx_mkdir(dir);
    uint8_t rgb[IMG * IMG * 3];
    uint64_t s = 1000 + (uint64_t)cls;
    for (int i = 0; i < PER_CLASS && rc == 0; i++) {
        draw(rgb, cls, &s);
        snprintf(name, sizeof name, "%03d.%s", i, cls == 2 ? "jpg" : "png");
        char *path = fx_path(dir, name);
        rc = cls == 2 ? fx_write_jpeg(path, IMG, IMG, 3, rgb, 95) : fx_write_png_rgb(path, IMG, IMG, rgb);
        free(path);
    }
    free(dir);
    return rc;
}

static void write_dataset(const char *dir)
{
    char *data = fx_path(dir, "data");
    ck_assert_int_eq(fx_mkdir(data), 0);
    for (int c = 0; c < NUM_CLASSES; c++)
        ck_assert_msg(write_class(data, c) == 0, "cannot write class %s", class_written[c]);
    free(data);
}

/* ---- the experiment ------------------------------------------------------- */

/* The trainable parameters of t/fixtures/tiny-synthetic.yaml's model:
 * conv k*k*in*out + out, batch norm 2*C, linear in*out + out. */
static long model_params(void)
{
    long conv1 = 3 * 3 * 3 * 8 + 8, bn1 = 2 * 8, conv2 = 3 * 3 * 8 * 16 + 16, fc = 16 * NUM_CLASSES + NUM_CLASSES;
    return conv1 + bn1 + conv2 + fc;
}

/* t/fixtures/tiny-synthetic.yaml, read once (main). */
static char *experiment_yaml;

static void read_experiment(void)
{
    const char *src = getenv("STRATA_SRCDIR");
    if (!src || !*src) {
        fprintf(stderr, "STRATA_SRCDIR is not set (run through make check)\n");
        exit(1);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/t/fixtures/tiny-synthetic.yaml", src);
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (experiment_yaml = calloc(n + 1, 1)) && fread(experiment_yaml, 1, n, f) == (size_t)n) {
        fclose(f);
        return;
    }
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
}

/* Each test's dir is made under `base`, which the unchecked fixture (run in
 * the parent process, so also after a failed test) removes at the end. */
static char base[4096];
static char *tdir; /* this test's temp dir */

static void make_base(void)
{
    make_temp_dir(base, sizeof base, "strata-train");
}

static void remove_base(void)
{
    fx_rm_rf(base);
}

static void setup(void)
{
    tdir = fx_path(base, "test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tdir));
    write_dataset(tdir);
    char *p = fx_path(tdir, "exp.yaml");
    ck_assert_int_eq(fx_write(p, experiment_yaml, strlen(experiment_yaml)), 0);
    free(p);
}

static void teardown(void)
{
    fx_rm_rf(tdir);
    free(tdir);
    tdir = NULL;
}

/* ---- running strata ------------------------------------------------------- */

typedef struct run_result {
    int status;   /* exit status, or 128 + signal */
    char out[1 << 20], err[1 << 14];
} run_result;

/* A strata started in the background; killed when the test process ends
 * early (a failed assertion exits), so a long run never outlives its test.
 * On Linux the child also dies with the test process (a Check timeout). */
static pid_t bg_pid;

static void kill_background(void)
{
    if (bg_pid > 0)
        kill(bg_pid, SIGKILL);
}

/* Start `strata run exp.yaml ARGS...` in tdir, stdout and stderr to files
 * there; returns the child's pid. args is NULL-terminated. */
static pid_t start_strata(const char *const *args, const char *tag)
{
    const char *build = getenv("STRATA_BUILDDIR");
    ck_assert_msg(build != NULL, "STRATA_BUILDDIR is not set (run through make check)");
    char prog[4096], out[64], err[64];
    snprintf(prog, sizeof prog, "%s/core/strata", build);
    snprintf(out, sizeof out, "%s.out", tag);
    snprintf(err, sizeof err, "%s.err", tag);
    const char *argv[32] = {prog, "run", "exp.yaml"};
    int n = 3;
    for (int i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    static int registered;
    if (!registered)
        registered = atexit(kill_background) == 0;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (chdir(tdir) != 0)
            _exit(120);
        int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), efd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (ofd < 0 || efd < 0 || dup2(ofd, 1) < 0 || dup2(efd, 2) < 0)
            _exit(121);
        execv(prog, (char *const *)argv);
        _exit(122);
    }
    return pid;
}

static void read_text(const char *name, char *buf, size_t size)
{
    char *p = fx_path(tdir, name);
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    free(p);
}

static void wait_strata(pid_t pid, const char *tag, run_result *r)
{
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    if (pid == bg_pid)
        bg_pid = 0;
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    ck_assert_msg(r->status < 120 || r->status > 122, "could not start strata (%d)", r->status);
    char name[64];
    snprintf(name, sizeof name, "%s.out", tag);
    read_text(name, r->out, sizeof r->out);
    snprintf(name, sizeof name, "%s.err", tag);
    read_text(name, r->err, sizeof r->err);
}

static run_result *run(const char *const *args)
{
    static run_result r;
    wait_strata(start_strata(args, "strata"), "strata", &r);
    return &r;
}

/* ---- reading the database ------------------------------------------------- */

static char *db_path(void)
{
    return fx_path(tdir, "results/strata.db");
}

/* Open tdir's results/strata.db, or NULL when it does not exist. */
static sqlite3 *db_open(void)
{
    char *p = db_path();
    sqlite3 *db = db_open_if_exists(p);
    free(p);
    return db;
}

/* ---- 1. end to end ------------------------------------------------------------ */

static void check_epochs(sqlite3 *db, int n)
{
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), n);
    ck_assert_int_eq(q_int(db, "SELECT min(epoch) FROM epochs WHERE run_id = 1"), 1);
    ck_assert_int_eq(q_int(db, "SELECT max(epoch) FROM epochs WHERE run_id = 1"), n);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT val_acc FROM epochs WHERE run_id = 1 AND epoch = %d", n);
    double acc = q_double(db, sql);
    ck_assert_msg(acc > 0.7, "last val_acc %g, expected > 0.7 (chance is 1/3)", acc);
    snprintf(sql, sizeof sql, "SELECT train_loss FROM epochs WHERE run_id = 1 AND epoch = %d", n);
    double first = q_double(db, "SELECT train_loss FROM epochs WHERE run_id = 1 AND epoch = 1"), last = q_double(db, sql);
    ck_assert_msg(last < first, "train_loss went from %g (epoch 1) to %g (epoch %d)", first, last, n);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND NOT (seconds > 0 AND "
                               "images_per_sec > 0 AND train_acc BETWEEN 0 AND 1 AND val_acc BETWEEN 0 AND 1)"), 0);
}

static void check_run_row(sqlite3 *db)
{
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), 1);
    char *status = q_text(db, "SELECT status FROM runs WHERE id = 1");
    ck_assert_str_eq(status, "finished");
    free(status);
    char *fin = q_text(db, "SELECT finished_at FROM runs WHERE id = 1");
    ck_assert_msg(fin && strlen(fin) == 20 && fin[19] == 'Z', "finished_at '%s'", fin ? fin : "NULL");
    free(fin);
    ck_assert_int_eq(q_int(db, "SELECT params FROM runs WHERE id = 1"), model_params());
    ck_assert_int_eq(q_int(db, "SELECT seed FROM runs WHERE id = 1"), 1);
}

/* The stored config is the resolved YAML: the file's keys and the -s values. */
static void check_config(sqlite3 *db)
{
    char *config = q_text(db, "SELECT config FROM runs WHERE id = 1");
    ck_assert_ptr_nonnull(config);
    ck_assert_msg(strstr(config, "lr: 0.0125"), "the -s optimizer.lr is not in the config:\n%s", config);
    ck_assert_msg(!strstr(config, "lr: 0.01\n"), "the file's optimizer.lr stayed in the config:\n%s", config);
    ck_assert_msg(strstr(config, "epochs: 6"), "the -s train.epochs is not in the config:\n%s", config);
    ck_assert_msg(strstr(config, "conv2") && strstr(config, "adaptive_avgpool"), "layers missing:\n%s", config);
    free(config);
}

static void check_classes(sqlite3 *db)
{
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_classes WHERE run_id = 1"), NUM_CLASSES);
    for (int i = 0; i < NUM_CLASSES; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT name FROM run_classes WHERE run_id = 1 AND idx = %d", i);
        char *name = q_text(db, sql);
        ck_assert_str_eq(name, class_sorted[i]);
        free(name);
    }
}

/* Stratified: floor(0.2 * 30) = 6 of each class in val, the rest in train;
 * every image once; each label the class of the image's folder. */
static void check_samples(sqlite3 *db)
{
    int per_val = (int)floor(VAL_FRACTION * PER_CLASS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_samples WHERE run_id = 1"), NUM_CLASSES * PER_CLASS);
    ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT path) FROM run_samples WHERE run_id = 1"),
                     NUM_CLASSES * PER_CLASS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND split = 'val'"),
                     NUM_CLASSES * per_val);
    for (int c = 0; c < NUM_CLASSES; c++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND split = 'val' AND label = %d", c);
        ck_assert_int_eq(q_int(db, sql), per_val);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND split = 'train' AND label = %d",
                 c);
        ck_assert_int_eq(q_int(db, sql), PER_CLASS - per_val);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM run_samples WHERE run_id = 1 AND label = %d AND path LIKE "
                 "'%%/%s/%%'", c, class_sorted[c]);
        ck_assert_int_eq(q_int(db, sql), PER_CLASS);
    }
}

START_TEST(test_end_to_end)
{
    run_result *r = run(ARGS("-s", "optimizer.lr=0.0125", "-s", "train.epochs=6"));
    ck_assert_msg(r->status == 0, "exit %d, stderr:\n%s", r->status, r->err);
    ck_assert_msg(strstr(r->out, "epoch   6/6"), "no line for epoch 6 on stdout:\n%s", r->out);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    check_run_row(db);
    check_epochs(db, 6);
    check_config(db);
    check_classes(db);
    check_samples(db);
    sqlite3_close(db);
}
END_TEST

/* ---- 2. determinism --------------------------------------------------------- */

/* 1 when runs a and b have the same epochs rows, bit for bit, in every
 * column but seconds and images_per_sec. */
static int same_epochs(sqlite3 *db, int a, int b)
{
    static const char sql[] = "SELECT epoch, train_loss, train_acc, val_loss, val_acc, lr FROM epochs "
                              "WHERE run_id = ? ORDER BY epoch";
    sqlite3_stmt *sa = db_prep(db, sql), *sb = db_prep(db, sql);
    sqlite3_bind_int(sa, 1, a);
    sqlite3_bind_int(sb, 1, b);
    int same = 1, ra, rb, rows = 0;
    while (same && (ra = sqlite3_step(sa)) == SQLITE_ROW && (rb = sqlite3_step(sb)) == SQLITE_ROW) {
        rows++;
        ck_assert_int_eq(sqlite3_column_int(sa, 0), sqlite3_column_int(sb, 0));
        for (int c = 1; c < 6; c++) {
            double x = sqlite3_column_double(sa, c), y = sqlite3_column_double(sb, c);
            same = same && memcmp(&x, &y, sizeof x) == 0;
        }
    }
    if (same)
        same = ra == SQLITE_DONE && sqlite3_step(sb) == SQLITE_DONE && rows > 0;
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    return same;
}

static int losses_differ(sqlite3 *db, int a, int b)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM epochs x JOIN epochs y ON x.epoch = y.epoch WHERE x.run_id = %d "
             "AND y.run_id = %d AND (x.train_loss != y.train_loss OR x.val_loss != y.val_loss)", a, b);
    return q_int(db, sql) > 0;
}

/* Random crops, flips and colour: the loader's workers draw random numbers;
 * batch size 7 leaves a partial last batch (72 = 10 * 7 + 2). */
static const char random_augment[] =
    "augment.train=[{random_resized_crop: {size: 16, scale: [0.5, 1.0]}}, {horizontal_flip: {p: 0.5}}, "
    "{color_jitter: {brightness: 0.3, contrast: 0.3, saturation: 0.3}}, "
    "{normalize: {mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]}}]";

START_TEST(test_determinism)
{
    for (int i = 0; i < 2; i++) {
        run_result *r = run(ARGS("-s", "train.threads=2", "-s", "data.workers=2", "-s", "train.epochs=3", "-s",
                                 "train.batch_size=7", "-s", random_augment));
        ck_assert_msg(r->status == 0, "run %d: exit %d, stderr:\n%s", i + 1, r->status, r->err);
    }
    run_result *r = run(ARGS("-s", "train.threads=2", "-s", "data.workers=2", "-s", "train.epochs=3", "-s",
                             "train.batch_size=7", "-s", random_augment, "-s", "train.seed=2"));
    ck_assert_msg(r->status == 0, "run 3: exit %d, stderr:\n%s", r->status, r->err);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs"), 9);
    ck_assert_msg(same_epochs(db, 1, 2), "two runs with seed 1, 2 threads, 2 workers differ");
    ck_assert_msg(losses_differ(db, 1, 3), "seed 2 gave the same losses as seed 1");
    sqlite3_close(db);
}
END_TEST

/* The stored config is the resolved experiment: includes merged, -s
 * applied, no `include` left; training from it again (written back as the
 * experiment) gives the same epochs bit for bit. */
START_TEST(test_config_is_resolved)
{
    char *exp = fx_path(tdir, "exp.yaml"), *base = fx_path(tdir, "base.yaml");
    static const char including[] = "include: base.yaml\ntrain:\n  epochs: 2\n";
    ck_assert_int_eq(rename(exp, base), 0);
    ck_assert_int_eq(fx_write(exp, including, strlen(including)), 0);
    run_result *r = run(ARGS("-s", "train.seed=9"));
    ck_assert_msg(r->status == 0, "exit %d, stderr:\n%s", r->status, r->err);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    char *config = q_text(db, "SELECT config FROM runs WHERE id = 1");
    sqlite3_close(db);
    ck_assert_msg(!strstr(config, "include") && strstr(config, "epochs: 2") && strstr(config, "seed: 9") &&
                      strstr(config, "batch_size: 8") && strstr(config, "conv2"),
                  "not the resolved experiment:\n%s", config);
    ck_assert_int_eq(fx_write(exp, config, strlen(config)), 0);
    free(config);
    r = run(NULL);
    ck_assert_msg(r->status == 0, "from the stored config: exit %d, stderr:\n%s", r->status, r->err);
    db = db_open();
    ck_assert_int_eq(q_int(db, "SELECT seed FROM runs WHERE id = 2"), 9);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 2"), 2);
    ck_assert_msg(same_epochs(db, 1, 2), "training from the stored config gave other epochs");
    sqlite3_close(db);
    free(exp);
    free(base);
}
END_TEST

/* ---- 3. schedules ------------------------------------------------------------- */

START_TEST(test_step_schedule)
{
    const double base = 0.01, gamma = 0.5;
    run_result *r = run(ARGS("-s", "optimizer.schedule={name: step, step_size: 2, gamma: 0.5}"));
    ck_assert_msg(r->status == 0, "exit %d, stderr:\n%s", r->status, r->err);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), 5);
    for (int e = 1; e <= 5; e++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT lr FROM epochs WHERE run_id = 1 AND epoch = %d", e);
        double lr = q_double(db, sql), want = base * pow(gamma, (e - 1) / 2);
        ck_assert_msg(fabs(lr - want) <= 1e-12 * want, "epoch %d: lr %.17g, expected %.17g", e, lr, want);
    }
    sqlite3_close(db);
}
END_TEST

/* ---- 4. error paths -------------------------------------------------------- */

/* The run refused before any run was recorded: no database, or no runs. */
static void assert_no_run(void)
{
    sqlite3 *db = db_open();
    if (!db)
        return;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &st, NULL) == SQLITE_OK) {
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_msg(sqlite3_column_int(st, 0) == 0, "a run was recorded for a refused experiment");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Exit status `status`, and stderr exactly one line "strata: ..." containing
 * every needle (';'-separated). */
static void assert_refused(const run_result *r, int status, const char *needles)
{
    ck_assert_msg(r->status == status, "exit %d, expected %d; stderr:\n%s", r->status, status, r->err);
    ck_assert_msg(count_lines(r->err) == 1, "expected one line on stderr, got:\n%s", r->err);
    ck_assert_msg(strncmp(r->err, "strata: ", 8) == 0, "stderr does not begin 'strata: ': %s", r->err);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", needles);
    for (char *save, *n = strtok_r(buf, ";", &save); n; n = strtok_r(NULL, ";", &save))
        ck_assert_msg(strstr(r->err, n), "stderr does not name '%s': %s", n, r->err);
    ck_assert_msg(!strstr(r->out, "epoch "), "an epoch ran:\n%s", r->out);
    assert_no_run();
}

typedef struct bad_case {
    const char *what;
    const char *set[3]; /* -s values */
    int status;
    const char *needles;
} bad_case;

static const bad_case bad_cases[] = {
    {"batch size 0", {"train.batch_size=0"}, 2, "train.batch_size"},
    {"unknown optimizer", {"optimizer.name=adamx"}, 2, "optimizer.name;adamx"},
    {"lr 0", {"optimizer.lr=0"}, 2, "optimizer.lr"},
    {"lr -1", {"optimizer.lr=-1"}, 2, "optimizer.lr"},
    {"unknown optimizer option", {"optimizer.name=sgd", "optimizer.momentun=0.9"}, 2, "momentun"},
    {"missing data root", {"data.root=no-such-folder"}, 2, "no-such-folder"},
    {"model outputs vs classes", {"model.layers.8.out_features=4", "model.num_classes=4"}, 2, "4 outputs;3 classes"},
    {"augment size vs input size", {"augment.val=[{resize: {size: [8, 8]}}]"}, 2, "augment.val;8x8;16x16"},
    {"unknown transform", {"augment.train=[{blur: {radius: 1}}, {resize: {size: [16, 16]}}]"}, 2, "blur"},
    {"step_size 0", {"optimizer.schedule={name: step, step_size: 0}"}, 2, "optimizer.schedule.step_size"},
    {"unknown schedule", {"optimizer.schedule={name: exponential}"}, 2, "exponential"},
    {"train threads 0", {"train.threads=0"}, 2, "train.threads"},
    {"val_fraction 1", {"data.val_fraction=1"}, 2, "data.val_fraction"},
    {"epochs 0", {"train.epochs=0"}, 2, "train.epochs"},
    {"misspelt train key", {"train.epoch=5"}, 2, "train.epoch:;unknown key"},
    {"label smoothing 1", {"train.label_smoothing=1"}, 2, "train.label_smoothing"},
    {"cosine t_max 0", {"optimizer.schedule={name: cosine, t_max: 0}"}, 2, "optimizer.schedule.t_max"},
    {"-s without a value", {"train.batch_size"}, 2, "-s train.batch_size;KEY.PATH=VALUE"},
};
enum { NUM_BAD = sizeof bad_cases / sizeof bad_cases[0] };

START_TEST(test_config_errors)
{
    const bad_case *c = &bad_cases[_i];
    const char *args[8];
    int n = 0;
    for (int k = 0; k < 3 && c->set[k]; k++) {
        args[n++] = "-s";
        args[n++] = c->set[k];
    }
    args[n] = NULL;
    run_result *r = run(args);
    ck_assert_msg(r->status == c->status, "%s: exit %d, expected %d; stderr:\n%s", c->what, r->status, c->status,
                  r->err);
    assert_refused(r, c->status, c->needles);
}
END_TEST

/* The same errors written in the experiment file: the message names the
 * file (and line) too. */
typedef struct bad_file {
    const char *old, *new; /* exp.yaml with old replaced by new */
    const char *needles;
} bad_file;

static const bad_file bad_files[] = {
    {"batch_size: 8", "batch_size: 0", "exp.yaml:;train.batch_size"},
    {"lr: 0.01", "lr: -1", "exp.yaml:;optimizer.lr"},
    {"name: adam\n", "name: adamx\n", "optimizer.name;adamx"},
    {"lr: 0.01", "lr: 0.01\n  momentun: 0.9", "exp.yaml:;optimizer.momentun"},
    {"lr: 0.01", "lr: 0.01\n  schedule: {name: step, step_size: 0}", "exp.yaml:;optimizer.schedule.step_size"},
    {"horizontal_flip: {p: 0.5}", "blur: {radius: 1}", "exp.yaml:;augment.train.1;blur"},
    {"    - resize: {size: [16, 16]}\n    - normalize", "    - resize: {size: [12, 12]}\n    - normalize",
     "exp.yaml:;augment.val;12x12;16x16"},
    {"out_features: 3", "out_features: 2", "num_classes;2x1x1"},
    {"root: data", "root: nodata", "nodata"},
    {"  epochs: 5\n", "  epochs: [5\n", "exp.yaml:;YAML"},
};
enum { NUM_BAD_FILES = sizeof bad_files / sizeof bad_files[0] };

/* Rewrite tdir/exp.yaml with the first `old` replaced by `new`. */
static void rewrite_experiment(const char *old, const char *new)
{
    const char *at = strstr(experiment_yaml, old);
    ck_assert_msg(at != NULL, "'%s' is not in the experiment", old);
    char text[1 << 14];
    ck_assert(strlen(experiment_yaml) + strlen(new) < sizeof text);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - experiment_yaml), experiment_yaml, new, at + strlen(old));
    char *p = fx_path(tdir, "exp.yaml");
    ck_assert_int_eq(fx_write(p, text, strlen(text)), 0);
    free(p);
}

START_TEST(test_config_errors_in_file)
{
    const bad_file *c = &bad_files[_i];
    rewrite_experiment(c->old, c->new);
    assert_refused(run(NULL), 2, c->needles);
}
END_TEST

START_TEST(test_missing_experiment)
{
    char *p = fx_path(tdir, "exp.yaml");
    ck_assert_int_eq(unlink(p), 0);
    free(p);
    assert_refused(run(NULL), 2, "exp.yaml");
}
END_TEST

START_TEST(test_empty_class_folder)
{
    char *p = fx_path(tdir, "data/zebra");
    ck_assert_int_eq(fx_mkdir(p), 0);
    free(p);
    assert_refused(run(ARGS("-s", "model.layers.8.out_features=4", "-s", "model.num_classes=4")), 2, "zebra");
}
END_TEST

/* model.num_classes says 4, the layers give 3 (as the data has). */
START_TEST(test_num_classes_mismatch)
{
    assert_refused(run(ARGS("-s", "model.num_classes=4")), 2, "num_classes");
}
END_TEST

/* results.dir under a regular file: the database cannot be created (I/O). */
START_TEST(test_results_dir_unwritable)
{
    char *p = fx_path(tdir, "plainfile");
    ck_assert_int_eq(fx_write(p, "x", 1), 0);
    free(p);
    assert_refused(run(ARGS("-s", "results.dir=plainfile/results")), 1, "plainfile");
}
END_TEST

/* Two folders (data.train, data.val) with different class lists. */
START_TEST(test_train_val_classes_differ)
{
    static const char *const dirs[] = {"val", "val/green", "val/red"};
    for (int i = 0; i < 3; i++) {
        char *p = fx_path(tdir, dirs[i]);
        ck_assert_int_eq(fx_mkdir(p), 0);
        free(p);
    }
    uint8_t rgb[IMG * IMG * 3];
    uint64_t s = 7;
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s/%d.png", dirs[1 + i % 2], i);
        char *p = fx_path(tdir, name);
        draw(rgb, i % 2 ? 0 : 1, &s);
        ck_assert_int_eq(fx_write_png_rgb(p, IMG, IMG, rgb), 0);
        free(p);
    }
    assert_refused(run(ARGS("-s", "data={train: data, val: val}")), 2, "data;3 classes;2");
}
END_TEST

/* A learning rate that makes the loss overflow: the run was recorded, so it
 * stays, marked 'failed'; exit 1 and one line naming the epoch. */
START_TEST(test_diverged)
{
    run_result *r = run(ARGS("-s", "optimizer.name=sgd", "-s", "optimizer.lr=1e8"));
    ck_assert_msg(r->status == 1, "exit %d, expected 1; stderr:\n%s", r->status, r->err);
    ck_assert_msg(strncmp(r->err, "strata: ", 8) == 0 && count_lines(r->err) == 1, "stderr:\n%s", r->err);
    ck_assert_msg(strstr(r->err, "epoch 1") && strstr(r->err, "diverged"), "stderr:\n%s", r->err);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    char *status = q_text(db, "SELECT status FROM runs WHERE id = 1");
    ck_assert_str_eq(status, "failed");
    free(status);
    ck_assert_int_eq(q_int(db, "SELECT finished_at IS NOT NULL FROM runs WHERE id = 1"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs"), 0);
    sqlite3_close(db);
}
END_TEST

/* A file with an image extension that is not an image: skipped with one
 * warning, recorded in run_skipped, and the run trains on the rest. */
START_TEST(test_unreadable_image_skipped)
{
    char *p = fx_path(tdir, "data/red/zz-broken.png");
    ck_assert_int_eq(fx_write(p, "not a png", 9), 0);
    free(p);
    run_result *r = run(ARGS("-s", "train.epochs=1"));
    ck_assert_msg(r->status == 0, "exit %d, stderr:\n%s", r->status, r->err);
    ck_assert_msg(count_lines(r->err) == 1 && strstr(r->err, "zz-broken.png"), "stderr:\n%s", r->err);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_skipped WHERE run_id = 1"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_skipped WHERE run_id = 1 AND path LIKE '%red/zz-broken.png' "
                               "AND length(reason) > 0"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_samples WHERE run_id = 1"), NUM_CLASSES * PER_CLASS);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_samples WHERE path LIKE '%zz-broken%'"), 0);
    sqlite3_close(db);
}
END_TEST

/* ---- 5. Ctrl-C ----------------------------------------------------------------- */

/* The number of epochs rows of run 1 (0 while the db or the table is not
 * there yet). */
static int epochs_so_far(void)
{
    sqlite3 *db = db_open();
    if (!db)
        return 0;
    sqlite3_stmt *st = NULL;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM epochs WHERE run_id = 1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

START_TEST(test_ctrl_c)
{
    pid_t pid = bg_pid = start_strata(ARGS("-s", "train.epochs=100000"), "bg");
    int waited = 0;
    while (epochs_so_far() < 1 && waited < 30000) {
        sleep_ms(20);
        waited += 20;
        ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "strata ended before it was interrupted");
    }
    ck_assert_msg(waited < 30000, "no epoch recorded after 30 s");
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    run_result *r = malloc(sizeof *r);
    wait_strata(pid, "bg", r);
    ck_assert_msg(r->status == 1, "exit %d after SIGINT, expected 1; stderr:\n%s", r->status, r->err);
    ck_assert_msg(strstr(r->err, "strata: ") && strstr(r->err, "interrupted"), "stderr:\n%s", r->err);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    char *status = q_text(db, "SELECT status FROM runs WHERE id = 1");
    ck_assert_str_eq(status, "interrupted");
    free(status);
    char *fin = q_text(db, "SELECT finished_at FROM runs WHERE id = 1");
    ck_assert_ptr_nonnull(fin);
    free(fin);
    int n = (int)q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1");
    ck_assert_int_ge(n, 1);
    ck_assert_int_lt(n, 100000);
    ck_assert_int_eq(q_int(db, "SELECT min(epoch) FROM epochs WHERE run_id = 1"), 1);
    ck_assert_int_eq(q_int(db, "SELECT max(epoch) FROM epochs WHERE run_id = 1"), n);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND NOT (val_acc BETWEEN 0 AND 1 AND "
                               "train_loss > 0 AND val_loss > 0)"), 0);
    int lines = 0;
    for (const char *s = r->out; (s = strstr(s, "\nepoch ")); s++)
        lines++;
    ck_assert_msg(lines == n, "%d epoch lines on stdout, %d rows", lines, n);
    /* the message gives the command that continues the run, and why it stopped is recorded */
    char want[200];
    snprintf(want, sizeof want, "strata: run 1 interrupted at epoch %d; continue with: strata resume 1 --epochs %d\n",
             n + 1, 100000 - n);
    ck_assert_msg(strstr(r->err, want), "stderr lacks '%s':\n%s", want, r->err);
    char *reason = q_text(db, "SELECT stop_reason FROM runs WHERE id = 1");
    snprintf(want, sizeof want, "interrupted by SIGINT at epoch %d", n + 1);
    ck_assert_str_eq(reason, want);
    free(reason);
    sqlite3_close(db);
    free(r);
}
END_TEST

/* Was a bug (fixed): a Ctrl-C between session_begin_run (the runs row is committed)
        * and session_run_epochs (which installs the SIGINT handler) kills
        * strata with the default action: exit 130 and the run stays 'running'
        * with finished_at NULL forever. The window holds record_data (classes,
        * samples: long for a big data set), the "run N:" line and, in resume,
        * the checkpoint load. Fix: install the handler before the run is
        * recorded (e.g. in session_prepare, or before session_begin_run) and
        * check the stop flag before the first epoch. */
/* Ctrl-C after the run's row is written but before the epochs start (while
 * its classes and samples are recorded): the run must not stay 'running'.
 * The window is made wide on purpose: a trigger in the database slows the
 * inserts into run_classes (a count over a 3-way cross join per row). */
static void slow_down_run_classes(void)
{
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    const char *sql = "CREATE TABLE pad(x);"
                      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 250) "
                      "INSERT INTO pad SELECT i FROM c;"
                      "CREATE TRIGGER slow AFTER INSERT ON run_classes BEGIN "
                      "SELECT count(*) FROM pad a, pad b, pad c; END;";
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s", msg ? msg : "?");
    sqlite3_close(db);
}

static int run_exists(int id)
{
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE id = %d", id);
    int n = (int)q_int(db, sql);
    sqlite3_close(db);
    return n;
}

START_TEST(test_ctrl_c_while_recording)
{
    run_result *first = run(ARGS("-s", "train.epochs=1"));
    ck_assert_msg(first->status == 0, "exit %d, stderr:\n%s", first->status, first->err);
    slow_down_run_classes();
    pid_t pid = bg_pid = start_strata(ARGS("-s", "train.epochs=100000"), "bg");
    int waited = 0;
    while (!run_exists(2) && waited < 30000) {
        sleep_ms(5);
        waited += 5;
    }
    ck_assert_msg(waited < 30000, "run 2 not recorded after 30 s");
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    run_result *r = malloc(sizeof *r);
    wait_strata(pid, "bg", r);
    sqlite3 *db = db_open();
    ck_assert_ptr_nonnull(db);
    char *status = q_text(db, "SELECT status FROM runs WHERE id = 2");
    int open_ended = (int)q_int(db, "SELECT finished_at IS NULL FROM runs WHERE id = 2");
    sqlite3_close(db);
    ck_assert_msg(r->status == 1 && strcmp(status, "interrupted") == 0 && !open_ended,
                  "exit %d after SIGINT (expected 1), run 2 left '%s'%s (expected 'interrupted')", r->status, status,
                  open_ended ? " without finished_at" : "");
    free(status);
    free(r);
}
END_TEST

int main(void)
{
    read_experiment();
    Suite *s = suite_create("train");
    TCase *tc = add_test_case(s, &(test_case){
        .name = "run", .timeout = 120, .setup = setup, .teardown = teardown,
        .tests = TESTS(test_end_to_end, test_determinism, test_config_is_resolved, test_step_schedule,
                       test_missing_experiment, test_empty_class_folder, test_num_classes_mismatch,
                       test_results_dir_unwritable, test_train_val_classes_differ, test_diverged,
                       test_unreadable_image_skipped, test_ctrl_c, test_ctrl_c_while_recording),
        .loops = LOOPS({test_config_errors, NUM_BAD}, {test_config_errors_in_file, NUM_BAD_FILES})});
    tcase_add_unchecked_fixture(tc, make_base, remove_base); /* the base folder, made once */
    return run_suite(s);
}
