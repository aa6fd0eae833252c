/* test_dataset.c — dataset_scan on generated folder trees (class order, file
 * order, ignored and skipped files, errors) and dataset_split (stratified
 * floor rule, disjoint cover, determinism, errors). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "data/image.h"
#include "fixtures/imgwrite.h"
#include "testlib.h"

static char *root;

static void setup(void)
{
    root = fx_tmpdir();
    ck_assert_ptr_nonnull(root);
}

static void teardown(void)
{
    fx_rm_rf(root);
    free(root);
}

/* root/rel as a malloc'ed path. */
static char *at(const char *rel)
{
    return fx_path(root, rel);
}

static void mkdir_rel(const char *rel)
{
    char *p = at(rel);
    ck_assert_int_eq(fx_mkdir(p), 0);
    free(p);
}

static void png_rel(const char *rel)
{
    const uint8_t px[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    char *p = at(rel);
    ck_assert_int_eq(fx_write_png_rgb(p, 2, 2, px), 0);
    free(p);
}

static void text_rel(const char *rel)
{
    char *p = at(rel);
    ck_assert_int_eq(fx_write(p, "not an image\n", 13), 0);
    free(p);
}

/* Run dataset_scan with stderr captured into *captured (malloc'ed). */
static int scan_capture(const char *dir, dataset *ds, strata_err *e, char **captured)
{
    char *log = fx_path(root, "stderr.log");
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(log, "w");
    ck_assert_ptr_nonnull(f);
    dup2(fileno(f), 2);
    int rc = dataset_scan(dir, ds, e);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    uint8_t *b;
    size_t n;
    ck_assert_int_eq(fx_read(log, &b, &n), 0);
    *captured = realloc(b, n + 1);
    (*captured)[n] = 0;
    unlink(log);
    free(log);
    return rc;
}

START_TEST(scan_orders_classes_and_files)
{
    mkdir_rel("beta");
    mkdir_rel("Alpha");
    mkdir_rel("gamma");
    mkdir_rel("beta/sub");
    png_rel("beta/2.png");
    png_rel("beta/10.png");
    png_rel("beta/B.jpg");
    png_rel("beta/a.JPEG");
    png_rel("beta/sub/0.png");
    text_rel("beta/notes.txt");   /* ignored: not an image extension */
    png_rel("beta/pic.gif");      /* ignored too, even though readable */
    text_rel("beta/bad.jpg");     /* image extension, unreadable: skipped */
    png_rel("Alpha/x.PNG");
    png_rel("gamma/c.png");
    png_rel("gamma/a.jpeg");
    text_rel("README.txt");       /* a file at the root is not a class */

    dataset ds;
    strata_err e = {0};
    char *log;
    int rc = scan_capture(root, &ds, &e, &log);
    ck_assert_msg(rc == 0, "%s", e.msg);

    const char *classes[] = {"Alpha", "beta", "gamma"}; /* strcmp order */
    ck_assert_int_eq(ds.num_classes, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(ds.classes[i], classes[i]);

    const char *files[] = {"Alpha/x.PNG", "beta/10.png", "beta/2.png", "beta/B.jpg",
                           "beta/a.JPEG", "beta/sub/0.png", "gamma/a.jpeg", "gamma/c.png"};
    const int labels[] = {0, 1, 1, 1, 1, 1, 2, 2};
    ck_assert_int_eq(ds.n, 8);
    for (int i = 0; i < 8; i++) {
        char *p = at(files[i]);
        ck_assert_str_eq(ds.paths[i], p);
        ck_assert_int_eq(ds.labels[i], labels[i]);
        free(p);
    }

    char *bad = at("beta/bad.jpg");
    ck_assert_int_eq(ds.num_skipped, 1);
    ck_assert_str_eq(ds.skipped[0], bad);
    /* exactly one warning line, naming the file */
    char prefix[600];
    snprintf(prefix, sizeof prefix, "strata: warning: %s: not a readable image (", bad);
    ck_assert_msg(strncmp(log, prefix, strlen(prefix)) == 0, "got: %s", log);
    char *nl = strchr(log, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_str_eq(nl + 1, "");
    ck_assert_msg(nl - log > 10 && strncmp(nl - 10, "), skipped", 10) == 0, "got: %s", log);
    free(bad);
    free(log);
    dataset_free(&ds);
    ck_assert_ptr_null(ds.paths);
    dataset_free(&ds); /* twice is harmless */
}
END_TEST

START_TEST(scan_root_with_trailing_slash)
{
    mkdir_rel("c");
    png_rel("c/1.png");
    char *r = fx_path(root, "");
    dataset ds;
    strata_err e = {0};
    ck_assert_int_eq(dataset_scan(r, &ds, &e), 0);
    char *want = at("c/1.png");
    ck_assert_str_eq(ds.paths[0], want);
    free(want);
    free(r);
    dataset_free(&ds);
}
END_TEST

static void scan_fails(const char *dir, const char *path_in_msg, const char *what)
{
    dataset ds;
    strata_err e = {0};
    char *log;
    ck_assert_int_eq(scan_capture(dir, &ds, &e, &log), -1);
    free(log);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    ck_assert_msg(strstr(e.msg, path_in_msg) != NULL, "path in: %s", e.msg);
    ck_assert_msg(strstr(e.msg, what) != NULL, "'%s' in: %s", what, e.msg);
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    ck_assert_ptr_null(ds.paths);
    ck_assert_int_eq(ds.n, 0);
}

START_TEST(scan_errors)
{
    char *missing = at("nope");
    scan_fails(missing, missing, "no such directory");
    text_rel("file");
    char *file = at("file");
    scan_fails(file, file, "not a directory");
    mkdir_rel("empty");
    char *empty = at("empty");
    scan_fails(empty, empty, "no class folders");
    mkdir_rel("onlyfiles");
    png_rel("onlyfiles/a.png");
    char *onlyfiles = at("onlyfiles");
    scan_fails(onlyfiles, onlyfiles, "no class folders");

    mkdir_rel("r1");
    mkdir_rel("r1/a");
    mkdir_rel("r1/b");
    png_rel("r1/a/1.png");
    text_rel("r1/b/notes.txt");
    char *r1 = at("r1"), *r1b = at("r1/b");
    scan_fails(r1, r1b, "no images");

    mkdir_rel("r2");
    mkdir_rel("r2/a");
    text_rel("r2/a/broken.png");
    char *r2 = at("r2"), *r2a = at("r2/a");
    scan_fails(r2, r2a, "no readable images");
    free(missing);
    free(file);
    free(empty);
    free(onlyfiles);
    free(r1);
    free(r1b);
    free(r2);
    free(r2a);
}
END_TEST

/* Classes c0..c3 with 20, 9, 4, 3 images. */
static const int class_sizes[] = {20, 9, 4, 3};

static void make_split_tree(dataset *ds)
{
    char rel[64];
    for (int c = 0; c < 4; c++) {
        snprintf(rel, sizeof rel, "c%d", c);
        mkdir_rel(rel);
        for (int i = 0; i < class_sizes[c]; i++) {
            snprintf(rel, sizeof rel, "c%d/img%02d.png", c, i);
            png_rel(rel);
        }
    }
    strata_err e = {0};
    ck_assert_msg(dataset_scan(root, ds, &e) == 0, "%s", e.msg);
}

static int count_label(const dataset *d, int c)
{
    int k = 0;
    for (int i = 0; i < d->n; i++)
        k += d->labels[i] == c;
    return k;
}

static int index_of(const dataset *d, const char *path)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->paths[i], path) == 0)
            return i;
    return -1;
}

START_TEST(split_is_stratified_and_covers)
{
    dataset all, tr, va;
    strata_err e = {0};
    make_split_tree(&all);
    const double frac = 0.25;
    ck_assert_int_eq(dataset_split(&all, frac, 42, &tr, &va, &e), 0);
    ck_assert_int_eq(tr.n + va.n, all.n);
    ck_assert_int_eq(tr.num_classes, 4);
    ck_assert_str_eq(va.classes[3], "c3");
    for (int c = 0; c < 4; c++) {
        int k = (int)floor(frac * class_sizes[c]);
        ck_assert_int_eq(count_label(&va, c), k);
        ck_assert_int_eq(count_label(&tr, c), class_sizes[c] - k);
    }
    /* each file in exactly one split, with its label, in dataset order */
    int last_tr = -1, last_va = -1;
    for (int i = 0; i < all.n; i++) {
        int a = index_of(&tr, all.paths[i]), b = index_of(&va, all.paths[i]);
        ck_assert_msg((a >= 0) != (b >= 0), "%s in exactly one split", all.paths[i]);
        if (a >= 0) {
            ck_assert_int_eq(tr.labels[a], all.labels[i]);
            ck_assert_int_gt(a, last_tr);
            last_tr = a;
        } else {
            ck_assert_int_eq(va.labels[b], all.labels[i]);
            ck_assert_int_gt(b, last_va);
            last_va = b;
        }
    }
    dataset_free(&tr);
    dataset_free(&va);
    /* fraction 0: everything trains */
    ck_assert_int_eq(dataset_split(&all, 0.0, 42, &tr, &va, &e), 0);
    ck_assert_int_eq(tr.n, all.n);
    ck_assert_int_eq(va.n, 0);
    dataset_free(&tr);
    dataset_free(&va);
    dataset_free(&all);
}
END_TEST

static int same_split(const dataset *a, const dataset *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->paths[i], b->paths[i]) != 0)
            return 0;
    return 1;
}

START_TEST(split_is_deterministic_per_seed)
{
    dataset all, t1, v1, t2, v2, t3, v3;
    strata_err e = {0};
    make_split_tree(&all);
    ck_assert_int_eq(dataset_split(&all, 0.3, 7, &t1, &v1, &e), 0);
    ck_assert_int_eq(dataset_split(&all, 0.3, 7, &t2, &v2, &e), 0);
    ck_assert_int_eq(dataset_split(&all, 0.3, 8, &t3, &v3, &e), 0);
    ck_assert(same_split(&v1, &v2));
    ck_assert(same_split(&t1, &t2));
    ck_assert_int_eq(v1.n, v3.n);
    ck_assert_msg(!same_split(&v1, &v3), "another seed picks other files");
    /* not simply the first files of each class */
    int first = 1;
    for (int i = 0; i < v1.n; i++)
        first &= strstr(v1.paths[i], "img00") || strstr(v1.paths[i], "img01") ||
                 strstr(v1.paths[i], "img02") || strstr(v1.paths[i], "img03") ||
                 strstr(v1.paths[i], "img04") || strstr(v1.paths[i], "img05");
    ck_assert(!first);
    dataset *all_d[] = {&t1, &v1, &t2, &v2, &t3, &v3, &all};
    for (int i = 0; i < 7; i++)
        dataset_free(all_d[i]);
}
END_TEST

START_TEST(split_rejects_bad_fraction)
{
    dataset all, tr, va;
    make_split_tree(&all);
    const double bad[] = {-0.1, 1.0, 1.5, NAN};
    for (int i = 0; i < 4; i++) {
        strata_err e = {0};
        ck_assert_int_eq(dataset_split(&all, bad[i], 1, &tr, &va, &e), -1);
        ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
        ck_assert_msg(strstr(e.msg, "[0, 1)") != NULL, "%s", e.msg);
        ck_assert_ptr_null(tr.paths);
        ck_assert_ptr_null(va.paths);
    }
    dataset_free(&all);
}
END_TEST

/* The shipped quickstart set: 5 classes of 40 readable photos, shorter side
 * 48 px, each with its attribution line. */
/* Symlink loops (daisy/loop -> .) counted a class 33 times and leaked val
 * photos into training; two loops hung forever. Each real folder is walked
 * once, in this class or an earlier one (a link to another class's folder
 * does not copy its photos). */
START_TEST(scan_follows_each_folder_once)
{
    mkdir_rel("daisy");
    mkdir_rel("daisy/sub");
    mkdir_rel("rose");
    png_rel("daisy/a.png");
    png_rel("daisy/sub/b.png");
    png_rel("rose/c.png");
    char *p = at("daisy/loop");
    ck_assert_int_eq(symlink(".", p), 0);
    free(p);
    p = at("daisy/sub/up");
    ck_assert_int_eq(symlink("..", p), 0);
    free(p);
    p = at("rose/alias");
    ck_assert_int_eq(symlink("../daisy", p), 0);
    free(p);
    dataset ds;
    strata_err e = {0};
    char *log;
    ck_assert_msg(scan_capture(root, &ds, &e, &log) == 0, "%s", e.msg);
    ck_assert_int_eq(ds.n, 3);
    ck_assert_int_eq(ds.labels[0], 0);
    ck_assert_int_eq(ds.labels[1], 0);
    ck_assert_int_eq(ds.labels[2], 1);
    int warnings = 0;
    for (const char *q = log; (q = strstr(q, "already scanned")); q++)
        warnings++;
    ck_assert_int_eq(warnings, 3);
    free(log);
    dataset_free(&ds);
}
END_TEST

/* A FIFO with an image name would block the probe: skipped with a warning. */
START_TEST(scan_skips_fifos)
{
    mkdir_rel("daisy");
    png_rel("daisy/a.png");
    char *p = at("daisy/pipe.png");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    dataset ds;
    strata_err e = {0};
    char *log;
    ck_assert_msg(scan_capture(root, &ds, &e, &log) == 0, "%s", e.msg);
    ck_assert_int_eq(ds.n, 1);
    assert_has(log, p);
    assert_has(log, "not a regular file");
    free(log);
    free(p);
    dataset_free(&ds);
}
END_TEST

/* data.max_pixels: the 2x2 photos pass a limit of 4 pixels, not of 3. */
START_TEST(scan_max_pixels)
{
    mkdir_rel("daisy");
    png_rel("daisy/a.png");
    dataset ds;
    strata_err e = {0};
    ck_assert_msg(dataset_scan_max(root, 4, &ds, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(ds.n, 1);
    ck_assert_int_eq(ds.max_pixels, 4);
    dataset_free(&ds);
    ck_assert_int_eq(dataset_scan_max(root, 3, &ds, &e), -1);
    assert_has(e.msg, "no readable images");
}
END_TEST

START_TEST(shipped_flowers_mini)
{
    const char *src = getenv("STRATA_SRCDIR");
    ck_assert_msg(src != NULL, "STRATA_SRCDIR is set by make check");
    char *mini = fx_path(src, "data/flowers-mini");
    char *attr_path = fx_path(mini, "ATTRIBUTION.txt");
    dataset ds;
    strata_err e = {0};
    ck_assert_msg(dataset_scan(mini, &ds, &e) == 0, "%s", e.msg);
    const char *classes[] = {"daisy", "dandelion", "roses", "sunflowers", "tulips"};
    ck_assert_int_eq(ds.num_classes, 5);
    ck_assert_int_eq(ds.n, 200);
    ck_assert_int_eq(ds.num_skipped, 0);
    uint8_t *attr;
    size_t attr_n;
    ck_assert_int_eq(fx_read(attr_path, &attr, &attr_n), 0);
    attr = realloc(attr, attr_n + 1);
    attr[attr_n] = 0;
    for (int c = 0; c < 5; c++) {
        ck_assert_str_eq(ds.classes[c], classes[c]);
        ck_assert_int_eq(count_label(&ds, c), 40);
    }
    for (int i = 0; i < ds.n; i++) {
        image im;
        ck_assert_msg(image_load(ds.paths[i], &im, &e) == 0, "%s", e.msg);
        ck_assert_int_eq(im.w < im.h ? im.w : im.h, 48);
        image_free(&im);
        /* "class/file CC-BY ..." at the start of a line */
        char line[300];
        snprintf(line, sizeof line, "\n%s CC-BY ", ds.paths[i] + strlen(mini) + 1);
        ck_assert_msg(strstr((char *)attr, line) != NULL, "attribution of %s", ds.paths[i]);
    }
    free(attr);
    free(attr_path);
    free(mini);
    dataset_free(&ds);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("dataset",
        {.name = "dataset", .setup = setup, .teardown = teardown,
         .tests = TESTS(scan_orders_classes_and_files, scan_root_with_trailing_slash, scan_errors,
                        split_is_stratified_and_covers, split_is_deterministic_per_seed,
                        split_rejects_bad_fraction, shipped_flowers_mini, scan_follows_each_folder_once,
                        scan_skips_fifos, scan_max_pixels)});
}
