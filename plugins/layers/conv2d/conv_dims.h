/* conv_dims.h — the geometry of one conv2d layer, shared by its paths
 * (conv_direct, conv_im2col, conv_winograd): groups = 1, dilation = 1.
 * A batch of n inputs is (n, c, h, w), outputs (n, k, oh, ow), the weight
 * (k, c, kh, kw), all float32, contiguous, NCHW. */
#ifndef STRATA_CONV_DIMS_H
#define STRATA_CONV_DIMS_H
#include <stddef.h>

typedef struct conv_dims {
    int c, h, w;    /* input image */
    int k, oh, ow;  /* output image; k = output channels */
    int kh, kw;     /* kernel */
    int sh, sw;     /* stride */
    int ph, pw;     /* zero padding */
    size_t budget;  /* floats the fast paths' per-chunk buffers may use */
} conv_dims;

/* The output columns x in [*x0, *x1) whose tap j reads an input column
 * x*s - p + j inside [0, w). Same for rows with (oh, h, sh, ph). */
static inline void conv_valid_range(int ow, int w, int s, int p, int j, int *x0, int *x1)
{
    int lo = p - j, hi = w - 1 + p - j; /* need lo <= x*s <= hi */
    int a = lo <= 0 ? 0 : (lo + s - 1) / s;
    int b = hi < 0 ? 0 : hi / s + 1;
    *x0 = a;
    *x1 = b < ow ? b : ow;
    if (*x1 < *x0)
        *x1 = *x0;
}

/* Helpers of the per-ISA kernels (STRATA_MULTIVERSION, common/simd.h) are
 * inlined, so they are compiled at each level too. */
#define CONV_INLINE static inline __attribute__((always_inline))

/* Threads to use: ctx->threads, at least 1. */
static inline int conv_threads(int t) { return t > 0 ? t : 1; }
#endif
