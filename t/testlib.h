/* testlib.h — helpers shared by the Check test programs: temp dirs and
 * files, environment paths, string assertions, the suite as a table
 * (RUN_TEST_CASES), random float vectors, scratch canaries, floating-point
 * bounds and the ISA level. Each helper that can fail asserts (ck_assert)
 * unless it says it returns -1.
 *
 *   char base[4096];
 *   make_temp_dir(base, sizeof base, "strata-x");   // $TMPDIR/strata-x-XXXXXX
 *   write_text(fx_path(base, "exp.yaml"), "...");
 *   fx_rm_rf(base);
 *   return RUN_TEST_CASES("x", {.name = "x", .tests = TESTS(test_a, test_b)});  // main
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

/* A test program's suite as a table instead of one tcase_add_test per test:
 *
 *   int main(void)
 *   {
 *       return RUN_TEST_CASES("image",
 *           {.name = "decode", .setup = setup, .teardown = teardown,
 *            .tests = TESTS(png_rgb_and_rgba, truncated_jpeg)},
 *           {.name = "errors", .timeout = 60, .tests = TESTS(bad_files),
 *            .loops = LOOPS({bad_option, N_BAD_OPTIONS})});
 *   }
 *
 * A test case is a group of START_TEST tests sharing a timeout and a checked
 * fixture; a loop test runs once for each _i in 0..n-1. */
typedef struct {
    const TTest *test;
    int n;
} loop_test;

typedef struct {
    const char *name;
    const TTest *const *tests; /* TESTS(a, b, ...): NULL-terminated, or NULL */
    const loop_test *loops;    /* LOOPS({t, n}, ...): ends with {NULL, 0}, or NULL */
    double timeout;            /* seconds; 0 keeps CK_DEFAULT_TIMEOUT */
    SFun setup, teardown;      /* checked fixture around each test; either may be NULL */
} test_case;

#define TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})
#define LOOPS(...) ((const loop_test[]){__VA_ARGS__, {NULL, 0}})
/* The cases of a suite named name, run as run_suite runs them. */
#define RUN_TEST_CASES(name, ...) run_test_cases(name, (const test_case[]){__VA_ARGS__, {0}})

/* Add case c to s as a new TCase (returned, for anything more it needs). */
TCase *add_test_case(Suite *s, const test_case *c);
/* A suite named name of cases (the list ends with a case whose name is NULL),
 * run: EXIT_SUCCESS or EXIT_FAILURE. */
int run_test_cases(const char *name, const test_case *cases);

/* n floats (at least one), zeroed; asserts the allocation. */
float *fvec(size_t n);
/* x[i] = lo + (hi - lo) * strata_rng_uniform(state) for i < n, in order. */
void fill_uniform(float *x, size_t n, float lo, float hi, uint64_t *state);
/* fvec(n) filled by fill_uniform in [-1, 1). */
float *frand_from(size_t n, uint64_t *state);

/* A layer's scratch or saved buffer of bytes followed by CANARY_BYTES bytes
 * 0xA5 (malloc'ed), and the check that nothing wrote into them (message:
 * "wrote past WHAT"). */
#define CANARY_BYTES 64
unsigned char *canary_alloc(size_t bytes);
void assert_canary(const unsigned char *buf, size_t bytes, const char *what);

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

/* The numbers after each "key": in s (JSON text), in order, at most max;
 * returns how many. */
int json_numbers(const char *s, const char *key, double *v, int max);

#endif
