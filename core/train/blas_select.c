/* blas_select.c — see blas_select.h */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "train/blas_select.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XCR0, the OS-enabled state components (valid only when OSXSAVE is set). */
static unsigned long long read_xcr0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

/* cpuid leaf 1 ecx: FMA bit 12, OSXSAVE bit 27, AVX bit 28.
 * cpuid leaf 7 subleaf 0 ebx: AVX2 bit 5, AVX512F 16, DQ 17, BW 30, VL 31.
 * XCR0: SSE|AVX = 0x6; with opmask|ZMM_Hi256|Hi16_ZMM = 0xe6. */
void blas_detect_cpu(blas_cpu *c)
{
    unsigned a, b, cx, d;
    memset(c, 0, sizeof *c);
    if (!__get_cpuid(1, &a, &b, &cx, &d))
        return;
    c->fma = (cx >> 12) & 1;
    c->avx = (cx >> 28) & 1;
    if ((cx >> 27) & 1) {
        unsigned long long xcr0 = read_xcr0();
        c->os_avx = (xcr0 & 0x6) == 0x6;
        c->os_avx512 = (xcr0 & 0xe6) == 0xe6;
    }
    if (!__get_cpuid_count(7, 0, &a, &b, &cx, &d))
        return;
    c->avx2 = (b >> 5) & 1;
    c->avx512f = (b >> 16) & 1;
    c->avx512dq = (b >> 17) & 1;
    c->avx512bw = (b >> 30) & 1;
    c->avx512vl = (b >> 31) & 1;
}
#else
void blas_detect_cpu(blas_cpu *c) { memset(c, 0, sizeof *c); }
#endif

const char *blas_best_kernel(const blas_cpu *c)
{
    if (c->os_avx512 && c->avx512f && c->avx512vl && c->avx512bw && c->avx512dq && c->avx2 && c->fma)
        return "SkylakeX";
    if (c->os_avx && c->avx && c->avx2 && c->fma)
        return "Haswell";
    return NULL;
}

int blas_kernel_rank(const char *name)
{
    static const char *const sse[] = {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom",
                                      "katmai", "coppermine", "northwood", "banias", "opteron",
                                      "opteron_sse3", "barcelona", "bobcat", "nano", "athlon", "unknown",
                                      "generic", NULL};
    static const char *const avx[] = {"sandybridge", "bulldozer", "piledriver", "steamroller", "excavator",
                                      NULL};
    static const char *const avx2[] = {"haswell", "zen", NULL};
    static const char *const avx512[] = {"skylakex", "cooperlake", "sapphirerapids", NULL};
    static const char *const *const ranks[] = {sse, avx, avx2, avx512};
    if (!name)
        return 99;
    for (int r = 0; r < 4; r++)
        for (int i = 0; ranks[r][i]; i++)
            if (!strcasecmp(name, ranks[r][i]))
                return r;
    return 99;
}

const char *blas_kernel_name(void) { return openblas_get_corename(); }

/* Set when the re-exec failed: the kernel we wanted. */
static const char *exec_failed_for;

/* OpenBLAS's idle threads spin (sched_yield) for 2^28 cycles after each
 * call by default, taking the core from strata's own threads between GEMMs;
 * 2^4 lets them sleep at once: AlexNet 224 px batch 32, 560 -> 480 ms a step
 * on 2 cores (strata bench, alternating runs). Read by OpenBLAS when it
 * loads, so it needs the re-exec too; a user's value is kept. */
#define STRATA_BLAS_THREAD_TIMEOUT "4"

static void reexec(const char *exe, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    execv(exe, argv);
}

void blas_select_kernel_exe(int argc, char **argv, const char *exe)
{
    if (!getenv("OMP_WAIT_POLICY"))
        setenv("OMP_WAIT_POLICY", "passive", 1);
    int set_timeout = !getenv("OPENBLAS_THREAD_TIMEOUT") && !getenv("STRATA_BLAS_REEXEC");
    if (set_timeout)
        setenv("OPENBLAS_THREAD_TIMEOUT", STRATA_BLAS_THREAD_TIMEOUT, 1);
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (argc < 1 || !argv || !argv[0] || getenv("STRATA_BLAS_REEXEC"))
        return;
    blas_cpu c;
    blas_detect_cpu(&c);
    const char *want = blas_best_kernel(&c), *have = openblas_get_corename();
    /* STRATA_ISA below the CPU's level caps OpenBLAS too: its kernel of
     * that level, whatever OpenBLAS would choose (AVX2-vs-AVX2 figures on
     * an AVX-512 machine need both sides capped). */
    int capped = strata_isa() < strata_isa_cpu();
    if (capped)
        want = strata_isa() == STRATA_ISA_AVX2 ? "Haswell" : "Prescott";
    int fine = capped ? blas_kernel_rank(want) == blas_kernel_rank(have)
                      : blas_kernel_rank(want) <= blas_kernel_rank(have);
    if ((user && *user) || !want || fine) {
        /* the kernel is fine: re-execute only to give OpenBLAS the timeout */
        if (set_timeout && !setenv("STRATA_BLAS_REEXEC", "", 1)) {
            reexec(exe, argv);
            unsetenv("STRATA_BLAS_REEXEC");
        }
        if (set_timeout)
            unsetenv("OPENBLAS_THREAD_TIMEOUT");
        return;
    }
    if (!setenv("OPENBLAS_CORETYPE", want, 1) && !setenv("STRATA_BLAS_REEXEC", have, 1)) {
        reexec(exe, argv);
    }
    int e = errno;
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv("STRATA_BLAS_REEXEC");
    exec_failed_for = want;
    fprintf(stderr, "strata: warning: could not re-execute %s to use the %s BLAS kernels (%s); OpenBLAS keeps "
            "its %s kernels (set OPENBLAS_CORETYPE=%s yourself)\n", exe, want, strerror(e), have, want);
}

void blas_select_kernel(int argc, char **argv) { blas_select_kernel_exe(argc, argv, "/proc/self/exe"); }

const char *blas_kernel_note(void)
{
    static char note[160];
    const char *name = openblas_get_corename(), *user = getenv("OPENBLAS_CORETYPE"),
               *chose = getenv("STRATA_BLAS_REEXEC");
    if (exec_failed_for)
        snprintf(note, sizeof note, "%s (OpenBLAS's own choice; strata could not switch to %s)", name,
                 exec_failed_for);
    else if (user && *user && chose && *chose)
        snprintf(note, sizeof note, "%s (selected by strata; OpenBLAS chose %s)", name, chose);
    else if (user && *user)
        snprintf(note, sizeof note, "%s (OPENBLAS_CORETYPE set by the user)", name);
    else
        snprintf(note, sizeof note, "%s (OpenBLAS's own choice)", name);
    return note;
}

const char *strata_isa_note(void)
{
    static char note[96];
    strata_isa_level use = strata_isa(), cpu = strata_isa_cpu();
    const char *cap = getenv("STRATA_ISA");
    if (use != cpu)
        snprintf(note, sizeof note, "%s (STRATA_ISA=%s; the CPU has %s)", strata_isa_name(use), cap,
                 strata_isa_name(cpu));
    else
        snprintf(note, sizeof note, "%s (the CPU's best)", strata_isa_name(use));
    return note;
}

void blas_set_threads(int threads) { openblas_set_num_threads(threads); }

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int blas_sgemm_gflops(int n, double min_seconds, double *gflops)
{
    size_t nn = (size_t)n * n;
    float *a = malloc(nn * sizeof *a), *b = malloc(nn * sizeof *b), *c = malloc(nn * sizeof *c);
    *gflops = 0;
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return -1;
    }
    uint64_t s = 7;
    for (size_t i = 0; i < nn; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = (float)(s >> 40) / 16777216.0f - 0.5f;
        b[i] = (float)((s >> 16) & 0xffffff) / 16777216.0f - 0.5f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double start = seconds_now();
    for (int rep = 0; rep < 2 || (rep < 20 && seconds_now() - start < min_seconds); rep++) {
        double t0 = seconds_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double g = 2.0 * n * n * (double)n / (seconds_now() - t0) * 1e-9;
        *gflops = g > *gflops ? g : *gflops;
    }
    free(a), free(b), free(c);
    return 0;
}
