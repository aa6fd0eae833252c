/* conv2d.c — 2-D convolution (PyTorch's nn.Conv2d, groups = 1, dilation = 1).
 *
 * Options: out_channels (required, >= 1), kernel (required, int or [h, w]),
 * stride (1), padding (0), bias (true). in_channels is the input's c.
 * Params: weight (OC, C, KH, KW), bias (OC).
 *
 * Forward and backward go through im2col + cblas_sgemm, one image at a time;
 * scratch holds one image's column matrix (C*KH*KW, OH*OW).
 */
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include <strata/plugin.h>

typedef struct conv2d {
    int c, h, w;    /* input image */
    int oc, oh, ow; /* output image */
    int kh, kw, sh, sw, ph, pw;
    int bias;
} conv2d;

/* ---- im2col / col2im ----------------------------------------------------- */

/* img is (C, H, W); col is (C*KH*KW, OH*OW):
 * col[(c*KH + i)*KW + j][y*OW + x] = img[c][y*SH - PH + i][x*SW - PW + j],
 * 0 where the index falls in the padding. */
static void im2col(float *col, const float *img, int C, int H, int W, int KH,
                   int KW, int SH, int SW, int PH, int PW, int OH, int OW)
{
    for (int c = 0; c < C; c++)
        for (int i = 0; i < KH; i++)
            for (int j = 0; j < KW; j++) {
                float *row = col + ((size_t)(c * KH + i) * KW + j) * OH * OW;
                for (int y = 0; y < OH; y++) {
                    int iy = y * SH - PH + i;
                    for (int x = 0; x < OW; x++) {
                        int ix = x * SW - PW + j;
                        int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                        row[y * OW + x] =
                            inside ? img[((size_t)c * H + iy) * W + ix] : 0.0f;
                    }
                }
            }
}

/* The adjoint of im2col: img (C, H, W) = 0, then
 * img[c][y*SH - PH + i][x*SW - PW + j] += col[(c*KH + i)*KW + j][y*OW + x]
 * for every index inside the image. */
static void col2im(float *img, const float *col, int C, int H, int W, int KH,
                   int KW, int SH, int SW, int PH, int PW, int OH, int OW)
{
    memset(img, 0, sizeof(float) * C * H * W);
    for (int c = 0; c < C; c++)
        for (int i = 0; i < KH; i++)
            for (int j = 0; j < KW; j++) {
                const float *row = col + ((size_t)(c * KH + i) * KW + j) * OH * OW;
                for (int y = 0; y < OH; y++) {
                    int iy = y * SH - PH + i;
                    if (iy < 0 || iy >= H)
                        continue;
                    for (int x = 0; x < OW; x++) {
                        int ix = x * SW - PW + j;
                        if (ix >= 0 && ix < W)
                            img[((size_t)c * H + iy) * W + ix] += row[y * OW + x];
                    }
                }
            }
}

/* ---- create -------------------------------------------------------------- */

static void *conv2d_create(const strata_host *host, strata_opts *o,
                           strata_shape in, strata_shape *out)
{
    long oc, k[2], s[2], p[2];
    int bias;
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
        host->opt_bool(o, "bias", 1, &bias) < 0)
        return NULL;
    if (in.c < 1 || in.h < 1 || in.w < 1) {
        host->opt_error(o, NULL, "conv2d needs an input of positive shape, got (%d, %d, %d)",
                        in.c, in.h, in.w);
        return NULL;
    }
    if (k[0] > in.h + 2 * p[0] || k[1] > in.w + 2 * p[1]) {
        host->opt_error(o, "kernel",
                        "kernel %ldx%ld is larger than the padded input %ldx%ld "
                        "(input %dx%d, padding %ldx%ld)",
                        k[0], k[1], in.h + 2 * p[0], in.w + 2 * p[1], in.h, in.w,
                        p[0], p[1]);
        return NULL;
    }
    conv2d *L = calloc(1, sizeof *L);
    if (!L) {
        host->opt_error(o, NULL, "out of memory");
        return NULL;
    }
    L->c = in.c, L->h = in.h, L->w = in.w;
    L->oc = (int)oc;
    L->kh = (int)k[0], L->kw = (int)k[1];
    L->sh = (int)s[0], L->sw = (int)s[1];
    L->ph = (int)p[0], L->pw = (int)p[1];
    L->oh = (L->h + 2 * L->ph - L->kh) / L->sh + 1;
    L->ow = (L->w + 2 * L->pw - L->kw) / L->sw + 1;
    L->bias = bias;
    out->c = L->oc, out->h = L->oh, out->w = L->ow;
    return L;
}

static void conv2d_destroy(void *layer) { free(layer); }

static int conv2d_num_params(const void *layer)
{
    return ((const conv2d *)layer)->bias ? 2 : 1;
}

static void conv2d_param_desc(const void *layer, int i, strata_param_desc *d)
{
    const conv2d *L = layer;
    memset(d, 0, sizeof *d);
    d->fan_in = (int64_t)L->c * L->kh * L->kw;
    d->fan_out = (int64_t)L->oc * L->kh * L->kw;
    if (i == 0) {
        d->name = "weight";
        d->ndim = 4;
        d->dims[0] = L->oc, d->dims[1] = L->c, d->dims[2] = L->kh, d->dims[3] = L->kw;
        d->role = STRATA_INIT_CONV_WEIGHT;
    } else {
        d->name = "bias";
        d->ndim = 1;
        d->dims[0] = L->oc;
        d->role = STRATA_INIT_BIAS;
    }
}

static void conv2d_geometry(const void *layer, int kernel[2], int stride[2])
{
    const conv2d *L = layer;
    kernel[0] = L->kh, kernel[1] = L->kw;
    stride[0] = L->sh, stride[1] = L->sw;
}

static int64_t conv2d_macs(const void *layer)
{
    const conv2d *L = layer;
    return (int64_t)L->oc * L->oh * L->ow * L->c * L->kh * L->kw;
}

static size_t conv2d_saved_bytes(const void *layer, int n) { return 0; }

static size_t conv2d_scratch_bytes(const void *layer, int n)
{
    const conv2d *L = layer;
    return sizeof(float) * (size_t)L->c * L->kh * L->kw * L->oh * L->ow;
}

/* ---- forward / backward -------------------------------------------------- */

/* in (N, C, H, W), weight (OC, C, KH, KW), bias (OC) or NULL, out (N, OC, OH, OW):
 * out[n][o][y][x] = bias[o] + sum_{c,i,j} weight[o][c][i][j] *
 *                   in[n][c][y*SH - PH + i][x*SW - PW + j]   (0 outside).
 * Per image: out (OC, OH*OW) = weight (OC, K) @ col (K, OH*OW), K = C*KH*KW. */
static void conv2d_forward(const void *layer, const strata_ctx *ctx, int n,
                           const float *in, float *out, float *const *params,
                           void *saved, void *scratch)
{
    const conv2d *L = layer;
    const float *weight = params[0], *bias = L->bias ? params[1] : NULL;
    int K = L->c * L->kh * L->kw, P = L->oh * L->ow;
    float *col = scratch;
    for (int b = 0; b < n; b++) {
        const float *x = in + (size_t)b * L->c * L->h * L->w;
        float *y = out + (size_t)b * L->oc * P;
        im2col(col, x, L->c, L->h, L->w, L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, L->oh, L->ow);
        for (int o = 0; o < L->oc; o++)
            for (int p = 0; p < P; p++)
                y[(size_t)o * P + p] = bias ? bias[o] : 0.0f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L->oc, P, K, 1.0f,
                    weight, K, col, P, 1.0f, y, P);
    }
}

/* dout (N, OC, OH, OW); per image, with col = im2col(in):
 *   dweight (OC, K) += dout (OC, P) @ col^T (P, K)
 *   dbias (OC)      += sum_p dout[o][p]
 *   din (C, H, W)    = col2im(weight^T (K, OC) @ dout (OC, P)) */
static void conv2d_backward(const void *layer, const strata_ctx *ctx, int n,
                            const float *in, const float *out, const float *dout,
                            float *din, float *const *params, float *const *dparams,
                            void *saved, void *scratch)
{
    const conv2d *L = layer;
    const float *weight = params[0];
    float *dweight = dparams[0], *dbias = L->bias ? dparams[1] : NULL;
    int K = L->c * L->kh * L->kw, P = L->oh * L->ow;
    float *col = scratch;
    for (int b = 0; b < n; b++) {
        const float *x = in + (size_t)b * L->c * L->h * L->w;
        const float *dy = dout + (size_t)b * L->oc * P;
        im2col(col, x, L->c, L->h, L->w, L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, L->oh, L->ow);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L->oc, K, P, 1.0f,
                    dy, P, col, P, 1.0f, dweight, K);
        if (dbias)
            for (int o = 0; o < L->oc; o++) {
                double s = 0;
                for (int p = 0; p < P; p++)
                    s += dy[(size_t)o * P + p];
                dbias[o] += (float)s;
            }
        if (din) {
            /* col is no longer needed: reuse it for dcol */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, L->oc, 1.0f,
                        weight, K, dy, P, 0.0f, col, P);
            col2im(din + (size_t)b * L->c * L->h * L->w, col, L->c, L->h, L->w,
                   L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, L->oh, L->ow);
        }
    }
}

static const strata_layer_ops conv2d_ops = {
    .create = conv2d_create,
    .destroy = conv2d_destroy,
    .num_params = conv2d_num_params,
    .param_desc = conv2d_param_desc,
    .geometry = conv2d_geometry,
    .macs = conv2d_macs,
    .saved_bytes = conv2d_saved_bytes,
    .scratch_bytes = conv2d_scratch_bytes,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
};

static const strata_plugin conv2d_plugin = {
    .abi_version = STRATA_ABI_VERSION,
    .kind = STRATA_PLUGIN_LAYER,
    .name = "conv2d",
    .version = "1.0",
    .description = "2-D convolution (im2col + sgemm), PyTorch's nn.Conv2d",
    .layer = &conv2d_ops,
};

const strata_plugin *STRATA_PLUGIN_ENTRY(int host_abi_version)
{
    return host_abi_version == STRATA_ABI_VERSION ? &conv2d_plugin : NULL;
}
