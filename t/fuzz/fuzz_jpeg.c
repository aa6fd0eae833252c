/* fuzz_jpeg — image decoding (fuzz_image.h) from JPEG seeds. */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_image("in.jpeg", data, size); }
