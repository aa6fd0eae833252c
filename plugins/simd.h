/* simd.h — private to the plugins: compile a hot loop for several x86-64
 * levels and let the loader pick the best the CPU has (GCC target_clones,
 * resolved once through an ifunc). Elsewhere it is a plain function. */
#ifndef STRATA_PLUGINS_SIMD_H
#define STRATA_PLUGINS_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define STRATA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define STRATA_CLONES
#endif

#endif
