/* test_trainer.c — the training step's memory plan: layers that run in place
 * (ReLU, dropout) give bit-identical training to separate buffers, and use
 * less memory; the plan only aliases where the neighbours allow it. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "experiment.h"
#include "init.h"
#include "optimizer.h"
#include "trainer.h"
#include "testlib.h"

static const char yaml[] =
    "model:\n"
    "  arch: layers\n"
    "  input_size: 12\n"
    "  num_classes: 3\n"
    "  layers:\n"
    "    - {type: conv2d, out_channels: 6, kernel: 3, padding: 1}\n"
    "    - {type: relu}\n"                        /* after conv: in place */
    "    - {type: batchnorm2d}\n"
    "    - {type: relu}\n"                        /* after batchnorm: in place */
    "    - {type: local_response_norm, size: 3}\n"
    "    - {type: relu}\n"                        /* LRN reads its output: not in place */
    "    - {type: maxpool, kernel: 2}\n"
    "    - {type: flatten}\n"
    "    - {type: dropout, p: 0.3}\n"             /* after flatten: in place */
    "    - {type: linear, out_features: 16}\n"
    "    - {type: relu}\n"                        /* in place */
    "    - {type: dropout, p: 0.3}\n"             /* after an in-place relu: not */
    "    - {type: linear, out_features: 3}\n"
    "optimizer: {name: sgd, lr: 0.05, momentum: 0.9}\n";

typedef struct rig {
    experiment x;
    plugin_registry reg;
    network net;
    optimizer opt;
    trainer tr;
} rig;

static void rig_open(rig *r)
{
    strata_err err = {0};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/plugins/layers/.libs", getenv("STRATA_BUILDDIR"));
    setenv("STRATA_PLUGIN_PATH", dir, 1);
    char opt_dir[4096];
    snprintf(opt_dir, sizeof opt_dir, "%s/plugins/optimizers/.libs", getenv("STRATA_BUILDDIR"));
    plugins_init(&r->reg, opt_dir);
    ynode *root = yaml_load_string(yaml, "test.yaml", &err);
    ck_assert_msg(root && experiment_from_tree(root, "test.yaml", &r->x, &err) == 0, "%s", err.msg);
    ck_assert_msg(network_create(&r->net, &r->x.model, &r->reg, &err) == 0, "%s", err.msg);
    ck_assert_msg(network_alloc(&r->net, &err) == 0, "%s", err.msg);
    init_params(&r->net, INIT_PYTORCH, 7);
    ck_assert_msg(optimizer_create(&r->opt, &r->x.optimizer, 3, &r->reg, &err) == 0, "%s", err.msg);
    ck_assert_msg(optimizer_alloc(&r->opt, &r->net, &err) == 0, "%s", err.msg);
    ck_assert_msg(trainer_init(&r->tr, &r->net, 5, 1, 11, &err) == 0, "%s", err.msg);
}

static void rig_close(rig *r)
{
    trainer_free(&r->tr);
    optimizer_free(&r->opt);
    network_free(&r->net);
    experiment_free(&r->x);
    plugins_free(&r->reg);
}

/* Three training steps on fixed data; the parameters afterwards. */
static float *train(rig *r)
{
    int labels[5] = {0, 1, 2, 1, 0}, correct;
    size_t in = shape_size(r->net.input) * 5;
    for (int step = 0; step < 3; step++) {
        float *x = trainer_input(&r->tr);
        for (size_t i = 0; i < in; i++)
            x[i] = (float)((i * 7919 + step * 104729) % 1000) / 500.0f - 1.0f;
        double loss = trainer_train_step(&r->tr, &r->opt, labels, 5, 0.05, 0.0, &correct);
        ck_assert(loss > 0 && loss < 10);
    }
    float *p = malloc(r->net.total * sizeof *p);
    memcpy(p, r->net.param_mem, r->net.total * sizeof *p);
    return p;
}

START_TEST(test_inplace_plan)
{
    rig r;
    unsetenv("STRATA_NO_INPLACE");
    rig_open(&r);
    static const int expect[13] = {0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0};
    for (int i = 0; i < 13; i++)
        ck_assert_msg(r.tr.inplace[i] == expect[i], "layer %d (%s): inplace %d", i, r.net.layers[i].spec->type,
                      r.tr.inplace[i]);
    for (int i = 0; i < 13; i++)
        ck_assert((r.tr.acts[i + 1] == r.tr.acts[i]) == expect[i]);
    rig_close(&r);
}
END_TEST

START_TEST(test_inplace_same_training)
{
    rig a, b;
    unsetenv("STRATA_NO_INPLACE");
    rig_open(&a);
    float *pa = train(&a);
    setenv("STRATA_NO_INPLACE", "1", 1);
    rig_open(&b);
    float *pb = train(&b);
    unsetenv("STRATA_NO_INPLACE");
    for (int i = 0; i < 13; i++)
        ck_assert(!b.tr.inplace[i]);
    ck_assert_msg(a.tr.bytes < b.tr.bytes, "in place %zu bytes, separate %zu", a.tr.bytes, b.tr.bytes);
    ck_assert_int_eq(a.net.total, b.net.total);
    ck_assert(memcmp(pa, pb, a.net.total * sizeof *pa) == 0);
    free(pa);
    free(pb);
    rig_close(&a);
    rig_close(&b);
}
END_TEST

/* The arena shares memory between buffers that are never live together;
 * with every buffer live all step long (no sharing) training is the same,
 * bit for bit, and the shared plan is smaller. */
START_TEST(test_shared_arena_same_training)
{
    rig a, b;
    unsetenv("STRATA_NO_SHARE");
    rig_open(&a);
    float *pa = train(&a);
    setenv("STRATA_NO_SHARE", "1", 1);
    rig_open(&b);
    float *pb = train(&b);
    unsetenv("STRATA_NO_SHARE");
    ck_assert_msg(a.tr.plan.arena < b.tr.plan.arena, "shared %zu bytes, unshared %zu", a.tr.plan.arena,
                  b.tr.plan.arena);
    ck_assert(memcmp(pa, pb, a.net.total * sizeof *pa) == 0);
    /* the logits of an eval forward are the same too */
    int labels[5] = {0, 1, 2, 1, 0}, ca, cb;
    double la = trainer_eval_step(&a.tr, labels, 5, &ca), lb = trainer_eval_step(&b.tr, labels, 5, &cb);
    ck_assert(la == lb && ca == cb);
    free(pa);
    free(pb);
    rig_close(&a);
    rig_close(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trainer");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, test_inplace_plan);
    tcase_add_test(tc, test_inplace_same_training);
    tcase_add_test(tc, test_shared_arena_same_training);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
