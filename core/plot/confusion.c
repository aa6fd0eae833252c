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
            svg_rect(f, left + p * cell, top + t * cell, cell, cell, shade(c, t, p), CONFUSION_GRID, buf);
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

/* The most characters of one line that fit in max_w pixels at scale s. */
static int chars_in(int max_w, int s)
{
    int n = (max_w + (FONT_ADVANCE - FONT_W) * s) / (FONT_ADVANCE * s);
    return n > 4 ? n : 4;
}

/* Width of the widest class name cut to max_chars. */
static int names_width(const confusion *c, int max_chars, int s)
{
    char buf[512];
    int w = 0;
    for (int k = 0; k < c->n; k++) {
        font_cut_text(c->names[k], max_chars, buf, sizeof buf);
        int tw = font_text_width(buf, s);
        w = tw > w ? tw : w;
    }
    return w;
}

/* The layout with (names = 1) or without class names: the title, then
 * "predicted" over the column names (read upwards), "true" and the row
 * names left of the cells; the whole centred across the image. */
static confusion_layout layout_with(int W, int H, const confusion *c, int names)
{
    confusion_layout L = {.s = plot_text_scale(W, H), .names = names};
    int s = L.s;
    L.row_chars = chars_in(W / 3, s);
    L.col_chars = chars_in(H / 4, s);
    int row_w = names ? names_width(c, L.row_chars, s) + 8 * s : 0;
    int col_h = names ? names_width(c, L.col_chars, s) + 6 * s : 0;
    L.top = 10 * s + FONT_H * s + 10 * s + FONT_H * s + 6 * s + col_h;
    L.left = 8 * s + FONT_H * s + 8 * s + row_w;
    int room_w = W - L.left - 10 * s, room_h = H - L.top - 10 * s;
    L.cell = (room_w < room_h ? room_w : room_h) / c->n;
    if (L.cell > 0)
        L.left += (room_w - L.cell * c->n) / 2;
    return L;
}

int confusion_layout_of(int W, int H, const confusion *c, confusion_layout *L, strata_err *err)
{
    if (W < PLOT_MIN_W || H < PLOT_MIN_H || W > PLOT_MAX_W || H > PLOT_MAX_H)
        return err_set(err, STRATA_ERR_CONFIG, "plot size %dx%d: expected %dx%d to %dx%d", W, H, PLOT_MIN_W,
                       PLOT_MIN_H, PLOT_MAX_W, PLOT_MAX_H);
    if (c->n < 1)
        return err_set(err, STRATA_ERR_CONFIG, "confusion matrix: no classes");
    *L = layout_with(W, H, c, 1);
    if (L->cell < (FONT_ASCENT + 2) * L->s)
        *L = layout_with(W, H, c, 0);
    if (L->cell < CONFUSION_MIN_CELL)
        return err_set(err, STRATA_ERR_CONFIG,
                       "confusion matrix: %d classes do not fit in %dx%d (cells of %d pixels, expected at least %d): "
                       "use a larger --size",
                       c->n, W, H, L->cell, CONFUSION_MIN_CELL);
    return 0;
}

/* Title, axis names and class names. */
static void draw_labels(unsigned char *img, int W, int H, const confusion *c, const char *title,
                        const confusion_layout *L)
{
    char buf[512];
    int s = L->s, side = L->cell * c->n;
    if (title) {
        font_cut_text(title, chars_in(W - 21 * s, s), buf, sizeof buf);
        font_draw_bold(img, W, H, 10 * s, 10 * s, buf, s, PLOT_TEXT);
    }
    int y_pred = 10 * s + FONT_H * s + 10 * s;
    font_draw(img, W, H, L->left + side / 2 - font_text_width("predicted", s) / 2, y_pred, "predicted", s, PLOT_TEXT);
    int x_true = L->left - 8 * s - FONT_H * s - (L->names ? names_width(c, L->row_chars, s) + 8 * s : 0);
    font_draw_up(img, W, H, x_true, L->top + side / 2 - font_text_width("true", s) / 2, "true", s, PLOT_TEXT);
    if (!L->names)
        return;
    for (int k = 0; k < c->n; k++) {
        font_cut_text(c->names[k], L->row_chars, buf, sizeof buf);
        font_draw(img, W, H, L->left - 8 * s - font_text_width(buf, s),
                  L->top + k * L->cell + (L->cell - FONT_ASCENT * s) / 2, buf, s, PLOT_TEXT);
        font_cut_text(c->names[k], L->col_chars, buf, sizeof buf);
        font_draw_up(img, W, H, L->left + k * L->cell + L->cell / 2 - FONT_ASCENT * s / 2,
                     L->top - 6 * s - font_text_width(buf, s), buf, s, PLOT_TEXT);
    }
}

int confusion_render(unsigned char *img, int W, int H, const confusion *c, const char *title, strata_err *err)
{
    confusion_layout L;
    if (confusion_layout_of(W, H, c, &L, err))
        return -1;
    int s = L.s, cell = L.cell;
    fill(img, W, H, 0, 0, W, H, PLOT_BACKGROUND);
    draw_labels(img, W, H, c, title, &L);
    char num[32];
    for (int t = 0; t < c->n; t++)
        for (int p = 0; p < c->n; p++) {
            int x = L.left + p * cell, y = L.top + t * cell;
            fill(img, W, H, x, y, cell, cell, CONFUSION_GRID);
            fill(img, W, H, x + 1, y + 1, cell - 2, cell - 2, shade(c, t, p));
            snprintf(num, sizeof num, "%lld", (long long)c->count[(size_t)t * c->n + p]);
            int tw = font_text_width(num, s);
            if (tw <= cell - 4 * s && FONT_ASCENT * s <= cell - 4 * s)
                font_draw(img, W, H, x + (cell - tw) / 2, y + (cell - FONT_ASCENT * s) / 2, num, s, ink(c, t, p));
        }
    return 0;
}
