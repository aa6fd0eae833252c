/* test_linear_fast.c — the linear layer's two paths against a double
 * precision reference written here: algo=kernel (plugins/layers/
 * linear_kernel.c, AVX-512 or AVX2 tiles by strata_isa()) and algo=blas
 * (sgemm). Compiled twice (t/linear.mk):
 *
 *   t/test_linear_fast    every ISA level: sgemm on odd sizes, auto on an
 *                         AlexNet-fc6-sized layer (4608 -> 2048, batch 32),
 *                         which path auto takes at this level, and the algo
 *                         option's errors (kernel refused at the base level).
 *   t/test_linear_kernel  (-DKERNEL_SUITE) the kernel: odd sizes, every block
 *                         edge, bit-exact against a scalar fmaf chain in the
 *                         documented order (so the AVX-512 and AVX2 kernels
 *                         agree bit for bit), bit-identical for 1, 2, 3, 7
 *                         threads, accumulation into dweight and dbias,
 *                         kernel vs sgemm. Needs the AVX2 level: SKIP (77)
 *                         under STRATA_ISA=base or on a CPU without AVX2.
 *
 * Bounds (assert_fp_bound, t/testlib.h): each output is a sum of len terms
 * (forward: bias + nin products; din: nout; dweight: d0 + n products;
 * dbias: d0 + n) computed in float with one rounding per step, in some
 * order; the classic bound for recursive summation is
 * |got - exact| <= len * u * sum |terms| (u = FLT_EPSILON / 2, to first
 * order), whatever the order, so factor 1 (the bound with FLT_EPSILON)
 * leaves 2x for the higher-order terms and sgemm's blocked orders. The
 * reference is the sum in double with its sum of |terms|.
 * Inputs, weights and dout are U(-1, 1).
 */
#define _GNU_SOURCE
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_host.h"
#include "testlib.h"

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define FACTOR 1.0 /* see the bounds above */

static uint64_t rng_state = 4321;
static float *frand(size_t n) { return frand_from(n, &rng_state); }

/* One linear layer with its parameters and its own scratch (+ canary). */
typedef struct lin {
    const strata_layer_ops *ops;
    void *layer;
    int n, in, out, bias;
    float *w, *b, *dw, *db;
    size_t scratch_bytes;
    unsigned char *scratch;
} lin;

static lin *make(int n, int in, int out, int bias, const char *algo)
{
    char o[48], b[32], a[32];
    snprintf(o, sizeof o, "out_features=%d", out);
    snprintf(b, sizeof b, "bias=%s", bias ? "true" : "false");
    snprintf(a, sizeof a, "algo=%s", algo);
    lin *L = calloc(1, sizeof *L);
    L->ops = fake_layer_ops("linear");
    strata_shape sout;
    L->layer = fake_create_layer("linear", L->ops, KV(o, b, a), (strata_shape){in, 1, 1}, &sout);
    ck_assert_int_eq(sout.c, out);
    ck_assert_int_eq(L->ops->num_params(L->layer), bias ? 2 : 1);
    L->n = n, L->in = in, L->out = out, L->bias = bias;
    L->w = frand((size_t)out * in), L->b = frand(out);
    L->dw = fvec((size_t)out * in), L->db = fvec(out);
    L->scratch_bytes = L->ops->scratch_bytes(L->layer, n);
    L->scratch = canary_alloc(L->scratch_bytes);
    return L;
}

static void check_canary(const lin *L)
{
    assert_canary(L->scratch, L->scratch_bytes, "scratch_bytes");
}

static void free_lin(lin *L)
{
    free(L->w), free(L->b), free(L->dw), free(L->db), free(L->scratch);
    L->ops->destroy(L->layer);
    free(L);
}

static void run_forward(lin *L, int threads, const float *x, float *y)
{
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    float *params[2] = {L->w, L->bias ? L->b : NULL};
    L->ops->forward(L->layer, &ctx, L->n, x, y, params, NULL, L->scratch);
    check_canary(L);
}

/* accumulates into L->dw, L->db (not zeroed here) */
static void run_backward(lin *L, int threads, const float *x, const float *y, const float *dy,
                         float *dx)
{
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    float *params[2] = {L->w, L->bias ? L->b : NULL};
    float *dparams[2] = {L->dw, L->bias ? L->db : NULL};
    L->ops->backward(L->layer, &ctx, L->n, x, y, dy, dx, params, dparams, NULL, L->scratch);
    check_canary(L);
}

/* ---- double-precision reference (the textbook loops) --------------------- */

/* Each quantity in double with the sum of |terms| of its float sum. */
typedef struct ref_out {
    double *y, *dx, *dw, *db;     /* value */
    double *ay, *adx, *adw, *adb; /* sum of |terms| */
} ref_out;

static double *dvec(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    ck_assert(p != NULL);
    return p;
}

/* y = x w^T + b, dx = dy w, dw = dw0 + dy^T x, db = db0 + sum_b dy
 * (dw0, db0: what dweight, dbias hold before backward; NULL for 0) */
static ref_out reference(const lin *L, const float *x, const float *dy, const float *dw0,
                         const float *db0)
{
    int n = L->n, in = L->in, out = L->out;
    size_t ny = (size_t)n * out, nx = (size_t)n * in, nw = (size_t)out * in;
    ref_out r = {dvec(ny), dvec(nx), dvec(nw), dvec(out), dvec(ny), dvec(nx), dvec(nw), dvec(out)};
    for (size_t i = 0; i < nw; i++)
        r.dw[i] = dw0 ? dw0[i] : 0.0, r.adw[i] = fabs(r.dw[i]);
    for (int o = 0; o < out; o++)
        r.db[o] = db0 ? db0[o] : 0.0, r.adb[o] = fabs(r.db[o]);
    for (int b = 0; b < n; b++)
        for (int o = 0; o < out; o++) {
            const float *xr = x + (size_t)b * in, *wr = L->w + (size_t)o * in;
            double s = L->bias ? L->b[o] : 0.0, as = fabs(s), d = dy[(size_t)b * out + o];
            double *dxr = r.dx + (size_t)b * in, *adxr = r.adx + (size_t)b * in;
            double *dwr = r.dw + (size_t)o * in, *adwr = r.adw + (size_t)o * in;
            for (int i = 0; i < in; i++) {
                s += (double)xr[i] * wr[i], as += fabs((double)xr[i] * wr[i]);
                dxr[i] += d * wr[i], adxr[i] += fabs(d * wr[i]);
                dwr[i] += d * xr[i], adwr[i] += fabs(d * xr[i]);
            }
            r.y[(size_t)b * out + o] = s, r.ay[(size_t)b * out + o] = as;
            r.db[o] += d, r.adb[o] += fabs(d);
        }
    return r;
}

static void free_ref(ref_out r)
{
    free(r.y), free(r.dx), free(r.dw), free(r.db);
    free(r.ay), free(r.adx), free(r.adw), free(r.adb);
}

/* forward and backward of one layer against the reference; dweight and
 * dbias start from random values d0 and must end at d0 + the gradient. */
static void check_case(int n, int in, int out, int bias, const char *algo, int threads)
{
    lin *L = make(n, in, out, bias, algo);
    float *x = frand((size_t)n * in), *dy = frand((size_t)n * out);
    float *y = frand((size_t)n * out), *dx = frand((size_t)n * in);
    float *dw0 = frand((size_t)out * in), *db0 = frand(out);
    memcpy(L->dw, dw0, sizeof(float) * out * in);
    memcpy(L->db, db0, sizeof(float) * out);
    ref_out r = reference(L, x, dy, dw0, db0);
    run_forward(L, threads, x, y);
    run_backward(L, threads, x, y, dy, dx);
    char what[160];
    snprintf(what, sizeof what, "%s n=%d %d->%d bias=%d threads=%d", algo, n, in, out, bias, threads);
    char w[200];
    snprintf(w, sizeof w, "%s forward", what);
    assert_fp_bound(w, y, r.y, r.ay, (size_t)n * out, in + 1, FACTOR);
    snprintf(w, sizeof w, "%s din", what);
    assert_fp_bound(w, dx, r.dx, r.adx, (size_t)n * in, out, FACTOR);
    snprintf(w, sizeof w, "%s dweight", what);
    assert_fp_bound(w, L->dw, r.dw, r.adw, (size_t)out * in, n + 1, FACTOR);
    if (bias) {
        snprintf(w, sizeof w, "%s dbias", what);
        assert_fp_bound(w, L->db, r.db, r.adb, out, n + 1, FACTOR);
    } else {
        ck_assert_msg(memcmp(L->db, db0, sizeof(float) * out) == 0, "dbias written with bias off");
    }
    free_ref(r);
    free(x), free(dy), free(y), free(dx), free(dw0), free(db0);
    free_lin(L);
}

#ifdef KERNEL_SUITE
/* ---- the kernel (AVX2 level or above) ------------------------------------ */

/* batch 1, 3, 17, 32, 64; features not multiples of 8 or 16 (and 1) */
START_TEST(test_kernel_odd_sizes)
{
    static const int batches[] = {1, 3, 17, 32, 64};
    for (int k = 0; k < 5; k++) {
        check_case(batches[k], 37, 29, 1, "kernel", 2);
        check_case(batches[k], 203, 61, 0, "kernel", 2);
    }
    check_case(5, 1, 1, 1, "kernel", 1);
    check_case(2, 16, 48, 1, "kernel", 3);
    check_case(9, 500, 1, 1, "kernel", 2);
    check_case(70, 131, 27, 1, "kernel", 2); /* more than 64 in the batch */
}
END_TEST

/* rows of W beyond every block size of both ISAs (forward: 8/12/8/6 rows
 * for 1-4 vectors of 16, 12/6/4/3 for 1-4 vectors of 8, units of 24 and
 * 12 rows; backward-data: 128- and 256-row panels, 64- and 24-column
 * panels; backward-weights: 8- and 4-row tiles, 48- and 24-column panels,
 * passes of 65536 / (48 n) panels) with remainders */
START_TEST(test_kernel_block_edges)
{
    check_case(16, 130, 25 + 24 * 3, 1, "kernel", 2); /* 1-2 vectors */
    check_case(32, 70, 12 * 5 + 7, 1, "kernel", 2);  /* 2-4 vectors */
    check_case(33, 65, 8 * 7 + 5, 0, "kernel", 3);   /* 3-5 vectors */
    check_case(64, 97, 6 * 9 + 5, 1, "kernel", 2);   /* 4-8 vectors */
    check_case(6, 257, 256 * 2 + 3, 1, "kernel", 2); /* din: 3 to 5 panels of rows */
    check_case(40, 48 * 40 + 29, 9, 1, "kernel", 2); /* dweight: 2 passes over the panels */
}
END_TEST

/* The documented chains (linear_kernel.h), in scalar fmaf: the kernel must
 * equal them bit for bit, so every ISA level's kernel gives the same bits. */
static void chain_reference(const lin *L, const float *x, const float *dy, float *y, float *dx,
                            float *dw, float *db)
{
    int n = L->n, in = L->in, out = L->out;
    for (int b = 0; b < n; b++)
        for (int o = 0; o < out; o++) {
            float acc = L->bias ? L->b[o] : 0.0f;
            for (int i = 0; i < in; i++)
                acc = fmaf(L->w[(size_t)o * in + i], x[(size_t)b * in + i], acc);
            y[(size_t)b * out + o] = acc;
        }
    for (int b = 0; b < n; b++)
        for (int i = 0; i < in; i++) {
            float acc = 0.0f;
            for (int o = 0; o < out; o++)
                acc = fmaf(dy[(size_t)b * out + o], L->w[(size_t)o * in + i], acc);
            dx[(size_t)b * in + i] = acc;
        }
    for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
            float acc = 0.0f;
            for (int b = 0; b < n; b++)
                acc = fmaf(dy[(size_t)b * out + o], x[(size_t)b * in + i], acc);
            dw[(size_t)o * in + i] += acc;
        }
        float acc = 0.0f;
        for (int b = 0; b < n; b++)
            acc += dy[(size_t)b * out + o];
        db[o] += acc;
    }
}

START_TEST(test_kernel_fma_chain)
{
    static const int shapes[][3] = {{32, 300, 70}, {16, 129, 33}, {7, 77, 300}, {45, 50, 13}};
    for (int k = 0; k < 4; k++) {
        int n = shapes[k][0], in = shapes[k][1], out = shapes[k][2];
        lin *L = make(n, in, out, 1, "kernel");
        float *x = frand((size_t)n * in), *dy = frand((size_t)n * out);
        float *y = fvec((size_t)n * out), *dx = fvec((size_t)n * in);
        float *cy = fvec((size_t)n * out), *cdx = fvec((size_t)n * in);
        float *cdw = frand((size_t)out * in), *cdb = frand(out);
        memcpy(L->dw, cdw, sizeof(float) * out * in);
        memcpy(L->db, cdb, sizeof(float) * out);
        run_forward(L, 2, x, y);
        run_backward(L, 2, x, y, dy, dx);
        chain_reference(L, x, dy, cy, cdx, cdw, cdb);
        ck_assert_msg(memcmp(y, cy, sizeof(float) * n * out) == 0, "[%s] forward is not the fmaf chain", test_isa_name());
        ck_assert_msg(memcmp(dx, cdx, sizeof(float) * n * in) == 0, "[%s] din is not the fmaf chain", test_isa_name());
        ck_assert_msg(memcmp(L->dw, cdw, sizeof(float) * out * in) == 0, "[%s] dweight is not the fmaf chain", test_isa_name());
        ck_assert_msg(memcmp(L->db, cdb, sizeof(float) * out) == 0, "[%s] dbias is not the chain", test_isa_name());
        free(x), free(dy), free(y), free(dx), free(cy), free(cdx), free(cdw), free(cdb);
        free_lin(L);
    }
}
END_TEST

/* The same outputs and gradients, bit for bit, whatever the thread count. */
START_TEST(test_kernel_threads_identical)
{
    int n = 17, in = 1001, out = 303;
    lin *L = make(n, in, out, 1, "kernel");
    float *x = frand((size_t)n * in), *dy = frand((size_t)n * out);
    float *y[4], *dx[4], *dw[4], *db[4];
    static const int threads[4] = {1, 2, 3, 7};
    for (int t = 0; t < 4; t++) {
        y[t] = fvec((size_t)n * out), dx[t] = fvec((size_t)n * in);
        memset(L->dw, 0, sizeof(float) * out * in);
        memset(L->db, 0, sizeof(float) * out);
        run_forward(L, threads[t], x, y[t]);
        run_backward(L, threads[t], x, y[t], dy, dx[t]);
        dw[t] = fvec((size_t)out * in), db[t] = fvec(out);
        memcpy(dw[t], L->dw, sizeof(float) * out * in);
        memcpy(db[t], L->db, sizeof(float) * out);
    }
    for (int t = 1; t < 4; t++) {
        ck_assert_msg(memcmp(y[t], y[0], sizeof(float) * n * out) == 0,
                      "forward differs between 1 and %d threads", threads[t]);
        ck_assert_msg(memcmp(dx[t], dx[0], sizeof(float) * n * in) == 0,
                      "din differs between 1 and %d threads", threads[t]);
        ck_assert_msg(memcmp(dw[t], dw[0], sizeof(float) * out * in) == 0,
                      "dweight differs between 1 and %d threads", threads[t]);
        ck_assert_msg(memcmp(db[t], db[0], sizeof(float) * out) == 0,
                      "dbias differs between 1 and %d threads", threads[t]);
    }
    for (int t = 0; t < 4; t++)
        free(y[t]), free(dx[t]), free(dw[t]), free(db[t]);
    free(x), free(dy);
    free_lin(L);
}
END_TEST

/* Two backward calls add twice the gradient; din is overwritten (=), and
 * NULL din (a first layer) still gives the parameter gradients. */
START_TEST(test_kernel_accumulates)
{
    int n = 5, in = 40, out = 19;
    lin *L = make(n, in, out, 1, "kernel");
    float *x = frand((size_t)n * in), *dy = frand((size_t)n * out), *y = fvec((size_t)n * out);
    float *dx = frand((size_t)n * in);
    ref_out r = reference(L, x, dy, NULL, NULL);
    run_backward(L, 2, x, y, dy, dx);
    assert_fp_bound("din", dx, r.dx, r.adx, (size_t)n * in, out, FACTOR);
    run_backward(L, 2, x, y, dy, NULL);
    for (size_t i = 0; i < (size_t)out * in; i++)
        r.dw[i] *= 2, r.adw[i] *= 2;
    for (int o = 0; o < out; o++)
        r.db[o] *= 2, r.adb[o] *= 2;
    /* two sums of n terms, then their sum: 2 n + 1 terms at most */
    assert_fp_bound("dweight after 2 calls", L->dw, r.dw, r.adw, (size_t)out * in, 2 * n + 1, FACTOR);
    assert_fp_bound("dbias after 2 calls", L->db, r.db, r.adb, out, 2 * n + 1, FACTOR);
    free_ref(r);
    free(x), free(dy), free(y), free(dx);
    free_lin(L);
}
END_TEST

/* kernel and sgemm: each within the bound of the reference, so within
 * twice the bound of each other */
START_TEST(test_kernel_vs_blas)
{
    int n = 32, in = 777, out = 130;
    lin *K = make(n, in, out, 1, "kernel"), *B = make(n, in, out, 1, "blas");
    memcpy(B->w, K->w, sizeof(float) * out * in);
    memcpy(B->b, K->b, sizeof(float) * out);
    float *x = frand((size_t)n * in), *yk = fvec((size_t)n * out), *yb = fvec((size_t)n * out);
    ref_out r = reference(K, x, yk, NULL, NULL); /* only y, ay are used */
    run_forward(K, 2, x, yk);
    run_forward(B, 2, x, yb);
    double *ybd = dvec((size_t)n * out);
    for (size_t i = 0; i < (size_t)n * out; i++)
        ybd[i] = yb[i];
    assert_fp_bound("kernel vs blas forward", yk, ybd, r.ay, (size_t)n * out, in + 1, 2 * FACTOR);
    free_ref(r), free(ybd);
    free(x), free(yk), free(yb);
    free_lin(K), free_lin(B);
}
END_TEST

int main(void)
{
    skip_unless_isa(1); /* the kernel runs at the AVX2 level and above */
    return RUN_TEST_CASES("linear_kernel",
        {.name = "linear_kernel", .timeout = 120,
         .tests = TESTS(test_kernel_odd_sizes, test_kernel_block_edges, test_kernel_fma_chain,
                        test_kernel_threads_identical, test_kernel_accumulates, test_kernel_vs_blas)});
}

#else
/* ---- every level: sgemm, auto, options ----------------------------------- */

static void expect_error(const char *const *kv, strata_shape in, const char *needle)
{
    strata_opts *o = fake_opts(kv);
    strata_shape out;
    void *layer = fake_layer_ops("linear")->create(&fake_host, o, in, &out);
    ck_assert_msg(layer == NULL, "expected an error containing \"%s\"", needle);
    const char *m = fake_opts_error(o);
    ck_assert_msg(m != NULL, "no error message");
    assert_has(m, needle);
    ck_assert_msg(strchr(m, '\n') == NULL, "message is not one line: %s", m);
    fake_opts_free(o);
}

START_TEST(test_blas_odd_sizes)
{
    static const int batches[] = {1, 3, 17, 32, 64};
    for (int k = 0; k < 5; k++) {
        check_case(batches[k], 37, 29, 1, "blas", 2);
        check_case(batches[k], 203, 61, 0, "blas", 1);
    }
}
END_TEST

/* AlexNet's fc6 at batch 32, by whichever path auto takes at this level */
START_TEST(test_auto_alexnet_fc6)
{
    check_case(32, 4608, 2048, 1, "auto", 2);
}
END_TEST

/* auto: the kernel at the AVX2 and AVX-512 levels (scratch > 0), except
 * a handful of outputs at AVX-512, and sgemm (no scratch) at the base level */
START_TEST(test_auto_choice)
{
    lin *L = make(3, 20, 17, 1, "auto");
    if (test_isa() >= 1)
        ck_assert_msg(L->scratch_bytes > 0, "[%s] auto did not take the kernel", test_isa_name());
    else
        ck_assert_msg(L->scratch_bytes == 0, "[base] auto did not take sgemm");
    free_lin(L);
    L = make(32, 2048, 5, 1, "auto");
    if (test_isa() == 1)
        ck_assert_msg(L->scratch_bytes > 0, "[avx2] auto did not take the kernel for 5 outputs");
    else
        ck_assert_msg(L->scratch_bytes == 0, "[%s] auto did not take sgemm for 5 outputs", test_isa_name());
    free_lin(L);
}
END_TEST

START_TEST(test_algo_errors)
{
    strata_shape in = {10, 1, 1};
    expect_error(KV("out_features=4", "algo=fast"), in, "algo");
    expect_error(KV("out_features=4", "algo=fast"), in, "fast");
    expect_error(KV("out_features=4", "algo=3"), in, "algo");
    const char *const *kernel = KV("out_features=4", "algo=kernel");
    if (test_isa() == 0) { /* base: refused, saying why */
        expect_error(kernel, in, "AVX2");
        expect_error(kernel, in, "base");
    } else {
        strata_opts *o = fake_opts(kernel);
        strata_shape out;
        void *layer = fake_layer_ops("linear")->create(&fake_host, o, in, &out);
        ck_assert_msg(layer != NULL, "[%s] algo=kernel refused: %s", test_isa_name(), fake_opts_error(o));
        fake_layer_ops("linear")->destroy(layer);
        fake_opts_free(o);
    }
    /* auto resolves to something that works at every level */
    strata_opts *o = fake_opts(KV("out_features=4", "algo=auto"));
    strata_shape out;
    void *layer = fake_layer_ops("linear")->create(&fake_host, o, in, &out);
    ck_assert_msg(layer != NULL, "algo=auto refused: %s", fake_opts_error(o));
    fake_layer_ops("linear")->destroy(layer);
    fake_opts_free(o);
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("linear_fast",
        {.name = "linear_fast", .timeout = 120,
         .tests = TESTS(test_blas_odd_sizes, test_auto_alexnet_fc6, test_auto_choice, test_algo_errors)});
}
#endif
