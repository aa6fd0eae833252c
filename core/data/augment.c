/* augment.c — torchvision-style transforms on float CHW images (see augment.h).
 * An image in flight is a malloc'ed float array of 3*h*w, values in [0, 1]
 * until a normalize. Each op reads one such array and writes a new one. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <strata/plugin.h> /* strata_rng_next */
#include "data/augment.h"

static const char *const op_names[] = {
    "random_resized_crop", "horizontal_flip", "resize",
    "center_crop", "color_jitter", "normalize"};

/* Uniform double in [0, 1) with 53 random bits. */
static double rng_uniform(uint64_t *s)
{
    return (double)(strata_rng_next(s) >> 11) * 0x1p-53;
}

/* Uniform integer in [0, n), n >= 1. */
static int rng_below(uint64_t *s, int n)
{
    int j = (int)(rng_uniform(s) * n);
    return j < n ? j : n - 1;
}

/* ---- random resized crop: the box ---------------------------------------- */

/* nearbyint(v) clamped to [lo, hi] before the conversion (a huge scale or
 * ratio must not reach an int cast: undefined behaviour); NaN gives lo. */
static int round_clamped(double v, int lo, int hi)
{
    v = nearbyint(v);
    return v >= hi ? hi : v >= lo ? (int)v : lo;
}

void rrc_sample_box(int img_w, int img_h, const double scale[2],
                    const double ratio[2], uint64_t *rng, int *x, int *y,
                    int *w, int *h)
{
    double area = (double)img_w * img_h;
    double lr0 = log(ratio[0]), lr1 = log(ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * (scale[0] + (scale[1] - scale[0]) * rng_uniform(rng));
        double r = exp(lr0 + (lr1 - lr0) * rng_uniform(rng));
        /* 0 and img + 1 stand for every size that does not fit */
        int cw = round_clamped(sqrt(target * r), 0, img_w + 1);
        int ch = round_clamped(sqrt(target / r), 0, img_h + 1);
        if (cw > 0 && cw <= img_w && ch > 0 && ch <= img_h) {
            *y = rng_below(rng, img_h - ch + 1);
            *x = rng_below(rng, img_w - cw + 1);
            *w = cw;
            *h = ch;
            return;
        }
    }
    /* Fallback: the whole image, clipped to the ratio bounds, centred. */
    double in_ratio = (double)img_w / img_h;
    int cw = img_w, ch = img_h;
    if (in_ratio < ratio[0])
        ch = round_clamped(cw / ratio[0], 1, img_h);
    else if (in_ratio > ratio[1])
        cw = round_clamped(ch * ratio[1], 1, img_w);
    *x = (img_w - cw) / 2;
    *y = (img_h - ch) / 2;
    *w = cw;
    *h = ch;
}

/* ---- resampling (PIL's ImagingResample, bilinear) ------------------------ */

/* Weights for one axis: in_size samples -> out_size. For output i the
 * inputs first[i] .. first[i]+count[i]-1 with weights k[i*ksize + j].
 * PIL: scale = in/out, fs = max(scale, 1) when antialiasing else 1,
 * support = fs, centre = (i + 0.5) * scale, weight of input j is
 * tri((j + 0.5 - centre) / fs), tri(t) = max(0, 1 - |t|), normalized.
 * With fs = 1 this is plain bilinear (align_corners=False, edge clamped). */
typedef struct axis_weights {
    int ksize;
    int *first, *count;
    double *k;
} axis_weights;

static void axis_free(axis_weights *a)
{
    free(a->first);
    free(a->count);
    free(a->k);
    a->first = a->count = NULL;
    a->k = NULL;
}

static int axis_make(axis_weights *a, int in_size, int out_size, int antialias)
{
    double scale = (double)in_size / out_size;
    double fs = antialias && scale > 1.0 ? scale : 1.0;
    double support = fs;
    a->ksize = (int)ceil(support) * 2 + 1;
    a->first = malloc(sizeof(int) * out_size);
    a->count = malloc(sizeof(int) * out_size);
    a->k = malloc(sizeof(double) * out_size * a->ksize);
    if (!a->first || !a->count || !a->k) {
        axis_free(a);
        return -1;
    }
    for (int i = 0; i < out_size; i++) {
        double centre = (i + 0.5) * scale, total = 0.0;
        int lo = (int)(centre - support + 0.5), hi = (int)(centre + support + 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = hi > in_size ? in_size : hi;
        double *k = a->k + (size_t)i * a->ksize;
        for (int j = 0; j < hi - lo; j++) {
            double t = fabs((j + lo - centre + 0.5) / fs);
            k[j] = t < 1.0 ? 1.0 - t : 0.0;
            total += k[j];
        }
        for (int j = 0; j < hi - lo; j++)
            k[j] = total != 0.0 ? k[j] / total : 0.0;
        a->first[i] = lo;
        a->count[i] = hi - lo;
    }
    return 0;
}

/* out (3, oh, ow) = the box (bx, by, bw, bh) of in (3, ih, iw) resized,
 * i.e. crop then resize. Horizontal pass into tmp (3, bh, ow), then
 * vertical. */
static int resize_box(const float *in, int ih, int iw, int bx, int by, int bw,
                      int bh, float *out, int oh, int ow, int antialias)
{
    axis_weights ax = {0}, ay = {0};
    float *tmp = malloc(sizeof(float) * 3 * bh * ow);
    if (!tmp || axis_make(&ax, bw, ow, antialias) || axis_make(&ay, bh, oh, antialias)) {
        free(tmp);
        axis_free(&ax);
        return -1;
    }
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < bh; y++) {
            const float *row = in + ((size_t)c * ih + by + y) * iw + bx;
            float *t = tmp + ((size_t)c * bh + y) * ow;
            for (int x = 0; x < ow; x++) {
                const double *k = ax.k + (size_t)x * ax.ksize;
                double s = 0.0;
                for (int j = 0; j < ax.count[x]; j++)
                    s += k[j] * row[ax.first[x] + j];
                t[x] = (float)s;
            }
        }
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < oh; y++) {
            const double *k = ay.k + (size_t)y * ay.ksize;
            float *o = out + ((size_t)c * oh + y) * ow;
            const float *t = tmp + ((size_t)c * bh + ay.first[y]) * ow;
            for (int x = 0; x < ow; x++) {
                double s = 0.0;
                for (int j = 0; j < ay.count[y]; j++)
                    s += k[j] * t[(size_t)j * ow + x];
                o[x] = (float)s;
            }
        }
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
    return 0;
}

/* ---- geometry ------------------------------------------------------------- */

/* x (3, h, w): mirror each row in place. */
static void hflip(float *x, int h, int w)
{
    for (int r = 0; r < 3 * h; r++) {
        float *row = x + (size_t)r * w;
        for (int i = 0, j = w - 1; i < j; i++, j--) {
            float t = row[i];
            row[i] = row[j];
            row[j] = t;
        }
    }
}

/* out (3, ch, cw) = torchvision's center_crop of in (3, h, w): pad with zeros
 * (left/top (c - s) // 2, right/bottom the rest) where the crop is larger,
 * then top = round((H' - ch) / 2), left = round((W' - cw) / 2) (half even). */
static void center_crop(const float *in, int h, int w, float *out, int ch, int cw)
{
    int pt = ch > h ? (ch - h) / 2 : 0, pl = cw > w ? (cw - w) / 2 : 0;
    int ph = ch > h ? ch : h, pw = cw > w ? cw : w; /* padded size */
    int top = (int)nearbyint((ph - ch) / 2.0) - pt;
    int left = (int)nearbyint((pw - cw) / 2.0) - pl;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                int sy = y + top, sx = x + left;
                out[((size_t)c * ch + y) * cw + x] =
                    sy >= 0 && sy < h && sx >= 0 && sx < w
                        ? in[((size_t)c * h + sy) * w + sx] : 0.0f;
            }
}

/* torchvision's Resize(size) for an int size: the shorter side becomes s. */
static void shorter_side_size(int h, int w, int s, int *oh, int *ow)
{
    if (w <= h) {
        *ow = s;
        *oh = (int)((double)s * h / w);
    } else {
        *oh = s;
        *ow = (int)((double)s * w / h);
    }
}

/* ---- colour --------------------------------------------------------------- */

/* x = clamp(f * x + (1 - f) * other, 0, 1); other is per pixel (grey, h*w)
 * or, when grey is NULL, the constant k. */
static void blend(float *x, int h, int w, float f, const float *grey, float k)
{
    size_t hw = (size_t)h * w;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < hw; i++) {
            float v = f * x[c * hw + i] + (1.0f - f) * (grey ? grey[i] : k);
            x[c * hw + i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
}

/* grey (h*w) = 0.299 R + 0.587 G + 0.114 B of x (3, h, w); returns its mean. */
static double greyscale(const float *x, int h, int w, float *grey)
{
    size_t hw = (size_t)h * w;
    double sum = 0.0;
    for (size_t i = 0; i < hw; i++) {
        grey[i] = 0.299f * x[i] + 0.587f * x[hw + i] + 0.114f * x[2 * hw + i];
        sum += grey[i];
    }
    return sum / (double)hw;
}

/* ColorJitter: draw the order (a permutation of brightness, contrast,
 * saturation), then the factors of those with x > 0, then apply:
 * brightness blends with 0, contrast with the grey mean, saturation with
 * the grey image. */
static int color_jitter(float *x, int h, int w, const aug_op *o, uint64_t *rng)
{
    const double amount[3] = {o->u.jitter.brightness, o->u.jitter.contrast,
                              o->u.jitter.saturation};
    int order[3] = {0, 1, 2};
    double f[3] = {1.0, 1.0, 1.0};
    for (int i = 2; i > 0; i--) {
        int j = rng_below(rng, i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < 3; i++)
        if (amount[i] > 0.0) {
            double lo = amount[i] < 1.0 ? 1.0 - amount[i] : 0.0;
            f[i] = lo + (1.0 + amount[i] - lo) * rng_uniform(rng);
        }
    float *grey = malloc(sizeof(float) * h * w);
    if (!grey)
        return -1;
    for (int i = 0; i < 3; i++) {
        int t = order[i];
        if (amount[t] <= 0.0)
            continue;
        if (t == 0) {
            blend(x, h, w, (float)f[0], NULL, 0.0f);
        } else if (t == 1) {
            float mean = (float)greyscale(x, h, w, grey);
            blend(x, h, w, (float)f[1], NULL, mean);
        } else {
            greyscale(x, h, w, grey);
            blend(x, h, w, (float)f[2], grey, 0.0f);
        }
    }
    free(grey);
    return 0;
}

static void normalize(float *x, int h, int w, const float mean[3], const float std[3])
{
    size_t hw = (size_t)h * w;
    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < hw; i++)
            x[c * hw + i] = (x[c * hw + i] - mean[c]) / std[c];
}

/* ---- the pipeline --------------------------------------------------------- */

static int op_error(strata_err *err, int i, const aug_op *o, const char *what)
{
    return err_set(err, STRATA_ERR_CONFIG, "augmentation %d (%s): %s", i + 1,
                   op_names[o->kind], what);
}

static int check_op(const aug_op *o, int i, strata_err *err)
{
    switch (o->kind) {
    case AUG_RANDOM_RESIZED_CROP:
        if (o->u.rrc.h < 1 || o->u.rrc.w < 1)
            return op_error(err, i, o, "size must be at least 1x1");
        if (!(o->u.rrc.scale[0] > 0 && o->u.rrc.scale[0] <= o->u.rrc.scale[1]))
            return op_error(err, i, o, "scale must be [min, max] with 0 < min <= max");
        if (!(o->u.rrc.ratio[0] > 0 && o->u.rrc.ratio[0] <= o->u.rrc.ratio[1]) ||
            !isfinite(o->u.rrc.ratio[1]))
            return op_error(err, i, o, "ratio must be [min, max] with 0 < min <= max");
        return 0;
    case AUG_HORIZONTAL_FLIP:
        if (!(o->u.flip.p >= 0 && o->u.flip.p <= 1))
            return op_error(err, i, o, "p must be a probability in [0, 1]");
        return 0;
    case AUG_RESIZE:
        if (o->u.resize.h < 1)
            return op_error(err, i, o, "size must be at least 1");
        return 0;
    case AUG_CENTER_CROP:
        if (o->u.crop.h < 1 || o->u.crop.w < 1)
            return op_error(err, i, o, "size must be at least 1x1");
        return 0;
    case AUG_COLOR_JITTER:
        if (!(o->u.jitter.brightness >= 0 && o->u.jitter.contrast >= 0 &&
              o->u.jitter.saturation >= 0) ||
            !isfinite(o->u.jitter.brightness + o->u.jitter.contrast + o->u.jitter.saturation))
            return op_error(err, i, o, "brightness, contrast and saturation must be >= 0");
        return 0;
    case AUG_NORMALIZE:
        for (int c = 0; c < 3; c++)
            if (!(o->u.norm.std[c] != 0.0f) || !isfinite(o->u.norm.std[c]) ||
                !isfinite(o->u.norm.mean[c]))
                return op_error(err, i, o, "std must be three non-zero numbers");
        return 0;
    }
    return op_error(err, i, o, "unknown kind");
}

static int check_pipeline(const aug_pipeline *p, strata_err *err)
{
    if (p->n < 0 || p->n > AUG_MAX_OPS)
        return err_set(err, STRATA_ERR_CONFIG,
                       "augmentation: %d transforms (expected 0 to %d)", p->n, AUG_MAX_OPS);
    for (int i = 0; i < p->n; i++) {
        if ((unsigned)p->ops[i].kind > AUG_NORMALIZE)
            return err_set(err, STRATA_ERR_CONFIG, "augmentation %d: unknown kind %d",
                           i + 1, (int)p->ops[i].kind);
        if (check_op(&p->ops[i], i, err))
            return -1;
    }
    return 0;
}

int augment_output_size(const aug_pipeline *p, int *h, int *w, strata_err *err)
{
    if (check_pipeline(p, err))
        return -1;
    int fixed = 0;
    for (int i = 0; i < p->n; i++) {
        const aug_op *o = &p->ops[i];
        if (o->kind == AUG_RANDOM_RESIZED_CROP)
            fixed = 1, *h = o->u.rrc.h, *w = o->u.rrc.w;
        else if (o->kind == AUG_RESIZE)
            fixed = o->u.resize.w > 0, *h = o->u.resize.h, *w = o->u.resize.w;
        else if (o->kind == AUG_CENTER_CROP)
            fixed = 1, *h = o->u.crop.h, *w = o->u.crop.w;
    }
    if (!fixed)
        return err_set(err, STRATA_ERR_CONFIG,
                       "augmentation: the transforms give no fixed image size "
                       "(expected a resize to [h, w], a center_crop or a "
                       "random_resized_crop after the last resize)");
    return 0;
}

/* Apply op o to *x (3, *h, *w), replacing *x when the size changes. */
static int apply_op(const aug_op *o, float **x, int *h, int *w, uint64_t *rng)
{
    int nh = *h, nw = *w, bx = 0, by = 0, bw = *w, bh = *h;
    switch (o->kind) {
    case AUG_HORIZONTAL_FLIP:
        if (rng_uniform(rng) < o->u.flip.p)
            hflip(*x, *h, *w);
        return 0;
    case AUG_COLOR_JITTER:
        return color_jitter(*x, *h, *w, o, rng);
    case AUG_NORMALIZE:
        normalize(*x, *h, *w, o->u.norm.mean, o->u.norm.std);
        return 0;
    case AUG_RANDOM_RESIZED_CROP:
        rrc_sample_box(*w, *h, o->u.rrc.scale, o->u.rrc.ratio, rng, &bx, &by, &bw, &bh);
        nh = o->u.rrc.h, nw = o->u.rrc.w;
        break;
    case AUG_RESIZE:
        if (o->u.resize.w > 0)
            nh = o->u.resize.h, nw = o->u.resize.w;
        else
            shorter_side_size(*h, *w, o->u.resize.h, &nh, &nw);
        break;
    case AUG_CENTER_CROP:
        nh = o->u.crop.h, nw = o->u.crop.w;
        break;
    }
    if (nh < 1 || nw < 1)
        return -1;
    if ((double)nh * nw > AUG_MAX_PIXELS) /* a thin photo resized by its shorter side */
        return -2;
    float *y = malloc(sizeof(float) * 3 * nh * nw);
    if (!y)
        return -1;
    if (o->kind == AUG_CENTER_CROP)
        center_crop(*x, *h, *w, y, nh, nw);
    else if (resize_box(*x, *h, *w, bx, by, bw, bh, y, nh, nw,
                        o->kind == AUG_RANDOM_RESIZED_CROP || o->u.resize.antialias)) {
        free(y);
        return -1;
    }
    free(*x);
    *x = y;
    *h = nh;
    *w = nw;
    return 0;
}

int augment_apply(const aug_pipeline *p, const image *in, uint64_t rng_seed,
                  float *out_chw, int out_h, int out_w, strata_err *err)
{
    if (check_pipeline(p, err))
        return -1;
    if (!in || !in->rgb || in->w < 1 || in->h < 1)
        return err_set(err, STRATA_ERR_RUNTIME, "augment: empty input image");
    int h = in->h, w = in->w;
    size_t hw = (size_t)h * w;
    float *x = malloc(sizeof(float) * 3 * hw);
    if (!x)
        return err_set(err, STRATA_ERR_RUNTIME, "augment: out of memory (%dx%d image)", w, h);
    for (size_t i = 0; i < hw; i++)
        for (int c = 0; c < 3; c++)
            x[c * hw + i] = in->rgb[3 * i + c] / 255.0f;
    uint64_t rng = rng_seed;
    int r;
    for (int i = 0; i < p->n; i++)
        if ((r = apply_op(&p->ops[i], &x, &h, &w, &rng))) {
            free(x);
            if (r == -2)
                return err_set(err, STRATA_ERR_RUNTIME,
                               "augmentation %d (%s): a %dx%d image would grow past %d pixels", i + 1,
                               op_names[p->ops[i].kind], w, h, AUG_MAX_PIXELS);
            return err_set(err, STRATA_ERR_RUNTIME,
                           "augmentation %d (%s): out of memory or empty result",
                           i + 1, op_names[p->ops[i].kind]);
        }
    if (h != out_h || w != out_w) {
        free(x);
        return err_set(err, STRATA_ERR_CONFIG,
                       "augmentation: result is %dx%d, expected %dx%d (h x w)",
                       h, w, out_h, out_w);
    }
    memcpy(out_chw, x, sizeof(float) * 3 * h * w);
    free(x);
    return 0;
}
