/* cli.c — helpers shared by the commands. */
#include <stdarg.h>
#include <string.h>
#include "cli/cli.h"

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
