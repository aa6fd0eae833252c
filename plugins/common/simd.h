/* simd.h — private to the plugins: compile a hot loop for several x86-64
 * levels and let the loader pick the best the CPU has (GCC target_clones,
 * resolved once through an ifunc). Elsewhere it is a plain function.
 * The top level is x86-64-v4 (AVX-512 F, BW, DQ, VL: every AVX-512 CPU
 * but Xeon Phi), not avx512f alone: without BW and DQ, GCC 12 does not
 * vectorise loops over bytes (dropout's mask) or 64-bit multiplies.
 * Generic vector-extension compares stay scalar under target_clones
 * whatever the level (maxpool.c shows the way around it). */
#ifndef STRATA_PLUGINS_SIMD_H
#define STRATA_PLUGINS_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define STRATA_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define STRATA_CLONES
#endif

#endif
