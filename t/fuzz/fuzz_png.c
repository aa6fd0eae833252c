/* fuzz_png — image decoding (fuzz_image.h) from PNG seeds. */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_image("in.png", data, size); }
