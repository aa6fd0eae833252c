/* test_optimizers.c — the sgd, adam and adamw plugins: updates against
 * hand-computed values and PyTorch 1.13, option errors, slots. */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/yaml_tree.h"
#include "fake_host.h"
#include "train/optimizer.h"
#include "testlib.h"

/* ---- helpers ------------------------------------------------------------ */

static const strata_optimizer_ops *load(const char *name)
{
    const strata_plugin *p = fake_load_builtin("optimizers", name);
    ck_assert_msg(p != NULL, "cannot load optimizer %s", name);
    ck_assert_int_eq(p->kind, STRATA_PLUGIN_OPTIMIZER);
    ck_assert_str_eq(p->name, name);
    ck_assert_ptr_nonnull(p->optimizer);
    return p->optimizer;
}

/* Create `name` from options kv; all keys must be read and valid. */
static void *make(const strata_optimizer_ops *ops, const char *const *kv)
{
    strata_opts *o = fake_opts(kv);
    void *opt = ops->create(&fake_host, o);
    ck_assert_msg(opt != NULL, "create failed: %s", fake_opts_error(o));
    ck_assert_ptr_null(fake_opts_error(o));
    ck_assert_msg(fake_opts_unused(o) == NULL, "key never read: %s", fake_opts_unused(o));
    fake_opts_free(o);
    return opt;
}

/* Creating `name` from kv fails with a message about `key` containing `what`. */
static void expect_error(const char *name, const char *const *kv, const char *key,
                         const char *what)
{
    const strata_optimizer_ops *ops = load(name);
    strata_opts *o = fake_opts(kv);
    void *opt = ops->create(&fake_host, o);
    const char *err = fake_opts_error(o);
    ck_assert_msg(opt == NULL, "%s: create accepted bad options (key %s)", name, key);
    ck_assert_msg(err != NULL, "%s: no error message (key %s)", name, key);
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s: ", key);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' does not name %s", err, key);
    ck_assert_msg(strstr(err, what) != NULL, "'%s' does not say '%s'", err, what);
    ck_assert_msg(strchr(err, '\n') == NULL, "multi-line message '%s'", err);
    fake_opts_free(o);
}

#define ck_near(got, want, tol) \
    ck_assert_msg(fabs((double)(got) - (double)(want)) <= (tol), \
                  "%s = %.9g, expected %.9g", #got, (double)(got), (double)(want))

/* Tolerance of a float result of a few operations against a double formula. */
#define TOL 1e-6

/* ---- plugin descriptors ------------------------------------------------- */

START_TEST(test_abi_mismatch)
{
    const char *names[] = {"sgd", "adam", "adamw"};
    const char *b = getenv("STRATA_BUILDDIR");
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/plugins/optimizers/.libs/%s.so", b ? b : ".", names[i]);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        ck_assert_msg(h != NULL, "%s", dlerror());
        strata_plugin_entry_fn entry = (strata_plugin_entry_fn)dlsym(h, STRATA_PLUGIN_ENTRY_NAME);
        ck_assert_ptr_nonnull(entry);
        /* the descriptor whatever the host speaks: the host compares */
        const strata_plugin *p = entry(STRATA_ABI_VERSION + 1);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(p->abi_version, STRATA_ABI_VERSION);
        ck_assert_ptr_eq(entry(STRATA_ABI_VERSION), p);
        ck_assert_uint_eq(p->optimizer->struct_size, sizeof(strata_optimizer_ops));
        dlclose(h);
    }
}
END_TEST

/* ---- SGD: hand-computed -------------------------------------------------- */

START_TEST(test_sgd_plain)
{
    const strata_optimizer_ops *ops = load("sgd");
    void *opt = make(ops, (const char *[]){NULL});
    ck_assert_int_eq(ops->num_slots(opt), 0);
    float p[2] = {1.0f, -2.0f};
    ops->update(opt, 1, 0.1, 2, p, (const float[]){0.5f, 0.25f}, NULL);
    ck_near(p[0], 1.0 - 0.1 * 0.5, TOL);
    ck_near(p[1], -2.0 - 0.1 * 0.25, TOL);
    /* the lr passed in (the schedule's) is used, not the configured one */
    ops->update(opt, 2, 0.01, 2, p, (const float[]){-3.0f, 1.0f}, NULL);
    ck_near(p[0], 1.0 - 0.1 * 0.5 - 0.01 * -3.0, TOL);
    ck_near(p[1], -2.0 - 0.1 * 0.25 - 0.01 * 1.0, TOL);
    ops->destroy(opt);
}
END_TEST

START_TEST(test_sgd_momentum)
{
    const strata_optimizer_ops *ops = load("sgd");
    void *opt = make(ops, (const char *[]){"momentum=0.9", NULL});
    ck_assert_int_eq(ops->num_slots(opt), 1);
    ck_assert_str_eq(ops->slot_name(opt, 0), "momentum_buffer");
    ck_assert_ptr_null(ops->slot_name(opt, 1));
    float p[1] = {1.0f};
    float buf[1] = {7.0f}; /* step 1 must overwrite whatever is in the buffer */
    float *slots[1] = {buf};
    ops->update(opt, 1, 0.1, 1, p, (const float[]){0.5f}, slots);
    ck_near(buf[0], 0.5, TOL);
    ck_near(p[0], 1.0 - 0.1 * 0.5, TOL);
    ops->update(opt, 2, 0.1, 1, p, (const float[]){0.2f}, slots);
    ck_near(buf[0], 0.9 * 0.5 + 0.2, TOL);
    ck_near(p[0], 1.0 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.2), TOL);
    ops->update(opt, 3, 0.1, 1, p, (const float[]){-1.0f}, slots);
    ck_near(buf[0], 0.9 * (0.9 * 0.5 + 0.2) - 1.0, TOL);
    ck_near(p[0], 1.0 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.2) - 0.1 * (0.9 * (0.9 * 0.5 + 0.2) - 1.0),
            TOL);
    ops->destroy(opt);
}
END_TEST

START_TEST(test_sgd_dampening)
{
    const strata_optimizer_ops *ops = load("sgd");
    void *opt = make(ops, (const char *[]){"momentum=0.9", "dampening=0.5", NULL});
    float p[1] = {1.0f}, buf[1] = {0.0f};
    float *slots[1] = {buf};
    /* step 1: buf = g, undamped (PyTorch clones the gradient) */
    ops->update(opt, 1, 0.1, 1, p, (const float[]){0.5f}, slots);
    ck_near(buf[0], 0.5, TOL);
    ck_near(p[0], 1.0 - 0.1 * 0.5, TOL);
    /* step 2: buf = 0.9*buf + (1 - 0.5)*g */
    ops->update(opt, 2, 0.1, 1, p, (const float[]){0.2f}, slots);
    ck_near(buf[0], 0.9 * 0.5 + 0.5 * 0.2, TOL);
    ck_near(p[0], 1.0 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.5 * 0.2), TOL);
    ops->destroy(opt);
}
END_TEST

START_TEST(test_sgd_nesterov)
{
    const strata_optimizer_ops *ops = load("sgd");
    void *opt = make(ops, (const char *[]){"momentum=0.9", "nesterov=true", NULL});
    float p[1] = {1.0f}, buf[1] = {0.0f};
    float *slots[1] = {buf};
    /* step 1: buf = 0.5; d = 0.5 + 0.9*0.5 */
    ops->update(opt, 1, 0.1, 1, p, (const float[]){0.5f}, slots);
    ck_near(p[0], 1.0 - 0.1 * (0.5 + 0.9 * 0.5), TOL);
    /* step 2: buf = 0.9*0.5 + 0.2; d = 0.2 + 0.9*buf */
    ops->update(opt, 2, 0.1, 1, p, (const float[]){0.2f}, slots);
    ck_near(buf[0], 0.9 * 0.5 + 0.2, TOL);
    ck_near(p[0], 1.0 - 0.1 * (0.5 + 0.9 * 0.5) - 0.1 * (0.2 + 0.9 * (0.9 * 0.5 + 0.2)), TOL);
    ops->destroy(opt);
}
END_TEST

START_TEST(test_sgd_weight_decay)
{
    const strata_optimizer_ops *ops = load("sgd");
    void *opt = make(ops, (const char *[]){"weight_decay=0.01", NULL});
    float p[2] = {1.0f, -4.0f};
    ops->update(opt, 1, 0.1, 2, p, (const float[]){0.5f, 0.0f}, NULL);
    ck_near(p[0], 1.0 - 0.1 * (0.5 + 0.01 * 1.0), TOL);
    ck_near(p[1], -4.0 - 0.1 * (0.0 + 0.01 * -4.0), TOL);
    ops->destroy(opt);

    /* with momentum, the decayed gradient goes into the buffer */
    opt = make(ops, (const char *[]){"weight_decay=0.01", "momentum=0.5", NULL});
    float q[1] = {2.0f}, buf[1] = {0.0f};
    float *slots[1] = {buf};
    ops->update(opt, 1, 0.1, 1, q, (const float[]){1.0f}, slots);
    ck_near(buf[0], 1.0 + 0.01 * 2.0, TOL);
    ck_near(q[0], 2.0 - 0.1 * (1.0 + 0.01 * 2.0), TOL);
    ops->destroy(opt);
}
END_TEST

/* ---- Adam / AdamW: hand-computed ----------------------------------------- */

START_TEST(test_adam_defaults_and_slots)
{
    const strata_optimizer_ops *ops = load("adam");
    void *opt = make(ops, (const char *[]){NULL});
    ck_assert_int_eq(ops->num_slots(opt), 2);
    ck_assert_str_eq(ops->slot_name(opt, 0), "exp_avg");
    ck_assert_str_eq(ops->slot_name(opt, 1), "exp_avg_sq");
    ck_assert_ptr_null(ops->slot_name(opt, 2));
    ck_assert_ptr_null(ops->slot_name(opt, -1));
    ops->destroy(opt);

    opt = make(ops, (const char *[]){"amsgrad=true", NULL});
    ck_assert_int_eq(ops->num_slots(opt), 3);
    ck_assert_str_eq(ops->slot_name(opt, 2), "max_exp_avg_sq");
    ck_assert_ptr_null(ops->slot_name(opt, 3));
    ops->destroy(opt);

    ops = load("adamw");
    opt = make(ops, (const char *[]){NULL});
    ck_assert_int_eq(ops->num_slots(opt), 2);
    ck_assert_str_eq(ops->slot_name(opt, 0), "exp_avg");
    ck_assert_str_eq(ops->slot_name(opt, 1), "exp_avg_sq");
    ops->destroy(opt);
}
END_TEST

START_TEST(test_adam_two_steps)
{
    const strata_optimizer_ops *ops = load("adam");
    void *opt = make(ops, (const char *[]){NULL});
    float p[2] = {1.0f, -1.0f}, m[2] = {0}, v[2] = {0};
    float *slots[2] = {m, v};
    /* step 1, betas (0.9, 0.999): the bias-corrected step is lr*g/|g| */
    ops->update(opt, 1, 0.01, 2, p, (const float[]){0.5f, -2.0f}, slots);
    ck_near(m[0], (1 - 0.9) * 0.5, 1e-8);
    ck_near(v[0], (1 - 0.999) * 0.5 * 0.5, 1e-9);
    double p0 = 1.0 - 0.01 / (1 - 0.9) * ((1 - 0.9) * 0.5) /
                          (sqrt((1 - 0.999) * 0.25) / sqrt(1 - 0.999) + 1e-8);
    double p1 = -1.0 - 0.01 / (1 - 0.9) * ((1 - 0.9) * -2.0) /
                           (sqrt((1 - 0.999) * 4.0) / sqrt(1 - 0.999) + 1e-8);
    ck_near(p[0], p0, TOL);
    ck_near(p[1], p1, TOL);
    ck_near(p[0], 1.0 - 0.01, 1e-6); /* the well-known first Adam step */
    /* step 2, gradient 0.1 and 0.0 */
    ops->update(opt, 2, 0.01, 2, p, (const float[]){0.1f, 0.0f}, slots);
    double m0 = 0.9 * (0.1 * 0.5) + 0.1 * 0.1, v0 = 0.999 * (0.001 * 0.25) + 0.001 * 0.01;
    double m1 = 0.9 * (0.1 * -2.0) + 0.1 * 0.0, v1 = 0.999 * (0.001 * 4.0) + 0.0;
    ck_near(m[0], m0, 1e-8);
    ck_near(v[0], v0, 1e-9);
    ck_near(p[0], p0 - 0.01 / (1 - 0.9 * 0.9) * m0 / (sqrt(v0) / sqrt(1 - 0.999 * 0.999) + 1e-8),
            TOL);
    ck_near(p[1], p1 - 0.01 / (1 - 0.9 * 0.9) * m1 / (sqrt(v1) / sqrt(1 - 0.999 * 0.999) + 1e-8),
            TOL);
    ops->destroy(opt);
}
END_TEST

START_TEST(test_adam_betas_eps)
{
    const strata_optimizer_ops *ops = load("adam");
    void *opt = make(ops, (const char *[]){"betas=[0.5, 0.75]", "eps=0.25", NULL});
    float p[1] = {1.0f}, m[1] = {0}, v[1] = {0};
    float *slots[2] = {m, v};
    ops->update(opt, 1, 0.1, 1, p, (const float[]){2.0f}, slots);
    /* m = 0.5*2; v = 0.25*4; denom = sqrt(1)/sqrt(0.25) + 0.25 */
    ck_near(p[0], 1.0 - 0.1 / 0.5 * (0.5 * 2.0) / (sqrt(0.25 * 4.0) / sqrt(0.25) + 0.25), TOL);
    ops->destroy(opt);
}
END_TEST

START_TEST(test_adam_l2_vs_adamw_decoupled)
{
    /* Adam: g = 0.5 + 0.1*1.0 = 0.6 feeds the moments */
    const strata_optimizer_ops *ops = load("adam");
    void *opt = make(ops, (const char *[]){"weight_decay=0.1", NULL});
    float p[1] = {1.0f}, m[1] = {0}, v[1] = {0};
    float *slots[2] = {m, v};
    ops->update(opt, 1, 0.01, 1, p, (const float[]){0.5f}, slots);
    ck_near(m[0], 0.1 * (0.5 + 0.1 * 1.0), 1e-8);
    ck_near(p[0], 1.0 - 0.01 / 0.1 * (0.1 * 0.6) / (sqrt(0.001 * 0.36) / sqrt(0.001) + 1e-8), TOL);
    ops->destroy(opt);

    /* AdamW: p = 1.0*(1 - 0.01*0.1), then the plain Adam step on g = 0.5 */
    ops = load("adamw");
    opt = make(ops, (const char *[]){"weight_decay=0.1", NULL});
    p[0] = 1.0f; m[0] = v[0] = 0.0f;
    ops->update(opt, 1, 0.01, 1, p, (const float[]){0.5f}, slots);
    ck_near(m[0], 0.1 * 0.5, 1e-8);
    ck_near(p[0], 1.0 * (1 - 0.01 * 0.1) -
                      0.01 / 0.1 * (0.1 * 0.5) / (sqrt(0.001 * 0.25) / sqrt(0.001) + 1e-8), TOL);
    ops->destroy(opt);

    /* AdamW's default weight_decay is 0.01, with the scheduled lr: zero
     * gradient leaves only the decay, p = 2*(1 - 0.5*0.01) */
    opt = make(ops, (const char *[]){NULL});
    p[0] = 2.0f; m[0] = v[0] = 0.0f;
    ops->update(opt, 1, 0.5, 1, p, (const float[]){0.0f}, slots);
    ck_near(p[0], 2.0 * (1 - 0.5 * 0.01), TOL);
    ops->destroy(opt);

    /* Adam's default weight_decay is 0: zero gradient leaves p alone */
    ops = load("adam");
    opt = make(ops, (const char *[]){NULL});
    p[0] = 2.0f; m[0] = v[0] = 0.0f;
    ops->update(opt, 1, 0.5, 1, p, (const float[]){0.0f}, slots);
    ck_assert_float_eq(p[0], 2.0f);
    ops->destroy(opt);
}
END_TEST

START_TEST(test_adam_amsgrad)
{
    const strata_optimizer_ops *ops = load("adam");
    void *opt = make(ops, (const char *[]){"betas=[0.5, 0.5]", "amsgrad=true", NULL});
    float p[1] = {1.0f}, m[1] = {0}, v[1] = {0}, vmax[1] = {0};
    float *slots[3] = {m, v, vmax};
    ops->update(opt, 1, 0.1, 1, p, (const float[]){1.0f}, slots);
    ck_near(vmax[0], 0.5 * 1.0, 1e-8);
    double p1 = 1.0 - 0.1 / 0.5 * (0.5 * 1.0) / (sqrt(0.5) / sqrt(0.5) + 1e-8);
    ck_near(p[0], p1, TOL);
    /* step 2: v = 0.5*0.5 + 0.5*0.01 = 0.255 drops below vmax = 0.5, which is used */
    ops->update(opt, 2, 0.1, 1, p, (const float[]){0.1f}, slots);
    ck_near(v[0], 0.5 * 0.5 + 0.5 * 0.1 * 0.1, 1e-7);
    ck_near(vmax[0], 0.5, 1e-8);
    double m2 = 0.5 * 0.5 + 0.5 * 0.1;
    ck_near(p[0], p1 - 0.1 / (1 - 0.5 * 0.5) * m2 / (sqrt(0.5) / sqrt(1 - 0.5 * 0.5) + 1e-8), TOL);
    ops->destroy(opt);
}
END_TEST

/* ---- against PyTorch 1.13 ----------------------------------------------- */

/* Output of `/usr/bin/python3 t/ref/optim_ref.py` (torch 1.13.0a0): three
 * steps from P0 with GRADS, the lr of step 3 set to 0.05 (see the script).
 * Agreement is to 1 ulp (torch's vectorised add uses fused multiply-add);
 * the tolerance, 5e-7, is about 4 ulps at 2.0. */
static const float ref_sgd_nesterov_wd[4] = {0.483148158f, -1.28237593f, 1.93391192f, 0.065701969f};
static const float ref_sgd_damp[4] = {0.484400004f, -1.25029993f, 1.95389998f, 0.0638000071f};
static const float ref_adam_wd_amsgrad[4] = {0.48893252f, -1.23938072f, 1.94674456f, -0.000560708344f};
static const float ref_adamw[4] = {0.494651437f, -1.25574911f, 1.95982242f, 0.00437829271f};

static void run_ref(const char *name, const char *const *kv, double lr, const float want[4])
{
    static const float grads[3][4] = {
        {0.1f, -0.2f, 0.3f, -0.4f}, {0.05f, 0.4f, -0.25f, 0.0f}, {-0.3f, 0.1f, 0.2f, 0.6f}};
    const strata_optimizer_ops *ops = load(name);
    void *opt = make(ops, kv);
    float p[4] = {0.5f, -1.25f, 2.0f, 0.0f};
    float slot_mem[3][4] = {{0}};
    float *slots[3] = {slot_mem[0], slot_mem[1], slot_mem[2]};
    for (int t = 1; t <= 3; t++)
        ops->update(opt, t, t == 3 ? 0.05 : lr, 4, p, grads[t - 1], slots);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(fabsf(p[i] - want[i]) <= 5e-7f, "%s: p[%d] = %.9g, torch %.9g", name, i,
                      p[i], want[i]);
    ops->destroy(opt);
}

START_TEST(test_torch_reference)
{
    run_ref("sgd", (const char *[]){"momentum=0.9", "nesterov=true", "weight_decay=0.01", NULL},
            0.1, ref_sgd_nesterov_wd);
    run_ref("sgd", (const char *[]){"momentum=0.8", "dampening=0.3", NULL}, 0.1,
            ref_sgd_damp);
    run_ref("adam",
            (const char *[]){"betas=[0.8, 0.9]", "eps=1e-6", "weight_decay=0.1",
                             "amsgrad=true", NULL},
            0.01, ref_adam_wd_amsgrad);
    run_ref("adamw", (const char *[]){"weight_decay=0.1", NULL}, 0.01, ref_adamw);
}
END_TEST

/* ---- the host's lr (train/optimizer.c) ----------------------------------- */

/* optimizer_create for `name` from the YAML mapping text, plugins from reg
 * (the caller frees it after the optimizer); 0 or -1 (err). */
static int host_create(const char *name, const char *yaml, plugin_registry *reg, optimizer *opt,
                       strata_err *err)
{
    ynode *opts = yaml_load_string(yaml, "opt", err);
    ck_assert_msg(opts != NULL, "%s", err->msg);
    optimizer_cfg cfg = {name, opts, NULL};
    plugins_init(reg, NULL);
    int rc = optimizer_create(opt, &cfg, 10, reg, err);
    ynode_free(opts);
    return rc;
}

static void expect_lr(const char *name, const char *yaml, double lr)
{
    optimizer opt;
    plugin_registry reg;
    strata_err err = {0};
    ck_assert_msg(host_create(name, yaml, &reg, &opt, &err) == 0, "%s", err.msg);
    ck_assert_double_eq(opt.sched.base_lr, lr);
    optimizer_free(&opt);
    plugins_free(&reg);
}

static void expect_lr_error(const char *name, const char *yaml, const char *what)
{
    optimizer opt;
    plugin_registry reg;
    strata_err err = {0};
    ck_assert_msg(host_create(name, yaml, &reg, &opt, &err) != 0, "%s accepted '%s'", name, yaml);
    assert_has(err.msg, "optimizer.lr: ");
    assert_has(err.msg, what);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "multi-line message '%s'", err.msg);
    optimizer_free(&opt);
    plugins_free(&reg);
}

/* lr is the host's: the plugin's default_lr (Adam's 1e-3) or required
 * (SGD), a finite number > 0; the plugin never sees it. */
START_TEST(test_host_lr)
{
    expect_lr("sgd", "lr: 0.1", 0.1);
    expect_lr("adam", "{}", 1e-3);
    expect_lr("adamw", "lr: 0.5", 0.5);
    expect_lr_error("sgd", "momentum: 0.9", "required");
    expect_lr_error("sgd", "lr: 0", "> 0");
    expect_lr_error("sgd", "lr: -0.1", "> 0");
    expect_lr_error("sgd", "lr: .nan", "expected");
    expect_lr_error("sgd", "lr: 1e999", "expected");
    expect_lr_error("sgd", "lr: fast", "expected");
    expect_lr_error("adam", "lr: 0", "> 0");
    expect_lr_error("adamw", "lr: [0.1]", "expected");
}
END_TEST

/* ---- option errors ------------------------------------------------------ */

START_TEST(test_sgd_option_errors)
{
    expect_error("sgd", (const char *[]){"momentum=-0.5", NULL}, "momentum", ">= 0");
    expect_error("sgd", (const char *[]){"momentum=high", NULL}, "momentum", "expected");
    expect_error("sgd", (const char *[]){"momentum=0.9", "dampening=1.5", NULL},
                 "dampening", "0 to 1");
    expect_error("sgd", (const char *[]){"weight_decay=-1e-4", NULL}, "weight_decay",
                 ">= 0");
    expect_error("sgd", (const char *[]){"nesterov=true", NULL}, "nesterov",
                 "momentum > 0");
    expect_error("sgd",
                 (const char *[]){"momentum=0.9", "dampening=0.1", "nesterov=true", NULL},
                 "nesterov", "dampening = 0");
    expect_error("sgd", (const char *[]){"momentum=0.9", "nesterov=yes please", NULL},
                 "nesterov", "true or false");
}
END_TEST

START_TEST(test_adam_option_errors)
{
    const char *names[] = {"adam", "adamw"};
    for (int i = 0; i < 2; i++) {
        const char *n = names[i];
        expect_error(n, (const char *[]){"betas=[1.0, 0.999]", NULL}, "betas", "beta1 in [0, 1)");
        expect_error(n, (const char *[]){"betas=[0.9, -0.1]", NULL}, "betas", "beta2 in [0, 1)");
        expect_error(n, (const char *[]){"betas=[0.9, 1]", NULL}, "betas", "beta2 in [0, 1)");
        expect_error(n, (const char *[]){"betas=[0.9]", NULL}, "betas", "[beta1, beta2]");
        expect_error(n, (const char *[]){"betas=[0.9, 0.99, 0.999]", NULL}, "betas", "expected");
        expect_error(n, (const char *[]){"betas=0.9", NULL}, "betas", "expected");
        expect_error(n, (const char *[]){"betas=[0.9, high]", NULL}, "betas", "expected");
        expect_error(n, (const char *[]){"eps=-1e-8", NULL}, "eps", ">= 0");
        expect_error(n, (const char *[]){"eps=small", NULL}, "eps", "expected");
        expect_error(n, (const char *[]){"weight_decay=-0.01", NULL}, "weight_decay", ">= 0");
        expect_error(n, (const char *[]){"amsgrad=1", NULL}, "amsgrad", "true or false");
    }
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("optimizers",
        {.name = "core",
         .tests = TESTS(test_abi_mismatch, test_sgd_plain, test_sgd_momentum, test_sgd_dampening,
                        test_sgd_nesterov, test_sgd_weight_decay, test_adam_defaults_and_slots,
                        test_adam_two_steps, test_adam_betas_eps, test_adam_l2_vs_adamw_decoupled,
                        test_adam_amsgrad, test_torch_reference, test_sgd_option_errors,
                        test_adam_option_errors, test_host_lr)});
}
