/* run_strata.h — run the built strata program from a test and capture what
 * it prints.
 *
 *   const char *argv[] = {"summary", path, "--json", NULL};
 *   strata_run r;
 *   run_strata(argv, &r);      // $STRATA_BUILDDIR/core/strata summary ...
 *   ... r.status (the exit status, or 128+signal), r.out, r.err ...
 *   run_strata_free(&r);
 *
 * The child inherits the environment and the current directory. strata(),
 * strata_ok() and assert_one_line_error() assert with Check. */
#ifndef STRATA_RUN_STRATA_H
#define STRATA_RUN_STRATA_H
#include <sys/types.h>

typedef struct strata_run {
    int status;  /* exit status; 128 + signal number when killed */
    char *out;   /* stdout, NUL-terminated (malloc'd) */
    char *err;   /* stderr, NUL-terminated (malloc'd) */
} strata_run;

/* argv: the arguments after the program name, NULL-terminated. Returns 0,
 * or -1 when the program could not be started (message on stderr). */
int run_strata(const char *const *argv, strata_run *r);
void run_strata_free(strata_run *r);

/* `$STRATA_BUILDDIR/core/strata ARGS...` (NULL-terminated, at most 14) in
 * the background, stdout/stderr to bg.out / bg.err in the current folder;
 * own_group: in a process group of its own (kill(-pid) reaches it and its
 * children). Returns the pid; the caller waits for it. */
pid_t run_strata_bg(const char *const *args, int own_group);

/* The number of lines of s (a last line without '\n' counts). */
int count_lines(const char *s);
/* The number of places needle starts in s (overlapping ones count). */
int count_substr(const char *s, const char *needle);

/* The arguments as a NULL-terminated array: run_strata(ARGS("runs"), &r). */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Run strata with args, asserting it started; free with run_strata_free. */
strata_run strata(const char *const *args);
/* Run strata with args and assert exit 0 (message: what, status, stderr). */
void strata_ok(const char *what, const char *const *args);
/* Run strata with args and assert exit status `status` and one line on
 * stderr containing needle (messages name the arguments' first word). */
void strata_refuses(const char *const *args, int status, const char *needle);
/* Exit != 0 and not killed, one line on stderr "strata...: ..." (also
 * "strata CMD: ..." for a usage error), containing needle. */
void assert_one_line_error(const strata_run *r, const char *what, const char *needle);

/* The text of an exp.yaml for the end-to-end suites: it includes the shared
 * t/fixtures/tiny.yaml, sets data.root to the shipped data/flowers-mini
 * (both under $STRATA_SRCDIR, asserted set) and appends extra (the suite's
 * own keys, "" for none). malloc'd. */
char *tiny_experiment(const char *extra);

/* ---- the temp dirs of an end-to-end suite ----
 *   tcase_add_unchecked_fixture(tc, e2e_make_base, e2e_remove_base);
 *   tcase_add_checked_fixture(tc, setup, e2e_leave);  // setup: e2e_enter("...")
 * e2e_make_base: one base dir for the suite ($TMPDIR/strata-e2e-XXXXXX);
 * e2e_enter(extra): a fresh dir under it as the current directory, with
 * exp.yaml = tiny_experiment(extra); e2e_leave: back to the base, the dir
 * removed. */
void e2e_make_base(void);
void e2e_remove_base(void);
void e2e_enter(const char *extra);
void e2e_leave(void);
/* The shipped photos: $STRATA_SRCDIR/data/flowers-mini. */
const char *e2e_data_root(void);

/* ---- the files strata writes ---- */
struct st_file;
/* st_read / st_write, asserting (message: the path and the error). */
void read_st(const char *path, struct st_file *f);
void write_st(const char *path, const struct st_file *f);
/* Copy the bytes of file from into file to (created or truncated). */
void file_copy(const char *from, const char *to);

#endif
