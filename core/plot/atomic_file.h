/*
 * atomic_file.h — write a file whole or not at all: into a temporary file
 * beside the path (mode 0666 less the umask), flushed and fsync'd, then
 * renamed over it. Used for the PNG, SVG and HTML outputs.
 */
#ifndef STRATA_ATOMIC_FILE_H
#define STRATA_ATOMIC_FILE_H

#include <stdio.h>
#include "config/error.h"

typedef struct atomic_file {
    FILE *f;          /* write here */
    char tmp[4096];   /* the temporary file */
    const char *path; /* the final name */
} atomic_file;

/* Create the temporary file. Errors: path too long (config), cannot create. */
int atomic_open(atomic_file *a, const char *path, strata_err *err);
/* Flush, fsync, close and rename over path; on any error (also an earlier
 * write error of f) the temporary file is removed and nothing changes. */
int atomic_commit(atomic_file *a, strata_err *err);
/* Give up: close and remove the temporary file. */
void atomic_abort(atomic_file *a);

#endif
