/* conv_dims.h — the geometry of one conv2d layer, shared by its paths
 * (conv_direct, conv_im2col, conv_winograd, conv_smallc): groups = 1,
 * dilation = 1. A batch of n inputs is (n, c, h, w), outputs (n, k, oh,
 * ow), the weight (k, c, kh, kw), all float32, contiguous, NCHW. */
#ifndef STRATA_CONV_DIMS_H
#define STRATA_CONV_DIMS_H
#include <stddef.h>
#include "common/simd.h" /* CONV_BY_ISA's targets */

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

/* static void name params, which runs body(level, args...) compiled for
 * strata_isa()'s level (common/simd.h's targets) with the level a constant
 * there, so body can pick its register blocking by level. Unlike
 * STRATA_MULTIVERSION the levels compile with fp-contract=fast: a*b + c in
 * body is meant as one FMA where the level has one. params and args are
 * parenthesised lists, as STRATA_MULTIVERSION takes them. */
#define CONV_ARGS_(...) __VA_ARGS__
#define CONV_CALL_(f, level, ...) f(level, __VA_ARGS__)
#if STRATA_X86_DISPATCH
#define CONV_BY_ISA(name, params, args, body)                                               \
    STRATA_TARGET_AVX512 __attribute__((optimize("fp-contract=fast"), noinline)) static void \
    name##_avx512 params                                                                    \
    {                                                                                       \
        CONV_CALL_(body, STRATA_ISA_AVX512, CONV_ARGS_ args);                               \
    }                                                                                       \
    STRATA_TARGET_AVX2 __attribute__((optimize("fp-contract=fast"), noinline)) static void  \
    name##_avx2 params                                                                      \
    {                                                                                       \
        CONV_CALL_(body, STRATA_ISA_AVX2, CONV_ARGS_ args);                                 \
    }                                                                                       \
    __attribute__((noinline)) static void name##_base params                                \
    {                                                                                       \
        CONV_CALL_(body, STRATA_ISA_BASE, CONV_ARGS_ args);                                 \
    }                                                                                       \
    static void name params                                                                 \
    {                                                                                       \
        strata_isa_level isa = strata_isa();                                                \
        if (isa == STRATA_ISA_AVX512)                                                       \
            name##_avx512 args;                                                             \
        else if (isa == STRATA_ISA_AVX2)                                                    \
            name##_avx2 args;                                                               \
        else                                                                                \
            name##_base args;                                                               \
    }
#else
#define CONV_BY_ISA(name, params, args, body)                                               \
    static void name params { CONV_CALL_(body, STRATA_ISA_BASE, CONV_ARGS_ args); }
#endif

/* Threads to use: ctx->threads, at least 1. */
static inline int conv_threads(int t) { return t > 0 ? t : 1; }
#endif
