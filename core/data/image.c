/* image.c — JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB.
 * See image.h for the colour conversions. Both libraries report errors by
 * longjmp out of an error callback; every buffer allocated after setjmp is
 * kept in a volatile local and freed on the error path. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "data/image.h"


enum { FMT_NONE, FMT_JPEG, FMT_PNG };

static int fail(strata_err *err, const char *path, const char *reason)
{
    return err_set(err, STRATA_ERR_RUNTIME, "%s: not a readable image (%s)",
                   path, reason);
}

/* Open path and tell its format from the first bytes; *f is left at 0. */
static int open_detect(const char *path, FILE **f, int *fmt, strata_err *err)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    uint8_t head[8];
    /* Regular files only (O_NONBLOCK: a FIFO must not block the open). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return fail(err, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, path, "not a regular file");
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    *f = fdopen(fd, "rb");
    if (!*f) {
        close(fd);
        return fail(err, path, strerror(errno));
    }
    size_t n = fread(head, 1, sizeof head, *f);
    rewind(*f);
    *fmt = FMT_NONE;
    if (n >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
        *fmt = FMT_JPEG;
    else if (n == 8 && memcmp(head, png_sig, 8) == 0)
        *fmt = FMT_PNG;
    if (*fmt != FMT_NONE)
        return 0;
    fclose(*f);
    *f = NULL;
    return fail(err, path, n == 0 ? "empty file" : "neither JPEG nor PNG data");
}

/* The size read from the header, checked before any pixel is allocated. */
static int check_size(const char *path, unsigned long w, unsigned long h,
                      long max_pixels, strata_err *err)
{
    char why[160];
    if (w == 0 || h == 0) {
        snprintf(why, sizeof why, "size %lux%lu out of range", w, h);
        return fail(err, path, why);
    }
    if ((unsigned long long)w * h > (unsigned long long)max_pixels) {
        snprintf(why, sizeof why, "%lux%lu is %llu pixels, over data.max_pixels = %ld", w, h,
                 (unsigned long long)w * h, max_pixels);
        return fail(err, path, why);
    }
    return 0;
}

/* ---- JPEG ---------------------------------------------------------------- */

typedef struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_err_exit(j_common_ptr c)
{
    jpeg_err *e = (jpeg_err *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Warnings are ignored (as PIL does), except a premature end of data. */
static void jpeg_err_emit(j_common_ptr c, int level)
{
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) {
        jpeg_err *e = (jpeg_err *)c->err;
        snprintf(e->msg, sizeof e->msg, "truncated JPEG data");
        longjmp(e->jb, 1);
    }
}

static void jpeg_err_silent(j_common_ptr c) { (void)c; }

/* rgb (w*3) from an inverted-CMYK row (w*4), as PIL's CMYK;I -> RGB:
 * C = 255 - stored; R = (255 - K) - C*(255 - K)/255 rounded. */
static void cmyk_inverted_to_rgb(uint8_t *rgb, const uint8_t *cmyk, int w)
{
    for (int x = 0; x < w; x++) {
        int nk = cmyk[4 * x + 3]; /* 255 - K */
        for (int c = 0; c < 3; c++) {
            int t = (255 - cmyk[4 * x + c]) * nk + 128;
            rgb[3 * x + c] = (uint8_t)(nk - ((t + (t >> 8)) >> 8));
        }
    }
}

static int jpeg_decode(const char *path, FILE *f, image *out, int header_only,
                       long max_pixels, strata_err *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err je;
    uint8_t *volatile rgb = NULL;
    uint8_t *volatile row = NULL;

    cinfo.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jpeg_err_exit;
    je.pub.emit_message = jpeg_err_emit;
    je.pub.output_message = jpeg_err_silent;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&cinfo);
        free(rgb);
        free(row);
        return fail(err, path, je.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    if (check_size(path, cinfo.image_width, cinfo.image_height, max_pixels, err)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    if (header_only) {
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB; /* grey -> RGB too */
    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    rgb = malloc((size_t)w * h * 3);
    row = malloc((size_t)w * 4);
    if (!rgb || !row) {
        snprintf(je.msg, sizeof je.msg, "out of memory");
        longjmp(je.jb, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dst = rgb + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW r = cmyk ? row : dst;
        jpeg_read_scanlines(&cinfo, &r, 1);
        if (cmyk)
            cmyk_inverted_to_rgb(dst, row, w);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    out->w = w;
    out->h = h;
    out->rgb = rgb;
    return 0;
}

/* ---- PNG ----------------------------------------------------------------- */

typedef struct png_err_ctx {
    jmp_buf jb;
    char msg[256];
} png_err_ctx;

static void png_on_error(png_structp p, png_const_charp m)
{
    png_err_ctx *e = png_get_error_ptr(p);
    snprintf(e->msg, sizeof e->msg, "%s", m);
    longjmp(e->jb, 1);
}

static void png_on_warning(png_structp p, png_const_charp m) { (void)p; (void)m; }

static int png_decode(const char *path, FILE *f, image *out, int header_only,
                      long max_pixels, strata_err *err)
{
    png_err_ctx pe;
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &pe,
                                           png_on_error, png_on_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    uint8_t *volatile rgb = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        png_destroy_read_struct(&p, NULL, NULL);
        return fail(err, path, "out of memory");
    }
    if (setjmp(pe.jb)) {
        png_destroy_read_struct(&p, &info, NULL);
        free(rgb);
        free(rows);
        return fail(err, path, pe.msg);
    }
    png_init_io(p, f);
    png_read_info(p, info);
    png_uint_32 w = png_get_image_width(p, info), h = png_get_image_height(p, info);
    if (check_size(path, w, h, max_pixels, err)) {
        png_destroy_read_struct(&p, &info, NULL);
        return -1;
    }
    if (header_only) {
        png_destroy_read_struct(&p, &info, NULL);
        return 0;
    }
    /* palette -> RGB (tRNS ignored), low-bit grey -> 8, 16 -> high byte,
     * alpha dropped, grey -> RGB. */
    int ct = png_get_color_type(p, info);
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(p);
    if (ct == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(p, info) < 8)
        png_set_expand_gray_1_2_4_to_8(p);
    png_set_strip_16(p);
    png_set_strip_alpha(p);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(p);
    png_set_interlace_handling(p);
    png_read_update_info(p, info);
    if (png_get_rowbytes(p, info) != (size_t)w * 3) {
        snprintf(pe.msg, sizeof pe.msg, "unsupported PNG pixel format");
        longjmp(pe.jb, 1);
    }
    rgb = malloc((size_t)w * h * 3);
    rows = malloc(sizeof(png_bytep) * h);
    if (!rgb || !rows) {
        snprintf(pe.msg, sizeof pe.msg, "out of memory");
        longjmp(pe.jb, 1);
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = rgb + (size_t)y * w * 3;
    png_read_image(p, rows);
    png_read_end(p, NULL);
    png_destroy_read_struct(&p, &info, NULL);
    free(rows);
    out->w = (int)w;
    out->h = (int)h;
    out->rgb = rgb;
    return 0;
}

/* ---- public -------------------------------------------------------------- */

static int decode(const char *path, image *out, int header_only, long max_pixels, strata_err *err)
{
    FILE *f;
    int fmt;
    if (max_pixels <= 0)
        max_pixels = IMAGE_DEFAULT_MAX_PIXELS;
    if (open_detect(path, &f, &fmt, err))
        return -1;
    int rc = fmt == FMT_JPEG ? jpeg_decode(path, f, out, header_only, max_pixels, err)
                             : png_decode(path, f, out, header_only, max_pixels, err);
    fclose(f);
    return rc;
}

int image_load_max(const char *path, long max_pixels, image *out, strata_err *err)
{
    out->w = out->h = 0;
    out->rgb = NULL;
    return decode(path, out, 0, max_pixels, err);
}

int image_load(const char *path, image *out, strata_err *err)
{
    return image_load_max(path, IMAGE_DEFAULT_MAX_PIXELS, out, err);
}

int image_probe_max(const char *path, long max_pixels, strata_err *err)
{
    image unused = {0, 0, NULL};
    return decode(path, &unused, 1, max_pixels, err);
}

int image_probe(const char *path, strata_err *err)
{
    return image_probe_max(path, IMAGE_DEFAULT_MAX_PIXELS, err);
}

void image_free(image *im)
{
    if (!im)
        return;
    free(im->rgb);
    im->rgb = NULL;
    im->w = im->h = 0;
}
