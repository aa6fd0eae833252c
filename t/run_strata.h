/* run_strata.h — run the built strata program from a test and capture what
 * it prints.
 *
 *   const char *argv[] = {"summary", path, "--json", NULL};
 *   strata_run r;
 *   run_strata(argv, &r);      // $STRATA_BUILDDIR/core/strata summary ...
 *   ... r.status (the exit status, or 128+signal), r.out, r.err ...
 *   run_strata_free(&r);
 *
 * The child inherits the environment and the current directory. */
#ifndef STRATA_RUN_STRATA_H
#define STRATA_RUN_STRATA_H

typedef struct strata_run {
    int status;  /* exit status; 128 + signal number when killed */
    char *out;   /* stdout, NUL-terminated (malloc'd) */
    char *err;   /* stderr, NUL-terminated (malloc'd) */
} strata_run;

/* argv: the arguments after the program name, NULL-terminated. Returns 0,
 * or -1 when the program could not be started (message on stderr). */
int run_strata(const char *const *argv, strata_run *r);
void run_strata_free(strata_run *r);

/* The number of lines of s (a last line without '\n' counts). */
int count_lines(const char *s);

#endif
