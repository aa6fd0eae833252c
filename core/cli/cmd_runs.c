/* cmd_runs.c — looking at recorded runs: `strata runs`, `strata show RUN`,
 * `strata compare RUN...`. Plain queries over the run_summary view and the
 * epochs table; --json on each. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "store/results.h"

typedef struct view_args {
    const char *db, *sweep, *where;
    int json;
    int n_runs;
    char **runs;
} view_args;

static int parse_args(const cli_command *c, int argc, char **argv, view_args *a, int want_runs)
{
    static const struct option longopts[] = {{"db", required_argument, 0, 'd'},   {"sweep", required_argument, 0, 'S'},
                                              {"where", required_argument, 0, 'w'}, {"json", no_argument, 0, 'j'},
                                              {0, 0, 0, 0}};
    int ch;
    memset(a, 0, sizeof *a);
    a->db = RESULTS_DEFAULT_DB;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'd')
            a->db = optarg;
        else if (ch == 'S' && !want_runs)
            a->sweep = optarg;
        else if (ch == 'w' && !want_runs)
            a->where = optarg;
        else if (ch == 'j')
            a->json = 1;
        else
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    a->runs = argv + optind;
    a->n_runs = argc - optind;
    if (want_runs == 1 && a->n_runs != 1)
        return cli_usage(c, "expected one RUN");
    if (want_runs == 2 && a->n_runs < 1)
        return cli_usage(c, "expected at least one RUN");
    if (!want_runs && a->n_runs)
        return cli_usage(c, "unexpected argument '%s'", a->runs[0]);
    return 0;
}

/* Print one value as JSON. JSON has no NaN or infinity: those print as null
 * with one warning on stderr per column. */
static void json_value(const results_value *v, const char *column)
{
    static const char *warned;
    switch (v->type) {
    case RESULTS_INT: printf("%lld", (long long)v->i); break;
    case RESULTS_REAL:
        if (isfinite(v->d)) {
            printf("%.17g", v->d);
            break;
        }
        if (warned != column)
            fprintf(stderr, "strata: warning: %s is %g; written as null in the JSON\n", column, v->d);
        warned = column;
        printf("null");
        break;
    case RESULTS_NULL: printf("null"); break;
    default: json_string(stdout, v->s);
    }
}

/* Print a table, as aligned columns or a JSON array of objects. Column c
 * is widths[c] wide, or `rest` wide when c >= n_widths. */
static void print_table(const results_table *t, int json, const int *widths, int n_widths, int rest)
{
    if (json)
        printf("[");
    else {
        for (int c = 0; c < t->n_cols; c++)
            printf("%-*s ", c < n_widths ? widths[c] : rest, t->names[c]);
        printf("\n");
    }
    for (int row = 0; row < t->n_rows; row++) {
        if (json)
            printf("%s\n  {", row ? "," : "");
        for (int c = 0; c < t->n_cols; c++) {
            const results_value *v = results_cell(t, row, c);
            int w = c < n_widths ? widths[c] : rest;
            if (json) {
                printf("%s\"%s\": ", c ? ", " : "", t->names[c]);
                json_value(v, t->names[c]);
            } else if (v->type == RESULTS_REAL)
                printf("%-*.4f ", w, v->d);
            else if (v->type == RESULTS_INT)
                printf("%-*lld ", w, (long long)v->i);
            else
                printf("%-*s ", w, v->type == RESULTS_TEXT ? v->s : "-");
        }
        printf(json ? "}" : "\n");
    }
    if (json)
        printf("]\n");
}

#define N_WIDTHS(w) ((int)(sizeof w / sizeof w[0]))

/* ---- strata runs ------------------------------------------------------------- */

static const char runs_usage[] =
    "usage: strata runs [--sweep ID] [--where SQL] [--db PATH] [--json]\n"
    "\n"
    "One line per run: id, name, model, status, epochs done, best val accuracy\n"
    "and its epoch, wall time in seconds (sum of the epochs). --where adds an SQL\n"
    "condition over the run_summary view's columns (run_id, name, model, status,\n"
    "sweep_id, epochs, best_val_acc, best_epoch, last_epoch, total_seconds ...),\n"
    "e.g. --where \"model like 'vgg%' and best_val_acc > 0.7\".\n";

static int runs_run(int argc, char **argv)
{
    static const int widths[] = {5, 40, 18, 11, 6, 12, 10, 10};
    view_args a;
    results *db = NULL;
    results_table t;
    strata_err err = {0};
    int rc = parse_args(&cmd_runs, argc, argv, &a, 0);
    if (rc)
        return rc;
    if (results_open_existing(a.db, &db, &err) || results_runs_table(db, a.where, a.sweep, &t, &err)) {
        results_close(db);
        return cli_fail(&err);
    }
    print_table(&t, a.json, widths, N_WIDTHS(widths), 10);
    results_table_free(&t);
    results_close(db);
    return 0;
}

/* ---- strata show ------------------------------------------------------------- */

static const char show_usage[] =
    "usage: strata show RUN [--db PATH] [--json]\n"
    "\n"
    "The run's record (status, model, seed, parameters, times), its resolved\n"
    "configuration, and its epochs table.\n";

static int show_run(int argc, char **argv)
{
    static const int widths[] = {5, 10, 9, 10, 9, 9, 8, 8};
    view_args a;
    results *db = NULL;
    strata_err err = {0};
    int64_t id;
    run_record rec = {0};
    int rc = parse_args(&cmd_show, argc, argv, &a, 1);
    if (rc)
        return rc;
    results_table t;
    if (results_open_existing(a.db, &db, &err) || results_find_run(db, a.runs[0], &id, &err) ||
        results_get_run(db, id, &rec, &err) || results_epochs_table(db, id, &t, &err)) {
        run_record_free(&rec);
        results_close(db);
        return cli_fail(&err);
    }
    if (a.json) {
        printf("{\"id\": %lld, \"name\": ", (long long)rec.id);
        json_string(stdout, rec.name ? rec.name : "");
        printf(", \"model\": ");
        json_string(stdout, rec.model ? rec.model : "");
        printf(", \"status\": ");
        json_string(stdout, rec.status ? rec.status : "");
        printf(", \"seed\": %lld, \"params\": %lld, \"created_at\": ", (long long)rec.seed, (long long)rec.params);
        json_string(stdout, rec.created_at ? rec.created_at : "");
        printf(", \"config\": ");
        json_string(stdout, rec.config ? rec.config : "");
        printf(", \"epochs\": ");
    } else {
        printf("run %lld: %s\nmodel %s, status %s, seed %lld, %lld parameters\ncreated %s, finished %s, host %s, "
               "pid %lld\nexperiment %s\n\n%s\n",
               (long long)rec.id, rec.name ? rec.name : "", rec.model ? rec.model : "", rec.status ? rec.status : "",
               (long long)rec.seed, (long long)rec.params, rec.created_at ? rec.created_at : "-",
               rec.finished_at ? rec.finished_at : "-", rec.host ? rec.host : "-", (long long)rec.pid,
               rec.experiment ? rec.experiment : "-", rec.config ? rec.config : "");
    }
    char *why = NULL; /* runs.stop_reason (helper C) */
    if (!a.json && results_run_stop_reason_get(db, id, &why, &err) == 0 && why)
        printf("stopped: %s\n\n", why);
    free(why);
    print_table(&t, a.json, widths, N_WIDTHS(widths), 8);
    if (a.json)
        printf("}\n");
    results_table_free(&t);
    run_record_free(&rec);
    results_close(db);
    return 0;
}

/* ---- strata compare ---------------------------------------------------------- */

static const char compare_usage[] =
    "usage: strata compare RUN... [--db PATH] [--json]\n"
    "\n"
    "The runs' val accuracy epoch by epoch side by side, then each run's best\n"
    "val accuracy and its epoch, and the difference of each best to the first\n"
    "run's.\n";

static int compare_run(int argc, char **argv)
{
    static const int epoch_widths[] = {5}, best_widths[] = {5, 40, 18, 12, 10, 10};
    view_args a;
    results *db = NULL;
    results_table epochs, best;
    strata_err err = {0};
    int rc = parse_args(&cmd_compare, argc, argv, &a, 2);
    if (rc)
        return rc;
    int64_t *ids = calloc(a.n_runs, sizeof *ids);
    if (!ids)
        return cli_fail(&(strata_err){STRATA_ERR_RUNTIME, "out of memory"});
    rc = results_open_existing(a.db, &db, &err);
    for (int i = 0; i < a.n_runs && !rc; i++)
        rc = results_find_run(db, a.runs[i], &ids[i], &err);
    if (rc || results_compare_tables(db, ids, a.n_runs, &epochs, &best, &err)) {
        free(ids);
        results_close(db);
        return cli_fail(&err);
    }
    if (a.json)
        printf("{\"epochs\": ");
    print_table(&epochs, a.json, epoch_widths, N_WIDTHS(epoch_widths), 16);
    printf(a.json ? ", \"best\": " : "\n");
    print_table(&best, a.json, best_widths, N_WIDTHS(best_widths), 10);
    if (a.json)
        printf("}\n");
    results_table_free(&epochs);
    results_table_free(&best);
    free(ids);
    results_close(db);
    return 0;
}

const cli_command cmd_runs = {"runs", "list recorded runs with their best val accuracy", runs_run, runs_usage};
const cli_command cmd_show = {"show", "one run's record, configuration and epochs", show_run, show_usage};
const cli_command cmd_compare = {"compare", "runs' epochs side by side, their best and the difference", compare_run,
                                 compare_usage};
