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

/* An <svg> element; every cell has a <title> "true T, predicted P: N". */
void confusion_write_svg(FILE *f, const confusion *c, const char *title);
/* Draw into img (H, W, 3) (W, H within plot.h's limits). Errors: bad size,
 * n < 1. */
int confusion_render(unsigned char *img, int W, int H, const confusion *c, const char *title, strata_err *err);

#endif
