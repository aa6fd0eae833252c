/* test_blas.c — OpenBLAS kernel selection (core/train/blas_select.c).
 *
 * The program is also its own subject: run as `test_blas --report` it calls
 * blas_select_kernel() and prints the kernel name and note; `--sgemm` also
 * prints the largest error of a sgemm against a naive triple loop;
 * `--exec-fail` selects with an executable that does not exist. The tests
 * start it under chosen environments (OPENBLAS_CORETYPE, STRATA_BLAS_REEXEC)
 * and read what it prints. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "train/blas_select.h"
#include "testlib.h"

extern char **environ;

/* ---- sgemm against a naive loop ----------------------------------------- */

/* A (M, K), B (K, N), C (M, N) row-major: C = A @ B in double, then float. */
static void naive_matmul(float *c, const float *a, const float *b, int M, int N, int K)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)a[(size_t)i * K + k] * b[(size_t)k * N + j];
            c[(size_t)i * N + j] = (float)s;
        }
}

/* The largest |sgemm - naive| / (1 + |naive|) over a seeded M x N x K
 * product, with A given transposed when trans_a (as conv2d's backward does). */
static double sgemm_error(int M, int N, int K, int trans_a)
{
    float *a = malloc(sizeof(float) * M * K), *at = malloc(sizeof(float) * M * K);
    float *b = malloc(sizeof(float) * K * N), *c = malloc(sizeof(float) * M * N), *r = malloc(sizeof(float) * M * N);
    uint64_t s = 42;
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) / 16777216.0f - 0.5f;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((s = s * 6364136223846793005ull + 1442695040888963407ull) >> 40) / 16777216.0f - 0.5f;
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++)
            at[(size_t)k * M + i] = a[(size_t)i * K + k];
    naive_matmul(r, a, b, M, N, K);
    if (trans_a)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, at, M, b, N, 0.0f, c, N);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, a, K, b, N, 0.0f, c, N);
    double worst = 0;
    for (int i = 0; i < M * N; i++) {
        double e = fabs((double)c[i] - r[i]) / (1.0 + fabs(r[i]));
        worst = e > worst || isnan(e) ? e : worst;
    }
    free(a), free(at), free(b), free(c), free(r);
    return worst;
}

/* ---- running this program under a chosen environment --------------------- */

typedef struct child {
    int status;
    char out[16384], err[4096];
} child;

static void read_all(int fd, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t k;
    while (n + 1 < size && (k = read(fd, buf + n, size - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = 0;
    char sink[256];
    while (read(fd, sink, sizeof sink) > 0)
        ;
}

#define INHERIT ((const char *)1) /* keep the variable as it is */

/* Run argv[0] with argv, OPENBLAS_CORETYPE, STRATA_BLAS_REEXEC and
 * OMP_WAIT_POLICY set to coretype / marker / omp, removed when NULL, kept
 * when INHERIT. */
static void run_cmd(const char *const *argv, const char *coretype, const char *marker, const char *omp, child *r)
{
    int po[2], pe[2];
    ck_assert_int_eq(pipe(po), 0);
    ck_assert_int_eq(pipe(pe), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(po[1], 1), dup2(pe[1], 2);
        close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
        if (coretype != INHERIT)
            unsetenv("OPENBLAS_CORETYPE");
        if (marker != INHERIT)
            unsetenv("STRATA_BLAS_REEXEC");
        if (omp != INHERIT)
            unsetenv("OMP_WAIT_POLICY");
        if (omp && omp != INHERIT)
            setenv("OMP_WAIT_POLICY", omp, 1);
        if (coretype && coretype != INHERIT)
            setenv("OPENBLAS_CORETYPE", coretype, 1);
        if (marker && marker != INHERIT)
            setenv("STRATA_BLAS_REEXEC", marker, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    read_all(po[0], r->out, sizeof r->out); /* stderr stays short: read it after */
    read_all(pe[0], r->err, sizeof r->err);
    close(po[0]), close(pe[0]);
    int st;
    waitpid(pid, &st, 0);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run `/proc/self/exe MODE` (this program) under the given environment. */
static void run_self(const char *mode, const char *coretype, const char *marker, child *r)
{
    const char *argv[] = {"/proc/self/exe", mode, NULL};
    run_cmd(argv, coretype, marker, NULL, r);
}

/* Line 1 of a --report: the kernel name. */
static void first_line(const child *r, char *name, size_t size)
{
    size_t n = strcspn(r->out, "\n");
    ck_assert_msg(n > 0 && n < size, "no kernel name in: %s", r->out);
    memcpy(name, r->out, n);
    name[n] = 0;
}

/* The kernel strata should pick here, or NULL (then selection is a no-op). */
static const char *expected_best(void)
{
    blas_cpu c;
    blas_detect_cpu(&c);
    return blas_best_kernel(&c);
}

/* ---- tests ---------------------------------------------------------------- */

/* Is flag in the "flags" line of /proc/cpuinfo? -1 when it cannot be read. */
static int cpuinfo_has(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f))
        if (!strncmp(line, "flags", 5)) {
            found = 0;
            for (char *t = strtok(strchr(line, ':') + 1, " \n"); t; t = strtok(NULL, " \n"))
                found |= !strcmp(t, flag);
        }
    fclose(f);
    return found;
}

START_TEST(cpuid_agrees_with_the_kernel)
{
    blas_cpu a, b;
    blas_detect_cpu(&a);
    blas_detect_cpu(&b);
    ck_assert_mem_eq(&a, &b, sizeof a);
    if (cpuinfo_has("fpu") < 0) {
        fprintf(stderr, "test_blas: no /proc/cpuinfo flags; only the repeat checked\n");
        return;
    }
    /* Linux lists a feature only when the CPU has it and the OS enables it. */
    ck_assert_int_eq(a.avx && a.os_avx, cpuinfo_has("avx"));
    ck_assert_int_eq(a.fma && a.os_avx, cpuinfo_has("fma"));
    ck_assert_int_eq(a.avx2 && a.os_avx, cpuinfo_has("avx2"));
    ck_assert_int_eq(a.avx512f && a.os_avx512, cpuinfo_has("avx512f"));
    ck_assert_int_eq(a.avx512vl && a.os_avx512, cpuinfo_has("avx512vl"));
    ck_assert_int_eq(a.avx512bw && a.os_avx512, cpuinfo_has("avx512bw"));
    ck_assert_int_eq(a.avx512dq && a.os_avx512, cpuinfo_has("avx512dq"));
    ck_assert(!a.os_avx512 || a.os_avx);
}
END_TEST

START_TEST(best_kernel_follows_features_and_os_state)
{
    blas_cpu full = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    ck_assert_str_eq(blas_best_kernel(&full), "SkylakeX");
    blas_cpu c = full;
    c.os_avx512 = 0; /* the OS does not save ZMM state */
    ck_assert_str_eq(blas_best_kernel(&c), "Haswell");
    c = full;
    c.avx512dq = 0;
    ck_assert_str_eq(blas_best_kernel(&c), "Haswell");
    c = full;
    c.avx512vl = 0;
    ck_assert_str_eq(blas_best_kernel(&c), "Haswell");
    c = full;
    c.fma = 0;
    ck_assert_ptr_null(blas_best_kernel(&c));
    c = full;
    c.os_avx = 0, c.os_avx512 = 0;
    ck_assert_ptr_null(blas_best_kernel(&c));
    blas_cpu none = {0};
    ck_assert_ptr_null(blas_best_kernel(&none));
}
END_TEST

START_TEST(kernel_ranks_order_the_isas)
{
    ck_assert_int_lt(blas_kernel_rank("Prescott"), blas_kernel_rank("Sandybridge"));
    ck_assert_int_lt(blas_kernel_rank("Nehalem"), blas_kernel_rank("Haswell"));
    ck_assert_int_lt(blas_kernel_rank("Haswell"), blas_kernel_rank("SkylakeX"));
    ck_assert_int_eq(blas_kernel_rank("Cooperlake"), blas_kernel_rank("SKYLAKEX"));
    ck_assert_int_eq(blas_kernel_rank("core2"), blas_kernel_rank("Prescott"));
    /* A name this table does not know is never replaced. */
    ck_assert_int_gt(blas_kernel_rank("SomeFutureLake"), blas_kernel_rank("SkylakeX"));
    ck_assert_int_gt(blas_kernel_rank(NULL), blas_kernel_rank("SkylakeX"));
}
END_TEST

START_TEST(user_coretype_is_kept)
{
    child r;
    char name[64];
    run_self("--report", "Prescott", NULL, &r);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    first_line(&r, name, sizeof name);
    ck_assert_str_eq(name, "Prescott");
    ck_assert_ptr_nonnull(strstr(r.out, "Prescott (OPENBLAS_CORETYPE set by the user)"));
    ck_assert_str_eq(r.err, "");
    run_self("--report", "Haswell", NULL, &r);
    first_line(&r, name, sizeof name);
    ck_assert_str_eq(name, "Haswell");
    ck_assert_ptr_nonnull(strstr(r.out, "set by the user"));
}
END_TEST

START_TEST(selection_upgrades_a_generic_choice)
{
    const char *best = expected_best();
    if (!best) {
        fprintf(stderr, "test_blas: this CPU lacks AVX2+FMA (or the OS disables AVX); nothing to select, skipped\n");
        return;
    }
    child r;
    char name[64];
    unsetenv("STRATA_ISA"); /* the uncapped choice (isa_cap_caps_the_blas_kernel: the capped ones) */
    run_self("--report", NULL, NULL, &r);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    first_line(&r, name, sizeof name);
    ck_assert_str_ne(name, "Prescott");
    ck_assert_int_ge(blas_kernel_rank(name), blas_kernel_rank(best));
    ck_assert_msg(strstr(r.out, "selected by strata; OpenBLAS chose") || strstr(r.out, "OpenBLAS's own choice"),
                  "note: %s", r.out);
}
END_TEST

/* STRATA_ISA below the CPU's level picks OpenBLAS's kernel of that level
 * (Haswell for avx2, Prescott for base); at or above it, nothing changes. */
START_TEST(isa_cap_caps_the_blas_kernel)
{
    static const struct { const char *isa, *kernel; int level; } caps[] = {
        {"avx2", "Haswell", STRATA_ISA_AVX2}, {"base", "Prescott", STRATA_ISA_BASE}};
    child r, plain;
    char name[64], plain_name[64];
    unsetenv("STRATA_ISA");
    run_self("--report", NULL, NULL, &plain);
    first_line(&plain, plain_name, sizeof plain_name);
    for (int i = 0; i < 2; i++) {
        setenv("STRATA_ISA", caps[i].isa, 1);
        run_self("--report", NULL, NULL, &r);
        unsetenv("STRATA_ISA");
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        first_line(&r, name, sizeof name);
        if ((int)strata_isa_cpu() > caps[i].level) {
            ck_assert_str_eq(name, caps[i].kernel);
            ck_assert_msg(strstr(r.out, "selected by strata"), "note: %s", r.out);
        } else {
            ck_assert_str_eq(name, plain_name);
        }
    }
    setenv("STRATA_ISA", "avx2", 1); /* the user's OPENBLAS_CORETYPE still wins */
    run_self("--report", "Prescott", NULL, &r);
    unsetenv("STRATA_ISA");
    first_line(&r, name, sizeof name);
    ck_assert_str_eq(name, "Prescott");
}
END_TEST

START_TEST(omp_wait_policy_passive_unless_the_user_chose)
{
    child r;
    const char *argv[] = {"/proc/self/exe", "--report", NULL};
    run_cmd(argv, NULL, NULL, NULL, &r);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "\nOMP_WAIT_POLICY=passive\n"), "%s", r.out);
    run_cmd(argv, NULL, NULL, "active", &r);
    ck_assert_msg(strstr(r.out, "\nOMP_WAIT_POLICY=active\n"), "%s", r.out);
    /* Set also when the user chose the kernel (no re-exec). */
    run_cmd(argv, "Haswell", NULL, NULL, &r);
    ck_assert_msg(strstr(r.out, "\nOMP_WAIT_POLICY=passive\n"), "%s", r.out);
}
END_TEST

START_TEST(reexec_marker_stops_a_loop)
{
    /* The marker without OPENBLAS_CORETYPE: OpenBLAS's own choice stays,
     * as it would after an exec that lost the variable. */
    child r, own;
    run_self("--report", NULL, "Prescott", &r);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "(OpenBLAS's own choice)"));
    ck_assert_ptr_null(strstr(r.out, "selected by strata"));
    /* ... and that is the kernel a selecting run reports OpenBLAS chose. */
    run_self("--report", NULL, NULL, &own);
    if (expected_best() && strstr(own.out, "selected by strata")) {
        char chose[64];
        ck_assert_int_eq(sscanf(strstr(own.out, "OpenBLAS chose ") + 15, "%63[^)]", chose), 1);
        char name[64];
        first_line(&r, name, sizeof name);
        ck_assert_str_eq(name, chose);
    }
}
END_TEST

START_TEST(failed_exec_warns_and_carries_on)
{
    const char *best = expected_best();
    child r;
    run_self("--exec-fail", NULL, NULL, &r);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    if (!best || !strstr(r.out, "needs-upgrade")) {
        fprintf(stderr, "test_blas: OpenBLAS already uses a good kernel here; exec failure not reachable, skipped\n");
        return;
    }
    ck_assert_ptr_nonnull(strstr(r.err, "warning: could not re-execute /nonexistent/strata"));
    ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1); /* one line */
    ck_assert_ptr_nonnull(strstr(r.out, "strata could not switch to"));
    ck_assert_ptr_nonnull(strstr(r.out, "OPENBLAS_CORETYPE=(unset)"));
}
END_TEST

START_TEST(sgemm_matches_naive_loop_in_process)
{
    ck_assert_double_lt(sgemm_error(67, 45, 131, 0), 1e-5);
    ck_assert_double_lt(sgemm_error(64, 200, 96, 1), 1e-5);
}
END_TEST

START_TEST(sgemm_matches_naive_loop_under_both_kernels)
{
    const char *coretypes[] = {"Prescott", NULL};
    for (int i = 0; i < 2; i++) {
        child r;
        double err = -1;
        char name[64] = "";
        run_self("--sgemm", coretypes[i], NULL, &r);
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        ck_assert_int_eq(sscanf(r.out, "%63s %lf", name, &err), 2);
        if (coretypes[i])
            ck_assert_str_eq(name, coretypes[i]);
        ck_assert_msg(err >= 0 && err < 1e-5, "%s: sgemm differs from the naive loop by %g", name, err);
    }
}
END_TEST

/* ---- strata bench --------------------------------------------------------- */

static char strata_bin[4096], quickstart[4096], alexnet[4096];

static void find_paths(void)
{
    const char *b = getenv("STRATA_BUILDDIR"), *src = getenv("STRATA_SRCDIR");
    snprintf(strata_bin, sizeof strata_bin, "%s/core/strata", b ? b : ".");
    snprintf(quickstart, sizeof quickstart, "%s/experiments/quickstart.yaml", src ? src : ".");
    snprintf(alexnet, sizeof alexnet, "%s/experiments/flowers-alexnet.yaml", src ? src : ".");
}

/* `strata bench ARGS...` (args NULL-terminated, at most 14), environment
 * inherited. BENCH(&r, "a", "b") passes "a", "b". */
static void run_bench(child *r, const char *const *args)
{
    const char *argv[16] = {strata_bin, "bench"};
    for (int i = 0; args[i] && i < 14; i++)
        argv[2 + i] = args[i];
    run_cmd(argv, INHERIT, INHERIT, INHERIT, r);
}
#define BENCH(r, ...) run_bench(r, (const char *const[]){__VA_ARGS__, NULL})

/* Exit 2 and one line on stderr that contains want. */
static void expect_usage_error(const child *r, const char *want)
{
    ck_assert_msg(r->status == 2, "status %d, stderr: %s", r->status, r->err);
    ck_assert_msg(strstr(r->err, want), "expected '%s' in: %s", want, r->err);
    ck_assert_msg(strchr(r->err, '\n') == r->err + strlen(r->err) - 1, "not one line: %s", r->err);
    ck_assert_str_eq(r->out, "");
}

START_TEST(bench_refuses_bad_arguments)
{
    child r;
    BENCH(&r, NULL);
    expect_usage_error(&r, "expected one EXPERIMENT.yaml");
    BENCH(&r, quickstart, quickstart);
    expect_usage_error(&r, "expected one EXPERIMENT.yaml");
    BENCH(&r, quickstart, "--batch", "0");
    expect_usage_error(&r, "--batch: expected a whole number from 1 to 65536, got '0'");
    BENCH(&r, quickstart, "--steps", "3x");
    expect_usage_error(&r, "--steps: expected a whole number from 1 to");
    BENCH(&r, quickstart, "--warmup", "-1");
    expect_usage_error(&r, "--warmup: expected a whole number from 0 to");
    BENCH(&r, quickstart, "--threads", "");
    expect_usage_error(&r, "--threads: expected a whole number from 1 to");
    BENCH(&r, quickstart, "--steps");
    expect_usage_error(&r, "missing value '--steps'");
    BENCH(&r, quickstart, "--fast");
    expect_usage_error(&r, "unknown option or missing value '--fast'");
}
END_TEST

START_TEST(bench_refuses_an_unknown_isa)
{
    child r;
    setenv("STRATA_ISA", "avx1024", 1);
    BENCH(&r, "--help");
    unsetenv("STRATA_ISA");
    expect_usage_error(&r, "strata: STRATA_ISA: expected one of auto, avx512, avx2, base, got 'avx1024'");
}
END_TEST

START_TEST(bench_reports_config_errors)
{
    child r;
    BENCH(&r, "/nonexistent/exp.yaml", "--no-sgemm");
    expect_usage_error(&r, "/nonexistent/exp.yaml");
    BENCH(&r, quickstart, "-s", "train.batch_size=0", "--no-sgemm");
    expect_usage_error(&r, "batch_size");
    BENCH(&r, quickstart, "-s", "optimizer.name=nosuchopt", "--no-sgemm");
    expect_usage_error(&r, "nosuchopt");
}
END_TEST


/* The layers of the quickstart experiment: its "- {type:" lines. */
static int quickstart_layers(void)
{
    FILE *f = fopen(quickstart, "r");
    ck_assert_msg(f != NULL, "cannot open %s", quickstart);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, "- {type:") != NULL;
    fclose(f);
    return n;
}

START_TEST(bench_json_accounts_for_the_step)
{
    child r;
    BENCH(&r, quickstart, "--json", "--no-sgemm", "--batch", "3", "--steps", "2", "--warmup", "0", "--threads=1");
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    double fwd[64], bwd[64], gf[64], v[4];
    int L = quickstart_layers();
    ck_assert_int_gt(L, 0);
    ck_assert_int_eq(json_numbers(r.out, "forward_ms", fwd, 64), L);
    ck_assert_int_eq(json_numbers(r.out, "backward_ms", bwd, 64), L);
    ck_assert_int_eq(json_numbers(r.out, "forward_gflops", gf, 64), L);
    ck_assert_int_eq(json_numbers(r.out, "batch", v, 4), 1);
    ck_assert_double_eq(v[0], 3);
    ck_assert_int_eq(json_numbers(r.out, "threads", v, 4), 1);
    ck_assert_double_eq(v[0], 1);
    ck_assert_int_eq(json_numbers(r.out, "steps", v, 4), 1);
    ck_assert_double_eq(v[0], 2);
    double parts = 0, step, ips, loss, opt, rss;
    for (int i = 0; i < L; i++) {
        ck_assert(fwd[i] >= 0 && bwd[i] >= 0);
        parts += fwd[i] + bwd[i];
    }
    ck_assert_int_eq(json_numbers(r.out, "loss_ms", &loss, 1), 1);
    ck_assert_int_eq(json_numbers(r.out, "optimizer_ms", &opt, 1), 1);
    ck_assert_int_eq(json_numbers(r.out, "step_ms", &step, 1), 1);
    ck_assert_int_eq(json_numbers(r.out, "images_per_sec", &ips, 1), 1);
    ck_assert_int_eq(json_numbers(r.out, "peak_rss_mib", &rss, 1), 1);
    parts += loss + opt;
    /* The parts are timed inside the step: they add up to at most the step
     * (plus the rounding of L + 3 numbers printed to 1e-4 ms). */
    ck_assert_msg(parts > 0 && parts <= step + (L + 3) * 1e-4, "parts %g ms, step %g ms", parts, step);
    ck_assert_double_eq_tol(ips, 3 / (step * 1e-3), ips * 1e-3);
    ck_assert_double_gt(rss, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "\"sgemm_2048_gflops\": null"));
    ck_assert_ptr_nonnull(strstr(r.out, "\"optimizer\": \"adam\""));
    /* each layer's path: quickstart's conv1 (3 channels) smallc, conv2 Winograd, the others none */
    int paths = 0;
    for (const char *p = r.out; (p = strstr(p, "\"path\": ")); p++)
        paths++;
    ck_assert_int_eq(paths, L);
    ck_assert_ptr_nonnull(strstr(r.out, "\"name\": \"conv1\", \"type\": \"conv2d\", \"path\": \"smallc"));
    ck_assert_ptr_nonnull(strstr(r.out, "\"name\": \"conv2\", \"type\": \"conv2d\", \"path\": \"winograd F(4x4,3x3)"));
    ck_assert_ptr_nonnull(strstr(r.out, "\"name\": \"relu1\", \"type\": \"relu\", \"path\": \"\""));
    ck_assert_ptr_nonnull(strstr(r.out, blas_kernel_note()));
    int depth = 0;
    for (const char *p = r.out; *p; p++)
        depth += (*p == '{' || *p == '[') - (*p == '}' || *p == ']');
    ck_assert_int_eq(depth, 0);
}
END_TEST

START_TEST(bench_text_names_kernel_and_sgemm)
{
    child r;
    BENCH(&r, quickstart, "--batch", "2", "--steps", "1", "--warmup", "0");
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    char want[256];
    const char *omp = getenv("OMP_WAIT_POLICY");
    snprintf(want, sizeof want, "BLAS kernel: %s; ISA path: %s; OMP_WAIT_POLICY=%s\n", blas_kernel_note(),
             strata_isa_note(), omp ? omp : "(unset)");
    ck_assert_msg(strstr(r.out, want), "no '%s' in: %s", want, r.out);
    double g = 0;
    const char *p = strstr(r.out, "sgemm 2048^3: ");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p + 14, "%lf", &g), 1);
    ck_assert_double_gt(g, 0.5);
    ck_assert_ptr_nonnull(strstr(r.out, "images/s"));
    ck_assert_ptr_nonnull(strstr(r.out, "peak memory: "));
    ck_assert_ptr_nonnull(strstr(r.out, "conv1 "));
    ck_assert_ptr_nonnull(strstr(r.out, "bwd GF/s  path\n"));
}
END_TEST

/* The path column names what auto chose: AlexNet's 11x11 stride-4 conv1 at
 * 224 px on Winograd of its phase planes, conv2 F(3x3,5x5), the 13x13
 * layers F(5x5,3x3), fc8 (5 outputs) on sgemm at AVX-512 (strata's kernel
 * elsewhere, or sgemm at base). */
START_TEST(bench_names_each_layers_path)
{
    child r;
    BENCH(&r, alexnet, "--batch", "1", "--steps", "1", "--warmup", "0", "--no-sgemm", "--threads=1");
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    const char *want[] = {"conv1 ", "winograd F(5x5,3x3) of 48 phase planes\n",
                          "conv2 ", "winograd F(3x3,5x5)\n",
                          "conv4 ", "winograd F(5x5,3x3)\n",
                          "fc6 ", strata_isa() == STRATA_ISA_BASE ? "sgemm (OpenBLAS)\n" : "kernel (strata's tiles)\n"};
    for (int i = 0; i < 8; i += 2) {
        const char *line = strstr(r.out, want[i]);
        ck_assert_msg(line, "no layer %s in: %s", want[i], r.out);
        const char *end = strchr(line, '\n'), *at = strstr(line, want[i + 1]);
        ck_assert_msg(at && at + strlen(want[i + 1]) - 1 == end, "layer %s: no path '%s' in: %.*s", want[i],
                      want[i + 1], (int)(end - line), line);
    }
}
END_TEST

/* ---- child modes ---------------------------------------------------------- */

static int child_mode(int argc, char **argv)
{
    if (!strcmp(argv[1], "--exec-fail")) {
        const char *before = blas_kernel_name();
        int upgrade = expected_best() && blas_kernel_rank(expected_best()) > blas_kernel_rank(before);
        blas_select_kernel_exe(argc, argv, "/nonexistent/strata");
        const char *ct = getenv("OPENBLAS_CORETYPE");
        printf("%s\n%s\n%s OPENBLAS_CORETYPE=%s\n", blas_kernel_name(), blas_kernel_note(),
               upgrade ? "needs-upgrade" : "no-upgrade", ct ? ct : "(unset)");
        return 0;
    }
    blas_select_kernel(argc, argv);
    if (!strcmp(argv[1], "--report")) {
        const char *omp = getenv("OMP_WAIT_POLICY");
        printf("%s\n%s\nOMP_WAIT_POLICY=%s\n", blas_kernel_name(), blas_kernel_note(), omp ? omp : "(unset)");
        return 0;
    }
    if (!strcmp(argv[1], "--sgemm")) {
        double e = sgemm_error(67, 45, 131, 0), e2 = sgemm_error(64, 200, 96, 1);
        printf("%s %g\n", blas_kernel_name(), e > e2 ? e : e2);
        return 0;
    }
    fprintf(stderr, "test_blas: unknown mode '%s'\n", argv[1]);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return child_mode(argc, argv);
    blas_select_kernel(argc, argv);
    find_paths();
    return RUN_TEST_CASES("blas",
        {.name = "select", .timeout = 60,
         .tests = TESTS(cpuid_agrees_with_the_kernel, best_kernel_follows_features_and_os_state,
                        kernel_ranks_order_the_isas, user_coretype_is_kept, selection_upgrades_a_generic_choice,
                        omp_wait_policy_passive_unless_the_user_chose, isa_cap_caps_the_blas_kernel,
                        reexec_marker_stops_a_loop, failed_exec_warns_and_carries_on,
                        sgemm_matches_naive_loop_in_process, sgemm_matches_naive_loop_under_both_kernels)},
        {.name = "bench", .timeout = 120,
         .tests = TESTS(bench_refuses_bad_arguments, bench_reports_config_errors, bench_refuses_an_unknown_isa,
                        bench_json_accounts_for_the_step, bench_text_names_kernel_and_sgemm,
                        bench_names_each_layers_path)});
}
