/* cli.h — the strata commands. Each returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage or configuration error. */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include <stdio.h>
#include "config/error.h"

typedef struct cli_command {
    const char *name;
    const char *summary; /* one line for `strata --help` */
    int (*run)(int argc, char **argv);
    const char *usage;   /* full text for `strata COMMAND --help` */
} cli_command;

extern const cli_command cmd_summary, cmd_plugins, cmd_run, cmd_resume, cmd_predict, cmd_bench, cmd_sweep,
    cmd_runs, cmd_show, cmd_compare;
extern const cli_command cmd_plot, cmd_report;

/* Print "strata: MESSAGE" on stderr and return err->status (2 if unset). */
int cli_fail(const strata_err *err);
/* Usage error: "strata COMMAND: message" + hint; returns 2. */
int cli_usage(const cli_command *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is argv[i] --help / -h? Prints the usage and returns 1. */
int cli_wants_help(const cli_command *c, int argc, char **argv);

/* Resume run (id or name) in db for `epochs` more epochs (strata resume). */
int strata_resume(const char *db, const char *run, int epochs, strata_err *err);

/* Global --plugin-dir (set by main before the command runs). */
extern const char *cli_plugin_dir;

/* JSON helpers for --json output. */
void json_string(FILE *f, const char *s);

#endif
