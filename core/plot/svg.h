/*
 * svg.h — a small SVG writer: the document, rectangles, lines, polylines,
 * circles and text, every one optionally with a <title> (the tooltip a
 * browser shows on hover). Output is XML (also valid inside HTML5): every
 * attribute quoted, every string escaped by markup_text.
 *
 * Coordinates are user units (pixels at 100 % zoom); colours 0xRRGGBB.
 */
#ifndef STRATA_SVG_H
#define STRATA_SVG_H

#include <stdint.h>
#include <stdio.h>

/* s as XML/HTML text or attribute value: & < > " ' escaped, control
 * characters other than tab and newline and bytes that are not UTF-8
 * written as '?'. NULL writes nothing. */
void markup_text(FILE *f, const char *s);
/* v in the fewest digits that read back as exactly v (%.15g .. %.17g);
 * "NaN" for NaN. buf of at least 32 bytes. */
void svg_number(double v, char *buf, int size);

void svg_begin(FILE *f, int w, int h);
void svg_end(FILE *f);
/* stroke 0 = none (fill only); fill UINT32_MAX = none. */
#define SVG_NONE UINT32_MAX
void svg_rect(FILE *f, double x, double y, double w, double h, uint32_t fill, uint32_t stroke,
              const char *title);
/* dash_on, dash_off: the dash pattern's lengths (0 = solid). */
void svg_line(FILE *f, double x0, double y0, double x1, double y1, uint32_t rgb, double width, double dash_on,
              double dash_off, const char *title);
/* A polyline through n points (px[i], py[i]). */
void svg_polyline(FILE *f, int n, const double *px, const double *py, uint32_t rgb, double width,
                  double dash_on, double dash_off);
void svg_circle(FILE *f, double cx, double cy, double r, uint32_t fill, uint32_t stroke, const char *title);
/* anchor: "start", "middle" or "end"; up: rotated to read bottom to top;
 * bold for titles. */
void svg_text(FILE *f, double x, double y, double size, const char *anchor, int up, int bold, uint32_t rgb,
              const char *s);

#endif
