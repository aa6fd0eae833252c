/* isa.h — the instruction-set level strata's kernels run at, one answer for
 * the whole process (the host prints it, every plugin dispatches on it).
 *
 *   STRATA_ISA_AVX512  x86-64-v4: AVX-512 F, BW, DQ, VL (every AVX-512 CPU
 *                      but Xeon Phi)
 *   STRATA_ISA_AVX2    x86-64-v3: AVX2, FMA, BMI1/2, F16C, MOVBE
 *   STRATA_ISA_BASE    plain x86-64 (SSE2), or any other architecture
 *
 * strata_isa() is the highest level the CPU supports, capped by the
 * environment variable STRATA_ISA (avx512, avx2, base; unset, empty or auto:
 * no cap). A cap above the CPU gives the CPU's level; an unknown value is
 * treated as no cap here (the host refuses it before any layer runs, see
 * strata_isa_check_env). Computed once, then cached; thread-safe.
 *
 * This file is compiled into libstrata and into each plugin that uses it
 * (plugins never link libstrata): both compute the same function of the
 * CPU and the environment, so they agree. */
#ifndef STRATA_COMMON_ISA_H
#define STRATA_COMMON_ISA_H

typedef enum strata_isa_level {
    STRATA_ISA_BASE = 0,
    STRATA_ISA_AVX2 = 1,
    STRATA_ISA_AVX512 = 2,
} strata_isa_level;

strata_isa_level strata_isa(void);

/* "avx512", "avx2" or "base". */
const char *strata_isa_name(strata_isa_level level);

/* The highest level this CPU supports (STRATA_ISA ignored). */
strata_isa_level strata_isa_cpu(void);

/* 1 where AVX-512 gathers are fast enough to build tiles lane by lane
 * (Intel: pipelined since Skylake), 0 where they are microcoded and slow
 * (AMD through Zen 4): Winograd's transforms then take rows of tiles on
 * wide maps. Cached. */
int strata_cpu_fast_gather(void);

/* 0 if STRATA_ISA is unset, empty or one of auto, avx512, avx2, base;
 * -1 otherwise (the value is then in *bad). */
int strata_isa_check_env(const char **bad);

#endif
