/*
 * plot.c — line charts into an RGB image, and PNG writing (see plot.h).
 *
 * Coordinates: pixel (px, py) with py growing downwards; data (x, y) maps
 * into the plot area A by px = A.x + (x - xlo)/(xhi - xlo) * (A.w - 1) and
 * py = A.y + (A.h - 1) - (y - ylo)/(yhi - ylo) * (A.h - 1). The ranges are
 * the data's, padded by 4 % on each side; ticks are the nice multiples
 * inside them.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plot/atomic_file.h"
#include "plot/font.h"
#include "plot/plot.h"

#define GRID 0xe8e8ecu
#define FRAME 0x505050u
#define LEGEND_BORDER 0xc4c4c8u

/* ---- pixels --------------------------------------------------------- */

static void put(unsigned char *img, int W, int x, int y, uint32_t rgb)
{
    unsigned char *p = img + ((size_t)y * W + x) * 3;
    p[0] = rgb >> 16 & 0xff;
    p[1] = rgb >> 8 & 0xff;
    p[2] = rgb & 0xff;
}

/* p = p*(1-a) + rgb*a for a in [0, 1]. */
static void blend(unsigned char *img, int W, int x, int y, uint32_t rgb, double a)
{
    unsigned char *p = img + ((size_t)y * W + x) * 3;
    for (int c = 0; c < 3; c++)
        p[c] = (unsigned char)lround(p[c] * (1 - a) + (rgb >> (16 - 8 * c) & 0xff) * a);
}

static void fill_rect(unsigned char *img, int W, int H, plot_rect r, uint32_t rgb)
{
    for (int y = r.y < 0 ? 0 : r.y; y < r.y + r.h && y < H; y++)
        for (int x = r.x < 0 ? 0 : r.x; x < r.x + r.w && x < W; x++)
            put(img, W, x, y, rgb);
}

/* A border of thickness t just outside r. */
static void frame_rect(unsigned char *img, int W, int H, plot_rect r, int t, uint32_t rgb)
{
    fill_rect(img, W, H, (plot_rect){r.x - t, r.y - t, r.w + 2 * t, t}, rgb);
    fill_rect(img, W, H, (plot_rect){r.x - t, r.y + r.h, r.w + 2 * t, t}, rgb);
    fill_rect(img, W, H, (plot_rect){r.x - t, r.y, t, r.h}, rgb);
    fill_rect(img, W, H, (plot_rect){r.x + r.w, r.y, t, r.h}, rgb);
}

/* ---- antialiased lines, through a coverage mask ----------------------- */

/* Distance from (px, py) to the segment (x0, y0)-(x1, y1). */
static double seg_dist(double px, double py, double x0, double y0, double x1, double y1)
{
    double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return hypot(px - x0 - t * dx, py - y0 - t * dy);
}

/* cov (A.h, A.w) holds coverage 0..255 of the plot area A. A segment of
 * width w (a dot when the ends coincide): coverage of a pixel centre at
 * distance d is clamp(w/2 + 1/2 - d, 0, 1); cov keeps the maximum, so
 * joints of a polyline are not drawn twice. */
static void cov_segment(unsigned char *cov, plot_rect A, double x0, double y0, double x1,
                        double y1, double w)
{
    double r = w / 2 + 1;
    int xa = (int)floor(fmin(x0, x1) - r), xb = (int)ceil(fmax(x0, x1) + r);
    int ya = (int)floor(fmin(y0, y1) - r), yb = (int)ceil(fmax(y0, y1) + r);
    xa = xa < A.x ? A.x : xa, ya = ya < A.y ? A.y : ya;
    xb = xb >= A.x + A.w ? A.x + A.w - 1 : xb, yb = yb >= A.y + A.h ? A.y + A.h - 1 : yb;
    for (int y = ya; y <= yb; y++)
        for (int x = xa; x <= xb; x++) {
            double a = w / 2 + 0.5 - seg_dist(x, y, x0, y0, x1, y1);
            if (a <= 0)
                continue;
            unsigned char v = a >= 1 ? 255 : (unsigned char)lround(a * 255);
            unsigned char *c = cov + (size_t)(y - A.y) * A.w + (x - A.x);
            *c = v > *c ? v : *c;
        }
}

/* Paint the mask into img in colour rgb (exactly rgb where fully covered)
 * and clear it. */
static void cov_paint(unsigned char *img, int W, unsigned char *cov, plot_rect A, uint32_t rgb)
{
    for (int y = 0; y < A.h; y++)
        for (int x = 0; x < A.w; x++) {
            unsigned char *c = cov + (size_t)y * A.w + x;
            if (*c == 255)
                put(img, W, A.x + x, A.y + y, rgb);
            else if (*c)
                blend(img, W, A.x + x, A.y + y, rgb, *c / 255.0);
            *c = 0;
        }
}

/* ---- axes ------------------------------------------------------------- */

typedef chart_axis axis;

static double x_px(const axis *ax, plot_rect A, double v)
{
    return A.x + (v - ax->lo) / (ax->hi - ax->lo) * (A.w - 1);
}

static double y_px(const axis *ax, plot_rect A, double v)
{
    return A.y + (A.h - 1) - (v - ax->lo) / (ax->hi - ax->lo) * (A.h - 1);
}

#define point_ok chart_point_ok

/* Widest tick label of ax. */
static int ticks_width(const axis *ax, int scale)
{
    char buf[64];
    int w = 0;
    for (int k = 0; k < ax->n; k++) {
        plot_tick_label(ax->first + k * ax->step, ax->step, buf, sizeof buf);
        int tw = font_text_width(buf, scale);
        w = tw > w ? tw : w;
    }
    return w;
}

/* Grid lines inside A and tick marks (length 5s) outside it, then labels. */
static void draw_x_axis(unsigned char *img, int W, int H, plot_rect A, const axis *ax, int s)
{
    char buf[64];
    for (int k = 0; k < ax->n; k++) {
        double v = ax->first + k * ax->step;
        int px = (int)lround(x_px(ax, A, v));
        fill_rect(img, W, H, (plot_rect){px, A.y, s, A.h}, GRID);
        fill_rect(img, W, H, (plot_rect){px, A.y + A.h + s, s, 5 * s}, FRAME);
        plot_tick_label(v, ax->step, buf, sizeof buf);
        font_draw(img, W, H, px - font_text_width(buf, s) / 2, A.y + A.h + 9 * s, buf, s, PLOT_TEXT);
    }
}

static void draw_y_axis(unsigned char *img, int W, int H, plot_rect A, const axis *ax, int s)
{
    char buf[64];
    for (int k = 0; k < ax->n; k++) {
        double v = ax->first + k * ax->step;
        int py = (int)lround(y_px(ax, A, v));
        fill_rect(img, W, H, (plot_rect){A.x, py, A.w, s}, GRID);
        fill_rect(img, W, H, (plot_rect){A.x - 6 * s, py, 5 * s, s}, FRAME);
        plot_tick_label(v, ax->step, buf, sizeof buf);
        font_draw(img, W, H, A.x - 9 * s - font_text_width(buf, s), py - (FONT_ASCENT * s) / 2, buf, s,
                  PLOT_TEXT);
    }
}

/* ---- series ----------------------------------------------------------- */

/* The dashed polyline piece (x0, y0)-(x1, y1) into cov: on/off lengths in
 * pixels, *phase the distance walked into the current on+off period
 * (kept in [0, on + off)). */
static void cov_dashed(unsigned char *cov, plot_rect A, double x0, double y0, double x1, double y1,
                       double w, double on, double off, double *phase)
{
    double len = hypot(x1 - x0, y1 - y0), t = 0;
    if (on <= 0 || len <= 0) {
        cov_segment(cov, A, x0, y0, x1, y1, w);
        return;
    }
    while (t < len - 1e-9) {
        double step;
        if (*phase < on) {
            step = fmin(on - *phase, len - t);
            cov_segment(cov, A, x0 + (x1 - x0) * t / len, y0 + (y1 - y0) * t / len,
                        x0 + (x1 - x0) * (t + step) / len, y0 + (y1 - y0) * (t + step) / len, w);
        } else {
            step = fmin(on + off - *phase, len - t);
        }
        t += step, *phase += step;
        if (*phase >= on + off - 1e-9)
            *phase = 0;
    }
}

/* Draw series s in colour rgb: its polyline (broken at NaN points) in its
 * dash pattern, and dots at its points when they are few and far apart
 * (always at a point with no neighbour); a vertical tick at each resume. */
static void draw_series(unsigned char *img, int W, unsigned char *cov, plot_rect A,
                        const axis *ax, const axis *ay, const plot_series *s, uint32_t rgb, int sc, double width)
{
    int dots = s->n <= 60 && A.w >= s->n * 8 * sc;
    double on, off, phase = 0, w = 2.2 * sc;
    chart_dash(s->dash, &on, &off);
    for (int i = 0; i < s->n; i++) {
        if (!point_ok(s, i))
            continue;
        double px = x_px(ax, A, s->x[i]), py = y_px(ay, A, s->y[i]);
        int prev = i > 0 && point_ok(s, i - 1), next = i + 1 < s->n && point_ok(s, i + 1);
        if (next)
            cov_dashed(cov, A, px, py, x_px(ax, A, s->x[i + 1]), y_px(ay, A, s->y[i + 1]), w * width, on * w,
                       off * w, &phase);
        if (dots || (!prev && !next))
            cov_segment(cov, A, px, py, px, py, 6.5 * sc);
    }
    for (int r = 0; r < s->n_resumes; r++) {
        double y = chart_y_at(s, s->resumes[r]);
        if (isfinite(y)) {
            double px = x_px(ax, A, s->resumes[r]), py = y_px(ay, A, y);
            cov_segment(cov, A, px, py - 9 * sc, px, py + 9 * sc, 2 * sc);
        }
    }
    cov_paint(img, W, cov, A, rgb);
}

/* The best-epoch marker of s: a ring of colour rgb around its point. */
static void draw_mark(unsigned char *img, int W, unsigned char *cov, plot_rect A, const axis *ax,
                      const axis *ay, const plot_series *s, uint32_t rgb, int sc)
{
    double y = chart_y_at(s, s->mark_x);
    if (!(s->mark_x > 0) || !isfinite(y))
        return;
    double px = x_px(ax, A, s->mark_x), py = y_px(ay, A, y);
    cov_segment(cov, A, px, py, px, py, 13 * sc);
    cov_paint(img, W, cov, A, rgb);
    cov_segment(cov, A, px, py, px, py, 7 * sc);
    cov_paint(img, W, cov, A, PLOT_BACKGROUND);
}

/* ---- legend ----------------------------------------------------------- */

typedef struct legend_geom {
    int shown;      /* entries drawn (the rest summed up in a "+N more" row) */
    int rows;       /* shown, plus one for "+N more" */
    int max_chars;  /* labels longer than this are cut, ending in "..." */
    plot_rect box;
} legend_geom;

/* Legend geometry: padding inside the box, the swatch's length, the gap
 * between swatch and text, one row (a line of text and 5 pixels), and the
 * height of the last row (down to just below the descenders). */
#define LEG_PAD(s) (8 * (s))
#define LEG_SWATCH(s) (24 * (s))
#define LEG_GAP(s) (8 * (s))
#define LEG_LINE(s) ((FONT_H + 5) * (s))
#define LEG_LAST(s) ((FONT_H + 1) * (s))

/* Count of points along the drawn polylines (sampled every 2 pixels) that
 * fall inside box: how much of the data the legend would hide. */
static long hidden(const plot_series *s, int n_series, plot_rect A, const axis *ax,
                   const axis *ay, plot_rect box)
{
    long count = 0;
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i + 1 < s[k].n; i++) {
            if (!point_ok(&s[k], i) || !point_ok(&s[k], i + 1))
                continue;
            double x0 = x_px(ax, A, s[k].x[i]), y0 = y_px(ay, A, s[k].y[i]);
            double x1 = x_px(ax, A, s[k].x[i + 1]), y1 = y_px(ay, A, s[k].y[i + 1]);
            int steps = 1 + (int)(hypot(x1 - x0, y1 - y0) / 2);
            for (int j = 0; j <= steps; j++) {
                double x = x0 + (x1 - x0) * j / steps, y = y0 + (y1 - y0) * j / steps;
                count += x >= box.x - 4 && x < box.x + box.w + 4 && y >= box.y - 4 && y < box.y + box.h + 4;
            }
        }
    return count;
}

/* Size of the legend, then the corner of A where it hides the least data
 * (ties: top right, bottom right, top left, bottom left). */
static legend_geom legend_place(const plot_series *s, int n_series, plot_rect A, const axis *ax,
                                const axis *ay, int sc)
{
    legend_geom g = {0};
    if (n_series == 0)
        return g;
    int inset = 8 * sc, fit = (A.h - 2 * inset - 2 * LEG_PAD(sc) - LEG_LAST(sc)) / LEG_LINE(sc) + 1;
    fit = fit < 1 ? 1 : fit;
    g.shown = n_series <= fit ? n_series : fit - 1;
    g.rows = g.shown + (g.shown < n_series);
    int room = A.w * 3 / 5 - 2 * LEG_PAD(sc) - LEG_SWATCH(sc) - LEG_GAP(sc);
    g.max_chars = room / (FONT_ADVANCE * sc) > 8 ? room / (FONT_ADVANCE * sc) : 8;
    int text_w = 0;
    char buf[512];
    for (int k = 0; k < g.rows; k++) {
        if (k < g.shown)
            font_cut_text(s[k].label ? s[k].label : "", g.max_chars, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "+%d more", n_series - g.shown);
        int w = font_text_width(buf, sc);
        text_w = w > text_w ? w : text_w;
    }
    g.box.w = 2 * LEG_PAD(sc) + LEG_SWATCH(sc) + LEG_GAP(sc) + text_w;
    g.box.h = 2 * LEG_PAD(sc) + (g.rows - 1) * LEG_LINE(sc) + LEG_LAST(sc);
    int xs[4] = {A.x + A.w - inset - g.box.w, A.x + A.w - inset - g.box.w, A.x + inset, A.x + inset};
    int ys[4] = {A.y + inset, A.y + A.h - inset - g.box.h, A.y + inset, A.y + A.h - inset - g.box.h};
    long best = -1;
    for (int c = 0; c < 4; c++) {
        plot_rect b = {xs[c], ys[c], g.box.w, g.box.h};
        long h = hidden(s, n_series, A, ax, ay, b);
        if (best < 0 || h < best)
            best = h, g.box.x = b.x, g.box.y = b.y;
    }
    return g;
}

/* A legend swatch in the series' colour and dash pattern. */
static void draw_swatch(unsigned char *img, int W, int H, plot_rect r, const plot_series *s, uint32_t rgb)
{
    double on, off;
    chart_dash(s->dash, &on, &off);
    if (on <= 0) {
        fill_rect(img, W, H, r, rgb);
        return;
    }
    int period = (int)lround((on + off) * r.h), len = (int)lround(on * r.h);
    for (int x = 0; x < r.w; x += period)
        fill_rect(img, W, H, (plot_rect){r.x + x, r.y, x + len <= r.w ? len : r.w - x, r.h}, rgb);
}

static void draw_legend(unsigned char *img, int W, int H, const plot_series *s, int n_series,
                        const legend_geom *g, int sc)
{
    char buf[512];
    fill_rect(img, W, H, g->box, PLOT_BACKGROUND);
    frame_rect(img, W, H, g->box, sc, LEGEND_BORDER);
    for (int k = 0; k < g->rows; k++) {
        int x = g->box.x + LEG_PAD(sc), y = g->box.y + LEG_PAD(sc) + k * LEG_LINE(sc);
        if (k < g->shown) {
            draw_swatch(img, W, H, (plot_rect){x, y + FONT_ASCENT * sc / 2 - sc, LEG_SWATCH(sc), 3 * sc}, &s[k],
                        chart_series_colour(&s[k], k));
            font_cut_text(s[k].label ? s[k].label : "", g->max_chars, buf, sizeof buf);
        } else {
            snprintf(buf, sizeof buf, "+%d more", n_series - g->shown);
        }
        font_draw(img, W, H, x + LEG_SWATCH(sc) + LEG_GAP(sc), y, buf, sc, PLOT_TEXT);
    }
}

/* ---- the chart -------------------------------------------------------- */

static int check_args(int W, int H, const plot_series *s, int n_series, strata_err *err)
{
    if (W < PLOT_MIN_W || H < PLOT_MIN_H || W > PLOT_MAX_W || H > PLOT_MAX_H)
        return err_set(err, STRATA_ERR_CONFIG, "plot size %dx%d: expected %dx%d to %dx%d", W, H, PLOT_MIN_W,
                       PLOT_MIN_H, PLOT_MAX_W, PLOT_MAX_H);
    if (n_series < 0 || (n_series > 0 && !s))
        return err_set(err, STRATA_ERR_CONFIG, "plot: %d series: expected a count >= 0 and the series", n_series);
    for (int k = 0; k < n_series; k++)
        if (s[k].n < 0 || (s[k].n > 0 && (!s[k].x || !s[k].y)))
            return err_set(err, STRATA_ERR_CONFIG, "plot: series %d has %d points but no x or y values", k,
                           s[k].n);
    return 0;
}

/* The plot area and both axes. Margins (in text-scale units s): title,
 * tick marks 5s and labels, axis labels. Ticks are at least 44s apart
 * vertically (a label is 14s tall) and 64s horizontally. */
static void layout_axes(int W, int H, int s, const char *title, const plot_series *ser, int n_series,
                        plot_rect *A, axis *ax, axis *ay)
{
    int top = title && *title ? 10 * s + FONT_H * s + 10 * s : 14 * s;
    int bottom = 9 * s + FONT_H * s + 9 * s + FONT_H * s + 8 * s;
    A->y = top, A->h = H - top - bottom;
    *ay = chart_axis_of(ser, n_series, 1, A->h / (44 * s));
    A->x = 8 * s + FONT_H * s + 8 * s + ticks_width(ay, s) + 9 * s;
    A->w = W - A->x - 24 * s;
    *ax = chart_axis_of(ser, n_series, 0, A->w / (64 * s));
}

/* The most characters of one line that fit in max_w pixels at scale. */
static int chars_fitting(int max_w, int scale)
{
    int n = (max_w + (FONT_ADVANCE - FONT_W) * scale) / (FONT_ADVANCE * scale);
    return n > 4 ? n : 4;
}

/* The title: bold, centred over the plot area (or the image, when it is
 * wider than the area), cut to the image. */
static void draw_title(unsigned char *img, int W, int H, plot_rect A, int s, const char *title)
{
    char buf[1024];
    font_cut_text(title, chars_fitting(W - 17 * s, s), buf, sizeof buf);
    int tw = font_text_width(buf, s) + s, x = A.x + A.w / 2 - tw / 2;
    if (x < 8 * s || x + tw > W - 8 * s)
        x = (W - tw) / 2;
    font_draw_bold(img, W, H, x, 10 * s, buf, s, PLOT_TEXT);
}

/* The title, and the axis labels centred on the plot area (cut to it). */
static void draw_labels(unsigned char *img, int W, int H, plot_rect A, int s, const char *title,
                        const char *xlabel, const char *ylabel)
{
    char buf[1024];
    if (title && *title)
        draw_title(img, W, H, A, s, title);
    if (xlabel) {
        font_cut_text(xlabel, chars_fitting(A.w, s), buf, sizeof buf);
        font_draw(img, W, H, A.x + A.w / 2 - font_text_width(buf, s) / 2, A.y + A.h + 9 * s + FONT_H * s + 9 * s,
                  buf, s, PLOT_TEXT);
    }
    if (ylabel) {
        font_cut_text(ylabel, chars_fitting(A.h, s), buf, sizeof buf);
        font_draw_up(img, W, H, 8 * s, A.y + A.h / 2 - font_text_width(buf, s) / 2, buf, s, PLOT_TEXT);
    }
}

int plot_text_scale(int W, int H)
{
    int sc = W / 640 < H / 400 ? W / 640 : H / 400;
    return sc < 1 ? 1 : sc;
}

int plot_render(unsigned char *img, int W, int H, const char *title, const char *xlabel,
                const char *ylabel, const plot_series *s, int n_series, plot_layout *layout,
                strata_err *err)
{
    if (check_args(W, H, s, n_series, err))
        return -1;
    int sc = plot_text_scale(W, H);
    plot_rect A;
    axis ax, ay;
    layout_axes(W, H, sc, title, s, n_series, &A, &ax, &ay);
    unsigned char *cov = calloc((size_t)A.w * A.h, 1);
    if (!cov)
        return err_set(err, STRATA_ERR_RUNTIME, "plot: out of memory for a %dx%d image", W, H);
    fill_rect(img, W, H, (plot_rect){0, 0, W, H}, PLOT_BACKGROUND);
    draw_x_axis(img, W, H, A, &ax, sc);
    draw_y_axis(img, W, H, A, &ay, sc);
    frame_rect(img, W, H, A, sc, FRAME);
    for (int k = 0; k < n_series; k++)
        draw_series(img, W, cov, A, &ax, &ay, &s[k], chart_series_colour(&s[k], k), sc,
                    chart_width_factor(s, n_series, k));
    for (int k = 0; k < n_series; k++)
        draw_mark(img, W, cov, A, &ax, &ay, &s[k], chart_series_colour(&s[k], k), sc);
    free(cov);
    legend_geom g = legend_place(s, n_series, A, &ax, &ay, sc);
    if (n_series)
        draw_legend(img, W, H, s, n_series, &g, sc);
    draw_labels(img, W, H, A, sc, title, xlabel, ylabel);
    if (layout)
        *layout = (plot_layout){A, g.box, sc};
    return 0;
}

/* ---- PNG -------------------------------------------------------------- */

int plot_write_png(const char *path, const unsigned char *img, int W, int H, strata_err *err)
{
    atomic_file af;
    if (atomic_open(&af, path, err))
        return -1;
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)W;
    im.height = (png_uint_32)H;
    im.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_stdio(&im, af.f, 0, img, W * 3, NULL)) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot write the PNG: %s", path,
                im.message[0] ? im.message : strerror(errno));
        atomic_abort(&af);
        return -1;
    }
    return atomic_commit(&af, err);
}
