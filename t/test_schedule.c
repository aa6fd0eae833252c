/* test_schedule.c — learning-rate schedules (core/train/schedule.c). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "train/early_stop.h"
#include "train/schedule.h"
#include "testlib.h"

static const double PI = 3.14159265358979323846;

#define ck_near(got, want) \
    ck_assert_msg(fabs((got) - (want)) <= 1e-12, "%s = %.17g, expected %.17g", #got, \
                  (double)(got), (double)(want))

START_TEST(test_constant)
{
    lr_schedule s = {.kind = SCHED_CONSTANT, .base_lr = 0.1};
    ck_assert_int_eq(schedule_check(&s, NULL), 0);
    ck_near(schedule_lr(&s, 0), 0.1);
    ck_near(schedule_lr(&s, 7), 0.1);
    ck_near(schedule_lr(&s, 1000), 0.1);
    ck_near(schedule_lr(&s, -3), 0.1);
}
END_TEST

START_TEST(test_step)
{
    lr_schedule s = {.kind = SCHED_STEP, .base_lr = 0.1, .step_size = 3, .gamma = 0.5};
    ck_assert_int_eq(schedule_check(&s, NULL), 0);
    ck_near(schedule_lr(&s, 0), 0.1);
    ck_near(schedule_lr(&s, 2), 0.1);
    ck_near(schedule_lr(&s, 3), 0.1 * 0.5);
    ck_near(schedule_lr(&s, 5), 0.1 * 0.5);
    ck_near(schedule_lr(&s, 6), 0.1 * 0.5 * 0.5);
    ck_near(schedule_lr(&s, 10), 0.1 * 0.5 * 0.5 * 0.5);
    s.step_size = 1;
    s.gamma = 0.1;
    ck_near(schedule_lr(&s, 2), 0.1 * 0.1 * 0.1);
}
END_TEST

START_TEST(test_cosine)
{
    lr_schedule s = {.kind = SCHED_COSINE, .base_lr = 0.1, .t_max = 10, .eta_min = 0.001};
    ck_assert_int_eq(schedule_check(&s, NULL), 0);
    ck_near(schedule_lr(&s, 0), 0.1);
    ck_near(schedule_lr(&s, 3), 0.001 + (0.1 - 0.001) * (1 + cos(PI * 3 / 10)) / 2);
    ck_near(schedule_lr(&s, 5), 0.001 + (0.1 - 0.001) * 0.5);
    ck_near(schedule_lr(&s, 10), 0.001);
    /* clamped past t_max (torch's recursive form would rise again) */
    ck_near(schedule_lr(&s, 11), 0.001);
    ck_near(schedule_lr(&s, 25), 0.001);
    s.eta_min = 0.0;
    ck_near(schedule_lr(&s, 5), 0.1 * 0.5);
    ck_near(schedule_lr(&s, 10), 0.0);
}
END_TEST

START_TEST(test_warmup)
{
    lr_schedule s = {.kind = SCHED_CONSTANT, .base_lr = 0.1, .warmup_epochs = 4,
                     .warmup_start_factor = 0.25};
    ck_assert_int_eq(schedule_check(&s, NULL), 0);
    ck_near(schedule_lr(&s, 0), 0.1 * 0.25);
    ck_near(schedule_lr(&s, 1), 0.1 * (0.25 + 0.75 * 1 / 4));
    ck_near(schedule_lr(&s, 3), 0.1 * (0.25 + 0.75 * 3 / 4));
    ck_near(schedule_lr(&s, 4), 0.1);
    ck_near(schedule_lr(&s, 9), 0.1);
    /* multiplied into the cosine schedule, epoch for epoch */
    s.kind = SCHED_COSINE;
    s.t_max = 8;
    s.eta_min = 0.0;
    ck_near(schedule_lr(&s, 2), 0.1 * (1 + cos(PI * 2 / 8)) / 2 * (0.25 + 0.75 * 2 / 4));
    ck_near(schedule_lr(&s, 6), 0.1 * (1 + cos(PI * 6 / 8)) / 2);
    /* and into the step schedule */
    s.kind = SCHED_STEP;
    s.step_size = 2;
    s.gamma = 0.1;
    ck_near(schedule_lr(&s, 3), 0.1 * 0.1 * (0.25 + 0.75 * 3 / 4));
    /* start factor 1: no warm-up effect */
    s.warmup_start_factor = 1.0;
    ck_near(schedule_lr(&s, 0), 0.1);
}
END_TEST

/* s fails schedule_check with a message starting with `field` and containing `what`. */
static void expect_bad(const lr_schedule *s, const char *field, const char *what)
{
    strata_err e = {0};
    ck_assert_int_eq(schedule_check(s, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    ck_assert_msg(strncmp(e.msg, field, strlen(field)) == 0, "'%s' does not name %s", e.msg, field);
    ck_assert_msg(strstr(e.msg, what) != NULL, "'%s' does not say '%s'", e.msg, what);
    ck_assert_int_eq(schedule_check(s, NULL), -1); /* NULL err is allowed */
}

START_TEST(test_check_errors)
{
    lr_schedule step = {.kind = SCHED_STEP, .base_lr = 0.1, .step_size = 3, .gamma = 0.5};
    lr_schedule cosine = {.kind = SCHED_COSINE, .base_lr = 0.1, .t_max = 10};
    lr_schedule s;
    strata_err e = {0};

    s = step; s.step_size = 0;
    ck_assert_int_eq(schedule_check(&s, &e), -1);
    ck_assert_str_eq(e.msg, "schedule.step_size: expected an integer >= 1, got 0");
    s = step; s.step_size = -2;   expect_bad(&s, "schedule.step_size:", "got -2");
    s = step; s.gamma = 0.0;      expect_bad(&s, "schedule.gamma:", "> 0");
    s = step; s.gamma = -0.5;     expect_bad(&s, "schedule.gamma:", "got -0.5");
    s = step; s.gamma = NAN;      expect_bad(&s, "schedule.gamma:", "> 0");
    s = step; s.base_lr = 0.0;    expect_bad(&s, "schedule.base_lr:", "> 0");
    s = step; s.base_lr = -1.0;   expect_bad(&s, "schedule.base_lr:", "> 0");
    s = step; s.base_lr = INFINITY; expect_bad(&s, "schedule.base_lr:", "> 0");
    s = cosine; s.t_max = 0;      expect_bad(&s, "schedule.t_max:", "integer >= 1, got 0");
    s = cosine; s.eta_min = -0.1; expect_bad(&s, "schedule.eta_min:", ">= 0");
    s = cosine; s.warmup_epochs = -1; expect_bad(&s, "schedule.warmup_epochs:", ">= 0");
    s = cosine; s.warmup_epochs = 3; s.warmup_start_factor = 0.0;
    expect_bad(&s, "schedule.warmup_start_factor:", "(0, 1]");
    s = cosine; s.warmup_epochs = 3; s.warmup_start_factor = 1.5;
    expect_bad(&s, "schedule.warmup_start_factor:", "got 1.5");
    s = cosine; s.kind = (sched_kind)7; expect_bad(&s, "schedule.kind:", "constant, step, cosine or plateau");

    /* fields of other kinds are not checked: a constant schedule with zero
     * step_size and t_max is valid, as is a zero start factor without warm-up */
    lr_schedule c = {.kind = SCHED_CONSTANT, .base_lr = 0.1};
    ck_assert_int_eq(schedule_check(&c, &e), 0);
    s = cosine; s.warmup_start_factor = 0.0;
    ck_assert_int_eq(schedule_check(&s, &e), 0);
    s = cosine; s.warmup_epochs = 3; s.warmup_start_factor = 1.0;
    ck_assert_int_eq(schedule_check(&s, &e), 0);
}
END_TEST

START_TEST(test_kind_names)
{
    sched_kind k;
    const sched_kind all[] = {SCHED_CONSTANT, SCHED_STEP, SCHED_COSINE, SCHED_PLATEAU};
    const char *names[] = {"constant", "step", "cosine", "plateau"};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(schedule_kind_name(all[i]), names[i]);
        k = (sched_kind)-1;
        ck_assert_int_eq(schedule_kind_parse(names[i], &k), 0);
        ck_assert_int_eq(k, all[i]);
    }
    k = SCHED_STEP;
    ck_assert_int_eq(schedule_kind_parse("linear", &k), -1);
    ck_assert_int_eq(schedule_kind_parse("Cosine", &k), -1);
    ck_assert_int_eq(schedule_kind_parse("", &k), -1);
    ck_assert_int_eq(schedule_kind_parse(NULL, &k), -1);
    ck_assert_int_eq(k, SCHED_STEP); /* untouched on failure */
    ck_assert_ptr_null(schedule_kind_name((sched_kind)4));
    ck_assert_ptr_null(schedule_kind_name((sched_kind)-1));
}
END_TEST

/* ReduceLROnPlateau (mode min, threshold_mode rel), stepped by hand: the
 * expected lr after each step is worked out in the comments, from torch's
 * rules (better: v < best * (1 - threshold); reduce when num_bad_epochs >
 * patience; cooldown epochs do not count; never below min_lr; a change
 * smaller than eps is skipped). */
START_TEST(test_plateau_min_rel)
{
    lr_schedule s = {.kind = SCHED_PLATEAU, .base_lr = 0.1, .factor = 0.5, .patience = 1, .threshold = 0.1,
                     .cooldown = 1, .min_lr = 0.02, .eps = 1e-8};
    schedule_plateau_reset(&s);
    ck_assert_int_eq(schedule_check(&s, NULL), 0);
    static const struct { double v, lr; int reduced, bad, cooldown; } steps[] = {
        {1.00, 0.1, 0, 0, 0},    /* best inf -> 1.0 */
        {0.95, 0.1, 0, 1, 0},    /* not < 0.9: bad 1 (<= patience) */
        {0.89, 0.1, 0, 0, 0},    /* < 0.9: best 0.89 */
        {0.89, 0.1, 0, 1, 0},    /* bad 1 */
        {0.88, 0.05, 1, 0, 1},   /* not < 0.801: bad 2 > 1: lr * 0.5, cooldown 1 */
        {0.87, 0.05, 0, 0, 0},   /* bad 1, but in cooldown: cleared, cooldown 0 */
        {0.87, 0.05, 0, 1, 0},   /* bad 1 */
        {0.87, 0.025, 1, 0, 1},  /* bad 2: lr * 0.5 */
        {0.50, 0.025, 0, 0, 0},  /* better: best 0.5; cooldown ends */
        {0.60, 0.025, 0, 1, 0},
        {0.60, 0.02, 1, 0, 1},   /* 0.0125 clamped to min_lr */
        {0.60, 0.02, 0, 0, 0},   /* cooldown */
        {0.60, 0.02, 0, 1, 0},
        {0.60, 0.02, 0, 0, 1},   /* at min_lr: no change (0 <= eps), cooldown again */
    };
    for (int i = 0; i < (int)(sizeof steps / sizeof steps[0]); i++) {
        int reduced = schedule_plateau_step(&s, steps[i].v);
        ck_assert_msg(reduced == steps[i].reduced, "step %d: reduced %d", i + 1, reduced);
        ck_near(s.plateau.lr, steps[i].lr);
        ck_near(schedule_lr(&s, i + 1), steps[i].lr);
        ck_assert_int_eq(s.plateau.num_bad_epochs, steps[i].bad);
        ck_assert_int_eq(s.plateau.cooldown_counter, steps[i].cooldown);
    }
    ck_near(s.plateau.best, 0.5);
}
END_TEST

/* mode max (val_acc), threshold_mode abs, patience 0. */
START_TEST(test_plateau_max_abs)
{
    lr_schedule s = {.kind = SCHED_PLATEAU, .base_lr = 0.1, .factor = 0.1, .patience = 0, .threshold = 0.01,
                     .threshold_abs = 1, .maximize = 1, .eps = 1e-8};
    schedule_plateau_reset(&s);
    ck_assert(isinf(s.plateau.best) && s.plateau.best < 0);
    ck_near(schedule_lr(&s, 0), 0.1);
    ck_assert_int_eq(schedule_plateau_step(&s, 0.5), 0);   /* best 0.5 */
    ck_assert_int_eq(schedule_plateau_step(&s, 0.505), 1); /* not > 0.51: bad 1 > 0 */
    ck_near(schedule_lr(&s, 2), 0.01);
    ck_assert_int_eq(schedule_plateau_step(&s, 0.52), 0);  /* > 0.51 */
    ck_near(s.plateau.best, 0.52);
    ck_near(schedule_lr(&s, 3), 0.01);
    /* other kinds ignore the step */
    lr_schedule c = {.kind = SCHED_CONSTANT, .base_lr = 0.1};
    ck_assert_int_eq(schedule_plateau_step(&c, 1.0), 0);
    /* bad options */
    s.factor = 1.0;
    ck_assert_int_eq(schedule_check(&s, NULL), -1);
    s.factor = 0.5;
    s.patience = -1;
    ck_assert_int_eq(schedule_check(&s, NULL), -1);
}
END_TEST

/* Early stopping: min_delta, patience, ties, a NaN, the reason. */
START_TEST(test_early_stop)
{
    early_stop_cfg c = {.enabled = 1, .monitor = MONITOR_VAL_LOSS, .patience = 2, .min_delta = 0.01};
    early_stop_state st = {0};
    ck_assert_int_eq(early_stop_update(&c, &st, 1, 1.0), 0);   /* first: best */
    ck_assert_int_eq(early_stop_update(&c, &st, 2, 0.995), 0); /* not < 0.99: bad 1 */
    ck_assert_int_eq(st.bad_epochs, 1);
    ck_assert_int_eq(early_stop_update(&c, &st, 3, 0.98), 0);  /* < 0.99: best */
    ck_assert_int_eq(st.bad_epochs, 0);
    ck_assert_int_eq(early_stop_update(&c, &st, 4, 0.975), 0); /* bad 1 */
    ck_assert_int_eq(early_stop_update(&c, &st, 5, 0.99), 1);  /* bad 2: stop */
    char why[256];
    early_stop_reason(&c, &st, why, sizeof why);
    ck_assert_str_eq(why, "early stopping: val_loss did not improve by 0.01 for 2 epochs (best 0.9800 at epoch 3)");

    early_stop_cfg a = {.enabled = 1, .monitor = MONITOR_VAL_ACC, .patience = 1};
    early_stop_state sa = {0};
    ck_assert_int_eq(early_stop_update(&a, &sa, 1, 0.5), 0);
    ck_assert_int_eq(early_stop_update(&a, &sa, 2, 0.5), 1); /* a tie is no improvement */
    ck_assert_int_eq(sa.best_epoch, 1);

    early_stop_cfg off = {.enabled = 0, .monitor = MONITOR_VAL_LOSS, .patience = 1};
    early_stop_state so = {0};
    for (int e = 1; e <= 5; e++)
        ck_assert_int_eq(early_stop_update(&off, &so, e, 1.0), 0);

    ck_assert_int_eq(monitor_improves(MONITOR_VAL_LOSS, NAN, 1.0, 0.0), 0);
    ck_assert_int_eq(monitor_improves(MONITOR_VAL_ACC, NAN, 0.0, 0.0), 0);
    epoch_row row = {.val_loss = 0.25, .val_acc = 0.75};
    ck_near(monitor_value(MONITOR_VAL_LOSS, &row), 0.25);
    ck_near(monitor_value(MONITOR_VAL_ACC, &row), 0.75);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("schedule",
        {.name = "core",
         .tests = TESTS(test_constant, test_step, test_cosine, test_warmup, test_check_errors, test_kind_names,
                         test_plateau_min_rel, test_plateau_max_abs, test_early_stop)});
}
