/* confusion.c — confusion matrices as SVG and PNG pixels (confusion.h). */
#include <stdlib.h>
#include <string.h>
#include "plot/confusion.h"
#include "plot/font.h"
#include "plot/plot.h"
#include "plot/svg.h"

/* The row total of true class t. */
static int64_t row_total(const confusion *c, int t)
{
    int64_t s = 0;
    for (int p = 0; p < c->n; p++)
        s += c->count[(size_t)t * c->n + p];
    return s;
}

/* White to blue by the cell's share of its row. */
static uint32_t shade(const confusion *c, int t, int p)
{
    int64_t total = row_total(c, t);
    double a = total ? (double)c->count[(size_t)t * c->n + p] / total : 0;
    unsigned r = (unsigned)(255 - a * (255 - 0x21)), g = (unsigned)(255 - a * (255 - 0x66)),
             b = (unsigned)(255 - a * (255 - 0xac));
    return r << 16 | g << 8 | b;
}

static uint32_t ink(const confusion *c, int t, int p)
{
    int64_t total = row_total(c, t);
    return total && c->count[(size_t)t * c->n + p] * 2 > total ? 0xffffffu : PLOT_TEXT;
}

void confusion_write_svg(FILE *f, const confusion *c, const char *title)
{
    int cell = 56, left = 150, top = 130, w = left + c->n * cell + 20, h = top + c->n * cell + 40;
    char buf[1024], num[32];
    svg_begin(f, w, h);
    svg_rect(f, 0, 0, w, h, 0xffffffu, SVG_NONE, NULL);
    if (title)
        svg_text(f, 10, 22, 16, "start", 0, 1, PLOT_TEXT, title);
    svg_text(f, left + c->n * cell / 2.0, 48, 13, "middle", 0, 0, PLOT_TEXT, "predicted");
    svg_text(f, 16, top + c->n * cell / 2.0, 13, "middle", 1, 0, PLOT_TEXT, "true");
    for (int k = 0; k < c->n; k++) {
        svg_text(f, left - 8, top + k * cell + cell / 2.0 + 4, 12, "end", 0, 0, PLOT_TEXT, c->names[k]);
        fprintf(f, "<g transform=\"translate(%.1f %d) rotate(-45)\">", left + k * cell + cell / 2.0, top - 8);
        svg_text(f, 0, 0, 12, "start", 0, 0, PLOT_TEXT, c->names[k]);
        fputs("</g>\n", f);
    }
    for (int t = 0; t < c->n; t++)
        for (int p = 0; p < c->n; p++) {
            int64_t v = c->count[(size_t)t * c->n + p];
            snprintf(buf, sizeof buf, "true %s, predicted %s: %lld", c->names[t], c->names[p], (long long)v);
            svg_rect(f, left + p * cell, top + t * cell, cell, cell, shade(c, t, p), 0xc4c4c8u, buf);
            snprintf(num, sizeof num, "%lld", (long long)v);
            svg_text(f, left + p * cell + cell / 2.0, top + t * cell + cell / 2.0 + 5, 14, "middle", 0, 0,
                     ink(c, t, p), num);
        }
    svg_end(f);
}

static void fill(unsigned char *img, int W, int H, int x0, int y0, int w, int h, uint32_t rgb)
{
    for (int y = y0 < 0 ? 0 : y0; y < y0 + h && y < H; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x0 + w && x < W; x++) {
            unsigned char *q = img + ((size_t)y * W + x) * 3;
            q[0] = rgb >> 16 & 0xff, q[1] = rgb >> 8 & 0xff, q[2] = rgb & 0xff;
        }
}

int confusion_render(unsigned char *img, int W, int H, const confusion *c, const char *title, strata_err *err)
{
    if (W < PLOT_MIN_W || H < PLOT_MIN_H || W > PLOT_MAX_W || H > PLOT_MAX_H)
        return err_set(err, STRATA_ERR_CONFIG, "plot size %dx%d: expected %dx%d to %dx%d", W, H, PLOT_MIN_W,
                       PLOT_MIN_H, PLOT_MAX_W, PLOT_MAX_H);
    if (c->n < 1)
        return err_set(err, STRATA_ERR_CONFIG, "confusion matrix: no classes");
    int names_w = 0;
    for (int k = 0; k < c->n; k++) {
        int tw = font_text_width(c->names[k], 1);
        names_w = tw > names_w ? tw : names_w;
    }
    int top = 2 * FONT_H + 20 + FONT_H + 10, left = names_w + 16;
    int cell = (W - left - 10) / c->n < (H - top - 10) / c->n ? (W - left - 10) / c->n : (H - top - 10) / c->n;
    if (cell < FONT_H + 4)
        return err_set(err, STRATA_ERR_CONFIG, "confusion matrix: %d classes do not fit in %dx%d", c->n, W, H);
    fill(img, W, H, 0, 0, W, H, PLOT_BACKGROUND);
    if (title)
        font_draw(img, W, H, 10, 8, title, 2, PLOT_TEXT);
    char num[32];
    for (int t = 0; t < c->n; t++) {
        font_draw(img, W, H, left - 8 - font_text_width(c->names[t], 1), top + t * cell + (cell - FONT_H) / 2,
                  c->names[t], 1, PLOT_TEXT);
        font_draw(img, W, H, left + t * cell + 2, top - FONT_H - 4, c->names[t], 1, PLOT_TEXT);
        for (int p = 0; p < c->n; p++) {
            fill(img, W, H, left + p * cell, top + t * cell, cell, cell, 0xc4c4c8u);
            fill(img, W, H, left + p * cell + 1, top + t * cell + 1, cell - 2, cell - 2, shade(c, t, p));
            snprintf(num, sizeof num, "%lld", (long long)c->count[(size_t)t * c->n + p]);
            font_draw(img, W, H, left + p * cell + (cell - font_text_width(num, 1)) / 2,
                      top + t * cell + (cell - FONT_ASCENT) / 2, num, 1, ink(c, t, p));
        }
    }
    return 0;
}
