/*
 * chart.h — a line chart independent of how it is drawn: series with a
 * colour and a dash pattern, best-epoch and resume markers, axes with
 * "nice" ticks, a legend. The PNG rasteriser (plot.c) and the SVG writer
 * (chart_svg.c) both draw a chart from this model with the same ranges,
 * ticks, colours and dashes, so a PNG and an SVG of a chart show the same
 * thing.
 */
#ifndef STRATA_CHART_H
#define STRATA_CHART_H

#include <stdint.h>

#define PLOT_PALETTE_SIZE 10
#define CHART_DASHES 3 /* solid, dashed, dotted */

/* Colour of series i, 0xRRGGBB (the palette repeats after
 * PLOT_PALETTE_SIZE). */
uint32_t plot_palette(int i);

/* One line: n points (x[i], y[i]); a NaN y leaves a gap. label is the
 * legend text. Optional (zero: none): colour (palette index + 1; 0 = the
 * series' own index), dash (0 solid, 1 dashed, 2 dotted), mark_x (an x
 * where a ring marks the point: the best epoch; NaN or 0 = none), and
 * resumes[0..n_resumes): x values where the run was resumed (a vertical
 * tick on the curve). */
typedef struct plot_series {
    const char *label;
    int n;
    const double *x, *y;
    int colour, dash;
    double mark_x;
    int n_resumes;
    const double *resumes;
} plot_series;

/* The colour of series k of a chart. */
uint32_t chart_series_colour(const plot_series *s, int k);

/* How much wider than the base line series k of s[0..n) is drawn: lines
 * are drawn in order, each run (colour) half a base width wider than the
 * runs drawn after it (at most CHART_HALO_STEPS steps), so where two runs'
 * curves coincide the earlier one shows as a border around the later one
 * instead of vanishing under it. A factor of the base width: 1, 1.5, 2. */
#define CHART_HALO_STEPS 2
double chart_width_factor(const plot_series *s, int n, int k);

/* The on/off lengths of a dash pattern, in line widths (0, 0 = solid). */
void chart_dash(int dash, double *on, double *off);

/* One axis: the range shown [lo, hi] and its ticks first + k*step, k < n. */
typedef struct chart_axis {
    double lo, hi;
    double first, step;
    int n;
} chart_axis;

/* Ticks for the range [lo, hi] (lo < hi): step is 1, 2 or 5 times a power
 * of ten, the smallest such that at most max_ticks multiples of it lie in
 * [lo, hi], and at least min_step; first is the smallest multiple >= lo and
 * *n the count of multiples in the range. min_step = 0 for no floor. */
void plot_nice_ticks(double lo, double hi, int max_ticks, double min_step, double *first,
                     double *step, int *n);
/* Tick label for v with the decimals that step needs ("0.25", "1000"). */
void plot_tick_label(double v, double step, char *buf, int size);

/* Is point i of s drawn (x and y finite)? */
int chart_point_ok(const plot_series *s, int i);
/* The axis of x (which = 0) or y (which = 1) over all points, padded by
 * 4 % each side ([0, 1] with no point), with at most max_ticks ticks (x:
 * steps of at least 1, epochs are whole). */
chart_axis chart_axis_of(const plot_series *s, int n_series, int which, int max_ticks);
/* The y of s at x (the point whose x equals it), NaN when none. */
double chart_y_at(const plot_series *s, double x);

#endif
