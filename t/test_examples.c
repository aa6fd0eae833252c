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
    "    - {type: leaky_prelu, name: act, negative_slope: 0.05}\n"
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
    "optimizer: {name: %s, lr: 0.01}\n"
    "train: {epochs: 1, batch_size: 16, threads: %d, seed: 1}\n"
    "results: {dir: %s/results}\n";

START_TEST(test_example_plugins)
{
    char dir[64], plugins[4096], text[8192];
    make_temp_dir(dir, sizeof dir, "strata-examples");
    snprintf(plugins, sizeof plugins, "%s/examples/plugins/.libs", builddir());
    snprintf(text, sizeof text, experiment, srcdir(), "sgd_minimal", 1, dir);
    char *yaml = fx_path(dir, "exp.yaml");
    write_text(yaml, text);

    strata_run r = strata(ARGS("--plugin-dir", plugins, "plugins"));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    assert_has(r.out, "scale ");
    assert_has(r.out, "sgd_minimal ");
    assert_has(r.out, "leaky_prelu ");
    assert_has(r.out, "sgd_momentum ");
    run_strata_free(&r);

    r = strata(ARGS("--plugin-dir", plugins, "summary", yaml));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    assert_has(r.out, "parameters: 969\n"); /* a, 3 slopes, then fc: 192*5 + 5 */
    run_strata_free(&r);

    r = strata(ARGS("--plugin-dir", plugins, "run", yaml));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    assert_has(r.out, "epoch   1/1");
    run_strata_free(&r);

    /* the complete examples: sgd_momentum with its state, on 2 threads */
    snprintf(text, sizeof text, experiment, srcdir(), "sgd_momentum", 2, dir);
    write_text(yaml, text);
    r = strata(ARGS("--plugin-dir", plugins, "run", yaml, "-s", "optimizer.momentum=0.8"));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    assert_has(r.out, "epoch   1/1");
    run_strata_free(&r);
    /* their options are checked through the host: one line, exit 2 */
    r = strata(ARGS("--plugin-dir", plugins, "run", yaml, "-s", "optimizer.momentum=1.5"));
    assert_one_line_error(&r, "momentum 1.5", "optimizer.momentum");
    ck_assert_int_eq(r.status, 2);
    run_strata_free(&r);
    r = strata(ARGS("--plugin-dir", plugins, "run", yaml, "-s", "model.layers.1.negative_slope=2"));
    assert_one_line_error(&r, "negative_slope 2", "negative_slope");
    ck_assert_int_eq(r.status, 2);
    run_strata_free(&r);
    free(yaml);
    fx_rm_rf(dir);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("examples", {.name = "plugins", .timeout = 120, .tests = TESTS(test_example_plugins)});
}
