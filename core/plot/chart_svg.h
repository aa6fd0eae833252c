/*
 * chart_svg.h — a chart (chart.h) as inline SVG: the same ranges, ticks,
 * colours and dash patterns as the PNG; a dot with a <title> on every point
 * ("LABEL: epoch E, METRIC = VALUE", VALUE exactly as stored), a ring on
 * each series' best point, a vertical tick at each resume, and the legend
 * to the right of the plot area.
 */
#ifndef STRATA_CHART_SVG_H
#define STRATA_CHART_SVG_H

#include <stdio.h>
#include "plot/chart.h"

/* The labels of a chart and the metric named in each point's <title>. */
typedef struct chart_text {
    const char *title, *xlabel, *ylabel;
    const char *const *metrics; /* metrics[k]: the name in series k's titles */
} chart_text;

/* Write an <svg> element of w x h units (w >= 400, h >= 200). */
void chart_write_svg(FILE *f, const chart_text *t, const plot_series *s, int n_series, int w, int h);

#endif
