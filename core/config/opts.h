/* opts.h — reading options out of a YAML mapping: the strata_host table
 * that plugins get, and the same getters for the core's own sections.
 * Every error is one line: "FILE:LINE:COL: PREFIX.KEY: what was expected,
 * got what". Keys nobody asked for are reported by opts_check_unused. */
#ifndef STRATA_OPTS_H
#define STRATA_OPTS_H

#include <strata/plugin.h>
#include "config/yaml_tree.h"

#define OPTS_MAX_ASKED 48

struct strata_opts {
    ynode *map;          /* a mapping (or NULL: no options given) */
    char prefix[256];    /* "model.layers.3" — prepended to keys in messages */
    strata_err *err;     /* where the first error goes */
    int failed;
    int n_asked;
    char asked[OPTS_MAX_ASKED][40]; /* keys a reader asked for, for hints */
};

extern const strata_host strata_host_table;

void opts_init(strata_opts *o, ynode *map, const char *prefix, strata_err *err);

/* -1 and an error naming the first key nobody asked for, with the keys
 * that are known (what): "...: unknown key 'kernal' for conv2d (known: ...)" */
int opts_check_unused(strata_opts *o, const char *what);

/* The same getters as strata_host, for the core. */
int opts_int(strata_opts *o, const char *key, long def, long min, long max, long *out);
int opts_float(strata_opts *o, const char *key, double def, double min, double max, double *out);
int opts_bool(strata_opts *o, const char *key, int def, int *out);
int opts_choice(strata_opts *o, const char *key, const char *const *choices, int def, int *out);
int opts_int_pair(strata_opts *o, const char *key, long def, long min, long max, long out[2]);
int opts_float_list(strata_opts *o, const char *key, double *out, int max_n, int *n);
int opts_error(strata_opts *o, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A plain string (not a list or mapping); *out points into the tree. */
int opts_string(strata_opts *o, const char *key, const char *def, const char **out);
/* The raw node of key, marked used (NULL when absent); -1 if present but not
 * of kind `kind` (pass -1 to accept any kind). */
int opts_node(strata_opts *o, const char *key, int kind, ynode **out);
/* A list of ints (e.g. classifier widths): at most max_n. */
int opts_int_list(strata_opts *o, const char *key, long min, long max, long *out, int max_n, int *n);
/* Open key's mapping as a child reader with prefix "PREFIX.KEY"; absent
 * gives an empty reader (map NULL). -1 when key is not a mapping. */
int opts_child(strata_opts *o, const char *key, strata_opts *child);

#endif
