/* bench_conv.c — time conv2d's paths on VGG-16's conv layers (the flower
 * tutorial's: 224 px, conv1_2 unpadded) or AlexNet's, one layer at a time,
 * forward and backward, and sgemm 2048^3 in the same run as the yardstick.
 * Not a test: a tool for measuring (built with `make check`, not run).
 *
 *   STRATA_BUILDDIR=... t/bench_conv [--net vgg|alexnet] [--batch N] [--reps N]
 *       [--threads N] [--algo auto,winograd,im2col,direct] [--layer NAME]
 *       [--workspace MiB] [--clock wall|cpu] [--shape C,HW,K,KERNEL,STRIDE,PAD] [--no-din]
 *
 * --shape times one layer of that geometry (named "shape") instead of a net's.
 * --no-din times backward without the input gradient (as for a first layer):
 * the weight and bias gradients alone.
 *
 * Effective GFLOP/s are direct-convolution FLOPs over time: forward
 * 2*MACs*batch, backward twice that (din and dweight).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "train/blas_select.h"
#include "fake_host.h"

typedef struct layer_spec {
    const char *name;
    int c, hw, k, kernel, stride, pad;
} layer_spec;

static const layer_spec VGG[] = {
    {"conv1_1", 3, 224, 64, 3, 1, 1},    {"conv1_2", 64, 224, 64, 3, 1, 0},
    {"conv2_1", 64, 111, 128, 3, 1, 1},  {"conv2_2", 128, 111, 128, 3, 1, 1},
    {"conv3_1", 128, 55, 256, 3, 1, 1},  {"conv3_2", 256, 55, 256, 3, 1, 1},
    {"conv3_3", 256, 55, 256, 3, 1, 1},  {"conv4_1", 256, 27, 512, 3, 1, 1},
    {"conv4_2", 512, 27, 512, 3, 1, 1},  {"conv4_3", 512, 27, 512, 3, 1, 1},
    {"conv5_1", 512, 13, 512, 3, 1, 1},  {"conv5_2", 512, 13, 512, 3, 1, 1},
    {"conv5_3", 512, 13, 512, 3, 1, 1},  {NULL, 0, 0, 0, 0, 0, 0}};
static const layer_spec ALEX[] = {
    {"conv1", 3, 224, 48, 11, 4, 2},  {"conv2", 48, 27, 128, 5, 1, 2},
    {"conv3", 128, 13, 192, 3, 1, 1}, {"conv4", 192, 13, 192, 3, 1, 1},
    {"conv5", 192, 13, 128, 3, 1, 1}, {NULL, 0, 0, 0, 0, 0, 0}};

/* --clock cpu: process CPU seconds (all threads) instead of wall seconds;
 * steadier than wall time on a loaded machine, and it charges spinning. */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
    struct timespec t;
    clock_gettime(clock_id, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *frand(size_t n, uint64_t seed)
{
    float *x = malloc(n * sizeof(float));
    if (!x) {
        fprintf(stderr, "bench_conv: out of memory (%zu floats)\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * strata_rng_uniform(&seed) - 1.0f;
    return x;
}

static double sgemm_gflops(void)
{
    int N = 2048;
    float *a = frand((size_t)N * N, 1), *b = frand((size_t)N * N, 2), *c = frand((size_t)N * N, 3);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
        t = now() - t;
        best = t < best ? t : best;
    }
    free(a), free(b), free(c);
    return 2.0 * N * N * (double)N / best * 1e-9;
}

/* Best-of-reps forward and backward seconds of one layer under algo. */
static const char *workspace = "workspace=64";
static int no_din = 0;

static int time_layer(const layer_spec *l, const char *algo, int n, int reps, int threads,
                      double *tf, double *tb)
{
    char o[32], k[32], s[32], p[32], a[32];
    snprintf(o, sizeof o, "out_channels=%d", l->k);
    snprintf(k, sizeof k, "kernel=%d", l->kernel);
    snprintf(s, sizeof s, "stride=%d", l->stride);
    snprintf(p, sizeof p, "padding=%d", l->pad);
    snprintf(a, sizeof a, "algo=%s", algo);
    const char *kv[] = {o, k, s, p, a, workspace, NULL};
    const strata_plugin *pl = fake_load_builtin("layers", "conv2d");
    if (!pl)
        return -1;
    strata_opts *opts = fake_opts(kv);
    strata_shape in = {l->c, l->hw, l->hw}, out;
    void *L = pl->layer->create(&fake_host, opts, in, &out);
    if (!L) {
        fprintf(stderr, "%s (%s): %s\n", l->name, algo, fake_opts_error(opts));
        fake_opts_free(opts);
        return -1;
    }
    fake_opts_free(opts);
    size_t nin = (size_t)n * l->c * l->hw * l->hw, nout = (size_t)n * out.c * out.h * out.w;
    size_t nw = (size_t)l->k * l->c * l->kernel * l->kernel;
    float *x = frand(nin, 4), *y = frand(nout, 5), *dy = frand(nout, 6), *dx = frand(nin, 7);
    float *w = frand(nw, 8), *b = frand(l->k, 9), *dw = frand(nw, 10), *db = frand(l->k, 11);
    size_t sb = pl->layer->scratch_bytes(L, n);
    void *scratch = malloc(sb ? sb : 1);
    memset(scratch, 0, sb);
    float *params[2] = {w, b}, *dparams[2] = {dw, db};
    strata_ctx ctx = {.training = 1, .threads = threads, .seed = 1};
    *tf = *tb = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now();
        layer_set_blas(pl->layer, L, 0, n, threads); /* as the trainer does */
        pl->layer->forward(L, &ctx, n, x, y, params, NULL, scratch);
        t = now() - t;
        *tf = t < *tf ? t : *tf;
        t = now();
        layer_set_blas(pl->layer, L, 1, n, threads);
        pl->layer->backward(L, &ctx, n, x, y, dy, no_din ? NULL : dx, params, dparams, NULL,
                            scratch);
        t = now() - t;
        *tb = t < *tb ? t : *tb;
    }
    free(x), free(y), free(dy), free(dx), free(w), free(b), free(dw), free(db), free(scratch);
    pl->layer->destroy(L);
    return 0;
}

int main(int argc, char **argv)
{
    blas_select_kernel(argc, argv); /* the OpenBLAS kernel strata itself would use (may re-exec) */
    int n = 16, reps = 2, threads = 2;
    const char *algos = "im2col,winograd", *only = NULL;
    const layer_spec *net = VGG;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--batch"))
            n = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--reps"))
            reps = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--threads"))
            threads = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--algo"))
            algos = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--clock"))
            clock_id = strcmp(argv[++i], "cpu") ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID;
        else if (i + 1 < argc && !strcmp(argv[i], "--workspace")) {
            static char ws[48];
            snprintf(ws, sizeof ws, "workspace=%s", argv[++i]);
            workspace = ws;
        } else if (i + 1 < argc && !strcmp(argv[i], "--layer"))
            only = argv[++i];
        else if (!strcmp(argv[i], "--no-din"))
            no_din = 1;
        else if (i + 1 < argc && !strcmp(argv[i], "--net"))
            net = strcmp(argv[++i], "alexnet") ? VGG : ALEX;
        else if (i + 1 < argc && !strcmp(argv[i], "--shape")) {
            static layer_spec one[2] = {{.name = "shape"}, {.name = NULL}};
            layer_spec *l = &one[0];
            if (sscanf(argv[++i], "%d,%d,%d,%d,%d,%d", &l->c, &l->hw, &l->k, &l->kernel,
                       &l->stride, &l->pad) != 6 || l->c < 1 || l->hw < 1 || l->k < 1 ||
                l->kernel < 1 || l->stride < 1 || l->pad < 0) {
                fprintf(stderr, "bench_conv: --shape wants C,HW,K,KERNEL,STRIDE,PAD (positive "
                                "integers, PAD >= 0), got '%s'\n", argv[i]);
                return 2;
            }
            net = one;
        } else {
            fprintf(stderr, "usage: bench_conv [--net vgg|alexnet] [--batch N] [--reps N] "
                            "[--threads N] [--algo A,B] [--layer NAME] [--workspace MiB] [--clock wall|cpu] "
                            "[--shape C,HW,K,KERNEL,STRIDE,PAD] [--no-din]\n");
            return 2;
        }
    }
    if (n < 1 || reps < 1 || threads < 1) {
        fprintf(stderr, "bench_conv: --batch, --reps and --threads must be >= 1\n");
        return 2;
    }
    double g0 = sgemm_gflops();
    printf("sgemm 2048^3: %.1f GFLOP/s (BLAS kernel %s); batch %d, %d threads, best of %d\n", g0,
           blas_kernel_note(), n, threads, reps);
    printf("%-8s %-9s %9s %9s %8s %8s %6s %6s\n", "layer", "algo", "fwd ms", "bwd ms", "fwd GF/s",
           "bwd GF/s", "fwd x", "bwd x");
    double tot[2] = {0, 0};
    for (const layer_spec *l = net; l->name; l++) {
        if (only && strcmp(only, l->name))
            continue;
        int oh = (l->hw + 2 * l->pad - l->kernel) / l->stride + 1;
        double flops = 2.0 * l->k * l->c * l->kernel * l->kernel * (double)oh * oh * n;
        char list[256];
        snprintf(list, sizeof list, "%s", algos);
        for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
            double tf, tb;
            if (time_layer(l, a, n, reps, threads, &tf, &tb) < 0)
                continue;
            printf("%-8s %-9s %9.1f %9.1f %8.1f %8.1f %6.2f %6.2f\n", l->name, a, tf * 1e3,
                   tb * 1e3, flops / tf * 1e-9, 2 * flops / tb * 1e-9, flops / tf * 1e-9 / g0,
                   2 * flops / tb * 1e-9 / g0);
            fflush(stdout);
        }
    }
    (void)tot;
    printf("sgemm 2048^3 again: %.1f GFLOP/s\n", sgemm_gflops());
    return 0;
}
