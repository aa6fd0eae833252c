/* test_messages.c — the messages of issue 13 item 7 and the configuration
 * errors of train.early_stopping, train.checkpoint_monitor and the plateau
 * schedule, through the built program: exit status and the one line.
 *
 * Each test works in a fresh temp dir (the current directory) holding
 * exp.yaml: t/fixtures/tiny.yaml on the shipped photos, 1 epoch.
 * (Ctrl-C's resume command is checked in t/test_train, cosine's t_max on
 * resume in t/test_resume.) */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "run_strata.h"
#include "testlib.h"

static char base[4096];

/* base: a fresh temp dir, the current directory, with exp.yaml + extra. */
static void write_experiment(const char *extra)
{
    char *text = tiny_experiment(extra);
    write_text("exp.yaml", text);
    free(text);
}

static void setup(void)
{
    make_temp_dir(base, sizeof base, "strata-messages");
    ck_assert_int_eq(chdir(base), 0);
    write_experiment("");
}

static void teardown(void)
{
    ck_assert_int_eq(chdir("/"), 0);
    fx_rm_rf(base);
}

/* `-s KEY VALUE` (a space for the '='): named as such by every command
 * that takes -s, not "expected one EXPERIMENT.yaml". */
START_TEST(test_set_without_equals)
{
    static const char *const cmds[][2] = {{"run", "exp.yaml"}, {"summary", "exp.yaml"}, {"sweep", "exp.yaml"},
                                          {"resume", "1"}, {"bench", "exp.yaml"}};
    const char *cmd = cmds[_i][0], *arg = cmds[_i][1];
    strata_run r = strata(ARGS(cmd, arg, "-s", "train.epochs", "2", "--epochs", "1"));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, cmd, "-s train.epochs: expected KEY.PATH=VALUE, one argument with '=' "
                                   "(e.g. -s train.epochs=VALUE)");
    ck_assert_msg(!strstr(r.err, "expected one"), "%s", r.err);
    run_strata_free(&r);
    ck_assert_int_ne(access("results/strata.db", F_OK), 0); /* nothing ran */
}
END_TEST

/* A bad -s value is located by its option, not "-s KEY:1:1". */
START_TEST(test_set_error_location)
{
    strata_run r = strata(ARGS("run", "exp.yaml", "-s", "train.batch_size=0"));
    ck_assert_int_eq(r.status, 2);
    assert_one_line_error(&r, "run", "strata: -s train.batch_size: train.batch_size: expected an integer from 1 to "
                                     "65536, got '0'\n");
    ck_assert_msg(!strstr(r.err, ":1:1"), "%s", r.err);
    run_strata_free(&r);
    /* an unknown key given with -s */
    strata_refuses(ARGS("summary", "exp.yaml", "-s", "train.epoch=3"), 2,
                   "strata: -s train.epoch: train.epoch: unknown key for train");
}
END_TEST

/* A checkpoint of another shape: both shapes in full. */
START_TEST(test_shape_mismatch)
{
    strata_ok("run", ARGS("run", "exp.yaml"));
    strata_refuses(ARGS("run", "exp.yaml", "-s", "model.layers.4.out_channels=32", "-s",
                        "model.weights=results/checkpoints/1/last.safetensors"),
                   2, "results/checkpoints/1/last.safetensors: tensor conv2.weight has shape [16, 8, 3, 3], the "
                      "model's is [32, 8, 3, 3] (another model or num_classes?)");
}
END_TEST

/* summary refuses the augmentation run refuses, with the same line. */
START_TEST(test_summary_checks_augment)
{
    write_experiment("augment:\n  val:\n    - resize: {size: [16, 16], antialiass: true}\n");
    strata_run a = strata(ARGS("run", "exp.yaml")), b = strata(ARGS("summary", "exp.yaml"));
    ck_assert_int_eq(a.status, 2);
    ck_assert_int_eq(b.status, 2);
    assert_one_line_error(&b, "summary", "antialiass");
    ck_assert_str_eq(a.err, b.err);
    run_strata_free(&a);
    run_strata_free(&b);
}
END_TEST

/* Bad train.early_stopping, checkpoint_monitor and plateau keys: one line
 * naming exp.yaml, the line, the key and what was expected; exit 2. */
static const struct bad_key {
    const char *yaml, *needle;
} bad_keys[] = {
    {"train:\n  early_stopping: {monitor: val_accuracy}\n",
     "exp.yaml:5:29: train.early_stopping.monitor: expected one of val_acc, val_loss, got 'val_accuracy'"},
    {"train:\n  early_stopping: {patience: 0}\n",
     "exp.yaml:5:30: train.early_stopping.patience: expected an integer from 1 to 1000000, got '0'"},
    {"train:\n  early_stopping: {min_delta: -1}\n",
     "exp.yaml:5:31: train.early_stopping.min_delta: expected a number from 0 to 1e+06, got '-1'"},
    {"train:\n  early_stopping: {patiance: 3}\n",
     "exp.yaml:5:20: train.early_stopping.patiance: unknown key for train.early_stopping (known: monitor, patience, "
     "min_delta)"},
    {"train:\n  early_stopping: 5\n", "exp.yaml:5:19: train.early_stopping: expected a mapping, got '5'"},
    {"train:\n  checkpoint_monitor: acc\n",
     "exp.yaml:5:23: train.checkpoint_monitor: expected one of val_acc, val_loss, got 'acc'"},
    {"optimizer:\n  schedule: {name: plateau, factor: 1.5}\n",
     "exp.yaml:5:37: optimizer.schedule.factor: expected a number from 1e-12 to 0.999999, got '1.5'"},
    {"optimizer:\n  schedule: {name: plateau, threshold_mode: relative}\n",
     "exp.yaml:5:45: optimizer.schedule.threshold_mode: expected one of rel, abs, got 'relative'"},
    {"optimizer:\n  schedule: {name: plateau, monitor: train_loss}\n",
     "exp.yaml:5:38: optimizer.schedule.monitor: expected one of val_acc, val_loss, got 'train_loss'"},
    {"optimizer:\n  schedule: {name: plateau, patience: -1}\n",
     "exp.yaml:5:39: optimizer.schedule.patience: expected an integer from 0 to 1000000, got '-1'"},
};
enum { N_BAD_KEYS = sizeof bad_keys / sizeof bad_keys[0] };

START_TEST(test_bad_keys)
{
    write_experiment(bad_keys[_i].yaml);
    strata_refuses(ARGS("run", "exp.yaml"), 2, bad_keys[_i].needle);
    ck_assert_int_ne(access("results/strata.db", F_OK), 0);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("messages",
        {.name = "messages", .setup = setup, .teardown = teardown, .timeout = 120,
         .tests = TESTS(test_set_error_location, test_shape_mismatch, test_summary_checks_augment),
         .loops = LOOPS({test_set_without_equals, 5}, {test_bad_keys, N_BAD_KEYS})});
}
