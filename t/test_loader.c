/* test_loader.c — the prefetching loader: every sample once per epoch,
 * partial last batch, labels, shuffling per epoch, the same bytes with 1 and
 * 3 threads, restarts, close mid-epoch, photos that fail to decode (skipped), bad
 * arguments. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "fixtures/imgwrite.h"

enum { N = 11, S = 4, SZ = 3 * S * S }; /* 11 images, batches of S x S */

static char *root;
static dataset ds;

/* Image i is 6x5, red = 20 i + 5 everywhere (its identity), green and blue
 * vary over the image so that crops and flips change the output. */
static void setup(void)
{
    root = fx_tmpdir();
    ck_assert_ptr_nonnull(root);
    char rel[64];
    for (int c = 0; c < 2; c++) {
        snprintf(rel, sizeof rel, "class%d", c);
        char *d = fx_path(root, rel);
        ck_assert_int_eq(fx_mkdir(d), 0);
        free(d);
    }
    for (int i = 0; i < N; i++) {
        uint8_t rgb[6 * 5 * 3];
        for (int p = 0; p < 30; p++) {
            rgb[3 * p] = (uint8_t)(20 * i + 5);
            rgb[3 * p + 1] = (uint8_t)(p * 8);
            rgb[3 * p + 2] = (uint8_t)(255 - p * 5 - i);
        }
        snprintf(rel, sizeof rel, "class%d/img%02d.png", i < 6 ? 0 : 1, i);
        char *p = fx_path(root, rel);
        ck_assert_int_eq(fx_write_png_rgb(p, 6, 5, rgb), 0);
        free(p);
    }
    strata_err e = {0};
    ck_assert_msg(dataset_scan(root, &ds, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(ds.n, N);
}

static void teardown(void)
{
    dataset_free(&ds);
    fx_rm_rf(root);
    free(root);
}

static aug_pipeline plain_resize(void)
{
    aug_pipeline p = {1, {{.kind = AUG_RESIZE}}};
    p.ops[0].u.resize.h = S, p.ops[0].u.resize.w = S, p.ops[0].u.resize.antialias = 1;
    return p;
}

static aug_pipeline random_pipeline(void)
{
    aug_pipeline p = {3, {{.kind = AUG_RANDOM_RESIZED_CROP}, {.kind = AUG_HORIZONTAL_FLIP},
                          {.kind = AUG_COLOR_JITTER}}};
    p.ops[0].u.rrc.h = S, p.ops[0].u.rrc.w = S;
    p.ops[0].u.rrc.scale[0] = 0.3, p.ops[0].u.rrc.scale[1] = 1.0;
    p.ops[0].u.rrc.ratio[0] = 0.75, p.ops[0].u.rrc.ratio[1] = 4.0 / 3.0;
    p.ops[1].u.flip.p = 0.5;
    p.ops[2].u.jitter.brightness = 0.3;
    p.ops[2].u.jitter.saturation = 0.3;
    return p;
}

static loader *open_ok(const aug_pipeline *p, int bs, int shuffle, uint64_t seed, int threads)
{
    loader *l;
    strata_err e = {0};
    ck_assert_msg(loader_open(&l, &ds, p, bs, shuffle, seed, threads, S, S, &e) == 0, "%s", e.msg);
    return l;
}

/* Read epoch e through; ids[k] = image index of the k-th sample (from its
 * red value, constant under resize); checks batch sizes and labels. */
static void read_epoch(loader *l, int e, int bs, int *ids)
{
    strata_err err = {0};
    ck_assert_int_eq(loader_start_epoch(l, e, &err), 0);
    float *x = malloc(sizeof(float) * bs * SZ);
    int *lab = malloc(sizeof(int) * bs), k = 0, n, batches = 0;
    while ((n = loader_next(l, x, lab, &err)) > 0) {
        int expect = N - k < bs ? N - k : bs;
        ck_assert_int_eq(n, expect);
        for (int i = 0; i < n; i++) {
            int id = (int)lroundf((x[i * SZ] * 255.0f - 5.0f) / 20.0f);
            ck_assert(id >= 0 && id < N);
            ck_assert_int_eq(lab[i], ds.labels[id]);
            ids[k++] = id;
        }
        batches++;
    }
    ck_assert_msg(n == 0, "%s", err.msg);
    ck_assert_int_eq(k, N);
    ck_assert_int_eq(batches, loader_num_batches(l));
    ck_assert_int_eq(loader_next(l, x, lab, &err), 0); /* stays at the end */
    free(x);
    free(lab);
}

START_TEST(every_sample_once_partial_last_batch)
{
    aug_pipeline p = plain_resize();
    loader *l = open_ok(&p, 4, 1, 42, 3);
    ck_assert_int_eq(loader_num_batches(l), 3); /* 4 + 4 + 3 */
    int a[N], b[N];
    read_epoch(l, 0, 4, a);
    read_epoch(l, 1, 4, b);
    for (int ep = 0; ep < 2; ep++) {
        int seen[N] = {0};
        for (int i = 0; i < N; i++)
            seen[(ep ? b : a)[i]]++;
        for (int i = 0; i < N; i++)
            ck_assert_int_eq(seen[i], 1);
    }
    ck_assert_msg(memcmp(a, b, sizeof a) != 0, "epochs 0 and 1 differ in order");
    int ident = 1;
    for (int i = 0; i < N; i++)
        ident &= a[i] == i;
    ck_assert_msg(!ident, "shuffled");
    /* epoch 0 again gives the same order: it depends on (seed, epoch) only */
    int c[N];
    read_epoch(l, 0, 4, c);
    ck_assert_mem_eq(a, c, sizeof a);
    loader_close(l);
}
END_TEST

START_TEST(no_shuffle_keeps_dataset_order)
{
    aug_pipeline p = plain_resize();
    loader *l = open_ok(&p, 5, 0, 42, 2);
    int a[N];
    read_epoch(l, 3, 5, a);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(a[i], i);
    loader_close(l);
}
END_TEST

/* All bytes of epochs 0 and 1 (labels too) with the given thread count. */
static float *run_two_epochs(int threads, uint64_t seed, int **labels_out)
{
    aug_pipeline p = random_pipeline();
    loader *l = open_ok(&p, 3, 1, seed, threads);
    float *all = malloc(sizeof(float) * 2 * N * SZ);
    int *labels = malloc(sizeof(int) * 2 * N), k = 0, n;
    strata_err e = {0};
    for (int ep = 0; ep < 2; ep++) {
        ck_assert_int_eq(loader_start_epoch(l, ep, &e), 0);
        while ((n = loader_next(l, all + (size_t)k * SZ, labels + k, &e)) > 0)
            k += n;
        ck_assert_msg(n == 0, "%s", e.msg);
    }
    ck_assert_int_eq(k, 2 * N);
    loader_close(l);
    *labels_out = labels;
    return all;
}

START_TEST(same_bytes_with_1_and_3_threads)
{
    int *l1, *l3, *l9;
    float *a = run_two_epochs(1, 7, &l1), *b = run_two_epochs(3, 7, &l3),
          *c = run_two_epochs(3, 8, &l9);
    ck_assert_mem_eq(a, b, sizeof(float) * 2 * N * SZ);
    ck_assert_mem_eq(l1, l3, sizeof(int) * 2 * N);
    ck_assert_msg(memcmp(a, c, sizeof(float) * 2 * N * SZ) != 0, "another seed differs");
    free(a), free(b), free(c), free(l1), free(l3), free(l9);
}
END_TEST

START_TEST(restart_mid_epoch_and_close_mid_epoch)
{
    aug_pipeline p = random_pipeline();
    float x1[2 * SZ], x2[2 * SZ];
    int y1[2], y2[2];
    strata_err e = {0};
    loader *l = open_ok(&p, 2, 1, 3, 3);
    ck_assert_int_eq(loader_start_epoch(l, 0, &e), 0);
    ck_assert_int_eq(loader_next(l, x1, y1, &e), 2);
    ck_assert_int_eq(loader_next(l, x1, y1, &e), 2);
    /* abandon epoch 0 half-way; restarting gives its first batch again */
    ck_assert_int_eq(loader_start_epoch(l, 0, &e), 0);
    ck_assert_int_eq(loader_next(l, x2, y2, &e), 2);
    loader *fresh = open_ok(&p, 2, 1, 3, 1);
    ck_assert_int_eq(loader_start_epoch(fresh, 0, &e), 0);
    ck_assert_int_eq(loader_next(fresh, x1, y1, &e), 2);
    ck_assert_mem_eq(x1, x2, sizeof x1);
    ck_assert_mem_eq(y1, y2, sizeof y1);
    loader_close(fresh);
    loader_close(l); /* mid-epoch, workers busy or waiting: must not hang */
    loader_close(open_ok(&p, 2, 1, 3, 3)); /* never started */
    l = open_ok(&p, 1, 1, 3, 3);
    ck_assert_int_eq(loader_start_epoch(l, 5, &e), 0);
    loader_close(l); /* started, nothing read */
    loader_close(NULL);
}
END_TEST

/* Cut the data of image i after the scan (header intact). */
static void corrupt(int i)
{
    uint8_t *b;
    size_t n;
    ck_assert_int_eq(fx_read(ds.paths[i], &b, &n), 0);
    ck_assert_int_eq(fx_write(ds.paths[i], b, n - 20), 0);
    free(b);
}

START_TEST(decode_failure_skips_the_photo)
{
    aug_pipeline p = plain_resize();
    loader *clean = open_ok(&p, 4, 0, 1, 2);
    strata_err e = {0};
    float x[4 * SZ], want[4 * SZ];
    int y[4], ywant[4];
    ck_assert_int_eq(loader_start_epoch(clean, 0, &e), 0);
    ck_assert_int_eq(loader_next(clean, want, ywant, &e), 4);
    ck_assert_int_eq(loader_next(clean, want, ywant, &e), 4); /* 4..7 */
    loader_close(clean);

    corrupt(7);
    loader *l = open_ok(&p, 4, 0, 1, 2);
    for (int epoch = 0; epoch < 2; epoch++) {
        ck_assert_int_eq(loader_start_epoch(l, epoch, &e), 0);
        ck_assert_int_eq(loader_next(l, x, y, &e), 4); /* 0..3 */
        ck_assert_int_eq(loader_next(l, x, y, &e), 3); /* 4..6, 7 left out */
        ck_assert_mem_eq(x, want, sizeof(float) * 3 * SZ);
        ck_assert_mem_eq(y, ywant, sizeof(int) * 3);
        ck_assert_int_eq(loader_next(l, x, y, &e), 3); /* 8..10 */
        ck_assert_int_eq(loader_next(l, x, y, &e), 0);
        ck_assert_int_eq(loader_num_failed(l), 1); /* warned once, not per epoch */
    }
    loader_close(l);
}
END_TEST

START_TEST(batch_of_failures_is_passed_over)
{
    for (int i = 4; i < 8; i++)
        corrupt(i);
    aug_pipeline p = plain_resize();
    loader *l = open_ok(&p, 4, 0, 1, 2);
    strata_err e = {0};
    float x[4 * SZ];
    int y[4];
    ck_assert_int_eq(loader_start_epoch(l, 0, &e), 0);
    ck_assert_int_eq(loader_next(l, x, y, &e), 4); /* 0..3 */
    ck_assert_int_eq(loader_next(l, x, y, &e), 3); /* 4..7 all bad: 8..10 */
    ck_assert_int_eq(y[0], ds.labels[8]);
    ck_assert_int_eq(loader_next(l, x, y, &e), 0);
    ck_assert_int_eq(loader_num_failed(l), 4);
    loader_close(l);
}
END_TEST

START_TEST(bad_arguments)
{
    aug_pipeline p = plain_resize();
    loader *l = (loader *)&p;
    strata_err e = {0};
    ck_assert_int_eq(loader_open(&l, &ds, &p, 0, 1, 1, 1, S, S, &e), -1);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(e.msg, "batch size 0"), "%s", e.msg);
    ck_assert_int_eq(loader_open(&l, &ds, &p, 4, 1, 1, 0, S, S, &e), -1);
    ck_assert_msg(strstr(e.msg, "0 threads"), "%s", e.msg);
    ck_assert_int_eq(loader_open(&l, &ds, &p, 4, 1, 1, 1, S + 1, S, &e), -1);
    ck_assert_msg(strstr(e.msg, "expected 5x4"), "%s", e.msg);
    ck_assert_int_eq(loader_open(&l, &ds, &p, 4, 1, 1, 1, 0, S, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    l = open_ok(&p, 4, 1, 1, 1);
    float x[4 * SZ];
    int y[4];
    ck_assert_int_eq(loader_next(l, x, y, &e), -1);
    ck_assert_msg(strstr(e.msg, "loader_start_epoch"), "%s", e.msg);
    ck_assert_int_eq(loader_start_epoch(l, -1, &e), -1);
    loader_close(l);
    /* an empty data set (a val split of fraction 0) has no batches */
    dataset empty = {0};
    l = NULL;
    ck_assert_int_eq(loader_open(&l, &empty, &p, 4, 1, 1, 2, S, S, &e), 0);
    ck_assert_int_eq(loader_num_batches(l), 0);
    ck_assert_int_eq(loader_start_epoch(l, 0, &e), 0);
    ck_assert_int_eq(loader_next(l, x, y, &e), 0);
    loader_close(l);
}
END_TEST

/* Data-parallel shares (loader_set_shard): with R ranks, rank r's batches
 * are rows off.. of the whole loader's batches, the same bytes (order and
 * augmentation keyed by the global position), sizes differing by at most
 * one, every rank the same number of batches (empty shares kept). */
static void check_shards(int ranks)
{
    enum { BS = 4, NB = 3 };
    aug_pipeline p = random_pipeline();
    strata_err e = {0};
    float *whole = malloc(sizeof(float) * NB * BS * SZ), *x = malloc(sizeof(float) * BS * SZ);
    int wlab[NB * BS], wn[NB], lab[BS], n;
    loader *l = open_ok(&p, BS, 1, 42, 2);
    ck_assert_int_eq(loader_start_epoch(l, 1, &e), 0);
    for (int k = 0; k < NB; k++) {
        ck_assert_int_eq(loader_next_batch(l, whole + (size_t)k * BS * SZ, wlab + k * BS, &wn[k], &e), 1);
        ck_assert_int_eq(loader_share_offset(l), 0);
    }
    ck_assert_int_eq(loader_next_batch(l, x, lab, &n, &e), 0);
    loader_close(l);
    for (int k = 0; k < NB; k++) {
        int covered = 0;
        for (int r = 0; r < ranks; r++) {
            l = open_ok(&p, BS, 1, 42, 1 + r % 2);
            ck_assert_msg(loader_set_shard(l, r, ranks, &e) == 0, "%s", e.msg);
            ck_assert_int_eq(loader_start_epoch(l, 1, &e), 0);
            for (int j = 0; j <= k; j++)
                ck_assert_int_eq(loader_next_batch(l, x, lab, &n, &e), 1);
            int off = loader_share_offset(l);
            ck_assert_int_eq(off, covered);
            ck_assert(n == wn[k] / ranks || n == wn[k] / ranks + 1);
            ck_assert(memcmp(x, whole + ((size_t)k * BS + off) * SZ, sizeof(float) * n * SZ) == 0);
            ck_assert(memcmp(lab, wlab + k * BS + off, sizeof(int) * n) == 0);
            covered += n;
            for (int j = k + 1; j < NB; j++)
                ck_assert_int_eq(loader_next_batch(l, x, lab, &n, &e), 1);
            ck_assert_int_eq(loader_next_batch(l, x, lab, &n, &e), 0);
            loader_close(l);
        }
        ck_assert_int_eq(covered, wn[k]);
    }
    free(whole);
    free(x);
}

START_TEST(shards_are_the_whole_batch_split_in_order)
{
    check_shards(2);
    check_shards(3);
    check_shards(5); /* more ranks than the last batch's 3 rows: empty shares */
}
END_TEST

START_TEST(shard_bad_arguments)
{
    aug_pipeline p = plain_resize();
    strata_err e = {0};
    loader *l = open_ok(&p, 4, 0, 1, 1);
    ck_assert_int_eq(loader_set_shard(l, 2, 2, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    ck_assert_int_eq(loader_set_shard(l, 0, 0, &e), -1);
    ck_assert_int_eq(loader_start_epoch(l, 0, &e), 0);
    ck_assert_int_eq(loader_set_shard(l, 0, 2, &e), -1);
    ck_assert_msg(strstr(e.msg, "after loader_start_epoch"), "%s", e.msg);
    loader_close(l);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("loader",
        {.name = "loader", .timeout = 60, .setup = setup, .teardown = teardown,
         .tests = TESTS(every_sample_once_partial_last_batch, no_shuffle_keeps_dataset_order,
                        same_bytes_with_1_and_3_threads, restart_mid_epoch_and_close_mid_epoch,
                        decode_failure_skips_the_photo, batch_of_failures_is_passed_over, bad_arguments,
                        shards_are_the_whole_batch_split_in_order, shard_bad_arguments)});
}
