/* cmd_report.c — `strata report`: one self-contained HTML page about runs. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "report/report.h"
#include "store/results.h"

static const char usage[] =
    "usage: strata report RUN... -o FILE.html [--db PATH]\n"
    "       strata report --sweep ID -o FILE.html [--db PATH]\n"
    "\n"
    "Write one self-contained HTML page (no network, no scripts, no external\n"
    "fonts; it opens from disk in any browser) about the RUNs (ids, or the\n"
    "newest run of a name) or every run of sweep ID: a table of the runs (model,\n"
    "parameters, the hyper-parameters that differ, best and last val_acc, time,\n"
    "images/s, status); per sweep, accuracy, loss and learning-rate curves as\n"
    "inline SVG (hover a point for its value; a ring marks each run's best\n"
    "epoch); confusion matrices and per-class accuracy where the runs have\n"
    "evaluations or per-class counts; the machine writing the report (CPU,\n"
    "ISA path, BLAS kernel, threads), the strata version and each run's\n"
    "experiment, collapsed.\n"
    "\n"
    "  -o, --output FILE   the HTML file to write (replaced atomically)\n"
    "  --sweep ID          every run of this sweep, instead of RUNs\n"
    "  --db PATH           the results database (default: env STRATA_DB, else " RESULTS_DEFAULT_DB ")\n"
    "  -h, --help          this text\n";

typedef struct report_args {
    const char *out, *sweep, *db;
    char **runs;
    int n_runs;
} report_args;

static int parse_args(int argc, char **argv, report_args *a)
{
    static const struct option longopts[] = {{"output", required_argument, 0, 'o'},
                                             {"sweep", required_argument, 0, 's'},
                                             {"db", required_argument, 0, 'd'},
                                             {0, 0, 0, 0}};
    int c;
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 's': a->sweep = optarg; break;
        case 'd': a->db = optarg; break;
        default: return cli_usage(&cmd_report, "unknown option or missing value '%s'", argv[optind - 1]);
        }
    }
    if (!a->out || !*a->out)
        return cli_usage(&cmd_report, "expected -o FILE.html, the page to write");
    a->runs = argv + optind;
    a->n_runs = argc - optind;
    if (!a->sweep == !a->n_runs)
        return cli_usage(&cmd_report, "expected RUN... or --sweep ID (not both)");
    if (a->sweep && strspn(a->sweep, "0123456789") != strlen(a->sweep))
        return cli_usage(&cmd_report, "--sweep: expected a sweep id (a number), got '%s'", a->sweep);
    return 0;
}

/* The run ids: the RUNs given, or the runs of the sweep. */
static int run_ids(results *db, const report_args *a, int64_t **ids, int *n, strata_err *err)
{
    results_table t = {0};
    if (a->sweep && results_runs_table(db, NULL, a->sweep, NULL, NULL, &t, err))
        return -1;
    *n = a->sweep ? t.n_rows : a->n_runs;
    *ids = calloc(*n ? *n : 1, sizeof **ids);
    int rc = *ids ? 0 : err_set(err, STRATA_ERR_RUNTIME, "out of memory");
    for (int k = 0; rc == 0 && k < *n; k++)
        rc = a->sweep ? ((*ids)[k] = results_cell(&t, k, 0)->i, 0) : results_find_run(db, a->runs[k], &(*ids)[k], err);
    results_table_free(&t);
    if (rc == 0 && *n == 0)
        rc = err_set(err, STRATA_ERR_CONFIG, "%s: --sweep %s: no runs in that sweep", results_path(db), a->sweep);
    return rc;
}

static int report(const report_args *a, strata_err *err)
{
    results *db;
    int64_t *ids = NULL;
    int n = 0;
    if (cli_db_open(a->db, &db, err))
        return -1;
    int rc = run_ids(db, a, &ids, &n, err) || report_write(db, ids, n, a->out, err);
    results_close(db);
    free(ids);
    if (rc == 0)
        printf("%s: %d run%s\n", a->out, n, n == 1 ? "" : "s");
    return rc ? -1 : 0;
}

static int run(int argc, char **argv)
{
    report_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc == 0) {
        strata_err err = {0};
        if (report(&a, &err))
            rc = cli_fail(&err);
    }
    return rc;
}

const cli_command cmd_report = {"report", "write one self-contained HTML page about runs or a sweep", run, usage};
