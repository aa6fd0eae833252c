/* cmd_runs.c — looking at recorded runs: `strata runs`, `strata show RUN`,
 * `strata compare RUN...`. Plain queries over the run_summary view and the
 * epochs table; --json on each. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
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
    a->db = "results/strata.db";
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

static int open_db(const char *path, results **db, strata_err *err)
{
    if (access(path, F_OK))
        return err_set(err, STRATA_ERR_CONFIG, "%s: no results database here (use --db PATH)", path);
    return results_open(path, db, err);
}

/* Print one column value as JSON. */
static void json_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: printf("%lld", (long long)sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: printf("%.17g", sqlite3_column_double(st, i)); break;
    case SQLITE_NULL: printf("null"); break;
    default: json_string(stdout, (const char *)sqlite3_column_text(st, i));
    }
}

/* Print the rows of a statement, as a table or a JSON array of objects. */
static int print_rows(sqlite3_stmt *st, int json, const int *widths)
{
    int n = sqlite3_column_count(st), rows = 0;
    if (json)
        printf("[");
    else {
        for (int i = 0; i < n; i++)
            printf("%-*s ", widths[i], sqlite3_column_name(st, i));
        printf("\n");
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (json) {
            printf("%s\n  {", rows ? "," : "");
            for (int i = 0; i < n; i++) {
                printf("%s\"%s\": ", i ? ", " : "", sqlite3_column_name(st, i));
                json_value(st, i);
            }
            printf("}");
        } else {
            for (int i = 0; i < n; i++) {
                if (sqlite3_column_type(st, i) == SQLITE_FLOAT)
                    printf("%-*.4f ", widths[i], sqlite3_column_double(st, i));
                else {
                    const char *t = (const char *)sqlite3_column_text(st, i);
                    printf("%-*s ", widths[i], t ? t : "-");
                }
            }
            printf("\n");
        }
        rows++;
    }
    if (json)
        printf("]\n");
    return rows;
}

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
    strata_err err = {0};
    int rc = parse_args(&cmd_runs, argc, argv, &a, 0);
    if (rc || open_db(a.db, &db, &err))
        return rc ? rc : cli_fail(&err);
    char *sql = sqlite3_mprintf("SELECT run_id AS id, name, model, status, epochs, best_val_acc, best_epoch,"
                                " round(total_seconds, 1) AS seconds FROM run_summary WHERE (%s) %s%s ORDER BY run_id",
                                a.where ? a.where : "1", a.sweep ? "AND sweep_id = " : "", a.sweep ? "?1" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(results_db(db), sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(&err, STRATA_ERR_CONFIG, "--where: %s", sqlite3_errmsg(results_db(db)));
        rc = cli_fail(&err);
    } else {
        if (a.sweep)
            sqlite3_bind_text(st, 1, a.sweep, -1, SQLITE_STATIC);
        print_rows(st, a.json, widths);
        sqlite3_finalize(st);
    }
    sqlite3_free(sql);
    results_close(db);
    return rc;
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
    if (open_db(a.db, &db, &err) || results_find_run(db, a.runs[0], &id, &err) ||
        results_get_run(db, id, &rec, &err)) {
        if (db)
            results_close(db);
        return cli_fail(&err);
    }
    sqlite3_stmt *st;
    sqlite3_prepare_v2(results_db(db),
                       "SELECT epoch, train_loss, train_acc, val_loss, val_acc, lr, round(seconds, 2) AS seconds,"
                       " round(images_per_sec, 1) AS images_per_sec FROM epochs WHERE run_id = ?1 ORDER BY epoch",
                       -1, &st, NULL);
    sqlite3_bind_int64(st, 1, id);
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
    print_rows(st, a.json, widths);
    if (a.json)
        printf("}\n");
    sqlite3_finalize(st);
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
    view_args a;
    results *db = NULL;
    strata_err err = {0};
    int rc = parse_args(&cmd_compare, argc, argv, &a, 2);
    if (rc)
        return rc;
    if (open_db(a.db, &db, &err))
        return cli_fail(&err);
    int64_t *ids = calloc(a.n_runs, sizeof *ids);
    for (int i = 0; i < a.n_runs; i++)
        if (results_find_run(db, a.runs[i], &ids[i], &err)) {
            free(ids);
            results_close(db);
            return cli_fail(&err);
        }
    /* epochs side by side: one column per run */
    char *sql = sqlite3_mprintf("SELECT e.epoch");
    for (int i = 0; i < a.n_runs; i++) {
        char *next = sqlite3_mprintf("%s, (SELECT val_acc FROM epochs x WHERE x.run_id = %lld AND x.epoch = e.epoch)"
                                     " AS \"run %lld val_acc\"", sql, (long long)ids[i], (long long)ids[i]);
        sqlite3_free(sql);
        sql = next;
    }
    char *list = sqlite3_mprintf("%lld", (long long)ids[0]);
    for (int i = 1; i < a.n_runs; i++) {
        char *next = sqlite3_mprintf("%s, %lld", list, (long long)ids[i]);
        sqlite3_free(list);
        list = next;
    }
    char *full = sqlite3_mprintf("%s FROM (SELECT DISTINCT epoch FROM epochs WHERE run_id IN (%s)) e ORDER BY e.epoch",
                                 sql, list);
    int widths[66];
    for (int i = 0; i < 66; i++)
        widths[i] = i ? 16 : 5;
    sqlite3_stmt *st;
    if (a.json)
        printf("{\"epochs\": ");
    sqlite3_prepare_v2(results_db(db), full, -1, &st, NULL);
    print_rows(st, a.json, widths);
    sqlite3_finalize(st);
    char *best = sqlite3_mprintf("SELECT run_id AS run, name, model, best_val_acc, best_epoch, best_val_acc -"
                                 " (SELECT best_val_acc FROM run_summary WHERE run_id = %lld) AS difference"
                                 " FROM run_summary WHERE run_id IN (%s) ORDER BY run_id",
                                 (long long)ids[0], list);
    static const int bw[] = {5, 40, 18, 12, 10, 10};
    if (a.json)
        printf(", \"best\": ");
    else
        printf("\n");
    sqlite3_prepare_v2(results_db(db), best, -1, &st, NULL);
    print_rows(st, a.json, bw);
    sqlite3_finalize(st);
    if (a.json)
        printf("}\n");
    sqlite3_free(best);
    sqlite3_free(full);
    sqlite3_free(list);
    sqlite3_free(sql);
    free(ids);
    results_close(db);
    return 0;
}

const cli_command cmd_runs = {"runs", "list recorded runs with their best val accuracy", runs_run, runs_usage};
const cli_command cmd_show = {"show", "one run's record, configuration and epochs", show_run, show_usage};
const cli_command cmd_compare = {"compare", "runs' epochs side by side, their best and the difference", compare_run,
                                 compare_usage};
