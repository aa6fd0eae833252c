/* test_gradcheck.c — `strata gradcheck`: every built-in layer plugin passes
 * at a small shape (with options that exercise its parameters and modes),
 * the example layers pass (loaded through --plugin-dir as out-of-tree ones
 * are), t/plugins/wrong_backward fails (exit 1) with the wrong tensor
 * named for each kind of mistake, and usage errors are one line, exit 2. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "run_strata.h"
#include "testlib.h"

#define MAX_ARGS 14

/* strata [--plugin-dir DIR] gradcheck --layer NAME --input SHAPE [-s ...]
 * (extra: NULL-terminated). */
static strata_run gradcheck(const char *dir, const char *layer, const char *shape, const char *const *extra)
{
    const char *argv[MAX_ARGS + 1];
    int n = 0;
    if (dir) {
        argv[n++] = "--plugin-dir";
        argv[n++] = dir;
    }
    argv[n++] = "gradcheck";
    argv[n++] = "--layer";
    argv[n++] = layer;
    argv[n++] = "--input";
    argv[n++] = shape;
    for (int i = 0; extra && extra[i]; i++) {
        ck_assert_int_lt(n, MAX_ARGS);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    return r;
}

static void passes(const char *dir, const char *layer, const char *shape, const char *const *extra)
{
    strata_run r = gradcheck(dir, layer, shape, extra);
    ck_assert_msg(r.status == 0, "%s %s: exit %d\n%s%s", layer, shape, r.status, r.out, r.err);
    assert_has(r.out, ": passed\n");
    ck_assert_ptr_null(strstr(r.out, "FAIL"));
    run_strata_free(&r);
}

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(test_builtin_layers_pass)
{
    const struct {
        const char *layer, *shape;
        const char *const *extra;
    } cases[] = {
        {"conv2d", "3x6x6", KV("-s", "out_channels=4", "-s", "kernel=3", "-s", "padding=1")},
        {"conv2d", "2x7x5", KV("-s", "out_channels=3", "-s", "kernel=[3, 2]", "-s", "stride=2", "--samples", "0")},
        {"linear", "10x1x1", KV("-s", "out_features=4", "--batch", "3", "--samples", "0")},
        {"relu", "3x5x4", NULL},
        {"maxpool", "2x6x6", KV("-s", "kernel=3", "-s", "stride=1", "--samples", "0")},
        {"avgpool", "2x7x8", KV("-s", "kernel=3", "-s", "stride=2", "-s", "padding=1", "-s", "ceil_mode=true")},
        {"adaptive_avgpool", "2x7x5", KV("-s", "output=[3, 2]")},
        {"flatten", "3x4x5", NULL},
        {"dropout", "4x3x3", KV("-s", "p=0.3")},
        {"dropout", "4x3x3", KV("-s", "p=0.3", "--eval")},
        {"local_response_norm", "7x3x2", KV("-s", "size=3", "-s", "alpha=0.5", "-s", "k=2")},
        {"batchnorm2d", "3x3x2", KV("--batch", "3", "--samples", "0")},
        {"batchnorm2d", "3x2x5", KV("--eval")},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        passes(NULL, cases[i].layer, cases[i].shape, cases[i].extra);
}
END_TEST

static const char *examples_dir(char *buf, size_t size)
{
    snprintf(buf, size, "%s/examples/plugins/.libs", builddir());
    return buf;
}

START_TEST(test_example_layers_pass)
{
    char dir[4096];
    examples_dir(dir, sizeof dir);
    passes(dir, "scale", "3x4x4", NULL);
    passes(dir, "leaky_prelu", "4x5x5", NULL);
    passes(dir, "leaky_prelu", "4x5x5", KV("--threads", "2", "--samples", "0"));
    passes(dir, "leaky_prelu", "3x4x4", KV("-s", "per_channel=false", "-s", "negative_slope=0.2"));
}
END_TEST

/* The last word of the table row of tensor `name` ("ok" or "FAIL"). */
static void row_result(const char *out, const char *name, char *result, size_t size)
{
    char start[80];
    snprintf(start, sizeof start, "\n%s ", name);
    const char *row = strstr(out, start);
    ck_assert_msg(row != NULL, "no row for %s in:\n%s", name, out);
    const char *end = strchr(row + 1, '\n'), *word = end;
    while (word > row && word[-1] != ' ')
        word--;
    snprintf(result, size, "%.*s", (int)(end - word), word);
}

/* The wrong tensor's row says FAIL, the other's ok; exit 1. */
static void fails(const char *wrong, const char *bad_row, const char *good_row)
{
    char dir[4096], opt[64], result[16];
    snprintf(dir, sizeof dir, "%s/t/plugins/.libs", builddir());
    snprintf(opt, sizeof opt, "wrong=%s", wrong);
    strata_run r = gradcheck(dir, "wrong_backward", "2x3x3", KV("-s", opt));
    ck_assert_msg(r.status == 1, "wrong=%s: exit %d\n%s%s", wrong, r.status, r.out, r.err);
    assert_has(r.out, "tolerance 0.02: FAILED\n");
    assert_has(r.err, "wrong_backward: a gradient fails the check");
    row_result(r.out, bad_row, result, sizeof result);
    ck_assert_msg(strcmp(result, "FAIL") == 0, "wrong=%s: %s", wrong, r.out);
    row_result(r.out, good_row, result, sizeof result);
    ck_assert_msg(strcmp(result, "ok") == 0, "wrong=%s: %s", wrong, r.out);
    run_strata_free(&r);
}

START_TEST(test_wrong_backward_fails)
{
    fails("weight", "weight", "input");
    fails("input", "input", "weight");
    fails("assigns", "weight", "input");
    fails("unwritten", "input", "weight");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/t/plugins/.libs", builddir());
    passes(dir, "wrong_backward", "2x3x3", KV("-s", "wrong=none"));
    /* a tolerance above the mistake lets it pass: the exit status follows --tol */
    passes(dir, "wrong_backward", "2x3x3", KV("-s", "wrong=input", "--tol", "0.5"));
}
END_TEST

START_TEST(test_usage_errors)
{
    strata_refuses(ARGS("gradcheck", "--input", "3x4x4"), 2, "--layer NAME is required");
    strata_refuses(ARGS("gradcheck", "--layer", "relu"), 2, "--input CxHxW is required");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4"), 2, "--input: expected CxHxW");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x0x4"), 2, "--input: expected CxHxW");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4x4x"), 2, "--input: expected CxHxW");
    strata_refuses(ARGS("gradcheck", "--layer", "nosuch", "--input", "3x4x4"), 2, "no layer plugin 'nosuch'");
    strata_refuses(ARGS("gradcheck", "--layer", "adam", "--input", "3x4x4"), 2, "not a layer");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4x4", "--batch", "0"), 2,
                   "--batch: expected a whole number from 1");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4x4", "--tol", "-1"), 2, "--tol: expected");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4x4", "--step", "x"), 2, "--step: expected");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4x4", "--bogus"), 2, "unknown option '--bogus'");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4x4", "-s", "novalue"), 2,
                   "-s: expected OPTION=VALUE");
    strata_refuses(ARGS("gradcheck", "--layer", "relu", "--input", "3x4x4", "-s", "alpha=1"), 2,
                   "alpha: unknown key for relu");
    strata_refuses(ARGS("gradcheck", "--layer", "conv2d", "--input", "3x4x4", "-s", "kernel=3"), 2, "out_channels");
    strata_refuses(ARGS("gradcheck", "--layer", "conv2d", "--input", "3x4x4", "-s", "out_channels=x"), 2,
                   "out_channels");
    strata_refuses(ARGS("gradcheck", "--layer", "maxpool", "--input", "1x2x2", "-s", "kernel=5"), 2,
                   "larger than the padded input");
    strata_run r = strata(ARGS("gradcheck", "--help"));
    ck_assert_int_eq(r.status, 0);
    assert_has(r.out, "usage: strata [--plugin-dir DIR] gradcheck --layer NAME");
    run_strata_free(&r);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("gradcheck",
                          {.name = "pass", .timeout = 300,
                           .tests = TESTS(test_builtin_layers_pass, test_example_layers_pass)},
                          {.name = "fail", .timeout = 120, .tests = TESTS(test_wrong_backward_fails, test_usage_errors)});
}
