/* test_examples.c — the example plugins of examples/plugins (built in
 * tree for `make check` from the same sources users copy): strata loads
 * them through --plugin-dir, lists them, and trains a tiny model that uses
 * both (the scale layer and the sgd_minimal optimizer) for one epoch. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "run_strata.h"
#include "testlib.h"

static const char experiment[] =
    "name: examples\n"
    "model:\n"
    "  arch: layers\n"
    "  input_size: 8\n"
    "  num_classes: 5\n"
    "  layers:\n"
    "    - {type: scale, name: scale}\n"
    "    - {type: flatten, name: flatten}\n"
    "    - {type: linear, name: fc, out_features: 5}\n"
    "data:\n"
    "  root: %s/data/flowers-mini\n"
    "  val_fraction: 0.2\n"
    "  split_seed: 0\n"
    "augment:\n"
    "  train:\n"
    "    - resize: {size: [8, 8]}\n"
    "  val:\n"
    "    - resize: {size: [8, 8]}\n"
    "optimizer: {name: sgd_minimal, lr: 0.01}\n"
    "train: {epochs: 1, batch_size: 16, threads: 1, seed: 1}\n"
    "results: {dir: %s/results}\n";

START_TEST(test_example_plugins)
{
    char dir[64], plugins[4096], text[8192];
    make_temp_dir(dir, sizeof dir, "strata-examples");
    snprintf(plugins, sizeof plugins, "%s/examples/plugins/.libs", builddir());
    snprintf(text, sizeof text, experiment, srcdir(), dir);
    char *yaml = fx_path(dir, "exp.yaml");
    write_text(yaml, text);

    strata_run r = strata(ARGS("--plugin-dir", plugins, "plugins"));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    assert_has(r.out, "scale ");
    assert_has(r.out, "sgd_minimal ");
    run_strata_free(&r);

    r = strata(ARGS("--plugin-dir", plugins, "summary", yaml));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    assert_has(r.out, "parameters: 966\n"); /* a, then fc: 192*5 + 5 */
    run_strata_free(&r);

    r = strata(ARGS("--plugin-dir", plugins, "run", yaml));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    assert_has(r.out, "epoch   1/1");
    run_strata_free(&r);
    free(yaml);
    fx_rm_rf(dir);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("examples", {.name = "plugins", .timeout = 120, .tests = TESTS(test_example_plugins)});
}
