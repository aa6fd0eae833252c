/* test_conv_first.c — conv2d's few-channel path (algo: smallc, auto for
 * c <= 4: the RGB first layer) against algo=direct: forward, dweight,
 * dbias and din, on odd shapes (c = 1..4; kernels 1, 3, 5, 11 and
 * rectangular; strides 1, 2, 4; padding 0..3; widths that are not whole
 * vectors of 16; k not a multiple of the 4-, 6-, 8- or 12-channel blocks;
 * batches split into chunks by a small workspace), AlexNet's and VGG's
 * first layers at batch 2; thread counts; finite differences; errors.
 *
 * Error measure: max_rel_err(a, ref) = max_i |a_i - ref_i| / max_i |ref_i| with
 * inputs, weights, bias and dout U(-1, 1). The paths sum in another order
 * than direct (float both); the bound asserted is 2e-5 (measured: at most
 * ~1e-6 on the small shapes, ~3e-6 on AlexNet's 224 px layer; CK_VERBOSE=1
 * prints the worst per case). Thread counts 1, 2 and 3 must give the same
 * bits (tolerance 0: a sweep's --jobs must not change recorded losses).
 * Finite differences (the layer is linear in x, w and b, so central
 * differences are exact up to rounding): relative error <= 1e-3.
 */
#define _GNU_SOURCE
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_host.h"
#include "testlib.h"
#include "layers/conv2d/conv_smallc_phase.h" /* which layout a shape gets */

#define CANARY 64
#define TOL 2e-5

static uint64_t rng_state = 99;
static float urand(void) { return 2.0f * strata_rng_uniform(&rng_state) - 1.0f; }
static float *fvec(size_t n) { return calloc(n ? n : 1, sizeof(float)); }
static float *frand(size_t n)
{
    float *x = fvec(n);
    for (size_t i = 0; i < n; i++)
        x[i] = urand();
    return x;
}

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
    char o[32], k[32], s[32], p[32], b[32], a[32];
    snprintf(o, sizeof o, "out_channels=%d", sp.k);
    snprintf(k, sizeof k, "kernel=[%d, %d]", sp.kh, sp.kw);
    snprintf(s, sizeof s, "stride=%d", sp.s);
    snprintf(p, sizeof p, "padding=%d", sp.p);
    snprintf(b, sizeof b, "bias=%s", sp.bias ? "true" : "false");
    snprintf(a, sizeof a, "algo=%s", algo);
    const char *kv[] = {o, k, s, p, b, a, extra, NULL};
    const strata_plugin *pl = fake_load_builtin("layers", "conv2d");
    ck_assert_msg(pl != NULL, "cannot load the conv2d plugin");
    conv C = {.ops = pl->layer};
    strata_opts *opts = fake_opts(kv);
    C.layer = C.ops->create(&fake_host, opts, (strata_shape){sp.c, sp.h, sp.w}, &C.out);
    ck_assert_msg(C.layer != NULL, "create failed: %s", fake_opts_error(opts));
    fake_opts_free(opts);
    C.nin = (size_t)sp.n * sp.c * sp.h * sp.w;
    C.nout = (size_t)sp.n * C.out.c * C.out.h * C.out.w;
    C.nw = (size_t)sp.k * sp.c * sp.kh * sp.kw;
    C.scratch_bytes = C.ops->scratch_bytes(C.layer, sp.n);
    C.scratch = malloc(C.scratch_bytes + CANARY);
    memset(C.scratch, 0xA5, C.scratch_bytes + CANARY);
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
    for (int i = 0; i < CANARY; i++)
        ck_assert_msg(C->scratch[C->scratch_bytes + i] == 0xA5, "wrote past scratch_bytes");
    return R;
}

/* smallc against direct on one shape: forward, dweight, dbias, din. */
static void against_direct(spec sp, const char *extra, int threads, int want_din)
{
    conv S = make(sp, "smallc", extra), D = make(sp, "direct", NULL);
    ck_assert_int_eq(S.out.h, D.out.h);
    data in = make_data(&S, sp);
    result r = run(&S, sp, &in, threads, want_din), ref = run(&D, sp, &in, 1, want_din);
    double e[4] = {max_rel_err(r.y, ref.y, S.nout), max_rel_err(r.dw, ref.dw, S.nw),
                   sp.bias ? max_rel_err(r.db, ref.db, sp.k) : 0, want_din ? max_rel_err(r.dx, ref.dx, S.nin) : 0};
    const char *what[] = {"forward", "dweight", "dbias", "din"};
    if (getenv("CK_VERBOSE"))
        printf("%dx%dx%d k%d %dx%d s%d p%d n%d b%d: fwd %.1e dw %.1e db %.1e din %.1e\n", sp.c,
               sp.h, sp.w, sp.k, sp.kh, sp.kw, sp.s, sp.p, sp.n, sp.bias, e[0], e[1], e[2], e[3]);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(e[i] <= TOL, "%s err %.2e > %.0e (c %d, %dx%d, k %d, kernel %dx%d, stride %d, "
                      "padding %d, batch %d, %d threads)", what[i], e[i], TOL, sp.c, sp.h, sp.w,
                      sp.k, sp.kh, sp.kw, sp.s, sp.p, sp.n, threads);
    float big = 0; /* not vacuous: the reference weight gradient is not all zero */
    for (size_t i = 0; i < S.nw; i++)
        big = fabsf(ref.dw[i]) > big ? fabsf(ref.dw[i]) : big;
    ck_assert_msg(big > 0, "reference dweight is zero");
    free_result(r), free_result(ref), free_data(in);
    free_conv(&S), free_conv(&D);
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
                against_direct(sp, NULL, 1 + count % 3, count % 2);
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
        against_direct(cases[i], NULL, 2, 1);
}
END_TEST

/* A workspace of 1 MiB holds 2 of these images' phases: batches of 3 and 5
 * go in chunks (the last one short), forward and backward. */
START_TEST(test_chunks)
{
    spec sp = {3, 160, 200, 8, 5, 5, 2, 2, 3, 1};
    against_direct(sp, "workspace=1", 2, 1);
    sp.n = 5, sp.k = 5;
    against_direct(sp, "workspace=1", 3, 0);
}
END_TEST

/* The layers the brief is about, batch 2: AlexNet's conv1 (11x11/4, 224 px,
 * 3 -> 48) without din as in training, VGG's conv1_1 at 64 px with din. */
START_TEST(test_first_layers)
{
    spec alex = {3, 224, 224, 48, 11, 11, 4, 2, 2, 1};
    spec vgg = {3, 64, 64, 64, 3, 3, 1, 1, 2, 1};
    against_direct(alex, NULL, 2, 0);
    against_direct(vgg, NULL, 2, 1);
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
        against_direct(flat[i], NULL, 1 + i % 3, (int)(i % 2));
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
    against_direct((spec){3, 64, 64, 48, 11, 11, 4, 2, 2, 1}, NULL, 2, 0);
    against_direct((spec){3, 37, 50, 11, 5, 5, 3, 2, 2, 1}, NULL, 3, 1);
    against_direct((spec){2, 20, 12, 7, 3, 3, 1, 1, 2, 1}, NULL, 1, 1); /* 12 wide: 1 vector, tail */
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

/* loss = sum(out * r): d loss / d theta by central differences of the
 * forward (in double over the output) against backward's gradients. */
static double loss(conv *C, spec sp, const data *D, const float *r, float *y)
{
    float *params[2] = {D->w, D->b};
    strata_ctx ctx = {.training = 1, .threads = 2, .seed = 1};
    C->ops->forward(C->layer, &ctx, sp.n, D->x, y, params, NULL, C->scratch);
    double s = 0;
    for (size_t i = 0; i < C->nout; i++)
        s += (double)y[i] * r[i];
    return s;
}

static void fd_check(conv *C, spec sp, const data *D, float *theta, size_t n, const float *grad,
                     const char *what)
{
    float *y = fvec(C->nout);
    const float h = 1e-2f;
    for (size_t i = 0; i < n; i += 1 + n / 7) {
        float keep = theta[i];
        theta[i] = keep + h;
        double lp = loss(C, sp, D, D->dy, y);
        theta[i] = keep - h;
        double lm = loss(C, sp, D, D->dy, y);
        theta[i] = keep;
        double fd = (lp - lm) / (2.0 * h), scale = fabs(fd) > 1 ? fabs(fd) : 1;
        ck_assert_msg(fabs(fd - grad[i]) / scale <= 1e-3, "%s[%zu]: backward %.6g, finite "
                      "differences %.6g", what, i, grad[i], fd);
    }
    free(y);
}

START_TEST(test_finite_differences)
{
    spec sp = {3, 11, 13, 5, 3, 5, 2, 1, 2, 1};
    conv C = make(sp, "smallc", NULL);
    data D = make_data(&C, sp);
    result r = run(&C, sp, &D, 2, 1);
    fd_check(&C, sp, &D, D.w, C.nw, r.dw, "dweight");
    fd_check(&C, sp, &D, D.b, sp.k, r.db, "dbias");
    fd_check(&C, sp, &D, D.x, C.nin, r.dx, "din");
    free_result(r), free_data(D);
    free_conv(&C);
}
END_TEST

/* Gradients accumulate (+=) into dweight and dbias: two backward passes
 * give twice one. */
START_TEST(test_accumulates)
{
    spec sp = {2, 10, 21, 6, 3, 3, 1, 1, 2, 1};
    conv C = make(sp, "smallc", NULL);
    data D = make_data(&C, sp);
    result r = run(&C, sp, &D, 1, 0);
    float *params[2] = {D.w, D.b}, *dparams[2] = {r.dw, r.db};
    float *once = fvec(C.nw);
    memcpy(once, r.dw, C.nw * sizeof(float));
    float b0 = r.db[0];
    strata_ctx ctx = {.training = 1, .threads = 1, .seed = 1};
    C.ops->backward(C.layer, &ctx, sp.n, D.x, r.y, D.dy, NULL, params, dparams, NULL, C.scratch);
    for (size_t i = 0; i < C.nw; i++)
        ck_assert_msg(fabsf(r.dw[i] - 2 * once[i]) <= 1e-6f * (1 + fabsf(once[i])),
                      "dweight[%zu] %g after two passes, one gave %g", i, r.dw[i], once[i]);
    ck_assert_msg(fabsf(r.db[0] - 2 * b0) <= 1e-6f * (1 + fabsf(b0)), "dbias does not accumulate");
    free(once), free_result(r), free_data(D);
    free_conv(&C);
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
    Suite *s = suite_create("conv_first");
    TCase *tc = tcase_create("smallc");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_odd_shapes);
    tcase_add_test(tc, test_wide_and_rectangular);
    tcase_add_test(tc, test_chunks);
    tcase_add_test(tc, test_first_layers);
    tcase_add_test(tc, test_flat_layout);
    tcase_add_test(tc, test_row_blocks_and_stride3);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_finite_differences);
    tcase_add_test(tc, test_accumulates);
    tcase_add_test(tc, test_refuses_wide_input);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
