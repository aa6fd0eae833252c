/*
 * png_check.h — reading a PNG back and looking at its pixels, for the
 * plot tests: colours in a rectangle, and text found where the bitmap font
 * says its glyphs are.
 */
#ifndef STRATA_T_PNG_CHECK_H
#define STRATA_T_PNG_CHECK_H

#include <stdint.h>
#include "plot/plot.h"

/* Decode a PNG as 8-bit RGB (malloc'd); NULL when it cannot be read. */
unsigned char *png_check_read(const char *path, int *w, int *h);
/* Is pixel (x, y) of img (H, W, 3) exactly rgb? */
int png_check_is(const unsigned char *img, int W, int x, int y, uint32_t rgb);
/* Pixels of exactly rgb inside r. */
long png_check_count(const unsigned char *img, int W, plot_rect r, uint32_t rgb);
/* Is text drawn at scale s with its top-left at (x, y), in rgb: every
 * pixel the glyphs set (font_pixel) exactly rgb, every other pixel of the
 * text's cap-height band something else? Reads only inside the image. */
int png_check_text_at(const unsigned char *img, int W, int H, int x, int y, const char *text, int s, uint32_t rgb);
/* The first position inside r where png_check_text_at holds; 0 when found
 * (*x, *y set), -1 when not. */
int png_check_find_text(const unsigned char *img, int W, int H, plot_rect r, const char *text, int s, uint32_t rgb,
                        int *x, int *y);

#endif
