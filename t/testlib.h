/* testlib.h — helpers shared by the Check test programs: temp dirs and
 * files, environment paths, string assertions, and the suite runner. Each
 * helper that can fail asserts (ck_assert) unless it says it returns -1.
 *
 *   char base[4096];
 *   make_temp_dir(base, sizeof base, "strata-x");   // $TMPDIR/strata-x-XXXXXX
 *   write_text(fx_path(base, "exp.yaml"), "...");
 *   fx_rm_rf(base);
 *   return run_suite(my_suite());                    // from main
 *
 * The fx_* names are kept from t/fixtures/imgwrite.h, which includes this. */
#ifndef STRATA_T_TESTLIB_H
#define STRATA_T_TESTLIB_H
#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string. */
char *fx_tmpdir(void);
/* Remove path and everything under it. */
void fx_rm_rf(const char *path);
/* dir + "/" + name, malloc'ed. */
char *fx_path(const char *dir, const char *name);
/* mkdir(path, 0755): 0, or -1. */
int fx_mkdir(const char *path);
/* Write n bytes to path: 0, or -1. */
int fx_write(const char *path, const void *data, size_t n);
/* Whole file into *data (malloc'ed): 0, or -1. */
int fx_read(const char *path, uint8_t **data, size_t *n);

/* A fresh directory $TMPDIR/PREFIX-XXXXXX (or under /tmp), path into buf. */
void make_temp_dir(char *buf, size_t size, const char *prefix);
/* dir + "/" + name in one of 4 static buffers (valid for the next 3 calls). */
const char *join_path(const char *dir, const char *name);
/* Write text to path (created or truncated); asserts "cannot write PATH". */
void write_text(const char *path, const char *text);
/* $STRATA_SRCDIR / $STRATA_BUILDDIR, or "." when unset. */
const char *srcdir(void);
const char *builddir(void);
/* Assert that hay contains needle (message: expected "needle" in: hay). */
void assert_has(const char *hay, const char *needle);
/* Sleep ms milliseconds. */
void sleep_ms(long ms);
/* Run every test of s (CK_NORMAL), free the runner: EXIT_SUCCESS or EXIT_FAILURE. */
int run_suite(Suite *s);

/* max_i |a[i] - ref[i]| / max_i |ref[i]| (the absolute error when ref is
 * all zeros): how far a float result is from its reference. */
double max_rel_err(const float *a, const float *ref, size_t n);
double max_rel_err_d(const float *a, const double *ref, size_t n);

/* Floating-point bounds derived from the computation, not fixed constants.
 * A float result got[i] of a sum of len products, whose double reference
 * is ref[i] and whose sum of absolute terms (|a*b| over the same terms,
 * also in double) is absum[i], may differ from ref[i] by about
 * len * FLT_EPSILON * absum[i] for any summation order (the classic bound
 * for recursive summation; blocked and Winograd orders add transforms
 * whose own factor goes into `factor`). fp_bound_ratio returns
 *   max_i |got[i] - ref[i]| / (factor * len * FLT_EPSILON * absum[i] + FLT_MIN)
 * so <= 1 passes; *worst (may be NULL) gets the index of the maximum. */
double fp_bound_ratio(const float *got, const double *ref, const double *absum, size_t n,
                      double len, double factor, size_t *worst);
/* Asserts fp_bound_ratio(...) <= 1, naming what and the worst element. */
void assert_fp_bound(const char *what, const float *got, const double *ref, const double *absum,
                     size_t n, double len, double factor);

/* The ISA level the kernels run at (common/isa.h's strata_isa(): the CPU's,
 * capped by STRATA_ISA). A test program whose every check needs a level the
 * CPU lacks calls skip_unless_isa(level) first: it exits 77 (automake's SKIP)
 * with a line saying why. */
int test_isa(void);                 /* 0 base, 1 avx2, 2 avx512 */
const char *test_isa_name(void);
void skip_unless_isa(int level);
/* 1 if the CPU itself (STRATA_ISA ignored) supports level. */
int cpu_has_isa(int level);

#endif
