/*
 * font.h — a small built-in bitmap font for labels in plots.
 *
 * Glyphs are 5 columns by 9 rows: rows 0..6 stand on the baseline (capitals
 * and digits fill them), rows 7..8 hold descenders (g j p q y , ; _). Every
 * printable ASCII character 32..126 has its own glyph; any other byte draws
 * as '?' (a UTF-8 sequence as one '?'). Text is drawn with each font pixel a
 * scale x scale block, in one solid colour, clipped to the image.
 *
 * Images are flat arrays img (H, W, 3) of 8-bit RGB, row-major; colours are
 * 0xRRGGBB.
 */
#ifndef STRATA_FONT_H
#define STRATA_FONT_H

#include <stdint.h>

#define FONT_W 5       /* glyph columns */
#define FONT_H 9       /* glyph rows, descenders included */
#define FONT_ASCENT 7  /* rows above the baseline */
#define FONT_ADVANCE 6 /* columns from one character to the next */

/* Is pixel (row, col) of character c set? 0 outside the glyph box. */
int font_pixel(int c, int row, int col);
/* The number of characters s draws as (a UTF-8 sequence counts once). */
int font_text_len(const char *s);
/* Width in pixels of s drawn at `scale` (no gap after the last glyph). */
int font_text_width(const char *s, int scale);
/* Draw s left to right, the top-left of its first glyph box at (x, y). */
void font_draw(unsigned char *img, int W, int H, int x, int y, const char *s, int scale,
               uint32_t rgb);
/* Draw s rotated a quarter turn counter-clockwise (read bottom to top), the
 * top-left of the rotated box at (x, y): the box is FONT_H*scale wide and
 * font_text_width(s, scale) tall. */
void font_draw_up(unsigned char *img, int W, int H, int x, int y, const char *s, int scale,
                  uint32_t rgb);

#endif
