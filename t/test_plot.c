/* test_plot.c — the bitmap font, nice ticks, chart drawing and PNG writing
 * (decoded back with libpng), and `strata plot` end to end on a temporary
 * results database. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plot/font.h"
#include "plot/plot.h"
#include "store/results.h"
#include "run_strata.h"
#include "testlib.h"

static char tmpdir[4096];

/* ---- helpers ---------------------------------------------------------- */

static void path_in(char *buf, const char *name)
{
    snprintf(buf, 4096, "%.3000s/%s", tmpdir, name);
}

/* Decode a PNG as 8-bit RGB (malloc'd); NULL when it cannot be read. */
static unsigned char *read_png(const char *path, int *w, int *h)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path))
        return NULL;
    im.format = PNG_FORMAT_RGB;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(im));
    if (!png_image_finish_read(&im, NULL, buf, 0, NULL)) {
        free(buf);
        return NULL;
    }
    *w = (int)im.width, *h = (int)im.height;
    return buf;
}

static int is_rgb(const unsigned char *img, int W, int x, int y, uint32_t rgb)
{
    const unsigned char *p = img + ((size_t)y * W + x) * 3;
    return p[0] == (rgb >> 16 & 0xff) && p[1] == (rgb >> 8 & 0xff) && p[2] == (rgb & 0xff);
}

/* Pixels of exactly rgb inside r. */
static long count_in(const unsigned char *img, int W, plot_rect r, uint32_t rgb)
{
    long n = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++)
            n += is_rgb(img, W, x, y, rgb);
    return n;
}

static long count_all(const unsigned char *img, int W, int H, uint32_t rgb)
{
    return count_in(img, W, (plot_rect){0, 0, W, H}, rgb);
}

/* The n-th series: a rising, noisy accuracy-like curve over epochs 1..n. */
static void make_series(int k, int n, double *x, double *y)
{
    for (int i = 0; i < n; i++) {
        x[i] = i + 1;
        y[i] = 0.9 - (0.7 - 0.1 * k) * exp(-(i + 1) / (4.0 + 3 * k)) + 0.01 * sin(i * 1.7 + k);
    }
}

/* Files in tmpdir whose name contains s. */
static int files_containing(const char *s)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, s) != NULL;
    if (d)
        closedir(d);
    return n;
}

/* ---- font ------------------------------------------------------------- */

START_TEST(test_font_glyphs)
{
    /* every printable character but space has pixels, and its own shape */
    static unsigned char bits[95][FONT_H][FONT_W];
    for (int c = 32; c < 127; c++) {
        int on = 0;
        for (int r = 0; r < FONT_H; r++)
            for (int k = 0; k < FONT_W; k++)
                on += bits[c - 32][r][k] = (unsigned char)font_pixel(c, r, k);
        if (c == ' ')
            ck_assert_int_eq(on, 0);
        else
            ck_assert_msg(on > 0, "glyph '%c' is empty", c);
    }
    for (int a = 0; a < 95; a++)
        for (int b = a + 1; b < 95; b++)
            ck_assert_msg(memcmp(bits[a], bits[b], sizeof bits[a]), "'%c' and '%c' look the same", a + 32, b + 32);
    /* outside the box nothing; outside ASCII a '?' */
    ck_assert_int_eq(font_pixel('A', -1, 0) + font_pixel('A', FONT_H, 0) + font_pixel('A', 0, FONT_W), 0);
    for (int r = 0; r < FONT_H; r++)
        for (int k = 0; k < FONT_W; k++)
            ck_assert_int_eq(font_pixel(200, r, k), font_pixel('?', r, k));
    /* descenders below the baseline, capitals above it */
    int below = 0;
    for (int k = 0; k < FONT_W; k++)
        below += font_pixel('g', FONT_ASCENT, k) + font_pixel('y', FONT_ASCENT + 1, k) - font_pixel('E', FONT_ASCENT, k);
    ck_assert_int_gt(below, 0);
}
END_TEST

START_TEST(test_font_width_and_utf8)
{
    ck_assert_int_eq(font_text_width("", 3), 0);
    ck_assert_int_eq(font_text_width("a", 1), FONT_W);
    ck_assert_int_eq(font_text_width("abc", 2) - font_text_width("ab", 2), 2 * FONT_ADVANCE);
    ck_assert_int_eq(font_text_len("caf\xc3\xa9!"), 5); /* é is one character */
    /* drawn: é as '?', and the same as "caf?!" */
    int W = 40, H = 12;
    unsigned char a[40 * 12 * 3], b[40 * 12 * 3];
    memset(a, 255, sizeof a), memset(b, 255, sizeof b);
    font_draw(a, W, H, 1, 1, "caf\xc3\xa9!", 1, 0);
    font_draw(b, W, H, 1, 1, "caf?!", 1, 0);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

START_TEST(test_font_draw_up_is_rotation)
{
    /* "Ag" drawn upright and rotated: pixel (x, y) upright is pixel
     * (y, width - 1 - x) rotated, for the same scale. */
    enum { S = 2, W = 40, H = 40 };
    static unsigned char a[W * H * 3], b[W * H * 3];
    memset(a, 255, sizeof a), memset(b, 255, sizeof b);
    int tw = font_text_width("Ag", S);
    font_draw(a, W, H, 0, 0, "Ag", S, 0x123456);
    font_draw_up(b, W, H, 0, 0, "Ag", S, 0x123456);
    int set = 0;
    for (int y = 0; y < FONT_H * S; y++)
        for (int x = 0; x < tw; x++) {
            ck_assert_int_eq(is_rgb(a, W, x, y, 0x123456), is_rgb(b, W, y, tw - 1 - x, 0x123456));
            set += is_rgb(a, W, x, y, 0x123456);
        }
    ck_assert_int_gt(set, 20);
    ck_assert_int_eq(count_all(b, W, H, 0x123456), set); /* nothing else drawn */
}
END_TEST

START_TEST(test_font_clipping)
{
    /* text past every edge: pixels inside change, the guard bytes around
     * the image do not */
    enum { W = 30, H = 20, GUARD = 4096 };
    unsigned char *mem = malloc(W * H * 3 + 2 * GUARD), *img = mem + GUARD;
    memset(mem, 0xab, W * H * 3 + 2 * GUARD);
    memset(img, 255, W * H * 3);
    font_draw(img, W, H, -7, -5, "WWWWWWWW", 3, 0);
    font_draw(img, W, H, W - 4, H - 4, "MMMM", 3, 0);
    font_draw_up(img, W, H, -6, -30, "long text going up", 2, 0);
    font_draw_up(img, W, H, W - 3, H - 5, "###", 2, 0);
    for (int i = 0; i < GUARD; i++) {
        ck_assert_int_eq(mem[i], 0xab);
        ck_assert_int_eq(mem[GUARD + W * H * 3 + i], 0xab);
    }
    ck_assert_int_gt(count_all(img, W, H, 0), 0);
    free(mem);
}
END_TEST

/* ---- ticks ------------------------------------------------------------ */

START_TEST(test_nice_ticks)
{
    static const double ranges[][2] = {{0, 1},     {0.18, 0.87}, {-3.2, 7.9}, {1, 30},     {0.5, 1.5},
                                       {1e-5, 3e-4}, {350, 5100}, {0.999, 1.001}, {-1e6, -2e3}, {2.2, 2.3}};
    for (int r = 0; r < 10; r++)
        for (int max = 2; max <= 12; max += 5) {
            double lo = ranges[r][0], hi = ranges[r][1], first, step;
            int n;
            plot_nice_ticks(lo, hi, max, 0, &first, &step, &n);
            double m = step / pow(10, floor(log10(step) + 1e-9));
            ck_assert_msg(fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9,
                          "[%g, %g]: step %g is not 1, 2 or 5 times a power of ten", lo, hi, step);
            ck_assert_int_le(n, max);
            ck_assert_int_ge(n, 1);
            ck_assert(first >= lo - step * 1e-6 && first - step < lo);
            ck_assert(first + (n - 1) * step <= hi + step * 1e-6 && first + n * step > hi);
            /* the next smaller nice step would give too many ticks */
            double smaller = fabs(m - 1) < 1e-9 ? step / 2 : fabs(m - 2) < 1e-9 ? step / 2 : step * 2 / 5;
            int more = (int)(floor(hi / smaller + 1e-9) - ceil(lo / smaller - 1e-9)) + 1;
            ck_assert_msg(more > max, "[%g, %g] max %d: step %g, but %g gives %d ticks", lo, hi, max, step,
                          smaller, more);
        }
    /* a floor on the step: epochs 1..3 with room for 20 ticks step by 1 */
    double first, step;
    int n;
    plot_nice_ticks(1, 3, 20, 1, &first, &step, &n);
    ck_assert_double_eq_tol(step, 1, 1e-12);
    ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(test_tick_labels)
{
    char buf[64];
    static const double steps[] = {0.1, 0.2, 0.05, 1, 5, 1000, 0.0002, 2e-5};
    for (int i = 0; i < 8; i++)
        for (int k = -3; k <= 7; k++) {
            double v = k * steps[i] * 1.0;
            plot_tick_label(v, steps[i], buf, sizeof buf);
            ck_assert_msg(fabs(strtod(buf, NULL) - v) <= steps[i] * 0.01, "%g (step %g) labelled '%s'", v, steps[i],
                          buf);
            ck_assert_msg(strncmp(buf, "-0", 2) || strtod(buf, NULL) != 0, "'%s' for %g", buf, v);
        }
    plot_tick_label(-1e-17, 0.1, buf, sizeof buf); /* rounding noise around zero */
    ck_assert_str_eq(buf, "0.0");
    plot_tick_label(3000, 1000, buf, sizeof buf);
    ck_assert_ptr_null(strchr(buf, '.'));
}
END_TEST

/* ---- drawing ---------------------------------------------------------- */

/* Checks shared by the in-memory and end-to-end charts: size, white
 * background, each series' colour on the lines and in the legend, text in
 * the legend, title and tick labels, nothing coloured outside the plot
 * area and the legend. */
static void check_chart(const unsigned char *img, int W, int H, int n_series, const plot_layout *L)
{
    long white = count_all(img, W, H, PLOT_BACKGROUND);
    ck_assert_msg(white > 0.7 * W * H, "only %ld of %d pixels white", white, W * H);
    for (int k = 0; k < n_series; k++) {
        uint32_t c = plot_palette(k);
        long in_area = count_in(img, W, L->area, c), in_legend = count_in(img, W, L->legend, c);
        ck_assert_msg(in_area > 150, "series %d: %ld pixels of %06x in the plot area", k, in_area, c);
        ck_assert_msg(in_legend >= 20, "series %d: %ld pixels of %06x in the legend", k, in_legend, c);
        /* everything in that colour is in the plot area (the legend is in it) */
        ck_assert_int_eq(count_all(img, W, H, c), in_area);
    }
    ck_assert_msg(count_in(img, W, L->legend, PLOT_TEXT) > 60 * n_series, "no legend text");
    ck_assert_msg(count_in(img, W, (plot_rect){0, 0, W, L->area.y - 2}, PLOT_TEXT) > 50, "no title");
    ck_assert_msg(count_in(img, W, (plot_rect){0, L->area.y, L->area.x - 2, L->area.h}, PLOT_TEXT) > 50,
                  "no y tick labels");
    ck_assert_msg(count_in(img, W, (plot_rect){0, L->area.y + L->area.h + 2, W, H - L->area.y - L->area.h - 2},
                           PLOT_TEXT) > 50, "no x tick labels");
    /* the legend lies inside the plot area */
    ck_assert(L->legend.x >= L->area.x && L->legend.x + L->legend.w <= L->area.x + L->area.w);
    ck_assert(L->legend.y >= L->area.y && L->legend.y + L->legend.h <= L->area.y + L->area.h);
}

START_TEST(test_render_three_series)
{
    enum { W = 800, H = 500, N = 30 };
    double x[3][N], y[3][N];
    plot_series s[3];
    const char *labels[3] = {"1 alpha (vgg11)", "2 beta (vgg16)", "3 gamma (alexnet)"};
    for (int k = 0; k < 3; k++) {
        make_series(k, N, x[k], y[k]);
        s[k] = (plot_series){.label = labels[k], N, x[k], y[k]};
    }
    unsigned char *img = malloc(W * H * 3);
    plot_layout L;
    strata_err err = {0};
    ck_assert_int_eq(plot_render(img, W, H, "val_acc", "epoch", "val_acc", s, 3, &L, &err), 0);
    check_chart(img, W, H, 3, &L);
    /* rising curves fill the top: the legend goes to the bottom half */
    ck_assert_int_gt(L.legend.y + L.legend.h / 2, L.area.y + L.area.h / 2);
    /* written and decoded back: the same size and pixels */
    char png[4096];
    path_in(png, "three.png");
    ck_assert_int_eq(plot_write_png(png, img, W, H, &err), 0);
    int w, h;
    unsigned char *back = read_png(png, &w, &h);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(w, W);
    ck_assert_int_eq(h, H);
    ck_assert_mem_eq(back, img, W * H * 3);
    ck_assert_int_eq(files_containing(".tmp-"), 0);
    struct stat st;
    ck_assert_int_eq(stat(png, &st), 0);
    ck_assert_int_eq(st.st_mode & 0044, 0044); /* not left 0600 by mkstemp (umask 022 in tests) */
    free(back);
    free(img);
}
END_TEST

START_TEST(test_render_falling_legend_top)
{
    enum { W = 640, H = 400, N = 20 };
    double x[2][N], y[2][N];
    plot_series s[2];
    for (int k = 0; k < 2; k++) {
        make_series(k, N, x[k], y[k]);
        for (int i = 0; i < N; i++)
            y[k][i] = 1 - y[k][i]; /* a loss: falls to the bottom */
        s[k] = (plot_series){.label = k ? "b" : "a", N, x[k], y[k]};
    }
    unsigned char *img = malloc(W * H * 3);
    plot_layout L;
    ck_assert_int_eq(plot_render(img, W, H, NULL, "epoch", "loss", s, 2, &L, NULL), 0);
    ck_assert_int_lt(L.legend.y + L.legend.h / 2, L.area.y + L.area.h / 2);
    free(img);
}
END_TEST

START_TEST(test_render_gaps_and_odd_series)
{
    /* a NaN gap with an isolated point, an empty series, a constant one */
    enum { W = 400, H = 300 };
    double x1[7] = {1, 2, 3, 4, 5, 6, 7}, y1[7] = {5, 4, NAN, 3.5, NAN, 2, 1};
    double x2[4] = {1, 2, 3, 4}, y2[4] = {-2, -2, -2, -2};
    plot_series s[3] = {{.label = "gappy", 7, x1, y1}, {.label = "empty", 0, NULL, NULL}, {.label = "flat", 4, x2, y2}};
    unsigned char *img = malloc(W * H * 3);
    plot_layout L;
    ck_assert_int_eq(plot_render(img, W, H, "t", "epoch", "y", s, 3, &L, NULL), 0);
    ck_assert_int_gt(count_in(img, W, L.area, plot_palette(0)), 30);
    ck_assert_int_eq(count_in(img, W, L.area, plot_palette(1)) - count_in(img, W, L.legend, plot_palette(1)),
                     0); /* nothing to draw */
    ck_assert_int_gt(count_in(img, W, L.legend, plot_palette(1)), 0); /* but listed */
    ck_assert_int_gt(count_in(img, W, L.area, plot_palette(2)), 30);
    /* at the smallest size, a title and labels longer than the image */
    char longtext[300];
    memset(longtext, 'M', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    ck_assert_int_eq(plot_render(img, PLOT_MIN_W, PLOT_MIN_H, longtext, longtext, longtext, s, 3, &L, NULL), 0);
    ck_assert_int_gt(count_in(img, PLOT_MIN_W, (plot_rect){0, 0, PLOT_MIN_W, L.area.y - 2}, PLOT_TEXT), 50);
    /* no series at all: axes, no legend */
    ck_assert_int_eq(plot_render(img, W, H, "nothing", "epoch", "y", NULL, 0, &L, NULL), 0);
    ck_assert_int_eq(L.legend.w * L.legend.h, 0);
    ck_assert_int_gt(count_all(img, W, H, PLOT_TEXT), 100);
    free(img);
}
END_TEST

START_TEST(test_render_many_series_and_large)
{
    /* more series than the palette (colours repeat) and than the legend can
     * hold at the smallest size; then a large image at text scale 2 */
    enum { N = 12, K = 25 };
    static double x[K][N], y[K][N];
    static plot_series s[K];
    static char labels[K][64];
    for (int k = 0; k < K; k++) {
        make_series(k % 7, N, x[k], y[k]);
        snprintf(labels[k], sizeof labels[k], "%d run-with-a-long-name-%d (vgg16)", k + 1, k);
        s[k] = (plot_series){.label = labels[k], N, x[k], y[k]};
    }
    ck_assert_int_ne(plot_palette(0), plot_palette(PLOT_PALETTE_SIZE - 1));
    ck_assert_int_eq(plot_palette(PLOT_PALETTE_SIZE), plot_palette(0));
    for (int i = 0; i < PLOT_PALETTE_SIZE; i++)
        for (int j = i + 1; j < PLOT_PALETTE_SIZE; j++) {
            uint32_t a = plot_palette(i), b = plot_palette(j);
            int d = abs((int)(a >> 16) - (int)(b >> 16)) + abs((int)(a >> 8 & 255) - (int)(b >> 8 & 255)) +
                    abs((int)(a & 255) - (int)(b & 255));
            ck_assert_msg(d > 80, "palette %d and %d are too alike", i, j);
        }
    unsigned char *img = malloc(1600 * 1000 * 3);
    plot_layout L;
    ck_assert_int_eq(plot_render(img, PLOT_MIN_W, PLOT_MIN_H, "many", "epoch", "y", s, K, &L, NULL), 0);
    ck_assert(L.legend.y + L.legend.h <= L.area.y + L.area.h && L.legend.x >= L.area.x);
    ck_assert_int_eq(plot_render(img, 1600, 1000, "large", "epoch", "y", s, 3, &L, NULL), 0);
    ck_assert_int_eq(L.text_scale, 2);
    check_chart(img, 1600, 1000, 3, &L);
    free(img);
}
END_TEST

START_TEST(test_render_errors)
{
    unsigned char *img = malloc(PLOT_MAX_W * 3 * 2);
    double x[1] = {1}, y[1] = {1};
    plot_series ok = {.label = "a", 1, x, y}, bad = {.label = "b", 2, x, NULL}, neg = {.label = "c", -1, x, y};
    strata_err err = {0};
    ck_assert_int_eq(plot_render(img, PLOT_MIN_W - 1, 300, "t", "x", "y", &ok, 1, NULL, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "199x300"));
    ck_assert_int_eq(plot_render(img, 300, PLOT_MAX_H + 1, "t", "x", "y", &ok, 1, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected"));
    ck_assert_int_eq(plot_render(img, 300, 200, "t", "x", "y", &bad, 1, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "series 0"));
    ck_assert_int_eq(plot_render(img, 300, 200, "t", "x", "y", &neg, 1, NULL, &err), -1);
    ck_assert_int_eq(plot_render(img, 300, 200, "t", "x", "y", NULL, 2, NULL, &err), -1);
    ck_assert_int_eq(plot_render(img, 300, 200, "t", "x", "y", &ok, -1, NULL, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    free(img);
}
END_TEST

START_TEST(test_write_png_errors)
{
    unsigned char img[4 * 3 * 3];
    memset(img, 128, sizeof img);
    strata_err err = {0};
    char path[4096];
    /* no such directory */
    path_in(path, "missing/x.png");
    ck_assert_int_eq(plot_write_png(path, img, 4, 3, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_RUNTIME);
    ck_assert_ptr_nonnull(strstr(err.msg, "missing/x.png"));
    /* the target is a directory: the rename fails, the temporary goes */
    path_in(path, "adir");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(plot_write_png(path, img, 4, 3, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_RUNTIME);
    ck_assert_int_eq(files_containing(".tmp-"), 0);
    /* a path with no room for the temporary's suffix */
    char *longpath = malloc(5000);
    memset(longpath, 'a', 4999);
    longpath[4999] = '\0';
    ck_assert_int_eq(plot_write_png(longpath, img, 4, 3, &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "too long"));
    free(longpath);
    /* an existing file is replaced whole */
    path_in(path, "old.png");
    FILE *f = fopen(path, "w");
    fputs("not a png at all, and longer than nothing", f);
    fclose(f);
    ck_assert_int_eq(plot_write_png(path, img, 4, 3, &err), 0);
    int w, h;
    unsigned char *back = read_png(path, &w, &h);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(w * 10 + h, 43);
    ck_assert_mem_eq(back, img, sizeof img);
    free(back);
}
END_TEST

/* ---- strata plot ------------------------------------------------------ */

static char dbpath[4096];
static const char *run_names[4] = {"alpha", "beta", "gamma", "idle"};
static const char *run_models[4] = {"vgg11", "vgg16", "alexnet", "vgg11"};
enum { RUN_EPOCHS = 25 };

static double metric_of(int run, int epoch, int which)
{
    double t = epoch / (5.0 + 4 * run);
    return which ? 2.1 * exp(-t) + 0.3 : 0.85 - 0.7 * exp(-t) + 0.02 * sin(epoch + run);
}

/* Runs 1..3 with 25 epochs each (ids 1..3), run 4 with none, and a
 * second "alpha" (id 5) with 10 epochs. */
static void make_db(void)
{
    results *r;
    strata_err err = {0};
    path_in(dbpath, "strata.db");
    ck_assert_msg(results_open(dbpath, &r, &err) == 0, "%s", err.msg);
    for (int k = 0; k < 5; k++) {
        run_info info = {.name = run_names[k % 4], .experiment = "x.yaml", .config = "{}",
                         .model = run_models[k % 4], .seed = 1, .params = 100};
        int64_t id;
        ck_assert_int_eq(results_run_begin(r, &info, &id, &err), 0);
        int n = k < 3 ? RUN_EPOCHS : k == 4 ? 10 : 0;
        for (int e = 1; e <= n; e++) {
            epoch_row row = {e, 1, 0.5, metric_of(k, e, 1), metric_of(k, e, 0), 0.01, 2, 100};
            ck_assert_int_eq(results_epoch(r, id, &row, &err), 0);
        }
    }
    results_close(r);
}

static void setup(void)
{
    make_temp_dir(tmpdir, sizeof tmpdir, "test_plot");
    umask(022);
    make_db();
}

static void teardown(void)
{
    fx_rm_rf(tmpdir);
}

/* The chart `strata plot 1 2 3` should draw, through the API. */
static void expected_chart(const char *metric, int which, int W, int H, unsigned char *img, plot_layout *L)
{
    double x[3][RUN_EPOCHS], y[3][RUN_EPOCHS];
    char labels[3][64];
    plot_series s[3];
    for (int k = 0; k < 3; k++) {
        for (int e = 1; e <= RUN_EPOCHS; e++)
            x[k][e - 1] = e, y[k][e - 1] = metric_of(k, e, which);
        snprintf(labels[k], sizeof labels[k], "%d %s (%s)", k + 1, run_names[k], run_models[k]);
        s[k] = (plot_series){.label = labels[k], RUN_EPOCHS, x[k], y[k]};
        int best = 0; /* val_acc: a ring on the best epoch (the first of equals) */
        for (int e = 1; e < RUN_EPOCHS; e++)
            best = y[k][e] > y[k][best] ? e : best;
        s[k].mark_x = which == 0 ? x[k][best] : 0;
    }
    ck_assert_int_eq(plot_render(img, W, H, metric, "epoch", metric, s, 3, L, NULL), 0);
}

START_TEST(test_cli_three_runs)
{
    char out[4096];
    path_in(out, "runs.png");
    const char *argv[] = {"plot", "1", "2", "3", "-o", out, "--db", dbpath, NULL};
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    int w, h;
    unsigned char *img = read_png(out, &w, &h), *want = malloc(800 * 500 * 3);
    ck_assert_ptr_nonnull(img);
    ck_assert_int_eq(w, 800); /* the default size */
    ck_assert_int_eq(h, 500);
    plot_layout L;
    expected_chart("val_acc", 0, 800, 500, want, &L);
    check_chart(img, w, h, 3, &L);
    ck_assert_msg(!memcmp(img, want, 800 * 500 * 3), "strata plot drew something else than the API");
    ck_assert_int_eq(files_containing(".tmp-"), 0);
    free(img);
    free(want);
    run_strata_free(&r);
}
END_TEST

START_TEST(test_cli_metric_size_title_names)
{
    char out[4096];
    path_in(out, "loss.png");
    /* by name: "alpha" is the newest alpha (id 5, 10 epochs); run 4 has none */
    const char *argv[] = {"plot", "alpha", "idle", "--metric", "val_loss", "--size", "640x400",
                          "--title", "Validation loss", "-o", out, "--db", dbpath, NULL};
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_int_eq(count_lines(r.err), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "warning"));
    ck_assert_ptr_nonnull(strstr(r.err, "4 idle (vgg11)"));
    int w, h;
    unsigned char *img = read_png(out, &w, &h), *want = malloc(640 * 400 * 3);
    ck_assert_ptr_nonnull(img);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 400);
    double x[10], y[10];
    for (int e = 1; e <= 10; e++)
        x[e - 1] = e, y[e - 1] = metric_of(4, e, 1);
    plot_series s[2] = {{.label = "5 alpha (vgg11)", 10, x, y}, {.label = "4 idle (vgg11)", 0, NULL, NULL}};
    plot_layout L;
    ck_assert_int_eq(plot_render(want, 640, 400, "Validation loss", "epoch", "val_loss", s, 2, &L, NULL), 0);
    ck_assert_msg(!memcmp(img, want, 640 * 400 * 3), "strata plot drew something else than the API");
    ck_assert_int_gt(count_in(img, w, L.legend, plot_palette(1)), 20); /* the idle run is in the legend */
    ck_assert_int_eq(count_in(img, w, L.area, plot_palette(1)) - count_in(img, w, L.legend, plot_palette(1)), 0);
    free(img);
    free(want);
    run_strata_free(&r);
}
END_TEST

/* strata plot ARGS... (after "plot") must fail with status, one line on
 * stderr containing `needle`, and write nothing. */
static void expect_failure(const char *const *args, int status, const char *needle)
{
    const char *argv[24] = {"plot"};
    int n = 1;
    while (*args)
        argv[n++] = *args++;
    argv[n] = NULL;
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    ck_assert_msg(r.status == status, "%s: exit %d, expected %d: %s", needle, r.status, status, r.err);
    ck_assert_msg(count_lines(r.err) == 1, "%s: not one line: %s", needle, r.err);
    ck_assert_msg(strstr(r.err, needle), "'%s' not in: %s", needle, r.err);
    ck_assert_str_eq(r.out, "");
    ck_assert_int_eq(files_containing("bad.png"), 0);
    run_strata_free(&r);
}

START_TEST(test_cli_errors)
{
    char out[4096], nodb[4096], nodir[4096], dir[4096];
    path_in(out, "bad.png");
    path_in(nodb, "none.db");
    path_in(nodir, "missing/bad.png");
    path_in(dir, "adir-out");
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    const char *db = dbpath;
    expect_failure((const char *[]){"1", "nosuch", "-o", out, "--db", db, NULL}, 2, "nosuch");
    expect_failure((const char *[]){"99", "-o", out, "--db", db, NULL}, 2, "'99'");
    expect_failure((const char *[]){"1", "--metric", "accuracy", "-o", out, "--db", db, NULL}, 2, "accuracy");
    expect_failure((const char *[]){"1", "--size", "199x150", "-o", out, "--db", db, NULL}, 2, "199x150");
    expect_failure((const char *[]){"1", "--size", "200x149", "-o", out, "--db", db, NULL}, 2, "--size");
    expect_failure((const char *[]){"1", "--size", "8001x500", "-o", out, "--db", db, NULL}, 2, "--size");
    expect_failure((const char *[]){"1", "--size", "800x", "-o", out, "--db", db, NULL}, 2, "WxH");
    expect_failure((const char *[]){"1", "--size", "800x500px", "-o", out, "--db", db, NULL}, 2, "WxH");
    expect_failure((const char *[]){"1", "--size", "big", "-o", out, "--db", db, NULL}, 2, "WxH");
    expect_failure((const char *[]){"1", "--db", db, NULL}, 2, "-o");
    expect_failure((const char *[]){"1", "-o", "", "--db", db, NULL}, 2, "-o");
    expect_failure((const char *[]){"1", "--db", db, "-o", NULL}, 2, "missing value");
    expect_failure((const char *[]){"-o", out, "--db", db, NULL}, 2, "RUN");
    expect_failure((const char *[]){"1", "-o", out, "--db", db, "--bogus", NULL}, 2, "--bogus");
    expect_failure((const char *[]){"1", "-o", out, "--db", nodb, NULL}, 2, "none.db");
    expect_failure((const char *[]){"1", "-o", nodir, "--db", db, NULL}, 1, "missing/bad.png");
    expect_failure((const char *[]){"1", "-o", dir, "--db", db, NULL}, 1, "adir-out");
    ck_assert_int_eq(files_containing(".tmp-"), 0);
    ck_assert_int_ne(access(nodb, F_OK), 0); /* not created */
}
END_TEST

START_TEST(test_cli_help)
{
    const char *argv[] = {"plot", "--help", NULL};
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: strata plot"));
    ck_assert_ptr_nonnull(strstr(r.out, "images_per_sec"));
    run_strata_free(&r);
    const char *top[] = {"--help", NULL};
    ck_assert_int_eq(run_strata(top, &r), 0);
    ck_assert_ptr_nonnull(strstr(r.out, "plot"));
    run_strata_free(&r);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("plot",
        {.name = "plot", .setup = setup, .teardown = teardown,
         .tests = TESTS(test_font_glyphs, test_font_width_and_utf8, test_font_draw_up_is_rotation,
                        test_font_clipping, test_nice_ticks, test_tick_labels, test_render_three_series,
                        test_render_falling_legend_top, test_render_gaps_and_odd_series,
                        test_render_many_series_and_large, test_render_errors, test_write_png_errors,
                        test_cli_three_runs, test_cli_metric_size_title_names, test_cli_errors, test_cli_help)});
}
