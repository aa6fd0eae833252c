/* opts.c — see opts.h */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "config/opts.h"

void opts_init(strata_opts *o, ynode *map, const char *prefix, strata_err *err)
{
    memset(o, 0, sizeof *o);
    o->map = map;
    o->err = err;
    snprintf(o->prefix, sizeof o->prefix, "%s", prefix ? prefix : "");
}

static void full_key(const strata_opts *o, const char *key, char *buf, size_t size)
{
    if (!key)
        snprintf(buf, size, "%s", o->prefix);
    else if (o->prefix[0])
        snprintf(buf, size, "%s.%s", o->prefix, key);
    else
        snprintf(buf, size, "%s", key);
}

static int verror(strata_opts *o, const char *key, const char *fmt, va_list ap)
{
    char msg[600], fk[300], where[300] = "";
    vsnprintf(msg, sizeof msg, fmt, ap);
    full_key(o, key, fk, sizeof fk);
    ynode *n = key ? ynode_get(o->map, key) : NULL;
    if (!n)
        n = o->map;
    if (n)
        ynode_where(n, where, sizeof where);
    if (!o->failed)
        err_set(o->err, STRATA_ERR_CONFIG, "%s%s%s: %s", where, where[0] ? ": " : "", fk, msg);
    o->failed = 1;
    return -1;
}

int opts_error(strata_opts *o, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(o, key, fmt, ap);
    va_end(ap);
    return -1;
}

static void note_asked(strata_opts *o, const char *key)
{
    for (int i = 0; i < o->n_asked; i++)
        if (strcmp(o->asked[i], key) == 0)
            return;
    if (o->n_asked < OPTS_MAX_ASKED)
        snprintf(o->asked[o->n_asked++], sizeof o->asked[0], "%s", key);
}

/* The value node of key, marked used; NULL when absent. */
static ynode *take(strata_opts *o, const char *key)
{
    note_asked(o, key);
    ynode *n = ynode_get(o->map, key);
    if (n)
        n->used = 1;
    return n;
}

int opts_int(strata_opts *o, const char *key, long def, long min, long max, long *out)
{
    char d[100];
    ynode *n = take(o, key);
    *out = def;
    if (!n)
        return 1;
    long v;
    if (ynode_long(n, &v) || v < min || v > max)
        return opts_error(o, key, "expected an integer from %ld to %ld, got %s", min, max, ynode_describe(n, d, sizeof d));
    *out = v;
    return 0;
}

int opts_float(strata_opts *o, const char *key, double def, double min, double max, double *out)
{
    char d[100];
    ynode *n = take(o, key);
    *out = def;
    if (!n)
        return 1;
    double v;
    if (ynode_double(n, &v) || v < min || v > max)
        return opts_error(o, key, "expected a number from %g to %g, got %s", min, max, ynode_describe(n, d, sizeof d));
    *out = v;
    return 0;
}

int opts_bool(strata_opts *o, const char *key, int def, int *out)
{
    char d[100];
    ynode *n = take(o, key);
    *out = def;
    if (!n)
        return 1;
    if (ynode_bool(n, out))
        return opts_error(o, key, "expected true or false, got %s", ynode_describe(n, d, sizeof d));
    return 0;
}

int opts_choice(strata_opts *o, const char *key, const char *const *choices, int def, int *out)
{
    char d[100], list[400] = "";
    ynode *n = take(o, key);
    *out = def;
    if (!n)
        return 1;
    for (int i = 0; choices[i]; i++) {
        if (n->kind == YNODE_SCALAR && strcmp(n->str, choices[i]) == 0) {
            *out = i;
            return 0;
        }
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", choices[i]);
    }
    return opts_error(o, key, "expected one of %s, got %s", list, ynode_describe(n, d, sizeof d));
}

int opts_int_pair(strata_opts *o, const char *key, long def, long min, long max, long out[2])
{
    char d[100];
    ynode *n = take(o, key);
    out[0] = out[1] = def;
    if (!n)
        return 1;
    long v[2];
    int ok = 0;
    if (n->kind == YNODE_SCALAR && ynode_long(n, &v[0]) == 0) {
        v[1] = v[0];
        ok = 1;
    } else if (n->kind == YNODE_SEQ && n->n == 2) {
        ok = ynode_long(n->items[0], &v[0]) == 0 && ynode_long(n->items[1], &v[1]) == 0;
    }
    if (!ok || v[0] < min || v[0] > max || v[1] < min || v[1] > max)
        return opts_error(o, key, "expected an integer or [height, width] from %ld to %ld, got %s", min, max,
                          ynode_describe(n, d, sizeof d));
    out[0] = v[0];
    out[1] = v[1];
    return 0;
}

int opts_float_list(strata_opts *o, const char *key, double *out, int max_n, int *count)
{
    char d[100];
    ynode *n = take(o, key);
    *count = 0;
    if (!n)
        return 1;
    if (n->kind != YNODE_SEQ || n->n > max_n)
        return opts_error(o, key, "expected a list of at most %d numbers, got %s", max_n, ynode_describe(n, d, sizeof d));
    for (int i = 0; i < n->n; i++)
        if (ynode_double(n->items[i], &out[i]))
            return opts_error(o, key, "expected a list of numbers, got %s as item %d", ynode_describe(n->items[i], d, sizeof d), i);
    *count = n->n;
    return 0;
}

int opts_int_list(strata_opts *o, const char *key, long min, long max, long *out, int max_n, int *count)
{
    char d[100];
    ynode *n = take(o, key);
    *count = 0;
    if (!n)
        return 1;
    if (n->kind != YNODE_SEQ || n->n > max_n)
        return opts_error(o, key, "expected a list of at most %d integers, got %s", max_n, ynode_describe(n, d, sizeof d));
    for (int i = 0; i < n->n; i++)
        if (ynode_long(n->items[i], &out[i]) || out[i] < min || out[i] > max)
            return opts_error(o, key, "expected a list of integers from %ld to %ld, got %s as item %d", min, max,
                              ynode_describe(n->items[i], d, sizeof d), i);
    *count = n->n;
    return 0;
}

int opts_string(strata_opts *o, const char *key, const char *def, const char **out)
{
    char d[100];
    ynode *n = take(o, key);
    *out = def;
    if (!n)
        return 1;
    if (n->kind != YNODE_SCALAR)
        return opts_error(o, key, "expected a single value, got %s", ynode_describe(n, d, sizeof d));
    *out = n->str;
    return 0;
}

int opts_node(strata_opts *o, const char *key, int kind, ynode **out)
{
    static const char *const kinds[] = {"a single value", "a list", "a mapping"};
    char d[100];
    ynode *n = take(o, key);
    *out = n;
    if (!n)
        return 1;
    if (kind >= 0 && (int)n->kind != kind)
        return opts_error(o, key, "expected %s, got %s", kinds[kind], ynode_describe(n, d, sizeof d));
    return 0;
}

int opts_child(strata_opts *o, const char *key, strata_opts *child)
{
    char fk[300];
    ynode *n;
    full_key(o, key, fk, sizeof fk);
    int rc = opts_node(o, key, YNODE_MAP, &n);
    opts_init(child, rc == 0 ? n : NULL, fk, o->err);
    if (rc < 0)
        child->failed = 1;
    return rc < 0 ? -1 : rc;
}

int opts_check_unused(strata_opts *o, const char *what)
{
    if (!o->map || o->failed)
        return o->failed ? -1 : 0;
    for (int i = 0; i < o->map->n; i++) {
        if (o->map->items[i]->used)
            continue;
        char known[600] = "";
        for (int k = 0; k < o->n_asked; k++) {
            size_t len = strlen(known);
            snprintf(known + len, sizeof known - len, "%s%s", k ? ", " : "", o->asked[k]);
        }
        char fk[300], where[300];
        full_key(o, o->map->keys[i], fk, sizeof fk);
        ynode_key_where(o->map->items[i], where, sizeof where);
        err_set(o->err, STRATA_ERR_CONFIG, "%s: %s: unknown key for %s (known: %s)", where, fk, what,
                known[0] ? known : "none");
        o->failed = 1;
        return -1;
    }
    return 0;
}

static int host_error(strata_opts *o, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(o, key, fmt, ap);
    va_end(ap);
    return -1;
}

const strata_host strata_host_table = {
    .abi_version = STRATA_ABI_VERSION,
    .opt_int = opts_int,
    .opt_float = opts_float,
    .opt_bool = opts_bool,
    .opt_choice = opts_choice,
    .opt_int_pair = opts_int_pair,
    .opt_float_list = opts_float_list,
    .opt_error = host_error,
};
