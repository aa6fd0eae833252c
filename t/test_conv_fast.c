/* test_conv_fast.c — conv2d's fast paths (algo: winograd, im2col, smallc)
 * against the direct reference path and against a double-precision
 * reference written here: forward, input gradient, weight and bias
 * gradients; small odd shapes, padding 0..2 (3x3) and 0..4 (5x5), batch 1
 * and odd batches, chunked batches (workspace=1), 2 and 3 threads
 * (Winograd's pipelined, row-segment and gathered-segment paths, im2col's
 * images shared between threads); each of Winograd's four algorithms
 * (F(4x4,3x3), F(5x5,3x3), F(2x2,5x5), F(3x3,5x5): which one a map takes is
 * worked out in the comments); Winograd on strided layers through their
 * phase planes (AlexNet's 11x11 stride 4); VGG- and AlexNet-sized layers;
 * finite-difference checks of the Winograd path; option errors; auto's
 * choice; scratch bounds. (That the vectorised transforms give the same bits
 * at every ISA level: t/test_conv_isa.)
 *
 * Error bounds are derived, not fixed: the double reference also sums the
 * absolute values of each output's terms, and an output may differ from
 * the exact value by factor x len x FLT_EPSILON x that sum (see
 * WINO_FACTOR for the factors and why).
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

static uint64_t rng_state = 1234;
static void fill(float *x, size_t n) { fill_uniform(x, n, -1.0f, 1.0f, &rng_state); }

/* One conv2d layer with its parameters and its own scratch (+ canary). */
typedef struct conv {
    const strata_layer_ops *ops;
    void *layer;
    strata_shape in, out;
    int n, bias;
    size_t nin, nout, nw;
    float *params[2], *dparams[2];
    size_t scratch_bytes, saved_bytes;
    unsigned char *scratch, *saved; /* saved: Winograd's kept V (NULL: none) */
    int no_saved;                   /* 1: pass NULL as saved (V transformed again in backward) */
} conv;

/* Shape: c x h x w input, k output channels, kernel kh x kw, stride s,
 * padding p, batch n, algo name, extra option (or NULL). */
typedef struct spec {
    int c, h, w, k, kh, kw, s, p, n, bias;
} spec;

static conv *make(spec sp, const char *algo, const char *extra)
{
    conv_kv kv;
    conv *C = calloc(1, sizeof *C);
    C->ops = fake_layer_ops("conv2d");
    C->in = (strata_shape){sp.c, sp.h, sp.w};
    C->layer = fake_create_layer("conv2d", C->ops,
                                 conv_options(&kv, sp.k, sp.kh, sp.kw, sp.s, sp.p, sp.bias, algo, extra), C->in,
                                 &C->out);
    C->n = sp.n, C->bias = sp.bias;
    C->nin = (size_t)sp.n * sp.c * sp.h * sp.w;
    C->nout = (size_t)sp.n * C->out.c * C->out.h * C->out.w;
    C->nw = (size_t)sp.k * sp.c * sp.kh * sp.kw;
    C->params[0] = fvec(C->nw), C->dparams[0] = fvec(C->nw);
    C->params[1] = fvec(sp.k), C->dparams[1] = fvec(sp.k);
    C->scratch_bytes = C->ops->scratch_bytes(C->layer, sp.n);
    C->scratch = canary_alloc(C->scratch_bytes);
    C->saved_bytes = C->ops->saved_bytes ? C->ops->saved_bytes(C->layer, sp.n) : 0;
    C->saved = C->saved_bytes ? canary_alloc(C->saved_bytes) : NULL;
    return C;
}

static void check_canary(const conv *C)
{
    assert_canary(C->scratch, C->scratch_bytes, "scratch_bytes");
    if (C->saved)
        assert_canary(C->saved, C->saved_bytes, "saved_bytes");
}

static void *saved_of(const conv *C) { return C->no_saved ? NULL : C->saved; }

static void free_conv(conv *C)
{
    for (int i = 0; i < 2; i++)
        free(C->params[i]), free(C->dparams[i]);
    free(C->scratch);
    free(C->saved);
    C->ops->destroy(C->layer);
    free(C);
}

static void run_forward(conv *C, int threads, const float *x, float *y)
{
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    layer_set_blas(C->ops, C->layer, 0, C->n, threads); /* as the trainer does */
    C->ops->forward(C->layer, &ctx, C->n, x, y, C->params, saved_of(C), C->scratch);
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
    C->ops->backward(C->layer, &ctx, C->n, x, y, dy, dx, C->params, dp, saved_of(C), C->scratch);
    check_canary(C);
}

/* ---- double-precision reference (the textbook loops) --------------------- */

typedef struct ref_out {
    double *y, *dx, *dw, *db;     /* the exact (double) results */
    double *ya, *dxa, *dwa, *dba; /* the sums of the absolute values of their terms */
} ref_out;

static ref_out reference(spec sp, int oh, int ow, const float *x, const float *w,
                         const float *bias, const float *dy)
{
    ref_out r;
    size_t isz = (size_t)sp.h * sp.w, osz = (size_t)oh * ow;
    size_t ny = sp.n * sp.k * osz, nx = sp.n * sp.c * isz, nw = (size_t)sp.k * sp.c * sp.kh * sp.kw;
    r.y = calloc(ny, sizeof(double)), r.ya = calloc(ny, sizeof(double));
    r.dx = calloc(nx, sizeof(double)), r.dxa = calloc(nx, sizeof(double));
    r.dw = calloc(nw, sizeof(double)), r.dwa = calloc(nw, sizeof(double));
    r.db = calloc(sp.k, sizeof(double)), r.dba = calloc(sp.k, sizeof(double));
    for (int b = 0; b < sp.n; b++)
        for (int o = 0; o < sp.k; o++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    size_t yi = ((size_t)b * sp.k + o) * osz + (size_t)oy * ow + ox;
                    double s = sp.bias ? bias[o] : 0.0, sa = fabs(s), g = dy[yi];
                    r.db[o] += g, r.dba[o] += fabs(g);
                    for (int c = 0; c < sp.c; c++)
                        for (int i = 0; i < sp.kh; i++)
                            for (int j = 0; j < sp.kw; j++) {
                                int iy = oy * sp.s - sp.p + i, ix = ox * sp.s - sp.p + j;
                                if (iy < 0 || iy >= sp.h || ix < 0 || ix >= sp.w)
                                    continue;
                                size_t xi = ((size_t)b * sp.c + c) * isz + (size_t)iy * sp.w + ix;
                                size_t wi = (((size_t)o * sp.c + c) * sp.kh + i) * sp.kw + j;
                                double t = (double)w[wi] * x[xi], u = g * x[xi], v = g * w[wi];
                                s += t, sa += fabs(t);
                                r.dw[wi] += u, r.dwa[wi] += fabs(u);
                                r.dx[xi] += v, r.dxa[xi] += fabs(v);
                            }
                    r.y[yi] = s, r.ya[yi] = sa;
                }
    return r;
}

static void free_ref(ref_out r)
{
    free(r.y), free(r.dx), free(r.dw), free(r.db);
    free(r.ya), free(r.dxa), free(r.dwa), free(r.dba);
}

/* Error bounds (t/testlib.h): |got - exact| <= factor x len x FLT_EPSILON x
 * sum|terms|, len the reduction length of each output: c kh kw + 1 (the
 * bias) forward, k kh kw for din, n oh ow for dweight and dbias. For
 * im2col, smallc and direct (float sums in some order) factor 1 is the
 * classic bound of recursive summation. Winograd's transforms amplify the
 * rounding: each output is AT (sum_c U . V) A with U = G g G^T and
 * V = BT d B rounded in float, their errors scaled by the transforms' norms
 * (alpha 7's points 1/2 and 2 give entries up to 16 in AT and 16/9 in G)
 * whatever len, and every element of a tile's patch reaches each of its
 * outputs (plane_max, below). Rather than the loose product of norms, the
 * factor is measured: over every Winograd case in this file (516 outputs,
 * all four algorithms, CK_VERBOSE=1 prints them as fractions of the bound
 * at factor 1, len unclamped) the largest was 0.91 for len >= 10; only
 * dweight with a 1x1 output map (len 1: the transforms' error alone) went
 * above 1, up to 6.9. Hence Winograd's bound: WINO_FACTOR x max(len,
 * WINO_MIN_LEN) x eps x sum|terms|, 4 x max(len, 16): at least 4 times the
 * largest error measured (0.91 / 4, 6.9 / 64), room for the other ISA
 * passes' OpenBLAS kernels (Haswell, Prescott), which sum in other orders. */
#define WINO_FACTOR 4.0
#define WINO_MIN_LEN 16.0

/* Winograd mixes every element of a tile's patch into each of its outputs
 * (and all r x r taps of a kernel into each weight gradient), so an
 * output's error follows the sums of its neighbours' terms, not its own:
 * its sum|terms| is taken as the largest in its plane (an image plane of
 * the output or input, one r x r kernel): x[i] = max over x's block of
 * size `plane` holding i. */
static void plane_max(double *x, size_t n, size_t plane)
{
    for (size_t p0 = 0; p0 < n; p0 += plane) {
        double m = 0;
        for (size_t i = p0; i < p0 + plane; i++)
            m = x[i] > m ? x[i] : m;
        for (size_t i = p0; i < p0 + plane; i++)
            x[i] = m;
    }
}

static double bound_factor(const char *algo) { return strcmp(algo, "winograd") ? 1.0 : WINO_FACTOR; }
static double bound_len(const char *algo, double len)
{
    return strcmp(algo, "winograd") || len >= WINO_MIN_LEN ? len : WINO_MIN_LEN;
}

/* Every output of algo on shape sp against the double reference, within
 * the derived bounds (above). */
static void small_case(spec sp, const char *algo, const char *extra, int threads)
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
    const float *got[4] = {y, dx, C->dparams[0], C->dparams[1]};
    const double *ref[4] = {r.y, r.dx, r.dw, r.db}, *abs[4] = {r.ya, r.dxa, r.dwa, r.dba};
    size_t n[4] = {C->nout, C->nin, C->nw, sp.bias ? (size_t)sp.k : 0};
    double len[4] = {sp.c * sp.kh * sp.kw + 1, sp.k * sp.kh * sp.kw,
                     (double)sp.n * C->out.h * C->out.w, (double)sp.n * C->out.h * C->out.w};
    const char *what[] = {"forward", "din", "dweight", "dbias"};
    if (!strcmp(algo, "winograd")) {
        size_t plane[4] = {(size_t)C->out.h * C->out.w, (size_t)sp.h * sp.w,
                           (size_t)sp.kh * sp.kw, 1};
        for (int i = 0; i < 3; i++)
            plane_max((double *)abs[i], n[i], plane[i]);
    }
    for (int i = 0; i < 4; i++) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s %s: %dx%dx%d -> %d, kernel %dx%d, stride %d, padding %d, batch %d",
                 algo, what[i], sp.c, sp.h, sp.w, sp.k, sp.kh, sp.kw, sp.s, sp.p, sp.n);
        if (getenv("CK_VERBOSE"))
            printf("%s, %s, %d threads: %.3f of the bound at factor 1 (len %g)\n", msg,
                   extra ? extra : "default", threads,
                   fp_bound_ratio(got[i], ref[i], abs[i], n[i], len[i], 1.0, NULL), len[i]);
        assert_fp_bound(msg, got[i], ref[i], abs[i], n[i], bound_len(algo, len[i]),
                        bound_factor(algo));
    }
    /* din = NULL (first layer): the weight gradient within the same bound */
    run_backward(C, threads, x, y, dy, NULL);
    char msg[160];
    snprintf(msg, sizeof msg, "%s dweight without din: %dx%dx%d -> %d, kernel %dx%d", algo, sp.c,
             sp.h, sp.w, sp.k, sp.kh, sp.kw);
    assert_fp_bound(msg, C->dparams[0], r.dw, r.dwa, C->nw, bound_len(algo, len[2]),
                    bound_factor(algo));
    free_ref(r);
    free(x), free(y), free(dy), free(dx);
    free_conv(C);
}

/* ---- tests --------------------------------------------------------------- */

static const char *const ALGOS[] = {"winograd", "im2col", "direct"};

/* small_case of each of the n cases with ALGOS[first ..], 1 thread. */
static void small_cases(const spec *cases, size_t n, int first)
{
    for (size_t i = 0; i < n; i++)
        for (int a = first; a < 3; a++)
            small_case(cases[i], ALGOS[a], NULL, 1);
}

START_TEST(test_small_odd_shapes)
{
    /* c, h, w, k, kh, kw, s, p, n, bias */
    spec cases[] = {
        {3, 5, 7, 7, 3, 3, 1, 0, 1, 1},   {3, 5, 7, 7, 3, 3, 1, 1, 3, 1},
        {5, 5, 7, 3, 3, 3, 1, 2, 2, 0},   {7, 9, 4, 5, 3, 3, 1, 1, 1, 1},
        {1, 3, 3, 1, 3, 3, 1, 0, 1, 1},   {2, 4, 4, 3, 3, 3, 1, 1, 5, 1},
        {17, 13, 13, 19, 3, 3, 1, 1, 3, 1}, {6, 21, 10, 4, 3, 3, 1, 0, 2, 1},
    };
    small_cases(cases, sizeof cases / sizeof *cases, 0);
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
    small_cases(cases, sizeof cases / sizeof *cases, 0);
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
    small_cases(cases, sizeof cases / sizeof *cases, 1);
}
END_TEST

/* Winograd on strided layers (conv_phase_wino.c: the phase planes, a
 * stride-1 Winograd convolution, the gradients folded back): AlexNet's
 * 11x11 stride 4 (phase kernel 3x3 on 48 planes), 5x5 stride 2 (3x3),
 * 9x9 stride 3 (3x3), 10x10 stride 2 (5x5), maps that leave input rows and
 * columns no tap reaches (their din is 0), padding 0..2, no bias; 1 and 2
 * threads and workspace=1 (one image a chunk). */
START_TEST(test_winograd_strided)
{
    /* c, h, w, k, kh, kw, s, p, n, bias */
    spec cases[] = {
        {3, 23, 19, 4, 11, 11, 4, 2, 2, 1}, {4, 12, 11, 5, 5, 5, 2, 2, 2, 1},
        {3, 40, 45, 17, 11, 11, 4, 2, 3, 1}, {2, 15, 17, 3, 9, 9, 3, 1, 2, 0},
        {3, 22, 20, 4, 10, 10, 2, 0, 1, 1}, {1, 14, 13, 2, 5, 5, 2, 1, 3, 1},
        {2, 2, 7, 3, 9, 9, 3, 4, 2, 1}, /* phases with no column in common */
        {3, 40, 45, 96, 11, 11, 4, 2, 2, 1}, /* 48 + 96 > 128: not pipelined, its V kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        small_case(cases[i], "winograd", NULL, 1);
        small_case(cases[i], "winograd", NULL, 2);
        small_case(cases[i], "winograd", "workspace=1", 2);
    }
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
        small_case(cases[i], "smallc", NULL, 1);
        small_case(cases[i], "smallc", NULL, 2);
        small_case(cases[i], "smallc", "workspace=1", 2);
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
    small_case(five2, "winograd", "workspace=1", 2);
    small_case(five2, "winograd", NULL, 3);
    small_case(five, "winograd", "workspace=1", 2);
    small_case(five, "winograd", NULL, 3);
    small_case(wide5, "winograd", "workspace=1", 2);
    small_case(over5, "winograd", "workspace=1", 2);
    small_case(over5, "winograd", NULL, 2);
    small_case(tall, "winograd", NULL, 2);
    small_case(tall7, "winograd", NULL, 2);
    for (int a = 0; a < 2; a++) {
        small_case(narrow, ALGOS[a], "workspace=1", 2);
        small_case(narrow, ALGOS[a], NULL, 2);
        small_case(big, ALGOS[a], "workspace=1", 2);
        small_case(one, ALGOS[a], "workspace=1", 1);
        small_case(big, ALGOS[a], NULL, 2);
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
 * threads, whose sums differ between 1 and 2 threads (measured here). The
 * 3-thread run passes no saved memory, so Winograd's backward transforms
 * the input again rather than reading the V its forward kept: the same bits
 * either way. */
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
        C->no_saved = t == 2; /* 3 threads: backward transforms the input again (the same bits) */
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
    spec first = {3, 23, 19, 4, 11, 11, 4, 2, 5, 1};  /* im2col groups, smallc, phases */
    spec five2 = {64, 4, 40, 64, 5, 5, 1, 2, 3, 1};   /* F(2,5) pipelined, row segments */
    spec five = {24, 32, 31, 40, 5, 5, 1, 2, 3, 1};   /* F(3,5), pipelined */
    spec wide5 = {48, 15, 15, 96, 5, 5, 1, 2, 3, 1};  /* F(3,5), gathered */
    spec over5 = {96, 11, 13, 176, 5, 5, 1, 2, 3, 1}; /* not pipelined */
    spec phases = {3, 91, 87, 24, 11, 11, 4, 2, 3, 1}; /* 48 phase planes, 21x20: F(5,3) rows */
    spec phases_kept = {3, 40, 45, 96, 11, 11, 4, 2, 3, 1}; /* not pipelined: V kept */
    const char *ws[] = {NULL, "workspace=1"};
    for (int w = 0; w < 2; w++) {
        same_bits(phases, "winograd", ws[w]);
        same_bits(phases_kept, "winograd", ws[w]);
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
    same_bits(first, "winograd", NULL);
}
END_TEST

/* out[0..3] = D's forward, din, dweight, dbias on x, dy, in double. */
static void direct_outputs(conv *D, const float *x, const float *dy, double *out[4])
{
    float *y = fvec(D->nout), *dx = fvec(D->nin);
    run_forward(D, 2, x, y);
    run_backward(D, 2, x, y, dy, dx);
    const float *got[4] = {y, dx, D->dparams[0], D->dparams[1]};
    size_t n[4] = {D->nout, D->nin, D->nw, (size_t)D->out.c};
    for (int i = 0; i < 4; i++) {
        out[i] = malloc(n[i] * sizeof(double));
        for (size_t j = 0; j < n[i]; j++)
            out[i][j] = got[i][j];
    }
    free(y), free(dx);
}

static float *abs_of(const float *x, size_t n)
{
    float *a = fvec(n);
    for (size_t i = 0; i < n; i++)
        a[i] = fabsf(x[i]);
    return a;
}

/* Full-sized layers (VGG-16's, AlexNet's), batch n: the fast paths against
 * algo=direct in float (a double reference is too slow at these sizes);
 * kernel r x r, padding p, stride 1. Both lie within their bounds of the
 * exact result, so they differ by at most the sum of the bounds: the fast
 * path's factor + 1 (direct's). The sums of |terms| are direct's outputs
 * on |x|, |w|, |dy| (float sums of non-negative terms: their own rounding,
 * under len x eps relative, is far inside the factors' margins). */
static void sized_case(int c, int hw, int k, int r, int p, int n)
{
    spec sp = {c, hw, hw, k, r, r, 1, p, n, 1};
    conv *D = make(sp, "direct", NULL);
    fill(D->params[0], D->nw);
    fill(D->params[1], k);
    float *x = fvec(D->nin), *dy = fvec(D->nout);
    fill(x, D->nin);
    fill(dy, D->nout);
    float *w = abs_of(D->params[0], D->nw), *b = abs_of(D->params[1], k);
    memcpy(w, D->params[0], D->nw * sizeof(float)); /* w, b: the signed parameters */
    memcpy(b, D->params[1], k * sizeof(float));
    double *ref[4], *abs[4];
    direct_outputs(D, x, dy, ref);
    float *ax = abs_of(x, D->nin), *ady = abs_of(dy, D->nout);
    for (size_t i = 0; i < D->nw; i++)
        D->params[0][i] = fabsf(w[i]);
    for (int o = 0; o < k; o++)
        D->params[1][o] = fabsf(b[o]);
    direct_outputs(D, ax, ady, abs);
    size_t n4[4] = {D->nout, D->nin, D->nw, (size_t)k};
    double len[4] = {c * r * r + 1, k * r * r, (double)n * D->out.h * D->out.w,
                     (double)n * D->out.h * D->out.w};
    size_t plane[4] = {(size_t)D->out.h * D->out.w, (size_t)hw * hw, (size_t)r * r, 1};
    const char *what[] = {"forward", "din", "dweight", "dbias"};
    for (int a = 1; a >= 0; a--) { /* im2col, then winograd (plane_max changes abs) */
        conv *F = make(sp, ALGOS[a], NULL);
        memcpy(F->params[0], w, D->nw * sizeof(float));
        memcpy(F->params[1], b, k * sizeof(float));
        float *y = fvec(D->nout), *dx = fvec(D->nin);
        run_forward(F, 2, x, y);
        run_backward(F, 2, x, y, dy, dx);
        const float *got[4] = {y, dx, F->dparams[0], F->dparams[1]};
        for (int i = 0; i < 4; i++) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s %s %d->%d %dx%d at %dx%d vs direct", ALGOS[a], what[i],
                     c, k, r, r, hw, hw);
            if (a == 0 && i < 3)
                plane_max(abs[i], n4[i], plane[i]);
            if (getenv("CK_VERBOSE"))
                printf("%s: %.3f of the bound at factor 1\n", msg,
                       fp_bound_ratio(got[i], ref[i], abs[i], n4[i], len[i], 1.0, NULL));
            assert_fp_bound(msg, got[i], ref[i], abs[i], n4[i], bound_len(ALGOS[a], len[i]),
                            bound_factor(ALGOS[a]) + 1.0);
        }
        free(y), free(dx);
        free_conv(F);
    }
    for (int i = 0; i < 4; i++)
        free(ref[i]), free(abs[i]);
    free(x), free(dy), free(w), free(b), free(ax), free(ady);
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
    const strata_layer_ops *ops = fake_layer_ops("conv2d");
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
    expect_error(KV("out_channels=4", "kernel=7", "stride=2", "algo=winograd"), in, "stride 2x2");
    expect_error(KV("out_channels=4", "kernel=[11, 9]", "stride=4", "algo=winograd"), in,
                 "kernel 11x9");
    expect_error(KV("out_channels=4", "kernel=3", "padding=3", "algo=winograd"), in, "padding 3x3");
    expect_error(KV("out_channels=4", "kernel=5", "padding=5", "algo=winograd"), in, "padding 5x5");
    expect_error(KV("out_channels=4", "kernel=3", "algo=fast"), in, "algo");
    expect_error(KV("out_channels=4", "kernel=3", "algo=smallc"), (strata_shape){5, 16, 16},
                 "at most 4 input channels, got 5");
    expect_error(KV("out_channels=4", "kernel=3", "workspace=0"), in, "workspace");
}
END_TEST

/* auto picks Winograd for VGG's 3x3 layers (scratch as Winograd's), smallc
 * for the 3-channel first layers VGG's 3x3 and AlexNet's 11x11 at 64 px
 * (15x15 outputs), Winograd on the phase planes for AlexNet's 11x11 at 224
 * px (55x55) and 112 px (27x27) and for 5x5 stride 2 with 3 channels
 * (48 -> 24x24: 12 planes, so not at 3 -> 64 on 48 px; 4 channels, 16
 * planes, yes), Winograd
 * on 5x5 for AlexNet's conv2 (48 -> 128), 24 -> 64 and 16 -> 64, im2col
 * for 5x5 layers with fewer input channels (8 -> 128) or stride 2 and 3x3
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
    spec alex1_112 = {3, 112, 112, 48, 11, 11, 4, 2, 32, 1};
    spec alex1_64 = {3, 64, 64, 48, 11, 11, 4, 2, 32, 1};
    spec rgb5s2 = {3, 48, 48, 64, 5, 5, 2, 2, 32, 1};
    spec four5s2 = {4, 48, 48, 64, 5, 5, 2, 2, 32, 1};
    spec pairs[][1] = {{vgg12},  {vgg11},     {vgg51},    {alex1},  {alex2},   {few5},   {c16k64},
                       {c24k64}, {five2},     {three2},   {alex1_112}, {alex1_64}, {rgb5s2}, {four5s2}};
    const char *want[] = {"winograd", "smallc",   "winograd", "winograd", "winograd",
                          "im2col",   "winograd", "winograd", "im2col",   "im2col",
                          "winograd", "smallc",   "smallc",   "winograd"};
    for (int i = 0; i < 14; i++) {
        conv *A = make(pairs[i][0], "auto", NULL), *W = make(pairs[i][0], want[i], NULL);
        ck_assert_msg(A->scratch_bytes == W->scratch_bytes, "case %d: auto is not %s", i, want[i]);
        ck_assert_msg(A->scratch_bytes <= (size_t)256 << 20, "case %d: scratch %zu MiB", i,
                      A->scratch_bytes >> 20);
        free_conv(A), free_conv(W);
    }
    /* Winograd keeps V for backward (saved memory) in layers that are not
     * pipelined and whose batch-32 V fits the workspace: AlexNet's conv3
     * (128 -> 192, 13x13: 49 * 128 * 9 floats an image), VGG-16's conv5_1;
     * not AlexNet's pipelined conv1 and conv2, nor VGG-16's conv1_2 (V of
     * 32 images far above 64 MiB). */
    spec alex3 = {128, 13, 13, 192, 3, 3, 1, 1, 32, 1};
    spec keeps[] = {alex3, vgg51, alex1, alex2, vgg12};
    size_t want_saved[] = {sizeof(float) * 49 * 128 * 9 * 32, sizeof(float) * 49 * 512 * 9 * 32, 0, 0, 0};
    for (int i = 0; i < 5; i++) {
        conv *A = make(keeps[i], "auto", NULL);
        ck_assert_msg(A->saved_bytes == want_saved[i], "keep case %d: saved %zu bytes, want %zu", i,
                      A->saved_bytes, want_saved[i]);
        free_conv(A);
    }
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("conv_fast",
        {.name = "conv2d", .timeout = 120,
         .tests = TESTS(test_small_odd_shapes, test_winograd_5x5_shapes, test_small_other_kernels,
                        test_winograd_strided, test_chunks_and_threads, test_smallc, test_thread_count_invariance, test_vgg_sized,
                        test_alexnet_sized, test_winograd_finite_differences, test_option_errors,
                        test_auto_and_scratch)});
}
