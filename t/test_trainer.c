/* test_trainer.c — the training step's memory plan: layers that run in place
 * (ReLU, dropout) give bit-identical training to separate buffers, and use
 * less memory; the plan only aliases where the neighbours allow it. The
 * optimizer step split between threads gives the same result. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/experiment.h"
#include "common/parallel.h"
#include "model/init.h"
#include "train/optimizer.h"
#include "train/trainer.h"
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

/* The memory plan's test switches for the next rig_open. */
static trainer_hooks hooks;

static void rig_open_yaml(rig *r, const char *text)
{
    strata_err err = {0};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/plugins/layers/.libs", getenv("STRATA_BUILDDIR"));
    setenv("STRATA_PLUGIN_PATH", dir, 1);
    char opt_dir[4096];
    snprintf(opt_dir, sizeof opt_dir, "%s/plugins/optimizers/.libs", getenv("STRATA_BUILDDIR"));
    plugins_init(&r->reg, opt_dir);
    ynode *root = yaml_load_string(text, "test.yaml", &err);
    ck_assert_msg(root && experiment_from_tree(root, "test.yaml", &r->x, &err) == 0, "%s", err.msg);
    ck_assert_msg(network_create(&r->net, &r->x.model, &r->reg, &err) == 0, "%s", err.msg);
    ck_assert_msg(network_alloc(&r->net, &err) == 0, "%s", err.msg);
    init_params(&r->net, INIT_PYTORCH, 7);
    ck_assert_msg(optimizer_create(&r->opt, &r->x.optimizer, 3, &r->reg, &err) == 0, "%s", err.msg);
    ck_assert_msg(optimizer_alloc(&r->opt, &r->net, &err) == 0, "%s", err.msg);
    ck_assert_msg(trainer_init(&r->tr, &r->net, 5, 1, 11, &hooks, &err) == 0, "%s", err.msg);
}

static void rig_open(rig *r) { rig_open_yaml(r, yaml); }

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
    hooks.no_inplace = 0;
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

/* Every activation, gradient, saved and scratch buffer starts on a 64-byte
 * boundary (cache line and AVX-512 vector). */
START_TEST(test_buffers_aligned)
{
    rig r;
    rig_open(&r);
    int L = r.net.n_layers;
    for (int k = 0; k <= L; k++)
        ck_assert_msg((uintptr_t)r.tr.acts[k] % 64 == 0, "acts[%d] at %p", k, (void *)r.tr.acts[k]);
    for (int k = 0; k < L; k++) {
        ck_assert_msg((uintptr_t)r.tr.grads[k] % 64 == 0, "grads[%d] at %p", k, (void *)r.tr.grads[k]);
        ck_assert((uintptr_t)r.tr.saved[k] % 64 == 0);
    }
    ck_assert((uintptr_t)r.tr.scratch % 64 == 0);
    rig_close(&r);
}
END_TEST

START_TEST(test_inplace_same_training)
{
    rig a, b;
    hooks.no_inplace = 0;
    rig_open(&a);
    float *pa = train(&a);
    hooks.no_inplace = 1;
    rig_open(&b);
    float *pb = train(&b);
    hooks.no_inplace = 0;
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
    hooks.no_share = 0;
    rig_open(&a);
    float *pa = train(&a);
    hooks.no_share = 1;
    rig_open(&b);
    float *pb = train(&b);
    hooks.no_share = 0;
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

/* The optimizer's update is element-wise, so the host cuts the flat
 * parameter memory into one range per thread, across tensor boundaries:
 * any thread count gives the same parameters and optimizer state, bit for
 * bit. A network of 400k parameters (the cut needs >= 64k a thread), with
 * adam and sgd + momentum, 3 steps of fixed gradients. */
static const char wide_yaml[] =
    "model:\n"
    "  arch: layers\n"
    "  input_size: 16\n"
    "  num_classes: 5\n"
    "  layers:\n"
    "    - {type: flatten}\n"
    "    - {type: linear, out_features: 500}\n"
    "    - {type: linear, out_features: 5}\n";

static void optimizer_steps(rig *r, int threads)
{
    for (int step = 0; step < 3; step++) {
        for (size_t i = 0; i < r->net.total; i++)
            r->net.grad_mem[i] = (float)((i * 7919 + step * 104729) % 1000) / 500.0f - 1.0f;
        optimizer_step(&r->opt, &r->net, 0.01, threads);
    }
}

START_TEST(test_optimizer_threads_same_result)
{
    const char *opts[] = {"optimizer: {name: adam, lr: 0.01, weight_decay: 0.1}\n",
                          "optimizer: {name: sgd, lr: 0.01, momentum: 0.9, nesterov: true}\n"};
    for (int o = 0; o < 2; o++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s", wide_yaml, opts[o]);
        rig a, b;
        rig_open_yaml(&a, text);
        rig_open_yaml(&b, text);
        ck_assert_int_ge(a.net.total, 5 * 65536);
        float *p0 = malloc(a.net.total * sizeof *p0);
        memcpy(p0, a.net.param_mem, a.net.total * sizeof *p0);
        optimizer_steps(&a, 1);
        optimizer_steps(&b, 5);
        ck_assert(memcmp(a.net.param_mem, b.net.param_mem, a.net.total * sizeof(float)) == 0);
        ck_assert(memcmp(a.opt.slot_mem, b.opt.slot_mem,
                         (size_t)a.opt.n_slots * a.opt.total * sizeof(float)) == 0);
        size_t moved = 0; /* every element was updated, the last one too */
        for (size_t i = 0; i < a.net.total; i++)
            moved += a.net.param_mem[i] != p0[i];
        ck_assert_msg(moved == a.net.total, "%zu of %zu parameters moved", moved, a.net.total);
        free(p0);
        rig_close(&a);
        rig_close(&b);
    }
}
END_TEST

/* fork_join_range cuts [0, total) into contiguous parts that cover it once,
 * sizes differing by at most one; fork_join runs every share once. */
static void count_share(void *arg, int t, int threads)
{
    int *hits = arg;
    __atomic_add_fetch(&hits[t], 1, __ATOMIC_SEQ_CST);
    ck_assert_int_eq(threads, 7);
}

START_TEST(test_fork_join)
{
    size_t totals[] = {0, 1, 6, 7, 8, 100, 65537};
    for (int k = 0; k < 7; k++)
        for (int threads = 1; threads <= 9; threads++) {
            size_t next = 0, lo = (size_t)-1, hi = 0;
            for (int t = 0; t < threads; t++) {
                size_t b, e;
                fork_join_range(totals[k], t, threads, &b, &e);
                ck_assert_int_eq(b, next);
                ck_assert(e >= b);
                lo = e - b < lo ? e - b : lo, hi = e - b > hi ? e - b : hi;
                next = e;
            }
            ck_assert_int_eq(next, totals[k]);
            ck_assert(hi - lo <= 1);
        }
    int hits[7] = {0};
    fork_join(7, count_share, hits);
    for (int t = 0; t < 7; t++)
        ck_assert_int_eq(hits[t], 1);
    ck_assert_int_eq(fork_join_threads(1000, 4, 300), 3);
    ck_assert_int_eq(fork_join_threads(100, 4, 300), 1);
    ck_assert_int_eq(fork_join_threads(1 << 20, 2, 1 << 16), 2);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("trainer",
        {.name = "plan",
         .tests = TESTS(test_inplace_plan, test_buffers_aligned, test_inplace_same_training,
                        test_shared_arena_same_training, test_optimizer_threads_same_result, test_fork_join)});
}
