/* svg.c — the small SVG writer (svg.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plot/svg.h"

/* Length of the valid UTF-8 sequence at s (0 when it is not one). */
static int utf8_len(const unsigned char *s)
{
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void markup_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); continue;
        case '<': fputs("&lt;", f); continue;
        case '>': fputs("&gt;", f); continue;
        case '"': fputs("&quot;", f); continue;
        case '\'': fputs("&#39;", f); continue;
        default: break;
        }
        if (*p < 0x80) {
            fputc(*p >= 0x20 || *p == '\t' || *p == '\n' ? *p : '?', f);
            continue;
        }
        int n = utf8_len(p);
        if (n == 0) {
            fputc('?', f);
            continue;
        }
        fwrite(p, 1, n, f);
        p += n - 1;
    }
}

void svg_number(double v, char *buf, int size)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
        return;
    }
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void colour(FILE *f, const char *attr, uint32_t rgb)
{
    if (rgb == SVG_NONE)
        fprintf(f, " %s=\"none\"", attr);
    else
        fprintf(f, " %s=\"#%06x\"", attr, (unsigned)rgb & 0xffffffu);
}

static void dash(FILE *f, double on, double off)
{
    if (on > 0)
        fprintf(f, " stroke-dasharray=\"%.1f %.1f\"", on, off);
}

/* Close an element: with a <title> child when title is given. */
static void close_with_title(FILE *f, const char *tag, const char *title)
{
    if (!title) {
        fputs("/>\n", f);
        return;
    }
    fputs("><title>", f);
    markup_text(f, title);
    fprintf(f, "</title></%s>\n", tag);
}

void svg_begin(FILE *f, int w, int h)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
               " font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\">\n", w, h, w, h);
}

void svg_end(FILE *f)
{
    fputs("</svg>\n", f);
}

void svg_rect(FILE *f, double x, double y, double w, double h, uint32_t fill, uint32_t stroke,
              const char *title)
{
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x, y, w, h);
    colour(f, "fill", fill);
    if (stroke != SVG_NONE)
        colour(f, "stroke", stroke);
    close_with_title(f, "rect", title);
}

void svg_line(FILE *f, double x0, double y0, double x1, double y1, uint32_t rgb, double width, double dash_on,
              double dash_off, const char *title)
{
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"", x0, y0, x1, y1);
    colour(f, "stroke", rgb);
    fprintf(f, " stroke-width=\"%.1f\"", width);
    dash(f, dash_on, dash_off);
    close_with_title(f, "line", title);
}

void svg_polyline(FILE *f, int n, const double *px, const double *py, uint32_t rgb, double width,
                  double dash_on, double dash_off)
{
    fputs("<polyline points=\"", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", px[i], py[i]);
    fputc('"', f);
    colour(f, "fill", SVG_NONE);
    colour(f, "stroke", rgb);
    fprintf(f, " stroke-width=\"%.1f\" stroke-linejoin=\"round\"", width);
    dash(f, dash_on, dash_off);
    fputs("/>\n", f);
}

void svg_circle(FILE *f, double cx, double cy, double r, uint32_t fill, uint32_t stroke, const char *title)
{
    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", cx, cy, r);
    colour(f, "fill", fill);
    if (stroke != SVG_NONE) {
        colour(f, "stroke", stroke);
        fputs(" stroke-width=\"2\"", f);
    }
    close_with_title(f, "circle", title);
}

void svg_text(FILE *f, double x, double y, double size, const char *anchor, int up, int bold, uint32_t rgb,
              const char *s)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"%s\"", x, y, size, anchor);
    if (up)
        fprintf(f, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
    if (bold)
        fputs(" font-weight=\"bold\"", f);
    colour(f, "fill", rgb);
    fputc('>', f);
    markup_text(f, s);
    fputs("</text>\n", f);
}
