/* cmd_runs.c — looking at recorded runs: `strata runs` and `strata show
 * RUN` (`strata compare` is cmd_compare.c). Plain queries over the
 * run_summary view, the epochs table and the run's tags; --json on each. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "store/manage.h"
#include "store/params.h"
#include "store/results.h"

typedef struct view_args {
    const char *db, *sweep, *where;
    char *tag_key;         /* --tag KEY[=VALUE] (split in place) */
    const char *tag_value;
    int json;
    int n_runs;
    char **runs;
} view_args;

static int parse_args(const cli_command *c, int argc, char **argv, view_args *a, int want_runs)
{
    static const struct option longopts[] = {{"db", required_argument, 0, 'd'},   {"sweep", required_argument, 0, 'S'},
                                              {"where", required_argument, 0, 'w'}, {"json", no_argument, 0, 'j'},
                                              {"tag", required_argument, 0, 't'},   {0, 0, 0, 0}};
    int ch;
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (ch == 'd')
            a->db = optarg;
        else if (ch == 'S' && !want_runs)
            a->sweep = optarg;
        else if (ch == 'w' && !want_runs)
            a->where = optarg;
        else if (ch == 't' && !want_runs) {
            a->tag_key = optarg;
            char *eq = strchr(optarg, '=');
            if (eq)
                *eq = 0, a->tag_value = eq + 1;
            if (!*a->tag_key)
                return cli_usage(c, "--tag: expected KEY or KEY=VALUE, got '%s'", argv[optind - 1]);
        } else if (ch == 'j')
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

#define N_WIDTHS(w) ((int)(sizeof w / sizeof w[0]))

/* ---- strata runs ------------------------------------------------------------- */

static const char runs_usage[] =
    "usage: strata runs [--sweep ID] [--where SQL] [--tag KEY[=VALUE]] [--db PATH] [--json]\n"
    "\n"
    "One line per run: id, name, model, status, epochs done, best val accuracy\n"
    "and its epoch, wall time in seconds (sum of the epochs).\n"
    "\n"
    "  --sweep ID          the runs of that sweep\n"
    "  --where SQL         an SQL condition over the columns of the run_summary view:\n"
    "                      run_id, name, model, status, sweep_id, sweep_point, params,\n"
    "                      epochs (recorded), best_val_acc, best_epoch, last_epoch,\n"
    "                      last_val_acc, total_seconds, images_per_sec, created_at,\n"
    "                      finished_at, input_size, batch_size, lr, optimizer,\n"
    "                      max_epochs (train.epochs), stop_reason; any other\n"
    "                      parameter through run_params, e.g.\n"
    "                      --where \"lr < 3e-4 and model like 'vgg%'\"\n"
    "                      --where \"run_id in (select run_id from run_params\n"
    "                               where key = 'train.seed' and value = 1)\"\n"
    "  --tag KEY[=VALUE]   the runs with that tag (strata tag), of that value\n"
    "  --db PATH           the results database (default: env STRATA_DB, else\n"
    "                      " RESULTS_DEFAULT_DB ")\n"
    "  --json              a JSON array of objects\n";

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
    if (cli_db_open(a.db, &db, &err) ||
        results_runs_table(db, a.where, a.sweep, a.tag_key, a.tag_value, &t, &err)) {
        results_close(db);
        return cli_fail(&err);
    }
    cli_print_table(&t, a.json, widths, N_WIDTHS(widths), 10);
    results_table_free(&t);
    results_close(db);
    return 0;
}

/* ---- strata show ------------------------------------------------------------- */

static const char show_usage[] =
    "usage: strata show RUN [--db PATH] [--json]\n"
    "\n"
    "The run's record (status, model, seed, parameters, times), its tags and\n"
    "note (strata tag, strata note), its resolved configuration, and its epochs\n"
    "table. RUN is a run id or name (the newest run of that name). --db: the\n"
    "results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ").\n"
    "With --json, config_json is the configuration as a JSON object (numbers in\n"
    "their shortest round-trip form) and stop_reason why the run ended (null\n"
    "while it runs or when it was not recorded; the text output's 'stopped:').\n";

/* The tags (key, value, created_at) as {"key": "value", ...}. */
static void print_tags_json(const results_table *tags)
{
    printf("{");
    for (int row = 0; row < tags->n_rows; row++) {
        printf("%s", row ? ", " : "");
        cli_json_value(results_cell(tags, row, 0), "tag");
        printf(": ");
        cli_json_value(results_cell(tags, row, 1), "tag");
    }
    printf("}");
}

static void print_tags_text(const results_table *tags)
{
    for (int row = 0; row < tags->n_rows; row++) {
        const results_value *k = results_cell(tags, row, 0), *v = results_cell(tags, row, 1),
                            *at = results_cell(tags, row, 2);
        const char *value = v->type == RESULTS_TEXT ? v->s : "", *when = at->type == RESULTS_TEXT ? at->s : "-";
        if (!strcmp(k->s, RESULTS_NOTE_KEY))
            printf("note (%s): %s\n", when, value);
        else
            printf("tag %s=%s (%s)\n", k->s, value, when);
    }
    if (tags->n_rows)
        printf("\n");
}

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
    results_table t = {0}, tags = {0};
    char *config_json = NULL, *why = NULL;
    if (cli_db_open(a.db, &db, &err) || results_find_run(db, a.runs[0], &id, &err) ||
        results_get_run(db, id, &rec, &err) || results_epochs_table(db, id, &t, &err) ||
        results_tags_table(db, id, &tags, &err) || results_config_json(db, id, &config_json, &err) ||
        results_run_stop_reason_get(db, id, &why, &err)) {
        results_table_free(&t);
        results_table_free(&tags);
        free(config_json);
        free(why);
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
        printf(", \"seed\": %lld, \"params\": %lld, \"ranks\": %lld, \"created_at\": ", (long long)rec.seed,
               (long long)rec.params, (long long)rec.ranks);
        json_string(stdout, rec.created_at ? rec.created_at : "");
        printf(", \"config\": ");
        json_string(stdout, rec.config ? rec.config : "");
        printf(", \"stop_reason\": ");
        if (why)
            json_string(stdout, why);
        else
            printf("null");
        printf(", \"config_json\": %s, \"tags\": ", config_json ? config_json : "null");
        print_tags_json(&tags);
        printf(", \"epochs\": ");
    } else {
        printf("run %lld: %s\nmodel %s, status %s, seed %lld, %lld parameters\ncreated %s, finished %s, host %s, "
               "pid %lld\nexperiment %s\n\n%s\n",
               (long long)rec.id, rec.name ? rec.name : "", rec.model ? rec.model : "", rec.status ? rec.status : "",
               (long long)rec.seed, (long long)rec.params, rec.created_at ? rec.created_at : "-",
               rec.finished_at ? rec.finished_at : "-", rec.host ? rec.host : "-", (long long)rec.pid,
               rec.experiment ? rec.experiment : "-", rec.config ? rec.config : "");
        if (rec.ranks > 1)
            printf("data-parallel over %lld MPI ranks on %s\n\n", (long long)rec.ranks, rec.hosts ? rec.hosts : "-");
        print_tags_text(&tags);
    }
    if (!a.json && why)
        printf("stopped: %s\n\n", why);
    free(why);
    cli_print_table(&t, a.json, widths, N_WIDTHS(widths), 8);
    if (a.json)
        printf("}\n");
    results_table_free(&t);
    results_table_free(&tags);
    free(config_json);
    run_record_free(&rec);
    results_close(db);
    return 0;
}

const cli_command cmd_runs = {"runs", "list recorded runs with their best val accuracy", runs_run, runs_usage};
const cli_command cmd_show = {"show", "one run's record, configuration and epochs", show_run, show_usage};
