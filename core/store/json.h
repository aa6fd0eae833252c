/* json.h — the JSON the safetensors header is made of: a growing byte
 * buffer with a JSON string writer, and a strict reader for exactly the
 * header's grammar (objects, strings, non-negative integers and arrays of
 * them). Errors name the file and the byte offset. Used by safetensors.c. */
#ifndef STRATA_JSON_H
#define STRATA_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "config/error.h"

/* A growing byte buffer; `failed` sticks after an allocation failure. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
} sbuf;

void sb_put(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf_u64(sbuf *b, uint64_t v);
/* A JSON string literal: quotes, backslashes and control characters are
 * escaped; other bytes (UTF-8) pass through. */
void sb_json_string(sbuf *b, const char *s);

/* v in the shortest "%.Ng" (N = 1..17) that reads back as the same double
 * (JSON numbers of --json output); "null" when v is NaN or infinite. buf
 * holds at least 32 bytes. Returns buf. */
char *json_number(double v, char *buf, size_t size);

/* A reader over [start, end) of the file `path`; errors go to err. */
typedef struct jreader {
    const char *start, *p, *end;
    const char *path;
    strata_err *err;
} jreader;

/* err = "PATH: malformed header JSON at byte N: WHAT"; returns -1. */
int jfail(jreader *j, const char *what);
/* Skip spaces, tabs and line ends. */
void jskip_ws(jreader *j);
/* Skip whitespace and consume c, or fail naming it. */
int jexpect(jreader *j, char c);
/* After an element of an object or array: 1 if another follows (','),
 * 0 at the closing bracket, -1 on error. */
int jnext(jreader *j, char close);
/* 1 and consume `close` if the container is empty, else 0. */
int jempty(jreader *j, char close);
/* A string literal; *out is malloc'd UTF-8. */
int jstring(jreader *j, char **out);
/* A non-negative integer (no sign, fraction or exponent), at most 2^63-1. */
int juint(jreader *j, int64_t *out);
/* [int, int, ...] with at most max elements. */
int juint_array(jreader *j, int64_t *out, int max, int *n, const char *what);

#endif
