/* augment.h — image transforms with torchvision 0.14 semantics, applied in
 * order, deterministic given a seed. Work is in float (values / 255, as
 * ToTensor) with no rounding to uint8 between steps.
 *
 *   AUG_RANDOM_RESIZED_CROP  RandomResizedCrop((h, w), scale, ratio):
 *                            rrc_sample_box, then bilinear antialiased resize
 *   AUG_HORIZONTAL_FLIP      RandomHorizontalFlip(p)
 *   AUG_RESIZE               Resize((h, w)) bilinear; w <= 0 means Resize(h):
 *                            the shorter side becomes h, the longer
 *                            floor(h * long / short). antialias: PIL-style
 *                            (filter support grows with the shrink factor)
 *   AUG_CENTER_CROP          CenterCrop((h, w)), zero padding when smaller
 *   AUG_COLOR_JITTER         ColorJitter(brightness, contrast, saturation):
 *                            factors uniform in [max(0, 1-x), 1+x], applied
 *                            in a random order; x = 0 leaves that one out.
 *                            As torchvision's tensor version: contrast blends
 *                            with the float mean of the grey image (PIL's
 *                            version rounds that mean to an integer)
 *   AUG_NORMALIZE            Normalize(mean, std)
 *
 * Random numbers: splitmix64 (strata_rng_next) seeded with rng_seed; the
 * ops draw in pipeline order. This is not torch's generator: the same seed
 * gives the same result here, not the same result as PyTorch.
 */
#ifndef STRATA_AUGMENT_H
#define STRATA_AUGMENT_H

/* No transform makes an image larger than this (a resize by the shorter
 * side turns a 10x10000 photo at size 224 into 224x224000): an error, not
 * gigabytes. The same bound as data.max_pixels' default. */
#define AUG_MAX_PIXELS 40000000

#include <stdint.h>
#include "config/error.h"
#include "data/image.h"

typedef enum {
    AUG_RANDOM_RESIZED_CROP,
    AUG_HORIZONTAL_FLIP,
    AUG_RESIZE,
    AUG_CENTER_CROP,
    AUG_COLOR_JITTER,
    AUG_NORMALIZE
} aug_kind;

typedef struct aug_op {
    aug_kind kind;
    union {
        struct { int h, w; double scale[2], ratio[2]; } rrc;
        struct { double p; } flip;
        struct { int h, w; int antialias; } resize;
        struct { int h, w; } crop;
        struct { double brightness, contrast, saturation; } jitter;
        struct { float mean[3], std[3]; } norm;
    } u;
} aug_op;

#define AUG_MAX_OPS 16

typedef struct aug_pipeline {
    int n;
    aug_op ops[AUG_MAX_OPS];
} aug_pipeline;

/* The output size (h, w) the pipeline produces for any input, or -1 and an
 * error when it has no fixed size (no resize/crop with a fixed size after
 * the last size-changing op) or an op has invalid parameters
 * (STRATA_ERR_CONFIG). Used to shape the network input. */
int augment_output_size(const aug_pipeline *p, int *h, int *w, strata_err *err);

/* Apply p to one image; writes a float CHW tensor of 3*out_h*out_w into
 * out_chw (values /255, then normalized if listed). rng_seed makes the
 * random choices. Errors: invalid op, a result of another size than
 * out_h x out_w, out of memory. */
int augment_apply(const aug_pipeline *p, const image *in, uint64_t rng_seed,
                  float *out_chw, int out_h, int out_w, strata_err *err);

/* torchvision's RandomResizedCrop.get_params: up to 10 draws of an area
 * fraction uniform in scale and a log-uniform aspect ratio (w/h) in ratio,
 * w = round(sqrt(area*r)), h = round(sqrt(area/r)) (round half to even);
 * the first that fits gets a uniform position. Otherwise the fallback: the
 * whole image clipped to the ratio bounds, centred. *rng is a splitmix64
 * state, advanced. Writes the box (x, y, w, h), always inside the image and
 * at least 1x1. */
void rrc_sample_box(int img_w, int img_h, const double scale[2],
                    const double ratio[2], uint64_t *rng, int *x, int *y,
                    int *w, int *h);

#endif
