/* json.h — strata's JSON: a growing byte buffer with JSON string and
 * number writers (the safetensors header, runs.config_json, the commands'
 * --json), and a strict reader for exactly the safetensors header's grammar
 * (objects, strings, non-negative integers and arrays of them). Errors name
 * the file and the byte offset. */
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

/* The shortest text of v that reads back (strtod) as exactly v: %.Ng with
 * the smallest N in 1..17, so 0.2 is "0.2" and 0.000125 is "0.000125";
 * "nan", "inf" or "-inf" when v is not finite. Returns buf. */
#define JSON_DOUBLE_MAX 32
char *json_double_text(double v, char buf[JSON_DOUBLE_MAX]);
/* A JSON number: json_double_text, or null when v is not finite (JSON has
 * no NaN or infinity). */
void sb_json_double(sbuf *b, double v);

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
