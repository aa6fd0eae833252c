/* chart.c — the chart model shared by the PNG and SVG renderers (chart.h). */
#include <math.h>
#include <stdio.h>
#include "plot/chart.h"

/* Ten clearly different colours, most distinct first. */
static const uint32_t palette[PLOT_PALETTE_SIZE] = {
    0x2166ac, /* blue */   0xe8710a, /* orange */ 0x1a9850, /* green */ 0xd7301f, /* red */
    0x7b3fb5, /* purple */ 0x8c5a2b, /* brown */  0xe0529c, /* pink */  0x0fa3b1, /* teal */
    0xa8a81c, /* olive */  0x6b6b6b, /* grey */
};

uint32_t plot_palette(int i)
{
    return palette[((i % PLOT_PALETTE_SIZE) + PLOT_PALETTE_SIZE) % PLOT_PALETTE_SIZE];
}

uint32_t chart_series_colour(const plot_series *s, int k)
{
    return plot_palette(s->colour > 0 ? s->colour - 1 : k);
}

/* The run order of series k: its colour number, else its index. */
static int run_order(const plot_series *s, int k) { return s[k].colour > 0 ? s[k].colour : k + 1; }

double chart_width_factor(const plot_series *s, int n, int k)
{
    int later = 0; /* distinct runs drawn after series k's */
    for (int j = 0; j < n; j++) {
        int first = run_order(s, j) > run_order(s, k);
        for (int i = 0; first && i < j; i++)
            first = run_order(s, i) != run_order(s, j);
        later += first;
    }
    return 1 + 0.5 * (later < CHART_HALO_STEPS ? later : CHART_HALO_STEPS);
}

void chart_dash(int dash, double *on, double *off)
{
    static const double pattern[CHART_DASHES][2] = {{0, 0}, {4, 2.5}, {1, 2}};
    int d = dash >= 0 && dash < CHART_DASHES ? dash : 0;
    *on = pattern[d][0], *off = pattern[d][1];
}

void plot_nice_ticks(double lo, double hi, int max_ticks, double min_step, double *first,
                     double *step, int *n)
{
    static const double mult[3] = {1, 2, 5};
    double raw = (hi - lo) / (max_ticks > 1 ? max_ticks : 1);
    double mag = pow(10, floor(log10(raw > 0 ? raw : 1))) / 10;
    for (int k = 0;; k++) {
        *step = mult[k % 3] * mag * pow(10, k / 3);
        *first = ceil(lo / *step - 1e-9) * *step;
        *n = (int)floor((hi - *first) / *step + 1e-9) + 1;
        if (*n <= max_ticks && *step >= min_step)
            return;
    }
}

void plot_tick_label(double v, double step, char *buf, int size)
{
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) < step * 1e-6)
        v = 0; /* no "-0.0" */
    if (decimals > 6 || fabs(v) >= 1e7)
        snprintf(buf, size, "%.3g", v);
    else
        snprintf(buf, size, "%.*f", decimals, v);
}

int chart_point_ok(const plot_series *s, int i)
{
    return isfinite(s->x[i]) && isfinite(s->y[i]);
}

chart_axis chart_axis_of(const plot_series *s, int n_series, int which, int max_ticks)
{
    chart_axis a = {INFINITY, -INFINITY, 0, 0, 0};
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < s[k].n; i++)
            if (chart_point_ok(&s[k], i)) {
                double v = which ? s[k].y[i] : s[k].x[i];
                a.lo = v < a.lo ? v : a.lo, a.hi = v > a.hi ? v : a.hi;
            }
    if (a.lo > a.hi)
        a.lo = 0, a.hi = 1;
    double pad = a.hi > a.lo ? (a.hi - a.lo) * 0.04 : fabs(a.lo) > 0 ? fabs(a.lo) * 0.1 : 1;
    a.lo -= pad, a.hi += pad;
    plot_nice_ticks(a.lo, a.hi, max_ticks > 2 ? max_ticks : 2, which ? 0 : 1, &a.first, &a.step, &a.n);
    return a;
}

double chart_y_at(const plot_series *s, double x)
{
    for (int i = 0; i < s->n; i++)
        if (s->x[i] == x && chart_point_ok(s, i))
            return s->y[i];
    return NAN;
}
