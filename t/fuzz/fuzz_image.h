/* fuzz_image.h — what fuzz_jpeg and fuzz_png share: the input written to a
 * file, then decoded through strata's own wrappers (core/data/image.c): the
 * header probe, then the full decode, with a 4 M pixel limit (the default
 * is 40 M; lower keeps each execution fast, the path is the same). The
 * decoder goes by the content; the two harnesses differ in their seeds. */
#ifndef STRATA_FUZZ_IMAGE_H
#define STRATA_FUZZ_IMAGE_H

#include "fuzz_common.h"
#include "data/image.h"

static int fuzz_image(const char *name, const uint8_t *data, size_t size)
{
    char path[256];
    fuzz_file(name, data, size, path, sizeof path);
    strata_err err = {0};
    image im;
    if (image_probe_max(path, 4000000, &err) == 0 && image_load_max(path, 4000000, &im, &err) == 0) {
        if (im.w < 1 || im.h < 1 || !im.rgb)
            abort();
        volatile uint8_t last = im.rgb[(size_t)im.w * im.h * 3 - 1]; /* the whole buffer is there */
        (void)last;
        image_free(&im);
    }
    return 0;
}

#endif
