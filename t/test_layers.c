/* test_layers.c — the layer plugins (plugins/layers/NAME.so) and the loss.
 *
 * Every layer is loaded with fake_load_builtin and exercised through its ops
 * table only, as the host would: finite-difference gradient checks of the
 * input and parameter gradients, forward values against direct reference
 * implementations written here, output shapes / MACs / parameter
 * descriptions for known cases, and option errors.
 */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_host.h"
#include "train/loss.h"
#include "testlib.h"

/* ---- helpers: random numbers, a layer instance with its memory ---------- */

static uint64_t rng_state = 42;
static float urand(float lo, float hi) { return lo + (hi - lo) * strata_rng_uniform(&rng_state); }

static void fill(float *x, size_t n, float lo, float hi) { fill_uniform(x, n, lo, hi, &rng_state); }

#define MAXP 8

typedef struct inst {
    const strata_layer_ops *ops;
    void *layer;
    strata_shape in, out;
    int n, np;
    size_t nin, nout; /* floats in a batch of inputs / outputs */
    strata_param_desc desc[MAXP];
    size_t psize[MAXP];
    float *params[MAXP], *dparams[MAXP];
    size_t saved_bytes, scratch_bytes;
    unsigned char *saved, *scratch;
} inst;


static size_t shape_size(strata_shape s) { return (size_t)s.c * s.h * s.w; }

/* Create layer `name` with options kv over a batch of n images of shape in;
 * parameters are random, buffers sensible (running_var > 0, counts 0). */
static inst *make(const char *name, const char *const *kv, strata_shape in, int n)
{
    inst *I = calloc(1, sizeof *I);
    I->ops = fake_layer_ops(name);
    I->layer = fake_create_layer(name, I->ops, kv, in, &I->out);
    I->in = in;
    I->n = n;
    I->nin = shape_size(in) * n;
    I->nout = shape_size(I->out) * n;
    I->np = I->ops->num_params(I->layer);
    ck_assert_int_le(I->np, MAXP);
    for (int i = 0; i < I->np; i++) {
        strata_param_desc *d = &I->desc[i];
        I->ops->param_desc(I->layer, i, d);
        I->psize[i] = 1;
        for (int k = 0; k < d->ndim; k++)
            I->psize[i] *= (size_t)d->dims[k];
        I->params[i] = fvec(I->psize[i]);
        I->dparams[i] = fvec(I->psize[i]);
        if (d->flags & STRATA_PARAM_COUNT)
            continue;
        if (strcmp(d->name, "running_var") == 0)
            fill(I->params[i], I->psize[i], 0.5f, 1.5f);
        else
            fill(I->params[i], I->psize[i], -1.0f, 1.0f);
    }
    I->saved_bytes = I->ops->saved_bytes(I->layer, n);
    I->scratch_bytes = I->ops->scratch_bytes(I->layer, n);
    I->saved = canary_alloc(I->saved_bytes);
    I->scratch = canary_alloc(I->scratch_bytes);
    return I;
}

static void check_canaries(const inst *I)
{
    assert_canary(I->saved, I->saved_bytes, "saved_bytes");
    assert_canary(I->scratch, I->scratch_bytes, "scratch_bytes");
}

static void free_inst(inst *I)
{
    for (int i = 0; i < I->np; i++)
        free(I->params[i]), free(I->dparams[i]);
    free(I->saved);
    free(I->scratch);
    I->ops->destroy(I->layer);
    free(I);
}

static void forward(inst *I, const strata_ctx *ctx, const float *x, float *y)
{
    I->ops->forward(I->layer, ctx, I->n, x, y, I->params, I->saved, I->scratch);
    check_canaries(I);
}

static void backward(inst *I, const strata_ctx *ctx, const float *x, const float *y,
                     const float *dy, float *dx)
{
    I->ops->backward(I->layer, ctx, I->n, x, y, dy, dx, I->params, I->dparams,
                     I->saved, I->scratch);
    check_canaries(I);
}

/* L = sum_i out_i * R_i, in double, after a forward on x. */
static double objective(inst *I, const strata_ctx *ctx, const float *x, float *y,
                        const float *R)
{
    forward(I, ctx, x, y);
    double L = 0;
    for (size_t i = 0; i < I->nout; i++)
        L += (double)y[i] * R[i];
    return L;
}

/*
 * Gradient check. Central differences dL/dv ~ (L(v+h) - L(v-h)) / 2h with
 * h = 1e-2 on O(1) values, forward in float32:
 *  - truncation error is h^2/6 * L''' ~ 2e-5 for the smooth layers here;
 *  - rounding: each output carries a relative error ~1e-7 (times the
 *    accumulation length), L sums a few hundred of them, so L is off by
 *    ~1e-5 and the quotient by ~1e-5 / 2h = 5e-4.
 * Hence |num - ana| <= ATOL + RTOL * max(|num|, |ana|) with ATOL = 3e-3 and
 * RTOL = 2e-2: an order above the noise, yet far below the size of any real
 * mistake (a wrong index or a missing term changes gradients by O(0.1..1)).
 * At most MAXCHECK elements of each tensor are checked (spread at random).
 * dparams start at 0.25 and din at NaN: backward must write din (=) and
 * accumulate (+=) into dparams.
 */
#define GC_H 1e-2f
#define GC_ATOL 3e-3
#define GC_RTOL 2e-2
#define MAXCHECK 60

static void close_enough(double num, double ana, const char *what, size_t i)
{
    double tol = GC_ATOL + GC_RTOL * fmax(fabs(num), fabs(ana));
    ck_assert_msg(fabs(num - ana) <= tol, "%s[%zu]: numeric %.6g vs analytic %.6g",
                  what, i, num, ana);
}

/* Check d/dv of L for up to MAXCHECK elements of v (n floats). */
static void check_tensor(inst *I, const strata_ctx *ctx, float *x, float *y,
                         const float *R, float *v, size_t n, const float *ana,
                         double ana_offset, const char *what)
{
    size_t step = n <= MAXCHECK ? 1 : n / MAXCHECK;
    size_t start = n <= MAXCHECK ? 0 : strata_rng_next(&rng_state) % step;
    for (size_t i = start; i < n; i += step) {
        float keep = v[i];
        v[i] = keep + GC_H;
        double lp = objective(I, ctx, x, y, R);
        v[i] = keep - GC_H;
        double lm = objective(I, ctx, x, y, R);
        v[i] = keep;
        double num = (lp - lm) / (2.0 * ((double)(keep + GC_H) - (double)keep));
        close_enough(num, (double)ana[i] - ana_offset, what, i);
    }
}

/* Analytic gradients through backward(dout = R), then numeric ones for the
 * input x and every trainable parameter. */
static void gradcheck(inst *I, const strata_ctx *ctx, float *x)
{
    float *y = fvec(I->nout), *R = fvec(I->nout), *dx = fvec(I->nin);
    fill(R, I->nout, -1.0f, 1.0f);
    for (size_t i = 0; i < I->nin; i++)
        dx[i] = NAN;
    for (int p = 0; p < I->np; p++)
        for (size_t i = 0; i < I->psize[p]; i++)
            I->dparams[p][i] = 0.25f;
    forward(I, ctx, x, y);
    backward(I, ctx, x, y, R, dx);
    for (size_t i = 0; i < I->nin; i++)
        ck_assert_msg(isfinite(dx[i]), "din[%zu] not written", i);
    check_tensor(I, ctx, x, y, R, x, I->nin, dx, 0.0, "din");
    for (int p = 0; p < I->np; p++) {
        if (I->desc[p].flags & STRATA_PARAM_BUFFER)
            continue;
        check_tensor(I, ctx, x, y, R, I->params[p], I->psize[p], I->dparams[p], 0.25,
                     I->desc[p].name);
    }
    free(y), free(R), free(dx);
}

static const strata_ctx TRAIN = {.training = 1, .threads = 1, .seed = 7};
static const strata_ctx EVAL = {.training = 0, .threads = 1, .seed = 7};

/* Gradient-check layer `name` with options kv on a random input in [lo, hi]. */
static void gc_case(const char *name, const char *const *kv, strata_shape in, int n,
                    const strata_ctx *ctx)
{
    inst *I = make(name, kv, in, n);
    float *x = fvec(I->nin);
    fill(x, I->nin, -1.0f, 1.0f);
    gradcheck(I, ctx, x);
    free(x);
    free_inst(I);
}

/* Distinct values 0.1 apart in random order, so that a step of h = 0.01 never
 * changes which element of a window is the maximum (no kinks). */
static void fill_distinct(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 0.1f * (float)i - 0.05f * (float)n;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = strata_rng_next(&rng_state) % (i + 1);
        float t = x[i];
        x[i] = x[j], x[j] = t;
    }
}

#define S(c, h, w) ((strata_shape){(c), (h), (w)})
#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

/* ---- the plugin descriptors ---------------------------------------------- */

static const char *const LAYERS[] = {"conv2d", "linear", "relu", "maxpool", "avgpool",
                                     "adaptive_avgpool", "flatten", "dropout",
                                     "local_response_norm", "batchnorm2d", NULL};

START_TEST(test_descriptors)
{
    for (int i = 0; LAYERS[i]; i++) {
        const strata_plugin *p = fake_load_builtin("layers", LAYERS[i]);
        ck_assert_msg(p != NULL, "%s does not load", LAYERS[i]);
        ck_assert_int_eq(p->abi_version, STRATA_ABI_VERSION);
        ck_assert_int_eq(p->kind, STRATA_PLUGIN_LAYER);
        ck_assert_str_eq(p->name, LAYERS[i]);
        ck_assert_str_eq(p->version, "1.0");
        ck_assert(p->description && strlen(p->description) > 10);
        ck_assert(p->optimizer == NULL);
        const strata_layer_ops *o = p->layer;
        /* the host's copy: optional ops the module left out are defaulted */
        ck_assert(o && o->create && o->destroy && o->num_params && o->param_desc &&
                  o->geometry && o->macs && o->saved_bytes && o->scratch_bytes &&
                  o->forward && o->backward && o->blas_threads);

        /* the module's own descriptor, whatever version the host asks for
         * (the host compares abi_version and names both) */
        char path[4096];
        const char *b = getenv("STRATA_BUILDDIR");
        snprintf(path, sizeof path, "%s/plugins/layers/.libs/%s.so", b ? b : ".", LAYERS[i]);
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        ck_assert(h != NULL);
        strata_plugin_entry_fn entry = (strata_plugin_entry_fn)dlsym(h, STRATA_PLUGIN_ENTRY_NAME);
        ck_assert(entry != NULL);
        const strata_plugin *own = entry(STRATA_ABI_VERSION + 1);
        ck_assert(own != NULL && own == entry(0));
        ck_assert_int_eq(own->abi_version, STRATA_ABI_VERSION);
        ck_assert_uint_eq(own->layer->struct_size, sizeof(strata_layer_ops));
        dlclose(h);
    }
}
END_TEST

/* ---- option and shape errors --------------------------------------------- */

/* create must fail, with a message that contains `needle`. */
static void expect_error(const char *name, const char *const *kv, strata_shape in,
                         const char *needle)
{
    const strata_layer_ops *ops = fake_layer_ops(name);
    strata_opts *o = fake_opts(kv);
    strata_shape out = {-1, -1, -1};
    void *L = ops->create(&fake_host, o, in, &out);
    const char *msg = fake_opts_error(o);
    ck_assert_msg(L == NULL, "%s: create accepted bad options", name);
    ck_assert_msg(msg != NULL, "%s: no error message", name);
    ck_assert_msg(strstr(msg, needle) != NULL, "%s: message '%s' lacks '%s'", name, msg, needle);
    ck_assert_msg(strchr(msg, '\n') == NULL, "%s: message is not one line", name);
    fake_opts_free(o);
}

START_TEST(test_option_errors)
{
    strata_shape img = S(3, 8, 8);
    expect_error("conv2d", KV("kernel=3"), img, "out_channels");
    expect_error("conv2d", KV("out_channels=0", "kernel=3"), img, "out_channels");
    expect_error("conv2d", KV("out_channels=4"), img, "kernel");
    expect_error("conv2d", KV("out_channels=4", "kernel=0"), img, "kernel");
    expect_error("conv2d", KV("out_channels=4", "kernel=3", "padding=same"), img, "padding");
    expect_error("conv2d", KV("out_channels=4", "kernel=3", "padding=[1, 2, 3]"), img, "padding");
    expect_error("conv2d", KV("out_channels=4", "kernel=3", "padding=-1"), img, "padding");
    expect_error("conv2d", KV("out_channels=4", "kernel=3", "stride=0"), img, "stride");
    expect_error("conv2d", KV("out_channels=4", "kernel=3", "bias=maybe"), img, "bias");
    /* a kernel larger than the padded input names both sizes */
    expect_error("conv2d", KV("out_channels=4", "kernel=[11, 3]", "padding=1"), img, "11x3");
    expect_error("conv2d", KV("out_channels=4", "kernel=[11, 3]", "padding=1"), img, "10x10");

    expect_error("linear", KV("bias=true"), S(10, 1, 1), "out_features");
    expect_error("linear", KV("out_features=4"), img, "flatten");
    expect_error("linear", KV("out_features=4"), img, "(3, 8, 8)");
    expect_error("linear", KV("out_features=4", "in_features=12"), S(10, 1, 1), "in_features");
    expect_error("linear", KV("out_features=4", "in_features=12"), S(10, 1, 1), "12");
    expect_error("linear", KV("out_features=4", "in_features=12"), S(10, 1, 1), "10");

    expect_error("maxpool", KV("stride=2"), img, "kernel");
    expect_error("maxpool", KV("kernel=0"), img, "kernel");
    expect_error("maxpool", KV("kernel=3", "padding=2"), img, "padding");
    expect_error("maxpool", KV("kernel=9"), img, "kernel");
    expect_error("maxpool", KV("kernel=2", "ceil_mode=maybe"), img, "ceil_mode");
    expect_error("maxpool", KV("kernel=17"), S(1, 40, 40), "kernel"); /* windows of at most 16x16 */
    expect_error("avgpool", KV("kernel=2", "count_include_pad=2"), img, "count_include_pad");
    expect_error("avgpool", KV("kernel=[2, 9]"), img, "kernel");
    expect_error("adaptive_avgpool", KV("kernel=2"), img, "output");
    expect_error("adaptive_avgpool", KV("output=0"), img, "output");

    expect_error("dropout", KV("p=1"), img, "p");
    expect_error("dropout", KV("p=1"), img, "p < 1");
    expect_error("dropout", KV("p=-0.1"), img, "p");
    expect_error("local_response_norm", KV("size=0"), img, "size");
    expect_error("local_response_norm", KV("k=0"), img, "k");
    expect_error("batchnorm2d", KV("eps=0"), img, "eps");
    expect_error("batchnorm2d", KV("momentum=2"), img, "momentum");
    expect_error("batchnorm2d", KV("affine=1"), img, "affine");

    /* a shape that is not positive is refused by every layer */
    for (int i = 0; LAYERS[i]; i++)
        expect_error(LAYERS[i], KV("out_channels=2", "kernel=1", "out_features=2", "output=1"),
                     S(0, 4, 4), "(0, 4, 4)");
}
END_TEST

/* ---- shapes, MACs, parameter descriptions -------------------------------- */

static void shape_case(const char *name, const char *const *kv, strata_shape in,
                       strata_shape want, int64_t macs)
{
    inst *I = make(name, kv, in, 1);
    ck_assert_msg(I->out.c == want.c && I->out.h == want.h && I->out.w == want.w,
                  "%s: output (%d, %d, %d), expected (%d, %d, %d)", name, I->out.c,
                  I->out.h, I->out.w, want.c, want.h, want.w);
    ck_assert_int_eq(I->ops->macs(I->layer), macs);
    free_inst(I);
}

START_TEST(test_shapes_and_macs)
{
    /* VGG's first conv: 64 * 224 * 224 * (3 * 3 * 3) */
    shape_case("conv2d", KV("out_channels=64", "kernel=3", "padding=1"), S(3, 224, 224),
               S(64, 224, 224), (int64_t)64 * 224 * 224 * 27);
    /* AlexNet's first conv: (224 + 4 - 11) / 4 + 1 = 55 */
    shape_case("conv2d", KV("out_channels=64", "kernel=11", "stride=4", "padding=2"),
               S(3, 224, 224), S(64, 55, 55), (int64_t)64 * 55 * 55 * 3 * 121);
    /* non-square: h (7 + 2 - 3)/2 + 1 = 4, w (6 + 0 - 1)/1 + 1 = 6 */
    shape_case("conv2d", KV("out_channels=5", "kernel=[3, 1]", "stride=[2, 1]", "padding=[1, 0]"),
               S(2, 7, 6), S(5, 4, 6), (int64_t)5 * 4 * 6 * 2 * 3);
    shape_case("linear", KV("out_features=4096"), S(25088, 1, 1), S(4096, 1, 1),
               (int64_t)25088 * 4096);
    shape_case("linear", KV("out_features=10", "in_features=4096", "bias=false"), S(4096, 1, 1),
               S(10, 1, 1), (int64_t)4096 * 10);
    shape_case("maxpool", KV("kernel=2"), S(64, 224, 224), S(64, 112, 112), 0);
    shape_case("maxpool", KV("kernel=3", "stride=2"), S(64, 55, 55), S(64, 27, 27), 0);
    /* ceil_mode: 5 -> ceil((5+2-3)/2)+1 = 3 ... */
    shape_case("maxpool", KV("kernel=3", "stride=2", "padding=1", "ceil_mode=true"), S(1, 5, 5),
               S(1, 3, 3), 0);
    /* ... a window starting in the right padding is dropped: 6 -> ceil(5/2)+1 = 4,
     * (4-1)*2 = 6 >= 6 + 1? no: 4 stays; 5 with k=2 s=2 p=1: ceil(5/2)+1 = 4,
     * (4-1)*2 = 6 >= 5 + 1: 3 */
    shape_case("maxpool", KV("kernel=3", "stride=2", "padding=1", "ceil_mode=true"), S(1, 6, 6),
               S(1, 4, 4), 0);
    shape_case("avgpool", KV("kernel=2", "stride=2", "padding=1", "ceil_mode=true"), S(1, 5, 5),
               S(1, 3, 3), 0);
    shape_case("avgpool", KV("kernel=2", "stride=2", "ceil_mode=true"), S(1, 5, 5), S(1, 3, 3), 0);
    shape_case("avgpool", KV("kernel=2", "stride=2"), S(1, 5, 5), S(1, 2, 2), 0);
    shape_case("adaptive_avgpool", KV("output=[7, 3]"), S(512, 13, 13), S(512, 7, 3), 0);
    shape_case("flatten", NONE, S(256, 6, 6), S(9216, 1, 1), 0);
    shape_case("relu", NONE, S(3, 5, 4), S(3, 5, 4), 0);
    shape_case("dropout", KV("p=0.5"), S(4096, 1, 1), S(4096, 1, 1), 0);
    shape_case("local_response_norm", KV("size=5"), S(96, 55, 55), S(96, 55, 55), 0);
    shape_case("batchnorm2d", KV("eps=1e-5"), S(64, 8, 8), S(64, 8, 8), 0);
}
END_TEST

static void expect_geometry(const char *name, const char *const *kv, strata_shape in,
                            int k0, int k1, int s0, int s1)
{
    inst *I = make(name, kv, in, 1);
    int k[2], s[2];
    I->ops->geometry(I->layer, k, s);
    ck_assert_msg(k[0] == k0 && k[1] == k1 && s[0] == s0 && s[1] == s1,
                  "%s: geometry k %d,%d s %d,%d, expected k %d,%d s %d,%d", name, k[0], k[1],
                  s[0], s[1], k0, k1, s0, s1);
    free_inst(I);
}

START_TEST(test_geometry)
{
    expect_geometry("conv2d", KV("out_channels=2", "kernel=[5, 3]", "stride=[4, 2]"), S(1, 20, 20),
                    5, 3, 4, 2);
    expect_geometry("maxpool", KV("kernel=3", "stride=2"), S(1, 9, 9), 3, 3, 2, 2);
    expect_geometry("avgpool", KV("kernel=[2, 3]"), S(1, 9, 9), 2, 3, 2, 3);
    /* 13 -> 6: kernel ceil(13/6) = 3, stride floor(13/6) = 2; 7 -> 7: 1, 1 */
    expect_geometry("adaptive_avgpool", KV("output=[6, 7]"), S(1, 13, 7), 3, 1, 2, 1);
    /* upsampling 3 -> 5: windows of 1, stride never below 1 */
    expect_geometry("adaptive_avgpool", KV("output=5"), S(1, 3, 3), 1, 1, 1, 1);
    const char *flat[] = {"relu", "flatten", "dropout", "local_response_norm", "batchnorm2d"};
    for (int i = 0; i < 5; i++)
        expect_geometry(flat[i], NONE, S(4, 5, 5), 1, 1, 1, 1);
    expect_geometry("linear", KV("out_features=3"), S(4, 1, 1), 1, 1, 1, 1);
}
END_TEST

static void expect_param(const inst *I, int i, const char *name, int ndim, const int64_t *dims,
                         strata_init_role role, int flags)
{
    const strata_param_desc *d = &I->desc[i];
    ck_assert_str_eq(d->name, name);
    ck_assert_int_eq(d->ndim, ndim);
    for (int k = 0; k < ndim; k++)
        ck_assert_int_eq(d->dims[k], dims[k]);
    ck_assert_int_eq(d->role, role);
    ck_assert_int_eq(d->flags, flags);
}

START_TEST(test_param_desc)
{
    inst *I = make("conv2d", KV("out_channels=64", "kernel=[3, 5]"), S(3, 32, 32), 1);
    ck_assert_int_eq(I->np, 2);
    expect_param(I, 0, "weight", 4, (int64_t[]){64, 3, 3, 5}, STRATA_INIT_CONV_WEIGHT, 0);
    expect_param(I, 1, "bias", 1, (int64_t[]){64}, STRATA_INIT_BIAS, 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(I->desc[i].fan_in, 3 * 15);
        ck_assert_int_eq(I->desc[i].fan_out, 64 * 15);
    }
    free_inst(I);
    I = make("conv2d", KV("out_channels=8", "kernel=3", "bias=false"), S(3, 8, 8), 1);
    ck_assert_int_eq(I->np, 1);
    free_inst(I);

    I = make("linear", KV("out_features=10"), S(300, 1, 1), 1);
    ck_assert_int_eq(I->np, 2);
    expect_param(I, 0, "weight", 2, (int64_t[]){10, 300}, STRATA_INIT_LINEAR_WEIGHT, 0);
    expect_param(I, 1, "bias", 1, (int64_t[]){10}, STRATA_INIT_BIAS, 0);
    ck_assert_int_eq(I->desc[0].fan_in, 300);
    ck_assert_int_eq(I->desc[0].fan_out, 10);
    ck_assert_int_eq(I->desc[1].fan_in, 300);
    free_inst(I);
    I = make("linear", KV("out_features=10", "bias=false"), S(300, 1, 1), 1);
    ck_assert_int_eq(I->np, 1);
    free_inst(I);

    I = make("batchnorm2d", NONE, S(16, 4, 4), 1);
    ck_assert_int_eq(I->np, 5);
    int64_t c[] = {16};
    expect_param(I, 0, "weight", 1, c, STRATA_INIT_ONES, 0);
    expect_param(I, 1, "bias", 1, c, STRATA_INIT_ZEROS, 0);
    expect_param(I, 2, "running_mean", 1, c, STRATA_INIT_ZEROS, STRATA_PARAM_BUFFER);
    expect_param(I, 3, "running_var", 1, c, STRATA_INIT_ONES, STRATA_PARAM_BUFFER);
    expect_param(I, 4, "num_batches_tracked", 0, c, STRATA_INIT_ZEROS,
                 STRATA_PARAM_BUFFER | STRATA_PARAM_COUNT);
    free_inst(I);
    I = make("batchnorm2d", KV("affine=false"), S(16, 4, 4), 1);
    ck_assert_int_eq(I->np, 3);
    expect_param(I, 0, "running_mean", 1, c, STRATA_INIT_ZEROS, STRATA_PARAM_BUFFER);
    free_inst(I);

    const char *none[] = {"relu", "flatten", "dropout", "local_response_norm"};
    for (int i = 0; i < 4; i++) {
        I = make(none[i], NONE, S(4, 5, 5), 2);
        ck_assert_int_eq(I->np, 0);
        free_inst(I);
    }
    I = make("maxpool", KV("kernel=2"), S(4, 5, 5), 2);
    ck_assert_int_eq(I->np, 0);
    free_inst(I);
}
END_TEST

/* ---- forward values against direct references ---------------------------- */

/* The textbook 7-loop convolution. */
static void ref_conv(const float *in, const float *wt, const float *bias, float *out, int n,
                     int C, int H, int W, int OC, int KH, int KW, int SH, int SW, int PH,
                     int PW, int OH, int OW)
{
    for (int b = 0; b < n; b++)
        for (int o = 0; o < OC; o++)
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    double s = bias ? bias[o] : 0.0;
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < KH; i++)
                            for (int j = 0; j < KW; j++) {
                                int iy = y * SH - PH + i, ix = x * SW - PW + j;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                s += (double)in[((b * C + c) * H + iy) * W + ix] *
                                     wt[((o * C + c) * KH + i) * KW + j];
                            }
                    out[((b * OC + o) * OH + y) * OW + x] = (float)s;
                }
}

static void conv_ref_case(int n, strata_shape in, int oc, int kh, int kw, int sh, int sw,
                          int ph, int pw, int bias)
{
    char k[64], s[64], p[64], o[64], bs[32];
    snprintf(o, sizeof o, "out_channels=%d", oc);
    snprintf(k, sizeof k, "kernel=[%d, %d]", kh, kw);
    snprintf(s, sizeof s, "stride=[%d, %d]", sh, sw);
    snprintf(p, sizeof p, "padding=[%d, %d]", ph, pw);
    snprintf(bs, sizeof bs, "bias=%s", bias ? "true" : "false");
    inst *I = make("conv2d", KV(o, k, s, p, bs), in, n);
    int OH = (in.h + 2 * ph - kh) / sh + 1, OW = (in.w + 2 * pw - kw) / sw + 1;
    ck_assert_int_eq(I->out.h, OH);
    ck_assert_int_eq(I->out.w, OW);
    float *x = fvec(I->nin), *y = fvec(I->nout), *r = fvec(I->nout);
    fill(x, I->nin, -1, 1);
    forward(I, &TRAIN, x, y);
    ref_conv(x, I->params[0], bias ? I->params[1] : NULL, r, n, in.c, in.h, in.w, oc, kh, kw,
             sh, sw, ph, pw, OH, OW);
    for (size_t i = 0; i < I->nout; i++)
        ck_assert_msg(fabsf(y[i] - r[i]) <= 1e-4f * (1 + fabsf(r[i])), "conv out[%zu] %g vs %g",
                      i, y[i], r[i]);
    free(x), free(y), free(r);
    free_inst(I);
}

START_TEST(test_conv2d_forward_reference)
{
    conv_ref_case(2, S(3, 7, 6), 4, 3, 3, 1, 1, 0, 0, 1);
    conv_ref_case(3, S(2, 9, 11), 5, 3, 2, 2, 1, 1, 2, 0);
    conv_ref_case(1, S(3, 23, 19), 2, 11, 11, 4, 4, 2, 2, 1);
    conv_ref_case(2, S(4, 5, 5), 3, 1, 1, 1, 1, 0, 0, 1);
    conv_ref_case(1, S(1, 3, 3), 2, 5, 5, 1, 1, 1, 1, 1); /* kernel = padded input */
}
END_TEST

/* Pooling references written from PyTorch's definition, window by window over
 * the padded grid: padded cells count for avg when count_include_pad
 * (only up to H+PH, W+PW), never for max. */
static void ref_pool(const float *in, float *out, int planes, int H, int W, int KH, int KW,
                     int SH, int SW, int PH, int PW, int OH, int OW, int is_max, int cip)
{
    for (int pl = 0; pl < planes; pl++)
        for (int y = 0; y < OH; y++)
            for (int x = 0; x < OW; x++) {
                double s = 0, best = -INFINITY;
                int count = 0, padded = 0;
                for (int i = 0; i < KH; i++)
                    for (int j = 0; j < KW; j++) {
                        int iy = y * SH - PH + i, ix = x * SW - PW + j;
                        if (iy < H + PH && ix < W + PW)
                            padded++;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                            continue;
                        double v = in[(pl * H + iy) * W + ix];
                        s += v, count++;
                        best = v > best ? v : best;
                    }
                out[(pl * OH + y) * OW + x] = (float)(is_max ? best : s / (cip ? padded : count));
            }
}

static void pool_ref_case(const char *name, int n, strata_shape in, int k, int s, int p,
                          int ceil_mode, int cip)
{
    char ks[32], ss[32], ps[32], cs[32], is[40];
    snprintf(ks, sizeof ks, "kernel=%d", k);
    snprintf(ss, sizeof ss, "stride=%d", s);
    snprintf(ps, sizeof ps, "padding=%d", p);
    snprintf(cs, sizeof cs, "ceil_mode=%s", ceil_mode ? "true" : "false");
    snprintf(is, sizeof is, "count_include_pad=%s", cip ? "true" : "false");
    int is_max = strcmp(name, "maxpool") == 0;
    inst *I = is_max ? make(name, KV(ks, ss, ps, cs), in, n) : make(name, KV(ks, ss, ps, cs, is), in, n);
    float *x = fvec(I->nin), *y = fvec(I->nout), *r = fvec(I->nout);
    fill(x, I->nin, -1, 1);
    forward(I, &TRAIN, x, y);
    ref_pool(x, r, n * in.c, in.h, in.w, k, k, s, s, p, p, I->out.h, I->out.w, is_max, cip);
    for (size_t i = 0; i < I->nout; i++)
        ck_assert_msg(fabsf(y[i] - r[i]) <= 1e-5f, "%s out[%zu] %g vs %g", name, i, y[i], r[i]);
    free(x), free(y), free(r);
    free_inst(I);
}

START_TEST(test_pool_forward_reference)
{
    for (int m = 0; m < 2; m++) {
        const char *name = m ? "maxpool" : "avgpool";
        pool_ref_case(name, 2, S(3, 8, 8), 2, 2, 0, 0, 1);
        pool_ref_case(name, 1, S(2, 7, 9), 3, 2, 1, 0, 1);
        pool_ref_case(name, 1, S(2, 7, 9), 3, 2, 1, 1, 1);
        pool_ref_case(name, 1, S(2, 7, 9), 3, 2, 1, 1, 0);
        pool_ref_case(name, 2, S(1, 6, 5), 4, 3, 2, 1, 0);
        pool_ref_case(name, 1, S(1, 5, 5), 2, 2, 0, 1, 1);
    }
}
END_TEST

/* Hand-computed values (PyTorch's semantics) on x = 1..16 as a 4x4 image. */
START_TEST(test_pool_hand_values)
{
    float x[16], y[9];
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    /* kernel 3, stride 2, padding 1 -> 2x2; window (0,0) holds 1,2,5,6 (sum 14),
     * (0,1) 2,3,4,6,7,8 (30), (1,1) 6,7,8,10,11,12,14,15,16 (99) */
    inst *I = make("avgpool", KV("kernel=3", "stride=2", "padding=1"), S(1, 4, 4), 1);
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq_tol(y[0], 14.0f / 9, 1e-6);
    ck_assert_float_eq_tol(y[1], 30.0f / 9, 1e-6);
    ck_assert_float_eq_tol(y[3], 11.0f, 1e-6);
    free_inst(I);
    I = make("avgpool", KV("kernel=3", "stride=2", "padding=1", "count_include_pad=false"),
             S(1, 4, 4), 1);
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq_tol(y[0], 3.5f, 1e-6);
    ck_assert_float_eq_tol(y[1], 5.0f, 1e-6);
    ck_assert_float_eq_tol(y[3], 11.0f, 1e-6);
    free_inst(I);
    I = make("maxpool", KV("kernel=3", "stride=2", "padding=1"), S(1, 4, 4), 1);
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq(y[0], 6.0f);
    ck_assert_float_eq(y[1], 8.0f);
    ck_assert_float_eq(y[2], 14.0f);
    ck_assert_float_eq(y[3], 16.0f);
    free_inst(I);

    /* ceil_mode on 5x5 (x = 1..25), kernel 2 stride 2: the last window holds
     * only x[4][4] = 25; PyTorch divides it by 1 (the window clipped to the
     * padded input, here the image) */
    float z[25];
    for (int i = 0; i < 25; i++)
        z[i] = (float)(i + 1);
    I = make("avgpool", KV("kernel=2", "ceil_mode=true"), S(1, 5, 5), 1);
    forward(I, &TRAIN, z, y);
    ck_assert_float_eq_tol(y[8], 25.0f, 1e-6);
    ck_assert_float_eq_tol(y[2], (5.0f + 10.0f) / 2, 1e-6);
    ck_assert_float_eq_tol(y[0], (1 + 2 + 6 + 7) / 4.0f, 1e-6);
    free_inst(I);

    /* adaptive 5 -> 3: windows [0,2), [1,4), [3,5) over 1..5 */
    I = make("adaptive_avgpool", KV("output=[1, 3]"), S(1, 1, 5), 1);
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq_tol(y[0], 1.5f, 1e-6);
    ck_assert_float_eq_tol(y[1], 3.0f, 1e-6);
    ck_assert_float_eq_tol(y[2], 4.5f, 1e-6);
    free_inst(I);
    /* adaptive 2 -> 4 (upsampling): windows [0,1), [0,1), [1,2), [1,2) */
    I = make("adaptive_avgpool", KV("output=[1, 4]"), S(1, 1, 2), 1);
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq(y[0], 1.0f);
    ck_assert_float_eq(y[1], 1.0f);
    ck_assert_float_eq(y[2], 2.0f);
    ck_assert_float_eq(y[3], 2.0f);
    free_inst(I);
}
END_TEST

/* Ties: the gradient goes to the first maximum of the window, as PyTorch. */
START_TEST(test_maxpool_ties)
{
    /* 2x4 image, kernel 2: window 0 holds 3,3 / 1,3 (max 3, first at x[0]);
     * window 1 holds 2,5 / 5,0 (max 5, first at x[3] in row-major order) */
    float x[8] = {3, 3, 2, 5, 1, 3, 5, 0}, y[2], dy[2] = {1, 10}, dx[8];
    inst *I = make("maxpool", KV("kernel=2"), S(1, 2, 4), 1);
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq(y[0], 3.0f);
    ck_assert_float_eq(y[1], 5.0f);
    backward(I, &TRAIN, x, y, dy, dx);
    float want[8] = {1, 0, 0, 10, 0, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        ck_assert_msg(dx[i] == want[i], "dx[%d] = %g, expected %g", i, dx[i], want[i]);
    free_inst(I);
}
END_TEST

/* The vectorised stride-2 paths (the 2x2 and 3x3 pools of VGG and AlexNet,
 * a vector of 4, 8 or 16 outputs at a time, a partial last vector; rows of
 * more than 256 outputs go the scalar way) against a plain loop with
 * max_plane's rule (first maximum in row-major order; a NaN wins), with
 * ties and NaNs; the argmax is checked through backward (dx routes dy to
 * it). */
static void maxpool_s2_case(int K, int c, int h, int w, int threads)
{
    strata_ctx ctx = {.training = 1, .threads = threads};
    char ks[16];
    snprintf(ks, sizeof ks, "kernel=%d", K);
    inst *I = make("maxpool", KV(ks, "stride=2"), S(c, h, w), 2);
    float *x = fvec(I->nin), *y = fvec(I->nout), *dy = fvec(I->nout), *dx = fvec(I->nin);
    float *wy = fvec(I->nout), *wdx = fvec(I->nin);
    for (size_t i = 0; i < I->nin; i++) /* few levels: many ties */
        x[i] = (float)((i * 7919) % 5) - 2.0f;
    for (size_t i = 3; i < I->nin; i += 37)
        x[i] = NAN;
    for (size_t i = 0; i < I->nout; i++)
        dy[i] = (float)(i % 13) + 1.0f;
    int oh = I->out.h, ow = I->out.w;
    memset(wdx, 0, sizeof(float) * I->nin);
    for (int p = 0; p < 2 * c; p++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                const float *pl = x + (size_t)p * h * w;
                size_t at = (size_t)2 * oy * w + 2 * ox;
                for (int i = 0; i < K; i++)
                    for (int j = 0; j < K; j++) {
                        size_t k = (size_t)(2 * oy + i) * w + 2 * ox + j;
                        float v = pl[k], b = pl[at];
                        if (v > b || (isnan(v) && !isnan(b)))
                            at = k;
                    }
                size_t o = ((size_t)p * oh + oy) * ow + ox;
                wy[o] = pl[at];
                wdx[(size_t)p * h * w + at] += dy[o];
            }
    forward(I, &ctx, x, y);
    backward(I, &ctx, x, y, dy, dx);
    for (size_t i = 0; i < I->nout; i++)
        ck_assert_msg((isnan(y[i]) && isnan(wy[i])) || y[i] == wy[i], "[%s] %dx%d out[%zu] %g vs %g",
                      test_isa_name(), h, w, i, y[i], wy[i]);
    for (size_t i = 0; i < I->nin; i++)
        ck_assert_msg(dx[i] == wdx[i], "[%s] %dx%d dx[%zu] %g vs %g", test_isa_name(), h, w, i, dx[i],
                      wdx[i]);
    free(x), free(y), free(dy), free(dx), free(wy), free(wdx);
    free_inst(I);
}

/* The variant of this run's ISA level (strata_isa(), fixed for the
 * process): make check runs this suite natively and with STRATA_ISA=avx2
 * and =base (t/isa.mk), which covers the 16-, 8- and 4-lane kernels. */
START_TEST(test_maxpool_s2_vectorised)
{
    int widths[] = {3, 4, 9, 13, 17, 27, 33, 34, 35, 36, 55, 67, 68, 69, 70, 101, 112, 514, 515};
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++)
        for (int K = 2; K <= 3; K++)
            maxpool_s2_case(K, 3, 5 + (int)i % 4, widths[i], 1 + (int)i % 2);
}
END_TEST

/* LRN against the zero-padded-average definition, in double. */
START_TEST(test_lrn_forward_reference)
{
    int sizes[] = {5, 3, 4, 1};
    for (int t = 0; t < 4; t++) {
        int size = sizes[t], C = 7, P = 6, n = 2;
        char s[32];
        snprintf(s, sizeof s, "size=%d", size);
        inst *I = make("local_response_norm", KV(s, "alpha=0.3", "beta=0.75", "k=2"), S(C, 2, 3), n);
        float *x = fvec(I->nin), *y = fvec(I->nout);
        fill(x, I->nin, -2, 2);
        forward(I, &TRAIN, x, y);
        for (int b = 0; b < n; b++)
            for (int c = 0; c < C; c++)
                for (int p = 0; p < P; p++) {
                    double avg = 0;
                    for (int q = c - size / 2; q < c - size / 2 + size; q++)
                        if (q >= 0 && q < C) {
                            double a = x[(b * C + q) * P + p];
                            avg += a * a / size;
                        }
                    double want = x[(b * C + c) * P + p] / pow(2.0 + 0.3 * avg, 0.75);
                    ck_assert_double_eq_tol(y[(b * C + c) * P + p], want, 1e-5);
                }
        free(x), free(y);
        free_inst(I);
    }
}
END_TEST

/* ---- gradient checks ----------------------------------------------------- */

START_TEST(test_grad_conv2d)
{
    gc_case("conv2d", KV("out_channels=4", "kernel=3"), S(3, 7, 6), 2, &TRAIN);
    gc_case("conv2d", KV("out_channels=3", "kernel=[3, 2]", "stride=2", "padding=1"), S(2, 7, 9), 2,
            &TRAIN);
    gc_case("conv2d", KV("out_channels=2", "kernel=5", "stride=4", "padding=2", "bias=false"),
            S(2, 11, 9), 3, &TRAIN);
    gc_case("conv2d", KV("out_channels=3", "kernel=1"), S(4, 3, 5), 2, &TRAIN);
    gc_case("conv2d", KV("out_channels=2", "kernel=[2, 4]", "stride=[1, 2]", "padding=[2, 1]"),
            S(3, 5, 7), 1, &EVAL);
}
END_TEST

START_TEST(test_grad_linear)
{
    gc_case("linear", KV("out_features=4"), S(10, 1, 1), 3, &TRAIN);
    gc_case("linear", KV("out_features=7", "bias=false", "in_features=5"), S(5, 1, 1), 1, &TRAIN);
    gc_case("linear", KV("out_features=1"), S(13, 1, 1), 4, &TRAIN);
}
END_TEST

/* ReLU: inputs kept at |x| >= 0.1, away from the kink at 0. */
START_TEST(test_grad_relu)
{
    inst *I = make("relu", NONE, S(3, 5, 4), 2);
    float *x = fvec(I->nin);
    for (size_t i = 0; i < I->nin; i++)
        x[i] = (i % 2 ? 1 : -1) * urand(0.1f, 1.0f);
    gradcheck(I, &TRAIN, x);
    free(x);
    free_inst(I);
}
END_TEST

static void gc_distinct(const char *name, const char *const *kv, strata_shape in, int n)
{
    inst *I = make(name, kv, in, n);
    float *x = fvec(I->nin);
    fill_distinct(x, I->nin);
    gradcheck(I, &TRAIN, x);
    free(x);
    free_inst(I);
}

START_TEST(test_grad_maxpool)
{
    gc_distinct("maxpool", KV("kernel=2"), S(2, 6, 6), 2);
    gc_distinct("maxpool", KV("kernel=3", "stride=2", "padding=1", "ceil_mode=true"), S(2, 7, 8), 2);
    gc_distinct("maxpool", KV("kernel=[3, 2]", "stride=[1, 2]", "padding=1"), S(1, 5, 7), 2);
    gc_distinct("maxpool", KV("kernel=4", "stride=4", "padding=2", "ceil_mode=true"), S(2, 9, 9), 1);
}
END_TEST

START_TEST(test_grad_avgpool)
{
    gc_case("avgpool", KV("kernel=2"), S(2, 6, 6), 2, &TRAIN);
    gc_case("avgpool", KV("kernel=3", "stride=2", "padding=1", "ceil_mode=true"), S(2, 7, 8), 2,
            &TRAIN);
    gc_case("avgpool", KV("kernel=3", "stride=2", "padding=1", "ceil_mode=true",
                          "count_include_pad=false"),
            S(2, 7, 8), 2, &TRAIN);
    gc_case("avgpool", KV("kernel=[2, 3]", "stride=[1, 4]", "padding=1"), S(1, 5, 9), 2, &TRAIN);
}
END_TEST

START_TEST(test_grad_adaptive_avgpool)
{
    gc_case("adaptive_avgpool", KV("output=[3, 2]"), S(2, 7, 5), 2, &TRAIN);
    gc_case("adaptive_avgpool", KV("output=5"), S(1, 5, 5), 2, &TRAIN);
    gc_case("adaptive_avgpool", KV("output=[6, 4]"), S(2, 4, 3), 1, &TRAIN);
}
END_TEST

START_TEST(test_grad_flatten)
{
    gc_case("flatten", NONE, S(3, 4, 5), 2, &TRAIN);
}
END_TEST

START_TEST(test_grad_lrn)
{
    gc_case("local_response_norm", NONE, S(7, 3, 2), 2, &TRAIN);
    gc_case("local_response_norm", KV("size=3", "alpha=0.5", "beta=0.75", "k=2"), S(6, 2, 3), 2,
            &TRAIN);
    gc_case("local_response_norm", KV("size=4", "alpha=1", "beta=0.5", "k=1"), S(5, 3, 3), 1,
            &TRAIN);
    gc_case("local_response_norm", KV("size=9", "alpha=0.8", "beta=1.5", "k=1.5"), S(4, 2, 2), 2,
            &TRAIN);
}
END_TEST

START_TEST(test_grad_batchnorm2d)
{
    gc_case("batchnorm2d", NONE, S(3, 3, 2), 3, &TRAIN);
    gc_case("batchnorm2d", KV("affine=false"), S(2, 4, 3), 2, &TRAIN);
    gc_case("batchnorm2d", KV("eps=0.001", "momentum=0.5"), S(3, 2, 5), 2, &EVAL);
    gc_case("batchnorm2d", NONE, S(2, 1, 1), 5, &TRAIN); /* vectors */
}
END_TEST

START_TEST(test_grad_dropout)
{
    /* the mask depends only on the seed, so the numeric derivative sees the
     * same mask as backward */
    gc_case("dropout", KV("p=0.3"), S(4, 3, 3), 2, &TRAIN);
    gc_case("dropout", KV("p=0.5"), S(10, 1, 1), 3, &EVAL);
}
END_TEST

/* First layer: backward with din = NULL must still give the same parameter
 * gradients (and must not touch din). */
static void no_din_case(const char *name, const char *const *kv, strata_shape in, int n)
{
    inst *I = make(name, kv, in, n);
    float *x = fvec(I->nin), *y = fvec(I->nout), *dy = fvec(I->nout), *dx = fvec(I->nin);
    float *first[MAXP];
    fill(x, I->nin, -1, 1);
    fill(dy, I->nout, -1, 1);
    forward(I, &TRAIN, x, y);
    backward(I, &TRAIN, x, y, dy, dx);
    for (int p = 0; p < I->np; p++) {
        first[p] = fvec(I->psize[p]);
        memcpy(first[p], I->dparams[p], sizeof(float) * I->psize[p]);
        memset(I->dparams[p], 0, sizeof(float) * I->psize[p]);
    }
    backward(I, &TRAIN, x, y, dy, NULL);
    for (int p = 0; p < I->np; p++) {
        if (!(I->desc[p].flags & STRATA_PARAM_BUFFER))
            for (size_t i = 0; i < I->psize[p]; i++)
                ck_assert_msg(I->dparams[p][i] == first[p][i], "%s: d%s[%zu] differs without din",
                              name, I->desc[p].name, i);
        free(first[p]);
    }
    free(x), free(y), free(dy), free(dx);
    free_inst(I);
}

START_TEST(test_backward_without_din)
{
    no_din_case("conv2d", KV("out_channels=3", "kernel=3", "padding=1"), S(2, 5, 5), 2);
    no_din_case("linear", KV("out_features=3"), S(6, 1, 1), 2);
    no_din_case("batchnorm2d", NONE, S(3, 2, 2), 2);
    no_din_case("relu", NONE, S(3, 2, 2), 2);
    no_din_case("maxpool", KV("kernel=2"), S(3, 4, 4), 2);
    no_din_case("avgpool", KV("kernel=2"), S(3, 4, 4), 2);
    no_din_case("adaptive_avgpool", KV("output=2"), S(3, 4, 4), 2);
    no_din_case("flatten", NONE, S(3, 2, 2), 2);
    no_din_case("dropout", NONE, S(3, 2, 2), 2);
    no_din_case("local_response_norm", NONE, S(3, 2, 2), 2);
}
END_TEST

/* ---- dropout ------------------------------------------------------------- */

START_TEST(test_dropout_mask)
{
    double p = 0.3;
    inst *I = make("dropout", KV("p=0.3"), S(100, 10, 10), 2); /* 20000 elements */
    float *x = fvec(I->nin), *y = fvec(I->nout), *y2 = fvec(I->nout), *dy = fvec(I->nout),
          *dx = fvec(I->nin);
    fill(x, I->nin, 0.5f, 1.5f); /* never 0: a 0 in out means dropped */
    fill(dy, I->nout, -1, 1);
    forward(I, &TRAIN, x, y);
    size_t dropped = 0;
    for (size_t i = 0; i < I->nout; i++) {
        if (y[i] == 0.0f)
            dropped++;
        else
            ck_assert_float_eq_tol(y[i], x[i] / (1 - p), 1e-6);
    }
    /* binomial: sd = sqrt(p(1-p)/20000) = 0.0032; allow 5 sd */
    ck_assert_double_eq_tol((double)dropped / I->nout, p, 0.016);

    backward(I, &TRAIN, x, y, dy, dx);
    for (size_t i = 0; i < I->nin; i++)
        ck_assert_float_eq_tol(dx[i], y[i] == 0.0f ? 0.0f : dy[i] / (1 - p), 1e-6);

    /* same seed, same mask; another seed, another mask */
    forward(I, &TRAIN, x, y2);
    ck_assert(memcmp(y, y2, sizeof(float) * I->nout) == 0);
    strata_ctx other = TRAIN;
    other.seed = 8;
    forward(I, &other, x, y2);
    ck_assert(memcmp(y, y2, sizeof(float) * I->nout) != 0);

    /* eval: identity both ways */
    forward(I, &EVAL, x, y);
    ck_assert(memcmp(x, y, sizeof(float) * I->nout) == 0);
    backward(I, &EVAL, x, y, dy, dx);
    ck_assert(memcmp(dx, dy, sizeof(float) * I->nout) == 0);
    free_inst(I);

    /* p = 0 keeps everything even in training */
    I = make("dropout", KV("p=0"), S(100, 10, 10), 2);
    forward(I, &TRAIN, x, y);
    ck_assert(memcmp(x, y, sizeof(float) * I->nout) == 0);
    ck_assert_uint_eq(I->saved_bytes, I->nin); /* one byte per element */
    free_inst(I);
    free(x), free(y), free(y2), free(dy), free(dx);
}
END_TEST

/* The mask is strata_rng_uniform's sequence from the step's seed, element by
 * element in memory order (the plugin computes each draw from its index and
 * splits the elements between threads): the same mask with 1, 2 and 3
 * threads, over more than one parallel chunk (16384 elements). */
START_TEST(test_dropout_mask_sequence)
{
    inst *I = make("dropout", KV("p=0.4"), S(7, 71, 97), 1); /* 48209 elements */
    float *x = fvec(I->nin), *y = fvec(I->nout), *dy = fvec(I->nout), *dx = fvec(I->nin);
    fill(x, I->nin, 0.5f, 1.5f);
    fill(dy, I->nout, -1, 1);
    for (int threads = 1; threads <= 3; threads++) {
        strata_ctx ctx = {.training = 1, .threads = threads, .seed = 12345};
        forward(I, &ctx, x, y);
        backward(I, &ctx, x, y, dy, dx);
        uint64_t state = ctx.seed;
        const unsigned char *mask = I->saved;
        for (size_t i = 0; i < I->nout; i++) {
            int keep = strata_rng_uniform(&state) >= 0.4f;
            ck_assert_msg(mask[i] == keep, "[%s] threads %d: mask[%zu] = %d", test_isa_name(), threads, i,
                          mask[i]);
            ck_assert(y[i] == (keep ? x[i] * (1.0f / 0.6f) : 0.0f));
            ck_assert(dx[i] == (keep ? dy[i] * (1.0f / 0.6f) : 0.0f));
        }
    }
    free(x), free(y), free(dy), free(dx);
    free_inst(I);
}
END_TEST

/* Data-parallel shares (strata_ctx.sample_offset): the masks of rows 0..1
 * and of row 2 with offset 2 are the mask of the 3 rows together. */
START_TEST(test_dropout_sample_offset)
{
    inst *I = make("dropout", KV("p=0.5"), S(3, 5, 7), 3); /* 105 elements a row */
    float *x = fvec(I->nin), *y = fvec(I->nout), *part = fvec(I->nout);
    fill(x, I->nin, 0.5f, 1.5f);
    strata_ctx ctx = {.training = 1, .threads = 1, .seed = 777};
    forward(I, &ctx, x, y);
    size_t row = I->nout / 3;
    int n = I->n;
    I->n = 2;
    forward(I, &ctx, x, part);
    ck_assert(memcmp(part, y, sizeof(float) * 2 * row) == 0);
    I->n = 1;
    ctx.sample_offset = 2;
    forward(I, &ctx, x + 2 * row, part);
    ck_assert(memcmp(part, y + 2 * row, sizeof(float) * row) == 0);
    ctx.sample_offset = 0;
    forward(I, &ctx, x + 2 * row, part);
    ck_assert(memcmp(part, y + 2 * row, sizeof(float) * row) != 0); /* row 2's mask is not row 0's */
    I->n = n;
    free(x), free(y), free(part);
    free_inst(I);
}
END_TEST

/* ---- batchnorm running statistics and eval ------------------------------- */

START_TEST(test_batchnorm_stats)
{
    int n = 3, C = 2, P = 4;
    inst *I = make("batchnorm2d", KV("momentum=0.2", "eps=0.01"), S(C, 2, 2), n);
    float *x = fvec(I->nin), *y = fvec(I->nout);
    fill(x, I->nin, -2, 3);
    float rm0[2], rv0[2];
    memcpy(rm0, I->params[2], sizeof rm0);
    memcpy(rv0, I->params[3], sizeof rv0);
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq(I->params[4][0], 1.0f);
    for (int c = 0; c < C; c++) {
        double s = 0, ss = 0;
        for (int b = 0; b < n; b++)
            for (int p = 0; p < P; p++)
                s += x[(b * C + c) * P + p];
        double mean = s / (n * P);
        for (int b = 0; b < n; b++)
            for (int p = 0; p < P; p++)
                ss += pow(x[(b * C + c) * P + p] - mean, 2);
        double unbiased = ss / (n * P - 1), biased = ss / (n * P);
        ck_assert_double_eq_tol(I->params[2][c], 0.8 * rm0[c] + 0.2 * mean, 1e-5);
        ck_assert_double_eq_tol(I->params[3][c], 0.8 * rv0[c] + 0.2 * unbiased, 1e-5);
        /* normalised with the biased variance */
        for (int b = 0; b < n; b++)
            for (int p = 0; p < P; p++) {
                int i = (b * C + c) * P + p;
                double want = I->params[0][c] * (x[i] - mean) / sqrt(biased + 0.01) + I->params[1][c];
                ck_assert_double_eq_tol(y[i], want, 1e-5);
            }
    }
    forward(I, &TRAIN, x, y);
    ck_assert_float_eq(I->params[4][0], 2.0f);

    /* eval: the running statistics, which do not move */
    float rm[2], rv[2];
    memcpy(rm, I->params[2], sizeof rm);
    memcpy(rv, I->params[3], sizeof rv);
    forward(I, &EVAL, x, y);
    ck_assert_float_eq(I->params[4][0], 2.0f);
    ck_assert(memcmp(rm, I->params[2], sizeof rm) == 0);
    ck_assert(memcmp(rv, I->params[3], sizeof rv) == 0);
    for (int i = 0; i < n * C * P; i++) {
        int c = (i / P) % C;
        double want = I->params[0][c] * (x[i] - rm[c]) / sqrt(rv[c] + 0.01) + I->params[1][c];
        ck_assert_double_eq_tol(y[i], want, 1e-5);
    }
    free(x), free(y);
    free_inst(I);
}
END_TEST

/* ---- the loss ------------------------------------------------------------ */

START_TEST(test_loss_value)
{
    /* row 0: logits (0, 0, 0), label 0: -log(1/3); argmax 0 (first of ties): right.
     * row 1: logits (1, 2, 3), label 0: log(e + e^2 + e^3) - 1; argmax 2: wrong. */
    float logits[6] = {0, 0, 0, 1, 2, 3};
    int labels[2] = {0, 0};
    int correct = 5;
    double want = (log(3.0) + log(exp(1) + exp(2) + exp(3)) - 1) / 2;
    double got = softmax_xent(logits, labels, 2, 3, 0.0, NULL, &correct);
    ck_assert_double_eq_tol(got, want, 1e-6);
    ck_assert_int_eq(correct, 6);
    labels[1] = 2;
    ck_assert_double_eq_tol(softmax_xent(logits, labels, 2, 3, 0.0, NULL, NULL),
                            (log(3.0) + log(exp(1) + exp(2) + exp(3)) - 3) / 2, 1e-6);
}
END_TEST

START_TEST(test_loss_smoothing)
{
    /* eps = 0.3, k = 3, label 0: t = (0.8, 0.1, 0.1);
     * loss = -sum_j t_j log p_j with log p_j = x_j - log(e + e^2 + e^3) */
    float logits[3] = {1, 2, 3};
    int label = 0;
    double lse = log(exp(1) + exp(2) + exp(3));
    double want = -(0.8 * (1 - lse) + 0.1 * (2 - lse) + 0.1 * (3 - lse));
    ck_assert_double_eq_tol(softmax_xent(logits, &label, 1, 3, 0.3, NULL, NULL), want, 1e-6);
    /* uniform logits: log k whatever the smoothing */
    float flat[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    ck_assert_double_eq_tol(softmax_xent(flat, &label, 1, 4, 0.7, NULL, NULL), log(4.0), 1e-6);
}
END_TEST

START_TEST(test_loss_gradient)
{
    int n = 3, k = 5;
    float x[15], g[15];
    int labels[3] = {4, 0, 2};
    double eps[2] = {0.0, 0.1};
    for (int e = 0; e < 2; e++) {
        fill(x, 15, -2, 2);
        softmax_xent(x, labels, n, k, eps[e], g, NULL);
        for (int i = 0; i < n * k; i++) {
            /* the loss is smooth (h^2 error ~1e-5) and computed in double: tolerance 1e-4 */
            float keep = x[i];
            x[i] = keep + 1e-2f;
            double lp = softmax_xent(x, labels, n, k, eps[e], NULL, NULL);
            x[i] = keep - 1e-2f;
            double lm = softmax_xent(x, labels, n, k, eps[e], NULL, NULL);
            x[i] = keep;
            double num = (lp - lm) / ((double)(keep + 1e-2f) - (double)(keep - 1e-2f));
            ck_assert_double_eq_tol(g[i], num, 1e-4);
        }
        /* each row of (softmax - t)/n sums to 0 */
        for (int r = 0; r < n; r++) {
            double s = 0;
            for (int j = 0; j < k; j++)
                s += g[r * k + j];
            ck_assert_double_eq_tol(s, 0.0, 1e-6);
        }
    }
}
END_TEST

START_TEST(test_loss_stability)
{
    float x[3] = {1e4f, 0, -1e4f}, g[3];
    int label = 0, correct = 0;
    double l = softmax_xent(x, &label, 1, 3, 0.0, g, &correct);
    ck_assert(isfinite(l));
    ck_assert_double_eq_tol(l, 0.0, 1e-6);
    ck_assert_int_eq(correct, 1);
    label = 1;
    l = softmax_xent(x, &label, 1, 3, 0.0, g, NULL);
    ck_assert_double_eq_tol(l, 1e4, 1e-2);
    ck_assert_double_eq_tol(g[0], 1.0, 1e-6);
    ck_assert_double_eq_tol(g[1], -1.0, 1e-6);
    ck_assert_double_eq_tol(g[2], 0.0, 1e-6);
    float y[3] = {-1e4f, -1e4f, -1e4f};
    ck_assert_double_eq_tol(softmax_xent(y, &label, 1, 3, 0.0, g, NULL), log(3.0), 1e-6);
}
END_TEST

/* A rank's rows of a global batch: its dlogits are the whole batch's rows
 * (scaled by 1/n_global), bit for bit; n_global == n is softmax_xent. */
START_TEST(test_loss_part)
{
    float x[15], g[15], gp[15];
    int labels[5] = {0, 2, 1, 1, 0}, c1 = 0, c2 = 0;
    for (int i = 0; i < 15; i++)
        x[i] = (float)sin(i * 1.7);
    double whole = softmax_xent(x, labels, 5, 3, 0.1, g, &c1);
    ck_assert(softmax_xent_part(x, labels, 5, 5, 3, 0.1, gp, NULL) == whole);
    double a = softmax_xent_part(x, labels, 2, 5, 3, 0.1, gp, &c2);
    double b = softmax_xent_part(x + 6, labels + 2, 3, 5, 3, 0.1, gp + 6, &c2);
    ck_assert(memcmp(g, gp, sizeof g) == 0);
    ck_assert_double_eq_tol((a * 2 + b * 3) / 5, whole, 1e-12);
    ck_assert_int_eq(c1, c2);
    ck_assert(isnan(softmax_xent_part(x, labels, 5, 4, 3, 0.1, gp, NULL))); /* n_global < n */
}
END_TEST

START_TEST(test_loss_errors)
{
    float x[4] = {1, 2, 3, 4}, g[4] = {7, 7, 7, 7};
    int bad[2] = {0, 2}, neg[2] = {-1, 0}, good[2] = {0, 1};
    int correct = 0;
    ck_assert(isnan(softmax_xent(x, bad, 2, 2, 0.0, g, &correct)));
    ck_assert(isnan(softmax_xent(x, neg, 2, 2, 0.0, g, &correct)));
    ck_assert(isnan(softmax_xent(x, good, 0, 2, 0.0, g, &correct)));
    ck_assert(isnan(softmax_xent(x, good, 2, 0, 0.0, g, &correct)));
    ck_assert(isnan(softmax_xent(x, good, 2, 2, -0.1, g, &correct)));
    ck_assert(isnan(softmax_xent(x, good, 2, 2, 1.5, g, &correct)));
    ck_assert_int_eq(correct, 0);
    ck_assert_float_eq(g[0], 7.0f); /* nothing written */
}
END_TEST

int main(void)
{
    return RUN_TEST_CASES("layers",
        {.name = "plugins",
         .tests = TESTS(test_descriptors, test_option_errors, test_shapes_and_macs, test_geometry,
                        test_param_desc, test_conv2d_forward_reference, test_pool_forward_reference,
                        test_pool_hand_values, test_maxpool_ties, test_maxpool_s2_vectorised,
                        test_lrn_forward_reference, test_grad_conv2d, test_grad_linear, test_grad_relu,
                        test_grad_maxpool, test_grad_avgpool, test_grad_adaptive_avgpool, test_grad_flatten,
                        test_grad_lrn, test_grad_batchnorm2d, test_grad_dropout, test_backward_without_din,
                        test_dropout_mask, test_dropout_mask_sequence, test_batchnorm_stats, test_loss_value,
                        test_loss_smoothing, test_loss_gradient, test_loss_stability, test_loss_errors,
                        test_dropout_sample_offset, test_loss_part)});
}
