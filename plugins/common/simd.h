/* simd.h — private to the plugins: the vector types and the one way a hot
 * function is compiled for several x86-64 levels and dispatched on
 * strata_isa() (common/isa.h), so STRATA_ISA=avx2 or =base runs, and tests,
 * the lower levels on any CPU (GCC's target_clones resolve by CPU alone).
 *
 *   STRATA_MULTIVERSION(void, scale, (float *x, size_t n, float a), (x, n, a))
 *   {
 *       for (size_t i = 0; i < n; i++)
 *           x[i] *= a;
 *   }
 *
 * defines `static void scale(float *x, size_t n, float a)`, which calls the
 * body compiled for x86-64-v4 (AVX-512 F/BW/DQ/VL), x86-64-v3 (AVX2 + FMA)
 * or the baseline, by strata_isa(). The body is inlined into each (helpers
 * it calls should be STRATA_INLINE so they are compiled at that level too).
 * The top level is x86-64-v4, not avx512f alone: without BW and DQ, GCC 12
 * does not vectorise loops over bytes (dropout's mask) or 64-bit multiplies.
 * Generic vector-extension compares stay scalar under a target attribute
 * whatever the level (maxpool.c shows the way around it).
 * Elsewhere (not GCC on x86-64) it is the plain function. */
#ifndef STRATA_PLUGINS_SIMD_H
#define STRATA_PLUGINS_SIMD_H
#include <stdint.h>
#include "common/isa.h"

#define STRATA_INLINE static inline __attribute__((always_inline))

/* Vectors of 16, 8 and 4 lanes (GCC vector extensions); the u types are
 * unaligned views for loads and stores through any float pointer. */
typedef float v16f __attribute__((vector_size(64)));
typedef float v16fu __attribute__((vector_size(64), aligned(4), may_alias));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v8fu __attribute__((vector_size(32), aligned(4), may_alias));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define STRATA_X86_DISPATCH 1
#define STRATA_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define STRATA_TARGET_AVX2 __attribute__((target("arch=x86-64-v3")))
#define STRATA_MULTIVERSION(ret, name, params, args)                                \
    STRATA_INLINE ret name##_body params;                                           \
    STRATA_TARGET_AVX512 __attribute__((noinline)) static ret name##_avx512 params \
    {                                                                               \
        return name##_body args;                                                    \
    }                                                                               \
    STRATA_TARGET_AVX2 __attribute__((noinline)) static ret name##_avx2 params     \
    {                                                                               \
        return name##_body args;                                                    \
    }                                                                               \
    __attribute__((noinline)) static ret name##_base params { return name##_body args; } \
    static ret name params                                                          \
    {                                                                               \
        strata_isa_level l_ = strata_isa();                                         \
        return l_ == STRATA_ISA_AVX512 ? name##_avx512 args                         \
             : l_ == STRATA_ISA_AVX2   ? name##_avx2 args                           \
                                       : name##_base args;                          \
    }                                                                               \
    STRATA_INLINE ret name##_body params
#else
#define STRATA_X86_DISPATCH 0
#define STRATA_TARGET_AVX512
#define STRATA_TARGET_AVX2
#define STRATA_MULTIVERSION(ret, name, params, args) static ret name params
#endif

#endif
