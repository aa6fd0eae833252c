/* fuzz_common.h — what the libFuzzer harnesses share: the input as a C
 * string, a private temporary folder (made once per process) and writing
 * the input into a file in it, since strata's readers take paths. */
#ifndef STRATA_FUZZ_COMMON_H
#define STRATA_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "DIR/name" in the process's temporary folder, into buf. */
static const char *fuzz_path(const char *name, char *buf, size_t size)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s", "/tmp/strata-fuzz-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* The input as a C string (malloc'ed, NUL added; the caller frees it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

/* Write n bytes to the temporary file name; its path into buf. */
static const char *fuzz_file(const char *name, const void *data, size_t n, char *buf, size_t size)
{
    fuzz_path(name, buf, size);
    FILE *f = fopen(buf, "wb");
    if (!f || fwrite(data, 1, n, f) != n)
        abort();
    fclose(f);
    return buf;
}

#endif
