/* fake_host.c — see fake_host.h */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fake_host.h"

#define MAX_KEYS 32

struct strata_opts {
    int n;
    char key[MAX_KEYS][64];
    char val[MAX_KEYS][256];
    int used[MAX_KEYS];
    char error[512];
    int has_error;
};

strata_opts *fake_opts(const char *const *kv)
{
    strata_opts *o = calloc(1, sizeof *o);
    for (int i = 0; kv && kv[i] && o->n < MAX_KEYS; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq)
            continue;
        snprintf(o->key[o->n], sizeof o->key[0], "%.*s", (int)(eq - kv[i]), kv[i]);
        snprintf(o->val[o->n], sizeof o->val[0], "%s", eq + 1);
        o->n++;
    }
    return o;
}

const char *fake_opts_error(const strata_opts *o) { return o->has_error ? o->error : NULL; }

const char *fake_opts_unused(const strata_opts *o)
{
    for (int i = 0; i < o->n; i++)
        if (!o->used[i])
            return o->key[i];
    return NULL;
}

void fake_opts_free(strata_opts *o) { free(o); }

static const char *find(strata_opts *o, const char *key)
{
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->key[i], key) == 0) {
            o->used[i] = 1;
            return o->val[i];
        }
    return NULL;
}

static int fake_error(strata_opts *o, const char *key, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!o->has_error)
        snprintf(o->error, sizeof o->error, "%s: %s", key ? key : "(options)", msg);
    o->has_error = 1;
    return -1;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (*end == ' ')
        end++;
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int opt_int(strata_opts *o, const char *key, long def, long min, long max, long *out)
{
    const char *v = find(o, key);
    *out = def;
    if (!v)
        return 1;
    long x;
    if (parse_long(v, &x) || x < min || x > max)
        return fake_error(o, key, "expected an integer from %ld to %ld, got '%s'", min, max, v);
    *out = x;
    return 0;
}

static int opt_float(strata_opts *o, const char *key, double def, double min, double max, double *out)
{
    const char *v = find(o, key);
    *out = def;
    if (!v)
        return 1;
    double x;
    if (parse_double(v, &x) || x < min || x > max)
        return fake_error(o, key, "expected a number from %g to %g, got '%s'", min, max, v);
    *out = x;
    return 0;
}

static int opt_bool(strata_opts *o, const char *key, int def, int *out)
{
    const char *v = find(o, key);
    *out = def;
    if (!v)
        return 1;
    if (strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0)
        *out = 0;
    else
        return fake_error(o, key, "expected true or false, got '%s'", v);
    return 0;
}

static int opt_choice(strata_opts *o, const char *key, const char *const *choices, int def, int *out)
{
    const char *v = find(o, key);
    *out = def;
    if (!v)
        return 1;
    for (int i = 0; choices[i]; i++)
        if (strcmp(v, choices[i]) == 0) {
            *out = i;
            return 0;
        }
    return fake_error(o, key, "expected one of the choices, got '%s'", v);
}

/* Split "[a, b, c]" into at most max items; returns the count or -1. */
static int split_list(const char *v, char items[][64], int max)
{
    if (v[0] != '[')
        return -1;
    const char *p = v + 1;
    int n = 0;
    while (*p && *p != ']') {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ']')
            p++;
        if (n == max)
            return -1;
        snprintf(items[n], 64, "%.*s", (int)(p - start), start);
        n++;
        if (*p == ',')
            p++;
    }
    return *p == ']' ? n : -1;
}

static int opt_int_pair(strata_opts *o, const char *key, long def, long min, long max, long out[2])
{
    const char *v = find(o, key);
    out[0] = out[1] = def;
    if (!v)
        return 1;
    long x;
    if (v[0] != '[') {
        if (parse_long(v, &x) || x < min || x > max)
            return fake_error(o, key, "expected an integer or [h, w] from %ld to %ld, got '%s'", min, max, v);
        out[0] = out[1] = x;
        return 0;
    }
    char items[2][64];
    if (split_list(v, items, 2) != 2)
        return fake_error(o, key, "expected [h, w], got '%s'", v);
    for (int i = 0; i < 2; i++)
        if (parse_long(items[i], &x) || x < min || x > max)
            return fake_error(o, key, "expected integers from %ld to %ld, got '%s'", min, max, v);
        else
            out[i] = x;
    return 0;
}

static int opt_float_list(strata_opts *o, const char *key, double *out, int max_n, int *n)
{
    const char *v = find(o, key);
    *n = 0;
    if (!v)
        return 1;
    char items[16][64];
    int k = split_list(v, items, max_n < 16 ? max_n : 16);
    if (k < 0)
        return fake_error(o, key, "expected a list of at most %d numbers, got '%s'", max_n, v);
    for (int i = 0; i < k; i++)
        if (parse_double(items[i], &out[i]))
            return fake_error(o, key, "expected numbers, got '%s'", v);
    *n = k;
    return 0;
}

const strata_host fake_host = {
    .abi_version = STRATA_ABI_VERSION,
    .opt_int = opt_int,
    .opt_float = opt_float,
    .opt_bool = opt_bool,
    .opt_choice = opt_choice,
    .opt_int_pair = opt_int_pair,
    .opt_float_list = opt_float_list,
    .opt_error = fake_error,
};

const strata_plugin *fake_load_plugin(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "fake_load_plugin: %s\n", dlerror());
        return NULL;
    }
    strata_plugin_entry_fn entry = (strata_plugin_entry_fn)dlsym(h, STRATA_PLUGIN_ENTRY_NAME);
    if (!entry) {
        fprintf(stderr, "fake_load_plugin: %s: no %s\n", path, STRATA_PLUGIN_ENTRY_NAME);
        return NULL;
    }
    const strata_plugin *p = entry(STRATA_ABI_VERSION);
    if (!p || p->abi_version != STRATA_ABI_VERSION) {
        fprintf(stderr, "fake_load_plugin: %s: wrong ABI version\n", path);
        return NULL;
    }
    return p;
}

const strata_plugin *fake_load_builtin(const char *dir, const char *name)
{
    const char *b = getenv("STRATA_BUILDDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/%s/.libs/%s.so", b ? b : ".", dir, name);
    return fake_load_plugin(path);
}
