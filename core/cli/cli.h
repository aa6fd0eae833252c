/* cli.h — the strata commands. Each returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage or configuration error. */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include <stdio.h>
#include "config/error.h"
#include "store/results.h"

typedef struct cli_command {
    const char *name;
    const char *summary; /* one line for `strata --help` */
    int (*run)(int argc, char **argv);
    const char *usage;   /* full text for `strata COMMAND --help` */
} cli_command;

extern const cli_command cmd_summary, cmd_plugins, cmd_run, cmd_resume, cmd_predict, cmd_bench, cmd_sweep,
    cmd_runs, cmd_show, cmd_compare;
extern const cli_command cmd_plot;
extern const cli_command cmd_eval;
extern const cli_command cmd_gradcheck;
extern const cli_command cmd_plot, cmd_tag, cmd_note, cmd_rm;
extern const cli_command cmd_report;

/* Print "strata: MESSAGE" on stderr and return err->status (2 if unset). */
int cli_fail(const strata_err *err);
/* Usage error: "strata COMMAND: message" + hint; returns 2. */
int cli_usage(const cli_command *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is argv[i] --help / -h? Prints the usage and returns 1. */
int cli_wants_help(const cli_command *c, int argc, char **argv);

/* Resume run (id or name) in db for `epochs` more epochs (strata resume),
 * for a sweep's point: a run that early stopping had ended (killed before
 * its status) is marked finished instead. */
int strata_resume(const char *db, const char *run, int epochs, strata_err *err);

/* Global --plugin-dir (set by main before the command runs). */
extern const char *cli_plugin_dir;

/* JSON helpers for --json output. */
void json_string(FILE *f, const char *s);
/* A number in its shortest round-trip form (0.2, 0.000125); null when v is
 * not finite. */
void json_double(FILE *f, double v);

/* The results database of a command that reads or manages recorded runs:
 * db_opt (its --db), else env STRATA_DB (when set and not empty), else
 * RESULTS_DEFAULT_DB. The path must be an existing database file: a
 * missing one or a directory is a configuration error naming where the path
 * came from (--db, STRATA_DB or the default). Opens it (results_open). */
int cli_db_open(const char *db_opt, results **out, strata_err *err);
/* The whole text file at path (at most CLI_TEXT_MAX bytes; NUL-terminated,
 * the caller frees it), or NULL with a configuration error naming the file
 * and the option that gave it. */
#define CLI_TEXT_MAX ((size_t)16 << 20)
char *cli_read_text(const char *path, const char *option, strata_err *err);
/* The database path cli_db_open uses: --db, else env STRATA_DB, else the
 * default; *from names which ("--db", "STRATA_DB", "the default database"). */
const char *cli_db_path(const char *db_opt, const char **from);

/* ---- tables of the store (cli_table.c) ---- */
/* A value as JSON (NaN and infinity: null, with one warning per column). */
void cli_json_value(const results_value *v, const char *column);
/* A value as text into buf (a text value is returned as it is): a REAL with
 * `decimals` decimals, or in its shortest round-trip form when decimals < 0;
 * NULL is "-". */
const char *cli_value_text(const results_value *v, int decimals, char *buf, size_t size);
/* A table as aligned columns (column c widths[c] wide, or `rest` when
 * c >= n_widths) or as a JSON array of objects. */
void cli_print_table(const results_table *t, int json, const int *widths, int n_widths, int rest);

#endif
