/*
 * font.h — a small built-in bitmap font for labels in plots.
 *
 * Glyphs are 10 columns by 18 rows with 2-pixel strokes: rows 0..13 stand
 * on the baseline (capitals and digits fill them, lowercase letters rows
 * 4..13), rows 14..17 hold descenders (g j p q y , ; _). Every
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

#define FONT_W 10       /* glyph columns */
#define FONT_H 18       /* glyph rows, descenders included */
#define FONT_ASCENT 14  /* rows above the baseline */
#define FONT_ADVANCE 12 /* columns from one character to the next */

/* Is pixel (row, col) of character c set? 0 outside the glyph box. */
int font_pixel(int c, int row, int col);
/* The number of characters s draws as (a UTF-8 sequence counts once). */
int font_text_len(const char *s);
/* Width in pixels of s drawn at `scale` (no gap after the last glyph). */
int font_text_width(const char *s, int scale);
/* s itself when it has at most max_chars characters, else its first
 * max_chars - 3 and "..." (at least "..."), into buf (size bytes). */
void font_cut_text(const char *s, int max_chars, char *buf, int size);
/* Draw s left to right, the top-left of its first glyph box at (x, y). */
void font_draw(unsigned char *img, int W, int H, int x, int y, const char *s, int scale,
               uint32_t rgb);
/* font_draw twice, the second time `scale` pixels to the right: bold, for
 * titles (one scale wider than font_text_width). */
void font_draw_bold(unsigned char *img, int W, int H, int x, int y, const char *s, int scale,
                    uint32_t rgb);
/* Draw s rotated a quarter turn counter-clockwise (read bottom to top), the
 * top-left of the rotated box at (x, y): the box is FONT_H*scale wide and
 * font_text_width(s, scale) tall. */
void font_draw_up(unsigned char *img, int W, int H, int x, int y, const char *s, int scale,
                  uint32_t rgb);

#endif
