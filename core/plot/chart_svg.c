/* chart_svg.c — a chart as SVG (chart_svg.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plot/chart_svg.h"
#include "plot/svg.h"

#define TEXT 0x1a1a1au
#define GRID 0xe8e8ecu
#define FRAME 0x505050u
#define LEGEND_W 300.0
#define LINE_W 2.0

typedef struct area {
    double x, y, w, h;
    chart_axis ax, ay;
} area;

static double px(const area *a, double v)
{
    return a->x + (v - a->ax.lo) / (a->ax.hi - a->ax.lo) * a->w;
}

static double py(const area *a, double v)
{
    return a->y + a->h - (v - a->ay.lo) / (a->ay.hi - a->ay.lo) * a->h;
}

static void draw_axes(FILE *f, const area *a)
{
    char buf[64];
    for (int k = 0; k < a->ay.n; k++) {
        double v = a->ay.first + k * a->ay.step, y = py(a, v);
        svg_line(f, a->x, y, a->x + a->w, y, GRID, 1, 0, 0, NULL);
        plot_tick_label(v, a->ay.step, buf, sizeof buf);
        svg_text(f, a->x - 6, y + 4, 12, "end", 0, 0, TEXT, buf);
    }
    for (int k = 0; k < a->ax.n; k++) {
        double v = a->ax.first + k * a->ax.step, x = px(a, v);
        svg_line(f, x, a->y, x, a->y + a->h, GRID, 1, 0, 0, NULL);
        plot_tick_label(v, a->ax.step, buf, sizeof buf);
        svg_text(f, x, a->y + a->h + 16, 12, "middle", 0, 0, TEXT, buf);
    }
    svg_rect(f, a->x, a->y, a->w, a->h, SVG_NONE, FRAME, NULL);
}

/* "LABEL: epoch E, METRIC = VALUE" */
static void point_title(char *buf, int size, const char *label, const char *metric, double x, double y)
{
    char num[40];
    svg_number(y, num, sizeof num);
    snprintf(buf, size, "%s: epoch %g, %s = %s", label ? label : "", x, metric ? metric : "value", num);
}

/* The polyline pieces of s (broken at NaN points) and a dot per point. */
static void draw_series(FILE *f, const area *a, const plot_series *s, int k, const char *metric, double width)
{
    uint32_t rgb = chart_series_colour(s, k);
    double on, off;
    chart_dash(s->dash, &on, &off);
    double *xs = malloc((s->n ? s->n : 1) * sizeof *xs), *ys = malloc((s->n ? s->n : 1) * sizeof *ys);
    if (!xs || !ys) {
        free(xs), free(ys);
        return;
    }
    int m = 0;
    for (int i = 0; i <= s->n; i++) {
        if (i < s->n && chart_point_ok(s, i)) {
            xs[m] = px(a, s->x[i]), ys[m] = py(a, s->y[i]), m++;
            continue;
        }
        if (m > 1)
            svg_polyline(f, m, xs, ys, rgb, width, on * LINE_W, off * LINE_W);
        m = 0;
    }
    free(xs), free(ys);
    char title[1024];
    for (int i = 0; i < s->n; i++)
        if (chart_point_ok(s, i)) {
            point_title(title, sizeof title, s->label, metric, s->x[i], s->y[i]);
            svg_circle(f, px(a, s->x[i]), py(a, s->y[i]), 3, rgb, SVG_NONE, title);
        }
}

/* The ring on the best point and the ticks at resumes. */
static void draw_marks(FILE *f, const area *a, const plot_series *s, int k, const char *metric)
{
    uint32_t rgb = chart_series_colour(s, k);
    char title[1024], num[40];
    double y = chart_y_at(s, s->mark_x);
    if (s->mark_x > 0 && isfinite(y)) {
        svg_number(y, num, sizeof num);
        snprintf(title, sizeof title, "%s: best epoch %g, %s = %s", s->label ? s->label : "", s->mark_x,
                 metric ? metric : "value", num);
        svg_circle(f, px(a, s->mark_x), py(a, y), 6.5, 0xffffffu, rgb, title);
    }
    for (int r = 0; r < s->n_resumes; r++) {
        y = chart_y_at(s, s->resumes[r]);
        if (!isfinite(y))
            continue;
        snprintf(title, sizeof title, "%s: resumed after epoch %g", s->label ? s->label : "", s->resumes[r]);
        double x = px(a, s->resumes[r]), yy = py(a, y);
        svg_line(f, x, yy - 10, x, yy + 10, rgb, 2.5, 0, 0, title);
    }
}

/* label cut to max characters (bytes of UTF-8 sequences kept whole). */
static void cut_label(const char *label, int max, char *buf, int size)
{
    int chars = 0, i = 0;
    for (; label[i] && chars < max && i < size - 4; chars++)
        for (i++; (label[i] & 0xc0) == 0x80; i++)
            ;
    snprintf(buf, size, "%.*s%s", i, label, label[i] ? "..." : "");
}

static void draw_legend(FILE *f, const plot_series *s, int n, double x, double y)
{
    char buf[256];
    for (int k = 0; k < n; k++) {
        double on, off, yy = y + 18 * k;
        chart_dash(s[k].dash, &on, &off);
        svg_line(f, x, yy, x + 28, yy, chart_series_colour(&s[k], k), 2.5, on * 2.5, off * 2.5, s[k].label);
        cut_label(s[k].label ? s[k].label : "", 34, buf, sizeof buf);
        svg_text(f, x + 34, yy + 4, 12, "start", 0, 0, TEXT, buf);
    }
}

void chart_write_svg(FILE *f, const chart_text *t, const plot_series *s, int n_series, int w, int h)
{
    area a = {.x = 70, .y = t->title ? 36 : 14};
    a.w = w - a.x - LEGEND_W - 10, a.h = h - a.y - 46;
    a.ax = chart_axis_of(s, n_series, 0, (int)(a.w / 60));
    a.ay = chart_axis_of(s, n_series, 1, (int)(a.h / 34));
    svg_begin(f, w, h);
    svg_rect(f, 0, 0, w, h, 0xffffffu, SVG_NONE, NULL);
    if (t->title)
        svg_text(f, a.x + a.w / 2, 22, 16, "middle", 0, 1, TEXT, t->title);
    draw_axes(f, &a);
    for (int k = 0; k < n_series; k++)
        draw_series(f, &a, &s[k], k, t->metrics ? t->metrics[k] : t->ylabel,
                    LINE_W * chart_width_factor(s, n_series, k));
    for (int k = 0; k < n_series; k++)
        draw_marks(f, &a, &s[k], k, t->metrics ? t->metrics[k] : t->ylabel);
    if (t->xlabel)
        svg_text(f, a.x + a.w / 2, h - 10, 13, "middle", 0, 0, TEXT, t->xlabel);
    if (t->ylabel)
        svg_text(f, 18, a.y + a.h / 2, 13, "middle", 1, 0, TEXT, t->ylabel);
    draw_legend(f, s, n_series, a.x + a.w + 16, a.y + 8);
    svg_end(f);
}
