/* pool_shape.h — options and output size shared by maxpool and avgpool
 * (private to the layer plugins; static functions, no linkage).
 *
 * Options: kernel (required, int or [h, w]), stride (default = kernel),
 * padding (0), ceil_mode (false). PyTorch's rules:
 *   out = floor_or_ceil((in + 2*pad - kernel) / stride) + 1,
 *   and with ceil_mode the last window must start inside the input or the
 *   left padding: if (out - 1) * stride >= in + pad then out -= 1.
 *   padding must be at most kernel / 2.
 */
#ifndef STRATA_POOL_SHAPE_H
#define STRATA_POOL_SHAPE_H
#include <strata/plugin.h>
#include "common/layer_new.h"

typedef struct pool_shape {
    int c, h, w;   /* input image */
    int oh, ow;    /* output image (c channels) */
    int kh, kw, sh, sw, ph, pw;
    int ceil_mode;
} pool_shape;

static int pool_out_size(int in, int k, int s, int p, int ceil_mode)
{
    int span = in + 2 * p - k; /* >= 0, checked by the caller */
    int out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + p)
        out--;
    return out;
}

/* Read the options of a pooling layer named `layer` over input `in`.
 * Returns 0, or -1 after reporting through host->opt_error. */
static int pool_shape_parse(const strata_host *host, strata_opts *o,
                            strata_shape in, const char *layer, pool_shape *ps)
{
    long k[2], s[2], p[2];
    int r = host->opt_int_pair(o, "kernel", 0, 1, 1 << 16, k);
    if (r < 0)
        return -1;
    if (r == 1)
        return host->opt_error(o, "kernel", "required: the %s window size (an integer >= 1 or [h, w])", layer);
    r = host->opt_int_pair(o, "stride", 0, 1, 1 << 16, s);
    if (r < 0)
        return -1;
    if (r == 1)
        s[0] = k[0], s[1] = k[1];
    if (host->opt_int_pair(o, "padding", 0, 0, 1 << 16, p) < 0 ||
        host->opt_bool(o, "ceil_mode", 0, &ps->ceil_mode) < 0)
        return -1;
    if (p[0] > k[0] / 2 || p[1] > k[1] / 2)
        return host->opt_error(o, "padding",
                               "padding %ldx%ld must be at most half the kernel %ldx%ld",
                               p[0], p[1], k[0], k[1]);
    if (layer_shape_check(host, o, layer, in) < 0)
        return -1;
    if (k[0] > in.h + 2 * p[0] || k[1] > in.w + 2 * p[1])
        return host->opt_error(o, "kernel",
                               "kernel %ldx%ld is larger than the padded input %ldx%ld "
                               "(input %dx%d, padding %ldx%ld)",
                               k[0], k[1], in.h + 2 * p[0], in.w + 2 * p[1], in.h, in.w,
                               p[0], p[1]);
    ps->c = in.c, ps->h = in.h, ps->w = in.w;
    ps->kh = (int)k[0], ps->kw = (int)k[1];
    ps->sh = (int)s[0], ps->sw = (int)s[1];
    ps->ph = (int)p[0], ps->pw = (int)p[1];
    ps->oh = pool_out_size(ps->h, ps->kh, ps->sh, ps->ph, ps->ceil_mode);
    ps->ow = pool_out_size(ps->w, ps->kw, ps->sw, ps->pw, ps->ceil_mode);
    return 0;
}
#endif
