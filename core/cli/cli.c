/* cli.c — helpers shared by the commands. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "store/json.h"
#include "store/results.h"

const char *cli_plugin_dir;

int cli_fail(const strata_err *err)
{
    fprintf(stderr, "strata: %s\n", err->msg[0] ? err->msg : "unknown error");
    return err->status ? err->status : STRATA_ERR_CONFIG;
}

int cli_usage(const cli_command *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "strata %s: ", c->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'strata %s --help')\n", c->name);
    return STRATA_ERR_CONFIG;
}

int cli_wants_help(const cli_command *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(c->usage, stdout);
            return 1;
        }
    }
    return 0;
}

void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void json_double(FILE *f, double v)
{
    char text[JSON_DOUBLE_MAX];
    fputs(isfinite(v) ? json_double_text(v, text) : "null", f);
}

const char *cli_db_path(const char *db_opt, const char **from)
{
    const char *env = getenv("STRATA_DB");
    if (db_opt)
        return *from = "--db", db_opt;
    if (env && *env)
        return *from = "STRATA_DB", env;
    return *from = "the default database", RESULTS_DEFAULT_DB;
}

int cli_db_open(const char *db_opt, results **out, strata_err *err)
{
    const char *from, *path = cli_db_path(db_opt, &from);
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return err_set(err, errno == ENOENT ? STRATA_ERR_CONFIG : STRATA_ERR_RUNTIME,
                       "%s: %s: %s (expected a results database; give --db PATH or set STRATA_DB)", path, from,
                       strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return err_set(err, STRATA_ERR_CONFIG, "%s: %s: not a regular file (expected a results database)", path,
                       from);
    return results_open(path, out, err);
}

char *cli_read_text(const char *path, const char *option, strata_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, STRATA_ERR_CONFIG, "%s: %s: cannot read the file: %s", path, option, strerror(errno));
        return NULL;
    }
    char *text = malloc(CLI_TEXT_MAX + 1);
    size_t n = text ? fread(text, 1, CLI_TEXT_MAX + 1, f) : 0;
    int bad = ferror(f) || n > CLI_TEXT_MAX;
    fclose(f);
    if (!text || bad) {
        err_set(err, STRATA_ERR_CONFIG, "%s: %s: %s", path, option,
                !text ? "out of memory" : n > CLI_TEXT_MAX ? "larger than 16 MiB" : "read error");
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}
