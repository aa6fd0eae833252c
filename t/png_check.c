/* png_check.c — see png_check.h. */
#include "png_check.h"
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include "plot/font.h"

unsigned char *png_check_read(const char *path, int *w, int *h)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, path))
        return NULL;
    im.format = PNG_FORMAT_RGB;
    unsigned char *buf = malloc(PNG_IMAGE_SIZE(im));
    if (!png_image_finish_read(&im, NULL, buf, 0, NULL)) {
        free(buf);
        return NULL;
    }
    *w = (int)im.width, *h = (int)im.height;
    return buf;
}

int png_check_is(const unsigned char *img, int W, int x, int y, uint32_t rgb)
{
    const unsigned char *p = img + ((size_t)y * W + x) * 3;
    return p[0] == (rgb >> 16 & 0xff) && p[1] == (rgb >> 8 & 0xff) && p[2] == (rgb & 0xff);
}

long png_check_count(const unsigned char *img, int W, plot_rect r, uint32_t rgb)
{
    long n = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++)
            n += png_check_is(img, W, x, y, rgb);
    return n;
}

/* Only the cap-height band (rows 0..FONT_ASCENT-1) is compared: below it,
 * descenders of one line may meet what is drawn under the text. Printable
 * ASCII only (one byte, one glyph). */
int png_check_text_at(const unsigned char *img, int W, int H, int x, int y, const char *text, int s, uint32_t rgb)
{
    int tw = font_text_width(text, s);
    if (x < 0 || y < 0 || x + tw > W || y + FONT_ASCENT * s > H)
        return 0;
    for (int py = 0; py < FONT_ASCENT * s; py++)
        for (int px = 0; px < tw; px++) {
            int i = px / (FONT_ADVANCE * s), col = px % (FONT_ADVANCE * s) / s;
            int set = font_pixel((unsigned char)text[i], py / s, col);
            if (set != png_check_is(img, W, x + px, y + py, rgb))
                return 0;
        }
    return 1;
}

int png_check_find_text(const unsigned char *img, int W, int H, plot_rect r, const char *text, int s, uint32_t rgb,
                        int *x, int *y)
{
    for (int py = r.y; py < r.y + r.h; py++)
        for (int px = r.x; px < r.x + r.w; px++)
            if (png_check_text_at(img, W, H, px, py, text, s, rgb)) {
                *x = px, *y = py;
                return 0;
            }
    return -1;
}
