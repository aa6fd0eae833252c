/* test_conv_first.c — conv2d's few-channel path (algo: smallc, auto for
 * c <= 4: the RGB first layer) against a double-precision reference
 * written here: forward, dweight, dbias and din, on odd shapes (c = 1..4;
 * kernels 1, 3, 5, 11 and rectangular; strides 1, 2, 3, 4; padding 0..3;
 * widths that are not whole vectors of 16, every tail 1..16 of a row's
 * last vector; k not a multiple of the 2-, 4-, 6-, 8- or 12-channel
 * blocks; tap counts of every remainder mod 4 and mod 6, the tap blocks of
 * dweight; batches split into chunks by a small workspace), AlexNet's and
 * VGG's first layers at batch 2; thread counts; finite differences; errors.
 * Every check runs at the ISA level of the run (make check runs this
 * program natively and with STRATA_ISA=avx2 and =base: each level's
 * kernels, whose register blockings differ, see every shape).
 *
 * Error bounds, derived (testlib's assert_fp_bound): a float sum of len
 * products, in any order and blocking (the kernels' vector lanes, bands,
 * tap blocks and lane reductions are all orders of the same sum), is
 * within gamma_len * sum|terms| of the exact one, gamma_len = len*u/(1-len*u),
 * u = FLT_EPSILON / 2 (Higham, Accuracy and Stability, 4.2; with FMA fewer
 * roundings still). The bound asserted is len * FLT_EPSILON * sum|terms|
 * (factor 1), twice that, with len = the terms of the sum: forward
 * c*kh*kw + 1 (the bias), dweight and dbias n*oh*ow, din k*kh*kw (at most;
 * im2col's GEMM and col2im). CK_VERBOSE=1 prints the worst error of each
 * case as a fraction of its bound.
 * Thread counts 1, 2 and 3 must give the same bits (tolerance 0: a sweep's
 * --jobs must not change recorded losses). Finite differences: the layer is
 * linear in x, w and b, so a central difference with step h is exact but
 * for the forward passes' rounding, bounded as above and summed over the
 * loss's weights (see fd_check).
 */
#define _GNU_SOURCE
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_host.h"
#include "testlib.h"
#include "layers/conv2d/conv_smallc_phase.h" /* which layout a shape gets */

static uint64_t rng_state = 99;
static float *frand(size_t n) { return frand_from(n, &rng_state); }

typedef struct spec {
    int c, h, w, k, kh, kw, s, p, n, bias;
} spec;

/* One conv2d layer with its own scratch (a canary past scratch_bytes). */
typedef struct conv {
    const strata_layer_ops *ops;
    void *layer;
    strata_shape out;
    size_t nin, nout, nw, scratch_bytes;
    unsigned char *scratch;
} conv;

static conv make(spec sp, const char *algo, const char *extra)
{
    conv_kv kv;
    conv C = {.ops = fake_layer_ops("conv2d")};
    C.layer = fake_create_layer("conv2d", C.ops,
                                conv_options(&kv, sp.k, sp.kh, sp.kw, sp.s, sp.p, sp.bias, algo, extra),
                                (strata_shape){sp.c, sp.h, sp.w}, &C.out);
    C.nin = (size_t)sp.n * sp.c * sp.h * sp.w;
    C.nout = (size_t)sp.n * C.out.c * C.out.h * C.out.w;
    C.nw = (size_t)sp.k * sp.c * sp.kh * sp.kw;
    C.scratch_bytes = C.ops->scratch_bytes(C.layer, sp.n);
    C.scratch = canary_alloc(C.scratch_bytes);
    return C;
}

static void free_conv(conv *C)
{
    free(C->scratch);
    C->ops->destroy(C->layer);
}

/* The data of one case: x, weight, bias, dout; and what a path returns. */
typedef struct data {
    float *x, *w, *b, *dy;
} data;
typedef struct result {
    float *y, *dx, *dw, *db;
} result;

static data make_data(const conv *C, spec sp)
{
    return (data){frand(C->nin), frand(C->nw), frand(sp.k), frand(C->nout)};
}
static void free_data(data D) { free(D.x), free(D.w), free(D.b), free(D.dy); }
static void free_result(result R) { free(R.y), free(R.dx), free(R.dw), free(R.db); }

/* Forward then backward (din unless want_din is 0), gradients zeroed first;
 * asserts nothing was written past scratch_bytes. */
static result run(conv *C, spec sp, const data *D, int threads, int want_din)
{
    result R = {fvec(C->nout), want_din ? fvec(C->nin) : NULL, fvec(C->nw), fvec(sp.k)};
    float *params[2] = {D->w, D->b}, *dparams[2] = {R.dw, sp.bias ? R.db : NULL};
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    C->ops->forward(C->layer, &ctx, sp.n, D->x, R.y, params, NULL, C->scratch);
    C->ops->backward(C->layer, &ctx, sp.n, D->x, R.y, D->dy, R.dx, params, dparams, NULL,
                     C->scratch);
    assert_canary(C->scratch, C->scratch_bytes, "scratch_bytes");
    return R;
}

/* The double reference of one case, and each value's sum of |terms|. */
typedef struct reference {
    double *y, *ya, *dw, *dwa, *db, *dba, *dx, *dxa;
    int oh, ow;
} reference;

static double *dvec(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

/* Input pixel (b, c, y*s - p + i, x*s - p + j) of the spec's x, or NULL
 * (padding). */
static const float *pixel(spec sp, const float *x, int b, int c, int y, int xx, int i, int j)
{
    int iy = y * sp.s - sp.p + i, ix = xx * sp.s - sp.p + j;
    if (iy < 0 || iy >= sp.h || ix < 0 || ix >= sp.w)
        return NULL;
    return x + (((size_t)b * sp.c + c) * sp.h + iy) * sp.w + ix;
}

/* y = bias + sum w*x; dw = sum dy*x; db = sum dy; dx = sum dy*w (scattered). */
static reference reference_of(spec sp, const data *D)
{
    reference r = {.oh = (sp.h + 2 * sp.p - sp.kh) / sp.s + 1, .ow = (sp.w + 2 * sp.p - sp.kw) / sp.s + 1};
    size_t R = (size_t)sp.c * sp.kh * sp.kw, nin = (size_t)sp.n * sp.c * sp.h * sp.w;
    size_t ny = (size_t)sp.n * sp.k * r.oh * r.ow;
    r.y = dvec(ny), r.ya = dvec(ny), r.dw = dvec(sp.k * R), r.dwa = dvec(sp.k * R);
    r.db = dvec(sp.k), r.dba = dvec(sp.k), r.dx = dvec(nin), r.dxa = dvec(nin);
    for (int b = 0; b < sp.n; b++)
        for (int o = 0; o < sp.k; o++)
            for (int y = 0; y < r.oh; y++)
                for (int x = 0; x < r.ow; x++) {
                    size_t yi = (((size_t)b * sp.k + o) * r.oh + y) * r.ow + x;
                    double g = D->dy[yi], bias = sp.bias ? D->b[o] : 0;
                    r.y[yi] = bias, r.ya[yi] = fabs(bias);
                    r.db[o] += g, r.dba[o] += fabs(g);
                    for (int c = 0; c < sp.c; c++)
                        for (int i = 0; i < sp.kh; i++)
                            for (int j = 0; j < sp.kw; j++) {
                                const float *px = pixel(sp, D->x, b, c, y, x, i, j);
                                if (!px)
                                    continue;
                                size_t t = (size_t)o * R + ((size_t)c * sp.kh + i) * sp.kw + j;
                                double wx = (double)D->w[t] * *px, gx = g * *px, gw = g * D->w[t];
                                size_t xi = (size_t)(px - D->x);
                                r.y[yi] += wx, r.ya[yi] += fabs(wx);
                                r.dw[t] += gx, r.dwa[t] += fabs(gx);
                                r.dx[xi] += gw, r.dxa[xi] += fabs(gw);
                            }
                }
    return r;
}

static void free_reference(reference r)
{
    free(r.y), free(r.ya), free(r.dw), free(r.dwa), free(r.db), free(r.dba), free(r.dx), free(r.dxa);
}

/* smallc against the double reference on one shape: forward, dweight,
 * dbias, din, each within its derived bound (see the top). */
static void against_reference(spec sp, const char *extra, int threads, int want_din)
{
    conv S = make(sp, "smallc", extra);
    data in = make_data(&S, sp);
    result r = run(&S, sp, &in, threads, want_din);
    reference ref = reference_of(sp, &in);
    ck_assert_int_eq(S.out.h, ref.oh);
    ck_assert_int_eq(S.out.w, ref.ow);
    double pos = (double)sp.n * ref.oh * ref.ow; /* dweight's and dbias's terms */
    double len[4] = {sp.c * sp.kh * sp.kw + 1, pos, pos, (double)sp.k * sp.kh * sp.kw};
    if (getenv("CK_VERBOSE"))
        printf("[%s] %dx%dx%d k%d %dx%d s%d p%d n%d b%d: of the bound fwd %.2g dw %.2g db %.2g "
               "din %.2g\n", test_isa_name(), sp.c, sp.h, sp.w, sp.k, sp.kh, sp.kw, sp.s, sp.p,
               sp.n, sp.bias, fp_bound_ratio(r.y, ref.y, ref.ya, S.nout, len[0], 1, NULL),
               fp_bound_ratio(r.dw, ref.dw, ref.dwa, S.nw, len[1], 1, NULL),
               sp.bias ? fp_bound_ratio(r.db, ref.db, ref.dba, sp.k, len[2], 1, NULL) : 0,
               want_din ? fp_bound_ratio(r.dx, ref.dx, ref.dxa, S.nin, len[3], 1, NULL) : 0);
    char what[160];
    snprintf(what, sizeof what, "c %d, %dx%d, k %d, kernel %dx%d, stride %d, padding %d, batch %d, "
             "%d threads", sp.c, sp.h, sp.w, sp.k, sp.kh, sp.kw, sp.s, sp.p, sp.n, threads);
    char w2[200];
    snprintf(w2, sizeof w2, "forward (%s)", what);
    assert_fp_bound(w2, r.y, ref.y, ref.ya, S.nout, len[0], 1);
    snprintf(w2, sizeof w2, "dweight (%s)", what);
    assert_fp_bound(w2, r.dw, ref.dw, ref.dwa, S.nw, len[1], 1);
    if (sp.bias) {
        snprintf(w2, sizeof w2, "dbias (%s)", what);
        assert_fp_bound(w2, r.db, ref.db, ref.dba, sp.k, len[2], 1);
    }
    if (want_din) {
        snprintf(w2, sizeof w2, "din (%s)", what);
        assert_fp_bound(w2, r.dx, ref.dx, ref.dxa, S.nin, len[3], 1);
    }
    double big = 0; /* not vacuous: the reference weight gradient is not all zero */
    for (size_t i = 0; i < S.nw; i++)
        big = fabs(ref.dw[i]) > big ? fabs(ref.dw[i]) : big;
    ck_assert_msg(big > 0, "reference dweight is zero");
    free_result(r), free_reference(ref), free_data(in);
    free_conv(&S);
}

/* c = 1..4 with every kernel, stride and padding of the brief's list;
 * widths 7..37 (not whole vectors), k 1..13 (not whole blocks). */
START_TEST(test_odd_shapes)
{
    static const int kern[] = {1, 3, 5, 11}, strides[] = {1, 2, 4};
    int count = 0;
    for (int c = 1; c <= 4; c++)
        for (int ki = 0; ki < 4; ki++)
            for (int si = 0; si < 3; si++) {
                int kk = kern[ki], s = strides[si], p = (c + ki + si) % 4;
                int w = 7 + (5 * c + 3 * ki + si * 7) % 31, h = kk + 2 + (c * si) % 9;
                int k = 1 + (3 * c + 5 * ki + si) % 13;
                spec sp = {c, h, w, k, kk, kk, s, p, 1 + (c + si) % 3, (ki + si) % 3 != 0};
                against_reference(sp, NULL, 1 + count % 3, count % 2);
                count++;
            }
}
END_TEST

/* Rectangular kernels, wide rows (several vector blocks and a tail), k
 * around the block sizes, padding 3. */
START_TEST(test_wide_and_rectangular)
{
    spec cases[] = {
        {3, 9, 70, 13, 3, 5, 1, 3, 2, 1},    /* 5 column vectors */
        {2, 12, 101, 7, 5, 3, 2, 2, 2, 1},   /* stride 2, tail of 3 columns */
        {4, 20, 130, 25, 11, 11, 4, 3, 1, 1}, /* AlexNet-like, 31 columns */
        {1, 5, 33, 17, 1, 1, 1, 0, 3, 0},    /* 1x1, no bias */
        {3, 16, 64, 48, 3, 3, 1, 1, 2, 1},   /* whole vectors: dout read in place */
        {3, 8, 48, 50, 3, 3, 1, 1, 1, 1},    /* in place but k % 4 = 2 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        against_reference(cases[i], NULL, 2, 1);
}
END_TEST

/* A workspace of 1 MiB holds 2 of these images' phases: batches of 3 and 5
 * go in chunks (the last one short), forward and backward. */
START_TEST(test_chunks)
{
    spec sp = {3, 160, 200, 8, 5, 5, 2, 2, 3, 1};
    against_reference(sp, "workspace=1", 2, 1);
    sp.n = 5, sp.k = 5;
    against_reference(sp, "workspace=1", 3, 0);
}
END_TEST

/* The layers the brief is about, batch 2: AlexNet's conv1 (11x11/4, 224 px,
 * 3 -> 48) without din as in training, VGG's conv1_1 at 64 px with din. */
START_TEST(test_first_layers)
{
    spec alex = {3, 224, 224, 48, 11, 11, 4, 2, 2, 1};
    spec vgg = {3, 64, 64, 64, 3, 3, 1, 1, 2, 1};
    against_reference(alex, NULL, 2, 0);
    against_reference(vgg, NULL, 2, 1);
}
END_TEST

/* The phase layout's geometry for a spec (conv_smallc_phase.h). */
static conv_dims dims_of(spec sp)
{
    conv_dims d = {.c = sp.c, .h = sp.h, .w = sp.w, .k = sp.k, .kh = sp.kh, .kw = sp.kw,
                   .sh = sp.s, .sw = sp.s, .ph = sp.p, .pw = sp.p, .budget = 1 << 24};
    d.oh = (d.h + 2 * d.ph - d.kh) / d.sh + 1;
    d.ow = (d.w + 2 * d.pw - d.kw) / d.sw + 1;
    return d;
}

/* Flat layouts (output rows at pitch ow + reach computed as one run, then
 * compacted; dout bands copied as one run): shapes chosen to be flat
 * (asserted, so the cases do exercise it), c 1..4, strides 1, 2, 4,
 * a 1x1 kernel (reach 0), tails of the run, k off the blocks; and the
 * layers on either side of the choice (AlexNet 224 flat, 64 px not). */
START_TEST(test_flat_layout)
{
    spec flat[] = {
        {1, 9, 17, 5, 1, 1, 1, 0, 2, 1},    /* 17 columns, no reach */
        {2, 13, 35, 7, 3, 3, 1, 0, 3, 1},   /* 33 + 2 */
        {4, 40, 83, 13, 11, 11, 4, 2, 2, 0}, /* 20 + 2, stride 4 */
        {3, 21, 39, 10, 5, 5, 2, 2, 1, 1},  /* 20 + 2, stride 2 */
        {1, 6, 19, 3, 3, 3, 1, 1, 2, 1},    /* 19 + 2, 3 rows of a run */
        {3, 30, 70, 9, 5, 3, 2, 1, 2, 1},   /* rectangular */
    };
    for (size_t i = 0; i < sizeof flat / sizeof *flat; i++) {
        conv_dims d = dims_of(flat[i]);
        ck_assert_msg(conv_phase_flat(&d), "case %zu is not flat", i);
        against_reference(flat[i], NULL, 1 + i % 3, (int)(i % 2));
    }
    conv_dims alex = dims_of((spec){3, 224, 224, 48, 11, 11, 4, 2, 1, 1});
    conv_dims alex64 = dims_of((spec){3, 64, 64, 48, 11, 11, 4, 2, 1, 1});
    conv_dims vgg = dims_of((spec){3, 224, 224, 64, 3, 3, 1, 1, 1, 1});
    ck_assert(conv_phase_flat(&alex));
    ck_assert(!conv_phase_flat(&alex64));
    ck_assert(!conv_phase_flat(&vgg));
}
END_TEST

/* Several output rows per register block (rows of one vector: AlexNet's
 * 64 px conv1, 15x15 outputs) and a stride of 3 (the fill's scalar
 * de-interleave). */
START_TEST(test_row_blocks_and_stride3)
{
    against_reference((spec){3, 64, 64, 48, 11, 11, 4, 2, 2, 1}, NULL, 2, 0);
    against_reference((spec){3, 37, 50, 11, 5, 5, 3, 2, 2, 1}, NULL, 3, 1);
    against_reference((spec){2, 20, 12, 7, 3, 3, 1, 1, 2, 1}, NULL, 1, 1); /* 12 wide: 1 vector, tail */
}
END_TEST

/* 1, 2 and 3 threads: the same bits for forward, dweight, dbias and din. */
static void same_bits(spec sp, const char *extra)
{
    conv S = make(sp, "smallc", extra);
    data in = make_data(&S, sp);
    result r[3];
    for (int t = 0; t < 3; t++)
        r[t] = run(&S, sp, &in, t + 1, 1);
    for (int t = 1; t < 3; t++) {
        ck_assert_msg(!memcmp(r[0].y, r[t].y, S.nout * sizeof(float)), "forward: 1 and %d threads differ", t + 1);
        ck_assert_msg(!memcmp(r[0].dw, r[t].dw, S.nw * sizeof(float)), "dweight: 1 and %d threads differ", t + 1);
        ck_assert_msg(!memcmp(r[0].db, r[t].db, sp.k * sizeof(float)), "dbias: 1 and %d threads differ", t + 1);
        ck_assert_msg(!memcmp(r[0].dx, r[t].dx, S.nin * sizeof(float)), "din: 1 and %d threads differ", t + 1);
    }
    for (int t = 0; t < 3; t++)
        free_result(r[t]);
    free_data(in);
    free_conv(&S);
}

START_TEST(test_threads)
{
    same_bits((spec){3, 45, 45, 22, 11, 11, 4, 2, 5, 1}, NULL); /* 6 channel blocks of 4 */
    same_bits((spec){3, 31, 32, 9, 3, 3, 1, 1, 4, 1}, NULL);    /* 3 blocks, in place */
    same_bits((spec){3, 160, 200, 8, 5, 5, 2, 2, 3, 1}, "workspace=1"); /* flat, chunks */
    same_bits((spec){3, 64, 64, 20, 11, 11, 4, 2, 3, 1}, NULL); /* row blocks of 4 rows */
}
END_TEST

/* loss = sum(out * r), in double: each forward output y_i is within
 * (R+1) * FLT_EPSILON * ya_i of the exact one (see the top), so the loss
 * within (R+1) * FLT_EPSILON * sum_i |r_i| ya_i (plus the double sum's own
 * rounding, nout * DBL_EPSILON * sum_i |r_i y_i|): *bound gets that. */
static double loss(conv *C, spec sp, const data *D, const float *r, float *y, double *bound)
{
    float *params[2] = {D->w, D->b};
    strata_ctx ctx = {.training = 1, .threads = 2, .seed = 1};
    C->ops->forward(C->layer, &ctx, sp.n, D->x, y, params, NULL, C->scratch);
    reference ref = reference_of(sp, D);
    double s = 0, e = 0, a = 0;
    for (size_t i = 0; i < C->nout; i++) {
        s += (double)y[i] * r[i];
        e += fabs((double)r[i]) * ref.ya[i];
        a += fabs((double)y[i] * r[i]);
    }
    *bound = (sp.c * sp.kh * sp.kw + 1) * FLT_EPSILON * e + (double)C->nout * DBL_EPSILON * a;
    free_reference(ref);
    return s;
}

/* Central differences of loss against backward's gradient grad of theta
 * (n values; gabs and glen: the reference's sum of |terms| and term count
 * of each gradient value). The layer is linear in theta, so
 * loss(t+) - loss(t-) = (t+ - t-) * dloss/dtheta exactly, t+- the floats
 * actually set; the rest is the two losses' rounding (loss()) over the
 * step and backward's own bound. A large step (1) makes the first small. */
static void fd_check(conv *C, spec sp, const data *D, float *theta, size_t n, const float *grad,
                     const double *gabs, double glen, const char *what)
{
    float *y = fvec(C->nout);
    const float h = 1.0f;
    for (size_t i = 0; i < n; i += 1 + n / 7) {
        float keep = theta[i];
        double bp, bm;
        theta[i] = keep + h;
        double tp = theta[i], lp = loss(C, sp, D, D->dy, y, &bp);
        theta[i] = keep - h;
        double tm = theta[i], lm = loss(C, sp, D, D->dy, y, &bm);
        theta[i] = keep;
        double fd = (lp - lm) / (tp - tm);
        double bound = (bp + bm) / (tp - tm) + glen * FLT_EPSILON * gabs[i] + FLT_MIN;
        ck_assert_msg(fabs(fd - grad[i]) <= bound, "%s[%zu] [isa %s]: backward %.9g, finite "
                      "differences %.9g, |difference| %.3g > bound %.3g", what, i, test_isa_name(),
                      grad[i], fd, fabs(fd - grad[i]), bound);
    }
    free(y);
}

START_TEST(test_finite_differences)
{
    spec sp = {3, 11, 13, 5, 3, 5, 2, 1, 2, 1};
    conv C = make(sp, "smallc", NULL);
    data D = make_data(&C, sp);
    result r = run(&C, sp, &D, 2, 1);
    reference ref = reference_of(sp, &D);
    double pos = (double)sp.n * ref.oh * ref.ow;
    fd_check(&C, sp, &D, D.w, C.nw, r.dw, ref.dwa, pos, "dweight");
    fd_check(&C, sp, &D, D.b, sp.k, r.db, ref.dba, pos, "dbias");
    fd_check(&C, sp, &D, D.x, C.nin, r.dx, ref.dxa, (double)sp.k * sp.kh * sp.kw, "din");
    free_reference(ref), free_result(r), free_data(D);
    free_conv(&C);
}
END_TEST

/* Gradients accumulate (+=) into dweight and dbias: two backward passes
 * give exactly twice one (the second computes the same bits, h, and adds
 * them to h: h + h = 2h is exact in binary floating point). */
START_TEST(test_accumulates)
{
    spec sp = {2, 10, 21, 6, 3, 3, 1, 1, 2, 1};
    conv C = make(sp, "smallc", NULL);
    data D = make_data(&C, sp);
    result r = run(&C, sp, &D, 1, 0);
    float *params[2] = {D.w, D.b}, *dparams[2] = {r.dw, r.db};
    float *once = fvec(C.nw), *bonce = fvec(sp.k);
    memcpy(once, r.dw, C.nw * sizeof(float));
    memcpy(bonce, r.db, sp.k * sizeof(float));
    strata_ctx ctx = {.training = 1, .threads = 1, .seed = 1};
    C.ops->backward(C.layer, &ctx, sp.n, D.x, r.y, D.dy, NULL, params, dparams, NULL, C.scratch);
    for (size_t i = 0; i < C.nw; i++)
        ck_assert_msg(r.dw[i] == 2 * once[i], "dweight[%zu] %.9g after two passes, one gave %.9g",
                      i, r.dw[i], once[i]);
    for (int o = 0; o < sp.k; o++)
        ck_assert_msg(r.db[o] == 2 * bonce[o], "dbias[%d] %.9g after two passes, one gave %.9g", o,
                      r.db[o], bonce[o]);
    free(once), free(bonce), free_result(r), free_data(D);
    free_conv(&C);
}
END_TEST

/* Every tail of a row's last 16-output vector (output widths 1..33: the
 * AVX2 kernels' two 8-lane halves, the base level's four 4-lane quarters,
 * some empty) with k = 7 and 13 (no whole channel block at any level);
 * and tap counts R = c*kh*kw of every remainder mod 6 (AVX-512's and AVX2's
 * dweight tap blocks) and mod 4 (the base level's), with and without the
 * bias (which rides in the last, narrower block). */
START_TEST(test_tails_and_tap_blocks)
{
    for (int w = 1; w <= 33; w++)
        against_reference((spec){1, 4, w, w % 2 ? 7 : 13, 3, 3, 1, 1, 1, w % 3 != 0}, NULL, 1, w % 4 == 0);
    static const int kw[] = {1, 2, 5, 7};
    for (int c = 1; c <= 4; c++)
        for (int kh = 1; kh <= 3; kh++)
            for (int j = 0; j < 4; j++) {
                int bias = (c + kh + j) % 2;
                against_reference((spec){c, 6, 19, 5 + c, kh, kw[j], 1, j % 2, 1, bias}, NULL, 1, 0);
            }
}
END_TEST

/* smallc refuses more than 4 input channels, with a one-line message. */
START_TEST(test_refuses_wide_input)
{
    const strata_plugin *pl = fake_load_builtin("layers", "conv2d");
    ck_assert(pl != NULL);
    strata_opts *o = fake_opts((const char *const[]){"out_channels=8", "kernel=3", "algo=smallc", NULL});
    strata_shape out;
    void *L = pl->layer->create(&fake_host, o, (strata_shape){5, 16, 16}, &out);
    ck_assert(L == NULL);
    ck_assert(fake_opts_error(o) != NULL);
    assert_has(fake_opts_error(o), "at most 4 input channels, got 5");
    ck_assert(strchr(fake_opts_error(o), '\n') == NULL);
    fake_opts_free(o);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("conv_first",
        {.name = "smallc", .timeout = 60,
         .tests = TESTS(test_odd_shapes, test_wide_and_rectangular, test_chunks, test_first_layers,
                        test_flat_layout, test_row_blocks_and_stride3, test_threads,
                        test_tails_and_tap_blocks, test_finite_differences, test_accumulates,
                        test_refuses_wide_input)});
}
