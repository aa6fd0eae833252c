/* testlib.c — see testlib.h. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <strata/plugin.h>
#include "testlib.h"
#include "common/isa.h"

static const char *tmp_root(void)
{
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

char *fx_tmpdir(void)
{
    char *p = fx_path(tmp_root(), "strata-data-XXXXXX");
    if (p && !mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void fx_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = fx_path(path, e->d_name);
            fx_rm_rf(p);
            free(p);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

char *fx_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int fx_mkdir(const char *path)
{
    return mkdir(path, 0755);
}

int fx_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

int fx_read(const char *path, uint8_t **data, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    *data = malloc(len > 0 ? (size_t)len : 1);
    *n = *data ? fread(*data, 1, (size_t)len, f) : 0;
    fclose(f);
    return *data && *n == (size_t)len ? 0 : -1;
}

void make_temp_dir(char *buf, size_t size, const char *prefix)
{
    int n = snprintf(buf, size, "%s/%s-XXXXXX", tmp_root(), prefix);
    ck_assert_msg(n > 0 && (size_t)n < size, "temp dir name too long for %s", prefix);
    ck_assert_msg(mkdtemp(buf) != NULL, "cannot make the temp dir %s", buf);
}

const char *join_path(const char *dir, const char *name)
{
    static char buf[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

void write_text(const char *path, const char *text)
{
    ck_assert_msg(fx_write(path, text, strlen(text)) == 0, "cannot write %s", path);
}

static const char *env_or_dot(const char *name)
{
    const char *s = getenv(name);
    return s ? s : ".";
}

const char *srcdir(void)
{
    return env_or_dot("STRATA_SRCDIR");
}

const char *builddir(void)
{
    return env_or_dot("STRATA_BUILDDIR");
}

void assert_has(const char *hay, const char *needle)
{
    /* Check's messages have a size limit: show at most 2000 bytes of hay. */
    size_t n = strlen(hay);
    ck_assert_msg(strstr(hay, needle) != NULL, "expected \"%s\" in (%zu bytes%s): %.2000s", needle, n,
                  n > 2000 ? ", the first 2000" : "", hay);
}

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

TCase *add_test_case(Suite *s, const test_case *c)
{
    TCase *tc = tcase_create(c->name);
    if (c->timeout > 0)
        tcase_set_timeout(tc, c->timeout);
    if (c->setup || c->teardown)
        tcase_add_checked_fixture(tc, c->setup, c->teardown);
    for (const TTest *const *t = c->tests; t && *t; t++)
        tcase_add_test(tc, *t);
    for (const loop_test *l = c->loops; l && l->test; l++)
        tcase_add_loop_test(tc, l->test, 0, l->n);
    suite_add_tcase(s, tc);
    return tc;
}

int run_test_cases(const char *name, const test_case *cases)
{
    Suite *s = suite_create(name);
    for (const test_case *c = cases; c->name; c++)
        add_test_case(s, c);
    return run_suite(s);
}

float *fvec(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    ck_assert_msg(p != NULL, "out of memory for %zu floats", n);
    return p;
}

void fill_uniform(float *x, size_t n, float lo, float hi, uint64_t *state)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * strata_rng_uniform(state);
}

float *frand_from(size_t n, uint64_t *state)
{
    float *x = fvec(n);
    fill_uniform(x, n, -1.0f, 1.0f, state);
    return x;
}

unsigned char *canary_alloc(size_t bytes)
{
    unsigned char *p = malloc(bytes + CANARY_BYTES);
    ck_assert_msg(p != NULL, "out of memory for %zu bytes", bytes);
    memset(p, 0xA5, bytes + CANARY_BYTES);
    return p;
}

void assert_canary(const unsigned char *buf, size_t bytes, const char *what)
{
    for (int i = 0; i < CANARY_BYTES; i++)
        ck_assert_msg(buf[bytes + i] == 0xA5, "wrote past %s", what);
}

double max_rel_err_d(const float *a, const double *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(a[i] - ref[i]), r = fabs(ref[i]);
        num = e > num ? e : num;
        den = r > den ? r : den;
    }
    return den > 0 ? num / den : num;
}

double max_rel_err(const float *a, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - ref[i]), r = fabs((double)ref[i]);
        num = e > num ? e : num;
        den = r > den ? r : den;
    }
    return den > 0 ? num / den : num;
}

double fp_bound_ratio(const float *got, const double *ref, const double *absum, size_t n,
                      double len, double factor, size_t *worst)
{
    double r = 0;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        double tol = factor * len * FLT_EPSILON * absum[i] + FLT_MIN;
        double e = fabs((double)got[i] - ref[i]) / tol;
        if (!(e <= r)) { /* NaN counts as the worst */
            r = e != e ? INFINITY : e;
            w = i;
        }
    }
    if (worst)
        *worst = w;
    return r;
}

void assert_fp_bound(const char *what, const float *got, const double *ref, const double *absum,
                     size_t n, double len, double factor)
{
    size_t w;
    double r = fp_bound_ratio(got, ref, absum, n, len, factor, &w);
    ck_assert_msg(r <= 1.0,
                  "%s [isa %s]: element %zu is %.9g, reference %.9g, |error| %.3g > bound %.3g "
                  "(%g x %g terms x FLT_EPSILON x sum|terms| %.3g): %.2f x the bound",
                  what, test_isa_name(), w, (double)got[w], ref[w], fabs((double)got[w] - ref[w]),
                  factor * len * FLT_EPSILON * absum[w], factor, len, absum[w], r);
}

int test_isa(void) { return (int)strata_isa(); }
const char *test_isa_name(void) { return strata_isa_name(strata_isa()); }
int cpu_has_isa(int level) { return (int)strata_isa_cpu() >= level; }

void skip_unless_isa(int level)
{
    if (test_isa() < level) {
        printf("SKIP: these tests need the %s kernels; this run has %s (CPU %s, STRATA_ISA=%s)\n",
               strata_isa_name((strata_isa_level)level), test_isa_name(),
               strata_isa_name(strata_isa_cpu()), getenv("STRATA_ISA") ? getenv("STRATA_ISA") : "unset");
        exit(77);
    }
}

/* The numbers after each "key": in s, in order; returns how many. */
int json_numbers(const char *s, const char *key, double *v, int max)
{
    char pat[64];
    int n = 0;
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    for (const char *p = strstr(s, pat); p && n < max; p = strstr(p + 1, pat))
        if (sscanf(p + strlen(pat), "%lf", &v[n]) == 1)
            n++;
    return n;
}
