/* conv2d.c — 2-D convolution (PyTorch's nn.Conv2d, groups = 1, dilation = 1).
 *
 * Options: out_channels (required, >= 1), kernel (required, int or [h, w]),
 * stride (1), padding (0), bias (true), algo (auto | winograd | im2col |
 * direct | smallc), workspace (64: MiB the fast paths' buffers may use; the
 * batch is split to fit, down to one image or one row of tiles).
 * in_channels is the input's c.
 * Params: weight (OC, C, KH, KW), bias (OC).
 *
 * The paths, each in its own file:
 *   winograd  conv_winograd.c: alpha x alpha tiles + alpha^2 batched sgemm
 *             calls, F(4x4, 3x3) or F(5x5, 3x3) for 3x3 kernels (padding
 *             <= 2), F(3x3, 5x5) or F(2x2, 5x5) for 5x5 kernels (padding
 *             <= 4), per map by GEMM work; a square kernel with stride
 *             s >= 2 whose ceil(kernel / s) is 3 or 5 (AlexNet's 11x11
 *             stride 4) as a stride-1 Winograd convolution of the input's
 *             s x s phase planes (conv_phase_wino.c)
 *   im2col    conv_im2col.c: each image's column matrix + sgemm straight
 *             into the output, images shared between threads
 *   smallc    conv_smallc.c: forward by a vectorised direct convolution for
 *             c <= 4 (the RGB first layer), backward as im2col
 *   direct    conv_direct.c: the textbook loops, the reference
 *   auto      winograd where it fits and both channel counts are >= 16,
 *             for strided layers where the phase planes number >= 16, k >=
 *             16 and the output is at least 20x20 (AlexNet's conv1 at 112
 *             and 224 px), smallc for other layers with c <= 4, else im2col.
 * The bias gradient: conv_bias.c (Winograd sums its transformed tiles).
 * scratch_bytes(n) is what the chosen path uses for a batch of n (bounded:
 * both fast paths split the batch into chunks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strata/plugin.h>
#include "conv_dims.h"
#include "conv_direct.h"
#include "conv_im2col.h"
#include "conv_smallc.h"
#include "conv_winograd.h"
#include "conv_phase_wino.h"
#include "conv_bias.h"
#include "common/layer_new.h"

/* ALGO_PHASE_WINO: algo winograd resolved for a strided layer (no name of its own) */
enum { ALGO_AUTO, ALGO_WINOGRAD, ALGO_IM2COL, ALGO_DIRECT, ALGO_SMALLC, ALGO_PHASE_WINO };
static const char *const algo_names[] = {"auto", "winograd", "im2col", "direct", "smallc", NULL};

typedef struct conv2d {
    conv_dims d;
    int bias;
    int algo; /* resolved: ALGO_WINOGRAD, ALGO_PHASE_WINO, ALGO_IM2COL, ALGO_DIRECT or ALGO_SMALLC */
    int wino_blas; /* STRATA_CONV_BLAS_THREADS=1: Winograd's GEMMs on OpenBLAS's threads */
} conv2d;

/* auto: Winograd for 3x3 and 5x5 stride-1 layers with enough channels on
 * both sides (16) for its GEMMs to be efficient, and for strided first
 * layers on its phase planes where that was measured faster
 * (conv_phase_wino_auto), smallc for the other few-channel first layers,
 * im2col + GEMM otherwise. With the fused transforms, 5x5
 * layers with 16 input channels (27x27, 16 -> 64 and 16 -> 128) run
 * Winograd 1.4-1.8x as fast as im2col at both AVX2 and AVX-512, 8 -> 64
 * about as fast or slower: the same threshold for every level. */
static int auto_algo(const conv_dims *d)
{
    if (conv_winograd_fits(d) && d->c >= 16 && d->k >= 16)
        return ALGO_WINOGRAD;
    if (conv_phase_wino_auto(d))
        return ALGO_PHASE_WINO;
    return conv_smallc_fits(d) ? ALGO_SMALLC : ALGO_IM2COL;
}

/* ---- create -------------------------------------------------------------- */

static void *conv2d_create(const strata_host *host, strata_opts *o,
                           strata_shape in, strata_shape *out)
{
    long oc, k[2], s[2], p[2], ws;
    int bias, algo;
    int r = host->opt_int(o, "out_channels", 0, 1, 1 << 20, &oc);
    if (r < 0)
        return NULL;
    if (r == 1) {
        host->opt_error(o, "out_channels", "required: the number of output channels (an integer >= 1)");
        return NULL;
    }
    r = host->opt_int_pair(o, "kernel", 0, 1, 1 << 16, k);
    if (r < 0)
        return NULL;
    if (r == 1) {
        host->opt_error(o, "kernel", "required: the kernel size (an integer >= 1 or [h, w])");
        return NULL;
    }
    if (host->opt_int_pair(o, "stride", 1, 1, 1 << 16, s) < 0 ||
        host->opt_int_pair(o, "padding", 0, 0, 1 << 16, p) < 0 ||
        host->opt_bool(o, "bias", 1, &bias) < 0 ||
        host->opt_choice(o, "algo", algo_names, ALGO_AUTO, &algo) < 0 ||
        host->opt_int(o, "workspace", 64, 1, 1 << 20, &ws) < 0)
        return NULL;
    if (layer_shape_check(host, o, "conv2d", in) < 0)
        return NULL;
    if (k[0] > in.h + 2 * p[0] || k[1] > in.w + 2 * p[1]) {
        host->opt_error(o, "kernel",
                        "kernel %ldx%ld is larger than the padded input %ldx%ld "
                        "(input %dx%d, padding %ldx%ld)",
                        k[0], k[1], in.h + 2 * p[0], in.w + 2 * p[1], in.h, in.w,
                        p[0], p[1]);
        return NULL;
    }
    conv_dims d = {.c = in.c, .h = in.h, .w = in.w, .k = (int)oc,
                   .kh = (int)k[0], .kw = (int)k[1], .sh = (int)s[0], .sw = (int)s[1],
                   .ph = (int)p[0], .pw = (int)p[1],
                   .budget = ((size_t)ws << 20) / sizeof(float)};
    d.oh = (d.h + 2 * d.ph - d.kh) / d.sh + 1;
    d.ow = (d.w + 2 * d.pw - d.kw) / d.sw + 1;
    if (algo == ALGO_AUTO)
        algo = auto_algo(&d);
    if (algo == ALGO_WINOGRAD && !conv_winograd_fits(&d)) {
        if (!conv_phase_wino_fits(&d)) {
            host->opt_error(o, "algo",
                            "winograd needs a 3x3 or 5x5 kernel, stride 1 and padding <= 2 (3x3) "
                            "or <= 4 (5x5), or a square kernel and stride s >= 2 with "
                            "ceil(kernel / s) = 3 or 5 (e.g. 11x11 stride 4), got kernel %dx%d, "
                            "stride %dx%d, padding %dx%d (use auto, im2col or direct)",
                            d.kh, d.kw, d.sh, d.sw, d.ph, d.pw);
            return NULL;
        }
        algo = ALGO_PHASE_WINO;
    }
    if (algo == ALGO_SMALLC && !conv_smallc_fits(&d)) {
        host->opt_error(o, "algo", "smallc needs at most 4 input channels, got %d (use auto, "
                        "im2col or direct)", d.c);
        return NULL;
    }
    conv2d *L = layer_alloc(host, o, sizeof *L);
    if (!L)
        return NULL;
    L->d = d;
    L->bias = bias;
    L->algo = algo;
    const char *e = getenv("STRATA_CONV_BLAS_THREADS");
    L->wino_blas = e && *e == '1';
    out->c = d.k, out->h = d.oh, out->w = d.ow;
    return L;
}

static void conv2d_destroy(void *layer) { free(layer); }

static int conv2d_num_params(const void *layer)
{
    return ((const conv2d *)layer)->bias ? 2 : 1;
}

static void conv2d_param_desc(const void *layer, int i, strata_param_desc *d)
{
    const conv_dims *c = &((const conv2d *)layer)->d;
    memset(d, 0, sizeof *d);
    d->fan_in = (int64_t)c->c * c->kh * c->kw;
    d->fan_out = (int64_t)c->k * c->kh * c->kw;
    if (i == 0) {
        d->name = "weight";
        d->ndim = 4;
        d->dims[0] = c->k, d->dims[1] = c->c, d->dims[2] = c->kh, d->dims[3] = c->kw;
        d->role = STRATA_INIT_CONV_WEIGHT;
    } else {
        d->name = "bias";
        d->ndim = 1;
        d->dims[0] = c->k;
        d->role = STRATA_INIT_BIAS;
    }
}

static void conv2d_geometry(const void *layer, int kernel[2], int stride[2])
{
    const conv_dims *d = &((const conv2d *)layer)->d;
    kernel[0] = d->kh, kernel[1] = d->kw;
    stride[0] = d->sh, stride[1] = d->sw;
}

static int64_t conv2d_macs(const void *layer)
{
    const conv_dims *d = &((const conv2d *)layer)->d;
    return (int64_t)d->k * d->oh * d->ow * d->c * d->kh * d->kw;
}

static size_t conv2d_scratch_bytes(const void *layer, int n)
{
    const conv2d *L = layer;
    if (L->algo == ALGO_WINOGRAD)
        return conv_winograd_scratch_bytes(&L->d, n);
    if (L->algo == ALGO_PHASE_WINO)
        return conv_phase_wino_scratch_bytes(&L->d, n);
    if (L->algo == ALGO_IM2COL)
        return conv_im2col_scratch_bytes(&L->d, n);
    if (L->algo == ALGO_SMALLC)
        return conv_smallc_scratch_bytes(&L->d, n);
    return 0;
}

/* Winograd's forward keeps its transformed input for backward-weights
 * where that pays and it is small (conv_winograd_saved_floats: AlexNet's
 * conv3-5, VGG-16's 14x14 layers): saved memory, kept from forward to
 * backward. */
static size_t conv2d_saved_floats(const conv2d *L, int n)
{
    if (L->algo == ALGO_WINOGRAD)
        return conv_winograd_saved_floats(&L->d, n);
    if (L->algo == ALGO_PHASE_WINO)
        return conv_phase_wino_saved_floats(&L->d, n);
    return 0;
}

static size_t conv2d_saved_bytes(const void *layer, int n)
{
    return sizeof(float) * conv2d_saved_floats(layer, n);
}

/* The kept V of this step's training pass: forward fills it, backward reads
 * it (NULL: not kept, or not training). */
static float *kept_v(const conv2d *L, const strata_ctx *ctx, int n, void *saved)
{
    return ctx->training && saved && conv2d_saved_floats(L, n) ? saved : NULL;
}

/* ---- forward / backward -------------------------------------------------- */

/* in (N, C, H, W), weight (OC, C, KH, KW), bias (OC) or NULL, out (N, OC, OH, OW):
 * out[n][o][y][x] = bias[o] + sum_{c,i,j} weight[o][c][i][j] *
 *                   in[n][c][y*SH - PH + i][x*SW - PW + j]   (0 outside). */
static void conv2d_forward(const void *layer, const strata_ctx *ctx, int n,
                           const float *in, float *out, float *const *params,
                           void *saved, void *scratch)
{
    const conv2d *L = layer;
    const float *weight = params[0], *bias = L->bias ? params[1] : NULL;
    int threads = conv_threads(ctx->threads);
    if (L->algo == ALGO_WINOGRAD)
        conv_winograd_forward(&L->d, n, in, weight, bias, out, scratch, kept_v(L, ctx, n, saved), threads);
    else if (L->algo == ALGO_PHASE_WINO)
        conv_phase_wino_forward(&L->d, n, in, weight, bias, out, scratch, kept_v(L, ctx, n, saved), threads);
    else if (L->algo == ALGO_IM2COL)
        conv_im2col_forward(&L->d, n, in, weight, bias, out, scratch, threads);
    else if (L->algo == ALGO_SMALLC)
        conv_smallc_forward(&L->d, n, in, weight, bias, out, scratch, threads);
    else
        conv_direct_forward(&L->d, n, in, weight, bias, out);
}

/* dout (N, OC, OH, OW):
 *   dweight[o][c][i][j] += sum_{n,y,x} dout[n][o][y][x] * in[n][c][y*SH-PH+i][x*SW-PW+j]
 *   dbias[o]            += sum_{n,y,x} dout[n][o][y][x]
 *   din                  = the adjoint of forward applied to dout (if din) */
static void conv2d_backward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, const float *out, const float *dout,
                            float *din, float *const *params, float *const *dparams,
                            void *saved, void *scratch)
{
    const conv2d *L = layer;
    const float *weight = params[0];
    float *dweight = dparams[0];
    int threads = conv_threads(ctx->threads);
    float *dbias = L->bias ? dparams[1] : NULL;
    if (dbias && L->algo != ALGO_WINOGRAD && L->algo != ALGO_PHASE_WINO &&
        L->algo != ALGO_SMALLC) /* those sum dout themselves */
        conv_bias_backward(dbias, dout, n, L->d.k, (size_t)L->d.oh * L->d.ow, threads);
    if (L->algo == ALGO_WINOGRAD)
        conv_winograd_backward(&L->d, n, in, dout, weight, dweight, dbias, din, scratch,
                               kept_v(L, ctx, n, saved), threads);
    else if (L->algo == ALGO_PHASE_WINO)
        conv_phase_wino_backward(&L->d, n, in, dout, weight, dweight, dbias, din, scratch,
                                 kept_v(L, ctx, n, saved), threads);
    else if (L->algo == ALGO_SMALLC)
        conv_smallc_backward(&L->d, n, in, dout, weight, dweight, dbias, din, scratch, threads);
    else if (L->algo == ALGO_IM2COL)
        conv_im2col_backward(&L->d, n, in, dout, weight, dweight, din, scratch, threads);
    else
        conv_direct_backward(&L->d, n, in, dout, weight, dweight, din);
}

/* OpenBLAS threads for a pass (the host sets them; see plugin.h): 1
 * where the path runs its GEMMs on its own threads, one OpenBLAS thread
 * each — Winograd's alpha^2 GEMMs and pipelined workers; im2col when two
 * or more image slots share the batch (forward: min(threads, slots, n)
 * workers; backward: min(threads, slots, 8 groups)); smallc's backward,
 * whose din GEMMs run single-threaded for any thread count (the same sums).
 * Otherwise the GEMMs run one at a time on `threads` OpenBLAS threads.
 * STRATA_CONV_BLAS_THREADS=1 makes Winograd's GEMMs serial on OpenBLAS's
 * threads (for comparison). */
static int conv2d_blas_threads(const void *layer, int backward, int n, int threads)
{
    const conv2d *L = layer;
    int p, slots;
    switch (L->algo) {
    case ALGO_WINOGRAD:
    case ALGO_PHASE_WINO:
        return L->wino_blas ? threads : 1;
    case ALGO_IM2COL:
        slots = conv_im2col_chunk(&L->d, n);
        p = backward ? (slots < 8 ? slots : 8) : (slots < n ? slots : n);
        return (threads < p ? threads : p) >= 2 ? 1 : threads;
    case ALGO_SMALLC:
        return backward ? 1 : threads;
    default:
        return threads;
    }
}

static void conv2d_describe(const void *layer, char *buf, size_t size)
{
    const conv2d *L = layer;
    if (L->algo == ALGO_WINOGRAD)
        conv_winograd_describe(&L->d, 1, buf, size);
    else if (L->algo == ALGO_PHASE_WINO)
        conv_phase_wino_describe(&L->d, buf, size);
    else
        snprintf(buf, size, "%s", L->algo == ALGO_IM2COL  ? "im2col + sgemm"
                                  : L->algo == ALGO_SMALLC ? "smallc (direct, few channels)"
                                                           : "direct (the reference loops)");
}

STRATA_PLUGIN_DEFINE(LAYER, "conv2d", "1.0",
                     "2-D convolution (Winograd F(4x4,3x3), F(5x5,3x3), F(3x3,5x5), F(2x2,5x5) / "
                     "im2col + sgemm), PyTorch's nn.Conv2d",
                     .create = conv2d_create,
                     .destroy = conv2d_destroy,
                     .num_params = conv2d_num_params,
                     .param_desc = conv2d_param_desc,
                     .geometry = conv2d_geometry,
                     .macs = conv2d_macs,
                     .scratch_bytes = conv2d_scratch_bytes,
                     .saved_bytes = conv2d_saved_bytes,
                     .forward = conv2d_forward,
                     .backward = conv2d_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED, /* backward reads in, dout and the weights only */
                     .blas_threads = conv2d_blas_threads,
                     .describe = conv2d_describe)
