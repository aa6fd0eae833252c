/* yaml_tree.c — see yaml_tree.h */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "config/yaml_tree.h"

/* ---- construction ------------------------------------------------------- */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) {
        fprintf(stderr, "strata: out of memory\n");
        abort();
    }
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = xrealloc(NULL, strlen(s) + 1);
    return strcpy(d, s);
}

ynode *ynode_new(ynode_kind kind, const char *file, int line, int col)
{
    ynode *n = xrealloc(NULL, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->file = xstrdup(file ? file : "?");
    n->line = line;
    n->col = col;
    return n;
}

ynode *ynode_scalar(const char *text, const char *file, int line, int col)
{
    ynode *n = ynode_new(YNODE_SCALAR, file, line, col);
    n->str = xstrdup(text);
    return n;
}

void ynode_free(ynode *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        ynode_free(n->items[i]);
    }
    free(n->keys);
    free(n->items);
    free(n->str);
    free(n->file);
    free(n);
}

static void grow(ynode *n)
{
    if (n->n < n->cap)
        return;
    n->cap = n->cap ? 2 * n->cap : 4;
    n->items = xrealloc(n->items, n->cap * sizeof *n->items);
    if (n->kind == YNODE_MAP)
        n->keys = xrealloc(n->keys, n->cap * sizeof *n->keys);
}

void ynode_push(ynode *seq, ynode *val)
{
    grow(seq);
    seq->items[seq->n++] = val;
}

static int key_index(const ynode *m, const char *key)
{
    if (!m || m->kind != YNODE_MAP)
        return -1;
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->keys[i], key) == 0)
            return i;
    return -1;
}

ynode *ynode_get(const ynode *m, const char *key)
{
    int i = key_index(m, key);
    return i < 0 ? NULL : m->items[i];
}

void ynode_set(ynode *m, const char *key, ynode *val)
{
    int i = key_index(m, key);
    if (i >= 0) {
        ynode_free(m->items[i]);
        m->items[i] = val;
        return;
    }
    grow(m);
    m->keys[m->n] = xstrdup(key);
    m->items[m->n++] = val;
}

void ynode_del(ynode *m, const char *key)
{
    int i = key_index(m, key);
    if (i < 0)
        return;
    free(m->keys[i]);
    ynode_free(m->items[i]);
    memmove(m->keys + i, m->keys + i + 1, (m->n - i - 1) * sizeof *m->keys);
    memmove(m->items + i, m->items + i + 1, (m->n - i - 1) * sizeof *m->items);
    m->n--;
}

ynode *ynode_clone(const ynode *n)
{
    ynode *c = ynode_new(n->kind, n->file, n->line, n->col);
    c->quoted = n->quoted;
    c->used = n->used;
    c->key_line = n->key_line;
    c->key_col = n->key_col;
    if (n->str)
        c->str = xstrdup(n->str);
    for (int i = 0; i < n->n; i++) {
        if (n->kind == YNODE_MAP)
            ynode_set(c, n->keys[i], ynode_clone(n->items[i]));
        else
            ynode_push(c, ynode_clone(n->items[i]));
    }
    return c;
}

int ynode_is_null(const ynode *n)
{
    return n && n->kind == YNODE_SCALAR && !n->quoted &&
           (!strcmp(n->str, "null") || !strcmp(n->str, "~") || !strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

void ynode_merge(ynode *dst, const ynode *src)
{
    for (int i = 0; i < src->n; i++) {
        if (ynode_is_null(src->items[i])) {
            ynode_del(dst, src->keys[i]);
            continue;
        }
        ynode *old = ynode_get(dst, src->keys[i]);
        if (old && old->kind == YNODE_MAP && src->items[i]->kind == YNODE_MAP)
            ynode_merge(old, src->items[i]);
        else
            ynode_set(dst, src->keys[i], ynode_clone(src->items[i]));
    }
}

/* ---- parsing ------------------------------------------------------------ */

typedef struct parse_state {
    yaml_parser_t parser;
    const char *name;
    strata_err *err;
    int failed;
    const char *text;
    size_t len;
    int depth; /* mappings and lists open around the node being built */
} parse_state;

static int parse_fail(parse_state *ps, int line, int col, const char *what)
{
    ps->failed = 1;
    return err_set(ps->err, STRATA_ERR_CONFIG, "%s:%d:%d: %s", ps->name, line, col, what);
}

static int next_event(parse_state *ps, yaml_event_t *ev)
{
    if (yaml_parser_parse(&ps->parser, ev))
        return 0;
    yaml_mark_t m = ps->parser.problem_mark;
    char msg[512];
    int tab = m.index < ps->len && ps->text[m.index] == '\t';
    snprintf(msg, sizeof msg, "YAML syntax error: %s%s%s%s",
             ps->parser.problem ? ps->parser.problem : "unknown problem",
             ps->parser.context ? " " : "",
             ps->parser.context ? ps->parser.context : "",
             tab ? " (a tab: YAML indents with spaces only)" : "");
    return parse_fail(ps, (int)m.line + 1, (int)m.column + 1, msg);
}

static ynode *parse_node(parse_state *ps, yaml_event_t *ev);

/* Children of a mapping or sequence until its end event. */
static int parse_children(parse_state *ps, ynode *n)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(ps, &ev))
            return -1;
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (n->kind == YNODE_SEQ) {
            ynode *c = parse_node(ps, &ev);
            if (!c)
                return -1;
            ynode_push(n, c);
            continue;
        }
        /* mapping: a scalar key, then a value */
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        if (ev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&ev);
            return parse_fail(ps, line, col, "a mapping key must be a plain word");
        }
        char *key = xstrdup((char *)ev.data.scalar.value);
        yaml_event_delete(&ev);
        if (ynode_get(n, key)) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s: duplicate key", key);
            free(key);
            return parse_fail(ps, line, col, msg);
        }
        yaml_event_t vev;
        if (next_event(ps, &vev)) {
            free(key);
            return -1;
        }
        ynode *v = parse_node(ps, &vev);
        if (!v) {
            free(key);
            return -1;
        }
        v->key_line = line;
        v->key_col = col;
        ynode_set(n, key, v);
        free(key);
    }
}

/* Build the node that starts with event ev (consumed). */
static ynode *parse_node(parse_state *ps, yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    ynode *n = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = ynode_scalar((char *)ev->data.scalar.value, ps->name, line, col);
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        if (ev->data.scalar.anchor) {
            yaml_event_delete(ev);
            ynode_free(n);
            parse_fail(ps, line, col, "anchors (&name) are not supported; write the value out");
            return NULL;
        }
        yaml_event_delete(ev);
        return n;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        int anchored = is_map ? ev->data.mapping_start.anchor != NULL
                              : ev->data.sequence_start.anchor != NULL;
        yaml_event_delete(ev);
        if (anchored) {
            parse_fail(ps, line, col, "anchors (&name) are not supported; write the value out");
            return NULL;
        }
        if (ps->depth >= YAML_MAX_DEPTH) {
            char msg[96];
            snprintf(msg, sizeof msg, "mappings and lists nested deeper than %d levels", YAML_MAX_DEPTH);
            parse_fail(ps, line, col, msg);
            return NULL;
        }
        n = ynode_new(is_map ? YNODE_MAP : YNODE_SEQ, ps->name, line, col);
        ps->depth++;
        int rc = parse_children(ps, n);
        ps->depth--;
        if (rc) {
            ynode_free(n);
            return NULL;
        }
        return n;
    }
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        parse_fail(ps, line, col, "aliases (*name) are not supported; write the value out");
        return NULL;
    default:
        yaml_event_delete(ev);
        parse_fail(ps, line, col, "unexpected YAML structure");
        return NULL;
    }
}

/* Skip stream/document start, parse the root, check there is one document. */
static ynode *parse_document(parse_state *ps)
{
    ynode *root = NULL;
    for (;;) {
        yaml_event_t ev;
        if (next_event(ps, &ev)) {
            ynode_free(root);
            return NULL;
        }
        yaml_event_type_t t = ev.type;
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            if (root) {
                ynode_free(root);
                parse_fail(ps, line, col, "only one YAML document per file");
                return NULL;
            }
            continue;
        }
        root = parse_node(ps, &ev);
        if (!root)
            return NULL;
    }
    return root;
}

ynode *yaml_load_string(const char *text, const char *name, strata_err *err)
{
    parse_state ps = {.name = name, .err = err, .text = text, .len = strlen(text)};
    if (!yaml_parser_initialize(&ps.parser)) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot initialise the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&ps.parser, (const unsigned char *)text, strlen(text));
    ynode *root = parse_document(&ps);
    yaml_parser_delete(&ps.parser);
    if (root && root->kind == YNODE_SCALAR && root->str[0] == '\0' && !root->quoted) {
        ynode_free(root);
        root = NULL;
    }
    if (ps.failed) {
        ynode_free(root);
        return NULL;
    }
    if (!root)
        root = ynode_new(YNODE_MAP, name, 1, 1);
    return root;
}

/* Open path for reading only if it is a regular file: O_NONBLOCK so that a
 * FIFO cannot block the open; directories, devices, FIFOs and sockets are
 * refused, and so is a file over YAML_MAX_FILE_BYTES. */
static FILE *open_regular(const char *path, strata_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_set(err, STRATA_ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *bad = NULL;
    if (fstat(fd, &st) != 0)
        bad = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        bad = S_ISDIR(st.st_mode) ? "a directory" : "not a regular file (a device, FIFO or socket)";
    if (bad) {
        close(fd);
        err_set(err, STRATA_ERR_CONFIG, "%s: %s (expected a YAML file)", path, bad);
        return NULL;
    }
    if (st.st_size > YAML_MAX_FILE_BYTES) {
        close(fd);
        err_set(err, STRATA_ERR_CONFIG, "%s: %lld bytes (expected a YAML file of at most %d bytes)", path,
                (long long)st.st_size, YAML_MAX_FILE_BYTES);
        return NULL;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
    }
    return f;
}

ynode *yaml_load_file(const char *path, strata_err *err)
{
    FILE *f = open_regular(path, err);
    if (!f)
        return NULL;
    /* Read at most one byte past the limit: the file may grow after fstat. */
    size_t cap = YAML_MAX_FILE_BYTES + 2;
    char *buf = xrealloc(NULL, cap);
    size_t len = fread(buf, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        err_set(err, STRATA_ERR_RUNTIME, "%s: read error", path);
        return NULL;
    }
    if (len > YAML_MAX_FILE_BYTES) {
        free(buf);
        err_set(err, STRATA_ERR_CONFIG, "%s: more than %d bytes (expected a YAML file of at most %d bytes)", path,
                YAML_MAX_FILE_BYTES, YAML_MAX_FILE_BYTES);
        return NULL;
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        err_set(err, STRATA_ERR_CONFIG, "%s: not a text file (contains NUL bytes)", path);
        return NULL;
    }
    ynode *root = yaml_load_string(buf, path, err);
    free(buf);
    return root;
}

/* ---- paths -------------------------------------------------------------- */

/* One path component: copies up to the next '.' into comp. */
static const char *next_comp(const char *p, char *comp, size_t size)
{
    size_t i = 0;
    while (*p && *p != '.') {
        if (i + 1 < size)
            comp[i++] = *p;
        p++;
    }
    comp[i] = '\0';
    return *p == '.' ? p + 1 : p;
}

/* A list index: decimal digits only, at most INT_MAX (no wrap-around). */
static int parse_index(const char *s, int *idx)
{
    if (!*s)
        return -1;
    long v = 0;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return -1;
        v = 10 * v + (*c - '0');
        if (v > INT_MAX)
            return -1;
    }
    *idx = (int)v;
    return 0;
}

static ynode *child(const ynode *n, const char *comp)
{
    int idx;
    if (n->kind == YNODE_MAP)
        return ynode_get(n, comp);
    if (n->kind == YNODE_SEQ && parse_index(comp, &idx) == 0 && idx < n->n)
        return n->items[idx];
    return NULL;
}

ynode *ynode_at(const ynode *root, const char *path)
{
    char comp[256];
    const ynode *n = root;
    const char *p = path;
    while (n && *p) {
        p = next_comp(p, comp, sizeof comp);
        n = child(n, comp);
    }
    return (ynode *)n;
}

int ynode_assign(ynode *root, const char *path, ynode *val, strata_err *err)
{
    char comp[256];
    ynode *n = root;
    const char *p = path;
    int levels = 1;
    for (const char *c = path; *c; c++)
        levels += *c == '.';
    if (levels > YAML_MAX_DEPTH) { /* the maps it would create nest as deep */
        ynode_free(val);
        return err_set(err, STRATA_ERR_CONFIG, "-s %.200s...: a key path of %d levels (expected at most %d)", path,
                       levels, YAML_MAX_DEPTH);
    }
    for (;;) {
        p = next_comp(p, comp, sizeof comp);
        if (!comp[0]) {
            ynode_free(val);
            return err_set(err, STRATA_ERR_CONFIG, "-s %s: empty key in the path", path);
        }
        int last = *p == '\0';
        int idx;
        if (n->kind == YNODE_SEQ) {
            if (parse_index(comp, &idx) || idx >= n->n) {
                ynode_free(val);
                if (n->n == 0)
                    return err_set(err, STRATA_ERR_CONFIG, "-s %s: '%s' indexes an empty list", path, comp);
                return err_set(err, STRATA_ERR_CONFIG,
                               "-s %s: '%s' is not an index of that list (expected 0..%d)", path, comp, n->n - 1);
            }
            if (last) {
                ynode_free(n->items[idx]);
                n->items[idx] = val;
                return 0;
            }
            n = n->items[idx];
            continue;
        }
        if (n->kind != YNODE_MAP) {
            ynode_free(val);
            return err_set(err, STRATA_ERR_CONFIG, "-s %s: '%s' is inside a value that is not a mapping", path, comp);
        }
        if (last) {
            if (ynode_is_null(val)) {
                ynode_del(n, comp);
                ynode_free(val);
            } else
                ynode_set(n, comp, val);
            return 0;
        }
        ynode *c = ynode_get(n, comp);
        if (!c) {
            c = ynode_new(YNODE_MAP, val->file, val->line, val->col);
            ynode_set(n, comp, c);
        }
        n = c;
    }
}

/* A value given on the command line ("-s KEY", experiment_override) is
 * named by its option alone: its line and column say nothing. */
static int from_command_line(const ynode *n)
{
    return n->file && !strncmp(n->file, "-s ", 3);
}

const char *ynode_where(const ynode *n, char *buf, size_t size)
{
    if (from_command_line(n))
        snprintf(buf, size, "%s", n->file);
    else
        snprintf(buf, size, "%s:%d:%d", n->file, n->line, n->col);
    return buf;
}

const char *ynode_key_where(const ynode *n, char *buf, size_t size)
{
    if (!n->key_line || from_command_line(n))
        return ynode_where(n, buf, size);
    snprintf(buf, size, "%s:%d:%d", n->file, n->key_line, n->key_col);
    return buf;
}

/* ---- scalars ------------------------------------------------------------ */

int ynode_long(const ynode *n, long *out)
{
    if (!n || n->kind != YNODE_SCALAR || n->quoted)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(n->str, &end, 10);
    if (errno || end == n->str || *end)
        return -1;
    *out = v;
    return 0;
}

int ynode_double(const ynode *n, double *out)
{
    if (!n || n->kind != YNODE_SCALAR || n->quoted)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(n->str, &end);
    if (errno || end == n->str || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int ynode_bool(const ynode *n, int *out)
{
    if (!n || n->kind != YNODE_SCALAR || n->quoted)
        return -1;
    if (!strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "yes")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(n->str, "false") || !strcmp(n->str, "False") || !strcmp(n->str, "no")) {
        *out = 0;
        return 0;
    }
    return -1;
}

const char *ynode_describe(const ynode *n, char *buf, size_t size)
{
    if (!n)
        snprintf(buf, size, "nothing");
    else if (n->kind == YNODE_MAP)
        snprintf(buf, size, "a mapping");
    else if (n->kind == YNODE_SEQ)
        snprintf(buf, size, "a list");
    else
        snprintf(buf, size, "'%.60s'", n->str);
    return buf;
}

/* ---- emission ----------------------------------------------------------- */

typedef struct outbuf {
    char *s;
    size_t len, cap;
} outbuf;

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    outbuf *o = data;
    if (o->len + size + 1 > o->cap) {
        o->cap = (o->len + size + 1) * 2;
        o->s = xrealloc(o->s, o->cap);
    }
    memcpy(o->s + o->len, buffer, size);
    o->len += size;
    o->s[o->len] = '\0';
    return 1;
}

static int emit_node(yaml_emitter_t *em, const ynode *n);

static int emit_scalar(yaml_emitter_t *em, const char *s, int quoted)
{
    yaml_event_t ev;
    /* fails (and leaves ev unset: emitting it would free garbage) on text
     * that is not UTF-8 */
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), !quoted, 1,
                                      quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE))
        return 0;
    return yaml_emitter_emit(em, &ev);
}

/* Sequences of scalars are written in flow style ([1, 2]); the rest block. */
static int flow_seq(const ynode *n)
{
    for (int i = 0; i < n->n; i++)
        if (n->items[i]->kind != YNODE_SCALAR)
            return 0;
    return 1;
}

static int emit_node(yaml_emitter_t *em, const ynode *n)
{
    yaml_event_t ev;
    if (n->kind == YNODE_SCALAR)
        return emit_scalar(em, n->str, n->quoted);
    if (n->kind == YNODE_SEQ) {
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                             flow_seq(n) ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(em, &ev))
            return 0;
        for (int i = 0; i < n->n; i++)
            if (!emit_node(em, n->items[i]))
                return 0;
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(em, &ev);
    }
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
    if (!yaml_emitter_emit(em, &ev))
        return 0;
    for (int i = 0; i < n->n; i++)
        if (!emit_scalar(em, n->keys[i], 0) || !emit_node(em, n->items[i]))
            return 0;
    yaml_mapping_end_event_initialize(&ev);
    return yaml_emitter_emit(em, &ev);
}

char *ynode_emit(const ynode *n)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    outbuf o = {0};
    yaml_emitter_initialize(&em);
    yaml_emitter_set_output(&em, write_handler, &o);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 100);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    int ok = yaml_emitter_emit(&em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    ok = ok && yaml_emitter_emit(&em, &ev);
    ok = ok && emit_node(&em, n);
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&em, &ev);
    yaml_emitter_delete(&em);
    if (!ok) {
        free(o.s);
        return NULL;
    }
    return o.s ? o.s : xstrdup("{}\n");
}
