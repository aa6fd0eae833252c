/* atomic_file.c — temporary file, fsync, rename (atomic_file.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plot/atomic_file.h"

int atomic_open(atomic_file *a, const char *path, strata_err *err)
{
    memset(a, 0, sizeof *a);
    a->path = path;
    if (snprintf(a->tmp, sizeof a->tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof a->tmp)
        return err_set(err, STRATA_ERR_CONFIG, "%.200s...: path too long", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0)
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot create a file there: %s", path, strerror(errno));
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask)) { /* mkstemp made it 0600 */
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot set permissions: %s", a->tmp, strerror(errno));
        close(fd);
        unlink(a->tmp);
        return -1;
    }
    if (!(a->f = fdopen(fd, "wb"))) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(a->tmp);
        return -1;
    }
    return 0;
}

int atomic_commit(atomic_file *a, strata_err *err)
{
    int bad = ferror(a->f) || fflush(a->f) || fsync(fileno(a->f));
    int e = errno;
    if (fclose(a->f) && !bad)
        bad = 1, e = errno;
    a->f = NULL;
    if (bad) {
        unlink(a->tmp);
        return err_set(err, STRATA_ERR_RUNTIME, "%s: cannot write: %s", a->path, strerror(e ? e : EIO));
    }
    if (rename(a->tmp, a->path)) {
        err_set(err, STRATA_ERR_RUNTIME, "%s: cannot rename %s over it: %s", a->path, a->tmp, strerror(errno));
        unlink(a->tmp);
        return -1;
    }
    return 0;
}

void atomic_abort(atomic_file *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}
