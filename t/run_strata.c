/* run_strata.c — see run_strata.h. posix_spawn with stdout and stderr sent
 * to temporary files (no pipes, so a chatty child cannot block). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "run_strata.h"
#include "store/safetensors.h"
#include "testlib.h"

extern char **environ;

/* The whole of an open file from its start (malloc'd). */
static char *slurp(int fd)
{
    size_t len = 0, cap = 4096;
    char *s = malloc(cap);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (cap - len < 2048)
            s = realloc(s, cap *= 2);
        ssize_t got = read(fd, s + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    s[len] = '\0';
    return s;
}

static int temp_fd(char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(name, 4096, "%s/strata-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(name);
    if (fd >= 0)
        unlink(name);
    return fd;
}

int run_strata(const char *const *argv, strata_run *r)
{
    memset(r, 0, sizeof *r);
    const char *build = getenv("STRATA_BUILDDIR");
    char prog[4096], oname[4096], ename[4096];
    snprintf(prog, sizeof prog, "%s/core/strata", build ? build : ".");
    int n = 0;
    while (argv[n])
        n++;
    char **args = calloc(n + 2, sizeof *args);
    args[0] = prog;
    for (int i = 0; i < n; i++)
        args[i + 1] = (char *)argv[i];
    int ofd = temp_fd(oname), efd = temp_fd(ename);
    if (ofd < 0 || efd < 0) {
        perror("run_strata: mkstemp");
        free(args);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ofd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, prog, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(args);
    if (rc != 0) {
        fprintf(stderr, "run_strata: cannot start %s: %s\n", prog, strerror(rc));
        close(ofd);
        close(efd);
        return -1;
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) {
            perror("run_strata: waitpid");
            close(ofd);
            close(efd);
            return -1;
        }
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    r->out = slurp(ofd);
    r->err = slurp(efd);
    close(ofd);
    close(efd);
    return 0;
}

void run_strata_free(strata_run *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

int count_lines(const char *s)
{
    int n = 0;
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++)
        n += s[i] == '\n';
    return n + (len > 0 && s[len - 1] != '\n');
}

int count_substr(const char *s, const char *needle)
{
    int n = 0;
    for (; (s = strstr(s, needle)); s++)
        n++;
    return n;
}

strata_run strata(const char *const *args)
{
    strata_run r;
    ck_assert_int_eq(run_strata(args, &r), 0);
    return r;
}

void strata_ok(const char *what, const char *const *args)
{
    strata_run r = strata(args);
    ck_assert_msg(r.status == 0, "%s: exit %d, stderr:\n%s", what, r.status, r.err);
    run_strata_free(&r);
}

void strata_refuses(const char *const *args, int status, const char *needle)
{
    strata_run r = strata(args);
    ck_assert_msg(r.status == status, "strata %s: exit %d, expected %d: %s", args[0], r.status, status, r.err);
    ck_assert_msg(count_lines(r.err) == 1, "strata %s: expected one line on stderr, got:\n%s", args[0], r.err);
    ck_assert_msg(strstr(r.err, needle), "strata %s: stderr does not name '%s': %s", args[0], needle, r.err);
    run_strata_free(&r);
}

void assert_one_line_error(const strata_run *r, const char *what, const char *needle)
{
    ck_assert_msg(r->status != 0, "%s: exit 0, expected a refusal; stdout:\n%s", what, r->out);
    ck_assert_msg(r->status < 128, "%s: killed by signal %d; stderr:\n%s", what, r->status - 128, r->err);
    ck_assert_msg(count_lines(r->err) == 1, "%s: expected one line on stderr, got:\n%s", what, r->err);
    ck_assert_msg(strncmp(r->err, "strata", 6) == 0 && strstr(r->err, ": "), "%s: stderr: %s", what, r->err);
    ck_assert_msg(strstr(r->err, needle), "%s: stderr does not name '%s': %s", what, needle, r->err);
}

char *tiny_experiment(const char *extra)
{
    const char *src = getenv("STRATA_SRCDIR");
    ck_assert_msg(src && *src, "STRATA_SRCDIR is not set (run through make check)");
    static const char fmt[] = "include: %s/t/fixtures/tiny.yaml\ndata:\n  root: %s/data/flowers-mini\n%s";
    size_t n = sizeof fmt + 2 * strlen(src) + strlen(extra);
    char *text = malloc(n);
    ck_assert_ptr_nonnull(text);
    snprintf(text, n, fmt, src, src, extra);
    return text;
}

pid_t run_strata_bg(const char *const *args, int own_group)
{
    char prog[4096];
    snprintf(prog, sizeof prog, "%s/core/strata", getenv("STRATA_BUILDDIR"));
    const char *argv[16] = {prog};
    int n = 1;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (own_group)
            setpgid(0, 0);
        int ofd = open("bg.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int efd = open("bg.err", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (ofd < 0 || efd < 0 || dup2(ofd, 1) < 0 || dup2(efd, 2) < 0)
            _exit(121);
        execv(prog, (char *const *)argv);
        _exit(122);
    }
    if (own_group)
        setpgid(pid, pid); /* also here, so the group exists before it is signalled */
    return pid;
}

/* ---- the temp dirs of an end-to-end suite ---------------------------------------- */

static char e2e_base[4096];
static char *e2e_dir;

void e2e_make_base(void)
{
    make_temp_dir(e2e_base, sizeof e2e_base, "strata-e2e");
}

void e2e_remove_base(void)
{
    fx_rm_rf(e2e_base);
}

void e2e_enter(const char *extra)
{
    ck_assert_msg(getenv("STRATA_SRCDIR") && getenv("STRATA_BUILDDIR"),
                  "STRATA_SRCDIR/STRATA_BUILDDIR not set (run through make check)");
    e2e_dir = fx_path(e2e_base, "test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(e2e_dir));
    ck_assert_int_eq(chdir(e2e_dir), 0);
    char *text = tiny_experiment(extra);
    write_text("exp.yaml", text);
    free(text);
}

void e2e_leave(void)
{
    ck_assert_int_eq(chdir(e2e_base), 0);
    fx_rm_rf(e2e_dir);
    free(e2e_dir);
    e2e_dir = NULL;
}

const char *e2e_data_root(void)
{
    static char root[4096];
    const char *src = getenv("STRATA_SRCDIR");
    ck_assert_msg(src != NULL, "STRATA_SRCDIR not set (run through make check)");
    snprintf(root, sizeof root, "%s/data/flowers-mini", src);
    return root;
}

/* ---- the files strata writes ------------------------------------------------------ */

void read_st(const char *path, st_file *f)
{
    strata_err err = {0};
    ck_assert_msg(st_read(path, f, &err) == 0, "st_read %s: %s", path, err.msg);
}

void write_st(const char *path, const st_file *f)
{
    strata_err err = {0};
    ck_assert_msg(st_write(path, f, &err) == 0, "st_write %s: %s", path, err.msg);
}

void file_copy(const char *from, const char *to)
{
    uint8_t *data;
    size_t n;
    ck_assert_msg(fx_read(from, &data, &n) == 0, "cannot read %s", from);
    ck_assert_msg(fx_write(to, data, n) == 0, "cannot write %s", to);
    free(data);
}
