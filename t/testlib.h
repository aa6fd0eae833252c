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

#endif
