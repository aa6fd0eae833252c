/* test_scaling_model.c — the data-parallel scaling model
 * (core/train/scaling_model.c) against hand-computed cases, and `strata
 * bench --ranks/--link/--latency/--bucket-mb` (core/cli/bench_scaling.c):
 * its errors, and its tables against the model's formula. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "train/scaling_model.h"
#include "run_strata.h"
#include "testlib.h"

#define ck_near(got, want) \
    ck_assert_msg(fabs((got) - (want)) <= 1e-9 * (1 + fabs(want)), "%s = %.17g, expected %.17g", #got, \
                  (double)(got), (double)(want))

/* ---- the model ------------------------------------------------------------ */

START_TEST(ring_allreduce_by_hand)
{
    /* 0.01 Gbit/s = 1e7 bit/s: 1250 bytes take 1 ms; 2 ranks: 2(N-1)/N = 1 */
    ck_near(ring_allreduce_ms(2, 1250, 0.01, 0), 1.0);
    /* 4 ranks: 2*3/4 = 1.5 of it, plus 2*3 hops of 10 us */
    ck_near(ring_allreduce_ms(4, 1250, 0.01, 10), 1.5 + 0.06);
    /* 25 MiB over 10 Gbit/s on 8 ranks, 5 us: 1.75 * 26214400 * 8 / 1e10 s + 14 * 5 us */
    ck_near(ring_allreduce_ms(8, 26214400, 10, 5), 1.75 * 20.97152 + 0.07);
    /* one rank, or nothing to send: no exchange */
    ck_near(ring_allreduce_ms(1, 1e9, 10, 5), 0);
    ck_near(ring_allreduce_ms(4, 0, 10, 5), 0);
}
END_TEST

/* 4 layers of 1 ms forward and 2 ms backward, loss 0.5 ms, optimizer 1 ms;
 * gradient bytes per layer (forward order) as given. */
static scaling_layer four[4];
static scaling_step four_layers(double b0, double b1, double b2, double b3)
{
    double bytes[4] = {b0, b1, b2, b3};
    for (int i = 0; i < 4; i++)
        four[i] = (scaling_layer){.fwd_ms = 1, .bwd_ms = 2, .grad_bytes = bytes[i]};
    return (scaling_step){4, four, 0.5, 1};
}

START_TEST(buckets_overlap_backward)
{
    /* Forward + loss end at 4.5 ms. Backward from the top: layer 3 done at
     * 6.5 (1250 bytes < 2000: the bucket stays open), layer 2 at 8.5 (2500:
     * sent, 2 ms, 8.5 -> 10.5), layer 1 at 10.5 (no parameters), layer 0 at
     * 12.5 (3750 bytes: 3 ms, 12.5 -> 15.5). Step 15.5 + 1 = 16.5 against
     * 13.5 of compute: 3 ms exposed (the last bucket), 5 ms sent. */
    scaling_step s = four_layers(3750, 0, 1250, 1250);
    scaling_link l = {.gbit = 0.01, .latency_us = 0, .bucket_bytes = 2000, .bytes_scale = 1};
    scaling_result r = scaling_predict(&s, 2, &l);
    ck_assert_int_eq(r.ranks, 2);
    ck_assert_int_eq(r.buckets, 2);
    ck_near(r.grad_bytes, 6250);
    ck_near(r.compute_ms, 13.5);
    ck_near(r.comm_ms, 5);
    ck_near(r.exposed_ms, 3);
    ck_near(r.step_ms, 16.5);
}
END_TEST

START_TEST(buckets_queue_on_one_link)
{
    /* One bucket per layer with gradients. Layer 3 (12500 bytes, 10 ms) is
     * sent 6.5 -> 16.5; layer 2, ready at 8.5, waits for the link: 16.5 ->
     * 17.5; layer 0, ready at 12.5: 17.5 -> 20.5. Step 21.5, exposed 8. */
    scaling_step s = four_layers(3750, 0, 1250, 12500);
    scaling_link l = {.gbit = 0.01, .latency_us = 0, .bucket_bytes = 1, .bytes_scale = 1};
    scaling_result r = scaling_predict(&s, 2, &l);
    ck_assert_int_eq(r.buckets, 3);
    ck_near(r.compute_ms, 13.5);
    ck_near(r.comm_ms, 14);
    ck_near(r.exposed_ms, 8);
    ck_near(r.step_ms, 21.5);
    /* latency: each of the 3 buckets pays 2(N-1) = 2 hops of 250 us */
    l.latency_us = 250;
    r = scaling_predict(&s, 2, &l);
    ck_near(r.comm_ms, 14 + 3 * 0.5);
    ck_near(r.step_ms, 21.5 + 3 * 0.5);
}
END_TEST

START_TEST(fp16_halves_the_bytes_buckets_count_them_halved)
{
    /* Halved: 1875, 0, 625, 625. Layers 3 and 2 fill 1250 < 2000, so one
     * bucket of 3125 bytes (2.5 ms) leaves when layer 0 is done at 12.5. */
    scaling_step s = four_layers(3750, 0, 1250, 1250);
    scaling_link l = {.gbit = 0.01, .latency_us = 0, .bucket_bytes = 2000, .bytes_scale = 0.5};
    scaling_result r = scaling_predict(&s, 2, &l);
    ck_assert_int_eq(r.buckets, 1);
    ck_near(r.grad_bytes, 3125);
    ck_near(r.comm_ms, 2.5);
    ck_near(r.exposed_ms, 2.5);
    ck_near(r.step_ms, 16);
}
END_TEST

START_TEST(hidden_exchange_costs_nothing)
{
    /* A fast link: layer 3's bucket (1250 bytes at 10 Gbit/s: 1 us) is
     * done long before backward ends; the last one is exposed, 3 us. */
    scaling_step s = four_layers(3750, 0, 0, 1250);
    scaling_link l = {.gbit = 10, .latency_us = 0, .bucket_bytes = 1, .bytes_scale = 1};
    scaling_result r = scaling_predict(&s, 2, &l);
    ck_assert_int_eq(r.buckets, 2);
    ck_near(r.comm_ms, 0.004);
    ck_near(r.exposed_ms, 0.003);
    ck_near(r.step_ms, 13.503);
    /* one rank: the step is the compute */
    r = scaling_predict(&s, 1, &l);
    ck_near(r.comm_ms, 0);
    ck_near(r.exposed_ms, 0);
    ck_near(r.step_ms, 13.5);
    ck_near(r.compute_ms, 13.5);
}
END_TEST

START_TEST(rank_batches_and_rates)
{
    ck_assert_int_eq(scaling_rank_batch(32, 1), 32);
    ck_assert_int_eq(scaling_rank_batch(32, 3), 11);
    ck_assert_int_eq(scaling_rank_batch(5, 2), 3);
    ck_assert_int_eq(scaling_rank_batch(32, 32), 1);
    ck_assert_int_eq(scaling_rank_batch(32, 33), 0);
    ck_assert_int_eq(scaling_rank_batch(32, 0), 0);
    ck_near(scaling_images_per_sec(32, 1000), 32);
    ck_near(scaling_images_per_sec(16, 250), 64);
    ck_near(scaling_images_per_sec(16, 0), 0);
}
END_TEST

START_TEST(host_speed_divides_the_compute_not_the_exchange)
{
    /* As buckets_overlap_backward on hosts twice as fast: forward + loss
     * end at 2.25; layer 2 done at 4.25 (2 ms: -> 6.25), layer 0 at 6.25
     * (3 ms: -> 9.25); step 9.25 + 0.5, compute 6.75. */
    scaling_step s = four_layers(3750, 0, 1250, 1250);
    s.host_speed = 2;
    scaling_link l = {.gbit = 0.01, .latency_us = 0, .bucket_bytes = 2000, .bytes_scale = 1};
    scaling_result r = scaling_predict(&s, 2, &l);
    ck_near(r.compute_ms, 6.75);
    ck_near(r.comm_ms, 5);
    ck_near(r.exposed_ms, 3);
    ck_near(r.step_ms, 9.75);
}
END_TEST

/* ---- strata bench --ranks ------------------------------------------------- */

static char quickstart[4096];

static void find_quickstart(void)
{
    snprintf(quickstart, sizeof quickstart, "%s/experiments/quickstart.yaml", srcdir());
}

/* The bench options that keep a run short, then the caller's. */
#define BENCH(...) ARGS("bench", quickstart, "--no-sgemm", "--steps", "1", "--warmup", "0", "--threads", "1", __VA_ARGS__)

START_TEST(bench_refuses_bad_scaling_options)
{
    find_quickstart();
    const char *w = "--ranks: expected whole numbers from 1 to 65536 separated by commas, got ";
    char want[256];
    const char *bad_ranks[] = {"0", "1,,2", "x", "2,", "1.5", "65537", ""};
    for (size_t i = 0; i < sizeof bad_ranks / sizeof *bad_ranks; i++) {
        snprintf(want, sizeof want, "%s'%s'", w, bad_ranks[i]);
        strata_refuses(BENCH("--ranks", bad_ranks[i]), 2, want);
    }
    strata_refuses(BENCH("--ranks", "2", "--link", "0"), 2,
                   "--link: expected Gbit/s above 0 (at most 1e6) separated by commas, got '0'");
    strata_refuses(BENCH("--ranks", "2", "--link", "10,nan"), 2, "--link: expected Gbit/s above 0");
    strata_refuses(BENCH("--ranks", "2", "--link", "inf"), 2, "--link: expected Gbit/s above 0");
    strata_refuses(BENCH("--ranks", "2", "--latency", "-1"), 2,
                   "--latency: expected microseconds from 0 to 1e6, got '-1'");
    strata_refuses(BENCH("--ranks", "2", "--latency", "1,2"), 2, "--latency: expected one number, got '1,2'");
    strata_refuses(BENCH("--ranks", "2", "--bucket-mb", "0"), 2,
                   "--bucket-mb: expected MiB above 0 (at most 1e6) separated by commas, got '0'");
    strata_refuses(BENCH("--ranks", "2", "--bucket-mb", "25,-1"), 2, "--bucket-mb: expected MiB above 0");
    strata_refuses(BENCH("--link", "10"), 2, "--link, --latency, --bucket-mb and --host-speed need --ranks");
    strata_refuses(BENCH("--bucket-mb", "4"), 2, "--link, --latency, --bucket-mb and --host-speed need --ranks");
    strata_refuses(BENCH("--host-speed", "4"), 2, "--link, --latency, --bucket-mb and --host-speed need --ranks");
    strata_refuses(BENCH("--ranks", "2", "--host-speed", "-2"), 2,
                   "--host-speed: expected a factor above 0 (at most 1e6), got '-2'");
    char many[256] = "1";
    for (int i = 0; i < 64; i++)
        strcat(many, ",2");
    strata_refuses(BENCH("--ranks", many), 2, "--ranks: at most 64 values");
    strata_refuses(BENCH("--ranks"), 2, "missing value '--ranks'");
}
END_TEST


enum { ROWS = 14 };
#define ROW_NUMBERS(key, v) ck_assert_int_eq(json_numbers(out, key, v, ROWS + 1), ROWS)

/* Global batch 4 over ranks 1, 2 and 8 (more ranks than images: weak
 * scaling only), 10 and 100 Gbit/s, hosts twice as fast as this one, one
 * bucket of all the gradients: the
 * rows, in order: per link, fp32 N=1,2; fp16 N=1,2; weak N=1,2,8. */
START_TEST(bench_scaling_json_follows_the_model)
{
    find_quickstart();
    strata_run r = strata(BENCH("--batch", "4", "--json", "--ranks", "1,2", "--ranks", "8", "--link", "10,100",
                                "--latency", "100", "--bucket-mb", "1000000", "--host-speed", "2"));
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    const char *out = strstr(r.out, "\"rows\": [");
    ck_assert_ptr_nonnull(out);
    double params, gbytes, measured[4], ranks[ROWS + 1], gbit[ROWS + 1], rb[ROWS + 1], gb[ROWS + 1];
    double comm[ROWS + 1], comp[ROWS + 1], exposed[ROWS + 1], step[ROWS + 1], ips[ROWS + 1], sp[ROWS + 1],
        eff[ROWS + 1], buckets[ROWS + 1];
    const char *head = strstr(r.out, "\"scaling\": {");
    ck_assert_ptr_nonnull(head);
    ck_assert_int_eq(json_numbers(head, "parameters", &params, 1), 1);
    ck_assert_int_eq(json_numbers(head, "gradient_bytes", &gbytes, 1), 1);
    ck_assert_double_eq(gbytes, 4 * params);
    /* measured at the global batch (4) and at 2 per rank; 8 ranks: none */
    ck_assert_ptr_nonnull(strstr(head, "\"measured\": [{\"batch\": 4,"));
    ck_assert_int_eq(json_numbers(strstr(head, "\"measured\""), "batch", measured, 4), 2);
    ck_assert_double_eq(measured[1], 2);
    ROW_NUMBERS("ranks", ranks);
    ROW_NUMBERS("link_gbit", gbit);
    ROW_NUMBERS("batch_per_rank", rb);
    ROW_NUMBERS("buckets", buckets);
    ROW_NUMBERS("compute_ms", comp);
    ROW_NUMBERS("comm_ms", comm);
    ROW_NUMBERS("exposed_ms", exposed);
    ROW_NUMBERS("step_ms", step);
    ROW_NUMBERS("images_per_sec", ips);
    ROW_NUMBERS("speedup", sp);
    ROW_NUMBERS("efficiency", eff);
    ck_assert_int_eq(json_numbers(head, "global_batch", gb, ROWS + 1), ROWS + 1); /* + the header's */
    const double want_ranks[7] = {1, 2, 1, 2, 1, 2, 8}, want_rb[7] = {4, 2, 4, 2, 4, 4, 4};
    const double scale[7] = {1, 1, 0.5, 0.5, 1, 1, 1};
    for (int i = 0; i < ROWS; i++) {
        int k = i % 7;
        double n = want_ranks[k], link = i < 7 ? 10 : 100;
        ck_assert_double_eq(ranks[i], n);
        ck_assert_double_eq(gbit[i], link);
        ck_assert_double_eq(rb[i], want_rb[k]);
        ck_assert_double_eq(gb[i + 1], k >= 4 ? 4 * n : 4);
        ck_assert_double_eq(buckets[i], 1);
        /* one bucket: 2(N-1)/N x bytes x 8 / (Gbit x 1e9) s + 2(N-1) x 100 us */
        double want = n == 1 ? 0 : 1e3 * 2 * (n - 1) / n * gbytes * scale[k] * 8 / (link * 1e9) + 2 * (n - 1) * 0.1;
        ck_assert_msg(fabs(comm[i] - want) <= 1e-4, "row %d: comm %g ms, expected %g", i, comm[i], want);
        /* the only bucket leaves when backward ends: all of it is exposed */
        ck_assert_double_eq_tol(exposed[i], comm[i], 2e-4);
        ck_assert_double_eq_tol(step[i], comp[i] + comm[i], 3e-4);
        ck_assert_double_eq_tol(ips[i], gb[i + 1] / (step[i] * 1e-3), ips[i] * 1e-3);
        ck_assert_double_eq_tol(sp[i], ips[i] / ips[0], sp[i] * 1e-3);
        ck_assert_double_eq_tol(eff[i], sp[i] / n, 1e-4);
    }
    /* one rank's compute: the measured step at batch 4 on hosts twice as fast */
    double f, lo, b, o;
    const char *m0 = strstr(head, "\"measured\"");
    ck_assert(json_numbers(m0, "forward_ms", &f, 1) && json_numbers(m0, "loss_ms", &lo, 1) &&
              json_numbers(m0, "backward_ms", &b, 1) && json_numbers(m0, "optimizer_ms", &o, 1));
    ck_assert_double_eq_tol(comp[0], (f + lo + b + o) / 2, 1e-3);
    /* the same compute for the same per-rank batch */
    ck_assert_double_eq(comp[0], comp[4]);
    ck_assert_double_eq(comp[1], comp[3]);
    ck_assert_double_eq(comp[6], comp[0]);
    ck_assert_double_eq(comp[7 + 1], comp[1]);
    ck_assert_double_eq(sp[0], 1);
    int depth = 0;
    for (const char *p = r.out; *p; p++)
        depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
    ck_assert_int_eq(depth, 0);
    run_strata_free(&r);
}
END_TEST

/* Two bucket sizes from one measurement: 1 MiB and one bucket of all; the
 * compute is the same, the rows follow link, then bucket size. */
START_TEST(bench_scaling_models_each_bucket_size)
{
    find_quickstart();
    strata_run r = strata(BENCH("--batch", "2", "--json", "--ranks", "2", "--bucket-mb", "0.01,1e6", "--latency", "0"));
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    const char *out = strstr(r.out, "\"rows\": [");
    ck_assert_ptr_nonnull(out);
    double mb[7], buckets[7], comp[7], comm[7];
    ck_assert_int_eq(json_numbers(out, "bucket_mb", mb, 7), 6);
    ck_assert_int_eq(json_numbers(out, "buckets", buckets, 7), 6);
    ck_assert_int_eq(json_numbers(out, "compute_ms", comp, 7), 6);
    ck_assert_int_eq(json_numbers(out, "comm_ms", comm, 7), 6);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq(mb[i], 0.01);
        ck_assert_double_eq(mb[i + 3], 1e6);
        ck_assert_double_eq(buckets[i + 3], 1);
        ck_assert_msg(buckets[i] > 1, "row %d: %g buckets of 0.01 MiB", i, buckets[i]);
        ck_assert_double_eq(comp[i], comp[i + 3]);
        /* no latency: the same bytes take the same time however bucketed */
        ck_assert_double_eq_tol(comm[i], comm[i + 3], 1e-3);
    }
    run_strata_free(&r);
}
END_TEST

START_TEST(bench_scaling_text_names_each_table)
{
    find_quickstart();
    strata_run r = strata(BENCH("--batch", "2", "--ranks", "1,4", "--host-speed", "4"));
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    assert_has(r.out, "scaling model: ring allreduce of ");
    assert_has(r.out, "in buckets, latency 5 us per hop; compute measured here at each rank's batch on 1 "
                      "threads, divided by 4 (--host-speed); 1 rank: ");
    assert_has(r.out, "\n10 Gbit/s, 25 MiB buckets, fp32 gradients, global batch 2 shared by the ranks (strong scaling)\n");
    assert_has(r.out, "\n10 Gbit/s, 25 MiB buckets, fp16 gradients, global batch 2 shared by the ranks (strong scaling)\n");
    assert_has(r.out,
               "\n10 Gbit/s, 25 MiB buckets, fp32 gradients, batch 2 per rank (global batch 2 x ranks: weak scaling)\n");
    ck_assert_int_eq(count_substr(r.out, "(more ranks than the global batch's 2 images)"), 2);
    ck_assert_int_eq(count_substr(r.out, "images/s  speed-up efficiency"), 3);
    ck_assert_ptr_null(strstr(r.out, "100 Gbit/s"));
    run_strata_free(&r);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("scaling_model",
        {.name = "model", .timeout = 10,
         .tests = TESTS(ring_allreduce_by_hand, buckets_overlap_backward, buckets_queue_on_one_link,
                        fp16_halves_the_bytes_buckets_count_them_halved, hidden_exchange_costs_nothing,
                        host_speed_divides_the_compute_not_the_exchange,
                        rank_batches_and_rates)},
        {.name = "bench", .timeout = 120,
         .tests = TESTS(bench_refuses_bad_scaling_options, bench_scaling_json_follows_the_model,
                        bench_scaling_models_each_bucket_size, bench_scaling_text_names_each_table)});
}
