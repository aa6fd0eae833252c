/*
 * confusion.h — a confusion matrix (true class down, predicted class
 * across, counts in the cells, shaded by the share of the true class's
 * row) as SVG or drawn into an RGB image for a PNG.
 */
#ifndef STRATA_CONFUSION_H
#define STRATA_CONFUSION_H

#include <stdint.h>
#include <stdio.h>
#include "config/error.h"

typedef struct confusion {
    int n;               /* classes */
    const char *const *names;
    const int64_t *count; /* count[t * n + p]: true class t predicted as p */
} confusion;

#define CONFUSION_GRID 0xc4c4c8u /* the lines between cells */
#define CONFUSION_MIN_CELL 6     /* smallest cell, in pixels */

/* Where confusion_render puts things in a PNG: cells of cell x cell
 * pixels, the top-left one at (left, top); class names (when names, that
 * is when cells are at least a line of text tall) cut to row_chars
 * characters left of the rows and col_chars above the columns; counts in
 * the cells they fit in; text at font scale s. */
typedef struct confusion_layout {
    int s, left, top, cell;
    int names, row_chars, col_chars;
} confusion_layout;

/* An <svg> element; every cell has a <title> "true T, predicted P: N". */
void confusion_write_svg(FILE *f, const confusion *c, const char *title);
/* The layout of c in a W x H image. Errors: a size outside plot.h's
 * limits, n < 1, cells smaller than CONFUSION_MIN_CELL. */
int confusion_layout_of(int W, int H, const confusion *c, confusion_layout *L, strata_err *err);
/* Draw into img (H, W, 3) as confusion_layout_of lays it out (same
 * errors). */
int confusion_render(unsigned char *img, int W, int H, const confusion *c, const char *title, strata_err *err);

#endif
