/* test_augment.c — transforms: crop-box sampling and its fallback, flip,
 * resize (constants, a hand-computed PIL case, antialiasing), centre crop
 * geometry and padding, normalize, colour jitter, output size, determinism,
 * errors. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/augment.h"
#include "testlib.h"

/* An image of w x h whose pixel (x, y), channel c is f(x, y, c). */
static image make_image(int w, int h, uint8_t (*f)(int, int, int))
{
    image im = {w, h, malloc((size_t)w * h * 3)};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                im.rgb[(y * w + x) * 3 + c] = f(x, y, c);
    return im;
}

static uint8_t px_distinct(int x, int y, int c) { return (uint8_t)((x * 7 + y * 31 + c * 80) % 256); }
static uint8_t px_const(int x, int y, int c) { (void)x; (void)y; return (uint8_t)(60 + 50 * c); }
static uint8_t px_grey(int x, int y, int c) { (void)c; return (uint8_t)(x * 20 + y * 3); }
static uint8_t px_checker(int x, int y, int c) { (void)c; return (x + y) % 2 ? 255 : 0; }
static uint8_t px_ramp4(int x, int y, int c) { (void)y; (void)c; return (uint8_t)(x * 60); }

static float in_px(const image *im, int x, int y, int c)
{
    return im->rgb[(y * im->w + x) * 3 + c] / 255.0f;
}

static float *apply(const aug_pipeline *p, const image *im, uint64_t seed, int oh, int ow)
{
    float *out = malloc(sizeof(float) * 3 * oh * ow);
    strata_err e = {0};
    int rc = augment_apply(p, im, seed, out, oh, ow, &e);
    ck_assert_msg(rc == 0, "%s", e.msg);
    return out;
}

static aug_op op_rrc(int h, int w)
{
    aug_op o = {.kind = AUG_RANDOM_RESIZED_CROP};
    o.u.rrc.h = h, o.u.rrc.w = w;
    o.u.rrc.scale[0] = 0.08, o.u.rrc.scale[1] = 1.0;
    o.u.rrc.ratio[0] = 3.0 / 4.0, o.u.rrc.ratio[1] = 4.0 / 3.0;
    return o;
}
static aug_op op_flip(double p) { aug_op o = {.kind = AUG_HORIZONTAL_FLIP}; o.u.flip.p = p; return o; }
static aug_op op_resize(int h, int w, int aa)
{
    aug_op o = {.kind = AUG_RESIZE};
    o.u.resize.h = h, o.u.resize.w = w, o.u.resize.antialias = aa;
    return o;
}
static aug_op op_crop(int h, int w) { aug_op o = {.kind = AUG_CENTER_CROP}; o.u.crop.h = h, o.u.crop.w = w; return o; }
static aug_op op_jitter(double b, double c, double s)
{
    aug_op o = {.kind = AUG_COLOR_JITTER};
    o.u.jitter.brightness = b, o.u.jitter.contrast = c, o.u.jitter.saturation = s;
    return o;
}

/* ---- crop boxes ---------------------------------------------------------- */

START_TEST(rrc_boxes_within_bounds)
{
    const int sizes[][2] = {{100, 80}, {37, 200}, {500, 333}, {3, 3}, {64, 64}};
    const double scale[2] = {0.08, 1.0}, ratio[2] = {3.0 / 4.0, 4.0 / 3.0};
    uint64_t rng = 99;
    for (int s = 0; s < 5; s++) {
        int W = sizes[s][0], H = sizes[s][1], moved = 0, sizes_seen = 0, last_w = -1;
        for (int i = 0; i < 2000; i++) {
            int x, y, w, h;
            rrc_sample_box(W, H, scale, ratio, &rng, &x, &y, &w, &h);
            ck_assert(w >= 1 && h >= 1 && x >= 0 && y >= 0 && x + w <= W && y + h <= H);
            int fallback = (w == W && h == H) || (x == (W - w) / 2 && y == (H - h) / 2 &&
                                                  (w == W || h == H));
            if (!fallback && W > 10 && H > 10) {
                /* w, h are rounded: allow half a pixel each way */
                double A = (double)W * H;
                ck_assert((w + 0.5) * (h + 0.5) >= scale[0] * A);
                ck_assert((w - 0.5) * (h - 0.5) <= scale[1] * A);
                ck_assert((w + 0.5) / (h - 0.5) >= ratio[0]);
                ck_assert((w - 0.5) / (h + 0.5) <= ratio[1]);
            }
            moved += x > 0 || y > 0;
            sizes_seen += w != last_w;
            last_w = w;
        }
        if (W > 10 && H > 10) {
            ck_assert_int_gt(moved, 1000);     /* positions vary */
            ck_assert_int_gt(sizes_seen, 1000); /* sizes vary */
        }
    }
}
END_TEST

START_TEST(rrc_fallback_when_impossible)
{
    /* scale > 1: no draw fits, the fallback takes the whole image clipped to
     * the ratio bounds and centres it (torchvision's rounding). */
    const double scale[2] = {2.0, 3.0}, ratio[2] = {3.0 / 4.0, 4.0 / 3.0};
    uint64_t rng = 5;
    int x, y, w, h;
    rrc_sample_box(40, 30, scale, ratio, &rng, &x, &y, &w, &h); /* 4/3: within bounds */
    ck_assert(x == 0 && y == 0 && w == 40 && h == 30);
    rrc_sample_box(100, 20, scale, ratio, &rng, &x, &y, &w, &h); /* too wide */
    ck_assert_int_eq(h, 20);
    ck_assert_int_eq(w, (int)nearbyint(20 * 4.0 / 3.0));
    ck_assert_int_eq(x, (100 - w) / 2);
    ck_assert_int_eq(y, 0);
    rrc_sample_box(20, 100, scale, ratio, &rng, &x, &y, &w, &h); /* too tall */
    ck_assert_int_eq(w, 20);
    ck_assert_int_eq(h, (int)nearbyint(20 / 0.75));
    ck_assert_int_eq(y, (100 - h) / 2);
    ck_assert_int_eq(x, 0);
    const double thin[2] = {100.0, 200.0}; /* ratio bounds no 1-px-tall image meets */
    rrc_sample_box(5, 5, scale, thin, &rng, &x, &y, &w, &h);
    ck_assert(w >= 1 && h >= 1 && x + w <= 5 && y + h <= 5);
}
END_TEST

/* Found by t/fuzz/fuzz_augment: sizes far past an int (scale 1.9e47, a
 * ratio of 1e-300 or 1e300) went through an int conversion (undefined
 * behaviour; UBSan stops). Now every box stays inside the image. */
START_TEST(rrc_huge_bounds_stay_defined)
{
    const double huge[2] = {0.08, 1.888e47}, ratio[2] = {3.0 / 4.0, 4.0 / 3.0};
    const double tiny_ratio[2] = {1e-300, 1e-300}, huge_ratio[2] = {1e300, 1e300};
    const double *ratios[3] = {ratio, tiny_ratio, huge_ratio};
    uint64_t rng = 7;
    int x, y, w, h;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 50; k++) {
            rrc_sample_box(40, 30, huge, ratios[i], &rng, &x, &y, &w, &h);
            ck_assert(w >= 1 && h >= 1 && x >= 0 && y >= 0 && x + w <= 40 && y + h <= 30);
        }
}
END_TEST

/* ---- flip, crop, resize -------------------------------------------------- */

START_TEST(flip_is_exact)
{
    image im = make_image(7, 4, px_distinct);
    aug_pipeline p = {1, {op_flip(1.0)}};
    float *o = apply(&p, &im, 1, 4, 7);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 7; x++)
                ck_assert_float_eq(o[(c * 4 + y) * 7 + x], in_px(&im, 6 - x, y, c));
    free(o);
    p.ops[0] = op_flip(0.0);
    o = apply(&p, &im, 1, 4, 7);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 7; x++)
                ck_assert_float_eq(o[(c * 4 + y) * 7 + x], in_px(&im, x, y, c));
    free(o);
    /* p = 0.5: about half of many seeds flip */
    p.ops[0] = op_flip(0.5);
    int flipped = 0;
    for (uint64_t s = 0; s < 400; s++) {
        o = apply(&p, &im, s, 4, 7);
        flipped += o[0] != in_px(&im, 0, 0, 0);
        free(o);
    }
    ck_assert_int_gt(flipped, 140);
    ck_assert_int_lt(flipped, 260);
    free(im.rgb);
}
END_TEST

START_TEST(center_crop_geometry_and_padding)
{
    image im = make_image(7, 8, px_distinct);
    aug_pipeline p = {1, {op_crop(3, 3)}};
    float *o = apply(&p, &im, 0, 3, 3);
    /* top = int(round((8-3)/2)) = round(2.5) = 2 (Python rounds half to
     * even), left = (7-3)/2 = 2 */
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++)
                ck_assert_float_eq(o[(c * 3 + y) * 3 + x], in_px(&im, x + 2, y + 2, c));
    free(o);
    free(im.rgb);

    /* 2x2 into 5x5: pad left/top (5-2)//2 = 1, the rest right/bottom */
    im = make_image(2, 2, px_distinct);
    p.ops[0] = op_crop(5, 5);
    o = apply(&p, &im, 0, 5, 5);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++) {
                int inside = x >= 1 && x <= 2 && y >= 1 && y <= 2;
                float want = inside ? in_px(&im, x - 1, y - 1, c) : 0.0f;
                ck_assert_float_eq(o[(c * 5 + y) * 5 + x], want);
            }
    free(o);
    free(im.rgb);
}
END_TEST

START_TEST(resize_keeps_constants)
{
    image im = make_image(13, 9, px_const);
    const int shapes[][2] = {{4, 5}, {30, 17}, {9, 13}, {1, 1}, {2, 40}};
    for (int aa = 0; aa < 2; aa++)
        for (int s = 0; s < 5; s++) {
            int oh = shapes[s][0], ow = shapes[s][1];
            aug_pipeline p = {1, {op_resize(oh, ow, aa)}};
            float *o = apply(&p, &im, 0, oh, ow);
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < oh * ow; i++)
                    ck_assert_float_eq_tol(o[c * oh * ow + i], in_px(&im, 0, 0, c), 1e-6);
            free(o);
        }
    free(im.rgb);
}
END_TEST

START_TEST(resize_matches_pil_triangle_filter)
{
    /* 4 -> 2 pixels wide: scale 2, support 2; output 0 is centred at 1.0 and
     * takes inputs 0,1,2 with triangle weights 0.75, 0.75, 0.25 (normalized);
     * output 1 (centre 3.0) takes 1,2,3 with 0.25, 0.75, 0.75. */
    image im = make_image(4, 1, px_ramp4);
    aug_pipeline p = {1, {op_resize(1, 2, 1)}};
    float *o = apply(&p, &im, 0, 1, 2);
    float a[4];
    for (int i = 0; i < 4; i++)
        a[i] = in_px(&im, i, 0, 0);
    ck_assert_float_eq_tol(o[0], (0.75f * a[0] + 0.75f * a[1] + 0.25f * a[2]) / 1.75f, 1e-6);
    ck_assert_float_eq_tol(o[1], (0.25f * a[1] + 0.75f * a[2] + 0.75f * a[3]) / 1.75f, 1e-6);
    free(o);
    /* without antialias: plain bilinear, centre 2x+0.5 → average of two */
    p.ops[0] = op_resize(1, 2, 0);
    o = apply(&p, &im, 0, 1, 2);
    ck_assert_float_eq_tol(o[0], (a[0] + a[1]) / 2, 1e-6);
    ck_assert_float_eq_tol(o[1], (a[2] + a[3]) / 2, 1e-6);
    free(o);
    /* upscaling 4 -> 8 interpolates: output 3 sits at input 1.25 */
    p.ops[0] = op_resize(1, 8, 1);
    o = apply(&p, &im, 0, 1, 8);
    ck_assert_float_eq_tol(o[3], 0.75f * a[1] + 0.25f * a[2], 1e-6);
    ck_assert_float_eq_tol(o[0], a[0], 1e-6); /* edge clamps */
    free(o);
    free(im.rgb);
}
END_TEST

static float max_dev_from_half(const float *o, int n)
{
    float m = 0;
    for (int i = 0; i < n; i++)
        m = fmaxf(m, fabsf(o[i] - 0.5f));
    return m;
}

START_TEST(antialias_removes_aliasing)
{
    image im = make_image(48, 48, px_checker);
    aug_pipeline p = {1, {op_resize(12, 12, 1)}}; /* 4x */
    float *o = apply(&p, &im, 0, 12, 12);
    ck_assert_float_lt(max_dev_from_half(o, 3 * 144), 0.05f);
    free(o);
    p.ops[0] = op_resize(16, 16, 1); /* 3x, antialiased: grey */
    o = apply(&p, &im, 0, 16, 16);
    ck_assert_float_lt(max_dev_from_half(o, 3 * 256), 0.1f);
    free(o);
    p.ops[0] = op_resize(16, 16, 0); /* 3x, plain bilinear samples single pixels */
    o = apply(&p, &im, 0, 16, 16);
    ck_assert_float_gt(max_dev_from_half(o, 3 * 256), 0.4f);
    free(o);
    free(im.rgb);
}
END_TEST

START_TEST(resize_shorter_side_then_crop)
{
    /* Resize(8): 20x10 (w x h) -> 16x8, then CenterCrop(8) */
    image im = make_image(20, 10, px_const);
    aug_pipeline p = {2, {op_resize(8, 0, 1), op_crop(8, 8)}};
    int h, w;
    strata_err e = {0};
    ck_assert_int_eq(augment_output_size(&p, &h, &w, &e), 0);
    ck_assert(h == 8 && w == 8);
    free(apply(&p, &im, 0, 8, 8));
    /* alone, the shorter-side resize has no fixed size */
    p.n = 1;
    ck_assert_int_eq(augment_output_size(&p, &h, &w, &e), -1);
    ck_assert_int_eq(e.status, STRATA_ERR_CONFIG);
    float *o = malloc(sizeof(float) * 3 * 8 * 16);
    ck_assert_int_eq(augment_apply(&p, &im, 0, o, 8, 16, &e), 0);
    ck_assert_int_eq(augment_apply(&p, &im, 0, o, 8, 8, &e), -1); /* wrong size: error */
    ck_assert_msg(strstr(e.msg, "8x16") != NULL, "%s", e.msg);
    free(o);
    free(im.rgb);
}
END_TEST

/* ---- colour -------------------------------------------------------------- */

START_TEST(normalize_values)
{
    image im = make_image(3, 2, px_distinct);
    aug_op n = {.kind = AUG_NORMALIZE};
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(n.u.norm.mean, mean, sizeof mean);
    memcpy(n.u.norm.std, std, sizeof std);
    aug_pipeline p = {1, {n}};
    float *o = apply(&p, &im, 0, 2, 3);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                ck_assert_float_eq_tol(o[(c * 2 + y) * 3 + x],
                                       (in_px(&im, x, y, c) - mean[c]) / std[c], 1e-6);
    free(o);
    free(im.rgb);
}
END_TEST

START_TEST(jitter_zero_is_identity)
{
    image im = make_image(9, 5, px_distinct);
    aug_pipeline p = {1, {op_jitter(0, 0, 0)}};
    float *o = apply(&p, &im, 77, 5, 9);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 9; x++)
                ck_assert_float_eq(o[(c * 5 + y) * 9 + x], in_px(&im, x, y, c));
    free(o);
    free(im.rgb);
}
END_TEST

START_TEST(jitter_factors_and_invariants)
{
    image im = make_image(9, 5, px_distinct);
    /* brightness only: one factor f in [0.6, 1.4] scales every value (clamped) */
    aug_pipeline p = {1, {op_jitter(0.4, 0, 0)}};
    int differs = 0;
    for (uint64_t s = 0; s < 20; s++) {
        float *o = apply(&p, &im, s, 5, 9);
        float f = o[1] / in_px(&im, 1, 0, 0); /* an unclamped pixel: (1,0,R) = 7/255 */
        ck_assert(f >= 0.6f - 1e-5f && f <= 1.4f + 1e-5f);
        differs += fabsf(f - 1.0f) > 1e-3f;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 5; y++)
                for (int x = 0; x < 9; x++)
                    ck_assert_float_eq_tol(o[(c * 5 + y) * 9 + x],
                                           fminf(1.0f, f * in_px(&im, x, y, c)), 1e-5);
        free(o);
    }
    ck_assert_int_gt(differs, 15);
    free(im.rgb);

    /* saturation leaves a grey image alone; contrast leaves a constant alone */
    im = make_image(9, 5, px_grey);
    p.ops[0] = op_jitter(0, 0, 1.0);
    float *o = apply(&p, &im, 3, 5, 9);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 9; x++)
                ck_assert_float_eq_tol(o[(c * 5 + y) * 9 + x], in_px(&im, x, y, c), 1e-5);
    free(o);
    free(im.rgb);
    im = make_image(9, 5, px_const);
    p.ops[0] = op_jitter(0, 0.9, 0);
    o = apply(&p, &im, 3, 5, 9);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 45; i++) {
            /* contrast blends with the grey mean: a constant colour moves
             * toward its grey, so only a grey constant stays: check the
             * formula f*x + (1-f)*mean with the mean of the grey image */
            float g = 0.299f * in_px(&im, 0, 0, 0) + 0.587f * in_px(&im, 0, 0, 1) +
                      0.114f * in_px(&im, 0, 0, 2);
            float v = o[c * 45 + i], x = in_px(&im, 0, 0, c);
            /* v = f x + (1 - f) g → f = (v - g) / (x - g), same f for all c */
            float f = (v - g) / (x - g);
            ck_assert(f >= 0.1f - 1e-4f && f <= 1.9f + 1e-4f);
            float f0 = (o[0] - g) / (in_px(&im, 0, 0, 0) - g);
            ck_assert_float_eq_tol(f, f0, 1e-3);
        }
    free(o);
    free(im.rgb);
}
END_TEST

/* ---- the whole pipeline -------------------------------------------------- */

START_TEST(same_seed_same_output)
{
    image im = make_image(40, 30, px_distinct);
    aug_pipeline p = {3, {op_rrc(16, 12), op_flip(0.5), op_jitter(0.4, 0.4, 0.4)}};
    int h, w;
    strata_err e = {0};
    ck_assert_int_eq(augment_output_size(&p, &h, &w, &e), 0);
    ck_assert(h == 16 && w == 12);
    float *a = apply(&p, &im, 1234, h, w), *b = apply(&p, &im, 1234, h, w),
          *c = apply(&p, &im, 1235, h, w);
    ck_assert_mem_eq(a, b, sizeof(float) * 3 * h * w);
    ck_assert(memcmp(a, c, sizeof(float) * 3 * h * w) != 0);
    for (int i = 0; i < 3 * h * w; i++)
        ck_assert(a[i] >= 0.0f && a[i] <= 1.0f);
    free(a);
    free(b);
    free(c);
    free(im.rgb);
}
END_TEST

START_TEST(output_size_and_errors)
{
    int h = 0, w = 0;
    strata_err e = {0};
    aug_pipeline p = {2, {op_flip(0.5), op_resize(20, 30, 1)}};
    ck_assert_int_eq(augment_output_size(&p, &h, &w, &e), 0);
    ck_assert(h == 20 && w == 30);
    aug_pipeline none = {1, {op_flip(0.5)}};
    ck_assert_int_eq(augment_output_size(&none, &h, &w, &e), -1);
    ck_assert_msg(strstr(e.msg, "no fixed image size") != NULL, "%s", e.msg);
    none.n = 0;
    ck_assert_int_eq(augment_output_size(&none, &h, &w, &e), -1);

    aug_op bad[6] = {op_rrc(0, 5), op_flip(1.5), op_crop(3, -1), op_jitter(-0.1, 0, 0),
                     op_rrc(8, 8), {.kind = AUG_NORMALIZE}};
    bad[4].u.rrc.scale[0] = 0.9, bad[4].u.rrc.scale[1] = 0.1; /* min > max */
    /* normalize with std 0 (zero-initialised) */
    const char *names[6] = {"random_resized_crop", "horizontal_flip", "center_crop",
                            "color_jitter", "random_resized_crop", "normalize"};
    image im = make_image(8, 8, px_const);
    float out[3 * 8 * 8];
    for (int i = 0; i < 6; i++) {
        aug_pipeline q = {2, {op_crop(8, 8), bad[i]}};
        strata_err e2 = {0};
        ck_assert_int_eq(augment_output_size(&q, &h, &w, &e2), -1);
        ck_assert_int_eq(e2.status, STRATA_ERR_CONFIG);
        ck_assert_msg(strstr(e2.msg, "augmentation 2") && strstr(e2.msg, names[i]), "%s", e2.msg);
        ck_assert_int_eq(augment_apply(&q, &im, 0, out, 8, 8, &e2), -1);
    }
    /* found by t/fuzz/fuzz_augment: a thin image resized by its shorter side
     * grew without bound (2 x 40000 at size 8192: 8192 x 163840000) */
    image thin = make_image(2, 4000, px_const);
    aug_pipeline grow = {2, {op_resize(8192, 0, 1), op_crop(8, 8)}};
    strata_err e3 = {0};
    ck_assert_int_eq(augment_apply(&grow, &thin, 0, out, 8, 8, &e3), -1);
    ck_assert_msg(strstr(e3.msg, "augmentation 1 (resize)") && strstr(e3.msg, "40000000 pixels"), "%s", e3.msg);
    free(thin.rgb);
    aug_pipeline big = {.n = AUG_MAX_OPS + 1};
    ck_assert_int_eq(augment_output_size(&big, &h, &w, &e), -1);
    free(im.rgb);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("augment",
        {.name = "augment",
         .tests = TESTS(rrc_boxes_within_bounds, rrc_fallback_when_impossible, rrc_huge_bounds_stay_defined,
                        flip_is_exact,
                        center_crop_geometry_and_padding, resize_keeps_constants,
                        resize_matches_pil_triangle_filter, antialias_removes_aliasing,
                        resize_shorter_side_then_crop, normalize_values, jitter_zero_is_identity,
                        jitter_factors_and_invariants, same_seed_same_output, output_size_and_errors)});
}
