/*
 * plot.h — line charts drawn into an RGB image, and PNG writing. Pure: no
 * database, no command line; core/cli/cmd_plot.c feeds it from the results.
 *
 * An image is a flat array img (H, W, 3) of 8-bit RGB, row-major; colours
 * are 0xRRGGBB. plot_render draws, on a white background: a title, a frame
 * with "nice" ticks (steps of 1, 2 or 5 times a power of ten) and their
 * labels, light grid lines, the axis labels, one antialiased line per
 * series in the colour plot_palette(i) (with dots at the points when a
 * series has few), and a legend in the corner of the plot area that covers
 * the least of the data. Line cores, dots and legend swatches are drawn in
 * the exact palette colour, text in exactly PLOT_TEXT.
 *
 * Errors are values: functions return 0 or -1 and fill *err (may be NULL);
 * STRATA_ERR_CONFIG for bad arguments, STRATA_ERR_RUNTIME for I/O.
 */
#ifndef STRATA_PLOT_H
#define STRATA_PLOT_H

#include <stdint.h>
#include "config/error.h"
#include "plot/chart.h"

#define PLOT_MIN_W 200
#define PLOT_MIN_H 150
#define PLOT_MAX_W 8000
#define PLOT_MAX_H 8000
#define PLOT_BACKGROUND 0xffffffu
#define PLOT_TEXT 0x1a1a1au

typedef struct plot_rect {
    int x, y, w, h; /* top-left corner and size in pixels */
} plot_rect;

/* Where plot_render put things. */
typedef struct plot_layout {
    plot_rect area;   /* the plot area, inside the frame */
    plot_rect legend; /* the legend box (w = h = 0 when there are no series) */
    int text_scale;   /* font scale of all text (the title is bold) */
} plot_layout;

/* Draw the chart into img (H, W, 3). layout may be NULL. Errors: a size
 * outside PLOT_MIN_W x PLOT_MIN_H .. PLOT_MAX_W x PLOT_MAX_H, n < 0 or
 * x/y NULL with n > 0, out of memory. */
int plot_render(unsigned char *img, int W, int H, const char *title, const char *xlabel,
                const char *ylabel, const plot_series *s, int n_series, plot_layout *layout,
                strata_err *err);

/* The font scale of text in a W x H image: min(W / 640, H / 400), at
 * least 1 (1 at the default 800x500). */
int plot_text_scale(int W, int H);

/* Write img (H, W, 3) as an 8-bit RGB PNG, atomically: into a temporary
 * file beside path, then renamed over it; nothing is left on failure. */
int plot_write_png(const char *path, const unsigned char *img, int W, int H, strata_err *err);

#endif
