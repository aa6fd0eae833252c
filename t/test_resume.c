/* test_resume.c — checkpoints, `strata resume` and `strata predict`, end to
 * end through the built program.
 *
 * Each test works in a fresh temp dir (the current directory, so
 * results/strata.db and results/checkpoints/<run>/ land there) holding
 * exp.yaml: the shared t/fixtures/tiny.yaml (a tiny conv net at 16 px with a
 * batchnorm and a dropout layer) for 2 epochs, 1 thread (2 in the exactness
 * test), on the shipped photos ($STRATA_SRCDIR/data/flowers-mini, five
 * classes). Every check reads the database with plain sqlite3 queries and the
 * checkpoints with st_read, as a user (or PyTorch) would.
 *
 *   exactness   5 epochs == 3 epochs + `resume --epochs 2`, bit for bit, in
 *               the epochs rows, the weights and the optimizer state; with
 *               adam and with sgd + momentum
 *   best/last   best.safetensors is the epoch of the highest val_acc (the
 *               first on ties), last the last epoch, the state file holds the
 *               optimizer's slots and step = batches x epochs
 *   refusals    missing / truncated / corrupted / foreign checkpoint, unknown
 *               run, --epochs 0: exit != 0, one line, the database unchanged
 *   crash       fallback to the previous pair when the newest is damaged;
 *               SIGKILL at each point of an epoch's commit (STRATA_CRASH_AT)
 *               then resume == an uninterrupted run; killed before the first
 *               checkpoint; a database locked past the busy timeout; the
 *               per-class counts of a checkpointed epoch recorded on resume
 *               (epoch_classes == an uninterrupted run's), or their absence
 *   -s on resume, predict (--run, --weights, --top, --json, bad input) */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fixtures/imgwrite.h"
#include "run_strata.h"
#include "store/safetensors.h"
#include "testlib.h"
#include "testlib_db.h"

#define NUM_CLASSES 5
static const char *const flower_classes[NUM_CLASSES] = {"daisy", "dandelion", "roses", "sunflowers", "tulips"};
#define BATCH 16 /* train.batch_size of t/fixtures/tiny.yaml */

/* ---- the temp dirs ------------------------------------------------------------ */

static const char *data_root;

/* A fresh dir under the suite's base as the current directory, with exp.yaml. */
static void setup(void)
{
    e2e_enter("train:\n  epochs: 2\n");
    data_root = e2e_data_root();
}

/* ---- running strata ------------------------------------------------------------ */

/* ---- the database -------------------------------------------------------------- */

/* Every row of runs and epochs as text (doubles to 17 digits), to tell
 * whether a refused command changed anything. */
static char *db_snapshot(void)
{
    sqlite3 *db = db_open_readonly("results/strata.db");
    char *runs = q_text(db, "SELECT ifnull(group_concat(r, char(10)), '') FROM (SELECT printf('%d|%s|%s|%s|%s', id, "
                            "status, ifnull(finished_at, '-'), ifnull(sweep_id, '-'), config) AS r FROM runs ORDER BY id)");
    char *epochs = q_text(db, "SELECT ifnull(group_concat(r, char(10)), '') FROM (SELECT printf('%d|%d|%.17g|%.17g|"
                              "%.17g|%.17g|%.17g|%.17g|%.17g', run_id, epoch, train_loss, train_acc, val_loss, val_acc, "
                              "lr, seconds, images_per_sec) AS r FROM epochs ORDER BY run_id, epoch)");
    sqlite3_close(db);
    size_t n = strlen(runs) + strlen(epochs) + 8;
    char *s = malloc(n);
    snprintf(s, n, "%s\n--\n%s", runs, epochs);
    free(runs);
    free(epochs);
    return s;
}

/* Runs a and b have the same epochs rows, bit for bit, in every column but
 * seconds and images_per_sec; and `n` of them, epochs 1..n. */
static void assert_same_epochs(sqlite3 *db, int a, int b, int n)
{
    static const char sql[] = "SELECT epoch, train_loss, train_acc, val_loss, val_acc, lr FROM epochs "
                              "WHERE run_id = ? ORDER BY epoch";
    static const char *const col[] = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"};
    sqlite3_stmt *sa = db_prep(db, sql), *sb = db_prep(db, sql);
    sqlite3_bind_int(sa, 1, a);
    sqlite3_bind_int(sb, 1, b);
    int rows = 0;
    for (;;) {
        int ra = sqlite3_step(sa), rb = sqlite3_step(sb);
        ck_assert_msg(ra == rb, "run %d and run %d have different numbers of epochs", a, b);
        if (ra != SQLITE_ROW)
            break;
        rows++;
        ck_assert_int_eq(sqlite3_column_int(sa, 0), rows);
        ck_assert_int_eq(sqlite3_column_int(sb, 0), rows);
        for (int c = 1; c < 6; c++) {
            double x = sqlite3_column_double(sa, c), y = sqlite3_column_double(sb, c);
            ck_assert_msg(memcmp(&x, &y, sizeof x) == 0, "epoch %d %s: run %d has %.17g, run %d has %.17g", rows,
                          col[c], a, x, b, y);
        }
    }
    sqlite3_finalize(sa);
    sqlite3_finalize(sb);
    ck_assert_int_eq(rows, n);
}

/* Runs a and b have the same epoch_classes rows (class, n, correct) for
 * each of epochs 1..n, NUM_CLASSES a epoch. */
static void assert_same_epoch_classes(sqlite3 *db, int a, int b, int n)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM epoch_classes WHERE run_id = %d AND epoch BETWEEN 1 AND %d", b, n);
    ck_assert_msg(q_int(db, sql) == (int64_t)n * NUM_CLASSES, "run %d has %lld epoch_classes rows, expected %d", b,
                  (long long)q_int(db, sql), n * NUM_CLASSES);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM epoch_classes x JOIN epoch_classes y ON y.epoch = x.epoch AND "
             "y.class = x.class AND y.n = x.n AND y.correct = x.correct WHERE x.run_id = %d AND y.run_id = %d", a, b);
    ck_assert_msg(q_int(db, sql) == (int64_t)n * NUM_CLASSES, "runs %d and %d: %lld of %d epoch_classes rows equal", a,
                  b, (long long)q_int(db, sql), n * NUM_CLASSES);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM epoch_classes WHERE run_id = %d", b);
    ck_assert_int_eq(q_int(db, sql), (int64_t)n * NUM_CLASSES);
}

/* ---- the checkpoints ------------------------------------------------------------ */

static void ckpt_path(char *buf, size_t size, int run, const char *file)
{
    snprintf(buf, size, "results/checkpoints/%d/%s", run, file);
}

/* Every tensor of a is in b with the same dtype, shape and bytes, and b has
 * no others. */
static void assert_same_tensors(const st_file *a, const st_file *b, const char *what)
{
    ck_assert_msg(a->n == b->n, "%s: %d tensors against %d", what, a->n, b->n);
    ck_assert_int_gt(a->n, 0);
    for (int i = 0; i < a->n; i++) {
        const st_tensor *x = &a->t[i], *y = st_find(b, x->name);
        ck_assert_msg(y != NULL, "%s: tensor %s missing", what, x->name);
        ck_assert_msg(x->dtype == y->dtype && x->ndim == y->ndim && x->nbytes == y->nbytes, "%s: %s differs in type",
                      what, x->name);
        for (int d = 0; d < x->ndim; d++)
            ck_assert_int_eq(x->shape[d], y->shape[d]);
        ck_assert_msg(memcmp(x->data, y->data, x->nbytes) == 0, "%s: the bytes of %s differ", what, x->name);
    }
}

static void assert_same_checkpoint(int run_a, int run_b, const char *file)
{
    char pa[256], pb[256], what[300];
    st_file a, b;
    ckpt_path(pa, sizeof pa, run_a, file);
    ckpt_path(pb, sizeof pb, run_b, file);
    read_st(pa, &a);
    read_st(pb, &b);
    snprintf(what, sizeof what, "%s of runs %d and %d", file, run_a, run_b);
    assert_same_tensors(&a, &b, what);
    st_free(&a);
    st_free(&b);
}

static long meta_long(const st_file *f, const char *key, const char *path)
{
    const char *v = st_meta(f, key);
    ck_assert_msg(v != NULL, "%s: no metadata '%s'", path, key);
    char *end;
    double d = strtod(v, &end);
    ck_assert_msg(end != v && !*end && d == floor(d), "%s: metadata %s is '%s', expected an integer", path, key, v);
    return (long)d;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && !strcmp(s + n - m, tail);
}

/* A batchnorm buffer (running statistics): saved with the weights, not
 * trained, so no optimizer slots. */
static int is_buffer(const char *name)
{
    return ends_with(name, ".running_mean") || ends_with(name, ".running_var") ||
           ends_with(name, ".num_batches_tracked");
}

/* best.safetensors is the epoch with the highest val_acc in the db (the
 * first on ties), last.safetensors the last epoch; the state file has one
 * tensor per trainable parameter and slot, and step = batches x epochs. */
static void assert_best_last(int run, const char *const *slots, int n_slots)
{
    sqlite3 *db = db_open_readonly("results/strata.db");
    char sql[256], path[256];
    snprintf(sql, sizeof sql, "SELECT epoch FROM epochs WHERE run_id = %d AND val_acc = (SELECT max(val_acc) FROM "
             "epochs WHERE run_id = %d) ORDER BY epoch LIMIT 1", run, run);
    long best = (long)q_int(db, sql);
    snprintf(sql, sizeof sql, "SELECT max(epoch) FROM epochs WHERE run_id = %d", run);
    long last = (long)q_int(db, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM run_samples WHERE run_id = %d AND split = 'train'", run);
    long n_train = (long)q_int(db, sql);
    sqlite3_close(db);
    ck_assert_int_gt(n_train, 0);

    st_file f, w;
    ckpt_path(path, sizeof path, run, "best.safetensors");
    read_st(path, &f);
    ck_assert_msg(meta_long(&f, "epoch", path) == best, "run %d: best.safetensors is of epoch %ld, the db's best "
                  "val_acc is at epoch %ld", run, meta_long(&f, "epoch", path), best);
    st_free(&f);
    ckpt_path(path, sizeof path, run, "last.safetensors");
    read_st(path, &w);
    ck_assert_int_eq(meta_long(&w, "epoch", path), last);
    const char *cls = st_meta(&w, "classes");
    ck_assert_ptr_nonnull(cls);
    ck_assert_str_eq(cls, "daisy\ndandelion\nroses\nsunflowers\ntulips");

    ckpt_path(path, sizeof path, run, "last.state.safetensors");
    read_st(path, &f);
    long batches = (n_train + BATCH - 1) / BATCH;
    ck_assert_msg(meta_long(&f, "step", path) == batches * last, "run %d: step %ld, expected %ld batches x %ld epochs",
                  run, meta_long(&f, "step", path), batches, last);
    ck_assert_int_eq(meta_long(&f, "epoch", path), last);
    ck_assert_int_eq(meta_long(&f, "best_epoch", path), best);
    int trainable = 0;
    for (int i = 0; i < w.n; i++) {
        if (is_buffer(w.t[i].name))
            continue;
        trainable++;
        for (int s = 0; s < n_slots; s++) {
            char name[300];
            snprintf(name, sizeof name, "%s.%s", w.t[i].name, slots[s]);
            const st_tensor *t = st_find(&f, name);
            ck_assert_msg(t != NULL, "%s: no optimizer slot %s", path, name);
            ck_assert_msg(t->nbytes == w.t[i].nbytes && t->ndim == w.t[i].ndim, "%s: %s has another shape", path,
                          name);
        }
    }
    ck_assert_int_ge(trainable, 7); /* conv1 w,b; bn1 w,b; conv2 w,b; fc w,b */
    ck_assert_int_eq(f.n, trainable * n_slots);
    st_free(&f);
    st_free(&w);
}

/* ---- 1. exactness: 3 + 2 epochs == 5 epochs --------------------------------------- */

typedef struct optim_case {
    const char *set; /* -s optimizer=... */
    const char *slots[2];
    int n_slots;
} optim_case;

static const optim_case optim_cases[] = {
    {"optimizer={name: adam, lr: 0.01}", {"exp_avg", "exp_avg_sq"}, 2},
    {"optimizer={name: sgd, lr: 0.05, momentum: 0.9}", {"momentum_buffer"}, 1},
};

START_TEST(test_resume_exact)
{
    const optim_case *c = &optim_cases[_i];
    strata_ok("run A (5 epochs)", ARGS("run", "exp.yaml", "-s", c->set, "-s", "train.threads=2", "-s",
                                       "train.epochs=5"));
    strata_ok("run B (3 epochs)", ARGS("run", "exp.yaml", "-s", c->set, "-s", "train.threads=2", "-s",
                                       "train.epochs=3"));
    strata_run r = strata(ARGS("resume", "2", "--epochs", "2"));
    ck_assert_msg(r.status == 0, "resume: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "epoch   5/5"), "resume printed no line for epoch 5:\n%s", r.out);
    run_strata_free(&r);

    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs"), 2);
    char *status = q_text(db, "SELECT status FROM runs WHERE id = 2");
    ck_assert_str_eq(status, "finished");
    free(status);
    ck_assert_int_eq(q_int(db, "SELECT finished_at IS NOT NULL FROM runs WHERE id = 2"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_resumes WHERE run_id = 2 AND epoch = 3"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_resumes"), 1);
    assert_same_epochs(db, 1, 2, 5);
    sqlite3_close(db);

    assert_same_checkpoint(1, 2, "last.safetensors");
    assert_same_checkpoint(1, 2, "last.state.safetensors");
    assert_best_last(1, c->slots, c->n_slots);
    assert_best_last(2, c->slots, c->n_slots);
}
END_TEST

/* ---- 2. resume with -s ----------------------------------------------------------- */

/* The plateau schedule, early stopping and checkpoint_monitor carry their
 * state through a checkpoint: 2 epochs + `resume --epochs 2` equal one
 * 4-epoch run, bit for bit, including where early stopping ends both (on
 * this fixture: plateau patience 0 lowers the lr after epoch 2, val_acc
 * peaks at epoch 2 and early stopping with patience 1 ends the run after
 * epoch 3). best.safetensors holds the epoch of the lowest val_loss. */
START_TEST(test_resume_plateau_early_stop)
{
    static const char *const keys[] = {
        "-s", "train.early_stopping={monitor: val_acc, patience: 1}", "-s", "train.checkpoint_monitor=val_loss",
        "-s", "optimizer.schedule={name: plateau, patience: 0, factor: 0.5}"};
    strata_ok("run A (4 epochs)", ARGS("run", "exp.yaml", keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], "-s",
                                       "train.epochs=4"));
    strata_ok("run B (2 epochs)", ARGS("run", "exp.yaml", keys[0], keys[1], keys[2], keys[3], keys[4], keys[5], "-s",
                                       "train.epochs=2"));
    strata_run r = strata(ARGS("resume", "2", "--epochs", "2"));
    ck_assert_msg(r.status == 0, "resume: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "stopped after epoch 3 of 4: early stopping: val_acc did not improve by 0 for 1 "
                                "epochs (best "), "resume did not stop early:\n%s", r.out);
    run_strata_free(&r);

    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), 3);
    ck_assert_int_eq(q_int(db, "SELECT count(DISTINCT lr) FROM epochs WHERE run_id = 1"), 2);
    assert_same_epochs(db, 1, 2, 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM runs WHERE status = 'finished' AND stop_reason LIKE "
                               "'early stopping: val_acc did not improve by 0 for 1 epochs (best 0.%'"), 2);
    char *a = q_text(db, "SELECT stop_reason FROM runs WHERE id = 1"), *b = q_text(db, "SELECT stop_reason FROM runs "
                                                                                     "WHERE id = 2");
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    long lowest = (long)q_int(db, "SELECT epoch FROM epochs WHERE run_id = 1 ORDER BY val_loss, epoch LIMIT 1");
    long highest = (long)q_int(db, "SELECT epoch FROM epochs WHERE run_id = 1 ORDER BY val_acc DESC, epoch LIMIT 1");
    ck_assert_int_ne(lowest, highest); /* so the test tells the monitors apart */
    sqlite3_close(db);
    r = strata(ARGS("show", "1"));
    ck_assert_msg(r.status == 0 && strstr(r.out, "\nstopped: early stopping: val_acc did not improve by 0 for 1 "
                                                 "epochs (best "), "show 1: exit %d:\n%s", r.status, r.out);
    run_strata_free(&r);
    assert_same_checkpoint(1, 2, "last.safetensors");
    assert_same_checkpoint(1, 2, "best.safetensors");
    for (int run = 1; run <= 2; run++) {
        char path[256];
        st_file f;
        ckpt_path(path, sizeof path, run, "best.safetensors");
        read_st(path, &f);
        ck_assert_int_eq(meta_long(&f, "epoch", path), lowest);
        st_free(&f);
        ckpt_path(path, sizeof path, run, "last.state.safetensors");
        read_st(path, &f);
        ck_assert_str_eq(st_meta(&f, "best_monitor"), "val_loss");
        ck_assert_int_eq(meta_long(&f, "early_stop.bad_epochs", path), 1);
        ck_assert_ptr_nonnull(st_meta(&f, "plateau.lr"));
        st_free(&f);
    }
}
END_TEST

/* A plateau run resumed with -s optimizer.lr=X goes on at X (its lowered
 * lr is not restored over the user's new one). */
START_TEST(test_resume_plateau_new_lr)
{
    strata_ok("run (2 epochs, plateau)", ARGS("run", "exp.yaml", "-s", "optimizer.schedule={name: plateau, patience: 0}"));
    strata_ok("resume", ARGS("resume", "1", "--epochs", "1", "-s", "optimizer.lr=0.003"));
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND epoch = 3 AND lr = 0.003"), 1);
    sqlite3_close(db);
}
END_TEST

/* Resuming a finished run whose cosine schedule has no t_max keeps t_max at
 * the run's train.epochs and says so; the extra epochs run at eta_min. */
START_TEST(test_resume_cosine_t_max)
{
    strata_ok("run (2 epochs, cosine)", ARGS("run", "exp.yaml", "-s", "optimizer.schedule={name: cosine, eta_min: 0.001}"));
    strata_run r = strata(ARGS("resume", "1", "--epochs", "2"));
    ck_assert_msg(r.status == 0, "resume: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "run 1: cosine schedule: t_max stays 2 (the run's train.epochs); set another with -s "
                                "optimizer.schedule.t_max=N\n"), "no t_max line:\n%s", r.out);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), 4);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND epoch > 2 AND lr = 0.001"), 2);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND epoch = 1 AND abs(lr - 0.01) < 1e-12"), 1);
    ck_assert_int_eq(q_int(db, "SELECT config LIKE '%t_max: 2%' FROM runs WHERE id = 1"), 1);
    sqlite3_close(db);
    /* an explicit t_max is kept, silently */
    r = strata(ARGS("resume", "1", "--epochs", "1", "-s", "optimizer.schedule.t_max=10"));
    ck_assert_msg(r.status == 0 && !strstr(r.out, "t_max stays"), "resume: exit %d:\n%s%s", r.status, r.out, r.err);
    run_strata_free(&r);
}
END_TEST

START_TEST(test_resume_override)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    strata_ok("resume -s", ARGS("resume", "1", "--epochs", "2", "-s", "optimizer.lr=0.003"));
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), 4);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND epoch <= 2 AND "
                               "abs(lr - 0.01) < 1e-9"), 2);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1 AND epoch > 2 AND "
                               "abs(lr - 0.003) < 1e-9"), 2);
    char *config = q_text(db, "SELECT config FROM runs WHERE id = 1");
    ck_assert_msg(strstr(config, "lr: 0.003"), "the new lr is not in runs.config:\n%s", config);
    ck_assert_msg(!strstr(config, "lr: 0.01\n"), "the old lr stayed in runs.config:\n%s", config);
    free(config);
    char *status = q_text(db, "SELECT status FROM runs WHERE id = 1");
    ck_assert_str_eq(status, "finished");
    free(status);
    sqlite3_close(db);
}
END_TEST

/* ---- 3. refusals ------------------------------------------------------------------ */

static void truncate_half(const char *path)
{
    uint8_t *data;
    size_t n;
    ck_assert_int_eq(fx_read(path, &data, &n), 0);
    ck_assert_int_eq(fx_write(path, data, n / 2), 0);
    free(data);
}

/* Garbage over the start of the JSON header (its length stays). */
static void corrupt_header(const char *path)
{
    uint8_t *data;
    size_t n;
    ck_assert_int_eq(fx_read(path, &data, &n), 0);
    ck_assert_int_gt(n, 40);
    memcpy(data + 8, "#!garbage{{{[[[", 15);
    ck_assert_int_eq(fx_write(path, data, n), 0);
    free(data);
}

typedef struct refusal {
    const char *what;
    int damage; /* what to do to run 1's checkpoint */
    const char *run, *epochs;
    const char *needle;
} refusal;

enum { NONE, DELETE_DIR, DELETE_STATE, TRUNCATE, CORRUPT, FOREIGN };

static const refusal refusals[] = {
    {"checkpoint dir deleted", DELETE_DIR, "1", "2", "last.safetensors"},
    {"truncated last.safetensors", TRUNCATE, "1", "2", "last.safetensors"},
    {"corrupted header", CORRUPT, "1", "2", "last.safetensors"},
    {"unknown run", NONE, "nosuchrun", "2", "nosuchrun"},
    {"unknown run id", NONE, "99", "2", "99"},
    {"--epochs 0", NONE, "1", "0", "--epochs"},
};
enum { NUM_REFUSALS = sizeof refusals / sizeof refusals[0] };

START_TEST(test_resume_refused)
{
    const refusal *c = &refusals[_i];
    strata_ok("run 1", ARGS("run", "exp.yaml"));
    if (c->damage == FOREIGN) /* conv1 with 4 channels: same names, other shapes */
        strata_ok("run 2", ARGS("run", "exp.yaml", "-s", "model.layers.0.out_channels=4", "-s", "train.epochs=1"));
    char path[256];
    ckpt_path(path, sizeof path, 1, "last.safetensors");
    switch (c->damage) {
    case DELETE_DIR: fx_rm_rf("results/checkpoints/1"); break;
    case DELETE_STATE:
        ckpt_path(path, sizeof path, 1, "last.state.safetensors");
        ck_assert_int_eq(unlink(path), 0);
        break;
    case TRUNCATE: truncate_half(path); break;
    case CORRUPT: corrupt_header(path); break;
    case FOREIGN: file_copy("results/checkpoints/2/last.safetensors", path); break;
    }
    char *before = db_snapshot();
    strata_run r = strata(ARGS("resume", c->run, "--epochs", c->epochs));
    assert_one_line_error(&r, c->what, c->needle);
    ck_assert_msg(!strstr(r.out, "epoch "), "%s: an epoch ran:\n%s", c->what, r.out);
    run_strata_free(&r);
    char *after = db_snapshot();
    ck_assert_msg(!strcmp(before, after), "%s: the database changed.\nbefore:\n%s\nafter:\n%s", c->what, before, after);
    free(before);
    free(after);
}
END_TEST


/* ---- 3b. crash consistency -------------------------------------------------------- */

/* Damage that leaves the previous pair whole (last.state deleted, or
 * last.safetensors replaced by another run's weights: other id): resume
 * never mixes them, falls back to epoch 1's pair with a warning, trains
 * epoch 2 again, and the rows equal an uninterrupted 3-epoch run's. */
static const int fallback_damage[] = {DELETE_STATE, FOREIGN};

START_TEST(test_resume_fallback)
{
    int damage = fallback_damage[_i];
    strata_ok("run 1", ARGS("run", "exp.yaml"));
    strata_ok("run 2", ARGS("run", "exp.yaml", "-s", "train.epochs=3"));
    char path[256];
    if (damage == DELETE_STATE) {
        ckpt_path(path, sizeof path, 1, "last.state.safetensors");
        ck_assert_int_eq(unlink(path), 0);
    } else {
        ckpt_path(path, sizeof path, 1, "last.safetensors");
        file_copy("results/checkpoints/2/last.safetensors", path);
    }
    strata_run r = strata(ARGS("resume", "1", "--epochs", "1"));
    ck_assert_msg(r.status == 0, "resume: exit %d, stderr:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "epoch 1's") && strstr(r.err, "trained again"), "no fallback warning:\n%s", r.err);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    assert_same_epochs(db, 1, 2, 3);
    /* resumed after epoch 0 or 1, whichever checkpoint survived */
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_resumes WHERE run_id = 1"), 1);
    sqlite3_close(db);
}
END_TEST

/* Killed (STRATA_CRASH_AT: SIGKILL at a named point of epoch 2's commit):
 * the run shows as interrupted, resume finishes it, and the rows equal an
 * uninterrupted run's, epoch_classes included. "next-state" .. "checkpoint"
 * leave epoch 2's pair complete but its rows unrecorded: resume records them
 * from the state file (the row and the per-class counts). */
static const char *const crash_points[] = {"best:2", "next-weights:2", "next-state:2", "rotated:2",
                                           "last-weights:2", "checkpoint:2", "row:2"};

START_TEST(test_resume_after_kill)
{
    strata_ok("uninterrupted", ARGS("run", "exp.yaml", "-s", "train.epochs=3"));
    setenv("STRATA_CRASH_AT", crash_points[_i], 1);
    strata_run r = strata(ARGS("run", "exp.yaml", "-s", "train.epochs=3"));
    unsetenv("STRATA_CRASH_AT");
    ck_assert_msg(r.status != 0, "%s: the run was not killed", crash_points[_i]);
    run_strata_free(&r);
    r = strata(ARGS("runs"));
    ck_assert_msg(r.status == 0 && strstr(r.out, "interrupted"), "%s: strata runs does not show run 2 as "
                  "interrupted:\n%s", crash_points[_i], r.out);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    int done = (int)q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 2");
    sqlite3_close(db);
    char more[16];
    snprintf(more, sizeof more, "%d", 3 - done);
    r = strata(ARGS("resume", "2", "--epochs", more));
    ck_assert_msg(r.status == 0, "%s: resume: exit %d, stderr:\n%s", crash_points[_i], r.status, r.err);
    run_strata_free(&r);
    db = db_open_readonly("results/strata.db");
    assert_same_epochs(db, 1, 2, 3);
    assert_same_epoch_classes(db, 1, 2, 3);
    char *status = q_text(db, "SELECT status FROM runs WHERE id = 2");
    ck_assert_str_eq(status, "finished");
    free(status);
    sqlite3_close(db);
    assert_same_checkpoint(1, 2, "last.safetensors");
    assert_same_checkpoint(1, 2, "last.state.safetensors");
    assert_same_checkpoint(1, 2, "best.safetensors");
}
END_TEST

/* Killed twice: with epoch 2's pair still in next.* (not yet renamed), then
 * while the resumed run writes epoch 3's: the second resume finds epoch 2's
 * pair (resume moved it to last.*, out of the next save's way), no fallback. */
START_TEST(test_resume_killed_twice)
{
    strata_ok("uninterrupted", ARGS("run", "exp.yaml", "-s", "train.epochs=4"));
    setenv("STRATA_CRASH_AT", "next-state:2", 1);
    strata_run r = strata(ARGS("run", "exp.yaml", "-s", "train.epochs=4"));
    ck_assert_int_ne(r.status, 0);
    run_strata_free(&r);
    setenv("STRATA_CRASH_AT", "next-weights:1", 1);
    r = strata(ARGS("resume", "2", "--epochs", "3"));
    unsetenv("STRATA_CRASH_AT");
    ck_assert_int_ne(r.status, 0);
    run_strata_free(&r);
    r = strata(ARGS("resume", "2", "--epochs", "2"));
    ck_assert_msg(r.status == 0, "resume: exit %d:\n%s", r.status, r.err);
    ck_assert_msg(!strstr(r.err, "trained again"), "fell back to an older pair:\n%s", r.err);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    assert_same_epochs(db, 1, 2, 4);
    assert_same_epoch_classes(db, 1, 2, 4);
    sqlite3_close(db);
}
END_TEST

/* Killed before its first checkpoint: resume restarts it from epoch 1
 * (classes and split recorded once). */
START_TEST(test_resume_before_first_checkpoint)
{
    strata_ok("uninterrupted", ARGS("run", "exp.yaml"));
    setenv("STRATA_CRASH_AT", "best:1", 1);
    strata_run r = strata(ARGS("run", "exp.yaml"));
    unsetenv("STRATA_CRASH_AT");
    ck_assert_int_ne(r.status, 0);
    run_strata_free(&r);
    strata_ok("resume", ARGS("resume", "2", "--epochs", "2"));
    sqlite3 *db = db_open_readonly("results/strata.db");
    assert_same_epochs(db, 1, 2, 2);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_classes WHERE run_id = 2"), NUM_CLASSES);
    ck_assert_int_eq(q_int(db, "SELECT (SELECT count(*) FROM run_samples WHERE run_id = 2) - "
                               "(SELECT count(*) FROM run_samples WHERE run_id = 1)"), 0);
    sqlite3_close(db);
}
END_TEST

/* A database kept locked (a writer in another process) past the busy
 * timeout when the epoch ends: the run fails with a message naming the
 * saved checkpoint, and resume records the epoch from it. */
START_TEST(test_locked_database)
{
    strata_ok("uninterrupted", ARGS("run", "exp.yaml"));
    sqlite3 *lock;
    ck_assert_int_eq(sqlite3_open("results/strata.db", &lock), SQLITE_OK);
    /* run 2 stops itself once epoch 1's checkpoint is saved, before its row */
    setenv("STRATA_DB_TIMEOUT", "0.5", 1);
    setenv("STRATA_STOP_AT", "checkpoint:1", 1);
    pid_t pid = run_strata_bg(ARGS("run", "exp.yaml"), 0);
    unsetenv("STRATA_STOP_AT");
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
    ck_assert_msg(WIFSTOPPED(status), "run 2 did not stop at the hook (status %d)", status);
    ck_assert_int_eq(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(kill(pid, SIGCONT), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    unsetenv("STRATA_DB_TIMEOUT");
    ck_assert_int_eq(sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(lock);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "the run's status is %d, expected exit 1", status);
    char path[256];
    ckpt_path(path, sizeof path, 2, "last.state.safetensors");
    ck_assert_msg(access(path, F_OK) == 0, "epoch 1's checkpoint was not kept");
    strata_ok("resume", ARGS("resume", "2", "--epochs", "2"));
    sqlite3 *db = db_open_readonly("results/strata.db");
    assert_same_epochs(db, 1, 2, 2);
    assert_same_epoch_classes(db, 1, 2, 2);
    sqlite3_close(db);
}
END_TEST

/* A state file without per-class counts (written by a strata before them):
 * resume records the checkpointed epoch's row without epoch_classes rows,
 * and says so; the epochs after it have theirs. */
START_TEST(test_resume_state_without_counts)
{
    strata_ok("uninterrupted", ARGS("run", "exp.yaml", "-s", "train.epochs=3"));
    setenv("STRATA_CRASH_AT", "checkpoint:2", 1);
    strata_run r = strata(ARGS("run", "exp.yaml", "-s", "train.epochs=3"));
    unsetenv("STRATA_CRASH_AT");
    ck_assert_int_ne(r.status, 0);
    run_strata_free(&r);
    char path[256];
    st_file f;
    ckpt_path(path, sizeof path, 2, "last.state.safetensors");
    read_st(path, &f);
    int renamed = 0;
    for (int i = 0; i < f.n_meta; i++)
        if (!strncmp(f.meta_keys[i], "row.class_", 10)) {
            memcpy(f.meta_keys[i], "old", 3); /* "old.class_n": not read */
            renamed++;
        }
    ck_assert_int_eq(renamed, 2);
    write_st(path, &f);
    st_free(&f);
    r = strata(ARGS("resume", "2", "--epochs", "2"));
    ck_assert_msg(r.status == 0, "resume: exit %d:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "epoch 2's checkpoint has no per-class counts"), "no warning:\n%s", r.err);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    assert_same_epochs(db, 1, 2, 3);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epoch_classes WHERE run_id = 2 AND epoch = 2"), 0);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epoch_classes WHERE run_id = 2 AND epoch IN (1, 3)"),
                     2 * NUM_CLASSES);
    sqlite3_close(db);
}
END_TEST

/* ---- 4. a checkpoint reads back identical ------------------------------------------ */

static void assert_same_meta(const st_file *a, const st_file *b)
{
    ck_assert_int_eq(a->n_meta, b->n_meta);
    for (int i = 0; i < a->n_meta; i++) {
        const char *v = st_meta(b, a->meta_keys[i]);
        ck_assert_msg(v != NULL, "metadata %s lost", a->meta_keys[i]);
        ck_assert_str_eq(a->meta_vals[i], v);
    }
}

/* st_read -> st_write -> st_read gives the same tensors and metadata, and
 * the copy predicts exactly as the original. */
START_TEST(test_checkpoint_round_trip)
{
    strata_ok("run", ARGS("run", "exp.yaml", "-s", "train.epochs=1"));
    static const char *const files[] = {"last.safetensors", "last.state.safetensors", "best.safetensors"};
    for (int i = 0; i < 3; i++) {
        char path[256];
        st_file a, b;
        strata_err err = {0};
        ckpt_path(path, sizeof path, 1, files[i]);
        read_st(path, &a);
        ck_assert_msg(st_write("copy.safetensors", &a, &err) == 0, "st_write: %s", err.msg);
        read_st("copy.safetensors", &b);
        assert_same_tensors(&a, &b, files[i]);
        assert_same_meta(&a, &b);
        st_free(&a);
        st_free(&b);
        if (i == 0) {
            char img[4200];
            snprintf(img, sizeof img, "%s/daisy/100080576_f52e8ee070_n.jpg", data_root);
            strata_run p = strata(ARGS("predict", "--run", "1", "--checkpoint", "last", "--top", "5", img));
            strata_run q = strata(ARGS("predict", "--weights", "copy.safetensors", "--experiment", "exp.yaml", "--top",
                                   "5", img));
            ck_assert_msg(p.status == 0 && q.status == 0, "predict: exit %d / %d:\n%s%s", p.status, q.status, p.err,
                          q.err);
            ck_assert_str_eq(p.out, q.out);
            run_strata_free(&p);
            run_strata_free(&q);
        }
    }
}
END_TEST

/* ---- 5. predict ------------------------------------------------------------------- */

static int is_flower_class(const char *name)
{
    for (int i = 0; i < NUM_CLASSES; i++)
        if (!strcmp(name, flower_classes[i]))
            return 1;
    return 0;
}

typedef struct prediction {
    char image[2048], cls[2048];
    double p;
} prediction;

/* Parse "IMAGE<TAB>CLASS<TAB>PROBABILITY" lines; returns the count. */
static int parse_predictions(const char *out, prediction *pr, int max)
{
    int n = 0;
    const char *s = out;
    while (*s && n < max) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)len, s);
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        ck_assert_msg(t1 && t2, "not IMAGE<TAB>CLASS<TAB>P: '%s'", line);
        *t1 = *t2 = '\0';
        snprintf(pr[n].image, sizeof pr[n].image, "%s", line);
        snprintf(pr[n].cls, sizeof pr[n].cls, "%s", t1 + 1);
        char *end;
        pr[n].p = strtod(t2 + 1, &end);
        ck_assert_msg(end != t2 + 1 && !*end, "probability '%s' is not a number", t2 + 1);
        n++;
        s += len + (nl != NULL);
    }
    return n;
}

START_TEST(test_predict)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    char img1[4200], img2[4200];
    snprintf(img1, sizeof img1, "%s/daisy/100080576_f52e8ee070_n.jpg", data_root);
    snprintf(img2, sizeof img2, "%s/daisy/10555826524_423eb8bf71_n.jpg", data_root);
    prediction pr[8];

    /* one line per image */
    strata_run r = strata(ARGS("predict", "--run", "1", img1, img2));
    ck_assert_msg(r.status == 0, "predict --run: exit %d:\n%s", r.status, r.err);
    ck_assert_int_eq(count_lines(r.out), 2);
    ck_assert_int_eq(parse_predictions(r.out, pr, 8), 2);
    ck_assert_str_eq(pr[0].image, img1);
    ck_assert_str_eq(pr[1].image, img2);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(is_flower_class(pr[i].cls), "class '%s' is not one of the data set's", pr[i].cls);
        ck_assert_msg(pr[i].p > 0 && pr[i].p <= 1, "probability %g", pr[i].p);
        ck_assert_msg(pr[i].p >= 1.0 / NUM_CLASSES - 1e-4, "the top class has p %g < 1/%d", pr[i].p, NUM_CLASSES);
    }
    /* the same again: identical */
    strata_run again = strata(ARGS("predict", "--run", "1", img1, img2));
    ck_assert_int_eq(again.status, 0);
    ck_assert_str_eq(r.out, again.out);
    run_strata_free(&again);
    run_strata_free(&r);

    /* --top 5: every class once, descending, summing to 1 */
    r = strata(ARGS("predict", "--run", "1", "--top", "5", img1));
    ck_assert_msg(r.status == 0, "--top 5: exit %d:\n%s", r.status, r.err);
    ck_assert_int_eq(parse_predictions(r.out, pr, 8), 5);
    double sum = 0;
    for (int i = 0; i < 5; i++) {
        sum += pr[i].p;
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(pr[i].cls, pr[j].cls);
        ck_assert_msg(is_flower_class(pr[i].cls), "class '%s'", pr[i].cls);
        if (i)
            ck_assert_msg(pr[i].p <= pr[i - 1].p, "--top: %g after %g", pr[i].p, pr[i - 1].p);
    }
    ck_assert_msg(fabs(sum - 1) < 5 * 5e-5 + 1e-9, "the 5 probabilities sum to %g", sum);
    run_strata_free(&r);

    /* --top 3 */
    r = strata(ARGS("predict", "--run", "1", "--top", "3", img1));
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(count_lines(r.out), 3);
    ck_assert_int_eq(parse_predictions(r.out, pr, 8), 3);
    ck_assert(pr[0].p >= pr[1].p && pr[1].p >= pr[2].p);
    run_strata_free(&r);

    /* --weights + --experiment: the best checkpoint gives what --run gives */
    strata_run a = strata(ARGS("predict", "--run", "1", img1));
    strata_run b = strata(ARGS("predict", "--weights", "results/checkpoints/1/best.safetensors", "--experiment", "exp.yaml",
                           img1));
    ck_assert_msg(b.status == 0, "--weights: exit %d:\n%s", b.status, b.err);
    ck_assert_int_eq(count_lines(b.out), 1);
    ck_assert_str_eq(a.out, b.out);
    run_strata_free(&a);
    run_strata_free(&b);

    /* --json */
    r = strata(ARGS("predict", "--run", "1", "--json", "--top", "2", img1, img2));
    ck_assert_msg(r.status == 0, "--json: exit %d:\n%s", r.status, r.err);
    ck_assert_msg(r.out[0] == '[' && strstr(r.out, "\"probability\"") && strstr(r.out, "]\n"), "--json:\n%s", r.out);
    int n_prob = 0;
    for (const char *s = r.out; (s = strstr(s, "\"probability\"")); s++)
        n_prob++;
    ck_assert_int_eq(n_prob, 4);
    run_strata_free(&r);
}
END_TEST

START_TEST(test_predict_errors)
{
    strata_ok("run", ARGS("run", "exp.yaml", "-s", "train.epochs=1"));
    write_text("notes.png", "this is not a picture\n");
    char img[4200];
    snprintf(img, sizeof img, "%s/daisy/100080576_f52e8ee070_n.jpg", data_root);

    /* an image that cannot be read: a warning naming it, a count, exit 1 (t/test_predict tests more) */
    strata_run r = strata(ARGS("predict", "--run", "1", "notes.png"));
    ck_assert_msg(r.status == 1 && strstr(r.err, "warning: notes.png:") && strstr(r.err, "1 of 1 images"),
                  "a text file as image: exit %d:\n%s", r.status, r.err);
    run_strata_free(&r);
    r = strata(ARGS("predict", "--run", "1", "missing.jpg"));
    ck_assert_msg(r.status == 1 && strstr(r.err, "warning: missing.jpg:") && strstr(r.err, "1 of 1 images"),
                  "a missing image: exit %d:\n%s", r.status, r.err);
    run_strata_free(&r);
    r = strata(ARGS("predict", "--run", "1", "--checkpoint", "foo", img));
    ck_assert_msg(r.status == 2, "--checkpoint foo: exit %d, expected 2", r.status);
    assert_one_line_error(&r, "--checkpoint foo", "foo");
    run_strata_free(&r);
    r = strata(ARGS("predict", "--run", "7", img));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "unknown run", "7");
    run_strata_free(&r);
    r = strata(ARGS("predict", "--run", "1", "--top", "0", img));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "--top 0", "--top");
    run_strata_free(&r);
    r = strata(ARGS("predict", "--weights", "nothere.safetensors", "--experiment", "exp.yaml", img));
    assert_one_line_error(&r, "missing weights", "nothere.safetensors");
    run_strata_free(&r);
    r = strata(ARGS("predict", "--weights", "results/checkpoints/1/last.safetensors", img));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "--weights without --experiment", "--experiment");
    run_strata_free(&r);
}
END_TEST

/* Weights giving NaN: predict --json writes valid JSON (null, not nan)
 * and warns; the checkpoint's class names not matching the model's outputs
 * is refused with both counts. */
START_TEST(test_predict_nan_and_classes)
{
    strata_ok("run", ARGS("run", "exp.yaml", "-s", "train.epochs=1"));
    char img[4200];
    snprintf(img, sizeof img, "%s/daisy/100080576_f52e8ee070_n.jpg", data_root);
    st_file f;
    strata_err err = {0};
    read_st("results/checkpoints/1/last.safetensors", &f);
    st_tensor *w = (st_tensor *)st_find(&f, "fc.weight");
    ck_assert_ptr_nonnull(w);
    for (size_t i = 0; i < w->nbytes / sizeof(float); i++)
        ((float *)w->data)[i] = NAN;
    ck_assert_msg(st_write("nan.safetensors", &f, &err) == 0, "%s", err.msg);
    strata_run r = strata(ARGS("predict", "--weights", "nan.safetensors", "--experiment", "exp.yaml", "--json", img));
    ck_assert_msg(r.status == 0, "predict NaN: exit %d:\n%s", r.status, r.err);
    ck_assert_msg(!strstr(r.out, "nan") && strstr(r.out, "\"probability\": null"), "predict --json:\n%s", r.out);
    ck_assert_msg(strstr(r.err, "warning") && strstr(r.err, "not finite"), "no warning:\n%s", r.err);
    run_strata_free(&r);

    for (int i = 0; i < f.n_meta; i++)
        if (!strcmp(f.meta_keys[i], "classes")) {
            free(f.meta_vals[i]);
            f.meta_vals[i] = strdup("a\nb\nc\nd");
        }
    ck_assert_msg(st_write("four.safetensors", &f, &err) == 0, "%s", err.msg);
    st_free(&f);
    r = strata(ARGS("predict", "--weights", "four.safetensors", "--experiment", "exp.yaml", img));
    assert_one_line_error(&r, "4 class names for 5 outputs", "gives 4 class names");
    ck_assert_msg(strstr(r.err, "5 outputs"), "the message lacks the model's count: %s", r.err);
    run_strata_free(&r);
}
END_TEST

/* A photo that passes the scan (header intact) but fails to decode during
 * training: skipped with a warning, recorded once in run_skipped, the run
 * finishes. */
START_TEST(test_decode_failure_recorded)
{
    uint8_t rgb[20 * 20 * 3];
    char path[256];
    ck_assert_int_eq(fx_mkdir("photos"), 0);
    for (int c = 0; c < NUM_CLASSES; c++) {
        snprintf(path, sizeof path, "photos/%s", flower_classes[c]);
        ck_assert_int_eq(fx_mkdir(path), 0);
        for (int i = 0; i < 6; i++) {
            for (size_t j = 0; j < sizeof rgb; j++)
                rgb[j] = (uint8_t)(j * 7 + c * 50 + i * 13);
            snprintf(path, sizeof path, "photos/%s/%d.png", flower_classes[c], i);
            ck_assert_int_eq(fx_write_png_rgb(path, 20, 20, rgb), 0);
        }
    }
    uint8_t *b;
    size_t n;
    ck_assert_int_eq(fx_read("photos/roses/3.png", &b, &n), 0);
    ck_assert_int_eq(fx_write("photos/roses/3.png", b, n - 20), 0);
    free(b);
    strata_run r = strata(ARGS("run", "exp.yaml", "-s", "data.root=photos"));
    ck_assert_msg(r.status == 0, "run: exit %d:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "warning") && strstr(r.err, "roses/3.png"), "no warning:\n%s", r.err);
    run_strata_free(&r);
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_skipped WHERE run_id = 1"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM run_skipped WHERE path LIKE '%roses/3.png' AND "
                               "reason LIKE '%decode%'"), 1);
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 1"), 2);
    sqlite3_close(db);
}
END_TEST

static Suite *resume_suite(void)
{
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("resume");
    tcase_add_unchecked_fixture(tc, e2e_make_base, e2e_remove_base);
    tcase_add_checked_fixture(tc, setup, e2e_leave);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_resume_exact, 0, 2);
    tcase_add_test(tc, test_resume_override);
    tcase_add_test(tc, test_resume_plateau_early_stop);
    tcase_add_test(tc, test_resume_cosine_t_max);
    tcase_add_test(tc, test_resume_plateau_new_lr);
    tcase_add_loop_test(tc, test_resume_refused, 0, NUM_REFUSALS);
    tcase_add_loop_test(tc, test_resume_fallback, 0, 2);
    tcase_add_loop_test(tc, test_resume_after_kill, 0, (int)(sizeof crash_points / sizeof crash_points[0]));
    tcase_add_test(tc, test_resume_before_first_checkpoint);
    tcase_add_test(tc, test_resume_killed_twice);
    tcase_add_test(tc, test_locked_database);
    tcase_add_test(tc, test_resume_state_without_counts);
    tcase_add_test(tc, test_checkpoint_round_trip);
    tcase_add_test(tc, test_predict);
    tcase_add_test(tc, test_predict_errors);
    tcase_add_test(tc, test_predict_nan_and_classes);
    tcase_add_test(tc, test_decode_failure_recorded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(resume_suite());
}
