/* augment_config.h — an `augment.train` / `augment.val` list read into an
 * aug_pipeline. Each item is one transform, a name or a one-key mapping:
 *
 *   - random_resized_crop: {size: 224, scale: [0.08, 1.0], ratio: [0.75, 1.3333333]}
 *   - horizontal_flip: {p: 0.5}          # or just: - horizontal_flip
 *   - resize: {size: [224, 224], antialias: true}   # {size: 256}: shorter side to 256
 *   - center_crop: {size: 224}
 *   - color_jitter: {brightness: 0.2, contrast: 0.2, saturation: 0.2}
 *   - normalize: {mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]}
 */
#ifndef STRATA_AUGMENT_CONFIG_H
#define STRATA_AUGMENT_CONFIG_H

#include "data/augment.h"
#include "config/yaml_tree.h"

/* list may be NULL: then the pipeline is a resize to (h, w) (the model's
 * input size). prefix names the list in messages ("augment.train"). */
int augment_config(const ynode *list, const char *prefix, int h, int w, aug_pipeline *p, strata_err *err);

#endif
