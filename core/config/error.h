/* error.h — errors as values: a status and a one-line message. */
#ifndef STRATA_ERROR_H
#define STRATA_ERROR_H

/* Exit statuses of the strata program. */
enum { STRATA_OK = 0, STRATA_ERR_RUNTIME = 1, STRATA_ERR_CONFIG = 2 };

typedef struct strata_err {
    int status;     /* STRATA_ERR_RUNTIME (I/O, resources) or STRATA_ERR_CONFIG */
    char msg[1024]; /* one line, no trailing newline */
} strata_err;

/* Set *e (when e is not NULL) and return -1, so callers can
 * `return err_set(e, STRATA_ERR_CONFIG, "%s: ...", path);` */
int err_set(strata_err *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
