/* json.c — strata's JSON writer and the safetensors header's reader: see
 * json.h. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/json.h"

void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf_u64(sbuf *b, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    sb_puts(b, tmp);
}

/* A JSON string literal: quotes, backslashes and control characters are
 * escaped; other bytes (UTF-8) pass through. */
void sb_json_string(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        switch (*c) {
        case '"': sb_put(b, "\\\"", 2); break;
        case '\\': sb_put(b, "\\\\", 2); break;
        case '\n': sb_put(b, "\\n", 2); break;
        case '\r': sb_put(b, "\\r", 2); break;
        case '\t': sb_put(b, "\\t", 2); break;
        case '\b': sb_put(b, "\\b", 2); break;
        case '\f': sb_put(b, "\\f", 2); break;
        default:
            if (*c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *c);
                sb_put(b, esc, 6);
            } else {
                sb_put(b, (const char *)c, 1);
            }
        }
    }
    sb_put(b, "\"", 1);
}

char *json_double_text(double v, char buf[JSON_DOUBLE_MAX])
{
    if (!isfinite(v)) {
        snprintf(buf, JSON_DOUBLE_MAX, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, JSON_DOUBLE_MAX, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

void sb_json_double(sbuf *b, double v)
{
    char text[JSON_DOUBLE_MAX];
    sb_puts(b, isfinite(v) ? json_double_text(v, text) : "null");
}

int jfail(jreader *j, const char *what)
{
    if (j->p >= j->end)
        return err_set(j->err, STRATA_ERR_RUNTIME,
                       "%s: malformed header JSON: %s, found the end of the "
                       "header", j->path, what);
    return err_set(j->err, STRATA_ERR_RUNTIME,
                   "%s: malformed header JSON at byte %zu: %s", j->path,
                   (size_t)(j->p - j->start), what);
}

void jskip_ws(jreader *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Skip whitespace and consume c, or fail naming it. */
int jexpect(jreader *j, char c)
{
    jskip_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 0;
    }
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", c);
    return jfail(j, what);
}

/* After an element of an object or array: 1 if another follows (','),
 * 0 at the closing bracket, -1 on error. */
int jnext(jreader *j, char close)
{
    jskip_ws(j);
    if (j->p < j->end && *j->p == ',') {
        j->p++;
        return 1;
    }
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    char what[40];
    snprintf(what, sizeof what, "expected ',' or '%c'", close);
    return jfail(j, what);
}

/* 1 and consume `close` if the container is empty, else 0. */
int jempty(jreader *j, char close)
{
    jskip_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 1;
    }
    return 0;
}

static int hex4(jreader *j, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (j->p >= j->end)
            return jfail(j, "truncated \\u escape");
        char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else {
            j->p--;
            return jfail(j, "expected 4 hex digits after \\u");
        }
    }
    *out = v;
    return 0;
}

/* \uXXXX (after the 'u'), with surrogate pairs, appended as UTF-8. */
static int junicode(jreader *j, sbuf *s)
{
    unsigned cp;
    if (hex4(j, &cp))
        return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return jfail(j, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned lo;
        if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
            return jfail(j, "high surrogate not followed by a low one");
        j->p += 2;
        if (hex4(j, &lo))
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return jfail(j, "high surrogate not followed by a low one");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0)
        return jfail(j, "\\u0000 is not allowed in names and values");
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sb_put(s, u, n);
    return 0;
}

/* A string literal; *out is malloc'd UTF-8. */
int jstring(jreader *j, char **out)
{
    if (jexpect(j, '"'))
        return -1;
    sbuf s = {0};
    sb_put(&s, "", 0);
    for (;;) {
        if (j->p >= j->end) {
            free(s.p);
            return jfail(j, "unterminated string");
        }
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            break;
        if (c < 0x20) {
            j->p--;
            free(s.p);
            return jfail(j, "control character in a string (expected it "
                            "escaped)");
        }
        if (c != '\\') {
            sb_put(&s, (const char *)&c, 1);
            continue;
        }
        if (j->p >= j->end) {
            free(s.p);
            return jfail(j, "unterminated string");
        }
        char e = *j->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            sb_put(&s, &map[simple - "\"\\/bfnrt"], 1);
        } else if (e == 'u') {
            if (junicode(j, &s)) {
                free(s.p);
                return -1;
            }
        } else {
            j->p--;
            free(s.p);
            return jfail(j, "invalid escape in a string");
        }
    }
    if (s.failed) {
        free(s.p);
        return err_set(j->err, STRATA_ERR_RUNTIME, "%s: out of memory",
                       j->path);
    }
    *out = s.p;
    return 0;
}

/* A non-negative integer (no sign, fraction or exponent), at most 2^63-1. */
int juint(jreader *j, int64_t *out)
{
    jskip_ws(j);
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return jfail(j, "expected a non-negative integer");
    if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
        return jfail(j, "leading zero in a number");
    int64_t v = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        int d = *j->p - '0';
        if (v > (INT64_MAX - d) / 10)
            return jfail(j, "integer too large");
        v = v * 10 + d;
        j->p++;
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
        return jfail(j, "expected an integer, found a fraction or exponent");
    *out = v;
    return 0;
}

/* [int, int, ...] with at most max elements. */
int juint_array(jreader *j, int64_t *out, int max, int *n,
                       const char *what)
{
    *n = 0;
    if (jexpect(j, '['))
        return -1;
    if (jempty(j, ']'))
        return 0;
    int more;
    do {
        if (*n == max) {
            char msg[96];
            snprintf(msg, sizeof msg, "%s has more than %d elements", what,
                     max);
            return jfail(j, msg);
        }
        if (juint(j, &out[(*n)++]))
            return -1;
    } while ((more = jnext(j, ']')) == 1);
    return more;
}
