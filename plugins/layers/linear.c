/* linear.c — fully connected layer (PyTorch's nn.Linear).
 *
 * Options: out_features (required, >= 1), bias (true), in_features (optional:
 * when given it must equal the input's c*h*w), algo (auto | blas | kernel).
 * The input must be flat (h == w == 1); the output is (out_features, 1, 1).
 * Params: weight (OUT, IN), bias (OUT).
 *
 * algo: blas is one multi-threaded cblas_sgemm per product; kernel is
 * linear_kernel.c (register-blocked AVX-512 or AVX2 tiles by strata_isa(),
 * W streamed unpacked, results independent of the thread count), which
 * needs the AVX2 level at least; auto takes kernel where it is available,
 * but sgemm for fewer than 16 outputs at the AVX-512 level (the kernel
 * transposes the whole input for a few rows of W, and one thread does
 * them), and sgemm at the base level. The kernel is the faster one on
 * small batches such as AlexNet's fc6 (4608 -> 2048, batch 32, 2 threads):
 * sgemm packs all of W on each call and splits M = 32 badly between
 * threads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <strata/plugin.h>
#include "common/isa.h"
#include "linear_kernel.h"
#include "common/layer_new.h"

enum { ALGO_AUTO, ALGO_BLAS, ALGO_KERNEL };

/* algo: auto for nout outputs at this ISA level */
static int auto_algo(int nout)
{
    if (!linear_kernel_available())
        return ALGO_BLAS;
    return strata_isa() == STRATA_ISA_AVX512 && nout < 16 ? ALGO_BLAS : ALGO_KERNEL;
}
static const char *const algo_names[] = {"auto", "blas", "kernel", NULL};

typedef struct linear {
    int in, out;
    int bias;
    int algo; /* resolved: ALGO_BLAS or ALGO_KERNEL */
} linear;

static void *linear_create(const strata_host *host, strata_opts *o,
                           strata_shape in, strata_shape *out)
{
    long nout, nin;
    int bias, algo;
    int r = host->opt_int(o, "out_features", 0, 1, 1L << 30, &nout);
    if (r < 0)
        return NULL;
    if (r == 1) {
        host->opt_error(o, "out_features", "required: the number of output features (an integer >= 1)");
        return NULL;
    }
    if (host->opt_bool(o, "bias", 1, &bias) < 0)
        return NULL;
    int has_in = host->opt_int(o, "in_features", 0, 1, 1L << 30, &nin);
    if (has_in < 0)
        return NULL;
    if (host->opt_choice(o, "algo", algo_names, ALGO_AUTO, &algo) < 0)
        return NULL;
    if (algo == ALGO_AUTO)
        algo = auto_algo((int)nout);
    if (algo == ALGO_KERNEL && !linear_kernel_available()) {
        host->opt_error(o, "algo", "kernel needs AVX2 + FMA or AVX-512, the ISA level is %s "
                        "(the CPU's, capped by STRATA_ISA): use auto or blas",
                        strata_isa_name(strata_isa()));
        return NULL;
    }
    if (layer_shape_check(host, o, "linear", in) < 0)
        return NULL;
    if (in.h != 1 || in.w != 1) {
        host->opt_error(o, NULL,
                        "linear needs a flat input (c, 1, 1), got (%d, %d, %d): "
                        "add a flatten layer before it",
                        in.c, in.h, in.w);
        return NULL;
    }
    if (has_in == 0 && nin != in.c) {
        host->opt_error(o, "in_features",
                        "in_features is %ld but the input has %d features (c*h*w)",
                        nin, in.c);
        return NULL;
    }
    linear *L = layer_alloc(host, o, sizeof *L);
    if (!L)
        return NULL;
    L->in = in.c;
    L->out = (int)nout;
    L->bias = bias;
    L->algo = algo;
    out->c = L->out, out->h = 1, out->w = 1;
    return L;
}

static void linear_destroy(void *layer) { free(layer); }

static int linear_num_params(const void *layer)
{
    return ((const linear *)layer)->bias ? 2 : 1;
}

static void linear_param_desc(const void *layer, int i, strata_param_desc *d)
{
    const linear *L = layer;
    memset(d, 0, sizeof *d);
    d->fan_in = L->in;
    d->fan_out = L->out;
    if (i == 0) {
        d->name = "weight";
        d->ndim = 2;
        d->dims[0] = L->out, d->dims[1] = L->in;
        d->role = STRATA_INIT_LINEAR_WEIGHT;
    } else {
        d->name = "bias";
        d->ndim = 1;
        d->dims[0] = L->out;
        d->role = STRATA_INIT_BIAS;
    }
}

static int64_t linear_macs(const void *layer)
{
    const linear *L = layer;
    return (int64_t)L->in * L->out;
}

static size_t linear_scratch_bytes(const void *layer, int n)
{
    const linear *L = layer;
    if (L->algo != ALGO_KERNEL)
        return 0;
    size_t f = linear_kernel_forward_scratch(n, L->in, L->out);
    size_t b = linear_kernel_backward_scratch(n, L->in, L->out);
    return sizeof(float) * (f > b ? f : b);
}

/* in (N, IN), weight (OUT, IN), bias (OUT) or NULL, out (N, OUT):
 * out[n][o] = bias[o] + sum_i in[n][i] * weight[o][i]
 *           = in (N, IN) @ weight^T (IN, OUT). */
static void linear_forward(const void *layer, const strata_ctx *ctx, int n,
                           const float *in, float *out, float *const *params,
                           void *saved, void *scratch)
{
    const linear *L = layer;
    const float *weight = params[0], *bias = L->bias ? params[1] : NULL;
    if (L->algo == ALGO_KERNEL) {
        linear_kernel_forward(n, L->in, L->out, in, weight, bias, out, scratch, ctx->threads);
        return;
    }
    for (int b = 0; b < n; b++)
        for (int o = 0; o < L->out; o++)
            out[(size_t)b * L->out + o] = bias ? bias[o] : 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, L->out, L->in, 1.0f,
                in, L->in, weight, L->in, 1.0f, out, L->out);
}

/* dout (N, OUT):
 *   din (N, IN)       = dout (N, OUT) @ weight (OUT, IN)
 *   dweight (OUT, IN) += dout^T (OUT, N) @ in (N, IN)
 *   dbias (OUT)       += sum_n dout[n][o] */
static void linear_backward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, const float *out, const float *dout,
                            float *din, float *const *params, float *const *dparams,
                            void *saved, void *scratch)
{
    const linear *L = layer;
    const float *weight = params[0];
    float *dweight = dparams[0], *dbias = L->bias ? dparams[1] : NULL;
    if (L->algo == ALGO_KERNEL) {
        if (din)
            linear_kernel_backward_data(n, L->in, L->out, dout, weight, din, ctx->threads);
        linear_kernel_backward_weights(n, L->in, L->out, in, dout, dweight, dbias, scratch,
                                       ctx->threads);
        return;
    }
    if (din)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, L->in, L->out, 1.0f,
                    dout, L->out, weight, L->in, 0.0f, din, L->in);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L->out, L->in, n, 1.0f,
                dout, L->out, in, L->in, 1.0f, dweight, L->in);
    if (dbias)
        for (int o = 0; o < L->out; o++) {
            double s = 0;
            for (int b = 0; b < n; b++)
                s += dout[(size_t)b * L->out + o];
            dbias[o] += (float)s;
        }
}

static void linear_describe(const void *layer, char *buf, size_t size)
{
    const linear *L = layer;
    snprintf(buf, size, "%s", L->algo == ALGO_KERNEL ? "kernel (strata's tiles)" : "sgemm (OpenBLAS)");
}

STRATA_PLUGIN_DEFINE(LAYER, "linear", "1.0",
                     "fully connected layer (AVX-512/AVX2 tiles or sgemm), PyTorch's nn.Linear",
                     .create = linear_create,
                     .destroy = linear_destroy,
                     .num_params = linear_num_params,
                     .param_desc = linear_param_desc,
                     .macs = linear_macs,
                     .scratch_bytes = linear_scratch_bytes,
                     .forward = linear_forward,
                     .backward = linear_backward,
                     .flags = STRATA_LAYER_OUT_UNUSED,
                     .describe = linear_describe)
