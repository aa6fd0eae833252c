/* blas_select.h — make OpenBLAS use the best kernels this CPU can run.
 *
 * Debian's OpenBLAS is a DYNAMIC_ARCH build: it picks its kernels in a
 * constructor when the library loads, from the CPU model. A CPU newer than
 * the library (0.3.21 on Debian 12 does not know Sapphire Rapids) falls back
 * to the SSE3 "Prescott" kernels, ten times slower than the AVX-512 ones.
 * The only way to change the choice is OPENBLAS_CORETYPE in the environment
 * before the process starts, so blas_select_kernel() detects the CPU's
 * features with cpuid/xgetbv and, when OpenBLAS chose worse than the CPU
 * allows, sets OPENBLAS_CORETYPE and re-executes the program once
 * (/proc/self/exe, same argv), with STRATA_BLAS_REEXEC=<OpenBLAS's own
 * choice> as the loop guard. A user's OPENBLAS_CORETYPE is always kept.
 *
 * It also sets OMP_WAIT_POLICY=passive unless the user set it: OpenMP
 * threads that spin-wait between parallel regions (libgomp's default) take
 * the cores OpenBLAS's own threads need; on 2 cores the im2col + sgemm
 * convolution ran 3x slower. libgomp reads the variable when it loads, i.e.
 * when the first OpenMP plugin is dlopen'ed, after main() has started. */
#ifndef STRATA_BLAS_SELECT_H
#define STRATA_BLAS_SELECT_H
#include "common/isa.h"

/* What cpuid and xgetbv report (1 = yes). os_avx: the OS saves the AVX
 * state (XCR0 & 0x6); os_avx512: also the opmask and ZMM state (XCR0 & 0xe6). */
typedef struct blas_cpu {
    int avx, fma, avx2;
    int avx512f, avx512vl, avx512bw, avx512dq;
    int os_avx, os_avx512;
} blas_cpu;

/* Fill c from cpuid (all zeros on a non-x86 build). */
void blas_detect_cpu(blas_cpu *c);

/* The best OPENBLAS_CORETYPE for c: "SkylakeX" (AVX-512 F+VL+BW+DQ, OS
 * enabled), "Haswell" (AVX2+FMA, OS enabled) or NULL (nothing better than
 * what OpenBLAS finds by itself). */
const char *blas_best_kernel(const blas_cpu *c);

/* How capable an OpenBLAS core name is: 0 SSE-only (Prescott, Core2,
 * Nehalem ...), 1 AVX (Sandybridge ...), 2 AVX2 (Haswell, Zen), 3 AVX-512
 * (SkylakeX, Cooperlake ...). Case-insensitive; a name it does not know
 * gives 99, so that a newer library's choice is never replaced. */
int blas_kernel_rank(const char *name);

/* Call first in main(), before anything else uses OpenBLAS. May not return
 * (re-exec); when the exec fails it warns on stderr and carries on. */
void blas_select_kernel(int argc, char **argv);
/* The same, re-executing exe instead of /proc/self/exe (for tests). */
void blas_select_kernel_exe(int argc, char **argv, const char *exe);

/* The kernel OpenBLAS uses (openblas_get_corename()). */
const char *blas_kernel_name(void);

/* One line for run headers and bench, e.g.
 * "SkylakeX (selected by strata; OpenBLAS chose Prescott)",
 * "Haswell (OPENBLAS_CORETYPE set by the user)",
 * "SkylakeX (OpenBLAS's own choice)". */
const char *blas_kernel_note(void);

/* Threads OpenBLAS may use (openblas_set_num_threads). */
void blas_set_threads(int threads);

/* The rate of this BLAS on C (n, n) = A (n, n) @ B (n, n), row-major, random
 * A and B: *gflops = 2·n^3 / seconds, the best of the runs after one warm-up
 * (at least 2, until min_seconds have passed, at most 20). Returns 0, or -1
 * when the matrices cannot be allocated. */
int blas_sgemm_gflops(int n, double min_seconds, double *gflops);

/* The ISA level strata's own kernels run at (common/isa.h), e.g. "avx2
 * (STRATA_ISA=avx2; the CPU has avx512)"; a static buffer. */
const char *strata_isa_note(void);

#endif
