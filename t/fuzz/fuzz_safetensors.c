/* fuzz_safetensors — the checkpoint reader (st_read) on any bytes. */
#include "fuzz_common.h"
#include "store/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[256];
    fuzz_file("in.safetensors", data, size, path, sizeof path);
    st_file f;
    strata_err err = {0};
    if (st_read(path, &f, &err) == 0) {
        for (int i = 0; i < f.n; i++)
            st_find(&f, f.t[i].name);
        st_free(&f);
    }
    return 0;
}
