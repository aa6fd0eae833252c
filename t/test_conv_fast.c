/* test_conv_fast.c — conv2d's fast paths (algo: winograd, im2col, smallc)
 * against the direct reference path and against a double-precision
 * reference written here: forward, input gradient, weight and bias
 * gradients; small odd shapes, padding 0..2 (3x3) and 0..4 (5x5), batch 1
 * and odd batches, chunked batches (workspace=1), 2 and 3 threads
 * (Winograd's pipelined, row-segment and gathered-segment paths, im2col's
 * images shared between threads); each of Winograd's four algorithms
 * (F(4x4,3x3), F(5x5,3x3), F(2x2,5x5), F(3x3,5x5): which one a map takes is
 * worked out in the comments); the AVX-512 gathered transforms
 * bit-identical to the generic loops (STRATA_ISA=base); VGG- and
 * AlexNet-sized layers;
 * finite-difference checks of the Winograd path; option errors; auto's
 * choice; scratch bounds.
 *
 * Error measure: max_rel_err(a, ref) = max_i |a_i - ref_i| / max_i |ref_i|.
 * Measured on this machine (inputs, weights, dout U(-1, 1), batch 2), vs
 * algo=direct (float):
 *   winograd                      forward   din      dweight  dbias
 *     64->64   56x56  F(4x4,3x3)  7.4e-6    5.6e-6   4.7e-6   2.6e-7
 *     256->256 28x28  F(4x4,3x3)  7.4e-6    8.1e-6   6.8e-6   2.9e-7
 *     512->512 14x14  F(5x5,3x3)  7.7e-6    8.7e-6   4.7e-6   1.6e-7
 *     192->192 13x13  F(5x5,3x3)  1.0e-5    7.6e-6   5.6e-6   2.7e-7
 *     48->128  27x27  F(3x3,5x5)  6.7e-6    8.8e-6   9.4e-6   2.4e-7
 *     (AlexNet's conv2 by F(2x2,5x5), before F(3x3,5x5) took it: 4.2e-6)
 *   im2col: 4.5e-7 .. 2.6e-6; dbias 0 (the same summation as direct;
 *   Winograd sums its transformed dout tiles instead).
 * (CK_VERBOSE=1 prints them.)
 * The bound asserted for VGG- and AlexNet-sized layers is 1e-4 (the brief's
 * accuracy target); small shapes against the double reference use 1e-5.
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_host.h"
#include "testlib.h"

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define CANARY 64

static uint64_t rng_state = 1234;
static float urand(void) { return 2.0f * strata_rng_uniform(&rng_state) - 1.0f; }
static float *fvec(size_t n) { return calloc(n ? n : 1, sizeof(float)); }
static void fill(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = urand();
}

static const strata_layer_ops *conv_ops(void)
{
    const strata_plugin *p = fake_load_builtin("layers", "conv2d");
    ck_assert_msg(p != NULL, "cannot load the conv2d plugin");
    return p->layer;
}

/* One conv2d layer with its parameters and its own scratch (+ canary). */
typedef struct conv {
    const strata_layer_ops *ops;
    void *layer;
    strata_shape in, out;
    int n, bias;
    size_t nin, nout, nw;
    float *params[2], *dparams[2];
    size_t scratch_bytes;
    unsigned char *scratch;
} conv;

/* Shape: c x h x w input, k output channels, kernel kh x kw, stride s,
 * padding p, batch n, algo name, extra option (or NULL). */
typedef struct spec {
    int c, h, w, k, kh, kw, s, p, n, bias;
} spec;

static conv *make(spec sp, const char *algo, const char *extra)
{
    char o[32], k[32], s[32], p[32], b[32], a[32];
    snprintf(o, sizeof o, "out_channels=%d", sp.k);
    snprintf(k, sizeof k, "kernel=[%d, %d]", sp.kh, sp.kw);
    snprintf(s, sizeof s, "stride=%d", sp.s);
    snprintf(p, sizeof p, "padding=%d", sp.p);
    snprintf(b, sizeof b, "bias=%s", sp.bias ? "true" : "false");
    snprintf(a, sizeof a, "algo=%s", algo);
    const char *kv[] = {o, k, s, p, b, a, extra, NULL};
    conv *C = calloc(1, sizeof *C);
    C->ops = conv_ops();
    strata_opts *opts = fake_opts(kv);
    C->in = (strata_shape){sp.c, sp.h, sp.w};
    C->layer = C->ops->create(&fake_host, opts, C->in, &C->out);
    ck_assert_msg(C->layer != NULL, "create failed: %s", fake_opts_error(opts));
    ck_assert_msg(fake_opts_unused(opts) == NULL, "option %s not read", fake_opts_unused(opts));
    fake_opts_free(opts);
    C->n = sp.n, C->bias = sp.bias;
    C->nin = (size_t)sp.n * sp.c * sp.h * sp.w;
    C->nout = (size_t)sp.n * C->out.c * C->out.h * C->out.w;
    C->nw = (size_t)sp.k * sp.c * sp.kh * sp.kw;
    C->params[0] = fvec(C->nw), C->dparams[0] = fvec(C->nw);
    C->params[1] = fvec(sp.k), C->dparams[1] = fvec(sp.k);
    C->scratch_bytes = C->ops->scratch_bytes(C->layer, sp.n);
    C->scratch = malloc(C->scratch_bytes + CANARY);
    memset(C->scratch, 0xA5, C->scratch_bytes + CANARY);
    return C;
}

static void check_canary(const conv *C)
{
    for (int i = 0; i < CANARY; i++)
        ck_assert_msg(C->scratch[C->scratch_bytes + i] == 0xA5, "wrote past scratch_bytes");
}

static void free_conv(conv *C)
{
    for (int i = 0; i < 2; i++)
        free(C->params[i]), free(C->dparams[i]);
    free(C->scratch);
    C->ops->destroy(C->layer);
    free(C);
}

static void run_forward(conv *C, int threads, const float *x, float *y)
{
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    layer_set_blas(C->ops, C->layer, 0, C->n, threads); /* as the trainer does */
    C->ops->forward(C->layer, &ctx, C->n, x, y, C->params, NULL, C->scratch);
    check_canary(C);
}

/* dparams are zeroed first, so they hold this batch's gradients. */
static void run_backward(conv *C, int threads, const float *x, const float *y, const float *dy,
                         float *dx)
{
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    memset(C->dparams[0], 0, C->nw * sizeof(float));
    memset(C->dparams[1], 0, C->out.c * sizeof(float));
    float *dp[2] = {C->dparams[0], C->bias ? C->dparams[1] : NULL};
    layer_set_blas(C->ops, C->layer, 1, C->n, threads);
    C->ops->backward(C->layer, &ctx, C->n, x, y, dy, dx, C->params, dp, NULL, C->scratch);
    check_canary(C);
}

/* ---- double-precision reference (the textbook loops) --------------------- */

typedef struct ref_out {
    double *y, *dx, *dw, *db;
} ref_out;

static ref_out reference(spec sp, int oh, int ow, const float *x, const float *w,
                         const float *bias, const float *dy)
{
    ref_out r;
    size_t isz = (size_t)sp.h * sp.w, osz = (size_t)oh * ow;
    r.y = calloc(sp.n * sp.k * osz, sizeof(double));
    r.dx = calloc(sp.n * sp.c * isz, sizeof(double));
    r.dw = calloc((size_t)sp.k * sp.c * sp.kh * sp.kw, sizeof(double));
    r.db = calloc(sp.k, sizeof(double));
    for (int b = 0; b < sp.n; b++)
        for (int o = 0; o < sp.k; o++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    size_t yi = ((size_t)b * sp.k + o) * osz + (size_t)oy * ow + ox;
                    double s = sp.bias ? bias[o] : 0.0;
                    r.db[o] += dy[yi];
                    for (int c = 0; c < sp.c; c++)
                        for (int i = 0; i < sp.kh; i++)
                            for (int j = 0; j < sp.kw; j++) {
                                int iy = oy * sp.s - sp.p + i, ix = ox * sp.s - sp.p + j;
                                if (iy < 0 || iy >= sp.h || ix < 0 || ix >= sp.w)
                                    continue;
                                size_t xi = ((size_t)b * sp.c + c) * isz + (size_t)iy * sp.w + ix;
                                size_t wi = (((size_t)o * sp.c + c) * sp.kh + i) * sp.kw + j;
                                s += (double)w[wi] * x[xi];
                                r.dw[wi] += (double)dy[yi] * x[xi];
                                r.dx[xi] += (double)dy[yi] * w[wi];
                            }
                    r.y[yi] = s;
                }
    return r;
}

static void free_ref(ref_out r) { free(r.y), free(r.dx), free(r.dw), free(r.db); }

/* Every output of algo on shape sp against the double reference. */
static void small_case(spec sp, const char *algo, const char *extra, int threads, double tol)
{
    conv *C = make(sp, algo, extra);
    fill(C->params[0], C->nw);
    fill(C->params[1], sp.k);
    float *x = fvec(C->nin), *y = fvec(C->nout), *dy = fvec(C->nout), *dx = fvec(C->nin);
    fill(x, C->nin);
    fill(dy, C->nout);
    ref_out r = reference(sp, C->out.h, C->out.w, x, C->params[0], C->params[1], dy);
    run_forward(C, threads, x, y);
    for (int i = 0; i < 2; i++) { /* backward twice: the scratch holds garbage the 2nd time */
        fill(dx, C->nin);
        run_backward(C, threads, x, y, dy, dx);
    }
    const char *what[] = {"forward", "din", "dweight", "dbias"};
    double e[4] = {max_rel_err_d(y, r.y, C->nout), max_rel_err_d(dx, r.dx, C->nin),
                   max_rel_err_d(C->dparams[0], r.dw, C->nw),
                   sp.bias ? max_rel_err_d(C->dparams[1], r.db, sp.k) : 0.0};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(e[i] <= tol,
                      "%s %s: %dx%dx%d -> %d, kernel %dx%d, stride %d, padding %d, batch %d: "
                      "error %g > %g",
                      algo, what[i], sp.c, sp.h, sp.w, sp.k, sp.kh, sp.kw, sp.s, sp.p, sp.n, e[i],
                      tol);
    /* din = NULL (first layer): parameter gradients unchanged */
    float *dw = fvec(C->nw);
    memcpy(dw, C->dparams[0], C->nw * sizeof(float));
    run_backward(C, threads, x, y, dy, NULL);
    ck_assert_msg(max_rel_err(C->dparams[0], dw, C->nw) <= 1e-6, "%s: dweight differs without din", algo);
    free(dw);
    free_ref(r);
    free(x), free(y), free(dy), free(dx);
    free_conv(C);
}

/* ---- tests --------------------------------------------------------------- */

static const char *const ALGOS[] = {"winograd", "im2col", "direct"};

START_TEST(test_small_odd_shapes)
{
    /* c, h, w, k, kh, kw, s, p, n, bias */
    spec cases[] = {
        {3, 5, 7, 7, 3, 3, 1, 0, 1, 1},   {3, 5, 7, 7, 3, 3, 1, 1, 3, 1},
        {5, 5, 7, 3, 3, 3, 1, 2, 2, 0},   {7, 9, 4, 5, 3, 3, 1, 1, 1, 1},
        {1, 3, 3, 1, 3, 3, 1, 0, 1, 1},   {2, 4, 4, 3, 3, 3, 1, 1, 5, 1},
        {17, 13, 13, 19, 3, 3, 1, 1, 3, 1}, {6, 21, 10, 4, 3, 3, 1, 0, 2, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int a = 0; a < 3; a++)
            small_case(cases[i], ALGOS[a], NULL, 1, 1e-5);
}
END_TEST

/* Winograd on 5x5 kernels: padding 0..4 (backward-data padding 4..0),
 * maps not a multiple of the tile step, channel counts not multiples of 16,
 * batches 1..3, with and without bias. F(3x3, 5x5) on most maps (gathered
 * segments); F(2x2, 5x5) where alpha 7 saves < 15%: a 5x5 map with one
 * output, maps 4 high (4x23: row segments of 12 tiles, padding 2; 4x21,
 * padding 3, its backward-data pass 2x19 too), 1x28 (its backward-data pass
 * 3x30 takes F(3x3, 5x5)), 2x5 (gathered; backward-data 6x9 F(3x3, 5x5)). */
START_TEST(test_winograd_5x5_shapes)
{
    /* c, h, w, k, kh, kw, s, p, n, bias */
    spec cases[] = {
        {3, 5, 5, 2, 5, 5, 1, 0, 1, 1},    {3, 9, 7, 5, 5, 5, 1, 1, 2, 1},
        {5, 8, 11, 3, 5, 5, 1, 2, 3, 0},   {4, 6, 9, 7, 5, 5, 1, 3, 1, 1},
        {2, 7, 7, 3, 5, 5, 1, 4, 2, 1},    {17, 13, 13, 19, 5, 5, 1, 2, 2, 1},
        {6, 21, 40, 9, 5, 5, 1, 2, 2, 1},  {7, 27, 33, 5, 5, 5, 1, 0, 1, 1},
        {1, 5, 40, 1, 5, 5, 1, 4, 1, 1},   {3, 4, 23, 4, 5, 5, 1, 2, 2, 1},
        {3, 2, 19, 2, 5, 5, 1, 3, 2, 1},   {2, 3, 30, 3, 5, 5, 1, 1, 1, 1},
        {2, 6, 9, 3, 5, 5, 1, 0, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int a = 0; a < 3; a++)
            small_case(cases[i], ALGOS[a], NULL, 1, 1e-5);
}
END_TEST

/* Shapes Winograd does not take: im2col and direct. */
START_TEST(test_small_other_kernels)
{
    spec cases[] = {
        {3, 23, 19, 4, 11, 11, 4, 2, 2, 1}, /* AlexNet's first layer, small */
        {4, 9, 9, 5, 5, 5, 1, 2, 3, 1},     /* 5x5 stride 1 (Winograd too: above) */
        {4, 12, 11, 5, 5, 5, 2, 2, 2, 1},   /* 5x5 stride 2 */
        {3, 6, 6, 2, 5, 5, 1, 5, 1, 1},     /* 5x5 padding 5 */
        {5, 7, 6, 3, 1, 1, 1, 0, 2, 0},     /* 1x1 */
        {3, 8, 9, 2, 3, 3, 2, 1, 1, 1},     /* 3x3 stride 2 */
        {3, 6, 6, 2, 3, 3, 1, 3, 2, 1},     /* padding 3 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int a = 1; a < 3; a++)
            small_case(cases[i], ALGOS[a], NULL, 1, 1e-5);
}
END_TEST

/* smallc (the few-channel forward; im2col backward) on c <= 4: odd widths
 * (a last block of 32 columns cut short), k not a multiple of 8, strides,
 * AlexNet's 11x11 stride 4, no bias; 1 and 2 threads, one image slot. */
START_TEST(test_smallc)
{
    spec cases[] = {
        {3, 5, 7, 7, 3, 3, 1, 0, 1, 1},     {3, 5, 7, 7, 3, 3, 1, 1, 3, 1},
        {1, 3, 3, 1, 3, 3, 1, 0, 1, 1},     {2, 4, 4, 3, 3, 3, 1, 1, 5, 1},
        {3, 23, 19, 4, 11, 11, 4, 2, 2, 1}, {4, 9, 9, 5, 5, 5, 1, 2, 3, 1},
        {3, 8, 9, 2, 3, 3, 2, 1, 1, 1},     {3, 6, 6, 2, 3, 3, 1, 3, 2, 1},
        {3, 11, 70, 20, 3, 3, 1, 1, 3, 1},  {3, 9, 35, 9, 3, 3, 1, 1, 2, 0},
        {3, 40, 45, 17, 11, 11, 4, 2, 3, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        small_case(cases[i], "smallc", NULL, 1, 1e-5);
        small_case(cases[i], "smallc", NULL, 2, 1e-5);
        small_case(cases[i], "smallc", "workspace=1", 2, 1e-5);
    }
}
END_TEST

/* A workspace of 1 MiB splits these batches into several chunks (Winograd
 * F(4x4, 3x3) on big: 262144 floats / (36 * 64 * 9 tiles) = 12 of the 24
 * tile rows per chunk; im2col: one image slot, the images one after the
 * other), with 2 threads; the default workspace: im2col's images shared
 * between 2 threads. Which Winograd algorithm a map takes (alpha 7 where it
 * saves >= 15% of the GEMM work) is worked out in each comment. */
START_TEST(test_chunks_and_threads)
{
    /* big, one: F(4x4, 3x3) (30x36: 72 tiles x 36 against 48 x 49), 9 tiles
     * a row: row segments, pipelined (c + k <= 128) */
    spec big = {24, 30, 36, 40, 3, 3, 1, 1, 3, 1};
    spec one = {24, 30, 36, 40, 3, 3, 1, 0, 1, 1};
    /* narrow: F(5x5, 3x3) (45x20: 36 tiles x 49 against 60 x 36), 4 tiles a
     * row, gathered segments; workspace=1 gives chunks of 20 of the 27 tile
     * rows (262144 / (49 * 64 * 4)), the second starting inside image 3 */
    spec narrow = {24, 45, 20, 40, 3, 3, 1, 1, 3, 1};
    /* tall: F(4x4, 3x3), 90 tile rows, more than a 2 MiB pipelined chunk
     * holds (25): backward-weights pipelined over groups, on 2 workers;
     * tall7: the same with F(5x5, 3x3), 72 tile rows, chunks of 6 */
    spec tall = {24, 120, 36, 40, 3, 3, 1, 1, 3, 1};
    spec tall7 = {24, 120, 33, 40, 3, 3, 1, 1, 3, 1};
    /* five2: F(2x2, 5x5) (4x40: 40 tiles x 36 against 28 x 49), 20 tiles a
     * row (row segments of 16 and 4), workspace=1: 2 of the 6 tile rows a
     * chunk, pipelined (c + k <= 256); five: F(3x3, 5x5), 11 tiles a row,
     * chunks of 7 of 33 rows; wide5: 9 a row, chunks of 4; over5: c + k >
     * 256, not pipelined, chunks of 3 of the 8 tile rows */
    spec five2 = {64, 4, 40, 64, 5, 5, 1, 2, 3, 1};
    spec five = {24, 32, 31, 40, 5, 5, 1, 2, 3, 1};
    spec wide5 = {48, 27, 27, 96, 5, 5, 1, 2, 2, 1};
    spec over5 = {96, 11, 13, 176, 5, 5, 1, 2, 2, 1};
    /* 64 channels: dweight 1.1e-5 from the double reference (measured) */
    small_case(five2, "winograd", "workspace=1", 2, 3e-5);
    small_case(five2, "winograd", NULL, 3, 3e-5);
    small_case(five, "winograd", "workspace=1", 2, 1e-5);
    small_case(five, "winograd", NULL, 3, 1e-5);
    small_case(wide5, "winograd", "workspace=1", 2, 1e-5);
    small_case(over5, "winograd", "workspace=1", 2, 1e-5);
    small_case(over5, "winograd", NULL, 2, 1e-5);
    small_case(tall, "winograd", NULL, 2, 1e-5);
    small_case(tall7, "winograd", NULL, 2, 1e-5);
    for (int a = 0; a < 2; a++) {
        small_case(narrow, ALGOS[a], "workspace=1", 2, 1e-5);
        small_case(narrow, ALGOS[a], NULL, 2, 1e-5);
        small_case(big, ALGOS[a], "workspace=1", 2, 1e-5);
        small_case(one, ALGOS[a], "workspace=1", 1, 1e-5);
        small_case(big, ALGOS[a], NULL, 2, 1e-5);
    }
    /* the chunked scratch is smaller than the whole-batch scratch */
    conv *A = make(big, "winograd", "workspace=1"), *B = make(big, "winograd", NULL);
    ck_assert_msg(A->scratch_bytes < B->scratch_bytes, "workspace=1: %zu bytes, default %zu",
                  A->scratch_bytes, B->scratch_bytes);
    free_conv(A), free_conv(B);
    A = make(big, "im2col", "workspace=1"), B = make(big, "im2col", NULL);
    ck_assert_msg(A->scratch_bytes < B->scratch_bytes, "workspace=1: %zu bytes, default %zu",
                  A->scratch_bytes, B->scratch_bytes);
    free_conv(A), free_conv(B);
}
END_TEST

/* Results do not depend on the thread count, bit for bit (a sweep with
 * --jobs 2 runs each point on fewer threads and must record the same
 * losses): forward, din, dweight and dbias with 1, 2 and 3 threads, OpenBLAS
 * given the same count as the layer (as strata's session does). Not for
 * im2col with a workspace of one image: its GEMMs then run on OpenBLAS's
 * threads, whose sums differ between 1 and 2 threads (measured here). */
static void same_bits(spec sp, const char *algo, const char *extra)
{
    float *got[3][4];
    int keep = openblas_get_num_threads();
    conv *C = make(sp, algo, extra);
    fill(C->params[0], C->nw);
    fill(C->params[1], sp.k);
    float *x = fvec(C->nin), *dy = fvec(C->nout);
    fill(x, C->nin);
    fill(dy, C->nout);
    for (int t = 0; t < 3; t++) {
        got[t][0] = fvec(C->nout), got[t][1] = fvec(C->nin);
        got[t][2] = fvec(C->nw), got[t][3] = fvec(sp.k);
        openblas_set_num_threads(t + 1);
        run_forward(C, t + 1, x, got[t][0]);
        run_backward(C, t + 1, x, got[t][0], dy, got[t][1]);
        openblas_set_num_threads(keep);
        memcpy(got[t][2], C->dparams[0], C->nw * sizeof(float));
        memcpy(got[t][3], C->dparams[1], sp.k * sizeof(float));
    }
    size_t sizes[4] = {C->nout, C->nin, C->nw, (size_t)sp.k};
    const char *what[] = {"forward", "din", "dweight", "dbias"};
    for (int t = 1; t < 3; t++)
        for (int i = 0; i < 4; i++)
            ck_assert_msg(memcmp(got[0][i], got[t][i], sizes[i] * sizeof(float)) == 0,
                          "%s %s (%dx%dx%d -> %d, %s): 1 thread and %d threads differ", algo,
                          what[i], sp.c, sp.h, sp.w, sp.k, extra ? extra : "default", t + 1);
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < 4; i++)
            free(got[t][i]);
    free(x), free(dy);
    free_conv(C);
}

START_TEST(test_thread_count_invariance)
{
    /* the algorithms as in test_chunks_and_threads */
    spec rows = {24, 30, 36, 40, 3, 3, 1, 1, 3, 1};   /* F(4,3) pipelined, row segments */
    spec narrow = {24, 45, 20, 40, 3, 3, 1, 1, 3, 1}; /* F(5,3) pipelined, gathered */
    spec wide = {64, 14, 14, 80, 3, 3, 1, 1, 3, 1};   /* c + k > 128: not pipelined */
    spec tall = {24, 120, 36, 40, 3, 3, 1, 1, 3, 1};  /* 90 tile rows: pipelined weights */
    spec first = {3, 23, 19, 4, 11, 11, 4, 2, 5, 1};  /* im2col groups, smallc */
    spec five2 = {64, 4, 40, 64, 5, 5, 1, 2, 3, 1};   /* F(2,5) pipelined, row segments */
    spec five = {24, 32, 31, 40, 5, 5, 1, 2, 3, 1};   /* F(3,5), pipelined */
    spec wide5 = {48, 15, 15, 96, 5, 5, 1, 2, 3, 1};  /* F(3,5), gathered */
    spec over5 = {96, 11, 13, 176, 5, 5, 1, 2, 3, 1}; /* not pipelined */
    const char *ws[] = {NULL, "workspace=1"};
    for (int w = 0; w < 2; w++) {
        same_bits(five2, "winograd", ws[w]);
        same_bits(five, "winograd", ws[w]);
        same_bits(wide5, "winograd", ws[w]);
        same_bits(over5, "winograd", ws[w]);
        same_bits(rows, "winograd", ws[w]);
        same_bits(narrow, "winograd", ws[w]);
        same_bits(wide, "winograd", ws[w]);
        same_bits(tall, "winograd", ws[w]);
    }
    same_bits(rows, "im2col", NULL);
    same_bits(first, "im2col", NULL);
    same_bits(first, "smallc", NULL);
}
END_TEST

/* With AVX-512, every map runs on gathered segments (masked gathers, the
 * transforms in registers, masked scatters); without (STRATA_ISA=base or
 * avx2 forces that) lane by lane, or on row segments (written-out
 * transforms) where a tile row has more than SEG/2 tiles and m is even.
 * All do the same operations in the same order, so every output must be
 * bit-identical. Shapes with
 * padding on every side, partial last segments, tiles past the map's edge,
 * chunks across images (workspace=1), on 1 and 2 threads. */
static void isa_bits(spec sp, const char *extra, int threads)
{
    float *got[2][4];
    conv *C = make(sp, "winograd", extra);
    fill(C->params[0], C->nw);
    fill(C->params[1], sp.k);
    float *x = fvec(C->nin), *dy = fvec(C->nout);
    fill(x, C->nin);
    fill(dy, C->nout);
    const char *isa[] = {"avx512", "base"};
    for (int v = 0; v < 2; v++) {
        setenv("STRATA_ISA", isa[v], 1);
        got[v][0] = fvec(C->nout), got[v][1] = fvec(C->nin);
        got[v][2] = fvec(C->nw), got[v][3] = fvec(sp.k);
        run_forward(C, threads, x, got[v][0]);
        run_backward(C, threads, x, got[v][0], dy, got[v][1]);
        memcpy(got[v][2], C->dparams[0], C->nw * sizeof(float));
        memcpy(got[v][3], C->dparams[1], sp.k * sizeof(float));
    }
    unsetenv("STRATA_ISA");
    size_t sizes[4] = {C->nout, C->nin, C->nw, (size_t)sp.k};
    const char *what[] = {"forward", "din", "dweight", "dbias"};
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(memcmp(got[0][i], got[1][i], sizes[i] * sizeof(float)) == 0,
                      "%s (%dx%dx%d -> %d, %dx%d, padding %d, %s, %d threads): gathered and "
                      "lane-by-lane loads differ",
                      what[i], sp.c, sp.h, sp.w, sp.k, sp.kh, sp.kw, sp.p,
                      extra ? extra : "default", threads);
        free(got[0][i]), free(got[1][i]);
    }
    free(x), free(dy);
    free_conv(C);
}

START_TEST(test_gather_invariance)
{
    spec narrow = {24, 45, 20, 40, 3, 3, 1, 1, 3, 1}; /* F(5,3), pipelined */
    spec rows = {24, 30, 36, 40, 3, 3, 1, 1, 3, 1};   /* F(4,3): row segments on base */
    spec rows5 = {64, 4, 40, 64, 5, 5, 1, 2, 3, 1};   /* F(2,5): row segments on base */
    spec wide = {64, 14, 70, 80, 3, 3, 1, 0, 2, 1};   /* rows on base, not pipelined */
    spec small = {16, 13, 13, 24, 3, 3, 1, 2, 3, 1};  /* F(5,3), padding 2 */
    spec odd = {8, 9, 11, 12, 3, 3, 1, 0, 5, 1};      /* F(4,3), 3 tiles a row */
    spec five = {24, 32, 31, 40, 5, 5, 1, 4, 3, 1};   /* F(3,5), padding 4 */
    spec wide5 = {48, 15, 15, 96, 5, 5, 1, 2, 3, 1};  /* F(3,5), gathered */
    spec over5 = {96, 11, 13, 176, 5, 5, 1, 3, 2, 1}; /* not pipelined */
    spec tiny5 = {24, 6, 7, 16, 5, 5, 1, 1, 3, 1};    /* F(2,5) on a tiny map */
    spec all[] = {narrow, rows, rows5, wide, small, odd, five, wide5, over5, tiny5};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        for (int t = 1; t <= 2; t++) {
            isa_bits(all[i], NULL, t);
            isa_bits(all[i], "workspace=1", t);
        }
}
END_TEST

/* Full-sized layers (VGG-16's, AlexNet's), batch n: the fast paths against
 * algo=direct; kernel r x r, padding p, stride 1. */
static void sized_case(int c, int hw, int k, int r, int p, int n)
{
    spec sp = {c, hw, hw, k, r, r, 1, p, n, 1};
    conv *D = make(sp, "direct", NULL);
    fill(D->params[0], D->nw);
    fill(D->params[1], k);
    float *x = fvec(D->nin), *dy = fvec(D->nout);
    float *y0 = fvec(D->nout), *dx0 = fvec(D->nin), *dw0 = fvec(D->nw), *db0 = fvec(k);
    fill(x, D->nin);
    fill(dy, D->nout);
    run_forward(D, 2, x, y0);
    run_backward(D, 2, x, y0, dy, dx0);
    memcpy(dw0, D->dparams[0], D->nw * sizeof(float));
    memcpy(db0, D->dparams[1], k * sizeof(float));
    for (int a = 0; a < 2; a++) {
        conv *F = make(sp, ALGOS[a], NULL);
        memcpy(F->params[0], D->params[0], D->nw * sizeof(float));
        memcpy(F->params[1], D->params[1], k * sizeof(float));
        float *y = fvec(D->nout), *dx = fvec(D->nin);
        run_forward(F, 2, x, y);
        run_backward(F, 2, x, y, dy, dx);
        double e[4] = {max_rel_err(y, y0, D->nout), max_rel_err(dx, dx0, D->nin),
                       max_rel_err(F->dparams[0], dw0, D->nw), max_rel_err(F->dparams[1], db0, k)};
        if (getenv("CK_VERBOSE"))
            printf("%s %dx%d %d->%d %dx%d: forward %.2g din %.2g dweight %.2g dbias %.2g\n",
                   ALGOS[a], r, r, c, k, hw, hw, e[0], e[1], e[2], e[3]);
        const char *what[] = {"forward", "din", "dweight", "dbias"};
        for (int i = 0; i < 4; i++)
            ck_assert_msg(e[i] <= 1e-4, "%s %s %d->%d at %dx%d: error %g vs direct", ALGOS[a],
                          what[i], c, k, hw, hw, e[i]);
        free(y), free(dx);
        free_conv(F);
    }
    free(x), free(dy), free(y0), free(dx0), free(dw0), free(db0);
    free_conv(D);
}

START_TEST(test_vgg_sized)
{
    sized_case(64, 56, 64, 3, 1, 2);
    sized_case(256, 28, 256, 3, 1, 2);
    sized_case(512, 14, 512, 3, 1, 2);
}
END_TEST

/* AlexNet's conv2 (F(3x3, 5x5)) and conv4 (13x13 maps: F(5x5, 3x3)), batch 2. */
START_TEST(test_alexnet_sized)
{
    sized_case(48, 27, 128, 5, 2, 2);
    sized_case(192, 13, 192, 3, 1, 2);
}
END_TEST

/* Finite differences on the Winograd path: L = sum(out * r). */
START_TEST(test_winograd_finite_differences)
{
    spec shapes[] = {{3, 6, 5, 4, 3, 3, 1, 1, 2, 1}, {2, 5, 7, 3, 3, 3, 1, 0, 1, 1},
                     {2, 7, 6, 3, 5, 5, 1, 2, 2, 1}, {2, 6, 7, 2, 5, 5, 1, 3, 1, 1}};
    for (int s = 0; s < 4; s++) {
        conv *C = make(shapes[s], "winograd", NULL);
        fill(C->params[0], C->nw);
        fill(C->params[1], shapes[s].k);
        float *x = fvec(C->nin), *y = fvec(C->nout), *r = fvec(C->nout), *dx = fvec(C->nin);
        fill(x, C->nin);
        fill(r, C->nout);
        run_forward(C, 1, x, y);
        run_backward(C, 1, x, y, r, dx);
        const float eps = 1e-2f;
        float *targets[3] = {x, C->params[0], C->params[1]};
        float *grads[3] = {dx, C->dparams[0], C->dparams[1]};
        size_t sizes[3] = {C->nin, C->nw, (size_t)shapes[s].k};
        for (int t = 0; t < 3; t++)
            for (size_t i = 0; i < sizes[t]; i++) {
                float keep = targets[t][i];
                double l[2];
                for (int side = 0; side < 2; side++) {
                    targets[t][i] = keep + (side ? eps : -eps);
                    run_forward(C, 1, x, y);
                    l[side] = 0;
                    for (size_t j = 0; j < C->nout; j++)
                        l[side] += (double)y[j] * r[j];
                }
                targets[t][i] = keep;
                double num = (l[1] - l[0]) / (2 * eps), g = grads[t][i];
                ck_assert_msg(fabs(num - g) <= 2e-3 * (1 + fabs(num)),
                              "shape %d tensor %d [%zu]: analytic %g, numeric %g", s, t, i, g, num);
            }
        free(x), free(y), free(r), free(dx);
        free_conv(C);
    }
}
END_TEST

static void expect_error(const char *const *kv, strata_shape in, const char *needle)
{
    const strata_layer_ops *ops = conv_ops();
    strata_opts *o = fake_opts(kv);
    strata_shape out;
    void *L = ops->create(&fake_host, o, in, &out);
    ck_assert_msg(L == NULL, "expected an error mentioning '%s'", needle);
    const char *m = fake_opts_error(o);
    ck_assert_msg(m && strstr(m, needle), "error '%s' does not mention '%s'", m ? m : "(none)",
                  needle);
    ck_assert_msg(strchr(m, '\n') == NULL, "error is not one line: %s", m);
    fake_opts_free(o);
}

START_TEST(test_option_errors)
{
    strata_shape in = {3, 16, 16};
    expect_error(KV("out_channels=4", "kernel=7", "algo=winograd"), in, "3x3 or 5x5");
    expect_error(KV("out_channels=4", "kernel=7", "algo=winograd"), in, "kernel 7x7");
    expect_error(KV("out_channels=4", "kernel=[3, 5]", "algo=winograd"), in, "kernel 3x5");
    expect_error(KV("out_channels=4", "kernel=3", "stride=2", "algo=winograd"), in, "stride 2x2");
    expect_error(KV("out_channels=4", "kernel=5", "stride=2", "algo=winograd"), in, "stride 2x2");
    expect_error(KV("out_channels=4", "kernel=3", "padding=3", "algo=winograd"), in, "padding 3x3");
    expect_error(KV("out_channels=4", "kernel=5", "padding=5", "algo=winograd"), in, "padding 5x5");
    expect_error(KV("out_channels=4", "kernel=3", "algo=fast"), in, "algo");
    expect_error(KV("out_channels=4", "kernel=3", "algo=smallc"), (strata_shape){5, 16, 16},
                 "at most 4 input channels, got 5");
    expect_error(KV("out_channels=4", "kernel=3", "workspace=0"), in, "workspace");
}
END_TEST

/* auto picks Winograd for VGG's 3x3 layers (scratch as Winograd's), smallc
 * for the 3-channel first layers (VGG's 3x3, AlexNet's 11x11), Winograd
 * on 5x5 for AlexNet's conv2 (48 -> 128) and 24 -> 64, im2col for 5x5
 * layers with fewer input channels (16 -> 64, 8 -> 128) or stride 2 and 3x3
 * layers with stride 2; the scratch of VGG-16's largest layers at batch 32
 * stays bounded. */
START_TEST(test_auto_and_scratch)
{
    spec vgg12 = {64, 224, 224, 64, 3, 3, 1, 0, 32, 1};
    spec vgg11 = {3, 224, 224, 64, 3, 3, 1, 1, 32, 1};
    spec vgg51 = {512, 14, 14, 512, 3, 3, 1, 1, 32, 1};
    spec alex1 = {3, 224, 224, 64, 11, 11, 4, 2, 32, 1};
    spec alex2 = {48, 27, 27, 128, 5, 5, 1, 2, 32, 1};
    spec few5 = {8, 27, 27, 128, 5, 5, 1, 2, 32, 1};
    spec c16k64 = {16, 27, 27, 64, 5, 5, 1, 2, 32, 1};
    spec c24k64 = {24, 27, 27, 64, 5, 5, 1, 2, 32, 1};
    spec five2 = {48, 27, 27, 128, 5, 5, 2, 2, 32, 1};
    spec three2 = {64, 28, 28, 64, 3, 3, 2, 1, 32, 1};
    spec pairs[][1] = {{vgg12}, {vgg11}, {vgg51},  {alex1}, {alex2},
                       {few5},  {c16k64}, {c24k64}, {five2}, {three2}};
    const char *want[] = {"winograd", "smallc", "winograd", "smallc", "winograd",
                          "im2col",   "im2col", "winograd", "im2col", "im2col"};
    for (int i = 0; i < 10; i++) {
        conv *A = make(pairs[i][0], "auto", NULL), *W = make(pairs[i][0], want[i], NULL);
        ck_assert_msg(A->scratch_bytes == W->scratch_bytes, "case %d: auto is not %s", i, want[i]);
        ck_assert_msg(A->scratch_bytes <= (size_t)256 << 20, "case %d: scratch %zu MiB", i,
                      A->scratch_bytes >> 20);
        free_conv(A), free_conv(W);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv_fast");
    TCase *tc = tcase_create("conv2d");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_small_odd_shapes);
    tcase_add_test(tc, test_winograd_5x5_shapes);
    tcase_add_test(tc, test_small_other_kernels);
    tcase_add_test(tc, test_chunks_and_threads);
    tcase_add_test(tc, test_smallc);
    tcase_add_test(tc, test_thread_count_invariance);
    tcase_add_test(tc, test_gather_invariance);
    tcase_add_test(tc, test_vgg_sized);
    tcase_add_test(tc, test_alexnet_sized);
    tcase_add_test(tc, test_winograd_finite_differences);
    tcase_add_test(tc, test_option_errors);
    tcase_add_test(tc, test_auto_and_scratch);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
