/* yaml_tree.h — a YAML document as a tree of nodes that remember where they
 * came from (file, line, column), so every configuration error can point at
 * the text the user wrote. Built with libyaml; anchors and aliases are
 * refused. Also: deep merge (for `include:`), dotted-path access and
 * assignment (for `-s key.path=value`), and emission back to YAML text. */
#ifndef STRATA_YAML_TREE_H
#define STRATA_YAML_TREE_H

#include "config/error.h"

/* Limits on what a YAML file or -s value may hold (exceeding one is a
 * configuration error naming the file): mappings and lists nested at most
 * YAML_MAX_DEPTH deep, a file at most YAML_MAX_FILE_BYTES long and a regular
 * file (not a directory, device, FIFO or socket). */
#define YAML_MAX_DEPTH 64
#define YAML_MAX_FILE_BYTES (1 << 20)

typedef enum { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } ynode_kind;

typedef struct ynode {
    ynode_kind kind;
    char *str;     /* scalar text */
    int quoted;    /* scalar was quoted: a string, never a number or bool */
    int n, cap;    /* children */
    char **keys;   /* map keys (n of them) */
    struct ynode **items; /* seq items or map values */
    char *file;    /* where it was written ("-s" for the command line) */
    int line, col; /* 1-based */
    int key_line, key_col; /* where its key was written (map values; 0: unknown) */
    int used;      /* set when a reader consumed it (unknown-key checks) */
} ynode;

/* Parse a file or a string holding one YAML document. An empty document
 * gives an empty mapping. Errors: "FILE:LINE:COL: message", status CONFIG
 * (RUNTIME when the file cannot be read). */
ynode *yaml_load_file(const char *path, strata_err *err);
ynode *yaml_load_string(const char *text, const char *name, strata_err *err);

ynode *ynode_new(ynode_kind kind, const char *file, int line, int col);
ynode *ynode_scalar(const char *text, const char *file, int line, int col);
ynode *ynode_clone(const ynode *n);
void ynode_free(ynode *n);

/* Map lookup (NULL when absent or when m is not a map). */
ynode *ynode_get(const ynode *m, const char *key);
/* Set key in a map, replacing (and freeing) an old value; takes val. */
void ynode_set(ynode *m, const char *key, ynode *val);
/* Append to a sequence; takes val. */
void ynode_push(ynode *seq, ynode *val);
/* Remove key from a map (no-op when absent). */
void ynode_del(ynode *m, const char *key);

/* Deep merge: keys of src win; maps merge recursively, anything else is
 * replaced by a copy of src's value; a null value (null, ~) in src removes
 * the key from dst. */
void ynode_merge(ynode *dst, const ynode *src);

/* "a.b.3.c": map keys and sequence indexes. NULL when absent. */
ynode *ynode_at(const ynode *root, const char *path);

/* An unquoted null or ~. */
int ynode_is_null(const ynode *n);

/* Assign a value at a dotted path, creating maps on the way; null removes
 * the key. A component
 * that indexes past the end of a sequence, or goes through a scalar, is an
 * error naming the path. Takes val. */
int ynode_assign(ynode *root, const char *path, ynode *val, strata_err *err);

/* "FILE:LINE:COL" of a node, into buf. */
const char *ynode_where(const ynode *n, char *buf, size_t size);
/* The same for the key that maps to n (falls back to n's own position). */
const char *ynode_key_where(const ynode *n, char *buf, size_t size);

/* The tree as block-style YAML text (malloc'd). */
char *ynode_emit(const ynode *n);

/* Scalar readers: 0 on success, -1 when the scalar is not of that type. */
int ynode_long(const ynode *n, long *out);
int ynode_double(const ynode *n, double *out);
int ynode_bool(const ynode *n, int *out);

/* A short human description for messages: "a mapping", "a list", "'abc'". */
const char *ynode_describe(const ynode *n, char *buf, size_t size);

#endif
