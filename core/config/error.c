/* error.c — see error.h */
#include <stdarg.h>
#include <stdio.h>
#include "config/error.h"

int err_set(strata_err *e, int status, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->status = status;
    return -1;
}
