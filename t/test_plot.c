/* test_plot.c — the bitmap font, nice ticks, chart drawing and PNG writing
 * (decoded back with libpng), and `strata plot` end to end on a temporary
 * results database. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plot/font.h"
#include "plot/confusion.h"
#include "plot/plot.h"
#include "png_check.h"
#include "store/results.h"
#include "run_strata.h"
#include "testlib.h"

static char tmpdir[4096];

/* ---- helpers ---------------------------------------------------------- */

static void path_in(char *buf, const char *name)
{
    snprintf(buf, 4096, "%.3000s/%s", tmpdir, name);
}

static long count_all(const unsigned char *img, int W, int H, uint32_t rgb)
{
    return png_check_count(img, W, (plot_rect){0, 0, W, H}, rgb);
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

/* Pixels in which the glyphs of a and b differ. */
static int glyph_distance(int a, int b)
{
    int d = 0;
    for (int r = 0; r < FONT_H; r++)
        for (int k = 0; k < FONT_W; k++)
            d += font_pixel(a, r, k) != font_pixel(b, r, k);
    return d;
}

START_TEST(test_font_lookalikes_and_size)
{
    /* characters easily taken for one another differ in 8 pixels or more */
    static const char *const groups[] = {"l1I|ij", "O0oQDC", "5S", "2Z", "8B3", "g9qy",
                                         "uvn",    "nhm",    "xXk", "vyV", "wW", "/\\|"};
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
        for (const char *a = groups[g]; *a; a++)
            for (const char *b = a + 1; *b; b++)
                ck_assert_msg(glyph_distance(*a, *b) >= 8, "'%c' and '%c' differ in %d pixels", *a, *b,
                              glyph_distance(*a, *b));
    /* twice the old 5x9 glyphs: 'H' is 10 wide and 14 tall, with 2-pixel
     * stems, and stands on the baseline */
    ck_assert_int_ge(FONT_W, 10);
    ck_assert_int_ge(FONT_ASCENT, 14);
    for (int r = 0; r < FONT_H; r++)
        for (int k = 0; k < 2; k++) {
            ck_assert_int_eq(font_pixel('H', r, k), r < FONT_ASCENT);
            ck_assert_int_eq(font_pixel('H', r, FONT_W - 1 - k), r < FONT_ASCENT);
        }
    ck_assert_int_eq(font_pixel('H', FONT_ASCENT / 2, FONT_W / 2), 1); /* the bar */
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
    enum { S = 2, W = 64, H = 64 };
    static unsigned char a[W * H * 3], b[W * H * 3];
    memset(a, 255, sizeof a), memset(b, 255, sizeof b);
    int tw = font_text_width("Ag", S);
    font_draw(a, W, H, 0, 0, "Ag", S, 0x123456);
    font_draw_up(b, W, H, 0, 0, "Ag", S, 0x123456);
    int set = 0;
    for (int y = 0; y < FONT_H * S; y++)
        for (int x = 0; x < tw; x++) {
            ck_assert_int_eq(png_check_is(a, W, x, y, 0x123456), png_check_is(b, W, y, tw - 1 - x, 0x123456));
            set += png_check_is(a, W, x, y, 0x123456);
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
        long in_area = png_check_count(img, W, L->area, c), in_legend = png_check_count(img, W, L->legend, c);
        ck_assert_msg(in_area > 150, "series %d: %ld pixels of %06x in the plot area", k, in_area, c);
        ck_assert_msg(in_legend >= 20, "series %d: %ld pixels of %06x in the legend", k, in_legend, c);
        /* everything in that colour is in the plot area (the legend is in it) */
        ck_assert_int_eq(count_all(img, W, H, c), in_area);
    }
    ck_assert_msg(png_check_count(img, W, L->legend, PLOT_TEXT) > 60 * n_series, "no legend text");
    ck_assert_msg(png_check_count(img, W, (plot_rect){0, 0, W, L->area.y - 2}, PLOT_TEXT) > 50, "no title");
    ck_assert_msg(png_check_count(img, W, (plot_rect){0, L->area.y, L->area.x - 2, L->area.h}, PLOT_TEXT) > 50,
                  "no y tick labels");
    ck_assert_msg(png_check_count(img, W, (plot_rect){0, L->area.y + L->area.h + 2, W, H - L->area.y - L->area.h - 2},
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
    unsigned char *back = png_check_read(png, &w, &h);
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
    ck_assert_int_gt(png_check_count(img, W, L.area, plot_palette(0)), 30);
    ck_assert_int_eq(png_check_count(img, W, L.area, plot_palette(1)) - png_check_count(img, W, L.legend, plot_palette(1)),
                     0); /* nothing to draw */
    ck_assert_int_gt(png_check_count(img, W, L.legend, plot_palette(1)), 0); /* but listed */
    ck_assert_int_gt(png_check_count(img, W, L.area, plot_palette(2)), 30);
    /* at the smallest size, a title and labels longer than the image */
    char longtext[300];
    memset(longtext, 'M', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    ck_assert_int_eq(plot_render(img, PLOT_MIN_W, PLOT_MIN_H, longtext, longtext, longtext, s, 3, &L, NULL), 0);
    ck_assert_int_gt(png_check_count(img, PLOT_MIN_W, (plot_rect){0, 0, PLOT_MIN_W, L.area.y - 2}, PLOT_TEXT), 50);
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
    unsigned char *back = png_check_read(path, &w, &h);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(w * 10 + h, 43);
    ck_assert_mem_eq(back, img, sizeof img);
    free(back);
}
END_TEST

START_TEST(test_render_text_legible)
{
    /* the axis label, legend labels and tick labels read exactly as the
     * glyphs, nothing drawn over them */
    enum { W = 800, H = 500, N = 30 };
    double x[2][N], y[2][N];
    plot_series s[2];
    const char *labels[2] = {"1 alpha (vgg11) train_acc", "1 alpha (vgg11) val_acc"};
    for (int k = 0; k < 2; k++) {
        make_series(k, N, x[k], y[k]);
        s[k] = (plot_series){.label = labels[k], N, x[k], y[k], .colour = 1, .dash = k};
    }
    unsigned char *img = malloc(W * H * 3);
    plot_layout L;
    ck_assert_int_eq(plot_render(img, W, H, "accuracy", "epoch", "accuracy", s, 2, &L, NULL), 0);
    ck_assert_int_eq(L.text_scale, 1);
    int tx, ty, below = L.area.y + L.area.h;
    plot_rect under = {L.area.x, below, L.area.w, H - below};
    ck_assert_msg(png_check_find_text(img, W, H, under, "epoch", 1, PLOT_TEXT, &tx, &ty) == 0, "no 'epoch'");
    int lx, ly;
    ck_assert_int_eq(png_check_find_text(img, W, H, under, "10", 1, PLOT_TEXT, &lx, &ly), 0); /* a tick */
    ck_assert_int_lt(ly + FONT_H, ty);                                                      /* above the label */
    for (int k = 0; k < 2; k++)
        ck_assert_msg(png_check_find_text(img, W, H, L.legend, labels[k], 1, PLOT_TEXT, &lx, &ly) == 0,
                      "legend label '%s' not legible", labels[k]);
    /* at a larger size everything is drawn at scale 2 */
    unsigned char *big = malloc(1600 * 1000 * 3);
    ck_assert_int_eq(plot_render(big, 1600, 1000, "accuracy", "epoch", "accuracy", s, 2, &L, NULL), 0);
    ck_assert_int_eq(L.text_scale, 2);
    ck_assert_int_eq(png_check_find_text(big, 1600, 1000, L.legend, labels[1], 2, PLOT_TEXT, &lx, &ly), 0);
    free(big);
    free(img);
}
END_TEST

static const char *const flower_names[5] = {"daisy", "dandelion_long_name", "roses", "sunflowers", "tulips"};

static void flower_counts(int64_t *count)
{
    for (int t = 0; t < 5; t++)
        for (int p = 0; p < 5; p++)
            count[t * 5 + p] = t == p ? 120 + 7 * t : (t * 3 + p * 5) % 13;
}

START_TEST(test_confusion_png)
{
    enum { W = 800, H = 500 };
    int64_t count[25];
    flower_counts(count);
    confusion c = {5, flower_names, count};
    unsigned char *img = malloc(W * H * 3);
    confusion_layout L;
    strata_err err = {0};
    ck_assert_int_eq(confusion_render(img, W, H, &c, "confusion: run 3, eval 12", &err), 0);
    ck_assert_int_eq(confusion_layout_of(W, H, &c, &L, &err), 0);
    ck_assert_int_eq(L.names, 1);
    ck_assert_int_ge(L.cell, 40);
    ck_assert(L.left + 5 * L.cell <= W && L.top + 5 * L.cell <= H);
    for (int t = 0; t < 5; t++) {
        plot_rect row = {0, L.top + t * L.cell, L.left, L.cell};
        int x, y;
        ck_assert_msg(png_check_find_text(img, W, H, row, flower_names[t], 1, PLOT_TEXT, &x, &y) == 0,
                      "row name %s", flower_names[t]);
        for (int p = 0; p < 5; p++) {
            int64_t n = count[t * 5 + p];
            plot_rect cell = {L.left + p * L.cell, L.top + t * L.cell, L.cell, L.cell};
            /* a grid line, a shade darker with the count, the count in it */
            ck_assert(png_check_is(img, W, cell.x, cell.y, CONFUSION_GRID));
            const unsigned char *in = img + ((size_t)(cell.y + 2) * W + cell.x + 2) * 3;
            ck_assert_msg(!png_check_is(img, W, cell.x + 2, cell.y + 2, PLOT_BACKGROUND) == (n > 0),
                          "cell %d,%d (%lld) shaded %d", t, p, (long long)n, in[0]);
            if (t == p)
                ck_assert_int_lt(in[0], 0x80);
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)n);
            ck_assert_msg(png_check_find_text(img, W, H, cell, num, 1, t == p ? 0xffffffu : PLOT_TEXT, &x, &y) == 0,
                          "count %s not in cell %d,%d", num, t, p);
        }
    }
    int x, y;
    ck_assert_int_eq(png_check_find_text(img, W, H, (plot_rect){0, 0, W, L.top}, "predicted", 1, PLOT_TEXT, &x, &y), 0);
    free(img);
}
END_TEST

START_TEST(test_confusion_sizes_and_errors)
{
    enum { N = 40 };
    static const char *names[N];
    static int64_t count[N * N];
    for (int k = 0; k < N; k++)
        names[k] = "class";
    for (int k = 0; k < N * N; k++)
        count[k] = k % (N + 1) == 0 ? 50 : 1;
    confusion many = {N, names, count};
    unsigned char *img = malloc(1000 * 1000 * 3);
    confusion_layout L;
    strata_err err = {0};
    /* cells too small for a line of text: no names, still drawn */
    ck_assert_int_eq(confusion_render(img, 800, 500, &many, "many", &err), 0);
    ck_assert_int_eq(confusion_layout_of(800, 500, &many, &L, &err), 0);
    ck_assert_int_eq(L.names, 0);
    ck_assert_int_ge(L.cell, CONFUSION_MIN_CELL);
    /* and at 1000x1000 with names */
    ck_assert_int_eq(confusion_layout_of(1000, 1000, &many, &L, &err), 0);
    ck_assert_int_eq(L.names, 1);
    /* too many classes for the smallest image */
    ck_assert_int_eq(confusion_render(img, PLOT_MIN_W, PLOT_MIN_H, &many, "many", &err), -1);
    ck_assert_int_eq(err.status, STRATA_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "40 classes do not fit in 200x150"));
    confusion none = {0, names, count};
    ck_assert_int_eq(confusion_render(img, 800, 500, &none, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "no classes"));
    ck_assert_int_eq(confusion_render(img, 100, 500, &many, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "100x500"));
    free(img);
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
    unsigned char *img = png_check_read(out, &w, &h), *want = malloc(800 * 500 * 3);
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
    unsigned char *img = png_check_read(out, &w, &h), *want = malloc(640 * 400 * 3);
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
    ck_assert_int_gt(png_check_count(img, w, L.legend, plot_palette(1)), 20); /* the idle run is in the legend */
    ck_assert_int_eq(png_check_count(img, w, L.area, plot_palette(1)) - png_check_count(img, w, L.legend, plot_palette(1)), 0);
    free(img);
    free(want);
    run_strata_free(&r);
}
END_TEST

START_TEST(test_cli_two_metrics_png)
{
    /* runs 1 and 2, train_acc (constant 0.5, dashed) and val_acc (solid) */
    char out[4096];
    path_in(out, "metrics.png");
    const char *argv[] = {"plot", "1", "2", "--metric", "train_acc,val_acc", "-o", out, "--db", dbpath, NULL};
    strata_run r;
    ck_assert_int_eq(run_strata(argv, &r), 0);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    int w, h;
    unsigned char *img = png_check_read(out, &w, &h), *want = malloc(800 * 500 * 3);
    ck_assert_ptr_nonnull(img);
    ck_assert_int_eq(w, 800);
    ck_assert_int_eq(h, 500);
    double x[4][RUN_EPOCHS], y[4][RUN_EPOCHS];
    char labels[4][64];
    plot_series s[4];
    for (int i = 0; i < 4; i++) {
        int k = i / 2, m = i % 2;
        for (int e = 1; e <= RUN_EPOCHS; e++)
            x[i][e - 1] = e, y[i][e - 1] = m ? metric_of(k, e, 0) : 0.5;
        snprintf(labels[i], sizeof labels[i], "%d %s (%s) %s", k + 1, run_names[k], run_models[k],
                 m ? "val_acc" : "train_acc");
        s[i] = (plot_series){.label = labels[i], RUN_EPOCHS, x[i], y[i], .colour = k + 1, .dash = m};
        int best = 0;
        for (int e = 1; e < RUN_EPOCHS; e++)
            best = y[i][e] > y[i][best] ? e : best;
        s[i].mark_x = m ? x[i][best] : 0;
    }
    plot_layout L;
    ck_assert_int_eq(plot_render(want, 800, 500, "train_acc,val_acc", "epoch", "train_acc,val_acc", s, 4, &L, NULL), 0);
    ck_assert_msg(!memcmp(img, want, 800 * 500 * 3), "strata plot drew something else than the API");
    /* both runs' colours on the lines; the constant train_acc of run 2 (drawn
     * over run 1's, the same) a row across the plot area */
    plot_rect area = L.area;
    for (int k = 0; k < 2; k++)
        ck_assert_int_gt(png_check_count(img, w, area, plot_palette(k)) - png_check_count(img, w, L.legend, plot_palette(k)),
                         300);
    int dashed = 0;
    for (int yy = area.y; yy < area.y + area.h; yy++) {
        long n = png_check_count(img, w, (plot_rect){area.x, yy, area.w, 1}, plot_palette(1));
        dashed = n > dashed ? (int)n : dashed;
    }
    ck_assert_msg(dashed > area.w / 2, "train_acc: %d of %d pixels in a row", dashed, area.w);
    int lx, ly;
    for (int i = 0; i < 4; i++)
        ck_assert_msg(png_check_find_text(img, w, h, L.legend, labels[i], 1, PLOT_TEXT, &lx, &ly) == 0,
                      "'%s' not in the legend", labels[i]);
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
         .tests = TESTS(test_font_glyphs, test_font_lookalikes_and_size, test_font_width_and_utf8, test_font_draw_up_is_rotation,
                        test_font_clipping, test_nice_ticks, test_tick_labels, test_render_three_series,
                        test_render_falling_legend_top, test_render_gaps_and_odd_series,
                        test_render_many_series_and_large, test_render_errors, test_write_png_errors,
                        test_render_text_legible, test_confusion_png, test_confusion_sizes_and_errors,
                        test_cli_two_metrics_png,
                        test_cli_three_runs, test_cli_metric_size_title_names, test_cli_errors, test_cli_help)});
}
