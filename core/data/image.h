/* image.h — decode JPEG and PNG files to 8-bit RGB.
 *
 * The format is chosen by content (magic bytes), never by extension.
 * Results match PIL's Image.open(path).convert('RGB'):
 *   JPEG: grey, YCbCr, RGB, CMYK and YCCK (CMYK samples taken as
 *         Adobe-inverted, as PIL assumes; R = (255-C)(255-K)/255 ...);
 *         EXIF orientation is ignored.
 *   PNG:  grey, grey+alpha, palette (with or without tRNS), RGB, RGBA,
 *         1/2/4/8/16-bit; 16-bit samples keep their high byte; alpha is
 *         dropped (not composited).
 * Only regular files are read (a FIFO, device or socket is refused).
 * A truncated or corrupt file is an error (STRATA_ERR_RUNTIME), with a
 * one-line message "PATH: not a readable image (REASON)".
 */
#ifndef STRATA_IMAGE_H
#define STRATA_IMAGE_H

#include <stdint.h>
#include "config/error.h"

/* An image is refused, from its header and before any pixel is allocated,
 * when width x height exceeds max_pixels (data.max_pixels; default
 * IMAGE_DEFAULT_MAX_PIXELS: 40 M pixels are 120 MB of RGB, plus the
 * decoder's own buffers, per decoding worker). IMAGE_MAX_PIXELS_LIMIT is the
 * most data.max_pixels may say (PIL's DecompressionBombError limit). */
#define IMAGE_DEFAULT_MAX_PIXELS 40000000L
#define IMAGE_MAX_PIXELS_LIMIT (2L * 89478485L)

typedef struct image {
    int w, h;
    uint8_t *rgb; /* h*w*3 bytes, row-major HWC */
} image;

/* Decode path into *out (out->rgb malloc'ed; free with image_free).
 * Returns 0, or -1 with *err set and *out left empty. */
int image_load(const char *path, image *out, strata_err *err);

/* Cheap validity check: the file is a JPEG or PNG whose header reads.
 * Returns 0, or -1 with *err set. Does not decode the pixels. */
int image_probe(const char *path, strata_err *err);

/* The same with an explicit pixel limit (<= 0: the default). */
int image_load_max(const char *path, long max_pixels, image *out, strata_err *err);
int image_probe_max(const char *path, long max_pixels, strata_err *err);

void image_free(image *im);

#endif
