/* fuzz_augment — the augmentation config (an augment.train list, YAML text)
 * and, when it is valid for 8x8 outputs, the transforms applied to a few
 * small images (1x1, 13x9, 9x31). */
#include "fuzz_common.h"
#include "config/yaml_tree.h"
#include "data/augment_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    strata_err err = {0};
    ynode *list = strlen(text) == size ? yaml_load_string(text, "augment", &err) : NULL;
    aug_pipeline p;
    if (list && list->kind == YNODE_SEQ && augment_config(list, "augment.train", 8, 8, &p, &err) == 0) {
        static const int sizes[3][2] = {{1, 1}, {13, 9}, {9, 31}};
        float out[3 * 8 * 8];
        for (int s = 0; s < 3; s++) {
            image im = {sizes[s][1], sizes[s][0], NULL};
            im.rgb = malloc((size_t)im.w * im.h * 3);
            for (int i = 0; i < im.w * im.h * 3; i++)
                im.rgb[i] = (uint8_t)(i * 37);
            augment_apply(&p, &im, (uint64_t)size * 7919 + s, out, 8, 8, &err);
            free(im.rgb);
        }
    }
    ynode_free(list);
    free(text);
    return 0;
}
