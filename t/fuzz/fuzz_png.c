/* fuzz_png — decoding through strata's own wrappers (core/data/image.c):
 * the header probe, then the full decode, with a 4 M pixel limit (the
 * default is 40 M; lower keeps each execution fast, the path is the same). */
#include "fuzz_common.h"
#include "data/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    fuzz_file("in.png", data, size, path, sizeof path);
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
