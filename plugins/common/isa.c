/* isa.c — see isa.h. */
#include <stdlib.h>
#include <string.h>
#include "common/isa.h"

static int parse_cap(const char *s, strata_isa_level *cap)
{
    if (!s || !*s || !strcmp(s, "auto") || !strcmp(s, "avx512")) {
        *cap = STRATA_ISA_AVX512;
        return 0;
    }
    if (!strcmp(s, "avx2")) {
        *cap = STRATA_ISA_AVX2;
        return 0;
    }
    if (!strcmp(s, "base")) {
        *cap = STRATA_ISA_BASE;
        return 0;
    }
    *cap = STRATA_ISA_AVX512;
    return -1;
}

strata_isa_level strata_isa_cpu(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return STRATA_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("bmi2"))
        return STRATA_ISA_AVX2;
#endif
    return STRATA_ISA_BASE;
}

strata_isa_level strata_isa(void)
{
    static int cached = -1; /* threads may race to fill it: the same value */
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        strata_isa_level cap, cpu = strata_isa_cpu();
        parse_cap(getenv("STRATA_ISA"), &cap);
        v = (int)(cpu < cap ? cpu : cap);
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return (strata_isa_level)v;
}

int strata_cpu_fast_gather(void)
{
    static int cached = -1; /* threads may race to fill it: the same value */
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_cpu_init();
        v = !__builtin_cpu_is("amd");
#else
        v = 0;
#endif
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

const char *strata_isa_name(strata_isa_level level)
{
    return level == STRATA_ISA_AVX512 ? "avx512" : level == STRATA_ISA_AVX2 ? "avx2" : "base";
}

int strata_isa_check_env(const char **bad)
{
    strata_isa_level cap;
    const char *s = getenv("STRATA_ISA");
    if (parse_cap(s, &cap) < 0) {
        if (bad)
            *bad = s;
        return -1;
    }
    return 0;
}
