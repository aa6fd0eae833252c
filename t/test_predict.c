/* test_predict.c — `strata predict` as a tool, and fine-tuning: model.freeze
 * and model.weights / model.strict, end to end through the built program.
 *
 * Each test works in a fresh temp dir holding exp.yaml (the shared
 * t/fixtures/tiny.yaml on $STRATA_SRCDIR/data/flowers-mini, 1 epoch):
 *
 *   walk        a folder with a nested folder, an empty file, a corrupt
 *               JPEG and a text file: the good images predicted in sorted
 *               order, a warning per bad one, none for the text file, exit 1
 *   classes     --classes FILE (names used; wrong count, empty name, missing
 *               file: exit 2); weights without `classes` metadata: names
 *               from data.root's class folders, else the message naming
 *               the three ways, exit 2
 *   freeze      conv1 frozen with initial weights from a file: conv1
 *               bit-identical afterwards, the others changed, no optimizer
 *               state for conv1, resume works, resume with model.freeze=[]
 *               trains conv1 from zeroed optimizer state (one slot of a
 *               parameter missing is refused); a frozen middle layer;
 *               errors (unknown name, no parameters, nothing left)
 *   strict      model.weights with another classifier: refused when strict,
 *               loaded but the classifier when strict: false */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fixtures/imgwrite.h"
#include "run_strata.h"
#include "store/safetensors.h"
#include "testlib.h"
#include "testlib_db.h"

static const char *data_root;
static char daisy[4200];

static void setup(void)
{
    e2e_enter("");
    data_root = e2e_data_root();
    snprintf(daisy, sizeof daisy, "%s/daisy/100080576_f52e8ee070_n.jpg", data_root);
}

/* The weights of run 1's last checkpoint without their `classes` metadata. */
static void write_weights_without_classes(const char *path)
{
    st_file f;
    read_st("results/checkpoints/1/last.safetensors", &f);
    for (int i = 0; i < f.n_meta; i++)
        free(f.meta_keys[i]), free(f.meta_vals[i]);
    f.n_meta = 0;
    write_st(path, &f);
    st_free(&f);
}

/* ---- the walk ------------------------------------------------------------------ */

START_TEST(test_predict_walk)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    uint8_t rgb[24 * 24 * 3];
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)(i * 31);
    ck_assert_int_eq(fx_mkdir("pics"), 0);
    ck_assert_int_eq(fx_mkdir("pics/sub"), 0);
    ck_assert_int_eq(fx_mkdir("pics/sub/deeper"), 0);
    ck_assert_int_eq(fx_mkdir("pics/nothing"), 0);
    file_copy(daisy, "pics/a.jpg");
    ck_assert_int_eq(fx_write_png_rgb("pics/sub/deeper/b.PNG", 24, 24, rgb), 0);
    ck_assert_int_eq(fx_write("pics/empty.jpg", "", 0), 0);
    uint8_t *jpg;
    size_t n;
    ck_assert_int_eq(fx_read(daisy, &jpg, &n), 0);
    ck_assert_int_eq(fx_write("pics/sub/corrupt.jpeg", jpg, n / 3), 0);
    free(jpg);
    write_text("pics/notes.txt", "not a photo\n");

    strata_run r = strata(ARGS("predict", "--run", "1", "pics"));
    ck_assert_msg(r.status == 1, "predict pics: exit %d, expected 1:\n%s", r.status, r.err);
    ck_assert_int_eq(count_lines(r.out), 2);
    ck_assert_msg(strncmp(r.out, "pics/a.jpg\t", 11) == 0 && strstr(r.out, "\npics/sub/deeper/b.PNG\t"),
                  "the good images, in sorted order:\n%s", r.out);
    ck_assert_msg(strstr(r.err, "strata: warning: pics/empty.jpg: ") && strstr(r.err, "empty file"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "strata: warning: pics/sub/corrupt.jpeg: "), "%s", r.err);
    ck_assert_msg(!strstr(r.err, "notes.txt"), "a text file in a folder is skipped silently:\n%s", r.err);
    ck_assert_msg(strstr(r.err, "2 of 4 images could not be predicted"), "%s", r.err);
    ck_assert_int_eq(count_lines(r.err), 3);

    /* the same prediction as the file named alone */
    strata_run one = strata(ARGS("predict", "--run", "1", "pics/a.jpg"));
    ck_assert_int_eq(one.status, 0);
    ck_assert_msg(strncmp(r.out, one.out, strlen(one.out)) == 0, "walk:\n%s\nalone:\n%s", r.out, one.out);
    run_strata_free(&one);
    run_strata_free(&r);

    /* --json stays one valid document; a text file named explicitly is a warning */
    r = strata(ARGS("predict", "--run", "1", "--json", "pics", "pics/notes.txt"));
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(r.out[0] == '[' && strstr(r.out, "]\n") && count_substr(r.out, "\"image\"") == 2, "%s", r.out);
    ck_assert_msg(strstr(r.out, "\"image\": \"pics/a.jpg\"") && !strstr(r.out, "[,") && !strstr(r.out, ",]"),
                  "%s", r.out);
    ck_assert_msg(strstr(r.err, "strata: warning: pics/notes.txt: "), "%s", r.err);
    ck_assert_msg(strstr(r.err, "3 of 5 images"), "%s", r.err);
    run_strata_free(&r);

    /* a folder without images: a warning, exit 1 */
    r = strata(ARGS("predict", "--run", "1", "pics/nothing", "pics/a.jpg"));
    ck_assert_msg(r.status == 1 && count_lines(r.out) == 1 && strstr(r.err, "pics/nothing: no .jpg"), "exit %d\n%s",
                  r.status, r.err);
    run_strata_free(&r);

    /* all good: exit 0, nothing on stderr */
    r = strata(ARGS("predict", "--run", "1", "pics/sub/deeper"));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 1 && r.err[0] == '\0', "exit %d\n%s", r.status, r.err);
    run_strata_free(&r);
}
END_TEST

/* ---- class names ---------------------------------------------------------------- */

START_TEST(test_predict_classes_file)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    write_text("names.txt", "Bellis\r\nTaraxacum\r\nRosa\r\nHelianthus\r\nTulipa\r\n");
    file_copy(daisy, "photo.jpg"); /* its path names no class */
    strata_run r = strata(ARGS("predict", "--run", "1", "--top", "5", "--classes", "names.txt", "photo.jpg"));
    ck_assert_msg(r.status == 0, "--classes: exit %d\n%s", r.status, r.err);
    const char *names[] = {"\tBellis\t", "\tTaraxacum\t", "\tRosa\t", "\tHelianthus\t", "\tTulipa\t"};
    for (int i = 0; i < 5; i++)
        ck_assert_msg(strstr(r.out, names[i]), "no %s in\n%s", names[i], r.out);
    ck_assert_msg(!strstr(r.out, "daisy") && !strchr(r.out, '\r'), "%s", r.out);
    run_strata_free(&r);

    write_text("two.txt", "a\nb\n");
    r = strata(ARGS("predict", "--run", "1", "--classes", "two.txt", daisy));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "--classes with 2 names", "two.txt");
    ck_assert_msg(strstr(r.err, "2 class names") && strstr(r.err, "5 outputs"), "%s", r.err);
    run_strata_free(&r);

    write_text("hole.txt", "a\nb\n\nd\ne\n");
    strata_refuses(ARGS("predict", "--run", "1", "--classes", "hole.txt", daisy), 2, "name 3 of 5 is empty");
    strata_refuses(ARGS("predict", "--run", "1", "--classes", "nothere.txt", daisy), 2, "nothere.txt");
}
END_TEST

START_TEST(test_predict_classes_fallbacks)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    write_weights_without_classes("bare.safetensors");

    /* the experiment's data.root class folders, sorted as training sorts them */
    strata_run r = strata(ARGS("predict", "--weights", "bare.safetensors", "--experiment", "exp.yaml", "--top", "5",
                               daisy));
    strata_run ref = strata(ARGS("predict", "--run", "1", "--checkpoint", "last", "--top", "5", daisy));
    ck_assert_msg(r.status == 0 && ref.status == 0, "exit %d / %d\n%s", r.status, ref.status, r.err);
    ck_assert_str_eq(r.out, ref.out);
    run_strata_free(&r);
    run_strata_free(&ref);

    /* --classes still works */
    write_text("names.txt", "a\nb\nc\nd\ne\n");
    r = strata(ARGS("predict", "--weights", "bare.safetensors", "--experiment", "exp.yaml", "-s", "data.root=null",
                    "--classes", "names.txt", daisy));
    ck_assert_msg(r.status == 0 && count_lines(r.out) == 1, "exit %d\n%s", r.status, r.err);
    run_strata_free(&r);

    /* no source: the three ways */
    r = strata(ARGS("predict", "--weights", "bare.safetensors", "--experiment", "exp.yaml", "-s", "data.root=null",
                    daisy));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "no class names", "bare.safetensors");
    ck_assert_msg(strstr(r.err, "--classes FILE") && strstr(r.err, "`classes` metadata") && strstr(r.err, "data.root"),
                  "%s", r.err);
    run_strata_free(&r);

    /* data.root with another number of class folders */
    ck_assert_int_eq(fx_mkdir("three"), 0);
    ck_assert_int_eq(fx_mkdir("three/x"), 0);
    ck_assert_int_eq(fx_mkdir("three/y"), 0);
    ck_assert_int_eq(fx_mkdir("three/z"), 0);
    r = strata(ARGS("predict", "--weights", "bare.safetensors", "--experiment", "exp.yaml", "-s", "data.root=three",
                    daisy));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "3 class folders", "data.root three");
    ck_assert_msg(strstr(r.err, "3 class names") && strstr(r.err, "5 outputs"), "%s", r.err);
    run_strata_free(&r);
}
END_TEST

/* ---- model.freeze ------------------------------------------------------------------ */

static int same_tensor(const st_file *a, const st_file *b, const char *name)
{
    const st_tensor *x = st_find(a, name), *y = st_find(b, name);
    ck_assert_msg(x && y, "tensor %s missing", name);
    return x->nbytes == y->nbytes && memcmp(x->data, y->data, x->nbytes) == 0;
}

/* Run `run` started from init.safetensors with model.freeze = freeze;
 * returns its last weights in *w. */
static void train_frozen(int run, const char *freeze, st_file *w)
{
    char set[128], path[256];
    snprintf(set, sizeof set, "model.freeze=%s", freeze);
    strata_ok("frozen run", ARGS("run", "exp.yaml", "-s", "model.weights=init.safetensors", "-s", set));
    snprintf(path, sizeof path, "results/checkpoints/%d/last.safetensors", run);
    read_st(path, w);
}

START_TEST(test_freeze)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    file_copy("results/checkpoints/1/last.safetensors", "init.safetensors");
    st_file init, w, state, control;
    read_st("init.safetensors", &init);

    /* conv1 frozen: its tensors are the initial ones, bit for bit; the rest trained */
    train_frozen(2, "[conv1]", &w);
    ck_assert_msg(same_tensor(&init, &w, "conv1.weight") && same_tensor(&init, &w, "conv1.bias"), "conv1 changed");
    const char *trained[] = {"bn1.weight", "bn1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(!same_tensor(&init, &w, trained[i]), "%s did not change", trained[i]);
    /* no optimizer state for conv1, Adam's two slots for the others */
    read_st("results/checkpoints/2/last.state.safetensors", &state);
    for (int i = 0; i < state.n; i++)
        ck_assert_msg(strncmp(state.t[i].name, "conv1.", 6) != 0, "state has %s", state.t[i].name);
    ck_assert_int_eq(state.n, 2 * 6);
    ck_assert_ptr_nonnull(st_find(&state, "conv2.weight.exp_avg"));
    st_free(&state);
    /* the run's numbers: trainable parameters without conv1 (224), a sane epoch */
    sqlite3 *db = db_open_readonly("results/strata.db");
    ck_assert_int_eq(q_int(db, "SELECT params FROM runs WHERE id = 2"), q_int(db, "SELECT params FROM runs WHERE id = 1")
                                                                            - (27 * 8 + 8));
    ck_assert_int_eq(q_int(db, "SELECT count(*) FROM epochs WHERE run_id = 2 AND train_loss > 0 AND train_loss < 10 "
                               "AND val_acc BETWEEN 0 AND 1 AND val_loss > 0"), 1);
    sqlite3_close(db);
    /* resume: the state without conv1 loads, conv1 stays frozen */
    strata_ok("resume", ARGS("resume", "2", "--epochs", "1"));
    st_free(&w);
    read_st("results/checkpoints/2/last.safetensors", &w);
    ck_assert_msg(same_tensor(&init, &w, "conv1.weight"), "conv1 changed on resume");
    ck_assert_str_eq(st_meta(&w, "epoch"), "2");
    st_free(&w);
    /* resume unfreezing conv1: its optimizer state starts at zero (said in one line), conv1 trains */
    strata_run r = strata(ARGS("resume", "2", "--epochs", "1", "-s", "model.freeze=[]"));
    ck_assert_msg(r.status == 0, "resume -s model.freeze=[]: exit %d:\n%s", r.status, r.err);
    ck_assert_msg(count_substr(r.err, "2 parameters (conv1.weight, ...) have no optimizer state in ") == 1 &&
                      strstr(r.err, "(frozen then): theirs starts at zero\n"),
                  "no line about conv1's optimizer state:\n%s", r.err);
    run_strata_free(&r);
    read_st("results/checkpoints/2/last.safetensors", &w);
    ck_assert_msg(!same_tensor(&init, &w, "conv1.weight"), "conv1 did not train after unfreezing");
    ck_assert_str_eq(st_meta(&w, "epoch"), "3");
    st_free(&w);
    read_st("results/checkpoints/2/last.state.safetensors", &state);
    ck_assert_int_eq(state.n, 2 * 8);
    ck_assert_ptr_nonnull(st_find(&state, "conv1.weight.exp_avg_sq"));
    /* one slot of a parameter missing (not a frozen layer): refused, naming it */
    for (int i = 0; i < state.n; i++)
        if (!strcmp(state.t[i].name, "conv2.bias.exp_avg_sq"))
            state.t[i].name[0] = 'X'; /* "Xonv2.bias.exp_avg_sq": an unknown tensor */
    write_st("results/checkpoints/2/last.state.safetensors", &state);
    st_free(&state);
    strata_refuses(ARGS("resume", "2", "--epochs", "1"), 2, "optimizer state conv2.bias.exp_avg_sq missing");

    /* control: the same run without freeze changes conv1 */
    strata_ok("control", ARGS("run", "exp.yaml", "-s", "model.weights=init.safetensors"));
    read_st("results/checkpoints/3/last.safetensors", &control);
    ck_assert_msg(!same_tensor(&init, &control, "conv1.weight"), "conv1 unchanged without freeze");
    st_free(&control);

    /* a frozen layer in the middle (backward goes through it): conv2 kept, conv1 trained */
    train_frozen(4, "[conv2, 9]", &w);
    ck_assert_msg(same_tensor(&init, &w, "conv2.weight") && same_tensor(&init, &w, "fc.bias"), "conv2 or fc changed");
    ck_assert_msg(!same_tensor(&init, &w, "conv1.weight"), "conv1 did not change");
    st_free(&w);
    st_free(&init);
}
END_TEST

START_TEST(test_freeze_errors)
{
    strata_refuses(ARGS("run", "exp.yaml", "-s", "model.freeze=[conv1, conv9]"), 2, "model.freeze: no layer 'conv9'");
    strata_refuses(ARGS("run", "exp.yaml", "-s", "model.freeze=[relu1]"), 2, "relu1 (relu) has no trainable");
    strata_refuses(ARGS("run", "exp.yaml", "-s", "model.freeze=[conv1, bn1, conv2, fc]"), 2, "nothing is left");
    strata_refuses(ARGS("run", "exp.yaml", "-s", "model.freeze=conv1"), 2, "model.freeze: expected a list");
    strata_refuses(ARGS("run", "exp.yaml", "-s", "model.freeze=[{a: 1}]"), 2, "model.freeze: expected layer names");
}
END_TEST

/* ---- model.weights and model.strict ------------------------------------------------- */

/* init.safetensors with a classifier for 3 classes (fc 3x16), like a
 * torchvision model's 1000-class head against a 5-class experiment. */
static void write_other_head(void)
{
    st_file f;
    read_st("results/checkpoints/1/last.safetensors", &f);
    for (int i = 0; i < f.n; i++)
        if (!strcmp(f.t[i].name, "fc.weight") || !strcmp(f.t[i].name, "fc.bias")) {
            f.t[i].shape[0] = 3;
            f.t[i].nbytes = f.t[i].nbytes / 5 * 3;
        }
    write_st("init.safetensors", &f);
    st_free(&f);
}

START_TEST(test_weights_strict)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    write_other_head();
    strata_run r = strata(ARGS("run", "exp.yaml", "-s", "model.weights=init.safetensors"));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "strict: another head", "fc.weight");
    run_strata_free(&r);

    /* strict: false + the features frozen: they are the file's, the head new and trained */
    r = strata(ARGS("run", "exp.yaml", "-s", "model.weights=init.safetensors", "-s", "model.strict=false", "-s",
                    "model.freeze=[conv1, bn1, conv2]"));
    ck_assert_msg(r.status == 0, "strict: false: exit %d\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "init.safetensors: 2 tensors missing or of another shape"), "%s", r.err);
    run_strata_free(&r);
    st_file init, w;
    read_st("init.safetensors", &init);
    read_st("results/checkpoints/2/last.safetensors", &w);
    const char *kept[] = {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "conv2.weight", "conv2.bias"};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(same_tensor(&init, &w, kept[i]), "%s is not the file's", kept[i]);
    const st_tensor *fc = st_find(&w, "fc.weight");
    ck_assert_int_eq(fc->shape[0], 5);
    st_free(&init);
    st_free(&w);

    /* strict: a tensor the model does not have */
    st_file f;
    read_st("results/checkpoints/1/last.safetensors", &f);
    f.t = realloc(f.t, (f.n + 1) * sizeof *f.t);
    f.t[f.n] = f.t[0];
    f.t[f.n].name = strdup("extra.weight");
    f.t[f.n].data = malloc(f.t[0].nbytes);
    memcpy(f.t[f.n].data, f.t[0].data, f.t[0].nbytes);
    f.n++;
    write_st("extra.safetensors", &f);
    st_free(&f);
    strata_refuses(ARGS("run", "exp.yaml", "-s", "model.weights=extra.safetensors"), 2, "1 tensors are not parameters");
}
END_TEST

static Suite *predict_suite(void)
{
    Suite *s = suite_create("predict");
    TCase *tc = tcase_create("predict");
    tcase_add_unchecked_fixture(tc, e2e_make_base, e2e_remove_base);
    tcase_add_checked_fixture(tc, setup, e2e_leave);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_predict_walk);
    tcase_add_test(tc, test_predict_classes_file);
    tcase_add_test(tc, test_predict_classes_fallbacks);
    tcase_add_test(tc, test_freeze);
    tcase_add_test(tc, test_freeze_errors);
    tcase_add_test(tc, test_weights_strict);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(predict_suite());
}
